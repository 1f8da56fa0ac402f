"""Heating: the coal boilers inside heating-network coverage to convert, largest first, and the
clean-heating share after converting them (``coal_boilers``)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from gis.bilingual import Bilingual
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
from gis.proposals.texts import action, amount, cat, say
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


COAL_USERS = say("个燃煤用户", "coal users")
"""The unit of coal boilers and loose-coal users to phase out."""
FLOOR_AREA = say("m2 建筑面积", "m2 floor area")
"""The unit of the floor area the conversions make clean."""


def _capacity(boiler: pd.Series) -> Bilingual:
    """A boiler's capacity in words, or that it is blank."""
    if is_missing(boiler["capacity_mw"]):
        return say("capacity_mw 为空", "capacity_mw blank")
    return say(f"{boiler['capacity_mw']:g} MW", f"{boiler['capacity_mw']:g} MW")


def _size(boiler: pd.Series) -> Bilingual:
    """A boiler's capacity and heated floor area in words, saying which is blank."""
    if is_missing(boiler["heated_area_m2"]):
        heated = say("heated_area_m2 为空", "heated_area_m2 blank")
    else:
        heated = say(f"供热面积 {boiler['heated_area_m2']:,.0f} m2", f"{boiler['heated_area_m2']:,.0f} m2 heated")
    return cat(_capacity(boiler), say("，", ", "), heated)


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

    def detail(feature: pd.Series) -> Bilingual:
        network, km = feature["network_name"], feature["distance_km"]
        return cat(_size(feature), say(f"；距供热管网 {network} {km:.2f} km", f"; network {network} at {km:.2f} km"))

    part.rows = count_items(item, inside, action("淘汰燃煤锅炉或散煤，改由供热管网或清洁热源供热",
                                                 "phase out the coal boiler or loose coal (network or clean heat)"),
                            COAL_USERS, -1.0, detail, layer,
                            rule=say("供热管网覆盖范围内的全部燃煤锅炉，按规模从大到小（先 capacity_mw，再 heated_area_m2）",
                                     "every coal boiler inside network coverage, largest first (capacity_mw, then heated_area_m2)"),
                            zones=ctx.zones)
    outside_action = action("供热管网覆盖范围外的燃煤锅炉或散煤：就地清洁改造或延伸管网",
                            "coal boiler or loose coal outside network coverage: clean on site or extend the network")
    counties = ctx.zones.level("county").set_index("zone_id")
    for _, boiler in outside.iterrows():
        county = str(boiler["county_id"]) if boiler["county_id"] else None
        zone = pd.Series({"zone_type": "county", "zone_id": county, "zone_name": counties["zone_name"].get(county, "") if county else "",
                          "value": None, "target": None, "comparator": None})
        if is_missing(boiler["distance_km"]):
            distance = say("无供热管网", "no network")
        else:
            network, km = boiler["network_name"], boiler["distance_km"]
            distance = say(f"距供热管网 {network} {km:.2f} km", f"{km:.2f} km to network {network}")
        part.rows.append(item_row(
            item, zone, outside_action,
            1, COAL_USERS, None, item_layer=layer, item_id=str(boiler["id"]), item_name=str(boiler.get("name", boiler["id"])),
            adds=boiler["heated_area_m2"], adds_unit=say("m2 供热面积", "m2 heated"), detail=cat(_capacity(boiler), say("；", "; "), distance),
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
    levels: list[str] = [lvl for lvl in spec.zone_types if lvl in ("city", "prefecture", "county")]
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
            users = "coal boiler or loose-coal user" if count == 1 else "coal boilers and loose-coal users"
            verb = action(f"供热管网覆盖范围内的燃煤锅炉和散煤改为清洁供热 {count:,} 处",
                          f"convert {count:,} {users} inside network coverage to clean heat")
        else:
            verb = action("管网覆盖范围内无燃煤锅炉或散煤可改", "no coal boiler or loose coal inside network coverage here")
        rows.append(row(clean, zone, verb, gain, FLOOR_AREA, value, adds=count, adds_unit=COAL_USERS, detail=rows_detail))
    return rows


def _clean_detail(source: str, zone: pd.Series, gain: float, count: int, value: float) -> Bilingual:
    """What converting ``count`` coal users does to the zone's clean-heating shortfall, in one sentence."""
    if count:
        made = amount(gain, "m2")
        what = say(f"将供热管网覆盖范围内的燃煤用户改为清洁供热（{source}；其中{count}个的供热面积计入本比例），可使{made.zh}变为清洁取暖",
                   f"converting the coal users inside network coverage ({source}; {count} of them heat floor area this share counts) "
                   f"makes {made.en} clean")
    else:
        what = say(f"本区供热管网覆盖范围内无燃煤用户（{source}）", f"no coal user inside network coverage here ({source})")
    short = shortfall_of(zone)
    if short is None:
        return what
    gap = amount(short, "m2")
    if meets(value, zone["target"], zone["comparator"]) is False:
        still = amount(math.ceil(max(float(zone["target"]) * float(zone["denominator"]) - float(zone["numerator"]) - gain, 0.0)), "m2")
        closes = gain / short if short else 0.0
        return cat(what, say(f"：占缺口{gap.zh}的{closes:.0%}；尚余{still.zh}需以其他方式改造（覆盖范围外的燃煤用户、其他热源）",
                             f": {closes:.0%} of the shortfall of {gap.en}; {still.en} "
                             "still to convert by other means (coal users outside coverage, other sources)"))
    if short <= 0:
        return cat(what, say(f"；目标已达到：改造源自 {source}（覆盖范围内不留燃煤用户）",
                             f"; the target is met already: the conversions follow from {source} (none left inside coverage)"))
    if gain > short:
        return cat(what, say(f"，多于缺口{gap.zh}：{source} 要求改造覆盖范围内的全部燃煤用户",
                             f", more than the shortfall of {gap.en}: {source} converts every coal user inside coverage"))
    return what


COAL_BOILERS = Kind(CoalSettings, propose_coal_boilers, ("within",))
