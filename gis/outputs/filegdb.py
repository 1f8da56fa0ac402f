"""``gis export --to PATH.gdb``: a run's layers as an Esri File Geodatabase, for ArcGIS and SuperMap.

GDAL's OpenFileGDB writer makes one feature class per layer of ``planning.gpkg`` (attribute tables as
tables) with the layer's plain name, its Chinese title as the layer alias and its description as the
item's documentation (ArcGIS shows it as the description), in the GeoPackage's CRS (the project's
``output_crs``, CGCS2000 EPSG:4490 by default). Columns have the data dictionary's types: text, integer
(32-bit), real (double), boolean as a 0/1 small integer (a File Geodatabase has no boolean type).

Field aliases: pyogrio cannot pass a field's alias (GDAL's "alternative name"), so after writing, each
field the dictionary knows is given its Chinese alias through GDAL's C API, in the very GDAL library
pyogrio uses (:func:`_set_field_aliases`). Whether or not that is possible, the ``fields`` table of the
geodatabase lists every field with its Chinese and English alias, type and meaning.

The geodatabase is written whole in a staging folder beside the target and swapped in only when
complete: an earlier export stays whole until then, and stays as it was when the new one fails.
"""

from __future__ import annotations

import ctypes
import glob
import logging
import os
import shutil
import sys
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pyogrio

from gis.errors import OutputError, UsageError
from gis.outputs._files import BACKUP, fix_for, reason, scratch_folder
from gis.outputs.exchange import (
    ExchangeLayer,
    ExchangeSummary,
    FieldAlias,
    check_target_folder,
    crs_label,
    field_aliases,
    read_exchange_layers,
    staged_export,
)
from gis.outputs.folder import RunOutputs

log = logging.getLogger("gis")

FIELDS_TABLE = "fields"
"""The geodatabase's table of every field: layer, field, alias_zh, alias_en, type, meaning."""
FIELDS_TABLE_ALIASES = {"layer": "图层", "field": "字段", "alias_zh": "中文别名", "alias_en": "英文别名", "type": "类型",
                        "meaning": "含义"}
GDB_SYSTEM_TABLE = "a00000001.gdbtable"
"""The catalog table every File Geodatabase folder holds: how an earlier export is told from another folder."""
_INT32 = (-(2**31), 2**31 - 1)


def export_filegdb(run: RunOutputs, target: Path) -> ExchangeSummary:
    """Write the run's layers to the File Geodatabase ``target`` (a ``.gdb`` folder), replacing an earlier one whole.

    Raises
    ------
    UsageError
        ``target`` is not a ``.gdb`` path in a folder that exists and may be written, or is a file or a
        folder that is not a File Geodatabase.
    DataError
        The run's GeoPackage cannot be read, or two layers would get the same plain name.
    OutputError
        The geodatabase could not be written or swapped in; ``target`` is then as it was.
    """
    target = check_gdb_target(target)
    with staged_export(target) as (staging, unchanged):
        summary = _write_gdb(run, staging / target.name, target)
        _swap_in(staging / target.name, target, unchanged)
    return summary


def check_gdb_target(target: Path) -> Path:
    """``target`` if a File Geodatabase may be written there; else a :class:`UsageError` naming it and the fix."""
    target = Path(target)
    if target.suffix.lower() != ".gdb":
        msg = f"{target}: a File Geodatabase is a folder whose name ends in .gdb; give --to a name such as plan.gdb"
        raise UsageError(msg)
    check_target_folder(target)
    if target.exists() and not target.is_dir():
        msg = f"{target}: a file of that name is in the way (a File Geodatabase is a folder); move it or choose another --to"
        raise UsageError(msg)
    if target.is_dir() and any(target.iterdir()) and not (target / GDB_SYSTEM_TABLE).exists():
        msg = (f"{target}: a folder of that name exists and is not a File Geodatabase; it is left alone: "
               "move it or choose another --to")
        raise UsageError(msg)
    return target


