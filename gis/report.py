"""The printable gap report (``report.html``): summary, one section per indicator, provenance.

Everything is computed from a finished run (:class:`~gis.results.RunOutputs`); the
definitions and formulas come from the project's specs when the project can still be read.
Maps and charts are inline SVG drawn here, so the file needs no network, script or font.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from .errors import DataError, GisError, UsageError
from .project import Project, load_project
from .results import RunOutputs
from .specs import Spec

log = logging.getLogger("gis")

STATUSES = ("met", "gap", "no_data", "no_target")
STATUS_COLOURS = {"met": "#2e7d32", "gap": "#c62828", "no_data": "#9e9e9e", "no_target": "#1565c0"}
STATUS_LABELS = {
    "met": ("达标", "met"),
    "gap": ("未达标", "gap"),
    "no_data": ("无数据", "no data"),
    "no_target": ("无目标", "no target"),
}
GAP_FEATURE_COLOUR = "#ff8f00"
PROPOSAL_COLOUR = "#6a3d9a"
TOP_PROPOSAL_ITEMS = 8  # items shown per zone; all are in proposals.csv
CONTEXT_COLOUR = "#757575"
ZONE_TYPE_LABELS = {"city": ("市", "city"), "county": ("县(市、区)", "county"), "park": ("园区", "park")}
COMPARATOR_SIGNS = {">=": "≥", "<=": "≤", "==": "="}
# Gap features are ranked by the first of these fields they carry: (field, unit label).
SIZE_FIELDS = (
    ("shortfall", ""),
    ("uncovered_km2", "km2"),
    ("people", "people 人"),
    ("area_km2", "km2"),
    ("capacity_mw", "MW"),
    ("capacity_t_d", "t/d"),
    ("heated_area_m2", "m2"),
)
TOP_GAPS = 10
DEFAULT_METRIC_CRS = "EPSG:4546"
GEOGRAPHIC_CRS = "EPSG:4490"
_HIDDEN_GAP_FIELDS = {"indicator", "id", "name", "county_id", "base_id", "synthetic", "numerator", "denominator", "geometry"}
_MAP_SIZE = (380, 300)


# --- formatting -----------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def format_number(value: Any) -> str:
    """A number for people: thousands separators, few decimals, '—' when missing."""
    if _missing(value):
        return "—"
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 10:
        return f"{number:,.1f}"
    return f"{number:.3f}".rstrip("0").rstrip(".")


def format_value(value: Any, unit: str) -> str:
    """An indicator value: shares as percentages, amounts with their unit."""
    if _missing(value):
        return "—"
    if unit == "share":
        return f"{float(value) * 100:.1f}%"
    return f"{format_number(value)} {unit}"


def format_target(comparator: Any, target: Any, unit: str) -> str:
    """'≥ 40.0%' or '≤ 0 km2'; '—' when there is no target."""
    if _missing(target) or _missing(comparator):
        return "—"
    return f"{COMPARATOR_SIGNS.get(str(comparator), str(comparator))} {format_value(target, unit)}"


def describe_target(target: dict[str, Any] | None, unit: str) -> str:
    """The target in English words, from a spec's (or run.json's) target block."""
    if not target:
        return "No target in the plan: reported for information."
    sign = COMPARATOR_SIGNS.get(target.get("comparator", ""), target.get("comparator", ""))
    parts = []
    by_type = target.get("value_by_zone_type") or {}
    if by_type:
        parts.append(", ".join(f"{zone_type} {sign} {format_value(v, unit)}" for zone_type, v in by_type.items()))
    elif target.get("value") is not None:
        parts.append(f"{sign} {format_value(target['value'], unit)}")
    if target.get("increase") is not None:
        step = f"{target['increase'] * 100:+g} percentage points" if unit == "share" else f"{target['increase']:+g} {unit}"
        parts.append(f"{step} over the baseline ({target.get('baseline_layer') or 'baseline'})")
    joined = " or ".join(parts) + (", whichever is easier to reach" if len(parts) > 1 else "")
    zones = ", ".join(target.get("zone_types") or [])
    return f"{joined} for {zones or 'every zone'} by {target.get('year', 2025)}."


def _status_label(status: Any) -> str:
    zh, en = STATUS_LABELS.get(str(status), (str(status), str(status)))
    return f"{zh} {en}"


def _zone_type_label(zone_type: Any) -> str:
    zh, en = ZONE_TYPE_LABELS.get(str(zone_type), (str(zone_type), str(zone_type)))
    return f"{zh} {en}"


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


# --- summaries shared with the workbook -------------------------------------------------------


def status_counts(indicators: pd.DataFrame) -> dict[str, int]:
    """Rows per status, every status present (zero when absent)."""
    counts = indicators["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in STATUSES}


def indicator_summary(indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator (in table order): its city row, overall status and the zones with a gap.

    ``status`` is the city's status when there is a city row, else the worst zone status;
    ``gap_zones`` counts the zones below the city (counties, parks) with a gap and
    ``target_zones`` those with a target.
    """
    rows = []
    for indicator, group in indicators.groupby("indicator", sort=False):
        city = group[group["zone_type"] == "city"]
        head = city.iloc[0] if not city.empty else None
        below = group[group["zone_type"] != "city"]
        if head is not None:
            status = str(head["status"])
        else:
            present = set(group["status"])
            status = next((s for s in ("gap", "no_data", "met") if s in present), "no_target")
        gaps = below[below["status"] == "gap"]
        first = group.iloc[0]
        rows.append({
            "indicator": str(indicator),
            "title_zh": _text(first.get("title_zh")),
            "title_en": _text(first.get("title_en")),
            "clause": _text(first.get("clause")),
            "theme": _text(first.get("theme")),
            "unit": _text(first.get("unit")),
            "city_name": None if head is None else _text(head["zone_name"]),
            "value": None if head is None else head["value"],
            "comparator": None if head is None else head["comparator"],
            "target": None if head is None else head["target"],
            "status": status,
            "shortfall": None if head is None else head["shortfall"],
            "shortfall_unit": _text(group["shortfall_unit"].dropna().iloc[0]) if group["shortfall_unit"].notna().any() else "",
            "gap_zones": len(gaps),
            "target_zones": int((below["status"] != "no_target").sum()),
            "gap_zone_names": [(str(n), s) for n, s in zip(gaps["zone_name"], gaps["shortfall"], strict=True)],
            "reading": _text(first.get("reading")),
        })
    return pd.DataFrame(rows)


