"""POI tables (CSV, XLSX) exported from Chinese web maps into a point layer in CGCS2000.

A table from Amap (高德) or Tencent is in GCJ-02, one from Baidu in BD-09, one from a GPS or
OpenStreetMap in WGS84: each is moved to CGCS2000 by :func:`gis.project.coords.to_cgcs2000`
(WGS84 and CGCS2000 agree to well under a metre).  CSV text is read as UTF-8 and, failing
that, as GB18030 (the superset of GBK that Chinese Excel writes); the lon/lat columns and the
layer's canonical fields (:func:`gis.project.vocabulary.input_fields`) are found by their usual
names (经度/纬度, lng/lat, 名称, 充电桩数 ...) unless given.
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import DataError, UsageError
from gis.importers.catalog_entry import NewLayer, file_date, install, open_project, provenance, staged, write_vector
from gis.project.coords import to_cgcs2000
from gis.project.vocabulary import input_fields

log = logging.getLogger("gis")

Coords = Literal["gcj02", "bd09", "wgs84"]
COORDS_LABEL = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)", "wgs84": "WGS84"}
ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in this order when no encoding is given (GB18030 reads every GBK file)."""
CHINA_LON, CHINA_LAT = (73.0, 136.0), (3.0, 54.0)
"""Longitudes and latitudes of China: web-map coordinates are defined there only."""

LON_NAMES = ("lon", "lng", "longitude", "long", "经度", "x", "point_x", "gcj_lng", "gcj02_lng", "bd_lng", "bd09_lng", "wgs84_lng",
             "wgs_lng", "lng_gcj02", "lng_wgs84", "lng_bd09", "gd_lng", "gaode_lng", "baidu_lng", "经度坐标")
LAT_NAMES = ("lat", "latitude", "纬度", "y", "point_y", "gcj_lat", "gcj02_lat", "bd_lat", "bd09_lat", "wgs84_lat", "wgs_lat",
             "lat_gcj02", "lat_wgs84", "lat_bd09", "gd_lat", "gaode_lat", "baidu_lat", "纬度坐标")
LONLAT_NAMES = ("location", "lnglat", "lonlat", "经纬度", "坐标", "lng_lat", "lon_lat")
"""A single column holding "lon,lat" (Amap's ``location``)."""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "uid", "poi_id", "poiid", "编号", "序号", "站点编号", "设施编号", "编码", "objectid", "fid"),
    "name": ("name", "名称", "名字", "站名", "站点名称", "充电站名称", "停车场名称", "设施名称", "厂名", "污水处理厂名称", "title", "poi名称"),
    "ports": ("ports", "充电桩数", "充电桩数量", "充电桩总数", "桩数", "总桩数", "充电枪数", "充电接口数", "终端数"),
    "fast_ports": ("fast_ports", "快充桩数", "快充桩数量", "快充数", "快充", "直流桩数", "直流桩数量", "直流充电桩"),
    "spaces": ("spaces", "车位数", "泊位数", "停车位", "停车位数", "车位总数", "泊位"),
    "charger_spaces": ("charger_spaces", "充电车位", "充电车位数", "充电泊位数"),
    "category": ("category", "类别", "类型", "分类", "type"),
    "kind": ("kind", "类型", "种类", "type"),
    "capacity_m3_d": ("capacity_m3_d", "设计规模", "处理能力", "设计处理能力", "设计规模(m3/d)", "设计规模（万吨/日）"),
    "capacity_t_d": ("capacity_t_d", "处理能力", "设计处理能力", "处理规模"),
    "capacity_mw": ("capacity_mw", "装机容量", "供热能力", "热功率"),
    "county_id": ("county_id", "区县代码", "行政区划代码", "adcode", "县区代码"),
    "expressway": ("expressway", "高速", "高速编号", "所属高速", "路线编号"),
    "status": ("status", "状态", "运营状态"),
    "year": ("year", "年份", "建成年份", "投运年份"),
}


@dataclass
class PoiImport:
    """What an import of a POI table did, for the summary the command prints."""

    layer: str
    path: Path
    rows: int
    encoding: str
    lon: str
    lat: str
    fields: dict[str, str]
    missing: list[str] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)
    generated_ids: bool = False


