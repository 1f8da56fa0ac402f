"""Charging: new public sites by greedy maximal covering (``coverage_sites``), the parking spaces
to equip and their lots (``parking_spaces``), the service areas to equip with the nearest fast
charger (``fast_charging``)."""

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
from gis.methods.attributes import Blanks, RatioParams, ratio_features, ratio_value, ratios, read_features
from gis.methods.coverage import CoverageParams, base_pieces, coverage_rule
from gis.methods.registry import reference_problem
from gis.methods.targets import EPSILON
from gis.project.config import ProjectConfig
from gis.project.specs import Condition, Spec
from gis.proposals.common import (
    Context,
    Kind,
    KindSettings,
    Part,
    Problem,
    absent_note,
    allocate,
    city_row,
    count_items,
    county_of,
    in_zone,
    item_level,
    item_row,
    layer_problem,
    meets,
    nearest,
    point_layer,
    proposals_layer_name,
    row,
    shortfall_of,
    zone_rows,
    zone_targets,
)
from gis.proposals.greedy import greedy_cover
from gis.proposals.texts import action, cat, counted, names_of, need_them_all, same, say, together
from gis.values import is_missing

# --- charging coverage: new sites by greedy maximal covering -------------------------------


class CoverageSettings(KindSettings):
    """``kind: coverage_sites``: the fewest new sites, from candidate sites, that bring each county to its target."""

    kind: Literal["coverage_sites"]
    coverage_target: float | None = Field(None, gt=0, le=1, description="share of people within distance_m to reach where the spec has no target")
    candidates: list[str] = Field(min_length=1, description="vector layers whose features are candidate sites")
    candidates_where: dict[str, Condition] = Field(default_factory=dict, description="per candidate layer, the features that are candidates")
    max_sites: int | None = Field(None, ge=1, description="at most this many new sites per county")

    def problems(self, project: ProjectConfig, spec: Spec) -> Iterator[Problem]:
        """A covered share; candidate layers that are vector layers of the catalog; conditions on known fields."""
        value = CoverageParams.model_validate(spec.parameters).value
        if value != "covered_share":
            yield ("kind",), f"kind 'coverage_sites' raises a covered share; this coverage measures {value}"
        for index, layer in enumerate(self.candidates):
            problem = layer_problem(project, layer, "vector")
            if problem:
                yield ("candidates", index), problem
        for layer, condition in self.candidates_where.items():
            if layer not in self.candidates:
                yield ("candidates_where", layer), f"layer '{layer}' is not one of the candidates ({', '.join(self.candidates)})"
            elif layer in project.catalog.layers:
                problem = reference_problem(project, layer, condition)
                if problem:
                    yield ("candidates_where", layer), problem


def _candidates(ctx: Context, settings: CoverageSettings, blanks: Blanks) -> gpd.GeoDataFrame:
    """Candidate sites of every candidate layer, as points with their county (a blank ``candidates_where``
    needs is dealt with by ``blanks``)."""
    reader = ctx.reader
    frames = []
    for layer in settings.candidates:
        if layer not in reader.catalog.layers:
            continue  # a candidate layer the project lacks (said in the notes)
        frame = read_features(reader, layer, settings.candidates_where.get(layer), blanks)
        if frame.empty:
            continue
        frames.append(gpd.GeoDataFrame(
            {
                "id": layer + ":" + frame["id"].astype(str),
                "source_layer": layer,
                "source_id": frame["id"].astype(str).values,
                "name": frame["name"].astype(str).values if "name" in frame else frame["id"].astype(str).values,
            },
            geometry=frame.geometry.representative_point().values,
            crs=reader.crs,
        ))
    if not frames:
        return gpd.GeoDataFrame({"id": [], "source_layer": [], "source_id": [], "name": [], "county_id": []}, geometry=[], crs=reader.crs)
    candidates = pd.concat(frames, ignore_index=True)
    candidates = candidates.drop_duplicates("id").sort_values("id", ignore_index=True)
    candidates["county_id"] = county_of(ctx.zones, candidates.geometry).values
    return gpd.GeoDataFrame(candidates, geometry="geometry", crs=reader.crs)


