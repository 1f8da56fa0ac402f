"""One output set, swapped whole; stale scratch removed; outputs read back with named errors (issue 13).

Each test makes the bad condition itself (a folder in the way, a move that fails, a file cut
short) and checks the message, the exit code and what is on disk after.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from badinput import run_cli, snapshot
from click.testing import CliRunner

from gis.cli import main
from gis.outputs._files import BACKUP, PARTIAL, STAGING, scratch_prefix

REAL_REPLACE = os.replace


def run_id_of(out: Path) -> str:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))["run_id"]


def history_ids(out: Path) -> set[str]:
    return {p.name for p in (out / "history").iterdir()}


def scratch_left(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*") if p.name.startswith((".gis-", "gis-earlier-")))


def error_line(output: str) -> str:
    assert "Traceback" not in output
    assert "error: unexpected" not in output
    line = output.strip().splitlines()[-1]
    assert line.startswith("gis: error: "), output
    return line


def fail_replace(monkeypatch: pytest.MonkeyPatch, failing: Callable[[Path, Path], bool], code: int = errno.EACCES) -> None:
    """Make ``os.replace`` fail (as Windows does for a file open in Excel) for the moves ``failing`` picks."""

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if failing(Path(src), Path(dst)):
            raise OSError(code, os.strerror(code), str(src))
        REAL_REPLACE(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def in_staging(path: Path) -> bool:
    return any(part.startswith(STAGING) for part in path.parts)


def assert_earlier_run_whole(out: Path, before: dict[Path, bytes], earlier_ids: set[str]) -> None:
    assert snapshot(out) == before
    assert history_ids(out) == earlier_ids
    assert scratch_left(out) == []


# ---- the swap: all files and the history entry, or none ----------------------------------------


def test_a_folder_in_the_way_of_one_output_leaves_every_earlier_file(case):
    project, out, _ = case
    earlier, earlier_ids = run_id_of(out), history_ids(out)
    (out / "gaps.xlsx").unlink()
    (out / "gaps.xlsx").mkdir()
    (out / "gaps.xlsx" / "notes.txt").write_text("a planner's notes", encoding="utf-8")
    before = snapshot(out)

    code, output = run_cli(project, out)

    assert code == 1
    line = error_line(output)
    assert f"{out / 'gaps.xlsx'}: a folder is in the way" in line
    assert "move or rename it and run again" in line
    assert f"nothing of this run was written; {out} holds the outputs of run {earlier} as before" in line
    assert_earlier_run_whole(out, before, earlier_ids)


def test_a_file_that_cannot_be_replaced_leaves_every_earlier_file(case, monkeypatch):
    """gaps.xlsx is last of the files: seven have been moved aside when it fails, and all come back."""
    project, out, before = case
    earlier, earlier_ids = run_id_of(out), history_ids(out)
    fail_replace(monkeypatch, lambda src, dst: src == out / "gaps.xlsx")

    code, output = run_cli(project, out)

    assert code == 1
    line = error_line(output)
    assert f"{out / 'gaps.xlsx'}: could not be replaced (Permission denied)" in line
    assert "is it open in another program, e.g. Excel? close it" in line
    assert f"nothing of this run was written; {out} holds the outputs of run {earlier} as before" in line
    assert_earlier_run_whole(out, before, earlier_ids)


@pytest.mark.parametrize("failing", ["report.html", "history entry"])
def test_a_failure_moving_the_new_files_in_is_rolled_back(case, monkeypatch, failing):
    """report.html fails after five new files are in; the history entry is the last move of all."""
    project, out, before = case
    earlier, earlier_ids = run_id_of(out), history_ids(out)
    if failing == "report.html":
        fail_replace(monkeypatch, lambda src, dst: in_staging(src) and dst == out / "report.html", errno.ENOSPC)
    else:
        fail_replace(monkeypatch, lambda src, dst: in_staging(src) and dst.parent == out / "history", errno.ENOSPC)

    code, output = run_cli(project, out)

    assert code == 1
    line = error_line(output)
    assert ": could not be written (No space left on device); free some space on the disk of" in line
    assert f"nothing of this run was written; {out} holds the outputs of run {earlier} as before" in line
    if failing == "report.html":
        assert line.startswith(f"gis: error: {out / 'report.html'}: ")
    else:
        assert line.startswith(f"gis: error: {out / 'history'}{os.sep}")
    assert_earlier_run_whole(out, before, earlier_ids)


def test_a_failed_rollback_says_where_the_earlier_files_are(case, monkeypatch):
    project, out, before = case
    # report.html cannot be moved in, and the earlier indicators.csv cannot be moved back.
    fail_replace(monkeypatch, lambda src, dst: (in_staging(src) and dst == out / "report.html")
                 or (src.parent.name.startswith(BACKUP) and dst == out / "indicators.csv"))

    code, output = run_cli(project, out)

    assert code == 1
    line = error_line(output)
    kept = [p for p in out.iterdir() if p.name.startswith("gis-earlier-outputs-")]
    assert len(kept) == 1
    assert f"{out / 'report.html'}: could not be written (Permission denied)" in line
    assert f"putting the earlier files back failed too ({out / 'indicators.csv'}: Permission denied)" in line
    assert f"the earlier files not put back are in {kept[0]}" in line
    assert [p.read_bytes() for p in kept[0].iterdir()] == [before[Path("indicators.csv")]]
    assert not (out / "indicators.csv").exists()  # exactly as the message says: the earlier one is in the kept folder
    assert (out / "run.json").read_bytes() == before[Path("run.json")]


def test_a_failure_writing_the_staging_folder_names_the_output(case, monkeypatch):
    project, out, before = case
    earlier, earlier_ids = run_id_of(out), history_ids(out)

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("gis.outputs.workbook.write_workbook", full_disk)  # imported by write.py where gaps.xlsx is written
    code, output = run_cli(project, out)

    assert code == 1
    line = error_line(output)
    assert f"{out / 'gaps.xlsx'}: could not be written (No space left on device); free some space" in line
    assert f"nothing of this run was written; {out} holds the outputs of run {earlier} as before" in line
    assert_earlier_run_whole(out, before, earlier_ids)


# ---- stale scratch ----------------------------------------------------------------------------------


def dead_pid() -> int:
    """The id of a process that has finished (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_scratch_of_killed_runs_is_removed_and_a_live_runs_kept(case):
    project, out, _ = case
    dead = dead_pid()
    stale = [
        out / f"{scratch_prefix(STAGING, dead)}k9x2", out / f"{scratch_prefix(BACKUP, dead)}k9x2",
        out / ".gis-staging-a1b2c3d4",  # the older naming, without a process id
    ]
    for folder in stale:
        folder.mkdir()
        (folder / "planning.gpkg").write_bytes(b"\0" * 100_000)
    stale_files = [out / f"{scratch_prefix(PARTIAL, dead)}map-x1.html", out / ".report-ab12cd34.html"]
    for path in stale_files:
        path.write_text("half a page", encoding="utf-8")
    live = out / f"{scratch_prefix(STAGING)}live"  # this process: a run still being written
    live.mkdir()
    (live / "indicators.csv").write_text("indicator\n", encoding="utf-8")
    foreign = out / ".gis-staging-4242-000000-other"  # another machine's (a shared drive): recent, so kept
    foreign.mkdir()
    old_foreign = out / ".gis-staging-4243-000000-other"
    old_foreign.mkdir()
    two_days_ago = (os.stat(old_foreign).st_mtime - 2 * 24 * 3600,) * 2
    os.utime(old_foreign, two_days_ago)

    code, output = run_cli(project, out)

    assert code == 0, output
    assert not any(p.exists() for p in [*stale, *stale_files, old_foreign])
    assert (live / "indicators.csv").read_text(encoding="utf-8") == "indicator\n"
    assert foreign.is_dir()
    assert scratch_left(out) == sorted([live.name, foreign.name])


def test_gis_map_removes_the_partial_files_of_a_killed_map(case):
    _, out, _ = case
    partial = out / f"{scratch_prefix(PARTIAL, dead_pid())}map-x1.html"
    partial.write_text("half a page", encoding="utf-8")
    result = CliRunner().invoke(main, ["map", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not partial.exists()
    assert scratch_left(out) == []


# ---- gis check writes beside a run, never over it -------------------------------------------------


def test_check_never_replaces_a_runs_data_quality_table(case):
    project, out, before = case
    (project / "layers/sample/population.tif").unlink()
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(out)])
    assert result.exit_code == 1
    table = out / "check" / "data_quality.csv"
    assert "".join(f"data-quality table: {table}".split()) in "".join(result.output.split())  # as rich wraps it
    quality = pd.read_csv(table, dtype=str, keep_default_na=False)
    assert "population" in set(quality.loc[quality["severity"] == "error", "layer"])
    assert {p: b for p, b in snapshot(out).items() if p.parts[0] != "check"} == before


def test_check_writes_to_out_check_by_default(sample_run, tmp_path, monkeypatch):
    project, _ = sample_run
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "out", "out/check", "out/check/data_quality.csv",
    ]