def gdb_frame(layer: ExchangeLayer) -> pd.DataFrame:
    """The layer's rows as the File Geodatabase stores them: integers as 32-bit (64-bit values as doubles, which
    every ArcGIS reads), booleans as 0/1 small integers."""
    frame = layer.frame.copy()
    for column, kind in layer.kinds.items():
        values = frame[column]
        if kind == "integer" and pd.api.types.is_integer_dtype(values.dtype):
            low, high = values.min(), values.max()
            fits = values.isna().all() or (_INT32[0] <= low and high <= _INT32[1])
            frame[column] = values.astype("Int32") if fits else values.astype("float64")
        elif kind == "boolean" and isinstance(values.dtype, pd.BooleanDtype):
            frame[column] = values.astype("Int16")
    return frame


def _write_gdb(run: RunOutputs, gdb: Path, target: Path) -> ExchangeSummary:
    """Write every layer, the fields table and the aliases into ``gdb``; what was written."""
    summary = ExchangeSummary(run_id=str(run.record["run_id"]), target=target, kind="File Geodatabase", crs="no CRS")
    written: list[ExchangeLayer] = []
    for layer in read_exchange_layers(run, reserved=(FIELDS_TABLE,)):
        _write_layer(gdb, layer.name, gdb_frame(layer), geometry=layer.geometry_options, alias=layer.title_zh,
                     documentation=_documentation(layer.title_zh, layer.description))
        written.append(layer)
        summary.features += len(layer.frame)
        if layer.spatial:
            summary.layers += 1
        else:
            summary.tables += 1
    lib = _gdal_library()
    names = _field_names(lib, gdb, [layer.name for layer in written])
    rows: list[FieldAlias] = []
    aliases: dict[str, dict[str, str]] = {}
    for layer in written:
        fields = names.get(layer.name, [])
        layer_rows = field_aliases(layer, dict(zip(layer.columns, fields, strict=True)) if len(fields) == len(layer.columns) else {})
        rows.extend(layer_rows)
        aliases[layer.name] = {row.written: row.alias_zh for row in layer_rows if row.alias_zh}
    table = pd.DataFrame([(r.layer, r.written, r.alias_zh, r.alias_en, r.type, r.meaning) for r in rows],
                         columns=list(FIELDS_TABLE_ALIASES))
    about = "每个图层每个字段的中文别名、英文别名、类型和含义 / every field of every layer: its Chinese and English alias, type and meaning"
    _write_layer(gdb, FIELDS_TABLE, table, geometry={}, alias="字段说明", documentation=_documentation("字段说明", about))
    summary.tables += 1
    aliases[FIELDS_TABLE] = FIELDS_TABLE_ALIASES
    summary.crs = crs_label(written)
    if lib is not None and _set_field_aliases(lib, gdb, aliases):
        summary.notes.append(f"Chinese field aliases set, and listed in the {FIELDS_TABLE} table")
    else:
        summary.notes.append(f"field aliases listed in the {FIELDS_TABLE} table (this GDAL could not store them as aliases)")
    return summary


def _write_layer(gdb: Path, name: str, frame: pd.DataFrame, *, geometry: dict[str, object], alias: str, documentation: str) -> None:
    """One feature class (a table for a frame without geometry) of the geodatabase; ``geometry``: pyogrio's geometry arguments."""
    options = {"LAYER_ALIAS": alias, "DOCUMENTATION": documentation}
    pyogrio.write_dataframe(frame, gdb, layer=name, driver="OpenFileGDB", layer_options=options, **geometry)


def _field_names(lib: ctypes.CDLL | None, gdb: Path, layers: list[str]) -> dict[str, list[str]]:
    """Each layer's field names as the geodatabase holds them (GDAL renames a field whose name ArcGIS reserves)."""
    if lib is not None:
        names = _gdal_field_names(lib, gdb, layers)
        if names is not None:
            return names
    return {layer: [str(name) for name in pyogrio.read_info(gdb, layer=layer)["fields"]] for layer in layers}


