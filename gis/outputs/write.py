"""Writing a run's outputs: indicators.csv, planning.gpkg, run.json — all or nothing."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import uuid
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pyogrio

from gis.engines.result import RunResult
from gis.outputs._files import replaced_whole
from gis.outputs.folder import RunOutputs
from gis.outputs.geopackage import SYNTHETIC_NOTE, write_geopackage
from gis.outputs.history import history_root
from gis.outputs.i18n import Lang
from gis.outputs.report import write_report
from gis.outputs.workbook import write_workbook
from gis.project.layers import LayerReader
from gis.project.quality import QualityNote, quality_table
from gis.proposals import proposal_frames, propose

OUTPUT_FILES = (
    "indicators.csv", "proposals.csv", "data_quality.csv", "planning.gpkg", "run.json", "map.html", "report.html", "gaps.xlsx",
)
PACKAGES = ["gis-plan", "geopandas", "shapely", "pyogrio", "pyproj", "rasterio", "exactextract", "pandas", "numpy", "pydantic"]


def file_sha256(path: Path) -> str:
    """Checksum of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of Python, GDAL, PROJ and the packages a result depends on."""
    found = {"python": platform.python_version(), "gdal": pyogrio.__gdal_version_string__}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    import pyproj

    found["proj"] = pyproj.proj_version_str
    return found


def write_views(run: RunOutputs, folder: Path, *, layers: LayerReader | None = None, lang: Lang = "both") -> list[Path]:
    """The views a planner opens first, made from the run's own files: map, report and workbook."""
    from gis.outputs.webmap import write_map  # folium is heavy: imported when a map is written

    return [
        write_map(run, folder / "map.html", layers=layers, lang=lang),
        write_report(run, folder / "report.html", layers=layers, lang=lang),
        write_workbook(run, folder / "gaps.xlsx", lang=lang),
    ]


def write_quality_table(notes: list[QualityNote], out_dir: Path) -> Path:
    """Write ``data_quality.csv`` into ``out_dir``, whole or not at all."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "data_quality.csv"
    with replaced_whole(path) as staging:
        quality_table(notes).to_csv(staging, index=False, encoding="utf-8")
    return path


def run_record(result: RunResult, run_id: str, outputs: list[str]) -> dict:
    """Versions, parameters, input checksums, times and notes of a run."""
    project = result.project
    inputs = {}
    for name, path in project.input_files().items():
        entry = project.catalog.layers[name]
        inputs[name] = {
            "file": str(path),
            "layer": entry.layer,
            "sha256": file_sha256(path) if path.exists() else None,
            "bytes": path.stat().st_size if path.exists() else None,
            "synthetic": entry.synthetic,
            "provenance": entry.provenance.model_dump(),
        }
    return {
        "run_id": run_id,
        "project": {"name": project.catalog.project.name, "root": str(project.root), "crs": project.crs,
                    "output_crs": project.catalog.project.output_crs},
        "started": result.started.isoformat(),
        "finished": result.finished.isoformat(),
        "duration_s": round((result.finished - result.started).total_seconds(), 3),
        "data_year": result.project.catalog.data_year,
        "years": [result.project.catalog.data_year, *result.project.catalog.years()],
        "synthetic": result.synthetic,
        "synthetic_note": SYNTHETIC_NOTE if result.synthetic else None,
        "versions": package_versions(),
        "indicators": {
            r.spec.id: {
                "method": r.spec.method,
                "inputs": r.spec.inputs,
                "parameters": r.spec.parameters,
                "zone_types": r.spec.zone_types,
                "target": r.spec.target.model_dump() if r.spec.target else None,
                "shortfall": r.spec.shortfall.model_dump() if r.spec.shortfall else None,
                "notes": r.notes,
            }
            for r in result.results
        },
        "inputs": inputs,
        "data_quality": [asdict(note) for note in result.notes],
        "outputs": outputs,
    }


def write_outputs(result: RunResult, out_dir: Path, *, lang: Lang = "both") -> dict:
    """Write every output into a staging folder, then move each into ``out_dir``.

    A failure before the move leaves the earlier outputs as they were.  The table and the
    record of every run are also kept under ``out_dir/history/RUN_ID/`` for ``gis diff``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = f"{result.started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    staging = Path(tempfile.mkdtemp(prefix=".gis-staging-", dir=out_dir))
    try:
        result.indicator_history.to_csv(staging / "indicators.csv", index=False, encoding="utf-8")
        quality_table(result.notes).to_csv(staging / "data_quality.csv", index=False, encoding="utf-8")
        proposals = propose(result)
        proposals.table.to_csv(staging / "proposals.csv", index=False, encoding="utf-8")
        layers = write_geopackage(result, staging / "planning.gpkg", run_id=run_id, extra_layers=proposal_frames(proposals, run_id))
        record = run_record(result, run_id, list(OUTPUT_FILES))
        record["geopackage_layers"] = list(layers)
        record["proposal_notes"] = proposals.notes
        (staging / "run.json").write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        write_views(RunOutputs(staging, written=layers), staging, layers=result.layers, lang=lang)
        kept = staging / "history-entry"
        kept.mkdir()
        for name in ("indicators.csv", "proposals.csv", "run.json", "data_quality.csv"):
            shutil.copy2(staging / name, kept / name)
        for name in OUTPUT_FILES:
            os.replace(staging / name, out_dir / name)
        history_root(out_dir).mkdir(exist_ok=True)
        os.replace(kept, history_root(out_dir) / run_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return record
