"""Proposals: for every gap a run can act on, what would close it and the indicator's value after.

One small function per kind of indicator, each reading only the run's results and the
project's layers, each skipped (logged, with a note) when an input it needs is missing:

- ``coverage_sites`` (charging.coverage): the fewest new public charging sites, chosen
  greedily from candidate sites by the people they newly cover, until each county reaches its
  coverage target (the spec's ``proposal.coverage_target``);
- ``parking_spaces`` (charging.parking_share): the spaces to equip and the lots to equip them
  in, lots with the lowest share first;
- ``fast_charging`` (charging.highway_fast): the service areas to equip, with the nearest
  existing fast charger;
- ``coal_boilers`` (heating.coal_in_network): the coal boilers inside network coverage to
  convert, largest first, the urban clean-heating share after converting them, and the boilers
  outside coverage with their distance to the network;
- ``permeable_blocks`` (permeable.share): blocks of a grid over the built-up areas with the
  most impervious ground, chosen largest first until the shortfall is covered;
- ``sewer_extensions`` (sewage.blank_areas): a sewer from each blank area to the nearest
  connected sewer line, its length and the people it would serve;
- ``project_totals`` (projects.*): the projects not yet completed and whether completing them
  meets the target.

A spec picks its kind with ``proposal: {kind: ...}``; without one the kind follows the
indicator id (:data:`DEFAULT_KINDS`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field

from gis.project._yaml import line_of, load_yaml, validate
from gis.methods.conditions import evaluate
from gis.methods.coverage import CoverageParams, base_pieces
from gis.engines.result import IndicatorResult, RunResult
from gis.errors import ConfigError, DataError, GisError
from gis.methods.attributes import RatioParams, TotalParams, WithinParams, combined, read_features
from gis.project.config import ProjectConfig
from gis.project.layers import LayerReader
from gis.methods.raster import RasterShareParams, class_areas, zonal_sums
from gis.project.specs import Condition, Spec
from gis.methods.targets import EPSILON
from gis.methods.zones import Zones, sums_per_level

log = logging.getLogger("gis")

PROPOSAL_COLUMNS = [
    "indicator", "zone_type", "zone_id", "zone_name", "action", "quantity", "unit", "value_after", "meets_target",
    "row_type", "rank", "item_layer", "item_id", "item_name", "adds", "adds_unit", "value_before", "target",
    "comparator", "detail",
]
"""Columns of ``proposals.csv``: the first nine are fixed; ``row_type`` is ``zone`` (the proposal
for a zone, summed) or ``item`` (one site, lot, boiler, block, sewer or project of it)."""

PROPOSAL_FIELDS = {
    "indicator": "indicator id whose gap the proposal closes",
    "zone_type": "city or county the proposal is for",
    "zone_id": "zone code",
    "zone_name": "zone name",
    "action": "what to do (Chinese and English)",
    "quantity": "how much of it, in unit",
    "unit": "unit of quantity",
    "value_after": "the indicator's value for the zone after the proposal (items: after this item and those ranked before it)",
    "meets_target": "whether value_after meets the zone's target (empty: no target)",
    "row_type": "zone (the proposal for a zone) or item (one site, lot, boiler, block, sewer or project)",
    "rank": "order in which the items are proposed within the zone (1 first)",
    "item_layer": "layer the item comes from",
    "item_id": "id of the item in its layer (or of the block or blank area)",
    "item_name": "name of the item",
    "adds": "what the item adds besides quantity (people newly covered or served, m2 converted)",
    "adds_unit": "unit of adds",
    "value_before": "the indicator's value for the zone before the proposal",
    "target": "the zone's threshold (for charging.coverage the proposal's coverage_target)",
    "comparator": "how value_after is compared with target",
    "detail": "the rule used and what the item is near (nearest fast charger, network, sewer)",
}
"""Meaning of every column of ``proposals.csv``."""

DEFAULT_KINDS = {
    "charging.coverage": "coverage_sites",
    "charging.parking_share": "parking_spaces",
    "charging.highway_fast": "fast_charging",
    "heating.coal_in_network": "coal_boilers",
    "permeable.share": "permeable_blocks",
    "sewage.blank_areas": "sewer_extensions",
}
"""Proposal kind by indicator id; ids starting ``projects.`` are ``project_totals``."""


def proposals_layer_name(indicator: str) -> str:
    """The GeoPackage layer of an indicator's proposal features."""
    return f"{indicator}.proposals"


@dataclass
class Proposals:
    """The proposals of a run: the rows of ``proposals.csv`` and the layers by name (metric CRS)."""

    table: pd.DataFrame
    layers: dict[str, gpd.GeoDataFrame]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Part:
    rows: list[dict[str, Any]] = field(default_factory=list)
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Context:
    result: RunResult
    by_id: dict[str, IndicatorResult]

    @property
    def project(self) -> LayerReader:
        return self.result.layers

    @property
    def zones(self) -> Zones:
        return self.result.zones


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str | None = None


# --- public API ------------------------------------------------------------------------------


def propose(result: RunResult) -> Proposals:
    """For every gap of ``result`` a proposal can act on: what would close it and the value after.

    Indicators whose kind has no proposal are passed over; a proposal whose inputs are missing
    (a layer not in the catalog, no candidates) is skipped with a note and a log line.
    """
    ctx = _Context(result, {r.spec.id: r for r in result.results})
    rows: list[dict[str, Any]] = []
    layers: dict[str, gpd.GeoDataFrame] = {}
    notes: list[str] = []
    for item in result.results:
        try:
            kind = proposal_kind(item.spec)
            if kind is None:
                continue
            part = PROPOSERS[kind](ctx, item)
        except (GisError, OSError) as exc:
            text = f"{item.spec.id}: proposal skipped ({exc})"
            log.warning("proposals: %s", text)
            notes.append(text)
            continue
        for note in part.notes:
            log.info("proposals: %s: %s", item.spec.id, note)
        notes += [f"{item.spec.id}: {note}" for note in part.notes]
        rows += part.rows
        layers.update({name: frame for name, frame in part.layers.items() if not frame.empty})
    table = pd.DataFrame(rows, columns=PROPOSAL_COLUMNS)
    if not table.empty:
        table["meets_target"] = table["meets_target"].astype("boolean")
        table["rank"] = table["rank"].astype("Int64")
    return Proposals(table=table, layers=layers, notes=notes)


