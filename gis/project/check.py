"""``gis check``: validate a project's catalog, specs and layers before any work, and say which indicators will run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import CRS

from gis.errors import DataError
from gis.project.catalog import Catalog
from gis.project.georef import crs_code
from gis.project.layers import LayerReader
from gis.project.prefectures import county_prefectures
from gis.project.rasters import inspect_raster, open_raster
from gis.project.specs import Spec


@dataclass(frozen=True)
class Finding:
    """One result of a check: an error stops a run, a warning does not."""

    severity: str  # "error" | "warning" | "ok"
    layer: str
    message: str


WILL_RUN, NOT_ASSESSED, CANNOT_RUN = "will run", "not assessed", "cannot run"


@dataclass(frozen=True)
class IndicatorCheck:
    """What a run will make of one indicator: ``will run``, ``not assessed`` or ``cannot run``, and why."""

    indicator: str
    state: str
    reason: str


def _check_raster(project: LayerReader, name: str) -> list[Finding]:
    entry = project.entry(name)
    path = project.layer_path(name)
    findings = []
    inspect_raster(project, name, every_cell=True)
    with open_raster(path, name) as dataset:
        if dataset.nodata is None:
            findings.append(Finding("warning", name, f"{path}: no nodata value declared; every cell counts as data"))
        if entry.classes:
            step = max(1, int(np.ceil(max(dataset.width, dataset.height) / 2000)))
            sample = dataset.read(1, out_shape=(max(1, dataset.height // step), max(1, dataset.width // step)))
            codes = set(np.unique(sample).tolist()) - ({int(dataset.nodata)} if dataset.nodata is not None else set())
            unknown = sorted(codes - {c.code for c in entry.classes})
            if unknown:
                text = f"codes {unknown[:10]} are not in 'layers.{name}.classes'"
                findings.append(Finding("warning", name, f"{path}: {text}; they count as not permeable"))
                project.note(name, text, "counted as not permeable; add them to the class table", field="classes")
        summary = f"{dataset.width}x{dataset.height} cells of {abs(dataset.transform.a):g} m, {crs_code(CRS.from_user_input(dataset.crs.to_wkt()))}"
    findings.append(Finding("ok", name, summary))
    return findings


def _readers_of(project: LayerReader, name: str) -> list[str]:
    """The ids of the specs that take layer ``name`` as an input, sorted."""
    return sorted(spec.id for spec in project.specs if name in spec.inputs.values())


def _absent_hint(project: LayerReader, name: str) -> str:
    """When a listed layer's file is not there: how to run without it (its indicators are then not assessed)."""
    if project.layer_path(name).exists():
        return ""
    if name == project.catalog.zones["county"].layer:
        return "; the counties are the zones every indicator reports at: `gis init DIR --counties FILE` copies them in"
    users = _readers_of(project, name)
    which = f" ({', '.join(users)})" if users else ""
    return (f"; if the project has no such data, remove 'layers.{name}' from {project.catalog_path.name}: "
            f"the indicators reading it{which} are then not assessed")


def _check_layers(project: LayerReader, names: list[str], label: str = "") -> list[Finding]:
    """Read each of ``names`` as a run would; ``label`` tells an earlier year's layers apart (" (2020)")."""
    findings: list[Finding] = []
    for name in names:
        entry = project.entry(name)
        shown = f"{name}{label}"
        try:
            if entry.kind == "raster":
                findings.extend(Finding(f.severity, shown, f.message) for f in _check_raster(project, name))
                continue
            before = len(project.notes)
            frame = project.read_table(name) if entry.kind == "table" else project.read_vector(name)
            new = [note for note in project.notes[before:] if note.severity == "warning"]
            for note in new[:5]:
                where = f"feature '{note.feature_id}' " if note.feature_id else ""
                findings.append(Finding("warning", shown, f"{where}{note.field}: {note.problem}; {note.action}".replace(" : ", ": ")))
            if len(new) > 5:
                findings.append(Finding("warning", shown, f"... and {len(new) - 5} more findings in data_quality.csv"))
            if frame.empty and not entry.may_be_empty:
                users = _readers_of(project, name)
                text = f"its indicators ({', '.join(users)}) will be no_data" if users else "no indicator reads it"
                fix = f"if there really are none, set 'layers.{name}.may_be_empty: true' in {project.catalog_path}"
                findings.append(Finding("warning", shown, f"no features: a broken export? {text}; {fix}"))
                project.note(name, "no features (a broken export?)", f"{text}; {fix}")
                continue
            findings.append(Finding("ok", shown, f"{len(frame)} features"))
        except DataError as exc:
            findings.append(Finding("error", shown, f"{exc}{_absent_hint(project, name)}"))
            project.note(name, str(exc), "run refused until fixed", severity="error")
    return findings


