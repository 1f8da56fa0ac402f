"""The words of the proposals in Chinese and English: texts as pairs, amounts with their units, and the
sentences several kinds share.

Every ``action``, ``unit`` and ``detail`` of ``proposals.csv`` is made as a
:class:`~gis.bilingual.Bilingual`: the table keeps its English (``unit``, ``detail``, ``action_en``)
and its Chinese (``unit_zh``, ``detail_zh``, ``action_zh``) in their own columns, and ``action`` as
both joined ('中文 English'), as runs before wrote it.  Numbers carry thousands separators in both;
names and ids from the data are put in as they are.
"""

from __future__ import annotations

from gis.bilingual import HAN, Bilingual
from gis.project.layers import LayerReader


def say(zh: str, en: str) -> Bilingual:
    """A text in Chinese and English, reading as its English."""
    return Bilingual(en, zh, en)


def same(text: object) -> Bilingual:
    """A text the same in both languages (a name, an id, a number)."""
    return Bilingual(str(text))


def cat(*parts: Bilingual | str) -> Bilingual:
    """The parts one after the other, each language on its own; a plain string goes into both."""
    zh = "".join(p.zh if isinstance(p, Bilingual) else p for p in parts)
    en = "".join(p.en if isinstance(p, Bilingual) else p for p in parts)
    return say(zh, en)


def action(zh: str, en: str) -> Bilingual:
    """An action: ``action_zh``, ``action_en``, and as one string '中文 English' (the ``action`` column)."""
    return Bilingual(f"{zh} {en}", zh, en)


def counted(verb: Bilingual, count: str) -> Bilingual:
    """A zone row's action: the items' action and how many ('…: 1,449'; '…：1,449' in Chinese)."""
    return Bilingual(f"{verb}: {count}", f"{verb.zh}：{count}", f"{verb.en}: {count}")


def amount(value: float, unit: Bilingual | str, decimals: int = 0) -> Bilingual:
    """An amount with thousands separators and its unit: '1,452 spaces' / '1,452个车位', '4.117 km2' in both."""
    unit = unit if isinstance(unit, Bilingual) else same(unit)
    number = f"{value:,.{decimals}f}"
    zh = f"{number}{unit.zh}" if HAN.match(unit.zh) else f"{number} {unit.zh}".strip()
    return say(zh, f"{number} {unit.en}".strip())


def layer_name(reader: LayerReader, layer: str) -> Bilingual:
    """A layer as a sentence names it: its title in Chinese ('公共充电站'), its name in English ('charging_stations');
    a layer without a Chinese title keeps its name, marked as code (`stations`)."""
    entry = reader.catalog.layers.get(layer)
    title = entry.title if entry is not None else None
    if title is not None and HAN.search(title.zh):
        return say(f"“{title.zh}”", layer)
    return say(f"`{layer}`", layer)


def names_of(reader: LayerReader, layers: list[str]) -> Bilingual:
    """Several layers named in a sentence: '“停车场”、“服务区”' / 'parking_lots, service_areas'."""
    named = [layer_name(reader, layer) for layer in layers]
    return say("、".join(n.zh for n in named), ", ".join(n.en for n in named))


COUNTY_TOGETHER = say("各县建议之和（规划对每个县均设有目标）", "the county proposals together (the plan sets a target in every county)")
"""The detail of a city row that sums the county proposals."""

PREFECTURE_TOGETHER = say("各地级市建议之和（规划对每个地级市均设有目标）",
                          "the prefecture proposals together (the plan sets a target in every prefecture)")
"""The detail of a city row that sums the prefecture proposals."""

NEED_THEM_ALL = say("各县目标需全部完成", "the county targets need them all")
"""Why a city total exceeds the city shortfall: each county must meet its own target."""

NEED_THEM_ALL_PREFECTURES = say("各地级市目标需全部完成", "the prefecture targets need them all")
"""Why a city total exceeds the city shortfall: each prefecture must meet its own target."""


def together(level: str) -> Bilingual:
    """The detail of a city row that sums the proposals of ``level`` (county or prefecture)."""
    return PREFECTURE_TOGETHER if level == "prefecture" else COUNTY_TOGETHER


def need_them_all(total: Bilingual, short: Bilingual, level: str = "county") -> Bilingual:
    """'; 2,395 spaces against a shortfall of 1,449: the county targets need them all' (a total above the shortfall)."""
    reason = NEED_THEM_ALL_PREFECTURES if level == "prefecture" else NEED_THEM_ALL
    return cat(say("；合计", "; "), total, say("，多于缺口", " against a shortfall of "), short, say("：", ": "), reason)
