"""A run's layers as the exchange formats outside the GeoPackage write them (File Geodatabase, zipped Shapefiles).

Every layer of ``planning.gpkg`` but QGIS's own tables (``layer_styles``, ``qgis_projects``) is read back
as it was written, given its plain name (:func:`gis.outputs.names.plain_names`), its Chinese title
and the types of its columns: the data dictionary's (:func:`gis.project.vocabulary.field_type`), or, for
a column the dictionary does not know, the type the GeoPackage declares (never one guessed from values).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import DataError, GisError, OutputError, UsageError
from gis.outputs._files import STAGING, fix_for, reason, remove_stale_scratch, scratch_folder
from gis.outputs.folder import RunOutputs, damaged, rerun_fix, unreadable
from gis.outputs.names import plain_names
from gis.project.vocabulary import output_field

QGIS_TABLES = ("layer_styles", "qgis_projects")
"""Tables of the GeoPackage that only QGIS reads: not exported."""

_DECLARED = {"TEXT": "text", "INTEGER": "integer", "MEDIUMINT": "integer", "SMALLINT": "integer", "TINYINT": "integer",
             "BOOLEAN": "boolean", "REAL": "real", "DOUBLE": "real", "FLOAT": "real"}
"""A GeoPackage column's declared SQL type as one of the dictionary's types (dates and blobs have none)."""
_GEOMETRY_NAMES = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon", "MULTIPOINT": "MultiPoint",
                   "MULTILINESTRING": "MultiLineString", "MULTIPOLYGON": "MultiPolygon", "GEOMETRY": "Unknown",
                   "GEOMETRYCOLLECTION": "GeometryCollection"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TITLE_END = re.compile(r"\s?/ ")
"""Where a layer description's Chinese title ends and its English begins (a unit's slash, 'kgce/m2', has no space after it)."""
_KIND_TITLES = {"city": "（全市）", "prefecture": "（地级市）", "county": "（县区）", "park": "（园区）", "gaps": "：缺口要素",
                "proposals": "：改进建议"}
_TABLE_TITLES = {"data_dictionary": "数据字典", "city_indicators": "全市各指标", "city": "市域范围", "counties": "县区界线",
                 "prefectures": "地级市界线"}


@dataclass(frozen=True)
class ExchangeLayer:
    """One layer of the run as an exchange format writes it."""

    source: str
    """Its name in the GeoPackage (``permeable.share.county``)."""
    name: str
    """Its plain name (``permeable_share_county``)."""
    title_zh: str
    """Its Chinese title (the layer alias)."""
    description: str
    """The GeoPackage's description of it (Chinese / English, and the synthetic-data notice)."""
    frame: pd.DataFrame
    """Its rows, a GeoDataFrame for a layer with geometry; columns in :attr:`kinds`' types."""
    kinds: dict[str, str | None]
    """Each column's type (text, integer, real, boolean), None for one neither the dictionary nor the GeoPackage types."""
    geometry_type: str | None
    """The geometry type the GeoPackage declares (``MultiPolygon``), None for an attribute table."""

    @property
    def spatial(self) -> bool:
        """Whether the layer has geometry (else it is an attribute table)."""
        return self.geometry_type is not None

    @property
    def geometry_options(self) -> dict[str, object]:
        """pyogrio's geometry arguments for writing the layer: its declared type, multi-part promoted only where the
        GeoPackage declares a multi-part type (a layer of mixed types is made multi-part throughout)."""
        if self.geometry_type is None:
            return {}
        if self.geometry_type in ("Unknown", "GeometryCollection"):
            return {"promote_to_multi": True}
        return {"geometry_type": self.geometry_type, "promote_to_multi": self.geometry_type.startswith("Multi")}

    @property
    def columns(self) -> list[str]:
        """Its columns without the geometry."""
        return [str(c) for c in self.frame.columns if c != "geometry"]


@dataclass(frozen=True)
class FieldAlias:
    """A row of an export's field table: a field as written, the field it is, its aliases, type and meaning."""

    layer: str
    written: str
    field: str
    alias_zh: str
    alias_en: str
    type: str
    meaning: str


