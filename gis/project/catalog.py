"""The layer catalog: what each input layer is, where it lives and where it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis.bilingual import Bilingual, EnText, PairText, TitleText, ZhText
from gis.errors import ConfigError
from gis.project._yaml import load_yaml, validate

GEOMETRY_FAMILIES = {
    "Point": {"Point", "MultiPoint"},
    "LineString": {"LineString", "MultiLineString"},
    "Polygon": {"Polygon", "MultiPolygon"},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SYNTHETIC_NOTE = "SYNTHETIC sample data: not real facility data"
"""What every output layer made from synthetic inputs says in its description."""


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
    name: PairText = Field(description="the class name: '耕地 cropland' or {zh: 耕地, en: cropland}")
    permeable: bool = False
    excluded: bool = Field(False, description="left out of numerator and denominator (water)")


class YearSource(_Strict):
    """Where a layer's data for an earlier year lives; what is not given is the layer's own."""

    file: str | None = None
    layer: str | None = None


def value_code(value: object) -> str:
    """A field value as the key of a value table: true/false for booleans, '3' for 3 and 3.0, the text otherwise."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str):
        value = item()  # a numpy scalar as the Python value it holds
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class LayerEntry(_Strict):
    """One input layer of the catalog."""

    title: TitleText | None = Field(None, description="'English (中文)' or {zh: 中文, en: English}")
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
    values: dict[str, dict[str, EnText]] = Field(
        default_factory=dict,
        description="per canonical field, what its coded values mean, in both languages: "
        "{kind: {coal_boiler: {zh: 燃煤锅炉, en: coal boiler}}}; a value not listed is shown as it is",
    )

    @field_validator("values", mode="before")
    @classmethod
    def _codes_as_text(cls, values: Any) -> Any:
        """Codes written as numbers or true/false (``3:``, ``true:``) are keys as the data's values read: '3', 'true'."""
        if not isinstance(values, dict):
            return values
        return {field: {value_code(code): text for code, text in table.items()} if isinstance(table, dict) else table
                for field, table in values.items()}

    @model_validator(mode="after")
    def _values_of_known_fields(self) -> LayerEntry:
        unknown = [field for field in self.values if field not in self.fields and field != self.id_field]
        if unknown:
            msg = (f"'values' names field '{unknown[0]}', which is not among the layer's 'fields' "
                   f"({', '.join(self.fields) or 'none'}); use a canonical field name")
            raise ValueError(msg)
        return self

    def value_name(self, field: str, value: object) -> Bilingual | None:
        """What ``value`` of ``field`` means, in both languages; None when the catalog does not say."""
        return self.values.get(field, {}).get(value_code(value))

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

    @property
    def title(self) -> Bilingual:
        """The city's name in both languages (the Chinese alone when no English name is given)."""
        return Bilingual.of(self.name, self.name_en or self.name, "zh")


class ProjectSettings(_Strict):
    """Project-wide settings kept at the top of the catalog."""

    name: str
    name_zh: str | None = None
    plan: ZhText | None = Field(None, description="the plan's title: its own (Chinese), or {zh: its own, en: an English rendering}")
    baseline_year: int = Field(description="the plan's starting year (the trajectory starts there)")
    target_year: int = Field(description="the year the plan's targets are for")
    data_year: int | None = Field(None, description="the year the layers' own files describe (default: target_year)")
    crs: str = Field(description="metric CRS where areas and distances are measured")
    output_crs: str = "EPSG:4490"
    city: City
    themes: list[str] = Field(default_factory=list, description="the plan's themes; each spec's theme must be one of them (empty: any)")
    theme_names: dict[str, EnText] = Field(
        default_factory=dict, description="what the outputs call each theme: {heating: {zh: 清洁取暖, en: heating}}; default the id"
    )

    @model_validator(mode="after")
    def _names_of_known_themes(self) -> ProjectSettings:
        unknown = [theme for theme in self.theme_names if self.themes and theme not in self.themes]
        if unknown:
            msg = f"'theme_names' names theme '{unknown[0]}', which is not in 'themes' ({', '.join(self.themes)})"
            raise ValueError(msg)
        return self

    @property
    def title(self) -> Bilingual:
        """The project's name in both languages: ``name_zh`` and ``name`` (reads as ``name``)."""
        return Bilingual.of(self.name_zh or self.name, self.name)

    def theme_name(self, theme: str) -> Bilingual:
        """What the outputs call ``theme``: its ``theme_names`` entry, else the id itself."""
        return self.theme_names.get(theme) or Bilingual(theme)

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
    inputs_beyond: bool = Field(
        False,
        description="counties only: the layers and tables cover more than these counties on purpose (the city's or the "
        "province's files read for some of its counties): features and rows beyond them are read, count where distance "
        "does (coverage, within) and are summed in the 'unassigned' row, instead of stopping the run",
    )
    prefecture_field: str | None = Field(
        None,
        description="counties only, with a 'prefecture' level: the county layer's field holding the id of each county's "
        "prefecture (default: the prefecture whose polygon holds the county's representative point)",
    )


class Catalog(BaseModel):
    """The whole ``layers/catalog.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: ProjectSettings
    zones: dict[Literal["county", "prefecture", "park", "builtup"], ZoneLevel]
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
    beyond = [level for level, zone in catalog.zones.items() if zone.inputs_beyond and level != "county"]
    if beyond:
        msg = f"{path}: key 'zones.{beyond[0]}.inputs_beyond' is for the counties only; set 'zones.county.inputs_beyond' instead"
        raise ConfigError(msg)
    if catalog.zones["county"].prefecture_field and "prefecture" not in catalog.zones:
        msg = (f"{path}: key 'zones.county.prefecture_field' names each county's prefecture, but there is no 'zones.prefecture' "
               "level; add it (the layer of the prefectures) or remove the key")
        raise ConfigError(msg)
    misplaced = [level for level, zone in catalog.zones.items() if zone.prefecture_field and level != "county"]
    if misplaced:
        msg = f"{path}: key 'zones.{misplaced[0]}.prefecture_field' is for the counties only; set 'zones.county.prefecture_field' instead"
        raise ConfigError(msg)
    if not catalog.metric_crs_is_projected():
        msg = f"{path}: key 'project.crs' must be a projected CRS in metres (the local CGCS2000 3-degree Gauss-Kruger zone)"
        raise ConfigError(msg)
    return catalog
