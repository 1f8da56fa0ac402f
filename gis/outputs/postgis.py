"""Export of finished runs to PostGIS, and reading the exported history back.

One schema holds the history of many runs: a ``runs`` table (one row per run, with the whole
``run.json`` as jsonb), an ``indicators`` table (the rows of ``indicators.csv``) and one table per
GeoPackage layer, named exactly as the layer. Every row carries the ``run_id`` of its run and its
position in the run's file (``run_row``); ``(run_id, run_row)`` is the primary key, and ``run_id``
references ``runs`` with ``ON DELETE CASCADE``. A run is exported in one transaction: all of it
or nothing. Exporting a run again replaces that run's rows and leaves the other runs alone.

Every name and value from a data file is untrusted: identifiers are quoted with
:class:`psycopg.sql.Identifier`; values travel as data, never inside SQL text: bound parameters,
or rows of ``COPY ... FROM STDIN`` (geometries as hex EWKB with SRID 4490, parsed by PostGIS).
The URL's password, if any, never appears in a message or a log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from gis.errors import DataError, GisError, UsageError
from gis.outputs.folder import RunOutputs

log = logging.getLogger(__name__)

OUTPUT_SRID = 4490
RUNS_TABLE = "runs"
INDICATORS_TABLE = "indicators"
RESERVED_COLUMNS = ("run_id", "run_row")
RUN_COLUMNS = ("run_id", "started", "finished", "project", "synthetic", "rows")

_MAX_IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1: longer names would be cut silently
_CONNECT_TIMEOUT_S = 10
_MULTI = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}
_GEOMETRY_FAMILIES = tuple(_MULTI)
_TIMESTAMP, _TIMESTAMPTZ = "timestamp without time zone", "timestamp with time zone"  # as format_type() spells them


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_run` wrote: rows per table (layers, ``indicators``, ``runs``)."""

    run_id: str
    target: str  # the database URL without its password
    schema: str
    tables: dict[str, int]

    @property
    def rows(self) -> int:
        """Rows written, all tables together."""
        return sum(self.tables.values())


@dataclass(frozen=True)
class _Target:
    """A parsed connection URL, and how to name it in messages."""

    url: str
    params: dict[str, str]
    password: str | None

    @property
    def label(self) -> str:
        """``postgresql://user@host:port/db`` (what was given, never the password)."""
        user = f"{self.params['user']}@" if self.params.get("user") else ""
        port = f":{self.params['port']}" if self.params.get("port") else ""
        return f"postgresql://{user}{self.params.get('host', '')}{port}/{self.params.get('dbname', '')}"

    def scrub(self, text: str) -> str:
        """``text`` with the password (plain or as written in the URL) replaced by ``***``."""
        return _scrub(text, self.password, _url_password(self.url))


def redact_url(url: str) -> str:
    """The URL as it may be shown: ``postgresql://user@host:port/db``, without the password."""
    return _target(url).label


