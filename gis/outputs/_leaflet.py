"""A Leaflet GeoJSON layer whose features never pass through Jinja.

folium's ``GeoJson`` renders its data into a script and branca then compiles that script as
a new Jinja template (``MacroElement.render`` wraps every rendered macro in an ``Element``).
At province scale that re-parses megabytes of features (seconds per map), and any ``{{ }}``
in a feature's text would be evaluated as a template.  Here the features go into the page as
one JSON literal beside the layer's small script, which holds nothing from the data.

Popups and tooltips are ready-made, escaped HTML (see :mod:`gis.outputs.webmap_layers`); styles are a short
table that each feature points into, so thousands of features in one colour cost one style.  Layers of the same
shapes (every indicator's prefectures, or counties) may share them: the geometries go into the page once, under a
name (:func:`shapes_name`), and each layer holds only its properties.

Popups and tooltips go the same way: a layer's texts are cut where their tags are (``<b>``, ``</td></tr><tr><th>``),
each piece is written once in the layer's ``parts``, and a feature holds the numbers of its pieces (``p`` for its
popup, ``t`` for its tooltip), joined again when it is clicked or pointed at.  Thousands of popups repeat their
headings, labels and table tags: a province's map is about a third of the size it was with a text per feature.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from branca.element import Figure
from folium.map import Layer
from jinja2 import Template

from gis.outputs._offline import RawHtml

_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
_COMMENT_OPEN = re.compile(r"<!--")


def script_json(value: Any) -> str:  # noqa: ANN401 - any JSON value
    """``value`` as JSON that is safe inside a ``<script>`` element (no ``</script`` or ``<!--``)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _COMMENT_OPEN.sub(r"<\\u0021--", _SCRIPT_END.sub(r"<\\/\1", text))


def shapes_name(geometries: np.ndarray) -> str:
    """The JavaScript name of a list of geometries, the same for the same geometries (their WKB): layers drawing the
    same shapes share one copy of them."""
    digest = hashlib.sha1(b"".join(shapely.to_wkb(geometries)), usedforsecurity=False).hexdigest()[:16]
    return f"gis_shapes_{digest}"


_TAGS = re.compile(r"((?:<[^>]+>)+)")
"""A run of tags: where a popup's text is cut into pieces (a heading, a label, a value and the tags between them)."""


def text_parts(texts: list[str], table: dict[str, int]) -> list[list[int]]:
    """Each text as the numbers of its pieces in ``table`` (pieces new to it are added): ``"".join`` of the pieces gives
    the text back, character for character."""
    return [[table.setdefault(piece, len(table)) for piece in _TAGS.split(text) if piece] for text in texts]


def _geometries(geometries: np.ndarray) -> str:
    """A JSON array of GeoJSON geometries (the text from GEOS in one call)."""
    return "[" + ",".join(shapely.to_geojson(geometries)) + "]"


def _features(geometries: np.ndarray, properties: list[dict[str, Any]]) -> str:
    """A JSON array of GeoJSON features; the geometry text comes from GEOS in one call."""
    texts = shapely.to_geojson(geometries)
    parts = [f'{{"type":"Feature","geometry":{g},"properties":{script_json(p)}}}' for g, p in zip(texts, properties, strict=True)]
    return "[" + ",".join(parts) + "]"


_TEXT_FUNCTION = "gisText"
_TEXT_SCRIPT = ("function gisText(parts, ids) { var out = \"\"; "
                "for (var k = 0; k < ids.length; k++) { out += parts[ids[k]]; } return out; }")
"""The page's one function joining a feature's pieces into its popup or tooltip (see :func:`text_parts`)."""


