"""The language of the labels in the map, the report and the workbook: Chinese, English or both.

Every label is written once as a (zh, en) pair where it is used; :func:`label` picks from the
pair.  The few pairs that several outputs share (statuses, zone types, trajectory verdicts,
yes/no) live here; the spec texts (definitions, readings, units) come in both languages from the
specs (:meth:`~gis.project.specs.Spec.text`), coded values from the catalog's ``values`` tables
(:func:`value_label`).  Data values (zone and facility names) are never translated; a zone's
English name comes from the data's ``name_en`` (:func:`zone_label`).

:func:`foreign_words` checks a page rendered in one language for words of the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser

from gis.bilingual import HAN, LANGS, Bilingual, Lang, label, text_of
from gis.errors import UsageError
from gis.project.catalog import value_code

__all__ = [
    "HAN", "LANGS", "STATUS_LABELS", "TRAJECTORY_LABELS", "UNITS", "YES_NO", "ZONE_EXTENSIONS", "ZONE_TYPE_LABELS", "Bilingual", "Lang",
    "check_lang", "foreign_words", "html_lang", "label", "page_text", "pick", "text_of", "value_label", "zone_label",
]

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "met": ("达标", "met"),
    "gap": ("未达标", "gap"),
    "no_data": ("无数据", "no data"),
    "no_target": ("无目标", "no target"),
    "not_assessed": ("未评估", "not assessed"),
}
ZONE_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "city": ("市", "city"),
    "prefecture": ("地级市", "prefecture"),
    "county": ("县(市、区)", "county"),
    "park": ("园区", "park"),
}
TRAJECTORY_LABELS: dict[str, tuple[str, str]] = {
    "baseline": ("基准年", "baseline"),
    "met": ("已达标", "met"),
    "on_track": ("按计划", "on track"),
    "behind": ("落后", "behind"),
    "no_target": ("无目标", "no target"),
    "no_data": ("无数据", "no data"),
    "no_path": ("无起点", "no starting value"),
    "not_assessed": ("未评估", "not assessed"),
}
YES_NO: dict[bool, tuple[str, str]] = {True: ("是", "yes"), False: ("否", "no")}
ZONE_EXTENSIONS: dict[str, tuple[str, str]] = {
    "built-up area (建成区)": ("建成区", "built-up area"),
}
"""What the outputs append to a zone's name, as the name reads in Chinese and in English ('湖滨区建成区', 'Hubin
built-up area'); any other extension written 'English (中文)' is split the same way."""


def check_lang(lang: str) -> Lang:
    """``lang`` itself when it is one of :data:`LANGS`; a :class:`~gis.errors.UsageError` otherwise."""
    if lang not in LANGS:
        msg = f"unknown language '{lang}'; choose one of {', '.join(LANGS)}"
        raise UsageError(msg)
    return lang  # type: ignore[return-value]


def pick(pairs: dict[str, tuple[str, str]], key: object, lang: Lang = "both") -> str:
    """The label of ``key`` in a table of (zh, en) pairs; an unknown key is shown as it is."""
    zh, en = pairs.get(str(key), (str(key), str(key)))
    return label(zh, en, lang)


_EXTENSION = re.compile(r"^(?P<en>[^()]*\S) \((?P<zh>[^()]+)\)$")


def _extension(rest: str) -> tuple[str, str] | None:
    """(zh, en) of an extension the outputs appended ('built-up area (建成区)'); None for anything else."""
    known = ZONE_EXTENSIONS.get(rest)
    if known is not None:
        return known
    found = _EXTENSION.match(rest)
    return (found["zh"], found["en"]) if found and HAN.search(found["zh"]) and not HAN.search(found["en"]) else None


def zone_label(name: str, catalog: tuple[str, str] | None, lang: Lang = "both") -> str:
    """A zone's name from the data, with the catalog's English name (``catalog`` is its (name, name_en)).

    A name the outputs extended ('湖滨区 built-up area (建成区)' for the catalog's '湖滨区') reads in
    one language when asked: '湖滨区建成区' in Chinese, 'Hubin built-up area' in English, '湖滨区 Hubin
    built-up area (建成区)' in both.  Without an English name the Chinese stands in English too
    ('湖滨区 built-up area').  A name that does not start with the catalog's is shown as it is.
    """
    local, english = catalog if catalog is not None else (name.split(" ", 1)[0], "")
    rest = name[len(local) :] if local and name.startswith(local) else None
    if rest is None or (rest and not rest.startswith(" ")):
        return name
    extension = _extension(rest[1:]) if rest else None
    english = english if english and english != local else ""
    if lang == "zh":
        return local + extension[0] if extension else local + rest
    if lang == "en":
        return f"{english or local} {extension[1]}" if extension else (english or local) + rest
    return f"{local} {english}{rest}" if english else name


