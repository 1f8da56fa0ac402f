"""Zones (city, prefectures, counties, parks, built-up areas) and extensive sums of features per zone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import DataError
from gis.methods.parts import by_parts
from gis.project.config import ProjectConfig
from gis.project.layers import LayerReader
from gis.project.prefectures import county_prefectures
from gis.project.specs import Spec

ZONE_COLUMNS = ["zone_type", "zone_id", "zone_name"]
UNASSIGNED = "unassigned"
UNASSIGNED_NAME = "未分配 unassigned (outside every county)"
SUMMED_FROM_COUNTIES = ("city", "prefecture")
"""The levels whose rows are sums of the county rows: the city (every county) and each prefecture (its counties)."""


@dataclass(frozen=True)
class Zones:
    """Zone polygons per level, in the project's metric CRS, with zone_id and zone_name."""

    levels: dict[str, gpd.GeoDataFrame]
    builtup: gpd.GeoDataFrame | None

    def level(self, zone_type: str) -> gpd.GeoDataFrame:
        """The zones of one level."""
        return self.levels[zone_type]

    def drawn(self, zone_type: str, *, within_builtup: bool) -> gpd.GeoDataFrame:
        """The zones of one level as an indicator's layer draws them: the part inside the built-up
        areas when the indicator is measured there (a zone with no built-up area keeps its polygon)."""
        shapes = self.levels[zone_type][["zone_id", "geometry"]]
        if not within_builtup or self.builtup is None or self.builtup.empty:
            return shapes
        inside = shapely.intersection(shapes.geometry.values, shapely.union_all(self.builtup.geometry.values))
        keep = shapely.is_empty(inside) | (shapely.area(inside) <= 0)
        geometry = np.where(keep, shapes.geometry.values, inside)
        return gpd.GeoDataFrame({"zone_id": shapes["zone_id"].to_numpy()}, geometry=list(geometry), crs=shapes.crs)

    def prefecture_of(self) -> pd.Series:
        """Each county's prefecture id, indexed by county id (empty without a prefecture level; None for a county of none)."""
        counties = self.levels["county"]
        if "prefecture_id" not in counties:
            return pd.Series(dtype=object)
        return pd.Series(counties["prefecture_id"].to_numpy(), index=pd.Index(counties["zone_id"], name="zone_id"))

    def county_names(self) -> dict[str, str]:
        """County id to name."""
        counties = self.levels["county"]
        return dict(zip(counties["zone_id"], counties["zone_name"], strict=True))


def in_counties(features: gpd.GeoDataFrame | None, zones: Zones) -> gpd.GeoDataFrame | None:
    """The features that meet a county: what a run's gap lists name (a wider area's layer adds none from elsewhere)."""
    if features is None or features.empty:
        return features
    area = zones.level("city").geometry.iloc[0]
    return features.loc[shapely.intersects(features.geometry.values, area)]