def export_run(run: RunOutputs, url: str, *, schema: str = "planning") -> ExportSummary:
    """Write a run's layers, indicators and record into ``schema``, replacing an earlier export of it.

    Parameters
    ----------
    run
        A finished run, from :func:`gis.outputs.folder.read_run`.
    url
        ``postgresql://USER@HOST:PORT/DB``; the password comes from PGPASSWORD or ~/.pgpass
        (as libpq does) or from the URL.
    schema
        Created if missing. Tables are created or given new columns as needed.

    Raises
    ------
    UsageError
        The server cannot be reached, refuses the login, lacks PostGIS or a privilege.
    DataError
        The run's names or values cannot be stored (the transaction is rolled back).
    """
    target = _target(url)
    where = f"{target.label} schema {_quote(schema)}"
    _check_identifier(schema, "schema name", where, error=UsageError)
    run_id = _run_id(run)
    declared = _declared_geometry_types(run)
    for layer in run.layers:
        _check_identifier(layer, "layer name", f"{run.geopackage}: layer {_quote(layer)}")
        if layer in (RUNS_TABLE, INDICATORS_TABLE):
            msg = f"{run.geopackage}: layer {_quote(layer)} has the name of a table of the export; rename the layer"
            raise DataError(msg)

    tables: dict[str, int] = {}
    columns: dict[str, list[str]] = {}
    with _errors(target, f"{where}, run {_quote(run_id)}"), _connect(target) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"gis-plan export {schema}",))
        _require_postgis(conn, target)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        _create_runs_table(conn, schema)
        runs = sql.Identifier(schema, RUNS_TABLE)
        conn.execute(sql.SQL("DELETE FROM {} WHERE run_id = %s").format(runs), (run_id,))  # cascades
        conn.execute(
            sql.SQL("INSERT INTO {} (run_id, started, finished, project, synthetic, record) VALUES (%s, %s, %s, %s, %s, %s)").format(runs),
            (run_id, _timestamp(run, "started"), _timestamp(run, "finished"), _project_name(run.record), run.synthetic, Jsonb(run.record)),
        )
        for table in [INDICATORS_TABLE, *run.layers]:
            frame = run.indicators if table == INDICATORS_TABLE else run.read_layer(table)
            columns[table] = [str(c) for c in frame.columns]
            located = f"{where}, table {_quote(table)}, run {_quote(run_id)}"
            tables[table] = _write_table(conn, target, schema, table, frame, run_id, where=located, declared_type=declared.get(table))
        tables[RUNS_TABLE] = 1
        record = {name: {"rows": rows, "columns": columns[name]} for name, rows in tables.items() if name in columns}
        conn.execute(sql.SQL("UPDATE {} SET tables = %s WHERE run_id = %s").format(runs), (Jsonb(record), run_id))
    summary = ExportSummary(run_id=run_id, target=target.label, schema=schema, tables=tables)
    log.debug("run %s exported to %s schema %s: %d tables, %d rows", run_id, target.label, _quote(schema), len(tables), summary.rows)  # `gis export` prints it
    return summary


def list_runs(url: str, *, schema: str) -> pd.DataFrame:
    """The exported runs, oldest first: run_id, started, finished, project, synthetic, rows.

    ``rows`` counts the run's rows in the ``indicators`` table.
    """
    with _history(url, schema) as (conn, _):
        query = sql.SQL(
            "SELECT r.run_id, r.started, r.finished, r.project, r.synthetic,"
            " (SELECT count(*) FROM {indicators} i WHERE i.run_id = r.run_id) AS rows"
            " FROM {runs} r ORDER BY r.started, r.run_id"
        ).format(indicators=sql.Identifier(schema, INDICATORS_TABLE), runs=sql.Identifier(schema, RUNS_TABLE))
        rows = conn.execute(query).fetchall()
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def read_indicators(url: str, run_id: str, *, schema: str) -> pd.DataFrame:
    """The indicator rows of one exported run, with the columns and row order of its indicators.csv."""
    with _history(url, schema) as (conn, where):
        found = conn.execute(
            sql.SQL("SELECT tables -> %s -> 'columns' FROM {} WHERE run_id = %s").format(sql.Identifier(schema, RUNS_TABLE)),
            (INDICATORS_TABLE, run_id),
        ).fetchone()
        if found is None:
            msg = f"{where}: no exported run {_quote(run_id)}; list the exported runs with `gis history`"
            raise UsageError(msg)
        present = _table_columns(conn, schema, INDICATORS_TABLE)
        names = [c for c in (found[0] or present) if c in present and c != "run_row"]  # run_id if the CSV had it
        query = sql.SQL("SELECT {} FROM {} WHERE run_id = %s ORDER BY run_row").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(schema, INDICATORS_TABLE)
        )
        rows = conn.execute(query, (run_id,)).fetchall()
    return pd.DataFrame(rows, columns=names)


# -- connection and errors -------------------------------------------------------------------


@contextmanager
def _history(url: str, schema: str) -> Iterator[tuple[psycopg.Connection, str]]:
    """A connection to a schema that holds exported runs, and the place named in its messages."""
    target = _target(url)
    where = f"{target.label} schema {_quote(schema)}"
    _check_identifier(schema, "schema name", where, error=UsageError)
    with _errors(target, where), _connect(target) as conn:
        _require_history(conn, target, schema)
        yield conn, where


