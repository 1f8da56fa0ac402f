"""The local engine: runs every indicator of a project in this process."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel

from gis.engines.result import IndicatorResult, RunResult
from gis.errors import DataError, UsageError
from gis.methods.attributes import Measurement, read_layer
from gis.methods.registry import METHODS, absent_layers, layers_read, not_assessed_note
from gis.methods.targets import BaselineKey, Baselines, judge, no_value_note, read_baselines, relative_word
from gis.methods.zones import Zones, build_zones, label_rows
from gis.project._yaml import key_error
from gis.project.config import ProjectConfig
from gis.project.layers import LayerReader
from gis.project.specs import Spec
from gis.values import is_missing


def spec_inputs_synthetic(project: ProjectConfig, spec: Spec) -> bool:
    """Whether any layer the spec reads (or the zones it reports at) is synthetic."""
    layers = set(spec.inputs.values()) | {level.layer for level in project.catalog.zones.values()}
    if spec.target and spec.target.baseline_layer:
        layers.add(spec.target.baseline_layer)
    return any(project.catalog.layers[name].synthetic for name in layers if name in project.catalog.layers)


def empty_input(layers: LayerReader, zones: Zones, spec: Spec, params: BaseModel) -> str | None:
    """The vector or table layer the indicator reads (its inputs, the ``in_layer`` layers of its conditions)
    that has no features, so it cannot be measured (None: it can).

    A layer with no features at all (as read, before any ``where``) is taken for a broken
    export, unless the catalog says ``may_be_empty: true`` (none exist: a real answer, measured
    as such).  A zone layer (counties, parks, built-up areas) with no features is an error.
    """
    zone_layers: dict[str, str] = {level.layer: str(kind) for kind, level in layers.catalog.zones.items()}
    for zone_type in spec.zone_types:
        if zone_type in zones.levels and zones.level(zone_type).empty:
            name = next(layer for layer, kind in zone_layers.items() if kind == zone_type)
            msg = (f"{layers.layer_path(name)}: layer '{name}' of the {zone_type} zones has no features, and {spec.id} reports "
                   f"by {zone_type}; fix the export, or remove '{zone_type}' from 'zone_types' in analyses/{spec.id}.yaml")
            raise DataError(msg)
    for name in layers_read(spec, params):
        entry = layers.entry(name)
        if entry.kind == "raster" or not read_layer(layers, name).empty:
            continue
        if name in zone_layers:
            kind = zone_layers[name]
            msg = (f"{layers.layer_path(name)}: layer '{name}' has no features, but it holds the {kind} zones "
                   f"('zones.{kind}' in {layers.catalog_path}) that {spec.id} reads; fix the export")
            raise DataError(msg)
        if entry.may_be_empty:
            continue
        return name
    return None


def empty_reason(layer: str, year: int | None = None) -> str:
    """The ``status_note`` of an indicator not measured because ``layer`` has no features (in an earlier ``year``)."""
    when = f" in {year}" if year is not None else ""
    return (f"layer '{layer}' has no features{when}: a broken export? if there really are none, "
            f"set 'layers.{layer}.may_be_empty: true' in layers/catalog.yaml")


def unmeasured_rows(zones: Zones, spec: Spec, reason: str) -> pd.DataFrame:
    """A row per zone the indicator reports at, with no value and ``reason`` as its ``status_note``."""
    frames = [label_rows(zones.level(level)[["zone_id"]], zones, level) for level in spec.zone_types if level in zones.levels]
    rows = pd.concat(frames, ignore_index=True)
    for column in ("numerator", "denominator", "value"):
        rows[column] = np.nan
    rows["status_note"] = reason
    return rows


def check_zone_ids(layers: LayerReader, zones: Zones, spec: Spec) -> None:
    """Refuse a target's ``by_zone`` naming a zone the indicator is not judged at (a misspelt county code).

    With ``zones.county.inputs_beyond`` (some counties of a wider area) the other counties' entries
    are expected: they are passed over, said once in the run's notes with the ids, not refused."""
    target = spec.target
    if target is None or not target.by_zone:
        return
    levels = [level for level in spec.zone_types if level in target.zone_types and level in zones.levels]
    known = {str(zone_id): level for level in levels for zone_id in zones.level(level)["zone_id"]}
    unknown = [zone_id for zone_id in target.by_zone if zone_id not in known]
    if unknown and layers.inputs_beyond:
        layers.note(layers.county_layer, f"{spec.id}: target.by_zone names {len(unknown)} zones beyond the counties: "
                    f"{', '.join(unknown)}", "not judged in this run (zones.county.inputs_beyond)", field="id", severity="info")
    elif unknown:
        listed = "; ".join(f"{level} {', '.join(i for i, lv in known.items() if lv == level)}" for level in levels)
        msg = (f"no zone '{unknown[0]}' among the zones {spec.id} is judged at ({listed}); "
               "fix the zone id (a county's code, as in the county layer's id field)")
        raise key_error(layers.project.spec_path(spec.id), ("target", "by_zone", unknown[0]), msg)


