"""Map specs (``maps/*.yaml``): which layers the web map shows and how it colours them.

Everything a planner may want to change without code lives here: the colour of each
status, the value classes, which indicator is shown first, the facility layers with their
colours, radius and status checks, the coverage and gap layers, the context layers drawn beneath them
(built-up areas, roads, rivers), the headings of the plan's themes in the layer panel, and the basemap.
Every key has a default, so an empty file is a valid spec.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator

from gis.project._yaml import key_error, load_yaml, validate
from gis.project.catalog import ProjectSettings
from gis.project.config import ProjectConfig, reference_root
from gis.project.specs import Condition, Spec, Title

log = logging.getLogger("gis")

Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
"""A colour as ``#rrggbb`` (nothing else reaches the page's styles)."""

Status = Literal["met", "gap", "no_data", "no_target", "not_assessed"]
Basemap = Literal["none", "osm", "tianditu"]
BASEMAPS: tuple[str, ...] = ("none", "osm", "tianditu")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatusStyle(_Strict):
    """The colour and the bilingual label of one status."""

    colour: Colour
    zh: str
    en: str


class StatusStyles(_Strict):
    """Colours of the statuses a zone can have against its target (not assessed: the project lacks an input layer)."""

    met: StatusStyle = StatusStyle(colour="#1a9850", zh="达标", en="met")
    gap: StatusStyle = StatusStyle(colour="#d73027", zh="未达标", en="gap")
    no_data: StatusStyle = StatusStyle(colour="#bdbdbd", zh="无数据", en="no data")
    no_target: StatusStyle = StatusStyle(colour="#6baed6", zh="无目标", en="no target")
    not_assessed: StatusStyle = StatusStyle(colour="#f0f0f0", zh="未评估", en="not assessed")

    def of(self, status: str) -> StatusStyle:
        """The style of ``status`` (unknown statuses look like ``no_data``)."""
        return getattr(self, status, self.no_data)


class FieldLabel(_Strict):
    """The popup label of a field in Chinese and English, and its unit (shown in every language)."""

    zh: str
    en: str
    unit: str | None = None

    @classmethod
    def parse(cls, text: str) -> FieldLabel | str:
        """'容量 capacity (MW)' as zh, en and unit; a text not of that form ('Chinese English (unit)') as it is."""
        match = _BILINGUAL.match(text)
        if match is None:
            return text
        return cls(zh=match["zh"], en=match["en"], unit=match["unit"])


_BILINGUAL = re.compile(r"^(?P<zh>[^\x00-\x7f]+?)\s+(?P<en>[\x21-\x7e][\x20-\x7e]*?)(?:\s+\((?P<unit>[^()]+)\))?$")


class IndicatorStyle(_Strict):
    """How one indicator layer is coloured."""

    colour_by: Literal["auto", "status", "value"] = Field(
        "auto", description="auto: by status where a zone has a target, else by value"
    )
    classes: list[float] | None = Field(
        None, min_length=1, description="class breaks in the data unit (shares as fractions 0..1)"
    )
    colours: list[Colour] | None = Field(None, min_length=2, description="value ramp, light to dark")


class IndicatorLayers(_Strict):
    """The indicator layers: zones (counties, parks) coloured against the target."""

    include: Literal["all"] | list[str] = "all"
    exclude: list[str] = Field(default_factory=list)
    start: str | None = Field(None, description="the one indicator shown when the page opens; default the first")
    by_prefecture: bool = Field(
        True, description="with a prefecture level: the indicators open on their prefectures (false: on their counties, "
        "the prefectures a tick away)"
    )
    fill_opacity: float = Field(0.6, ge=0, le=1)
    outline: Colour = "#404040"
    styles: dict[str, IndicatorStyle] = Field(default_factory=dict, description="by indicator id")


