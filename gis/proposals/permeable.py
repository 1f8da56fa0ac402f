"""Permeable ground: the blocks of a grid over the built-up areas where impervious ground can be
made permeable, the blocks with most room first, until the shortfall is covered
(``permeable_blocks``).

Only ground that can be converted counts: the land-cover classes ``convertible`` names
(paving, yards, squares; by default every class neither permeable nor excluded), less the
building footprints of a ``buildings`` layer when the project has one (roofs are never
converted), and at most ``max_convert_share`` of that in any block. Where neither the classes
nor footprints tell roofs apart, the proposal says so and the cap is the only guard.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field

from gis.bilingual import Bilingual
from gis.engines.result import IndicatorResult
from gis.methods.attributes import ratio_value, ratios
from gis.methods.raster import RasterShareParams, class_totals, code_areas, masked_zones
from gis.project.catalog import LandClass
from gis.project.config import ProjectConfig
from gis.project.specs import Spec
from gis.proposals.common import (
    Context,
    Kind,
    KindSettings,
    Part,
    Problem,
    absent_note,
    allocate,
    city_row,
    in_zone,
    item_level,
    item_row,
    layer_problem,
    meets,
    proposals_layer_name,
    row,
    shortfall_of,
    zone_rows,
)
from gis.proposals.texts import action, cat, layer_name, need_them_all, same, say, together
from gis.values import is_missing


class PermeableSettings(KindSettings):
    """``kind: permeable_blocks``: the impervious ground to make permeable, block by block, roofs left out."""

    kind: Literal["permeable_blocks"]
    block_m: float = Field(500.0, gt=0, description="side of the grid blocks over the built-up areas, metres")
    convertible: list[int] | None = Field(
        None, min_length=1,
        description="land-cover codes of impervious ground that can be made permeable (paving, yards); null: every class "
                    "neither permeable nor excluded",
    )
    buildings: str | None = Field(None, description="vector layer of building footprints, never converted; null: none")
    max_convert_share: float = Field(
        0.3, gt=0, le=1, description="at most this share of a block's convertible ground is made permeable",
    )

    def problems(self, project: ProjectConfig, spec: Spec) -> Iterator[Problem]:
        """Convertible codes of the raster's class table that are neither permeable nor excluded; a vector buildings layer."""
        raster = spec.inputs.get("raster")
        entry = project.catalog.layers.get(raster) if raster else None
        if self.convertible is not None and entry is not None:
            classes = {c.code: c for c in entry.classes or []}
            flag = RasterShareParams.model_validate(spec.parameters).flag
            for index, code in enumerate(self.convertible):
                known = classes.get(code)
                if known is None:
                    yield ("convertible", index), f"code {code} is not in the class table of layer '{raster}' ({', '.join(map(str, classes))})"
                elif getattr(known, flag, False) or known.excluded:
                    what = "excluded" if known.excluded else flag
                    yield ("convertible", index), f"code {code} ({known.name}) is {what}: only impervious ground can be made permeable"
        if self.buildings is not None:
            problem = layer_problem(project, self.buildings, "vector")
            if problem:
                yield ("buildings",), problem


def _grid_blocks(pieces: gpd.GeoDataFrame, size: float) -> gpd.GeoDataFrame:
    """A grid of ``size`` blocks aligned on multiples of ``size``, clipped to each piece; ids from the cell."""
    records, geometries = [], []
    for piece in pieces.itertuples(index=False):
        geom = piece.geometry
        minx, miny, maxx, maxy = geom.bounds
        xs = np.arange(math.floor(minx / size), math.ceil(maxx / size))
        ys = np.arange(math.floor(miny / size), math.ceil(maxy / size))
        ix, iy = (a.ravel() for a in np.meshgrid(xs, ys))
        cells = shapely.box(ix * size, iy * size, (ix + 1) * size, (iy + 1) * size)
        clipped = shapely.intersection(cells, geom)
        keep = ~shapely.is_empty(clipped) & (shapely.area(clipped) >= 1.0)
        for i, j, cell in zip(ix[keep], iy[keep], clipped[keep], strict=True):
            records.append({"id": f"{piece.zone_id}:{piece.mask_id}:{i}:{j}", "county_id": piece.zone_id, "base_id": piece.mask_id})
            geometries.append(cell)
    return gpd.GeoDataFrame(records, geometry=geometries, crs=pieces.crs) if records else gpd.GeoDataFrame(
        {"id": [], "county_id": [], "base_id": []}, geometry=[], crs=pieces.crs)