def _documentation(title: str, description: str) -> str:
    """The ArcGIS item documentation (metadata XML) of a layer: its title and description."""
    return (f'<metadata xml:lang="zh"><dataIdInfo><idCitation><resTitle>{escape(title)}</resTitle></idCitation>'
            f"<idAbs>{escape(description)}</idAbs></dataIdInfo></metadata>")


def _swap_in(new: Path, target: Path, unchanged: str) -> None:
    """Move the finished geodatabase ``new`` onto ``target``; an earlier one is moved aside first and put back on failure."""
    backup_folder: Path | None = None
    kept: Path | None = None
    try:
        if os.path.lexists(target):
            backup_folder = scratch_folder(target.parent, BACKUP)
            kept = backup_folder / target.name
            os.replace(target, kept)
        os.replace(new, target)
    except OSError as exc:
        if kept is not None and not os.path.lexists(target):
            try:
                os.replace(kept, target)
            except OSError as back:
                msg = (f"{target}: could not be replaced ({reason(exc)}), and the earlier geodatabase could not be put back "
                       f"({reason(back)}); it is in {kept}: move it back to {target}")
                raise OutputError(msg) from exc
        msg = f"{target}: could not be replaced ({reason(exc)}); {fix_for(exc, target)}; {unchanged}"
        raise OutputError(msg) from exc
    if backup_folder is not None:
        shutil.rmtree(backup_folder, ignore_errors=True)


# Field aliases through GDAL's C API: pyogrio (0.13) writes no field alias, the OpenFileGDB driver stores one
# (OGRFieldDefn's alternative name, GDAL >= 3.7). Only the library pyogrio itself loaded is used.

_ALTER_ALTERNATIVE_NAME_FLAG = 0x80  # ogr_core.h, GDAL >= 3.7
_GDAL_OF_UPDATE, _GDAL_OF_VECTOR = 0x01, 0x04


def _gdal_field_names(lib: ctypes.CDLL, gdb: Path, layers: list[str]) -> dict[str, list[str]] | None:
    """Each layer's field names, read in one opening of the geodatabase; None if it cannot be opened."""
    dataset = lib.GDALOpenEx(os.fsencode(gdb), _GDAL_OF_VECTOR, None, None, None)
    if not dataset:
        return None
    names: dict[str, list[str]] = {}
    try:
        for name in layers:
            layer = lib.GDALDatasetGetLayerByName(dataset, name.encode("utf-8"))
            if not layer:
                return None
            definition = lib.OGR_L_GetLayerDefn(layer)
            fields = [lib.OGR_FD_GetFieldDefn(definition, i) for i in range(lib.OGR_FD_GetFieldCount(definition))]
            names[name] = [lib.OGR_Fld_GetNameRef(f).decode("utf-8") for f in fields]
    finally:
        lib.GDALClose(dataset)
    return names


def read_field_aliases(gdb: Path, layer: str) -> dict[str, str]:
    """The alias of each field of ``layer`` in ``gdb``, as GDAL reads it (empty when this GDAL cannot say)."""
    lib = _gdal_library()
    if lib is None:
        return {}
    dataset = lib.GDALOpenEx(os.fsencode(gdb), _GDAL_OF_VECTOR, None, None, None)
    if not dataset:
        return {}
    try:
        handle = lib.GDALDatasetGetLayerByName(dataset, layer.encode("utf-8"))
        if not handle:
            return {}
        definition = lib.OGR_L_GetLayerDefn(handle)
        fields = [lib.OGR_FD_GetFieldDefn(definition, i) for i in range(lib.OGR_FD_GetFieldCount(definition))]
        return {lib.OGR_Fld_GetNameRef(f).decode("utf-8"): (lib.OGR_Fld_GetAlternativeNameRef(f) or b"").decode("utf-8")
                for f in fields}
    finally:
        lib.GDALClose(dataset)