@dataclass
class ExchangeSummary:
    """What an export to a file format wrote, for its one summary line."""

    run_id: str
    target: Path
    kind: str
    """``File Geodatabase`` or ``Shapefiles``."""
    crs: str
    layers: int = 0
    tables: int = 0
    features: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The summary line the command prints."""
        notes = "".join(f"; {note}" for note in self.notes)
        return (f"exported run {self.run_id} to {self.target} ({self.kind}, {self.crs}): {plural(self.layers, 'layer')} and "
                f"{plural(self.tables, 'table')}, {self.features} features and rows{notes}")


def exported_layers(run: RunOutputs) -> list[str]:
    """The GeoPackage layers an exchange format gets: all but QGIS's own tables, in the GeoPackage's order."""
    return [name for name in run.layers if name not in QGIS_TABLES]


def exchange_names(run: RunOutputs, reserved: tuple[str, ...] = ()) -> dict[str, str]:
    """Each exported layer's plain name; a clash (or a name the export keeps for itself) is a DataError naming both."""
    names = plain_names(exported_layers(run), str(run.geopackage))
    for layer, name in names.items():
        if name in reserved:
            msg = (f"{run.geopackage}: layer '{layer}' would be named '{name}', the name of the export's own table; "
                   "rename the layer")
            raise DataError(msg)
    return names


def read_exchange_layers(run: RunOutputs, reserved: tuple[str, ...] = ()) -> Iterator[ExchangeLayer]:
    """The run's layers one by one, typed, with their plain names and Chinese titles."""
    names = exchange_names(run, reserved)
    titles = _indicator_titles(run.record)
    schema = read_schema(run)
    for source, name in names.items():
        description, geometry_type, declared = schema.get(source, ("", None, {}))
        frame = _read_frame(run, source)
        kinds = {str(c): column_kind(str(c), declared.get(str(c), "")) for c in frame.columns if c != "geometry"}
        yield ExchangeLayer(
            source=source, name=name, title_zh=layer_title_zh(source, description, titles), description=description,
            frame=typed_columns(frame, kinds), kinds=kinds, geometry_type=geometry_type,
        )


