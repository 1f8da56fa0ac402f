"""The texts of a finished run in one language, for the outputs rebuilt from its folder (workbook, web map).

A run's spec texts are in ``run.json`` (``record["indicators"][id]["texts"]``, ``{key: {zh, en}}``);
a run written before they were kept falls back to the row's own (English) column.  Proposal texts
are in ``proposals.csv``: ``action_zh``/``action_en``, ``unit_zh``, ``detail_zh`` beside the English
``unit`` and ``detail`` (a run written before them: ``action`` '中文 English' is split, the rest
stays English).  The names the catalog gives (the project, themes, layers, coded values) come
from the project's folder when it is still there.  The few sentences the toolkit itself writes
into ``status_note`` are translated here (:func:`note_text`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gis.bilingual import as_bilingual, text_of
from gis.outputs.i18n import Lang, value_label
from gis.outputs.text import as_text
from gis.project.config import ProjectConfig

SpecText = str | Mapping[str, str]
"""A spec text as run.json keeps it: ``{zh, en}``, or a plain string (the same in both, or a fallback)."""


def spec_texts(record: Mapping[str, Any], indicator: str) -> Mapping[str, Any]:
    """The ``texts`` of ``indicator`` in the run record (empty for a run written before they were kept)."""
    return ((record.get("indicators") or {}).get(str(indicator)) or {}).get("texts") or {}


def spec_pair(record: Mapping[str, Any], indicator: str, key: str, fallback: object = None) -> SpecText:
    """A spec text of ``indicator`` in both languages (``{zh, en}``), else ``fallback`` as text ('' when missing)."""
    value = spec_texts(record, indicator).get(key)
    if isinstance(value, Mapping) and (value.get("zh") or value.get("en")):
        return {"zh": str(value.get("zh") or value.get("en")), "en": str(value.get("en") or value.get("zh"))}
    if isinstance(value, str) and value:
        return value
    return as_text(fallback)


def spec_text(record: Mapping[str, Any], indicator: str, key: str, lang: Lang, fallback: object = None) -> str:
    """A spec text of ``indicator`` in ``lang`` (both: '中文 English'), else ``fallback``."""
    return text_of(spec_pair(record, indicator, key, fallback), lang)


def spec_unit(record: Mapping[str, Any], indicator: str, unit: object, key: str = "unit") -> SpecText:
    """The unit (``key`` ``unit`` or ``shortfall_unit``) of ``indicator`` as :func:`~gis.outputs.text.format_value` takes
    it: 'share' as it is (a percentage), else the two languages of run.json, else ``unit`` (the row's)."""
    if as_text(unit) == "share":
        return "share"
    return spec_pair(record, indicator, key, unit)


# --- proposals.csv ----------------------------------------------------------------------------------

PROPOSAL_TEXTS: dict[str, tuple[str, str]] = {
    "action": ("action_zh", "action_en"),
    "unit": ("unit_zh", "unit"),
    "detail": ("detail_zh", "detail"),
    "adds_unit": ("adds_unit_zh", "adds_unit"),
}
"""The columns of a proposal text in Chinese and in English (``unit``, ``detail`` and ``adds_unit`` are English)."""


def proposal_text(row: Mapping[str, Any], column: str, lang: Lang) -> str:
    """``column`` (action, unit, detail, adds_unit) of a proposals.csv row in ``lang``; both: the column as written.

    Without its column in ``lang`` (a run written before): the column itself, an action '中文 English' split.
    """
    written = as_text(row.get(column))
    if lang == "both" or column not in PROPOSAL_TEXTS:
        return written
    zh, en = PROPOSAL_TEXTS[column]
    own = as_text(row.get(zh if lang == "zh" else en))
    if own:
        return own
    return as_bilingual(written, "zh en").pick(lang) if column == "action" else written


# --- the catalog: project, themes, layers, coded values ------------------------------------------


def project_title(record: Mapping[str, Any], project: ProjectConfig | None, lang: Lang) -> str:
    """The project's name in ``lang`` (the catalog's ``name_zh`` and ``name``), else the name in the record."""
    if project is not None:
        return project.catalog.project.title.pick(lang)
    return as_text((record.get("project") or {}).get("name"))


def theme_title(project: ProjectConfig | None, theme: object, lang: Lang) -> str:
    """What the catalog calls ``theme`` in ``lang`` ('城镇污水'), else the theme's id."""
    text = as_text(theme)
    if project is None or not text:
        return text
    return project.catalog.project.theme_name(text).pick(lang)


def layer_title(project: ProjectConfig | None, layer: object, lang: Lang) -> str:
    """A catalog layer by its title in ``lang`` ('热源', 'Heat sources'), else its name."""
    name = as_text(layer)
    entry = project.catalog.layers.get(name) if project is not None else None
    if entry is None or entry.title is None:
        return name
    return entry.title.pick(lang)


def coded_value(project: ProjectConfig | None, layers: list[str], field: str, value: object, lang: Lang) -> str:
    """A coded value of ``field`` as the first of ``layers`` with a ``values`` table for it names it; yes/no for
    true/false; anything else as it is (see :func:`~gis.outputs.i18n.value_label`)."""
    tables = [project.catalog.layers[name].values.get(field) for name in layers
              if project is not None and name in project.catalog.layers]
    return value_label(next((t for t in tables if t), None), value, lang)


# --- the sentences of status_note ------------------------------------------------------------------

_NOTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^nothing to measure in this zone: the denominator is 0$"), "本地区无可计量对象：分母为 0"),
    (re.compile(r"^no value measured for this zone$"), "本地区未测得数值"),
    (re.compile(r"^no threshold: the zone has no baseline value to (?:apply the change to|add the increase to)$"),
     "无阈值：本地区无基准值，无法推算目标"),
    (re.compile(r"^not assessed: no layers? (?P<names>'[^;]*');.*?(?P<baseline>; the value is measured but not judged.*)?$"),
     "未评估：目录中缺少图层 {names}，在 `layers` 下补充后即可评估本指标{baseline}"),  # names as code: `landuse`
    (re.compile(r"^no (?P<year>\d{4}) value to (?:apply the change to|add the increase to): (?P<rest>.*)$"),
     "无 {year} 年基准值，无法推算目标（{rest}）"),
)
"""The notes the toolkit writes (gis/methods/targets.py, gis/methods/registry.py, gis/engines/local.py), in Chinese."""