# --- gap features ------------------------------------------------------------------------------


def _size_field(gaps: pd.DataFrame) -> str | None:
    return next((name for name, _ in SIZE_FIELDS if name in gaps.columns and gaps[name].notna().any()), None)


def top_gap_features(
    gaps: gpd.GeoDataFrame,
    *,
    metric_crs: str = DEFAULT_METRIC_CRS,
    limit: int = TOP_GAPS,
    shortfall_factor: float = 1.0,
    zones: gpd.GeoDataFrame | None = None,
) -> tuple[pd.DataFrame, str | None]:
    """The largest gap features with the lon/lat (CGCS2000) of their point or centroid.

    Centroids are taken in ``metric_crs`` and then projected to EPSG:4490. Features are ranked
    by the first size field of :data:`SIZE_FIELDS` they carry (a feature's ``shortfall`` is in
    its numerator's unit and is multiplied by ``shortfall_factor``); polygons without one are
    ranked by their area in km2, anything else keeps its order. With ``zones`` (zone_name and
    polygons), the column ``zone_name`` names the zone holding each centroid. Returns the
    table and the name of the size field used (``None`` when unranked).
    """
    frame = gaps[gaps.geometry.notna() & ~gaps.geometry.is_empty].to_crs(metric_crs)
    size = _size_field(frame)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if size == "shortfall":
        table["shortfall"] = pd.to_numeric(table["shortfall"], errors="coerce") * shortfall_factor
    if size is None and frame.geom_type.str.contains("Polygon").any():
        size = "area_km2"
        table[size] = frame.geometry.area.to_numpy() / 1e6
    centroids = gpd.GeoSeries(frame.geometry.centroid, crs=metric_crs)
    if zones is not None and not zones.empty:
        points = gpd.GeoDataFrame(geometry=centroids.to_numpy(), crs=metric_crs)
        joined = gpd.sjoin(points, zones[["zone_name", zones.geometry.name]].to_crs(metric_crs), how="left", predicate="within")
        table["zone_name"] = joined[~joined.index.duplicated()]["zone_name"].reindex(points.index).to_numpy()
    centroids = centroids.to_crs(GEOGRAPHIC_CRS)
    table["lon"] = centroids.x.to_numpy()
    table["lat"] = centroids.y.to_numpy()
    if size is not None:
        table = table.assign(_size=pd.to_numeric(table[size], errors="coerce"))
        table = table.sort_values("_size", ascending=False, kind="stable", na_position="last").drop(columns="_size")
    return table.head(limit).reset_index(drop=True), size


# --- SVG --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _View:
    """Metres to pixels: x right, y down, a margin all round."""

    minx: float
    maxy: float
    scale: float
    pad: float

    @classmethod
    def fit(cls, bounds: tuple[float, float, float, float], width: int, height: int, pad: float = 6.0) -> _View:
        minx, miny, maxx, maxy = bounds
        span_x, span_y = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
        # centre the drawing in the box
        off_x = (width - 2 * pad - span_x * scale) / 2
        off_y = (height - 2 * pad - span_y * scale) / 2
        return cls(minx - off_x / scale, maxy + off_y / scale, scale, pad)

    def points(self, coords: np.ndarray) -> np.ndarray:
        px = (coords[:, 0] - self.minx) * self.scale + self.pad
        py = (self.maxy - coords[:, 1]) * self.scale + self.pad
        return np.round(np.column_stack([px, py]), 1)


