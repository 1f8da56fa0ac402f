"""History tables and their latest-run views in PostGIS, typed by the data dictionary and commented.

Each GeoPackage layer ``L`` (and ``indicators.csv``) has a history table ``<plain>_history`` holding every
exported run (key ``(run_id, run_row)``, ``run_id`` referencing ``runs``) and a view ``<plain>`` that shows
the latest run only (latest by ``runs.started``, ties by ``run_id``). The view's first column is ``run_row``:
QGIS's browser takes a view's first column as its key (a view has no primary key), and it is unique within
a run. Column types come from the dictionary (:func:`gis.project.vocabulary.field_type`), else from the type
the GeoPackage declares, never from a run's values.

Identifiers are quoted with :class:`psycopg.sql.Identifier`; comments are text literals quoted by psycopg
(``COMMENT`` takes no bound parameters); rows travel through ``COPY ... FROM STDIN``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from gis.errors import DataError, GisError
from gis.outputs.names import plain_names
from gis.project.vocabulary import describe_output, output_field

OUTPUT_SRID = 4490
RUNS_TABLE = "runs"
INDICATORS = "indicators"
HISTORY_SUFFIX = "_history"
RESERVED_COLUMNS = ("run_id", "run_row")
GEOMETRY_COLUMN = "geometry"

MAX_IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1: longer names would be cut silently
_DICTIONARY_TYPES = {"text": "text", "integer": "bigint", "real": "double precision", "boolean": "boolean"}
_NUMERIC = ("bigint", "double precision")
_MULTI = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}
_GEOMETRY_FAMILIES = tuple(_MULTI)
_TIMESTAMP, _TIMESTAMPTZ = "timestamp without time zone", "timestamp with time zone"  # as format_type() spells them

_OWN_COLUMNS = {
    "run_id": "运行编号: the run that wrote the row (runs.run_id)",
    "run_row": "行号: position of the row in its run's layer or file (0 first), unique within a run; the key QGIS uses for the view",
    GEOMETRY_COLUMN: "几何: the feature's shape, in CGCS2000 (EPSG:4490)",
}
RUN_COLUMN_COMMENTS = {
    "run_id": "运行编号: id of the run (run.json run_id)",
    "started": "开始时间: when the run started",
    "finished": "结束时间: when the run finished",
    "project": "项目: the project's name",
    "synthetic": "合成数据: true when any input of the run is synthetic sample data",
    "record": "运行记录: the run's whole run.json (versions, parameters, input checksums)",
    "tables": "导出表: rows and columns the export wrote per layer, and the history table and view of each",
    "exported": "导出时间: when the run was exported",
}
RUNS_COMMENT = "Runs of gis-plan exported to this schema: one row per run, with its run.json; every history table references it"


def latest_run_query(schema: str) -> sql.Composed:
    """The id of the latest exported run: the latest ``started``, ties broken by the larger ``run_id``."""
    return sql.SQL("SELECT r.run_id FROM {} r ORDER BY r.started DESC NULLS LAST, r.run_id DESC LIMIT 1").format(
        sql.Identifier(schema, RUNS_TABLE)
    )


@dataclass(frozen=True)
class Destination:
    """Where one GeoPackage layer (or ``indicators.csv``) goes: its history table and its view."""

    source: str
    view: str
    history: str
    description: str


def destinations(sources: list[str], descriptions: dict[str, str], where: str) -> dict[str, Destination]:
    """The history table and view of ``indicators`` and each layer; clashing or overlong names are DataErrors."""
    plain = plain_names(sources, where)
    taken = {RUNS_TABLE: "the runs table", INDICATORS: "indicators.csv", INDICATORS + HISTORY_SUFFIX: "indicators.csv"}
    found = {INDICATORS: Destination(INDICATORS, INDICATORS, INDICATORS + HISTORY_SUFFIX, "Indicator rows of indicators.csv: one per indicator, zone and year")}
    for source, view in plain.items():
        history = view + HISTORY_SUFFIX
        for name in (view, history):
            check_identifier(name, "table name", f"{where}: layer {quote(source)}")
            if name in taken:
                msg = f"{where}: layer {quote(source)} would be stored as {quote(name)}, the name of {taken[name]}; rename the layer"
                raise DataError(msg)
            taken[name] = f"layer {quote(source)}"
        found[source] = Destination(source, view, history, descriptions.get(source) or f"Layer {source} of planning.gpkg")
    return found


# -- writing one run into a history table -----------------------------------------------------


def write_history(
    conn: psycopg.Connection,
    schema: str,
    dest: Destination,
    frame: pd.DataFrame,
    run_id: str,
    *,
    where: str,
    declared: dict[str, str] | None = None,
    declared_geometry: str | None = None,
) -> int:
    """Create or extend the history table for ``frame``, insert its rows for ``run_id`` and (re)make its view.

    ``declared`` maps columns to the PostgreSQL type of their GeoPackage type (None for a CSV). Returns the
    number of rows written."""
    if "run_id" in frame.columns:  # the file's own run_id column: the same as the one every row gets
        others = sorted({str(value) for value in frame["run_id"].dropna()} - {run_id})
        if others:
            msg = f"{where}: column run_id holds {others[0]!r}, not the id of this run; export the run's own outputs"
            raise DataError(msg)
        frame = frame.drop(columns="run_id")
    geometry = frame.active_geometry_name if isinstance(frame, gpd.GeoDataFrame) else None
    names = [str(c) for c in frame.columns]
    for name in names:
        check_identifier(name, "column name", where)
        if name in RESERVED_COLUMNS:
            msg = f"{where}: column {quote(name)} clashes with a column the export adds; rename it"
            raise DataError(msg)
    if len(set(names)) != len(names):
        msg = f"{where}: duplicate column names {sorted({n for n in names if names.count(n) > 1})}"
        raise DataError(msg)
    attributes = [name for name in names if name != geometry]
    wanted = {name: column_type(name, (declared or {}).get(name), frame[name]) for name in attributes}
    spatial = None  # (column, PostGIS type)
    if geometry is not None:
        _check_srid(frame, where)
        spatial = (GEOMETRY_COLUMN, _geometry_type(frame.geometry, declared_geometry))

    check_view_name(conn, schema, dest, where)
    existing = table_columns(conn, schema, dest.history)
    if not existing:
        _create_table(conn, schema, dest.history, wanted, spatial)
        types = dict(wanted)
    else:
        types, geometry_type = _extend_table(conn, schema, dest, existing, wanted, spatial)
        if spatial is not None:
            spatial = (GEOMETRY_COLUMN, geometry_type)

    cells = [_cells(frame[name], types[name], (declared or {}).get(name), where=where, column=name) for name in attributes]
    if spatial is not None:
        cells.append(_ewkb(frame.geometry, spatial[1]))
    columns = ["run_id", "run_row", *attributes, *([GEOMETRY_COLUMN] if spatial is not None else [])]
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(schema, dest.history), sql.SQL(", ").join(map(sql.Identifier, columns)))
    # COPY's text format: each value is parsed by its column's type (a geometry from hex EWKB), never as SQL
    with conn.cursor() as cursor, cursor.copy(copy) as stream:
        for number, row in enumerate(zip(*cells, strict=True) if cells else [()] * len(frame)):
            stream.write_row((run_id, number, *row))
    return len(frame)


def column_type(name: str, declared: str | None, values: pd.Series) -> str:
    """The column's PostgreSQL type: the dictionary's, else the GeoPackage's declared one, else (a CSV column
    the dictionary does not know: CSV declares no types) the type pandas read it with; text when all empty."""
    field = output_field(name)
    if field is not None:
        return _DICTIONARY_TYPES[field.type]
    if declared is not None:
        return declared
    return _csv_type(values) or "text"


def _create_table(conn: psycopg.Connection, schema: str, table: str, wanted: dict[str, str], spatial: tuple[str, str] | None) -> None:
    """A new history table: run_id and run_row first, then the columns; GIST on the geometry."""
    qualified = sql.Identifier(schema, table)
    definitions = [
        sql.SQL("run_id text NOT NULL REFERENCES {} (run_id) ON DELETE CASCADE").format(sql.Identifier(schema, RUNS_TABLE)),
        sql.SQL("run_row integer NOT NULL"),
    ]
    definitions += [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in wanted.items()]
    if spatial is not None:
        definitions.append(sql.SQL("{} {}").format(sql.Identifier(spatial[0]), _geometry_sql(spatial[1])))
    definitions.append(sql.SQL("PRIMARY KEY (run_id, run_row)"))  # its btree serves WHERE run_id = ...
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(qualified, sql.SQL(", ").join(definitions)))
    if spatial is not None:
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist ({})").format(qualified, sql.Identifier(spatial[0])))


def _extend_table(
    conn: psycopg.Connection,
    schema: str,
    dest: Destination,
    existing: dict[str, str],
    wanted: dict[str, str],
    spatial: tuple[str, str] | None,
) -> tuple[dict[str, str], str]:
    """Add new columns and retype columns as the dictionary wants where the stored values allow it; return the
    column types to write and the geometry type. The view is dropped first when a column changes type."""
    qualified = sql.Identifier(schema, dest.history)
    alter = sql.SQL("ALTER TABLE {} ").format(qualified)
    types: dict[str, str] = {}
    retype: dict[str, tuple[str, str]] = {}  # column -> (new type, USING expression kind)
    for name, kind in wanted.items():
        have = existing.get(name)
        if have is None or have == kind:
            types[name] = kind
        elif _all_null(conn, qualified, name):  # typed while every value was null (text in earlier exports)
            retype[name] = (kind, "null")
        elif _castable(conn, qualified, name, have, kind):
            retype[name] = (kind, "cast")
        else:
            types[name] = have  # the stored values need the older type: write this run's in it
    geometry_type = ""
    new_geometry = None
    if spatial is not None:
        column, geometry_type = spatial
        typmod = re.fullmatch(r"geometry\((\w+),(\d+)\)", existing.get(column, ""))
        if typmod is not None:  # (an untyped geometry column takes anything)
            geometry_type = _merge_geometry_types(typmod.group(1), geometry_type)
            new_geometry = geometry_type if geometry_type != typmod.group(1) else None
    if retype or new_geometry:
        drop_view(conn, schema, dest)
    for name, (kind, how) in retype.items():
        ident = sql.Identifier(name)
        using = sql.SQL("NULL") if how == "null" else sql.SQL("{}::{}").format(ident, sql.SQL(kind))
        conn.execute(alter + sql.SQL("ALTER COLUMN {} TYPE {} USING {}").format(ident, sql.SQL(kind), using))
        types[name] = kind
    for name, kind in wanted.items():
        if name not in existing:
            conn.execute(alter + sql.SQL("ADD COLUMN {} {}").format(sql.Identifier(name), sql.SQL(kind)))
    if spatial is not None:
        column = spatial[0]
        if column not in existing:
            conn.execute(alter + sql.SQL("ADD COLUMN {} {}").format(sql.Identifier(column), _geometry_sql(geometry_type)))
            conn.execute(sql.SQL("CREATE INDEX ON {} USING gist ({})").format(qualified, sql.Identifier(column)))
        elif new_geometry:
            using = sql.SQL("ST_Multi({})" if new_geometry.startswith("Multi") else "{}").format(sql.Identifier(column))
            conn.execute(alter + sql.SQL("ALTER COLUMN {} TYPE {} USING {}").format(sql.Identifier(column), _geometry_sql(new_geometry), using))
    return types, geometry_type


def _all_null(conn: psycopg.Connection, qualified: sql.Identifier, column: str) -> bool:
    """Whether ``column`` holds no value in any row."""
    query = sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {} WHERE {} IS NOT NULL)").format(qualified, sql.Identifier(column))
    return bool(scalar(conn, query))


def _castable(conn: psycopg.Connection, qualified: sql.Identifier, column: str, have: str, kind: str) -> bool:
    """Whether the stored values of ``column`` (of type ``have``) all keep their value as ``kind``."""
    if have == "bigint" and kind == "double precision":  # else 1.5 would be stored as 2
        return True
    if have == "double precision" and kind == "bigint":
        return _all_integral(conn, qualified, column)
    if have == "text" and kind in (*_NUMERIC, "boolean"):  # e.g. a column an earlier version typed from its values
        return _casts(conn, qualified, column, kind)
    return False


def _all_integral(conn: psycopg.Connection, qualified: sql.Identifier, column: str) -> bool:
    """Whether every value of a double precision column is a whole number within bigint's range."""
    col = sql.Identifier(column)
    query = sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {} WHERE {} <> trunc({}) OR abs({}) > 9.2e18)").format(qualified, col, col, col)
    return bool(scalar(conn, query))


