"""Permeable ground: the blocks of a grid over the built-up areas with the most impervious ground,
largest first, until the shortfall is made permeable (``permeable_blocks``)."""

from __future__ import annotations

import math
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from pydantic import Field

from gis.engines.result import IndicatorResult
from gis.methods.attributes import ratio_value, ratios
from gis.methods.raster import RasterShareParams, class_areas, masked_zones
from gis.proposals.common import (
    Context,
    Kind,
    KindSettings,
    Part,
    allocate,
    city_row,
    item_level,
    item_row,
    proposals_layer_name,
    row,
    zone_rows,
)
from gis.values import is_missing


class PermeableSettings(KindSettings):
    """``kind: permeable_blocks``: the impervious ground to make permeable, block by block."""

    kind: Literal["permeable_blocks"]
    block_m: float = Field(500.0, gt=0, description="side of the grid blocks over the built-up areas, metres")


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


def propose_permeable_blocks(ctx: Context, item: IndicatorResult, settings: PermeableSettings) -> Part:
    """Per zone, the impervious ground to make permeable and the blocks where it lies.

    Rule: a grid of ``proposal.block_m`` (500 m) over each built-up area in the county (the
    pieces the indicator measures); impervious km2 per block from the land cover (exact cell
    coverage); blocks with the most impervious ground first, the last only for what is still
    missing. The city row sums them.
    """
    spec, reader, part = item.spec, ctx.reader, Part()
    params = RasterShareParams.model_validate(spec.parameters)
    raster = spec.inputs["raster"]
    level = item_level(item)
    zones = [z for _, z in zone_rows(item, level).iterrows()]
    if not zones:
        return part
    counties = ctx.zones.level("county")
    if level == "county":
        counties = counties[counties["zone_id"].isin([str(z["zone_id"]) for z in zones])]
    mask_layer = spec.inputs.get("mask")
    blocks = _grid_blocks(masked_zones(reader.read_vector(mask_layer) if mask_layer else None, counties), settings.block_m)
    if blocks.empty:
        return part
    areas = class_areas(reader.layer_path(raster), raster, blocks, reader.entry(raster).classes, params.flag)
    blocks["impervious_m2"] = (areas["denominator"] - areas["numerator"]).clip(lower=0).values
    blocks["own_share"] = ratios(areas["numerator"], areas["denominator"]).values
    blocks = blocks.sort_values(["impervious_m2", "id"], ascending=[False, True])
    action = "不透水地面改为透水地面 make impervious ground permeable"
    chosen = []
    for zone in zones:
        pool = blocks if zone["zone_type"] == "city" else blocks[blocks["county_id"] == str(zone["zone_id"])]
        need = float(zone["target"]) * float(zone["denominator"]) - float(zone["numerator"])
        taken = allocate(((i, float(pool.loc[i, "impervious_m2"])) for i in pool.index), need)
        running = float(zone["numerator"])
        rows = []
        for rank, (index, area) in enumerate(taken, start=1):
            running += area
            block = blocks.loc[index]
            chosen.append((index, rank, area))
            rows.append(item_row(
                item, zone, action, area / 1e6, "km2",
                ratio_value(running, float(zone["denominator"])), rank=rank, item_layer=f"{settings.block_m:g} m blocks",
                item_id=str(block["id"]), detail=f"block has {block['impervious_m2'] / 1e6:.3f} km2 impervious",
            ))
        total = sum(a for _, a in taken)
        part.rows.append(row(
            item, zone, f"不透水地面改为透水地面 make {total / 1e6:.3f} km2 of impervious ground permeable", total / 1e6, "km2",
            ratio_value(float(zone["numerator"]) + total, float(zone["denominator"])),
            detail=f"{len(taken)} blocks of {settings.block_m:g} m with the most impervious ground first",
        ))
        part.rows += rows
    city = city_row(item)
    if level == "county" and city is not None and not is_missing(city["target"]) and chosen:
        total = sum(a for _, _, a in chosen)
        part.rows.insert(0, row(
            item, city, f"不透水地面改为透水地面 make {total / 1e6:.3f} km2 of impervious ground permeable", total / 1e6, "km2",
            ratio_value(float(city["numerator"]) + total, float(city["denominator"])), detail="sum of the county proposals",
        ))
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
                "convert_km2": [a / 1e6 for _, _, a in chosen],
                "permeable_share": picked["own_share"].values,
            },
            geometry=picked.geometry.values,
            crs=reader.crs,
        )
    return part


PERMEABLE_BLOCKS = Kind(PermeableSettings, propose_permeable_blocks, ("raster_share",))
