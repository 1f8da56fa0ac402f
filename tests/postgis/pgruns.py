"""Runs for the PostGIS tests: copies of a sample run under other ids, small hand-made runs, row counts."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
from psycopg import sql

from gis.outputs.folder import RunOutputs, read_run
from gis.outputs.names import plain_name


def copy_run(source: Path, dest: Path, run_id: str, *, started: str | None = None) -> RunOutputs:
    """A copy of a run's outputs under another run id (in run.json and in the layers' run_id columns)."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("history", "*.html", "*.xlsx"))
    record = json.loads((dest / "run.json").read_text(encoding="utf-8"))
    record["run_id"] = run_id
    if started is not None:
        record["started"] = started
    (dest / "run.json").write_text(json.dumps(record), encoding="utf-8")
    with closing(sqlite3.connect(dest / "planning.gpkg")) as gpkg, gpkg:
        for (layer,) in gpkg.execute("SELECT table_name FROM gpkg_contents").fetchall():
            quoted = '"' + layer.replace('"', '""') + '"'
            if "run_id" in {row[1] for row in gpkg.execute(f"PRAGMA table_info({quoted})")}:
                # the R-tree triggers call SpatiaLite functions sqlite3 lacks; geometries do not change
                triggers = gpkg.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (layer,)).fetchall()
                for name, _ in triggers:
                    gpkg.execute('DROP TRIGGER "' + name.replace('"', '""') + '"')
                gpkg.execute(f"UPDATE {quoted} SET run_id = ?", (run_id,))
                for _, definition in triggers:
                    gpkg.execute(definition)
    return read_run(dest)


def write_run(
    folder: Path, run_id: str, layers: dict[str, gpd.GeoDataFrame], indicators: pd.DataFrame, *, started: str = "2026-01-01T00:00:00+00:00"
) -> RunOutputs:
    """A hand-made run folder: run.json, indicators.csv and planning.gpkg."""
    folder.mkdir(parents=True)
    record = {"run_id": run_id, "project": {"name": "Test city"}, "started": started, "finished": started, "synthetic": True}
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    indicators.to_csv(folder / "indicators.csv", index=False)
    for name, frame in layers.items():
        frame.to_file(folder / "planning.gpkg", layer=name, driver="GPKG", engine="pyogrio")
    return read_run(folder)


def history(layer: str) -> str:
    """The history table of a GeoPackage layer."""
    return plain_name(layer) + "_history"


def count(url: str, schema: str, table: str, run_id: str | None = None) -> int:
    """Rows of ``schema.table`` (of one run when given)."""
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
    with psycopg.connect(url) as conn:
        if run_id is None:
            return conn.execute(query).fetchone()[0]
        return conn.execute(query + sql.SQL(" WHERE run_id = %s"), (run_id,)).fetchone()[0]


def relations(url: str, schema: str, kind: str = "r") -> set[str]:
    """Names of the tables ('r') or views ('v') in ``schema``."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = %s",
            (schema, kind),
        ).fetchall()
    return {name for (name,) in rows}


def run_counts(url: str, schema: str, run: RunOutputs) -> dict[str, int]:
    """Rows of one run in every table of the export."""
    run_id = run.record["run_id"]
    tables = ["runs", "indicators_history", *(history(layer) for layer in run.layers if layer not in ("layer_styles", "qgis_projects"))]
    return {table: count(url, schema, table, run_id) for table in tables}


def add_style(run: RunOutputs, layer: str, qml: str) -> None:
    """Give ``layer`` of a hand-made run a default QGIS style in its GeoPackage, as `gis run` stores one."""
    from gis.outputs.qgis_styles import LayerStyle, write_layer_styles

    sld = f"<StyledLayerDescriptor><NamedLayer><se:Name xmlns:se='http://www.opengis.net/se'>{layer}</se:Name></NamedLayer></StyledLayerDescriptor>"
    write_layer_styles(run.geopackage, [LayerStyle(layer, "geom", f"{layer} (gis)", qml, sld, f"style of {layer}")])