def proposal_kind(spec: Spec) -> str | None:
    """The proposal kind of a spec: ``proposal.kind``, else by its id; None when it has none."""
    kind = (spec.proposal or {}).get("kind")
    if kind is None:
        kind = DEFAULT_KINDS.get(spec.id) or ("project_totals" if spec.id.startswith("projects.") else None)
    if kind is not None and kind not in PROPOSERS:
        msg = f"spec '{spec.id}': key 'proposal.kind': unknown kind '{kind}' (kinds: {', '.join(sorted(PROPOSERS))})"
        raise DataError(msg)
    return kind


def proposal_frames(proposals: Proposals, run_id: str | None = None) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """The proposal layers as the GeoPackage stores them: with ``feature_id`` and ``run_id``, and a description."""
    frames = {}
    for name, frame in proposals.layers.items():
        frame = frame.copy()
        indicator = name.removesuffix(".proposals")
        frame.insert(0, "feature_id", [f"{indicator}:proposal:{i}" for i in frame["id"].astype(str)])
        frame.insert(1, "run_id", run_id)
        frames[name] = (frame, f"Proposal for {indicator}: what would close its gap")
    return frames


def write_proposals(proposals: Proposals, out_dir: Path, *, crs: str, run_id: str | None = None) -> list[str]:
    """Write ``proposals.csv`` into ``out_dir`` and add the layers to its ``planning.gpkg`` (in ``crs``).

    ``gis run`` writes the layers with the rest of the GeoPackage (styled and documented); this
    adds them to an existing run folder.  Returns the layer names written.
    """
    import pyogrio

    out_dir = Path(out_dir)
    proposals.table.to_csv(out_dir / "proposals.csv", index=False, encoding="utf-8")
    for name, (frame, description) in proposal_frames(proposals, run_id).items():
        pyogrio.write_dataframe(
            frame.to_crs(crs), out_dir / "planning.gpkg", layer=name, driver="GPKG", promote_to_multi=True,
            layer_options={"DESCRIPTION": description, "GEOMETRY_NAME": "geom", "OVERWRITE": "YES"},
        )
    return list(proposals.layers)


# --- shared helpers --------------------------------------------------------------------------


def _settings(model: type[_Settings], spec: Spec, project: LayerReader) -> _Settings:
    """The spec's ``proposal`` block validated against ``model``; errors name the file and key."""
    return _settings_at(model, spec, project.project.spec_path(spec.id))


def _settings_at(model: type[_Settings], spec: Spec, path: Path) -> _Settings:
    """The ``proposal`` block of the spec in ``path`` validated against ``model``; errors name the file, line and key."""
    node = load_yaml(path)[1] if path.exists() else None
    return validate(model, spec.proposal or {}, path, node, at=("proposal",))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value)) or value is pd.NA


def _meets(value: Any, target: Any, comparator: Any) -> bool | None:
    if _missing(value) or _missing(target) or _missing(comparator):
        return None
    value, target = float(value), float(target)
    if comparator == ">=":
        return value >= target - EPSILON
    if comparator == "<=":
        return value <= target + EPSILON
    return abs(value - target) <= EPSILON


def _row(item: IndicatorResult, zone: pd.Series, action: str, quantity: float, unit: str, value_after: Any, **extra: Any) -> dict[str, Any]:
    """One row of the table for the zone ``zone`` (a row of the indicator's own table)."""
    target, comparator = extra.pop("target", zone.get("target")), extra.pop("comparator", zone.get("comparator"))
    row = {
        "indicator": item.spec.id,
        "zone_type": str(zone["zone_type"]),
        "zone_id": str(zone["zone_id"]),
        "zone_name": str(zone["zone_name"]),
        "action": action,
        "quantity": quantity,
        "unit": unit,
        "value_after": value_after,
        "meets_target": _meets(value_after, target, comparator),
        "row_type": "zone",
        "value_before": zone.get("value"),
        "target": target,
        "comparator": comparator,
    }
    row.update(extra)
    return row


def _item_row(item: IndicatorResult, zone: pd.Series, action: str, quantity: float, unit: str, value_after: Any, **extra: Any) -> dict[str, Any]:
    return _row(item, zone, action, quantity, unit, value_after, row_type="item", **extra)


def _county_of(zones: Zones, geometries: gpd.GeoSeries) -> pd.Series:
    """The county id of each geometry (of its representative point); None outside every county."""
    counties = zones.level("county")
    points = gpd.GeoDataFrame(geometry=geometries.representative_point().values, index=geometries.index, crs=counties.crs)
    joined = gpd.sjoin(points, counties[["zone_id", "geometry"]], how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["zone_id"].reindex(geometries.index).astype(object).where(joined["zone_id"].notna(), None)


def _zone_rows(item: IndicatorResult, level: str, status: str | None = "gap") -> pd.DataFrame:
    rows = item.rows[item.rows["zone_type"] == level]
    return rows if status is None else rows[rows["status"] == status]


def _item_level(item: IndicatorResult) -> str:
    """Items are listed under counties when counties have targets, else under the city."""
    return "county" if (item.rows["zone_type"] == "county").any() and item.spec.target is not None and "county" in item.spec.target.zone_types else "city"


def _city_row(item: IndicatorResult) -> pd.Series | None:
    city = item.rows[item.rows["zone_type"] == "city"]
    return None if city.empty else city.iloc[0]


def _point_layer(frame: gpd.GeoDataFrame, columns: list[str], crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame[columns].reset_index(drop=True), geometry=frame.geometry.values, crs=crs)


def _share_after(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


# --- charging coverage: new sites by greedy maximal covering -------------------------------


class _CoverageSettings(_Settings):
    coverage_target: float | None = Field(None, gt=0, le=1, description="share of people within distance_m to reach")
    candidates: list[str] = Field(default_factory=lambda: ["parking_lots", "service_areas", "charging_hubs"])
    candidates_where: dict[str, Condition] = Field(default_factory=dict)
    max_sites: int | None = Field(None, ge=1, description="at most this many new sites per county")


def _candidates(ctx: _Context, settings: _CoverageSettings, part: _Part) -> gpd.GeoDataFrame:
    """Candidate sites of every candidate layer present, as points with their county."""
    project = ctx.project
    frames = []
    for layer in settings.candidates:
        if layer not in project.catalog.layers or project.entry(layer).kind != "vector":
            part.notes.append(f"candidate layer '{layer}' is not a vector layer of the catalog; left out")
            continue
        frame = read_features(project, layer, settings.candidates_where.get(layer))
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
            crs=project.crs,
        ))
    unknown = set(settings.candidates_where) - set(settings.candidates)
    if unknown:
        part.notes.append(f"candidates_where names layers that are not candidates: {', '.join(sorted(unknown))}")
    if not frames:
        return gpd.GeoDataFrame({"id": [], "source_layer": [], "source_id": [], "name": [], "county_id": []}, geometry=[], crs=project.crs)
    candidates = pd.concat(frames, ignore_index=True)
    candidates = candidates.drop_duplicates("id").sort_values("id", ignore_index=True)
    candidates["county_id"] = _county_of(ctx.zones, candidates.geometry).values
    return gpd.GeoDataFrame(candidates, geometry="geometry", crs=project.crs)