class StatusCheck(_Strict):
    """A facility's status against one indicator, from that indicator's ``<id>.gaps`` layer (joined by id)."""

    indicator: str
    applies: Condition | None = Field(None, description="the facilities the indicator judges; default all")
    gap: Title | None = Field(None, description="label of a facility listed in the gaps layer")
    ok: Title | None = Field(None, description="label of a judged facility not listed there")


class FacilityLayer(_Strict):
    """A layer of the project's catalog drawn as clustered markers (points) or lines."""

    title: Title | None = Field(None, description="default: the catalog title")
    colour: Colour = "#3182bd"
    gap_colour: Colour | None = Field(None, description="markers with a gap status; default the 'gap' colour")
    radius: float = Field(5.0, gt=0, le=30, description="marker radius in screen pixels")
    weight: float = Field(1.5, gt=0, le=10, description="line width in pixels (line layers)")
    cluster: bool = True
    show: bool = False
    fields: list[str] | None = Field(None, description="fields in the popup; default all")
    status: list[StatusCheck] = Field(default_factory=list)
    optional: bool = Field(False, description="context only: skipped with a note when the catalog lacks the layer (else an error)")


class WidthBy(_Strict):
    """Line widths of a context layer by the value of one field (roads by ``class``)."""

    field: str
    weights: dict[str, float] = Field(description="line width in pixels by value; 0 leaves those features off the page")
    others: float | None = Field(None, ge=0, le=10, description="width of values not listed; default the layer's weight, 0: left off")

    @field_validator("weights")
    @classmethod
    def _widths(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in value.items() if not 0 <= w <= 10]
        if bad:
            msg = f"a width must be 0..10 pixels (0: left off the page); '{bad[0]}' has {value[bad[0]]}"
            raise ValueError(msg)
        return value

    def width(self, value: object, default: float) -> float:
        """The width of features whose field holds ``value``."""
        text = str(value)
        if text in self.weights:
            return self.weights[text]
        return default if self.others is None else self.others


class ContextLayer(_Strict):
    """A catalog layer drawn beneath everything else as plain context (built-up areas, roads, rivers): lines, or
    polygons lightly filled, in one colour, a tooltip with a name at most, no popup."""

    layer: str = Field(description="catalog layer name")
    title: Title | None = Field(None, description="default: the catalog title")
    colour: Colour = "#9e9e9e"
    weight: float = Field(1.0, gt=0, le=10, description="line width in pixels")
    opacity: float = Field(0.8, ge=0, le=1)
    fill_opacity: float | None = Field(None, ge=0, le=1, description="polygons (built-up areas): default a quarter of opacity")
    width_by: WidthBy | None = Field(None, description="widths by the value of a field (roads by class)")
    label_field: str | None = Field(None, description="a field shown as the tooltip (river names)")
    show: bool = True
    optional: bool = Field(False, description="skipped with a note when the catalog lacks the layer (else an error)")


CONTEXT_WIDTHS: dict[tuple[str, str], dict[str, float]] = {
    ("roads", "class"): {"expressway": 3.0, "arterial": 2.0, "street": 0.7},
    ("roads", "highway"): {
        "motorway": 3.0, "trunk": 3.0, "motorway_link": 1.5, "trunk_link": 1.5, "primary": 2.0, "secondary": 1.6,
        "tertiary": 1.2, "primary_link": 1.2, "secondary_link": 1.0, "residential": 0.7, "unclassified": 0.7,
        "living_street": 0.7,
    },
    ("waterways", "waterway"): {"river": 2.0, "canal": 1.5, "stream": 0.8},
}
"""Widths of the derived map spec's context layers, by catalog layer and field (sample and OSM); other OSM
highway values (service, track, footway, path ...) are left off the page."""

CONTEXT_COLOURS = {"roads": "#8c8c8c", "rivers": "#4a90d9", "waterways": "#4a90d9"}
"""The colour of each catalog layer the derived map spec draws as context (water beneath roads) when the catalog has it."""
BUILTUP_CONTEXT = {"colour": "#a08c6e", "weight": 0.8, "opacity": 0.7, "fill_opacity": 0.18}
"""How the derived map spec draws the catalog's built-up zone layer beneath everything: a light fill and outline."""



