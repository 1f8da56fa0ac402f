"""Export of finished runs to PostGIS, as QGIS expects it, and reading the exported history back.

One schema holds the history of many runs: a ``runs`` table (one row per run, with the whole ``run.json``
as jsonb) and, for ``indicators.csv`` and each GeoPackage layer, a history table ``<plain>_history`` (every
exported run) and a view ``<plain>`` that shows the latest run (plain names: ``permeable.share.county`` ->
``permeable_share_county``; see :mod:`gis.outputs.postgis_tables`). Every row carries the ``run_id`` of its
run and its position in the run's file (``run_row``); ``run_id`` references ``runs`` with ``ON DELETE
CASCADE``. Columns are typed by the data dictionary, tables, views and columns are commented, and the
GeoPackage's QGIS styles go to ``public.layer_styles`` for the views (:mod:`gis.outputs.postgis_styles`).

A run is exported in one transaction: all of it or nothing. Exporting a run again replaces that run's rows
and leaves the other runs alone. A schema written by the earlier layout (tables named as the layers) is
migrated in the same transaction, its history kept.

Every name and value from a data file is untrusted: identifiers are quoted with
:class:`psycopg.sql.Identifier`; values travel as data, never inside SQL text: bound parameters, rows of
``COPY ... FROM STDIN`` (geometries as hex EWKB with SRID 4490, parsed by PostGIS), or (for ``COMMENT``,
which takes no parameters) literals quoted by psycopg. The URL's password never appears in a message or a log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import pandas as pd
import psycopg
import pyogrio
from psycopg import sql
from psycopg.types.json import Jsonb

from gis.errors import DataError, GisError, UsageError
from gis.outputs.folder import RunOutputs, current_year
from gis.outputs.postgis_gpkg import NOT_DATA_LAYERS, read_default_styles, read_layer_infos
from gis.outputs.postgis_styles import STYLE_SCHEMA, STYLE_TABLE, ViewStyle, write_styles
from gis.outputs.postgis_tables import (
    GEOMETRY_COLUMN,
    HISTORY_SUFFIX,
    INDICATORS,
    RUNS_TABLE,
    Destination,
    check_identifier,
    comment,
    comment_runs,
    destinations,
    latest_run_query,
    migrate_earlier_layout,
    quote,
    replace_view,
    scalar,
    table_columns,
    write_history,
)
from gis.outputs.summary import plan_targets

log = logging.getLogger(__name__)

RUN_COLUMNS = ("run_id", "started", "finished", "project", "synthetic", "rows")

_CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_run` wrote: rows per history table (and ``runs``), the views, the styles."""

    run_id: str
    target: str  # the database URL without its password
    schema: str
    tables: dict[str, int]
    views: dict[str, str] = field(default_factory=dict)
    """GeoPackage layer (and ``indicators``) -> the view that shows its latest run."""
    styles_written: int = 0
    styles_kept: tuple[str, ...] = ()
    """Views whose default style stays a planner's own (ours was stored beside it, not as default)."""
    styles_skipped: str = ""
    """Why no style was written ('' when they were)."""
    migrated: dict[str, str] = field(default_factory=dict)
    """Tables of an earlier export's layout -> the history table they were renamed to."""

    @property
    def rows(self) -> int:
        """Rows written, all tables together."""
        return sum(self.tables.values())

    def line(self) -> str:
        """The one line `gis export` prints: what was written where, then the notes."""
        tables = len(self.tables) - (RUNS_TABLE in self.tables)
        head = (
            f"exported run {self.run_id} to {self.target} schema {self.schema}: {tables} history tables and "
            f"{len(self.views)} views of the latest run, {self.rows} rows"
        )
        return "; ".join([head, *self.notes()])

    def notes(self) -> list[str]:
        """Lines for the planner about styles and migration (none when there is nothing to say)."""
        lines = []
        if self.migrated:
            lines.append(f"renamed {len(self.migrated)} tables of an earlier export to their history names (every run kept)")
        if self.styles_skipped:
            lines.append(f"styles not written: {self.styles_skipped}")
        elif self.styles_written:
            lines.append(f"{self.styles_written} QGIS styles written to {STYLE_SCHEMA}.{STYLE_TABLE} as the views' defaults")
        if self.styles_kept:
            shown = ", ".join(self.styles_kept[:3]) + (f" and {len(self.styles_kept) - 3} more" if len(self.styles_kept) > 3 else "")
            lines.append(f"kept your own default style for {shown} (ours is stored beside it)")
        return lines


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
        Created if missing. Tables and views are created, given new columns or migrated as needed.

    Raises
    ------
    UsageError
        The server cannot be reached, refuses the login, lacks PostGIS or a privilege.
    DataError
        The run's names or values cannot be stored (the transaction is rolled back).
    """
    target = _target(url)
    where = f"{target.label} schema {quote(schema)}"
    check_identifier(schema, "schema name", where, error=UsageError)
    run_id = _run_id(run)
    layers = [layer for layer in run.layers if layer not in NOT_DATA_LAYERS]
    for layer in layers:
        check_identifier(layer, "layer name", f"{run.geopackage}: layer {quote(layer)}")
    infos = read_layer_infos(run.geopackage)
    declared_geometry = {str(name): (str(kind) if kind else None) for name, kind in pyogrio.list_layers(run.geopackage)}
    places = destinations(layers, {name: info.description for name, info in infos.items()}, str(run.geopackage))

    tables: dict[str, int] = {}
    record: dict[str, dict] = {}
    with _errors(target, f"{where}, run {quote(run_id)}"), _connect(target) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"gis-plan export {schema}",))
        _require_postgis(conn, target)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        _create_runs_table(conn, schema)
        migrated = migrate_earlier_layout(conn, schema, where)
        runs = sql.Identifier(schema, RUNS_TABLE)
        conn.execute(sql.SQL("DELETE FROM {} WHERE run_id = %s").format(runs), (run_id,))  # cascades
        conn.execute(
            sql.SQL("INSERT INTO {} (run_id, started, finished, project, synthetic, record) VALUES (%s, %s, %s, %s, %s, %s)").format(runs),
            (run_id, _timestamp(run, "started"), _timestamp(run, "finished"), _project_name(run.record), run.synthetic, Jsonb(run.record)),
        )
        for source, dest in places.items():
            frame = run.indicators if source == INDICATORS else run.read_layer(source)
            located = f"{where}, table {quote(dest.history)} (layer {quote(source)}), run {quote(run_id)}"
            info = infos.get(source)
            with _errors(target, located):
                tables[dest.history] = write_history(
                    conn, schema, dest, frame, run_id, where=located,
                    declared=None if info is None else info.columns, declared_geometry=declared_geometry.get(source),
                )
                comment(conn, schema, dest, replace_view(conn, schema, dest))
            record[source] = {"rows": tables[dest.history], "columns": [str(c) for c in frame.columns], "table": dest.history, "view": dest.view}
        written = {dest.history for dest in places.values()}
        for dest in migrated.values():  # layers of earlier runs that this run does not have: their views too
            if dest.history not in written:
                comment(conn, schema, dest, replace_view(conn, schema, dest))
        tables[RUNS_TABLE] = 1
        conn.execute(sql.SQL("UPDATE {} SET tables = %s WHERE run_id = %s").format(runs), (Jsonb(record), run_id))
        latest = scalar(conn, latest_run_query(schema))
        if latest == run_id:
            styled = _view_styles(conn, schema, run, places)
            with _errors(target, f"{where}, {STYLE_SCHEMA}.{STYLE_TABLE}"):
                styles = write_styles(conn, schema, styled, run_id, where=where)
            skipped = ""
        else:
            styles, skipped = None, f"run {latest} is later than this one: the views show it and keep its styles"
    summary = ExportSummary(
        run_id=run_id, target=target.label, schema=schema, tables=tables,
        views={source: dest.view for source, dest in places.items()},
        styles_written=styles.written if styles else 0, styles_kept=styles.kept if styles else (), styles_skipped=skipped,
        migrated={old: dest.history for old, dest in migrated.items()},
    )
    log.debug("run %s exported to %s schema %s: %d tables, %d rows", run_id, target.label, quote(schema), len(tables), summary.rows)  # `gis export` prints it
    return summary


def _view_styles(conn: psycopg.Connection, schema: str, run: RunOutputs, places: dict[str, Destination]) -> list[ViewStyle]:
    """The GeoPackage's default style of each exported layer whose view has a geometry."""
    styles = read_default_styles(run.geopackage)
    found = []
    for source, dest in places.items():
        if source in styles and GEOMETRY_COLUMN in table_columns(conn, schema, dest.history):
            found.append(ViewStyle(view=dest.view, geometry_column=GEOMETRY_COLUMN, style=styles[source]))
    return found


