"""The local engine: validates specs against the catalog and runs every indicator of a project."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pydantic import BaseModel, ValidationError

from ._yaml import load_yaml, line_of
from .coverage import CoverageParams, measure_coverage
from .errors import ConfigError, DataError
from .measures import (
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
from .project import Project
from .raster import RasterShareParams, measure_raster_share
from .specs import Condition, Spec
from .targets import judge, read_baselines
from .zones import Zones, build_zones


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
    "shortfall", "shortfall_unit", "clause", "title_en", "title_zh", "theme", "numerator", "denominator",
    "baseline", "target_year", "synthetic", "reading",
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

    @property
    def indicators(self) -> pd.DataFrame:
        """One row per indicator and zone, the columns of ``indicators.csv``."""
        frames = [r.rows for r in self.results if not r.rows.empty]
        if not frames:
            return pd.DataFrame(columns=INDICATOR_COLUMNS)
        return pd.concat(frames, ignore_index=True)[INDICATOR_COLUMNS]

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


def run_indicator(project: Project, zones: Zones, spec: Spec) -> IndicatorResult:
    """Measure one indicator and judge it against its target."""
    method = METHODS[spec.method]
    params = method.params.model_validate(spec.parameters)
    measurement = method.run(project, zones, spec, params)
    baselines = read_baselines(project, spec.target) if spec.target else {}
    rows = judge(measurement.rows, spec, measurement.kind, baselines)
    synthetic = spec_inputs_synthetic(project, spec)
    rows = rows.assign(
        indicator=spec.id,
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


def run_project(
    project: Project,
    *,
    only: list[str] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RunResult:
    """Run every indicator spec of the project (or those in ``only``)."""
    started = datetime.now(UTC)
    specs = [s for s in project.specs if not only or s.id in only]
    if only and len(specs) != len(set(only)):
        unknown = sorted(set(only) - {s.id for s in project.specs})
        msg = f"no indicator spec named {', '.join(unknown)} in {project.root / 'analyses'}"
        raise DataError(msg)
    if on_step:
        on_step("zones")
    zones = build_zones(project)
    results = []
    for spec in specs:
        if on_step:
            on_step(spec.id)
        results.append(run_indicator(project, zones, spec))
    return RunResult(project=project, zones=zones, results=results, started=started, finished=datetime.now(UTC))
