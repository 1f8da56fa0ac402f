"""Map specs (``maps/*.yaml``): which layers the web map shows and how it colours them.

Everything a planner may want to change without code lives here: the colour of each
status, the value classes, which indicator is shown first, the facility layers with their
colours, radius and status checks, the coverage and gap layers, and the basemap.
Every key has a default, so an empty file is a valid spec.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator

from gis.project._yaml import load_yaml, validate
from gis.project.specs import Condition, Title

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


class CoverageLayer(_Strict):
    """The area within an indicator's ``distance_m`` of its covering layer (network, stations)."""

    indicator: str
    title: Title | None = None
    colour: Colour = "#fdae61"
    fill_opacity: float = Field(0.25, ge=0, le=1)
    features: bool = Field(False, description="draw the covering features (network lines) too")
    show: bool = False


class RunLayerSelection(_Strict):
    """Which indicators' layers of one kind the map draws, and which of them are on at the start."""

    include: Literal["all"] | list[str] = Field("all", description="indicator ids")
    exclude: list[str] = Field(default_factory=list)
    show: Literal["start", "all", "none"] = Field("start", description="start: only the layer of the start indicator")

    def shown(self, indicator: str, start: str | None) -> bool:
        """Whether the layer of ``indicator`` is on when the map opens."""
        return self.show == "all" or (self.show == "start" and indicator == start)


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
    collapsed_layer_control: bool = True
    zone_labels: bool = Field(True, description="county names on the map")
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
    """``maps/plan.yaml`` of the project, else of the reference project, else None."""
    from gis.project.config import reference_root

    for root in (project_root, reference_root()):
        if root is not None and (root / "maps" / "plan.yaml").is_file():
            return root / "maps" / "plan.yaml"
    return None