def greedy_cover(
    clips: np.ndarray,
    buffers: np.ndarray,
    covered: list[shapely.Geometry],
    amount: Callable[[np.ndarray], np.ndarray],
    need: float,
    *,
    limit: int | None = None,
) -> list[tuple[int, float]]:
    """Greedy maximal covering: pick the candidate that newly covers the most, until ``need`` is covered.

    ``clips`` are the candidates' service areas cut to the zone, ``buffers`` the whole service
    areas (they cover neighbours too), ``covered`` the service areas already there. The newly
    covered amount of a candidate is ``amount`` of its clip minus everything covered: exact
    (difference geometries), computed for all candidates once, then after each pick only for
    the candidates whose clip meets the picked service area, in one ``amount`` call.
    Returns (candidate index, amount it newly covers) in the order picked.
    """
    count = len(clips)
    tree = shapely.STRtree(covered) if covered else None
    picked_buffers: list[shapely.Geometry] = []
    gains = np.zeros(count)

    def refresh(indices: np.ndarray) -> None:
        parts = []
        for i in indices:
            near = [covered[j] for j in tree.query(clips[i], predicate="intersects")] if tree is not None else []
            near += [b for b in picked_buffers if b.intersects(clips[i])]
            parts.append(shapely.difference(clips[i], shapely.union_all(near)) if near else clips[i])
        geoms = np.array(parts, dtype=object)
        keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)
        values = np.zeros(len(indices))
        if keep.any():
            values[keep] = amount(geoms[keep])
        gains[indices] = values

    if count:
        refresh(np.arange(count))
    available = np.ones(count, dtype=bool)
    picks: list[tuple[int, float]] = []
    got = 0.0
    while got < need - 1e-9 and available.any() and (limit is None or len(picks) < limit):
        best = int(np.argmax(np.where(available, gains, -np.inf)))
        if gains[best] <= 1e-9:
            break
        picks.append((best, float(gains[best])))
        got += gains[best]
        available[best] = False
        picked_buffers.append(buffers[best])
        touched = np.flatnonzero(available & shapely.intersects(clips, buffers[best]))
        if touched.size:
            refresh(touched)
    return picks


def _amount(project: LayerReader, spec: Spec, polygons: gpd.GeoDataFrame) -> pd.Series:
    """People (raster base) or km2 (polygon base) inside each polygon."""
    base = spec.inputs["base"]
    if project.entry(base).kind == "raster":
        return pd.Series(zonal_sums(project.layer_path(base), base, polygons), index=polygons.index)
    return polygons.geometry.area * 1e-6


def _uncovered_by_zone(project: LayerReader, spec: Spec, params: CoverageParams, zones: gpd.GeoDataFrame, covered: shapely.Geometry) -> pd.Series:
    """Base left uncovered per zone, by the indicator's own rule (pieces under min_gap_area_m2 count as covered)."""
    pieces = base_pieces(project, spec, params, zones)
    holes = gpd.GeoDataFrame(pieces[["zone_id"]], geometry=pieces.geometry.difference(covered), crs=project.crs).explode(ignore_index=True)
    holes = holes.loc[~holes.geometry.is_empty & (holes.geometry.area >= max(params.min_gap_area_m2, 1e-6))]
    amounts = _amount(project, spec, holes) if not holes.empty else pd.Series(dtype=float)
    return amounts.groupby(holes["zone_id"]).sum().reindex(zones["zone_id"], fill_value=0.0)


def propose_coverage_sites(ctx: _Context, item: IndicatorResult) -> _Part:
    """The fewest new public charging sites that bring each county to the coverage target.

    Rule: within each county below its target, candidate sites of that county are picked one
    at a time, each time the one that newly covers the most people (population inside its
    service radius and the county, minus what stations and earlier picks already cover) until
    the county reaches its target or no candidate adds anyone. Sites picked for one county
    count as covered for the next. ``value_after`` of a zone row is what the indicator would
    measure with the new sites (its own rule, every county's sites).
    """
    spec, project, part = item.spec, ctx.project, _Part()
    settings = _settings(_CoverageSettings, spec, project)
    params = CoverageParams.model_validate(spec.parameters)
    if params.value != "covered_share":
        part.notes.append("the indicator is not a covered share; no sites proposed")
        return part
    raster = project.entry(spec.inputs["base"]).kind == "raster"

    def amount(geoms: np.ndarray) -> np.ndarray:
        return _amount(project, spec, gpd.GeoDataFrame(geometry=list(geoms), crs=project.crs)).to_numpy(dtype=float)

    def threshold(zone: pd.Series) -> float | None:
        if not _missing(zone.get("target")):
            return float(zone["target"])
        return settings.coverage_target

    counties = _zone_rows(item, "county", status=None)
    if settings.coverage_target is None and item.rows["target"].isna().all():
        part.notes.append("no target and no proposal.coverage_target; no sites proposed")
        return part
    below = [z for _, z in counties.iterrows() if threshold(z) is not None and not _missing(z["value"]) and z["value"] < threshold(z) - EPSILON]
    if not below:
        return part
    candidates = _candidates(ctx, settings, part)
    if candidates.empty:
        part.notes.append("no candidate sites; no sites proposed")
        return part
    distance = params.distance_m
    stations = read_features(project, spec.inputs["facilities"], params.facilities_where)
    covered = list(shapely.buffer(stations.geometry.values, distance, quad_segs=16))
    level = ctx.zones.level("county").set_index("zone_id")
    chosen: list[dict[str, Any]] = []
    for zone in below:
        zone_id = str(zone["zone_id"])
        pool = candidates[candidates["county_id"] == zone_id]
        if pool.empty:
            part.notes.append(f"county {zone_id}: no candidate site inside it")
            continue
        pieces = base_pieces(project, spec, params, level.loc[[zone_id]].reset_index())
        universe = shapely.union_all(pieces.geometry.values)
        buffers = pool.geometry.buffer(distance).values
        clips = shapely.intersection(buffers, universe)
        need = threshold(zone) * float(zone["denominator"]) - float(zone["numerator"])
        picks = greedy_cover(np.asarray(clips, dtype=object), np.asarray(buffers, dtype=object), covered, amount, need, limit=settings.max_sites)
        got = float(zone["numerator"])
        for rank, (index, gain) in enumerate(picks, start=1):
            got += gain
            site = pool.iloc[index]
            chosen.append({
                "zone": zone, "rank": rank, "site": site, "people_added": gain,
                "value_after": _share_after(got, float(zone["denominator"])),
            })
            covered.append(buffers[index])
    if not chosen:
        return part
    after_covered = shapely.union_all(covered)
    county_zones = ctx.zones.level("county")
    uncovered = _uncovered_by_zone(project, spec, params, county_zones, after_covered)
    totals = counties.set_index("zone_id")["denominator"].astype(float)
    action_site = "新建公共充电站 build a public charging site"
    unit_people = "people 人" if raster else "km2"
    for zone in below:
        zone_id = str(zone["zone_id"])
        mine = [c for c in chosen if c["zone"] is zone]
        value = _share_after(totals[zone_id] - uncovered[zone_id], totals[zone_id])
        part.rows.append(_row(
            item, zone, f"新建公共充电站 {len(mine)} 处 build {len(mine)} public charging sites", len(mine), "sites", value,
            target=threshold(zone), comparator=">=", adds=sum(c["people_added"] for c in mine), adds_unit=unit_people,
            detail=f"greedy by people newly covered within {distance:g} m; candidates: {', '.join(settings.candidates)}",
        ))
        for c in mine:
            site = c["site"]
            part.rows.append(_item_row(
                item, zone, action_site, 1, "sites", c["value_after"], target=threshold(zone), comparator=">=",
                rank=c["rank"], item_layer=site["source_layer"], item_id=site["source_id"], item_name=site["name"],
                adds=c["people_added"], adds_unit=unit_people, detail=f"newly covers {c['people_added']:,.0f} within {distance:g} m",
            ))
    city = _city_row(item)
    if city is not None and threshold(city) is not None:
        total = float(totals.sum())
        value = _share_after(total - float(uncovered.sum()), total)
        part.rows.insert(0, _row(
            item, city, f"新建公共充电站 {len(chosen)} 处 build {len(chosen)} public charging sites", len(chosen), "sites", value,
            target=threshold(city), comparator=">=", adds=sum(c["people_added"] for c in chosen), adds_unit=unit_people,
            detail="sum of the county proposals",
        ))
    sites = gpd.GeoDataFrame(
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
        crs=project.crs,
    )
    part.layers[proposals_layer_name(spec.id)] = sites
    return part


