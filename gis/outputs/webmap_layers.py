"""The layers of the web map: indicator zones, county outlines and names, gap and proposal features, coverage areas,
facilities, and the context beneath them all (built-up areas, roads, rivers).

Each ``add_*`` function adds its layers to a folium map, with their legend sections, from a
:class:`MapContext`, and records them for the layer panel (:mod:`gis.outputs.webmap_panel`): an indicator's
zones as a radio choice, its gaps, proposals and coverage as the layers that follow it, facilities and
context as checkboxes. Colours and classes come from the map spec through
:mod:`gis.outputs.symbology`, numbers are formatted by :mod:`gis.outputs.text`; every text
from a data file or a spec is HTML-escaped (:func:`escape_text`) before it reaches the page.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import MarkerCluster
from shapely.geometry import LineString

from gis.bilingual import text_of
from gis.errors import ConfigError
from gis.methods.conditions import evaluate
from gis.outputs._leaflet import FeatureLayer
from gis.outputs.folder import RunOutputs
from gis.outputs.i18n import YES_NO, Lang, label, value_label, zone_label
from gis.outputs.run_texts import SpecText, proposal_text, reason_text, spec_pair, spec_unit
from gis.outputs.summary import not_assessed
from gis.outputs.symbology import STATUSES, classify_zones
from gis.outputs.text import MISSING, clause_text, format_number, format_target, format_value, zone_rule
from gis.outputs.webmap_panel import PanelIndicator, PanelLayer
from gis.project.layers import LayerReader
from gis.project.mapspec import ContextLayer, CoverageLayer, FacilityLayer, MapSpec, RunLayerSelection
from gis.project.specs import Condition, Title
from gis.values import is_missing

log = logging.getLogger("gis")

WEB_CRS = "EPSG:4326"
_INTERNAL_FIELDS = {"feature_id", "run_id", "indicator", "synthetic", "geometry"}
"""Fields of the run's layers that popups never show (the GeoPackage keeps them)."""
_REPEATS = {"distance_km": "distance_m"}
"""A field left out of a popup when the one it repeats is there (the same distance in km and in m)."""
_ZONE_FIELDS = {"county_id": "county"}
"""Fields holding a zone id, by zone type: popups show the zone's name."""
_SOURCE_FIELDS = {"project_status": "status"}
"""Fields of a proposal layer that carry a field of the layer its items come from under another name (the key
projects' ``status``): their values are named by that field's table of coded values."""


def escape_text(text: str) -> str:
    """``text`` escaped for HTML, braces too: no text from the data can open a Jinja tag in folium's templates."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


@dataclass
class MapContext:
    """What every layer builder needs: the run, the spec, the project's layers, the zones' names and the language."""

    run: RunOutputs
    spec: MapSpec
    layers: LayerReader | None
    metric_crs: str
    names: dict[tuple[str, str], tuple[str, str]]  # the catalog's (name, name_en) by (zone_type, zone_id)
    lang: Lang = "both"
    legend: list[str] = field(default_factory=list)
    toggles: dict[str, str] = field(default_factory=dict)  # legend section id -> JS layer name
    choices: dict[str, PanelIndicator] = field(default_factory=dict)  # the panel's indicators, by id
    checks: dict[str, list[PanelLayer]] = field(default_factory=dict)  # the panel's checkboxes, by group ("facilities", "context")
    zone_names: dict[tuple[str, str], str] = field(default_factory=dict)  # every zone's name by (zone_type, zone_id)
    parents: dict[str, str] = field(default_factory=dict)  # a county's prefecture as its popup names it (escaped), by county id
    top: tuple[str, str] = ("全市", "city")  # what the top zone is called: the city, or the province above prefectures
    prefectures_on: bool = True  # whether the prefecture choropleths are shown at the start (instead of the counties)
    titles: dict[str, Title] = field(default_factory=dict)  # indicator titles, found once each (_indicator_title)

    def t(self, zh: str, en: str | None) -> str:
        """A label in the map's language, escaped: '中文', 'English' or '中文 English'."""
        return escape_text(label(zh, en, self.lang))

    def unit(self, indicator: str, unit: object, key: str = "unit") -> SpecText:
        """An indicator's unit (or ``shortfall_unit``) in both languages from run.json, else the row's ``unit``."""
        return spec_unit(self.run.record, indicator, unit, key)

    def clause(self, clause: object) -> str:
        """A clause of the plan in the map's language, escaped ('二(三)', 'part 2 (3)')."""
        return escape_text(clause_text(clause, self.lang))

    def layer_title(self, layer: str) -> Title:
        """A catalog layer's title in Chinese and English, else its name."""
        entry = self.layers.catalog.layers.get(layer) if self.layers is not None else None
        if entry is None or entry.title is None:
            return Title(zh=layer, en=layer)
        return Title(zh=entry.title.zh, en=entry.title.en)

    def values(self, layers: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The catalog's tables of coded values by field of ``layers`` (the first layer's table of a field wins)."""
        tables: dict[str, dict[str, Any]] = {}
        for layer in layers:
            entry = self.layers.catalog.layers.get(layer) if self.layers is not None else None
            for name, table in (entry.values if entry is not None else {}).items():
                tables.setdefault(name, table)
        return tables

    def zone_name(self, name: str) -> str:
        """A name that is a zone's in the catalog ('湖滨区') as the map's language names it ('Hubin'), else as it is; escaped."""
        pair = next((p for p in self.names.values() if p[0] == name), None)
        return escape_text(zone_label(name, pair, self.lang) if pair is not None else name)


def zone_names(layers: LayerReader | None) -> dict[tuple[str, str], str]:
    """Every zone's name by (zone_type, zone_id), from the catalog's zone layers (popups name zones, never give ids)."""
    if layers is None:
        return {}
    names: dict[tuple[str, str], str] = {}
    for zone_type, level in layers.catalog.zones.items():
        frame = layers.read_vector(level.layer)
        local = frame[level.name_field] if level.name_field in frame.columns else frame[level.id_field]
        for zone_id, name in zip(frame[level.id_field].astype(str), local, strict=True):
            if not is_missing(name):
                names[(zone_type, zone_id)] = str(name)
    return names


def follow(ctx: MapContext, indicator: str, label: str, layer: folium.map.Layer, *, on: bool) -> None:
    """Make ``layer`` follow ``indicator`` in the panel: shown while the indicator is chosen and its checkbox (on at
    the start when ``on``) is ticked."""
    ctx.choices[indicator].follow.append(PanelLayer(label, layer.get_name(), on))


def check(ctx: MapContext, group: str, label: str, layer: folium.map.Layer, *, on: bool) -> None:
    """A checkbox for ``layer`` in the panel's ``group`` ("facilities" or "context")."""
    ctx.checks.setdefault(group, []).append(PanelLayer(label, layer.get_name(), on))


def add_legend(ctx: MapContext, layer: folium.map.Layer, html_text: str, *, show: bool, kind: str = "") -> None:
    """A legend section that is shown while ``layer`` is on the map; ``kind`` "context" leaves it off the printed page."""
    section = f"gis-legend-{len(ctx.toggles)}"
    ctx.toggles[section] = layer.get_name()
    hidden = "" if show else " hidden"
    css = "gis-section gis-legend-context" if kind == "context" else "gis-section"
    ctx.legend.append(f'<div class="{css}" id="{section}"{hidden}>{html_text}</div>')


