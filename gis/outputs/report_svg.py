"""The report's inline SVG: a small map of zones by status and a trajectory by year.

Drawn as text here, so the report needs no network, script or font. Every text from the data
is escaped; colours come from a :class:`~gis.outputs.symbology.Palette` (the map spec's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from markupsafe import Markup, escape

from gis.outputs.i18n import STATUS_LABELS, TRAJECTORY_LABELS, Lang, label, pick
from gis.outputs.symbology import DEFAULT_PALETTE, Palette
from gis.outputs.text import comparator_sign, format_bare, format_value, unit_text

MAP_SIZE = (380, 300)


# --- geometry to pixels ---------------------------------------------------------------------------


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
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    x, y = 8, height - 8
    return (
        f'<g class="scalebar"><path d="M{x},{y - 4} {x},{y} {x + pixels:.1f},{y} {x + pixels:.1f},{y - 4}" fill="none" stroke="#333" stroke-width="1.2"/>'
        f'<text x="{x + pixels + 4:.1f}" y="{y}" font-size="9">{text}</text></g>'
        f'<text x="{width - 12}" y="16" font-size="11" font-weight="bold" text-anchor="middle">N</text>'
        f'<path d="M{width - 12},20 {width - 16},30 {width - 12},27 {width - 8},30Z" fill="#333"/>'
    )


# --- the map ----------------------------------------------------------------------------------------


def map_svg(
    zones: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame | None = None,
    *,
    context: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    unit: str = "",
    width: int = MAP_SIZE[0],
    height: int = MAP_SIZE[1],
    feature_colour: str | None = None,
    lang: Lang = "both",
    palette: Palette = DEFAULT_PALETTE,
    outlines: gpd.GeoDataFrame | None = None,
) -> Markup:
    """A small static map: zones filled by status, the city outlined in its status colour, gap features on top.

    Every frame must be in the same metric CRS; ``context`` (county outlines) is drawn dashed
    beneath when the zones are not counties themselves; ``outlines`` (prefectures) are drawn over the
    zones, beneath the gap features (prefecture rows of ``zones`` are not filled: their counties are).
    Geometries are simplified to under a pixel.
    The features on top (``gaps``: polygons, lines or points) are drawn in ``feature_colour``
    (default the palette's gap-feature colour). ``lang`` is the language of the status words in
    the tooltips; the status colours are the ``palette``'s.
    """
    shapes = zones[zones.geometry.notna() & ~zones.geometry.is_empty]
    gap_shapes = None if gaps is None else gaps[gaps.geometry.notna() & ~gaps.geometry.is_empty]
    frames = [f for f in (shapes, gap_shapes) if f is not None and not f.empty]
    if not frames:
        return Markup(f'<p class="muted">{escape(label("无图形。", "No geometry to map.", lang))}</p>')
    bounds = np.array([f.total_bounds for f in frames])
    view = _View.fit((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()), width, height)
    out = [
        f'<svg class="map" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label("按状态着色的地区图", "map of zones by status", lang))}">',
        f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>',
    ]
    out += _zone_shapes(shapes, view, context, unit, lang, palette)
    if outlines is not None and not outlines.empty:
        data = "".join(_path_data(g, view) for g in outlines.geometry.simplify(0.75 / view.scale))
        out.append(f'<path class="outlines" d="{data}" fill="none" stroke="#424242" stroke-width="1.3"/>')
    if gap_shapes is not None and not gap_shapes.empty:
        out += _feature_marks(gap_shapes, view, feature_colour or palette.gap_features)
    out.append(_scale_bar(view, width, height))
    out.append("</svg>")
    return Markup("".join(out))


def _zone_shapes(
    shapes: gpd.GeoDataFrame, view: _View, context: gpd.GeoDataFrame | gpd.GeoSeries | None, unit: str, lang: Lang, palette: Palette
) -> list[str]:
    """County outlines for context, the zones filled by status (the city's fill where they leave ground), the city outlined."""
    tolerance = 0.75 / view.scale
    out = []
    city = shapes[shapes["zone_type"] == "city"]
    others = shapes[~shapes["zone_type"].isin(["city", "prefecture"])]
    if context is not None and not context.empty and not _draws_counties(others, context):
        data = "".join(_path_data(g, view) for g in context.geometry.simplify(tolerance))
        out.append(f'<path d="{data}" fill="none" stroke="{palette.context}" stroke-width="0.6" stroke-dasharray="2 2"/>')
    # the city's fill shows only where its zones leave ground uncovered (parks, built-up areas)
    covered = float(others.area.sum()) >= 0.95 * float(city.area.sum()) if not city.empty else True
    for layer, opacity in (((city, 0.15),) if not covered else ()) + ((others, 0.6),):
        for row, geom in zip(layer.itertuples(index=False), layer.geometry.simplify(tolerance), strict=True):
            tip = f"{row.zone_name}: {format_value(row.value, unit, lang)} ({pick(STATUS_LABELS, row.status, lang)})"
            out.append(
                f'<path d="{_path_data(geom, view)}" fill="{palette.of(row.status)}" fill-opacity="{opacity}" fill-rule="evenodd" '
                f'stroke="#fff" stroke-width="0.8"><title>{escape(tip)}</title></path>'
            )
    for row, geom in zip(city.itertuples(index=False), city.geometry.simplify(tolerance), strict=True):
        out.append(f'<path d="{_path_data(geom, view)}" fill="none" stroke="{palette.of(row.status)}" stroke-width="2"/>')
    return out


def _draws_counties(zones: gpd.GeoDataFrame, context: gpd.GeoDataFrame | gpd.GeoSeries) -> bool:
    """Whether ``zones`` draw the county outlines themselves: county polygons covering most of the counties' ground.

    Built-up indicators (permeable ground, sewage blank areas) carry each county's built-up area as its
    geometry: the county outlines are then drawn beneath for context.
    """
    counties = zones[zones["zone_type"] == "county"]
    if counties.empty:
        return False
    return float(counties.area.sum()) >= 0.9 * float(context.area.sum())


def _feature_marks(features: gpd.GeoDataFrame, view: _View, colour: str) -> list[str]:
    """Polygons filled, lines drawn and points (and shapes too small to see) as dots, in ``colour``."""
    tolerance = 0.75 / view.scale
    out = []
    polygons = features[features.geom_type.str.contains("Polygon")]
    lines = features[features.geom_type.str.contains("LineString")]
    points = features[features.geom_type.str.contains("Point")]
    if not polygons.empty:
        data = "".join(_path_data(g, view) for g in polygons.geometry.simplify(tolerance))
        out.append(f'<path d="{data}" fill="{colour}" fill-opacity="0.7" fill-rule="evenodd" stroke="#4e342e" stroke-width="0.6"/>')
    if not lines.empty:
        data = "".join(_line_data(g, view) for g in lines.geometry.simplify(tolerance))
        out.append(f'<path d="{data}" fill="none" stroke="{colour}" stroke-width="2" stroke-linecap="round"/>')
    # polygons and lines a few pixels wide would vanish: mark them as points as well
    for shapes in (polygons, lines):
        if not shapes.empty:
            bounds = shapes.geometry.bounds
            tiny = ((bounds["maxx"] - bounds["minx"]).clip(lower=bounds["maxy"] - bounds["miny"]) * view.scale) < 4
            points = pd.concat([points, shapes[tiny.to_numpy()]])
    if not points.empty:
        xy = view.points(shapely.get_coordinates(points.geometry.centroid.values))
        # one path of circles (two arcs each): a map of many features stays one element
        dots = "".join(f"M{x - 3:g},{y:g}a3,3 0 1,0 6,0a3,3 0 1,0 -6,0" for x, y in xy)
        out.append(f'<path class="dots" d="{dots}" fill="{colour}" stroke="#4e342e" stroke-width="0.8"/>')
    return out


# --- the overview map of the brief ---------------------------------------------------------------------


def _mix(colour: str, weight: float) -> str:
    """``colour`` (#rrggbb) mixed with white: ``weight`` 0 is white, 1 the colour itself."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)] if len(colour) == 7 and colour.startswith("#") else [215, 48, 39]
    return "#" + "".join(f"{round(255 + (c - 255) * weight):02x}" for c in rgb)


def overview_svg(
    counties: gpd.GeoDataFrame,
    counts: dict[str, int],
    *,
    names: dict[str, str] | None = None,
    width: int = 300,
    height: int = 230,
    lang: Lang = "both",
    palette: Palette = DEFAULT_PALETTE,
) -> Markup:
    """The counties shaded by how many targets they fall short of, each labelled with its name and that number.

    ``counties`` has ``zone_id`` and polygons in a metric CRS; ``counts`` gives the gaps by
    zone id (absent: none); ``names`` the name to print by zone id (default: ``zone_name``).
    """
    shapes = counties[counties.geometry.notna() & ~counties.geometry.is_empty]
    if shapes.empty:
        return Markup(f'<p class="muted">{escape(label("无图形。", "No geometry to map.", lang))}</p>')
    view = _View.fit(tuple(shapes.total_bounds), width, height)
    tolerance = 0.75 / view.scale
    most = max([*counts.values(), 1])
    aria = escape(label("各县(市、区)未达标目标数", "targets short by county", lang))
    out = [f'<svg class="map overview" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{aria}">',
           f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>']
    labels = []
    for row, geom in zip(shapes.itertuples(index=False), shapes.geometry.simplify(tolerance), strict=True):
        zone_id = str(row.zone_id)
        count = counts.get(zone_id, 0)
        name = (names or {}).get(zone_id) or str(row.zone_name)
        fill = _mix(palette.of("gap"), 0.12 + 0.78 * count / most) if count else "#f5f5f5"
        out.append(f'<path d="{_path_data(geom, view)}" fill="{fill}" stroke="#616161" stroke-width="0.8" fill-rule="evenodd">'
                   f"<title>{escape(name)}: {count}</title></path>")
        labels.append(_CountyLabel(geom, name, count))
    out += _county_labels(labels, view, width, height, most)
    out.append(_scale_bar(view, width, height))
    out.append("</svg>")
    return Markup("".join(out))


@dataclass(frozen=True)
class _CountyLabel:
    geom: shapely.Geometry
    name: str
    count: int


def _county_labels(labels: list[_CountyLabel], view: _View, width: int, view_height: int, most: int) -> list[str]:
    """Each county's count at the centre of its largest part, its name above (or below) it, shifted sideways if need
    be, where the name lies inside the county and crosses no other label; the widest counties first. A name that fits nowhere is left out
    (it stays in the tooltip and is given with its count in the bottom right corner); every count is drawn."""

    def crosses(box: tuple[float, float, float, float], others: list[tuple[float, float, float, float]]) -> bool:
        return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in others)

    def inside(geom: shapely.Geometry, box: tuple[float, float, float, float]) -> bool:
        middle = (box[1] + box[3]) / 2
        corners = np.array([[box[0], middle], [box[2], middle], [(box[0] + box[2]) / 2, middle]])  # the text's ends and centre
        metres = np.column_stack([view.minx + (corners[:, 0] - view.pad) / view.scale, view.maxy - (corners[:, 1] - view.pad) / view.scale])
        return bool(shapely.contains_xy(geom, metres[:, 0], metres[:, 1]).all())

    spots = []
    for item in labels:
        part = max(shapely.get_parts(item.geom), key=lambda g: g.area)
        centre = shapely.ops.polylabel(part, tolerance=1 / view.scale) if isinstance(part, shapely.Polygon) else part.centroid
        x, y = (float(v) for v in view.points(shapely.get_coordinates(centre))[0])
        minx, _, maxx, _ = item.geom.bounds
        spots.append(((maxx - minx) * view.scale, x, y, item))
    placed = [(x - 7, y - 1, x + 7, y + 7) for _, x, y, _ in spots]  # every count is drawn, its baseline at y + 7
    out = []
    unnamed = []
    for _, x, y, item in sorted(spots, key=lambda spot: -spot[0]):
        colour = "#fff" if item.count / most > 0.55 else "#212121"  # dark on the pale end of the ramp, white on the dark end
        half = text_width(item.name, 9) / 2
        tries = [(min(max(x + shift, half + 2), width - half - 2), base)
                 for base in (y - 3, y + 17) for shift in (0.0, -half / 2, half / 2)]  # above the count, else below it
        for x_name, base in tries:
            box = (x_name - half, base - 7, x_name + half, base + 1)
            if not crosses(box, placed) and inside(item.geom, box):
                placed.append(box)
                out.append(f'<text x="{x_name:g}" y="{base:g}" font-size="9" text-anchor="middle" fill="{colour}">{escape(item.name)}</text>')
                break
        else:
            unnamed.append(f"{item.name} {item.count}")
        out.append(f'<text x="{x:g}" y="{y + 7:g}" font-size="9" font-weight="bold" text-anchor="middle" fill="{colour}">{item.count}</text>')
    for row, entry in enumerate(reversed(unnamed)):  # the counties too small for their name, one a line in the bottom
        out.append(  # right corner, clear of the scale bar (a printed page has no tooltip)
            f'<text class="unnamed" x="{width - 6}" y="{view_height - 6 - 10 * row}" font-size="8" text-anchor="end" '
            f'fill="#424242">{escape(entry)}</text>'
        )
    return out


# --- scales and text widths ---------------------------------------------------------------------------


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``raw``."""
    exponent = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * exponent for m in (1, 2, 2.5, 5, 10) if m * exponent >= raw - 1e-12)


def text_width(text: str, size: float) -> float:
    """Rough width in pixels: CJK and other wide characters a full em, the rest about half."""
    return sum(size if ord(c) > 0x2E7F else size * 0.56 for c in text)






# --- the trajectory -----------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Series:
    """One zone's values by year with their verdicts, the straight path to its target, and the target."""

    years: list[int]
    values: list[float]  # NaN where a year has none
    verdicts: list[str]
    path: list[tuple[int, float]]
    target: float | None
    sign: str

    @classmethod
    def of(cls, rows: pd.DataFrame, target_year: int | None) -> _Series:
        rows = rows.sort_values("year", kind="stable")
        years = [int(y) for y in rows["year"]]
        values = [float(v) for v in pd.to_numeric(rows["value"], errors="coerce")]
        paths = [float(v) for v in pd.to_numeric(rows["path_value"], errors="coerce")] if "path_value" in rows else [math.nan] * len(rows)
        verdicts = [str(v) for v in rows["trajectory"]] if "trajectory" in rows else ["no_path"] * len(rows)
        targets = pd.to_numeric(rows["target"], errors="coerce").dropna()
        target = float(targets.iloc[-1]) if not targets.empty else None
        if target_year is None and "target_year" in rows and rows["target_year"].notna().any():
            target_year = int(rows["target_year"].dropna().iloc[-1])
        path = [(y, v) for y, v in zip(years, paths, strict=True) if not math.isnan(v)]
        if target is not None and path and target_year is not None and target_year > path[-1][0]:
            path.append((target_year, target))
        comparators = rows["comparator"].dropna()
        sign = comparator_sign(comparators.iloc[-1]) if not comparators.empty else ""
        return cls(years, values, verdicts, path, target, sign)

    def known(self) -> list[tuple[int, float, str]]:
        """(year, value, verdict) of the years with a value."""
        return [(y, v, d) for y, v, d in zip(self.years, self.values, self.verdicts, strict=True) if not math.isnan(v)]

    def numbers(self) -> list[float]:
        """Every value the plot must show: values, path and target."""
        return [v for _, v, _ in self.known()] + [v for _, v in self.path] + ([self.target] if self.target is not None else [])

    def verdict(self, year: int) -> str:
        return self.verdicts[self.years.index(year)]


@dataclass(frozen=True)
class _Plot:
    """The plot area of a trajectory: years across, values up."""

    left: float
    top: float
    width: float
    height: float
    first: int
    last: int
    low: float
    high: float

    def x(self, year: float) -> float:  # room for a value's label at either end
        return self.left + 18 + (year - self.first) / (self.last - self.first) * (self.width - 36)

    def y(self, value: float) -> float:
        return self.top + (self.high - value) / (self.high - self.low) * self.height

    @property
    def base(self) -> float:
        return self.top + self.height


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
    palette: Palette = DEFAULT_PALETTE,
) -> Markup:
    """A small line chart of one zone's value by year against the straight path to its target.

    ``rows`` are the zone's rows of ``indicators.csv`` (``year``, ``value``, ``target``,
    ``path_value``, ``trajectory``). The values are points in the colour of their year's
    verdict, joined by a line; the path (``path_value``, on to the target in ``target_year``)
    is dashed; the target is a horizontal line. The verdict of ``data_year`` (default the
    last year) is written above the plot, after ``title``.
    """
    series = _Series.of(rows, target_year)
    low, high, step = _axis(series.numbers() or [0.0], unit)
    first = min(series.years)
    last = max(first + 1, *series.years, *(y for y, _ in series.path))
    left, right, top, bottom = 50, 62, 30, 40
    plot = _Plot(left, top, width - left - right, height - top - bottom, first, last, low, high)
    year = data_year if data_year is not None and data_year in series.years else series.years[-1]
    verdict = series.verdict(year)
    aria = escape(label("逐年数值与到目标的直线路径", "value by year against the straight path to the target", lang))
    out = [
        f'<svg class="trajectory" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{aria}" '
        f'data-verdict="{escape(verdict)}" data-year="{year}">',
        f'<text x="{left}" y="14" font-size="11" font-weight="bold">{escape(title + " · " if title else "")}{year}: '
        f'<tspan class="verdict" fill="{palette.of_trajectory(verdict)}">{escape(pick(TRAJECTORY_LABELS, verdict, lang))}</tspan></text>',
    ]
    out += _value_axis(plot, step, unit, lang)
    out += _year_axis(plot, series.years)
    out += _target_line(plot, series, unit, lang)
    out += _path_line(plot, series, unit, lang)
    out += _value_points(plot, series, unit, lang, palette)
    out += _trajectory_legend(plot.left, height - 6, lang)
    out.append("</svg>")
    return Markup("".join(out))


