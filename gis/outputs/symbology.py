"""The colours and classes of every output, read from the project's map spec (``maps/plan.yaml``).

The web map, the report's inline maps and charts, the workbook's status cells and the QGIS
styles of the GeoPackage all colour a status, a value class, a gap or a proposal through
this module, so a colour changes in one place: the map spec (or, for the few colours it
does not hold, the constants below).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gis.errors import ConfigError, UsageError
from gis.outputs.i18n import Lang
from gis.outputs.text import class_labels
from gis.project.config import ProjectConfig, read_project
from gis.project.mapspec import IndicatorStyle, MapSpec, project_map_spec, read_map_spec

log = logging.getLogger("gis")

STATUSES = ("met", "gap", "no_data", "no_target", "not_assessed")
"""The statuses a zone can have against its target, in the order every output lists them."""

TRAJECTORY_BASELINE = "#616161"
TRAJECTORY_ON_TRACK = "#7cb342"  # ahead of the straight path: a lighter green than 'met'
STATIC_GAP_FEATURE_COLOUR = "#ff8f00"
"""Gap features on the report's small static maps: they lie on zones filled in the gap colour,
so they are drawn in a colour apart from it (the web map outlines them in ``gaps.colour``)."""
CONTEXT_COLOUR = "#757575"
"""County outlines beneath zones that are not counties (parks, built-up areas)."""


# --- the map spec of a project ------------------------------------------------------------------


def load_map_spec(root: Path | None, path: Path | None = None) -> MapSpec:
    """The map spec of the project folder ``root``: ``path``, else its ``maps/plan.yaml``, checked against its
    specs and catalog (see :func:`gis.project.mapspec.project_map_spec`), else derived from its specs.

    Without a readable project (its folder gone since the run): ``path`` as written, else the defaults.
    """
    config = project_at(root)
    if config is not None:
        return project_map_spec(config, path).spec
    return read_map_spec(path) if path is not None else MapSpec()


def project_at(root: Path | None) -> ProjectConfig | None:
    """The project in ``root``, if there is a readable one."""
    if root is None or not (root / "layers" / "catalog.yaml").is_file():
        return None
    try:
        return read_project(root)
    except (ConfigError, UsageError) as exc:
        log.warning("map spec: project %s cannot be read (%s); its map spec is not checked against it", root, exc)
        return None


def run_map_spec(record: Mapping[str, Any], root: Path | None = None) -> MapSpec:
    """The map spec of the project a run record names; ``root`` (the project's folder, when the
    caller has read the project) comes before the folder in the record."""
    if root is None:
        named = (record.get("project") or {}).get("root")
        root = Path(str(named)) if named else None
    return load_map_spec(root)


# --- status colours --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Palette:
    """The colours of one map spec that the static outputs (report, workbook) draw with."""

    status: dict[str, str]  # by status, as in the spec's ``status``
    proposals: str  # the spec's ``proposals.colour``
    trajectory: dict[str, str]  # by trajectory verdict: the status colours, a lighter green ahead of the path
    gap_features: str = STATIC_GAP_FEATURE_COLOUR
    context: str = CONTEXT_COLOUR

    @classmethod
    def from_spec(cls, spec: MapSpec) -> Palette:
        status = status_colours(spec)
        trajectory = {
            "baseline": TRAJECTORY_BASELINE,
            "met": status["met"],
            "on_track": TRAJECTORY_ON_TRACK,
            "behind": status["gap"],
            "no_target": status["no_target"],
            "no_data": status["no_data"],
            "no_path": status["no_data"],
        }
        return cls(status=status, proposals=spec.proposals.colour, trajectory=trajectory)

    def of(self, status: object) -> str:
        """The colour of ``status`` (an unknown status looks like ``no_data``)."""
        return self.status.get(str(status), self.status["no_data"])

    def of_trajectory(self, verdict: object) -> str:
        """The colour of a trajectory verdict (baseline grey for an unknown one)."""
        return self.trajectory.get(str(verdict), TRAJECTORY_BASELINE)


def status_colours(spec: MapSpec) -> dict[str, str]:
    """Status to its colour (``#rrggbb``), every status of :data:`STATUSES`."""
    return {s: spec.status.of(s).colour for s in STATUSES}


def status_labels(spec: MapSpec, lang: Lang = "both") -> dict[str, str]:
    """Status to the spec's label of it: '达标', 'met' or '达标 met'."""
    styles = {s: spec.status.of(s) for s in STATUSES}
    if lang == "zh":
        return {s: style.zh for s, style in styles.items()}
    if lang == "en":
        return {s: style.en for s, style in styles.items()}
    return {s: f"{style.zh} {style.en}" for s, style in styles.items()}


DEFAULT_PALETTE = Palette.from_spec(MapSpec())
"""The colours of a map spec with every key at its default."""


# --- zone classes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneClasses:
    """How an indicator's zones are coloured: by status, or by value classes (web map and QGIS styles)."""

    by_value: bool
    status_colours: dict[str, str]
    breaks: list[float]
    colours: list[str]
    no_data: str

    def fill(self, status: str, value: float) -> str:
        """The fill colour of one zone."""
        if not self.by_value:
            return self.status_colours.get(status, self.no_data)
        if pd.isna(value):
            return self.no_data
        return self.colours[int(np.searchsorted(self.breaks, value, side="right"))]

    def labels(self, unit: object, lang: Lang = "both") -> list[str]:
        """The label of each value class ('< 25 %', '25 – 30 %', '≥ 50 %'), plain text; ``unit`` plain or in both languages."""
        return class_labels(self.breaks, unit, lang)


def classify_zones(zones: pd.DataFrame, spec: MapSpec, indicator: str) -> ZoneClasses:
    """Status colours where the zones are judged against a target (or the spec says so), else value classes."""
    style = spec.indicators.styles.get(indicator, IndicatorStyle())
    colours = status_colours(spec)
    judged = zones["status"].isin(["met", "gap"]).any()
    if style.colour_by == "status" or (style.colour_by == "auto" and judged):
        return ZoneClasses(False, colours, [], [], spec.status.no_data.colour)
    values = pd.to_numeric(zones["value"], errors="coerce")
    ramp_colours = style.colours or spec.value_colours
    unit = str(zones["unit"].iloc[0]) if len(zones) else ""
    breaks = _value_classes(values, style, len(ramp_colours), unit == "share")
    return ZoneClasses(True, colours, breaks, ramp(ramp_colours, len(breaks) + 1), spec.status.no_data.colour)


def _value_classes(values: pd.Series, style: IndicatorStyle, count: int, share: bool) -> list[float]:
    """Class breaks: the spec's, else ``count`` equal intervals over the values, rounded."""
    if style.classes is not None:
        return sorted(style.classes)
    finite = values.dropna()
    if finite.empty or finite.max() <= finite.min():
        return []
    low, high = float(finite.min()), float(finite.max())
    raw = [low + (high - low) * i / count for i in range(1, count)]
    rounded = [round(b, 2) if share else float(f"{b:.2g}") for b in raw]
    return sorted(set(rounded))


def ramp(colours: list[str], count: int) -> list[str]:
    """``count`` colours evenly along the ramp ``colours`` (the ramp itself when it has that many).

    Linear in RGB between neighbouring colours, as branca's ``LinearColormap`` interpolates.
    """
    if len(colours) == count:
        return list(colours)
    if count == 1:
        return [colours[len(colours) // 2]]
    return [_along(colours, i / (count - 1)) for i in range(count)]


def _along(colours: list[str], x: float) -> str:
    rgb = [tuple(int(c.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)) for c in colours]
    index = [i / (len(rgb) - 1) for i in range(len(rgb))]
    if x <= index[0]:
        mixed = rgb[0]
    elif x >= index[-1]:
        mixed = rgb[-1]
    else:
        upper = len([u for u in index if u < x])
        p = (x - index[upper - 1]) / (index[upper] - index[upper - 1])
        mixed = tuple((1.0 - p) * rgb[upper - 1][j] + p * rgb[upper][j] for j in range(3))
    return "#{:02x}{:02x}{:02x}".format(*(int(u * 255.9999) for u in mixed))
