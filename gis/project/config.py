"""A project folder (``layers/``, ``analyses/``, ``maps/``) and the reading of its layers."""

from __future__ import annotations

import difflib
import warnings
import hashlib
import importlib.resources
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from gis.project.coords import gcj02_to_wgs84, swap_lon_lat, to_cgcs2000
from gis.project.catalog import GEOMETRY_FAMILIES, Catalog, LayerEntry, read_catalog
from gis.errors import ConfigError, DataError, UsageError
from gis.project.specs import Spec, read_spec

if TYPE_CHECKING:
    from gis.api import Result


@dataclass(frozen=True)
class QualityNote:
    """One data-quality finding: what was wrong and what the tool did about it."""

    layer: str
    feature_id: str
    field: str
    problem: str
    action: str
    severity: str = "warning"  # "info": said for the record (a reprojection); "warning": data was wrong


def reference_root() -> Path:
    """The built-in reference project (Sanmenxia 2025): the wheel's copy, else the source checkout."""
    packaged = importlib.resources.files("gis") / "_reference"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2]


def file_sha256(path: Path) -> str:
    """Checksum of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Project:
    """A city project: its catalog, its indicator specs, and cached readers for its layers."""

    root: Path
    catalog: Catalog
    specs: list[Spec]
    notes: list[QualityNote] = field(default_factory=list)
    _vectors: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)
    _study_area: shapely.Geometry | None = field(default=None, repr=False)
    inspected_rasters: set[str] = field(default_factory=set, repr=False)
    year: int | None = None  # set for the project as it stood in an earlier year

    @property
    def crs(self) -> str:
        """The metric CRS where everything is measured."""
        return self.catalog.project.crs

    @cached_property
    def catalog_path(self) -> Path:
        """Path of ``layers/catalog.yaml``."""
        return self.root / "layers" / "catalog.yaml"

    def entry(self, name: str) -> LayerEntry:
        """The catalog entry of a layer, or an error that lists the known names."""
        try:
            return self.catalog.layers[name]
        except KeyError:
            known = ", ".join(sorted(self.catalog.layers))
            msg = f"{self.catalog_path}: no layer '{name}' in the catalog (known: {known})"
            raise ConfigError(msg) from None

    def layer_path(self, name: str) -> Path:
        """The file of a layer, resolved against ``layers/``."""
        return (self.root / "layers" / self.entry(name).file).resolve()

    def read_vector(self, name: str) -> gpd.GeoDataFrame:
        """A vector layer with canonical field names, valid geometries, in the metric CRS."""
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
            msg = f"{path}: file of layer '{name}' not found; fix '{self._key(name, 'file')}' in {self.catalog_path} or create the file (sample data: gis sample {self.root})"
            raise DataError(msg)
        return path

    def _key(self, name: str, key: str) -> str:
        """The catalog key a message points at: ``layers.X.file``, or ``layers.X.years.2020.file`` for a year's data."""
        return f"layers.{name}.years.{self.year}.{key}" if self.year is not None else f"layers.{name}.{key}"

    def note(self, layer: str, problem: str, action: str, *, feature_id: str = "", field: str = "", severity: str = "warning") -> None:
        """Record a data-quality finding for the run's data-quality table."""
        self.notes.append(QualityNote(layer, feature_id, field, problem, action, severity))

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
            msg = f"{path}: no layer '{entry.layer}' (it has: {layers}); fix '{self._key(name, 'layer')}' in the catalog"
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
                msg = f"{path}: layer '{name}' is declared {entry.coordinates} but its CRS {frame.crs.to_string()} is not lon/lat; remove 'coordinates' or fix the CRS"
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

    def input_files(self) -> dict[str, Path]:
        """Every layer's file, by layer name."""
        return {name: self.layer_path(name) for name in self.catalog.layers}

    def for_year(self, year: int) -> Project:
        """The project as it stood in ``year``: its layers of that year (see ``years:`` in the catalog)."""
        return Project(root=self.root, catalog=self.catalog.for_year(year), specs=self.specs,
                       _study_area=self._study_area, year=year)

    def check(self) -> pd.DataFrame:
        """Validate every layer as a run would; the findings (severity, layer, message)."""
        from gis.api import check_project

        return check_project(self)

    def run(self, *, engine: str = "local", scheduler: str | None = None, only: list[str] | None = None) -> Result:
        """Run the indicators (``engine="dask"`` for a Dask cluster); a :class:`gis.api.Result`."""
        from gis.api import run

        return run(self, engine=engine, scheduler=scheduler, only=only)

    @property
    def synthetic_layers(self) -> list[str]:
        """Names of the layers whose data is synthetic."""
        return [name for name, entry in self.catalog.layers.items() if entry.synthetic]


def load_project(path: str | Path) -> Project:
    """Read a project folder: its catalog and every indicator spec in ``analyses/``."""
    root = Path(path)
    if not root.is_dir():
        msg = f"{root}: project folder not found; give --project a folder with layers/ and analyses/"
        raise UsageError(msg)
    catalog_path = root / "layers" / "catalog.yaml"
    if not catalog_path.exists():
        msg = f"{catalog_path}: no catalog; a project folder holds layers/catalog.yaml (start one with gis sample DIR)"
        raise UsageError(msg)
    catalog = read_catalog(catalog_path)
    spec_paths = sorted((root / "analyses").glob("*.yaml"))
    if not spec_paths:
        msg = f"{root / 'analyses'}: no indicator specs (*.yaml); copy them from the reference project"
        raise UsageError(msg)
    specs = [read_spec(p) for p in spec_paths]
    project = Project(root=root.resolve(), catalog=catalog, specs=specs)
    from gis.engines.local import validate_spec_against

    for spec, spec_path in zip(specs, spec_paths, strict=True):
        validate_spec_against(project, spec, spec_path)
    return project
