"""The printable gap report (``report.html``): summary, one section per indicator, provenance.

Everything is computed from a finished run (:class:`~gis.outputs.folder.RunOutputs`); the
definitions and formulas come from the project's specs when the project can still be read.
Maps and charts are inline SVG drawn here, so the file needs no network, script or font.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from gis.errors import DataError, GisError
from gis.outputs._files import output_file, replaced_whole
from gis.outputs.i18n import (
    STATUS_LABELS,
    TRAJECTORY_LABELS,
    YES_NO,
    ZONE_TYPE_LABELS,
    Lang,
    check_lang,
    html_lang,
    label,
    pick,
    zone_label,
)
from gis.project.config import read_project
from gis.project.layers import LayerReader
from gis.outputs.folder import RunOutputs
from gis.project.specs import Spec
from gis.methods.zones import catalog_names

log = logging.getLogger("gis")

STATUSES = ("met", "gap", "no_data", "no_target")
STATUS_COLOURS = {"met": "#2e7d32", "gap": "#c62828", "no_data": "#9e9e9e", "no_target": "#1565c0"}
# the trajectory verdicts in the status palette: reached green, ahead of the path a lighter green, behind red
TRAJECTORY_COLOURS = {
    "baseline": "#616161",
    "met": STATUS_COLOURS["met"],
    "on_track": "#7cb342",
    "behind": STATUS_COLOURS["gap"],
    "no_target": STATUS_COLOURS["no_target"],
    "no_data": STATUS_COLOURS["no_data"],
    "no_path": STATUS_COLOURS["no_data"],
}
GAP_FEATURE_COLOUR = "#ff8f00"
PROPOSAL_COLOUR = "#6a3d9a"
TOP_PROPOSAL_ITEMS = 8  # items shown per zone; all are in proposals.csv
CONTEXT_COLOUR = "#757575"
COMPARATOR_SIGNS = {">=": "≥", "<=": "≤", "==": "="}
# Gap features are ranked by the first of these fields they carry: (field, unit label as (zh, en)).
SIZE_FIELDS = (
    ("shortfall", ("", "")),
    ("uncovered_km2", ("km2", "km2")),
    ("people", ("人", "people")),
    ("area_km2", ("km2", "km2")),
    ("capacity_mw", ("MW", "MW")),
    ("capacity_t_d", ("t/d", "t/d")),
    ("heated_area_m2", ("m2", "m2")),
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


def describe_target(target: dict[str, Any] | None, unit: str, *, lang: Lang = "en") -> str:
    """The target in words, from a spec's (or run.json's) target block: English, Chinese, or both."""
    if lang == "both":
        return f"{_describe_target_zh(target, unit)} {describe_target(target, unit)}"
    if lang == "zh":
        return _describe_target_zh(target, unit)
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


def _describe_target_zh(target: dict[str, Any] | None, unit: str) -> str:
    """The target in Chinese words (see :func:`describe_target`)."""
    if not target:
        return "规划未设目标：仅供参考。"
    sign = COMPARATOR_SIGNS.get(target.get("comparator", ""), target.get("comparator", ""))
    parts = []
    by_type = target.get("value_by_zone_type") or {}
    if by_type:
        parts.append("，".join(f"{pick(ZONE_TYPE_LABELS, t, 'zh')} {sign} {format_value(v, unit)}" for t, v in by_type.items()))
    elif target.get("value") is not None:
        parts.append(f"{sign} {format_value(target['value'], unit)}")
    if target.get("increase") is not None:
        step = f"{target['increase'] * 100:+g} 个百分点" if unit == "share" else f"{target['increase']:+g} {unit}"
        parts.append(f"较基准（{target.get('baseline_layer') or '基准'}）{step}")
    joined = " 或 ".join(parts) + ("，取较易达到者" if len(parts) > 1 else "")
    zones = "、".join(pick(ZONE_TYPE_LABELS, t, "zh") for t in target.get("zone_types") or [])
    return f"{zones or '各地区'}：{joined}，{target.get('year', 2025)}年前达到。"


def _status_label(status: Any, lang: Lang = "both") -> str:
    return pick(STATUS_LABELS, status, lang)


def _zone_type_label(zone_type: Any, lang: Lang = "both") -> str:
    return pick(ZONE_TYPE_LABELS, zone_type, lang)


def _trajectory_label(verdict: Any, lang: Lang = "both") -> str:
    return pick(TRAJECTORY_LABELS, verdict, lang)


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


@dataclass(frozen=True)
class _Words:
    """The labels of one report in its language, and the English zone names it may show."""

    lang: Lang = "both"
    names: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # the catalog's (name, name_en)

    def t(self, zh: str, en: str) -> str:
        """A label: '中文', 'English' or '中文 English'."""
        return label(zh, en, self.lang)

    def solo(self, zh: str, en: str) -> str:
        """Text the bilingual page gives in English only (its Chinese label is beside it): Chinese in 'zh'."""
        return zh if self.lang == "zh" else en

    def h(self, zh: str, en: str) -> Markup:
        """A heading: in both languages the English half in a quieter span."""
        if self.lang == "both":
            return Markup(f'{escape(zh)} <span class="en">{escape(en)}</span>')
        return Markup(escape(label(zh, en, self.lang)))

    def zone(self, zone_type: Any, zone_id: Any, zone_name: Any) -> str:
        """A zone's name from the data, with its English name from the catalog in 'en' and 'both'."""
        name = _text(zone_name) or _text(zone_id)
        return zone_label(name, self.names.get((_text(zone_type), _text(zone_id))), self.lang)

    def yes_no(self, value: bool) -> str:
        return label(*YES_NO[bool(value)], self.lang)


