"""PostGIS as QGIS expects it: plain names, latest-run views, dictionary types, comments, styles in public.layer_styles."""

from __future__ import annotations

import re
import sqlite3
import uuid
import xml.etree.ElementTree as ET
from contextlib import closing

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from pgruns import add_style, copy_run, count, relations, write_run
from psycopg import sql
from shapely.geometry import box

from gis.errors import DataError, UsageError
from gis.outputs import postgis
from gis.outputs.folder import read_run

COUNTY_LAYER, COUNTY_VIEW = "permeable.share.county", "permeable_share_county"
SAMPLE_COUNTIES = 6  # Sanmenxia's county-level units

# QGIS 3.22's own query for a PostGIS layer's default style (QgsPostgresProviderMetadata::loadStyle, as in the
# strings of /usr/lib/qgis/plugins/libprovider_postgres.so); the table is found on the search path (public).
QGIS_LOAD_STYLE = (
    "SELECT styleQML FROM layer_styles WHERE f_table_catalog=%s AND f_table_schema=%s AND f_table_name=%s AND f_geometry_column = %s"
    " AND (type=%s OR type IS NULL) ORDER BY CASE WHEN useAsDefault THEN 1 ELSE 2 END,update_time DESC LIMIT 1"
)
# QGIS 3.22 saving a planner's own style as the layer's default: first the others stop being default.
QGIS_UNSET_DEFAULT = (
    "UPDATE layer_styles SET useAsDefault=false WHERE f_table_catalog=%s AND f_table_schema=%s AND f_table_name=%s"
    " AND f_geometry_column=%s AND (type=%s OR type IS NULL)"
)
QGIS_SAVE_STYLE = (
    "INSERT INTO layer_styles(f_table_catalog,f_table_schema,f_table_name,f_geometry_column,styleName,styleQML,styleSLD,useAsDefault,"
    "description,owner,type) VALUES (%s,%s,%s,%s,%s,XMLPARSE(DOCUMENT %s),XMLPARSE(DOCUMENT %s),true,%s,%s,%s)"
)
PLANNER_QML = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'><qgis><renderer-v2 type=\"singleSymbol\"/></qgis>"


def qgis_style(conn: psycopg.Connection, schema: str, view: str, geometry_type: str = "Polygon") -> ET.Element | None:
    """The style QGIS loads for a view, parsed (None when QGIS finds none)."""
    row = conn.execute(QGIS_LOAD_STYLE, (conn.info.dbname, schema, view, "geometry", geometry_type)).fetchone()
    return None if row is None else ET.fromstring(row[0])


def gpkg_styles(path) -> dict[str, str]:
    """styleQML of each layer's default style in a GeoPackage."""
    with closing(sqlite3.connect(path)) as gpkg:
        return dict(gpkg.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault"))


def rule_labels(qml: ET.Element) -> list[str]:
    """The labels of a rule renderer's rules (or of a categorized renderer's categories)."""
    return [node.get("label", "") for node in qml.iter() if node.tag in ("rule", "category")]


def test_styles_are_where_qgis_reads_them_and_names_need_no_quotes(postgis_url, schema, sample_out):
    run = read_run(sample_out)
    summary = postgis.export_run(run, postgis_url, schema=schema)
    styles = gpkg_styles(run.geopackage)

    assert summary.styles_written == len(styles) > 20 and summary.styles_kept == ()
    assert f"{len(styles)} QGIS styles written to public.layer_styles as the views' defaults" in summary.notes()
    with psycopg.connect(postgis_url) as conn:
        county = qgis_style(conn, schema, COUNTY_VIEW)
        every = {view: qgis_style(conn, schema, view) for view in (summary.views[layer] for layer in styles)}
        rows = conn.execute(
            "SELECT f_table_catalog, f_table_schema, f_geometry_column, useasdefault, owner, type FROM public.layer_styles WHERE f_table_schema = %s",
            (schema,),
        ).fetchall()
        names = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'v')",
            (schema,),
        ).fetchall()
    assert county is not None and county.tag == "qgis"
    expected = ET.fromstring(styles[COUNTY_LAYER])
    assert county.find("renderer-v2").get("type") == expected.find("renderer-v2").get("type") == "RuleRenderer"
    assert rule_labels(county) == rule_labels(expected) and len(rule_labels(county)) >= 3
    assert all(found is not None and found.find("renderer-v2") is not None for found in every.values())
    assert set(rows) == {("gis_test", schema, "geometry", True, "postgres", None)} and len(rows) == len(styles)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for (name,) in names)  # no name needs quoting
    assert "permeable.share.county" not in {name for (name,) in names}


