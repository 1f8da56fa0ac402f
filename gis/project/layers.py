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
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from gis.errors import DataError
from gis.project.catalog import GEOMETRY_FAMILIES, Catalog, LayerEntry
from gis.project.config import ProjectConfig
from gis.project.coords import gcj02_to_wgs84, swap_lon_lat, to_cgcs2000
from gis.project.quality import QualityLog, QualityNote
from gis.project.specs import Spec


class LayerReader:
    """The layers of one project as one run reads them, and the findings of that reading."""

    def __init__(self, project: ProjectConfig, *, study_area: shapely.Geometry | None = None) -> None:
        self.project = project
        self.log = QualityLog()
        self._vectors: dict[str, gpd.GeoDataFrame] = {}
        self._study_area = study_area
        self.inspected_rasters: set[str] = set()

    def share(self, other: LayerReader) -> None:
        """Use ``other``'s log and caches (a view of the same reading, as the Dask engine's tasks are)."""
        self.project, self.log = other.project, other.log
        self._vectors, self._study_area, self.inspected_rasters = other._vectors, other._study_area, other.inspected_rasters

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
        return LayerReader(self.project.for_year(year), study_area=self._study_area)

    # --- reading -------------------------------------------------------------------------------

    def read_vector(self, name: str) -> gpd.GeoDataFrame:
        """A vector layer with canonical field names, valid geometries, in the metric CRS (read once per reader)."""
        if name not in self._vectors:
            self._vectors[name] = self._load_vector(name)
        return self._vectors[name].copy()

    def read_table(self, name: str) -> pd.DataFrame:
        """A table layer (CSV) with canonical field names."""
        entry = self.entry(name)
        path = self._existing_file(name)
        try:
            frame = pd.read_csv(path, encoding=entry.encoding or "utf-8", dtype=str, keep_default_na=False)
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            msg = f"{path}: table '{name}' cannot be read ({exc}); set 'encoding' in the catalog or fix the file"
            raise DataError(msg) from None
        frame = self._canonical_columns(name, frame)
        return frame.replace("", None)

    def _existing_file(self, name: str) -> Path:
        path = self.layer_path(name)
        if not path.exists():
            key = self.project.catalog_key(name, "file")
            msg = f"{path}: file of layer '{name}' not found; fix '{key}' in {self.catalog_path} or create the file (sample data: gis sample {self.root})"
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
            msg = f"{path}: layer '{name}' cannot be opened ({str(exc).splitlines()[0]}); replace the file"
            raise DataError(msg) from None
        frame = self._assign_crs(name, path, frame)
        frame = self._canonical_columns(name, frame)
        frame = self._clean_geometries(name, frame)
        source_geographic = frame.crs.is_geographic
        if source_geographic:
            frame = self._fix_lon_lat(name, frame)
        if frame.crs != CRS.from_user_input(self.crs):
            self.note(name, f"stored in {frame.crs.to_string()}", f"reprojected to {self.crs} for measuring", severity="info")
        frame = frame.to_crs(self.crs)
        if name != self.catalog.zones["county"].layer and not frame.empty:
            if source_geographic and entry.coordinates == "as_declared":
                self._warn_web_map_shift(name, frame)
            outside = ~frame.geometry.intersects(self.study_area())
            for feature_id in frame.loc[outside, "id"]:
                self.note(name, "outside every county", "kept in the 'unassigned' row, not in any county or the city",
                          feature_id=feature_id, field="geometry")
        return frame

    def _assign_crs(self, name: str, path: Path, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The CRS of the file, the catalog's when the file has none, and web-map coordinates converted."""
        entry = self.entry(name)
        if frame.crs is None:
            if entry.crs is None:
                msg = f"{path}: layer '{name}' has no CRS; set 'layers.{name}.crs' in the catalog (e.g. EPSG:4490) or assign one in the file"
                raise DataError(msg)
            frame = frame.set_crs(entry.crs)
            self.note(name, "no CRS in the file", f"assumed {entry.crs} from the catalog")
        if entry.coordinates != "as_declared":
            if not frame.crs.is_geographic:
                crs = frame.crs.to_string()
                msg = f"{path}: layer '{name}' is declared {entry.coordinates} but its CRS {crs} is not lon/lat; remove 'coordinates' or fix the CRS"
                raise DataError(msg)
            frame = frame.to_crs("EPSG:4326")
            frame = frame.set_geometry(to_cgcs2000(frame.geometry.values, entry.coordinates)).set_crs("EPSG:4490", allow_override=True)
            label = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}[entry.coordinates]
            self.note(name, f"coordinates in {label}", f"converted {len(frame)} features to CGCS2000", severity="info")
        return frame

    def study_area(self) -> shapely.Geometry:
        """The union of the counties, in the metric CRS."""
        if self._study_area is None:
            self._study_area = shapely.union_all(self.read_vector(self.catalog.zones["county"].layer).geometry.values)
        return self._study_area

    def _fix_lon_lat(self, name: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Swap back features whose latitude and longitude were exchanged (they land outside the study area)."""
        if name == self.catalog.zones["county"].layer or frame.empty:
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

    def _warn_web_map_shift(self, name: str, frame: gpd.GeoDataFrame) -> None:
        """Warn when points outside every county fall inside once read as GCJ-02: the pattern of Amap coordinates."""
        if frame.empty or not set(frame.geometry.geom_type) <= {"Point"}:
            return
        outside = ~frame.geometry.within(self.study_area())
        if not outside.any():
            return
        lonlat = frame.loc[outside].to_crs("EPSG:4490")
        lon, lat = gcj02_to_wgs84(lonlat.geometry.x.to_numpy(), lonlat.geometry.y.to_numpy())
        moved = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4490").to_crs(self.crs)
        fixed = int(moved.within(self.study_area()).sum())
        if fixed and fixed * 2 >= int(outside.sum()):
            self.note(
                name,
                f"{fixed} of {int(outside.sum())} points outside every county fall inside when read as GCJ-02 (about 500 m off)",
                f"check the source; if it is Amap/Tencent set 'layers.{name}.coordinates: gcj02' (Baidu: bd09)",
            )

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
                f"{self.layer_path(name)}: layer '{name}' has no column '{column}' for field '{canonical}' ({hint}); "
                f"set 'layers.{name}.fields.{canonical}' in {self.catalog_path}"
            )
            raise DataError(msg)
        keep = {column: canonical for canonical, column in mapping.items()}
        out = frame[list(keep)].rename(columns=keep)
        out["id"] = out["id"].astype(str)
        duplicated = out["id"][out["id"].duplicated()]
        if not duplicated.empty:
            msg = f"{self.layer_path(name)}: layer '{name}' repeats id '{duplicated.iloc[0]}' in field '{mapping['id']}'; ids must be unique"
            raise DataError(msg)
        if isinstance(frame, gpd.GeoDataFrame):
            out = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=frame.crs)
        return out

    def _clean_geometries(self, name: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        entry = self.entry(name)
        empty = frame.geometry.isna() | frame.geometry.is_empty
        for feature_id in frame.loc[empty, "id"]:
            self.note(name, "empty geometry", "feature left out", feature_id=feature_id, field="geometry")
        frame = frame.loc[~empty].copy()
        invalid = ~frame.geometry.is_valid
        if invalid.any():
            for feature_id in frame.loc[invalid, "id"]:
                self.note(name, "invalid geometry", "repaired with make_valid", feature_id=feature_id, field="geometry")
            frame.loc[invalid, "geometry"] = shapely.make_valid(frame.geometry[invalid].values)
        if entry.geometry is not None:
            allowed = GEOMETRY_FAMILIES[entry.geometry]
            wrong = ~frame.geometry.geom_type.isin(allowed)
            if wrong.any():
                bad = frame.loc[wrong].iloc[0]
                msg = (
                    f"{self.layer_path(name)}: layer '{name}' feature '{bad['id']}' is a {bad.geometry.geom_type}, "
                    f"expected {entry.geometry}; fix the data or 'layers.{name}.geometry' in the catalog"
                )
                raise DataError(msg)
        return frame