def _value_axis(plot: _Plot, step: float, unit: str, lang: Lang = "both") -> list[str]:
    out = []
    for tick in np.arange(plot.low, plot.high + step / 2, step):
        y = plot.y(float(tick))
        out.append(f'<line x1="{plot.left}" y1="{y:.1f}" x2="{plot.left + plot.width}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{plot.left - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end" fill="#616161">{escape(format_bare(tick, unit))}</text>')
    if unit != "share":
        out.append(f'<text x="{plot.left - 4}" y="{plot.top - 8}" font-size="9" text-anchor="end" fill="#616161">{escape(unit_text(unit, lang))}</text>')
    return out


def _year_axis(plot: _Plot, years: list[int]) -> list[str]:
    out = [f'<line x1="{plot.left}" y1="{plot.base}" x2="{plot.left + plot.width}" y2="{plot.base}" stroke="#9e9e9e"/>']
    every = range(plot.first, plot.last + 1) if plot.last - plot.first <= 12 else sorted({*years, plot.last})
    for tick_year in every:
        x = plot.x(tick_year)
        weight = ' font-weight="bold"' if tick_year in years else ""
        out.append(f'<line x1="{x:.1f}" y1="{plot.base}" x2="{x:.1f}" y2="{plot.base + 3}" stroke="#9e9e9e"/>')
        out.append(f'<text x="{x:.1f}" y="{plot.base + 13}" font-size="9" text-anchor="middle"{weight}>{tick_year}</text>')
    return out


