"""PostGIS export against a real server: tables, history, all-or-nothing, hostile names, redaction."""

from __future__ import annotations

import logging
from datetime import datetime

import geopandas as gpd
import pandas as pd
import psycopg
import pyogrio
import pytest
import shapely
from pgruns import copy_run, count, history, relations, run_counts, write_run
from psycopg import sql
from shapely.geometry import MultiPolygon, Point, box

from gis.errors import DataError, UsageError
from gis.outputs import postgis
from gis.outputs.folder import read_run
from gis.outputs.summary import plan_targets

# The GeoPackage's QGIS style table (layer_styles) has an update_time GDAL reads with a warning.

HOSTILE = 'x"; DROP TABLE runs; --'
HOSTILE_VALUE = "it's \"quoted\"; DROP TABLE runs; --"


def test_export_writes_every_layer_the_indicators_and_the_record(postgis_url, schema, sample_out):
    run = read_run(sample_out)
    run_id = run.record["run_id"]
    data = [layer for layer in run.layers if layer not in ("layer_styles", "qgis_projects")]
    declared = {str(name): str(kind).upper().replace(" ", "") for name, kind in pyogrio.list_layers(run.geopackage) if kind}
    spatial_layers = [layer for layer in data if layer in declared]
    assert spatial_layers and "layer_styles" in run.layers  # the GeoPackage's style table is not exported as data
    summary = postgis.export_run(run, postgis_url, schema=schema)

    assert summary.run_id == run_id and summary.schema == schema
    assert relations(postgis_url, schema) == {"runs", "indicators_history", *map(history, data)}
    assert relations(postgis_url, schema, "v") == {"indicators", *(history(layer).removesuffix("_history") for layer in data)}
    expected = {"indicators_history": len(run.indicators), "runs": 1} | {history(layer): len(run.read_layer(layer)) for layer in data}
    assert summary.tables == expected
    for table, rows in expected.items():
        assert count(postgis_url, schema, table) == rows == count(postgis_url, schema, table, run_id), table
    with psycopg.connect(postgis_url) as conn:
        spatial = conn.execute(
            "SELECT f_table_name, srid, type FROM geometry_columns WHERE f_table_schema = %s", (schema,)
        ).fetchall()
        gist = {name for (name,) in conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_am a ON a.oid = x.relam"
            " JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND a.amname = 'gist'", (schema,)
        ).fetchall()}
        keyed = {name for (name,) in conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] WHERE n.nspname = %s AND a.attname = 'run_id'",
            (schema,),
        ).fetchall()}
        srids = {conn.execute(sql.SQL("SELECT DISTINCT ST_SRID(geometry) FROM {}").format(sql.Identifier(schema, history(layer)))).fetchone()[0]
                 for layer in spatial_layers}
        first = spatial_layers[0]
        shapes = conn.execute(
            sql.SQL("SELECT ST_AsBinary(geometry) FROM {} ORDER BY run_row").format(sql.Identifier(schema, history(first)))
        ).fetchall()
        stored = conn.execute(
            sql.SQL("SELECT started, finished, project, synthetic, record FROM {} WHERE run_id = %s").format(sql.Identifier(schema, "runs")),
            (run_id,),
        ).fetchone()
    tables_and_views = {name: (srid, kind) for name, srid, kind in spatial}
    for layer in spatial_layers:  # the history table and its view
        plain = history(layer).removesuffix("_history")
        assert tables_and_views.pop(history(layer)) == tables_and_views.pop(plain) == (4490, declared[layer]), layer
    assert tables_and_views == {}
    assert srids == {4490}
    assert gist == set(map(history, spatial_layers))
    assert keyed == {"runs", "indicators_history", *map(history, data)}  # a btree led by run_id on every table
    started, finished, project, synthetic, record = stored
    assert record == run.record
    assert started == datetime.fromisoformat(run.record["started"])
    assert shapely.from_wkb([bytes(wkb) for (wkb,) in shapes]).tolist() == run.read_layer(first).geometry.tolist()
    assert finished > started and project == run.record["project"]["name"] and synthetic is run.synthetic
    pd.testing.assert_frame_equal(postgis.read_indicators(postgis_url, run_id, schema=schema), run.indicators, check_dtype=False)