def list_runs(url: str, *, schema: str) -> pd.DataFrame:
    """The exported runs, oldest first: run_id, started, finished, project, synthetic, rows, and the run's plan
    targets (counted at the level the plan sets them, as ``gis history --out`` counts them), met and short.

    ``rows`` counts the run's rows in the indicators history table.
    """
    with _history(url, schema) as (conn, _, indicators):
        query = sql.SQL(
            "SELECT r.run_id, r.started, r.finished, r.project, r.synthetic,"
            " (SELECT count(*) FROM {indicators} i WHERE i.run_id = r.run_id) AS rows, r.record ->> 'data_year'"
            " FROM {runs} r ORDER BY r.started NULLS FIRST, r.run_id"  # the last is the latest, as the views read it
        ).format(indicators=sql.Identifier(schema, indicators), runs=sql.Identifier(schema, RUNS_TABLE))
        rows = conn.execute(query).fetchall()
        present = table_columns(conn, schema, indicators)
        wanted = [c for c in ("run_id", "indicator", "zone_type", "status", "target", "year") if c in present]
        judged = pd.DataFrame(
            conn.execute(sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(map(sql.Identifier, wanted)), sql.Identifier(schema, indicators))).fetchall(),
            columns=wanted,
        )
    runs = pd.DataFrame([row[:-1] for row in rows], columns=list(RUN_COLUMNS))
    counts = [_target_counts(judged[judged["run_id"] == row[0]], row[-1]) if {"indicator", "zone_type", "status", "target"} <= set(wanted)
              else (None, None, None) for row in rows]
    runs[["targets", "targets_met", "targets_gap"]] = pd.DataFrame(counts, index=runs.index, dtype="Int64")
    return runs