def _codes_text(classes: list[LandClass], codes: set[int]) -> Bilingual:
    """Land-cover classes by code and name: '70 不透水面' / '70 impervious surface'."""
    chosen = [c for c in classes if c.code in codes]
    return say("、".join(f"{c.code} {c.name.zh}" for c in chosen), ", ".join(f"{c.code} {c.name.en}" for c in chosen))


def roof_source(classes: list[LandClass], convertible: set[int], flag: str, buildings: Bilingual | None) -> tuple[Bilingual, bool]:
    """How roofs are kept out of the conversion, in words, and whether they are told apart at all.

    ``buildings`` is the footprint layer as a sentence names it (:func:`~gis.proposals.texts.layer_name`).
    """
    impervious = {c.code for c in classes if not getattr(c, flag) and not c.excluded}
    codes = _codes_text(classes, convertible)
    if buildings is not None:
        return say(f"不含屋顶：从土地覆盖 {codes.zh} 中扣除图层{buildings.zh}的建筑轮廓",
                   f"roofs left out: building footprints of layer '{buildings.en}' taken off land cover {codes.en}"), True
    if impervious - convertible:
        others = _codes_text(classes, impervious - convertible)
        return say(f"按土地覆盖类别排除屋顶：只改造 {codes.zh}，不改造 {others.zh}",
                   f"roofs left out by land-cover class: only {codes.en} converted, never {others.en}"), True
    return say(f"未能区分屋顶：土地覆盖 {codes.zh} 同时包含屋顶和铺装地面，且项目没有建筑轮廓图层（proposal.buildings）",
               f"roofs not told apart: land cover {codes.en} holds roofs and paving alike and the project "
               "has no building footprints (proposal.buildings)"), False


def _blocks(ctx: Context, item: IndicatorResult, settings: PermeableSettings, counties: gpd.GeoDataFrame, buildings: str | None) -> gpd.GeoDataFrame:
    """The blocks over the built-up areas of ``counties``: impervious, convertible and roof m2, own share, room to convert."""
    spec, reader = item.spec, ctx.reader
    params = RasterShareParams.model_validate(spec.parameters)
    raster = spec.inputs["raster"]
    mask_layer = spec.inputs.get("mask")
    blocks = _grid_blocks(masked_zones(reader.read_vector(mask_layer) if mask_layer else None, counties), settings.block_m)
    if blocks.empty:
        return blocks
    classes = reader.entry(raster).classes or []
    path = reader.layer_path(raster)
    by_code = code_areas(path, raster, blocks)  # one pass over the raster for the shares and the convertible ground
    areas = class_totals(by_code, classes, params.flag)
    blocks["impervious_m2"] = (areas["denominator"] - areas["numerator"]).clip(lower=0).values
    blocks["own_share"] = ratios(areas["numerator"], areas["denominator"]).values
    blocks["convertible_m2"] = by_code.total(_convertible(classes, settings, params.flag) & {c.code for c in classes})
    blocks["roof_m2"] = 0.0
    if buildings is not None:
        footprints = reader.read_vector(buildings)
        roofs = footprints.geometry.values[shapely.get_dimensions(footprints.geometry.values) == 2]
        if len(roofs):
            tree = shapely.STRtree(roofs)
            blocks["roof_m2"] = [
                float(shapely.union_all(roofs[tree.query(block, predicate="intersects")]).intersection(block).area) for block in blocks.geometry.values
            ]
        blocks["convertible_m2"] = (blocks["convertible_m2"] - blocks["roof_m2"]).clip(lower=0)
    blocks["room_m2"] = blocks["convertible_m2"] * settings.max_convert_share
    return blocks.sort_values(["room_m2", "id"], ascending=[False, True])