def _key(name: object) -> str:
    return re.sub(r"[\s_\-（）()]+", "", str(name)).lower()


def read_table(path: Path, encoding: str | None = None, sheet: str | None = None) -> tuple[pd.DataFrame, str]:
    """A CSV or XLSX table as text columns (blank cells ""), with the encoding it was read in."""
    if not path.is_file():
        msg = f"{path}: file not found"
        raise UsageError(msg)
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        try:
            frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, engine="openpyxl")
        except ValueError as exc:
            msg = f"{path}: cannot read sheet {sheet or 'the first'} ({exc}); give --sheet with a sheet name of the workbook"
            raise DataError(msg) from None
        return frame.fillna(""), "xlsx"
    if suffix == ".xls":
        msg = f"{path}: old Excel .xls files are not read; save it as .xlsx or as CSV"
        raise UsageError(msg)
    raw = path.read_bytes()
    for candidate in [encoding] if encoding else ENCODINGS:
        try:
            text = raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        except LookupError:
            msg = f"--encoding {candidate}: no such text encoding; use e.g. utf-8 or gbk"
            raise UsageError(msg) from None
        break
    else:
        tried = encoding or " or ".join(ENCODINGS)
        msg = f"{path}: the text is not {tried}; give --encoding (e.g. gbk, big5, utf-16)"
        raise DataError(msg)
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",\t;|")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.ParserError as exc:
        msg = f"{path}: not a readable table ({str(exc).splitlines()[0]}); check the delimiter and quotes"
        raise DataError(msg) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    used = "gbk" if candidate == "gb18030" else "utf-8"
    return frame, used


def _find(columns: list[str], names: tuple[str, ...], taken: set[str]) -> str | None:
    keys = {_key(c): c for c in columns if c not in taken}
    for name in names:
        if _key(name) in keys:
            return keys[_key(name)]
    return None


def _column(frame: pd.DataFrame, column: str, option: str, path: Path) -> str:
    if column in frame.columns:
        return column
    close = difflib.get_close_matches(column, list(frame.columns), n=3, cutoff=0.4)
    hint = f"closest: {', '.join(close)}" if close else f"columns: {', '.join(frame.columns)}"
    msg = f"{path}: no column '{column}' ({option}); {hint}"
    raise DataError(msg)


def find_lon_lat(frame: pd.DataFrame, path: Path, lon: str | None, lat: str | None) -> tuple[pd.Series, pd.Series, str, str]:
    """The longitude and latitude columns (given, or found by name; a "lon,lat" column too), as text."""
    columns = list(frame.columns)
    if lon and lat:
        return frame[_column(frame, lon, "--lon", path)], frame[_column(frame, lat, "--lat", path)], lon, lat
    if lon or lat:
        msg = "give both --lon and --lat, or neither (they are then found by name)"
        raise UsageError(msg)
    found_lon, found_lat = _find(columns, LON_NAMES, set()), _find(columns, LAT_NAMES, set())
    if found_lon is None or found_lat is None:
        fuzzy_lon = [c for c in columns if "经度" in c or re.search(r"(?i)\b(lng|lon)", c)]
        fuzzy_lat = [c for c in columns if "纬度" in c or re.search(r"(?i)\blat", c)]
        if len(fuzzy_lon) == 1 and len(fuzzy_lat) == 1:
            found_lon, found_lat = fuzzy_lon[0], fuzzy_lat[0]
    if found_lon is not None and found_lat is not None:
        return frame[found_lon], frame[found_lat], found_lon, found_lat
    pair = _find(columns, LONLAT_NAMES, set())
    if pair is not None:
        parts = frame[pair].astype(str).str.replace("，", ",").str.split(",", n=1, expand=True).reindex(columns=[0, 1])
        return parts[0].fillna(""), parts[1].fillna(""), f"{pair} (lon)", f"{pair} (lat)"
    msg = f"{path}: no longitude/latitude columns found (columns: {', '.join(columns)}); give --lon COLUMN --lat COLUMN"
    raise DataError(msg)