def _target(url: str) -> _Target:
    """Parse ``url`` as libpq does; a malformed one is a UsageError whose message hides the password."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error as exc:
        shown = _scrub(_first_line(str(exc)), _url_password(url))
        msg = f"{_scrub(url, _url_password(url))}: not a valid PostgreSQL URL ({shown}); write it as postgresql://USER@HOST:PORT/DB"
        raise UsageError(msg) from None
    password = params.get("password")
    return _Target(url=url, params={k: str(v) for k, v in params.items()}, password=None if password is None else str(password))


def _connect(target: _Target) -> psycopg.Connection:
    """Open a connection (not in autocommit: its ``with`` block is one transaction)."""
    defaults: dict[str, str | int] = {"connect_timeout": _CONNECT_TIMEOUT_S, "application_name": "gis-plan"}
    extra = {key: value for key, value in defaults.items() if key not in target.params}
    try:
        return psycopg.connect(psycopg.conninfo.make_conninfo(target.url, **extra))
    except psycopg.Error as exc:
        reason = target.scrub(" ".join(_first_line(str(exc)).removeprefix("connection failed: ").split()))
        msg = f"{target.label}: cannot connect ({reason}); {_connect_fix(reason, target)}"
        raise UsageError(msg) from None


def _connect_fix(reason: str, target: _Target) -> str:
    """The likely fix for a failed connection, from libpq's reason."""
    user = target.params.get("user", "the user")
    text = reason.lower()
    if "password" in text:
        return f"give the right password of {user} in PGPASSWORD, ~/.pgpass or the URL"
    if "database" in text and "does not exist" in text:
        return f"create the database first (createdb {target.params.get('dbname', '')}) or fix its name in the URL"
    if "pg_hba.conf" in text or ("role" in text and "does not exist" in text):
        return "ask the database's administrator for a login, or fix the user in the URL"
    return "check that the server is running and that host and port in the URL are right"


@contextmanager
def _errors(target: _Target, where: str) -> Iterator[None]:
    """Turn a database error into a one-line UsageError (environment) or DataError (the run's data)."""
    try:
        yield
    except GisError:
        raise
    except psycopg.Error as exc:
        reason = exc.diag.message_primary or _first_line(str(exc))
        context = _first_line(exc.diag.context or "")
        if context.startswith("COPY "):  # "COPY table, line 3, column name: value"
            reason += f" at {context.removeprefix('COPY ')}"
        reason = target.scrub(reason)
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            msg = f"{where}: {reason}; grant the user CREATE on the database and the schema, or export to another schema"
            raise UsageError(msg) from None
        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            msg = f"{where}: {reason}; check the server and the URL, then export again"
            raise UsageError(msg) from None
        msg = (
            f"{where}: PostgreSQL refused the data ({reason}); nothing of this run was exported (rolled back): "
            "fix the run's outputs or export to another schema"
        )
        raise DataError(msg) from None


def _require_postgis(conn: psycopg.Connection, target: _Target) -> None:
    """Fail clearly when the database has no PostGIS."""
    if _scalar(conn, "SELECT to_regtype('geometry')") is None:
        msg = f"{target.label}: the database has no PostGIS; run `CREATE EXTENSION postgis;` in it as its owner"
        raise UsageError(msg)


def _require_history(conn: psycopg.Connection, target: _Target, schema: str) -> None:
    """Fail clearly when ``schema`` holds no exported runs."""
    for table in (RUNS_TABLE, INDICATORS_TABLE):
        if not _table_columns(conn, schema, table):
            msg = f"{target.label} schema {_quote(schema)}: no exported runs (no table {table}); export a run first (`gis export`) or fix --schema"
            raise UsageError(msg)


# -- tables ------------------------------------------------------------------------------------


def _create_runs_table(conn: psycopg.Connection, schema: str) -> None:
    """The ``runs`` table: one row per exported run."""
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            " run_id text PRIMARY KEY,"
            " started timestamp with time zone,"
            " finished timestamp with time zone,"
            " project text,"
            " synthetic boolean,"
            " record jsonb NOT NULL,"
            " tables jsonb,"
            " exported timestamp with time zone NOT NULL DEFAULT now())"
        ).format(sql.Identifier(schema, RUNS_TABLE))
    )


