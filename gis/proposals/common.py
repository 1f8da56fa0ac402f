"""What every kind of proposal shares: the columns of the table, the settings base, the kind
record, what a kind returns, and the helpers that make its rows.

The kind modules (``charging``, ``heating``, ``permeable``, ``sewage``, ``projects``) import
this module; :mod:`gis.proposals.registry` imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from gis.bilingual import Bilingual
from gis.engines.result import IndicatorResult, RunResult
from gis.methods.attributes import ratio_value
from gis.methods.registry import typo_problem
from gis.methods.targets import meets_threshold
from gis.methods.zones import Zones
from gis.project.config import ProjectConfig
from gis.project.layers import LayerReader
from gis.project.specs import Spec
from gis.proposals.texts import amount, cat, counted, need_them_all, same, say, together
from gis.values import is_missing


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
class Part:
    """What one kind proposes for one indicator: rows of the table, layers, notes."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """The run the proposals are made for, and its results by indicator id."""

    result: RunResult
    by_id: dict[str, IndicatorResult]

    @property
    def reader(self) -> LayerReader:
        """The run's reader of the project's layers."""
        return self.result.layers

    @property
    def zones(self) -> Zones:
        """The run's zones."""
        return self.result.zones


Problem = tuple[tuple[str | int, ...], str]
"""A problem of a ``proposal:`` block: the key under ``proposal`` (``("candidates", 2)``) and what is wrong."""


class KindSettings(BaseModel):
    """Base of the settings of each kind (a spec's ``proposal:`` block); ``kind`` tells them apart."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: str

    def problems(self, project: ProjectConfig, spec: Spec) -> Iterator[Problem]:
        """What the block names that the project lacks (layers, fields, indicators); checked when the project loads."""
        return iter(())


Settings = TypeVar("Settings", bound=KindSettings)


@dataclass(frozen=True)
class Kind(Generic[Settings]):
    """A kind of proposal: its settings, its function, and the methods of the indicators it acts on."""

    settings: type[Settings]
    propose: Callable[[Context, IndicatorResult, Settings], Part]
    methods: tuple[str, ...]

    @property
    def name(self) -> str:
        """The kind's name: the value of ``kind`` its settings take."""
        (name,) = get_args(self.settings.model_fields["kind"].annotation)
        return str(name)

    def problems(self, project: ProjectConfig, spec: Spec, settings: Settings) -> Iterator[Problem]:
        """The method of the spec, then what the settings name."""
        if spec.method not in self.methods:
            yield ("kind",), f"kind '{self.name}' acts on indicators of method {' or '.join(self.methods)}; this one's method is {spec.method}"
            return
        yield from settings.problems(project, spec)


def layer_problem(project: ProjectConfig, layer: str, kind: str) -> str | None:
    """What keeps ``layer`` from serving as a ``kind`` layer (vector, raster, table); None when nothing.

    A layer the catalog lacks is no problem (the proposal does without it, and says so in its
    notes) unless its name is close to a catalog layer's: a typo (:func:`~gis.methods.registry.typo_problem`).
    """
    if layer not in project.catalog.layers:
        return typo_problem(project, layer)
    actual = project.catalog.layers[layer].kind
    return None if actual == kind else f"layer '{layer}' is a {actual} layer; a {kind} layer is needed"


# --- rows of the table -----------------------------------------------------------------------


def not_assessed(item: IndicatorResult) -> bool:
    """Whether the indicator was not assessed (a layer it reads is not in the catalog): every row ``not_assessed``."""
    return not item.assessed


def absent_note(layer: str, what: str) -> str:
    """The proposal note on a layer its block names that the catalog lacks, and what the proposal does without it."""
    return f"layer '{layer}' is not in the catalog; {what}"


def meets(value: Any, target: Any, comparator: Any) -> bool | None:
    """Whether ``value`` meets ``target`` (None when one of them is missing)."""
    if is_missing(value) or is_missing(target) or is_missing(comparator):
        return None
    return meets_threshold(float(value), float(target), str(comparator))


