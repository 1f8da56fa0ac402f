"""``gis check``: validate a project's catalog, specs and layers before any work."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DataError
from .project import Project
from .raster import open_raster


@dataclass(frozen=True)
class Finding:
    """One result of a check: an error stops a run, a warning does not."""

    severity: str  # "error" | "warning" | "ok"
    layer: str
    message: str


def _check_raster(project: Project, name: str) -> list[Finding]:
    entry = project.entry(name)
    path = project.layer_path(name)
    findings = []
    with open_raster(path, name) as dataset:
        if dataset.nodata is None:
            findings.append(Finding("warning", name, f"{path}: no nodata value declared; every cell counts as data"))
        if entry.classes:
            step = max(1, int(np.ceil(max(dataset.width, dataset.height) / 2000)))
            sample = dataset.read(1, out_shape=(max(1, dataset.height // step), max(1, dataset.width // step)))
            codes = set(np.unique(sample).tolist()) - ({int(dataset.nodata)} if dataset.nodata is not None else set())
            unknown = sorted(codes - {c.code for c in entry.classes})
            if unknown:
                findings.append(
                    Finding("warning", name, f"{path}: codes {unknown[:10]} are not in 'layers.{name}.classes'; they count as not permeable")
                )
        summary = f"{dataset.width}x{dataset.height} cells of {abs(dataset.transform.a):g} m, {dataset.crs.to_string()}"
    findings.append(Finding("ok", name, summary))
    return findings


def check_project(project: Project) -> list[Finding]:
    """Read every layer as a run would; collect what is wrong instead of stopping at the first."""
    findings: list[Finding] = []
    for name, entry in project.catalog.layers.items():
        try:
            if entry.kind == "raster":
                findings.extend(_check_raster(project, name))
                continue
            before = len(project.notes)
            frame = project.read_table(name) if entry.kind == "table" else project.read_vector(name)
            for note in project.notes[before:]:
                findings.append(Finding("warning", name, f"feature '{note.feature_id}' {note.field}: {note.problem}; {note.action}"))
            findings.append(Finding("ok", name, f"{len(frame)} features"))
        except DataError as exc:
            findings.append(Finding("error", name, str(exc)))
    return findings