def _convertible(classes: list[LandClass], settings: PermeableSettings, flag: str) -> set[int]:
    """The codes that may be converted: those the settings name, or every class neither flagged nor excluded."""
    if settings.convertible is not None:
        return set(settings.convertible)
    return {c.code for c in classes if not getattr(c, flag) and not c.excluded}


def _need_m2(item: IndicatorResult, zone: pd.Series, already: float) -> float:
    """The m2 to convert in ``zone``: its shortfall as stated (rounded up, so that converting it meets the target), less ``already``."""
    short = shortfall_of(zone)
    if short is not None and item.spec.shortfall is not None:
        return max(short / item.spec.shortfall.factor - already, 0.0)
    return max(float(zone["target"]) * float(zone["denominator"]) - float(zone["numerator"]) - already, 0.0)


def propose_permeable_blocks(ctx: Context, item: IndicatorResult, settings: PermeableSettings) -> Part:
    """Per zone with a target, the impervious ground to make permeable and the blocks where it lies.

    Rule: a grid of ``proposal.block_m`` (500 m) over each built-up area in the county (the
    pieces the indicator measures); in each block the convertible ground (see the module) from
    the land cover (exact cell coverage), capped at ``max_convert_share``; the blocks with the
    most room first, so the shortfall closes with the fewest blocks, the last only for what is
    still missing. The shortfall converted is the one ``indicators.csv`` states (rounded up).
    Where the plan sets county (or prefecture) targets each county (prefecture) takes blocks of
    its own and the city row is them together (plus blocks the city still needs); with a city
    target only, the city takes blocks across counties. What the cap leaves short is said in ``detail``.
    """
    spec, reader, part = item.spec, ctx.reader, Part()
    params = RasterShareParams.model_validate(spec.parameters)
    city = city_row(item)
    level = item_level(item)
    by_zone = level != "city"
    zones = [z for _, z in zone_rows(item, level).iterrows()] if by_zone else []
    city_gap = city is not None and not is_missing(city["target"]) and city["status"] == "gap"
    if not zones and not city_gap:
        return part
    buildings = settings.buildings
    if buildings is not None and buildings not in reader.catalog.layers:
        part.notes.append(absent_note(buildings, "roofs are told apart by land-cover class only"))
        buildings = None
    counties = ctx.zones.level("county")
    blocks = _blocks(ctx, item, settings, counties, buildings)
    if blocks.empty:
        return part
    classes = reader.entry(spec.inputs["raster"]).classes or []
    footprints = layer_name(reader, buildings) if buildings is not None else None
    roofs, told = roof_source(classes, _convertible(classes, settings, params.flag), params.flag, footprints)
    share, size = f"{settings.max_convert_share:.0%}", f"{settings.block_m:g} m"
    rule = cat(
        say(f"{size}网格块，可改造地面最多者优先（块数最少）；每块可改造地面至多改造{share}；",
            f"blocks of {size} with the most convertible ground first (fewest blocks); at most {share} of a block's convertible ground; "),
        roofs,
    )
    if not told:
        rule = cat(rule, say(f"；仅靠每块{share}的上限避免改造屋顶", f"; the cap of {share} is the only guard"))
    verb = action("不透水地面改为透水地面", "make impervious ground permeable")
    taken_all: dict[Any, float] = {}
    plans: list[tuple[pd.Series, list[tuple[Any, float]], float]] = []  # zone, (block, m2), m2 counted before
    for zone in zones:
        pool = in_zone(blocks, zone, ctx.zones)
        taken = allocate(((i, float(pool.loc[i, "room_m2"])) for i in pool.index), _need_m2(item, zone, 0.0))
        taken_all.update(taken)
        plans.append((zone, taken, 0.0))
    if city is not None and (city_gap or (by_zone and taken_all)) and not is_missing(city["target"]):
        before = sum(taken_all.values())
        rest = blocks.drop(index=list(taken_all))
        extra = allocate(((i, float(rest.loc[i, "room_m2"])) for i in rest.index), _need_m2(item, city, before))
        plans.insert(0, (city, extra, before))
    chosen: list[tuple[Any, int, float]] = []
    for zone, taken, before in plans:
        running = float(zone["numerator"]) + before
        rows = []
        for rank, (index, area) in enumerate(taken, start=1):
            running += area
            block = blocks.loc[index]
            chosen.append((index, rank, area))
            impervious, convertible = block["impervious_m2"] / 1e6, block["convertible_m2"] / 1e6
            part_of = f"{area / max(block['convertible_m2'], 1e-9):.0%}"
            rows.append(item_row(
                item, zone, verb, area / 1e6, KM2,
                ratio_value(running, float(zone["denominator"])), rank=rank, item_layer=f"{settings.block_m:g} m blocks",
                item_id=str(block["id"]), adds=block["convertible_m2"] / 1e6, adds_unit=say("km2 本块可改造地面", "km2 convertible in the block"),
                detail=say(f"本块不透水地面 {impervious:.3f} km2，其中可改造 {convertible:.3f} km2；改造其中的{part_of}",
                           f"block {impervious:.3f} km2 impervious, {convertible:.3f} km2 convertible; converts {part_of} of it"),
            ))
        total = before + sum(a for _, a in taken)
        if not taken and before == 0:
            continue
        after = ratio_value(float(zone["numerator"]) + total, float(zone["denominator"]))
        detail = rule if before == 0 else cat(together(level), say("；", "; "), rule)
        km2 = f"{total / 1e6:.3f} km2"
        part.rows.append(row(
            item, zone, _zone_action(km2), total / 1e6, KM2, after,
            detail=cat(detail, _why(item, zone, total, after, settings, level)),
        ))
        part.rows += rows
    if chosen:
        picked = blocks.loc[[i for i, _, _ in chosen]]
        part.layers[proposals_layer_name(spec.id)] = gpd.GeoDataFrame(
            {
                "id": picked["id"].values,
                "indicator": spec.id,
                "county_id": picked["county_id"].values,
                "base_id": picked["base_id"].values,
                "rank": [r for _, r, _ in chosen],
                "impervious_km2": picked["impervious_m2"].values / 1e6,
                "convertible_km2": picked["convertible_m2"].values / 1e6,
                "convert_km2": [a / 1e6 for _, _, a in chosen],
                "permeable_share": picked["own_share"].values,
            },
            geometry=picked.geometry.values,
            crs=reader.crs,
        )
    return part