def not_assessed_legend(ctx: MapContext) -> str:
    """The legend's list of the indicators not assessed (no layer on the map), each with the layer it lacks; '' when none."""
    skipped = not_assessed(ctx.run.indicators)
    if not skipped:
        return ""
    total = int(ctx.run.indicators["indicator"].nunique())
    head = ctx.t(f"已评估 {total - len(skipped)} / {total} 项指标；未评估（无图层）",
                 f"{total - len(skipped)} of {total} indicators assessed; not assessed (no map layer)")
    titles = {item.indicator: _indicator_title(ctx, item.indicator) for item in skipped}
    items = "".join(
        f"<li>{escape_text(item.indicator)} {_short_title(ctx, titles[item.indicator].zh, titles[item.indicator].en)}: "
        f"{escape_text(reason_text(item.reason, ctx.lang))}</li>"
        for item in skipped
    )
    return f'<div class="gis-section gis-not-assessed"><small>{head}:</small><ul>{items}</ul></div>'


def _known_indicators(ctx: MapContext) -> set[str]:
    if ctx.layers is not None:
        return {s.id for s in ctx.layers.specs} | set(ctx.run.record["indicators"])
    return set(ctx.run.record["indicators"])


def check_ids(ctx: MapContext, key: str, ids: Iterable[str]) -> None:
    """Refuse indicator ids in the map spec that no spec of the project has (typos)."""
    known = _known_indicators(ctx)
    for indicator in ids:
        if indicator not in known:
            msg = f"{ctx.spec.source}: key '{key}': no indicator '{indicator}' (known: {', '.join(sorted(known))})"
            raise ConfigError(msg)


def _chosen(ctx: MapContext, key: str, spec: RunLayerSelection, available: list[str]) -> list[str]:
    """The indicators of ``available`` that the spec's section ``key`` draws: included and not excluded."""
    check_ids(ctx, f"{key}.include", [] if spec.include == "all" else spec.include)
    check_ids(ctx, f"{key}.exclude", spec.exclude)
    wanted = available if spec.include == "all" else [i for i in spec.include if i in available]
    return [i for i in wanted if i not in spec.exclude]


# --- geometry ---------------------------------------------------------------------------------------


