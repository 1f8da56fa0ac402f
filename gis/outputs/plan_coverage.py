"""``plan_coverage.csv``: every item of the plan register and whether this run assesses it."""

from __future__ import annotations

import pandas as pd

from gis.project.register import PlanItem, PlanRegister
from gis.values import is_missing

PLAN_COVERAGE_COLUMNS = ["item", "clause", "title_zh", "title_en", "target", "kind", "assessment", "indicators", "reason"]
"""Columns of ``plan_coverage.csv``; ``indicators`` lists the assessing spec ids, separated by ``; ``."""
ASSESSMENTS = ("assessed", "approximated", "not_assessed")


def _not_assessed_in_run(indicators: pd.DataFrame) -> dict[str, str]:
    """The indicators of the run whose every row is ``not_assessed``, each with its status note."""
    found: dict[str, str] = {}
    for indicator, rows in indicators.groupby("indicator", sort=False):
        if (rows["status"] == "not_assessed").all():
            notes = [str(n) for n in rows.get("status_note", pd.Series(dtype=object)) if not is_missing(n) and str(n)]
            found[str(indicator)] = notes[0] if notes else "not assessed in this run"
    return found


def _row(item: PlanItem, ran: set[str], skipped: dict[str, str]) -> dict:
    """The csv row of one item: its register assessment, unless none of its indicators was assessed in the run."""
    row = {"item": item.item, "clause": item.clause, "title_zh": item.title_zh, "title_en": item.title_en,
           "target": item.target, "kind": item.kind, "assessment": item.assessment, "indicators": "", "reason": item.reason}
    if item.assessment == "not_assessed":
        return row
    missing = {i: skipped.get(i, "not run (left out with --only)") for i in item.indicators if i in skipped or i not in ran}
    assessing = [i for i in item.indicators if i not in missing]
    why = "; ".join(f"{i}: {note}" for i, note in missing.items())
    if not assessing:
        row["assessment"] = "not_assessed"
        row["reason"] = f"its indicators are not assessed in this run ({why})"
        return row
    row["indicators"] = "; ".join(assessing)
    if missing:
        row["reason"] = "; ".join(part for part in (item.reason, f"not assessed in this run: {why}") if part)
    return row


def plan_coverage(register: PlanRegister | None, indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per register item, its assessment recomputed from the run's indicator rows (``indicators``).

    An item whose linked indicators are all ``not_assessed`` in the run (a layer missing from the
    catalog), or were not run, is ``not_assessed`` with that reason. No register: no rows.
    """
    if register is None:
        return pd.DataFrame(columns=PLAN_COVERAGE_COLUMNS)
    ran = {str(i) for i in indicators["indicator"].unique()} if "indicator" in indicators else set()
    skipped = _not_assessed_in_run(indicators) if ran else {}
    rows = [_row(item, ran, skipped) for item in register.items]
    return pd.DataFrame(rows, columns=PLAN_COVERAGE_COLUMNS)


def coverage_counts(table: pd.DataFrame) -> dict[str, int]:
    """Items per assessment, every assessment present."""
    counts = table["assessment"].value_counts()
    return {a: int(counts.get(a, 0)) for a in ASSESSMENTS}


def coverage_line(table: pd.DataFrame) -> str:
    """The console's line: ``plan items: N of 80 assessed, M approximated, K not assessed``."""
    if table.empty:
        return "plan items: no plan register (analyses/plan/register.yaml); copy it from the reference project to see what the plan covers"
    c = coverage_counts(table)
    return (f"plan items: {c['assessed']} of {len(table)} assessed, {c['approximated']} approximated, "
            f"{c['not_assessed']} not assessed (plan_coverage.csv)")
