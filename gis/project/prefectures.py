"""Which prefecture each county belongs to, and which prefectures a run can report (their counties tile them)."""

from __future__ import annotations

import geopandas as gpd
import shapely

from gis.errors import DataError
from gis.project.layers import LayerReader
from gis.values import is_missing

PREFECTURE_COVER = 0.999
"""The least share of a prefecture's area its counties in the run must cover for it to be reported: its row is the sum of
its counties, so a prefecture missing one (a county run alone, a district left out of the export) would be understated.
Boundaries of one source tile exactly; a county left out is rarely under 0.2 % of its prefecture."""


def county_prefectures(project: LayerReader, counties: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str | None]]:
    """The prefectures to report (their layer as read, in its order), and each county's prefecture id (None: of no prefecture reported).

    A county's prefecture is named by ``zones.county.prefecture_field`` or, without it, is the one
    holding the county's representative point.  A prefecture is reported when its counties in the
    run cover it (:data:`PREFECTURE_COVER`); one they do not is left out with a note, its counties
    still reported.
    """
    settings = project.catalog.zones
    county_layer, layer = settings["county"].layer, settings["prefecture"].layer
    frame = project.read_vector(layer)
    frame = frame.assign(id=frame["id"].astype(str))
    field = settings["county"].prefecture_field
    county_ids = counties["id"].astype(str).to_numpy()
    if field:
        if field not in counties.columns:
            msg = (f"{project.layer_path(county_layer)}: layer '{county_layer}' has no field '{field}' (zones.county.prefecture_field); "
                   f"map it under 'layers.{county_layer}.fields' or remove the key to place counties by location")
            raise DataError(msg)
        parents = [None if is_missing(value) else str(value).strip() for value in counties[field]]
        known = set(frame["id"])
        stray = next(((county, parent) for county, parent in zip(county_ids, parents, strict=True) if parent not in known), None)
        if stray is not None:
            county, parent = stray
            said = f"names prefecture '{parent}', which is not in layer '{layer}'" if parent else "is blank"
            msg = (f"{project.layer_path(county_layer)}: county '{county}' field '{field}' {said} ({project.layer_path(layer)}); "
                   "give every county the id of its prefecture")
            raise DataError(msg)
    else:
        points = gpd.GeoDataFrame({"county": county_ids}, geometry=counties.geometry.representative_point().values, crs=counties.crs)
        joined = gpd.sjoin(points, frame[["id", "geometry"]], predicate="within", how="left")
        joined = joined[~joined.index.duplicated(keep="first")]
        parents = [None if is_missing(value) else str(value) for value in joined["id"]]
        if None in parents:
            county = county_ids[parents.index(None)]
            msg = (f"{project.layer_path(county_layer)}: county '{county}' lies in no prefecture of layer '{layer}' "
                   f"({project.layer_path(layer)}); fix the boundaries, or name each county's prefecture with "
                   "'zones.county.prefecture_field'")
            raise DataError(msg)
    keep = []
    for prefecture_id, outline in zip(frame["id"], frame.geometry.values, strict=True):
        mine = [geometry for geometry, parent in zip(counties.geometry.values, parents, strict=True) if parent == prefecture_id]
        if not mine:
            continue
        area = shapely.area(outline)
        covered = shapely.area(shapely.intersection(outline, shapely.union_all(mine))) / area if area > 0 else 0.0
        if covered >= PREFECTURE_COVER:
            keep.append(prefecture_id)
            continue
        project.note(layer, f"its counties in this run cover {covered:.1%} of it", "no prefecture row: a prefecture's row "
                     "is the sum of its counties, and some are not in the county layer; its counties are reported",
                     feature_id=prefecture_id, field="geometry")
    kept = set(keep)
    return frame.loc[frame["id"].isin(kept)], [parent if parent in kept else None for parent in parents]