def _path_data(geom: shapely.Geometry, view: _View) -> str:
    """SVG path data of the polygon rings of a geometry ('M x,y x,y ... Z' per ring)."""
    parts = []
    for polygon in shapely.get_parts(geom):
        if not isinstance(polygon, shapely.Polygon) or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            pts = view.points(shapely.get_coordinates(ring))
            keep = np.ones(len(pts), dtype=bool)
            keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)
            pts = pts[keep]
            if len(pts) < 3:
                continue
            parts.append("M" + " ".join(f"{x:g},{y:g}" for x, y in pts) + "Z")
    return "".join(parts)


def _line_data(geom: shapely.Geometry, view: _View) -> str:
    """SVG path data of the line parts of a geometry ('M x,y x,y ...' per part)."""
    parts = []
    for line in shapely.get_parts(geom):
        if not isinstance(line, shapely.LineString) or line.is_empty:
            continue
        pts = view.points(shapely.get_coordinates(line))
        parts.append("M" + " ".join(f"{x:g},{y:g}" for x, y in pts))
    return "".join(parts)


def _nice_length(metres: float) -> float:
    exponent = 10 ** math.floor(math.log10(max(metres, 1.0)))
    return max(step * exponent for step in (1, 2, 5) if step * exponent <= max(metres, 1.0))


def _scale_bar(view: _View, width: int, height: int) -> str:
    length = _nice_length(width / 4 / view.scale)
    pixels = length * view.scale
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    x, y = 8, height - 8
    return (
        f'<g class="scalebar"><path d="M{x},{y - 4} {x},{y} {x + pixels:.1f},{y} {x + pixels:.1f},{y - 4}" fill="none" stroke="#333" stroke-width="1.2"/>'
        f'<text x="{x + pixels + 4:.1f}" y="{y}" font-size="9">{label}</text></g>'
        f'<text x="{width - 12}" y="16" font-size="11" font-weight="bold" text-anchor="middle">N</text>'
        f'<path d="M{width - 12},20 {width - 16},30 {width - 12},27 {width - 8},30Z" fill="#333"/>'
    )


