"""A project folder (``layers/``, ``analyses/``, ``maps/``) and the reading of its layers."""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from .catalog import GEOMETRY_FAMILIES, Catalog, LayerEntry, read_catalog
from .errors import ConfigError, DataError, UsageError
from .specs import Spec, read_spec


@dataclass(frozen=True)
class QualityNote:
    """One data-quality finding: what was wrong and what the tool did about it."""

    layer: str
    feature_id: str
    field: str
    problem: str
    action: str


def reference_root() -> Path:
    """The built-in reference project (Sanmenxia 2025): the wheel's copy, else the source checkout."""
    packaged = importlib.resources.files("gis") / "_reference"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent


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
            msg = f"{path}: file of layer '{name}' not found; fix 'layers.{name}.file' in {self.catalog_path} or create the file (sample data: gis sample {self.root})"
            raise DataError(msg)
        return path

    def _load_vector(self, name: str) -> gpd.GeoDataFrame:
        entry = self.entry(name)
        path = self._existing_file(name)
        try:
            frame = gpd.read_file(path, layer=entry.layer, engine="pyogrio", encoding=entry.encoding)
        except DataLayerError:
            layers = ", ".join(pyogrio.list_layers(path)[:, 0])
            msg = f"{path}: no layer '{entry.layer}' (it has: {layers}); fix 'layers.{name}.layer' in the catalog"
            raise DataError(msg) from None
        except DataSourceError as exc:
            msg = f"{path}: layer '{name}' cannot be opened ({str(exc).splitlines()[0]}); replace the file"
            raise DataError(msg) from None
        if frame.crs is None:
            msg = f"{path}: layer '{name}' has no CRS; assign one in the file (e.g. EPSG:4490) before running"
            raise DataError(msg)
        frame = self._canonical_columns(name, frame)
        frame = self._clean_geometries(name, frame)
        return frame.to_crs(self.crs)

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
            self.notes.append(QualityNote(name, feature_id, "geometry", "empty geometry", "feature left out"))
        frame = frame.loc[~empty].copy()
        invalid = ~frame.geometry.is_valid
        if invalid.any():
            for feature_id in frame.loc[invalid, "id"]:
                self.notes.append(QualityNote(name, feature_id, "geometry", "invalid geometry", "repaired with make_valid"))
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
    from .engine import validate_spec_against

    for spec, spec_path in zip(specs, spec_paths, strict=True):
        validate_spec_against(project, spec, spec_path)
    return project
