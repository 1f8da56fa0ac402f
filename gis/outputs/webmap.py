"""The interactive web map of a run: one offline HTML page for the whole plan.

A layer per indicator assessed (zones coloured by status against the target, or by value; an
indicator not assessed has none, the legend lists it with the layer it lacks), the gap
features of the run, coverage areas and the project's facilities as clustered markers, a
legend, a layer control and a notice when inputs are synthetic; beneath everything, the context
layers of the spec (roads, rivers) as thin lines with at most a name as the tooltip.  The layers are built in
:mod:`gis.outputs.webmap_layers`, the one place where geometry is reprojected to WGS84
(EPSG:4326); polygons are simplified in metres first.

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
from gis.outputs.i18n import Lang, check_lang, html_lang
from gis.outputs.summary import not_assessed
from gis.outputs.symbology import load_map_spec
from gis.outputs.webmap_layers import (
    MapContext,
    add_context,
    add_coverage,
    add_facilities,
    add_gap_layers,
    add_indicator,
    add_proposal_layers,
    add_zone_labels,
    check_ids,
    escape_text,
    not_assessed_legend,
)
from gis.project.config import read_project
from gis.project.layers import LayerReader
from gis.project.mapspec import BASEMAPS, MapSpec
from gis.project.specs import Title

log = logging.getLogger("gis")

_PANES = (("context", 402), ("zones", 405), ("coverage", 410), ("gaps", 415), ("lines", 420), ("labels", 425), ("points", 430), ("proposals", 435))
"""The map's panes, bottom to top: the context (roads, rivers) beneath the indicator zones and everything else."""

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
    ctx = MapContext(run, spec, layers, run.record["project"]["crs"], catalog_names(layers), lang)
    indicators = _indicator_ids(ctx)
    start = _start_indicator(ctx, indicators)
    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25, maxZoom=18, minZoom=3)
    _add_basemap(m, basemap or spec.basemap)
    for name, z_index in _PANES:
        folium.map.CustomPane(name, z_index=z_index).add_to(m)
    bounds: list[np.ndarray] = []
    ctx.legend.append(_legend_heading(ctx))
    ctx.legend.append(not_assessed_legend(ctx))
    for indicator in indicators:
        bounds.append(add_indicator(m, ctx, indicator, show=indicator == start))
    if spec.zone_labels:
        add_zone_labels(m, ctx, indicators)
    add_gap_layers(m, ctx, indicators, start)
    add_proposal_layers(m, ctx, indicators, start)
    add_coverage(m, ctx)
    add_facilities(m, ctx)
    add_context(m, ctx)  # on the lowest pane, last in the layer control
    folium.LayerControl(collapsed=spec.collapsed_layer_control).add_to(m)
    _Legend("".join(ctx.legend), ctx.toggles, ctx.t("图例", "Legend")).add_to(m)
    page = m.get_root()
    assert isinstance(page, Figure)  # a folium.Map's root is its page
    if run.synthetic:
        page.html.add_child(RawHtml(_banner(ctx)), name="gis_banner")
    if bounds:
        west, south = np.min([b[:2] for b in bounds], axis=0)
        east, north = np.max([b[2:] for b in bounds], axis=0)
        m.fit_bounds([[float(south), float(west)], [float(north), float(east)]])
    make_offline(m)
    page.header.add_child(RawHtml(_css(spec)), name="gis_css")
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
    log.info("web map: %s (%.1f MB)", path, path.stat().st_size / 1e6)
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
    title = ctx.spec.title
    if title is None and ctx.layers is not None:
        settings = ctx.layers.catalog.project
        title = Title(zh=settings.name_zh or settings.name, en=settings.name)
    heading = ctx.t(title.zh, title.en) if title else escape_text(str(record["project"]["name"]))
    return f'<div class="gis-title"><b>{heading}</b><br><small>{ctx.t("运行", "run")} {escape_text(str(record.get("run_id", "")))}</small></div>'


def _banner(ctx: MapContext) -> str:
    notice = ctx.spec.synthetic_notice
    layers = sorted(name for name, entry in ctx.run.record.get("inputs", {}).items() if entry.get("synthetic"))
    detail = f"{ctx.t('合成输入', 'synthetic inputs')}: {escape_text(', '.join(layers))}"
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


def _css(spec: MapSpec) -> str:
    """The page's styles; the status words in popups in the spec's gap and met colours."""
    return _CSS.replace("GAP_COLOUR", spec.status.gap.colour).replace("MET_COLOUR", spec.status.met.colour)


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
.gis-gap {color: GAP_COLOUR; font-weight: bold;}
.gis-ok {color: MET_COLOUR; font-weight: bold;}
.gis-banner {position: fixed; top: 0; left: 50%; transform: translateX(-50%); z-index: 1001; background: #fff3cd; color: #7a4b00;
  border: 2px solid #e0a800; border-top: none; border-radius: 0 0 6px 6px; padding: 4px 14px; font: bold 14px sans-serif;}
.leaflet-control-layers-list {font-size: 12px;}
.leaflet-popup-content {font-size: 12px; line-height: 1.4;}
path.gis-context.leaflet-interactive {cursor: default;}
.gis-label div {transform: translate(-50%, -50%); white-space: nowrap; font: bold 12px sans-serif; color: #222;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; pointer-events: none;}
</style>"""