def measured_baselines(layers: LayerReader, zones: Zones, spec: Spec) -> Baselines:
    """The baselines of a relative target without a ``baseline_layer``: the indicator measured on the
    layers as they stood in the catalog's ``project.baseline_year``.

    A layer with data of that year (its ``years:`` entry) is read as it was then, the others
    as they are now; when none of the spec's input layers has data of that year there is no
    measured baseline.  Both engines judge with this (it is part of :func:`run_indicator`), for
    the data year and every earlier year alike.  What reading that year's layers finds is not
    repeated in the run's notes: the run of that year (the trajectory) says it.
    """
    target = spec.target
    assert target is not None
    now = layers.current
    year = now.catalog.project.baseline_year
    what = relative_word(target)
    spec_file = f"analyses/{now.project.spec_path(spec.id).name}"
    inputs = [name for name in dict.fromkeys(spec.inputs.values()) if name in now.catalog.layers]
    baseline_table = f"or give the target a 'baseline_layer' table in {spec_file}"
    if not any(year in now.catalog.layers[name].years for name in inputs):
        where = " or ".join(f"'layers.{name}'" for name in inputs)
        return Baselines(missing=f"no {year} value to {what}: no input layer has data of {year}; add the layer's {year} data "
                                 f"('years: {{{year}: {{file: ...}}}}' under {where} in layers/catalog.yaml) {baseline_table}")
    then = layers.as_of(year)
    method = METHODS[spec.method]
    params = method.params.model_validate(spec.parameters)
    empty = empty_input(then, zones, spec, params)
    if empty is not None:
        return Baselines(missing=f"no {year} value to {what}: layer '{empty}' has no features in {year}; "
                                 f"fix its {year} data ('layers.{empty}.years.{year}' in layers/catalog.yaml) {baseline_table}")
    measurement = method.run(then, zones, spec, params)
    values: dict[BaselineKey, float] = {}
    notes: dict[BaselineKey, str] = {}
    for row in measurement.rows.itertuples(index=False):
        key = (spec.id, str(row.zone_type), str(row.zone_id))
        if is_missing(row.value):
            why = no_value_note(measurement.kind, getattr(row, "denominator", None))
            notes[key] = f"no {year} value to {what}: {why} in {year}; check the {year} data {baseline_table}"
        else:
            values[key] = float(row.value)
    return Baselines(values, missing=f"no {year} value to {what}: the zone was not measured in {year}; check the {year} data {baseline_table}", notes=notes)


def run_indicator(layers: LayerReader, zones: Zones, spec: Spec, *, year: int | None = None) -> IndicatorResult:
    """Measure one indicator from ``layers`` (of the data year, or of an earlier ``year``) and judge it against its target.

    When a layer it reads has no features (:func:`empty_input`) it is not measured: every zone
    row is ``no_data`` with the reason in ``status_note``, and the reason is a data-quality note.
    When the catalog lacks a layer it reads (:func:`~gis.methods.registry.absent_layers`) it is
    not assessed: every zone row is ``not_assessed``, the missing layers named in ``status_note``;
    only the target's baseline table missing, the value is measured but not judged.  A relative
    target (``change``, ``increase``) without a baseline table is judged against the indicator
    measured in the baseline year (:func:`measured_baselines`).
    """
    project = layers.project
    method = METHODS[spec.method]
    params = method.params.model_validate(spec.parameters)
    absent = absent_layers(project, spec)
    baseline = spec.target.baseline_layer if spec.target else None
    unmeasurable = [name for name in absent if name != baseline]
    empty = None if unmeasurable else empty_input(layers, zones, spec, params)
    if unmeasurable:
        note = not_assessed_note(project, spec, absent)
        measurement = Measurement(rows=unmeasured_rows(zones, spec, note), kind="amount", notes=[note])
    elif empty is None:
        measurement = method.run(layers, zones, spec, params)
    else:
        reason = empty_reason(empty, year)
        layers.note(empty, "no features (a broken export?)", f"{spec.id} not measured: no_data in every zone; if there really are none, "
                    f"set 'layers.{empty}.may_be_empty: true' in layers/catalog.yaml")
        measurement = Measurement(rows=unmeasured_rows(zones, spec, reason), kind="amount", notes=[f"not measured: {reason}"])
    check_zone_ids(layers, zones, spec)
    baselines: dict[BaselineKey, float] | Baselines = {}
    if spec.target and spec.target.baseline_layer and baseline not in absent:
        baselines = read_baselines(layers, spec.target)
    elif spec.target and spec.target.relative and not absent and empty is None:
        baselines = measured_baselines(layers, zones, spec)
    rows = judge(measurement.rows, spec, measurement.kind, baselines)
    if absent:
        rows["status"] = "not_assessed"
        rows["shortfall"] = None
        rows["status_note"] = not_assessed_note(project, spec, absent)
        if baseline in absent:
            rows["target"] = None  # the threshold needs the baseline
    elif empty is not None:
        rows["status"] = "no_data"
        rows["shortfall"] = None
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
    gaps = measurement.gaps if not absent else None  # no gap features for an indicator not judged
    if gaps is not None:
        gaps = gaps.copy()
        gaps.insert(0, "indicator", spec.id)
        gaps["synthetic"] = synthetic
    return IndicatorResult(spec=spec, rows=rows, gaps=gaps, notes=measurement.notes, synthetic=synthetic)


def select_specs(project: ProjectConfig, only: list[str] | None) -> list[Spec]:
    """The specs to run: all, or those named in ``only`` (an unknown name is a usage error naming the known ids)."""
    known = [s.id for s in project.specs]
    unknown = [name for name in dict.fromkeys(only or []) if name not in known]
    if unknown:
        name = unknown[0]
        closest = difflib.get_close_matches(name, known, n=2, cutoff=0.8)
        others = f" (and {', '.join(unknown[1:])})" if len(unknown) > 1 else ""
        hint = (f"did you mean {' or '.join(closest)}? (`gis targets` lists every id)" if closest
                else f"--only takes the id of a spec: {', '.join(sorted(known))}")
        msg = f"no indicator spec named {name}{others} in {project.root / 'analyses'}; {hint}"
        raise UsageError(msg)
    return [s for s in project.specs if not only or s.id in only]


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
    """The specs whose inputs all have data of ``year`` (and at least one changes with the year); not the specs
    not assessed (a layer the catalog lacks)."""
    catalog = project.catalog
    chosen = []
    for spec in specs:
        if absent_layers(project, spec):
            continue
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