def map_svg(
    zones: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame | None = None,
    *,
    context: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    unit: str = "",
    width: int = _MAP_SIZE[0],
    height: int = _MAP_SIZE[1],
    feature_colour: str = GAP_FEATURE_COLOUR,
) -> Markup:
    """A small static map: zones filled by status, the city outlined in its status colour, gap features on top.

    Every frame must be in the same metric CRS; ``context`` (county outlines) is drawn dashed
    beneath when the zones are not counties themselves. Geometries are simplified to under a pixel.
    The features on top (``gaps``: polygons, lines or points) are drawn in ``feature_colour``.
    """
    shapes = zones[zones.geometry.notna() & ~zones.geometry.is_empty]
    gap_shapes = None if gaps is None else gaps[gaps.geometry.notna() & ~gaps.geometry.is_empty]
    frames = [f for f in (shapes, gap_shapes) if f is not None and not f.empty]
    if not frames:
        return Markup('<p class="muted">No geometry to map. 无图形。</p>')
    bounds = np.array([f.total_bounds for f in frames])
    view = _View.fit((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()), width, height)
    tolerance = 0.75 / view.scale
    out = [
        f'<svg class="map" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="map of zones by status">',
        f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>',
    ]
    city = shapes[shapes["zone_type"] == "city"]
    others = shapes[shapes["zone_type"] != "city"]
    if context is not None and not context.empty and not (others["zone_type"] == "county").any():
        data = "".join(_path_data(g, view) for g in context.geometry.simplify(tolerance))
        out.append(f'<path d="{data}" fill="none" stroke="{CONTEXT_COLOUR}" stroke-width="0.6" stroke-dasharray="2 2"/>')
    # the city's fill shows only where its zones leave ground uncovered (parks, built-up areas)
    covered = float(others.area.sum()) >= 0.95 * float(city.area.sum()) if not city.empty else True
    for layer, opacity in (((city, 0.15),) if not covered else ()) + ((others, 0.6),):
        for row, geom in zip(layer.itertuples(index=False), layer.geometry.simplify(tolerance), strict=True):
            colour = STATUS_COLOURS.get(str(row.status), "#9e9e9e")
            tip = f"{row.zone_name}: {format_value(row.value, unit)} ({_status_label(row.status)})"
            out.append(
                f'<path d="{_path_data(geom, view)}" fill="{colour}" fill-opacity="{opacity}" fill-rule="evenodd" '
                f'stroke="#fff" stroke-width="0.8"><title>{escape(tip)}</title></path>'
            )
    for row, geom in zip(city.itertuples(index=False), city.geometry.simplify(tolerance), strict=True):
        colour = STATUS_COLOURS.get(str(row.status), "#9e9e9e")
        out.append(f'<path d="{_path_data(geom, view)}" fill="none" stroke="{colour}" stroke-width="2"/>')
    if gap_shapes is not None and not gap_shapes.empty:
        polygons = gap_shapes[gap_shapes.geom_type.str.contains("Polygon")]
        lines = gap_shapes[gap_shapes.geom_type.str.contains("LineString")]
        points = gap_shapes[gap_shapes.geom_type.str.contains("Point")]
        if not polygons.empty:
            data = "".join(_path_data(g, view) for g in polygons.geometry.simplify(tolerance))
            out.append(f'<path d="{data}" fill="{feature_colour}" fill-opacity="0.7" fill-rule="evenodd" stroke="#4e342e" stroke-width="0.6"/>')
        if not lines.empty:
            data = "".join(_line_data(g, view) for g in lines.geometry.simplify(tolerance))
            out.append(f'<path d="{data}" fill="none" stroke="{feature_colour}" stroke-width="2" stroke-linecap="round"/>')
        # polygons and lines a few pixels wide would vanish: mark them as points as well
        for shapes_ in (polygons, lines):
            if not shapes_.empty:
                bounds = shapes_.geometry.bounds
                tiny = ((bounds["maxx"] - bounds["minx"]).clip(lower=bounds["maxy"] - bounds["miny"]) * view.scale) < 4
                points = pd.concat([points, shapes_[tiny.to_numpy()]])
        if not points.empty:
            xy = view.points(shapely.get_coordinates(points.geometry.centroid.values))
            out.append(f'<g fill="{feature_colour}" stroke="#4e342e" stroke-width="0.8">')
            out.extend(f'<circle cx="{x:g}" cy="{y:g}" r="3"/>' for x, y in xy)
            out.append("</g>")
    out.append(_scale_bar(view, width, height))
    out.append("</svg>")
    return Markup("".join(out))


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``raw``."""
    exponent = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * exponent for m in (1, 2, 2.5, 5, 10) if m * exponent >= raw - 1e-12)


def _text_width(text: str, size: float) -> float:
    """Rough width in pixels: CJK and other wide characters a full em, the rest about half."""
    return sum(size if ord(c) > 0x2E7F else size * 0.56 for c in text)


def _shorten(name: str, pixels: float, size: float = 10) -> str:
    """The name, cut with an ellipsis to fit ``pixels``."""
    if _text_width(name, size) <= pixels:
        return name
    while name and _text_width(name + "…", size) > pixels:
        name = name[:-1]
    return name + "…"


def chart_svg(rows: pd.DataFrame, unit: str, *, width: int = 420, bar: int = 16, label_width: int = 150) -> Markup:
    """A horizontal bar chart of value by zone, bars in status colours, the target as a line.

    One vertical line when every zone with a target has the same one, else a tick per bar.
    """
    values = pd.to_numeric(rows["value"], errors="coerce")
    targets = pd.to_numeric(rows["target"], errors="coerce")
    known = pd.concat([values, targets]).dropna()
    low = min(0.0, float(known.min())) if not known.empty else 0.0
    high = max(float(known.max()) if not known.empty else 0.0, 1.0 if unit == "share" else 0.0)
    if high <= low:
        high = low + 1.0
    step = 0.25 if unit == "share" and high <= 1.0 else _nice_step((high - low) / 4)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    top, gap = 22, 4
    plot_w = width - label_width - 64
    height = top + len(rows) * (bar + gap) + 8

    def x_of(v: float) -> float:
        return label_width + (v - low) / (high - low) * plot_w

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="value by zone against the target">']
    for tick in np.arange(low, high + step / 2, step):
        x = x_of(float(tick))
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6}" stroke="#e0e0e0"/>')
        label = escape(format_value(tick, unit).removesuffix(" " + unit))
        out.append(f'<text x="{x:.1f}" y="{top - 8}" font-size="9" text-anchor="middle" fill="#616161">{label}</text>')
    distinct = set(targets.dropna().round(12))
    uniform = len(distinct) == 1 and targets[values.notna()].notna().all()
    for i, row in enumerate(rows.itertuples(index=False)):
        y = top + i * (bar + gap)
        name = str(row.zone_name)
        colour = STATUS_COLOURS.get(str(row.status), "#9e9e9e")
        short = escape(_shorten(name, label_width - 10))
        out.append(f'<text x="{label_width - 6}" y="{y + bar - 4}" font-size="10" text-anchor="end">{short}<title>{escape(name)}</title></text>')
        value = values.iloc[i]
        if math.isnan(value):
            out.append(f'<text x="{label_width + 4}" y="{y + bar - 4}" font-size="9" fill="#757575">no data 无数据</text>')
        else:
            x0, x1 = sorted((x_of(0.0 if low <= 0 else low), x_of(float(value))))
            tip = f"{name}: {format_value(value, unit)} ({_status_label(row.status)})"
            out.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 0.8):.1f}" height="{bar}" fill="{colour}"><title>{escape(tip)}</title></rect>')
            out.append(
                f'<text x="{x1 + 3:.1f}" y="{y + bar - 4}" font-size="9" stroke="#fff" stroke-width="2.5" paint-order="stroke">'
                f"{escape(format_value(value, unit))}</text>"
            )
        target = targets.iloc[i]
        if not uniform and not math.isnan(target):
            x = x_of(float(target))
            out.append(f'<line x1="{x:.1f}" y1="{y - 1}" x2="{x:.1f}" y2="{y + bar + 1}" stroke="#212121" stroke-width="2"/>')
    if uniform:
        x = x_of(float(distinct.pop()))
        out.append(
            f'<line class="target" x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{height - 4}" '
            'stroke="#212121" stroke-width="1.5" stroke-dasharray="4 2"/>'
        )
    out.append("</svg>")
    return Markup("".join(out))


# --- the report's model -----------------------------------------------------------------------


@dataclass
class _GapTable:
    total: int
    size_label: str
    size_unit: str
    columns: list[str]
    rows: list[dict[str, str]]


@dataclass
class _Section:
    id: str
    anchor: str
    title_zh: str
    title_en: str
    theme: str
    clause: str
    unit: str
    status: str
    definition: str
    formula: str
    method: str
    inputs: str
    wording: str
    target_en: str
    target_clause: str
    reading: str
    notes: list[str]
    rows: list[dict[str, str]]
    has_baseline: bool
    map: Markup
    chart: Markup
    statuses: list[str]
    gaps: _GapTable | None
    gap_layer: bool


@dataclass
class _ProposalSection:
    id: str
    anchor: str
    section_anchor: str
    title_zh: str
    title_en: str
    zones: list[dict[str, str]]
    items: list[dict[str, str]]
    item_total: int
    map: Markup | None
    layer: str


@dataclass
class _Report:
    run: dict[str, Any]
    synthetic: bool
    synthetic_layers: list[str]
    counts: dict[str, int]
    city_counts: dict[str, int]
    indicator_count: int
    summary: list[dict[str, Any]]
    gaps_by_zone: list[dict[str, Any]]
    sections: list[_Section]
    inputs: list[dict[str, Any]]
    parameters: list[dict[str, str]]
    versions: dict[str, str]
    quality: list[dict[str, str]]
    spec_note: str
    proposals: list[_ProposalSection] = field(default_factory=list)
    colours: dict[str, str] = field(default_factory=lambda: dict(STATUS_COLOURS))
    labels: dict[str, str] = field(default_factory=lambda: {k: _status_label(k) for k in STATUSES})
    gap_colour: str = GAP_FEATURE_COLOUR
    proposal_colour: str = PROPOSAL_COLOUR
    top_items: int = TOP_PROPOSAL_ITEMS

    @property
    def proposal_anchors(self) -> dict[str, str]:
        """Indicator id to the anchor of its proposal block."""
        return {block.id: block.anchor for block in self.proposals}


def _anchor(indicator: str) -> str:
    return "ind-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in indicator)


def _specs(run: RunOutputs, project: Project | None) -> tuple[dict[str, Spec], str]:
    """The specs by id, from the given project or the run's project folder; a note when unavailable."""
    if project is None:
        root = (run.record.get("project") or {}).get("root")
        if not root:
            return {}, "The run record names no project folder: definitions and formulas are not available."
        try:
            project = load_project(root)
        except (GisError, OSError) as exc:
            log.warning("report: project %s not readable (%s); definitions left out", root, exc)
            return {}, f"The project folder {root} could not be read ({exc}): definitions and formulas are not available."
    return {spec.id: spec for spec in project.specs}, ""