def _to_web(ctx: MapContext, frame: gpd.GeoDataFrame, *, coverage: bool = False) -> gpd.GeoDataFrame:
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
    shared: bool = False,
) -> FeatureLayer:
    """A layer of ``frame`` whose popups and tooltips are ready-made, escaped HTML (None: not interactive); with
    ``shared`` its shapes go into the page once for every layer drawing the same ones (every indicator's counties)."""
    return FeatureLayer(
        frame, styles, popups=popups, tooltips=tooltips, name=name, show=show, pane=pane,
        radius=radius if radius is not None else 6.0, highlight={"weight": 3, "color": "#000000"} if highlight else None,
        shared=shared,
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts, geometry left out (far quicker than ``iterrows`` for popups)."""
    return frame.drop(columns="geometry", errors="ignore").to_dict("records")


# --- text -------------------------------------------------------------------------------------------


def _amount(value: object, unit: object, lang: Lang = "both") -> str:
    """A value in its unit (in ``lang``), escaped: shares as percentages."""
    return escape_text(format_value(value, unit, lang))


def _text(value: object, lang: Lang = "both") -> str:
    """Any attribute value as escaped text (yes and no in ``lang``)."""
    if isinstance(value, bool | np.bool_):
        return escape_text(label(*YES_NO[bool(value)], lang))
    if is_missing(value) or isinstance(value, float | np.floating):
        return escape_text(format_number(value))
    return escape_text(str(value))


def _status_text(ctx: MapContext, status: str) -> str:
    style = ctx.spec.status.of(status)
    return ctx.t(style.zh, style.en)


def _table(rows: Iterable[tuple[str, str]]) -> str:
    """Rows of (escaped label, escaped value) as a small HTML table."""
    return '<table class="gis-attrs">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _swatch(colour: str, *, round_: bool = False) -> str:
    shape = "gis-dot" if round_ else "gis-sw"
    return f'<span class="{shape}" style="background:{colour}"></span>'


def _zone_label(ctx: MapContext, zone_type: str, zone_id: str, zone_name: object) -> str:
    name = "" if is_missing(zone_name) else str(zone_name)
    name = name or zone_id
    return escape_text(zone_label(name, ctx.names.get((zone_type, zone_id)), ctx.lang))


def _target_text(ctx: MapContext, row: dict[str, Any] | pd.Series) -> str:
    """'≥ 40.0% (YEAR)': the target and the target year of the zone's row; '—' without one."""
    if is_missing(row.get("target")):
        return MISSING
    year = "" if is_missing(row.get("target_year")) else f" ({int(row['target_year'])})"
    unit = ctx.unit(str(row["indicator"]), row["unit"])
    return escape_text(format_target(row.get("comparator"), row["target"], unit, ctx.lang) + year)


def _zone_rule(ctx: MapContext, row: dict[str, Any]) -> str:
    """How the zone's target follows from its baseline ('-16 % from the 2020 value'), escaped; '' when it does not."""
    if is_missing(row.get("target")):
        return ""
    record = ctx.run.record
    target = ((record.get("indicators") or {}).get(str(row["indicator"])) or {}).get("target")
    unit, zone_id, year = ctx.unit(str(row["indicator"]), row["unit"]), row["zone_id"], record.get("baseline_year")
    zh = zone_rule(target, zone_id, unit, lang="zh", baseline_year=year)
    en = zone_rule(target, zone_id, unit, lang="en", baseline_year=year)
    return escape_text(label(zh, en, ctx.lang)) if en else ""


def _short_title(ctx: MapContext, zh: object, en: object) -> str:
    """An indicator title in the layer control: Chinese in 'both' (the English is in the legend), English in 'en'."""
    return escape_text(str(en if ctx.lang == "en" else zh))


def _indicator_title(ctx: MapContext, indicator: str) -> Title:
    """An indicator's title in Chinese and English: run.json's, else its rows', else its id (found once per map)."""
    if indicator not in ctx.titles:
        ctx.titles[indicator] = _find_title(ctx, indicator)
    return ctx.titles[indicator]


def _find_title(ctx: MapContext, indicator: str) -> Title:
    rows = ctx.run.indicators.loc[ctx.run.indicators["indicator"] == indicator]
    zh, en = (str(rows["title_zh"].iloc[0]), str(rows["title_en"].iloc[0])) if not rows.empty else (indicator, indicator)
    pair = spec_pair(ctx.run.record, indicator, "title")
    if isinstance(pair, dict):
        zh, en = pair["zh"], pair["en"]
    return Title(zh=zh, en=en)


def _reading(ctx: MapContext, row: dict[str, Any]) -> str:
    """The spec's reading of the target in the map's language (both: the row's, as written), escaped; '' when none."""
    written = row.get("reading")
    if ctx.lang == "both":
        return "" if is_missing(written) else escape_text(str(written))
    pair = spec_pair(ctx.run.record, str(row["indicator"]), "reading", written)
    return escape_text(text_of(pair, ctx.lang))


def _field_label(ctx: MapContext, name: str) -> str:
    """The popup label of a field: the spec's (a plain string, or zh and en), else the field's name."""
    text = ctx.spec.field_labels.get(name, name)
    if isinstance(text, str):
        return escape_text(text)
    return ctx.t(text.zh, text.en) + (f" ({escape_text(text.unit)})" if text.unit else "")


# --- indicator layers -------------------------------------------------------------------------------


def _zone_popup(ctx: MapContext, row: dict[str, Any], label: str, *, level: str = "", parent: str | None = None) -> str:
    """A zone's popup: its name (its ``level`` beside it: 地级市 prefecture) and its row; a county's ``parent`` prefecture named."""
    t = ctx.t
    indicator = str(row["indicator"])
    title = _indicator_title(ctx, indicator)
    unit = ctx.unit(indicator, row["unit"])
    rows = [
        (t("指标", "indicator"), f"{escape_text(indicator)} {t(title.zh, title.en)}"),
        (t("条款", "clause"), ctx.clause(row["clause"])),
        (t("数值", "value"), _amount(row["value"], unit, ctx.lang)),
        (t("目标", "target"), _target_text(ctx, row)),
        (t("状态", "status"), _status_text(ctx, str(row["status"]))),
    ]
    rule = _zone_rule(ctx, row)
    if rule:
        rows.insert(4, (t("目标规则", "target rule"), rule))
    if str(row["status"]) == "gap" and not is_missing(row.get("shortfall")):
        rows.append((t("缺口", "shortfall"), _amount(row["shortfall"], ctx.unit(indicator, row.get("shortfall_unit"), "shortfall_unit"),
                                                   ctx.lang)))
    if not is_missing(row.get("baseline")):
        rows.append((t("基线", "baseline"), _amount(row["baseline"], unit, ctx.lang)))
    for key, label_text in (("numerator", t("分子", "numerator")), ("denominator", t("分母", "denominator"))):
        if not is_missing(row.get(key)):
            rows.append((label_text, _text(float(row[key]))))
    reading = _reading(ctx, row)
    if reading:
        rows.append((t("解读", "reading"), reading))
    if parent is not None:
        rows.insert(0, (t("地级市", "prefecture"), parent))
    said = f" <small>{level}</small>" if level else ""
    return f"<b>{label}</b>{said}{_table(rows)}"


def _zone_colours(
    ctx: MapContext, zones: gpd.GeoDataFrame, indicator: str, unit: str
) -> tuple[list[str], list[tuple[str, str, int]], bool]:
    """Fill colour per zone and the legend's (colour, label, count); the last item says whether by value."""
    classes = classify_zones(zones, ctx.spec, indicator)
    fills = [classes.fill(str(s), v) for s, v in zip(zones["status"], pd.to_numeric(zones["value"], errors="coerce"), strict=True)]
    if not classes.by_value:
        counts = zones["status"].value_counts()
        entries = [
            (classes.status_colours[s], _status_text(ctx, s), int(counts[s]))
            for s in STATUSES
            if s in counts
        ]
        return fills, entries, False
    values = pd.to_numeric(zones["value"], errors="coerce")
    index = np.searchsorted(classes.breaks, values.fillna(0), side="right")
    names = [escape_text(text) for text in classes.labels(ctx.unit(indicator, unit), ctx.lang)]
    entries = [(colour, names[i], int(((index == i) & values.notna()).sum())) for i, colour in enumerate(classes.colours)]
    if values.isna().any():
        entries.append((classes.no_data, _status_text(ctx, "no_data"), int(values.isna().sum())))
    return fills, entries, True


def add_indicator(m: folium.Map, ctx: MapContext, indicator: str, *, show: bool) -> np.ndarray:
    """One indicator's zones coloured by status or value, with its legend section; returns bounds.

    Its prefectures, when the run has them, are a choropleth of their own that follows the indicator
    (:func:`add_prefectures`); the zones drawn here are those below them."""
    layer = ctx.run.read_layer(indicator)
    city = layer.loc[layer["zone_type"] == "city"]
    prefectures = layer.loc[layer["zone_type"] == "prefecture"]
    below = ~layer["zone_type"].isin(["city", "prefecture"])
    zones = layer.loc[below] if below.any() else prefectures if not prefectures.empty else city
    zones = _to_web(ctx, zones, coverage=True)
    unit = str(layer["unit"].iloc[0])
    fills, entries, by_value = _zone_colours(ctx, zones, indicator, unit)
    labels = [_zone_label(ctx, str(t), str(i), n) for t, i, n in zip(zones["zone_type"], zones["zone_id"], zones["zone_name"], strict=True)]
    records = _records(zones)
    parents = ctx.parents if below.any() else {}
    popups = [_zone_popup(ctx, row, label, parent=parents.get(str(row["zone_id"])) if row["zone_type"] == "county" else None)
              for row, label in zip(records, labels, strict=True)]
    tooltips = _zone_tooltips(ctx, labels, zones, ctx.unit(indicator, unit))
    base = {"color": ctx.spec.indicators.outline, "weight": 1, "fillOpacity": ctx.spec.indicators.fill_opacity}
    first = layer.iloc[0]
    title = _indicator_title(ctx, indicator)
    name = f"{escape_text(indicator)} {_short_title(ctx, title.zh, title.en)} — {ctx.clause(first['clause'])}"
    styles = [{**base, "fillColor": fill} for fill in fills]
    geojson = _geojson(zones, popups, tooltips, styles, name=name, show=show, pane="zones", highlight=True, shared=True)
    geojson.add_to(m)
    theme = "" if is_missing(first.get("theme")) else str(first["theme"])
    ctx.choices[indicator] = PanelIndicator(indicator, theme, name, geojson.get_name())
    _legend_indicator(ctx, geojson, first, city, entries, by_value, show)
    if below.any() and not prefectures.empty:
        add_prefectures(m, ctx, prefectures, city, show=show)
    return zones.total_bounds


def _zone_tooltips(ctx: MapContext, labels: list[str], zones: pd.DataFrame, unit: SpecText) -> list[str]:
    """'湖滨区: 39.2% — 未达标 gap'; a zone without a value says only its status ('湖滨区: 无数据'), not a dash before it."""
    return [
        f"{label}: {_status_text(ctx, str(s))}" if is_missing(v) else f"{label}: {_amount(v, unit, ctx.lang)} — {_status_text(ctx, str(s))}"
        for label, v, s in zip(labels, zones["value"], zones["status"], strict=True)
    ]


PREFECTURE_GROUP = "prefectures"
"""The panel's group of the prefecture layers: ticked for one indicator, ticked for all (:class:`PanelLayer`)."""


def add_prefectures(m: folium.Map, ctx: MapContext, rows: gpd.GeoDataFrame, city: gpd.GeoDataFrame, *, show: bool) -> None:
    """An indicator's prefectures coloured by status or value (classes of their own), above its counties, which they
    replace while shown: a checkbox under the indicator, ticked together for every indicator and on at the start
    (:attr:`MapContext.prefectures_on`); their shapes are in the page once for all (every layer of the same
    prefectures shares them: a province's map holds each prefecture's shape once)."""
    indicator = str(rows["indicator"].iloc[0])
    zones = _to_web(ctx, rows, coverage=True)
    unit = str(rows["unit"].iloc[0])
    fills, entries, by_value = _zone_colours(ctx, zones, indicator, unit)
    level = ctx.t("地级市", "prefecture")
    labels = [_zone_label(ctx, "prefecture", str(i), n) for i, n in zip(zones["zone_id"], zones["zone_name"], strict=True)]
    popups = [_zone_popup(ctx, row, label, level=level) for row, label in zip(_records(zones), labels, strict=True)]
    tooltips = _zone_tooltips(ctx, [f"{label} <small>{level}</small>" for label in labels], zones, ctx.unit(indicator, unit))
    base = {"color": ctx.spec.indicators.outline, "weight": 1.5, "fillOpacity": ctx.spec.indicators.fill_opacity}
    styles = [{**base, "fillColor": fill} for fill in fills]
    on = ctx.prefectures_on
    layer = FeatureLayer(zones, styles, popups=popups, tooltips=tooltips, show=show and on, pane="prefectures",
                         highlight={"weight": 3, "color": "#000000"}, shared=True)
    layer.add_to(m)
    heading = ctx.t("按地级市", "by prefecture")
    ctx.choices[indicator].follow.insert(0, PanelLayer(f"{heading} <small>({len(zones)})</small>", layer.get_name(), on,
                                                       group=PREFECTURE_GROUP, replaces=True))
    _legend_indicator(ctx, layer, rows.iloc[0], city, entries, by_value, show and on, level="prefecture")


def _legend_indicator(
    ctx: MapContext,
    geojson: folium.map.Layer,
    first: pd.Series,
    city: gpd.GeoDataFrame,
    entries: list[tuple[str, str, int]],
    by_value: bool,
    show: bool,
    *,
    level: str = "",
) -> None:
    """The legend section of an indicator's zones (its prefectures, with ``level`` "prefecture"): its title, the top zone's
    value against the target, and how the zones are coloured."""
    lines = []
    indicator = str(first["indicator"])
    title = _indicator_title(ctx, indicator)
    if not city.empty:
        row = city.iloc[0]
        label = _zone_label(ctx, "city", str(row["zone_id"]), row["zone_name"])
        value = "" if is_missing(row["value"]) else f"<b>{_amount(row['value'], ctx.unit(indicator, row['unit']), ctx.lang)}</b> — "
        lines.append(f"{ctx.t(*ctx.top)} {label}: {value}{_status_text(ctx, str(row['status']))}")
        if not is_missing(row.get("target")):
            lines.append(f"{ctx.t('目标', 'target')}: {_target_text(ctx, row)}")
    if level == "prefecture":
        heading = ctx.t("地级市按数值着色", "prefectures coloured by value") if by_value else \
            ctx.t("地级市按目标达成状态着色", "prefectures coloured by status against the target")
    elif by_value:
        heading = ctx.t("按数值着色", "coloured by value")
    else:
        heading = ctx.t("按目标达成状态着色", "coloured by status against the target")
    items = "".join(f"<li>{_swatch(c)}{t} <small>({n})</small></li>" for c, t, n in entries)
    english = f'<div class="gis-en">{escape_text(title.en)}</div>' if ctx.lang == "both" else ""
    text = (
        f'<b>{escape_text(indicator)}</b> {_short_title(ctx, title.zh, title.en)} '
        f'<small>— {ctx.t("条款", "clause")} {ctx.clause(first["clause"])}</small>'
        + english
        + "".join(f"<div>{line}</div>" for line in lines)
        + f"<div><small>{heading}</small></div><ul>{items}</ul>"
    )
    add_legend(ctx, geojson, text, show=show)


def county_frame(ctx: MapContext, indicators: list[str]) -> gpd.GeoDataFrame | None:
    """The counties (``zone_id``, ``zone_name``, whole polygons) in the metric CRS: the catalog's county layer (with
    ``prefecture_id`` where ``zones.county.prefecture_field`` names each county's prefecture), else the county rows of
    the first indicator not measured inside a mask (whose zones are whole counties); None without."""
    if ctx.layers is not None:
        level = ctx.layers.catalog.zones["county"]
        frame = ctx.layers.read_vector(level.layer)
        names = frame[level.name_field] if level.name_field in frame.columns else frame[level.id_field]
        columns = {"zone_id": frame[level.id_field].astype(str), "zone_name": names.astype(str)}
        if level.prefecture_field and level.prefecture_field in frame.columns:
            columns["prefecture_id"] = frame[level.prefecture_field].astype(str).str.strip()
        return gpd.GeoDataFrame(columns, geometry=frame.geometry.values, crs=frame.crs).to_crs(ctx.metric_crs)
    whole = _whole_zones(ctx, indicators)
    return _level_rows(ctx, whole or indicators, "county")


def prefecture_frame(ctx: MapContext, indicators: list[str]) -> gpd.GeoDataFrame | None:
    """The prefectures the run reports (``zone_id``, ``zone_name``, whole polygons) in the metric CRS: the prefecture rows
    of the first indicator not measured inside a mask (whose zones are whole), else of the first with any; None without."""
    return _level_rows(ctx, [*_whole_zones(ctx, indicators), *indicators], "prefecture")


def _whole_zones(ctx: MapContext, indicators: list[str]) -> list[str]:
    """The indicators not measured inside a mask or on a base layer: their zones are whole."""
    records = ctx.run.record.get("indicators") or {}
    return [i for i in indicators if not {"mask", "base"} & set((records.get(i) or {}).get("inputs") or {})]


def _level_rows(ctx: MapContext, indicators: list[str], level: str) -> gpd.GeoDataFrame | None:
    """The zones of ``level`` (``zone_id``, ``zone_name``, polygons) in the metric CRS, from the first of ``indicators``
    with rows at that level; None when none has any."""
    for indicator in indicators:
        layer = ctx.run.read_layer(indicator)
        rows = layer.loc[layer["zone_type"] == level]
        if not rows.empty:
            frame = rows[["zone_id", "zone_name", "geometry"]].copy()
            frame["zone_id"] = frame["zone_id"].astype(str)
            return frame.to_crs(ctx.metric_crs)
    return None


def county_parents(ctx: MapContext, counties: gpd.GeoDataFrame, prefectures: gpd.GeoDataFrame) -> dict[str, str]:
    """Each county's prefecture as a popup names it (escaped), by county id: the one the county layer names
    (``prefecture_id``, as the run grouped them), else the prefecture holding a point inside the county; a county of no
    prefecture the run reports has none."""
    if "prefecture_id" in counties.columns:
        names = dict(zip(prefectures["zone_id"].astype(str), prefectures["zone_name"], strict=True))
        return {str(c): _zone_label(ctx, "prefecture", str(p), names[str(p)])
                for c, p in zip(counties["zone_id"], counties["prefecture_id"], strict=True) if str(p) in names}
    points = gpd.GeoDataFrame({"county": counties["zone_id"].astype(str).to_numpy()},
                              geometry=counties.geometry.representative_point().to_numpy(), crs=counties.crs)
    joined = gpd.sjoin(points, prefectures[["zone_id", "zone_name", "geometry"]], predicate="within", how="inner")
    joined = joined[~joined.index.duplicated(keep="first")]
    return {str(c): _zone_label(ctx, "prefecture", str(i), n) for c, i, n in zip(joined["county"], joined["zone_id"], joined["zone_name"], strict=True)}


def add_county_outlines(m: folium.Map, ctx: MapContext, counties: gpd.GeoDataFrame, *, level: str = "county") -> None:
    """The county outlines, no fill, above the indicator zones (which may be built-up areas only): a checkbox of the context
    group; with ``level`` "prefecture", the prefecture outlines, twice as wide, above the counties'."""
    web = _to_web(ctx, counties[["zone_id", "geometry"]], coverage=True)
    colour = ctx.spec.county_outline_colour
    wide = level == "prefecture"
    style = {"color": colour, "weight": 3.2 if wide else 1.6, "opacity": 0.9, "fill": False, "className": "gis-context"}
    layer = FeatureLayer(web, [style] * len(web), pane="prefecture_outlines" if wide else "outlines")
    layer.add_to(m)
    words = ("地级市界线", "Prefecture outlines") if wide else ("区县界线", "County outlines")
    check(ctx, "context", f'<span class="gis-sw" style="border:{3 if wide else 2}px solid {colour};background:none"></span>'
          f"{ctx.t(*words)}", layer, on=True)


def add_zone_labels(m: folium.Map, ctx: MapContext, counties: gpd.GeoDataFrame, *, level: str = "county", on: bool = True) -> None:
    """County names at a point inside each county, on the top pane with a halo: readable over every layer (with ``level``
    "prefecture", the prefectures' names, larger); a checkbox of the context group, on at the start when ``on``."""
    points = _to_web(ctx, counties.set_geometry(counties.geometry.representative_point()))
    words = ("地级市名称", "Prefecture names") if level == "prefecture" else ("区县名称", "County names")
    group = folium.FeatureGroup(name=ctx.t(*words), show=on)
    css = "gis-label gis-label-prefecture" if level == "prefecture" else "gis-label"
    for zone_id, zone_name, point in zip(points["zone_id"], points["zone_name"], points.geometry, strict=True):
        label = _zone_label(ctx, level, str(zone_id), zone_name)
        icon = folium.DivIcon(html=f"<div>{label}</div>", class_name=css, icon_size=(0, 0))
        folium.Marker([point.y, point.x], icon=icon, interactive=False, pane="labels").add_to(group)
    group.add_to(m)
    check(ctx, "context", ctx.t(*words), group, on=on)


# --- gap layers -------------------------------------------------------------------------------------


def add_gap_layers(m: folium.Map, ctx: MapContext, indicators: list[str], start: str | None) -> None:
    """The ``<id>.gaps`` layers, highlighted: polygons hatched in the gap colour, points as rings; each follows its indicator."""
    spec = ctx.spec.gaps
    with_gaps = [i for i in indicators if f"{i}.gaps" in ctx.run.layers]
    for indicator in _chosen(ctx, "gaps", spec, with_gaps):
        frame = _to_web(ctx, ctx.run.read_layer(f"{indicator}.gaps")).explode(index_parts=False)
        if frame.empty:
            continue
        title = _indicator_title(ctx, indicator)
        show = spec.shown(indicator, start)
        rows = ctx.run.indicators.loc[ctx.run.indicators["indicator"] == indicator]
        shortfall_units = rows["shortfall_unit"].dropna() if "shortfall_unit" in rows.columns else pd.Series(dtype=object)
        units = {"value": ctx.unit(indicator, rows["unit"].iloc[0])}
        if not shortfall_units.empty:
            units["shortfall"] = ctx.unit(indicator, shortfall_units.iloc[0], "shortfall_unit")
            frame = _shortfall_in_unit(ctx, indicator, frame)
        popups, tooltips = _feature_texts(ctx, frame, ("缺口", "gap"), indicator, title, units)
        name = f"{_swatch(spec.colour)}{ctx.t('缺口', 'gaps')} · {escape_text(indicator)} {_short_title(ctx, title.zh, title.en)}"
        if frame.geom_type.eq("Point").all():
            style = {"color": spec.colour, "weight": 3, "fillColor": "#ffffff", "fillOpacity": 0.6}
            radius = spec.radius
        else:
            style = {"color": spec.colour, "weight": 2, "dashArray": "4 3", "fillColor": spec.colour, "fillOpacity": spec.fill_opacity}
            radius = None
        geojson = _geojson(frame, popups, tooltips, [style] * len(frame), name=name, show=show, pane="gaps", radius=radius)
        geojson.add_to(m)
        symbol = _swatch(spec.colour) if radius is None else f'<span class="gis-ring" style="border-color:{spec.colour}"></span>'
        follow(ctx, indicator, f"{symbol}{ctx.t('缺口', 'gaps')} <small>({len(frame)})</small>", geojson, on=spec.follows)
        legend = f"{symbol}{ctx.t('缺口', 'gaps')} · {escape_text(indicator)} {ctx.t(title.zh, title.en)} <small>({len(frame)})</small>"
        add_legend(ctx, geojson, legend, show=show)


def _shortfall_in_unit(ctx: MapContext, indicator: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The gap features' ``shortfall`` in the unit of the indicator's shortfall (the spec's ``shortfall.factor``:
    m² to km²), as the zones' shortfalls are given."""
    if "shortfall" not in frame.columns:
        return frame
    shortfall = ((ctx.run.record.get("indicators") or {}).get(indicator) or {}).get("shortfall") or {}
    factor = float(shortfall.get("factor") or 1.0)
    if factor == 1.0:
        return frame
    return frame.assign(shortfall=pd.to_numeric(frame["shortfall"], errors="coerce") * factor)


def _popup_fields(columns: Iterable[str]) -> list[str]:
    """The fields a popup shows, the name first: internal fields and repeats (a distance in km beside the one in m) left out."""
    fields = [c for c in columns if c not in _INTERNAL_FIELDS and not c.startswith("_")]
    fields = [f for f in fields if not (f in _REPEATS and _REPEATS[f] in fields)]
    return sorted(fields, key=lambda f: 0 if f == "name" else 1)  # stable: the layer's order after the name


def _zone_fields(ctx: MapContext, indicator: str | None) -> dict[str, str]:
    """Fields holding a zone id, by the zone type whose name a popup shows: ``county_id``, and ``base_id`` when the
    indicator's base or mask layer is a zone layer (built-up areas)."""
    zone_fields = dict(_ZONE_FIELDS)
    if ctx.layers is not None and indicator is not None:
        inputs = ((ctx.run.record.get("indicators") or {}).get(indicator) or {}).get("inputs") or {}
        for zone_type, level in ctx.layers.catalog.zones.items():
            if level.layer in (inputs.get("base"), inputs.get("mask")):
                zone_fields["base_id"] = zone_type
    return zone_fields


def _field_value(
    ctx: MapContext, row: dict[str, Any], name: str, units: dict[str, SpecText], zone_fields: dict[str, str], values: dict[str, Any]
) -> str:
    """One value of a popup, escaped: a zone id as the zone's name, an amount in its unit, a coded value as the catalog's
    ``values`` name it (``values``: tables by field), a layer by its title, a zone's name in the map's language, else as it is."""
    value = row[name]
    if name in zone_fields and not is_missing(value):
        zone_type, zone_id = zone_fields[name], str(value)
        local = ctx.zone_names.get((zone_type, zone_id))
        if local is not None:
            return _zone_label(ctx, zone_type, zone_id, local)
    if name in units:
        return _amount(value, units[name], ctx.lang)
    table = values.get(name, values.get(_SOURCE_FIELDS.get(name, "")))
    if table and not is_missing(value):
        return escape_text(value_label(table, value, ctx.lang))
    if name == "source_layer" and not is_missing(value):
        title = ctx.layer_title(str(value))
        return ctx.t(title.zh, title.en)
    if name == "name" and isinstance(value, str):
        return ctx.zone_name(value)
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_) and abs(int(value)) >= 10_000:
        return escape_text(format_number(value))  # 63,648 m³/d; a year (2021) stays as it is
    return _text(value, ctx.lang)


def _name(ctx: MapContext, row: dict[str, Any]) -> str:
    """A feature's name (a zone's in the map's language), else its id; escaped."""
    name = row.get("name")
    return ctx.zone_name(name) if isinstance(name, str) and name else _text(row.get("id"))


def _input_layers(ctx: MapContext, indicator: str) -> list[str]:
    """The catalog layers an indicator reads (its gap and proposal features come from them), as run.json names them."""
    inputs = ((ctx.run.record.get("indicators") or {}).get(indicator) or {}).get("inputs") or {}
    return [str(layer) for layer in inputs.values() if isinstance(layer, str)]


def _feature_texts(
    ctx: MapContext,
    frame: gpd.GeoDataFrame,
    kind: tuple[str, str],
    indicator: str,
    title: Title,
    units: dict[str, SpecText],
) -> tuple[list[str], list[str]]:
    """Popups (a heading, then a row per field: zone names for zone ids, amounts in ``units`` by field) and tooltips
    of a gap or proposal layer; ``kind`` names it in Chinese and English."""
    heading = f"<b>{ctx.t(*kind)} · {escape_text(indicator)}</b> {ctx.t(title.zh, title.en)}"
    fields = _popup_fields(frame.columns)
    zone_fields = _zone_fields(ctx, indicator)
    rows, labels = _records(frame), {f: _field_label(ctx, f) for f in fields}
    values = ctx.values(_input_layers(ctx, indicator))
    popups = [heading + _table((labels[f], _field_value(ctx, row, f, units, zone_fields, values)) for f in fields) for row in rows]
    tooltips = [f"{ctx.t(*kind)} · {escape_text(indicator)}: {_name(ctx, row)}" for row in rows]
    return popups, tooltips


# --- proposal layers --------------------------------------------------------------------------------


_SHARE_FIELDS = {"share_after", "permeable_share", "value_after"}
"""Proposal fields that are shares (``value_after`` in the indicator's unit when the run gives it)."""


def _proposal_summary(ctx: MapContext, indicator: str) -> str:
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
    shown = ctx.unit(indicator, unit)
    before, after = _amount(row["value_before"], shown, ctx.lang), _amount(row["value_after"], shown, ctx.lang)
    return (
        f"<div>{escape_text(proposal_text(row, 'action', ctx.lang))}</div>"
        f"<div>{ctx.t(*ctx.top)}: {before} → <b>{after}</b> {verdict}</div>"
    )


def add_proposal_layers(m: folium.Map, ctx: MapContext, indicators: list[str], start: str | None) -> None:
    """The ``<id>.proposals`` layers (new sites, lots to equip, blocks, sewer lines), in the proposal colour."""
    spec = ctx.spec.proposals
    drawn = set(indicators)  # a proposal layer follows its indicator: none without the indicator's layer
    available = {name.removesuffix(".proposals"): name for name in ctx.run.proposal_layers if name.removesuffix(".proposals") in drawn}
    for indicator in _chosen(ctx, "proposals", spec, list(available)):
        frame = _to_web(ctx, ctx.run.read_layer(available[indicator])).explode(index_parts=False)
        if frame.empty:
            continue
        title = _indicator_title(ctx, indicator)
        show = spec.shown(indicator, start)
        unit = ctx.run.indicators.loc[ctx.run.indicators["indicator"] == indicator, "unit"]
        units: dict[str, SpecText] = dict.fromkeys(_SHARE_FIELDS, "share")
        if not unit.empty:
            units["value_after"] = ctx.unit(indicator, unit.iloc[0])
        popups, tooltips = _feature_texts(ctx, frame, ("建议", "proposal"), indicator, title, units)
        name = f"{_swatch(spec.colour)}{ctx.t('建议', 'proposals')} · {escape_text(indicator)} {_short_title(ctx, title.zh, title.en)}"
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
        follow(ctx, indicator, f"{symbol}{ctx.t('建议', 'proposals')} <small>({len(frame)})</small>", geojson, on=spec.follows)
        legend = f"{symbol}{ctx.t('建议', 'proposals')} · {escape_text(indicator)} {ctx.t(title.zh, title.en)} <small>({len(frame)})</small>"
        add_legend(ctx, geojson, legend + _proposal_summary(ctx, indicator), show=show)


# --- coverage areas ---------------------------------------------------------------------------------


def _coverage_source(ctx: MapContext, index: int, entry: CoverageLayer) -> tuple[str, Condition | None, float] | None:
    """The covering layer, its filter and the distance of an indicator, from the run record."""
    check_ids(ctx, f"coverage.{index}.indicator", [entry.indicator])
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


MAP_REACH_M = 5_000.0
"""How far beyond the counties the map draws facilities, coverage and context when the layers reach beyond them on
purpose (``zones.county.inputs_beyond``): a station just over the border that serves a county shows, the rest of
the city or province does not."""


def near_the_counties(ctx: MapContext, frame: gpd.GeoDataFrame, *, cut: bool = False) -> gpd.GeoDataFrame:
    """``frame`` (metric CRS) as the map draws it: whole, or, when the layers reach beyond the counties on purpose,
    the features within :data:`MAP_REACH_M` of them, with ``cut`` only their parts within it (a river crossing the
    province, the coverage of a network)."""
    layers = ctx.layers
    if layers is None or not layers.inputs_beyond or frame.empty:
        return frame
    counties = layers.read_vector(layers.county_layer)
    reach = shapely.buffer(shapely.union_all(counties.geometry.values), MAP_REACH_M)
    near = frame.loc[shapely.intersects(frame.geometry.values, reach)]
    return gpd.clip(near, reach, keep_geom_type=True) if cut else near


def add_coverage(m: folium.Map, ctx: MapContext, start: str | None) -> None:
    """Areas within an indicator's distance of its covering layer (heating network, stations): they follow their
    indicator in the panel (a checkbox of the context group when the indicator has no layer on the map)."""
    if ctx.layers is None:
        return
    for index, entry in enumerate(ctx.spec.coverage):
        source = _coverage_source(ctx, index, entry)
        if source is None:
            continue
        layer, where, distance = source
        frame = ctx.layers.read_vector(layer)
        frame = near_the_counties(ctx, frame.loc[evaluate(frame, where, layer=layer, project=ctx.layers)])
        if frame.empty:
            continue
        layer_title = ctx.layer_title(layer)
        title = entry.title or Title(
            zh=f"{layer_title.zh}覆盖范围（{distance:g} 米）", en=f"coverage of {layer_title.en} ({distance:g} m)"
        )
        area = near_the_counties(ctx, gpd.GeoDataFrame(geometry=[shapely.union_all(frame.geometry.buffer(distance).values)],
                                                       crs=frame.crs), cut=True)
        area = _to_web(ctx, area)
        label = f"{_swatch(entry.colour)}{ctx.t('覆盖', 'coverage')} · {ctx.t(title.zh, title.en)}"
        chosen = entry.indicator in ctx.choices
        show = entry.show and (entry.indicator == start or not chosen)
        group = folium.FeatureGroup(name=label, show=show)
        style = {"color": entry.colour, "weight": 1, "fillColor": entry.colour, "fillOpacity": entry.fill_opacity}
        _geojson(area, None, None, [style], pane="coverage").add_to(group)
        if entry.features and frame.geom_type.isin(["LineString", "MultiLineString"]).all():
            lines = _to_web(ctx, frame)
            line_style = {"color": entry.colour, "weight": 1.5, "opacity": 0.9}
            _geojson(lines, None, None, [line_style] * len(lines), pane="lines").add_to(group)
        group.add_to(m)
        if chosen:  # under its indicator: the title says what it covers
            follow(ctx, entry.indicator, f"{_swatch(entry.colour)}{ctx.t(title.zh, title.en)}", group, on=entry.show)
        else:
            check(ctx, "context", label, group, on=entry.show)
        add_legend(ctx, group, label, show=show)


# --- facilities -------------------------------------------------------------------------------------


def _facility_status(ctx: MapContext, layer: str, frame: gpd.GeoDataFrame, entry: FacilityLayer) -> tuple[pd.Series, list[list[str]]]:
    """Per feature: whether any check lists it as a gap, and the status lines for its popup."""
    flagged = pd.Series(False, index=frame.index)
    lines: list[list[str]] = [[] for _ in range(len(frame))]
    for number, check in enumerate(entry.status):
        check_ids(ctx, f"facilities.{layer}.status.{number}.indicator", [check.indicator])
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
        about = f"<small>{escape_text(check.indicator)} {_short_title(ctx, title.zh, title.en)}</small>"
        for position, (applied, gapped) in enumerate(zip(applies, is_gap, strict=True)):
            if applied:
                text = ctx.t(gap.zh, gap.en) if gapped else ctx.t(ok.zh, ok.en)
                css = "gis-gap" if gapped else "gis-ok"
                lines[position].append(f'<span class="{css}">{text}</span> {about}')
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
    ctx: MapContext, layer: str, web: gpd.GeoDataFrame, fields: list[str], heading: str, status_lines: list[list[str]]
) -> tuple[list[str], list[str]]:
    popups, tooltips = [], []
    fields = _popup_fields(f for f in fields if f != "name")  # the name is the popup's heading
    labels = {f: _field_label(ctx, f) for f in fields}
    zone_fields = _zone_fields(ctx, None)
    values = ctx.values([layer])
    for row, lines in zip(_records(web), status_lines, strict=True):
        name = _name(ctx, row)
        status = "".join(f"<div>{ctx.t('状态', 'status')}: {line}</div>" for line in lines)
        table = _table((labels[f], _field_value(ctx, row, f, {}, zone_fields, values)) for f in fields)
        popups.append(f"<b>{name}</b> <small>{heading}</small>{table}{status}")
        tooltips.append(f"{name} <small>{heading}</small>")
    return popups, tooltips