def propose_coverage_sites(ctx: Context, item: IndicatorResult, settings: CoverageSettings) -> Part:
    """The fewest new public charging sites that bring each county to the coverage target.

    Rule: within each county below its target, candidate sites of that county are picked one
    at a time, each time the one that newly covers the most people (population inside its
    service radius and the county, minus what stations and earlier picks already cover) until
    the county reaches its target or no candidate adds anyone. Sites picked for one county
    count as covered for the next. ``value_after`` of a zone row is what the indicator would
    measure with the new sites (its own rule, every county's sites).
    """
    spec, reader, part = item.spec, ctx.reader, Part()
    params = CoverageParams.model_validate(spec.parameters)

    def threshold(zone: pd.Series) -> float | None:
        if not is_missing(zone.get("target")):
            return float(zone["target"])
        return settings.coverage_target

    counties = zone_rows(item, "county", status=None)
    if settings.coverage_target is None and item.rows["target"].isna().all():
        part.notes.append("no target and no proposal.coverage_target; no sites proposed")
        return part
    below: list[tuple[pd.Series, float]] = []
    for _, zone in counties.iterrows():
        target = threshold(zone)
        if target is not None and not is_missing(zone["value"]) and zone["value"] < target - EPSILON:
            below.append((zone, target))
    if not below:
        return part
    part.notes += [absent_note(layer, "its sites are not candidates") for layer in settings.candidates if layer not in reader.catalog.layers]
    candidate_blanks = Blanks(reader, spec, say=False, missing="skip")  # a candidate with a blank is left out, and said
    candidates = _candidates(ctx, settings, candidate_blanks)
    part.notes += [f"candidate sites: {note}" for note in candidate_blanks.notes]
    if candidates.empty:
        part.notes.append("no candidate sites; no sites proposed")
        return part
    distance = params.distance_m
    said = Blanks(reader, spec, say=False)  # the indicator has said what it left out
    stations = read_features(reader, spec.inputs["facilities"], params.facilities_where, said)
    rule = coverage_rule(reader, spec, params, stations.geometry)

    def amount(geoms: np.ndarray) -> np.ndarray:
        return rule.base_in(gpd.GeoDataFrame(geometry=list(geoms), crs=reader.crs))

    covered = list(shapely.buffer(stations.geometry.values, distance, quad_segs=16))
    level = ctx.zones.level("county").set_index("zone_id")
    chosen: list[dict[str, Any]] = []
    for zone, target in below:
        zone_id = str(zone["zone_id"])
        pool = candidates[candidates["county_id"] == zone_id]
        if pool.empty:
            part.notes.append(f"county {zone_id}: no candidate site inside it")
            continue
        pieces = base_pieces(reader, spec, params, level.loc[[zone_id]].reset_index(), said)
        universe = shapely.union_all(pieces.geometry.values)
        buffers = pool.geometry.buffer(distance).values
        clips = shapely.intersection(buffers, universe)
        need = target * float(zone["denominator"]) - float(zone["numerator"])
        picks = greedy_cover(np.asarray(clips, dtype=object), np.asarray(buffers, dtype=object), covered, amount, need, limit=settings.max_sites)
        got = float(zone["numerator"])
        for rank, (index, gain) in enumerate(picks, start=1):
            got += gain
            chosen.append({
                "zone": zone, "rank": rank, "site": pool.iloc[index], "people_added": gain,
                "value_after": ratio_value(got, float(zone["denominator"])),
            })
            covered.append(buffers[index])
    if not chosen:
        return part
    sites = pd.concat([stations.geometry, gpd.GeoSeries([c["site"].geometry for c in chosen], crs=reader.crs)], ignore_index=True)
    county_zones = ctx.zones.level("county")
    measured = coverage_rule(reader, spec, params, sites)(base_pieces(reader, spec, params, county_zones, said))
    holes = measured.loc[measured["part"] == "uncovered"]
    uncovered = holes.groupby("zone_id")["amount"].sum().reindex(county_zones["zone_id"], fill_value=0.0)
    totals = counties.set_index("zone_id")["denominator"].astype(float)
    action_site = action("新建公共充电站", "build a public charging site")
    people = rule.raster is not None
    unit_people = say("人", "people") if people else same("km2")
    candidates = names_of(reader, settings.candidates)
    rule_text = say(f"按{distance:g} m范围内新覆盖的人口逐个选址（贪心）；候选：{candidates.zh}",
                    f"greedy by people newly covered within {distance:g} m; candidates: {candidates.en}")

    def covers(added: float) -> Bilingual:
        got = f"{added:,.0f}人" if people else f"{added:,.3f} km2"
        return say(f"{distance:g} m范围内新覆盖{got}", f"newly covers {added:,.0f} within {distance:g} m")

    for zone, target in below:
        zone_id = str(zone["zone_id"])
        mine = [c for c in chosen if c["zone"] is zone]
        value = ratio_value(totals[zone_id] - uncovered[zone_id], totals[zone_id])
        part.rows.append(row(
            item, zone, _sites_action(len(mine)), len(mine), SITES, value,
            target=target, comparator=">=", adds=sum(c["people_added"] for c in mine), adds_unit=unit_people,
            detail=cat(rule_text, _coverage_why(value, target, len(mine), settings.max_sites)),
        ))
        for c in mine:
            site = c["site"]
            part.rows.append(item_row(
                item, zone, action_site, 1, SITES, c["value_after"], target=target, comparator=">=",
                rank=c["rank"], item_layer=site["source_layer"], item_id=site["source_id"], item_name=site["name"],
                adds=c["people_added"], adds_unit=unit_people, detail=covers(c["people_added"]),
            ))
    city = city_row(item)
    if city is not None and threshold(city) is not None:
        total = float(totals.sum())
        value = ratio_value(total - float(uncovered.sum()), total)
        part.rows.insert(0, row(
            item, city, _sites_action(len(chosen)), len(chosen), SITES, value,
            target=threshold(city), comparator=">=", adds=sum(c["people_added"] for c in chosen), adds_unit=unit_people,
            detail=_coverage_city_detail(item, settings),
        ))
    part.layers[proposals_layer_name(spec.id)] = gpd.GeoDataFrame(
        {
            "id": [c["site"]["id"] for c in chosen],
            "indicator": spec.id,
            "county_id": [str(c["zone"]["zone_id"]) for c in chosen],
            "rank": [c["rank"] for c in chosen],
            "source_layer": [c["site"]["source_layer"] for c in chosen],
            "source_id": [c["site"]["source_id"] for c in chosen],
            "name": [c["site"]["name"] for c in chosen],
            "people_added": [c["people_added"] for c in chosen],
            "value_after": [c["value_after"] for c in chosen],
            "radius_m": distance,
        },
        geometry=[c["site"].geometry for c in chosen],
        crs=reader.crs,
    )
    return part