# ---- reading outputs back: every error names the file and the fix -------------------------------------


def cut(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


DAMAGE = {
    "planning.gpkg cut short": ("planning.gpkg", lambda p: cut(p, 4096), "cut short: 4,096 of the"),
    "planning.gpkg garbage": ("planning.gpkg", lambda p: p.write_bytes(os.urandom(8192)), "not a GeoPackage"),
    "run.json cut short": ("run.json", lambda p: cut(p, 1000), "damaged or cut short"),
    "indicators.csv cut mid-line": ("indicators.csv", lambda p: cut(p, p.stat().st_size // 2), "its last line is incomplete"),
    "indicators.csv cut at a line": (
        "indicators.csv",
        lambda p: p.write_text("".join(p.read_text(encoding="utf-8").splitlines(keepends=True)[:100]), encoding="utf-8"),
        "99 rows where run.json counted",
    ),
}


@pytest.mark.parametrize("command", ["map", "report"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_views_of_a_damaged_run_name_the_file_and_leave_the_pages(case, command, damage):
    _, out, _ = case
    name, spoil, why = DAMAGE[damage]
    spoil(out / name)
    before = snapshot(out)

    result = CliRunner().invoke(main, [command, "--out", str(out)])

    assert result.exit_code == 1
    line = error_line(result.output)
    assert line.startswith(f"gis: error: {out / name}: ")
    assert why in line
    assert f"run `gis run --out {out}` again" in line
    assert snapshot(out) == before  # map.html, report.html and gaps.xlsx as they were
    assert scratch_left(out) == []


def second_entry(out: Path) -> tuple[str, str]:
    """Keep a copy of the run as a second, later history entry; return the (earlier, later) ids."""
    (first,) = history_ids(out)
    later = f"29991231T000000Z-{first.rsplit('-', 1)[1]}"
    shutil.copytree(out / "history" / first, out / "history" / later)
    record_path = out / "history" / later / "run.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record.update(run_id=later, started="2999-12-31T00:00:00+00:00", finished="2999-12-31T00:00:01+00:00")
    record_path.write_text(json.dumps(record), encoding="utf-8")
    return first, later


def test_history_lists_the_readable_runs_and_names_the_damaged_one(case):
    _, out, _ = case
    first, later = second_entry(out)
    damaged = out / "history" / first / "run.json"
    cut(damaged, 500)

    result = CliRunner().invoke(main, ["history", "--out", str(out), "--format", "csv"])

    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(io.StringIO(result.stdout))["run_id"]) == [later]
    warning = result.stderr.strip()
    assert warning.count("\n") == 0
    assert warning.startswith(f"gis: warning: {damaged}: ")
    assert "damaged or cut short" in warning
    assert f"delete the folder {out / 'history' / first}" in warning


@pytest.mark.parametrize("named", ["by id", "previous"])
def test_diff_with_a_damaged_run_names_the_file(case, named):
    _, out, _ = case
    first, _ = second_entry(out)
    damaged = out / "history" / first / "indicators.csv"
    cut(damaged, damaged.stat().st_size // 3)

    result = CliRunner().invoke(main, ["diff", first[:20] if named == "by id" else "previous", "--out", str(out)])

    assert result.exit_code == 1
    line = error_line(result.output)
    assert line.startswith(f"gis: error: {damaged}: cut short: its last line is incomplete")
    assert f"delete the folder {out / 'history' / first}" in line


def test_history_with_every_run_damaged_is_an_error_naming_them(case):
    _, out, _ = case
    (first,) = history_ids(out)
    cut(out / "history" / first / "run.json", 0)
    result = CliRunner().invoke(main, ["history", "--out", str(out)])
    assert result.exit_code == 1
    assert error_line(result.output).startswith(f"gis: error: {out / 'history' / first / 'run.json'}: not valid JSON")