def _casts(conn: psycopg.Connection, qualified: sql.Identifier, column: str, kind: str) -> bool:
    """Whether every stored text value of ``column`` reads as ``kind`` (tried in a savepoint)."""
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SELECT count({}::{}) FROM {}").format(sql.Identifier(column), sql.SQL(kind), qualified))
    except psycopg.DataError:
        return False
    return True


# -- values ------------------------------------------------------------------------------------


def _cells(values: pd.Series, kind: str, declared: str | None, *, where: str, column: str) -> list[Any]:
    """The column's values as the column's type takes them; a value that does not fit is a DataError naming it."""
    out: list[Any] = []
    for number, value in enumerate(values.astype(object).tolist()):
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
            continue
        converted = _convert(value, kind, integral=declared == "bigint")
        if converted is _MISFIT:
            msg = (
                f"{where}: column {quote(column)} is {kind} but row {number} holds {_shown(value)}; fix that value in the run's "
                "outputs (or the data behind it) and export again; nothing of this run was exported (rolled back)"
            )
            raise DataError(msg)
        out.append(converted)
    return out


_MISFIT = object()


def _convert(value: Any, kind: str, *, integral: bool) -> Any:
    """``value`` for a column of type ``kind``, or ``_MISFIT``."""
    if isinstance(value, np.generic):
        value = value.item()
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "text":
        if integral and isinstance(value, float) and value.is_integer():  # an INTEGER column with nulls reads as float
            return str(int(value))
        return value if isinstance(value, str) else str(value)
    if kind == "bigint":
        if number and math.isfinite(value) and float(value).is_integer():
            return int(value)
        return _MISFIT
    if kind == "double precision":
        return float(value) if number else _MISFIT
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        return bool(value) if number and value in (0, 1) else _MISFIT
    if kind in (_TIMESTAMP, _TIMESTAMPTZ, "date"):
        return value if isinstance(value, datetime | date | str) else _MISFIT
    return value


