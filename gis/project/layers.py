"""Reading a project's layers for one run: canonical fields, repaired geometries, the metric CRS.

A :class:`LayerReader` is made for each run (or ``gis check``): it caches what it has read and
records what it found wrong in its own :class:`~gis.project.quality.QualityLog`, so the project
itself stays unchanged and two runs of one project say the same.
"""

from __future__ import annotations

import difflib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.errors import DataError
from gis.project.catalog import GEOMETRY_FAMILIES, Catalog, LayerEntry
from gis.project.config import ProjectConfig
from gis.project.coords import WebDatum, gcj02_to_wgs84, swap_lon_lat, to_cgcs2000, web_map_fit, wgs84_to_gcj02
from gis.project.georef import (
    Bounds,
    Fit,
    area_of_use,
    candidates,
    crs_code,
    example,
    implausible,
    likely_crs,
    sample_points,
    share_inside,
    to_lonlat,
    unit_word,
    zone_mismatch,
)
from gis.project.overlaps import separate_overlaps
from gis.project.quality import QualityLog, QualityNote
from gis.project.specs import Spec

MIN_OUTSIDE_TO_REFUSE = 3
"""A layer with more than half of its features outside the study area, and at least this many, is refused
(unless the catalog says the inputs reach beyond the counties: ``zones.county.inputs_beyond``); fewer
strays are kept in the 'unassigned' row and noted."""
AREA_OF_USE_MARGIN_DEGREES = 1.0
"""How far beyond its CRS's area of use (degrees) the county layer may reach: cities straddle zone edges."""
FIT_MAX_POINTS = 2000
"""The GCJ-02 fit to the reference layers looks at most this many points of a layer (evenly spread)."""
SLIVER_M2 = 1.0
"""Polygon parts smaller than this, left by repairing a geometry, are dropped (and counted)."""


def _sample_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    """A point on each of (at most 500 of) the features, as stored: what the CRS checks look at."""
    geometries = frame.geometry.values
    geometries = geometries[sample_points(np.arange(len(geometries)))]
    return shapely.get_coordinates(shapely.point_on_surface(geometries))