class CoverageLayer(_Strict):
    """The area within an indicator's ``distance_m`` of its covering layer (network, stations)."""

    indicator: str
    title: Title | None = None
    colour: Colour = "#fdae61"
    fill_opacity: float = Field(0.25, ge=0, le=1)
    features: bool = Field(False, description="draw the covering features (network lines) too")
    show: bool = Field(True, description="shown with its indicator when that is chosen (false: off until ticked)")


class RunLayerSelection(_Strict):
    """Which indicators' layers of one kind the map draws, and which of them are on at the start."""

    include: Literal["all"] | list[str] = Field("all", description="indicator ids")
    exclude: list[str] = Field(default_factory=list)
    show: Literal["start", "all", "none"] = Field(
        "start",
        description="start or all: shown with their indicator (the one chosen in the layer panel); none: listed, off until ticked",
    )

    def shown(self, indicator: str, start: str | None) -> bool:
        """Whether the layer of ``indicator`` is on when the map opens (only the start indicator's can be)."""
        return self.show != "none" and indicator == start

    @property
    def follows(self) -> bool:
        """Whether the layers of this kind are on while their indicator is chosen (else off until ticked)."""
        return self.show != "none"


class GapLayers(RunLayerSelection):
    """The ``<id>.gaps`` layers of the run: uncovered areas, blank areas, facilities short of target."""

    colour: Colour = "#e31a1c"
    fill_opacity: float = Field(0.35, ge=0, le=1)
    radius: float = Field(7.0, gt=0, le=30)


class ProposalLayers(RunLayerSelection):
    """The ``<id>.proposals`` layers of the run: proposed sites, lots, boilers, blocks and sewer lines."""

    colour: Colour = "#6a3d9a"
    fill_opacity: float = Field(0.45, ge=0, le=1)
    radius: float = Field(6.0, gt=0, le=30)
    weight: float = Field(3.0, gt=0, le=10, description="line width in pixels (sewer extensions)")


