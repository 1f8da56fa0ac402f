"""Writing a run's outputs: indicators.csv, plan_coverage.csv, planning.gpkg, run.json, the views and their PDFs — all or nothing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import uuid
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import pyogrio

from gis.engines.result import RunResult
from gis.errors import GisError, OutputError
from gis.outputs._files import (
    fix_for,
    reason,
    remove_stale_scratch,
    replace_together,
    replaced_whole,
    staging_folder,
)
from gis.outputs.folder import RunOutputs
from gis.outputs.history import HISTORY_DIR, history_root
from gis.outputs.i18n import Lang
from gis.outputs.pdf import pdf_engine, warn_missing, write_pdf
from gis.outputs.plan_coverage import coverage_counts, plan_coverage
from gis.project.catalog import SYNTHETIC_NOTE
from gis.project.layers import LayerReader
from gis.project.quality import QualityNote, quality_table
from gis.proposals import proposal_frames, propose

if TYPE_CHECKING:
    import pandas as pd

# Each writer is imported where its file is written (the workbook's openpyxl, the report's and the brief's jinja2,
# the map's folium, the PDFs' WeasyPrint): `gis check`, which writes data_quality.csv only, imports none of them.

PDF_FILES = ("report.pdf", "brief.pdf")
"""The printed outputs: written when WeasyPrint can run (it needs Pango), else left out of the run's set."""
PRINTED_FILES = ("report.html", "brief.html", *PDF_FILES)
OUTPUT_FILES = (
    "indicators.csv", "proposals.csv", "data_quality.csv", "plan_coverage.csv", "planning.gpkg", "run.json", "map.html",
    "report.html", "gaps.xlsx", "brief.html", *PDF_FILES,
)
HISTORY_FILES = ("indicators.csv", "proposals.csv", "run.json", "data_quality.csv", "plan_coverage.csv")
"""The files of a run kept under ``history/RUN_ID/`` for ``gis history`` and ``gis diff``."""
PARTIAL_FILES = ("indicators.csv", "data_quality.csv", "planning.gpkg", "run.json")
"""What a partial run (``gis run --only``) writes: its numbers.  The proposals, the plan's coverage and the
views (map, report, brief, workbook) belong to a whole run; ``gis map`` and ``gis report`` make the views of
a partial run on demand."""
PARTIAL_DIR = "only"
"""The folder inside ``--out`` a partial run goes to when ``--out`` holds a whole run (kept as it is)."""
OLD_PARTIAL_NAME = re.compile(r"^\.(?:map|report|gaps|data_quality)-[a-z0-9_]{8}\.(?:html|xlsx|csv)$")
"""A half-written view of an older version (``tempfile.mkstemp``'s name beside the file): always stale."""
CHECK_DIR = "check"
"""The folder of ``gis check``'s table inside a run's output folder."""
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


def write_views(run: RunOutputs, folder: Path, *, layers: LayerReader | None = None, lang: Lang = "both", pdf: bool = True) -> list[Path]:
    """The views a planner opens first, made from the run's own files: map, report, brief and workbook."""
    from gis.outputs.webmap import write_map  # folium is heavy: imported when a map is written
    from gis.outputs.workbook import write_workbook

    return [
        write_map(run, folder / "map.html", layers=layers, lang=lang),
        *(folder / name for name in write_printed(run, folder, layers=layers, lang=lang, pdf=pdf)),
        write_workbook(run, folder / "gaps.xlsx", lang=lang),
    ]


def pdfs_wanted(pdf: bool) -> bool:
    """Whether the PDFs are written: asked for and WeasyPrint can run (else one warning line says what to install)."""
    if not pdf:
        return False
    engine = pdf_engine()
    warn_missing(engine)
    return engine.available


