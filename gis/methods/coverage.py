"""Coverage: the share of a base (people or built-up land) within a distance of facilities.

The distance is straight-line (``distance: straight``, the default: each facility's circle of
``distance_m``) or along the roads (``distance: network``: the parts of the ``roads`` layer
within ``distance_m`` of a facility along the network, widened by ``catchment_m`` either side;
see :mod:`gis.methods.network`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field

from gis.errors import DataError
from gis.methods.attributes import Blanks, Measurement, Params, read_features, with_ratio
from gis.methods.network import build_network, service_lines
from gis.methods.parts import by_parts
from gis.methods.raster import SECONDS_PER_CELL, cell_area_m2, zonal_sums
from gis.methods.zones import Zones, label_rows, needs_counties, summed_from_counties
from gis.project.layers import LayerReader
from gis.project.rasters import inspect_raster, open_raster
from gis.project.specs import Condition, Spec

SECONDS_PER_FACILITY = 1e-4
"""About what buffering one facility and merging its buffer costs (for cutting work into parts)."""


class CoverageParams(Params):
    """Parameters of ``method: coverage``."""

    facilities_where: Condition | None = None
    base_where: Condition | None = None
    distance_m: float = Field(gt=0, description="service radius or collection distance, metres")
    value: str = Field("covered_share", pattern="^(covered_share|uncovered_km2)$")
    min_gap_area_m2: float = Field(0.0, ge=0, description="uncovered pieces smaller than this are slivers, not gaps")
    distance: Literal["straight", "network"] = Field("straight", description="straight-line radius, or along the roads")
    roads: str | None = Field(None, description="with distance network: the layer of road lines (or an input 'roads')")
    roads_where: Condition | None = Field(None, description="with distance network: the roads to use (all if not given)")
    grade_separated: Condition | None = Field(
        None, description="with distance network: roads (expressways) that join others only where a road ends on them, and no facility")
    catchment_m: float = Field(50.0, gt=0, description="with distance network: the width either side of a reached road that it serves")


def base_pieces(project: LayerReader, spec: Spec, params: CoverageParams, zones: gpd.GeoDataFrame, blanks: Blanks) -> gpd.GeoDataFrame:
    """The base cut by the zones: polygons of a base layer (those meeting ``base_where``; a blank it
    needs is dealt with by ``blanks``), or the zones themselves for a raster base."""
    base = spec.inputs["base"]
    if project.entry(base).kind == "raster":
        return zones[["zone_id", "geometry"]].assign(base_id=zones["zone_id"])
    frame = read_features(project, base, params.base_where, blanks)
    base_polys = frame[["id", "geometry"]].rename(columns={"id": "base_id"})
    return gpd.overlay(base_polys, zones[["zone_id", "geometry"]], how="intersection", keep_geom_type=True)


def _stable_ids(holes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Number the gap polygons within their county and base feature, largest first, so ids survive reruns."""
    centroids = holes.geometry.centroid
    holes = holes.assign(_area=-holes.geometry.area.round(0), _x=centroids.x.round(0), _y=centroids.y.round(0))
    holes = holes.sort_values(["county_id", "base_id", "_area", "_x", "_y"], ignore_index=True)
    rank = holes.groupby(["county_id", "base_id"]).cumcount() + 1
    holes.insert(0, "id", holes["county_id"].astype(str) + ":" + holes["base_id"].astype(str) + ":" + rank.astype(str))
    return holes.drop(columns=["_area", "_x", "_y"])


