"""Indicator specs (``analyses/*.yaml``): what to compute, from which layers, against which target."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from gis.bilingual import Bilingual, EnText, Lang, ZhText, label
from gis.errors import ConfigError
from gis.project._yaml import load_yaml, validate

ZoneType = Literal["city", "prefecture", "county", "park"]
Comparator = Literal[">=", "<=", "=="]
MissingValues = Literal["stop", "skip"]
"""What a blank number means to an indicator: ``stop`` the run, or ``skip`` (leave out) the features that have one."""
DEFAULT_ZONE_TYPES: tuple[ZoneType, ...] = ("city", "county")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


def _finite(value: Any) -> Any:
    """``value`` itself, unless it is a number that is not finite (YAML ``.nan``, ``.inf``)."""
    if isinstance(value, float) and not math.isfinite(value):
        msg = "Input should be a finite number"
        raise ValueError(msg)
    return value


class Condition(_Strict):
    """A filter on feature attributes; the fields are canonical names from the catalog.

    Exactly one test per condition: a comparison on ``field``, or ``all`` / ``any`` / ``not``
    of other conditions.  ``in_layer`` keeps features whose field value is an id of
    another layer (sewers that reach an existing plant).  A comparison with a number or with
    true/false on a blank cell has no answer (a blank is neither 0 nor false): the spec's
    ``missing_values`` says what then; ``is_null`` tests for blanks explicitly.
    """

    field: str | None = None
    eq: Any = None
    ne: Any = None
    in_: list[Any] | None = Field(None, alias="in")
    not_in: list[Any] | None = None
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    is_null: bool | None = None
    in_layer: str | None = Field(None, description="layer whose id_field values are allowed")
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(None, alias="not")

    @field_validator("eq", "ne")
    @classmethod
    def _finite_value(cls, value: Any) -> Any:
        return _finite(value)

    @field_validator("in_", "not_in")
    @classmethod
    def _finite_values(cls, values: list[Any] | None) -> list[Any] | None:
        for value in values or []:
            _finite(value)
        return values

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [
            name
            for name in ("eq", "ne", "in_", "not_in", "gt", "ge", "lt", "le", "is_null", "in_layer")
            if name in self.model_fields_set
        ]
        groups = [name for name in ("all", "any", "not_") if getattr(self, name) is not None]
        if groups and (tests or self.field):
            msg = "a condition is either a test on 'field' or one of all/any/not, not both"
            raise ValueError(msg)
        if not groups and (self.field is None or len(tests) != 1):
            msg = "a condition needs 'field' and exactly one test (eq, ne, in, not_in, gt, ge, lt, le, is_null, in_layer)"
            raise ValueError(msg)
        return self

    def fields_used(self) -> set[str]:
        """Every canonical field the condition reads."""
        used = {self.field} if self.field else set()
        for child in (self.all or []) + (self.any or []) + ([self.not_] if self.not_ else []):
            used |= child.fields_used()
        return used


class Title(_Strict):
    """A name in Chinese and English."""

    zh: str
    en: str

    def pick(self, lang: Lang = "both", *, sep: str = " ") -> str:
        """The name in ``lang`` (both: '中文 English')."""
        return label(self.zh, self.en, lang, sep=sep)


SPEC_TEXT_KEYS = ("title", "definition", "unit", "notes", "wording", "reading", "shortfall_unit")
"""The texts of a spec that reach the outputs, by the names :meth:`Spec.text` takes (``wording``, ``reading``: the
target's; ``shortfall_unit``: the shortfall's ``unit``, as the indicator rows name them)."""


class Target(_Strict):
    """The plan's target for an indicator.

    The threshold for a zone is ``value`` (or ``value_by_zone_type``), or the zone's baseline
    plus ``increase`` (absolute points: a direction-only target), or the zone's baseline times
    ``1 + change`` (a relative change: "energy per unit of GDP -16 % from 2020" is
    ``change: -0.16`` with ``comparator: "<="``); when more than one is given, whichever is
    easier to reach ("70 % or +5 points over 2020").

    The baseline of a zone comes from ``baseline_layer`` (a table ``indicator, zone_type,
    zone_id, value``), or, without one, is the indicator itself measured on the layers as they
    stood in the catalog's ``project.baseline_year`` (their ``years:`` entries).

    ``by_zone`` sets the target zone by zone: per zone id (a county's code, e.g. ``"411202"``),
    the figure that replaces the target's one kind of figure (``value``, ``change`` or
    ``increase``) for that zone only.  It is how a project enters county targets the plan leaves
    to a table of its own (such as the plan's attachment 1).
    """

    comparator: Comparator
    value: float | None = None
    value_by_zone_type: dict[ZoneType, float] = Field(default_factory=dict)
    increase: float | None = Field(None, description="required change over the baseline, same unit as the value")
    change: float | None = Field(
        None, description="required relative change over the baseline: -0.16 = 16 % below it, 0.05 = 5 % above it"
    )
    baseline_layer: str | None = None
    by_zone: dict[str, float] = Field(
        default_factory=dict,
        description="per zone id (a county code): the figure replacing the target's value, change or increase for that zone",
    )
    zone_types: list[ZoneType] = Field(default_factory=lambda: list(DEFAULT_ZONE_TYPES))
    year: int | None = Field(None, description="the year to reach it by (default: the catalog's project.target_year)")
    clause: str
    wording: ZhText = Field(description="the plan's own words (Chinese), or {zh: the plan's words, en: their English rendering}")
    reading: EnText | None = Field(None, description="how a vague target is read, stated in the outputs: a string or {zh, en}")

    @field_validator("change")
    @classmethod
    def _change_above_minus_one(cls, change: float | None) -> float | None:
        if change is not None and change <= -1:
            msg = (f"'change' is a fraction of the baseline (-0.16 = 16 % below it) and must be above -1 "
                   f"(-1 would be nothing at all); got {change:g}")
            raise ValueError(msg)
        return change

    @field_validator("by_zone", mode="before")
    @classmethod
    def _zone_ids_as_text(cls, by_zone: Any) -> Any:
        """County codes written as numbers (``411202: -0.2``) are zone ids, as text."""
        if isinstance(by_zone, dict):
            return {str(key) if isinstance(key, int) and not isinstance(key, bool) else key: value for key, value in by_zone.items()}
        return by_zone

    @field_validator("by_zone")
    @classmethod
    def _one_kind_of_figure(cls, by_zone: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        if not by_zone:
            return by_zone
        kinds = _figure_kinds(info.data.get("value"), info.data.get("value_by_zone_type"), info.data.get("increase"),
                              info.data.get("change"))
        if len(kinds) > 1:
            msg = (f"'by_zone' replaces the target's one kind of figure zone by zone, but this target has "
                   f"{' and '.join(repr(k) for k in kinds)}; keep one of them in a target with 'by_zone'")
            raise ValueError(msg)
        if not kinds:
            msg = "'by_zone' replaces the target's 'value', 'change' or 'increase' zone by zone: give the target one of them"
            raise ValueError(msg)
        if kinds == ["change"]:
            low = {zone: figure for zone, figure in by_zone.items() if figure <= -1}
            if low:
                zone, figure = next(iter(low.items()))
                msg = f"zone '{zone}': a 'change' must be above -1 (-0.16 = 16 % below the baseline); got {figure:g}"
                raise ValueError(msg)
        return by_zone

    @model_validator(mode="after")
    def _has_threshold(self) -> Target:
        if self.value is None and not self.value_by_zone_type and self.increase is None and self.change is None:
            msg = "a target needs 'value', 'value_by_zone_type', or 'increase' or 'change' over a baseline"
            raise ValueError(msg)
        return self

    @property
    def figure_kinds(self) -> list[str]:
        """The kinds of figure the target gives: ``value`` (``value`` or ``value_by_zone_type``), ``change``, ``increase``."""
        return _figure_kinds(self.value, self.value_by_zone_type, self.increase, self.change)

    @property
    def relative(self) -> bool:
        """Whether the threshold needs a baseline (``increase`` or ``change``)."""
        return self.increase is not None or self.change is not None


def _figure_kinds(value: object, value_by_zone_type: object, increase: object, change: object) -> list[str]:
    kinds = ["value"] if value is not None or value_by_zone_type else []
    return kinds + [name for name, given in (("change", change), ("increase", increase)) if given is not None]


class Shortfall(_Strict):
    """How a gap is stated in real units."""

    unit: EnText = Field(description="what the shortfall counts ('charger spaces'): a string or {zh: 个充电车位, en: charger spaces}")
    factor: float = Field(1.0, description="multiplies the shortfall in the numerator's own unit")
    rounding: Literal["ceil", "none"] = Field("none", description="ceil: up to a whole unit (spaces, boilers); none: up at 'decimals'")
    decimals: int = Field(3, ge=0, le=9, description="decimals of a shortfall not counted in whole units; always rounded up, so "
                          "that doing exactly the shortfall meets the target")


class Spec(_Strict):
    """One indicator spec."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    title: Title
    theme: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="one of the catalog's project.themes")
    clause: str
    definition: EnText = Field(description="what is measured, in words: a string or {zh, en}")
    formula: str
    method: Literal["ratio", "coverage", "raster_share", "within", "total", "presence", "area_share"]
    inputs: dict[str, str]
    parameters: dict[str, Any] = Field(default_factory=dict)
    missing_values: MissingValues = Field(
        "stop",
        description="a blank number in a field the indicator reads (summed or compared): stop the run (an error naming the "
        "features), or skip: leave those features out (numerator and denominator) and say so in the notes",
    )
    unit: EnText = Field(description="the unit of the value: 'share' (a fraction 0..1), a symbol (t, km2), or {zh, en} for a "
                         "counted thing ({zh: 个排污口, en: outfalls})")
    zone_types: list[ZoneType] = Field(default_factory=lambda: list(DEFAULT_ZONE_TYPES), description="the zone types the indicator is reported for")
    target: Target | None = None
    shortfall: Shortfall | None = None
    proposal: dict[str, Any] | None = Field(
        None, description="settings of the proposal that would close the gap (candidate layers, planning targets)"
    )
    notes: EnText | None = Field(None, description="anything else the outputs should say: a string or {zh, en}")

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and "levels" in data:
            msg = "key 'levels' is now 'zone_types' (the same name as the target's); rename it"
            raise ValueError(msg)
        return data

    @model_validator(mode="after")
    def _shortfall_with_target(self) -> Spec:
        if self.target is not None and self.shortfall is None:
            msg = "a spec with a target needs 'shortfall' (its unit and factor), so gaps are stated in real units"
            raise ValueError(msg)
        return self

    def bilingual(self, key: str) -> Bilingual | None:
        """The text ``key`` (one of :data:`SPEC_TEXT_KEYS`) with both its forms; None where the spec has none."""
        if key == "title":
            return Bilingual.of(self.title.zh, self.title.en)
        if key in ("wording", "reading"):
            return getattr(self.target, key) if self.target is not None else None
        if key == "shortfall_unit":
            return self.shortfall.unit if self.shortfall is not None else None
        if key in ("definition", "unit", "notes"):
            return getattr(self, key)
        msg = f"unknown spec text {key!r}; one of {', '.join(SPEC_TEXT_KEYS)}"
        raise KeyError(msg)

    def text(self, key: str, lang: Lang = "both", *, sep: str = " ") -> str:
        """The text ``key`` (one of :data:`SPEC_TEXT_KEYS`) in ``lang``; '' where the spec has none.

        ``spec.text("definition", "zh")``; a text written as one plain string reads the same in every language.
        """
        text = self.bilingual(key)
        return "" if text is None else text.pick(lang, sep=sep)

    def texts(self) -> dict[str, dict[str, str]]:
        """Every text of :data:`SPEC_TEXT_KEYS` the spec has, as ``{key: {"zh": ..., "en": ...}}`` (for run.json)."""
        found = {key: self.bilingual(key) for key in SPEC_TEXT_KEYS}
        return {key: {"zh": text.zh, "en": text.en} for key, text in found.items() if text is not None}


def read_spec(path: Path) -> Spec:
    """Load one spec file and check its id matches its file name."""
    data, node = load_yaml(path)
    spec = validate(Spec, data, path, node)
    if spec.id != path.stem:
        msg = f"{path}: key 'id' is {spec.id!r} but the file is named {path.name}; name the file {spec.id}.yaml"
        raise ConfigError(msg)
    return spec
