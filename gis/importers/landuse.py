"""Land-use polygons with 三调 (GB/T 21010-2017) or 用地用海 (2023) codes into a polygon layer.

The layer keeps the file's own columns and adds ``class_code`` (the code as text, "0101"),
``class_name`` and ``permeable`` (the shipped table's default reading, for display); method
``area_share`` (:mod:`gis.methods.landuse`) measures the permeable share on it.

三调 parcels also carry the 城镇村属性码 (CZCSXM: 201 城市, 202 建制镇, 203 村庄, 204 盐田及采矿用地,
205 特殊用地; 201A ... 独立工业用地).  The parcels with the chosen codes (201, 202), dissolved per
county (each parcel to the county it overlaps most), give the ``builtup`` layer the spec's
``mask: builtup`` reads; it is written in the same step as the land use, or not at all.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.errors import DataError, UsageError
from gis.importers.catalog_entry import NewLayer, Project, file_date, install, open_project, provenance, staged, write_vector
from gis.importers.classes import LandUseTable, landuse_table, normalise_code
from gis.project.catalog import read_catalog
from gis.project.config import ProjectConfig
from gis.project.layers import LayerReader

CODE_FIELDS = ("DLBM", "YDYHFLDM", "YDYHDM", "YDYHFLBM", "YDFLDM", "YDDM", "GHDLBM", "DLDM", "地类编码", "地类代码", "用地代码",
               "用地用海代码", "用地用海分类代码", "分类代码", "class_code", "code")
"""Names of the class-code column in 三调 (DLBM) and planning (YDYHFLDM ...) deliveries, tried in order."""
ID_FIELDS = ("BSM", "id", "OBJECTID", "FID")
MOSTLY_UNKNOWN = 0.5
"""More than this share of polygons with codes the table does not know: the wrong table or column, an error."""
BUILTUP_FIELDS = ("CZCSXM", "城镇村属性码", "城镇村属性")
"""Names of the 城镇村属性码 column of 三调 parcels, tried in order when no --builtup-field is given."""
BUILTUP_CODES = ("201", "202")
"""城镇村属性码 of the built-up area by default: 201 城市 (city) and 202 建制镇 (designated towns, the county seats among them)."""
BUILTUP_LAYER = "builtup"
"""The layer the built-up areas are written to: the name specs read as ``mask: builtup``."""
CITY_CODE = "201"
"""城镇村属性码 of a city: a county holding such parcels is the central city, the others county seats."""


@dataclass
class LandUseImport:
    """What an import of land-use polygons did."""

    layer: str
    path: Path
    rows: int
    table: str
    code_field: str
    unmapped: dict[str, int] = field(default_factory=dict)
    builtup: BuiltupImport | None = None
    mask_present: bool = True
    """Whether the project has the ``builtup`` layer the reference spec's ``mask: builtup`` reads, after the import."""
    notes: list[str] = field(default_factory=list)
    """What the import decided on its own (a column found by name, a layer left alone), one line each."""


@dataclass
class BuiltupImport:
    """The built-up areas an import of 三调 parcels wrote: one polygon per county holding parcels of the codes."""

    layer: str
    path: Path
    field: str
    codes: tuple[str, ...]
    parcels: int
    areas: dict[str, float]
    """Built-up area (km2) by county id."""
    outside: int = 0
    """Parcels of the codes that overlap no county (left out)."""


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


def attribute_code(value: object) -> str:
    """A 城镇村属性码 as text: 201 and 201.0 (read as numbers) become "201", " 201a" becomes "201A", blank ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().upper()


def parse_codes(text: str) -> tuple[str, ...]:
    """``--builtup-codes 201,202`` as codes."""
    codes = tuple(dict.fromkeys(attribute_code(part) for part in text.split(",") if part.strip()))
    if not codes:
        msg = f"--builtup-codes {text!r} names no code; give the 城镇村属性码 of the built-up area, e.g. 201,202"
        raise UsageError(msg)
    return codes


def _project_counties(project: Project) -> tuple[gpd.GeoDataFrame, str]:
    """The project's counties (``id``, ``name``, geometry in the metric CRS) and the name of their layer."""
    config = ProjectConfig(root=project.root.resolve(), catalog=read_catalog(project.catalog_path), specs=())
    reader = LayerReader(config)
    counties = reader.read_vector(reader.county_layer)
    if "name" not in counties.columns:
        counties["name"] = counties["id"]
    return counties, reader.county_layer


