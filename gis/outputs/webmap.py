"""The interactive web map of a run: one offline HTML page for the whole plan.

A layer per indicator (zones coloured by status against the target, or by value), the gap
features of the run, coverage areas and the project's facilities as clustered markers, a
legend, a layer control and a notice when inputs are synthetic.  This is the one place where
geometry is reprojected to WGS84 (EPSG:4326); polygons are simplified in metres first.

Every text that comes from a data file or a spec is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html
import logging
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.colormap import LinearColormap
from branca.element import MacroElement
from folium.plugins import MarkerCluster
from jinja2 import Template

from gis.outputs._leaflet import FeatureLayer
from gis.outputs._offline import RawHtml, make_offline, remote_assets
from gis.methods.conditions import evaluate
from gis.errors import ConfigError, UsageError
from gis.outputs.i18n import YES_NO, Lang, check_lang, html_lang, label, zone_label
from gis.project.mapspec import (
    BASEMAPS, CoverageLayer, FacilityLayer, IndicatorStyle, MapSpec, RunLayerSelection, find_map_spec, read_map_spec,
)
from gis.project.config import read_project
from gis.project.layers import LayerReader
from gis.outputs.folder import RunOutputs
from gis.project.specs import Condition, Title
from gis.methods.zones import catalog_names

log = logging.getLogger("gis")

WEB_CRS = "EPSG:4326"
_COMPARATORS = {">=": "≥", "<=": "≤", "==": "="}
_HIDDEN_GAP_FIELDS = {"indicator", "synthetic", "geometry"}
_TIANDITU = "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"



def _e(text: str) -> str:
    """``text`` escaped for HTML, braces too: no text from the data can open a Jinja tag in folium's templates."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")



@dataclass
class _Context:
    """What every layer builder needs: the run, the spec, the project's layers, the zones' names and the language."""

    run: RunOutputs
    spec: MapSpec
    layers: LayerReader | None
    metric_crs: str
    names: dict[tuple[str, str], tuple[str, str]]  # the catalog's (name, name_en) by (zone_type, zone_id)
    lang: Lang = "both"
    legend: list[str] = field(default_factory=list)
    toggles: dict[str, str] = field(default_factory=dict)  # legend section id -> JS layer name

    def t(self, zh: str, en: str | None) -> str:
        """A label in the map's language, escaped: '中文', 'English' or '中文 English'."""
        return _e(label(zh, en, self.lang))


# --- public API ----------------------------------------------------------------------------


def build_map(
    run: RunOutputs, spec: MapSpec, *, layers: LayerReader | None = None, basemap: str | None = None, lang: Lang = "both"
) -> folium.Map:
    """The web map of ``run`` as styled by ``spec``; facilities come from the project's ``layers``.

    Without ``layers`` the project folder named in ``run.json`` is loaded if it exists;
    otherwise facilities, coverage areas and English zone names are left out (logged).
    ``basemap`` (none, osm, tianditu) overrides the spec's. ``lang`` is the language of the
    labels: ``zh``, ``en`` or ``both`` (the default); names from the data are shown as they are.
    """
    lang = check_lang(lang)
    layers = layers if layers is not None else _layers_of(run)
    ctx = _Context(run, spec, layers, run.record["project"]["crs"], catalog_names(layers), lang)
    indicators = _indicator_ids(ctx)
    start = _start_indicator(ctx, indicators)
    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25, maxZoom=18, minZoom=3)
    _add_basemap(m, basemap or spec.basemap)
    for name, z_index in (("zones", 405), ("coverage", 410), ("gaps", 415), ("lines", 420), ("labels", 425), ("points", 430), ("proposals", 435)):
        folium.map.CustomPane(name, z_index=z_index).add_to(m)
    bounds: list[np.ndarray] = []
    ctx.legend.append(_legend_heading(ctx))
    for indicator in indicators:
        bounds.append(_add_indicator(m, ctx, indicator, show=indicator == start))
    if spec.zone_labels:
        _add_zone_labels(m, ctx, indicators)
    _add_gap_layers(m, ctx, indicators, start)
    _add_proposal_layers(m, ctx, indicators, start)
    _add_coverage(m, ctx)
    _add_facilities(m, ctx)
    folium.LayerControl(collapsed=spec.collapsed_layer_control).add_to(m)
    _Legend("".join(ctx.legend), ctx.toggles, ctx.t("图例", "Legend")).add_to(m)
    if run.synthetic:
        m.get_root().html.add_child(RawHtml(_banner(ctx)), name="gis_banner")
    if bounds:
        west, south = np.min([b[:2] for b in bounds], axis=0)
        east, north = np.max([b[2:] for b in bounds], axis=0)
        m.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    make_offline(m)
    m.get_root().header.add_child(RawHtml(_CSS), name="gis_css")
    return m


