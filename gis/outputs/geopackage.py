"""``planning.gpkg``: the run's layers for the planning GIS, in CGCS2000, styled and documented.

One layer per indicator and zone level (``permeable.share.county``) and one per kind of gap
feature (``permeable.share.gaps``); every feature has a ``feature_id`` that stays the same
across runs, and the ``run_id`` of the run that wrote it.  Field meanings are in the
GeoPackage metadata of each layer and in the ``data_dictionary`` table; QGIS styles in the
web map's colours are in ``layer_styles``.  An indicator not assessed (a layer it reads is not
in the catalog) has no layer: ``indicators.csv``, the report and the workbook list it with the reason.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gis.engines.local import IndicatorResult, RunResult
from gis.methods.zones import measured_within_builtup
from gis.outputs.qgis_styles import LayerStyle, ZoneSymbols, gaps_qml, gaps_sld, style_name, write_layer_styles, zones_qml, zones_sld
from gis.outputs.symbology import classify_zones, load_map_spec, status_labels
from gis.project.catalog import SYNTHETIC_NOTE
from gis.project.mapspec import MapSpec
from gis.project.vocabulary import describe_output

GPKG_VERSION = "1.2"  # QGIS 3.22 (Debian) warns on 1.4, GDAL's newest default
LEVEL_ORDER = ("city", "county", "park")
GEOMETRY_COLUMN = "geom"
_SYNC_OPTION = "OGR_SQLITE_SYNCHRONOUS"


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


def _write_layer(path: Path, frame: gpd.GeoDataFrame, layer: str, description: str, crs: str) -> gpd.GeoDataFrame:
    """Write one layer (in ``crs``, described for QGIS); return it as it reads back."""
    frame = frame.to_crs(crs)
    for column in frame.columns:
        if column != "geometry" and frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: v if v is None or isinstance(v, bool | int | float) else str(v))
    fields = {f"FIELD_{c}": describe_output(c) for c in frame.columns if c != "geometry" and describe_output(c)}
    options = {"dataset_options": {"VERSION": GPKG_VERSION}} if not path.exists() else {}
    indexed = "YES" if len(frame) >= SPATIAL_INDEX_FROM else "NO"
    pyogrio.write_dataframe(
        frame, path, layer=layer, driver="GPKG", promote_to_multi=True,
        layer_options={"DESCRIPTION": description, "SPATIAL_INDEX": indexed, "GEOMETRY_NAME": GEOMETRY_COLUMN},
        layer_metadata={"DESCRIPTION": description, **fields}, **options,
    )
    return as_read_back(frame)


def _geometry_kind(frame: gpd.GeoDataFrame) -> str:
    kinds = set(frame.geometry.geom_type)
    if kinds <= {"Point", "MultiPoint"}:
        return "point"
    if kinds <= {"LineString", "MultiLineString"}:
        return "line"
    return "polygon"


@contextmanager
def _unsynced_sqlite() -> Iterator[None]:
    """Let SQLite skip its fsync after each layer (GDAL's OGR_SQLITE_SYNCHRONOUS=OFF) for the block.

    The file is a new one in a staging folder: a crash leaves a partial file nobody reads, and
    :func:`write_geopackage` syncs it once at the end instead of after each of its layers.
    """
    previous = pyogrio.get_gdal_config_option(_SYNC_OPTION)
    pyogrio.set_gdal_config_options({_SYNC_OPTION: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({_SYNC_OPTION: previous})


def write_geopackage(
    result: RunResult, path: Path, *, run_id: str, extra_layers: dict[str, tuple[gpd.GeoDataFrame, str]] | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """Write every layer, the proposal layers (``extra_layers``: name -> frame, description), the data
    dictionary and the QGIS styles into the new file ``path``; return the layers by name, in order,
    as they read back."""
    with _unsynced_sqlite():
        written = _write_layers(result, path, run_id=run_id, extra_layers=extra_layers)
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())
    return written


def _zone_symbols(frames: dict[str, gpd.GeoDataFrame], map_spec: MapSpec, indicator: str, unit: str) -> ZoneSymbols | None:
    """The web map's classes of an indicator's zones (those below the city, else the city), None without zones."""
    if not frames:
        return None
    judged = pd.concat(frames.values())
    below = judged[judged["zone_type"] != "city"]
    basis = below if not below.empty else judged
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
    result: RunResult, path: Path, *, run_id: str, extra_layers: dict[str, tuple[gpd.GeoDataFrame, str]] | None
) -> dict[str, gpd.GeoDataFrame]:
    crs = result.project.catalog.project.output_crs
    map_spec = load_map_spec(result.project.root)
    written: dict[str, gpd.GeoDataFrame] = {}
    styles, dictionary = [], []
    for item in result.results:
        if not item.assessed:
            continue  # no layers for an indicator not assessed: indicators.csv, the report and the workbook say why
        spec = item.spec
        note = f" — {SYNTHETIC_NOTE}" if item.synthetic else ""
        frames = _zone_frames(result, item, run_id)
        symbols = _zone_symbols(frames, map_spec, spec.id, spec.unit)
        for level, frame in frames.items():
            name = zone_layer_name(spec.id, level)
            description = f"{spec.title.zh} / {spec.title.en}, by {level} (plan clause {spec.clause}){note}"
            written[name] = _write_layer(path, frame, name, description, crs)
            if symbols is not None:
                styles.append(LayerStyle(name, GEOMETRY_COLUMN, style_name(name), zones_qml(symbols), zones_sld(name, symbols), description))
            dictionary += [(name, c, describe_output(c)) for c in frame.columns if c != "geometry"]
        gaps = _gap_frame(item, run_id)
        if gaps is not None:
            name = gaps_layer_name(spec.id)
            description = f"Gap features of {spec.id}: {spec.title.en} (plan clause {spec.clause}){note}"
            written[name] = _write_layer(path, gaps, name, description, crs)
            kind = _geometry_kind(gaps)
            colour, opacity = map_spec.gaps.colour, map_spec.gaps.fill_opacity
            styles.append(LayerStyle(name, GEOMETRY_COLUMN, style_name(name), gaps_qml(kind, colour, opacity=opacity),
                                     gaps_sld(name, kind, colour, opacity=opacity), description))
            dictionary += [(name, c, describe_output(c)) for c in gaps.columns if c != "geometry"]
    colour, opacity = map_spec.proposals.colour, map_spec.proposals.fill_opacity
    for name, (frame, description) in (extra_layers or {}).items():
        written[name] = _write_layer(path, frame, name, description, crs)
        kind = _geometry_kind(frame)
        styles.append(LayerStyle(name, GEOMETRY_COLUMN, style_name(name), gaps_qml(kind, colour, opacity=opacity),
                                 gaps_sld(name, kind, colour, opacity=opacity), description))
        dictionary += [(name, c, describe_output(c)) for c in frame.columns if c != "geometry"]
    table = pd.DataFrame(dictionary, columns=["layer", "field", "description"])
    pyogrio.write_dataframe(table, path, layer="data_dictionary", driver="GPKG",
                            layer_options={"DESCRIPTION": "What every field of every layer means"})
    write_layer_styles(path, styles)
    return written


def geopackage_version(path: Path) -> int:
    """The GeoPackage version a file declares (``PRAGMA user_version``, 10200 for 1.2)."""
    with sqlite3.connect(path) as connection:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])
