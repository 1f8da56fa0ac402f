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
    ``gap_zones`` counts the zones below the prefectures (counties, parks) with a gap and
    ``target_zones`` those with a target; ``gap_zone_names`` lists (name, shortfall) of the
    zones with a gap and ``gap_zone_ids`` their (zone_type, zone_id); ``gap_prefectures``,
    ``target_prefectures``, ``gap_prefecture_names`` and ``gap_prefecture_ids`` say the same of the
    prefectures (0 and empty without them); ``target_year`` is the year of the indicator's target
    (None when the table does not give it).
    """
    rows = []
    for indicator, group in indicators.groupby("indicator", sort=False):
        city = group[group["zone_type"] == "city"]
        head = city.iloc[0] if not city.empty else None
        if head is not None:
            status = str(head["status"])
        else:
            present = set(group["status"])
            status = next((s for s in ("gap", "no_data", "met", "not_assessed") if s in present), "no_target")
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
            **_gaps(group[~group["zone_type"].isin(["city", "prefecture"])], "zone"),
            **_gaps(group[group["zone_type"] == "prefecture"], "prefecture"),
            "reading": as_text(first.get("reading")),
            "target_year": first_target_year(group),
        })
    return pd.DataFrame(rows)


def _gaps(rows: pd.DataFrame, word: str) -> dict[str, object]:
    """The rows with a gap of one indicator: how many (``gap_<word>s``), how many have a target, their (name, shortfall)
    and their (zone_type, zone_id)."""
    gaps = rows[rows["status"] == "gap"]
    return {
        f"gap_{word}s": len(gaps),
        f"target_{word}s": int((~rows["status"].isin(["no_target", "not_assessed"])).sum()),
        f"gap_{word}_names": [(str(n), s) for n, s in zip(gaps["zone_name"], gaps["shortfall"], strict=True)],
        f"gap_{word}_ids": [(str(t), str(i)) for t, i in zip(gaps["zone_type"], gaps["zone_id"], strict=True)],
    }


def has_prefectures(indicators: pd.DataFrame) -> bool:
    """Whether the table reports a prefecture level (a province's cities between it and its counties)."""
    return not indicators.empty and bool((indicators["zone_type"] == "prefecture").any())


TOP_WORDS: dict[bool, tuple[str, str]] = {False: ("全市", "city"), True: ("全省", "province")}
"""What the top zone is called, by whether the table has prefectures: the city, or the province above them."""


def top_words(indicators: pd.DataFrame) -> tuple[str, str]:
    """The top zone's name for the whole in (zh, en): ('全市', 'city'), or ('全省', 'province') above prefectures."""
    return TOP_WORDS[has_prefectures(indicators)]


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


# --- plan targets: the headline -----------------------------------------------------------------
TARGET_STATUSES: tuple[str, ...] = ("met", "gap", "no_data")  # the statuses of a row judged against a target
LEVELS: tuple[str, ...] = ("city", "prefecture", "county", "park")


@dataclass(frozen=True)
class LevelTally:
    """The plan targets set at one level (city, prefecture, county or park), by status.

    At the city level a target is one indicator's city row. At the prefecture (county, park) level a target
    is one indicator the plan sets for every prefecture (county, park): it is ``gap`` when any county falls
    short, else ``met`` when any county is measured (a county with nothing to count, 0/0, is
    ``no_data`` in its own row), else ``no_data``; ``rows`` counts the zone rows behind it by status.
    """

    level: str
    targets: dict[str, int]
    rows: dict[str, int]

    @property
    def total(self) -> int:
        """Targets set at this level."""
        return sum(self.targets.values())


def _tally(statuses: pd.Series) -> dict[str, int]:
    counts = statuses.value_counts()
    return {status: int(counts.get(status, 0)) for status in TARGET_STATUSES}


def plan_targets(indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per plan target: (indicator, level) with the level's status and its zone rows by status.

    A level holds a target of an indicator when any of its rows is met or short, or has a target
    (a level whose only rows are 0/0, ``no_data`` without a target, holds none); rows with no
    target or not assessed are not targets. Columns: indicator, level, status,
    zones (rows judged), zones_met, zones_gap, zones_no_data.
    """
    columns = ["indicator", "level", "status", "zones", "zones_met", "zones_gap", "zones_no_data"]
    if indicators.empty:
        return pd.DataFrame(columns=columns)
    judged = indicators[indicators["status"].isin(TARGET_STATUSES)]
    rows = []
    for (indicator, level), group in judged.groupby(["indicator", "zone_type"], sort=False):
        if not (group["status"].isin(["met", "gap"]).any() or group["target"].notna().any()):
            continue  # only 0/0 rows at a level the plan sets no target for
        counts = _tally(group["status"])
        status = "gap" if counts["gap"] else "met" if counts["met"] else "no_data"
        rows.append({"indicator": str(indicator), "level": str(level), "status": status, "zones": len(group),
                     "zones_met": counts["met"], "zones_gap": counts["gap"], "zones_no_data": counts["no_data"]})
    table = pd.DataFrame(rows, columns=columns)
    order = {level: i for i, level in enumerate(LEVELS)}
    return table.sort_values("level", key=lambda s: s.map(order).fillna(len(LEVELS)), kind="stable").reset_index(drop=True)


def target_tallies(indicators: pd.DataFrame) -> list[LevelTally]:
    """The plan targets by level (city first), each with its targets and zone rows by status."""
    table = plan_targets(indicators)
    out = []
    for level, group in table.groupby("level", sort=False):
        rows = {status: int(group[f"zones_{status}"].sum()) for status in TARGET_STATUSES}
        out.append(LevelTally(str(level), _tally(group["status"]), rows))
    return out


HEADLINE_WORDS: dict[str, dict[str, str]] = {
    "en": {"city": "city", "province": "province", "prefecture": "set per prefecture", "county": "set per county", "park": "set per park",
           "met": "met", "gap": "gap",
           "no_data": "no data", "targets": "{n} targets", "target": "1 target", "rows": "{gap} of {n} {level} rows short",
           "prefecture_rows": "prefecture", "county_rows": "county", "park_rows": "park", "none": "no targets judged", "sep": "; ", "list": ", ",
           "head": ": ", "open": " (", "close": ")"},
    "zh": {"city": "全市", "province": "全省", "prefecture": "分地级市设定", "county": "分县(市、区)设定", "park": "分园区设定", "met": "达标", "gap": "未达标",
           "no_data": "无数据", "targets": "{n} 项目标", "target": "1 项目标", "rows": "{n} 个{level}评估中 {gap} 个未达标",
           "prefecture_rows": "地级市", "county_rows": "县(市、区)", "park_rows": "园区", "none": "无可评估目标", "sep": "；", "list": "，",
           "head": "：", "open": "（", "close": "）"},
}


def headline(indicators: pd.DataFrame, lang: str = "en") -> str:
    """The plan targets in one line, city first: 'city 59 targets: 12 met, 47 gap; set per county 29 targets: ...'.

    Targets are counted at the level the plan sets them; the zone rows behind the targets set per
    prefecture (county, park) follow in brackets. Above prefectures the top zone is the province
    ('province 59 targets: ...; set per prefecture 39 targets: ...'). ``lang`` is 'en' or 'zh' (anything else: English).
    """
    words = HEADLINE_WORDS["zh" if lang == "zh" else "en"]
    top = "province" if has_prefectures(indicators) else "city"
    parts = []
    for tally in target_tallies(indicators):
        counts = words["list"].join(f"{tally.targets[s]} {words[s]}" if lang != "zh" else f"{words[s]} {tally.targets[s]}"
                                    for s in TARGET_STATUSES if tally.targets[s] or s != "no_data")
        targets = words["targets"].format(n=tally.total) if tally.total != 1 else words["target"]
        text = f"{words.get(top if tally.level == 'city' else tally.level, tally.level)} {targets}{words['head']}{counts}"
        if tally.level != "city":
            rows = words["rows"].format(gap=tally.rows["gap"], n=sum(tally.rows.values()), level=words.get(f"{tally.level}_rows", tally.level))
            text += f"{words['open']}{rows}{words['close']}"
        parts.append(text)
    return words["sep"].join(parts) if parts else words["none"]
