"""``planning.gpkg``: the run's layers for the planning GIS, in CGCS2000, styled and documented.

One layer per indicator and zone level below the city (``permeable.share.prefecture`` where the project
has a prefecture level, ``permeable.share.county``, ``.park``) and one per kind of gap feature
(``permeable.share.gaps``); the outlines once: the counties (``counties``), the prefectures
(``prefectures``, only with that level) and the city (``city``), with the table of every indicator's city
row (``city_indicators``).  Every feature has a ``feature_id`` that stays the
same across runs, and the ``run_id`` of the run that wrote it.  Columns have the data dictionary's
types (never guessed from a run's values).  Field meanings are in the GeoPackage metadata of each
layer and in the ``data_dictionary`` table; QGIS styles in the web map's colours are in
``layer_styles``.  An indicator not assessed (a layer it reads is not in the catalog) has no layer:
``indicators.csv``, the report and the workbook list it with the reason.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.engines.local import IndicatorResult, RunResult
from gis.methods.zones import measured_within_builtup
from gis.outputs.folder import CITY_LAYER, CITY_TABLE, ZONE_LEVELS
from gis.outputs.geopackage_project import ROLE_NAMES, WrittenLayer, write_project
from gis.outputs.gpkg_writer import GeoPackageWriter, geopackage_writer
from gis.outputs.qgis_styles import (
    LayerStyle,
    ZoneSymbols,
    gaps_qml,
    gaps_sld,
    outline_qml,
    outline_sld,
    style_name,
    write_layer_styles,
    zones_qml,
    zones_sld,
)
from gis.outputs.symbology import classify_zones, load_map_spec, status_labels
from gis.project.catalog import SYNTHETIC_NOTE
from gis.project.mapspec import MapSpec
from gis.project.specs import Spec
from gis.project.vocabulary import describe_output, field_type

GPKG_VERSION = "1.2"  # QGIS 3.22 (Debian) warns on 1.4, GDAL's newest default
LEVEL_ORDER = ZONE_LEVELS
COUNTIES_LAYER = "counties"
PREFECTURES_LAYER = "prefectures"
PREFECTURE_OUTLINE_MM = 1.6
"""The prefecture outlines' width in QGIS (the counties' and the city's are 0.8 mm): a prefecture's boundary reads
above its counties'."""
GEOMETRY_COLUMN = "geom"


def zone_layer_name(indicator: str, level: str) -> str:
    """The layer of one indicator at one zone level."""
    return f"{indicator}.{level}"


def gaps_layer_name(indicator: str) -> str:
    """The layer of an indicator's gap features."""
    return f"{indicator}.gaps"


def _zone_frames(result: RunResult, item: IndicatorResult, run_id: str) -> dict[str, gpd.GeoDataFrame]:
    """The indicator's rows with their zone polygons, one frame per level (unassigned rows have no polygon).

    An indicator measured inside the built-up areas (its mask or base is the built-up zone layer) is
    drawn on the built-up part of each zone, the ground its value describes, not on the whole county."""
    frames = {}
    within_builtup = measured_within_builtup(item.spec, result.project)
    for level in LEVEL_ORDER:
        rows = item.rows[item.rows["zone_type"] == level]
        if rows.empty or level not in result.zones.levels:
            continue
        shapes = result.zones.drawn(level, within_builtup=within_builtup)
        merged = rows.merge(shapes, on="zone_id", how="inner")
        merged.insert(0, "feature_id", [f"{item.spec.id}:{level}:{zone}" for zone in merged["zone_id"]])
        merged.insert(1, "run_id", run_id)
        frames[level] = gpd.GeoDataFrame(merged, geometry="geometry", crs=result.project.crs)
    return frames


def _gap_frame(item: IndicatorResult, run_id: str) -> gpd.GeoDataFrame | None:
    if item.gaps is None or item.gaps.empty:
        return None
    gaps = item.gaps.copy()
    gaps.insert(0, "feature_id", [f"{item.spec.id}:{feature}" for feature in gaps["id"].astype(str)])
    gaps.insert(1, "run_id", run_id)
    return gaps