def value_label(names: Mapping[str, Bilingual] | None, value: object, lang: Lang = "both") -> str:
    """A coded value of a field as the catalog's ``values`` table names it ('coal_boiler' → '燃煤锅炉' in Chinese);
    true/false as 是/否 (yes/no) unless the table says otherwise; anything else as it is.

    ``names`` is one field's table: ``catalog.layers[layer].values.get(field)``.
    """
    code = value_code(value)
    text = (names or {}).get(code)
    if text is not None:
        return text.pick(lang)
    if code in ("true", "false"):
        return pick({"true": YES_NO[True], "false": YES_NO[False]}, code, lang)
    return code


# --- one language: the words of the other ----------------------------------------------------------

_CJK_PUNCTUATION = re.compile(r"[\u3001\u3002\u300a-\u3011\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'’][A-Za-z0-9]+)*")
_IDS = re.compile(
    r"""(?x)
    `[^`\n]*`                                     # code, as the texts mark it (`pilot`, `gis import landuse ...`)
    | \b[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+\b        # indicator ids (permeable.share), file names (report.html)
    | \b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b          # field names and codes (charger_spaces, coal_boiler, BU_411202)
    | \b\d{8}T\d{6}Z?(?:-[0-9a-f]+)?\b           # run ids (20261130T164608Z-2db72a85)
    | \b[A-Z]{1,5}-[0-9][0-9A-Za-z-]*\b            # feature ids (PK-12, BU-411202)
    | \bEPSG:\d+\b | \bhttps?://\S+ | \#[0-9a-fA-F]{3,8}\b
    | (?:[A-Za-z]:)?(?:[\w.-]*/)+[\w.-]+            # paths (/tmp/out/map.html, sample/fleet.csv)
    """
)
UNITS: frozenset[str] = frozenset({
    "m", "m2", "m3", "km", "km2", "ha", "mm", "cm", "kg", "t", "kt", "Mt", "kW", "kWh", "MW", "MWh", "GW", "kWp",
    "tce", "kgce", "gce", "d", "h", "a", "PUE", "COD", "NOx", "NH3-N", "VOCs", "SO2", "PM2", "GDP", "LDAR",
    "GB", "GB/T", "HJ", "CGCS2000", "WGS84", "EPSG", "I", "II", "III", "IV", "V", "VI",
})
"""Latin words a Chinese page may hold: units, pollutant and energy abbreviations Chinese planning texts use as they
are, standard and reference-system codes, water classes I–VI."""


def foreign_words(text: str, lang: Lang, *, names: Iterable[str] = (), allowed: Iterable[str] = ()) -> list[str]:
    """The words of the other language in ``text``, a page rendered in ``lang``: each once, in order of appearance.

    For ``zh``: latin words of two letters or more that are not units or abbreviations (:data:`UNITS`), ids
    (indicator ids, field names and codes with ``_``, code in backticks, run ids, EPSG codes, paths, URLs) or in
    ``allowed``.
    For ``en``: runs of Han characters and Chinese punctuation (、，（）：). ``names`` are names from data files
    (zones, facilities, rivers), allowed in either language: they are taken out before the check.
    For ``both`` nothing is foreign.
    """
    if lang == "both":
        return []
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(name, " ")
    if lang == "en":
        found = [m.group() for m in re.finditer(f"{HAN.pattern}+|{_CJK_PUNCTUATION.pattern}", text)]
    else:
        ok = UNITS | set(allowed)
        text = _IDS.sub(" ", text)
        found = [w for w in _LATIN_WORD.findall(text) if w not in ok and sum(c.isalpha() for c in w) >= 2]
    return list(dict.fromkeys(found))


class _Text(HTMLParser):
    """The text a reader sees on a page: no tags, no scripts or styles (unless asked), entities decoded."""

    def __init__(self, *, scripts: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.scripts = scripts
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style") and not (tag == "script" and self.scripts):
            self.hidden += 1
        for name, value in attrs:
            if name in ("title", "alt", "aria-label", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and not (tag == "script" and self.scripts) and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def page_text(html: str, *, scripts: bool = False) -> str:
    """The words of an HTML page as a reader meets them (text, titles, alt texts), for :func:`foreign_words`;
    with ``scripts`` the scripts' text too (a web map keeps its popups in them)."""
    parser = _Text(scripts=scripts)
    parser.feed(html)
    parser.close()
    return " ".join(parts.strip() for parts in parser.parts if parts.strip())


def html_lang(lang: Lang) -> str:
    """The ``lang`` attribute of a page: ``en`` for English only, else ``zh-Hans``."""
    return "en" if lang == "en" else "zh-Hans"