def _shown(value: Any) -> str:
    """A value for a message: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _csv_type(column: pd.Series) -> str | None:
    """The type pandas read a CSV column with; None when it holds no value."""
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
    if all(issubclass(kind, bool | np.bool_) for kind in kinds):
        return "boolean"
    return "text"


# -- geometry ----------------------------------------------------------------------------------


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


def _check_srid(frame: gpd.GeoDataFrame, where: str) -> None:
    """Every layer of a run is in the output CRS; refuse anything else rather than mislabel it."""
    epsg = frame.crs.to_epsg() if frame.crs is not None else None
    if epsg != OUTPUT_SRID:
        msg = f"{where}: CRS is {frame.crs} but runs are written in EPSG:{OUTPUT_SRID}; run `gis run` again"
        raise DataError(msg)


# -- views and comments ------------------------------------------------------------------------


def check_view_name(conn: psycopg.Connection, schema: str, dest: Destination, where: str) -> None:
    """The view's name must be free or a view: a planner's table of that name is never replaced."""
    kind = relkind(conn, schema, dest.view)
    if kind not in (None, "v"):
        msg = (
            f"{where}: {quote(schema)}.{quote(dest.view)} exists and is not a view of the export; "
            "rename or drop it, or export to another schema"
        )
        raise DataError(msg)


def drop_view(conn: psycopg.Connection, schema: str, dest: Destination) -> None:
    """Drop the layer's view (before its history table changes a column type); a planner's view built on it blocks this."""
    if relkind(conn, schema, dest.view) != "v":
        return
    try:
        conn.execute(sql.SQL("DROP VIEW {}").format(sql.Identifier(schema, dest.view)))
    except psycopg.errors.DependentObjectsStillExist:
        msg = (
            f"{quote(schema)}.{quote(dest.view)}: this run changes a column type of the view, and views of yours are built on it; "
            "drop them (DROP VIEW ...), export again, then create them again; nothing of this run was exported (rolled back)"
        )
        raise DataError(msg) from None


def replace_view(conn: psycopg.Connection, schema: str, dest: Destination) -> list[str]:
    """Create the view of the latest run (or give it the history table's new columns); return its columns."""
    columns = table_columns(conn, schema, dest.history)
    ordered = ["run_row", *[name for name in columns if name != "run_row"]]  # QGIS's browser keys a view by its first column
    shown = list(table_columns(conn, schema, dest.view, views=True).items())
    if shown and shown != [(name, columns[name]) for name in ordered][: len(shown)]:
        drop_view(conn, schema, dest)  # CREATE OR REPLACE VIEW can only append columns
    query = sql.SQL("CREATE OR REPLACE VIEW {} AS SELECT {} FROM {} h WHERE h.run_id = ({})").format(
        sql.Identifier(schema, dest.view),
        sql.SQL(", ").join(sql.SQL("h.{}").format(sql.Identifier(name)) for name in ordered),
        sql.Identifier(schema, dest.history),
        latest_run_query(schema),
    )
    conn.execute(query)
    return ordered


def comment(conn: psycopg.Connection, schema: str, dest: Destination, columns: list[str]) -> None:
    """COMMENT ON the history table, the view and their columns (the dictionary's alias and meaning)."""
    history, view = sql.Identifier(schema, dest.history), sql.Identifier(schema, dest.view)
    statements = [
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            history, sql.Literal(f"{dest.description} — every exported run; the view {dest.view} shows the latest run")
        ),
        sql.SQL("COMMENT ON VIEW {} IS {}").format(view, sql.Literal(f"{dest.description} — latest run of {dest.history}")),
    ]
    for name in columns:
        text = column_comment(name)
        if text:
            for relation in (dest.history, dest.view):
                statements.append(sql.SQL("COMMENT ON COLUMN {} IS {}").format(sql.Identifier(schema, relation, name), sql.Literal(text)))
    conn.execute(sql.SQL("; ").join(statements))