def add_facilities(m: folium.Map, ctx: MapContext) -> None:
    """The project's facility layers: clustered circle markers (points) or lines, with popups."""
    if ctx.layers is None:
        if ctx.spec.facilities:
            log.warning("map: no project folder; facility layers left out")
        return
    for layer, entry in ctx.spec.facilities.items():
        frame, fields = _facility_frame(ctx, ctx.layers, layer, entry)
        flagged, status_lines = _facility_status(ctx, layer, frame, entry)
        web = _to_web(ctx, frame.assign(_flagged=flagged.values, _lines=status_lines))
        title = entry.title or ctx.layer_title(layer)
        heading = ctx.t(title.zh, title.en)
        popups, tooltips = _facility_texts(ctx, layer, web, fields, heading, list(web["_lines"]))
        gap_colour = entry.gap_colour or ctx.spec.status.gap.colour
        shown = _facility_layer(web, popups, tooltips, entry, f"{_swatch(entry.colour, round_=True)}{heading}", gap_colour)
        shown.add_to(m)
        check(ctx, "facilities", f"{_swatch(entry.colour, round_=True)}{heading} <small>({len(web)})</small>", shown, on=entry.show)
        count = f"{heading} <small>({len(web)})</small>"
        if entry.status:
            gaps = f"{_swatch(gap_colour, round_=True)}{_status_text(ctx, 'gap')} <small>({int(web['_flagged'].sum())})</small>"
            count += f"<ul><li>{gaps}</li></ul>"
        add_legend(ctx, shown, f"{_swatch(entry.colour, round_=True)}{count}", show=entry.show)


