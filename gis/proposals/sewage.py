"""Sewage: a sewer from each blank area to the nearest connected sewer line, its length and the
people it would serve (``sewer_extensions``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from pydantic import Field

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
    item_level,
    item_row,
    layer_problem,
    nearest,
    proposals_layer_name,
    row,
    zone_rows,
)
from gis.values import is_missing


class SewerSettings(KindSettings):
    """``kind: sewer_extensions``: a sewer from each blank area to the nearest connected sewer."""

    kind: Literal["sewer_extensions"]
    population: str | None = Field(description="population raster for the people served; null: not counted")

    def problems(self, project: ProjectConfig, spec: Spec) -> Iterator[Problem]:
        """Blank areas in km2 of a polygon base; a population raster of the catalog."""
        value = CoverageParams.model_validate(spec.parameters).value
        base = project.catalog.layers.get(spec.inputs["base"])
        if spec.inputs["base"] not in project.catalog.layers:
            return  # the indicator is not assessed: no proposal
        if value != "uncovered_km2" or base is None or base.kind != "vector":
            yield ("kind",), "kind 'sewer_extensions' closes blank areas: a coverage of a polygon base with value uncovered_km2"
        elif self.population is not None:
            problem = layer_problem(project, self.population, "raster")
            if problem:
                yield ("population",), problem


def propose_sewer_extensions(ctx: Context, item: IndicatorResult, settings: SewerSettings) -> Part:
    """From each blank area the shortest sewer to the nearest connected sewer line, with the people served.

    The line runs between the nearest points of the blank area and the sewer
    (``shapely.shortest_line``). Blank areas are ranked by the people they hold (most first);
    ``value_after`` assumes each connected area gets a collection network behind the extension,
    so its blank km2 is gone.
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
    gaps = gaps.copy()
    gaps = gaps.join(nearest(gaps, sewers.assign(name=sewers["id"]), "sewer")[["sewer_id", "distance_m"]])
    sewer_geoms = sewers.set_index(sewers["id"].astype(str)).geometry
    gaps["line"] = shapely.shortest_line(gaps.geometry.values, sewer_geoms.loc[gaps["sewer_id"].astype(str)].values)
    gaps["length_m"] = shapely.length(gaps["line"].values)
    if settings.population is not None and settings.population not in reader.catalog.layers:
        part.notes.append(absent_note(settings.population, "the people each extension serves are not counted"))
    elif settings.population is not None:
        gaps["people"] = zonal_sums(reader.layer_path(settings.population), settings.population, gaps[["geometry"]])
    else:
        gaps["people"] = np.nan
    area_field = "uncovered_km2" if "uncovered_km2" in gaps else "area_km2"
    gaps = gaps.sort_values(["people", "length_m", "id"], ascending=[False, True, True], na_position="last")
    level = item_level(item)
    zones = [z for _, z in zone_rows(item, level).iterrows()]
    action = "延伸污水管网接入空白区 lay a sewer from the blank area to the nearest connected sewer"
    for zone in zones:
        mine = gaps if zone["zone_type"] == "city" else gaps[gaps["county_id"].astype(str) == str(zone["zone_id"])]
        if mine.empty:
            continue
        left = float(zone["value"])
        rows = []
        for rank, (_, gap) in enumerate(mine.iterrows(), start=1):
            left = max(left - float(gap[area_field]), 0.0)
            after = 0.0 if rank == len(mine) and left < 1e-6 else left
            rows.append(item_row(
                item, zone, action, float(gap["length_m"]), "m of sewer", after, rank=rank, item_layer=f"{spec.id}.gaps",
                item_id=str(gap["id"]), adds=gap["people"], adds_unit="people served",
                detail=f"blank area {float(gap[area_field]):.3f} km2; to sewer {gap['sewer_id']}",
            ))
        part.rows.append(row(
            item, zone, f"{action}: {len(mine)}", float(mine["length_m"].sum()), "m of sewer", rows[-1]["value_after"],
            adds=float(mine["people"].sum()) if mine["people"].notna().any() else None, adds_unit="people served",
            detail=f"{len(mine)} extensions; a collection network inside each blank area assumed",
        ))
        part.rows += rows
    city = city_row(item)
    if level == "county" and city is not None and not is_missing(city["target"]) and part.rows:
        part.rows.insert(0, row(
            item, city, f"{action}: {len(gaps)}", float(gaps["length_m"].sum()), "m of sewer", 0.0,
            adds=float(gaps["people"].sum()) if gaps["people"].notna().any() else None, adds_unit="people served",
            detail="sum of the county proposals",
        ))
    rank = gaps.groupby(gaps["county_id"].astype(str)).cumcount() + 1
    part.layers[proposals_layer_name(spec.id)] = gpd.GeoDataFrame(
        {
            "id": gaps["id"].astype(str).values,
            "indicator": spec.id,
            "county_id": gaps["county_id"].values,
            "base_id": gaps["base_id"].values if "base_id" in gaps else None,
            "rank": rank.values,
            "sewer_id": gaps["sewer_id"].values,
            "length_m": gaps["length_m"].values,
            "people": gaps["people"].values,
            "area_km2": gaps[area_field].values,
        },
        geometry=gaps["line"].values,
        crs=reader.crs,
    )
    return part


SEWER_EXTENSIONS = Kind(SewerSettings, propose_sewer_extensions, ("coverage",))