def test_the_view_shows_the_latest_run_and_the_history_every_run(postgis_url, schema, sample_out, tmp_path):
    first = read_run(sample_out)
    assert len(first.read_layer(COUNTY_LAYER)) == SAMPLE_COUNTIES
    postgis.export_run(first, postgis_url, schema=schema)
    second = copy_run(sample_out, tmp_path / "second", "20990101T000000Z-second", started="2099-01-01T00:00:00+00:00")
    postgis.export_run(second, postgis_url, schema=schema)

    assert count(postgis_url, schema, COUNTY_VIEW) == SAMPLE_COUNTIES  # one set of counties, not 12 overlapping
    assert count(postgis_url, schema, COUNTY_VIEW + "_history") == 2 * SAMPLE_COUNTIES
    assert count(postgis_url, schema, COUNTY_VIEW, "20990101T000000Z-second") == SAMPLE_COUNTIES
    # Exporting the older run again changes its history rows only: the views and their styles stay with the latest run.
    again = postgis.export_run(first, postgis_url, schema=schema)
    assert "20990101T000000Z-second" in again.styles_skipped and again.styles_written == 0
    assert count(postgis_url, schema, COUNTY_VIEW, "20990101T000000Z-second") == SAMPLE_COUNTIES
    with psycopg.connect(postgis_url) as conn:
        keys = conn.execute(
            sql.SQL("SELECT count(DISTINCT run_row), min(run_row), max(run_row) FROM {}").format(sql.Identifier(schema, COUNTY_VIEW))
        ).fetchone()
        first_column = conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum = 1",
            (f'"{schema}"."{COUNTY_VIEW}"',),
        ).fetchone()
        owner_rows = conn.execute("SELECT count(*) FROM public.layer_styles WHERE f_table_schema = %s AND f_table_name = %s",
                                  (schema, COUNTY_VIEW)).fetchone()[0]
    assert keys == (SAMPLE_COUNTIES, 0, SAMPLE_COUNTIES - 1)  # run_row: a unique key of the view
    assert first_column == ("run_row", "integer")  # QGIS's browser keys a view by its first column
    assert owner_rows == 1  # re-exports replace our style row


def _sites(**columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[box(111, 34, 111.1, 34.1), box(111.2, 34, 111.3, 34.1)], crs=4490)


def test_types_come_from_the_dictionary_and_a_misfit_names_table_column_and_value(postgis_url, schema, tmp_path):
    empty = [None, None]
    indicators = pd.DataFrame({"indicator": ["a.b"], "value": [0.5], "baseline": [None]})
    first = write_run(tmp_path / "a", "run-a", {"sites.county": _sites(baseline=empty, target=empty, shortfall=empty, denominator=empty,
                                                                        year=[2025, 2025], n=[1, 2])}, indicators)
    postgis.export_run(first, postgis_url, schema=schema)
    with psycopg.connect(postgis_url) as conn:
        types = dict(conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = 'sites_county_history'",
            (schema,),
        ).fetchall())
        indicator_types = dict(conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = 'indicators'", (schema,)
        ).fetchall())
    assert {name: types[name] for name in ("baseline", "target", "shortfall", "denominator")} == dict.fromkeys(
        ("baseline", "target", "shortfall", "denominator"), "double precision")  # all NULL in this first run
    assert types["year"] == "bigint" and types["n"] == "bigint"  # n: not in the dictionary, the GeoPackage's INTEGER
    assert indicator_types["baseline"] == "double precision" and indicator_types["run_row"] == "integer"

    bad = write_run(tmp_path / "b", "run-b", {"sites.county": _sites(baseline=[0.25, None], denominator=["n/a", None])}, indicators)
    with pytest.raises(DataError) as raised:
        postgis.export_run(bad, postgis_url, schema=schema)
    message = str(raised.value)
    assert '"sites_county_history"' in message and '"denominator"' in message and "'n/a'" in message and "double precision" in message
    assert "rolled back" in message and "\n" not in message
    assert count(postgis_url, schema, "sites_county_history", "run-b") == 0 and count(postgis_url, schema, "runs") == 1