class MapSpec(_Strict):
    """A whole map spec (``maps/plan.yaml``)."""

    title: Title | None = Field(None, description="default: the project's name")
    basemap: Basemap = "none"
    simplify_m: float = Field(20.0, ge=0, description="polygon simplification tolerance in metres")
    decimals: int = Field(5, ge=4, le=8, description="decimals of the lon/lat coordinates (5: about 1 m)")
    collapsed_layer_control: bool = Field(False, description="the layer panel folded into a button when the page opens")
    zone_labels: bool = Field(True, description="county names on the map")
    county_outlines: bool = Field(True, description="county outlines (no fill) above the indicator zones")
    county_outline_colour: Colour = "#303030"
    themes: dict[str, Title] = Field(
        default_factory=dict,
        description="heading of a theme in the layer panel, where the map should not use the catalog's project.theme_names",
    )
    synthetic_notice: Title = Title(zh="示例数据为合成数据", en="SYNTHETIC sample data — not real facility data")
    status: StatusStyles = StatusStyles()
    value_colours: list[Colour] = Field(
        default_factory=lambda: ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"], min_length=2
    )
    field_labels: dict[str, FieldLabel | str] = Field(
        default_factory=dict,
        description="popup label of a field name: {zh, en, unit}, or a text ('编号 id' is read as zh and en)",
    )
    indicators: IndicatorLayers = IndicatorLayers()
    gaps: GapLayers = GapLayers()
    proposals: ProposalLayers = ProposalLayers()
    coverage: list[CoverageLayer] = Field(default_factory=list)
    facilities: dict[str, FacilityLayer] = Field(default_factory=dict, description="by catalog layer name")
    context: list[ContextLayer] = Field(
        default_factory=list, description="catalog layers drawn beneath everything else (built-up areas, roads, rivers), in this order"
    )

    _source: Path | None = PrivateAttr(None)

    @field_validator("field_labels", mode="before")
    @classmethod
    def _split_labels(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {k: FieldLabel.parse(v) if isinstance(v, str) else v for k, v in value.items()}

    @property
    def source(self) -> str:
        """The file the spec came from, for error messages."""
        return str(self._source) if self._source else "map spec"


def read_map_spec(path: Path) -> MapSpec:
    """Load and validate a map spec; errors name the file, line and key."""
    data, node = load_yaml(path)
    spec = validate(MapSpec, {} if data is None else data, path, node)
    spec._source = path
    return spec


def find_map_spec(project_root: Path | None) -> Path | None:
    """``maps/plan.yaml`` of the project, else None (a project without one gets a map derived from its specs)."""
    if project_root is not None and (project_root / "maps" / "plan.yaml").is_file():
        return project_root / "maps" / "plan.yaml"
    return None


# --- a map spec against its project --------------------------------------------------------------

COVERING_ROLE = {"within": "coverage", "coverage": "facilities"}
"""Per method: the input an indicator's ``distance_m`` is measured from (its coverage area on the map)."""

FACILITY_ROLES = ("features", "facilities")
"""Inputs whose point or line features the map draws as facilities."""

STATUS_METHODS = ("ratio", "within")
"""Methods whose ``<id>.gaps`` layer lists features of their ``features`` input by id (a status on each facility)."""

FACILITY_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#2166ac", "#8c510a", "#636363")
COVERAGE_COLOURS = ("#f46d43", "#66c2a5", "#74add1", "#fdae61", "#abdda4")

GENERIC_KEYS = ("status", "value_colours", "field_labels")
"""Keys of the reference project's map spec that hold for any city (labels of the canonical fields, colours)."""


@dataclass(frozen=True)
class ProjectMap:
    """The map spec a project's outputs use, checked against its specs and catalog, and what was left out and why."""

    spec: MapSpec
    notes: tuple[str, ...] = ()
    derived: bool = False


def _in_layers(value: object) -> set[str]:
    """The ``in_layer`` layers named anywhere in a spec's parameters (its conditions)."""
    if isinstance(value, dict):
        found = {str(value["in_layer"])} if isinstance(value.get("in_layer"), str) else set()
        return found.union(*(_in_layers(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_in_layers(v) for v in value))
    return set()


def spec_layer_names(spec: Spec) -> set[str]:
    """Every layer a spec reads: its inputs, its conditions' ``in_layer`` layers, its target's baseline layer
    (as :func:`gis.methods.registry.spec_layers`, which ``gis.project`` cannot import)."""
    names = set(spec.inputs.values()) | _in_layers(spec.parameters)
    if spec.target is not None and spec.target.baseline_layer:
        names.add(spec.target.baseline_layer)
    return names


def assessed(config: ProjectConfig, spec: Spec) -> bool:
    """Whether the catalog has every layer ``spec`` reads (else the run marks the indicator ``not_assessed``)."""
    return spec_layer_names(spec) <= set(config.catalog.layers)


def project_title(settings: ProjectSettings) -> Title:
    """The project's name in Chinese and English, from its catalog."""
    return Title(zh=settings.name_zh or settings.name, en=settings.name)


def _generic_defaults() -> dict[str, Any]:
    """The generic keys of the reference project's map spec (``{}`` when it is not there)."""
    path = reference_root() / "maps" / "plan.yaml"
    if not path.is_file():
        return {}
    data = load_yaml(path)[0] or {}
    return {key: data[key] for key in GENERIC_KEYS if key in data}


def derive_map_spec(config: ProjectConfig) -> MapSpec:
    """A map spec for a project without its own: every indicator that runs, coloured by status where it has a
    target (else by value); the coverage areas of ``within`` and ``coverage`` indicators with a distance; the
    point and line layers the specs read that the catalog has as facilities (those of indicators not assessed
    too: a planner's imported stations show), each marked with the status of the indicators that judge it."""
    layers = config.catalog.layers
    running = [s for s in config.specs if assessed(config, s)]
    coverage: list[CoverageLayer] = []
    covered: set[tuple[str, object]] = set()
    facilities: dict[str, dict[str, Any]] = {}
    for spec in config.specs:  # facilities of every spec whose layer the catalog has; coverage and status of those that run
        runs = spec in running
        role = COVERING_ROLE.get(spec.method)
        layer = spec.inputs.get(role or "")
        entry = layers.get(layer or "")
        distance = spec.parameters.get("distance_m")
        if runs and layer and entry and distance is not None and entry.geometry in ("Point", "LineString") and (layer, distance) not in covered:
            covered.add((layer, distance))
            colour = COVERAGE_COLOURS[len(coverage) % len(COVERAGE_COLOURS)]
            coverage.append(CoverageLayer(indicator=spec.id, colour=colour, features=entry.geometry == "LineString"))
        for role in FACILITY_ROLES:
            layer = spec.inputs.get(role)
            entry = layers.get(layer or "")
            if layer is None or entry is None or entry.kind != "vector" or entry.geometry not in ("Point", "LineString"):
                continue
            facility = facilities.setdefault(layer, {
                "colour": FACILITY_COLOURS[len(facilities) % len(FACILITY_COLOURS)],
                "cluster": entry.geometry == "Point", "status": [],
            })
            if runs and role == "features" and spec.method in STATUS_METHODS and entry.geometry == "Point":
                where = spec.parameters.get("where")
                facility["status"].append(StatusCheck(indicator=spec.id, applies=Condition.model_validate(where) if where else None))
    skipped = sorted(s.id for s in config.specs if not assessed(config, s))
    return MapSpec.model_validate({
        **_generic_defaults(),
        "title": project_title(config.catalog.project),
        "indicators": IndicatorLayers(exclude=skipped),
        "coverage": coverage,
        "facilities": {name: FacilityLayer(**values) for name, values in facilities.items()},
        "context": derive_context(config),
    })


def derive_context(config: ProjectConfig) -> list[ContextLayer]:
    """Context layers for the catalog's built-up zone layer and its ``rivers``, ``waterways`` and ``roads`` (vector
    layers), each ``optional``: built-up areas lightly filled, water in blue with its names as tooltips, roads in
    grey, wider by class (``class`` of the sample, OSM ``highway``)."""
    context = []
    builtup = config.catalog.zones.get("builtup")
    entry = config.catalog.layers.get(builtup.layer) if builtup is not None else None
    if builtup is not None and entry is not None and entry.kind == "vector":
        context.append(ContextLayer.model_validate({"layer": builtup.layer, **BUILTUP_CONTEXT, "optional": True}))
    for name in ("rivers", "waterways", "roads"):
        entry = config.catalog.layers.get(name)
        if entry is None or entry.kind != "vector" or entry.geometry == "Point":
            continue
        fields = set(entry.fields)
        width_by = next(
            (WidthBy(field=field, weights=weights, others=0.0 if field == "highway" else None)
             for (layer, field), weights in CONTEXT_WIDTHS.items() if layer == name and field in fields),
            None,
        )
        label_field = "name" if name != "roads" and "name" in fields else None
        weight = 1.5 if name != "roads" else 1.0
        context.append(ContextLayer(layer=name, colour=CONTEXT_COLOURS[name], weight=weight, width_by=width_by,
                                    label_field=label_field, optional=True))
    return context


def resolve_map_spec(config: ProjectConfig, spec: MapSpec) -> ProjectMap:
    """Check every indicator id and layer name ``spec`` gives against the project's specs and catalog.

    An id no spec has, a coverage entry of an indicator without a distance, or a facility or context layer the
    catalog lacks (unless ``optional``) is a :class:`gis.ConfigError` naming the file, line and key; what belongs to an indicator
    that is not assessed (its input layers are not in the catalog), or an optional layer the catalog lacks, is left
    out with a note.
    """
    path = spec._source or config.root / "maps" / "plan.yaml"
    specs = {s.id: s for s in config.specs}
    skipped = {s.id for s in config.specs if not assessed(config, s)}
    notes: list[str] = []

    def known(key: tuple[Any, ...], indicator: str) -> bool:
        """Refuse an id without a spec; whether the indicator runs."""
        if indicator not in specs:
            has = ", ".join(sorted(specs))
            text = f"no indicator '{indicator}' in {config.root / 'analyses'} (the project has: {has}); fix or remove it"
            raise key_error(path, key, text)
        return indicator not in skipped

    chosen = spec.indicators
    for section in ("indicators", "gaps", "proposals"):
        selection = getattr(spec, section)
        for number, indicator in enumerate([] if selection.include == "all" else selection.include):
            known((section, "include", number), indicator)
        for number, indicator in enumerate(selection.exclude):
            known((section, "exclude", number), indicator)
    for indicator in chosen.styles:
        known(("indicators", "styles", indicator), indicator)
    start = chosen.start
    if start is not None and not known(("indicators", "start"), start):
        notes.append(f"{path}: indicators.start '{start}' is not assessed (an input layer is not in the catalog); the map opens on the first indicator")
        start = None
    quiet = sorted(skipped - set(chosen.exclude))
    indicators = chosen.model_copy(update={"start": start, "exclude": [*chosen.exclude, *quiet]})
    gaps = spec.gaps.model_copy(update={"exclude": [*spec.gaps.exclude, *sorted(skipped - set(spec.gaps.exclude))]})
    proposals = spec.proposals.model_copy(update={"exclude": [*spec.proposals.exclude, *sorted(skipped - set(spec.proposals.exclude))]})
    if quiet:
        notes.append(f"{path}: not assessed, left off the map: {', '.join(quiet)}")

    coverage = []
    for number, entry in enumerate(spec.coverage):
        key = ("coverage", number, "indicator")
        runs = known(key, entry.indicator)
        measured = specs[entry.indicator]
        if measured.method not in COVERING_ROLE or "distance_m" not in measured.parameters:
            text = (f"'{entry.indicator}' (method {measured.method}) has no coverage area; use an indicator of method "
                    "within or coverage with parameters.distance_m")
            raise key_error(path, key, text)
        if runs:
            coverage.append(entry)
        else:
            notes.append(f"{path}: coverage.{number} of '{entry.indicator}' left out: the indicator is not assessed")

    facilities = {}
    catalog, vectors = config.catalog.layers, [n for n, e in config.catalog.layers.items() if e.kind == "vector"]
    for layer, facility in spec.facilities.items():
        if layer not in catalog:
            if facility.optional:
                notes.append(f"{path}: facilities.{layer} left out: no layer '{layer}' in {config.catalog_path}")
                continue
            text = (f"no layer '{layer}' in {config.catalog_path} (vector layers: {', '.join(vectors)}); add it there, remove it "
                    "here, or set 'optional: true' to draw it only when the catalog has it")
            raise key_error(path, ("facilities", layer), text)
        layer_entry = catalog[layer]
        if layer_entry.kind != "vector":
            text = f"layer '{layer}' is a {layer_entry.kind}, not a vector layer (vector layers: {', '.join(vectors)})"
            raise key_error(path, ("facilities", layer), text)
        fields = set(layer_entry.fields) | {"id"}
        for number, field in enumerate(facility.fields or []):
            if layer_entry.fields and field not in fields:
                text = f"layer '{layer}' has no field '{field}' in the catalog (fields: {', '.join(sorted(fields))})"
                raise key_error(path, ("facilities", layer, "fields", number), text)
        status = []
        for number, check in enumerate(facility.status):
            if known(("facilities", layer, "status", number, "indicator"), check.indicator):
                status.append(check)
            else:
                notes.append(f"{path}: facilities.{layer}.status.{number} left out: '{check.indicator}' is not assessed")
        facilities[layer] = facility.model_copy(update={"status": status})

    context = _resolve_context(config, spec, path, notes)
    resolved = spec.model_copy(update={
        "indicators": indicators, "gaps": gaps, "proposals": proposals, "coverage": coverage, "facilities": facilities,
        "context": context,
    })
    resolved._source = spec._source
    return ProjectMap(resolved, tuple(notes))


def _resolve_context(config: ProjectConfig, spec: MapSpec, path: Path, notes: list[str]) -> list[ContextLayer]:
    """The context layers of ``spec`` the catalog has; a required one it lacks, a layer that is not a vector layer,
    or a field it does not list is a :class:`gis.ConfigError` naming file, line and key (an optional one it lacks: a note)."""
    catalog, vectors = config.catalog.layers, [n for n, e in config.catalog.layers.items() if e.kind == "vector"]
    context = []
    for number, entry in enumerate(spec.context):
        layer = entry.layer
        if layer not in catalog:
            if entry.optional:
                notes.append(f"{path}: context.{number} ({layer}) left out: no layer '{layer}' in {config.catalog_path}")
                continue
            text = (f"no layer '{layer}' in {config.catalog_path} (vector layers: {', '.join(vectors)}); add it there, remove it "
                    "here, or set 'optional: true' to draw it only when the catalog has it")
            raise key_error(path, ("context", number, "layer"), text)
        layer_entry = catalog[layer]
        if layer_entry.kind != "vector":
            text = f"layer '{layer}' is a {layer_entry.kind}, not a vector layer (vector layers: {', '.join(vectors)})"
            raise key_error(path, ("context", number, "layer"), text)
        fields = set(layer_entry.fields) | {"id"}
        named: list[tuple[tuple[str, ...], str]] = [(("width_by", "field"), entry.width_by.field)] if entry.width_by else []
        named += [(("label_field",), entry.label_field)] if entry.label_field else []
        for key, field in named:
            if layer_entry.fields and field not in fields:
                text = f"layer '{layer}' has no field '{field}' in the catalog (fields: {', '.join(sorted(fields))})"
                raise key_error(path, ("context", number, *key), text)
        context.append(entry)
    return context


DERIVED_PARTS = ("coverage", "facilities", "context")
"""The parts of a map spec that, when its file leaves them out, are derived at each run from the specs and the catalog."""


def with_derived_parts(config: ProjectConfig, spec: MapSpec) -> MapSpec:
    """``spec`` with the :data:`DERIVED_PARTS` its file does not give derived from the project as it is now
    (so a layer imported after ``gis init`` appears on the map without editing the spec)."""
    missing = [key for key in DERIVED_PARTS if key not in spec.model_fields_set]
    if not missing:
        return spec
    derived = derive_map_spec(config)
    return spec.model_copy(update={key: getattr(derived, key) for key in missing})


def project_map_spec(config: ProjectConfig, path: Path | None = None) -> ProjectMap:
    """The map spec ``path`` (else the project's ``maps/plan.yaml``) checked against the project; without
    either, the map derived from the project's specs."""
    path = path or find_map_spec(config.root)
    if path is None:
        note = f"{config.root / 'maps' / 'plan.yaml'}: none; the map is derived from the indicator specs"
        return ProjectMap(derive_map_spec(config), (note,), derived=True)
    return resolve_map_spec(config, with_derived_parts(config, read_map_spec(path)))


def validate_map_specs(config: ProjectConfig) -> tuple[str, ...]:
    """Check every ``maps/*.yaml`` of the project against its specs and catalog (the first problem is raised);
    return the notes on what the map will leave out."""
    paths = sorted((config.root / "maps").glob("*.yaml"))
    notes: list[str] = []
    for path in paths:
        notes += resolve_map_spec(config, with_derived_parts(config, read_map_spec(path))).notes
    if find_map_spec(config.root) is None:
        notes += project_map_spec(config).notes
    return tuple(notes)
