"""Land-use polygons with 三调 (GB/T 21010-2017) or 用地用海 (2023) codes into a polygon layer.

The layer keeps the file's own columns and adds ``class_code`` (the code as text, "0101"),
``class_name`` and ``permeable`` (the shipped table's default reading, for display); method
``area_share`` (:mod:`gis.methods.landuse`) measures the permeable share on it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.errors import DataError, UsageError
from gis.importers.catalog_entry import NewLayer, file_date, install, open_project, provenance, staged, write_vector
from gis.importers.classes import LandUseTable, landuse_table, normalise_code

CODE_FIELDS = ("DLBM", "YDYHFLDM", "YDYHDM", "YDYHFLBM", "YDFLDM", "YDDM", "GHDLBM", "DLDM", "地类编码", "地类代码", "用地代码",
               "用地用海代码", "用地用海分类代码", "分类代码", "class_code", "code")
"""Names of the class-code column in 三调 (DLBM) and planning (YDYHFLDM ...) deliveries, tried in order."""
ID_FIELDS = ("BSM", "id", "OBJECTID", "FID")
MOSTLY_UNKNOWN = 0.5
"""More than this share of polygons with codes the table does not know: the wrong table or column, an error."""


@dataclass
class LandUseImport:
    """What an import of land-use polygons did."""

    layer: str
    path: Path
    rows: int
    table: str
    code_field: str
    unmapped: dict[str, int] = field(default_factory=dict)


def read_polygons(path: Path, source_layer: str | None, encoding: str | None, crs: str | None) -> gpd.GeoDataFrame:
    """The polygons of a vector file, with their CRS (the file's, or ``crs`` when it declares none)."""
    try:
        frame = gpd.read_file(path, layer=source_layer, engine="pyogrio", encoding=encoding)
    except DataLayerError:
        msg = f"{path}: no layer '{source_layer}'; give --source-layer with one of the file's layers"
        raise DataError(msg) from None
    except (DataSourceError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot be opened ({str(exc).splitlines()[0]}); give --encoding gbk for a GBK shapefile, or convert the file"
        raise DataError(msg) from None
    if crs is not None:
        try:
            CRS.from_user_input(crs)
        except CRSError:
            msg = f"--crs {crs!r} is not a CRS; give an EPSG code (e.g. EPSG:4527)"
            raise UsageError(msg) from None
    if frame.crs is None:
        if crs is None:
            msg = f"{path}: the file declares no CRS; give --crs (e.g. EPSG:4527, CGCS2000 3-degree Gauss-Kruger CM 114E)"
            raise DataError(msg)
        frame = frame.set_crs(crs)
    kinds = set(frame.geometry.dropna().geom_type)
    if kinds - {"Polygon", "MultiPolygon"}:
        msg = f"{path}: holds {', '.join(sorted(kinds - {'Polygon', 'MultiPolygon'}))} geometries; land use needs polygons"
        raise DataError(msg)
    return frame.loc[~(frame.geometry.isna() | frame.geometry.is_empty)].reset_index(drop=True)


def _find_column(frame: pd.DataFrame, given: str | None, names: tuple[str, ...], option: str, path: Path) -> str | None:
    columns = [str(c) for c in frame.columns if c != "geometry"]
    if given is not None:
        if given not in columns:
            msg = f"{path}: no column '{given}' ({option}); columns: {', '.join(columns)}"
            raise DataError(msg)
        return given
    lowered = {c.lower(): c for c in columns}
    return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


def classify(frame: gpd.GeoDataFrame, code_field: str, table: LandUseTable, path: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """``class_code``, ``class_name`` and ``permeable`` per polygon, and the codes the table does not know (with counts)."""
    codes = frame[code_field].map(normalise_code)
    found = table.classify(codes)
    classes = codes.map(found)
    unknown = classes.isna()
    if len(frame) and unknown.mean() > MOSTLY_UNKNOWN:
        examples = ", ".join(sorted(set(codes[unknown]) - {""})[:5]) or "blank"
        msg = (f"{path}: column '{code_field}': {unknown.sum()} of {len(frame)} polygons have codes table {table.name} does not know "
               f"(e.g. {examples}); give --code-field with the class-code column, or the other --classes")
        raise DataError(msg)
    columns = pd.DataFrame({
        "class_code": codes,
        "class_name": classes.map(lambda c: f"{c.name_zh} {c.name_en}".strip() if c is not None else None),
        "permeable": classes.map(lambda c: bool(c.permeable) if c is not None else False),
    }, index=frame.index)
    return columns, dict(Counter(codes[unknown]).most_common())


def import_landuse(
    path: Path, project_dir: Path, layer: str, *, table: str, source_layer: str | None = None, code_field: str | None = None,
    id_field: str | None = None, encoding: str | None = None, crs: str | None = None, title: str | None = None,
    source: str | None = None, licence: str | None = None, date: str | None = None, replace: bool = False,
) -> LandUseImport:
    """Read land-use polygons, add their class and flags, write ``layers/data/<layer>.gpkg`` and the catalog entry."""
    classes = landuse_table(table)
    project = open_project(project_dir, [layer], replace=replace)
    frame = read_polygons(path, source_layer, encoding, crs)
    code_column = _find_column(frame, code_field, CODE_FIELDS, "--code-field", path)
    if code_column is None:
        columns = ", ".join(str(c) for c in frame.columns if c != "geometry")
        msg = f"{path}: no class-code column found (tried {', '.join(CODE_FIELDS[:6])} ...; columns: {columns}); give --code-field COLUMN"
        raise DataError(msg)
    added, unmapped = classify(frame, code_column, classes, path)
    id_column = _find_column(frame, id_field, ID_FIELDS, "--id-field", path)
    if id_column is not None and (id_field is not None or frame[id_column].is_unique):
        ids = frame[id_column].astype(str)
        if not ids.is_unique:
            msg = f"{path}: column '{id_column}' repeats the id '{ids[ids.duplicated()].iloc[0]}'; give --id-field with a unique column"
            raise DataError(msg)
    else:
        ids = pd.Series([str(i + 1) for i in range(len(frame))], index=frame.index)
    reserved = {"id", "fid", "class_code", "class_name", "permeable"}
    own = frame.drop(columns=["geometry"]).rename(columns=lambda c: f"{c}_src" if str(c).lower() in reserved else c)
    out = gpd.GeoDataFrame(pd.concat([pd.DataFrame({"id": ids}), added, own], axis=1), geometry=frame.geometry.values, crs=frame.crs)
    final = project.data_path(layer, ".gpkg")
    description = title or f"Land use ({classes.title}) imported from {path.name}"
    write_vector(out, staged(final), layer, description)
    entry = {
        "title": description,
        "file": project.catalog_file(final),
        "layer": layer,
        "kind": "vector",
        "geometry": "Polygon",
        "id_field": "id",
        "fields": {"id": "id", "class_code": "class_code", "class_name": "class_name", "permeable": "permeable"},
        "provenance": provenance(
            source or f"{path.name}: land-use polygons ({classes.title}), imported by gis import landuse",
            licence or "not stated: record the data provider's terms of use",
            date or file_date(path),
        ),
    }
    install(project, [NewLayer(layer, entry, {staged(final): final})])
    return LandUseImport(layer=layer, path=final, rows=len(out), table=classes.name, code_field=code_column, unmapped=unmapped)
