"""The interactive web map of a run: one offline HTML page for the whole plan.

One indicator at a time: a layer per indicator assessed (zones coloured by status against the target, or by
value; an indicator measured inside the built-up areas is drawn on them), chosen in a layer panel grouped by
theme, with its gap, proposal and coverage layers following the choice (an indicator not assessed has no layer;
the legend lists it with the layer it lacks).  Above the zones the county outlines and, on top of everything,
the county names; the project's facilities as clustered markers, off at the start, in one group; beneath
everything, the context layers of the spec (built-up areas, rivers, roads) drawn light.  A legend that follows
the chosen indicator, a north arrow, a metric scale bar, a notice when inputs are synthetic, and a print layout
(A3 landscape: title, legend, source line with the run id).  The layers are built in
:mod:`gis.outputs.webmap_layers`, the one place where geometry is reprojected to WGS84 (EPSG:4326); polygons
are simplified in metres first; the panel, the north arrow and the print layout are in
:mod:`gis.outputs.webmap_panel`.

Every text that comes from a data file or a spec is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from urllib.parse import quote

import folium
import numpy as np
from branca.element import Figure, MacroElement
from jinja2 import Template

from gis.errors import UsageError
from gis.methods.zones import catalog_names
from gis.outputs._offline import RawHtml, make_offline, remote_assets
from gis.outputs.folder import RunOutputs
from gis.outputs.i18n import Lang, check_lang, html_lang, label
from gis.outputs.summary import has_prefectures, not_assessed, top_words
from gis.outputs.symbology import load_map_spec
from gis.outputs.webmap_layers import (
    MapContext,
    add_context,
    add_county_outlines,
    add_coverage,
    add_facilities,
    add_gap_layers,
    add_indicator,
    add_proposal_layers,
    add_zone_labels,
    check_ids,
    county_frame,
    county_parents,
    escape_text,
    not_assessed_legend,
    prefecture_frame,
    zone_names,
)
from gis.outputs.webmap_panel import PRINT_CSS, PRINT_MAP_ID, LayerPanel, NorthArrow, PanelGroup
from gis.project.config import read_project
from gis.project.layers import LayerReader
from gis.project.mapspec import BASEMAPS, MapSpec
from gis.project.specs import Title

log = logging.getLogger("gis")

_PANES = (
    ("context", 402), ("zones", 405), ("prefectures", 407), ("coverage", 410), ("outlines", 412), ("prefecture_outlines", 413),
    ("gaps", 415), ("lines", 420), ("points", 430), ("proposals", 435), ("labels", 640),
)
_PREFECTURE_PANES = ("prefectures", "prefecture_outlines")
"""The panes only a map with a prefecture level has."""
"""The map's panes, bottom to top: the context (built-up areas, rivers, roads) beneath the indicator zones (the
prefectures' above the counties'), the county outlines above them and the prefectures' above those, and the zone names
above everything, markers and clusters too (Leaflet's marker pane is at 600)."""

_TIANDITU = "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"


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
    ctx = MapContext(run, spec, layers, run.record["project"]["crs"], catalog_names(layers), lang, zone_names=zone_names(layers))
    ctx.top = top_words(run.indicators)
    ctx.prefectures_on = spec.indicators.by_prefecture
    indicators = _indicator_ids(ctx)
    counties = county_frame(ctx, indicators) if spec.county_outlines or spec.zone_labels or has_prefectures(run.indicators) else None
    prefectures = prefecture_frame(ctx, indicators) if has_prefectures(run.indicators) else None
    if prefectures is not None and counties is not None:
        ctx.parents = county_parents(ctx, counties, prefectures)
    start = _start_indicator(ctx, indicators)
    m = folium.Map(tiles=None, control_scale=False, zoom_snap=0.25, maxZoom=18, minZoom=3)
    _add_basemap(m, basemap or spec.basemap)
    for name, z_index in _PANES:
        if prefectures is not None or name not in _PREFECTURE_PANES:
            folium.map.CustomPane(name, z_index=z_index).add_to(m)
    bounds: list[np.ndarray] = []
    ctx.legend.append(_legend_heading(ctx))
    for indicator in indicators:
        bounds.append(add_indicator(m, ctx, indicator, show=indicator == start))
    home = _home(bounds)
    add_gap_layers(m, ctx, indicators, start)
    add_proposal_layers(m, ctx, indicators, start)
    add_coverage(m, ctx, start)
    add_facilities(m, ctx)
    add_context(m, ctx)  # on the lowest pane
    if counties is not None and spec.county_outlines:
        add_county_outlines(m, ctx, counties)
    if prefectures is not None and spec.county_outlines:
        add_county_outlines(m, ctx, prefectures, level="prefecture")
    if prefectures is not None and spec.zone_labels:  # a province's 18 names read at its scale; its 157 counties' on demand
        add_zone_labels(m, ctx, prefectures, level="prefecture")
    if counties is not None and spec.zone_labels:
        add_zone_labels(m, ctx, counties, on=prefectures is None)
    NorthArrow(ctx.t("北", "N"), ctx.t("北", "north")).add_to(m)  # with the scale bar, beneath the legend
    ctx.legend.append(not_assessed_legend(ctx))  # last: the chosen indicator's sections come first
    _Legend("".join(ctx.legend), ctx.toggles, ctx.t("图例", "Legend")).add_to(m)
    _panel(ctx, start, home).add_to(m)
    page = m.get_root()
    assert isinstance(page, Figure)  # a folium.Map's root is its page
    if run.synthetic:
        page.html.add_child(RawHtml(_banner(ctx)), name="gis_banner")
    page.html.add_child(RawHtml(_print_head(ctx)), name="gis_print_head")
    page.html.add_child(RawHtml(_print_foot(ctx)), name="gis_print_foot")
    if home is not None:  # the layer panel takes the right of the window: the city is fitted into the rest
        m.fit_bounds(home, padding_top_left=(30, 30), padding_bottom_right=(340, 10))
    make_offline(m)
    page.header.add_child(RawHtml(_css(spec)), name="gis_css")
    if prefectures is not None:
        page.header.add_child(RawHtml(_PREFECTURE_CSS), name="gis_prefecture_css")
    page.header.add_child(RawHtml(PRINT_CSS), name="gis_print_css")
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
    spec = load_map_spec(root, map_spec_path)
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
    log.debug("web map: %s (%.1f MB)", path, path.stat().st_size / 1e6)  # the caller says where it lands (a run writes it in a staging folder)
    return path


# --- project and choices ----------------------------------------------------------------------------


def _layers_of(run: RunOutputs) -> LayerReader | None:
    """A reader of the layers of the project named in the run's record, if its folder is still there."""
    root = Path(run.record["project"]["root"])
    if not root.is_dir():
        log.warning("map: project folder %s not found; facilities, coverage areas and English names left out", root)
        return None
    return LayerReader(read_project(root))


def _indicator_ids(ctx: MapContext) -> list[str]:
    """The indicator layers to draw, in the spec's order (default: the run's); never one not assessed (the legend lists those)."""
    chosen = ctx.spec.indicators
    skipped = {item.indicator for item in not_assessed(ctx.run.indicators)}
    in_run = [i for i in ctx.run.record["indicators"] if ctx.run.has_layer(i) and i not in skipped]
    check_ids(ctx, "indicators.include", [] if chosen.include == "all" else chosen.include)
    check_ids(ctx, "indicators.exclude", chosen.exclude)
    check_ids(ctx, "indicators.styles", chosen.styles)
    ids = in_run if chosen.include == "all" else [i for i in chosen.include if i in in_run]
    return [i for i in ids if i not in chosen.exclude]


def _start_indicator(ctx: MapContext, indicators: list[str]) -> str | None:
    start = ctx.spec.indicators.start
    if start is not None:
        check_ids(ctx, "indicators.start", [start])
        if start in indicators:
            return start
        if start in {item.indicator for item in not_assessed(ctx.run.indicators)}:
            log.info("map: start indicator %s is not assessed; showing %s first", start, indicators[:1])
            return indicators[0] if indicators else None
        log.warning("map: start indicator %s is not in this run; showing %s first", start, indicators[:1])
    return indicators[0] if indicators else None


# --- layer panel and print layout --------------------------------------------------------------------


def _home(bounds: list[np.ndarray]) -> list[list[float]] | None:
    """The [[south, west], [north, east]] of every indicator's zones: the view the page opens on and prints."""
    if not bounds:
        return None
    west, south = np.min([b[:2] for b in bounds], axis=0)
    east, north = np.max([b[2:] for b in bounds], axis=0)
    return [[float(south), float(west)], [float(north), float(east)]]


def _theme_heading(ctx: MapContext, theme: str) -> str:
    """A theme's heading in the panel: the map spec's, else the catalog's name, else its id ('other' without one)."""
    title = ctx.spec.themes.get(theme)
    if title is not None:
        return ctx.t(title.zh, title.en)
    name = ctx.layers.catalog.project.theme_name(theme) if ctx.layers is not None and theme else None
    if name is not None and name.translated:
        return ctx.t(name.zh, name.en)
    return theme or ctx.t("其他", "other")


def _panel(ctx: MapContext, start: str | None, home: list[list[float]] | None) -> LayerPanel:
    """The layer panel: the indicators under their themes (the catalog's ``project.themes`` order, headings from the
    spec's ``themes``, else the catalog's ``theme_names``), then the facilities (off at the start) and the context layers."""
    order = list(ctx.layers.catalog.project.themes) if ctx.layers is not None else []
    for choice in ctx.choices.values():
        if choice.theme not in order:
            order.append(choice.theme)
    themes = []
    for theme in order:
        chosen = tuple(c for c in ctx.choices.values() if c.theme == theme)
        if not chosen:
            continue
        themes.append(PanelGroup(_theme_heading(ctx, theme), indicators=chosen))  # the chosen indicator's theme opens
    groups = [
        PanelGroup(ctx.t(*heading), layers=tuple(ctx.checks[key]))
        for key, heading in (("facilities", ("设施", "Facilities")), ("context", ("背景", "Context")))
        if ctx.checks.get(key)
    ]
    return LayerPanel(
        themes, groups, start=start, heading=ctx.t("图层", "Layers"), collapsed=ctx.spec.collapsed_layer_control, home=home,
    )


def _title(ctx: MapContext) -> str:
    """The map's title, escaped: the spec's, else the project's name."""
    title = ctx.spec.title
    if title is None and ctx.layers is not None:
        settings = ctx.layers.catalog.project
        title = Title(zh=settings.name_zh or settings.name, en=settings.name)
    return ctx.t(title.zh, title.en) if title else escape_text(str(ctx.run.record["project"]["name"]))


def _print_head(ctx: MapContext) -> str:
    """The printed page's title and the chosen indicator (filled by the panel's script)."""
    return f'<div class="gis-print-head"><h1>{_title(ctx)}</h1><div id="{PRINT_MAP_ID}"></div></div>'


_MAX_SOURCES = 4


def _print_foot(ctx: MapContext) -> str:
    """The printed page's source line: the run and its date, the sources of the real data (the synthetic inputs counted,
    the notice said once), the synthetic notice when it applies."""
    record = ctx.run.record
    sources: list[str] = []
    synthetic = 0
    for entry in (record.get("inputs") or {}).values():
        provenance = (entry or {}).get("provenance") or {}
        if (entry or {}).get("synthetic") or provenance.get("synthetic"):
            synthetic += 1
            continue
        source = str(provenance.get("source") or "").strip()
        if source and source not in sources:
            sources.append(source)
    shown = [escape_text(s) for s in sources[:_MAX_SOURCES]]
    if len(sources) > _MAX_SOURCES:
        more = len(sources) - _MAX_SOURCES
        shown.append(ctx.t(f"另 {more} 项", f"{more} more"))
    if synthetic:
        shown.append(ctx.t(f"合成数据 {synthetic} 个图层", f"synthetic data: {synthetic} layers"))
    finished = escape_text(str(record.get("finished") or record.get("started") or "")[:10])
    parts = [
        f"{ctx.t('来源', 'Source')}: {ctx.t('运行', 'run')} {escape_text(str(record.get('run_id', '')))}"
        + (f" ({finished})" if finished else ""),
    ]
    if shown:
        parts.append(f"{ctx.t('数据', 'data')}: {'; '.join(shown)}")
    if ctx.run.synthetic:
        notice = ctx.spec.synthetic_notice
        parts.append(f"<b>⚠ {ctx.t(notice.zh, notice.en)}</b>")
    return f'<div class="gis-print-foot">{" · ".join(parts)}</div>'


# --- basemap, legend, banner ------------------------------------------------------------------------


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


def _legend_heading(ctx: MapContext) -> str:
    record = ctx.run.record
    return f'<div class="gis-title"><b>{_title(ctx)}</b><br><small>{ctx.t("运行", "run")} {escape_text(str(record.get("run_id", "")))}</small></div>'


def _banner(ctx: MapContext) -> str:
    notice = ctx.spec.synthetic_notice
    layers = sorted(name for name, entry in ctx.run.record.get("inputs", {}).items() if entry.get("synthetic"))
    titles = [ctx.layer_title(name) for name in layers]  # by their titles in the map's language
    listed = ("、" if ctx.lang == "zh" else ", ").join(label(t.zh, t.en, ctx.lang) for t in titles)
    detail = f"{ctx.t('合成输入', 'synthetic inputs')}: {escape_text(listed)}"
    return f'<div class="gis-banner" role="alert" title="{detail}">⚠ {ctx.t(notice.zh, notice.en)}</div>'


class _Legend(MacroElement):
    """A collapsible legend control; each layer's section is shown while the layer is on the map (so it follows the
    indicator chosen in the panel)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var control = L.control({position: "bottomleft"});
            control.onAdd = function() {
                var div = L.DomUtil.create("div", "gis-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo(map);
            var sections = {{ this.toggles|tojson }}, byLayer = {};
            for (var id in sections) {
                if (window[sections[id]]) { byLayer[L.stamp(window[sections[id]])] = id; }
            }
            map.on("layeradd layerremove", function(e) {
                var id = byLayer[e.layer._leaflet_id];
                if (id !== undefined) { document.getElementById(id).hidden = e.type === "layerremove"; }
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


def _css(spec: MapSpec) -> str:
    """The page's styles; the status words in popups in the spec's gap and met colours."""
    return _CSS.replace("GAP_COLOUR", spec.status.gap.colour).replace("MET_COLOUR", spec.status.met.colour)


_PREFECTURE_CSS = "<style>.gis-label-prefecture div {font-size: 15px; color: #000;}</style>"
"""The prefectures' names a little larger than the counties' (a map with a prefecture level)."""
_CSS = """<style>
.gis-legend {background: rgba(255,255,255,0.95); padding: 6px 10px; border-radius: 5px; box-shadow: 0 1px 5px rgba(0,0,0,0.4);
  max-height: 48vh; max-width: 360px; overflow-y: auto; font: 12px/1.4 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;}
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
.gis-gap {color: GAP_COLOUR; font-weight: bold;}
.gis-ok {color: MET_COLOUR; font-weight: bold;}
.gis-banner {position: fixed; top: 0; left: 50%; transform: translateX(-50%); z-index: 1001; background: #fff3cd; color: #7a4b00;
  border: 2px solid #e0a800; border-top: none; border-radius: 0 0 6px 6px; padding: 4px 14px; font: bold 14px sans-serif;}
.leaflet-control-layers-list {font-size: 12px;}
.leaflet-popup-content {font-size: 12px; line-height: 1.4;}
path.gis-context.leaflet-interactive {cursor: default;}
.gis-label div {transform: translate(-50%, -50%); white-space: nowrap; font: bold 13px "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
  color: #111; pointer-events: none;
  text-shadow: -1.5px -1.5px 0 #fff, 1.5px -1.5px 0 #fff, -1.5px 1.5px 0 #fff, 1.5px 1.5px 0 #fff, 0 0 4px #fff, 0 0 6px #fff;}
.gis-layers {background: rgba(255,255,255,0.97); font: 12px/1.4 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; max-width: 380px;}
.gis-layers-toggle {display: block; width: 100%; border: none; background: #f4f4f4; padding: 5px 10px; font: bold 13px sans-serif;
  text-align: left; cursor: pointer; border-radius: 4px 4px 0 0;}
.gis-layers.gis-collapsed .gis-layers-body {display: none;}
.gis-layers-body {max-height: calc(88vh - 60px); overflow-y: auto; padding: 4px 8px 6px;}
.gis-layers details {border-top: 1px solid #e4e4e4; padding: 2px 0;}
.gis-layers summary {cursor: pointer; font-weight: bold; padding: 2px 0;}
.gis-layers ul {list-style: none; margin: 0; padding-left: 6px;}
.gis-layers label {display: flex; gap: 4px; align-items: flex-start; cursor: pointer; padding: 1px 0;}
.gis-layers input {margin: 2px 2px 0 0; flex: none;}
.gis-layers .gis-follow {display: none; padding-left: 20px; color: #333;}
.gis-layers .gis-chosen > .gis-follow {display: block;}
.gis-layers .gis-chosen > label {font-weight: bold;}
.gis-north {background: rgba(255,255,255,0.85); border-radius: 4px; padding: 2px 4px 0; text-align: center; line-height: 1;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3);}
.gis-north svg {display: block; margin: 0 auto;}
.gis-north-letter {font: bold 13px sans-serif; margin-top: -8px; padding-bottom: 3px;}
</style>"""