class LayerReader:
    """The layers of one project as one run reads them, and the findings of that reading."""

    def __init__(self, project: ProjectConfig, *, study_area: shapely.Geometry | None = None) -> None:
        self.project = project
        self.log = QualityLog()
        self._vectors: dict[str, gpd.GeoDataFrame] = {}
        self._study_area = study_area
        self.inspected_rasters: set[str] = set()
        self._references: tuple[tuple[str, ...], shapely.STRtree, np.ndarray] | None = None
        self._current: LayerReader = self
        self._as_of: dict[int, LayerReader] = {}

    def share(self, other: LayerReader) -> None:
        """Use ``other``'s log and caches (a view of the same reading, as the Dask engine's tasks are)."""
        self.project, self.log = other.project, other.log
        self._vectors, self._study_area, self.inspected_rasters = other._vectors, other._study_area, other.inspected_rasters
        self._current, self._as_of = other._current, other._as_of

    # --- the project's settings, as the methods ask for them ---------------------------------

    @property
    def root(self) -> Path:
        """The project folder."""
        return self.project.root

    @property
    def catalog(self) -> Catalog:
        """The layer catalog (of the reader's year)."""
        return self.project.catalog

    @property
    def specs(self) -> tuple[Spec, ...]:
        """The indicator specs."""
        return self.project.specs

    @property
    def crs(self) -> str:
        """The metric CRS where everything is measured."""
        return self.project.crs

    @property
    def catalog_path(self) -> Path:
        """Path of ``layers/catalog.yaml``."""
        return self.project.catalog_path

    def entry(self, name: str) -> LayerEntry:
        """The catalog entry of a layer."""
        return self.project.entry(name)

    def layer_path(self, name: str) -> Path:
        """The file of a layer."""
        return self.project.layer_path(name)

    @property
    def notes(self) -> list[QualityNote]:
        """The findings so far."""
        return self.log.notes

    def note(self, layer: str, problem: str, action: str, *, feature_id: str = "", field: str = "", severity: str = "warning") -> None:
        """Record a data-quality finding in this reading's log."""
        self.log.note(layer, problem, action, feature_id=feature_id, field=field, severity=severity)

    def for_year(self, year: int) -> LayerReader:
        """A reader of the layers as they stood in ``year``, with a log of its own (the study area shared)."""
        then = LayerReader(self.project.for_year(year), study_area=self._study_area)
        then._current, then._as_of = self._current, self._as_of
        return then

    @property
    def current(self) -> LayerReader:
        """The reader of the layers as they are now (of the data year) that this reader was made from; itself for that one."""
        return self._current

    def as_of(self, year: int) -> LayerReader:
        """A reader of the layers as they stood in ``year``, each layer without data of that year as it is now.

        What the baseline of a relative target is measured on.  Made once from :attr:`current`
        and shared by the readers made from it (its earlier years, the Dask engine's views); it
        keeps a log of its own, not said in the run's notes.
        """
        if year not in self._as_of:
            now = self._current
            self._as_of[year] = LayerReader(now.project.for_year(year, keep_current=True), study_area=now._study_area)
        return self._as_of[year]

    # --- reading -------------------------------------------------------------------------------

    @property
    def county_layer(self) -> str:
        """The layer of the counties (the study area is their union)."""
        return self.catalog.zones["county"].layer

    def describe(self, name: str) -> str:
        """What a message calls a layer: ``layer 'parking_lots'``, with the year and the file's own layer
        name when they tell more (``layer 'parking_lots' of 2020 (layer 'parking_lots_2020' in the file)``)."""
        entry = self.entry(name)
        text = f"{ {'vector': 'layer', 'table': 'table', 'raster': 'raster'}[entry.kind]} '{name}'"
        if self.project.year is not None:
            text += f" of {self.project.year}"
        if entry.layer and entry.layer != name:
            text += f" (layer '{entry.layer}' in the file)"
        return text

    def read_vector(self, name: str) -> gpd.GeoDataFrame:
        """A vector layer with canonical field names, valid geometries, in the metric CRS (read once per reader)."""
        if name not in self._vectors:
            frame = self._load_vector(name)
            for level, zone in self.catalog.zones.items():
                if zone.layer == name:
                    frame = separate_overlaps(self.project, self.log, level, frame)
            self._vectors[name] = frame
        return self._vectors[name].copy()

    def read_table(self, name: str) -> pd.DataFrame:
        """A table layer (CSV) with canonical field names."""
        entry = self.entry(name)
        path = self._existing_file(name)
        try:
            frame = pd.read_csv(path, encoding=entry.encoding or "utf-8", dtype=str, keep_default_na=False)
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            msg = f"{path}: {self.describe(name)} cannot be read ({exc}); set 'layers.{name}.encoding' in the catalog or fix the file"
            raise DataError(msg) from None
        frame = self._canonical_columns(name, frame)
        return frame.replace("", None)

    def _existing_file(self, name: str) -> Path:
        path = self.layer_path(name)
        if not path.exists():
            key = self.project.catalog_key(name, "file")
            sample = path.is_relative_to((self.root / "layers" / "sample").resolve())
            source = f"build the sample data: gis sample {self.root}" if sample else "put your file there"
            msg = f"{path}: file of {self.describe(name)} not found; fix '{key}' in {self.catalog_path} or {source}"
            raise DataError(msg)
        return path

    def _load_vector(self, name: str) -> gpd.GeoDataFrame:
        entry = self.entry(name)
        path = self._existing_file(name)
        encoding = entry.encoding or self._guess_encoding(name, path)
        try:
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always")
                frame = gpd.read_file(path, layer=entry.layer, engine="pyogrio", encoding=encoding)
            for warning in said:
                self.note(name, f"GDAL: {warning.message}", "read anyway; check the file")
        except DataLayerError:
            layers = ", ".join(pyogrio.list_layers(path)[:, 0])
            msg = f"{path}: no layer '{entry.layer}' (it has: {layers}); fix '{self.project.catalog_key(name, 'layer')}' in the catalog"
            raise DataError(msg) from None
        except (DataSourceError, UnicodeDecodeError) as exc:
            msg = f"{path}: {self.describe(name)} cannot be opened ({str(exc).splitlines()[0]}); replace the file"
            raise DataError(msg) from None
        frame, crs_from = self._assign_crs(name, path, frame)
        frame = self._canonical_columns(name, frame)
        frame = self._clean_geometries(name, frame)
        county = name == self.county_layer
        source_geographic = frame.crs.is_geographic
        if source_geographic:
            frame = self._fix_lon_lat(name, frame)
        self._check_plausible(name, path, frame, crs_from)
        if county:
            self._check_area_of_use(name, path, frame, crs_from)
        if frame.crs != CRS.from_user_input(self.crs):
            self.note(name, f"stored in {frame.crs.to_string()}", f"reprojected to {crs_code(CRS.from_user_input(self.crs))} for measuring", severity="info")
        stored, frame = frame, frame.to_crs(self.crs)
        if county and not frame.empty:
            self._check_zone(name, frame)
        if not county and not frame.empty:
            outside = ~frame.geometry.intersects(self.study_area()).to_numpy()
            self._check_inside(name, path, stored, outside, crs_from)
            warned = source_geographic and self._check_web_map_offset(name, frame)
            if source_geographic and entry.coordinates == "as_declared" and not warned and not self.inputs_beyond:
                self._warn_web_map_shift(name, stored, outside)  # with inputs beyond the counties, points outside are expected
            self._note_outside(name, frame, outside)
        return frame

    def _assign_crs(self, name: str, path: Path, frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str]:
        """The CRS of the file, the catalog's when the file has none (or ``crs_override``), and web-map
        coordinates converted; with where the CRS came from: ``file``, ``catalog`` or ``override``."""
        entry = self.entry(name)
        source = "file"
        if entry.crs is not None:
            try:
                CRS.from_user_input(entry.crs)
            except CRSError:
                msg = f"{self.catalog_path}: 'layers.{name}.crs' is {entry.crs!r}, not a CRS; give an EPSG code (e.g. EPSG:4490)"
                raise DataError(msg) from None
        if entry.crs_override:
            if entry.crs is None:
                msg = (f"{self.catalog_path}: 'layers.{name}.crs_override' is set without 'layers.{name}.crs'; "
                       "give the CRS the coordinates are in (e.g. EPSG:4490)")
                raise DataError(msg)
            if frame.crs is None or frame.crs != CRS.from_user_input(entry.crs):
                declared = crs_code(frame.crs) if frame.crs is not None else "no CRS"
                self.note(name, f"the file declares {declared}", f"read as {entry.crs} ('layers.{name}.crs_override' in the catalog)")
                frame = frame.set_crs(entry.crs, allow_override=True)
            source = "override"
        elif frame.crs is None:
            if entry.crs is None:
                msg = f"{path}: {self.describe(name)} has no CRS; set 'layers.{name}.crs' in the catalog (e.g. EPSG:4490) or assign one in the file"
                raise DataError(msg)
            frame = frame.set_crs(entry.crs)
            self.note(name, "no CRS in the file", f"assumed {entry.crs} from the catalog")
            source = "catalog"
        if entry.coordinates != "as_declared":
            if not frame.crs.is_geographic:
                crs = frame.crs.to_string()
                msg = f"{path}: {self.describe(name)} is declared {entry.coordinates} but its CRS {crs} is not lon/lat; remove 'coordinates' or fix the CRS"
                raise DataError(msg)
            frame = frame.to_crs("EPSG:4326")
            frame = frame.set_geometry(to_cgcs2000(frame.geometry.values, entry.coordinates)).set_crs("EPSG:4490", allow_override=True)
            label = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}[entry.coordinates]
            self.note(name, f"coordinates in {label}", f"converted {len(frame)} features to CGCS2000", severity="info")
        return frame, source

    def study_area(self) -> shapely.Geometry:
        """The union of the counties, in the metric CRS."""
        if self._study_area is None:
            self._study_area = shapely.union_all(self.read_vector(self.county_layer).geometry.values)
        return self._study_area

    def _study_lonlat(self) -> Bounds:
        """The bounds of the study area in lon/lat (of the metric CRS's geographic CRS)."""
        metric = CRS.from_user_input(self.crs)
        west, south, east, north = gpd.GeoSeries([self.study_area()], crs=metric).to_crs(metric.geodetic_crs).total_bounds
        return float(west), float(south), float(east), float(north)

    # --- is each layer where it should be? ------------------------------------------------------

    def _expected_area(self, name: str) -> Bounds | None:
        """Where a layer's coordinates should lie (lon/lat): the study area; for the counties, the
        area of use of the metric CRS (nothing else tells where the city is)."""
        if name == self.county_layer:
            return area_of_use(CRS.from_user_input(self.crs))
        return self._study_lonlat()

    def fitting_crs(self, name: str, xy: np.ndarray, declared: CRS) -> Fit | None:
        """The CRS the points fit where the layer should lie (searched only when a check has failed)."""
        area = self._expected_area(name)
        if area is None:
            return None
        return likely_crs(xy, declared, area, candidates(CRS.from_user_input(self.crs), area))

    def _crs_fix(self, name: str, fit: Fit | None, source: str, subject: str = "they") -> str:
        """What to do about coordinates that do not fit their CRS: the CRS they fit and where to set it."""
        key = f"layers.{name}"
        if fit is None:
            return f"{subject} fit no CRS near the study area; check its CRS and extent"
        if fit.swapped:
            return f"{subject} fit {fit.describe()}; exchange x and y in the file"
        if source == "file":
            return (f"{subject} fit {fit.describe()}; assign the right CRS in the file, or set '{key}.crs: {fit.code}' and "
                    f"'{key}.crs_override: true' in {self.catalog_path}")
        return f"{subject} fit {fit.describe()}; set '{key}.crs: {fit.code}' in {self.catalog_path}"

    @staticmethod
    def _declared(frame: gpd.GeoDataFrame, source: str) -> str:
        """``declares EPSG:4546 (metres)``, or where else the CRS came from."""
        crs = frame.crs
        said = {"file": "declares", "catalog": "has no CRS and the catalog gives", "override": "is read, by crs_override, as"}[source]
        return f"{said} {crs_code(crs)} ({unit_word(crs)})"

    def _check_plausible(self, name: str, path: Path, frame: gpd.GeoDataFrame, source: str) -> None:
        """Stop when the coordinates cannot be in the CRS they declare: degrees in a metric CRS, metres in a geographic one."""
        if frame.empty:
            return
        looks = implausible(frame.total_bounds, frame.crs)
        if looks is None:
            return
        xy = _sample_xy(frame)
        fit = self.fitting_crs(name, xy, frame.crs)
        msg = (f"{path}: {self.describe(name)} has coordinates like {example(xy)} ({looks}) but {self._declared(frame, source)}; "
               f"{self._crs_fix(name, fit, source)}")
        raise DataError(msg)

    def _check_area_of_use(self, name: str, path: Path, frame: gpd.GeoDataFrame, source: str) -> None:
        """Stop when the counties lie mostly outside the area their CRS is made for (they have no study area to compare to)."""
        area = area_of_use(frame.crs)
        if area is None or frame.empty:
            return
        xy = _sample_xy(frame)
        if share_inside(to_lonlat(xy, frame.crs), area, margin=AREA_OF_USE_MARGIN_DEGREES) >= 0.5:
            return
        west, south, east, north = area
        fit = self.fitting_crs(name, xy, frame.crs)
        msg = (f"{path}: {self.describe(name)} has coordinates like {example(xy)}, outside the area of use of its CRS "
               f"(lon {west:g} to {east:g}, lat {south:g} to {north:g}): it {self._declared(frame, source)}; {self._crs_fix(name, fit, source)}")
        raise DataError(msg)

    def _check_zone(self, name: str, frame: gpd.GeoDataFrame) -> None:
        """Warn when the counties reach well beyond the Gauss-Kruger zone of the project's CRS (lengths, areas and north drift)."""
        metric = CRS.from_user_input(self.crs)
        lonlat = frame.to_crs(metric.geodetic_crs).total_bounds
        found = zone_mismatch(metric, (float(lonlat[0]), float(lonlat[1]), float(lonlat[2]), float(lonlat[3])))
        if found is not None:
            problem, action = found
            self.note(name, f"project.crs {self.crs}: {problem}", action, field="geometry")

    @property
    def inputs_beyond(self) -> bool:
        """Whether the catalog says the layers reach beyond the counties on purpose (``zones.county.inputs_beyond``)."""
        return self.catalog.zones["county"].inputs_beyond

    def _check_inside(self, name: str, path: Path, stored: gpd.GeoDataFrame, outside: np.ndarray, source: str) -> None:
        """Stop when most of a layer lies outside the study area: a wrong CRS or web-map coordinates, not a few strays.

        With ``zones.county.inputs_beyond`` (the province's files read for some of its counties) only
        coordinates that another CRS explains stop the run (web-map offsets are found by the fit to the
        reference layers, :meth:`_check_web_map_offset`, not by features outside the counties).
        """
        count, total = int(outside.sum()), len(outside)
        if count < MIN_OUTSIDE_TO_REFUSE or count * 2 <= total:
            return
        strays = stored.loc[outside]
        hint = None if self.inputs_beyond else self._web_map_hint(name, strays)  # strays beyond the counties are no shifted points
        if hint is None:
            xy = _sample_xy(strays)
            fit = self.fitting_crs(name, xy, stored.crs)
            if fit is None and self.inputs_beyond:
                return
            if fit is None and share_inside(to_lonlat(xy, stored.crs), self._study_lonlat()) > 0.5:
                hint = (f"they lie around the study area in the CRS it declares ({crs_code(stored.crs)}), so the CRS looks right: "
                        f"check the layer's extent (another area's data?) and the counties of layer '{self.county_layer}'")
            else:
                hint = f"it {self._declared(stored, source)}; {self._crs_fix(name, fit, source, f'its coordinates (like {example(xy)})')}"
            if fit is None:
                hint += (f"; if the layers cover more than the counties on purpose (the province's files read for some of its "
                         f"counties), set 'zones.county.inputs_beyond: true' in {self.catalog_path}")
        msg = f"{path}: {self.describe(name)} has {count} of {total} features outside the study area (every county of layer '{self.county_layer}'); {hint}"
        raise DataError(msg)

    def _note_outside(self, name: str, frame: gpd.GeoDataFrame, outside: np.ndarray) -> None:
        """Note the features outside every county: one by one (strays), or in one line when the inputs reach beyond the counties."""
        if not outside.any():
            return
        parks = "park" in self.catalog.zones and self.catalog.zones["park"].layer == name
        kept = "in the 'unassigned' row, not in any county or the city" + ("; no park row" if parks else "")
        if self.inputs_beyond:
            self.note(name, f"{int(outside.sum())} of {len(outside)} features outside the counties (zones.county.inputs_beyond)",
                      f"read: they count where distance does (coverage, within), {kept}", field="geometry", severity="info")
            return
        for feature_id in frame.loc[outside, "id"]:
            self.note(name, "outside every county", f"kept {kept}", feature_id=feature_id, field="geometry")

    def _inside_as_web_map(self, lonlat: gpd.GeoDataFrame, datum: WebDatum) -> int:
        """How many features of a lon/lat frame fall inside the study area when read as GCJ-02 or BD-09."""
        moved = gpd.GeoSeries(to_cgcs2000(lonlat.geometry.values, datum), crs=lonlat.crs).to_crs(self.crs)
        return int(moved.intersects(self.study_area()).sum())

    def _web_map_hint(self, name: str, strays: gpd.GeoDataFrame) -> str | None:
        """The fix when most features outside the study area fall inside read as GCJ-02 or BD-09."""
        if not strays.crs.is_geographic or self.entry(name).coordinates != "as_declared":
            return None
        datums: tuple[tuple[WebDatum, str], ...] = (("gcj02", "GCJ-02 (Amap/Tencent)"), ("bd09", "BD-09 (Baidu)"))
        for datum, label in datums:
            inside = self._inside_as_web_map(strays, datum)
            if inside * 2 > len(strays):
                return (f"{inside} of them fall inside when read as {label}, a few hundred metres off; "
                        f"if that is the source set 'layers.{name}.coordinates: {datum}' in {self.catalog_path}")
        return None

    def _fix_lon_lat(self, name: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Swap back features whose latitude and longitude were exchanged (they land outside the study area)."""
        if name == self.county_layer or frame.empty:
            return frame
        west, south, east, north = gpd.GeoSeries([self.study_area()], crs=self.crs).to_crs(frame.crs).total_bounds
        points = frame.geometry.representative_point()
        inside = points.x.between(west - 0.5, east + 0.5) & points.y.between(south - 0.5, north + 0.5)
        swapped = points.y.between(west - 0.5, east + 0.5) & points.x.between(south - 0.5, north + 0.5)
        fix = ~inside & swapped
        if fix.any():
            frame = frame.copy()
            frame.loc[fix, "geometry"] = swap_lon_lat(frame.geometry[fix].values)
            for feature_id in frame.loc[fix, "id"]:
                self.note(name, "latitude and longitude swapped", "swapped back", feature_id=feature_id, field="geometry")
        return frame

    def _warn_web_map_shift(self, name: str, stored: gpd.GeoDataFrame, outside: np.ndarray) -> None:
        """Warn when points outside every county fall inside once read as GCJ-02: the pattern of Amap coordinates."""
        if not outside.any() or not set(stored.geometry.geom_type) <= {"Point"}:
            return
        fixed = self._inside_as_web_map(stored.loc[outside], "gcj02")
        if fixed and fixed * 2 >= int(outside.sum()):
            self.note(
                name,
                f"{fixed} of {int(outside.sum())} points outside every county fall inside when read as GCJ-02 (about 500 m off)",
                f"check the source; if it is Amap/Tencent set 'layers.{name}.coordinates: gcj02' (Baidu: bd09)",
            )

    # --- web-map offsets inside the city: the fit to the reference layers -------------------------

    def _reference(self, name: str) -> tuple[tuple[str, ...], shapely.STRtree, np.ndarray] | None:
        """The lines and polygons of the layers marked ``reference`` (other than ``name``), indexed."""
        names = tuple(n for n, e in self.catalog.layers.items() if e.reference and e.kind == "vector" and e.geometry != "Point" and n != name)
        if not names:
            return None
        if self._references is None or self._references[0] != names:
            geometries = np.concatenate([self.read_vector(n).geometry.values for n in names])
            lines_or_polygons = np.isin(shapely.get_type_id(geometries), [1, 2, 3, 5, 6])
            geometries = geometries[lines_or_polygons & ~shapely.is_empty(geometries)]
            if len(geometries) == 0:
                return None
            self._references = (names, shapely.STRtree(geometries), geometries)
        return self._references

    def _check_web_map_offset(self, name: str, frame: gpd.GeoDataFrame) -> bool:
        """Warn when points fit the reference layers (roads, built-up areas) clearly better converted from
        GCJ-02, or, declared GCJ-02, clearly better unconverted; True when warned.

        Where no layer is marked ``reference`` nothing can tell GCJ-02 points inside the city, and nothing is said.
        """
        entry = self.entry(name)
        if entry.reference or entry.coordinates == "bd09" or frame.empty or not set(frame.geometry.geom_type) <= {"Point"}:
            return False
        reference = self._reference(name)
        if reference is None:
            return False
        names, tree, geometries = reference
        frame = frame.iloc[sample_points(np.arange(len(frame)), FIT_MAX_POINTS)]
        metric = CRS.from_user_input(self.crs)
        lonlat = frame.geometry.to_crs(metric.geodetic_crs)
        lon, lat = lonlat.x.to_numpy(), lonlat.y.to_numpy()
        moved = gcj02_to_wgs84(lon, lat) if entry.coordinates == "as_declared" else wgs84_to_gcj02(lon, lat)
        other = gpd.GeoSeries(gpd.points_from_xy(*moved), crs=metric.geodetic_crs).to_crs(metric).values
        here = frame.geometry.values
        fit = web_map_fit(
            shapely.distance(here, geometries[tree.nearest(here)]),
            shapely.distance(other, geometries[tree.nearest(other)]),
            shapely.distance(here, other),
        )
        if fit is None:
            return False
        layers = ", ".join(f"'{n}'" for n in names)
        counts = f"{fit.better} points closer, {fit.worse} farther; median distance of these {fit.before_m:.0f} m -> {fit.after_m:.0f} m"
        if entry.coordinates == "as_declared":
            problem = (f"points fit the reference layers ({layers}) better read as GCJ-02, about {fit.offset_m:.0f} m off ({counts})")
            action = f"check the source; if it is Amap/Tencent set 'layers.{name}.coordinates: gcj02' (Baidu: bd09)"
        else:
            problem = (f"points declared GCJ-02 fit the reference layers ({layers}) better unconverted, about {fit.offset_m:.0f} m off ({counts})")
            action = f"converted as declared; if the source is not Amap/Tencent remove 'layers.{name}.coordinates'"
        self.note(name, problem, action, field="geometry")
        return True

    def _guess_encoding(self, name: str, path: Path) -> str | None:
        """For a shapefile without .cpg, guess UTF-8 or GBK from the bytes of its attributes."""
        if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists():
            return None
        raw = pyogrio.read_dataframe(path, read_geometry=False, encoding="latin1")
        text = "".join(str(v) for column in raw.columns if raw[column].dtype != float for v in raw[column].dropna())
        data = text.encode("latin1", errors="ignore")
        if data.isascii():
            return None
        for candidate in ("utf-8", "gbk"):
            try:
                data.decode(candidate)
            except UnicodeDecodeError:
                continue
            self.note(name, "shapefile without .cpg (encoding not declared)", f"guessed {candidate.upper()}; set 'layers.{name}.encoding' to be sure")
            return candidate
        return None

    def _canonical_columns(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        entry = self.entry(name)
        mapping = dict(entry.fields) or {c: c for c in frame.columns if c != "geometry"}
        mapping.setdefault("id", entry.id_field)
        missing = [canonical for canonical, column in mapping.items() if column not in frame.columns]
        if missing:
            canonical = missing[0]
            column = mapping[canonical]
            close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=3, cutoff=0.5)
            hint = f"closest columns: {', '.join(close)}" if close else f"columns: {', '.join(map(str, frame.columns))}"
            msg = (
                f"{self.layer_path(name)}: {self.describe(name)} has no column '{column}' for field '{canonical}' ({hint}); "
                f"set 'layers.{name}.fields.{canonical}' in {self.catalog_path}"
            )
            raise DataError(msg)
        keep = {column: canonical for canonical, column in mapping.items()}
        out = frame[list(keep)].rename(columns=keep)
        out["id"] = out["id"].astype(str)
        duplicated = out["id"][out["id"].duplicated()]
        if not duplicated.empty:
            msg = (f"{self.layer_path(name)}: {self.describe(name)} repeats id '{duplicated.iloc[0]}' in field '{mapping['id']}'; "
                   "ids must be unique: fix the data")
            raise DataError(msg)
        if isinstance(frame, gpd.GeoDataFrame):
            out = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=frame.crs)
        return out

    def _clean_geometries(self, name: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Empty geometries left out, invalid ones repaired and reduced to the layer's geometry; each one noted."""
        entry = self.entry(name)
        empty = frame.geometry.isna() | frame.geometry.is_empty
        for feature_id in frame.loc[empty, "id"]:
            self.note(name, "empty geometry", "feature left out", feature_id=feature_id, field="geometry")
        frame = frame.loc[~empty].copy()
        invalid = ~frame.geometry.is_valid
        if invalid.any():
            repaired = shapely.make_valid(frame.geometry[invalid].values)
            actions = ["repaired with make_valid"] * len(repaired)
            if entry.geometry is not None:
                repaired, actions = self._reduce_to_family(repaired, entry.geometry, frame.crs)
            for feature_id, action in zip(frame.loc[invalid, "id"], actions, strict=True):
                self.note(name, "invalid geometry", action, feature_id=feature_id, field="geometry")
            frame.loc[invalid, "geometry"] = repaired
            frame = frame.loc[~frame.geometry.is_empty].copy()
        if entry.geometry is not None:
            allowed = GEOMETRY_FAMILIES[entry.geometry]
            wrong = ~frame.geometry.geom_type.isin(allowed)
            if wrong.any():
                bad = frame.loc[wrong].iloc[0]
                msg = (
                    f"{self.layer_path(name)}: {self.describe(name)} feature '{bad['id']}' is a {bad.geometry.geom_type}, "
                    f"expected {entry.geometry}; fix the data or 'layers.{name}.geometry' in the catalog"
                )
                raise DataError(msg)
        return frame

    def _reduce_to_family(self, repaired: np.ndarray, family: str, crs: CRS) -> tuple[np.ndarray, list[str]]:
        """``make_valid`` output kept to the parts of the layer's geometry (the polygons of a collection),
        polygon slivers under :data:`SLIVER_M2` and parts of other kinds dropped; what was done to each."""
        parts, owner = shapely.get_parts(repaired, return_index=True)
        while (nested := shapely.get_type_id(parts) >= 4).any():  # multi-parts and collections inside a collection
            inner, index = shapely.get_parts(parts[nested], return_index=True)
            parts, owner = np.concatenate([parts[~nested], inner]), np.concatenate([owner[~nested], owner[nested][index]])
        parts, owner = parts[~shapely.is_empty(parts)], owner[~shapely.is_empty(parts)]
        with np.errstate(invalid="ignore"):
            metric = gpd.GeoSeries(parts, crs=crs).to_crs(self.crs)
            area, length = metric.area.to_numpy(), metric.length.to_numpy()
        kind = np.asarray(shapely.get_type_id(parts))  # 0 point, 1 line, 2 ring, 3 polygon
        wanted = {"Point": 0, "LineString": 1, "Polygon": 3}[family]
        kind = np.where(kind == 2, 1, kind)
        sliver = (kind == 3) & (area < SLIVER_M2)
        keep = (kind == wanted) & ~sliver
        out = np.empty(len(repaired), dtype=object)
        actions = []
        for i in range(len(repaired)):
            mine = owner == i
            kept = parts[mine & keep]
            out[i] = _combine(kept, family)
            dropped = []
            for code, word in ((0, "point"), (1, "line"), (3, "polygon")):
                gone = mine & (kind == code) & ~keep & ~sliver
                if gone.any():
                    size = f" ({length[gone].sum():.0f} m)" if code == 1 else f" ({area[gone].sum():.0f} m2)" if code == 3 else ""
                    dropped.append(f"{int(gone.sum())} {word}{'s' if gone.sum() > 1 else ''}{size}")
            if (mine & sliver).any():
                count = int((mine & sliver).sum())
                dropped.append(f"{count} sliver{'s' if count > 1 else ''} ({area[mine & sliver].sum():.2f} m2)")
            if len(kept) == 0:
                actions.append(f"no {family} left after make_valid, only {', '.join(dropped) or 'empty parts'}: feature left out")
            elif dropped:
                actions.append(f"repaired with make_valid; kept the {family} parts, dropped {', '.join(dropped)}")
            else:
                actions.append("repaired with make_valid")
        return out, actions


def _combine(parts: np.ndarray, family: str) -> shapely.Geometry:
    """One geometry of the parts (a single part as itself), empty when there are none."""
    if len(parts) == 0:
        return shapely.from_wkt(f"{family.upper()} EMPTY")
    if len(parts) == 1:
        return parts[0]
    if family == "Polygon":
        combined = shapely.multipolygons(parts)
        return combined if combined.is_valid else shapely.union_all(parts)
    return shapely.multipoints(parts) if family == "Point" else shapely.multilinestrings(parts)