def column_comment(name: str) -> str:
    """A column's comment: the dictionary's Chinese alias and meaning (the export's own columns described here)."""
    if name in _OWN_COLUMNS:
        return _OWN_COLUMNS[name]
    field = output_field(name)
    if field is not None:
        return f"{field.zh}: {field.meaning}"
    return describe_output(name)


def comment_runs(conn: psycopg.Connection, schema: str) -> None:
    """COMMENT ON the runs table and its columns."""
    runs = sql.Identifier(schema, RUNS_TABLE)
    statements = [sql.SQL("COMMENT ON TABLE {} IS {}").format(runs, sql.Literal(RUNS_COMMENT))]
    statements += [
        sql.SQL("COMMENT ON COLUMN {} IS {}").format(sql.Identifier(schema, RUNS_TABLE, name), sql.Literal(text))
        for name, text in RUN_COLUMN_COMMENTS.items()
    ]
    conn.execute(sql.SQL("; ").join(statements))


# -- schemas of the earlier layout --------------------------------------------------------------


def migrate_earlier_layout(conn: psycopg.Connection, schema: str, where: str) -> dict[str, Destination]:
    """Rename the tables of an export made before history tables and views (tables named as the layers, with
    dots; an ``indicators`` table) to their history names, keeping every run; drop the old ``layer_styles`` copy
    when it is the export's own (it has run_id and run_row). Returns the renamed tables' destinations by old name."""
    if _is_history(conn, schema, "layer_styles"):  # the GeoPackage's style table, copied by earlier exports
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, "layer_styles")))
    if relkind(conn, schema, RUNS_TABLE) != "r" or not _is_history(conn, schema, INDICATORS):
        return {}
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relname <> %s ORDER BY c.relname",
        (schema, RUNS_TABLE),
    ).fetchall()
    old = [str(name) for (name,) in rows if name != INDICATORS and _is_history(conn, schema, str(name))]
    plain = plain_names(old, f"{where} (tables of an earlier export)")
    moved = {INDICATORS: Destination(INDICATORS, INDICATORS, INDICATORS + HISTORY_SUFFIX, "Indicator rows of indicators.csv")}
    for name in old:
        moved[name] = Destination(name, plain[name], plain[name] + HISTORY_SUFFIX, f"Layer {name} of planning.gpkg (from an earlier export)")
    for name, dest in moved.items():
        check_identifier(dest.history, "table name", f"{where}: table {quote(name)} of an earlier export")
        if relkind(conn, schema, dest.history) is not None or (dest.view != name and relkind(conn, schema, dest.view) is not None):
            msg = (
                f"{where}: table {quote(name)} of an earlier export would be renamed {quote(dest.history)} with a view "
                f"{quote(dest.view)}, but one of these names is taken; rename that table, or export to another schema"
            )
            raise DataError(msg)
        conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(schema, name), sql.Identifier(dest.history)))
    return moved


