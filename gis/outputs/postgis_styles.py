"""QGIS default styles of the exported views, in ``public.layer_styles`` where QGIS looks for them.

QGIS 3.22 reads a PostGIS layer's default style with (``QgsPostgresProviderMetadata::loadStyle``)::

    SELECT styleQML FROM layer_styles WHERE f_table_catalog=<db> AND f_table_schema=<schema>
      AND f_table_name=<table> AND f_geometry_column=<column> AND (type=<geometry type> OR type IS NULL)
      ORDER BY CASE WHEN useAsDefault THEN 1 ELSE 2 END, update_time DESC LIMIT 1

The table is created, when missing, with QGIS's own DDL, and given the ``type`` column when an older QGIS
made it without one (as QGIS does). Our rows leave ``type`` NULL: QGIS asks for the geometry type of the
layer's URI, which a URI written by hand (without ``type=``) gives as unknown, so a row typed 'Polygon' would
only be found from the browser. Our rows are the ones whose description starts with :data:`STYLE_MARKER`;
re-exporting replaces them and never touches a planner's own styles. Where a planner saved a default style
of their own for a view, theirs stays the default and ours is stored beside it, not as default.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from gis.errors import UsageError
from gis.outputs.postgis_gpkg import LayerStyle
from gis.outputs.postgis_tables import quote, scalar

STYLE_SCHEMA, STYLE_TABLE = "public", "layer_styles"
STYLE_MARKER = "gis-plan export"
"""The start of the description of every style row the export writes (its mark of ownership)."""

_QGIS_DDL = (
    "CREATE TABLE {}(id SERIAL PRIMARY KEY,f_table_catalog varchar,f_table_schema varchar,f_table_name varchar,"
    "f_geometry_column varchar,styleName text,styleQML xml,styleSLD xml,useAsDefault boolean,description text,"
    "owner varchar(63) DEFAULT CURRENT_USER,ui xml,update_time timestamp DEFAULT CURRENT_TIMESTAMP,type varchar)"
)  # QGIS 3.22's own statement (qgspostgresprovider.cpp), schema-qualified


@dataclass(frozen=True)
class ViewStyle:
    """A view to style: its name, geometry column and the GeoPackage's default style of its layer."""

    view: str
    geometry_column: str
    style: LayerStyle


@dataclass(frozen=True)
class StylesWritten:
    """What :func:`write_styles` did: rows written, and the views whose default stays a planner's own."""

    written: int
    kept: tuple[str, ...]


def write_styles(conn: psycopg.Connection, schema: str, styles: list[ViewStyle], run_id: str, *, where: str) -> StylesWritten:
    """Replace the export's style rows of ``schema`` in ``public.layer_styles`` by one per view in ``styles``."""
    table = sql.Identifier(STYLE_SCHEMA, STYLE_TABLE)
    if not styles and scalar(conn, "SELECT to_regclass(%s)", (f"{STYLE_SCHEMA}.{STYLE_TABLE}",)) is None:
        return StylesWritten(written=0, kept=())  # nothing to write, nothing of ours to remove
    _prepare(conn, where)
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE f_table_catalog = current_database() AND f_table_schema = %s AND starts_with(description, %s)").format(table),
        (schema, STYLE_MARKER),
    )
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT f_table_name, f_geometry_column FROM {} WHERE f_table_catalog = current_database() AND f_table_schema = %s"
            " AND useasdefault"
        ).format(table),
        (schema,),
    ).fetchall()
    theirs = {(str(name), str(column)) for name, column in rows}
    kept = []
    insert = sql.SQL(
        "INSERT INTO {} (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, stylename, styleqml, stylesld,"
        " useasdefault, description, owner, type) VALUES (current_database(), %s, %s, %s, %s, XMLPARSE(DOCUMENT %s::text),"
        " XMLPARSE(DOCUMENT %s::text), %s, %s, current_user, NULL)"
    ).format(table)
    for item in styles:
        default = (item.view, item.geometry_column) not in theirs
        if not default:
            kept.append(item.view)
        description = f"{STYLE_MARKER} of run {run_id}: {item.style.description or item.view}"
        conn.execute(insert, (schema, item.view, item.geometry_column, item.style.name, item.style.qml, item.style.sld, default, description))
    return StylesWritten(written=len(styles), kept=tuple(kept))


def _prepare(conn: psycopg.Connection, where: str) -> None:
    """Make sure ``public.layer_styles`` exists with QGIS's columns and that the user may write it."""
    table = sql.Identifier(STYLE_SCHEMA, STYLE_TABLE)
    qualified = f"{STYLE_SCHEMA}.{STYLE_TABLE}"
    user = str(scalar(conn, "SELECT current_user"))
    if scalar(conn, "SELECT to_regclass(%s)", (qualified,)) is None:
        if not scalar(conn, "SELECT has_schema_privilege(%s, 'CREATE')", (STYLE_SCHEMA,)):
            msg = (
                f"{where}: cannot create {qualified}, where QGIS reads the layers' default styles: {quote(user)} may not create "
                f"tables in schema public; run `GRANT CREATE ON SCHEMA public TO {quote(user)}` as the database owner, "
                "or ask the administrator to create public.layer_styles (QGIS makes it when a style is first saved to the database)"
            )
            raise UsageError(msg)
        conn.execute(sql.SQL(_QGIS_DDL).format(table))
        return
    for privilege in ("SELECT", "INSERT", "DELETE"):
        if not scalar(conn, "SELECT has_table_privilege(%s, %s)", (qualified, privilege)):
            msg = (
                f"{where}: {quote(user)} may not {privilege} on {qualified}, where QGIS reads the layers' default styles; "
                f"run `GRANT SELECT, INSERT, DELETE ON {qualified} TO {quote(user)}` (and USAGE on its id sequence) as its owner"
            )
            raise UsageError(msg)
    has_type = scalar(
        conn,
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'type' AND NOT attisdropped)",
        (qualified,),
    )
    if not has_type:  # made by a QGIS older than 3.14: add the column as QGIS does
        if not scalar(conn, "SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = to_regclass(%s)", (qualified,)):
            msg = (
                f"{where}: {qualified} was made by an older QGIS without the column type, and only its owner may add it; "
                f"ask the owner to run `ALTER TABLE {qualified} ADD COLUMN type varchar NULL`"
            )
            raise UsageError(msg)
        conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN type varchar NULL").format(table))
