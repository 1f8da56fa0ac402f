"""The web map's own controls: the layer panel (one indicator at a time, grouped by theme), the north arrow,
the metric scale bar and the print layout (A3 landscape: title, the chosen indicator's legend, a source line).

folium's ``LayerControl`` lists every layer in one flat list and lets indicators be stacked by mistake; the
panel here is a small Leaflet control of its own (its script is ``templates/map_panel.js.j2``): the indicator
zone layers are radio choices under collapsible theme headings, each indicator's prefecture, gap, proposal and coverage
layers follow the choice (each with its own checkbox under the chosen indicator), and the facility and context
layers are checkboxes in their groups.  Every label reaches the page as escaped HTML made by
:mod:`gis.outputs.webmap_layers`; the script puts nothing else from the data into the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from branca.element import MacroElement
from jinja2 import Template

PANEL_SCRIPT = "map_panel.js.j2"
"""The panel's script (a branca macro) in ``gis/outputs/templates``."""

PRINT_MAP_ID = "gis-print-indicator"
"""The element of the print header that names the chosen indicator (the panel's script fills it)."""


@dataclass(frozen=True)
class PanelLayer:
    """One checkbox of the panel: an escaped HTML label, the layer's JavaScript name, whether it is on at the start.

    The layers that follow indicators in one ``group`` (every indicator's prefectures) are ticked together: a
    reader who shows one indicator by prefecture sees the next one so too.  A layer that ``replaces`` its indicator's
    zones hides them while it is shown (the prefectures' choropleth instead of the counties')."""

    label: str
    layer: str
    on: bool
    group: str = ""
    replaces: bool = False


@dataclass
class PanelIndicator:
    """One radio choice of the panel: an indicator's zone layer and the layers that follow it (gaps, proposals, coverage)."""

    indicator: str
    theme: str
    label: str  # escaped HTML, as in the panel
    zones: str  # the zone layer's JavaScript name
    follow: list[PanelLayer] = field(default_factory=list)


@dataclass(frozen=True)
class PanelGroup:
    """A heading of the panel (escaped HTML) and its indicators or its checkboxes."""

    heading: str
    indicators: tuple[PanelIndicator, ...] = ()
    layers: tuple[PanelLayer, ...] = ()
    open: bool = False


def _follow(layer: PanelLayer) -> dict[str, Any]:
    """A follow layer as the panel's script reads it (``group`` and ``replaces`` only when set)."""
    out: dict[str, Any] = {"label": layer.label, "layer": layer.layer, "on": layer.on}
    if layer.group:
        out["group"] = layer.group
    if layer.replaces:
        out["replaces"] = True
    return out


def _template() -> Template:
    return Template(files("gis.outputs").joinpath("templates", PANEL_SCRIPT).read_text(encoding="utf-8"))


class LayerPanel(MacroElement):
    """The layer panel, and the script that prepares the page for printing; add it after every layer it names.

    ``home`` is the view the page opens on ([[south, west], [north, east]]): printed when it is still in view (else the
    view the reader chose), clear of the legend."""

    def __init__(
        self,
        themes: list[PanelGroup],
        groups: list[PanelGroup],
        *,
        start: str | None,
        heading: str,
        collapsed: bool,
        home: list[list[float]] | None = None,
    ) -> None:
        super().__init__()
        self._name = "LayerPanel"
        self._template = _template()
        self.data: dict[str, Any] = {
            "start": start,
            "heading": heading,
            "collapsed": collapsed,
            "home": home,
            "printTarget": PRINT_MAP_ID,
            "themes": [
                {"heading": g.heading, "open": g.open, "items": [
                    {"id": i.indicator, "label": i.label, "zones": i.zones,
                     "follow": [_follow(f) for f in i.follow]}
                    for i in g.indicators
                ]}
                for g in themes
            ],
            "groups": [
                {"heading": g.heading, "open": g.open, "items": [{"label": c.label, "layer": c.layer, "on": c.on} for c in g.layers]}
                for g in groups
            ],
        }


class NorthArrow(MacroElement):
    """A north arrow under the zoom buttons (the map is in Web Mercator: north is up everywhere)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var arrow = L.control({position: "topleft"});
            arrow.onAdd = function() {
                var div = L.DomUtil.create("div", "gis-north");
                div.title = {{ this.title|tojson }};
                div.innerHTML = '<svg width="30" height="44" viewBox="0 0 30 44" aria-hidden="true">'
                    + '<path d="M15 14 L24 40 L15 34 L6 40 Z" fill="#fff" stroke="#222" stroke-width="1.2"/>'
                    + '<path d="M15 14 L15 34 L6 40 Z" fill="#222"/></svg>'
                    + '<div class="gis-north-letter">' + {{ this.letter|tojson }} + '</div>';
                return div;
            };
            arrow.addTo({{ this._parent.get_name() }});
            L.control.scale({position: "bottomleft", metric: true, imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, letter: str, title: str) -> None:
        super().__init__()
        self._name = "NorthArrow"
        self.letter = letter
        self.title = title


PRINT_CSS = """<style>
.gis-print-head, .gis-print-foot {display: none;}
@page {size: A3 landscape; margin: 8mm;}
html.gis-printing, html.gis-printing body {width: 404mm !important; height: 281mm !important; overflow: hidden !important;
  margin: 0 !important;}
html.gis-printing body {position: relative !important;}
html.gis-printing .gis-print-head {display: block; position: absolute; top: 0; left: 0; right: 0; height: 15mm; overflow: hidden;
  font: 13pt/1.3 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #111;}
html.gis-printing .gis-print-head h1 {font-size: 17pt; margin: 0;}
html.gis-printing .gis-print-foot {display: block; position: absolute; bottom: 0; left: 0; right: 0; height: 9mm; overflow: hidden;
  font: 8.5pt/1.3 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #333; border-top: 1px solid #999; padding-top: 1mm;}
html.gis-printing .folium-map {position: absolute !important; top: 16mm !important; bottom: 11mm !important; left: 0 !important;
  right: 0 !important; width: auto !important; height: auto !important; border: 1px solid #666;}
html.gis-printing .gis-layers, html.gis-printing .leaflet-control-zoom, html.gis-printing .gis-banner,
html.gis-printing .gis-not-assessed, html.gis-printing .gis-legend .gis-title, html.gis-printing .gis-legend-context,
html.gis-printing .gis-legend summary {display: none !important;}
html.gis-printing .gis-legend {max-height: none; overflow: visible; box-shadow: none; border: 1px solid #999;}
html.gis-printing .leaflet-container {background: #fff;}
@media print {
  html, body {width: 404mm; height: 281mm; overflow: hidden; margin: 0;}
  body {position: relative;}
  .gis-print-head, .gis-print-foot {display: block; -webkit-print-color-adjust: exact; print-color-adjust: exact;}
  .gis-layers, .leaflet-control-zoom, .gis-banner, .gis-not-assessed {display: none !important;}
  .leaflet-container {-webkit-print-color-adjust: exact; print-color-adjust: exact;}
}
</style>"""
"""The print layout: the page's geometry under ``html.gis-printing`` (set by the panel's script before printing, so
Leaflet measures the printed size), the controls hidden in print."""