# --- summaries shared with the workbook -------------------------------------------------------


def status_counts(indicators: pd.DataFrame) -> dict[str, int]:
    """Rows per status, every status present (zero when absent)."""
    counts = indicators["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in STATUSES}


def indicator_summary(indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator (in table order): its city row, overall status and the zones with a gap.

    ``status`` is the city's status when there is a city row, else the worst zone status;
    ``gap_zones`` counts the zones below the city (counties, parks) with a gap and
    ``target_zones`` those with a target; ``gap_zone_names`` lists (name, shortfall) of the
    zones with a gap and ``gap_zone_ids`` their (zone_type, zone_id).
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
            "gap_zone_ids": [(str(t), str(i)) for t, i in zip(gaps["zone_type"], gaps["zone_id"], strict=True)],
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
    lang: Lang = "both",
) -> Markup:
    """A small static map: zones filled by status, the city outlined in its status colour, gap features on top.

    Every frame must be in the same metric CRS; ``context`` (county outlines) is drawn dashed
    beneath when the zones are not counties themselves. Geometries are simplified to under a pixel.
    The features on top (``gaps``: polygons, lines or points) are drawn in ``feature_colour``.
    ``lang`` is the language of the status words in the tooltips.
    """
    shapes = zones[zones.geometry.notna() & ~zones.geometry.is_empty]
    gap_shapes = None if gaps is None else gaps[gaps.geometry.notna() & ~gaps.geometry.is_empty]
    frames = [f for f in (shapes, gap_shapes) if f is not None and not f.empty]
    if not frames:
        return Markup(f'<p class="muted">{escape(label("无图形。", "No geometry to map.", lang))}</p>')
    bounds = np.array([f.total_bounds for f in frames])
    view = _View.fit((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()), width, height)
    tolerance = 0.75 / view.scale
    out = [
        f'<svg class="map" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label("按状态着色的地区图", "map of zones by status", lang))}">',
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
            tip = f"{row.zone_name}: {format_value(row.value, unit)} ({_status_label(row.status, lang)})"
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


def chart_svg(
    rows: pd.DataFrame, unit: str, *, width: int = 420, bar: int = 16, label_width: int = 150, lang: Lang = "both"
) -> Markup:
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

    aria = escape(label("各地区数值与目标", "value by zone against the target", lang))
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{aria}">']
    for tick in np.arange(low, high + step / 2, step):
        x = x_of(float(tick))
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6}" stroke="#e0e0e0"/>')
        tick_text = escape(format_value(tick, unit).removesuffix(" " + unit))
        out.append(f'<text x="{x:.1f}" y="{top - 8}" font-size="9" text-anchor="middle" fill="#616161">{tick_text}</text>')
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
            out.append(f'<text x="{label_width + 4}" y="{y + bar - 4}" font-size="9" fill="#757575">{escape(label("无数据", "no data", lang))}</text>')
        else:
            x0, x1 = sorted((x_of(0.0 if low <= 0 else low), x_of(float(value))))
            tip = f"{name}: {format_value(value, unit)} ({_status_label(row.status, lang)})"
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


def _axis(numbers: list[float], unit: str) -> tuple[float, float, float]:
    """(low, high, step) of a value axis around ``numbers``: a little room each side, nice steps, 0 kept when near."""
    low, high = min(numbers), max(numbers)
    span = high - low if high > low else max(abs(high) * 0.1, 0.01 if unit == "share" else 1.0)
    low, high = low - span * 0.12, high + span * 0.12
    if min(numbers) >= 0 and low < 0:
        low = 0.0
    if unit == "share" and max(numbers) <= 1 and high > 1:
        high = 1.0
    step = _nice_step((high - low) / 4)
    if unit == "share":
        step = max(step, 0.001)  # labels show tenths of a percent
    return math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step, step


def trajectory_svg(
    rows: pd.DataFrame,
    unit: str,
    *,
    title: str = "",
    data_year: int | None = None,
    target_year: int | None = None,
    width: int = 420,
    height: int = 228,
    lang: Lang = "both",
) -> Markup:
    """A small line chart of one zone's value by year against the straight path to its target.

    ``rows`` are the zone's rows of ``indicators.csv`` (``year``, ``value``, ``target``,
    ``path_value``, ``trajectory``). The values are points in the colour of their year's
    verdict, joined by a line; the path (``path_value``, on to the target in ``target_year``)
    is dashed; the target is a horizontal line. The verdict of ``data_year`` (default the
    last year) is written above the plot, after ``title``.
    """
    t = _Words(lang).t
    rows = rows.sort_values("year", kind="stable")
    years = [int(y) for y in rows["year"]]
    values = pd.to_numeric(rows["value"], errors="coerce").to_numpy(dtype=float)
    paths = pd.to_numeric(rows["path_value"], errors="coerce").to_numpy(dtype=float) if "path_value" in rows else np.full(len(rows), np.nan)
    verdicts = [str(v) for v in rows["trajectory"]] if "trajectory" in rows else ["no_path"] * len(rows)
    targets = pd.to_numeric(rows["target"], errors="coerce").dropna()
    target = float(targets.iloc[-1]) if not targets.empty else None
    if target_year is None and "target_year" in rows and rows["target_year"].notna().any():
        target_year = int(rows["target_year"].dropna().iloc[-1])
    path = [(y, float(v)) for y, v in zip(years, paths, strict=True) if not math.isnan(v)]
    if target is not None and path and target_year is not None and target_year > path[-1][0]:
        path.append((target_year, target))
    first = min(years)
    last = max([*years, *(y for y, _ in path)])
    last = max(last, first + 1)
    numbers = [float(v) for v in values if not math.isnan(v)] + [v for _, v in path] + ([target] if target is not None else [])
    low, high, step = _axis(numbers or [0.0], unit)
    left, right, top, bottom = 50, 62, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(year: float) -> float:  # room for a value's label at either end
        return left + 18 + (year - first) / (last - first) * (plot_w - 36)

    def y_of(value: float) -> float:
        return top + (high - value) / (high - low) * plot_h

    def tick_label(value: float) -> str:
        return escape(format_value(value, unit).removesuffix(" " + unit))

    year = data_year if data_year is not None and data_year in years else years[-1]
    verdict = verdicts[years.index(year)]
    words = _trajectory_label(verdict, lang)
    aria = escape(t("逐年数值与到目标的直线路径", "value by year against the straight path to the target"))
    out = [
        f'<svg class="trajectory" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{aria}" '
        f'data-verdict="{escape(verdict)}" data-year="{year}">',
        f'<text x="{left}" y="14" font-size="11" font-weight="bold">{escape(title + " · " if title else "")}{year}: '
        f'<tspan class="verdict" fill="{TRAJECTORY_COLOURS.get(verdict, "#616161")}">{escape(words)}</tspan></text>',
    ]
    for tick in np.arange(low, high + step / 2, step):
        y = y_of(float(tick))
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end" fill="#616161">{tick_label(float(tick))}</text>')
    if unit != "share":
        out.append(f'<text x="{left - 4}" y="{top - 8}" font-size="9" text-anchor="end" fill="#616161">{escape(unit)}</text>')
    base = top + plot_h
    out.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#9e9e9e"/>')
    every = range(first, last + 1) if last - first <= 12 else sorted({*years, last})
    for tick_year in every:
        x = x_of(tick_year)
        weight = ' font-weight="bold"' if tick_year in years else ""
        out.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 3}" stroke="#9e9e9e"/>')
        out.append(f'<text x="{x:.1f}" y="{base + 13}" font-size="9" text-anchor="middle"{weight}>{tick_year}</text>')
    if target is not None:
        y = y_of(target)
        sign = COMPARATOR_SIGNS.get(str(rows["comparator"].dropna().iloc[-1]), "") if rows["comparator"].notna().any() else ""
        out.append(f'<line class="target" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#212121" stroke-width="1.2"/>')
        out.append(f'<text x="{left + plot_w + 5}" y="{y - 2:.1f}" font-size="9">{escape(t("目标", "target"))}</text>')
        out.append(f'<text x="{left + plot_w + 5}" y="{y + 9:.1f}" font-size="9">{escape(f"{sign} {format_value(target, unit)}".strip())}</text>')
    if len(path) > 1:
        data = " ".join(f"{x_of(y):.1f},{y_of(v):.1f}" for y, v in path)
        out.append(f'<polyline class="path" points="{data}" fill="none" stroke="#616161" stroke-width="1.5" stroke-dasharray="5 3"/>')
        for path_year, value in path:
            if path_year in years and verdicts[years.index(path_year)] != "baseline":
                tip = f"{t('路径', 'path')} {path_year}: {format_value(value, unit)}"
                out.append(f'<circle cx="{x_of(path_year):.1f}" cy="{y_of(value):.1f}" r="2.5" fill="#fff" stroke="#616161"><title>{escape(tip)}</title></circle>')
    known = [(y, float(v), d) for y, v, d in zip(years, values, verdicts, strict=True) if not math.isnan(v)]
    if len(known) > 1:
        data = " ".join(f"{x_of(y):.1f},{y_of(v):.1f}" for y, v, _ in known)
        out.append(f'<polyline class="values" points="{data}" fill="none" stroke="#37474f" stroke-width="2"/>')
    for point_year, value, point_verdict in known:
        x, y = x_of(point_year), y_of(value)
        colour = TRAJECTORY_COLOURS.get(point_verdict, "#616161")
        tip = f"{point_year}: {format_value(value, unit)} ({_trajectory_label(point_verdict, lang)})"
        out.append(
            f'<circle class="point" data-year="{point_year}" cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}" stroke="#fff" stroke-width="1.5">'
            f"<title>{escape(tip)}</title></circle>"
        )
        above = y - 8 if y - 8 > top + 4 else y + 15
        out.append(
            f'<text x="{x:.1f}" y="{above:.1f}" font-size="9" text-anchor="middle" stroke="#fff" stroke-width="2.5" paint-order="stroke">'
            f"{tick_label(value)}</text>"
        )
    # legend: the three lines
    x, y = float(left), height - 6
    for text, style in (
        (t("数值", "value"), 'stroke="#37474f" stroke-width="2"'),
        (t("直线路径", "straight path"), 'stroke="#616161" stroke-width="1.5" stroke-dasharray="5 3"'),
        (t("目标", "target"), 'stroke="#212121" stroke-width="1.2"'),
    ):
        out.append(f'<line x1="{x:.1f}" y1="{y - 3}" x2="{x + 18:.1f}" y2="{y - 3}" {style}/>')
        out.append(f'<text x="{x + 22:.1f}" y="{y}" font-size="9">{escape(text)}</text>')
        x += 22 + _text_width(text, 9) + 14
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
class _Trajectory:
    """An indicator's values by year: the city's chart and a table of every zone."""

    years: list[int]
    baseline_year: int | None
    chart: Markup | None
    verdict: str
    verdict_label: str
    verdict_year: int
    rows: list[dict[str, Any]]


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
    trajectory: _Trajectory | None = None


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
    lang: Lang = "both"
    colours: dict[str, str] = field(default_factory=lambda: dict(STATUS_COLOURS))
    labels: dict[str, str] = field(default_factory=dict)
    count_words: dict[str, str] = field(default_factory=dict)
    count_note: str = ""
    trajectory_colours: dict[str, str] = field(default_factory=lambda: dict(TRAJECTORY_COLOURS))
    trajectory_labels: dict[str, str] = field(default_factory=dict)
    gap_colour: str = GAP_FEATURE_COLOUR
    proposal_colour: str = PROPOSAL_COLOUR
    top_items: int = TOP_PROPOSAL_ITEMS

    def __post_init__(self) -> None:
        words = _Words(self.lang)
        self.labels = self.labels or {k: _status_label(k, self.lang) for k in STATUSES}
        # the status words after the counts: English in the bilingual page (the Chinese follows in brackets)
        self.count_words = self.count_words or {k: words.solo(*STATUS_LABELS[k]) for k in STATUSES}
        if self.lang == "both" and not self.count_note:
            self.count_note = " / ".join(STATUS_LABELS[k][0] for k in STATUSES)
        self.trajectory_labels = self.trajectory_labels or {k: _trajectory_label(k, self.lang) for k in TRAJECTORY_LABELS}

    @property
    def proposal_anchors(self) -> dict[str, str]:
        """Indicator id to the anchor of its proposal block."""
        return {block.id: block.anchor for block in self.proposals}

    @property
    def html_lang(self) -> str:
        """The page's ``lang`` attribute."""
        return html_lang(self.lang)