def _target_counts(rows: pd.DataFrame, data_year: str | None) -> tuple[int, int, int]:
    """A run's plan targets: all, met, short (of its data year's rows)."""
    year = int(data_year) if data_year and str(data_year).isdigit() else None
    if "year" in rows.columns:
        rows = rows.assign(year=pd.to_numeric(rows["year"], errors="coerce"))
    targets = plan_targets(current_year(rows, year))
    status = targets["status"].value_counts()
    return len(targets), int(status.get("met", 0)), int(status.get("gap", 0))


def read_indicators(url: str, run_id: str, *, schema: str) -> pd.DataFrame:
    """The indicator rows of one exported run, with the columns and row order of its indicators.csv."""
    with _history(url, schema) as (conn, where, indicators):
        found = conn.execute(
            sql.SQL("SELECT tables -> %s -> 'columns' FROM {} WHERE run_id = %s").format(sql.Identifier(schema, RUNS_TABLE)),
            (INDICATORS, run_id),
        ).fetchone()
        if found is None:
            msg = f"{where}: no exported run {quote(run_id)}; list the exported runs with `gis history`"
            raise UsageError(msg)
        present = table_columns(conn, schema, indicators)
        names = [c for c in (found[0] or present) if c in present and c != "run_row"]  # run_id if the CSV had it
        query = sql.SQL("SELECT {} FROM {} WHERE run_id = %s ORDER BY run_row").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(schema, indicators)
        )
        rows = conn.execute(query, (run_id,)).fetchall()
    return pd.DataFrame(rows, columns=names)


# -- connection and errors -------------------------------------------------------------------


@contextmanager
def _history(url: str, schema: str) -> Iterator[tuple[psycopg.Connection, str, str]]:
    """A connection to a schema that holds exported runs, the place named in its messages and its indicators history table."""
    target = _target(url)
    where = f"{target.label} schema {quote(schema)}"
    check_identifier(schema, "schema name", where, error=UsageError)
    with _errors(target, where), _connect(target) as conn:
        yield conn, where, _require_history(conn, target, schema)


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
    if scalar(conn, "SELECT to_regtype('geometry')") is None:
        msg = f"{target.label}: the database has no PostGIS; run `CREATE EXTENSION postgis;` in it as its owner"
        raise UsageError(msg)


def _require_history(conn: psycopg.Connection, target: _Target, schema: str) -> str:
    """The indicators history table of ``schema`` (``indicators`` in a schema of the earlier layout); a UsageError when
    ``schema`` holds no exported runs."""
    indicators = next((t for t in (INDICATORS + HISTORY_SUFFIX, INDICATORS) if "run_id" in table_columns(conn, schema, t)), None)
    for table, found in ((RUNS_TABLE, bool(table_columns(conn, schema, RUNS_TABLE))), (INDICATORS + HISTORY_SUFFIX, indicators is not None)):
        if not found:
            msg = f"{target.label} schema {quote(schema)}: no exported runs (no table {table}); export a run first (`gis export`) or fix --schema"
            raise UsageError(msg)
    return str(indicators)


def _create_runs_table(conn: psycopg.Connection, schema: str) -> None:
    """The ``runs`` table (one row per exported run), commented."""
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
    comment_runs(conn, schema)


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
