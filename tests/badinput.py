"""Helpers of the bad-input tests: a copy of the sample run, an edit, a run, and what is on disk after."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import yaml
from click.testing import CliRunner

from gis.cli import main

GPKG = Path("layers/sample/sanmenxia.gpkg")
HUBIN = "156411202"


def snapshot(out: Path) -> dict[Path, bytes]:
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def run_cli(project: Path, out: Path, *extra: str, pdf: bool = False) -> tuple[int, str]:
    """``gis run`` of ``project`` into ``out`` (``extra``: options before ``run``); without PDFs unless asked,
    as printing them costs seconds a run and these tests read the tables."""
    printing = [] if pdf else ["--no-pdf"]
    result = CliRunner().invoke(main, [*extra, "run", *printing, "--project", str(project), "--out", str(out)])
    return result.exit_code, result.output


def edit_layer(project: Path, layer: str, change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]) -> None:
    frame = gpd.read_file(project / GPKG, layer=layer)
    pyogrio.write_dataframe(change(frame), project / GPKG, layer=layer, driver="GPKG")


def edit_catalog(project: Path, change: Callable[[dict], None]) -> None:
    path = project / "layers" / "catalog.yaml"
    catalog = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(catalog)
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False), encoding="utf-8")


def read_quality(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "data_quality.csv", dtype=str, keep_default_na=False)


def rows_of(table: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """One indicator's rows of the data year (the latest), by zone."""
    table = table[(table["indicator"] == indicator) & (table["year"] == table["year"].max())]
    return table.set_index("zone_id")


def indicator_rows(out: Path, indicator: str) -> pd.DataFrame:
    return rows_of(pd.read_csv(out / "indicators.csv", dtype={"zone_id": str}), indicator)


def rows_before(before: dict[Path, bytes], indicator: str) -> pd.DataFrame:
    return rows_of(pd.read_csv(io.BytesIO(before[Path("indicators.csv")]), dtype={"zone_id": str}), indicator)


def fails(case, expected: list[str], *, edit: Callable[[Path], None], code: int = 1) -> None:
    """The run stops with one line naming what is wrong, and the earlier outputs stay byte for byte."""
    project, out, before = case
    edit(project)
    exit_code, output = run_cli(project, out)
    assert exit_code == code, output
    line = output.strip().splitlines()[-1]
    assert line.startswith("gis: error: ")
    for text in expected:
        assert text in line, line
    assert "Traceback" not in output
    assert snapshot(out) == before