SITES = say("处充电站", "sites")
"""The unit of new charging sites."""


def _sites_action(count: int) -> Bilingual:
    """The action of a zone row of new sites: '新建公共充电站 3 处' / 'build 3 public charging sites'."""
    return action(f"新建公共充电站 {count:,} 处", f"build {count:,} public charging sites")


def _coverage_why(value: float, target: float, sites: int, limit: int | None) -> Bilingual:
    """Why a county stays below the coverage sought after its new sites (empty when it does not)."""
    if meets(value, target, ">=") is not False:
        return same("")
    if limit is not None and sites >= limit:
        reason = say(f"proposal.max_sites 限定每县至多{limit}处", f"proposal.max_sites allows {limit} per county")
    else:
        reason = say("其他候选站点均不再新增覆盖人口", "no other candidate site adds anyone")
    return cat(
        say(f"；这{sites}处站点使覆盖率达到{value:.1%}，未达{target:.0%}：", f"; the {sites} sites reach {value:.1%} of the {target:.0%} sought: "),
        reason, say("；其余需在候选图层以外选址", "; the rest needs sites outside the candidate layers"),
    )


def _coverage_city_detail(item: IndicatorResult, settings: CoverageSettings) -> Bilingual:
    """Why the city row of new sites is the county proposals together."""
    if zone_targets(item):
        return together(item_level(item))
    share = "" if settings.coverage_target is None else f" {settings.coverage_target:.0%}"
    return say(f"各县建议之和：proposal.coverage_target{share}是逐县适用的规划设定（规划未设县级数值）",
               f"the county proposals together: proposal.coverage_target{share} is a planning setting applied in each county "
               "(the plan sets no county number)")