def parse_coordinates(lon: pd.Series, lat: pd.Series, path: Path, lon_name: str, lat_name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers of the lon/lat columns and the rows where both are blank (left out); text that is no number,
    a row with one of the two blank, or a point outside China is an error naming the row."""
    lon_text, lat_text = lon.astype(str).str.strip(), lat.astype(str).str.strip()
    x, y = pd.to_numeric(lon_text, errors="coerce"), pd.to_numeric(lat_text, errors="coerce")
    blank = (lon_text == "") & (lat_text == "")
    for values, text, name in ((x, lon_text, lon_name), (y, lat_text, lat_name)):
        bad = values.isna() & ~blank
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            what = f"'{text.iloc[row]}' is not a number" if text.iloc[row] else "is blank"
            msg = f"{path}: row {row + 2} column '{name}' {what}; fix the cell or delete the row (rows with both blank are left out)"
            raise DataError(msg)
    keep = ~blank.to_numpy()
    xs, ys = x.to_numpy(dtype=float), y.to_numpy(dtype=float)

    def inside(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a >= CHINA_LON[0]) & (a <= CHINA_LON[1]) & (b >= CHINA_LAT[0]) & (b <= CHINA_LAT[1])

    ok = inside(xs, ys) | ~keep
    if not ok.all():
        if inside(ys[keep], xs[keep]).all():
            msg = f"{path}: columns '{lon_name}' and '{lat_name}' hold latitudes and longitudes the wrong way round; give --lon {lat_name} --lat {lon_name}"
            raise DataError(msg)
        row = int(np.flatnonzero(~ok)[0])
        if np.nanmax(np.abs(np.concatenate([xs[keep], ys[keep]]))) > 1000:
            msg = (f"{path}: '{lon_name}'/'{lat_name}' are not degrees (row {row + 2}: {xs[row]}, {ys[row]}); POI import reads lon/lat; "
                   "projected coordinates go into a GeoPackage with their CRS instead")
            raise DataError(msg)
        msg = f"{path}: row {row + 2}: ({xs[row]}, {ys[row]}) is outside China; fix the coordinates or delete the row"
        raise DataError(msg)
    return xs, ys, np.flatnonzero(~keep)


def to_points(xs: np.ndarray, ys: np.ndarray, coords: Coords) -> np.ndarray:
    """CGCS2000 points of lon/lat in ``coords``."""
    points = shapely.points(xs, ys)
    return points if coords == "wgs84" else to_cgcs2000(points, coords)


def parse_field_options(options: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``canonical=column`` options as a mapping."""
    mapping: dict[str, str] = {}
    for option in options:
        canonical, sep, column = option.partition("=")
        canonical, column = canonical.strip(), column.strip()
        if not sep or not canonical or not column:
            msg = f"--field {option!r}: write it as canonical=column, e.g. --field ports=充电桩数"
            raise UsageError(msg)
        mapping[canonical] = column
    return mapping


def map_fields(frame: pd.DataFrame, layer: str, given: dict[str, str], taken: set[str], path: Path) -> dict[str, str]:
    """Canonical field -> source column: the given ones, then the layer's canonical fields found by name."""
    mapping = {canonical: _column(frame, column, f"--field {canonical}", path) for canonical, column in given.items()}
    used = set(taken) | set(mapping.values())
    for canonical in [*input_fields(layer), "id", "name"]:
        if canonical in mapping:
            continue
        found = _find(list(frame.columns), (canonical, *SYNONYMS.get(canonical, ())), used)
        if found is not None:
            mapping[canonical] = found
            used.add(found)
    return mapping


def _typed(values: pd.Series) -> pd.Series:
    """Numbers where every non-blank cell is one; text otherwise; blank cells None."""
    text = values.astype(str).str.strip()
    blank = text == ""
    numbers = pd.to_numeric(text.where(~blank), errors="coerce")
    if numbers[~blank].notna().all() and (~blank).any():
        return numbers
    return text.where(~blank, None)


def build_frame(frame: pd.DataFrame, mapping: dict[str, str], skip: set[str], geometry: np.ndarray, path: Path) -> tuple[gpd.GeoDataFrame, bool]:
    """The layer: canonical columns first (numbers typed), then the table's other columns; with whether ids were made up."""
    out: dict[str, pd.Series] = {}
    generated = "id" not in mapping
    if generated:
        out["id"] = pd.Series([str(i + 1) for i in range(len(frame))], index=frame.index)
    else:
        ids = frame[mapping["id"]].astype(str).str.strip()
        if (ids == "").any():
            row = int(np.flatnonzero((ids == "").to_numpy())[0])
            msg = f"{path}: row {row + 2} column '{mapping['id']}' (the id) is blank; fill it, or map another column with --field id=COLUMN"
            raise DataError(msg)
        repeated = ids[ids.duplicated()]
        if not repeated.empty:
            msg = (f"{path}: column '{mapping['id']}' repeats the id '{repeated.iloc[0]}'; ids must be unique: "
                   "fix it or map another column with --field id=COLUMN")
            raise DataError(msg)
        out["id"] = ids
    for canonical, column in mapping.items():
        if canonical != "id":
            out[canonical] = frame[column].astype(str).str.strip().where(lambda s: s != "", None) if canonical == "name" else _typed(frame[column])
    used = set(mapping.values()) | skip
    for column in frame.columns:
        if column in used:
            continue
        name = column if column not in out and column.lower() not in {"fid", "geometry", "geom"} else f"{column}_src"
        out[name] = _typed(frame[column])
    result = gpd.GeoDataFrame(pd.DataFrame(out), geometry=geometry, crs="EPSG:4490")
    return result, generated


def import_poi(
    path: Path, project_dir: Path, layer: str, *, coords: Coords, lon: str | None = None, lat: str | None = None,
    encoding: str | None = None, sheet: str | None = None, fields: dict[str, str] | None = None, title: str | None = None,
    source: str | None = None, licence: str | None = None, date: str | None = None, replace: bool = False,
) -> PoiImport:
    """Read a POI table, move its points to CGCS2000, write ``layers/data/<layer>.gpkg`` and the catalog entry."""
    project = open_project(project_dir, [layer], replace=replace)
    frame, used_encoding = read_table(path, encoding, sheet)
    lon_values, lat_values, lon_name, lat_name = find_lon_lat(frame, path, lon, lat)
    xs, ys, blank_rows = parse_coordinates(lon_values, lat_values, path, lon_name, lat_name)
    keep = np.ones(len(frame), dtype=bool)
    keep[blank_rows] = False
    if not keep.any():
        msg = f"{path}: no row has coordinates; nothing to import"
        raise DataError(msg)
    coordinate_columns = {c for c in (lon_name, lat_name) if c in frame.columns} | {c.split(" (")[0] for c in (lon_name, lat_name)}
    mapping = map_fields(frame, layer, fields or {}, coordinate_columns, path)
    frame = frame.loc[keep].reset_index(drop=True)
    layer_frame, generated = build_frame(frame, mapping, coordinate_columns, to_points(xs[keep], ys[keep], coords), path)
    final = project.data_path(layer, ".gpkg")
    description = title or f"{layer} imported from {path.name}"
    write_vector(layer_frame, staged(final), layer, description)
    entry = {
        "title": description,
        "file": project.catalog_file(final),
        "layer": layer,
        "kind": "vector",
        "geometry": "Point",
        "id_field": "id",
        "fields": {canonical: canonical for canonical in ["id", *[c for c in mapping if c != "id"]]},
        "provenance": provenance(
            source or f"{path.name}: {COORDS_LABEL[coords]} lon/lat converted to CGCS2000 by gis import poi",
            licence or "not stated: record the data provider's terms of use",
            date or file_date(path),
        ),
    }
    install(project, [NewLayer(layer, entry, {staged(final): final})])
    missing = [c for c in input_fields(layer) if c not in mapping and c != "id"]
    return PoiImport(
        layer=layer, path=final, rows=len(layer_frame), encoding=used_encoding, lon=lon_name, lat=lat_name,
        fields=mapping, missing=missing, skipped_rows=[int(r) + 2 for r in blank_rows], generated_ids=generated,
    )
