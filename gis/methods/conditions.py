"""Evaluation of spec conditions (``where``) on feature attributes.

A comparison with a number (``gt``, ``ge``, ``lt``, ``le``, ``eq: 0``) or with true/false on a
blank cell has no answer: the blank is not 0 and not false.  :func:`verdict` says, per feature,
whether the condition holds and which blank field leaves it open, in three-valued logic (an
``any`` holds when one part holds, whatever the blank; an ``all`` fails when one part fails;
``not`` of an open answer is open).  What a measure does with the open ones is the spec's
``missing_values`` (see :class:`gis.methods.attributes.Blanks`).  Text tests (``eq: coal_boiler``,
``in``, ``in_layer``) and ``is_null`` always have an answer: a blank is not that text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gis.errors import DataError
from gis.project.specs import Condition

if TYPE_CHECKING:
    from gis.project.layers import LayerReader


def is_blank(series: pd.Series) -> pd.Series:
    """True where a cell holds nothing: NULL, NaN, or text of only spaces."""
    return series.isna() | (series.astype(str).str.strip() == "")


@dataclass(frozen=True)
class Verdict:
    """Per feature: whether a condition holds (``met``), and the blank field that leaves it open (``blank``, "" when known)."""

    met: pd.Series
    blank: pd.Series

    @property
    def unknown(self) -> pd.Series:
        """True where a blank leaves the answer open."""
        return self.blank != ""

    @property
    def possible(self) -> pd.Series:
        """True where the condition holds or may hold (met or open)."""
        return self.met | self.unknown

    @classmethod
    def known(cls, met: pd.Series) -> Verdict:
        """A verdict without blanks."""
        return cls(met.astype(bool), pd.Series("", index=met.index, dtype=object))


def first_blank(*blanks: pd.Series) -> pd.Series:
    """Per row the first non-empty field name of ``blanks`` (all on one index), "" when none."""
    out = blanks[0]
    for other in blanks[1:]:
        out = out.where(out != "", other)
    return out


def _truthy(series: pd.Series) -> pd.Series:
    """Booleans from booleans, 0/1, or the strings true/false/yes/no/是/否."""
    if series.dtype == bool:
        return series
    text = series.astype(str).str.strip().str.lower()
    return text.isin({"true", "1", "yes", "y", "t", "是", "1.0"})


def numbers_of(series: pd.Series, field: str, layer: str, frame: pd.DataFrame, *, why: str = "") -> pd.Series:
    """The numbers of a field, NaN where blank; text that is not a number is an error naming the feature (``why``: the use)."""
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & ~is_blank(series)
    if bad.any():
        row = frame.loc[bad].iloc[0]
        msg = f"layer '{layer}' feature '{row['id']}' field '{field}': {row[field]!r} is not a number{why}; correct the value"
        raise DataError(msg)
    return numbers


def _compare_value(series: pd.Series, value: object, field: str, layer: str, frame: pd.DataFrame) -> Verdict:
    """``field == value``: open on a blank when ``value`` is a number or true/false."""
    blank = pd.Series(np.where(is_blank(series), field, ""), index=series.index, dtype=object)
    if isinstance(value, bool):
        return Verdict(((_truthy(series) == value) & (blank == "")).astype(bool), blank)
    if isinstance(value, int | float):
        return Verdict((numbers_of(series, field, layer, frame, why=" (a condition compares it with one)") == value).astype(bool), blank)
    return Verdict.known(series.astype(str) == str(value))


def _negate(verdict: Verdict) -> Verdict:
    return Verdict(~verdict.met & ~verdict.unknown, verdict.blank)


def _all(verdicts: list[Verdict], index: pd.Index) -> Verdict:
    """Kleene AND: holds when every part holds, fails when one part fails, else open."""
    if not verdicts:
        return Verdict.known(pd.Series(True, index=index))
    met = pd.Series(np.logical_and.reduce([v.met.to_numpy() for v in verdicts]), index=index)
    fails = pd.Series(np.logical_or.reduce([(~v.met & ~v.unknown).to_numpy() for v in verdicts]), index=index)
    blank = first_blank(*[v.blank for v in verdicts]).where(~met & ~fails, "")
    return Verdict(met, blank)


def _any(verdicts: list[Verdict], index: pd.Index) -> Verdict:
    """Kleene OR: holds when one part holds, fails when every part fails, else open."""
    if not verdicts:
        return Verdict.known(pd.Series(False, index=index))
    met = pd.Series(np.logical_or.reduce([v.met.to_numpy() for v in verdicts]), index=index)
    blank = first_blank(*[v.blank for v in verdicts]).where(~met, "")
    return Verdict(met, blank)


def verdict(frame: pd.DataFrame, condition: Condition | None, *, layer: str, project: LayerReader | None = None) -> Verdict:
    """Per row of ``frame``: whether it meets ``condition`` (all rows when None), and the blank field that leaves it open."""
    if condition is None:
        return Verdict.known(pd.Series(True, index=frame.index))
    if condition.all is not None:
        return _all([verdict(frame, c, layer=layer, project=project) for c in condition.all], frame.index)
    if condition.any is not None:
        return _any([verdict(frame, c, layer=layer, project=project) for c in condition.any], frame.index)
    if condition.not_ is not None:
        return _negate(verdict(frame, condition.not_, layer=layer, project=project))
    field = condition.field
    if field is None or field not in frame.columns:
        msg = f"layer '{layer}' has no field '{field}' used in a condition; map it under 'layers.{layer}.fields' in the catalog"
        raise DataError(msg)
    series = frame[field]
    if condition.is_null is not None:
        null = is_blank(series)
        return Verdict.known(null if condition.is_null else ~null)
    if "eq" in condition.model_fields_set:
        return _compare_value(series, condition.eq, field, layer, frame)
    if "ne" in condition.model_fields_set:
        return _negate(_compare_value(series, condition.ne, field, layer, frame))
    if condition.in_ is not None:
        return Verdict.known(series.astype(str).isin([str(v) for v in condition.in_]))
    if condition.not_in is not None:
        return Verdict.known(~series.astype(str).isin([str(v) for v in condition.not_in]))
    if condition.in_layer is not None:
        if project is None:
            msg = "in_layer conditions need the project"
            raise DataError(msg)
        other = project.entry(condition.in_layer)
        ids = project.read_table(condition.in_layer) if other.kind == "table" else project.read_vector(condition.in_layer)
        return Verdict.known(series.astype(str).isin(set(ids["id"].astype(str))))
    for name, op in (("gt", np.greater), ("ge", np.greater_equal), ("lt", np.less), ("le", np.less_equal)):
        bound = getattr(condition, name)
        if bound is not None:
            numbers = numbers_of(series, field, layer, frame, why=" (a condition compares it with one)")
            blank = pd.Series(np.where(numbers.isna(), field, ""), index=frame.index, dtype=object)
            return Verdict(pd.Series(op(numbers, bound).fillna(False).astype(bool), index=frame.index), blank)
    msg = "condition has no test"
    raise DataError(msg)


def evaluate(frame: pd.DataFrame, condition: Condition | None, *, layer: str, project: LayerReader | None = None) -> pd.Series:
    """A boolean mask of the rows of ``frame`` that meet ``condition`` (all rows when None).

    A row whose answer a blank leaves open does not meet it: right for showing features on a
    map; a measure asks :func:`verdict` and follows the spec's ``missing_values`` instead.
    """
    return verdict(frame, condition, layer=layer, project=project).met
