"""The local engine: runs every indicator of a project in this process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from gis.engines.result import IndicatorResult, RunResult
from gis.errors import DataError
from gis.methods.registry import METHODS
from gis.methods.targets import judge, read_baselines
from gis.methods.zones import Zones, build_zones
from gis.project.config import ProjectConfig
from gis.project.layers import LayerReader
from gis.project.specs import Spec


def spec_inputs_synthetic(project: ProjectConfig, spec: Spec) -> bool:
    """Whether any layer the spec reads (or the zones it reports at) is synthetic."""
    layers = set(spec.inputs.values()) | {level.layer for level in project.catalog.zones.values()}
    if spec.target and spec.target.baseline_layer:
        layers.add(spec.target.baseline_layer)
    return any(project.catalog.layers[name].synthetic for name in layers if name in project.catalog.layers)


def run_indicator(layers: LayerReader, zones: Zones, spec: Spec, *, year: int | None = None) -> IndicatorResult:
    """Measure one indicator from ``layers`` (of the data year, or of an earlier ``year``) and judge it against its target."""
    project = layers.project
    method = METHODS[spec.method]
    params = method.params.model_validate(spec.parameters)
    measurement = method.run(layers, zones, spec, params)
    baselines = read_baselines(layers, spec.target) if spec.target else {}
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
        target_year=spec.target.year if spec.target and spec.target.year else project.catalog.project.target_year,
        synthetic=synthetic,
        reading=spec.target.reading if spec.target else None,
    )
    gaps = measurement.gaps
    if gaps is not None:
        gaps = gaps.copy()
        gaps.insert(0, "indicator", spec.id)
        gaps["synthetic"] = synthetic
    return IndicatorResult(spec=spec, rows=rows, gaps=gaps, notes=measurement.notes, synthetic=synthetic)


def select_specs(project: ProjectConfig, only: list[str] | None) -> list[Spec]:
    """The specs to run: all, or those named in ``only`` (an unknown name is an error)."""
    specs = [s for s in project.specs if not only or s.id in only]
    if only and len(specs) != len(set(only)):
        unknown = sorted(set(only) - {s.id for s in project.specs})
        msg = f"no indicator spec named {', '.join(unknown)} in {project.root / 'analyses'}"
        raise DataError(msg)
    return specs


def run_project(
    project: ProjectConfig,
    *,
    only: list[str] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RunResult:
    """Run every indicator spec of the project (or those in ``only``); the run reads the layers and keeps its own log."""
    started = datetime.now(UTC)
    specs = select_specs(project, only)
    layers = LayerReader(project)
    if on_step:
        on_step("zones")
    zones = build_zones(layers)
    results = []
    for spec in specs:
        if on_step:
            on_step(spec.id)
        results.append(run_indicator(layers, zones, spec))
    history = []
    for year in project.catalog.years():
        if on_step:
            on_step(f"year {year}")
        history += run_year(layers, zones, specs, year)
    return RunResult(layers=layers, zones=zones, results=results, history=history, started=started,
                     finished=datetime.now(UTC))


def specs_for_year(project: ProjectConfig, specs: list[Spec], year: int) -> list[Spec]:
    """The specs whose inputs all have data of ``year`` (and at least one changes with the year)."""
    catalog = project.catalog
    chosen = []
    for spec in specs:
        inputs = [catalog.layers[name] for name in spec.inputs.values()]
        if all(not entry.years or year in entry.years for entry in inputs) and any(year in entry.years for entry in inputs):
            chosen.append(spec)
    return chosen


def run_year(layers: LayerReader, zones: Zones, specs: list[Spec], year: int) -> list[IndicatorResult]:
    """The indicators that can be measured for an earlier ``year``, from the layers as they stood then."""
    then = layers.for_year(year)
    results = [run_indicator(then, zones, spec, year=year) for spec in specs_for_year(layers.project, specs, year)]
    layers.log.add_year(year, then.notes)
    return results