def _anchor(indicator: str) -> str:
    return "ind-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in indicator)


def _project(run: RunOutputs, layers: LayerReader | None, words: _Words) -> tuple[LayerReader | None, str]:
    """The given project's layers, else the run's project folder; a note when it cannot be read."""
    if layers is not None:
        return layers, ""
    root = (run.record.get("project") or {}).get("root")
    if not root:
        return None, words.t(
            "运行记录未注明项目文件夹：定义和公式从缺。",
            "The run record names no project folder: definitions and formulas are not available.",
        )
    try:
        return LayerReader(read_project(root)), ""
    except (GisError, OSError) as exc:
        log.warning("report: project %s not readable (%s); definitions left out", root, exc)
        return None, words.t(
            f"无法读取项目文件夹 {root}（{exc}）：定义和公式从缺。",
            f"The project folder {root} could not be read ({exc}): definitions and formulas are not available.",
        )


def _catalog_names(project: LayerReader | None) -> dict[tuple[str, str], tuple[str, str]]:
    if project is None:
        return {}
    try:
        return catalog_names(project)
    except (GisError, OSError) as exc:
        log.warning("report: English zone names not readable (%s); left out", exc)
        return {}


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


def _shown_names(frame: pd.DataFrame, words: _Words) -> pd.DataFrame:
    """``frame`` with ``zone_name`` as shown in the report's language (English names added)."""
    if not words.names or frame.empty:
        return frame
    names = [words.zone(t, i, n) for t, i, n in zip(frame["zone_type"], frame["zone_id"], frame["zone_name"], strict=True)]
    return frame.assign(zone_name=names)


