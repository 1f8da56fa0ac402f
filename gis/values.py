"""Missing values in tables: one test for None, NaN (Python or numpy), pandas' NA and NaT."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def is_missing(value: object) -> bool:
    """Whether ``value`` is no value: None, NaN (Python or numpy), pandas' NA or NaT."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)
