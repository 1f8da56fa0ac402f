"""What the PostGIS export reads from a run's GeoPackage besides the features: each layer's description and
declared column types (``gpkg_contents``, ``PRAGMA table_info``) and the QGIS default style of each layer
(the GeoPackage's ``layer_styles`` table).

The file is opened read-only with :mod:`sqlite3`; every name and text read here is untrusted data.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from gis.errors import DataError

NOT_DATA_LAYERS = frozenset({"layer_styles", "qgis_projects"})
"""Tables of the GeoPackage that hold QGIS's styles and projects, not data: never exported as tables."""

_GPKG_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "bigint",
    "SMALLINT": "bigint",
    "MEDIUMINT": "bigint",
    "INT": "bigint",
    "INTEGER": "bigint",
    "FLOAT": "double precision",
    "DOUBLE": "double precision",
    "REAL": "double precision",
    "DATE": "date",
    "DATETIME": "timestamp with time zone",
    "BLOB": "bytea",
    "TEXT": "text",
}


@dataclass(frozen=True)
class LayerInfo:
    """A GeoPackage layer as its file declares it."""

    name: str
    description: str
    columns: dict[str, str]
    """Column name -> PostgreSQL type of the column's declared GeoPackage type (``INTEGER`` -> bigint)."""


@dataclass(frozen=True)
class LayerStyle:
    """The default QGIS style of a layer in the GeoPackage's ``layer_styles`` table."""

    layer: str
    name: str
    qml: str
    sld: str | None
    description: str


def postgres_type(declared: str) -> str:
    """The PostgreSQL type for a GeoPackage column type (``TEXT(30)`` -> text); text for one it does not know."""
    return _GPKG_TYPES.get(declared.split("(")[0].strip().upper(), "text")


def read_layer_infos(path: Path) -> dict[str, LayerInfo]:
    """Description and declared column types of every layer listed in ``gpkg_contents``."""
    with _open(path) as db:
        try:
            contents = db.execute("SELECT table_name, description FROM gpkg_contents").fetchall()
            geometry = {str(t): str(c) for t, c in db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")}
            infos = {}
            for table, description in contents:
                name = str(table)
                rows = db.execute("SELECT name, type, pk FROM pragma_table_info(?)", (name,)).fetchall()
                columns = {str(c): postgres_type(str(t or "")) for c, t, pk in rows if not pk and str(c) != geometry.get(name)}
                infos[name] = LayerInfo(name=name, description=str(description or ""), columns=columns)
        except sqlite3.Error as exc:
            msg = f"{path}: cannot read the layer list ({exc}); run `gis run` again to rewrite the GeoPackage"
            raise DataError(msg) from None
    return infos


def read_default_styles(path: Path) -> dict[str, LayerStyle]:
    """The default style of each layer (the latest row marked useAsDefault); empty when the file has no styles."""
    with _open(path) as db:
        try:
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'layer_styles'").fetchone() is None:
                return {}
            rows = db.execute(
                "SELECT f_table_name, styleName, styleQML, styleSLD, description FROM layer_styles"
                " WHERE useAsDefault AND styleQML IS NOT NULL ORDER BY update_time, id"
            ).fetchall()
        except sqlite3.Error as exc:
            msg = f"{path}: cannot read its QGIS styles (layer_styles: {exc}); run `gis run` again to rewrite the GeoPackage"
            raise DataError(msg) from None
    styles = {}
    for layer, name, qml, sld, description in rows:  # a later row of the same layer wins
        styles[str(layer)] = LayerStyle(
            layer=str(layer), name=str(name or layer), qml=str(qml), sld=None if sld is None else str(sld), description=str(description or "")
        )
    return styles


def _open(path: Path) -> closing[sqlite3.Connection]:
    """The GeoPackage opened read-only."""
    try:
        return closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True))
    except sqlite3.Error as exc:
        msg = f"{path}: cannot be opened ({exc}); run `gis run` again to rewrite the GeoPackage"
        raise DataError(msg) from None