def _write_table(
    conn: psycopg.Connection,
    target: _Target,
    schema: str,
    table: str,
    frame: pd.DataFrame,
    run_id: str,
    *,
    where: str,
    declared_type: str | None = None,
) -> int:
    """Create or extend ``schema.table`` for ``frame`` and insert its rows for ``run_id``; return the row count."""
    if "run_id" in frame.columns:  # the file's own run_id column: the same as the one every row gets
        others = sorted({str(value) for value in frame["run_id"].dropna()} - {run_id})
        if others:
            msg = f"{where}: column run_id holds {others[0]!r}, not the id of this run; export the run's own outputs"
            raise DataError(msg)
        frame = frame.drop(columns="run_id")
    geometry = frame.active_geometry_name if isinstance(frame, gpd.GeoDataFrame) else None
    names = [str(c) for c in frame.columns]
    for name in names:
        _check_identifier(name, "column name", where)
        if name in RESERVED_COLUMNS:
            msg = f"{where}: column {_quote(name)} clashes with a column the export adds; rename it"
            raise DataError(msg)
    if len(set(names)) != len(names):
        msg = f"{where}: duplicate column names {sorted({n for n in names if names.count(n) > 1})}"
        raise DataError(msg)
    spatial = None  # (column, PostGIS type)
    if geometry is not None:
        _check_srid(frame, where)
        spatial = (geometry, _geometry_type(frame.geometry, declared_type))
    wanted = {name: _sql_type(frame[name]) for name in names if name != geometry}

    qualified = sql.Identifier(schema, table)
    with _errors(target, where):
        existing = _table_columns(conn, schema, table)
        if not existing:
            _create_table(conn, schema, table, names, wanted, spatial)
        elif spatial is not None:
            spatial = (geometry, _extend_table(conn, qualified, existing, wanted, spatial))
        else:
            _extend_table(conn, qualified, existing, wanted, None)

    attributes = [name for name in names if name != geometry]
    cells = [frame[name].astype(object).where(frame[name].notna(), None).tolist() for name in attributes]
    if spatial is not None:
        cells.append(_ewkb(frame.geometry, spatial[1]))
    columns = ["run_id", "run_row", *attributes, *([geometry] if geometry is not None else [])]
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(qualified, sql.SQL(", ").join(map(sql.Identifier, columns)))
    # COPY's text format: each value is parsed by its column's type (a geometry from hex EWKB), never as SQL
    with _errors(target, where), conn.cursor() as cursor, cursor.copy(copy) as stream:
        for number, row in enumerate(zip(*cells, strict=True) if cells else [()] * len(frame)):
            stream.write_row((run_id, number, *row))
    return len(frame)


def _create_table(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    names: list[str],
    wanted: dict[str, str | None],
    spatial: tuple[str, str] | None,
) -> None:
    """A new table: run_id and run_row first, then the frame's columns; GIST on the geometry."""
    qualified = sql.Identifier(schema, table)
    definitions = [
        sql.SQL("run_id text NOT NULL REFERENCES {} (run_id) ON DELETE CASCADE").format(sql.Identifier(schema, RUNS_TABLE)),
        sql.SQL("run_row integer NOT NULL"),
    ]
    for name in names:
        kind = _geometry_sql(spatial[1]) if spatial and name == spatial[0] else sql.SQL(wanted[name] or "text")
        definitions.append(sql.SQL("{} {}").format(sql.Identifier(name), kind))
    definitions.append(sql.SQL("PRIMARY KEY (run_id, run_row)"))  # its btree serves WHERE run_id = ...
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(qualified, sql.SQL(", ").join(definitions)))
    if spatial is not None:
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist ({})").format(qualified, sql.Identifier(spatial[0])))