def as_read_back(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` as reading its layer back from the GeoPackage gives it: a fresh index and multi-part
    geometries (the layers are written with ``promote_to_multi``), so views made from memory are
    the views ``gis map`` and ``gis report`` make from the file."""
    frame = frame.reset_index(drop=True)
    geometries = frame.geometry.values
    kinds = shapely.get_type_id(geometries)
    promoted = geometries.copy()
    for single, make in ((0, shapely.multipoints), (1, shapely.multilinestrings), (3, shapely.multipolygons)):
        chosen = np.flatnonzero(kinds == single)
        if chosen.size:
            promoted[chosen] = make(geometries[chosen], indices=np.arange(chosen.size))
    return frame.set_geometry(gpd.GeoSeries(promoted, index=frame.index, crs=frame.crs))


SPATIAL_INDEX_FROM = 1000
"""Layers of at least this many features get a spatial index (GeoPackage's R-tree). A smaller layer is drawn
whole by QGIS as fast without one, and each index costs the writer more the more layers the file holds (a
run writes some 180 small layers: with an index on each, the GeoPackage took two thirds of a run)."""


_DTYPES = {"integer": "Int64", "real": "float64", "boolean": "boolean"}


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each column the dictionary knows in the dictionary's type (text, integer, real, boolean),
    so a column whose values are all missing in this run is still written as what it is (``target`` real, not text).

    A column the dictionary does not know, or whose values do not fit its type (a city's own data), is left as it is."""
    converted: dict[str, pd.Series] = {}
    for column, values in frame.items():
        kind = field_type(str(column)) if column != "geometry" else None
        if kind is None:
            continue
        try:
            if kind == "text":
                converted[column] = _as_text(values)
            elif kind == "real":
                converted[column] = pd.to_numeric(values, errors="raise").astype("float64")
            elif values.isna().all():
                converted[column] = pd.Series(pd.NA, index=frame.index, dtype=_DTYPES[kind])
            else:
                converted[column] = values.astype(_DTYPES[kind])
        except (ValueError, TypeError):
            continue
    return frame.assign(**converted)  # one new frame, not a column set at a time (pandas' cost per column)


def _as_text(values: pd.Series) -> pd.Series:
    """``values`` as text, missing ones None (pandas makes it a string column unless every value is missing)."""
    missing = values.isna().to_numpy()
    texts = [None if gone else str(value) for value, gone in zip(values.astype(object).to_numpy(), missing, strict=True)]
    return pd.Series(texts, index=values.index, name=values.name)


def _write_layer(writer: GeoPackageWriter, frame: pd.DataFrame, layer: str, description: str, crs: str) -> pd.DataFrame:
    """Write one layer (in ``crs``, described for QGIS; a frame without geometry as an attribute table); return
    it as it reads back."""
    spatial = isinstance(frame, gpd.GeoDataFrame)
    frame = typed(frame.to_crs(crs) if spatial else frame)
    for column in frame.columns:
        if column != "geometry" and frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: v if v is None or isinstance(v, bool | int | float) else str(v))
    fields = {f"FIELD_{c}": describe_output(c) for c in frame.columns if c != "geometry" and describe_output(c)}
    layer_options = {"DESCRIPTION": description}
    if spatial:
        layer_options |= {"SPATIAL_INDEX": "YES" if len(frame) >= SPATIAL_INDEX_FROM else "NO", "GEOMETRY_NAME": GEOMETRY_COLUMN}
    writer.write(frame, layer, metadata={"DESCRIPTION": description, **fields}, layer_options=layer_options,
                 promote_to_multi=spatial)
    return as_read_back(frame) if spatial else frame.reset_index(drop=True)


def _geometry_kind(frame: gpd.GeoDataFrame) -> str:
    kinds = set(frame.geometry.geom_type)
    if kinds <= {"Point", "MultiPoint"}:
        return "point"
    if kinds <= {"LineString", "MultiLineString"}:
        return "line"
    return "polygon"


def write_geopackage(
    result: RunResult, path: Path, *, run_id: str, extra_layers: dict[str, tuple[gpd.GeoDataFrame, str]] | None = None
) -> dict[str, pd.DataFrame]:
    """Write every layer, the proposal layers (``extra_layers``: name -> frame, description), the data
    dictionary and the QGIS styles into the new file ``path``; return the layers by name, in order,
    as they read back."""
    with geopackage_writer(path, version=GPKG_VERSION) as writer:
        return _write_layers(result, writer, run_id=run_id, extra_layers=extra_layers)


def _zone_symbols(frames: dict[str, gpd.GeoDataFrame], map_spec: MapSpec, indicator: str, unit: str,
                  level: str | None = None) -> ZoneSymbols | None:
    """The web map's classes of an indicator's zones, None without zones: the prefectures' own (``level``
    "prefecture": a prefecture's total is some counties' sum, its classes are not the counties'), else those of
    the zones below the city and the prefectures (counties and parks), else the city's."""
    if not frames:
        return None
    if level == "prefecture":
        basis = frames.get("prefecture", gpd.GeoDataFrame())
    else:
        judged = pd.concat(frames.values())
        below = judged[~judged["zone_type"].isin(("city", "prefecture"))]
        basis = below if not below.empty else judged[judged["zone_type"] != "prefecture"]
    if basis.empty:
        return None
    classes = classify_zones(basis, map_spec, indicator)
    return ZoneSymbols(
        classes=classes,
        status_labels=status_labels(map_spec),
        class_labels=classes.labels(unit),
        opacity=map_spec.indicators.fill_opacity,
        outline=map_spec.indicators.outline,
    )


def _write_layers(
    result: RunResult, writer: GeoPackageWriter, *, run_id: str, extra_layers: dict[str, tuple[gpd.GeoDataFrame, str]] | None
) -> dict[str, pd.DataFrame]:
    crs = result.project.catalog.project.output_crs
    map_spec = load_map_spec(result.project.root)
    written: dict[str, pd.DataFrame] = {}
    styles: list[LayerStyle] = []
    dictionary: list[tuple[str, str, str]] = []
    shown: list[WrittenLayer] = []  # what the QGIS project shows
    synthetic_note = f" — {SYNTHETIC_NOTE}" if result.synthetic else ""

    def write(name: str, frame: pd.DataFrame, description: str, style: tuple[str, str] | None = None, *,
              role: str, spec: Spec | None = None) -> None:
        written[name] = _write_layer(writer, frame, name, description, crs)
        if style is not None:
            styles.append(LayerStyle(name, GEOMETRY_COLUMN, style_name(name), style[0], style[1], description))
        dictionary.extend((name, c, describe_output(c)) for c in frame.columns if c != "geometry")
        geometry = _geometry_kind(frame) if isinstance(frame, gpd.GeoDataFrame) else None
        shown.append(WrittenLayer(name, role, written[name], None if style is None else style[0], geometry, spec))

    city_rows: list[pd.DataFrame] = []
    for item in result.results:
        if not item.assessed:
            continue  # no layers for an indicator not assessed: indicators.csv, the report and the workbook say why
        spec = item.spec
        note = f" — {SYNTHETIC_NOTE}" if item.synthetic else ""
        frames = _zone_frames(result, item, run_id)
        shared = _zone_symbols(frames, map_spec, spec.id, spec.unit)
        own = {"prefecture": _zone_symbols(frames, map_spec, spec.id, spec.unit, "prefecture")} if "prefecture" in frames else {}
        for level, frame in frames.items():
            if level == "city":  # one table for every indicator's city row, beside one city outline
                city_rows.append(pd.DataFrame(frame.drop(columns="geometry")))
                continue
            symbols = own.get(level, shared)
            name = zone_layer_name(spec.id, level)
            description = f"{spec.title.zh}（{ROLE_NAMES[level][0]}）/ {spec.title.en}, by {level} (plan clause {spec.clause}){note}"
            write(name, frame, description, None if symbols is None else (zones_qml(symbols), zones_sld(name, symbols)),
                  role=level, spec=spec)
        gaps = _gap_frame(item, run_id)
        if gaps is not None:
            name = gaps_layer_name(spec.id)
            description = f"{spec.title.zh}：缺口要素 / Gap features of {spec.title.en} (plan clause {spec.clause}){note}"
            kind = _geometry_kind(gaps)
            colour, opacity = map_spec.gaps.colour, map_spec.gaps.fill_opacity
            write(name, gaps, description, (gaps_qml(kind, colour, opacity=opacity), gaps_sld(name, kind, colour, opacity=opacity)),
                  role="gaps", spec=spec)
    outline = map_spec.county_outline_colour
    province = "prefecture" in result.project.catalog.zones  # prefectures beneath: the top zone is a province
    counties = _outlines(result, "county", run_id)
    if counties is not None and not counties.empty:
        description = f"县区界线 / county outlines, labelled with their names{synthetic_note}"
        write(COUNTIES_LAYER, counties, description, (outline_qml(outline), outline_sld(COUNTIES_LAYER, outline)), role="counties")
    prefectures = _outlines(result, "prefecture", run_id)
    if prefectures is not None and not prefectures.empty:
        description = f"地级市界线 / prefecture outlines, labelled with their names{synthetic_note}"
        styled = (outline_qml(outline, width_mm=PREFECTURE_OUTLINE_MM), outline_sld(PREFECTURES_LAYER, outline, width_px=3))
        write(PREFECTURES_LAYER, prefectures, description, styled, role="prefectures")
    city = _outlines(result, "city", run_id)
    if city is not None:
        area = ("省域范围", "province") if province else ("市域范围", "city")
        description = (f"{city['zone_name'].iloc[0]}：{area[0]} / the {area[1]}'s outline (every indicator's {area[1]} row: "
                       f"{CITY_TABLE}){synthetic_note}")
        write(CITY_LAYER, city, description, (outline_qml(outline), outline_sld(CITY_LAYER, outline)), role="city")
    if city_rows:
        table = pd.concat(city_rows, ignore_index=True)
        whole = ("全省", "province") if province else ("全市", "city")
        description = f"{whole[0]}各指标 / every indicator's {whole[1]} row (value, target, status, shortfall){synthetic_note}"
        write(CITY_TABLE, table, description, role="city_table")
    colour, opacity = map_spec.proposals.colour, map_spec.proposals.fill_opacity
    specs = {item.spec.id: item.spec for item in result.results}
    for name, (frame, description) in (extra_layers or {}).items():
        proposed = specs.get(name.removesuffix(".proposals"))
        if proposed is not None:
            description = (f"{proposed.title.zh}：改进建议 / Proposal to close the gap of {proposed.title.en} "
                           f"(plan clause {proposed.clause}){synthetic_note}")
        kind = _geometry_kind(frame)
        write(name, frame, description, (gaps_qml(kind, colour, opacity=opacity), gaps_sld(name, kind, colour, opacity=opacity)),
              role="proposals", spec=proposed)
    table = pd.DataFrame(dictionary, columns=["layer", "field", "description"])
    description = "What every field of every layer means"
    writer.write(table, "data_dictionary", metadata={}, layer_options={"DESCRIPTION": description})
    write_layer_styles(writer.path, styles, sync=False)  # the writer syncs the file once, at the end
    write_project(writer.path, shown, result.project.catalog, crs=crs, start=map_spec.indicators.start, synthetic=result.synthetic)
    return written


def _outlines(result: RunResult, level: str, run_id: str) -> gpd.GeoDataFrame | None:
    """The zones of ``level`` (city, prefecture, county), once: zone_type, zone_id, zone_name, zone_name_en, with feature_id and run_id."""
    if level not in result.zones.levels:
        return None
    zones = result.zones.level(level)[["zone_type", "zone_id", "zone_name", "zone_name_en", "geometry"]].copy()
    zones.insert(0, "feature_id", [f"{level}:{zone}" for zone in zones["zone_id"]])
    zones.insert(1, "run_id", run_id)
    return gpd.GeoDataFrame(zones, geometry="geometry", crs=result.project.crs)


def geopackage_version(path: Path) -> int:
    """The GeoPackage version a file declares (``PRAGMA user_version``, 10200 for 1.2)."""
    with sqlite3.connect(path) as connection:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])