def _set_field_aliases(lib: ctypes.CDLL, gdb: Path, aliases: dict[str, dict[str, str]]) -> bool:
    """Give the fields of each layer of ``gdb`` their alias (``{layer: {field: alias}}``); False when this GDAL cannot."""
    dataset = lib.GDALOpenEx(os.fsencode(gdb), _GDAL_OF_UPDATE | _GDAL_OF_VECTOR, None, None, None)
    if not dataset:
        return False
    done = True
    try:
        for name, fields in aliases.items():
            layer = lib.GDALDatasetGetLayerByName(dataset, name.encode("utf-8"))
            if not layer:
                done = False
                continue
            definition = lib.OGR_L_GetLayerDefn(layer)
            for field_name, alias in fields.items():
                index = lib.OGR_FD_GetFieldIndex(definition, field_name.encode("utf-8"))
                if index < 0:
                    done = False
                    continue
                old = lib.OGR_FD_GetFieldDefn(definition, index)
                new = lib.OGR_Fld_Create(field_name.encode("utf-8"), lib.OGR_Fld_GetType(old))
                try:
                    lib.OGR_Fld_SetAlternativeName(new, alias.encode("utf-8"))
                    done = lib.OGR_L_AlterFieldDefn(layer, index, new, _ALTER_ALTERNATIVE_NAME_FLAG) == 0 and done
                finally:
                    lib.OGR_Fld_Destroy(new)
    finally:
        if lib.GDALClose(dataset) != 0:
            done = False
    return done


@cache
def _gdal_library() -> ctypes.CDLL | None:
    """The GDAL library pyogrio runs on, with the C functions the aliases need declared; None if not found or too old."""
    for path in _gdal_candidates():
        try:
            lib = ctypes.CDLL(path)
            lib.GDALVersionInfo.restype = ctypes.c_char_p
            lib.GDALVersionInfo.argtypes = [ctypes.c_char_p]
            version = int(lib.GDALVersionInfo(b"VERSION_NUM"))
        except (OSError, AttributeError, ValueError, TypeError):
            continue
        if version // 1000 != _pyogrio_gdal_num() // 1000 or version < 3070000:
            continue
        _declare(lib)
        return lib
    return None


def _pyogrio_gdal_num() -> int:
    major, minor, patch = pyogrio.__gdal_version__[:3]
    return major * 1000000 + minor * 10000 + patch * 100


def _gdal_candidates() -> list[str]:
    """Paths of the GDAL library this process loaded (Linux), then those pyogrio's wheel ships."""
    found: list[str] = []
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
                found += [line.split()[-1] for line in maps if "libgdal" in line.rsplit("/", 1)[-1]]
        except OSError:
            pass
    package = Path(pyogrio.__file__).parent
    for pattern in (f"{package}.libs/*gdal*", f"{package}/.dylibs/*gdal*", f"{package}/*gdal*.dll"):
        found += sorted(glob.glob(pattern))
    return list(dict.fromkeys(found))


def _declare(lib: ctypes.CDLL) -> None:
    pointer, text, integer = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    signatures = {
        "GDALOpenEx": (pointer, [text, ctypes.c_uint, pointer, pointer, pointer]),
        "GDALClose": (integer, [pointer]),
        "GDALDatasetGetLayerByName": (pointer, [pointer, text]),
        "OGR_L_GetLayerDefn": (pointer, [pointer]),
        "OGR_FD_GetFieldIndex": (integer, [pointer, text]),
        "OGR_FD_GetFieldDefn": (pointer, [pointer, integer]),
        "OGR_FD_GetFieldCount": (integer, [pointer]),
        "OGR_Fld_GetNameRef": (text, [pointer]),
        "OGR_Fld_Create": (pointer, [text, integer]),
        "OGR_Fld_GetType": (integer, [pointer]),
        "OGR_Fld_SetAlternativeName": (None, [pointer, text]),
        "OGR_Fld_GetAlternativeNameRef": (text, [pointer]),
        "OGR_Fld_Destroy": (None, [pointer]),
        "OGR_L_AlterFieldDefn": (integer, [pointer, integer, pointer, integer]),
    }
    for name, (result, arguments) in signatures.items():
        function = getattr(lib, name)
        function.restype = result
        function.argtypes = arguments