def test_tables_views_and_columns_are_commented(postgis_url, schema, sample_out):
    run = read_run(sample_out)
    postgis.export_run(run, postgis_url, schema=schema)
    with closing(sqlite3.connect(run.geopackage)) as gpkg:
        (description,) = gpkg.execute("SELECT description FROM gpkg_contents WHERE table_name = ?", (COUNTY_LAYER,)).fetchone()
    with psycopg.connect(postgis_url) as conn:
        def described(relation: str, column: str | None = None) -> str:
            name = f'"{schema}"."{relation}"'
            if column is None:
                return conn.execute("SELECT obj_description(%s::regclass, 'pg_class')", (name,)).fetchone()[0]
            return conn.execute(
                "SELECT col_description(%s::regclass, (SELECT attnum FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s))",
                (name, name, column),
            ).fetchone()[0]

        view, table, runs = described(COUNTY_VIEW), described(COUNTY_VIEW + "_history"), described("runs")
        columns = {(relation, column): described(relation, column) for relation in (COUNTY_VIEW, COUNTY_VIEW + "_history", "indicators")
                   for column in ("value", "shortfall_unit", "run_row")}
        run_id = described("runs", "run_id")
    assert view == f"{description} — latest run of {COUNTY_VIEW}_history"
    assert table.startswith(description) and "every exported run" in table and "可渗透" in table
    assert runs.startswith("Runs of gis-plan") and run_id.startswith("运行编号")
    assert {text.split(":")[0] for (_, column), text in columns.items() if column == "value"} == {"指标值"}
    assert {text.split(":")[0] for (_, column), text in columns.items() if column == "shortfall_unit"} == {"缺口单位"}
    assert all("key QGIS uses" in text for (_, column), text in columns.items() if column == "run_row")


def test_a_planners_own_default_style_survives_a_re_export(postgis_url, schema, sample_out):
    run = read_run(sample_out)
    postgis.export_run(run, postgis_url, schema=schema)
    with psycopg.connect(postgis_url) as conn:  # the planner saves their own style as the default, as QGIS 3.22 does
        key = (conn.info.dbname, schema, COUNTY_VIEW, "geometry")
        conn.execute(QGIS_UNSET_DEFAULT, (*key, "Polygon"))
        conn.execute(QGIS_SAVE_STYLE, (*key, "mine", PLANNER_QML, "<sld/>", "my colours", "planner", "Polygon"))

    summary = postgis.export_run(run, postgis_url, schema=schema)

    assert summary.styles_kept == (COUNTY_VIEW,) and any("kept your own default style" in line for line in summary.notes())
    with psycopg.connect(postgis_url) as conn:
        loaded = qgis_style(conn, schema, COUNTY_VIEW)
        other = qgis_style(conn, schema, "permeable_share_gaps")
        rows = conn.execute(
            "SELECT owner, useasdefault, description LIKE 'gis-plan export%%' FROM public.layer_styles"
            " WHERE f_table_schema = %s AND f_table_name = %s ORDER BY owner",
            (schema, COUNTY_VIEW),
        ).fetchall()
    assert loaded is not None and loaded.find("renderer-v2").get("type") == "singleSymbol"  # the planner's
    assert rows == [("planner", True, False), ("postgres", False, True)]  # ours beside it, not default
    assert ET.tostring(other) == ET.tostring(ET.fromstring(gpkg_styles(run.geopackage)["permeable.share.gaps"]))  # other views: ours