def write_printed(run: RunOutputs, folder: Path, *, layers: LayerReader | None = None, lang: Lang = "both",
                  pdf: bool = True, step: list[str] | None = None) -> list[str]:
    """report.html and brief.html in ``folder``, and report.pdf and brief.pdf when :func:`pdfs_wanted`: the names written.

    The run's layers are read once for all four. ``step`` (a one-item list) is set to the name being
    written, for the caller's error message.
    """
    from gis.outputs.brief import write_brief, write_brief_pdf
    from gis.outputs.report import report_context, write_report

    step = step if step is not None else [""]
    context = report_context(run, layers=layers, lang=lang)
    step[0] = "report.html"
    report = write_report(run, folder / "report.html", lang=lang, context=context)
    step[0] = "brief.html"
    write_brief(run, folder / "brief.html", lang=lang, context=context)
    written = ["report.html", "brief.html"]
    if pdfs_wanted(pdf):
        step[0] = "report.pdf"
        write_pdf(report.read_text(encoding="utf-8"), folder / "report.pdf")
        step[0] = "brief.pdf"
        write_brief_pdf(run, folder / "brief.pdf", lang=lang, context=context)
        written += list(PDF_FILES)
    return written


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` holds the outputs of a run (or its history)."""
    return any(os.path.lexists(folder / name) for name in (*OUTPUT_FILES, HISTORY_DIR) if name != "data_quality.csv")


def is_partial(result: RunResult) -> bool:
    """Whether ``result`` measured only some of its project's indicators (``gis run --only``)."""
    return {r.spec.id for r in result.results} != {spec.id for spec in result.project.specs}


def holds_whole_run(folder: Path) -> bool:
    """Whether ``folder`` holds the outputs of a whole run (its run.json does not say ``partial``)."""
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and not record.get("partial", False)


def run_folder(result: RunResult, out_dir: Path) -> Path:
    """Where ``result`` is written: ``out_dir``, or ``out_dir/only/`` for a partial run when ``out_dir`` holds a
    whole run, so that checking one indicator never replaces the whole run's map, report and proposals."""
    return out_dir / PARTIAL_DIR if is_partial(result) and holds_whole_run(out_dir) else out_dir


def check_table_folder(out_dir: Path) -> Path:
    """Where ``gis check`` writes its table: ``out_dir``, or ``out_dir/check/`` when ``out_dir`` holds a run,
    so that a check never replaces a run's own ``data_quality.csv``."""
    return out_dir / CHECK_DIR if holds_run(out_dir) else out_dir


def rebuild_report(run: RunOutputs, out_dir: Path, *, lang: Lang = "both", pdf: bool = True) -> list[Path]:
    """Rewrite the report, the brief (HTML, and PDF when WeasyPrint can run) and ``gaps.xlsx`` of a finished run
    in ``out_dir``: all are replaced, or none. A PDF not made this time is removed with the rest (never left stale)."""
    from gis.outputs.workbook import write_workbook

    names = (*PRINTED_FILES, "gaps.xlsx")
    unchanged = f"nothing was written; {', '.join(str(out_dir / name) for name in names)} are as they were"
    remove_stale_scratch(out_dir)
    staging = staging_folder(out_dir, unchanged)
    step = [""]
    try:
        try:
            written = write_printed(run, staging, lang=lang, pdf=pdf, step=step)
            step[0] = "gaps.xlsx"
            write_workbook(run, staging / step[0], lang=lang)
        except OSError as exc:  # disk full, no permission: named as the file it would replace
            cause = exc.__cause__ if isinstance(exc, OutputError) and isinstance(exc.__cause__, OSError) else exc
            target = out_dir / step[0]
            msg = f"{target}: could not be written ({reason(cause)}); {fix_for(cause, target)}; {unchanged}"
            raise OutputError(msg) from exc
        made = {*written, "gaps.xlsx"}
        replace_together([(staging / name if name in made else None, out_dir / name) for name in names], out_dir, unchanged=unchanged)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / name for name in names if name in made]


def write_quality_table(notes: list[QualityNote], out_dir: Path) -> Path:
    """Write ``data_quality.csv`` into ``out_dir``, whole or not at all."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{out_dir}: could not make the folder of data_quality.csv ({reason(exc)}); {fix_for(exc, out_dir)}"
        raise OutputError(msg) from exc
    path = out_dir / "data_quality.csv"
    with replaced_whole(path) as staging:
        quality_table(notes).to_csv(staging, index=False, encoding="utf-8")
    return path


Checksums = dict[tuple[str, int, int], str]
"""sha256 of input files by (file, bytes, modification time in ns), as earlier runs recorded them."""


def recorded_checksums(*folders: Path) -> Checksums:
    """The input checksums the run.json in each of ``folders`` recorded (an unreadable or old record gives none)."""
    known: Checksums = {}
    for folder in folders:
        try:
            inputs = json.loads((folder / "run.json").read_text(encoding="utf-8")).get("inputs", {})
            for entry in inputs.values():
                if entry.get("sha256") and isinstance(entry.get("bytes"), int) and isinstance(entry.get("mtime_ns"), int):
                    known[(str(entry["file"]), entry["bytes"], entry["mtime_ns"])] = str(entry["sha256"])
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    return known


def run_record(result: RunResult, run_id: str, outputs: list[str], *, known: Checksums | None = None) -> dict:
    """Versions, parameters, input checksums, times and notes of a run.

    Each input file is read once, however many layers it holds; one with the size and modification time
    an earlier record gives (``known``) keeps that record's checksum instead of being read again (as git
    and rsync judge a file unchanged)."""
    project = result.project
    inputs = {}
    known = dict(known or {})
    for name, path in project.input_files().items():
        entry = project.catalog.layers[name]
        stat = path.stat() if path.exists() else None
        checksum = None
        if stat is not None:
            key = (str(path), stat.st_size, stat.st_mtime_ns)
            checksum = known[key] = known.get(key) or file_sha256(path)  # a file of several layers is read once
        inputs[name] = {
            "file": str(path),
            "layer": entry.layer,
            "sha256": checksum,
            "bytes": stat.st_size if stat is not None else None,
            "mtime_ns": stat.st_mtime_ns if stat is not None else None,
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
        "baseline_year": result.project.catalog.project.baseline_year,
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
                "texts": r.spec.texts(),
            }
            for r in result.results
        },
        "inputs": inputs,
        "data_quality": [asdict(note) for note in result.notes],
        "outputs": outputs,
    }


def earlier_outputs(out_dir: Path) -> str:
    """What ``out_dir`` holds before a run replaces it, in words: the earlier run's id when run.json says it."""
    if not any(os.path.lexists(out_dir / name) for name in OUTPUT_FILES):
        return f"{out_dir} holds no outputs, as before"
    try:
        run_id = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))["run_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"{out_dir} is as it was"
    return f"{out_dir} holds the outputs of run {run_id} as before"


def _say_what_is_on_disk(exc: GisError, unchanged: str) -> None:
    """Add what is on disk to the one-line message of an error raised while the outputs were written."""
    if len(exc.args) == 1 and isinstance(exc.args[0], str) and unchanged not in exc.args[0]:
        exc.args = (f"{exc.args[0]}; {unchanged}",)


def write_outputs(result: RunResult, out_dir: Path, *, lang: Lang = "both", pdf: bool = True) -> dict:
    """Write every output into a staging folder in ``out_dir``, then swap them all in at once.

    ``pdf``: print report.pdf and brief.pdf too (when WeasyPrint can run; else a warning names the
    fix and they are left out: a PDF of an earlier run is removed with the rest of its set).
    The files of the run (and its history entry, ``out_dir/history/RUN_ID/``, kept for ``gis diff``)
    appear together or not at all: any failure leaves ``out_dir`` as it was and raises an error
    that names the file, the fix and what is on disk. Scratch left by killed runs is removed first.
    A partial run (:func:`is_partial`) writes its numbers only (:data:`PARTIAL_FILES`); the caller
    chooses its folder (:func:`run_folder`).
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{out_dir}: could not make the output folder ({reason(exc)}); {fix_for(exc, out_dir)}; nothing was written"
        raise OutputError(msg) from exc
    remove_stale_scratch(out_dir, old_names=OLD_PARTIAL_NAME)
    unchanged = f"nothing of this run was written; {earlier_outputs(out_dir)}"
    root = history_root(out_dir)
    if os.path.lexists(root) and not root.is_dir():
        msg = f"{root}: a file is in the way of the folder of earlier runs; move or rename it and run again; {unchanged}"
        raise OutputError(msg)
    run_id = f"{result.started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    staging = staging_folder(out_dir, unchanged)
    try:
        partial = is_partial(result)
        record, kept = _write_staging(result, staging, run_id, out_dir, lang=lang, unchanged=unchanged,
                                      pdf=not partial and pdfs_wanted(pdf), partial=partial)
        made_root = not root.exists()
        try:
            root.mkdir(exist_ok=True)
        except OSError as exc:
            msg = f"{root}: could not make the folder of earlier runs ({reason(exc)}); {fix_for(exc, root)}; {unchanged}"
            raise OutputError(msg) from exc
        made = set(record["outputs"])
        moves: list[tuple[Path | None, Path]] = [(staging / name if name in made else None, out_dir / name) for name in OUTPUT_FILES]
        moves.append((kept, root / run_id))
        try:
            replace_together(moves, out_dir, unchanged=unchanged)
        except BaseException:
            if made_root:
                with contextlib.suppress(OSError):
                    root.rmdir()
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return record


def _write_run_views(result: RunResult, staging: Path, layers: dict[str, pd.DataFrame], *, lang: Lang, pdf: bool, step: list[str]) -> None:
    """The views of a whole run in ``staging``: map, report, brief (and their PDFs), workbook.  ``step`` (a
    one-item list) is set to the name being written, for the caller's error message."""
    from gis.outputs.webmap import write_map
    from gis.outputs.workbook import write_workbook

    run = RunOutputs(staging, written=layers)
    step[0] = "map.html"
    write_map(run, staging / "map.html", layers=result.layers, lang=lang)
    step[0] = "report.html"
    write_printed(run, staging, layers=result.layers, lang=lang, pdf=pdf, step=step)
    step[0] = "gaps.xlsx"
    write_workbook(run, staging / "gaps.xlsx", lang=lang)


def _write_staging(result: RunResult, staging: Path, run_id: str, out_dir: Path, *, lang: Lang,
                   unchanged: str, pdf: bool, partial: bool) -> tuple[dict, Path]:
    """Every output of the run, and its history entry, written into ``staging``: the record and the entry's folder.

    A ``partial`` run writes :data:`PARTIAL_FILES` only.  An error names the output (as it would be in
    ``out_dir``) that was being written.
    """
    from gis.outputs.geopackage import write_geopackage

    step = "indicators.csv"
    try:
        result.indicator_history.to_csv(staging / step, index=False, encoding="utf-8")
        step = "data_quality.csv"
        quality = quality_table(result.notes)
        quality.to_csv(staging / step, index=False, encoding="utf-8")
        rows = {"indicators.csv": len(result.indicator_history), "data_quality.csv": len(quality)}
        extra_layers, proposal_notes, coverage = None, [], None
        if not partial:
            step = "proposals.csv"
            proposals = propose(result)
            proposals.table.to_csv(staging / step, index=False, encoding="utf-8")
            extra_layers, proposal_notes = proposal_frames(proposals, run_id, synthetic=result.synthetic), proposals.notes
            step = "plan_coverage.csv"
            coverage = plan_coverage(result.project.register, result.indicators)
            coverage.to_csv(staging / step, index=False, encoding="utf-8")
            rows |= {"proposals.csv": len(proposals.table), "plan_coverage.csv": len(coverage)}
        step = "planning.gpkg"
        layers = write_geopackage(result, staging / step, run_id=run_id, extra_layers=extra_layers)
        step = "run.json"
        written = PARTIAL_FILES if partial else OUTPUT_FILES
        outputs = [name for name in OUTPUT_FILES if name in written and (pdf or name not in PDF_FILES)]
        record = run_record(result, run_id, outputs, known=recorded_checksums(out_dir, *([out_dir.parent] if partial else [])))
        record["partial"] = partial
        record["geopackage_layers"] = list(layers)
        record["proposal_notes"] = proposal_notes
        record["table_rows"] = rows
        record["plan_coverage"] = coverage_counts(coverage) if coverage is not None and not coverage.empty else None
        (staging / step).write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        if not partial:
            doing = ["map.html"]  # the view being written, for the message of an error
            try:
                _write_run_views(result, staging, layers, lang=lang, pdf=pdf, step=doing)
            finally:
                step = doing[0]
        step = f"{HISTORY_DIR}/{run_id}"
        kept = staging / "history-entry"
        kept.mkdir()
        for name in HISTORY_FILES:
            if (staging / name).exists():
                shutil.copy2(staging / name, kept / name)
    except GisError as exc:
        if not isinstance(exc, OutputError):
            _say_what_is_on_disk(exc, unchanged)
            raise
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc  # named as the file it would replace
        target = out_dir / step
        msg = f"{target}: could not be written ({reason(cause)}); {fix_for(cause, target)}; {unchanged}"
        raise OutputError(msg) from exc
    except Exception as exc:
        target = out_dir / step
        verb = "written" if isinstance(exc, OSError) else "made"
        msg = f"{target}: could not be {verb} ({reason(exc)}); {fix_for(exc, target)}; {unchanged}"
        raise OutputError(msg) from exc
    return record, kept