def test_export_again_replaces_the_run_and_keeps_the_history(postgis_url, schema, sample_out, tmp_path):
    first = read_run(sample_out)
    postgis.export_run(first, postgis_url, schema=schema)
    before = run_counts(postgis_url, schema, first)
    postgis.export_run(first, postgis_url, schema=schema)
    assert run_counts(postgis_url, schema, first) == before

    second = copy_run(sample_out, tmp_path / "second", "20990101T000000Z-second")
    table = pd.read_csv(second.out_dir / "indicators.csv", dtype={"zone_id": str})
    table.loc[0, "value"] = 0.123456
    table.to_csv(second.out_dir / "indicators.csv", index=False)
    postgis.export_run(read_run(second.out_dir), postgis_url, schema=schema)

    runs = postgis.list_runs(postgis_url, schema=schema)
    assert list(runs.columns) == ["run_id", "started", "finished", "project", "synthetic", "rows", "targets", "targets_met", "targets_gap"]
    assert list(runs["run_id"]) == [first.record["run_id"], "20990101T000000Z-second"]  # same start: by run_id
    assert list(runs["rows"]) == [len(first.indicators)] * 2
    targets = plan_targets(first.indicators)  # as `gis history --out` counts them: at the level the plan sets them
    expected = [len(targets), (targets["status"] == "met").sum(), (targets["status"] == "gap").sum()]
    assert runs.loc[0, ["targets", "targets_met", "targets_gap"]].tolist() == expected and expected[0] > 50
    assert run_counts(postgis_url, schema, first) == before
    old = postgis.read_indicators(postgis_url, first.record["run_id"], schema=schema)
    new = postgis.read_indicators(postgis_url, "20990101T000000Z-second", schema=schema)
    pd.testing.assert_frame_equal(old, first.indicators, check_dtype=False)
    assert new.loc[0, "value"] == 0.123456 != old.loc[0, "value"]
    assert count(postgis_url, schema, "indicators_history") == 2 * len(first.indicators)
    assert count(postgis_url, schema, "indicators") == len(first.indicators)  # the view: the latest run only


def test_a_value_postgis_refuses_midway_rolls_the_whole_run_back(postgis_url, schema, sample_out, tmp_path):
    good = read_run(sample_out)
    postgis.export_run(good, postgis_url, schema=schema)
    before = run_counts(postgis_url, schema, good)
    # A copy whose second layer has text in a numeric column: the first layer goes in, the second fails.
    bad = copy_run(sample_out, tmp_path / "bad", "20990101T000000Z-bad")
    first_layer, second_layer = [name for name, kind in pyogrio.list_layers(good.geopackage) if kind][:2]
    frames = {first_layer: good.read_layer(first_layer), second_layer: good.read_layer(second_layer)}
    numeric = next(c for c in frames[second_layer].columns if frames[second_layer][c].dtype == "float64" and frames[second_layer][c].notna().all())
    frames[second_layer][numeric] = "many"
    for frame in frames.values():
        if "run_id" in frame:
            frame["run_id"] = "20990101T000000Z-bad"
    (bad.out_dir / "planning.gpkg").unlink()
    for name, frame in frames.items():
        frame.to_file(bad.out_dir / "planning.gpkg", layer=name, driver="GPKG", engine="pyogrio")

    with pytest.raises(DataError) as raised:
        postgis.export_run(read_run(bad.out_dir), postgis_url, schema=schema)
    message = str(raised.value)
    assert "\n" not in message and second_layer in message and numeric in message and "rolled back" in message
    assert "'many'" in message and "double precision" in message and history(second_layer) in message
    assert "127.0.0.1" in message and schema in message
    for table in ["runs", "indicators_history", history(first_layer), history(second_layer)]:
        assert count(postgis_url, schema, table, "20990101T000000Z-bad") == 0, table
    assert run_counts(postgis_url, schema, good) == before


def test_a_failure_after_the_first_table_leaves_nothing_not_even_the_schema(postgis_url, schema, sample_out, monkeypatch):
    write_history = postgis.write_history
    written: list[str] = []

    def fail_on_second(conn, schema_name, dest, *args, **kwargs):
        if written:
            raise RuntimeError("disk on fire")
        written.append(dest.source)
        return write_history(conn, schema_name, dest, *args, **kwargs)

    monkeypatch.setattr(postgis, "write_history", fail_on_second)
    with pytest.raises(RuntimeError, match="disk on fire"):
        postgis.export_run(read_run(sample_out), postgis_url, schema=schema)
    assert written == ["indicators"]
    with psycopg.connect(postgis_url) as conn:
        assert conn.execute("SELECT to_regnamespace(%s)", (f'"{schema}"',)).fetchone()[0] is None