def row(
    item: IndicatorResult, zone: pd.Series, action: Bilingual, quantity: float, unit: Bilingual, value_after: Any,
    *, detail: Bilingual | None = None, adds_unit: Bilingual | None = None, **extra: Any,
) -> dict[str, Any]:
    """One row of the table for the zone ``zone`` (a row of the indicator's own table).

    ``action``, ``unit``, ``detail`` and ``adds_unit`` are in both languages (:mod:`~gis.proposals.texts`):
    the row keeps each language in its own column, and ``action`` as both joined.
    """
    target, comparator = extra.pop("target", zone.get("target")), extra.pop("comparator", zone.get("comparator"))
    detail = detail if detail is not None else same("")
    out = {
        "indicator": item.spec.id,
        "zone_type": str(zone["zone_type"]),
        "zone_id": str(zone["zone_id"]),
        "zone_name": str(zone["zone_name"]),
        "action": str(action),
        "quantity": quantity,
        "unit": unit.en,
        "value_after": value_after,
        "meets_target": meets(value_after, target, comparator),
        "row_type": "zone",
        "value_before": zone.get("value"),
        "target": target,
        "comparator": comparator,
        "detail": detail.en,
        "action_zh": action.zh,
        "action_en": action.en,
        "unit_zh": unit.zh,
        "detail_zh": detail.zh,
        "adds_unit": None if adds_unit is None else adds_unit.en,
        "adds_unit_zh": None if adds_unit is None else adds_unit.zh,
    }
    out.update(extra)
    if out["row_type"] == "zone":
        out.setdefault("shortfall", zone.get("shortfall"))
        out.setdefault("shortfall_unit", zone.get("shortfall_unit"))
    return out


def item_row(
    item: IndicatorResult, zone: pd.Series, action: Bilingual, quantity: float, unit: Bilingual, value_after: Any, **extra: Any,
) -> dict[str, Any]:
    """One item (site, lot, boiler, ...) of the proposal for ``zone``."""
    return row(item, zone, action, quantity, unit, value_after, row_type="item", **extra)


def zone_rows(item: IndicatorResult, level: str, status: str | None = "gap") -> pd.DataFrame:
    """The indicator's rows of one zone type (with ``status``; every row when None)."""
    rows = item.rows[item.rows["zone_type"] == level]
    return rows if status is None else rows[rows["status"] == status]


ITEM_LEVELS = ("county", "prefecture")
"""The levels below the city whose targets proposals meet zone by zone, the finest first."""


def item_level(item: IndicatorResult) -> str:
    """Where items are listed: under each county when the plan (the spec's ``target.zone_types``) sets the counties a
    target, else under each prefecture when it sets the prefectures one, else under the city."""
    target = item.spec.target
    for level in ITEM_LEVELS:
        if target is not None and level in target.zone_types and bool((item.rows["zone_type"] == level).any()):
            return level
    return "city"


def zone_targets(item: IndicatorResult) -> bool:
    """Whether the plan sets a target for each zone below the city (each county, or each prefecture)."""
    return item_level(item) != "city"


def zone_of(frame: pd.DataFrame, level: str, zones: Zones) -> pd.Series:
    """The id of each row's zone of ``level`` from its ``county_id``: the county itself, or its prefecture (NA outside)."""
    counties = frame["county_id"].astype("string")
    return counties if level == "county" else counties.map(zones.prefecture_of()).astype("string")


def in_zone(frame: pd.DataFrame, zone: pd.Series, zones: Zones) -> pd.DataFrame:
    """The rows of ``frame`` (with ``county_id``) in ``zone``: every row for the city, else those of its counties."""
    level = str(zone["zone_type"])
    if level == "city":
        return frame
    return frame[(zone_of(frame, level, zones) == str(zone["zone_id"])).fillna(False).to_numpy(dtype=bool)]


def city_row(item: IndicatorResult) -> pd.Series | None:
    """The indicator's city row."""
    city = item.rows[item.rows["zone_type"] == "city"]
    return None if city.empty else city.iloc[0]


def shortfall_of(zone: pd.Series) -> float | None:
    """The zone's shortfall as ``indicators.csv`` states it (rounded up); None without one."""
    value = zone.get("shortfall")
    return None if is_missing(value) else float(value)