# --- parking-space share: spaces to equip, lots lowest share first --------------------------


class _ParkingSettings(_Settings):
    rule: Literal["lowest_share_first", "largest_first"] = Field(
        "lowest_share_first",
        description="lowest_share_first: lots with the lowest share first (ties: most spaces); largest_first: most spaces first",
    )


def _allocate(order: Iterable[tuple[Any, float]], need: float) -> list[tuple[Any, float]]:
    """Take from each (key, room) in order until ``need`` is met; the last takes only what is still missing."""
    taken = []
    for key, room in order:
        if need <= 1e-9:
            break
        take = min(room, need)
        if take > 1e-9:
            taken.append((key, take))
            need -= take
    return taken


def propose_parking_spaces(ctx: _Context, item: IndicatorResult) -> _Part:
    """The charger spaces to add per zone and the lots to add them in.

    Rule (``proposal.rule``, default lowest_share_first): lots below the target share are
    brought up to it, the lot with the lowest share first (ties: the one with most spaces); the
    last lot gets only the spaces still missing. Should that not be enough (rounding), the
    remaining spaces go to the lots with most free spaces.
    """
    spec, project, part = item.spec, ctx.project, _Part()
    settings = _settings(_ParkingSettings, spec, project)
    params = RatioParams.model_validate(spec.parameters)
    layer = spec.inputs["features"]
    if project.entry(layer).kind != "vector":
        part.notes.append(f"layer '{layer}' is a table; lots have no location")
        return part
    frame = read_features(project, layer, params.where)
    frame["num"] = combined(frame, params.numerator, layer)
    if params.numerator_where is not None:
        frame["num"] = frame["num"].where(evaluate(frame, params.numerator_where, layer=layer, project=project), 0.0)
    frame["den"] = combined(frame, params.denominator, layer)
    frame["county_id"] = _county_of(ctx.zones, frame.geometry).values
    frame["add"] = 0.0
    level = _item_level(item)
    targets = [z for _, z in _zone_rows(item, level).iterrows()]
    city = _city_row(item)
    picks: list[tuple[pd.Series, Any, float, float]] = []  # zone, lot index, spaces, value after

    def fill(zone: pd.Series, lots: pd.DataFrame) -> list[tuple[Any, float]]:
        need = math.ceil(round(float(zone["target"]) * float(zone["denominator"]) - float(zone["numerator"]) - frame.loc[lots.index, "add"].sum(), 9))
        current = lots["num"] + frame.loc[lots.index, "add"]
        share = current / lots["den"].where(lots["den"] > 0)
        if settings.rule == "lowest_share_first":
            keys = pd.DataFrame({"share": share.fillna(np.inf), "spaces": -lots["den"], "id": lots["id"]}, index=lots.index)
            order = keys.sort_values(["share", "spaces", "id"]).index
        else:
            order = lots.assign(_s=-lots["den"]).sort_values(["_s", "id"]).index
        to_target = np.ceil((float(zone["target"]) * lots["den"] - current).round(9)).clip(lower=0)
        taken = _allocate(((i, float(to_target[i])) for i in order), need)
        need -= sum(t for _, t in taken)
        if need > 0:  # rounding left some over: the lots with most free spaces
            free = (lots["den"] - current - pd.Series(dict(taken)).reindex(lots.index, fill_value=0)).clip(lower=0)
            taken += _allocate(((i, float(free[i])) for i in free.sort_values(ascending=False).index), need)
        return taken

    for zone in targets:
        lots = frame[frame["county_id"] == str(zone["zone_id"])] if level == "county" else frame
        taken = fill(zone, lots)
        running = float(zone["numerator"])
        for index, spaces in taken:
            frame.loc[index, "add"] += spaces
            running += spaces
            picks.append((zone, index, spaces, _share_after(running, float(zone["denominator"]))))
    if level == "county" and city is not None and city["status"] in ("gap", "met") and not _missing(city["target"]):
        added = frame["add"].sum()
        if float(city["numerator"]) + added < float(city["target"]) * float(city["denominator"]) - 1e-9:
            taken = fill(city, frame)  # county targets met; the city still short (lots outside every county)
            running = float(city["numerator"]) + added
            for index, spaces in taken:
                frame.loc[index, "add"] += spaces
                running += spaces
                picks.append((city, index, spaces, _share_after(running, float(city["denominator"]))))
    if not picks:
        return part
    rule_text = "lots below the target share brought up to it, lowest share first (ties: most spaces)" if settings.rule == "lowest_share_first" else "largest lots first"
    action = "为停车位配建充电设施 equip parking spaces with chargers"
    order: list[pd.Series] = []
    for zone, *_ in picks:
        if not any(z is zone for z in order):
            order.append(zone)
    if level == "county" and city is not None and not _missing(city["target"]) and not any(z is city for z in order):
        order.insert(0, city)
    for zone in order:
        mine = [p for p in picks if p[0] is zone]
        spaces = float(frame["add"].sum()) if zone["zone_type"] == "city" else float(sum(p[2] for p in mine))
        value = _share_after(float(zone["numerator"]) + spaces, float(zone["denominator"]))
        detail = rule_text if mine else "sum of the county proposals"
        part.rows.append(_row(item, zone, f"{action}: {spaces:,.0f}", spaces, "spaces", value, detail=detail))
        for rank, (_, index, count, after) in enumerate(mine, start=1):
            lot = frame.loc[index]
            part.rows.append(_item_row(
                item, zone, action, count, "spaces", after, rank=rank, item_layer=layer, item_id=str(lot["id"]),
                item_name=str(lot.get("name", lot["id"])),
                detail=f"lot {lot['num']:,.0f} of {lot['den']:,.0f} spaces → {lot['num'] + frame.loc[index, 'add']:,.0f}",
            ))
    equipped = frame[frame["add"] > 0]
    rank_of: dict[Any, int] = {}
    for zone in order:
        for rank, (_, index, _, _) in enumerate([p for p in picks if p[0] is zone], start=1):
            rank_of.setdefault(index, rank)
    lots = gpd.GeoDataFrame(
        {
            "id": equipped["id"].astype(str).values,
            "indicator": spec.id,
            "county_id": equipped["county_id"].values,
            "rank": [rank_of[i] for i in equipped.index],
            "name": equipped["name"].astype(str).values if "name" in equipped else equipped["id"].astype(str).values,
            "spaces": equipped["den"].values,
            "charger_spaces": equipped["num"].values,
            "spaces_to_equip": equipped["add"].values,
            "share_after": ((equipped["num"] + equipped["add"]) / equipped["den"].where(equipped["den"] > 0)).values,
        },
        geometry=equipped.geometry.values,
        crs=project.crs,
    )
    part.layers[proposals_layer_name(spec.id)] = lots
    return part