def _check_prefectures(project: LayerReader, findings: list[Finding]) -> list[Finding]:
    """How the counties fall into the prefectures, as a run groups them: an error where a run would stop, a warning per
    prefecture left out; nothing when either layer already has an error (said above) or there is no prefecture level."""
    zones = project.catalog.zones
    if "prefecture" not in zones:
        return []
    county_layer, layer = zones["county"].layer, zones["prefecture"].layer
    if any(f.severity == "error" and f.layer in (county_layer, layer) for f in findings):
        return []
    counties = project.read_vector(county_layer)
    if counties.empty:
        return []
    before = len(project.notes)
    try:
        kept, _ = county_prefectures(project, counties)
    except DataError as exc:
        project.note(layer, str(exc), "run refused until fixed", severity="error")
        return [Finding("error", layer, str(exc))]
    left_out = [note for note in project.notes[before:] if note.layer == layer]
    said = [Finding("warning", layer, f"prefecture '{note.feature_id}': {note.problem}; {note.action}") for note in left_out]
    plural = "" if len(kept) == 1 else "s"
    return [*said, Finding("ok", layer, f"{len(kept)} prefecture{plural} reported, their {len(counties)} counties grouped by "
                                        f"{zones['county'].prefecture_field or 'location'}")]


def check_project(project: LayerReader) -> list[Finding]:
    """Read every layer as a run would, every earlier year's too; collect what is wrong instead of stopping at the first.

    The findings of the reading go to the reader's log (``data_quality.csv``), as in a run;
    those of an earlier year are tagged with the year.
    """
    findings = _check_layers(project, list(project.catalog.layers))
    findings.extend(_check_prefectures(project, findings))
    for year in project.catalog.years():
        then = project.for_year(year)
        with_data = [name for name, entry in project.catalog.layers.items() if year in entry.years]
        findings.extend(_check_layers(then, with_data, f" ({year})"))
        project.log.add_year(year, then.notes)
    return findings


def _layer_of(shown: str) -> str:
    """The layer a finding is about, without the year label of an earlier year's reading (" (2020)")."""
    return shown.split(" (", 1)[0]


def check_indicators(project: LayerReader, findings: list[Finding], reads: dict[str, list[str]]) -> list[IndicatorCheck]:
    """Per spec, what a run will make of it, from the layer ``findings`` of :func:`check_project`.

    ``reads`` gives every layer each spec reads (``gis.methods.registry.spec_layers``: inputs,
    ``in_layer`` layers, the target's baseline table).  An indicator reading a layer the catalog
    lacks is not assessed (only its baseline table missing: measured, not judged); one reading a
    listed layer (or zone layer) with an error cannot run (the run stops on it); the others run,
    ``no_data`` where a layer they read has no features.
    """
    errors: dict[str, str] = {}
    empty: set[str] = set()
    for finding in findings:
        name = _layer_of(finding.layer)
        if finding.severity == "error":
            errors.setdefault(name, finding.message)
        elif finding.severity == "warning" and finding.message.startswith("no features"):
            empty.add(name)
    catalog = project.catalog
    zone_layers = [level.layer for level in catalog.zones.values()]
    checks = []
    for spec in project.specs:
        layers = reads.get(spec.id, list(spec.inputs.values()))
        baseline = spec.target.baseline_layer if spec.target else None
        absent = [name for name in layers if name not in catalog.layers]
        broken = [name for name in dict.fromkeys([*zone_layers, *layers]) if name in errors]
        quoted = ", ".join(f"'{name}'" for name in absent)
        missing = f"no layer {quoted} in the catalog" if len(absent) == 1 else f"no layers {quoted} in the catalog"
        if absent and absent != [baseline]:
            checks.append(IndicatorCheck(spec.id, NOT_ASSESSED, missing))
        elif broken:
            which = ", ".join(f"'{name}'" for name in broken)
            checks.append(IndicatorCheck(spec.id, CANNOT_RUN, f"layer {which} has an error (above); the run stops on it"))
        elif absent:
            checks.append(IndicatorCheck(spec.id, NOT_ASSESSED, f"{missing} (the target's baseline): the value is measured, not judged"))
        elif hollow := [name for name in layers if name in empty]:
            which = ", ".join(f"'{name}'" for name in hollow)
            checks.append(IndicatorCheck(spec.id, WILL_RUN, f"no_data: layer {which} has no features"))
        else:
            checks.append(IndicatorCheck(spec.id, WILL_RUN, _unmeasured_baseline(catalog, spec)))
    return checks


def _unmeasured_baseline(catalog: Catalog, spec: Spec) -> str:
    """What a check says of a relative target whose baseline cannot be measured: none of its inputs has data
    of the baseline year (and it has no baseline table); empty otherwise."""
    target = spec.target
    if target is None or not target.relative or target.baseline_layer:
        return ""
    year = catalog.project.baseline_year
    if any(year in catalog.layers[name].years for name in spec.inputs.values() if name in catalog.layers):
        return ""
    judged = "judged against its value only" if "value" in target.figure_kinds else "no_data"
    return f"{judged}: no input layer has data of {year} to measure the baseline of its relative target"