def read_schema(run: RunOutputs) -> dict[str, tuple[str, str | None, dict[str, str]]]:
    """Each layer's description, geometry type (None for an attribute table) and declared column types, as the
    GeoPackage's own tables hold them (one read of the file, not one per layer)."""
    uri = f"{run.geopackage.resolve().as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as gpkg:
            contents = gpkg.execute("SELECT table_name, coalesce(description, '') FROM gpkg_contents").fetchall()
            geometry = dict(gpkg.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns").fetchall())
            schema = {}
            for table, description in contents:
                columns = gpkg.execute("SELECT name, type FROM pragma_table_info(?)", (table,)).fetchall()
                kind = geometry.get(table)
                schema[str(table)] = (str(description), _GEOMETRY_NAMES.get(str(kind).upper(), str(kind)) if kind else None,
                                      {str(n): str(t) for n, t in columns})
    except sqlite3.Error as exc:
        raise damaged(run.geopackage, unreadable(exc), rerun_fix(run.out_dir)) from exc
    return schema


def column_kind(name: str, declared: str = "") -> str | None:
    """A column's type: the dictionary's, else the one the GeoPackage declares (its SQL type), else None."""
    known = output_field(name)
    if known is not None:
        return known.type
    base = declared.upper().split("(")[0].strip()
    return _DECLARED.get(base)


def typed_columns(frame: pd.DataFrame, kinds: dict[str, str | None]) -> pd.DataFrame:
    """``frame`` with each column in its type: text as str or None, integer as Int64, real as float64, boolean
    as pandas' boolean. A column whose values do not fit the dictionary's type (a city's own field of that name)
    stays as read."""
    frame = frame.copy()
    for column, kind in kinds.items():
        values = frame[column]
        try:
            if kind == "text":
                frame[column] = pd.Series([_text(v) for v in values], index=frame.index, dtype=object)
            elif kind == "real":
                frame[column] = pd.to_numeric(values, errors="raise").astype("float64")
            elif kind == "integer":
                frame[column] = pd.to_numeric(values, errors="raise").astype("Int64")
            elif kind == "boolean":
                frame[column] = values.astype("boolean")
        except (ValueError, TypeError):
            continue
    return frame


def layer_title_zh(layer: str, description: str, titles: dict[str, str]) -> str:
    """A layer's Chinese title: the Chinese part of its description (before '/ ', with or without a space before
    the slash: '可渗透地面面积比例（建成区）（县区）/ Permeable …'), else the indicator's Chinese title from run.json with
    the kind of layer, else a table's own title, else the layer name."""
    head = _TITLE_END.split(description, maxsplit=1)[0].strip()
    if _CJK.search(head):
        return head
    indicator, _, kind = layer.rpartition(".")
    if indicator in titles and kind in _KIND_TITLES:
        return f"{titles[indicator]}{_KIND_TITLES[kind]}"
    return _TABLE_TITLES.get(layer, layer)


def field_aliases(layer: ExchangeLayer, written: dict[str, str]) -> list[FieldAlias]:
    """The field-table rows of a layer: ``written`` maps each column to its name in the export."""
    rows = []
    for column in layer.columns:
        known = output_field(column)
        rows.append(FieldAlias(
            layer=layer.name, written=written.get(column, column), field=column,
            alias_zh=known.zh if known else "", alias_en=known.en if known else column.replace("_", " "),
            type=type_label(layer.kinds.get(column)), meaning=known.meaning if known else "",
        ))
    return rows


def type_label(kind: str | None) -> str:
    """How a field table names a column's type: booleans are stored as 0/1 integers in both formats."""
    return "boolean (1 true, 0 false)" if kind == "boolean" else kind or ""


def crs_label(layers: list[ExchangeLayer]) -> str:
    """The CRS of the spatial layers as ``EPSG:4490`` (or its name when it has no EPSG code)."""
    for layer in layers:
        crs = getattr(layer.frame, "crs", None)
        if layer.spatial and crs is not None:
            code = crs.to_epsg()
            return f"EPSG:{code}" if code else crs.name
    return "no CRS"


@contextmanager
def staged_export(target: Path) -> Iterator[tuple[Path, str]]:
    """A scratch folder beside ``target`` to build an export in, and what is on disk should it fail (for messages).

    Leftovers of an interrupted export are removed first; the folder is removed at the end, whatever happens.
    An OS or GDAL error in the block becomes an :class:`OutputError` naming ``target``, why, the fix and
    what is on disk; a :class:`GisError` passes as it is."""
    unchanged = f"{target} is as it was" if target.exists() else "nothing was written"
    remove_stale_scratch(target.parent)
    try:
        staging = scratch_folder(target.parent, STAGING)
    except OSError as exc:
        raise write_failed(target, exc, unchanged) from exc
    try:
        yield staging, unchanged
    except GisError:
        raise
    except (OSError, RuntimeError, ValueError) as exc:
        raise write_failed(target, exc, unchanged) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_failed(target: Path, exc: BaseException, unchanged: str) -> OutputError:
    """The error for an export that could not be written: the target, why, the fix and what is on disk."""
    if isinstance(exc, OSError):
        return OutputError(f"{target}: could not be written ({reason(exc)}); {fix_for(exc, target)}; {unchanged}")
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return OutputError(f"{target}: could not be written (GDAL: {text}); {unchanged}")


def plural(number: int, noun: str) -> str:
    """'1 layer', '2 layers'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    return str(value)


def _indicator_titles(record: dict) -> dict[str, str]:
    """Each indicator's Chinese title from run.json (``indicators[id].texts.title.zh``)."""
    titles: dict[str, str] = {}
    for indicator, entry in (record.get("indicators") or {}).items():
        try:
            title = entry["texts"]["title"]["zh"]
        except (KeyError, TypeError):
            continue
        if isinstance(title, str) and title:
            titles[str(indicator)] = title
    return titles


def _read_frame(run: RunOutputs, layer: str) -> pd.DataFrame:
    try:
        frame = pyogrio.read_dataframe(run.geopackage, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError, OSError) as exc:
        raise damaged(run.geopackage, unreadable(exc), rerun_fix(run.out_dir), layer=layer) from exc
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    return frame


def check_target_folder(target: Path) -> None:
    """The folder ``target`` goes into exists and may be written; else a :class:`UsageError` naming it and the fix."""
    parent = target.parent
    if not parent.is_dir():
        msg = f"{target}: the folder {parent} does not exist; create it or choose another --to"
        raise UsageError(msg)
    if not os.access(parent, os.W_OK | os.X_OK):
        msg = f"{target}: the folder {parent} may not be written; choose another --to"
        raise UsageError(msg)