def _facility_frame(ctx: MapContext, layers: LayerReader, layer: str, entry: FacilityLayer) -> tuple[gpd.GeoDataFrame, list[str]]:
    """A facility layer of the catalog and the fields its popups show; a layer or field the catalog lacks is refused."""
    if layer not in layers.catalog.layers or layers.entry(layer).kind != "vector":
        known = ", ".join(n for n, e in layers.catalog.layers.items() if e.kind == "vector")
        msg = f"{ctx.spec.source}: key 'facilities.{layer}': no vector layer '{layer}' in {layers.catalog_path} (vector layers: {known})"
        raise ConfigError(msg)
    frame = near_the_counties(ctx, layers.read_vector(layer))
    columns = [c for c in frame.columns if c != "geometry"]
    fields = entry.fields or columns
    missing = [f for f in fields if f not in columns]
    if missing:
        msg = f"{ctx.spec.source}: key 'facilities.{layer}.fields': layer '{layer}' has no field '{missing[0]}' (fields: {', '.join(columns)})"
        raise ConfigError(msg)
    return frame, fields


def _facility_layer(
    web: gpd.GeoDataFrame, popups: list[str], tooltips: list[str], entry: FacilityLayer, name: str, gap_colour: str
) -> folium.map.Layer:
    """Facilities as lines, or as circle markers (clustered when the spec says so); those with a gap in ``gap_colour``."""
    flags = [bool(f) for f in web["_flagged"]]
    colours = [gap_colour if f else entry.colour for f in flags]
    if web.geom_type.isin(["LineString", "MultiLineString"]).all():
        styles = [{"color": c, "weight": entry.weight, "opacity": 0.9} for c in colours]
        return _geojson(web, popups, tooltips, styles, name=name, show=entry.show, pane="lines")
    styles = [{"color": "#ffffff", "weight": 1, "fillColor": c, "fillOpacity": 0.9, "gisGap": f} for c, f in zip(colours, flags, strict=True)]
    if not entry.cluster:
        return _geojson(web, popups, tooltips, styles, name=name, show=entry.show, pane="points", radius=entry.radius)
    cluster = MarkerCluster(
        name=name, show=entry.show, icon_create_function=_cluster_icon(entry.colour, gap_colour),
        options={"showCoverageOnHover": False, "maxClusterRadius": 40},
    )
    _geojson(web, popups, tooltips, styles, pane="points", radius=entry.radius).add_to(cluster)
    return cluster