def _read_layer(run: RunOutputs, name: str, metric_crs: str) -> gpd.GeoDataFrame | None:
    if not run.has_layer(name):
        return None
    frame = run.read_layer(name)
    if frame.crs is None:
        msg = f"{run.geopackage}: layer '{name}' has no CRS; re-run `gis run` to rewrite the outputs"
        raise DataError(msg)
    return frame.to_crs(metric_crs)


def _context(layers: dict[str, gpd.GeoDataFrame | None]) -> gpd.GeoDataFrame | None:
    """The counties (zone_name, polygon) of the indicator layer where they cover most ground."""
    best, best_area = None, 0.0
    for frame in layers.values():
        if frame is None or "zone_type" not in frame:
            continue
        counties = frame.loc[frame["zone_type"] == "county", ["zone_id", "zone_name", frame.geometry.name]]
        area = float(counties.area.sum()) if not counties.empty else 0.0
        if area > best_area:
            best, best_area = counties, area
    return best


def _zone_rows(group: pd.DataFrame, unit: str) -> list[dict[str, str]]:
    rows = []
    for row in group.itertuples(index=False):
        shortfall = "" if _missing(row.shortfall) else format_number(row.shortfall)
        rows.append({
            "zone_type": _zone_type_label(row.zone_type),
            "zone_id": _text(row.zone_id),
            "zone_name": _text(row.zone_name),
            "value": format_value(row.value, unit),
            "baseline": format_value(row.baseline, unit) if "baseline" in group.columns else "",
            "target": format_target(row.comparator, row.target, unit),
            "status": str(row.status),
            "status_label": _status_label(row.status),
            "shortfall": shortfall,
            "shortfall_unit": _text(row.shortfall_unit) if shortfall else "",
        })
    return rows