# --- expressway service areas: equip each, nearest fast charger ----------------------------


class _FastSettings(_Settings):
    stations: str = Field("charging_stations", description="layer of existing charging stations")
    stations_where: Condition = Field(
        default_factory=lambda: Condition.model_validate({"field": "fast_ports", "gt": 0}),
        description="the stations with fast chargers",
    )


def _count_items(
    item: IndicatorResult, features: gpd.GeoDataFrame, action: str, unit: str, step: float, detail_of: Callable[[pd.Series], str], layer: str,
    *, rule: str,
) -> list[dict[str, Any]]:
    """Rows for a count or ratio of features fixed one at a time (service areas, boilers).

    ``features`` (with ``county_id``, in the order to fix them) each change the zone's numerator
    by ``step`` (+1: one more equipped, -1: one fewer left); items are listed under counties when
    counties have targets, the city row sums them.
    """
    rows = []
    level = _item_level(item)
    ratio = item.rows["denominator"].notna().any()

    def value_of(zone: pd.Series, changed: float) -> float:
        numerator = float(zone["numerator"]) + step * changed
        return _share_after(numerator, float(zone["denominator"])) if ratio else numerator

    zones = [z for _, z in _zone_rows(item, level).iterrows()]
    city = _city_row(item)
    if level == "county" and city is not None and not _missing(city["target"]):
        zones.insert(0, city)
    for zone in zones:
        mine = features if zone["zone_type"] == "city" else features[features["county_id"] == str(zone["zone_id"])]
        if mine.empty:
            continue
        detail = "sum of the county proposals" if zone["zone_type"] == "city" and level == "county" else rule
        rows.append(_row(item, zone, f"{action}: {len(mine)}", len(mine), unit, value_of(zone, len(mine)), detail=detail))
        if zone["zone_type"] == "city" and level == "county":
            continue
        for rank, (_, feature) in enumerate(mine.iterrows(), start=1):
            rows.append(_item_row(
                item, zone, action, 1, unit, value_of(zone, rank), rank=rank, item_layer=layer,
                item_id=str(feature["id"]), item_name=str(feature.get("name", feature["id"])), detail=detail_of(feature),
            ))
    return rows


def _nearest(features: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, prefix: str) -> pd.DataFrame:
    """Per feature: id and name of the nearest target and the distance in m (NaN without targets)."""
    out = pd.DataFrame({f"{prefix}_id": None, f"{prefix}_name": None, "distance_m": np.nan}, index=features.index)
    if features.empty or targets.empty:
        return out
    right = targets[["id", "geometry"]].assign(name=targets["name"].astype(str) if "name" in targets else targets["id"].astype(str))
    right = right.rename(columns={"id": f"{prefix}_id", "name": f"{prefix}_name"})
    joined = gpd.sjoin_nearest(features[["geometry"]], right, how="left", distance_col="distance_m")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined[[f"{prefix}_id", f"{prefix}_name", "distance_m"]]


def propose_fast_charging(ctx: _Context, item: IndicatorResult) -> _Part:
    """Every service area without fast charging, with the nearest existing fast charger (km)."""
    spec, project, part = item.spec, ctx.project, _Part()
    settings = _settings(_FastSettings, spec, project)
    gaps = item.gaps
    if gaps is None or gaps.empty:
        return part
    gaps = gaps.copy()
    gaps["county_id"] = _county_of(ctx.zones, gaps.geometry).values
    if settings.stations in project.catalog.layers:
        stations = read_features(project, settings.stations, settings.stations_where)
    else:
        part.notes.append(f"layer '{settings.stations}' not in the catalog; nearest fast chargers left out")
        stations = gpd.GeoDataFrame({"id": []}, geometry=[], crs=project.crs)
    nearest = _nearest(gaps, stations, "station")
    gaps = gaps.join(nearest)
    gaps["distance_km"] = gaps["distance_m"] / 1000
    gaps = gaps.sort_values(["county_id", "id"], na_position="last")

    def detail(feature: pd.Series) -> str:
        if _missing(feature["distance_km"]):
            return "no existing fast charger found"
        return f"nearest fast charger: {feature['station_name']} ({feature['station_id']}), {feature['distance_km']:.1f} km"

    layer = spec.inputs["features"]
    part.rows = _count_items(item, gaps, "服务区建设快速充电设施 install fast chargers at the service area", "service areas", 1.0, detail, layer,
                             rule="every service area without fast charging, with the nearest existing fast charger")
    columns = ["id", "indicator", "county_id", *[c for c in ("name", "expressway") if c in gaps], "station_id", "station_name", "distance_km"]
    part.layers[proposals_layer_name(spec.id)] = _point_layer(gaps.assign(indicator=spec.id), columns, project.crs)
    return part