def test_hostile_names_and_values_round_trip_and_drop_nothing(postgis_url, tmp_path):
    layer = pd.DataFrame({HOSTILE: [HOSTILE_VALUE, None], "n": [1, 2]})
    frame = gpd.GeoDataFrame(layer, geometry=[box(111, 34, 111.1, 34.1), MultiPolygon([box(111.2, 34, 111.3, 34.1)])], crs=4490)
    indicators = pd.DataFrame({"indicator": ["a.b"], "zone_id": ["0001"], HOSTILE: [HOSTILE_VALUE], "value": [0.5]})
    run = write_run(tmp_path / "run", "run'); DROP TABLE runs; --", {HOSTILE: frame}, indicators)
    schema = 'plan"; DROP SCHEMA public CASCADE; --'

    postgis.export_run(run, postgis_url, schema=schema)
    postgis.export_run(run, postgis_url, schema=schema)

    assert relations(postgis_url, schema) == {"runs", "indicators_history", "x_drop_table_runs_history"}
    assert relations(postgis_url, schema, "v") == {"indicators", "x_drop_table_runs"}
    with psycopg.connect(postgis_url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT {}, n, ST_GeometryType(geometry), run_id FROM {} ORDER BY run_row").format(
                sql.Identifier(HOSTILE), sql.Identifier(schema, "x_drop_table_runs")
            )
        ).fetchall()
        assert conn.execute("SELECT to_regtype('geometry') IS NOT NULL").fetchone()[0]  # public and PostGIS still there
    assert rows == [(HOSTILE_VALUE, 1, "ST_MultiPolygon", run.record["run_id"]), (None, 2, "ST_MultiPolygon", run.record["run_id"])]
    back = postgis.read_indicators(postgis_url, run.record["run_id"], schema=schema)
    pd.testing.assert_frame_equal(back, run.indicators, check_dtype=False)
    assert list(postgis.list_runs(postgis_url, schema=schema)["run_id"]) == [run.record["run_id"]]


def test_later_runs_add_columns_and_widen_types(postgis_url, schema, tmp_path):
    def layer(geometries=None, **columns) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(columns, geometry=geometries or [Point(111, 34), Point(111.5, 34.5)], crs=4490)

    square, multi = box(111, 34, 111.1, 34.1), MultiPolygon([box(111.2, 34, 111.3, 34.1), box(111.4, 34, 111.5, 34.1)])
    indicators = pd.DataFrame({"indicator": ["a.b"], "value": [1.0]})
    first = write_run(tmp_path / "a", "run-a", {
        "sites": layer(n=[1, 2], target=[None, None]),
        "areas": layer([multi], k=[1]),
        "mixed": layer([Point(111, 34)], k=[1]),
    }, indicators)
    second = write_run(tmp_path / "b", "run-b", {
        "sites": layer(n=[1.5, 2.0], target=[0.25, None], extra=["x", "y"]),
        "areas": layer([square], k=[2]),  # a Polygon layer now: promoted into the MultiPolygon column
        "mixed": layer([square], k=[2]),  # points before, polygons now: the column becomes Geometry
    }, indicators.assign(note=["new"]))
    postgis.export_run(first, postgis_url, schema=schema)
    postgis.export_run(second, postgis_url, schema=schema)

    with psycopg.connect(postgis_url) as conn:
        types = dict(conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = 'sites_history'", (schema,)
        ).fetchall())
        rows = conn.execute(
            sql.SQL("SELECT run_id, n, target, extra, GeometryType(geometry) FROM {} ORDER BY run_id, run_row").format(
                sql.Identifier(schema, "sites_history"))
        ).fetchall()
        geometry_types = dict(conn.execute(
            "SELECT f_table_name, type FROM geometry_columns WHERE f_table_schema = %s", (schema,)
        ).fetchall())
        areas = conn.execute(sql.SQL("SELECT ST_AsText(geometry) FROM {} ORDER BY run_id").format(sql.Identifier(schema, "areas_history"))).fetchall()
        shown = conn.execute(sql.SQL("SELECT run_row, n, target, extra FROM {} ORDER BY run_row").format(sql.Identifier(schema, "sites"))).fetchall()
    assert types["n"] == types["target"] == "double precision" and types["extra"] == "text"
    assert geometry_types == {"sites_history": "POINT", "areas_history": "MULTIPOLYGON", "mixed_history": "GEOMETRY",
                              "sites": "POINT", "areas": "MULTIPOLYGON", "mixed": "GEOMETRY"}  # the views follow their tables
    stored = [shapely.from_wkt(text) for (text,) in areas]
    assert [g.geom_type for g in stored] == ["MultiPolygon", "MultiPolygon"]
    assert stored[0].equals(multi) and stored[1].equals(square)
    assert shown == [(0, 1.5, 0.25, "x"), (1, 2.0, None, "y")]  # the view: the later run, with its new column
    assert rows == [("run-a", 1, None, None, "POINT"), ("run-a", 2, None, None, "POINT"),
                    ("run-b", 1.5, 0.25, "x", "POINT"), ("run-b", 2.0, None, "y", "POINT")]
    assert list(postgis.read_indicators(postgis_url, "run-a", schema=schema).columns) == ["indicator", "value"]
    assert list(postgis.read_indicators(postgis_url, "run-b", schema=schema).columns) == ["indicator", "value", "note"]


