"""Raster zonal statistics with exact coverage fractions (exactextract)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from exactextract import exact_extract
from exactextract.raster import RasterioRasterSource
from pydantic import Field
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

from gis.errors import DataError
from gis.methods.attributes import Measurement, Params, ratios, with_ratio
from gis.methods.parts import by_parts
from gis.methods.zones import Zones, label_rows, needs_counties, summed_from_counties
from gis.project.catalog import LandClass
from gis.project.layers import LayerReader
from gis.project.rasters import inspect_raster, is_metric, open_raster, reading
from gis.project.specs import Spec

SECONDS_PER_CELL = 25e-9
"""About what exactextract spends on one cell of a zone (for cutting work into parts of about equal time)."""


def cell_area_m2(dataset: rasterio.DatasetReader) -> float:
    """Area of one cell in square metres."""
    transform = dataset.transform
    return abs(transform.a * transform.e - transform.b * transform.d)


def zonal_sums(path: Path, layer: str, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Coverage-weighted sum of cell values inside each polygon (nodata left out)."""
    if polygons.empty:
        return np.zeros(0)
    with open_raster(path, layer) as dataset, reading(path, layer, dataset.block_shapes[0]):
        shapes = polygons[["geometry"]].to_crs(dataset.crs)
        result = exact_extract(dataset, shapes, ["sum"], output="pandas")
    return result["sum"].fillna(0.0).to_numpy(dtype=float)


@dataclass(frozen=True)
class CodeAreas:
    """The area (m2) of each land-cover code in each polygon: parallel arrays of (polygon, code, area)."""

    polygon: np.ndarray
    code: np.ndarray
    area: np.ndarray
    index: pd.Index
    """The polygons' index, in the order ``polygon`` counts them."""

    def total(self, codes: set[int], *, inside: bool = True) -> np.ndarray:
        """Per polygon, the area of the ``codes`` (``inside=False``: of every other code)."""
        keep = np.isin(self.code, list(codes)) == inside
        return np.bincount(self.polygon[keep], weights=self.area[keep], minlength=len(self.index))


def code_areas(path: Path, layer: str, polygons: gpd.GeoDataFrame) -> CodeAreas:
    """Per polygon (in its CRS, metric), the area of each code of the raster, from exact cell coverage; nodata cells
    count nowhere.  A raster in degrees is warped (nearest) to the polygons' CRS first."""
    if polygons.empty:
        return CodeAreas(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64), np.zeros(0), polygons.index)
    with open_raster(path, layer) as source, reading(path, layer, source.block_shapes[0]):
        dataset = source if is_metric(source) else WarpedVRT(source, crs=polygons.crs, resampling=Resampling.nearest)
        with dataset:
            cell = cell_area_m2(dataset)
            shapes = polygons[["geometry"]].to_crs(dataset.crs)
            stats = exact_extract(RasterioRasterSource(dataset, 1), shapes, ["unique", "frac", "count"], output="pandas")
    codes = [np.atleast_1d(c) for c in stats["unique"]]
    lengths = np.array([len(c) for c in codes], dtype=np.intp)
    code = np.concatenate(codes).astype(np.int64) if lengths.sum() else np.zeros(0, dtype=np.int64)
    frac = np.concatenate([np.atleast_1d(f) for f in stats["frac"]]).astype(float) if lengths.sum() else np.zeros(0)
    area = frac * np.repeat(stats["count"].to_numpy(dtype=float), lengths) * cell
    return CodeAreas(np.repeat(np.arange(len(stats)), lengths), code, area, polygons.index)


def class_totals(areas: CodeAreas, classes: list[LandClass], flag: str) -> pd.DataFrame:
    """Per polygon: area (m2) of the classes with ``flag``, of all counted classes, and of unmapped codes.

    Excluded classes (water) are left out of both sides.
    """
    flagged = {c.code for c in classes if getattr(c, flag)}
    excluded = {c.code for c in classes if c.excluded}
    known = {c.code for c in classes}
    return pd.DataFrame(
        {
            "numerator": areas.total(flagged),
            "denominator": areas.total(excluded, inside=False),
            "unmapped": areas.total(known, inside=False),
        },
        columns=["numerator", "denominator", "unmapped"],
        index=areas.index,
    )


def class_areas(path: Path, layer: str, polygons: gpd.GeoDataFrame, classes: list[LandClass], flag: str) -> pd.DataFrame:
    """Per polygon: area (m2) of the classes with ``flag``, of all counted classes, and of unmapped codes
    (:func:`class_totals` of :func:`code_areas`)."""
    return class_totals(code_areas(path, layer, polygons), classes, flag)


@dataclass(frozen=True, eq=False)
class _ClassAreas:
    """``class_areas`` of one raster and class table, for any set of polygons (each measured on its own)."""

    path: Path
    layer: str
    classes: list[LandClass]
    flag: str

    def __call__(self, polygons: gpd.GeoDataFrame) -> pd.DataFrame:
        return class_areas(self.path, self.layer, polygons, self.classes, self.flag)