# --- context layers ---------------------------------------------------------------------------------


def _line_ends(lines: list[LineString]) -> dict[tuple[float, float], list[tuple[int, int, np.ndarray]]]:
    """The lines' ends by node (to 0.1 m): (line, 0 for its start or 1 for its end, unit direction into the line)."""
    nodes: dict[tuple[float, float], list[tuple[int, int, np.ndarray]]] = {}
    if not lines:
        return nodes
    xy, which = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    first = np.searchsorted(which, np.arange(len(lines)))  # each line's first vertex; its last is before the next line's first
    last = np.append(first[1:], len(which)) - 1
    at = np.stack([first, last], axis=1)  # (line, end): the vertex at the end, and the one next to it
    towards = np.stack([first + 1, last - 1], axis=1)
    step = xy[towards] - xy[at]
    norm = np.hypot(step[..., 0], step[..., 1])
    keys = xy[at].tolist()
    for i in range(len(lines)):
        for end in (0, 1):
            if norm[i, end] > 0:
                x, y = keys[i][end]
                nodes.setdefault((round(x, 1), round(y, 1)), []).append((i, end, step[i, end] / norm[i, end]))
    return nodes


def strokes(lines: list[LineString], max_turn: float = 30.0) -> list[LineString]:
    """``lines`` joined end to end where one goes on from another turning less than ``max_turn`` degrees (a street
    grid's segments into whole streets), so the page holds a shared vertex once and simplification drops the
    straight ones; at a crossing the straightest pairs are joined first."""
    partner: dict[tuple[int, int], tuple[int, int]] = {}
    limit = np.cos(np.radians(180.0 - max_turn))
    for ends in _line_ends(lines).values():
        if len(ends) < 2:
            continue
        pairs = sorted(
            (float(np.dot(a[2], b[2])), k, m)
            for k, a in enumerate(ends) for m, b in enumerate(ends[k + 1:], k + 1)
            if a[0] != b[0] and float(np.dot(a[2], b[2])) <= limit
        )
        for _, k, m in pairs:
            a, b = ends[k][:2], ends[m][:2]
            if a not in partner and b not in partner:
                partner[a], partner[b] = b, a
    done: set[int] = set()
    joined: list[LineString] = []
    for first in range(len(lines)):
        if first in done:
            continue
        line, free = first, 0  # walk back from the start of `first` to the free end of its chain
        while (step := partner.get((line, free))) is not None and step[0] != first:
            line, free = step[0], 1 - step[1]
        coords: list[tuple[float, ...]] = []
        while line not in done:
            done.add(line)
            xy = list(lines[line].coords)
            coords += (xy if free == 0 else xy[::-1])[1 if coords else 0:]
            step = partner.get((line, 1 - free))
            if step is None:
                break
            line, free = step
        joined.append(LineString(coords))
    return joined


