"""Class tables shipped as data (``tables/*.yaml``): land-use codes and land-cover legends with their flags.

Land-use tables (三调 GB/T 21010-2017, 用地用海分类 2023) have text codes ("0101", "05H1") matched
longest-first; land-cover tables (WorldCover, CLCD, GlobeLand30) have integer codes, the shape of
the catalog's ``classes`` (:class:`gis.project.catalog.LandClass`).  Every flag is a default
reading whose ``basis`` the table states, to check against the plan.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gis.errors import UsageError
from gis.project._yaml import parse_yaml
from gis.project.catalog import LandClass

LANDUSE_TABLES = ("gbt21010_2017", "landuse_2023")
"""Shipped land-use tables (vector polygons with text codes)."""
LANDCOVER_TABLES = ("worldcover", "clcd", "globeland30")
"""Shipped land-cover legends (rasters with integer codes)."""
LANDUSE_ALIASES = {"gbt21010": "gbt21010_2017", "sandiao": "gbt21010_2017", "三调": "gbt21010_2017",
                   "ydyh": "landuse_2023", "ydyh2023": "landuse_2023", "用地用海": "landuse_2023"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LandUseClass(_Strict):
    """One land-use class: its code, names and flags, and why the flags are what they are."""

    code: str
    name_zh: str = ""
    name_en: str = ""
    permeable: bool = False
    excluded: bool = Field(False, description="left out of numerator and denominator (water)")
    basis: str = ""

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: object) -> str:
        """A code read as a number (``code: 101``) as its text ("0101"); quote codes in YAML ("0101")."""
        return normalise_code(value)


class LandUseTable(_Strict):
    """A land-use classification: its classes by code."""

    name: str
    title: str = ""
    source: str = ""
    classes: list[LandUseClass]

    def lookup(self, code: object) -> LandUseClass | None:
        """The class of ``code``, or of its nearest parent (0101xx -> 0101 -> 01); None when none is listed."""
        return self.classify([code]).get(normalise_code(code))

    def classify(self, codes: Iterable[object]) -> dict[str, LandUseClass | None]:
        """Each distinct code (normalised) with its class, or its nearest parent's; None when none is listed."""
        by_code = {normalise_code(c.code): c for c in self.classes}
        found: dict[str, LandUseClass | None] = {}
        for key in {normalise_code(code) for code in codes}:
            found[key] = None
            probe = key
            while probe:
                if probe in by_code:
                    found[key] = by_code[probe]
                    break
                if len(probe) <= 2 or not _HIERARCHICAL.match(probe):
                    break
                probe = probe[:-2]
        return found


class LandCoverTable(_Strict):
    """A land-cover legend: its classes as the catalog writes them, with the basis of each flag."""

    name: str
    title: str
    source: str
    licence: str
    resolution_m: float
    classes: list[dict[str, Any]]

    def land_classes(self) -> list[LandClass]:
        """The classes as catalog entries (code, name, permeable, excluded)."""
        return [LandClass(**{k: v for k, v in row.items() if k != "basis"}) for row in self.classes]

    def basis(self) -> list[str]:
        """Why each class has its flags, in the order of the classes."""
        return [str(row.get("basis", "")) for row in self.classes]


_HIERARCHICAL = re.compile(r"^[0-9][0-9A-Z]+$")


def normalise_code(value: object) -> str:
    """A class code as text: "0101" stays, 101 (a code read as a number) becomes "0101", "05h1" becomes "05H1"."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if text.isdigit() and len(text) % 2 == 1:
        text = "0" + text
    return text.upper() if _HIERARCHICAL.match(text.upper()) else text


def _load(name: str) -> dict[str, Any]:
    text = (importlib.resources.files("gis.importers") / "tables" / f"{name}.yaml").read_text(encoding="utf-8")
    return parse_yaml(text, f"gis/importers/tables/{name}.yaml")[0]


@cache
def landuse_table(name: str) -> LandUseTable:
    """A shipped land-use table by name (``gbt21010_2017``, ``landuse_2023``, or an alias such as ``三调``)."""
    name = LANDUSE_ALIASES.get(name, name)
    if name not in LANDUSE_TABLES:
        msg = f"no land-use class table '{name}'; use one of {', '.join(LANDUSE_TABLES)} or give the classes inline"
        raise UsageError(msg)
    return LandUseTable.model_validate(_load(name))


@cache
def landcover_table(name: str) -> LandCoverTable:
    """A shipped land-cover legend by name (``worldcover``, ``clcd``, ``globeland30``)."""
    if name not in LANDCOVER_TABLES:
        msg = f"no land-cover class table '{name}'; use one of {', '.join(LANDCOVER_TABLES)}"
        raise UsageError(msg)
    return LandCoverTable.model_validate(_load(name))