class RasterShareParams(Params):
    """Parameters of ``method: raster_share``: the share of flagged land-cover classes per zone."""

    flag: str = Field("permeable", description="class-table flag counted in the numerator")
    mask_label: str = Field("built-up area (建成区)", description="appended to zone names when a mask is used")


def masked_zones(mask: gpd.GeoDataFrame | None, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The pieces a raster share is measured on: each mask feature (built-up area) cut by the zones, with
    ``mask_id`` and ``zone_id``; without a mask the zones themselves (``mask_id`` is the zone's id)."""
    zones = zones[["zone_id", "geometry"]]
    if mask is None:
        return zones.assign(mask_id=zones["zone_id"])
    return gpd.overlay(mask[["id", "geometry"]].rename(columns={"id": "mask_id"}), zones, how="intersection", keep_geom_type=True)


def measure_raster_share(project: LayerReader, zones: Zones, spec: Spec, params: RasterShareParams) -> Measurement:
    """Area of flagged classes over the area of counted classes, inside the mask when one is given."""
    raster = spec.inputs["raster"]
    entry = project.entry(raster)
    if not entry.classes:
        msg = f"{project.catalog_path}: raster '{raster}' has no 'classes' table; list each code with its flags"
        raise DataError(msg)
    path = project.layer_path(raster)
    inspect_raster(project, raster)
    with open_raster(path, raster) as dataset:
        cell = cell_area_m2(dataset) if is_metric(dataset) else abs(dataset.res[0] * dataset.res[1]) * 111_000.0**2  # for cutting work into parts
    mask_layer = spec.inputs.get("mask")
    mask = project.read_vector(mask_layer) if mask_layer else None

    def measured(pieces: gpd.GeoDataFrame) -> pd.DataFrame:
        cells = pieces.geometry.area / cell
        return by_parts(project, _ClassAreas(path, raster, entry.classes, params.flag), pieces, cells * SECONDS_PER_CELL)

    def unmapped(pieces: gpd.GeoDataFrame) -> None:
        text = f"{pieces['unmapped'].sum() / 1e6:.3f} km2 in the zones carry codes missing from the class table"
        project.note(raster, text, f"counted as land that is not {params.flag}; add the codes to 'layers.{raster}.classes'", field="classes")

    return masked_share(project, zones, spec, mask, measured, unmapped, params.mask_label)


def masked_share(
    project: LayerReader, zones: Zones, spec: Spec, mask: gpd.GeoDataFrame | None,
    measured: Callable[[gpd.GeoDataFrame], pd.DataFrame], unmapped: Callable[[gpd.GeoDataFrame], None], mask_label: str,
) -> Measurement:
    """Share of flagged area per zone from ``measured`` (numerator, denominator, unmapped areas of each piece of
    a zone inside the mask): counties and parks summed from their pieces, the city and the prefectures from the counties.

    ``unmapped`` says, once, what the county pieces hold of codes the class table lacks.  Shared by the
    raster and the polygon shares, so both count the same way.
    """
    frames = []
    gaps = None
    county_sums = None
    for level in [lvl for lvl in ("county", "park") if lvl in spec.zone_types or (lvl == "county" and needs_counties(spec.zone_types))]:
        if level not in zones.levels:
            continue
        level_zones = zones.level(level)[["zone_id", "geometry"]]
        pieces = masked_zones(mask, level_zones)
        pieces = pd.concat([pieces, measured(pieces)], axis=1)
        if pieces["unmapped"].sum() > 0 and level == "county":
            unmapped(pieces)
        sums = pieces.groupby("zone_id")[["numerator", "denominator"]].sum().reindex(level_zones["zone_id"], fill_value=0.0)
        sums.index.name = "zone_id"
        if level == "county":
            county_sums = sums
            if mask is not None:
                gaps = _below_target(pieces, spec, project)
        if level in spec.zone_types:
            frames.append(label_rows(sums.reset_index(), zones, level))
    if county_sums is not None:
        frames[:0] = [label_rows(sums.reset_index(), zones, level) for level, sums in summed_from_counties(county_sums, zones, spec.zone_types)]
    rows = with_ratio(pd.concat(frames, ignore_index=True))
    if mask is not None:
        rows["zone_name"] = rows["zone_name"] + " " + mask_label
    return Measurement(rows=rows, kind="ratio", gaps=gaps)


def _below_target(pieces: gpd.GeoDataFrame, spec: Spec, project: LayerReader) -> gpd.GeoDataFrame | None:
    """The mask pieces (a built-up area within one county) whose own share is below the target."""
    if spec.target is None or spec.target.value is None:
        return None
    threshold = spec.target.value
    own = ratios(pieces["numerator"], pieces["denominator"])
    below = pieces.loc[own < threshold].copy()
    below["value"] = own[below.index]
    below["shortfall"] = threshold * below["denominator"] - below["numerator"]
    below = below.rename(columns={"mask_id": "id", "zone_id": "county_id"})
    return gpd.GeoDataFrame(
        below[["id", "county_id", "numerator", "denominator", "value", "shortfall"]], geometry=below.geometry, crs=project.crs
    )