def _is_history(conn: psycopg.Connection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` is a table with the export's run_id and run_row columns."""
    return relkind(conn, schema, table) in ("r", "p") and set(RESERVED_COLUMNS) <= set(table_columns(conn, schema, table))


# -- small helpers -----------------------------------------------------------------------------


def scalar(conn: psycopg.Connection, query: sql.Composable | str, params: tuple[Any, ...] = ()) -> Any:
    """The first value of the first row of a query (None when there is no row)."""
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]  # psycopg types literal queries strictly
    return None if row is None else row[0]


def relkind(conn: psycopg.Connection, schema: str, name: str) -> str | None:
    """``pg_class.relkind`` of ``schema.name`` ('r' table, 'v' view, ...); None when there is none."""
    return scalar(
        conn,
        "SELECT c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, name),
    )


def table_columns(conn: psycopg.Connection, schema: str, table: str, *, views: bool = False) -> dict[str, str]:
    """Column names and types of a table (or view) in column order; empty when there is none."""
    kinds = ["r", "p", "v"] if views else ["r", "p"]
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND c.relkind = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attnum",
        (schema, table, kinds),
    ).fetchall()
    return dict(rows)


def check_identifier(name: object, what: str, where: str, *, error: type[GisError] = DataError) -> None:
    """A name PostgreSQL keeps as it is once quoted: text, not empty, no NUL, at most 63 bytes."""
    if not isinstance(name, str) or not name or "\x00" in name or len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        msg = f"{where}: {what} {name!r} cannot be a PostgreSQL name (1 to {MAX_IDENTIFIER_BYTES} bytes, no NUL); rename it"
        raise error(msg)


def quote(name: str) -> str:
    """A name for a message, quoted as SQL would."""
    return '"' + name.replace('"', '""') + '"'