def test_connection_errors_name_the_server_and_never_the_password(postgis_cluster, postgis_url, sample_out, monkeypatch):
    run = read_run(sample_out)
    secret = "Wr0ng-s3cret!"
    monkeypatch.delenv("PGPASSWORD")
    with pytest.raises(UsageError) as raised:
        postgis.export_run(run, postgis_cluster.url(password=secret))
    message = str(raised.value)
    assert secret not in message and "\n" not in message
    assert f"127.0.0.1:{postgis_cluster.port}/gis_test" in message and "PGPASSWORD" in message and "  " not in message

    closed = postgis_cluster.free_port()
    with pytest.raises(UsageError) as raised:
        postgis.list_runs(postgis_cluster.url(password=secret, port=closed), schema="planning")
    assert secret not in str(raised.value) and f"127.0.0.1:{closed}" in str(raised.value)

    with pytest.raises(UsageError) as raised:
        postgis.export_run(run, f"postgresql://postgres:{secret}%zz@127.0.0.1:{closed}/gis_test")
    assert "s3cret" not in str(raised.value)
    assert postgis.redact_url(postgis_cluster.url(password=secret)) == f"postgresql://postgres@127.0.0.1:{postgis_cluster.port}/gis_test"


def test_a_password_in_the_url_works_and_stays_out_of_logs(postgis_cluster, schema, sample_out, monkeypatch, caplog):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    logger = postgis.log
    logger.addHandler(caplog.handler)  # the CLI's logger "gis" does not propagate to the root
    caplog.set_level(logging.DEBUG, logger=logger.name)  # the summary line is DEBUG: `gis export` prints it once
    try:
        summary = postgis.export_run(read_run(sample_out), postgis_cluster.url(password=postgis_cluster.password), schema=schema)
    finally:
        logger.removeHandler(caplog.handler)
    assert summary.run_id in caplog.text and f"127.0.0.1:{postgis_cluster.port}" in caplog.text
    assert postgis_cluster.password not in caplog.text + repr(summary)


def test_missing_postgis_schema_or_run_are_usage_errors(postgis_cluster, postgis_url, schema, sample_out):
    with pytest.raises(UsageError, match="CREATE EXTENSION postgis"):
        postgis.export_run(read_run(sample_out), postgis_cluster.url(postgis_cluster.plain_dbname))
    with pytest.raises(UsageError, match="no exported runs"):
        postgis.list_runs(postgis_url, schema=schema)
    postgis.export_run(read_run(sample_out), postgis_url, schema=schema)
    with pytest.raises(UsageError, match="no exported run"):
        postgis.read_indicators(postgis_url, "nosuchrun", schema=schema)
    with pytest.raises(UsageError, match="schema name"):
        postgis.list_runs(postgis_url, schema="s" * 64)


def test_a_user_without_create_rights_gets_a_usage_error(postgis_cluster, postgis_url, schema, sample_out):
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS reader")
        conn.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'")
    url = postgis_cluster.url().replace(f"{postgis_cluster.user}@", "reader:reader-pw@")
    with pytest.raises(UsageError, match=r"permission denied.*grant the user CREATE") as raised:
        postgis.export_run(read_run(sample_out), url, schema=schema)
    assert "reader-pw" not in str(raised.value) and schema in str(raised.value)


def test_a_run_id_column_of_the_file_must_be_the_runs_own(postgis_url, schema, tmp_path):
    frame = gpd.GeoDataFrame({"run_id": ["run-a", "run-a"], "k": [1, 2]}, geometry=[Point(111, 34), Point(112, 35)], crs=4490)
    indicators = pd.DataFrame({"indicator": ["a.b"], "value": [1.0]})
    postgis.export_run(write_run(tmp_path / "a", "run-a", {"sites": frame}, indicators), postgis_url, schema=schema)
    assert count(postgis_url, schema, "sites_history", "run-a") == 2
    with pytest.raises(DataError, match="column run_id holds 'run-a'"):
        postgis.export_run(write_run(tmp_path / "b", "run-b", {"sites": frame}, indicators), postgis_url, schema=schema)
    assert count(postgis_url, schema, "runs") == 1