def _zone_action(km2: str) -> Bilingual:
    """A zone row's action: '不透水地面改为透水地面 4.117 km2' / 'make 4.117 km2 of impervious ground permeable' (as one
    string the Chinese verb and the English, as runs before wrote it)."""
    zh, en = f"不透水地面改为透水地面 {km2}", f"make {km2} of impervious ground permeable"
    return Bilingual(f"不透水地面改为透水地面 {en}", zh, en)


KM2 = same("km2")
"""The unit of the ground to make permeable."""


def _why(item: IndicatorResult, zone: pd.Series, total_m2: float, after: float, settings: PermeableSettings, level: str) -> Bilingual:
    """Why the km2 converted differ from the zone's shortfall (empty when they do not)."""
    short = shortfall_of(zone)
    if short is None or item.spec.shortfall is None:
        return same("")
    factor, unit = item.spec.shortfall.factor, item.spec.shortfall.unit
    total = total_m2 * factor
    if meets(after, zone["target"], zone["comparator"]) is False:
        cap = f"{settings.max_convert_share:.0%}"
        return say(f"；缺口为{short:,.3f}（{unit.zh}），按每块{cap}的上限，可改造地面仅能提供{total:,.3f}：其余{short - total:,.3f}"
                   "需其他措施（屋顶绿化、新建公园）",
                   f"; capped at {cap} per block the convertible ground gives only {total:,.3f} of the "
                   f"{short:,.3f} {unit.en}: {short - total:,.3f} more need another measure (green roofs, new parks)")
    if total > short + 1e-9 * max(short, 1.0) + 5e-4:
        return need_them_all(same(f"{total:,.3f}"), same(f"{short:,.3f}"), level)
    return same("")


PERMEABLE_BLOCKS = Kind(PermeableSettings, propose_permeable_blocks, ("raster_share",))