def _earlier_layout(conn: psycopg.Connection, schema: str, *, ours: bool = True) -> None:
    """A schema as the earlier export wrote it: tables named as the layers, an indicators table, a layer_styles copy."""
    ident = sql.Identifier(schema)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident))
    conn.execute(sql.SQL(
        "CREATE TABLE {}.runs (run_id text PRIMARY KEY, started timestamptz, finished timestamptz, project text, synthetic boolean,"
        " record jsonb NOT NULL, tables jsonb, exported timestamptz NOT NULL DEFAULT now())").format(ident))
    conn.execute(sql.SQL("INSERT INTO {}.runs (run_id, started, record, tables) VALUES ('run-old', '2025-01-01', '{{}}', %s)").format(ident),
                 ('{"indicators": {"rows": 1, "columns": ["indicator", "value", "target"]}}',))
    keyed = "run_id text NOT NULL REFERENCES {}.runs (run_id) ON DELETE CASCADE, run_row integer NOT NULL"
    conn.execute(sql.SQL("CREATE TABLE {}.indicators (" + keyed + ", indicator text, value double precision, target text,"
                         " PRIMARY KEY (run_id, run_row))").format(ident, ident))
    conn.execute(sql.SQL("INSERT INTO {}.indicators VALUES ('run-old', 0, 'a.b', 0.5, NULL)").format(ident))
    for layer, rows in (("a.b.county", 2), ("gone.city", 1)):
        table = sql.Identifier(schema, layer)
        conn.execute(sql.SQL("CREATE TABLE {} (" + keyed + ", zone_id text, value double precision, baseline text,"
                             " geometry geometry(MultiPolygon, 4490), PRIMARY KEY (run_id, run_row))").format(table, ident))
        for row in range(rows):
            conn.execute(sql.SQL("INSERT INTO {} VALUES ('run-old', %s, %s, 0.1, NULL, ST_Multi(ST_MakeEnvelope(111, 34, 112, 35, 4490)))").format(table),
                         (row, f"z{row}"))
    if ours:
        conn.execute(sql.SQL("CREATE TABLE {}.layer_styles (" + keyed + ", f_table_name text, styleqml text)").format(ident, ident))
    else:
        conn.execute(sql.SQL("CREATE TABLE {}.layer_styles (id serial PRIMARY KEY, f_table_name text, styleqml text)").format(ident))


def test_a_schema_of_the_earlier_layout_is_migrated_with_its_history(postgis_url, schema, tmp_path):
    with psycopg.connect(postgis_url) as conn:
        _earlier_layout(conn, schema)
    assert list(postgis.list_runs(postgis_url, schema=schema)["rows"]) == [1]  # readable before the migration too
    indicators = pd.DataFrame({"indicator": ["a.b"], "value": [0.75], "target": [0.8]})
    run = write_run(tmp_path / "new", "run-new", {"a.b.county": _sites(zone_id=["z0", "z1"], value=[0.2, 0.3], baseline=[0.1, None])},
                    indicators)

    summary = postgis.export_run(run, postgis_url, schema=schema)

    assert summary.migrated == {"indicators": "indicators_history", "a.b.county": "a_b_county_history", "gone.city": "gone_city_history"}
    assert relations(postgis_url, schema) == {"runs", "indicators_history", "a_b_county_history", "gone_city_history"}  # copy dropped
    assert relations(postgis_url, schema, "v") == {"indicators", "a_b_county", "gone_city"}
    assert (count(postgis_url, schema, "a_b_county_history"), count(postgis_url, schema, "a_b_county")) == (4, 2)
    assert count(postgis_url, schema, "a_b_county", "run-new") == 2
    assert (count(postgis_url, schema, "gone_city_history"), count(postgis_url, schema, "gone_city")) == (1, 0)  # not in the latest run
    with psycopg.connect(postgis_url) as conn:
        baseline = conn.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = 'a_b_county_history'"
            " AND column_name = 'baseline'", (schema,)).fetchone()[0]
        target = conn.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = 'indicators_history'"
            " AND column_name = 'target'", (schema,)).fetchone()[0]
    assert baseline == target == "double precision"  # text while all NULL in the earlier export
    assert list(postgis.list_runs(postgis_url, schema=schema)["run_id"]) == ["run-old", "run-new"]
    old = postgis.read_indicators(postgis_url, "run-old", schema=schema)
    assert old.to_dict("records") == [{"indicator": "a.b", "value": 0.5, "target": None}]
    again = postgis.export_run(run, postgis_url, schema=schema)  # migrated once: later exports find the new layout
    assert again.migrated == {} and count(postgis_url, schema, "a_b_county_history") == 4