def note_text(note: object, lang: Lang) -> str:
    """A ``status_note`` in ``lang``: the toolkit's own sentences in Chinese for ``zh``, anything else as written."""
    text = as_text(note)
    if lang != "zh" or not text:
        return text
    for pattern, zh in _NOTES:
        found = pattern.match(text)
        if found is not None:
            parts = {k: v or "" for k, v in found.groupdict().items()}
            if "baseline" in parts:
                parts["baseline"] = "；数值已测得但未评判：目标需要基准表" if parts["baseline"] else ""
            if "names" in parts:
                parts["names"] = _as_code(parts["names"])
            if "rest" in parts:
                parts["rest"] = "详见 indicators.csv"
            return zh.format(**parts)
    return text


def _as_code(quoted: str) -> str:
    """Layer names quoted 'a', 'b' as code: `a`、`b` (ids, not words of a language)."""
    return "、".join(f"`{name}`" for name in re.findall(r"'([^']*)'", quoted))


def reason_text(reason: object, lang: Lang) -> str:
    """The short reason of an indicator not assessed ("no layer 'landuse'") in ``lang``: '缺少图层 `landuse`' in Chinese."""
    text = as_text(reason)
    found = re.match(r"^no layers? (?P<names>'.*')$", text)
    return f"缺少图层 {_as_code(found['names'])}" if found and lang == "zh" else text