# --- coal boilers inside heating-network coverage --------------------------------------------


class _CoalSettings(_Settings):
    clean_share: str = Field("heating.clean_share", description="indicator of the clean-heating share the conversions raise")


def propose_coal_boilers(ctx: _Context, item: IndicatorResult) -> _Part:
    """The coal boilers inside network coverage to convert, largest first; the clean share after.

    Rule: every boiler inside coverage is listed (the target is none left), by capacity_mw then
    heated_area_m2, largest first. The clean-heating share after counts the floor area the
    converted boilers heat as clean (connected to the network or a clean source). Boilers
    outside coverage are listed apart, with their distance to the network.
    """
    spec, project, part = item.spec, ctx.project, _Part()
    settings = _settings(_CoalSettings, spec, project)
    params = WithinParams.model_validate(spec.parameters)
    layer = spec.inputs["features"]
    boilers = read_features(project, layer, params.where)
    inside_ids = set(item.gaps["id"].astype(str)) if item.gaps is not None else set()
    boilers["in_coverage"] = boilers["id"].astype(str).isin(inside_ids)
    boilers["county_id"] = _county_of(ctx.zones, boilers.geometry).values
    for column in ("capacity_mw", "heated_area_m2"):
        boilers[column] = pd.to_numeric(boilers[column], errors="coerce") if column in boilers else np.nan
    network = read_features(project, spec.inputs["coverage"], params.coverage_where)
    group = params.group_field if params.group_field and params.group_field in network else None
    nearest = _nearest(boilers, network.assign(name=network[group]) if group else network, "network")
    boilers = boilers.join(nearest)
    boilers["distance_km"] = boilers["distance_m"] / 1000
    boilers = boilers.sort_values(["capacity_mw", "heated_area_m2", "id"], ascending=[False, False, True], na_position="last")
    inside = boilers[boilers["in_coverage"]]
    outside = boilers[~boilers["in_coverage"]]

    def detail(feature: pd.Series) -> str:
        return (f"{feature['capacity_mw']:g} MW, {feature['heated_area_m2']:,.0f} m2 heated; "
                f"network {feature['network_name']} at {feature['distance_km']:.2f} km")

    part.rows = _count_items(item, inside, "淘汰燃煤锅炉，改由供热管网或清洁热源供热 convert the coal boiler (network or clean heat)",
                             "boilers", -1.0, detail, layer,
                             rule="every coal boiler inside network coverage, largest first (capacity_mw, then heated_area_m2)")
    counties = ctx.zones.level("county").set_index("zone_id")
    for _, boiler in outside.iterrows():
        county = str(boiler["county_id"]) if boiler["county_id"] else None
        zone = pd.Series({"zone_type": "county", "zone_id": county, "zone_name": counties["zone_name"].get(county, "") if county else "",
                          "value": None, "target": None, "comparator": None})
        distance = "no network" if _missing(boiler["distance_km"]) else f"{boiler['distance_km']:.2f} km to network {boiler['network_name']}"
        part.rows.append(_item_row(
            item, zone, "供热管网覆盖范围外的燃煤锅炉：就地清洁改造或延伸管网 coal boiler outside network coverage: clean on site or extend the network",
            1, "boilers", None, item_layer=layer, item_id=str(boiler["id"]), item_name=str(boiler.get("name", boiler["id"])),
            adds=boiler["heated_area_m2"], adds_unit="m2 heated", detail=f"{boiler['capacity_mw']:g} MW; {distance}",
        ))
    rank = pd.Series(np.nan, index=boilers.index)
    for _, same_county in inside.groupby(inside["county_id"].fillna("")):
        rank[same_county.index] = np.arange(1, len(same_county) + 1)
    layer_frame = boilers.drop(columns=["network_id"]).rename(columns={"network_name": "network_id"})
    layer_frame = layer_frame.assign(indicator=spec.id, rank=rank.astype("Int64"))
    columns = ["id", "indicator", "county_id", "rank", *[c for c in ("name", "capacity_mw", "heated_area_m2") if c in boilers],
               "in_coverage", "network_id", "distance_m", "distance_km"]
    part.layers[proposals_layer_name(spec.id)] = _point_layer(layer_frame, columns, project.crs)
    clean = ctx.by_id.get(settings.clean_share)
    if clean is None:
        part.notes.append(f"indicator '{settings.clean_share}' not in this run; clean-heating share after conversion left out")
    elif not inside.empty:
        part.rows += _clean_after(ctx, clean, inside, layer, part)
    return part


def _clean_after(ctx: _Context, clean: IndicatorResult, converted: pd.DataFrame, layer: str, part: _Part) -> list[dict[str, Any]]:
    """Rows of the clean-heating share per zone once the ``converted`` boilers heat cleanly."""
    spec, project = clean.spec, ctx.project
    params = RatioParams.model_validate(spec.parameters)
    if spec.inputs.get("features") != layer or params.zone_field:
        part.notes.append(f"{spec.id} is not measured on '{layer}' features; its share after conversion left out")
        return []
    frame = read_features(project, layer, params.where)
    frame["numerator"] = combined(frame, params.numerator, layer)
    if params.numerator_where is not None:
        frame["numerator"] = frame["numerator"].where(evaluate(frame, params.numerator_where, layer=layer, project=project), 0.0)
    frame["denominator"] = combined(frame, params.denominator, layer)
    changed = frame[frame["id"].astype(str).isin(set(converted["id"].astype(str)))].copy()
    changed["gain"] = changed["denominator"] - changed["numerator"]
    changed["boilers"] = 1.0
    levels = [lvl for lvl in spec.zone_types if lvl in ("city", "county")]
    gains = sums_per_level(changed, ["gain", "boilers"], ctx.zones, levels).set_index(["zone_type", "zone_id"])
    rows = []
    for _, zone in clean.rows.iterrows():
        key = (zone["zone_type"], zone["zone_id"])
        gain = float(gains["gain"].get(key, 0.0)) if key in gains.index else 0.0
        count = int(gains["boilers"].get(key, 0.0)) if key in gains.index else 0
        if gain <= 0 and zone["status"] != "gap":
            continue
        value = _share_after(float(zone["numerator"]) + gain, float(zone["denominator"]))
        detail = "from heating.coal_in_network: the floor area the boilers heat counts as clean after conversion"
        if _meets(value, zone["target"], zone["comparator"]) is False:
            still = float(zone["target"]) * float(zone["denominator"]) - float(zone["numerator"]) - gain
            detail += f"; {still:,.0f} m2 still to convert by other means (boilers outside coverage, other sources)"
        if count:
            action = f"供热管网覆盖范围内的燃煤锅炉改为清洁供热 {count} 台 convert {count} coal boilers inside network coverage to clean heat"
        else:
            action = "管网覆盖范围内无燃煤锅炉可改 no coal boiler inside network coverage here"
        rows.append(_row(clean, zone, action, gain, "m2 floor area", value, adds=count, adds_unit="boilers", detail=detail))
    return rows


