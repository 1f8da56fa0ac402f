"""The local engine: validates specs against the catalog and runs every indicator of a project."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pydantic import BaseModel, ValidationError

from gis.project._yaml import load_yaml, line_of
from gis.methods.coverage import CoverageParams, measure_coverage
from gis.errors import ConfigError, DataError
from gis.methods.attributes import (
    Measurement,
    PresenceParams,
    RatioParams,
    TotalParams,
    WithinParams,
    measure_presence,
    measure_ratio,
    measure_total,
    measure_within,
)
from gis.project.config import Project
from gis.methods.raster import RasterShareParams, measure_raster_share
from gis.project.specs import Condition, Spec
from gis.methods.targets import judge, judge_trajectory, read_baselines
from gis.methods.zones import Zones, build_zones


@dataclass(frozen=True)
class Method:
    """A method: its parameter model, its function, its input roles, and which role each parameter reads."""

    params: type[BaseModel]
    run: Callable[..., Measurement]
    required_inputs: frozenset[str]
    optional_inputs: frozenset[str] = frozenset()
    param_roles: dict[str, str] = field(default_factory=dict)


METHODS: dict[str, Method] = {
    "ratio": Method(
        RatioParams, measure_ratio, frozenset({"features"}),
        param_roles={"where": "features", "numerator": "features", "numerator_where": "features",
                     "denominator": "features", "zone_field": "features"},
    ),
    "total": Method(
        TotalParams, measure_total, frozenset({"features"}),
        param_roles={"where": "features", "field": "features", "zone_field": "features"},
    ),
    "within": Method(
        WithinParams, measure_within, frozenset({"features", "coverage"}),
        param_roles={"where": "features", "coverage_where": "coverage", "group_field": "coverage"},
    ),
    "presence": Method(
        PresenceParams, measure_presence, frozenset({"zones", "facilities"}),
        param_roles={"zone_where": "zones", "facilities_where": "facilities"},
    ),
    "coverage": Method(
        CoverageParams, measure_coverage, frozenset({"base", "facilities"}),
        param_roles={"facilities_where": "facilities", "base_where": "base"},
    ),
    "raster_share": Method(RasterShareParams, measure_raster_share, frozenset({"raster"}), frozenset({"mask"})),
}

INDICATOR_COLUMNS = [
    "indicator", "zone_type", "zone_id", "zone_name", "value", "unit", "target", "comparator", "status",
    "shortfall", "shortfall_unit", "clause", "year", "path_value", "trajectory", "title_en", "title_zh", "theme",
    "numerator", "denominator", "baseline", "target_year", "synthetic", "reading",
]


def _fields_named(value: Any) -> set[str]:
    """Field names a parameter value refers to (a condition's fields, or a field name or list)."""
    if isinstance(value, Condition):
        return value.fields_used()
    if isinstance(value, str):
        return {value.lstrip("-")}
    if isinstance(value, list):
        return {v.lstrip("-") for v in value if isinstance(v, str)}
    return set()


def _layers_named(value: Any) -> set[str]:
    if isinstance(value, Condition):
        found = {value.in_layer} if value.in_layer else set()
        for child in (value.all or []) + (value.any or []) + ([value.not_] if value.not_ else []):
            found |= _layers_named(child)
        return found
    return set()


def validate_spec_against(project: Project, spec: Spec, path: Path) -> BaseModel:
    """Check a spec's inputs, parameters and fields against the method and the catalog."""
    _, node = load_yaml(path)

    def fail(key: tuple[Any, ...], text: str) -> ConfigError:
        line = line_of(node, key)
        where = f"{path}:{line}" if line else str(path)
        dotted = ".".join(map(str, key))
        return ConfigError(f"{where}: key '{dotted}': {text}")

    method = METHODS[spec.method]
    missing = method.required_inputs - set(spec.inputs)
    if missing:
        raise fail(("inputs",), f"method {spec.method} needs inputs {', '.join(sorted(missing))}")
    extra = set(spec.inputs) - method.required_inputs - method.optional_inputs
    if extra:
        raise fail(("inputs", sorted(extra)[0]), f"method {spec.method} takes no input '{sorted(extra)[0]}'")
    for role, layer in spec.inputs.items():
        if layer not in project.catalog.layers:
            raise fail(("inputs", role), f"layer '{layer}' is not in {project.catalog_path}")
    try:
        params = method.params.model_validate(spec.parameters)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ("parameters", *first["loc"])
        raise fail(key, first["msg"]) from None
    for name, role in method.param_roles.items():
        value = getattr(params, name, None)
        entry = project.catalog.layers[spec.inputs[role]]
        known = set(entry.fields) | {"id"}
        for field_name in _fields_named(value):
            if entry.fields and field_name not in known:
                raise fail(("parameters", name), f"layer '{spec.inputs[role]}' has no field '{field_name}' in the catalog (fields: {', '.join(sorted(known))})")
        for layer in _layers_named(value):
            if layer not in project.catalog.layers:
                raise fail(("parameters", name), f"in_layer '{layer}' is not in the catalog")
    for level in spec.levels:
        if level == "park" and "park" not in project.catalog.zones:
            raise fail(("levels",), "level 'park' needs 'zones.park' in the catalog")
    if spec.target and spec.target.baseline_layer and spec.target.baseline_layer not in project.catalog.layers:
        raise fail(("target", "baseline_layer"), f"layer '{spec.target.baseline_layer}' is not in the catalog")
    return params


@dataclass
class IndicatorResult:
    """One indicator's judged rows, its gap features and its notes."""

    spec: Spec
    rows: pd.DataFrame
    gaps: gpd.GeoDataFrame | None
    notes: list[str]
    synthetic: bool


@dataclass
class RunResult:
    """Everything a run computed, before it is written."""

    project: Project
    zones: Zones
    results: list[IndicatorResult]
    started: datetime
    finished: datetime

    history: list[IndicatorResult] = field(default_factory=list)

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


def spec_inputs_synthetic(project: Project, spec: Spec) -> bool:
    """Whether any layer the spec reads (or the zones it reports at) is synthetic."""
    layers = set(spec.inputs.values()) | {level.layer for level in project.catalog.zones.values()}
    if spec.target and spec.target.baseline_layer:
        layers.add(spec.target.baseline_layer)
    return any(project.catalog.layers[name].synthetic for name in layers if name in project.catalog.layers)


def run_indicator(project: Project, zones: Zones, spec: Spec, *, year: int | None = None) -> IndicatorResult:
    """Measure one indicator (for the data year, or an earlier ``year``) and judge it against its target."""
    method = METHODS[spec.method]
    params = method.params.model_validate(spec.parameters)
    measurement = method.run(project, zones, spec, params)
    baselines = read_baselines(project, spec.target) if spec.target else {}
    rows = judge(measurement.rows, spec, measurement.kind, baselines)
    synthetic = spec_inputs_synthetic(project, spec)
    rows = rows.assign(
        indicator=spec.id,
        year=year if year is not None else project.catalog.data_year,
        unit=spec.unit,
        clause=spec.clause,
        title_en=spec.title.en,
        title_zh=spec.title.zh,
        theme=spec.theme,
        target_year=spec.target.year if spec.target else project.catalog.project.target_year,
        synthetic=synthetic,
        reading=spec.target.reading if spec.target else None,
    )
    gaps = measurement.gaps
    if gaps is not None:
        gaps = gaps.copy()
        gaps.insert(0, "indicator", spec.id)
        gaps["synthetic"] = synthetic
    return IndicatorResult(spec=spec, rows=rows, gaps=gaps, notes=measurement.notes, synthetic=synthetic)


def select_specs(project: Project, only: list[str] | None) -> list[Spec]:
    """The specs to run: all, or those named in ``only`` (an unknown name is an error)."""
    specs = [s for s in project.specs if not only or s.id in only]
    if only and len(specs) != len(set(only)):
        unknown = sorted(set(only) - {s.id for s in project.specs})
        msg = f"no indicator spec named {', '.join(unknown)} in {project.root / 'analyses'}"
        raise DataError(msg)
    return specs


def run_project(
    project: Project,
    *,
    only: list[str] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RunResult:
    """Run every indicator spec of the project (or those in ``only``)."""
    started = datetime.now(UTC)
    specs = select_specs(project, only)
    if on_step:
        on_step("zones")
    zones = build_zones(project)
    results = []
    for spec in specs:
        if on_step:
            on_step(spec.id)
        results.append(run_indicator(project, zones, spec))
    history = []
    for year in project.catalog.years():
        if on_step:
            on_step(f"year {year}")
        history += run_year(project, zones, specs, year)
    return RunResult(project=project, zones=zones, results=results, history=history, started=started, finished=datetime.now(UTC))


def specs_for_year(project: Project, specs: list[Spec], year: int) -> list[Spec]:
    """The specs whose inputs all have data of ``year`` (and at least one changes with the year)."""
    catalog = project.catalog
    chosen = []
    for spec in specs:
        inputs = [catalog.layers[name] for name in spec.inputs.values()]
        if all(not entry.years or year in entry.years for entry in inputs) and any(year in entry.years for entry in inputs):
            chosen.append(spec)
    return chosen


def run_year(project: Project, zones: Zones, specs: list[Spec], year: int) -> list[IndicatorResult]:
    """The indicators that can be measured for an earlier ``year``, from the layers as they stood then."""
    then = project.for_year(year)
    results = [run_indicator(then, zones, spec, year=year) for spec in specs_for_year(project, specs, year)]
    for note in then.notes:
        project.note(note.layer, f"({year}) {note.problem}", note.action, feature_id=note.feature_id, field=note.field,
                     severity=note.severity)
    return results