def _zone_rows(group: pd.DataFrame, unit: str, words: _Words) -> list[dict[str, str]]:
    rows = []
    for row in group.itertuples(index=False):
        shortfall = "" if _missing(row.shortfall) else format_number(row.shortfall)
        rows.append({
            "zone_type": _zone_type_label(row.zone_type, words.lang),
            "zone_id": _text(row.zone_id),
            "zone_name": words.zone(row.zone_type, row.zone_id, row.zone_name),
            "value": format_value(row.value, unit),
            "baseline": format_value(row.baseline, unit) if "baseline" in group.columns else "",
            "target": format_target(row.comparator, row.target, unit),
            "status": str(row.status),
            "status_label": _status_label(row.status, words.lang),
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
    words: _Words,
) -> _GapTable:
    factor = spec.shortfall.factor if spec is not None and spec.shortfall is not None else 1.0
    lookup = counties if "county_id" not in gaps.columns else None
    top, size = top_gap_features(gaps, metric_crs=metric_crs, shortfall_factor=factor, zones=lookup)
    units = dict(SIZE_FIELDS)
    if size == "shortfall":
        own = words.t("输入数据自身的单位", "in the input's own unit")
        size_unit = spec.shortfall.unit if spec is not None and spec.shortfall is not None else own
        size_label = words.t("缺口", "shortfall")
    elif size is not None:
        size_label, size_unit = size, words.t(*units.get(size, ("", "")))
    else:
        size_label, size_unit = "", ""
    extra = [c for c in top.columns if c not in _HIDDEN_GAP_FIELDS | {size, "lon", "lat", "zone_name"}]
    by_name = {}
    if lookup is not None:
        by_name = {_text(n): words.zone("county", i, n) for i, n in zip(lookup["zone_id"], lookup["zone_name"], strict=True)}
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
        found = _text(record.get("zone_name"))
        rows.append({
            "id": _text(record.get("id")),
            "name": _text(record.get("name")),
            "county": zone_names.get(county, county) if county else by_name.get(found, found),
            "size": format_number(record.get(size)) if size else "",
            "details": "; ".join(details),
            "lon": f"{record['lon']:.5f}",
            "lat": f"{record['lat']:.5f}",
        })
    return _GapTable(total=len(gaps), size_label=size_label, size_unit=size_unit, columns=extra, rows=rows)


def _trajectory(history: pd.DataFrame, unit: str, data_year: int | None, words: _Words) -> _Trajectory | None:
    """The indicator's rows of every year as a chart of the city and a table of all zones; None for a single year."""
    if "year" not in history.columns or history["year"].nunique() < 2:
        return None
    history = history.sort_values("year", kind="stable")
    years = sorted(int(y) for y in history["year"].unique())
    data_year = data_year if data_year in years else years[-1]
    baselines = history.loc[history["trajectory"] == "baseline", "year"] if "trajectory" in history else pd.Series(dtype=int)
    baseline_year = int(baselines.min()) if not baselines.empty else None
    city = history[history["zone_type"] == "city"]
    chart, verdict = None, ""
    if not city.empty:
        first = city.iloc[-1]
        title = words.zone("city", first["zone_id"], first["zone_name"])
        chart = trajectory_svg(city, unit, title=title, data_year=data_year, lang=words.lang)
        at = city[city["year"] == data_year]
        verdict = str(at["trajectory"].iloc[0]) if not at.empty and "trajectory" in at else ""
    def shown(value: Any) -> str:  # amounts without their unit: the table's caption and target column give it
        return format_value(value, unit) if unit == "share" else format_number(value)

    rows = []
    for (zone_type, zone_id), zone in history.groupby(["zone_type", "zone_id"], sort=False):
        by_year = {int(r.year): r for r in zone.itertuples(index=False)}
        cells = []
        for year in years:
            row = by_year.get(year)
            if row is None:
                cells.append({"value": "", "verdict": "", "label": "", "path": ""})
                continue
            code = _text(getattr(row, "trajectory", ""))
            show = code not in ("", "baseline")
            path = getattr(row, "path_value", math.nan)
            cells.append({
                "value": shown(row.value),
                "verdict": code if show else "",
                "label": _trajectory_label(code, words.lang) if show else "",
                "path": shown(path) if show and not _missing(path) else "",
            })
        last = zone.iloc[-1]
        rows.append({
            "zone_type": str(zone_type),
            "zone_type_label": _zone_type_label(zone_type, words.lang),
            "zone_id": str(zone_id),
            "zone_name": words.zone(zone_type, zone_id, last["zone_name"]),
            "cells": cells,
            "target": format_target(last.get("comparator"), last.get("target"), unit),
        })
    rows.sort(key=lambda r: 0 if r["zone_type"] == "city" else 1)  # stable: counties and parks keep their order
    return _Trajectory(
        years=years,
        baseline_year=baseline_year,
        chart=chart,
        verdict=verdict,
        verdict_label=_trajectory_label(verdict, words.lang) if verdict else "",
        verdict_year=data_year,
        rows=rows,
    )


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
    history: pd.DataFrame,
    data_year: int | None,
    words: _Words,
) -> _Section:
    first = group.iloc[0]
    unit = _text(first["unit"])
    target = spec.target.model_dump() if spec is not None and spec.target else record.get("target")
    lang = words.lang
    if layer is not None and "zone_type" in layer:
        map_markup = map_svg(_shown_names(layer, words), gaps, context=context, unit=unit, lang=lang)
    else:
        map_markup = Markup(f'<p class="muted">{escape(words.t("GeoPackage 中无此图层。", "No zone layer in the GeoPackage."))}</p>')
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
        target_en=describe_target(target, unit, lang="en" if lang == "both" else lang),
        target_clause=_text((target or {}).get("clause")) or _text(first.get("clause")),
        reading=_text((target or {}).get("reading")) or _text(first.get("reading")),
        notes=[str(n) for n in record.get("notes") or []] + ([spec.notes] if spec is not None and spec.notes else []),
        rows=_zone_rows(group, unit, words),
        has_baseline=bool(group["baseline"].notna().any()) if "baseline" in group.columns else False,
        map=map_markup,
        chart=chart_svg(_shown_names(group, words), unit, lang=lang),
        statuses=[s for s in STATUSES if s in set(group["status"])],
        gaps=_gap_table(gaps, metric_crs, spec, zone_names, unit, context, words) if gaps is not None and not gaps.empty else None,
        gap_layer=gaps is not None,
        trajectory=_trajectory(history, unit, data_year, words),
    )