def _gap_table(
    gaps: gpd.GeoDataFrame,
    metric_crs: str,
    spec: Spec | None,
    zone_names: dict[str, str],
    unit: str,
    counties: gpd.GeoDataFrame | None,
) -> _GapTable:
    factor = spec.shortfall.factor if spec is not None and spec.shortfall is not None else 1.0
    lookup = counties if "county_id" not in gaps.columns else None
    top, size = top_gap_features(gaps, metric_crs=metric_crs, shortfall_factor=factor, zones=lookup)
    units = dict(SIZE_FIELDS)
    if size == "shortfall":
        size_unit = spec.shortfall.unit if spec is not None and spec.shortfall is not None else "in the input's own unit"
        size_label = "缺口 shortfall"
    elif size is not None:
        size_label, size_unit = size, units.get(size, "")
    else:
        size_label, size_unit = "", ""
    extra = [c for c in top.columns if c not in _HIDDEN_GAP_FIELDS | {size, "lon", "lat", "zone_name"}]
    rows = []
    for record in top.to_dict("records"):
        county = _text(record.get("county_id"))
        details = []
        for column in extra:
            value = record.get(column)
            if _missing(value) or value == "":
                continue
            if column == "value":
                shown = format_value(value, unit)  # the feature's own value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                shown = format_number(value)
            else:
                shown = str(value)
            details.append(f"{column}: {shown}")
        rows.append({
            "id": _text(record.get("id")),
            "name": _text(record.get("name")),
            "county": zone_names.get(county, county) if county else _text(record.get("zone_name")),
            "size": format_number(record.get(size)) if size else "",
            "details": "; ".join(details),
            "lon": f"{record['lon']:.5f}",
            "lat": f"{record['lat']:.5f}",
        })
    return _GapTable(total=len(gaps), size_label=size_label, size_unit=size_unit, columns=extra, rows=rows)


def _section(
    indicator: str,
    group: pd.DataFrame,
    layer: gpd.GeoDataFrame | None,
    gaps: gpd.GeoDataFrame | None,
    context: gpd.GeoDataFrame | None,
    spec: Spec | None,
    record: dict[str, Any],
    metric_crs: str,
    zone_names: dict[str, str],
    status: str,
) -> _Section:
    first = group.iloc[0]
    unit = _text(first["unit"])
    target = spec.target.model_dump() if spec is not None and spec.target else record.get("target")
    if layer is not None and "zone_type" in layer:
        map_markup = map_svg(layer, gaps, context=context, unit=unit)
    else:
        map_markup = Markup('<p class="muted">No zone layer in the GeoPackage. GeoPackage 中无此图层。</p>')
    inputs = spec.inputs if spec is not None else record.get("inputs") or {}
    return _Section(
        id=indicator,
        anchor=_anchor(indicator),
        title_zh=_text(first.get("title_zh")) or (spec.title.zh if spec else ""),
        title_en=_text(first.get("title_en")) or (spec.title.en if spec else ""),
        theme=_text(first.get("theme")),
        clause=_text(first.get("clause")),
        unit=unit,
        status=status,
        definition=spec.definition if spec else "",
        formula=spec.formula if spec else "",
        method=spec.method if spec else str(record.get("method", "")),
        inputs=", ".join(f"{role}: {name}" for role, name in inputs.items()),
        wording=_text((target or {}).get("wording")),
        target_en=describe_target(target, unit),
        target_clause=_text((target or {}).get("clause")) or _text(first.get("clause")),
        reading=_text((target or {}).get("reading")) or _text(first.get("reading")),
        notes=[str(n) for n in record.get("notes") or []] + ([spec.notes] if spec is not None and spec.notes else []),
        rows=_zone_rows(group, unit),
        has_baseline=bool(group["baseline"].notna().any()) if "baseline" in group.columns else False,
        map=map_markup,
        chart=chart_svg(group, unit),
        statuses=[s for s in STATUSES if s in set(group["status"])],
        gaps=_gap_table(gaps, metric_crs, spec, zone_names, unit, context) if gaps is not None and not gaps.empty else None,
        gap_layer=gaps is not None,
    )


