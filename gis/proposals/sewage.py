"""Sewage: for each blank area, the collection sewers needed inside it and a trunk joining them to
the nearest connected sewer line, their length, the people served and the blank area left
after them, measured from the geometry (``sewer_extensions``).

The collection network is a comb: straight sewers ``spacing_m`` apart (by default twice the
indicator's collection distance, so that every point lies within ``distance_m`` of one) along
the blank area's longer side, cut to the blank area, joined by the shortest connections
(a minimum spanning tree), with short spurs into whatever is still farther than
``distance_m``; the trunk is the shortest line from it to the nearest connected sewer.
The blank area left is what the indicator's own rule leaves: the blank area minus the
proposed lines buffered by ``distance_m``, pieces smaller than ``min_gap_area_m2`` dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from pydantic import Field
from shapely import affinity

from gis.bilingual import Bilingual
from gis.engines.result import IndicatorResult
from gis.methods.attributes import Blanks, read_features
from gis.methods.coverage import CoverageParams
from gis.methods.raster import zonal_sums
from gis.project.config import ProjectConfig
from gis.project.specs import Spec
from gis.proposals.common import (
    Context,
    Kind,
    KindSettings,
    Part,
    Problem,
    absent_note,
    city_row,
    in_zone,
    item_level,
    item_row,
    layer_problem,
    nearest,
    proposals_layer_name,
    row,
    zone_of,
    zone_rows,
)
from gis.proposals.texts import action, cat, counted, say, together
from gis.values import is_missing

SPUR_ROUNDS = 4
"""Rounds of spurs into the parts of a blank area the comb leaves farther than the collection distance."""


class SewerSettings(KindSettings):
    """``kind: sewer_extensions``: the collection sewers inside each blank area and a trunk to the nearest connected sewer."""

    kind: Literal["sewer_extensions"]
    population: str | None = Field(description="population raster for the people served; null: not counted")
    spacing_m: float | None = Field(
        None, gt=0, description="spacing of the collection sewers laid inside a blank area, metres; null: twice the indicator's distance_m",
    )

    def problems(self, project: ProjectConfig, spec: Spec) -> Iterator[Problem]:
        """Blank areas in km2 of a polygon base, straight-line distance; a population raster of the catalog."""
        params = CoverageParams.model_validate(spec.parameters)
        base = project.catalog.layers.get(spec.inputs["base"])
        if spec.inputs["base"] not in project.catalog.layers:
            return  # the indicator is not assessed: no proposal
        if params.value != "uncovered_km2" or base is None or base.kind != "vector":
            yield ("kind",), "kind 'sewer_extensions' closes blank areas: a coverage of a polygon base with value uncovered_km2"
        elif params.distance != "straight":
            yield ("kind",), "kind 'sewer_extensions' lays sewers by straight-line collection distance; this coverage measures along the roads"
        elif self.population is not None:
            problem = layer_problem(project, self.population, "raster")
            if problem:
                yield ("population",), problem


# --- the geometry of the sewers of one blank area ----------------------------------------------


@dataclass(frozen=True)
class Sewers:
    """The sewers proposed for one blank area and what they leave of it."""

    collection: list[shapely.LineString]
    """Collection sewers inside the blank area, their connections and spurs."""
    trunk: shapely.LineString | None
    """From the collection network to the nearest connected sewer (None: no sewer)."""
    left: shapely.Geometry
    """The parts of the blank area still farther than the distance from every line (slivers dropped)."""

    @property
    def collection_m(self) -> float:
        """Length of the collection network, m."""
        return float(sum(line.length for line in self.collection))

    @property
    def trunk_m(self) -> float:
        """Length of the trunk, m."""
        return 0.0 if self.trunk is None else float(self.trunk.length)

    @property
    def lines(self) -> shapely.MultiLineString:
        """Every proposed line, as one geometry."""
        return shapely.MultiLineString([*self.collection, *([self.trunk] if self.trunk is not None else [])])


def _comb(area: shapely.Geometry, spacing: float) -> list[shapely.LineString]:
    """Straight lines ``spacing`` apart along the longer side of ``area``'s minimum rotated rectangle,
    centred across it (one line down the middle when it is narrower than ``spacing``), cut to ``area``."""
    rectangle = shapely.minimum_rotated_rectangle(area)
    corners = np.asarray(rectangle.exterior.coords)[:4] if rectangle.geom_type == "Polygon" else np.asarray(area.envelope.exterior.coords)[:4]
    sides = [corners[1] - corners[0], corners[2] - corners[1]]
    long_side = max(sides, key=lambda v: float(np.hypot(*v)))
    angle = math.degrees(math.atan2(float(long_side[1]), float(long_side[0])))
    origin = area.centroid
    turned = affinity.rotate(area, -angle, origin=origin)
    minx, miny, maxx, maxy = turned.bounds
    count = max(1, math.ceil((maxy - miny) / spacing))
    first = miny + ((maxy - miny) - (count - 1) * spacing) / 2
    lines: list[shapely.LineString] = []
    inner = turned.representative_point().y  # a line through it always meets the area
    for y in [first + k * spacing for k in range(count)]:
        cut = shapely.intersection(shapely.LineString([(minx - 1, y), (maxx + 1, y)]), turned)
        lines += [part for part in shapely.get_parts(shapely.line_merge(cut) if cut.geom_type == "MultiLineString" else cut)
                  if part.geom_type == "LineString" and part.length > 0]
    if not lines:  # a ring-like area the lines above miss: one line through an inner point
        cut = shapely.intersection(shapely.LineString([(minx - 1, inner), (maxx + 1, inner)]), turned)
        lines = [part for part in shapely.get_parts(cut) if part.geom_type == "LineString" and part.length > 0]
    return [affinity.rotate(line, angle, origin=origin) for line in lines]


def _joined(lines: list[shapely.LineString]) -> list[shapely.LineString]:
    """The shortest lines that join ``lines`` into one network (Kruskal's minimum spanning tree)."""
    count = len(lines)
    edges = sorted((float(shapely.distance(lines[i], lines[j])), i, j) for i in range(count) for j in range(i + 1, count))
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joins = []
    for distance, i, j in edges:
        a, b = root(i), root(j)
        if a == b:
            continue
        parent[a] = b
        if distance > 0:
            joins.append(shapely.shortest_line(lines[i], lines[j]))
    return joins


def _left(area: shapely.Geometry, lines: list[shapely.Geometry], distance: float, min_area: float) -> shapely.Geometry:
    """What of ``area`` lies farther than ``distance`` from ``lines``, pieces under ``min_area`` dropped (the indicator's rule)."""
    if not lines:
        return area
    covered = shapely.union_all(shapely.buffer(np.asarray(lines, dtype=object), distance, quad_segs=16))
    pieces = shapely.get_parts(shapely.difference(area, covered))
    kept = [p for p in pieces if p.area >= max(min_area, 1e-6)]
    return shapely.union_all(kept) if kept else shapely.Polygon()


def plan_sewers(area: shapely.Geometry, sewer: shapely.Geometry | None, *, distance: float, spacing: float, min_area: float) -> Sewers:
    """The collection sewers inside one blank area, the trunk to ``sewer`` and the blank area they leave.

    A comb of lines ``spacing`` apart cut to the area (:func:`_comb`), joined into one network,
    then up to :data:`SPUR_ROUNDS` rounds of spurs: for each piece still farther than
    ``distance`` from every line, the shortest line from the network to the piece's inner
    point. The trunk is the shortest line from the network to the connected ``sewer``.
    """
    collection = _comb(area, spacing)
    collection += _joined(collection)
    left = _left(area, collection, distance, min_area)
    for _ in range(SPUR_ROUNDS):
        if left.is_empty:
            break
        network = shapely.union_all(np.asarray(collection, dtype=object))
        spurs = [shapely.shortest_line(network, piece.representative_point()) for piece in shapely.get_parts(left)]
        spurs = [spur for spur in spurs if spur.length > 0]
        if not spurs:
            break
        collection += spurs
        left = _left(area, collection, distance, min_area)
    collection = [line for line in collection if line.length > 0]
    trunk = None
    if sewer is not None:
        trunk = shapely.shortest_line(shapely.union_all(np.asarray(collection, dtype=object)) if collection else area, sewer)
        if trunk.length == 0:
            trunk = None
    return Sewers(collection=collection, trunk=trunk, left=left)


# --- the proposal --------------------------------------------------------------------------------


SEWER_KM = say("公里污水管", "km of sewer")
"""The unit of the sewers proposed."""
PEOPLE_SERVED = say("人受益", "people served")
"""The unit of the people the sewers of a blank area serve."""


def _rule(distance: float, spacing: float) -> Bilingual:
    return say(f"每个空白区内按{spacing:g} m间距铺设收集管（任一点距收集管不超过{distance:g} m），相互连通，并以干管接入最近的已连通污水管",
               f"collection sewers {spacing:g} m apart inside each blank area (every point within {distance:g} m of one), joined, "
               "with a trunk to the nearest connected sewer")


def _zone_detail(rule: Bilingual, count: int, collection_m: float, trunk_m: float, before: float, after: float, distance: float) -> Bilingual:
    """The zone row's rule, the km of each kind of sewer, and what they leave of the blank area, measured."""
    areas = "blank area" if count == 1 else "blank areas"
    collection, trunk = f"{collection_m / 1000:,.2f} km", f"{trunk_m / 1000:,.2f} km"
    text = cat(say(f"{count:,}个空白区：收集管 {collection}、干管 {trunk}；", f"{count:,} {areas}: {collection} of collection sewers and {trunk} of trunk; "),
               rule)
    if after > 1e-9:
        closes = (before - after) / before if before else 0.0
        return cat(text, say(f"；经测算可消除{before:,.3f} km2中的{closes:.0%}：仍有{after:,.3f} km2距所有污水管超过{distance:g} m"
                             "（梳状管网及其支管未覆盖的形状），需人工布设管网",
                             f"; measured, they close {closes:.0%} of the {before:,.3f} km2: {after:,.3f} km2 is still farther than "
                             f"{distance:g} m from every sewer (shapes the comb and its spurs miss) and needs sewers laid by hand"))
    return cat(text, say(f"；经测算可全部消除{before:,.3f} km2（按指标规则以{distance:g} m缓冲）",
                         f"; measured, they close all {before:,.3f} km2 (buffered by {distance:g} m, the indicator's rule)"))


def propose_sewer_extensions(ctx: Context, item: IndicatorResult, settings: SewerSettings) -> Part:
    """Per blank area, the collection sewers inside it and the trunk to the nearest connected sewer; the blank area left.

    Blank areas are ranked by the people they hold (most first), then by length. ``value_after``
    is measured (see the module): each zone's blank km2 minus what the proposed lines, buffered
    by ``distance_m``, cover of its blank areas. Where the plan sets county targets (``<= 0`` in
    every county) the items are listed under the counties and the city row is all of them;
    where it sets a city target only, under the city.
    """
    spec, reader, part = item.spec, ctx.reader, Part()
    params = CoverageParams.model_validate(spec.parameters)
    gaps = item.gaps
    if gaps is None or gaps.empty:
        return part
    sewers = read_features(reader, spec.inputs["facilities"], params.facilities_where, Blanks(reader, spec, say=False))  # as the indicator
    if sewers.empty:
        part.notes.append("no connected sewer line; no extensions proposed")
        return part
    distance = params.distance_m
    spacing = settings.spacing_m if settings.spacing_m is not None else 2 * distance
    gaps = gaps.copy()
    gaps = gaps.join(nearest(gaps, sewers.assign(name=sewers["id"]), "sewer")[["sewer_id"]])
    sewer_geoms = sewers.set_index(sewers["id"].astype(str)).geometry
    sewer_geoms = sewer_geoms[~sewer_geoms.index.duplicated(keep="first")]
    plans = [
        plan_sewers(geom, sewer_geoms.get(str(sewer_id)), distance=distance, spacing=spacing, min_area=params.min_gap_area_m2)
        for geom, sewer_id in zip(gaps.geometry.values, gaps["sewer_id"], strict=True)
    ]
    all_lines = [line for plan in plans for line in plan.lines.geoms]
    area_field = "uncovered_km2" if "uncovered_km2" in gaps else "area_km2"
    gaps["collection_m"] = [plan.collection_m for plan in plans]
    gaps["trunk_m"] = [plan.trunk_m for plan in plans]
    gaps["length_m"] = gaps["collection_m"] + gaps["trunk_m"]
    tree = shapely.STRtree(np.asarray(all_lines, dtype=object))  # a line farther than distance from a gap cannot cover it
    gaps["left_km2"] = [
        _left(geom, [all_lines[i] for i in np.sort(tree.query(geom, predicate="dwithin", distance=distance))], distance,
              params.min_gap_area_m2).area / 1e6
        for geom in gaps.geometry.values
    ]
    gaps["closed_km2"] = (gaps[area_field] - gaps["left_km2"]).clip(lower=0)
    gaps["lines"] = [plan.lines for plan in plans]
    if settings.population is not None and settings.population not in reader.catalog.layers:
        part.notes.append(absent_note(settings.population, "the people each extension serves are not counted"))
        gaps["people"] = np.nan
    elif settings.population is not None:
        gaps["people"] = zonal_sums(reader.layer_path(settings.population), settings.population, gaps[["geometry"]])
    else:
        gaps["people"] = np.nan
    gaps = gaps.sort_values(["people", "length_m", "id"], ascending=[False, True, True], na_position="last")
    rule = _rule(distance, spacing)
    verb = action("在空白区内铺设污水收集管网并接入已连通的污水管", "lay collection sewers in the blank area and a trunk to the nearest connected sewer")
    level = item_level(item)
    zones = [z for _, z in zone_rows(item, level).iterrows()]
    city = city_row(item)

    def people_of(frame: gpd.GeoDataFrame) -> float | None:
        return float(frame["people"].sum()) if frame["people"].notna().any() else None

    for zone in zones:
        mine = in_zone(gaps, zone, ctx.zones)
        if mine.empty:
            continue
        before = float(zone["value"])
        rows = []
        closed = 0.0
        for rank, (_, gap) in enumerate(mine.iterrows(), start=1):
            closed += float(gap["closed_km2"])
            left = float(gap["left_km2"])
            area, sewer = f"{float(gap[area_field]):.3f} km2", gap["sewer_id"]
            collection, trunk = f"{float(gap['collection_m']) / 1000:.2f} km", f"{float(gap['trunk_m']) / 1000:.2f} km"
            rows.append(item_row(
                item, zone, verb, float(gap["length_m"]) / 1000, SEWER_KM, max(before - closed, 0.0), rank=rank,
                item_layer=f"{spec.id}.gaps", item_id=str(gap["id"]), adds=gap["people"], adds_unit=PEOPLE_SERVED,
                detail=cat(say(f"空白区 {area}：收集管 {collection} + 干管 {trunk}，接入污水管 {sewer}",
                               f"blank area {area}: {collection} collection + {trunk} trunk to sewer {sewer}"),
                           say(f"；余 {left:.3f} km2", f"; {left:.3f} km2 left") if left > 1e-9 else say("；全部消除", "; none left")),
            ))
        after = max(before - closed, 0.0)
        part.rows.append(row(
            item, zone, counted(verb, f"{len(mine):,}"), float(mine["length_m"].sum()) / 1000, SEWER_KM, after,
            adds=people_of(mine), adds_unit=PEOPLE_SERVED,
            detail=_zone_detail(rule, len(mine), float(mine["collection_m"].sum()), float(mine["trunk_m"].sum()), before, after, distance),
        ))
        part.rows += rows
    if level != "city" and city is not None and not is_missing(city["target"]) and part.rows:
        before = float(city["value"])
        after = max(before - float(gaps["closed_km2"].sum()), 0.0)
        detail = _zone_detail(rule, len(gaps), float(gaps["collection_m"].sum()), float(gaps["trunk_m"].sum()), before, after, distance)
        detail = cat(together(level), say("：", ": "), detail)
        part.rows.insert(0, row(
            item, city, counted(verb, f"{len(gaps):,}"), float(gaps["length_m"].sum()) / 1000, SEWER_KM, after,
            adds=people_of(gaps), adds_unit=PEOPLE_SERVED, detail=detail,
        ))
    ranks = gaps.groupby(zone_of(gaps, level, ctx.zones).fillna("")).cumcount() + 1 if level != "city" else np.arange(1, len(gaps) + 1)
    part.layers[proposals_layer_name(spec.id)] = gpd.GeoDataFrame(
        {
            "id": gaps["id"].astype(str).values,
            "indicator": spec.id,
            "county_id": gaps["county_id"].values,
            "base_id": gaps["base_id"].values if "base_id" in gaps else None,
            "rank": np.asarray(ranks),
            "sewer_id": gaps["sewer_id"].values,
            "length_m": gaps["length_m"].values,
            "collection_m": gaps["collection_m"].values,
            "trunk_m": gaps["trunk_m"].values,
            "people": gaps["people"].values,
            "area_km2": gaps[area_field].values,
            "left_km2": gaps["left_km2"].values,
        },
        geometry=gaps["lines"].values,
        crs=reader.crs,
    )
    return part


SEWER_EXTENSIONS = Kind(SewerSettings, propose_sewer_extensions, ("coverage",))