COVERAGE_SITES = Kind(CoverageSettings, propose_coverage_sites, ("coverage",))


# --- parking-space share: spaces to equip, lots lowest share first --------------------------


class ParkingSettings(KindSettings):
    """``kind: parking_spaces``: the charger spaces to add per zone and the lots to add them in."""

    kind: Literal["parking_spaces"]
    rule: Literal["lowest_share_first", "largest_first"] = Field(
        "lowest_share_first",
        description="lowest_share_first: lots with the lowest share first (ties: most spaces); largest_first: most spaces first",
    )

    def problems(self, project: ProjectConfig, spec: Spec) -> Iterator[Problem]:
        """Lots with a location."""
        problem = layer_problem(project, spec.inputs["features"], "vector")
        if problem:
            yield ("kind",), f"kind 'parking_spaces' places spaces in lots: {problem}"


def propose_parking_spaces(ctx: Context, item: IndicatorResult, settings: ParkingSettings) -> Part:
    """The charger spaces to add per zone and the lots to add them in.

    Rule (``proposal.rule``, default lowest_share_first): lots below the target share are
    brought up to it, the lot with the lowest share first (ties: the one with most spaces); the
    last lot gets only the spaces still missing. Should that not be enough (rounding), the
    remaining spaces go to the lots with most free spaces.
    """
    spec, reader, part = item.spec, ctx.reader, Part()
    params = RatioParams.model_validate(spec.parameters)
    layer = spec.inputs["features"]
    frame = ratio_features(reader, layer, params, Blanks(reader, spec, say=False))  # the lots the indicator counts
    frame["county_id"] = county_of(ctx.zones, frame.geometry).values
    frame["add"] = 0.0
    level = item_level(item)
    targets = [z for _, z in zone_rows(item, level).iterrows()]
    city = city_row(item)
    picks: list[tuple[pd.Series, Any, float, float]] = []  # zone, lot index, spaces, value after

    def fill(zone: pd.Series, lots: pd.DataFrame) -> list[tuple[Any, float]]:
        need = math.ceil(round(float(zone["target"]) * float(zone["denominator"]) - float(zone["numerator"]) - frame.loc[lots.index, "add"].sum(), 9))
        current = lots["numerator"] + frame.loc[lots.index, "add"]
        if settings.rule == "lowest_share_first":
            share = ratios(current, lots["denominator"])
            keys = pd.DataFrame({"share": share.fillna(np.inf), "spaces": -lots["denominator"], "id": lots["id"]}, index=lots.index)
            order = keys.sort_values(["share", "spaces", "id"]).index
        else:
            order = lots.assign(_s=-lots["denominator"]).sort_values(["_s", "id"]).index
        to_target = np.ceil((float(zone["target"]) * lots["denominator"] - current).round(9)).clip(lower=0)
        taken = allocate(((i, float(to_target[i])) for i in order), need)
        need -= sum(t for _, t in taken)
        if need > 0:  # rounding left some over: the lots with most free spaces
            free = (lots["denominator"] - current - pd.Series(dict(taken)).reindex(lots.index, fill_value=0)).clip(lower=0)
            taken += allocate(((i, float(free[i])) for i in free.sort_values(ascending=False).index), need)
        return taken

    def equip(zone: pd.Series, lots: pd.DataFrame, running: float) -> None:
        for index, spaces in fill(zone, lots):
            frame.loc[index, "add"] += spaces
            running += spaces
            picks.append((zone, index, spaces, ratio_value(running, float(zone["denominator"]))))

    for zone in targets:
        equip(zone, in_zone(frame, zone, ctx.zones), float(zone["numerator"]))
    if level != "city" and city is not None and city["status"] in ("gap", "met") and not is_missing(city["target"]):
        added = frame["add"].sum()
        if float(city["numerator"]) + added < float(city["target"]) * float(city["denominator"]) - 1e-9:
            equip(city, frame, float(city["numerator"]) + added)  # zone targets met; the city still short (lots outside every county)
    if not picks:
        return part
    if settings.rule == "lowest_share_first":
        rule_text = say("低于目标比例的停车场补足至目标比例，比例最低者优先（比例相同时车位多者优先）",
                        "lots below the target share brought up to it, lowest share first (ties: most spaces)")
    else:
        rule_text = say("车位最多的停车场优先", "largest lots first")
    verb = action("为停车位配建充电设施", "equip parking spaces with chargers")
    order: list[pd.Series] = []
    for zone, *_ in picks:
        if not any(z is zone for z in order):
            order.append(zone)
    if level != "city" and city is not None and not is_missing(city["target"]) and not any(z is city for z in order):
        order.insert(0, city)
    rank_of: dict[Any, int] = {}
    for zone in order:
        mine = [p for p in picks if p[0] is zone]
        spaces = float(frame["add"].sum()) if zone["zone_type"] == "city" else float(sum(p[2] for p in mine))
        value = ratio_value(float(zone["numerator"]) + spaces, float(zone["denominator"]))
        detail = rule_text if mine else together(level)
        part.rows.append(row(item, zone, counted(verb, f"{spaces:,.0f}"), spaces, SPACES, value,
                             detail=cat(detail, _parking_why(zone, spaces, value, level))))
        for rank, (_, index, count, after) in enumerate(mine, start=1):
            rank_of.setdefault(index, rank)
            lot = frame.loc[index]
            had, of, now = lot["numerator"], lot["denominator"], lot["numerator"] + frame.loc[index, "add"]
            part.rows.append(item_row(
                item, zone, verb, count, SPACES, after, rank=rank, item_layer=layer, item_id=str(lot["id"]),
                item_name=str(lot.get("name", lot["id"])),
                detail=say(f"停车场{of:,.0f}个车位中已配建{had:,.0f}个 → {now:,.0f}个", f"lot {had:,.0f} of {of:,.0f} spaces → {now:,.0f}"),
            ))
    equipped = frame[frame["add"] > 0]
    part.layers[proposals_layer_name(spec.id)] = gpd.GeoDataFrame(
        {
            "id": equipped["id"].astype(str).values,
            "indicator": spec.id,
            "county_id": equipped["county_id"].values,
            "rank": [rank_of[i] for i in equipped.index],
            "name": equipped["name"].astype(str).values if "name" in equipped else equipped["id"].astype(str).values,
            "spaces": equipped["denominator"].values,
            "charger_spaces": equipped["numerator"].values,
            "spaces_to_equip": equipped["add"].values,
            "share_after": ratios(equipped["numerator"] + equipped["add"], equipped["denominator"]).values,
        },
        geometry=equipped.geometry.values,
        crs=reader.crs,
    )
    return part