def _context_frame(ctx: MapContext, entry: ContextLayer, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The features of a context layer in WGS84 with their width (``w``) and tooltip (``tip``): lines of one width
    and one name joined into one feature of whole strokes, features of width 0 left out."""
    widths = [entry.width_by.width(v, entry.weight) for v in frame[entry.width_by.field]] if entry.width_by else [entry.weight] * len(frame)
    if entry.label_field:
        tips = ["" if is_missing(v) else str(v) for v in frame[entry.label_field]]
    else:
        tips = [""] * len(frame)
    frame = gpd.GeoDataFrame({"w": widths, "tip": tips}, geometry=frame.geometry.values, crs=frame.crs)
    frame = frame.loc[(frame["w"] > 0) & frame.geometry.notna() & ~frame.geometry.is_empty].explode(index_parts=False)
    lines = frame.geom_type == "LineString"
    # each stroke simplified apart: simplifying their union with its topology kept would keep every crossing
    rows = [
        {"w": w, "tip": tip, "geometry": shapely.multilinestrings(shapely.simplify(
            np.asarray(strokes(list(group.geometry)), dtype=object), ctx.spec.simplify_m, preserve_topology=False))}
        for (w, tip), group in frame.loc[lines].groupby(["w", "tip"], sort=True)
    ]
    merged = gpd.GeoDataFrame(rows, columns=["w", "tip", "geometry"], geometry="geometry", crs=frame.crs)
    return _to_web(ctx, pd.concat([merged, frame.loc[~lines]], ignore_index=True))


def _line_swatch(colour: str, width: float) -> str:
    return f'<span class="gis-sw" style="background:{colour};height:{max(1, round(width))}px;border:none"></span>'


def add_context(m: folium.Map, ctx: MapContext) -> None:
    """The spec's context layers (roads, rivers) on the lowest pane: thin lines in the spec's colours, a name as the
    tooltip at most, each with a checkbox in the layer control and a legend section."""
    if ctx.layers is None:
        if ctx.spec.context:
            log.warning("map: no project folder; context layers left out")
        return
    for number, entry in enumerate(ctx.spec.context):
        if entry.layer not in ctx.layers.catalog.layers:
            if not entry.optional:
                msg = f"{ctx.spec.source}: key 'context.{number}.layer': no layer '{entry.layer}' in {ctx.layers.catalog_path}"
                raise ConfigError(msg)
            log.info("map: context layer %s left out: not in the catalog", entry.layer)
            continue
        frame = near_the_counties(ctx, ctx.layers.read_vector(entry.layer), cut=True)
        for field_name in [f for f in (entry.label_field, entry.width_by.field if entry.width_by else None) if f]:
            if field_name not in frame.columns:
                msg = f"{ctx.spec.source}: key 'context.{number}': layer '{entry.layer}' has no field '{field_name}'"
                raise ConfigError(msg)
        title = entry.title or ctx.layer_title(entry.layer)
        heading = f"{ctx.t('背景', 'Context')} · {ctx.t(title.zh, title.en)}"
        web = _context_frame(ctx, entry, frame)
        polygons = web.geom_type.isin(["Polygon", "MultiPolygon"])
        fill_opacity = entry.fill_opacity if entry.fill_opacity is not None else 0.25 * entry.opacity
        styles = [
            {"color": entry.colour, "weight": float(w), "opacity": entry.opacity, "className": "gis-context", "fill": bool(p),
             **({"fillColor": entry.colour, "fillOpacity": fill_opacity} if p else {})}
            for w, p in zip(web["w"], polygons, strict=True)
        ]
        tips = [escape_text(str(t)) if t else ctx.t(title.zh, title.en) for t in web["tip"]] if entry.label_field else None
        layer = FeatureLayer(
            web, styles, popups=[""] * len(web) if tips else None, tooltips=tips,
            name=f"{_line_swatch(entry.colour, entry.weight)}{heading}", show=entry.show, pane="context", radius=2.0,
        )
        layer.add_to(m)
        swatch = _swatch(entry.colour) if polygons.any() else _line_swatch(entry.colour, entry.weight)
        check(ctx, "context", f"{swatch}{ctx.t(title.zh, title.en)}", layer, on=entry.show)
        items = ""
        if entry.width_by is not None:
            counts = frame[entry.width_by.field].astype(str).value_counts()
            shown = [(v, entry.width_by.width(v, entry.weight)) for v in counts.index]
            names = ctx.values([entry.layer]).get(entry.width_by.field)
            items = "".join(
                f"<li>{_line_swatch(entry.colour, w)}{escape_text(value_label(names, v, ctx.lang))} <small>({int(counts[v])})</small></li>"
                for v, w in sorted(shown, key=lambda item: -item[1]) if w > 0
            )
            items = f"<ul>{items}</ul>"
        add_legend(ctx, layer, f"{swatch}{heading} <small>({len(frame)})</small>{items}", show=entry.show, kind="context")
