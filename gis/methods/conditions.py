"""Evaluation of spec conditions (``where``) on feature attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gis.errors import DataError
from gis.project.specs import Condition

if TYPE_CHECKING:
    from gis.project.layers import LayerReader


def _truthy(series: pd.Series) -> pd.Series:
    """Booleans from booleans, 0/1, or the strings true/false/yes/no/是/否."""
    if series.dtype == bool:
        return series
    text = series.astype(str).str.strip().str.lower()
    return text.isin({"true", "1", "yes", "y", "t", "是", "1.0"})


def _compare_value(series: pd.Series, value: object) -> pd.Series:
    if isinstance(value, bool):
        return _truthy(series) == value
    if isinstance(value, int | float):
        return pd.to_numeric(series, errors="coerce") == value
    return series.astype(str) == str(value)


def evaluate(frame: pd.DataFrame, condition: Condition | None, *, layer: str, project: LayerReader | None = None) -> pd.Series:
    """A boolean mask of the rows of ``frame`` that meet ``condition`` (all rows when None)."""
    if condition is None:
        return pd.Series(True, index=frame.index)
    if condition.all is not None:
        masks = [evaluate(frame, c, layer=layer, project=project) for c in condition.all]
        return np.logical_and.reduce(masks) if masks else pd.Series(True, index=frame.index)
    if condition.any is not None:
        masks = [evaluate(frame, c, layer=layer, project=project) for c in condition.any]
        return np.logical_or.reduce(masks) if masks else pd.Series(False, index=frame.index)
    if condition.not_ is not None:
        return ~evaluate(frame, condition.not_, layer=layer, project=project)
    field = condition.field
    if field not in frame.columns:
        msg = f"layer '{layer}' has no field '{field}' used in a condition; map it under 'layers.{layer}.fields' in the catalog"
        raise DataError(msg)
    series = frame[field]
    if condition.is_null is not None:
        null = series.isna() | (series.astype(str).str.strip() == "")
        return null if condition.is_null else ~null
    if "eq" in condition.model_fields_set:
        return _compare_value(series, condition.eq)
    if "ne" in condition.model_fields_set:
        return ~_compare_value(series, condition.ne)
    if condition.in_ is not None:
        return series.astype(str).isin([str(v) for v in condition.in_])
    if condition.not_in is not None:
        return ~series.astype(str).isin([str(v) for v in condition.not_in])
    if condition.in_layer is not None:
        if project is None:
            msg = "in_layer conditions need the project"
            raise DataError(msg)
        other = project.entry(condition.in_layer)
        ids = project.read_table(condition.in_layer) if other.kind == "table" else project.read_vector(condition.in_layer)
        return series.astype(str).isin(set(ids["id"].astype(str)))
    numbers = pd.to_numeric(series, errors="coerce")
    for name, op in (("gt", np.greater), ("ge", np.greater_equal), ("lt", np.less), ("le", np.less_equal)):
        bound = getattr(condition, name)
        if bound is not None:
            return pd.Series(op(numbers, bound).fillna(False).astype(bool), index=frame.index)
    msg = "condition has no test"
    raise DataError(msg)