# --- permeable ground: blocks with the most impervious ground -------------------------------


class _PermeableSettings(_Settings):
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


def propose_permeable_blocks(ctx: _Context, item: IndicatorResult) -> _Part:
    """Per zone, the impervious ground to make permeable and the blocks where it lies.

    Rule: a grid of ``proposal.block_m`` (500 m) over each built-up area in the county;
    impervious km2 per block from the land cover (exact cell coverage); blocks with the most
    impervious ground first, the last only for what is still missing. The city row sums them.
    """
    spec, project, part = item.spec, ctx.project, _Part()
    settings = _settings(_PermeableSettings, spec, project)
    params = RasterShareParams.model_validate(spec.parameters)
    raster = spec.inputs["raster"]
    entry = project.entry(raster)
    level = _item_level(item)
    zones = [z for _, z in _zone_rows(item, level).iterrows()]
    if not zones:
        return part
    counties = ctx.zones.level("county")[["zone_id", "geometry"]]
    if level == "county":
        counties = counties[counties["zone_id"].isin([str(z["zone_id"]) for z in zones])]
    mask_layer = spec.inputs.get("mask")
    if mask_layer:
        mask = project.read_vector(mask_layer)[["id", "geometry"]].rename(columns={"id": "mask_id"})
        pieces = gpd.overlay(mask, counties, how="intersection", keep_geom_type=True)
    else:
        pieces = counties.assign(mask_id=counties["zone_id"])
    blocks = _grid_blocks(pieces, settings.block_m)
    if blocks.empty:
        return part
    areas = class_areas(project.layer_path(raster), raster, blocks, entry.classes, params.flag)
    blocks["impervious_m2"] = (areas["denominator"] - areas["numerator"]).clip(lower=0).values
    blocks["own_share"] = (areas["numerator"] / areas["denominator"].where(areas["denominator"] > 0)).values
    blocks = blocks.sort_values(["impervious_m2", "id"], ascending=[False, True])
    chosen = []
    for zone in zones:
        pool = blocks if zone["zone_type"] == "city" else blocks[blocks["county_id"] == str(zone["zone_id"])]
        need = float(zone["target"]) * float(zone["denominator"]) - float(zone["numerator"])
        taken = _allocate(((i, float(pool.loc[i, "impervious_m2"])) for i in pool.index), need)
        running = float(zone["numerator"])
        rows = []
        for rank, (index, area) in enumerate(taken, start=1):
            running += area
            block = blocks.loc[index]
            chosen.append((index, rank, area))
            rows.append(_item_row(
                item, zone, "不透水地面改为透水地面 make impervious ground permeable", area / 1e6, "km2",
                _share_after(running, float(zone["denominator"])), rank=rank, item_layer=f"{settings.block_m:g} m blocks",
                item_id=str(block["id"]), detail=f"block has {block['impervious_m2'] / 1e6:.3f} km2 impervious",
            ))
        total = sum(a for _, a in taken)
        part.rows.append(_row(
            item, zone, f"不透水地面改为透水地面 make {total / 1e6:.3f} km2 of impervious ground permeable", total / 1e6, "km2",
            _share_after(float(zone["numerator"]) + total, float(zone["denominator"])),
            detail=f"{len(taken)} blocks of {settings.block_m:g} m with the most impervious ground first",
        ))
        part.rows += rows
    city = _city_row(item)
    if level == "county" and city is not None and not _missing(city["target"]) and chosen:
        total = sum(a for _, _, a in chosen)
        part.rows.insert(0, _row(
            item, city, f"不透水地面改为透水地面 make {total / 1e6:.3f} km2 of impervious ground permeable", total / 1e6, "km2",
            _share_after(float(city["numerator"]) + total, float(city["denominator"])), detail="sum of the county proposals",
        ))
    if chosen:
        picked = blocks.loc[[i for i, _, _ in chosen]]
        layer = gpd.GeoDataFrame(
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
            crs=project.crs,
        )
        part.layers[proposals_layer_name(spec.id)] = layer
    return part


# --- sewage blank areas: a sewer to the nearest connected line -------------------------------


class _SewerSettings(_Settings):
    population: str | None = Field("population", description="population raster for the people served; null: none")


