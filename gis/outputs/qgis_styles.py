"""QGIS styles (QML, and SLD) for the GeoPackage's layers, in the web map's colours and classes.

QGIS reads a GeoPackage's ``layer_styles`` table and applies the row marked ``useAsDefault``
when the layer is opened, so planners open ``planning.gpkg`` already styled.

No zone is drawn as a hole: zones by status have a category for each status (``no_data`` grey, 0/0: nothing
to measure) and a catch-all category (QGIS's empty value, which takes NULL) in the ``no_data`` grey; zones by
value are rules (QGIS's graduated renderer has no class for NULL): one per value class and one for NULL values
(``"value" IS NULL``) in the ``no_data`` grey.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from gis.outputs.symbology import STATUSES, ZoneClasses


@dataclass(frozen=True)
class LayerStyle:
    """One row of ``layer_styles``."""

    table: str
    geometry_column: str
    name: str
    qml: str
    sld: str
    description: str


STYLE_NAME_MAX = 30
"""QGIS's ``layer_styles.styleName`` is TEXT(30): GDAL's validator warns on longer names."""


def style_name(layer: str) -> str:
    """The name of a layer's style: '<layer> (gis)', within :data:`STYLE_NAME_MAX` characters (a long layer
    name keeps its start and its level, 'heating.waste_h…renewable.county')."""
    name = f"{layer} (gis)"
    if len(name) <= STYLE_NAME_MAX:
        return name
    if len(layer) <= STYLE_NAME_MAX:
        return layer
    tail = STYLE_NAME_MAX // 2
    return f"{layer[: STYLE_NAME_MAX - tail - 1]}…{layer[-tail:]}"


def _rgba(colour: str, alpha: float = 1.0) -> str:
    """'#d73027' as QGIS's 'r,g,b,a'."""
    colour = colour.lstrip("#")
    red, green, blue = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"{red},{green},{blue},{round(alpha * 255)}"


def _options(values: dict[str, str]) -> str:
    items = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in values.items())
    return f'<Option type="Map">{items}</Option>'


