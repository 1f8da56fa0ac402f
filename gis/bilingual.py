"""Texts in Chinese and English: the language choice, the pick from a (zh, en) pair, and the text type of the YAML files.

A spec, catalog or map text is written either as a plain string (the same in both languages: a
name, or a text not yet translated) or as ``{zh: ..., en: ...}``.  It is read into a
:class:`Bilingual`: a ``str`` (the form the key had as a plain string, so code that reads it as a
string keeps working) that also carries its Chinese and English forms.  :func:`label` picks the
one, the other or both.  This module imports nothing of the toolkit: the project models and the
outputs both build on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

Lang = Literal["both", "zh", "en"]
LANGS: tuple[str, ...] = get_args(Lang)

PlainForm = Literal["en", "zh", "en (zh)", "zh en"]
"""What a two-language text reads as where code takes it as one string: the English, the Chinese,
'English (中文)' (the catalog's layer titles) or '中文 English' (land-cover class names).  A plain string
written in one of the last two shapes is read as its two halves."""

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
"""A Han character: the test for Chinese text."""
_LATIN = re.compile(r"[A-Za-z]")
_EN_ZH = re.compile(r"^(?P<en>[^()]*\S) \((?P<zh>[^()]+)\)$")
_ZH_EN = re.compile(r"^(?P<zh>\S+) (?P<en>[^\u3400-\u9fff]+)$")


def _halves(plain: str, form: PlainForm) -> tuple[str, str] | None:
    """(zh, en) of a plain string in the two-language shape of ``form``, None when it is not in that shape."""
    pattern = {"en (zh)": _EN_ZH, "zh en": _ZH_EN}.get(form)
    found = pattern.match(plain) if pattern else None
    if found is None or HAN.search(found["en"]) or not HAN.search(found["zh"]) or _LATIN.search(found["zh"]):
        return None
    return found["zh"], found["en"]


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


class Bilingual(str):
    """A text in Chinese (``zh``) and English (``en``); as a string, its plain form.

    ``Bilingual("x")`` is the same text in both languages; ``Bilingual.of(zh, en, "en")`` a
    translated one that reads as its English where it is used as a string.
    """

    _zh: str
    _en: str

    def __new__(cls, plain: str, zh: str | None = None, en: str | None = None) -> Bilingual:  # noqa: D102
        text = super().__new__(cls, plain)
        text._zh = plain if zh is None else zh
        text._en = plain if en is None else en
        return text

    @classmethod
    def of(cls, zh: str, en: str, form: PlainForm = "en") -> Bilingual:
        """The pair ``zh``/``en`` reading as ``form`` where it is taken as one string."""
        if not zh or zh == en:
            return cls(en or zh)
        plain = {"en": en, "zh": zh, "en (zh)": f"{en} ({zh})", "zh en": f"{zh} {en}"}[form]
        return cls(plain, zh, en)

    @property
    def zh(self) -> str:
        """The Chinese form."""
        return self._zh

    @property
    def en(self) -> str:
        """The English form."""
        return self._en

    @property
    def translated(self) -> bool:
        """Whether the two forms differ (a plain string is the same in both)."""
        return self._zh != self._en

    def pick(self, lang: Lang = "both", *, sep: str = " ") -> str:
        """The text in ``lang`` (both: '中文 English'), as :func:`label` picks it."""
        return label(self._zh, self._en, lang, sep=sep)

    def as_json(self) -> str | dict[str, str]:
        """The plain string when the two forms are the same, else ``{"zh": ..., "en": ...}``."""
        return {"zh": self._zh, "en": self._en} if self.translated else str(self)

    def as_written(self) -> str | dict[str, str]:
        """What a YAML file holds for it: the plain string when that string reads back as the same pair (one language,
        or 'English (中文)', '中文 English'), else ``{"zh": ..., "en": ...}``."""
        plain = str(self)
        if not self.translated or any(_halves(plain, form) == (self._zh, self._en) for form in ("en (zh)", "zh en")):
            return plain
        return {"zh": self._zh, "en": self._en}

    def __getnewargs__(self) -> tuple[str, str, str]:  # type: ignore[override]
        return (str(self), self._zh, self._en)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Bilingual):
            return str.__eq__(self, other) and (self._zh, self._en) == (other._zh, other._en)
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        if not self.translated:
            return f"Bilingual({str.__repr__(self)})"
        return f"Bilingual(zh={self._zh!r}, en={self._en!r})"


def _represent(dumper: yaml.SafeDumper, text: Bilingual) -> yaml.Node:
    written = text.as_written()
    if isinstance(written, dict):
        return dumper.represent_dict(written)
    return dumper.represent_str(written)


yaml.SafeDumper.add_representer(Bilingual, _represent)  # yaml.safe_dump writes a two-language text as it is written


def text_of(value: object, lang: Lang = "both", *, sep: str = " ") -> str:
    """Any text in ``lang``: a :class:`Bilingual`, a ``{zh, en}`` mapping (as run.json keeps them), a
    plain string (the same in both), or nothing ('')."""
    if value is None:
        return ""
    if isinstance(value, Bilingual):
        return value.pick(lang, sep=sep)
    if isinstance(value, Mapping):
        return label(str(value.get("zh") or ""), str(value.get("en") or "") or None, lang, sep=sep)
    return str(value)


def as_bilingual(value: object, form: PlainForm = "en") -> Bilingual:
    """``value`` (a string, a ``{zh, en}`` mapping or a :class:`Bilingual`) as a :class:`Bilingual` reading as ``form``."""
    if isinstance(value, Bilingual):
        return Bilingual.of(value.zh, value.en, form) if value.translated else value
    if isinstance(value, str):
        halves = _halves(value, form)
        return Bilingual(value) if halves is None else Bilingual(value, *halves)
    if isinstance(value, Mapping):
        keys = set(value)
        if keys != {"zh", "en"}:
            missing = sorted({"zh", "en"} - keys)
            extra = sorted(str(k) for k in keys - {"zh", "en"})
            said = f"missing {', '.join(missing)}" if missing else f"unknown key {', '.join(extra)}"
            msg = f"a two-language text needs exactly 'zh' and 'en' ({said}); or write one plain string"
            raise ValueError(msg)
        zh, en = value["zh"], value["en"]
        if not isinstance(zh, str) or not isinstance(en, str) or not zh.strip() or not en.strip():
            msg = "'zh' and 'en' of a two-language text are both non-empty strings"
            raise ValueError(msg)
        return Bilingual.of(zh.strip(), en.strip(), form)
    msg = f"a text is a string or {{zh: ..., en: ...}}, not {type(value).__name__}"
    raise ValueError(msg)


@dataclass(frozen=True)
class Plain:
    """Pydantic marker of a two-language text field: ``Annotated[Bilingual, Plain("en")]``.

    The field accepts a plain string or ``{zh, en}``; in Python it is a :class:`Bilingual` reading
    as ``form``; dumped as JSON it is the string, or ``{zh, en}`` when the two differ.
    """

    form: PlainForm = "en"

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:  # noqa: D105
        form = self.form

        def validate(value: object) -> Bilingual:
            return as_bilingual(value, form)

        def serialize(value: Bilingual, info: core_schema.SerializationInfo) -> object:
            if info.mode_is_json():
                return value.as_json() if isinstance(value, Bilingual) else str(value)
            return value

        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=core_schema.union_schema(
                [core_schema.str_schema(), core_schema.typed_dict_schema(
                    {"zh": core_schema.typed_dict_field(core_schema.str_schema()),
                     "en": core_schema.typed_dict_field(core_schema.str_schema())})]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(serialize, info_arg=True),
        )


EnText = Annotated[Bilingual, Plain("en")]
"""A text that was English where a plain string is written (definitions, readings, units)."""
ZhText = Annotated[Bilingual, Plain("zh")]
"""A text that was Chinese where a plain string is written (the plan's wording, the plan's name)."""
TitleText = Annotated[Bilingual, Plain("en (zh)")]
"""A title that reads 'English (中文)' as one string (the catalog's layer titles); a plain one in that shape is split."""
PairText = Annotated[Bilingual, Plain("zh en")]
"""A name that reads '中文 English' as one string (land-cover class names); a plain one in that shape is split."""
