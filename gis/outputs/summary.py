"""What a run's table says at a glance: rows per status, and one line per indicator (report and workbook)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from gis.outputs.symbology import STATUSES
from gis.outputs.text import as_text


def status_counts(indicators: pd.DataFrame) -> dict[str, int]:
    """Rows per status, every status present (zero when absent)."""
    counts = indicators["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in STATUSES}


def indicator_summary(indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator (in table order): its city row, overall status and the zones with a gap.

    ``status`` is the city's status when there is a city row, else the worst zone status;
    ``gap_zones`` counts the zones below the city (counties, parks) with a gap and
    ``target_zones`` those with a target; ``gap_zone_names`` lists (name, shortfall) of the
    zones with a gap and ``gap_zone_ids`` their (zone_type, zone_id); ``target_year`` is the
    year of the indicator's target (None when the table does not give it).
    """
    rows = []
    for indicator, group in indicators.groupby("indicator", sort=False):
        city = group[group["zone_type"] == "city"]
        head = city.iloc[0] if not city.empty else None
        below = group[group["zone_type"] != "city"]
        if head is not None:
            status = str(head["status"])
        else:
            present = set(group["status"])
            status = next((s for s in ("gap", "no_data", "met", "not_assessed") if s in present), "no_target")
        gaps = below[below["status"] == "gap"]
        first = group.iloc[0]
        rows.append({
            "indicator": str(indicator),
            "title_zh": as_text(first.get("title_zh")),
            "title_en": as_text(first.get("title_en")),
            "clause": as_text(first.get("clause")),
            "theme": as_text(first.get("theme")),
            "unit": as_text(first.get("unit")),
            "city_name": None if head is None else as_text(head["zone_name"]),
            "value": None if head is None else head["value"],
            "comparator": None if head is None else head["comparator"],
            "target": None if head is None else head["target"],
            "status": status,
            "shortfall": None if head is None else head["shortfall"],
            "shortfall_unit": as_text(group["shortfall_unit"].dropna().iloc[0]) if group["shortfall_unit"].notna().any() else "",
            "gap_zones": len(gaps),
            "target_zones": int((~below["status"].isin(["no_target", "not_assessed"])).sum()),
            "gap_zone_names": [(str(n), s) for n, s in zip(gaps["zone_name"], gaps["shortfall"], strict=True)],
            "gap_zone_ids": [(str(t), str(i)) for t, i in zip(gaps["zone_type"], gaps["zone_id"], strict=True)],
            "reading": as_text(first.get("reading")),
            "target_year": first_target_year(group),
        })
    return pd.DataFrame(rows)


def first_target_year(rows: pd.DataFrame) -> int | None:
    """The target year the rows give (their ``target_year`` column), None when they give none."""
    if "target_year" not in rows.columns:
        return None
    years = pd.to_numeric(rows["target_year"], errors="coerce").dropna()
    return int(years.iloc[0]) if not years.empty else None


def target_years(indicators: pd.DataFrame) -> list[int]:
    """Every target year of the table, in order."""
    if "target_year" not in indicators.columns:
        return []
    return sorted({int(y) for y in pd.to_numeric(indicators["target_year"], errors="coerce").dropna()})


@dataclass(frozen=True)
class NotAssessed:
    """An indicator the run did not assess (a layer it reads is not in the catalog), and why in a few words."""

    indicator: str
    title_zh: str
    title_en: str
    reason: str  # "no layer 'population'"
    note: str  # the whole status_note: the reason and the fix


def assessment_reason(note: object) -> str:
    """The short reason of a ``not_assessed`` row's ``status_note`` ("no layer 'population'")."""
    text = as_text(note)
    return text.split(";", 1)[0].removeprefix("not assessed: ").strip() if text.startswith("not assessed: ") else text


def not_assessed(indicators: pd.DataFrame) -> list[NotAssessed]:
    """The indicators of the table not assessed (every row ``not_assessed``), in table order."""
    if indicators.empty or "status" not in indicators.columns:
        return []
    out = []
    for indicator, group in indicators.groupby("indicator", sort=False):
        if not (group["status"] == "not_assessed").all():
            continue
        first = group.iloc[0]
        note = as_text(first.get("status_note"))
        out.append(NotAssessed(str(indicator), as_text(first.get("title_zh")), as_text(first.get("title_en")),
                               assessment_reason(note), note))
    return out


def assessed_line(indicators: pd.DataFrame) -> str:
    """"N of M indicators assessed; not assessed: X (no layer 'a'), Y (no layer 'b')" (English; '' when all were)."""
    skipped = not_assessed(indicators)
    if not skipped:
        return ""
    total = int(indicators["indicator"].nunique())
    listed = ", ".join(f"{item.indicator} ({item.reason})" for item in skipped)
    return f"{total - len(skipped)} of {total} indicators assessed; not assessed: {listed}"