SPACES = say("个车位", "spaces")
"""The unit of parking spaces to equip."""


def _parking_why(zone: pd.Series, spaces: float, value: float, level: str) -> Bilingual:
    """Why the spaces to equip differ from the zone's shortfall (empty when they do not)."""
    short = shortfall_of(zone)
    if short is None:
        return same("")
    if meets(value, zone["target"], zone["comparator"]) is False:
        rest = max(short - spaces, 0)
        return say(f"；停车场的空余车位仅能补足缺口{short:,.0f}个车位中的{spaces:,.0f}个：其余{rest:,.0f}个需新建或扩建停车场",
                   f"; the lots' free spaces close only {spaces:,.0f} of a shortfall of {short:,.0f} spaces: "
                   f"{rest:,.0f} more need new or larger lots")
    if spaces > short + 0.5:
        return need_them_all(say(f"{spaces:,.0f}个车位", f"{spaces:,.0f} spaces"), say(f"{short:,.0f}个车位", f"{short:,.0f}"), level)
    return same("")


PARKING_SPACES = Kind(ParkingSettings, propose_parking_spaces, ("ratio",))


# --- expressway service areas: equip each, nearest fast charger ----------------------------


class FastSettings(KindSettings):
    """``kind: fast_charging``: every service area without fast charging, with the nearest fast charger."""

    kind: Literal["fast_charging"]
    stations: str | None = Field(description="vector layer of existing charging stations; null: the nearest is not looked up")
    stations_where: Condition | None = Field(None, description="the stations with fast chargers; null: every station")

    def problems(self, project: ProjectConfig, spec: Spec) -> Iterator[Problem]:
        """A vector layer of stations; a condition on its known fields."""
        if self.stations is None:
            if self.stations_where is not None:
                yield ("stations_where",), "a condition on stations needs 'stations', the layer"
            return
        problem = layer_problem(project, self.stations, "vector")
        if problem:
            yield ("stations",), problem
            return
        problem = reference_problem(project, self.stations, self.stations_where)
        if problem:
            yield ("stations_where",), problem


