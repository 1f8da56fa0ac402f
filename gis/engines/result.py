"""What a run computed, before it is written: each indicator's rows and gaps, the zones, the findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import geopandas as gpd
import pandas as pd

from gis.methods.targets import judge_trajectory
from gis.methods.zones import Zones
from gis.project.config import ProjectConfig
from gis.project.layers import LayerReader
from gis.project.quality import QualityNote
from gis.project.specs import Spec

INDICATOR_COLUMNS = [
    "indicator", "zone_type", "zone_id", "zone_name", "value", "unit", "target", "comparator", "status",
    "shortfall", "shortfall_unit", "clause", "year", "path_value", "trajectory", "title_en", "title_zh", "theme",
    "numerator", "denominator", "baseline", "target_year", "synthetic", "reading", "status_note",
]
"""Columns of ``indicators.csv``.  ``status_note`` says why a zone has the status it has where that needs
saying (an input layer with no features, a denominator of 0, a layer the catalog lacks); empty otherwise.

A ``status`` of ``not_assessed`` marks every row of an indicator that reads a layer the catalog
lacks; its ``status_note`` starts "not assessed: no layer 'x';"."""


@dataclass
class IndicatorResult:
    """One indicator's judged rows, its gap features and its notes."""

    spec: Spec
    rows: pd.DataFrame
    gaps: gpd.GeoDataFrame | None
    notes: list[str]
    synthetic: bool

    @property
    def assessed(self) -> bool:
        """False when the indicator was not assessed (a layer it reads is not in the catalog): every row ``not_assessed``."""
        status = self.rows["status"] if "status" in self.rows.columns else None
        return status is None or status.empty or not bool((status == "not_assessed").all())


@dataclass
class RunResult:
    """Everything a run computed, before it is written."""

    layers: LayerReader
    """The run's reading of the project's layers (cached) and its data-quality log."""
    zones: Zones
    results: list[IndicatorResult]
    started: datetime
    finished: datetime

    history: list[IndicatorResult] = field(default_factory=list)

    @property
    def project(self) -> ProjectConfig:
        """The project that was run (the one its layers were read from)."""
        return self.layers.project

    @cached_property
    def indicator_history(self) -> pd.DataFrame:
        """Rows of every year (the data year and earlier ones), judged against the straight path to the target."""
        frames = [r.rows for r in [*self.results, *self.history] if not r.rows.empty]
        if not frames:
            return pd.DataFrame(columns=INDICATOR_COLUMNS)
        rows = judge_trajectory(pd.concat(frames, ignore_index=True), self.project.catalog)
        order = {spec_id: i for i, spec_id in enumerate(r.spec.id for r in self.results)}
        rows["_order"] = rows["indicator"].map(order)
        rows["_zone"] = rows.groupby(["indicator", "year"]).cumcount()
        rows = rows.sort_values(["_order", "_zone", "year"], kind="stable", ignore_index=True)
        return rows[INDICATOR_COLUMNS]

    @property
    def indicators(self) -> pd.DataFrame:
        """One row per indicator and zone for the data year (the rows of ``indicators.csv`` of that year)."""
        rows = self.indicator_history
        return rows[rows["year"] == self.project.catalog.data_year].reset_index(drop=True)

    @property
    def synthetic(self) -> bool:
        """Whether any input of any indicator is synthetic."""
        return any(r.synthetic for r in self.results)

    @property
    def notes(self) -> list[QualityNote]:
        """The run's data-quality findings, in the order they were made."""
        return self.layers.notes