class FeatureLayer(Layer):
    """Features of a frame in WGS84 on a Leaflet pane: styled, with popups, tooltips and a hover highlight.

    ``styles`` has one Leaflet path style per feature; ``popups`` and ``tooltips`` one HTML
    text per feature, or None for a layer that does not react to the mouse (empty popups: a tooltip only).  Points become
    circle markers of ``radius`` pixels.  Use it like any folium layer (``add_to`` a map,
    a feature group or a marker cluster; it appears in the layer control when named).  With ``shared``, the
    geometries go into the page once for every layer of the same ones (:func:`shapes_name`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- if this.shapes %}
        var {{ this.get_name() }} = L.geoJson({{ this.get_name() }}_data.features.map(function(feature, i) {
            return {type: "Feature", geometry: {{ this.shapes }}[i], properties: feature.properties};
        }), {
        {%- else %}
        var {{ this.get_name() }} = L.geoJson({{ this.get_name() }}_data.features, {
        {%- endif %}
            pane: {{ this.pane|tojson }},
            interactive: {{ this.interactive|tojson }},
            style: function(feature) { return {{ this.get_name() }}_data.styles[feature.properties.s]; },
            pointToLayer: function(feature, latlng) {
                var style = {{ this.get_name() }}_data.styles[feature.properties.s];
                return L.circleMarker(latlng, Object.assign({radius: {{ this.radius|tojson }}, pane: {{ this.pane|tojson }}}, style));
            },
            {%- if this.highlight %}
            onEachFeature: function(feature, layer) {
                layer.on({
                    mouseover: function(e) { e.target.setStyle({{ this.highlight|tojson }}); },
                    mouseout: function(e) { {{ this.get_name() }}.resetStyle(e.target); }
                });
            },
            {%- endif %}
        });
        {%- if this.interactive %}
        {%- if this.has_popups %}
        {{ this.get_name() }}.bindPopup(function(layer) {
            var content = L.DomUtil.create("div", "gis-popup");
            content.innerHTML = gisText({{ this.get_name() }}_data.parts, layer.feature.properties.p);
            return content;
        }, {maxWidth: {{ this.popup_width|tojson }}});
        {%- endif %}
        {{ this.get_name() }}.bindTooltip(function(layer) {
            return gisText({{ this.get_name() }}_data.parts, layer.feature.properties.t);
        }, {sticky: true});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        frame: gpd.GeoDataFrame,
        styles: list[dict[str, Any]],
        *,
        popups: list[str] | None = None,
        tooltips: list[str] | None = None,
        name: str | None = None,
        show: bool = True,
        pane: str = "overlayPane",
        radius: float = 6.0,
        highlight: dict[str, Any] | None = None,
        popup_width: int = 420,
        shared: bool = False,
    ) -> None:
        super().__init__(name=name, overlay=True, control=name is not None, show=show)
        self._name = "FeatureLayer"
        self.pane = pane
        self.radius = radius
        self.highlight = highlight
        self.popup_width = popup_width
        table: dict[str, int] = {}
        indexes = [table.setdefault(json.dumps(style, sort_keys=True), len(table)) for style in styles]
        properties: list[dict[str, Any]]
        parts: dict[str, int] = {}
        if popups is not None and tooltips is not None:
            popup_parts, tooltip_parts = text_parts(popups, parts), text_parts(tooltips, parts)
            properties = [{"s": i, "p": p, "t": t} for i, p, t in zip(indexes, popup_parts, tooltip_parts, strict=True)]
        else:
            properties = [{"s": i} for i in indexes]
        self.interactive = popups is not None and tooltips is not None
        self.has_popups = popups is not None and any(popups)  # tooltips only (context lines): no popup bound
        unique = [json.loads(key) for key in table]
        self.shapes = shapes_name(frame.geometry.values) if shared else None
        self._shapes = _geometries(frame.geometry.values) if shared else ""
        features = script_json([{"properties": p} for p in properties]) if shared else _features(frame.geometry.values, properties)
        shapes = f',"shapes":{script_json(self.shapes)}' if self.shapes else ""
        self._data = f'{{"features":{features},"styles":{script_json(unique)},"parts":{script_json(list(parts))}{shapes}}}'

    # branca types Element.render as returning str, but MacroElement.render (our base) returns None
    def render(self, **kwargs: object) -> None:  # type: ignore[override]
        """Put the features into the page verbatim, then the layer's script (which reads them)."""
        figure = self.get_root()
        assert isinstance(figure, Figure)  # a layer is rendered as part of its map's page
        if _TEXT_FUNCTION not in figure.script._children:  # the first layer writes the function joining the pieces
            figure.script.add_child(RawHtml(_TEXT_SCRIPT), name=_TEXT_FUNCTION)
        if self.shapes and self.shapes not in figure.script._children:  # the first layer of these shapes writes them
            figure.script.add_child(RawHtml(f"var {self.shapes} = {self._shapes};"), name=self.shapes)
        figure.script.add_child(RawHtml(f"var {self.get_name()}_data = {self._data};"), name=f"{self.get_name()}_data")
        super().render(**kwargs)
