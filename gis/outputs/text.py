"""How values read in every output: numbers, units, shares, comparators, targets, value classes.

The data keeps shares as fractions 0..1 (``unit == "share"``); on screen they are percentages.
The web map, the report, the workbook's target texts and the QGIS style labels all format
through the functions here, so a number format changes in one place. Nothing here escapes
HTML: a page escapes what it puts in its markup.

A unit is a plain string ('t', 'km2', 'share') or a two-language one from a spec (a
:class:`~gis.bilingual.Bilingual` or run.json's ``{zh, en}``: '个排污口' / 'outfalls'); every function that
writes a unit takes ``lang``: ``zh`` writes the Chinese form ('3个排污口'), ``en`` and ``both`` the
English ('3 outfalls'; a page in both languages keeps the English units it always had).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, SupportsFloat, cast

from gis.bilingual import HAN, text_of
from gis.outputs.i18n import ZONE_TYPE_LABELS, Lang, label, pick
from gis.values import is_missing

MISSING = "—"
"""What a missing value reads as."""

COMPARATOR_SIGNS = {">=": "≥", "<=": "≤", "==": "="}


def as_text(value: object) -> str:
    """A value from a table as text; a missing one as ''."""
    return "" if is_missing(value) else str(value)


def _float(value: object) -> float:
    return float(cast(SupportsFloat, value))


def format_number(value: object) -> str:
    """A number for people: thousands separators, three significant digits below ten, '—' when missing.

    1234.5 → '1,235'; 12.34 → '12.3'; 1.2345 → '1.234' (at most three decimals); 0.01234 → '0.0123'.
    """
    if is_missing(value):
        return MISSING
    number = _float(value)
    if number.is_integer():
        return f"{int(number):,}"
    size = abs(number)
    if math.isinf(size) or size >= 1000:
        return f"{number:,.0f}"
    if size >= 10:
        return f"{number:,.1f}"
    decimals = min(12, max(3, 2 - math.floor(math.log10(size))))
    return f"{number:.{decimals}f}".rstrip("0").rstrip(".")


def unit_text(unit: object, lang: Lang = "both") -> str:
    """A unit in ``lang``: its Chinese form for ``zh``, its English form otherwise; a plain unit as it is ('' when missing)."""
    if is_missing(unit):
        return ""
    return text_of(unit, "zh" if lang == "zh" else "en")


def with_unit(number: str, unit: str) -> str:
    """A formatted number and its unit: '3 outfalls', '2.5 km2'; a Chinese unit without the space ('3个排污口')."""
    if not unit:
        return number
    return f"{number}{unit}" if HAN.match(unit) else f"{number} {unit}"


def format_bare(value: object, unit: object) -> str:
    """A value without its unit: shares as percentages ('40.0%'), amounts as numbers ('2,547')."""
    if is_missing(value):
        return MISSING
    if unit == "share":
        return f"{_float(value) * 100:.1f}%"
    return format_number(value)


def format_value(value: object, unit: object, lang: Lang = "both") -> str:
    """A value with its unit: shares as percentages ('40.0%'), amounts with their unit ('2,547 t', '3个排污口' in Chinese)."""
    if is_missing(value) or unit == "share":
        return format_bare(value, unit)
    return with_unit(format_number(value), unit_text(unit, lang)).strip()


def format_shortfall(value: object, unit: object, lang: Lang = "both") -> str:
    """A shortfall in its real unit: '1,449 charger spaces' / '1,449个充电车位'; '' when there is none."""
    if is_missing(value):
        return ""
    return with_unit(format_number(value), unit_text(unit, lang))


def zone_shortfalls(pairs: Sequence[tuple[str, object]], unit: object, lang: Lang = "both") -> str:
    """The zones with a gap and their shortfalls, the unit said once: '陕州区 7, 渑池县 4 (coal facilities to replace)',
    in Chinese '陕州区 7、渑池县 4（个燃煤设施待替代）'; '' when there is none."""
    if not pairs:
        return ""
    zh = lang == "zh"
    listed = ("、" if zh else ", ").join(name if is_missing(short) else f"{name} {format_number(short)}" for name, short in pairs)
    said = unit_text(unit, lang)
    if not said or all(is_missing(short) for _, short in pairs):
        return listed
    return f"{listed}（{said}）" if zh else f"{listed} ({said})"


_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _numeral(text: str) -> str:
    """A Chinese numeral up to 99 as digits ('十' → '10', '二十三' → '23'); anything else as it is."""
    if not text or any(c not in _NUMERALS and c != "十" for c in text):
        return text
    if "十" not in text:
        return "".join(str(_NUMERALS[c]) for c in text)
    tens, _, ones = text.partition("十")
    return str((_NUMERALS.get(tens, 1) if tens else 1) * 10 + (_NUMERALS[ones] if ones else 0))


def clause_text(clause: object, lang: Lang = "both") -> str:
    """A clause of the plan in ``lang``: as the plan numbers it ('二(三)', '附件2') in Chinese and in both, in
    English 'part 2 (3)' and 'attachment 2' ('二(一), 附件2' → 'part 2 (1), attachment 2')."""
    text = as_text(clause)
    if lang != "en":
        return text

    def one(part: str) -> str:
        part = part.strip()
        if part.startswith("附件"):
            return f"attachment {part[2:].strip()}"
        head, _, rest = part.partition("(")
        item = rest.rstrip(")").strip()
        return f"part {_numeral(head.strip())}" + (f" ({_numeral(item)})" if item else "")

    return ", ".join(one(part) for part in re.split(r"[,，、]", text) if part.strip())


def comparator_sign(comparator: object) -> str:
    """'>=' as '≥', '<=' as '≤', '==' as '='; anything else as it is."""
    text = as_text(comparator)
    return COMPARATOR_SIGNS.get(text, text)


def format_target(comparator: object, target: object, unit: object, lang: Lang = "both") -> str:
    """'≥ 40.0%' or '≤ 0 km2'; '—' when there is no target."""
    if is_missing(target) or is_missing(comparator):
        return MISSING
    return f"{comparator_sign(comparator)} {format_value(target, unit, lang)}"


def target_year(target: Mapping[str, Any] | None, year: object = None) -> int | None:
    """The year a target is to be reached by: the target's own, else ``year`` (a row's ``target_year``)."""
    own = (target or {}).get("year")
    for candidate in (own, year):
        if not is_missing(candidate) and candidate != "":
            return int(_float(candidate))
    return None


def describe_target(
    target: Mapping[str, Any] | None, unit: object, *, lang: Lang = "en", year: object = None, baseline_year: object = None,
    province: bool = False,
) -> str:
    """The target in words, from a spec's (or run.json's) target block: English, Chinese, or both.

    ``unit`` is the spec's (plain, or in both languages); each sentence writes it in its own language.

    The year is the target's own, else ``year`` (the ``target_year`` of the indicator's rows);
    without either the sentence names none.  ``baseline_year`` (the catalog's, in run.json)
    names the year a relative target (``change``, ``increase``) without a baseline table is
    measured from.  With ``province`` (a run that reports prefectures) the top zone is called the province (省).
    """
    if province and target:
        target = {**target, "zone_types": [_PROVINCE if t == "city" else t for t in target.get("zone_types") or []],
                  "value_by_zone_type": {(_PROVINCE if t == "city" else t): v for t, v in (target.get("value_by_zone_type") or {}).items()}}
    if lang == "both":
        return f"{_describe_target_zh(target, unit, year, baseline_year)} {_describe_target_en(target, unit, year, baseline_year)}"
    if lang == "zh":
        return _describe_target_zh(target, unit, year, baseline_year)
    return _describe_target_en(target, unit, year, baseline_year)


_PROVINCE = "province"
"""What a target's ``city`` is called above prefectures (:data:`_ZONE_WORDS`)."""
_ZONE_WORDS = {**ZONE_TYPE_LABELS, _PROVINCE: ("省", "province")}
"""The zone types' names in a target's description, the province's among them."""


def _natural(change: float, comparator: object) -> bool:
    """Whether a relative change reads as the plan says it: a fall to reach down to, a rise to reach up to."""
    return comparator == "==" or (comparator == "<=") == (change < 0)


def change_text(change: float, comparator: object, source: str) -> str:
    """A relative change in English: '-16 % from the 2020 value'; 'a rise of no more than 5 % from ...' for a ceiling."""
    if _natural(change, comparator):
        return f"{change * 100:+g} % from {source}"
    return f"a {'fall' if change < 0 else 'rise'} of no more than {abs(change) * 100:g} % from {source}"


def change_text_zh(change: float, comparator: object, source: str) -> str:
    """A relative change in Chinese: '比2020年下降16%'; '比2020年增长不超过5%' for a ceiling."""
    word = "下降" if change < 0 else "增长"
    limit = "" if _natural(change, comparator) else "不超过"
    return f"比{source}{word}{limit}{abs(change) * 100:g}%"


def _figure_kind(target: Mapping[str, Any]) -> str:
    """The one kind of figure a target with ``by_zone`` gives: value, change or increase."""
    if target.get("value") is not None or target.get("value_by_zone_type"):
        return "value"
    return "change" if target.get("change") is not None else "increase"


def _by_zone(target: Mapping[str, Any], unit: object, lang: Lang) -> str:
    """The zones' own figures, compactly: 'B -10 %, C -20 %', 'B 下降10%、C 下降20%' (the ids as the spec gives them)."""
    kind = _figure_kind(target)
    sign = comparator_sign(target.get("comparator", ""))
    parts = []
    for zone, figure in (target.get("by_zone") or {}).items():
        if kind == "value":
            text = f"{sign} {format_value(figure, unit, lang)}"
        elif kind == "change":
            text = f"{'下降' if figure < 0 else '增长'}{abs(figure) * 100:g}%" if lang == "zh" else f"{figure * 100:+g} %"
        elif unit == "share":
            text = f"{figure * 100:+g} {'个百分点' if lang == 'zh' else 'percentage points'}"
        else:
            text = with_unit(f"{figure:+g}", unit_text(unit, lang))
        parts.append(f"{zone} {text}")
    return ("、" if lang == "zh" else ", ").join(parts)


def _baseline_en(target: Mapping[str, Any], baseline_year: object) -> str:
    if target.get("baseline_layer"):
        return f"the baseline ({target['baseline_layer']})"
    return "the baseline-year value" if is_missing(baseline_year) else f"the {int(_float(baseline_year))} value"


def _baseline_zh(target: Mapping[str, Any], baseline_year: object) -> str:
    if target.get("baseline_layer"):
        return f"基准（{target['baseline_layer']}）"
    return "基准年" if is_missing(baseline_year) else f"{int(_float(baseline_year))}年"


def zone_rule(target: Mapping[str, Any] | None, zone_id: object, unit: object, *, lang: Lang = "en", baseline_year: object = None) -> str:
    """How a zone's threshold follows from its baseline, in words: '-16 % from the 2020 value' / '比2020年下降16%',
    the zone's own figure when ``by_zone`` gives one; '' for a target that needs no baseline.

    A target that is also absolute ("70 % or +5 points") is described whole by :func:`describe_target`.
    """
    if not target or target.get("value") is not None or target.get("value_by_zone_type"):
        return ""
    own = (target.get("by_zone") or {}).get(str(zone_id))
    change, increase = target.get("change"), target.get("increase")
    if own is not None:
        change, increase = (own, None) if _figure_kind(target) == "change" else (None, own)
    comparator = target.get("comparator")
    if change is not None:
        if lang == "zh":
            return change_text_zh(change, comparator, _baseline_zh(target, baseline_year))
        return change_text(change, comparator, _baseline_en(target, baseline_year))
    if increase is None:
        return ""
    if lang == "zh":
        step = f"{increase * 100:+g} 个百分点" if unit == "share" else with_unit(f"{increase:+g}", unit_text(unit, "zh"))
        return f"较{_baseline_zh(target, baseline_year)}{step}"
    step = f"{increase * 100:+g} percentage points" if unit == "share" else with_unit(f"{increase:+g}", unit_text(unit, "en"))
    return f"{step} over {_baseline_en(target, baseline_year)}"


def _describe_target_en(target: Mapping[str, Any] | None, unit: object, year: object, baseline_year: object = None) -> str:
    if not target:
        return "No target in the plan: reported for information."
    sign = comparator_sign(target.get("comparator", ""))
    parts = []
    by_type = target.get("value_by_zone_type") or {}
    if by_type:
        parts.append(", ".join(f"{zone_type} {sign} {format_value(v, unit, 'en')}" for zone_type, v in by_type.items()))
    elif target.get("value") is not None:
        parts.append(f"{sign} {format_value(target['value'], unit, 'en')}")
    if target.get("increase") is not None:
        step = (f"{target['increase'] * 100:+g} percentage points" if unit == "share"
                else with_unit(f"{target['increase']:+g}", unit_text(unit, "en")))
        if target.get("baseline_layer"):
            parts.append(f"{step} over the baseline ({target['baseline_layer']})")
        else:
            parts.append(f"{step} over {_baseline_en(target, baseline_year)}")
    if target.get("change") is not None:
        parts.append(change_text(target["change"], target.get("comparator"), _baseline_en(target, baseline_year)))
    joined = " or ".join(parts) + (", whichever is easier to reach" if len(parts) > 1 else "")
    zones = ", ".join(target.get("zone_types") or [])
    by = target_year(target, year)
    own = _by_zone(target, unit, "en")
    return f"{joined} for {zones or 'every zone'}{f' by {by}' if by is not None else ''}{f'; by zone: {own}' if own else ''}."


def _describe_target_zh(target: Mapping[str, Any] | None, unit: object, year: object, baseline_year: object = None) -> str:
    if not target:
        return "规划未设目标：仅供参考。"
    sign = comparator_sign(target.get("comparator", ""))
    parts = []
    by_type = target.get("value_by_zone_type") or {}
    if by_type:
        parts.append("，".join(f"{pick(_ZONE_WORDS, t, 'zh')} {sign} {format_value(v, unit, 'zh')}" for t, v in by_type.items()))
    elif target.get("value") is not None:
        parts.append(f"{sign} {format_value(target['value'], unit, 'zh')}")
    if target.get("increase") is not None:
        step = (f"{target['increase'] * 100:+g} 个百分点" if unit == "share"
                else with_unit(f"{target['increase']:+g}", unit_text(unit, "zh")))
        parts.append(f"较{_baseline_zh(target, baseline_year)}{step}")
    if target.get("change") is not None:
        parts.append(change_text_zh(target["change"], target.get("comparator"), _baseline_zh(target, baseline_year)))
    joined = " 或 ".join(parts) + ("，取较易达到者" if len(parts) > 1 else "")
    zones = "、".join(pick(_ZONE_WORDS, t, "zh") for t in target.get("zone_types") or [])
    by = target_year(target, year)
    own = _by_zone(target, unit, "zh")
    return f"{zones or '各地区'}：{joined}，{f'{by}年前' if by is not None else ''}达到{f'；分区目标：{own}' if own else ''}。"


def class_labels(breaks: Sequence[float], unit: object, lang: Lang = "both") -> list[str]:
    """The labels of the value classes that ``breaks`` make: '< 25 %', '25 – 30 %', '≥ 50 %' (the unit once, at the end).

    One label per class (``len(breaks) + 1``); without breaks the one class is 'all'.
    """
    if not breaks:
        return [label("全部", "all", lang)]
    share = unit == "share"
    bare = [f"{b * 100:g}" if share else format_number(b) for b in breaks]
    suffix = " %" if share else f" {unit_text(unit, lang)}".rstrip()
    middle = [f"{bare[i - 1]} – {bare[i]}{suffix}" for i in range(1, len(bare))]
    return [f"< {bare[0]}{suffix}", *middle, f"≥ {bare[-1]}{suffix}"]