def _extend_table(
    conn: psycopg.Connection,
    qualified: sql.Identifier,
    existing: dict[str, str],
    wanted: dict[str, str | None],
    spatial: tuple[str, str] | None,
) -> str:
    """Add new columns, widen bigint to double and a geometry type as the run needs; return the geometry type to write."""
    alter = sql.SQL("ALTER TABLE {} ").format(qualified)
    for name, kind in wanted.items():
        if name not in existing:
            conn.execute(alter + sql.SQL("ADD COLUMN IF NOT EXISTS {} {}").format(sql.Identifier(name), sql.SQL(kind or "text")))
        elif existing[name] == "bigint" and kind == "double precision":  # else 1.5 would be stored as 2
            conn.execute(alter + sql.SQL("ALTER COLUMN {} TYPE double precision").format(sql.Identifier(name)))
        elif existing[name] == "text" and kind not in (None, "text") and _all_null(conn, qualified, name):
            # made as text while every value was null: give it the type its first values have
            column = sql.Identifier(name)
            conn.execute(alter + sql.SQL("ALTER COLUMN {} TYPE {} USING NULL").format(column, sql.SQL(kind)))
    if spatial is None:
        return ""
    geometry, geometry_type = spatial
    if geometry not in existing:
        conn.execute(alter + sql.SQL("ADD COLUMN IF NOT EXISTS {} {}").format(sql.Identifier(geometry), _geometry_sql(geometry_type)))
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist ({})").format(qualified, sql.Identifier(geometry)))
        return geometry_type
    typmod = re.fullmatch(r"geometry\((\w+),(\d+)\)", existing[geometry])
    if typmod is None:  # an untyped geometry column takes anything
        return geometry_type
    have = typmod.group(1)
    merged = _merge_geometry_types(have, geometry_type)
    if merged != have:
        using = sql.SQL("ST_Multi({})" if merged.startswith("Multi") else "{}").format(sql.Identifier(geometry))
        conn.execute(
            alter + sql.SQL("ALTER COLUMN {} TYPE {} USING {}").format(sql.Identifier(geometry), _geometry_sql(merged), using)
        )
    return merged


def _all_null(conn: psycopg.Connection, qualified: sql.Identifier, column: str) -> bool:
    """Whether ``column`` holds no value in any row."""
    query = sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {} WHERE {} IS NOT NULL)").format(qualified, sql.Identifier(column))
    return bool(_scalar(conn, query))


def _scalar(conn: psycopg.Connection, query: sql.Composable | str, params: tuple[Any, ...] = ()) -> Any:
    """The first value of the first row of a query (None when there is no row)."""
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]  # psycopg types literal queries strictly
    return None if row is None else row[0]


def _table_columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    """Column names and types of ``schema.table`` in table order; empty when there is no such table."""
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attnum",
        (schema, table),
    ).fetchall()
    return dict(rows)


# -- types -------------------------------------------------------------------------------------


def _sql_type(column: pd.Series) -> str | None:
    """The column type for a frame's column; None when it holds no value to tell by."""
    present = column.dropna()
    if present.empty:
        return None
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double precision"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _TIMESTAMPTZ
    if pd.api.types.is_datetime64_dtype(dtype):
        return _TIMESTAMP
    kinds = {type(value) for value in present}
    if all(issubclass(kind, (bool, np.bool_)) for kind in kinds):
        return "boolean"
    if all(issubclass(kind, (int, np.integer)) and not issubclass(kind, (bool, np.bool_)) for kind in kinds):
        return "bigint"
    if all(issubclass(kind, (int, float, np.integer, np.floating)) and not issubclass(kind, (bool, np.bool_)) for kind in kinds):
        return "double precision"
    if all(issubclass(kind, bytes) for kind in kinds):
        return "bytea"
    if all(issubclass(kind, datetime) for kind in kinds):
        aware = {value.tzinfo is not None for value in present}
        return _TIMESTAMPTZ if aware == {True} else _TIMESTAMP if aware == {False} else "text"
    return "text"


def _geometry_type(geometries: gpd.GeoSeries, declared: str | None) -> str:
    """PostGIS type for a layer: its one family (Multi when any part or the GeoPackage is Multi), else Geometry."""
    present = geometries[geometries.notna() & ~geometries.is_empty]
    declared_base = (declared or "").split(" ")[0]
    z = bool(present.has_z.any()) if len(present) else (declared or "").endswith(" Z")
    types = set(present.geom_type)
    if not types:
        known = {*_GEOMETRY_FAMILIES, *(f"Multi{f}" for f in _GEOMETRY_FAMILIES)}
        base = declared_base if declared_base in known else "Geometry"
    else:
        families = {kind.removeprefix("Multi") for kind in types}
        family = families.pop() if len(families) == 1 else None
        if family in _GEOMETRY_FAMILIES:
            multi = any(kind.startswith("Multi") for kind in types) or declared_base.startswith("Multi")
            base = f"Multi{family}" if multi else family
        else:
            base = "Geometry"
    return base + ("Z" if z else "")