def _summary_rows(summary: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for item in summary.to_dict("records"):
        unit = item["unit"]
        names = ", ".join(f"{name} ({format_number(short)})" for name, short in item["gap_zone_names"])
        rows.append({
            "id": item["indicator"],
            "anchor": _anchor(item["indicator"]),
            "title_zh": item["title_zh"],
            "title_en": item["title_en"],
            "clause": item["clause"],
            "value": format_value(item["value"], unit),
            "target": format_target(item["comparator"], item["target"], unit),
            "status": item["status"],
            "status_label": _status_label(item["status"]),
            "shortfall": "" if _missing(item["shortfall"]) or item["status"] != "gap" else f"{format_number(item['shortfall'])} {item['shortfall_unit']}",
            "gap_zones": f"{item['gap_zones']} / {item['target_zones']}" if item["target_zones"] else "—",
            "gap_zone_names": names,
        })
    return rows


def _gaps_by_zone(indicators: pd.DataFrame) -> list[dict[str, Any]]:
    """Zones below the city with the indicators they fall short of, most gaps first."""
    gaps = indicators[(indicators["status"] == "gap") & (indicators["zone_type"] != "city")]
    out = []
    for (zone_type, zone_id), group in gaps.groupby(["zone_type", "zone_id"], sort=False):
        out.append({
            "zone_type": _zone_type_label(zone_type),
            "zone_id": str(zone_id),
            "zone_name": _text(group["zone_name"].iloc[0]),
            "count": len(group),
            "indicators": [(str(i), _anchor(str(i))) for i in group["indicator"]],
        })
    return sorted(out, key=lambda z: -z["count"])


def _inputs(record: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, entry in (record.get("inputs") or {}).items():
        provenance = entry.get("provenance") or {}
        synthetic = bool(entry.get("synthetic") or provenance.get("synthetic"))
        rows.append({
            "name": str(name),
            "file": Path(str(entry.get("file") or "")).name,
            "layer": _text(entry.get("layer")),
            "source": _text(provenance.get("source")),
            "licence": _text(provenance.get("licence")),
            "date": _text(provenance.get("date")),
            "citation": _text(provenance.get("citation")),
            "synthetic": "是 yes" if synthetic else "否 no",
            "is_synthetic": synthetic,
            "sha256": (_text(entry.get("sha256")) or "—")[:12],
            "bytes": format_number(entry.get("bytes")),
        })
    return rows


def _parameters(record: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "id": str(indicator),
            "method": _text(item.get("method")),
            "inputs": ", ".join(f"{k}: {v}" for k, v in (item.get("inputs") or {}).items()),
            "parameters": json.dumps(item.get("parameters") or {}, ensure_ascii=False, sort_keys=True),
        }
        for indicator, item in (record.get("indicators") or {}).items()
    ]


def _meets_label(value: Any) -> str:
    if _missing(value) or value is pd.NA:
        return "—"
    return "是 yes" if bool(value) else "否 no"


def _proposal_rows(rows: pd.DataFrame, unit: str, zone_names: dict[str, str]) -> list[dict[str, str]]:
    out = []
    for row in rows.to_dict("records"):
        adds = "" if _missing(row.get("adds")) else f"{format_number(row['adds'])} {_text(row.get('adds_unit'))}".strip()
        out.append({
            "zone_type": _zone_type_label(row["zone_type"]),
            "zone_name": _text(row.get("zone_name")) or zone_names.get(str(row.get("zone_id")), ""),
            "rank": "" if _missing(row.get("rank")) else str(int(row["rank"])),
            "item": " ".join(p for p in (_text(row.get("item_name")), f"({_text(row.get('item_id'))})" if _text(row.get("item_id")) else "") if p),
            "action": _text(row.get("action")),
            "quantity": f"{format_number(row.get('quantity'))} {_text(row.get('unit'))}".strip(),
            "adds": adds,
            "before": format_value(row.get("value_before"), unit),
            "after": format_value(row.get("value_after"), unit),
            "target": format_target(row.get("comparator"), row.get("target"), unit),
            "meets": _meets_label(row.get("meets_target")),
            "meets_class": "" if _missing(row.get("meets_target")) or row.get("meets_target") is pd.NA else ("met" if bool(row["meets_target"]) else "gap"),
            "detail": _text(row.get("detail")),
        })
    return out


def _proposal_sections(
    run: RunOutputs, indicators: pd.DataFrame, layers: dict[str, gpd.GeoDataFrame | None], context: gpd.GeoDataFrame | None, metric_crs: str
) -> list[_ProposalSection]:
    """One block per indicator with proposals: its zone rows, its top items and a map of its proposal layer."""
    table = run.proposals
    if table.empty:
        return []
    zone_names = {str(z): _text(n) for z, n in zip(indicators["zone_id"], indicators["zone_name"], strict=True)}
    sections = []
    for indicator, group in table.groupby("indicator", sort=False):
        indicator = str(indicator)
        own = indicators[indicators["indicator"] == indicator]
        unit = _text(own["unit"].iloc[0]) if not own.empty else ""
        zones = group[group["row_type"] == "zone"]
        items = group[group["row_type"] == "item"]
        layer_name = f"{indicator}.proposals"
        features = _read_layer(run, layer_name, metric_crs)
        base = layers.get(indicator)
        if base is None and indicator not in layers and run.has_layer(indicator):
            base = _read_layer(run, indicator, metric_crs)
        drawn = None
        if features is not None and base is not None and "zone_type" in base:
            drawn = map_svg(base, features, context=context, unit=unit, feature_colour=PROPOSAL_COLOUR)
        sections.append(_ProposalSection(
            id=indicator,
            anchor="prop-" + _anchor(indicator).removeprefix("ind-"),
            section_anchor=_anchor(indicator),
            title_zh=_text(own["title_zh"].iloc[0]) if not own.empty else indicator,
            title_en=_text(own["title_en"].iloc[0]) if not own.empty else "",
            zones=_proposal_rows(zones, unit, zone_names),
            items=_proposal_rows(items.groupby(["zone_type", "zone_id"], sort=False).head(TOP_PROPOSAL_ITEMS), unit, zone_names),
            item_total=len(items),
            map=drawn,
            layer=layer_name if features is not None else "",
        ))
    return sections


def _build_report(run: RunOutputs, *, project: Project | None = None) -> _Report:
    """Collect everything the template shows (no HTML yet)."""
    record = run.record
    indicators = run.indicators
    metric_crs = (record.get("project") or {}).get("crs") or (project.crs if project else DEFAULT_METRIC_CRS)
    specs, spec_note = _specs(run, project)
    summary = indicator_summary(indicators)
    ids = list(summary["indicator"]) if not summary.empty else []
    layers = {i: _read_layer(run, i, metric_crs) for i in ids}
    context = _context(layers)
    zone_names = {str(z): _text(n) for z, n in zip(indicators["zone_id"], indicators["zone_name"], strict=True)}
    statuses = dict(zip(summary["indicator"], summary["status"], strict=True)) if not summary.empty else {}
    sections = []
    for indicator, group in indicators.groupby("indicator", sort=False):
        indicator = str(indicator)
        sections.append(_section(
            indicator, group, layers[indicator], _read_layer(run, f"{indicator}.gaps", metric_crs), context,
            specs.get(indicator), (record.get("indicators") or {}).get(indicator) or {}, metric_crs, zone_names,
            statuses[indicator],
        ))
    inputs = _inputs(record)
    city = indicators[indicators["zone_type"] == "city"]
    return _Report(
        run=record,
        synthetic=run.synthetic,
        synthetic_layers=[row["name"] for row in inputs if row["is_synthetic"]],
        counts=status_counts(indicators),
        city_counts=status_counts(city),
        indicator_count=len(ids),
        summary=_summary_rows(summary) if not summary.empty else [],
        gaps_by_zone=_gaps_by_zone(indicators),
        sections=sections,
        inputs=inputs,
        parameters=_parameters(record),
        versions={str(k): str(v) for k, v in (record.get("versions") or {}).items()},
        quality=[{str(k): _text(v) for k, v in note.items()} for note in record.get("data_quality") or []],
        spec_note=spec_note,
        proposals=_proposal_sections(run, indicators, layers, context, metric_crs),
    )


def render_report(run: RunOutputs, *, project: Project | None = None) -> str:
    """The report as an HTML string."""
    environment = Environment(
        loader=PackageLoader("gis", "templates"), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    template = environment.get_template("report.html.j2")
    return template.render(report=_build_report(run, project=project))


def write_report(run: RunOutputs, path: Path, *, project: Project | None = None) -> Path:
    """Write the printable gap report (``report.html``) of a run; ``path`` may be a folder.

    The file is written whole or not at all. Returns the path written.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "report.html"
    if not path.parent.is_dir():
        msg = f"{path.parent}: folder not found; create it or choose another --out"
        raise UsageError(msg)
    html = render_report(run, project=project)
    handle, staging = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(html)
        os.replace(staging, path)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    return path