def propose_fast_charging(ctx: Context, item: IndicatorResult, settings: FastSettings) -> Part:
    """Every service area without fast charging, with the nearest existing fast charger (km)."""
    spec, reader, part = item.spec, ctx.reader, Part()
    gaps = item.gaps
    if gaps is None or gaps.empty:
        return part
    gaps = gaps.copy()
    gaps["county_id"] = county_of(ctx.zones, gaps.geometry).values
    stations_layer = settings.stations
    if stations_layer is not None and stations_layer not in reader.catalog.layers:
        part.notes.append(absent_note(stations_layer, "the nearest fast charger is not looked up"))
        stations_layer = None
    if stations_layer is not None:
        blanks = Blanks(reader, spec, say=False, missing="skip")  # a station with a blank is left out, and said
        stations = read_features(reader, stations_layer, settings.stations_where, blanks)
        part.notes += [f"stations: {note}" for note in blanks.notes]
    else:
        stations = gpd.GeoDataFrame({"id": []}, geometry=[], crs=reader.crs)
    gaps = gaps.join(nearest(gaps, stations, "station"))
    gaps["distance_km"] = gaps["distance_m"] / 1000
    gaps = gaps.sort_values(["county_id", "id"], na_position="last")

    def detail(feature: pd.Series) -> Bilingual:
        if settings.stations is None:
            return say("未查找最近的快充站（未设 proposal.stations）", "nearest fast charger not looked up (no proposal.stations)")
        if stations_layer is None:
            return say(f"未查找最近的快充站（无图层 `{settings.stations}`）", f"nearest fast charger not looked up (no layer '{settings.stations}')")
        if is_missing(feature["distance_km"]):
            return say("未找到现有快充站", "no existing fast charger found")
        name, station, km = feature["station_name"], feature["station_id"], feature["distance_km"]
        return say(f"最近的快充站：{name}（{station}），{km:.1f} km", f"nearest fast charger: {name} ({station}), {km:.1f} km")

    layer = spec.inputs["features"]
    part.rows = count_items(item, gaps, action("服务区建设快速充电设施", "install fast chargers at the service area"), say("个服务区", "service areas"),
                            1.0, detail, layer,
                            rule=say("所有尚无快充设施的服务区，并列出最近的现有快充站",
                                     "every service area without fast charging, with the nearest existing fast charger"),
                            zones=ctx.zones)
    columns = ["id", "indicator", "county_id", *[c for c in ("name", "expressway") if c in gaps], "station_id", "station_name", "distance_km"]
    part.layers[proposals_layer_name(spec.id)] = point_layer(gaps.assign(indicator=spec.id), columns, reader.crs)
    return part


FAST_CHARGING = Kind(FastSettings, propose_fast_charging, ("ratio",))
