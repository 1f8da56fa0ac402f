"""Heating: the coal boilers inside heating-network coverage to convert, largest first, and the
clean-heating share after converting them (``coal_boilers``)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from gis.engines.result import IndicatorResult
from gis.methods.attributes import Blanks, RatioParams, WithinParams, ratio_features, ratio_value, read_features
from gis.methods.zones import sums_per_level
from gis.project.config import ProjectConfig
from gis.project.specs import Spec
from gis.proposals.common import (
    Context,
    Kind,
    KindSettings,
    Part,
    Problem,
    amount_text,
    count_items,
    county_of,
    item_row,
    meets,
    nearest,
    not_assessed,
    point_layer,
    proposals_layer_name,
    row,
    shortfall_of,
)
from gis.values import is_missing


class CoalSettings(KindSettings):
    """``kind: coal_boilers``: the coal boilers inside network coverage to convert, and the clean share after."""

    kind: Literal["coal_boilers"]
    clean_share: str | None = Field(
        description="indicator (ratio of heated floor area, on the same features) the conversions raise; null: none",
    )

    def problems(self, project: ProjectConfig, spec: Spec) -> Iterator[Problem]:
        """The clean-share indicator is a spec of the project, a ratio measured on the boilers' layer."""
        if self.clean_share is None:
            return
        clean = next((s for s in project.specs if s.id == self.clean_share), None)
        layer = spec.inputs["features"]
        if clean is None:
            yield ("clean_share",), f"indicator '{self.clean_share}' is not a spec of this project (analyses/*.yaml)"
        elif clean.method != "ratio" or clean.inputs.get("features") != layer or RatioParams.model_validate(clean.parameters).zone_field:
            yield ("clean_share",), f"indicator '{self.clean_share}' is not a ratio measured on the features of '{layer}'"


def _capacity(boiler: pd.Series) -> str:
    """A boiler's capacity in words, or that it is blank."""
    return "capacity_mw blank" if is_missing(boiler["capacity_mw"]) else f"{boiler['capacity_mw']:g} MW"


def _size(boiler: pd.Series) -> str:
    """A boiler's capacity and heated floor area in words, saying which is blank."""
    heated = "heated_area_m2 blank" if is_missing(boiler["heated_area_m2"]) else f"{boiler['heated_area_m2']:,.0f} m2 heated"
    return f"{_capacity(boiler)}, {heated}"


def propose_coal_boilers(ctx: Context, item: IndicatorResult, settings: CoalSettings) -> Part:
    """The coal boilers inside network coverage to convert, largest first; the clean share after.

    Rule: every boiler inside coverage is listed (the target is none left), by capacity_mw then
    heated_area_m2, largest first. The clean-heating share after counts the floor area the
    converted boilers heat as clean (connected to the network or a clean source). Boilers
    outside coverage are listed apart, with their distance to the network. A boiler whose
    capacity or heated area is blank is still listed (the indicator counts it), after those
    with numbers, and its detail says what is blank.
    """
    spec, reader, part = item.spec, ctx.reader, Part()
    params = WithinParams.model_validate(spec.parameters)
    layer = spec.inputs["features"]
    said = Blanks(reader, spec, say=False)  # the indicator has said what it left out
    boilers = read_features(reader, layer, params.where, said)
    inside_ids = set(item.gaps["id"].astype(str)) if item.gaps is not None else set()
    boilers["in_coverage"] = boilers["id"].astype(str).isin(inside_ids)
    boilers["county_id"] = county_of(ctx.zones, boilers.geometry).values
    for column in ("capacity_mw", "heated_area_m2"):
        given = column in boilers.columns
        boilers[column] = pd.to_numeric(boilers[column], errors="coerce") if given else np.nan
        blank = int(boilers[column].isna().sum()) if given else 0
        if blank:
            part.notes.append(f"{blank} {'boiler' if blank == 1 else 'boilers'} of {layer} with a blank {column}: listed after those with one")
    network = read_features(reader, spec.inputs["coverage"], params.coverage_where, said)
    group = params.group_field if params.group_field and params.group_field in network else None
    boilers = boilers.join(nearest(boilers, network.assign(name=network[group]) if group else network, "network"))
    boilers["distance_km"] = boilers["distance_m"] / 1000
    boilers = boilers.sort_values(["capacity_mw", "heated_area_m2", "id"], ascending=[False, False, True], na_position="last")
    inside = boilers[boilers["in_coverage"]]
    outside = boilers[~boilers["in_coverage"]]

    def detail(feature: pd.Series) -> str:
        return f"{_size(feature)}; network {feature['network_name']} at {feature['distance_km']:.2f} km"

    part.rows = count_items(item, inside, "淘汰燃煤锅炉或散煤，改由供热管网或清洁热源供热 phase out the coal boiler or loose coal (network or clean heat)",
                            "coal users", -1.0, detail, layer,
                            rule="every coal boiler inside network coverage, largest first (capacity_mw, then heated_area_m2)")
    counties = ctx.zones.level("county").set_index("zone_id")
    for _, boiler in outside.iterrows():
        county = str(boiler["county_id"]) if boiler["county_id"] else None
        zone = pd.Series({"zone_type": "county", "zone_id": county, "zone_name": counties["zone_name"].get(county, "") if county else "",
                          "value": None, "target": None, "comparator": None})
        distance = "no network" if is_missing(boiler["distance_km"]) else f"{boiler['distance_km']:.2f} km to network {boiler['network_name']}"
        part.rows.append(item_row(
            item, zone, "供热管网覆盖范围外的燃煤锅炉或散煤：就地清洁改造或延伸管网 "
                        "coal boiler or loose coal outside network coverage: clean on site or extend the network",
            1, "coal users", None, item_layer=layer, item_id=str(boiler["id"]), item_name=str(boiler.get("name", boiler["id"])),
            adds=boiler["heated_area_m2"], adds_unit="m2 heated", detail=f"{_capacity(boiler)}; {distance}",
        ))
    rank = pd.Series(np.nan, index=boilers.index)
    for _, same_county in inside.groupby(inside["county_id"].fillna("")):
        rank[same_county.index] = np.arange(1, len(same_county) + 1)
    layer_frame = boilers.drop(columns=["network_id"]).rename(columns={"network_name": "network_id"})
    layer_frame = layer_frame.assign(indicator=spec.id, rank=rank.astype("Int64"))
    columns = ["id", "indicator", "county_id", "rank", *[c for c in ("name", "capacity_mw", "heated_area_m2") if c in boilers],
               "in_coverage", "network_id", "distance_m", "distance_km"]
    part.layers[proposals_layer_name(spec.id)] = point_layer(layer_frame, columns, reader.crs)
    if settings.clean_share is None:
        return part
    clean = ctx.by_id.get(settings.clean_share)
    if clean is None:
        part.notes.append(f"indicator '{settings.clean_share}' not in this run; clean-heating share after conversion left out")
    elif not_assessed(clean):
        part.notes.append(f"indicator '{settings.clean_share}' not assessed; clean-heating share after conversion left out")
    elif not inside.empty:
        part.rows += _clean_after(ctx, item, clean, inside)
    return part