def _city_trajectory(history: pd.DataFrame, data_year: int | None, words: _Words) -> dict[str, Any] | None:
    """The city's verdict in the latest year before the data year, for the summary table."""
    if "year" not in history.columns or "trajectory" not in history.columns or history["year"].nunique() < 2:
        return None
    city = history[history["zone_type"] == "city"]
    if data_year is not None:
        city = city[city["year"] < data_year]
    else:
        city = city[city["year"] < city["year"].max()]
    if city.empty:
        return None
    row = city.sort_values("year", kind="stable").iloc[-1]
    verdict = str(row["trajectory"])
    return {"year": int(row["year"]), "verdict": verdict, "label": _trajectory_label(verdict, words.lang)}


def _summary_rows(summary: pd.DataFrame, words: _Words, trajectories: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
    rows = []
    for item in summary.to_dict("records"):
        unit = item["unit"]
        names = ", ".join(
            f"{words.zone(t, i, name)} ({format_number(short)})"
            for (name, short), (t, i) in zip(item["gap_zone_names"], item["gap_zone_ids"], strict=True)
        )
        rows.append({
            "id": item["indicator"],
            "anchor": _anchor(item["indicator"]),
            "title_zh": item["title_zh"],
            "title_en": item["title_en"],
            "clause": item["clause"],
            "value": format_value(item["value"], unit),
            "target": format_target(item["comparator"], item["target"], unit),
            "status": item["status"],
            "status_label": _status_label(item["status"], words.lang),
            "shortfall": "" if _missing(item["shortfall"]) or item["status"] != "gap" else f"{format_number(item['shortfall'])} {item['shortfall_unit']}",
            "gap_zones": f"{item['gap_zones']} / {item['target_zones']}" if item["target_zones"] else "—",
            "gap_zone_names": names,
            "trajectory": trajectories.get(item["indicator"]),
        })
    return rows


def _gaps_by_zone(indicators: pd.DataFrame, words: _Words) -> list[dict[str, Any]]:
    """Zones below the city with the indicators they fall short of, most gaps first."""
    gaps = indicators[(indicators["status"] == "gap") & (indicators["zone_type"] != "city")]
    out = []
    for (zone_type, zone_id), group in gaps.groupby(["zone_type", "zone_id"], sort=False):
        out.append({
            "zone_type": _zone_type_label(zone_type, words.lang),
            "zone_id": str(zone_id),
            "zone_name": words.zone(zone_type, zone_id, group["zone_name"].iloc[0]),
            "count": len(group),
            "indicators": [(str(i), _anchor(str(i))) for i in group["indicator"]],
        })
    return sorted(out, key=lambda z: -z["count"])


def _inputs(record: dict[str, Any], words: _Words) -> list[dict[str, Any]]:
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
            "synthetic": words.yes_no(synthetic),
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


def _meets_label(value: Any, words: _Words) -> str:
    if _missing(value) or value is pd.NA:
        return "—"
    return words.yes_no(bool(value))


def _proposal_rows(rows: pd.DataFrame, unit: str, zone_names: dict[str, str], words: _Words) -> list[dict[str, str]]:
    out = []
    for row in rows.to_dict("records"):
        adds = "" if _missing(row.get("adds")) else f"{format_number(row['adds'])} {_text(row.get('adds_unit'))}".strip()
        zone_id = _text(row.get("zone_id"))
        out.append({
            "zone_type": _zone_type_label(row["zone_type"], words.lang),
            "zone_name": words.zone(row["zone_type"], zone_id, row.get("zone_name")) if _text(row.get("zone_name")) else zone_names.get(zone_id, ""),
            "rank": "" if _missing(row.get("rank")) else str(int(row["rank"])),
            "item": " ".join(p for p in (_text(row.get("item_name")), f"({_text(row.get('item_id'))})" if _text(row.get("item_id")) else "") if p),
            "action": _text(row.get("action")),
            "quantity": f"{format_number(row.get('quantity'))} {_text(row.get('unit'))}".strip(),
            "adds": adds,
            "before": format_value(row.get("value_before"), unit),
            "after": format_value(row.get("value_after"), unit),
            "target": format_target(row.get("comparator"), row.get("target"), unit),
            "meets": _meets_label(row.get("meets_target"), words),
            "meets_class": "" if _missing(row.get("meets_target")) or row.get("meets_target") is pd.NA else ("met" if bool(row["meets_target"]) else "gap"),
            "detail": _text(row.get("detail")),
        })
    return out


def _proposal_sections(
    run: RunOutputs,
    indicators: pd.DataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    context: gpd.GeoDataFrame | None,
    metric_crs: str,
    zone_names: dict[str, str],
    words: _Words,
) -> list[_ProposalSection]:
    """One block per indicator with proposals: its zone rows, its top items and a map of its proposal layer."""
    table = run.proposals
    if table.empty:
        return []
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
            drawn = map_svg(_shown_names(base, words), features, context=context, unit=unit, feature_colour=PROPOSAL_COLOUR, lang=words.lang)
        sections.append(_ProposalSection(
            id=indicator,
            anchor="prop-" + _anchor(indicator).removeprefix("ind-"),
            section_anchor=_anchor(indicator),
            title_zh=_text(own["title_zh"].iloc[0]) if not own.empty else indicator,
            title_en=_text(own["title_en"].iloc[0]) if not own.empty else "",
            zones=_proposal_rows(zones, unit, zone_names, words),
            items=_proposal_rows(items.groupby(["zone_type", "zone_id"], sort=False).head(TOP_PROPOSAL_ITEMS), unit, zone_names, words),
            item_total=len(items),
            map=drawn,
            layer=layer_name if features is not None else "",
        ))
    return sections


def _build_report(run: RunOutputs, *, layers: LayerReader | None = None, lang: Lang = "both") -> _Report:
    """Collect everything the template shows (no HTML yet)."""
    record = run.record
    indicators = run.indicators
    history = run.indicator_history
    data_year = record.get("data_year")
    project, spec_note = _project(run, layers, _Words(lang))
    words = _Words(lang, _catalog_names(project))
    metric_crs = (record.get("project") or {}).get("crs") or (project.crs if project else DEFAULT_METRIC_CRS)
    specs = {spec.id: spec for spec in project.specs} if project is not None else {}
    summary = indicator_summary(indicators)
    ids = list(summary["indicator"]) if not summary.empty else []
    layers = {i: _read_layer(run, i, metric_crs) for i in ids}
    context = _context(layers)
    zone_names = {str(z): words.zone(t, z, n) for t, z, n in zip(indicators["zone_type"], indicators["zone_id"], indicators["zone_name"], strict=True)}
    statuses = dict(zip(summary["indicator"], summary["status"], strict=True)) if not summary.empty else {}
    histories = {str(i): rows for i, rows in history.groupby("indicator", sort=False)}
    sections = []
    for indicator, group in indicators.groupby("indicator", sort=False):
        indicator = str(indicator)
        sections.append(_section(
            indicator, group, layers[indicator], _read_layer(run, f"{indicator}.gaps", metric_crs), context,
            specs.get(indicator), (record.get("indicators") or {}).get(indicator) or {}, metric_crs, zone_names,
            statuses[indicator], histories.get(indicator, group), data_year, words,
        ))
    trajectories = {i: _city_trajectory(rows, data_year, words) for i, rows in histories.items()}
    inputs = _inputs(record, words)
    city = indicators[indicators["zone_type"] == "city"]
    return _Report(
        run=record,
        synthetic=run.synthetic,
        synthetic_layers=[row["name"] for row in inputs if row["is_synthetic"]],
        counts=status_counts(indicators),
        city_counts=status_counts(city),
        indicator_count=len(ids),
        summary=_summary_rows(summary, words, trajectories) if not summary.empty else [],
        gaps_by_zone=_gaps_by_zone(indicators, words),
        sections=sections,
        inputs=inputs,
        parameters=_parameters(record),
        versions={str(k): str(v) for k, v in (record.get("versions") or {}).items()},
        quality=[{str(k): _text(v) for k, v in note.items()} for note in record.get("data_quality") or []],
        spec_note=spec_note,
        proposals=_proposal_sections(run, indicators, layers, context, metric_crs, zone_names, words),
        lang=lang,
    )


def render_report(run: RunOutputs, *, layers: LayerReader | None = None, lang: Lang = "both") -> str:
    """The report as an HTML string, its labels in ``lang``: ``zh``, ``en`` or ``both`` (Chinese and English)."""
    lang = check_lang(lang)
    environment = Environment(
        loader=PackageLoader("gis.outputs", "templates"), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    template = environment.get_template("report.html.j2")
    words = _Words(lang)
    report = _build_report(run, layers=layers, lang=lang)
    return template.render(report=report, t=words.t, h=words.h, solo=words.solo, yes_no=words.yes_no, lang=lang)


def write_report(run: RunOutputs, path: Path, *, layers: LayerReader | None = None, lang: Lang = "both") -> Path:
    """Write the printable gap report (``report.html``) of a run; ``path`` may be a folder.

    ``lang`` is the language of the labels: ``zh``, ``en`` or ``both`` (the default). The
    file is written whole or not at all. Returns the path written.
    """
    lang = check_lang(lang)
    path = output_file(path, "report.html")
    html = render_report(run, layers=layers, lang=lang)
    with replaced_whole(path) as staging:
        staging.write_text(html, encoding="utf-8")
    return path