def _fill_symbol(name: str, colour: str, opacity: float, outline: str) -> str:
    layer = _options({"color": _rgba(colour, opacity), "outline_color": _rgba(outline), "outline_width": "0.26",
                      "outline_style": "solid", "style": "solid", "joinstyle": "bevel"})
    return (f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{layer}</layer></symbol>')


def _marker_symbol(name: str, colour: str, size_mm: float) -> str:
    layer = _options({"color": _rgba(colour, 0.9), "outline_color": "255,255,255,255", "outline_width": "0.3",
                      "name": "circle", "size": f"{size_mm:g}", "size_unit": "MM"})
    return (f'<symbol type="marker" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0">{layer}</layer></symbol>')


def _qml(renderer: str) -> str:
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="3.22.0" styleCategories="Symbology">{renderer}</qgis>\n')


@dataclass(frozen=True)
class ZoneSymbols:
    """How a zone layer is drawn: its classes (:func:`~gis.outputs.symbology.classify_zones`), their labels, fill and outline."""

    classes: ZoneClasses
    status_labels: dict[str, str]
    class_labels: list[str]
    opacity: float
    outline: str

    @property
    def null_label(self) -> str:
        """The label of zones without a status or value (NULL): the ``no_data`` label, marked NULL."""
        return f"{self.status_labels.get('no_data', 'no data')} (NULL)"


def zones_qml(symbols: ZoneSymbols) -> str:
    """Zones categorised by ``status`` (a category per status, and the catch-all for NULL), or ruled on ``value`` with the
    web map's breaks (a rule per class, and one for NULL); both kinds of no data in the ``no_data`` grey."""
    classes, opacity, outline = symbols.classes, symbols.opacity, symbols.outline
    if not classes.by_value:
        categories = "".join(
            f'<category render="true" symbol="{i}" value={quoteattr(s)} label={quoteattr(symbols.status_labels[s])}/>'
            for i, s in enumerate(STATUSES)
        )
        # QGIS draws a value no category lists, NULL too, with the category of the empty value
        categories += f'<category render="true" symbol="{len(STATUSES)}" value="" label={quoteattr(symbols.null_label)}/>'
        fills = "".join(_fill_symbol(str(i), classes.status_colours[s], opacity, outline) for i, s in enumerate(STATUSES))
        fills += _fill_symbol(str(len(STATUSES)), classes.no_data, opacity, outline)
        renderer = (f'<renderer-v2 type="categorizedSymbol" attr="status" symbollevels="0" enableorderby="0" forceraster="0">'
                    f"<categories>{categories}</categories><symbols>{fills}</symbols></renderer-v2>")
        return _qml(renderer)
    bounds: list[float | None] = [None, *classes.breaks, None]
    rules = []
    for i in range(len(classes.colours)):
        tests = ([f'"value" >= {bounds[i]:.17g}'] if bounds[i] is not None else []) + (
            [f'"value" < {bounds[i + 1]:.17g}'] if bounds[i + 1] is not None else [])
        condition = " AND ".join(tests) or '"value" IS NOT NULL'
        rules.append((condition, symbols.class_labels[i]))
    rules.append(('"value" IS NULL', symbols.null_label))
    items = "".join(
        f'<rule key="r{i}" symbol="{i}" filter={quoteattr(condition)} label={quoteattr(text)}/>' for i, (condition, text) in enumerate(rules)
    )
    colours = [*classes.colours, classes.no_data]
    fills = "".join(_fill_symbol(str(i), colour, opacity, outline) for i, colour in enumerate(colours))
    renderer = (f'<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
                f'<rules key="root">{items}</rules><symbols>{fills}</symbols></renderer-v2>')
    return _qml(renderer)


def gaps_qml(geometry: str, colour: str, *, opacity: float) -> str:
    """Gap features in the gap colour: points as circles, polygons filled, lines drawn."""
    if geometry == "point":
        symbol = _marker_symbol("0", colour, 3.0)
    elif geometry == "line":
        layer = _options({"line_color": _rgba(colour), "line_width": "0.8", "line_style": "solid"})
        symbol = ('<symbol type="line" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
                  f'<layer class="SimpleLine" enabled="1" locked="0" pass="0">{layer}</layer></symbol>')
    else:
        symbol = _fill_symbol("0", colour, opacity, colour)
    return _qml(f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>{symbol}</symbols></renderer-v2>')


def outline_qml(colour: str, *, width_mm: float = 0.8) -> str:
    """A boundary drawn as a line ``width_mm`` wide with no fill (the city outline, above the indicator layers)."""
    layer = _options({"color": "0,0,0,0", "outline_color": _rgba(colour), "outline_width": f"{width_mm:g}",
                      "outline_style": "solid", "style": "no", "joinstyle": "round"})
    symbol = ('<symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
              f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{layer}</layer></symbol>')
    return _qml(f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>{symbol}</symbols></renderer-v2>')


def outline_sld(layer: str, colour: str, *, width_px: float = 2) -> str:
    """The outline of :func:`outline_qml` as SLD (``width_px`` wide)."""
    stroke = (f'<se:PolygonSymbolizer><se:Stroke><se:SvgParameter name="stroke">{colour}</se:SvgParameter>'
              f'<se:SvgParameter name="stroke-width">{width_px:g}</se:SvgParameter></se:Stroke></se:PolygonSymbolizer>')
    return _sld(layer, f"<se:Rule><se:Name>{escape(layer)}</se:Name>{stroke}</se:Rule>")


def _sld(layer: str, rules: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" '
            'xmlns:ogc="http://www.opengis.net/ogc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<NamedLayer><se:Name>{escape(layer)}</se:Name><UserStyle><se:Name>{escape(layer)}</se:Name>"
            f"<se:FeatureTypeStyle>{rules}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n")


def _sld_polygon(colour: str, opacity: float, outline: str) -> str:
    return (f'<se:PolygonSymbolizer><se:Fill><se:SvgParameter name="fill">{colour}</se:SvgParameter>'
            f'<se:SvgParameter name="fill-opacity">{opacity:g}</se:SvgParameter></se:Fill>'
            f'<se:Stroke><se:SvgParameter name="stroke">{outline}</se:SvgParameter>'
            '<se:SvgParameter name="stroke-width">1</se:SvgParameter></se:Stroke></se:PolygonSymbolizer>')


def zones_sld(layer: str, symbols: ZoneSymbols) -> str:
    """The same classes as :func:`zones_qml`, as SLD rules."""
    classes, opacity, outline = symbols.classes, symbols.opacity, symbols.outline
    rules = []
    if not classes.by_value:
        for status in STATUSES:
            rules.append(
                f"<se:Rule><se:Name>{escape(symbols.status_labels[status])}</se:Name><ogc:Filter><ogc:PropertyIsEqualTo>"
                f"<ogc:PropertyName>status</ogc:PropertyName><ogc:Literal>{status}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>"
                f"{_sld_polygon(classes.status_colours[status], opacity, outline)}</se:Rule>"
            )
        rules.append(_sld_null_rule("status", symbols))
        return _sld(layer, "".join(rules))
    bounds: list[float | None] = [None, *classes.breaks, None]
    for i, colour in enumerate(classes.colours):
        lower, upper = bounds[i], bounds[i + 1]
        tests = []
        if lower is not None:
            tests.append(f"<ogc:PropertyIsGreaterThanOrEqualTo><ogc:PropertyName>value</ogc:PropertyName>"
                         f"<ogc:Literal>{lower:.17g}</ogc:Literal></ogc:PropertyIsGreaterThanOrEqualTo>")
        if upper is not None:
            tests.append(f"<ogc:PropertyIsLessThan><ogc:PropertyName>value</ogc:PropertyName>"
                         f"<ogc:Literal>{upper:.17g}</ogc:Literal></ogc:PropertyIsLessThan>")
        condition = "".join(tests) if len(tests) < 2 else f"<ogc:And>{''.join(tests)}</ogc:And>"
        if not condition:  # one class for all values: every value that is not NULL
            condition = "<ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>value</ogc:PropertyName></ogc:PropertyIsNull></ogc:Not>"
        selection = f"<ogc:Filter>{condition}</ogc:Filter>"
        rules.append(f"<se:Rule><se:Name>{escape(symbols.class_labels[i])}</se:Name>{selection}"
                     f"{_sld_polygon(colour, opacity, outline)}</se:Rule>")
    rules.append(_sld_null_rule("value", symbols))
    return _sld(layer, "".join(rules))


def _sld_null_rule(field: str, symbols: ZoneSymbols) -> str:
    """A rule for zones whose ``field`` is NULL, in the ``no_data`` grey."""
    return (f"<se:Rule><se:Name>{escape(symbols.null_label)}</se:Name><ogc:Filter><ogc:PropertyIsNull>"
            f"<ogc:PropertyName>{field}</ogc:PropertyName></ogc:PropertyIsNull></ogc:Filter>"
            f"{_sld_polygon(symbols.classes.no_data, symbols.opacity, symbols.outline)}</se:Rule>")


def gaps_sld(layer: str, geometry: str, colour: str, *, opacity: float) -> str:
    """Gap features in the gap colour, as SLD."""
    if geometry == "point":
        symbolizer = (f'<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle</se:WellKnownName>'
                      f'<se:Fill><se:SvgParameter name="fill">{colour}</se:SvgParameter></se:Fill>'
                      '<se:Stroke><se:SvgParameter name="stroke">#ffffff</se:SvgParameter></se:Stroke></se:Mark>'
                      '<se:Size>11</se:Size></se:Graphic></se:PointSymbolizer>')
    elif geometry == "line":
        symbolizer = (f'<se:LineSymbolizer><se:Stroke><se:SvgParameter name="stroke">{colour}</se:SvgParameter>'
                      '<se:SvgParameter name="stroke-width">2</se:SvgParameter></se:Stroke></se:LineSymbolizer>')
    else:
        symbolizer = _sld_polygon(colour, opacity, colour)
    return _sld(layer, f"<se:Rule><se:Name>{escape(layer)}</se:Name>{symbolizer}</se:Rule>")


_LAYER_STYLES = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
    styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30),
    ui TEXT(30), update_time DATETIME DEFAULT CURRENT_TIMESTAMP
)"""


def write_layer_styles(path: Path, styles: list[LayerStyle], *, sync: bool = True) -> None:
    """Store the styles in the GeoPackage's ``layer_styles`` table, each the default of its layer.

    ``sync=False`` skips SQLite's fsync: for a new file its writer syncs once when it is complete."""
    with closing(sqlite3.connect(path)) as connection, connection:
        if not sync:
            connection.execute("PRAGMA synchronous = OFF")
        connection.execute(_LAYER_STYLES)
        connection.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, ?, ?, ?)",
            ("layer_styles", "attributes", "layer_styles", "QGIS styles of the layers (QML and SLD)"),
        )
        connection.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
            "styleQML, styleSLD, useAsDefault, description, owner, update_time) "
            "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, 'gis', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            [(s.table, s.geometry_column, s.name, s.qml, s.sld, s.description) for s in styles],
        )