def _target_line(plot: _Plot, series: _Series, unit: str, lang: Lang) -> list[str]:
    if series.target is None:
        return []
    y = plot.y(series.target)
    right = plot.left + plot.width
    shown = f"{series.sign} {format_value(series.target, unit, lang)}".strip()
    return [
        f'<line class="target" x1="{plot.left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#212121" stroke-width="1.2"/>',
        f'<text x="{right + 5}" y="{y - 2:.1f}" font-size="9">{escape(label("目标", "target", lang))}</text>',
        f'<text x="{right + 5}" y="{y + 9:.1f}" font-size="9">{escape(shown)}</text>',
    ]


def _path_line(plot: _Plot, series: _Series, unit: str, lang: Lang) -> list[str]:
    if len(series.path) <= 1:
        return []
    data = " ".join(f"{plot.x(y):.1f},{plot.y(v):.1f}" for y, v in series.path)
    out = [f'<polyline class="path" points="{data}" fill="none" stroke="#616161" stroke-width="1.5" stroke-dasharray="5 3"/>']
    for path_year, value in series.path:
        if path_year in series.years and series.verdict(path_year) != "baseline":
            tip = f"{label('路径', 'path', lang)} {path_year}: {format_value(value, unit, lang)}"
            out.append(
                f'<circle cx="{plot.x(path_year):.1f}" cy="{plot.y(value):.1f}" r="2.5" fill="#fff" stroke="#616161"><title>{escape(tip)}</title></circle>'
            )
    return out


