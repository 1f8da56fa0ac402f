"""``gis run --only``: a partial run writes its numbers only, beside (never over) a whole run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyogrio
from click.testing import CliRunner

import gis
from gis.cli import main
from gis.outputs.write import PARTIAL_FILES, recorded_checksums, run_record

ONLY = "permeable.share"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _run(project: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, ["run", "--project", str(project), "--out", str(out), "--no-pdf", *extra])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # the console wraps long lines


def test_a_partial_run_goes_beside_the_whole_run_and_writes_its_numbers(sample_run, tmp_path):
    project, whole = sample_run
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    before = _files(out)
    output = _run(project, out, "--only", ONLY)
    assert "a partial run (--only)" in output and "keeps the whole run" in output
    assert _files(out) == before, "the whole run's files are untouched"
    partial = out / "only"
    assert sorted(p.name for p in partial.iterdir() if p.is_file()) == sorted(PARTIAL_FILES)
    record = json.loads((partial / "run.json").read_text(encoding="utf-8"))
    assert record["partial"] is True and list(record["indicators"]) == [ONLY]
    assert record["outputs"] == ["indicators.csv", "data_quality.csv", "planning.gpkg", "run.json"]
    # The same numbers as the whole run's rows of the indicator.
    mine = pd.read_csv(partial / "indicators.csv", dtype=str, keep_default_na=False)
    theirs = pd.read_csv(out / "indicators.csv", dtype=str, keep_default_na=False)
    theirs = theirs[theirs["indicator"] == ONLY].reset_index(drop=True)
    assert set(mine["indicator"]) == {ONLY} and len(mine) == len(theirs) > 1
    pd.testing.assert_frame_equal(mine, theirs)
    layers = {name for name, _ in pyogrio.list_layers(partial / "planning.gpkg")}
    assert "permeable.share.county" in layers and not any(name.endswith(".proposals") for name in layers)
    assert not any(name.startswith("charging.") for name in layers)
    # Inputs unchanged since the whole run: their checksums are the whole run's.
    whole_record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["inputs"]["landcover"]["sha256"] == whole_record["inputs"]["landcover"]["sha256"]
    # A second partial run replaces the first, still beside the whole run; the map of a partial run on demand.
    _run(project, out, "--only", "charging.parking_share")
    assert set(pd.read_csv(partial / "indicators.csv")["indicator"]) == {"charging.parking_share"}
    assert _files(out) == before
    made = CliRunner().invoke(main, ["map", "--out", str(partial)])
    assert made.exit_code == 0, made.output
    assert (partial / "map.html").stat().st_size > 0


def test_a_partial_run_in_an_empty_folder_stays_there_and_a_whole_run_replaces_it(sample_run, tmp_path):
    project = sample_run[0]
    out = tmp_path / "fresh"
    _run(project, out, "--only", ONLY)
    assert not (out / "only").exists()
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(PARTIAL_FILES)
    # Another partial run: the folder holds a partial run, so it is replaced in place.
    _run(project, out, "--only", "charging.parking_share")
    assert not (out / "only").exists()
    result = gis.load_project(project).run(only=[ONLY])
    saved = result.save(out, pdf=False)  # the Python API: the same rules
    assert saved["partial"] is True and not (out / "only").exists()


def test_an_unchanged_input_keeps_its_recorded_checksum_and_a_changed_one_is_read(sample_run, tmp_path):
    project = sample_run[0]
    result = gis.load_project(project).run(only=[ONLY]).run
    path = result.project.layer_path("landcover")
    stat = path.stat()
    fake = "f" * 64
    record = run_record(result, "r1", [], known={(str(path), stat.st_size, stat.st_mtime_ns): fake})
    assert record["inputs"]["landcover"]["sha256"] == fake, "same size and time: taken from the earlier record"
    record = run_record(result, "r2", [], known={(str(path), stat.st_size, stat.st_mtime_ns - 1): fake})
    assert record["inputs"]["landcover"]["sha256"] not in (fake, None)
    assert len(record["inputs"]["landcover"]["sha256"]) == 64
    # recorded_checksums reads them back from a run.json.
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    known = recorded_checksums(folder, tmp_path / "nowhere")
    assert known[(str(path), stat.st_size, stat.st_mtime_ns)] == record["inputs"]["landcover"]["sha256"]
    (folder / "run.json").write_text("{not json", encoding="utf-8")
    assert recorded_checksums(folder) == {}