def _zone_frame(frame: gpd.GeoDataFrame, zone_type: str) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(
        {
            "zone_type": zone_type,
            "zone_id": frame["id"].astype(str).values,
            "zone_name": frame["name"].astype(str).values if "name" in frame else frame["id"].astype(str).values,
            "zone_name_en": frame["name_en"].astype(str).values if "name_en" in frame else None,
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    if "kind" in frame:
        out["kind"] = frame["kind"].values
    if "county_id" in frame:
        out["county_id"] = frame["county_id"].astype(str).values
    return out


def build_zones(project: LayerReader) -> Zones:
    """Read the zone layers of the catalog; the city is the union of the counties.

    The parks are those that meet a county: a parks layer of a wider area (the province's, read
    for some of its counties) adds no rows for parks elsewhere.  The prefectures (a province's
    cities) are those whose counties in the run tile them (:func:`~gis.project.prefectures.county_prefectures`).
    """
    levels: dict[str, gpd.GeoDataFrame] = {}
    settings = project.catalog.zones
    counties = project.read_vector(settings["county"].layer)
    if counties.empty:
        msg = f"{project.layer_path(settings['county'].layer)}: the county layer has no features"
        raise DataError(msg)
    city = project.catalog.project.city
    levels["city"] = gpd.GeoDataFrame(
        {"zone_type": ["city"], "zone_id": [city.id], "zone_name": [city.name], "zone_name_en": [city.name_en]},
        geometry=[shapely.union_all(counties.geometry.values)],
        crs=counties.crs,
    )
    county_zones = _zone_frame(counties, "county")
    if "prefecture" in settings:
        prefectures, county_zones["prefecture_id"] = county_prefectures(project, counties)
        levels["prefecture"] = _zone_frame(prefectures, "prefecture")
    levels["county"] = county_zones
    if "park" in settings:
        parks = project.read_vector(settings["park"].layer)
        parks = parks.loc[parks.geometry.intersects(levels["city"].geometry.iloc[0]).to_numpy()]
        levels["park"] = _zone_frame(parks, "park")
    builtup = None
    if "builtup" in settings:
        builtup = _zone_frame(project.read_vector(settings["builtup"].layer), "builtup")
    return Zones(levels=levels, builtup=builtup)


def summed_from_counties(county: pd.DataFrame, zones: Zones, levels: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """The rows of the levels above the counties that ``levels`` asks for, city first: sums of ``county`` (indexed by county id).

    The city is the sum of every county, a prefecture that of its counties (:meth:`Zones.prefecture_of`).
    """
    out = []
    if "city" in levels:
        out.append(("city", pd.DataFrame([county.sum()], index=pd.Index(zones.level("city")["zone_id"], name="zone_id"))))
    if "prefecture" in levels and "prefecture" in zones.levels:
        parents = zones.prefecture_of().reindex(county.index).to_numpy()
        sums = county.groupby(parents).sum().reindex(zones.level("prefecture")["zone_id"])
        sums.index.name = "zone_id"
        out.append(("prefecture", sums))
    return out


def needs_counties(levels: Sequence[str]) -> bool:
    """Whether reporting ``levels`` takes the county sums (the counties themselves, or a level summed from them)."""
    return any(level in levels for level in ("county", *SUMMED_FROM_COUNTIES))


def catalog_names(project: LayerReader | None) -> dict[tuple[str, str], tuple[str, str]]:
    """The zones' (name, name_en) by (zone_type, zone_id), from the catalog's city and the zone layers' ``name_en``.

    Only zones with an English name are listed.
    """
    if project is None:
        return {}
    city = project.catalog.project.city
    names = {("city", city.id): (city.name, city.name_en)} if city.name_en else {}
    for zone_type, level in project.catalog.zones.items():
        frame = project.read_vector(level.layer)
        if "name_en" not in frame.columns:
            continue
        local = frame[level.name_field].astype(str) if level.name_field in frame.columns else frame[level.id_field].astype(str)
        for zone_id, name, name_en in zip(frame[level.id_field].astype(str), local, frame["name_en"], strict=True):
            if isinstance(name_en, str) and name_en.strip():
                names[(zone_type, zone_id)] = (name, name_en)
    return names


SECONDS_PER_FEATURE = 20e-6
"""About what joining one feature to the zones costs (for cutting a large layer into parts)."""
MIN_FEATURES_PER_PART = 256
"""The fewest features a part of a layer gets on a cluster: fewer are quicker joined where they are."""


def _measure_of(features: gpd.GeoDataFrame) -> str:
    """How features are shared between zones: "point" (wholly, first zone), "length" or "area"."""
    kinds = set(features.geometry.geom_type)
    if kinds <= {"Point", "MultiPoint"}:
        return "point"
    return "length" if kinds <= {"LineString", "MultiLineString"} else "area"


def zone_shares(features: gpd.GeoDataFrame, columns: list[str], zones: gpd.GeoDataFrame, measure: str) -> pd.DataFrame:
    """What each feature adds to each zone: rows of zone_id and ``columns``, in the order of the features.

    ``measure`` is :func:`_measure_of` the whole layer.  Each feature is shared on its own, so the
    shares of a layer are the shares of its parts, concatenated (see :func:`gis.methods.parts.by_parts`).
    """
    if measure == "point":
        joined = gpd.sjoin(features[[*columns, "geometry"]], zones[["zone_id", "geometry"]], predicate="intersects")
        joined = joined[~joined.index.duplicated(keep="first")]
        return pd.DataFrame({"zone_id": joined["zone_id"].to_numpy(), **{c: joined[c].to_numpy() for c in columns}})
    parts = features[[*columns, "geometry"]].copy()
    parts["_whole"] = getattr(parts.geometry, measure)
    pieces = gpd.overlay(parts, zones[["zone_id", "geometry"]], how="intersection", keep_geom_type=True)
    weight = (getattr(pieces.geometry, measure) / pieces["_whole"].where(pieces["_whole"] > 0)).fillna(0.0)
    weighted = pieces[columns].mul(weight, axis=0)
    return pd.DataFrame({"zone_id": pieces["zone_id"].to_numpy(), **{c: weighted[c].to_numpy() for c in columns}})


def sum_by_zone(
    features: gpd.GeoDataFrame, columns: list[str], zones: gpd.GeoDataFrame, *, project: object = None
) -> pd.DataFrame:
    """Extensive sums of ``columns`` per zone (indexed by zone_id).

    Points count wholly in the first zone that contains them; lines are split by length and
    polygons by area, so a park or a network that straddles two counties is shared between
    them in proportion.  Features in no zone add to no zone.  On a cluster (``project`` of the
    Dask engine) a large layer is joined to the zones in parts, as tasks of their own; the
    sums are the same, bit for bit, since they add the same shares in the same order.
    """
    result = pd.DataFrame(0.0, index=pd.Index(zones["zone_id"], name="zone_id"), columns=columns)
    if features.empty:
        return result
    join = partial(zone_shares, columns=columns, zones=zones[["zone_id", "geometry"]], measure=_measure_of(features))
    seconds = [SECONDS_PER_FEATURE] * len(features)
    least = getattr(project, "part_features", MIN_FEATURES_PER_PART)
    shares = by_parts(project, join, features[[*columns, "geometry"]], seconds, min_rows=least)
    sums = shares.groupby("zone_id")[columns].sum()
    result.loc[sums.index, columns] = sums[columns].astype(float)
    return result


def sums_per_level(
    features: gpd.GeoDataFrame, columns: list[str], zones: Zones, levels: Sequence[str], *, project: object = None
) -> pd.DataFrame:
    """Rows of extensive sums for each requested level, in the order of ``levels``; the city's and the prefectures' rows are sums of the county rows.

    What lies outside every county is not dropped: it gets a row of its own, zone_type
    ``unassigned``, which no target applies to.
    """
    frames = []
    county = sum_by_zone(features, columns, zones.level("county"), project=project)
    outside = features[columns].sum() - county.sum() if not features.empty else None
    if outside is not None and (outside.abs() > 1e-9 * max(1.0, float(features[columns].abs().to_numpy().sum()))).any():
        row = pd.DataFrame([outside], index=pd.Index([UNASSIGNED], name="zone_id")).reset_index()
        row.insert(0, "zone_type", UNASSIGNED)
        row.insert(2, "zone_name", UNASSIGNED_NAME)
        frames.append(row)
    above = dict(summed_from_counties(county, zones, levels))
    for level in levels:
        if level in above:
            sums = above[level]
        elif level == "county":
            sums = county
        elif level in zones.levels and level not in SUMMED_FROM_COUNTIES:
            sums = sum_by_zone(features, columns, zones.level(level), project=project)
        else:
            continue
        frames.append(label_rows(sums.reset_index(), zones, level))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*ZONE_COLUMNS, *columns])


def label_rows(frame: pd.DataFrame, zones: Zones, level: str) -> pd.DataFrame:
    """Add zone_type and zone_name to rows keyed by zone_id, in the level's order."""
    names = zones.level(level)[["zone_id", "zone_name"]]
    out = names.merge(frame, on="zone_id", how="left")
    out.insert(0, "zone_type", level)
    return out


BUILTUP_INPUT_ROLES = ("mask", "base")
"""The input roles through which a spec measures inside a layer (a raster share's mask, a coverage's base)."""


def measured_within_builtup(spec: Spec, project: ProjectConfig) -> bool:
    """Whether ``spec`` measures inside the built-up areas: its mask or base is the catalog's built-up zone layer."""
    settings = project.catalog.zones.get("builtup")
    return settings is not None and any(spec.inputs.get(role) == settings.layer for role in BUILTUP_INPUT_ROLES)