def _ewkb(geometries: gpd.GeoSeries, geometry_type: str) -> list[str | None]:
    """Hex EWKB (SRID 4490) of each geometry; single parts made Multi when the column is Multi."""
    values = np.asarray(geometries.array, dtype=object)
    multi = _MULTI.get(geometry_type.removesuffix("Z").removeprefix("Multi")) if geometry_type.startswith("Multi") else None
    if multi is not None:
        single = multi.__name__.removeprefix("Multi")
        values = np.array(
            [(multi([g]) if not g.is_empty else multi()) if g is not None and g.geom_type == single else g for g in values], dtype=object
        )
    return shapely.to_wkb(shapely.set_srid(values, OUTPUT_SRID), hex=True, include_srid=True).tolist()


def _merge_geometry_types(have: str, want: str) -> str:
    """A column type that holds both the stored geometries and the new ones."""
    if have == want or have.removesuffix("Z") == "Geometry" or have == f"Multi{want}":
        return have
    if want == f"Multi{have}":
        return want
    return "GeometryZ" if have.endswith("Z") else "Geometry"


def _geometry_sql(geometry_type: str) -> sql.Composable:
    """``geometry(Type, 4490)``; the type name is one this module made, never one from a file."""
    if not re.fullmatch(r"(Multi)?(Point|LineString|Polygon)Z?|GeometryZ?|GeometryCollectionZ?", geometry_type):
        msg = f"unexpected geometry type {geometry_type!r}"
        raise ValueError(msg)
    return sql.SQL("geometry({}, {})").format(sql.SQL(geometry_type), sql.Literal(OUTPUT_SRID))


def _declared_geometry_types(run: RunOutputs) -> dict[str, str | None]:
    """Geometry type of each GeoPackage layer as declared in the file (``MultiPolygon``, ``Point Z``, ...)."""
    return {str(name): (str(kind) if kind else None) for name, kind in pyogrio.list_layers(run.geopackage)}


def _check_srid(frame: gpd.GeoDataFrame, where: str) -> None:
    """Every layer of a run is in the output CRS; refuse anything else rather than mislabel it."""
    epsg = frame.crs.to_epsg() if frame.crs is not None else None
    if epsg != OUTPUT_SRID:
        msg = f"{where}: CRS is {frame.crs} but runs are written in EPSG:{OUTPUT_SRID}; run `gis run` again"
        raise DataError(msg)


# -- small helpers -----------------------------------------------------------------------------


def _run_id(run: RunOutputs) -> str:
    """The run's id from its record."""
    run_id = run.record.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        msg = f"{run.out_dir / 'run.json'}: no run_id; run `gis run` again"
        raise DataError(msg)
    return run_id


def _timestamp(run: RunOutputs, key: str) -> datetime | None:
    """``started`` or ``finished`` of the record as a datetime (None when absent)."""
    value = run.record.get(key)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        msg = f"{run.out_dir / 'run.json'}: {key} is {value!r}, not an ISO 8601 time; run `gis run` again"
        raise DataError(msg) from None


def _project_name(record: dict) -> str | None:
    """The project's name from the record (``project.name``)."""
    project = record.get("project")
    if isinstance(project, dict):
        return None if project.get("name") is None else str(project["name"])
    return None if project is None else str(project)


def _check_identifier(name: object, what: str, where: str, *, error: type[GisError] = DataError) -> None:
    """A name PostgreSQL keeps as it is once quoted: text, not empty, no NUL, at most 63 bytes."""
    if not isinstance(name, str) or not name or "\x00" in name or len(name.encode("utf-8")) > _MAX_IDENTIFIER_BYTES:
        msg = f"{where}: {what} {name!r} cannot be a PostgreSQL name (1 to {_MAX_IDENTIFIER_BYTES} bytes, no NUL); rename it"
        raise error(msg)


def _quote(name: str) -> str:
    """A name for a message, quoted as SQL would."""
    return '"' + name.replace('"', '""') + '"'


def _first_line(text: str) -> str:
    """The first non-empty line of a message."""
    return next((line.strip() for line in text.splitlines() if line.strip()), text.strip())


def _url_password(url: str) -> str | None:
    """The password as written in a URL (possibly percent-encoded), if any."""
    try:
        return urlsplit(url).password if "://" in url else None
    except ValueError:
        return None


def _scrub(text: str, *secrets: str | None) -> str:
    """``text`` without passwords: the given ones, and any ``user:password@`` or ``password=``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", text)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text, flags=re.IGNORECASE)