def _county_of(parcels: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> pd.Series:
    """The id of the county each parcel overlaps most (NA for a parcel that overlaps none)."""
    pairs = gpd.sjoin(parcels[["geometry"]], counties[["id", "geometry"]], predicate="intersects", how="inner")
    if pairs.empty:
        return pd.Series(pd.NA, index=parcels.index, dtype="object")
    overlap = shapely.area(shapely.intersection(parcels.geometry.loc[pairs.index].values,
                                                counties.geometry.loc[pairs["index_right"]].values))
    pairs = pairs.assign(_overlap=overlap).reset_index(names="_parcel")
    pairs = pairs[pairs["_overlap"] > 0]
    best = pairs.sort_values(["_parcel", "_overlap"], ascending=[True, False]).drop_duplicates("_parcel").set_index("_parcel")["id"]
    return best.reindex(parcels.index).astype("object")


def builtup_areas(frame: gpd.GeoDataFrame, column: str, codes: Sequence[str], project: Project, path: Path
                  ) -> tuple[gpd.GeoDataFrame, int, int]:
    """The built-up layer from the parcels whose ``column`` is one of ``codes``: their union per county
    (``id``, ``name``, ``county_id``, ``kind``), the number of such parcels and of those outside every county."""
    values = frame[column].map(attribute_code)
    chosen = frame.loc[values.isin(codes)]
    if chosen.empty:
        found = ", ".join(sorted(set(values) - {""})[:8]) or "none"
        msg = (f"{path}: column '{column}' has no parcel with code {', '.join(codes)} (values: {found}); "
               "give --builtup-codes with the 城镇村属性码 of the built-up area")
        raise DataError(msg)
    counties, county_layer = _project_counties(project)
    parcels = chosen[["geometry"]].to_crs(counties.crs)
    parcels["geometry"] = shapely.make_valid(parcels.geometry.values)
    parcels["county_id"] = _county_of(parcels, counties)
    parcels["code"] = values.loc[chosen.index]
    outside = int(parcels["county_id"].isna().sum())
    inside = parcels.dropna(subset=["county_id"])
    if inside.empty:
        msg = (f"{path}: none of the {len(parcels)} parcels with {column} in {', '.join(codes)} lies in a county of layer "
               f"'{county_layer}'; check the file's CRS (--crs) and the project's counties")
        raise DataError(msg)
    names = counties.set_index("id")["name"].astype(str)
    rows, geometries = [], []
    for county_id, group in inside.groupby("county_id", sort=True):
        union = shapely.union_all(group.geometry.values)
        polygons = [g for g in getattr(union, "geoms", [union]) if g.geom_type in ("Polygon", "MultiPolygon")]
        geometries.append(shapely.union_all(polygons) if len(polygons) != 1 else polygons[0])
        city = group["code"].str.startswith(CITY_CODE).any()
        rows.append({"id": f"BU-{county_id}", "name": f"{names.get(county_id, county_id)}建成区", "county_id": str(county_id),
                     "kind": "central_city" if city else "county_seat"})
    out = gpd.GeoDataFrame(rows, geometry=geometries, crs=counties.crs)
    return out, len(parcels), outside


def import_landuse(
    path: Path, project_dir: Path, layer: str, *, table: str, source_layer: str | None = None, code_field: str | None = None,
    id_field: str | None = None, encoding: str | None = None, crs: str | None = None, title: str | None = None,
    source: str | None = None, licence: str | None = None, date: str | None = None, replace: bool = False,
    builtup_field: str | None = None, builtup_codes: Sequence[str] = BUILTUP_CODES, builtup: bool = True,
) -> LandUseImport:
    """Read land-use polygons, add their class and flags, write ``layers/data/<layer>.gpkg`` and the catalog entry.

    With ``builtup_field`` (or a 城镇村属性码 column found by name, when the catalog has no ``builtup``
    layer yet) the parcels of ``builtup_codes`` also become the ``builtup`` layer, in the same step;
    ``builtup=False`` never writes it.
    """
    classes = landuse_table(table)
    if builtup_field is not None and not builtup:
        msg = "--builtup-field and --no-builtup contradict each other; give one of them"
        raise UsageError(msg)
    if builtup_field is not None and layer == BUILTUP_LAYER:
        msg = f"--layer {layer} is the name of the built-up layer --builtup-field writes; give another --layer name"
        raise UsageError(msg)
    project = open_project(project_dir, [layer, *([BUILTUP_LAYER] if builtup_field is not None else [])], replace=replace)
    frame = read_polygons(path, source_layer, encoding, crs)
    notes: list[str] = []
    builtup_column = _find_column(frame, builtup_field, BUILTUP_FIELDS, "--builtup-field", path) if builtup else None
    if builtup_column is not None and builtup_field is None:
        if layer == BUILTUP_LAYER or BUILTUP_LAYER in project.layers():
            notes.append(f"column '{builtup_column}' (城镇村属性码) found; layer '{BUILTUP_LAYER}' exists already and is left as it is "
                         f"(to rebuild it from the parcels: --builtup-field {builtup_column} --replace)")
            builtup_column = None
        else:
            notes.append(f"column '{builtup_column}' (城镇村属性码) found: parcels with codes {', '.join(builtup_codes)} "
                         f"become layer '{BUILTUP_LAYER}' (--no-builtup to leave it out)")
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
    areas: gpd.GeoDataFrame | None = None
    built: BuiltupImport | None = None
    if builtup_column is not None and builtup_field is None and not frame[builtup_column].map(attribute_code).isin(builtup_codes).any():
        notes.append(f"column '{builtup_column}' has no parcel with code {', '.join(builtup_codes)}: no layer '{BUILTUP_LAYER}' written "
                     "(give --builtup-codes to choose others)")
        builtup_column = None
    if builtup_column is not None:
        areas, parcels, outside = builtup_areas(frame, builtup_column, builtup_codes, project, path)
        built = BuiltupImport(layer=BUILTUP_LAYER, path=project.data_path(BUILTUP_LAYER, ".gpkg"), field=builtup_column,
                              codes=tuple(builtup_codes), parcels=parcels, outside=outside,
                              areas={str(i): float(a) / 1e6 for i, a in zip(areas["county_id"], areas.geometry.area, strict=True)})
    final = project.data_path(layer, ".gpkg")
    description = title or f"Land use ({classes.title}) imported from {path.name}"
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
    new = [NewLayer(layer, entry, {staged(final): final})]
    try:
        write_vector(out, staged(final), layer, description)
        if areas is not None and built is not None:
            new.append(_builtup_layer(areas, built, project, path, source=source, licence=licence, date=date))
        install(project, new)
    finally:
        for staged_file in [*(f for item in new for f in item.files), *([staged(built.path)] if built is not None else [])]:
            staged_file.unlink(missing_ok=True)
    return LandUseImport(layer=layer, path=final, rows=len(out), table=classes.name, code_field=code_column, unmapped=unmapped,
                         builtup=built, mask_present=BUILTUP_LAYER in project.layers(), notes=notes)


def _builtup_layer(areas: gpd.GeoDataFrame, built: BuiltupImport, project: Project, path: Path, *, source: str | None,
                   licence: str | None, date: str | None) -> NewLayer:
    """The staged file and catalog entry of the built-up layer."""
    codes = ", ".join(built.codes)
    description = f"Built-up areas (建成区): parcels with {built.field} in {codes}, dissolved per county, from {path.name}"
    write_vector(areas, staged(built.path), built.layer, description)
    entry = {
        "title": description,
        "file": project.catalog_file(built.path),
        "layer": built.layer,
        "kind": "vector",
        "geometry": "Polygon",
        "id_field": "id",
        "fields": {"id": "id", "name": "name", "county_id": "county_id", "kind": "kind"},
        "reference": True,
        "provenance": provenance(
            source or f"{path.name}: 三调 parcels with 城镇村属性码 {built.field} in {codes}, dissolved per county by gis import landuse",
            licence or "not stated: record the data provider's terms of use",
            date or file_date(path),
        ),
    }
    return NewLayer(built.layer, entry, {staged(built.path): built.path})