def count_items(
    item: IndicatorResult, features: gpd.GeoDataFrame, action: Bilingual, unit: Bilingual, step: float,
    detail_of: Callable[[pd.Series], Bilingual], layer: str, *, rule: Bilingual, zones: Zones,
) -> list[dict[str, Any]]:
    """Rows for a count or ratio of features fixed one at a time (service areas, boilers).

    ``features`` (with ``county_id``, in the order to fix them) each change the zone's numerator
    by ``step`` (+1: one more equipped, -1: one fewer left). Each zone takes the first features
    of its own that bring it to its target, no more. Where the plan sets county (or prefecture)
    targets the items are listed under each county (prefecture) and the city row is their
    proposals together (plus any feature outside every county the city still needs, listed under
    the city); where it sets a city target only, the city takes the first features of the whole
    list, ranked across counties. A zone row whose count differs from its shortfall says why in ``detail``.
    """
    ratio = item.rows["denominator"].notna().any()

    def value_of(zone: pd.Series, changed: float) -> float:
        numerator = float(zone["numerator"]) + step * changed
        return ratio_value(numerator, float(zone["denominator"])) if ratio else numerator

    def needed(zone: pd.Series, available: int, already: int = 0) -> int:
        """How many more of ``available`` features bring the zone to its target (all of them when none do)."""
        for count in range(available + 1):
            if meets(value_of(zone, already + count), zone["target"], zone["comparator"]):
                return count
        return available

    def why(zone: pd.Series, count: int) -> Bilingual:
        """Why ``count`` differs from the zone's shortfall (empty when it does not)."""
        short = shortfall_of(zone)
        if short is None:
            return same("")
        if meets(value_of(zone, count), zone["target"], zone["comparator"]) is False:
            short_text, rest = amount(short, unit), amount(max(short - count, 0), unit)
            return say(f"；图层所含对象仅能补足缺口{short_text.zh}中的{count:,}个：其余{rest.zh}需图层以外的规划",
                       f"; the {unit.en} the layers hold close only {count:,} of a shortfall of {short_text.en}: "
                       f"{rest.en} more need a plan the layers cannot give")
        if count > short + 1e-9:
            return need_them_all(amount(count, unit), amount(short, unit), level)
        return same("")

    city = city_row(item)
    city_target = city is not None and not is_missing(city["target"]) and city["status"] in ("gap", "met")
    lists: list[tuple[pd.Series, pd.DataFrame, int]] = []  # zone, its items, items counted before them
    rows: list[dict[str, Any]] = []
    level = item_level(item)
    if level != "city":
        taken: list[Any] = []
        for _, zone in zone_rows(item, level).iterrows():
            mine = in_zone(features, zone, zones)
            picks = mine.iloc[: needed(zone, len(mine))]
            taken += list(picks.index)
            lists.append((zone, picks, 0))
        if city_target and city is not None:
            rest = features.drop(index=taken)
            extra = rest.iloc[: needed(city, len(rest), len(taken))]  # still short: features outside every county
            total = len(taken) + len(extra)
            if total:
                detail = together(level)
                if not extra.empty:
                    detail = cat(detail, say(f"，另有{len(extra)}个位于各县之外，列在市级之下",
                                             f", and {len(extra)} outside every county, listed under the city"))
                rows.append(row(item, city, counted(action, f"{total:,}"), total, unit, value_of(city, total),
                                detail=cat(detail, why(city, total))))
            if not extra.empty:
                lists.append((city, extra, len(taken)))
    elif city_target and city is not None and city["status"] == "gap":
        lists.append((city, features.iloc[: needed(city, len(features))], 0))
    for zone, picks, before in lists:
        if picks.empty:
            continue
        if before == 0:
            rows.append(row(item, zone, counted(action, f"{len(picks):,}"), len(picks), unit, value_of(zone, len(picks)),
                            detail=cat(rule, why(zone, len(picks)))))
        for rank, (_, feature) in enumerate(picks.iterrows(), start=1):
            rows.append(item_row(
                item, zone, action, 1, unit, value_of(zone, before + rank), rank=rank, item_layer=layer,
                item_id=str(feature["id"]), item_name=str(feature.get("name", feature["id"])), detail=detail_of(feature),
            ))
    return rows


def allocate(order: Iterable[tuple[Any, float]], need: float) -> list[tuple[Any, float]]:
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


# --- places ----------------------------------------------------------------------------------


def county_of(zones: Zones, geometries: gpd.GeoSeries) -> pd.Series:
    """The county id of each geometry (of its representative point); None outside every county."""
    counties = zones.level("county")
    points = gpd.GeoDataFrame(geometry=geometries.representative_point().values, index=geometries.index, crs=counties.crs)
    joined = gpd.sjoin(points, counties[["zone_id", "geometry"]], how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["zone_id"].reindex(geometries.index).astype(object).where(joined["zone_id"].notna(), None)


def nearest(features: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, prefix: str) -> pd.DataFrame:
    """Per feature: id and name of the nearest target and the distance in m (NaN without targets)."""
    out = pd.DataFrame({f"{prefix}_id": None, f"{prefix}_name": None, "distance_m": np.nan}, index=features.index)
    if features.empty or targets.empty:
        return out
    right = targets[["id", "geometry"]].assign(name=targets["name"].astype(str) if "name" in targets else targets["id"].astype(str))
    right = right.rename(columns={"id": f"{prefix}_id", "name": f"{prefix}_name"})
    joined = gpd.sjoin_nearest(features[["geometry"]], right, how="left", distance_col="distance_m")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined[[f"{prefix}_id", f"{prefix}_name", "distance_m"]]


def point_layer(frame: gpd.GeoDataFrame, columns: list[str], crs: str) -> gpd.GeoDataFrame:
    """A proposal layer of ``columns`` of ``frame`` with its geometries."""
    return gpd.GeoDataFrame(frame[columns].reset_index(drop=True), geometry=frame.geometry.values, crs=crs)
