"""Judging indicator values against the plan's targets, with the shortfall in real units."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gis.project.catalog import Catalog
from gis.project.layers import LayerReader
from gis.project.specs import Spec, Target
from gis.values import is_missing

EPSILON = 1e-9


BaselineKey = tuple[str, str, str]
"""(indicator, zone_type, zone_id)."""


@dataclass(frozen=True)
class Baselines:
    """The baseline value of each zone, and what ``status_note`` says of a zone without one.

    ``missing`` is the note of any zone without a baseline; ``notes`` says more for some zones.
    """

    values: dict[BaselineKey, float] = field(default_factory=dict)
    missing: str | None = None
    notes: dict[BaselineKey, str] = field(default_factory=dict)

    def note(self, key: BaselineKey) -> str | None:
        """What is said of ``key``'s zone when it has no baseline (None: the default note)."""
        return self.notes.get(key, self.missing)


def read_baselines(project: LayerReader, target: Target) -> dict[BaselineKey, float]:
    """Baseline values keyed by (indicator, zone_type, zone_id)."""
    if not target.baseline_layer:
        return {}
    table = project.read_table(target.baseline_layer)
    values = pd.to_numeric(table["value"], errors="coerce")
    return {
        (str(i), str(t), str(z)): float(v)
        for i, t, z, v in zip(table["indicator"], table["zone_type"], table["zone_id"], values, strict=True)
        if not math.isnan(v)
    }


def relative_word(target: Target) -> str:
    """What a zone's baseline is needed for: "apply the change to" or "add the increase to"."""
    kind = target.figure_kinds[0] if target.by_zone else ("change" if target.change is not None else "increase")
    return "apply the change to" if kind == "change" else "add the increase to"


def meets_threshold(value: float, threshold: float, comparator: str) -> bool:
    """Whether ``value`` meets ``threshold`` under ``comparator`` (>=, <=, ==), within :data:`EPSILON`."""
    if comparator == ">=":
        return value >= threshold - EPSILON
    if comparator == "<=":
        return value <= threshold + EPSILON
    return abs(value - threshold) <= EPSILON


def threshold_for(target: Target, zone_type: str, baseline: float | None, zone_id: str | None = None) -> float | None:
    """The value a zone must reach: the absolute target, the baseline plus the increase, the baseline times
    ``1 + change``, or the easiest of them; ``by_zone`` replaces the target's figure for ``zone_id``."""
    by_zone_type: dict[str, float] = {str(key): value for key, value in target.value_by_zone_type.items()}
    absolute = by_zone_type.get(zone_type, target.value)
    increase, change = target.increase, target.change
    own = target.by_zone.get(str(zone_id)) if zone_id is not None and target.by_zone else None
    if own is not None:
        kind = target.figure_kinds[0]  # a target with by_zone has one kind of figure
        if kind == "value":
            absolute = own
        elif kind == "change":
            change = own
        else:
            increase = own
    candidates = []
    if absolute is not None:
        candidates.append(absolute)
    if increase is not None and baseline is not None:
        candidates.append(baseline + increase)
    if change is not None and baseline is not None:
        candidates.append(baseline * (1 + change))
    if not candidates:
        return None
    return max(candidates) if target.comparator == "<=" else min(candidates)


def _shortfall(comparator: str, kind: str, threshold: float, value: float, numerator: float, denominator: float) -> float:
    """How far a zone is from its threshold, in the numerator's unit (ratio) or the value's unit (amount)."""
    if kind == "ratio":
        gap = threshold * denominator - numerator if comparator != "<=" else numerator - threshold * denominator
    else:
        gap = threshold - value if comparator != "<=" else value - threshold
    if comparator == "==":
        gap = abs(gap)
    return max(gap, 0.0)


def no_value_note(kind: str, denominator: object) -> str:
    """Why a zone measured normally has no value: what ``status_note`` says for it."""
    if kind == "ratio" and isinstance(denominator, int | float | np.number) and not is_missing(denominator) and float(denominator) <= 0:
        return "nothing to measure in this zone: the denominator is 0"
    return "no value measured for this zone"


def rounded_up(amount: float, decimals: int) -> float:
    """``amount`` rounded up at ``decimals`` (0: a whole unit), so that doing exactly the shortfall meets the target:
    4.116979 km2 -> 4.117, 2.2398 t/d -> 2.24 at 2 decimals. Float noise below 1e-9 is no excess (0.1 + 0.2 -> 0.3)."""
    scale = 10.0 ** decimals
    return float(math.ceil(round(amount * scale, 9 - min(decimals, 9)) - 1e-9) / scale) if amount > 0 else 0.0