@dataclass(frozen=True, eq=False)
class _Uncovered:
    """The rule of a coverage for any set of base pieces: what of each piece is farther than the distance.

    Each piece is measured on its own, against the union of the facility buffers that reach
    it (those farther away cannot), so a part of the pieces can be measured anywhere and the
    parts put together are the whole, bit for bit.
    """

    facilities: gpd.GeoSeries  # a GeoSeries travels to a worker as WKB, fast; an array of shapely objects does not
    """The facilities (straight-line coverage), or the reached road pieces (network coverage)."""
    distance: float
    """How far around each of ``facilities`` is covered: the radius, or the catchment width."""
    min_area: float
    raster: tuple[Path, str] | None
    to_unit: float
    crs: str

    def for_pieces(self, pieces: gpd.GeoDataFrame) -> _Uncovered:
        """The rule with only the facilities that reach ``pieces``: the same answer for them, bit for bit
        (the same buffers merged in the same order), and less for a part's task to carry to a worker."""
        pairs = shapely.STRtree(np.asarray(self.facilities.values)).query(pieces.geometry.values, predicate="dwithin", distance=self.distance)
        return replace(self, facilities=self.facilities.iloc[np.unique(pairs[1])])

    def near(self, pieces: gpd.GeoDataFrame) -> np.ndarray:
        """Per piece, how many facilities reach it."""
        pairs = shapely.STRtree(np.asarray(self.facilities.values)).query(pieces.geometry.values, predicate="dwithin", distance=self.distance)
        return np.bincount(pairs[0], minlength=len(pieces))

    def __call__(self, pieces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The uncovered parts of the pieces (slivers left out), with their ``amount`` and area, indexed
        by their piece (``part`` "uncovered"); and a row per piece with its whole ``amount`` (``part`` "total").

        On a raster base the whole is the sum over the piece's uncovered parts (slivers too) and
        its covered parts: these lie near the facilities, so the raster is read about once, not
        once for the pieces and again for the holes.
        """
        facilities = np.asarray(self.facilities.values)
        tree = shapely.STRtree(facilities)
        covered = []
        for piece in pieces.geometry.values:
            reach = np.sort(tree.query(piece, predicate="dwithin", distance=self.distance))
            covered.append(shapely.union_all(shapely.buffer(facilities[reach], self.distance, quad_segs=16)))
        covered_parts = np.asarray(covered, dtype=object)
        keys = pieces[["zone_id", "base_id"]]
        holes = gpd.GeoDataFrame(keys, geometry=shapely.difference(pieces.geometry.values, covered_parts), crs=self.crs).explode()
        holes = holes.loc[~holes.geometry.is_empty].copy()
        if self.raster is None:
            holes = holes.loc[holes.geometry.area >= max(self.min_area, 1e-6)].copy()
            holes["amount"] = self.amount(holes)
            total = self.amount(pieces)
        else:
            near = gpd.GeoDataFrame(keys, geometry=shapely.intersection(pieces.geometry.values, covered_parts), crs=self.crs).explode()
            near = near.loc[~near.geometry.is_empty]
            both = pd.concat([holes.geometry, near.geometry])
            amounts = pd.Series(zonal_sums(*self.raster, gpd.GeoDataFrame(geometry=both, crs=self.crs)), index=both.index)
            total = amounts.groupby(level=0, sort=False).sum().reindex(pieces.index, fill_value=0.0)
            holes["amount"] = amounts.iloc[: len(holes)].to_numpy()
            holes = holes.loc[holes.geometry.area >= max(self.min_area, 1e-6)].copy()
        holes["area_km2"] = holes.geometry.area / 1e6
        totals = gpd.GeoDataFrame(keys.assign(amount=total.to_numpy()), geometry=[None] * len(pieces), crs=self.crs)
        return pd.concat([holes.assign(part="uncovered"), totals.assign(part="total")])

    def amount(self, polygons: gpd.GeoDataFrame) -> pd.Series:
        """Area inside each polygon, in the unit of the base (km2)."""
        return polygons.geometry.area * self.to_unit

    def base_in(self, polygons: gpd.GeoDataFrame) -> np.ndarray:
        """The base inside each polygon: people (raster base, exact cell coverage) or km2 (polygon base)."""
        if self.raster is None:
            return self.amount(polygons).to_numpy(dtype=float)
        return zonal_sums(*self.raster, polygons)


def road_network_lines(project: LayerReader, spec: Spec, params: CoverageParams, facilities: gpd.GeoSeries, blanks: Blanks) -> gpd.GeoSeries:
    """The parts of the roads layer (input ``roads``, or parameter ``roads``) within ``distance_m`` of the
    facilities along the roads (metric CRS)."""
    roads = spec.inputs.get("roads") or params.roads
    if not roads:
        msg = f"spec '{spec.id}': distance: network needs the layer of road lines: parameter 'roads: <layer>'"
        raise DataError(msg)
    if roads not in project.catalog.layers:
        msg = f"spec '{spec.id}': parameter roads names layer '{roads}', which is not in {project.catalog_path}"
        raise DataError(msg)
    frame = read_features(project, roads, params.roads_where, blanks)
    if frame.empty:
        msg = f"spec '{spec.id}': layer '{roads}' has no roads (meeting roads_where) to measure distance along"
        raise DataError(msg)
    separated = np.zeros(len(frame), dtype=bool)
    if params.grade_separated is not None:
        separated = frame.index.isin(read_features(project, roads, params.grade_separated, blanks).index)
    network = build_network(frame.geometry.values, separated)
    lines = service_lines(network, np.asarray(facilities.values), params.distance_m)
    return gpd.GeoSeries(lines, crs=project.crs)


def coverage_rule(project: LayerReader, spec: Spec, params: CoverageParams, facilities: gpd.GeoSeries, blanks: Blanks | None = None) -> _Uncovered:
    """The rule of the coverage ``spec`` for ``facilities`` (metric CRS): called on base pieces
    (:func:`base_pieces`), what of each lies farther than ``distance_m`` (straight, or along the
    roads and then ``catchment_m`` from them), and the base in it."""
    base = spec.inputs["base"]
    raster_base = project.entry(base).kind == "raster"
    shapes, reach = facilities.reset_index(drop=True), params.distance_m
    if params.distance == "network":  # the reached road pieces, each widened by the catchment
        shapes = road_network_lines(project, spec, params, facilities, blanks or Blanks(project, spec, say=False))
        reach = params.catchment_m
    return _Uncovered(
        facilities=shapes, distance=reach, min_area=params.min_gap_area_m2,
        raster=(project.layer_path(base), base) if raster_base else None, to_unit=1.0 if raster_base else 1e-6, crs=project.crs,
    )


def measure_coverage(project: LayerReader, zones: Zones, spec: Spec, params: CoverageParams) -> Measurement:
    """Covered and uncovered base per zone; the uncovered parts are the gap polygons."""
    if "base" not in spec.inputs or "facilities" not in spec.inputs:
        msg = f"spec '{spec.id}': method coverage needs inputs 'base' and 'facilities'"
        raise DataError(msg)
    base = spec.inputs["base"]
    raster_base = project.entry(base).kind == "raster"
    cell_m2 = 0.0
    if raster_base:
        inspect_raster(project, base)
        with open_raster(project.layer_path(base), base) as dataset:
            cell_m2 = cell_area_m2(dataset)
    blanks = Blanks(project, spec)
    facilities = read_features(project, spec.inputs["facilities"], params.facilities_where, blanks)
    rule = coverage_rule(project, spec, params, facilities.geometry, blanks)
    frames: list[tuple[str, pd.DataFrame]] = []
    gap_frames: list[gpd.GeoDataFrame] = []
    county_sums: pd.DataFrame | None = None
    for level in [lvl for lvl in ("county", "park") if lvl in spec.zone_types or (lvl == "county" and needs_counties(spec.zone_types))]:
        if level not in zones.levels:
            continue
        level_zones = zones.level(level)
        pieces = base_pieces(project, spec, params, level_zones, blanks)
        cells = pieces.geometry.area / cell_m2 if raster_base else pd.Series(0.0, index=pieces.index)
        seconds = rule.near(pieces) * SECONDS_PER_FACILITY + cells * SECONDS_PER_CELL
        measured = by_parts(project, rule, pieces, seconds, narrow=rule.for_pieces)
        pieces["total"] = measured.loc[measured["part"] == "total", "amount"]
        holes = measured.loc[measured["part"] == "uncovered"].drop(columns="part").rename(columns={"amount": "uncovered"})
        holes = holes.reset_index(drop=True)
        sums = pd.DataFrame(
            {
                "total": pieces.groupby("zone_id")["total"].sum(),
                "uncovered": holes.groupby("zone_id")["uncovered"].sum(),
            }
        ).reindex(level_zones["zone_id"]).fillna(0.0)
        sums.index.name = "zone_id"
        if level == "county":
            county_sums = sums
            gap_frames.append(holes.rename(columns={"zone_id": "county_id"}))
        if level in spec.zone_types:
            frames.append((level, sums))
    if county_sums is not None:
        frames[:0] = summed_from_counties(county_sums, zones, spec.zone_types)
    rows = pd.concat([label_rows(sums.reset_index(), zones, level) for level, sums in frames], ignore_index=True)
    if params.value == "covered_share":
        rows["numerator"] = rows["total"] - rows["uncovered"]
        rows["denominator"] = rows["total"]
        rows = with_ratio(rows)
        kind: Literal["ratio", "amount"] = "ratio"
    else:
        rows["numerator"] = rows["uncovered"]
        rows["denominator"] = rows["total"]
        rows["value"] = rows["uncovered"]
        kind = "amount"
    rows = rows.drop(columns=["total", "uncovered"])
    gaps = None
    if gap_frames:
        gaps = _stable_ids(pd.concat(gap_frames, ignore_index=True))
        gaps = gaps.rename(columns={"uncovered": "people" if raster_base else "uncovered_km2"})
        gaps = gpd.GeoDataFrame(gaps, geometry="geometry", crs=project.crs)
    return Measurement(rows=rows, kind=kind, gaps=gaps, notes=blanks.notes)