def _clean_after(ctx: Context, item: IndicatorResult, clean: IndicatorResult, converted: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the clean-heating share per zone with a target once the ``converted`` boilers (of ``item``) heat cleanly."""
    spec = clean.spec
    said = Blanks(ctx.reader, spec, say=False)  # the clean-share indicator has said what it left out
    frame = ratio_features(ctx.reader, spec.inputs["features"], RatioParams.model_validate(spec.parameters), said)
    changed = frame[frame["id"].astype(str).isin(set(converted["id"].astype(str)))].copy()
    changed["gain"] = changed["denominator"] - changed["numerator"]
    changed["boilers"] = 1.0
    levels: list[str] = [lvl for lvl in spec.zone_types if lvl in ("city", "county")]
    gains = sums_per_level(changed, ["gain", "boilers"], ctx.zones, levels).set_index(["zone_type", "zone_id"])
    rows = []
    for _, zone in clean.rows.iterrows():
        key = (zone["zone_type"], zone["zone_id"])
        gain = float(gains["gain"].get(key, 0.0)) if key in gains.index else 0.0
        count = int(gains["boilers"].get(key, 0.0)) if key in gains.index else 0
        if (gain <= 0 and zone["status"] != "gap") or is_missing(zone["target"]) or is_missing(zone["value"]):
            continue  # a zone the plan sets no target for gets no proposal
        value = ratio_value(float(zone["numerator"]) + gain, float(zone["denominator"]))
        rows_detail = _clean_detail(item.spec.id, zone, gain, count, value)
        if count:
            action = (f"供热管网覆盖范围内的燃煤锅炉和散煤改为清洁供热 {count} 处 "
                      f"convert {count} coal boilers and loose-coal users inside network coverage to clean heat")
        else:
            action = "管网覆盖范围内无燃煤锅炉或散煤可改 no coal boiler or loose coal inside network coverage here"
        rows.append(row(clean, zone, action, gain, "m2 floor area", value, adds=count, adds_unit="coal users", detail=rows_detail))
    return rows


def _clean_detail(source: str, zone: pd.Series, gain: float, count: int, value: float) -> str:
    """What converting ``count`` coal users does to the zone's clean-heating shortfall, in one sentence."""
    what = (f"converting the coal users inside network coverage ({source}; {count} of them heat floor area this share counts) "
            f"makes {amount_text(gain, 'm2')} clean" if count else f"no coal user inside network coverage here ({source})")
    short = shortfall_of(zone)
    if short is None:
        return what
    if meets(value, zone["target"], zone["comparator"]) is False:
        still = max(float(zone["target"]) * float(zone["denominator"]) - float(zone["numerator"]) - gain, 0.0)
        closes = gain / short if short else 0.0
        return (f"{what}: {closes:.0%} of the shortfall of {amount_text(short, 'm2')}; {amount_text(math.ceil(still), 'm2')} "
                "still to convert by other means (coal users outside coverage, other sources)")
    if short <= 0:
        return f"{what}; the target is met already: the conversions follow from {source} (none left inside coverage)"
    if gain > short:
        return f"{what}, more than the shortfall of {amount_text(short, 'm2')}: {source} converts every coal user inside coverage"
    return what


COAL_BOILERS = Kind(CoalSettings, propose_coal_boilers, ("within",))
