"""The Dask engine gives the local engine's results: a real cluster of two worker processes over TCP."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gis.api import load_project
from gis.cli import main
from gis.engines.local import RunResult, run_project
from gis.errors import DataError, UsageError
from gis.project.quality import quality_table

distributed = pytest.importorskip("distributed")

from distributed import Client, get_task_stream  # noqa: E402

from gis.engines.dask import run_project_dask  # noqa: E402 - after the skip when distributed is missing

PART_KEYS: dict[str, list[str]] = {}
"""Per Dask run: the kinds of part task (``gis-part-<function>``) it started."""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample project (a tenth of the reference scale)."""
    root = tmp_path_factory.mktemp("dask") / "sample"
    result = CliRunner().invoke(main, ["sample", str(root), "--scale", "0.1"])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a local cluster: a scheduler and two single-threaded worker processes, over TCP."""
    # No warning is filtered: with the dashboard off, starting and stopping a cluster says none
    # (the usual one, "Port 8787 is already in use", comes from the dashboard).
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, protocol="tcp", dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def runs(sample: Path, scheduler: str) -> dict[str, RunResult]:
    """The sample run by the local engine and twice by the Dask engine, each run on a project of its own.

    The second Dask run cuts every raster-zone and coverage measurement into a task per zone
    piece (``part_seconds=0``) and every join of features to zones into parts of 8 features
    (``part_features=8``: the 40 parking lots in 5 tasks), so the tasks that a task starts are
    tested too.
    """
    local = run_project(load_project(sample))
    out = {"local": local}
    for name, part_seconds, part_features in (("dask", 1.0, 256), ("dask, a task per zone", 0.0, 8)):
        steps: list[str] = []
        with Client(scheduler) as watcher, get_task_stream(watcher) as stream:
            out[name] = run_project_dask(
                load_project(sample), scheduler=scheduler, on_step=steps.append, part_seconds=part_seconds, part_features=part_features
            )
        PART_KEYS[name] = sorted({str(task["key"]).rsplit("-", 2)[0] for task in stream.data if str(task["key"]).startswith("gis-part-")})
        assert steps[0] == "zones"
        assert sorted(steps[1:]) == sorted([s.id for s in local.project.specs] + [f"year {y}" for y in local.project.catalog.years()])
    return out


ENGINES = ["dask", "dask, a task per zone"]


def test_parts_ran_as_tasks_of_their_own(runs: dict[str, RunResult]) -> None:
    """Raster zones, coverage pieces and joins of features to zones were cut into tasks where asked."""
    assert {"gis-part-_ClassAreas", "gis-part-_Uncovered", "gis-part-zone_shares"} <= set(PART_KEYS["dask, a task per zone"])
    assert "gis-part-zone_shares" not in PART_KEYS["dask"]  # no layer of the sample has 256 features to join


@pytest.mark.parametrize("engine", ENGINES)
def test_indicators_are_identical(runs: dict[str, RunResult], engine: str) -> None:
    local, on_dask = runs["local"], runs[engine]
    assert len(local.indicators) > 0
    pd.testing.assert_frame_equal(local.indicators, on_dask.indicators, check_exact=True)
    pd.testing.assert_frame_equal(local.indicator_history, on_dask.indicator_history, check_exact=True)
    assert [r.spec.id for r in on_dask.results] == [s.id for s in on_dask.project.specs]


@pytest.mark.parametrize("engine", ENGINES)
def test_gap_layers_are_identical(runs: dict[str, RunResult], engine: str) -> None:
    local, on_dask = runs["local"], runs[engine]
    compared = 0
    for mine, theirs in zip(local.results, on_dask.results, strict=True):
        assert (mine.gaps is None) == (theirs.gaps is None), mine.spec.id
        if mine.gaps is None:
            continue
        pd.testing.assert_frame_equal(
            pd.DataFrame(mine.gaps.drop(columns="geometry")), pd.DataFrame(theirs.gaps.drop(columns="geometry")), check_exact=True
        )
        assert mine.gaps.crs == theirs.gaps.crs
        assert list(mine.gaps.geometry.to_wkb()) == list(theirs.gaps.geometry.to_wkb()), mine.spec.id
        compared += len(mine.gaps)
    assert compared > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_data_quality_notes_come_back_in_order(runs: dict[str, RunResult], engine: str) -> None:
    local, on_dask = runs["local"], runs[engine]
    assert local.notes, "the sample should give some data-quality notes"
    assert on_dask.notes == local.notes
    pd.testing.assert_frame_equal(quality_table(local.notes), quality_table(on_dask.notes))
    # What reads the layers after the run (the web map) finds them read, as after a local run, and says nothing twice.
    on_dask.layers.read_vector("charging_stations")
    assert on_dask.notes == local.notes


def test_an_unknown_indicator_is_refused_before_any_work(sample: Path) -> None:
    with pytest.raises(UsageError, match="no indicator spec named nope"):
        run_project_dask(load_project(sample), scheduler="tcp://127.0.0.1:1", only=["nope"])


def test_a_worker_error_reaches_the_caller_as_it_is(sample: Path, scheduler: str, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sample, copy, ignore=shutil.ignore_patterns("landcover.tif"))
    with pytest.raises(DataError, match=r"landcover\.tif: raster 'landcover' not found"):
        run_project_dask(load_project(copy), scheduler=scheduler, only=["charging.fleet", "permeable.share"])


def test_the_longest_indicators_start_first(sample: Path) -> None:
    """Coverage along the roads first, then coverage, then raster and overlay indicators, the sums of attributes last."""
    from gis.engines.dask import PART_PRIORITY, _priority

    project = load_project(sample)
    rank = {spec.id: _priority(spec, project) for spec in project.specs}
    assert rank["charging.coverage_network"] > rank["charging.coverage"] > rank["permeable.share"] > PART_PRIORITY
    assert rank["sewage.blank_areas"] == rank["charging.coverage"]
    assert rank["sewage.park_network"] == rank["permeable.share"]  # presence: parks overlaid with the sewer network
    assert rank["charging.fleet"] == rank["energy.total"] == 0 < PART_PRIORITY