def propose_sewer_extensions(ctx: _Context, item: IndicatorResult) -> _Part:
    """From each blank area the shortest sewer to the nearest connected sewer line, with the people served.

    The line runs between the nearest points of the blank area and the sewer
    (``shapely.shortest_line``). Blank areas are ranked by the people they hold (most first);
    ``value_after`` assumes each connected area gets a collection network behind the extension,
    so its blank km2 is gone.
    """
    spec, project, part = item.spec, ctx.project, _Part()
    settings = _settings(_SewerSettings, spec, project)
    params = CoverageParams.model_validate(spec.parameters)
    gaps = item.gaps
    if gaps is None or gaps.empty:
        return part
    sewers = read_features(project, spec.inputs["facilities"], params.facilities_where)
    if sewers.empty:
        part.notes.append("no connected sewer line; no extensions proposed")
        return part
    gaps = gaps.copy()
    nearest = _nearest(gaps, sewers.assign(name=sewers["id"]), "sewer")
    gaps = gaps.join(nearest[["sewer_id", "distance_m"]])
    sewer_geoms = sewers.set_index(sewers["id"].astype(str)).geometry
    gaps["line"] = shapely.shortest_line(gaps.geometry.values, sewer_geoms.loc[gaps["sewer_id"].astype(str)].values)
    gaps["length_m"] = shapely.length(gaps["line"].values)
    population = settings.population
    if population and population in project.catalog.layers and project.entry(population).kind == "raster":
        gaps["people"] = zonal_sums(project.layer_path(population), population, gaps[["geometry"]])
    else:
        if population:
            part.notes.append(f"raster '{population}' not in the catalog; people served left out")
        gaps["people"] = np.nan
    area_field = "uncovered_km2" if "uncovered_km2" in gaps else "area_km2"
    gaps = gaps.sort_values(["people", "length_m", "id"], ascending=[False, True, True], na_position="last")
    level = _item_level(item)
    zones = [z for _, z in _zone_rows(item, level).iterrows()]
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
            rows.append(_item_row(
                item, zone, action, float(gap["length_m"]), "m of sewer", after, rank=rank, item_layer=f"{spec.id}.gaps",
                item_id=str(gap["id"]), adds=gap["people"], adds_unit="people served",
                detail=f"blank area {float(gap[area_field]):.3f} km2; to sewer {gap['sewer_id']}",
            ))
        after = rows[-1]["value_after"]
        part.rows.append(_row(
            item, zone, f"{action}: {len(mine)}", float(mine["length_m"].sum()), "m of sewer", after,
            adds=float(mine["people"].sum()) if mine["people"].notna().any() else None, adds_unit="people served",
            detail=f"{len(mine)} extensions; a collection network inside each blank area assumed",
        ))
        part.rows += rows
    city = _city_row(item)
    if level == "county" and city is not None and not _missing(city["target"]) and part.rows:
        part.rows.insert(0, _row(
            item, city, f"{action}: {len(gaps)}", float(gaps["length_m"].sum()), "m of sewer", 0.0,
            adds=float(gaps["people"].sum()) if gaps["people"].notna().any() else None, adds_unit="people served",
            detail="sum of the county proposals",
        ))
    rank = gaps.groupby(gaps["county_id"].astype(str)).cumcount() + 1
    lines = gpd.GeoDataFrame(
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
        crs=project.crs,
    )
    part.layers[proposals_layer_name(spec.id)] = lines
    return part


# --- project totals: the unfinished projects ------------------------------------------------


def propose_project_totals(ctx: _Context, item: IndicatorResult) -> _Part:
    """The tonnes still missing and the projects not yet counted, largest first; whether they are enough.

    The projects "not yet completed" are the features of the layer that fail the spec's
    ``where`` (status completed) and carry tonnes of the pollutant.
    """
    spec, project, part = item.spec, ctx.project, _Part()
    _settings(_Settings, spec, project)
    params = TotalParams.model_validate(spec.parameters)
    layer = spec.inputs["features"]
    if not isinstance(params.field, str):
        part.notes.append("the total is not a sum of one field; no projects listed")
        return part
    zones = [z for _, z in item.rows[item.rows["status"] == "gap"].iterrows()]
    if not zones:
        return part
    entry = project.entry(layer)
    frame = project.read_table(layer) if entry.kind == "table" else project.read_vector(layer)
    done = evaluate(frame, params.where, layer=layer, project=project)
    frame["tonnes"] = combined(frame, params.field, layer)
    open_ = frame[~done & (frame["tonnes"] > 0)].copy()
    if params.zone_field:
        open_["county_id"] = open_[params.zone_field].astype(str)
    elif isinstance(open_, gpd.GeoDataFrame) and not open_.empty:
        open_["county_id"] = _county_of(ctx.zones, open_.geometry).values
    else:
        open_["county_id"] = None
    open_ = open_.sort_values(["tonnes", "id"], ascending=[False, True])
    unit = spec.unit
    for zone in zones:
        mine = open_ if zone["zone_type"] == "city" else open_[open_["county_id"] == str(zone["zone_id"])]
        value = float(zone["value"])
        missing = float(zone["target"]) - value if zone["comparator"] == ">=" else value - float(zone["target"])
        total = float(mine["tonnes"].sum())
        after = value + total
        enough = _meets(after, zone["target"], zone["comparator"])
        verdict = "enough" if enough else f"{float(zone['target']) - after:,.1f} {unit} still short: new projects needed"
        part.rows.append(_row(
            item, zone, f"完成未完工的重点工程 {len(mine)} 项 complete the {len(mine)} projects not yet completed", total, unit, after,
            detail=f"{missing:,.1f} {unit} missing before; {verdict}",
        ))
        running = value
        for rank, (_, project_row) in enumerate(mine.iterrows(), start=1):
            running += float(project_row["tonnes"])
            status = project_row.get("status", "")
            year = project_row.get("year", "")
            part.rows.append(_item_row(
                item, zone, "完成重点工程 complete the project", float(project_row["tonnes"]), unit, running, rank=rank,
                item_layer=layer, item_id=str(project_row["id"]), item_name=str(project_row.get("name", project_row["id"])),
                detail=f"status {status}" + (f", year {year}" if not _missing(year) and year != "" else ""),
            ))
    if isinstance(open_, gpd.GeoDataFrame) and not open_.empty:
        frame_out = open_.assign(indicator=spec.id, rank=np.arange(1, len(open_) + 1))
        if "status" in frame_out:
            frame_out = frame_out.rename(columns={"status": "project_status"})
        columns = ["id", "indicator", "county_id", "rank", *[c for c in ("name", "sector", "project_status", "year") if c in frame_out], "tonnes"]
        part.layers[proposals_layer_name(spec.id)] = _point_layer(frame_out, columns, project.crs)
    return part


PROPOSERS: dict[str, Callable[[_Context, IndicatorResult], _Part]] = {
    "coverage_sites": propose_coverage_sites,
    "parking_spaces": propose_parking_spaces,
    "fast_charging": propose_fast_charging,
    "coal_boilers": propose_coal_boilers,
    "permeable_blocks": propose_permeable_blocks,
    "sewer_extensions": propose_sewer_extensions,
    "project_totals": propose_project_totals,
}
"""The proposal function of each kind."""

SETTINGS: dict[str, type[_Settings]] = {
    "coverage_sites": _CoverageSettings,
    "parking_spaces": _ParkingSettings,
    "fast_charging": _FastSettings,
    "coal_boilers": _CoalSettings,
    "permeable_blocks": _PermeableSettings,
    "sewer_extensions": _SewerSettings,
    "project_totals": _Settings,
}
"""The settings model of each kind (the spec's ``proposal:`` block)."""


def validate_proposals(project: ProjectConfig) -> None:
    """Check every spec's ``proposal:`` block against its kind's settings; errors name the file, line and key."""
    for spec in project.specs:
        path = project.spec_path(spec.id)
        try:
            kind = proposal_kind(spec)
        except DataError as exc:
            _, node = load_yaml(path)
            line = line_of(node, ("proposal", "kind"))
            msg = f"{path}:{line}: " + str(exc).split(": ", 1)[1] if line else f"{path}: {exc}"
            raise ConfigError(msg) from None
        if kind is not None:
            _settings_at(SETTINGS[kind], spec, path)