def judge(rows: pd.DataFrame, spec: Spec, kind: str, baselines: dict[BaselineKey, float] | Baselines) -> pd.DataFrame:
    """Add baseline, target, comparator, status, shortfall and ``status_note`` to the rows of one indicator.

    ``baselines`` are the zones' baseline values (read from the target's ``baseline_layer`` or
    measured in the baseline year), with what to say of a zone without one.  ``status_note``
    says why a zone is ``no_data`` (its rows keep any note they came with); it is None where
    there is nothing to say.
    """
    rows = rows.copy()
    target = spec.target
    if not isinstance(baselines, Baselines):
        baselines = Baselines(baselines)
    shortfall = spec.shortfall
    notes = rows["status_note"].tolist() if "status_note" in rows.columns else [None] * len(rows)
    out: dict[str, list] = {k: [] for k in ("baseline", "target", "comparator", "status", "shortfall", "shortfall_unit", "status_note")}
    for row, note in zip(rows.itertuples(index=False), notes, strict=True):
        key: BaselineKey = (spec.id, str(row.zone_type), str(row.zone_id))
        baseline = baselines.values.get(key)
        out["baseline"].append(baseline)
        out["status_note"].append(None if is_missing(note) else note)
        applies = target is not None and row.zone_type in target.zone_types
        if target is None or shortfall is None or not applies:
            out["target"].append(None)
            out["comparator"].append(None)
            out["shortfall_unit"].append(None)
            out["shortfall"].append(None)
            if is_missing(row.value):  # nothing measured (0/0): no data, whether a target applies or not
                out["status"].append("no_data")
                if out["status_note"][-1] is None:
                    out["status_note"][-1] = no_value_note(kind, getattr(row, "denominator", None))
            else:
                out["status"].append("no_target")
            continue
        threshold = threshold_for(target, row.zone_type, baseline, str(row.zone_id))
        if threshold is not None and spec.unit == "share":
            threshold = min(threshold, 1.0)  # a baseline near 100 % cannot ask for more than all
        out["target"].append(threshold)
        out["comparator"].append(target.comparator)
        out["shortfall_unit"].append(shortfall.unit)
        value = row.value
        if is_missing(value) or threshold is None:
            out["status"].append("no_data")
            out["shortfall"].append(None)
            if out["status_note"][-1] is None:
                out["status_note"][-1] = (
                    no_value_note(kind, getattr(row, "denominator", None)) if is_missing(value)
                    else baselines.note(key) or f"no threshold: the zone has no baseline value to {relative_word(target)}"
                )
            continue
        met = meets_threshold(value, threshold, target.comparator)
        out["status"].append("met" if met else "gap")
        if met:
            out["shortfall"].append(0.0)
            continue
        raw = _shortfall(target.comparator, kind, threshold, value, row.numerator, row.denominator)
        out["shortfall"].append(rounded_up(raw * shortfall.factor, 0 if shortfall.rounding == "ceil" else shortfall.decimals))
    for column, values in out.items():
        rows[column] = values
    return rows


def judge_trajectory(rows: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Judge every year's value against the straight path from the baseline-year value to the target.

    ``path_value`` is where the zone should stand in that year; ``trajectory`` is ``baseline``
    (the start of the path), ``met`` (the target is reached), ``on_track`` (at or beyond the
    path), ``behind``, ``no_target``, ``no_data``, ``no_path`` (no value to start the path from) or
    ``not_assessed`` (the indicator is not assessed: a layer it reads is not in the catalog).
    """
    start_year, end_year = catalog.project.baseline_year, catalog.project.target_year
    rows = rows.copy()
    key = ["indicator", "zone_type", "zone_id"]
    now = rows[rows["year"] == catalog.data_year]  # looked up per row in dicts: .loc per row took a second at the province
    columns = ["status", "target", "baseline", "comparator"]
    current = {k: dict(zip(columns, v, strict=True)) for k, v in zip(now[key].itertuples(index=False, name=None),
                                                                     now[columns].itertuples(index=False, name=None), strict=True)}
    then = rows[rows["year"] == start_year]
    measured = dict(zip(then[key].itertuples(index=False, name=None), then["value"], strict=True))
    path, verdict = [], []
    for row in rows.itertuples(index=False):
        index = (row.indicator, row.zone_type, row.zone_id)
        final = current.get(index)
        if row.status == "not_assessed" or (final is not None and final["status"] == "not_assessed"):
            path.append(math.nan)
            verdict.append("not_assessed")
            continue
        if final is None or final["status"] in ("no_target",) or pd.isna(final["target"]):
            path.append(math.nan)
            verdict.append("no_target")
            continue
        start = measured.get(index, math.nan)
        if pd.isna(start):
            start = final["baseline"]
        if pd.isna(start) or pd.isna(row.value):
            path.append(math.nan)
            verdict.append("no_path" if not pd.isna(row.value) else "no_data")
            continue
        fraction = min(max((row.year - start_year) / (end_year - start_year), 0.0), 1.0)
        expected = start + (final["target"] - start) * fraction
        path.append(expected)
        if row.year <= start_year:
            verdict.append("baseline")
        elif row.status == "met":
            verdict.append("met")
        elif (row.value >= expected - EPSILON) if final["comparator"] != "<=" else (row.value <= expected + EPSILON):
            verdict.append("on_track")
        else:
            verdict.append("behind")
    rows["path_value"] = path
    rows["trajectory"] = verdict
    return rows