def _value_points(plot: _Plot, series: _Series, unit: str, lang: Lang, palette: Palette) -> list[str]:
    known = series.known()
    out = []
    if len(known) > 1:
        data = " ".join(f"{plot.x(y):.1f},{plot.y(v):.1f}" for y, v, _ in known)
        out.append(f'<polyline class="values" points="{data}" fill="none" stroke="#37474f" stroke-width="2"/>')
    for point_year, value, verdict in known:
        x, y = plot.x(point_year), plot.y(value)
        tip = f"{point_year}: {format_value(value, unit, lang)} ({pick(TRAJECTORY_LABELS, verdict, lang)})"
        out.append(
            f'<circle class="point" data-year="{point_year}" cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{palette.of_trajectory(verdict)}" '
            f'stroke="#fff" stroke-width="1.5"><title>{escape(tip)}</title></circle>'
        )
        above = y - 8 if y - 8 > plot.top + 4 else y + 15
        out.append(
            f'<text x="{x:.1f}" y="{above:.1f}" font-size="9" text-anchor="middle" stroke="#fff" stroke-width="2.5" paint-order="stroke">'
            f"{escape(format_bare(value, unit))}</text>"
        )
    return out


def _trajectory_legend(left: float, y: float, lang: Lang) -> list[str]:
    """The three lines: value, straight path, target."""
    out = []
    x = left
    for text, style in (
        (label("数值", "value", lang), 'stroke="#37474f" stroke-width="2"'),
        (label("直线路径", "straight path", lang), 'stroke="#616161" stroke-width="1.5" stroke-dasharray="5 3"'),
        (label("目标", "target", lang), 'stroke="#212121" stroke-width="1.2"'),
    ):
        out.append(f'<line x1="{x:.1f}" y1="{y - 3}" x2="{x + 18:.1f}" y2="{y - 3}" {style}/>')
        out.append(f'<text x="{x + 22:.1f}" y="{y}" font-size="9">{escape(text)}</text>')
        x += 22 + text_width(text, 9) + 14
    return out
