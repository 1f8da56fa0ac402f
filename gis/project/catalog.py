"""The layer catalog: what each input layer is, where it lives and where it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.errors import ConfigError
from gis.project._yaml import load_yaml, validate

GEOMETRY_FAMILIES = {
    "Point": {"Point", "MultiPoint"},
    "LineString": {"LineString", "MultiLineString"},
    "Polygon": {"Polygon", "MultiPolygon"},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(_Strict):
    """Where a dataset came from: the audit trail planners trust."""

    source: str
    licence: str
    date: str
    synthetic: bool = False
    citation: str | None = None


class LandClass(_Strict):
    """One class of a categorical raster."""

    code: int
    name: str
    permeable: bool = False
    excluded: bool = Field(False, description="left out of numerator and denominator (water)")


class YearSource(_Strict):
    """Where a layer's data for an earlier year lives; what is not given is the layer's own."""

    file: str | None = None
    layer: str | None = None


class LayerEntry(_Strict):
    """One input layer of the catalog."""

    title: str | None = None
    file: str
    layer: str | None = None
    kind: Literal["vector", "raster", "table"]
    geometry: Literal["Point", "LineString", "Polygon"] | None = None
    id_field: str = "id"
    fields: dict[str, str] = Field(default_factory=dict, description="canonical name: column in the file")
    encoding: str | None = Field(None, description="text encoding of a shapefile or CSV without a .cpg (e.g. GBK)")
    crs: str | None = Field(None, description="the CRS to assume when the file declares none")
    crs_override: bool = Field(False, description="use 'crs' even where the file declares another (the file's declaration is wrong)")
    coordinates: Literal["as_declared", "gcj02", "bd09"] = Field(
        "as_declared", description="gcj02 (Amap, Tencent) or bd09 (Baidu): lon/lat from a web map, converted to CGCS2000"
    )
    provenance: Provenance
    classes: list[LandClass] = Field(default_factory=list)
    may_be_empty: bool = Field(
        False, description="a layer with no features is a real answer (none exist, e.g. no coal boilers left), not a broken export"
    )
    reference: bool = Field(
        False, description="positions surveyed in CGCS2000 (roads, built-up areas): the yardstick for web-map offsets in other layers"
    )
    years: dict[int, YearSource] = Field(
        default_factory=dict, description="the same layer as it stood in earlier years (the baseline year, ...)"
    )

    def for_year(self, year: int) -> LayerEntry:
        """This entry pointing at its data of ``year``."""
        source = self.years[year]
        return self.model_copy(update={"file": source.file or self.file, "layer": source.layer or self.layer, "years": {}})

    @property
    def synthetic(self) -> bool:
        """True when the data is generated, not observed."""
        return self.provenance.synthetic


class City(_Strict):
    """The whole city: the top zone, the union of its counties."""

    id: str
    name: str
    name_en: str | None = None


class ProjectSettings(_Strict):
    """Project-wide settings kept at the top of the catalog."""

    name: str
    name_zh: str | None = None
    plan: str | None = None
    baseline_year: int = Field(description="the plan's starting year (the trajectory starts there)")
    target_year: int = Field(description="the year the plan's targets are for")
    data_year: int | None = Field(None, description="the year the layers' own files describe (default: target_year)")
    crs: str = Field(description="metric CRS where areas and distances are measured")
    output_crs: str = "EPSG:4490"
    city: City
    themes: list[str] = Field(default_factory=list, description="the plan's themes; each spec's theme must be one of them (empty: any)")

    @field_validator("crs", "output_crs")
    @classmethod
    def _known_crs(cls, value: str) -> str:
        try:
            crs = CRS.from_user_input(value)
        except CRSError:
            msg = f"unknown CRS {value!r}; use an EPSG code (the local CGCS2000 Gauss-Kruger zone in metres)"
            raise ValueError(msg) from None
        return crs.to_string() if value.lower().startswith("epsg:") else value


class ZoneLevel(_Strict):
    """A level of zones the indicators report at, and the layer that draws it."""

    layer: str
    id_field: str = "id"
    name_field: str = "name"
    overlap_tolerance_m2: float = Field(
        10_000.0, ge=0, description="zones of this level may overlap by this much (digitising slivers); more is an error"
    )


class Catalog(BaseModel):
    """The whole ``layers/catalog.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: ProjectSettings
    zones: dict[Literal["county", "park", "builtup"], ZoneLevel]
    layers: dict[str, LayerEntry]
    synthetic_provenance: Provenance | None = Field(None, description="an anchor reused by the layers")

    @property
    def data_year(self) -> int:
        """The year of the layers' own files."""
        return self.project.data_year or self.project.target_year

    def years(self) -> list[int]:
        """Earlier years some layer has data for, oldest first."""
        return sorted({year for entry in self.layers.values() for year in entry.years} - {self.data_year})

    def for_year(self, year: int, *, keep_current: bool = False) -> Catalog:
        """The catalog as it stood in ``year``: layers with data of that year point at it; the others keep none.

        With ``keep_current`` every layer without data of ``year`` stands as it is now (how the
        baseline of a relative target is measured); otherwise only the layers without any
        ``years`` entry do, and those with data of other years only are left out.
        """
        if keep_current:
            return self.model_copy(
                update={"layers": {name: entry.for_year(year) if year in entry.years else entry for name, entry in self.layers.items()}}
            )
        layers = {name: entry.for_year(year) for name, entry in self.layers.items() if year in entry.years}
        static = {name: entry for name, entry in self.layers.items() if name not in layers and not entry.years}
        return self.model_copy(update={"layers": {**static, **layers}})

    def metric_crs_is_projected(self) -> bool:
        """Whether the measuring CRS has metre units, as it must."""
        crs = CRS.from_user_input(self.project.crs)
        return crs.is_projected and crs.axis_info[0].unit_name in {"metre", "meter"}


def read_catalog(path: Path) -> Catalog:
    """Load and validate a catalog file; errors name the file, line and key."""
    data, node = load_yaml(path)
    catalog = validate(Catalog, data, path, node)
    missing = [level.layer for level in catalog.zones.values() if level.layer not in catalog.layers]
    if missing:
        msg = f"{path}: zones refer to layer '{missing[0]}' that is not under 'layers'; add it or fix the name"
        raise ConfigError(msg)
    if "county" not in catalog.zones:
        msg = f"{path}: key 'zones.county' is required: the counties are the zones every indicator reports at"
        raise ConfigError(msg)
    if not catalog.metric_crs_is_projected():
        msg = f"{path}: key 'project.crs' must be a projected CRS in metres (the local CGCS2000 3-degree Gauss-Kruger zone)"
        raise ConfigError(msg)
    return catalog
