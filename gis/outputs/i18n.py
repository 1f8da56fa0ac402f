"""The language of the labels in the map, the report and the workbook: Chinese, English or both.

Every label is written once as a (zh, en) pair where it is used; :func:`label` picks from the
pair.  The few pairs that several outputs share (statuses, zone types, trajectory verdicts,
yes/no) live here.  Data values (zone names, plan wording) are never translated.
"""

from __future__ import annotations

from typing import Literal, get_args

from gis.errors import UsageError

Lang = Literal["both", "zh", "en"]
LANGS: tuple[str, ...] = get_args(Lang)

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "met": ("达标", "met"),
    "gap": ("未达标", "gap"),
    "no_data": ("无数据", "no data"),
    "no_target": ("无目标", "no target"),
    "not_assessed": ("未评估", "not assessed"),
}
ZONE_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "city": ("市", "city"),
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


def check_lang(lang: str) -> Lang:
    """``lang`` itself when it is one of :data:`LANGS`; a :class:`~gis.errors.UsageError` otherwise."""
    if lang not in LANGS:
        msg = f"unknown language '{lang}'; choose one of {', '.join(LANGS)}"
        raise UsageError(msg)
    return lang  # type: ignore[return-value]


def label(zh: str, en: str | None, lang: Lang = "both", *, sep: str = " ") -> str:
    """The label in ``lang``: ``zh``, ``en``, or both joined by ``sep`` ('状态 status').

    A missing or identical English half gives the Chinese alone (in every language: a name
    without an English form is still a name); an empty Chinese half gives the English.
    """
    if not en or en == zh:
        return zh
    if not zh or lang == "en":
        return en
    if lang == "zh":
        return zh
    return f"{zh}{sep}{en}"


def pick(pairs: dict[str, tuple[str, str]], key: object, lang: Lang = "both") -> str:
    """The label of ``key`` in a table of (zh, en) pairs; an unknown key is shown as it is."""
    zh, en = pairs.get(str(key), (str(key), str(key)))
    return label(zh, en, lang)


def zone_label(name: str, catalog: tuple[str, str] | None, lang: Lang = "both") -> str:
    """A zone's name from the data, with the catalog's English name (``catalog`` is its (name, name_en)).

    A name the outputs extended ('湖滨区 built-up area (建成区)' for the catalog's '湖滨区')
    keeps its extension: 'Hubin built-up area (建成区)' in English, '湖滨区 Hubin built-up
    area (建成区)' in both. A name that does not start with the catalog's is shown as it is.
    """
    if catalog is None:
        return name
    local, english = catalog
    rest = name[len(local) :] if local and name.startswith(local) else None
    if not english or english == local or rest is None or (rest and not rest.startswith(" ")) or lang == "zh":
        return name
    if lang == "en":
        return english + rest
    return f"{local} {english}{rest}"


def html_lang(lang: Lang) -> str:
    """The ``lang`` attribute of a page: ``en`` for English only, else ``zh-Hans``."""
    return "en" if lang == "en" else "zh-Hans"