def write_map(
    run: RunOutputs,
    path: Path,
    *,
    map_spec_path: Path | None = None,
    layers: LayerReader | None = None,
    basemap: str | None = None,
    lang: Lang = "both",
) -> Path:
    """Write the web map of ``run`` to ``path`` (one self-contained HTML file); return the path.

    The map spec is ``map_spec_path``, else ``maps/plan.yaml`` of the project (or of the
    reference project), else the defaults. ``lang`` is the language of the labels: ``zh``,
    ``en`` or ``both`` (the default).
    """
    lang = check_lang(lang)
    root = layers.root if layers is not None else Path(run.record["project"]["root"])
    spec_path = map_spec_path or find_map_spec(root if root.is_dir() else None)
    spec = read_map_spec(spec_path) if spec_path is not None else MapSpec()
    page = build_map(run, spec, layers=layers, basemap=basemap, lang=lang).get_root().render()
    page = re.sub(r"<html(?=[\s>])", f'<html lang="{html_lang(lang)}"', page, count=1)
    remote = remote_assets(page)
    if remote:
        msg = f"the map would load {remote[0]} from the network; it must work offline"
        raise UsageError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    log.info("web map: %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path


# --- project, names, choices ---------------------------------------------------------------


def _layers_of(run: RunOutputs) -> LayerReader | None:
    """A reader of the layers of the project named in the run's record, if its folder is still there."""
    root = Path(run.record["project"]["root"])
    if not root.is_dir():
        log.warning("map: project folder %s not found; facilities, coverage areas and English names left out", root)
        return None
    return LayerReader(read_project(root))


def _add_legend(ctx: _Context, layer: folium.map.Layer, html_text: str, *, show: bool) -> None:
    """A legend section that is shown while ``layer`` is on the map."""
    section = f"gis-legend-{len(ctx.toggles)}"
    ctx.toggles[section] = layer.get_name()
    hidden = "" if show else " hidden"
    ctx.legend.append(f'<div class="gis-section" id="{section}"{hidden}>{html_text}</div>')


def _known_indicators(ctx: _Context) -> set[str]:
    if ctx.layers is not None:
        return {s.id for s in ctx.layers.specs} | set(ctx.run.record["indicators"])
    return set(ctx.run.record["indicators"])


def _check_ids(ctx: _Context, key: str, ids: Iterable[str]) -> None:
    """Refuse indicator ids in the map spec that no spec of the project has (typos)."""
    known = _known_indicators(ctx)
    for indicator in ids:
        if indicator not in known:
            msg = f"{ctx.spec.source}: key '{key}': no indicator '{indicator}' (known: {', '.join(sorted(known))})"
            raise ConfigError(msg)


def _indicator_ids(ctx: _Context) -> list[str]:
    """The indicator layers to draw, in the spec's order (default: the run's)."""
    chosen = ctx.spec.indicators
    in_run = [i for i in ctx.run.record["indicators"] if ctx.run.has_layer(i)]
    _check_ids(ctx, "indicators.include", [] if chosen.include == "all" else chosen.include)
    _check_ids(ctx, "indicators.exclude", chosen.exclude)
    _check_ids(ctx, "indicators.styles", chosen.styles)
    ids = in_run if chosen.include == "all" else [i for i in chosen.include if i in in_run]
    return [i for i in ids if i not in chosen.exclude]


def _start_indicator(ctx: _Context, indicators: list[str]) -> str | None:
    start = ctx.spec.indicators.start
    if start is not None:
        _check_ids(ctx, "indicators.start", [start])
        if start in indicators:
            return start
        log.warning("map: start indicator %s is not in this run; showing %s first", start, indicators[:1])
    return indicators[0] if indicators else None


# --- geometry --------------------------------------------------------------------------------


def _to_web(ctx: _Context, frame: gpd.GeoDataFrame, *, coverage: bool = False) -> gpd.GeoDataFrame:
    """Simplify in metres (a coverage of zones keeps shared edges), then reproject to WGS84."""
    frame = frame.loc[frame.geometry.notna() & ~frame.geometry.is_empty].to_crs(ctx.metric_crs)
    tolerance = ctx.spec.simplify_m
    if tolerance > 0 and not frame.empty and not frame.geom_type.isin(["Point", "MultiPoint"]).all():
        geoms = frame.geometry.values
        if coverage and frame.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            simplified = shapely.coverage_simplify(geoms, tolerance)
        else:
            simplified = shapely.simplify(geoms, tolerance, preserve_topology=True)
        frame = frame.set_geometry(gpd.GeoSeries(simplified, index=frame.index, crs=frame.crs))
    frame = frame.to_crs(WEB_CRS)
    decimals = ctx.spec.decimals
    rounded = shapely.transform(frame.geometry.values, lambda xy: np.round(xy, decimals))
    frame = frame.set_geometry(gpd.GeoSeries(rounded, index=frame.index, crs=WEB_CRS))
    return frame.loc[~frame.geometry.is_empty]


def _geojson(
    frame: gpd.GeoDataFrame,
    popups: list[str] | None,
    tooltips: list[str] | None,
    styles: list[dict[str, Any]],
    *,
    name: str | None = None,
    show: bool = True,
    pane: str,
    radius: float | None = None,
    highlight: bool = False,
) -> FeatureLayer:
    """A layer of ``frame`` whose popups and tooltips are ready-made, escaped HTML (None: not interactive)."""
    return FeatureLayer(
        frame, styles, popups=popups, tooltips=tooltips, name=name, show=show, pane=pane,
        radius=radius if radius is not None else 6.0, highlight={"weight": 3, "color": "#000000"} if highlight else None,
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts, geometry left out (far quicker than ``iterrows`` for popups)."""
    return frame.drop(columns="geometry", errors="ignore").to_dict("records")


# --- text ------------------------------------------------------------------------------------


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def _number(value: float) -> str:
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 1 or value == 0:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _amount(value: object, unit: object) -> str:
    """A value in its unit, escaped: shares as percentages."""
    if _missing(value):
        return "—"
    number = float(value)  # type: ignore[arg-type]
    if unit == "share":
        return f"{number * 100:.1f} %"
    return _e(f"{_number(number)} {'' if _missing(unit) else unit}".strip())


def _text(value: object, lang: Lang = "both") -> str:
    """Any attribute value as escaped text (yes and no in ``lang``)."""
    if _missing(value):
        return "—"
    if isinstance(value, bool | np.bool_):
        return _e(label(*YES_NO[bool(value)], lang))
    if isinstance(value, float | np.floating):
        return _e(_number(float(value)))
    return _e(str(value))


def _status_text(ctx: _Context, status: str) -> str:
    style = ctx.spec.status.of(status)
    return ctx.t(style.zh, style.en)


def _split_title(title: str | None, fallback: str) -> Title:
    """A catalog title 'English (中文)' as zh/en."""
    if not title:
        return Title(zh=fallback, en=fallback)
    if title.endswith(")") and " (" in title:
        en, zh = title[:-1].rsplit(" (", 1)
        return Title(zh=zh, en=en)
    return Title(zh=title, en=title)


def _table(rows: Iterable[tuple[str, str]]) -> str:
    """Rows of (escaped label, escaped value) as a small HTML table."""
    return '<table class="gis-attrs">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _swatch(colour: str, *, round_: bool = False) -> str:
    shape = "gis-dot" if round_ else "gis-sw"
    return f'<span class="{shape}" style="background:{colour}"></span>'


def _zone_label(ctx: _Context, zone_type: str, zone_id: str, zone_name: object) -> str:
    name = "" if _missing(zone_name) else str(zone_name)
    name = name or zone_id
    return _e(zone_label(name, ctx.names.get((zone_type, zone_id)), ctx.lang))


# --- indicator layers ------------------------------------------------------------------------


def _target_text(row: dict[str, Any] | pd.Series) -> str:
    if _missing(row.get("target")):
        return "—"
    comparator = _COMPARATORS.get(str(row["comparator"]), str(row["comparator"]))
    year = "" if _missing(row.get("target_year")) else f" ({int(row['target_year'])})"
    return f"{_e(comparator)} {_amount(row['target'], row['unit'])}{year}"


def _zone_popup(ctx: _Context, row: dict[str, Any], label: str) -> str:
    t = ctx.t
    rows = [
        (t("指标", "indicator"), f"{_e(str(row['indicator']))} {t(str(row['title_zh']), str(row['title_en']))}"),
        (t("条款", "clause"), _e(str(row["clause"]))),
        (t("数值", "value"), _amount(row["value"], row["unit"])),
        (t("目标", "target"), _target_text(row)),
        (t("状态", "status"), _status_text(ctx, str(row["status"]))),
    ]
    if str(row["status"]) == "gap" and not _missing(row.get("shortfall")):
        rows.append((t("缺口", "shortfall"), _e(f"{_number(float(row['shortfall']))} {row.get('shortfall_unit') or ''}".strip())))
    if not _missing(row.get("baseline")):
        rows.append((t("基线", "baseline"), _amount(row["baseline"], row["unit"])))
    for key, label_text in (("numerator", t("分子", "numerator")), ("denominator", t("分母", "denominator"))):
        if not _missing(row.get(key)):
            rows.append((label_text, _text(float(row[key]))))
    if not _missing(row.get("reading")):
        rows.append((t("解读", "reading"), _e(str(row["reading"]))))
    return f"<b>{label}</b>{_table(rows)}"


def _value_classes(values: pd.Series, style: IndicatorStyle, ramp: list[str], share: bool) -> list[float]:
    """Class breaks: the spec's, else equal intervals over the values, rounded."""
    if style.classes is not None:
        return sorted(style.classes)
    finite = values.dropna()
    if finite.empty or finite.max() <= finite.min():
        return []
    low, high, count = float(finite.min()), float(finite.max()), len(ramp)
    raw = [low + (high - low) * i / count for i in range(1, count)]
    rounded = [round(b, 2) if share else float(f"{b:.2g}") for b in raw]
    return sorted(set(rounded))


def _ramp(colours: list[str], count: int) -> list[str]:
    """``count`` colours along the ramp (the ramp itself when it has that many)."""
    if len(colours) == count:
        return colours
    if count == 1:
        return [colours[len(colours) // 2]]
    colormap = LinearColormap(colours, vmin=0, vmax=1)
    return [colormap.rgb_hex_str(i / (count - 1)) for i in range(count)]


def _class_label(index: int, breaks: list[float], unit: str, lang: Lang = "both") -> str:
    """'< 25 %', '25 – 30 %', '≥ 50 %' (the unit once, at the end)."""
    if not breaks:
        return _e(label("全部", "all", lang))
    share = unit == "share"
    bare = [f"{b * 100:g}" if share else _number(b) for b in breaks]
    suffix = " %" if share else f" {_e(unit)}"
    if index == 0:
        return f"&lt; {bare[0]}{suffix}"
    if index == len(breaks):
        return f"≥ {bare[-1]}{suffix}"
    return f"{bare[index - 1]} – {bare[index]}{suffix}"


@dataclass(frozen=True)
class ZoneClasses:
    """How an indicator's zones are coloured: by status, or by value classes.  Shared with the QGIS styles."""

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


def classify_zones(zones: pd.DataFrame, spec: MapSpec, indicator: str) -> ZoneClasses:
    """Status colours where the zones are judged against a target (or the spec says so), else value classes."""
    style = spec.indicators.styles.get(indicator, IndicatorStyle())
    status_colours = {s: spec.status.of(s).colour for s in ("met", "gap", "no_data", "no_target")}
    judged = zones["status"].isin(["met", "gap"]).any()
    if style.colour_by == "status" or (style.colour_by == "auto" and judged):
        return ZoneClasses(False, status_colours, [], [], spec.status.no_data.colour)
    values = pd.to_numeric(zones["value"], errors="coerce")
    ramp = style.colours or spec.value_colours
    unit = str(zones["unit"].iloc[0]) if len(zones) else ""
    breaks = _value_classes(values, style, ramp, unit == "share")
    return ZoneClasses(True, status_colours, breaks, _ramp(ramp, len(breaks) + 1), spec.status.no_data.colour)


def _zone_colours(
    ctx: _Context, zones: gpd.GeoDataFrame, indicator: str, unit: str
) -> tuple[list[str], list[tuple[str, str, int]], bool]:
    """Fill colour per zone and the legend's (colour, label, count); the last item says whether by value."""
    classes = classify_zones(zones, ctx.spec, indicator)
    fills = [classes.fill(str(s), v) for s, v in zip(zones["status"], pd.to_numeric(zones["value"], errors="coerce"), strict=True)]
    if not classes.by_value:
        counts = zones["status"].value_counts()
        entries = [
            (classes.status_colours[s], _status_text(ctx, s), int(counts[s]))
            for s in ("met", "gap", "no_data", "no_target")
            if s in counts
        ]
        return fills, entries, False
    values = pd.to_numeric(zones["value"], errors="coerce")
    index = np.searchsorted(classes.breaks, values.fillna(0), side="right")
    entries = [
        (classes.colours[i], _class_label(i, classes.breaks, unit, ctx.lang), int(((index == i) & values.notna()).sum()))
        for i in range(len(classes.colours))
    ]
    if values.isna().any():
        entries.append((classes.no_data, _status_text(ctx, "no_data"), int(values.isna().sum())))
    return fills, entries, True


def _add_indicator(m: folium.Map, ctx: _Context, indicator: str, *, show: bool) -> np.ndarray:
    """One indicator's zones coloured by status or value, with its legend section; returns bounds."""
    layer = ctx.run.read_layer(indicator)
    city = layer.loc[layer["zone_type"] == "city"]
    zones = layer.loc[layer["zone_type"] != "city"] if (layer["zone_type"] != "city").any() else city
    zones = _to_web(ctx, zones, coverage=True)
    unit = str(layer["unit"].iloc[0])
    fills, entries, by_value = _zone_colours(ctx, zones, indicator, unit)
    labels = [_zone_label(ctx, str(t), str(i), n) for t, i, n in zip(zones["zone_type"], zones["zone_id"], zones["zone_name"], strict=True)]
    popups = [_zone_popup(ctx, row, label) for row, label in zip(_records(zones), labels, strict=True)]
    tooltips = [
        f"{label}: {_amount(v, unit)} — {_status_text(ctx, str(s))}"
        for label, v, s in zip(labels, zones["value"], zones["status"], strict=True)
    ]
    base = {"color": ctx.spec.indicators.outline, "weight": 1, "fillOpacity": ctx.spec.indicators.fill_opacity}
    first = layer.iloc[0]
    name = f"{_e(indicator)} {_short_title(ctx, first['title_zh'], first['title_en'])} — {_e(str(first['clause']))}"
    styles = [{**base, "fillColor": fill} for fill in fills]
    geojson = _geojson(zones, popups, tooltips, styles, name=name, show=show, pane="zones", highlight=True)
    geojson.add_to(m)
    _legend_indicator(ctx, geojson, first, city, entries, by_value, show)
    return zones.total_bounds


def _legend_indicator(
    ctx: _Context,
    geojson: FeatureLayer,
    first: pd.Series,
    city: gpd.GeoDataFrame,
    entries: list[tuple[str, str, int]],
    by_value: bool,
    show: bool,
) -> None:
    lines = []
    if not city.empty:
        row = city.iloc[0]
        label = _zone_label(ctx, "city", str(row["zone_id"]), row["zone_name"])
        lines.append(f"{ctx.t('全市', 'city')} {label}: <b>{_amount(row['value'], row['unit'])}</b> — {_status_text(ctx, str(row['status']))}")
        if not _missing(row.get("target")):
            lines.append(f"{ctx.t('目标', 'target')}: {_target_text(row)}")
    if by_value:
        heading = ctx.t("按数值着色", "coloured by value")
    else:
        heading = ctx.t("按目标达成状态着色", "coloured by status against the target")
    items = "".join(f"<li>{_swatch(c)}{t} <small>({n})</small></li>" for c, t, n in entries)
    english = f'<div class="gis-en">{_e(str(first["title_en"]))}</div>' if ctx.lang == "both" else ""
    text = (
        f'<b>{_e(str(first["indicator"]))}</b> {_short_title(ctx, first["title_zh"], first["title_en"])} '
        f'<small>— {ctx.t("条款", "clause")} {_e(str(first["clause"]))}</small>'
        + english
        + "".join(f"<div>{line}</div>" for line in lines)
        + f"<div><small>{heading}</small></div><ul>{items}</ul>"
    )
    _add_legend(ctx, geojson, text, show=show)


def _add_zone_labels(m: folium.Map, ctx: _Context, indicators: list[str]) -> None:
    """County names at a point inside each county, for orientation without a basemap."""
    for indicator in indicators:
        layer = ctx.run.read_layer(indicator)
        counties = layer.loc[layer["zone_type"] == "county"]
        if not counties.empty:
            break
    else:
        return
    metric = counties.to_crs(ctx.metric_crs)
    points = _to_web(ctx, metric.set_geometry(metric.geometry.representative_point()))
    group = folium.FeatureGroup(name=ctx.t("区县名称", "County names"), show=True)
    for _, row in points.iterrows():
        label = _zone_label(ctx, "county", str(row["zone_id"]), row["zone_name"])
        icon = folium.DivIcon(html=f"<div>{label}</div>", class_name="gis-label", icon_size=(0, 0))
        folium.Marker([row.geometry.y, row.geometry.x], icon=icon, interactive=False, pane="labels").add_to(group)
    group.add_to(m)


# --- gap layers ------------------------------------------------------------------------------


def _add_gap_layers(m: folium.Map, ctx: _Context, indicators: list[str], start: str | None) -> None:
    """The ``<id>.gaps`` layers, highlighted: polygons hatched in the gap colour, points as rings."""
    spec = ctx.spec.gaps
    with_gaps = [i for i in indicators if f"{i}.gaps" in ctx.run.layers]
    for indicator in _chosen(ctx, "gaps", spec, with_gaps):
        frame = _to_web(ctx, ctx.run.read_layer(f"{indicator}.gaps")).explode(index_parts=False)
        if frame.empty:
            continue
        title = _indicator_title(ctx, indicator)
        show = spec.shown(indicator, start)
        fields = [c for c in frame.columns if c not in _HIDDEN_GAP_FIELDS]
        unit = ctx.run.indicators.loc[ctx.run.indicators["indicator"] == indicator, "unit"].iloc[0]

        def shown(row: dict[str, Any], name: str, unit: str = unit) -> str:
            return _amount(row[name], unit) if name == "value" else _text(row[name], ctx.lang)

        popups, tooltips = _feature_texts(ctx, frame, fields, ("缺口", "gap"), indicator, title, shown)
        name = f"{_swatch(spec.colour)}{ctx.t('缺口', 'gaps')} · {_e(indicator)} {_short_title(ctx, title.zh, title.en)}"
        if frame.geom_type.eq("Point").all():
            style = {"color": spec.colour, "weight": 3, "fillColor": "#ffffff", "fillOpacity": 0.6}
            radius = spec.radius
        else:
            style = {"color": spec.colour, "weight": 2, "dashArray": "4 3", "fillColor": spec.colour, "fillOpacity": spec.fill_opacity}
            radius = None
        geojson = _geojson(frame, popups, tooltips, [style] * len(frame), name=name, show=show, pane="gaps", radius=radius)
        geojson.add_to(m)
        symbol = _swatch(spec.colour) if radius is None else f'<span class="gis-ring" style="border-color:{spec.colour}"></span>'
        legend = f"{symbol}{ctx.t('缺口', 'gaps')} · {_e(indicator)} {ctx.t(title.zh, title.en)} <small>({len(frame)})</small>"
        _add_legend(ctx, geojson, legend, show=show)


def _chosen(ctx: _Context, key: str, spec: RunLayerSelection, available: list[str]) -> list[str]:
    """The indicators of ``available`` that the spec's section ``key`` draws: included and not excluded."""
    _check_ids(ctx, f"{key}.include", [] if spec.include == "all" else spec.include)
    _check_ids(ctx, f"{key}.exclude", spec.exclude)
    wanted = available if spec.include == "all" else [i for i in spec.include if i in available]
    return [i for i in wanted if i not in spec.exclude]


def _feature_texts(
    ctx: _Context,
    frame: gpd.GeoDataFrame,
    fields: list[str],
    kind: tuple[str, str],
    indicator: str,
    title: Title,
    shown: Callable[[dict[str, Any], str], str],
) -> tuple[list[str], list[str]]:
    """Popups (a heading, then a row per field, each value as ``shown`` gives it) and tooltips of a
    gap or proposal layer; ``kind`` names it in Chinese and English."""
    heading = f"<b>{ctx.t(*kind)} · {_e(indicator)}</b> {ctx.t(title.zh, title.en)}"
    rows, labels = _records(frame), {f: _field_label(ctx, f) for f in fields}
    popups = [heading + _table((labels[f], shown(row, f)) for f in fields) for row in rows]
    tooltips = [f"{ctx.t(*kind)} · {_e(indicator)}: {_text(row.get('name', row.get('id')))}" for row in rows]
    return popups, tooltips


# --- proposal layers -------------------------------------------------------------------------

_PROPOSAL_HIDDEN = {"indicator", "feature_id", "run_id", "geometry"}
_SHARE_FIELDS = {"share_after", "permeable_share", "value_after"}


def _proposal_summary(ctx: _Context, indicator: str) -> str:
    """The city row of the indicator's proposal (else its zone count): value before → after, target met or not."""
    table = ctx.run.proposals
    zones = table.loc[(table["indicator"] == indicator) & (table["row_type"] == "zone")]
    if zones.empty:
        return ""
    rows = ctx.run.indicators.loc[ctx.run.indicators["indicator"] == indicator, "unit"]
    unit = str(rows.iloc[0]) if not rows.empty else ""
    city = zones.loc[zones["zone_type"] == "city"]
    if city.empty:
        return f"<div><small>{len(zones)} {ctx.t('个地区', 'zones')}</small></div>"
    row = city.iloc[0]
    meets = row["meets_target"]
    verdict = "" if pd.isna(meets) else (_status_text(ctx, "met") if bool(meets) else _status_text(ctx, "gap"))
    return (
        f"<div>{_e(str(row['action']))}</div>"
        f"<div>{ctx.t('全市', 'city')}: {_amount(row['value_before'], unit)} → <b>{_amount(row['value_after'], unit)}</b> {verdict}</div>"
    )


def _add_proposal_layers(m: folium.Map, ctx: _Context, indicators: list[str], start: str | None) -> None:
    """The ``<id>.proposals`` layers (new sites, lots to equip, blocks, sewer lines), in the proposal colour."""
    spec = ctx.spec.proposals
    available = {name.removesuffix(".proposals"): name for name in ctx.run.proposal_layers}
    for indicator in _chosen(ctx, "proposals", spec, list(available)):
        frame = _to_web(ctx, ctx.run.read_layer(available[indicator])).explode(index_parts=False)
        if frame.empty:
            continue
        title = _indicator_title(ctx, indicator)
        show = spec.shown(indicator, start)
        fields = [c for c in frame.columns if c not in _PROPOSAL_HIDDEN]

        def shown(row: dict[str, Any], name: str) -> str:
            return _amount(row[name], "share") if name in _SHARE_FIELDS else _text(row[name], ctx.lang)

        popups, tooltips = _feature_texts(ctx, frame, fields, ("建议", "proposal"), indicator, title, shown)
        name = f"{_swatch(spec.colour)}{ctx.t('建议', 'proposals')} · {_e(indicator)} {_short_title(ctx, title.zh, title.en)}"
        radius = None
        if frame.geom_type.eq("Point").all():
            style = {"color": "#ffffff", "weight": 1.5, "fillColor": spec.colour, "fillOpacity": 0.95}
            radius = spec.radius
            symbol = _swatch(spec.colour, round_=True)
        elif frame.geom_type.isin(["LineString", "MultiLineString"]).all():
            style = {"color": spec.colour, "weight": spec.weight, "opacity": 0.95}
            symbol = f'<span class="gis-sw" style="background:{spec.colour};height:3px"></span>'
        else:
            style = {"color": spec.colour, "weight": 1.5, "fillColor": spec.colour, "fillOpacity": spec.fill_opacity}
            symbol = _swatch(spec.colour)
        geojson = _geojson(frame, popups, tooltips, [style] * len(frame), name=name, show=show, pane="proposals", radius=radius)
        geojson.add_to(m)
        legend = f"{symbol}{ctx.t('建议', 'proposals')} · {_e(indicator)} {ctx.t(title.zh, title.en)} <small>({len(frame)})</small>"
        _add_legend(ctx, geojson, legend + _proposal_summary(ctx, indicator), show=show)


def _indicator_title(ctx: _Context, indicator: str) -> Title:
    rows = ctx.run.indicators.loc[ctx.run.indicators["indicator"] == indicator]
    if rows.empty:
        return Title(zh=indicator, en=indicator)
    return Title(zh=str(rows["title_zh"].iloc[0]), en=str(rows["title_en"].iloc[0]))


def _field_label(ctx: _Context, name: str) -> str:
    """The popup label of a field: the spec's (a plain string, or zh and en), else the field's name."""
    text = ctx.spec.field_labels.get(name, name)
    if isinstance(text, str):
        return _e(text)
    return ctx.t(text.zh, text.en) + (f" ({_e(text.unit)})" if text.unit else "")


def _short_title(ctx: _Context, zh: object, en: object) -> str:
    """An indicator title in the layer control: Chinese in 'both' (the English is in the legend), English in 'en'."""
    return _e(str(en if ctx.lang == "en" else zh))


# --- coverage areas --------------------------------------------------------------------------


def _coverage_source(ctx: _Context, index: int, entry: CoverageLayer) -> tuple[str, Condition | None, float] | None:
    """The covering layer, its filter and the distance of an indicator, from the run record."""
    _check_ids(ctx, f"coverage.{index}.indicator", [entry.indicator])
    record = ctx.run.record["indicators"].get(entry.indicator)
    if record is None:
        log.info("map: coverage of %s left out: not in this run", entry.indicator)
        return None
    method, inputs, parameters = record["method"], record["inputs"], record.get("parameters", {})
    keys = {"within": ("coverage", "coverage_where"), "coverage": ("facilities", "facilities_where")}
    if method not in keys or "distance_m" not in parameters:
        msg = (
            f"{ctx.spec.source}: key 'coverage.{index}.indicator': '{entry.indicator}' (method {method}) has no "
            "coverage area; use an indicator of method within or coverage"
        )
        raise ConfigError(msg)
    layer_key, where_key = keys[method]
    where = parameters.get(where_key)
    return inputs[layer_key], Condition.model_validate(where) if where else None, float(parameters["distance_m"])


def _add_coverage(m: folium.Map, ctx: _Context) -> None:
    """Areas within an indicator's distance of its covering layer (heating network, stations)."""
    if ctx.layers is None:
        return
    for index, entry in enumerate(ctx.spec.coverage):
        source = _coverage_source(ctx, index, entry)
        if source is None:
            continue
        layer, where, distance = source
        frame = ctx.layers.read_vector(layer)
        frame = frame.loc[evaluate(frame, where, layer=layer, project=ctx.layers)]
        if frame.empty:
            continue
        layer_title = _split_title(ctx.layers.entry(layer).title, layer)
        title = entry.title or Title(
            zh=f"{layer_title.zh}覆盖范围（{distance:g} 米）", en=f"coverage of {layer_title.en} ({distance:g} m)"
        )
        area = gpd.GeoDataFrame(geometry=[shapely.union_all(frame.geometry.buffer(distance).values)], crs=frame.crs)
        area = _to_web(ctx, area)
        group = folium.FeatureGroup(name=f"{_swatch(entry.colour)}{ctx.t('覆盖', 'coverage')} · {ctx.t(title.zh, title.en)}", show=entry.show)
        style = {"color": entry.colour, "weight": 1, "fillColor": entry.colour, "fillOpacity": entry.fill_opacity}
        _geojson(area, None, None, [style], pane="coverage").add_to(group)
        if entry.features and frame.geom_type.isin(["LineString", "MultiLineString"]).all():
            lines = _to_web(ctx, frame)
            line_style = {"color": entry.colour, "weight": 1.5, "opacity": 0.9}
            _geojson(lines, None, None, [line_style] * len(lines), pane="lines").add_to(group)
        group.add_to(m)
        _add_legend(ctx, group, f"{_swatch(entry.colour)}{ctx.t('覆盖', 'coverage')} · {ctx.t(title.zh, title.en)}", show=entry.show)


# --- facilities ------------------------------------------------------------------------------


def _facility_status(ctx: _Context, layer: str, frame: gpd.GeoDataFrame, entry: FacilityLayer) -> tuple[pd.Series, list[list[str]]]:
    """Per feature: whether any check lists it as a gap, and the status lines for its popup."""
    flagged = pd.Series(False, index=frame.index)
    lines: list[list[str]] = [[] for _ in range(len(frame))]
    for number, check in enumerate(entry.status):
        _check_ids(ctx, f"facilities.{layer}.status.{number}.indicator", [check.indicator])
        if check.indicator not in ctx.run.record["indicators"]:
            continue
        gaps_layer = f"{check.indicator}.gaps"
        gap_ids = set(ctx.run.read_layer(gaps_layer)["id"].astype(str)) if gaps_layer in ctx.run.layers else set()
        applies = evaluate(frame, check.applies, layer=layer, project=ctx.layers)
        is_gap = frame["id"].astype(str).isin(gap_ids) & applies
        flagged |= is_gap
        title = _indicator_title(ctx, check.indicator)
        gap = check.gap or Title(zh=ctx.spec.status.gap.zh, en=ctx.spec.status.gap.en)
        ok = check.ok or Title(zh=ctx.spec.status.met.zh, en=ctx.spec.status.met.en)
        for position, (applied, gapped) in enumerate(zip(applies, is_gap, strict=True)):
            if applied:
                text = ctx.t(gap.zh, gap.en) if gapped else ctx.t(ok.zh, ok.en)
                css = "gis-gap" if gapped else "gis-ok"
                lines[position].append(f'<span class="{css}">{text}</span> <small>{_e(check.indicator)} {_short_title(ctx, title.zh, title.en)}</small>')
    return flagged, lines


def _cluster_icon(colour: str, gap_colour: str) -> str:
    """A cluster icon in the layer's colour, ringed in the gap colour when it holds a gap facility."""
    return f"""function(cluster) {{
        var gaps = cluster.getAllChildMarkers().filter(function(m) {{ return m.options.gisGap; }}).length;
        var ring = gaps ? ';box-shadow:0 0 0 3px {gap_colour}' : '';
        var html = '<div style="background:{colour}' + ring + '">' + cluster.getChildCount() + (gaps ? '<sup>' + gaps + '</sup>' : '') + '</div>';
        return L.divIcon({{html: html, className: 'gis-cluster', iconSize: L.point(32, 32)}});
    }}"""


def _facility_texts(
    ctx: _Context, web: gpd.GeoDataFrame, fields: list[str], heading: str, status_lines: list[list[str]]
) -> tuple[list[str], list[str]]:
    popups, tooltips = [], []
    labels = {f: _field_label(ctx, f) for f in fields}
    for row, lines in zip(_records(web), status_lines, strict=True):
        name = _text(row.get("name", row["id"]))
        status = "".join(f"<div>{ctx.t('状态', 'status')}: {line}</div>" for line in lines)
        popups.append(f"<b>{name}</b> <small>{heading}</small>{_table((labels[f], _text(row[f], ctx.lang)) for f in fields)}{status}")
        tooltips.append(f"{name} <small>{heading}</small>")
    return popups, tooltips


def _add_facilities(m: folium.Map, ctx: _Context) -> None:
    """The project's facility layers: clustered circle markers (points) or lines, with popups."""
    if ctx.layers is None:
        if ctx.spec.facilities:
            log.warning("map: no project folder; facility layers left out")
        return
    for layer, entry in ctx.spec.facilities.items():
        if layer not in ctx.layers.catalog.layers or ctx.layers.entry(layer).kind != "vector":
            known = ", ".join(n for n, e in ctx.layers.catalog.layers.items() if e.kind == "vector")
            msg = f"{ctx.spec.source}: key 'facilities.{layer}': no vector layer '{layer}' in {ctx.layers.catalog_path} (vector layers: {known})"
            raise ConfigError(msg)
        frame = ctx.layers.read_vector(layer)
        columns = [c for c in frame.columns if c != "geometry"]
        fields = entry.fields or columns
        missing = [f for f in fields if f not in columns]
        if missing:
            msg = f"{ctx.spec.source}: key 'facilities.{layer}.fields': layer '{layer}' has no field '{missing[0]}' (fields: {', '.join(columns)})"
            raise ConfigError(msg)
        flagged, status_lines = _facility_status(ctx, layer, frame, entry)
        web = _to_web(ctx, frame.assign(_flagged=flagged.values, _lines=status_lines))
        title = entry.title or _split_title(ctx.layers.entry(layer).title, layer)
        heading = ctx.t(title.zh, title.en)
        popups, tooltips = _facility_texts(ctx, web, fields, heading, list(web["_lines"]))
        gap_colour = entry.gap_colour or ctx.spec.status.gap.colour
        flags = [bool(f) for f in web["_flagged"]]
        colours = [gap_colour if f else entry.colour for f in flags]
        label = f"{_swatch(entry.colour, round_=True)}{heading}"
        if web.geom_type.isin(["LineString", "MultiLineString"]).all():
            styles = [{"color": c, "weight": entry.weight, "opacity": 0.9} for c in colours]
            shown: folium.map.Layer = _geojson(web, popups, tooltips, styles, name=label, show=entry.show, pane="lines")
        else:
            styles = [
                {"color": "#ffffff", "weight": 1, "fillColor": c, "fillOpacity": 0.9, "gisGap": f}
                for c, f in zip(colours, flags, strict=True)
            ]
            radius = entry.radius
            if entry.cluster:
                shown = MarkerCluster(
                    name=label, show=entry.show, icon_create_function=_cluster_icon(entry.colour, gap_colour),
                    options={"showCoverageOnHover": False, "maxClusterRadius": 40},
                )
                _geojson(web, popups, tooltips, styles, pane="points", radius=radius).add_to(shown)
            else:
                shown = _geojson(web, popups, tooltips, styles, name=label, show=entry.show, pane="points", radius=radius)
        shown.add_to(m)
        count = f"{heading} <small>({len(web)})</small>"
        if entry.status:
            gaps = f"{_swatch(gap_colour, round_=True)}{_status_text(ctx, 'gap')} <small>({int(web['_flagged'].sum())})</small>"
            count += f"<ul><li>{gaps}</li></ul>"
        _add_legend(ctx, shown, f"{_swatch(entry.colour, round_=True)}{count}", show=entry.show)


# --- basemap, legend, banner -----------------------------------------------------------------


def _add_basemap(m: folium.Map, basemap: str) -> None:
    if basemap not in BASEMAPS:
        msg = f"unknown basemap '{basemap}'; choose one of {', '.join(BASEMAPS)}"
        raise UsageError(msg)
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=False).add_to(m)
    elif basemap == "tianditu":
        key = os.environ.get("TIANDITU_KEY", "").strip()
        if not key:
            msg = (
                "basemap 'tianditu' needs a key in the environment variable TIANDITU_KEY "
                "(https://console.tianditu.gov.cn); or use basemap none or osm"
            )
            raise UsageError(msg)
        attribution = "&copy; 天地图 Tianditu"
        for layer, overlay in (("vec", False), ("cva", True)):
            folium.TileLayer(
                _TIANDITU.format(layer=layer, key=quote(key, safe="")), attr=attribution, name=f"天地图 Tianditu {layer}",
                subdomains="01234567", max_zoom=18, overlay=overlay, control=False,
            ).add_to(m)


def _legend_heading(ctx: _Context) -> str:
    record = ctx.run.record
    title = ctx.spec.title
    if title is None and ctx.layers is not None:
        settings = ctx.layers.catalog.project
        title = Title(zh=settings.name_zh or settings.name, en=settings.name)
    heading = ctx.t(title.zh, title.en) if title else _e(str(record["project"]["name"]))
    return f'<div class="gis-title"><b>{heading}</b><br><small>{ctx.t("运行", "run")} {_e(str(record.get("run_id", "")))}</small></div>'


def _banner(ctx: _Context) -> str:
    notice = ctx.spec.synthetic_notice
    layers = sorted(name for name, entry in ctx.run.record.get("inputs", {}).items() if entry.get("synthetic"))
    detail = f"{ctx.t('合成输入', 'synthetic inputs')}: {_e(', '.join(layers))}"
    return f'<div class="gis-banner" role="alert" title="{detail}">⚠ {ctx.t(notice.zh, notice.en)}</div>'


class _Legend(MacroElement):
    """A collapsible legend control; each layer's section is shown while the layer is on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var control = L.control({position: "bottomright"});
            control.onAdd = function() {
                var div = L.DomUtil.create("div", "gis-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo(map);
            var sections = {{ this.toggles|tojson }};
            map.on("overlayadd overlayremove", function(e) {
                for (var id in sections) {
                    if (window[sections[id]] === e.layer) {
                        document.getElementById(id).hidden = e.type === "overlayremove";
                    }
                }
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, toggles: dict[str, str], title: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.html = f'<details open><summary><b>{title}</b></summary>{html_text}</details>'
        self.toggles = toggles


_CSS = """<style>
.gis-legend {background: rgba(255,255,255,0.95); padding: 6px 10px; border-radius: 5px; box-shadow: 0 1px 5px rgba(0,0,0,0.4);
  max-height: 60vh; max-width: 380px; overflow-y: auto; font: 12px/1.4 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;}
.gis-legend .gis-section {margin: 4px 0; border-top: 1px solid #ddd; padding-top: 3px;}
.gis-cluster div {width: 28px; height: 28px; margin: 2px; border-radius: 50%; color: #fff; font: bold 12px/28px sans-serif;
  text-align: center; box-shadow: 0 0 0 3px rgba(255,255,255,0.7); opacity: 0.9;}
.gis-cluster sup {font-size: 9px; color: #ffe08a; margin-left: 1px;}
.gis-legend summary {cursor: pointer;}
.gis-legend ul {list-style: none; margin: 2px 0; padding-left: 8px;}
.gis-legend .gis-en {color: #555;}
.gis-legend .gis-title {margin: 4px 0;}
.gis-sw {display: inline-block; width: 14px; height: 10px; margin-right: 5px; border: 1px solid #555; vertical-align: middle;}
.gis-dot {display: inline-block; width: 10px; height: 10px; margin-right: 5px; border-radius: 50%; border: 1px solid #fff;
  box-shadow: 0 0 0 1px #555; vertical-align: middle;}
.gis-ring {display: inline-block; width: 8px; height: 8px; margin-right: 5px; border-radius: 50%; border: 3px solid; vertical-align: middle;}
.gis-attrs th {text-align: left; padding-right: 8px; color: #555; font-weight: normal;}
.gis-gap {color: #b2182b; font-weight: bold;}
.gis-ok {color: #1a7837; font-weight: bold;}
.gis-banner {position: fixed; top: 0; left: 50%; transform: translateX(-50%); z-index: 1001; background: #fff3cd; color: #7a4b00;
  border: 2px solid #e0a800; border-top: none; border-radius: 0 0 6px 6px; padding: 4px 14px; font: bold 14px sans-serif;}
.leaflet-control-layers-list {font-size: 12px;}
.leaflet-popup-content {font-size: 12px; line-height: 1.4;}
.gis-label div {transform: translate(-50%, -50%); white-space: nowrap; font: bold 12px sans-serif; color: #222;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; pointer-events: none;}
</style>"""