def test_a_layer_styles_table_that_is_not_ours_is_kept(postgis_url, schema, tmp_path):
    with psycopg.connect(postgis_url) as conn:
        _earlier_layout(conn, schema, ours=False)
    run = write_run(tmp_path / "new", "run-new", {"a.b.county": _sites(value=[0.2, 0.3])}, pd.DataFrame({"indicator": ["a.b"]}))
    postgis.export_run(run, postgis_url, schema=schema)
    assert "layer_styles" in relations(postgis_url, schema)


def test_styles_need_rights_on_public_and_an_old_qgis_table_gets_its_type_column(postgis_cluster, postgis_url, schema, tmp_path):
    database, role = f"styles_{uuid.uuid4().hex[:8]}", f"planner_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'planner-pw'").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(role)))
    admin = postgis_cluster.url(database)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
    planner = admin.replace(f"{postgis_cluster.user}@", f"{role}:planner-pw@")
    run = write_run(tmp_path / "run", "run-a", {"a.b.county": _sites(value=[0.2, 0.3])}, pd.DataFrame({"indicator": ["a.b"]}))
    add_style(run, "a.b.county", PLANNER_QML)

    with pytest.raises(UsageError) as raised:  # PostgreSQL 15: nobody but the owner creates tables in public
        postgis.export_run(run, planner, schema=schema)
    message = str(raised.value)
    assert "GRANT CREATE ON SCHEMA public" in message and "public.layer_styles" in message and "\n" not in message
    assert "planner-pw" not in message
    with psycopg.connect(admin) as conn:
        assert conn.execute("SELECT to_regnamespace(%s)", (schema,)).fetchone()[0] is None  # rolled back
        conn.execute(  # the table as QGIS before 3.14 made it: no type column
            "CREATE TABLE layer_styles(id SERIAL PRIMARY KEY,f_table_catalog varchar,f_table_schema varchar,f_table_name varchar,"
            "f_geometry_column varchar,styleName text,styleQML xml,styleSLD xml,useAsDefault boolean,description text,owner varchar(63),"
            "ui xml,update_time timestamp DEFAULT CURRENT_TIMESTAMP)")

    assert postgis.export_run(run, admin, schema=schema).styles_written == 1
    with psycopg.connect(admin) as conn:
        assert qgis_style(conn, schema, "a_b_county") is not None
        assert conn.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.layer_styles'::regclass AND attname = 'type'"
                            ).fetchone()[0] == 1
    with pytest.raises(UsageError, match=r"may not SELECT on public\.layer_styles.*GRANT SELECT, INSERT, DELETE"):
        postgis.export_run(run, planner, schema=f"{schema}_own")


def test_the_summary_line_says_what_was_written_and_what_was_kept(postgis_url, schema, tmp_path):
    run = write_run(tmp_path / "run", "run-a", {"a.b.county": _sites(value=[0.2, 0.3])}, pd.DataFrame({"indicator": ["a.b"]}))
    add_style(run, "a.b.county", PLANNER_QML)
    line = postgis.export_run(run, postgis_url, schema=schema).line()
    assert line.startswith(f"exported run run-a to {postgis.redact_url(postgis_url)} schema {schema}: 2 history tables and 2 views")
    assert line.endswith("4 rows; 1 QGIS styles written to public.layer_styles as the views' defaults") and "\n" not in line
