"""A QGIS project stored inside ``planning.gpkg``: layers in groups, Chinese names, labels, aliases, relations.

QGIS (3.x, Debian's 3.22 included) keeps projects in a GeoPackage table ``qgis_projects`` (name TEXT PRIMARY
KEY, metadata BLOB, content BLOB): ``content`` is the zipped project (a ``.qgz``: a zip holding one ``.qgs``)
written as hexadecimal TEXT, ``metadata`` a JSON text with ``last_modified_time`` (UTC) and
``last_modified_user``. QGIS does not list the table in ``gpkg_contents``, so it is no layer; neither does this
module. The project is opened from the Browser (the GeoPackage's project entry), from Project > Open From >
GeoPackage, or by the URI of :func:`project_uri`.

Layer sources are relative (``./planning.gpkg|layername=permeable.share.county``): QGIS resolves them against
the folder of the GeoPackage the project is stored in, so the file opens the same wherever it is copied or
moved, as long as it keeps its name.

Every name and text comes from data files and goes into the XML through ElementTree, which escapes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sqlite3
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import pyproj

from gis.errors import DataError
from gis.outputs.names import plain_name

QGIS_VERSION = "3.22.0-Białowieża"
"""The QGIS version the project says it was written by: the oldest QGIS it is checked with (Debian's)."""

PROJECTS_TABLE = "qgis_projects"
PROJECT_AUTHOR = "gis"

_GEOMETRIES = {"polygon": ("Polygon", "MultiPolygon"), "line": ("Line", "MultiLineString"), "point": ("Point", "MultiPoint")}
_NO_GEOMETRY = ("No geometry", "NoGeometry")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"

Bounds = tuple[float, float, float, float]
"""xmin, ymin, xmax, ymax."""

EXTENT_MARGIN = 0.05
"""The default view shows this share of the layers' width and height as margin on each side."""


@dataclass(frozen=True)
class LabelStyle:
    """How a layer's labels are drawn: their size in points, bold or not, and their priority (0-10: where labels
    collide, QGIS keeps the higher priority's)."""

    size: float = 9
    bold: bool = False
    priority: int = 5


@dataclass(frozen=True)
class ProjectLayer:
    """One GeoPackage layer or table as the project shows it."""

    table: str
    """The GeoPackage table ('permeable.share.county', 'city', 'city_indicators')."""
    name: str
    """The name in QGIS's layer tree ('透水面积比例 · 县区')."""
    abstract: str
    """English title and meaning, plan clause, the synthetic notice where the data is synthetic."""
    group: tuple[str, ...]
    """The groups it sits in, from the top (theme name, indicator title); () at the top level."""
    geometry: str | None
    """'polygon', 'line' or 'point'; None for an attribute table."""
    qml: str | None
    """The layer's QML style (:mod:`gis.outputs.qgis_styles`): its renderer is used as is."""
    visible: bool
    label_field: str | None
    """The field whose values label the features (county names: 'zone_name'), None for no labels."""
    aliases: dict[str, str]
    """Field -> alias shown in the attribute table and forms."""
    fields: tuple[tuple[str, str], ...] = ()
    """The layer's fields in order, with their dictionary type (text, integer, real, boolean); () to list only
    the aliased fields. A boolean field gets QGIS's check box."""
    display_field: str | None = None
    """The field that names a feature in identify results and relation lists; defaults to ``label_field``."""
    label_style: LabelStyle = LabelStyle()
    """How the labels of ``label_field`` look (the prefecture names larger and bold, above the county names)."""


@dataclass(frozen=True)
class ProjectRelation:
    """A QGIS relation: features of ``referencing_table`` belong to the feature of ``referenced_table`` with
    the same key (the ``city`` polygon -> its rows in ``city_indicators``, on ``zone_id``)."""

    id: str
    name: str
    referencing_table: str
    referenced_table: str
    referencing_field: str
    referenced_field: str


@dataclass(frozen=True)
class _Crs:
    """A CRS as QGIS's ``<spatialrefsys>`` writes it."""

    wkt: str
    proj4: str
    srid: str
    authid: str
    description: str
    projection: str
    ellipsoid: str
    geographic: bool


def _crs(crs: str) -> _Crs:
    """QGIS's description of ``crs`` ('EPSG:4490'), from PROJ through pyproj."""
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as error:
        msg = f"QGIS project: CRS '{crs}' is not one PROJ knows ({error}); give an EPSG code such as 'EPSG:4490'"
        raise DataError(msg) from error
    authority = parsed.to_authority()
    with warnings.catch_warnings():  # a PROJ string is lossy: QGIS keeps it beside the WKT, which it reads first
        warnings.simplefilter("ignore", UserWarning)
        proj4 = (parsed.to_proj4() or "").replace(" +type=crs", "")
    acronym = re.search(r"\+proj=(\S+)", proj4)
    ellipsoid = (parsed.ellipsoid.to_json_dict().get("id") or {}) if parsed.ellipsoid else {}
    return _Crs(
        wkt=parsed.to_wkt(),
        proj4=proj4,
        srid=authority[1] if authority else "0",
        authid=":".join(authority) if authority else "",
        description=parsed.name,
        projection=acronym.group(1) if acronym else "",
        ellipsoid=f"{ellipsoid['authority']}:{ellipsoid['code']}" if ellipsoid else "",
        geographic=parsed.is_geographic,
    )


def _text(value: str) -> str:
    """``value`` without the control characters XML 1.0 cannot hold (the tree escapes the rest)."""
    return _NOT_XML.sub("", value)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _spatialrefsys(parent: ET.Element, crs: _Crs) -> None:
    srs = _sub(parent, "spatialrefsys")
    for tag, value in (("wkt", crs.wkt), ("proj4", crs.proj4), ("srid", crs.srid), ("authid", crs.authid),
                       ("description", crs.description), ("projectionacronym", crs.projection),
                       ("ellipsoidacronym", crs.ellipsoid), ("geographicflag", "true" if crs.geographic else "false")):
        _sub(srs, tag, value)


def layer_id(table: str) -> str:
    """The project's id of a layer: its plain name and a digest of the table name (the same in every run)."""
    return f"{plain_name(table)}_{hashlib.sha1(table.encode('utf-8')).hexdigest()[:8]}"


def layer_source(gpkg_name: str, table: str) -> str:
    """A layer's source, relative to the GeoPackage's folder: './planning.gpkg|layername=city'."""
    for what, text in (("file", gpkg_name), ("layer", table)):
        if "|" in text:
            msg = f"QGIS project: {what} name '{text}' holds '|', which ends a QGIS layer source; rename it"
            raise DataError(msg)
    return f"./{gpkg_name}|layername={table}"


def project_uri(gpkg: Path, project_name: str) -> str:
    """The URI QGIS opens a project stored in ``gpkg`` by: 'geopackage:/abs/planning.gpkg?projectName=planning'."""
    return f"geopackage:{quote(gpkg.resolve().as_posix(), safe='/:')}?{urlencode({'projectName': project_name}, quote_via=quote)}"


def _renderer(layer: ProjectLayer) -> ET.Element:
    if layer.qml is None:
        msg = f"QGIS project: layer '{layer.table}' has a geometry but no QML style; give it one (gis.outputs.qgis_styles)"
        raise DataError(msg)
    try:
        renderer = ET.fromstring(layer.qml).find("renderer-v2")
    except ET.ParseError as error:
        msg = f"QGIS project: the QML style of layer '{layer.table}' is not XML ({error}); make it with gis.outputs.qgis_styles"
        raise DataError(msg) from error
    if renderer is None:
        msg = f"QGIS project: the QML style of layer '{layer.table}' has no <renderer-v2>; make it with gis.outputs.qgis_styles"
        raise DataError(msg)
    return renderer


_PLACEMENTS = {
    # QGIS's placement of labels: over the centroid inside a polygon, beside a point, along a line
    "polygon": {"placement": "1", "centroidInside": "1", "layerType": "PolygonGeometry"},
    "point": {"placement": "0", "dist": "1", "layerType": "PointGeometry"},
    "line": {"placement": "2", "placementFlags": "10", "layerType": "LineGeometry"},
}


def _labeling(parent: ET.Element, label_field: str, geometry: str, look: LabelStyle) -> None:
    """Dark grey labels with a white halo, so they read over any fill: in a polygon's middle, beside a point,
    along a line."""
    labeling = _sub(parent, "labeling", type="simple")
    settings = _sub(labeling, "settings", calloutType="simple")
    style = _sub(settings, "text-style", fieldName=label_field, isExpression="0", fontSize=f"{look.size:g}", fontSizeUnit="Point",
                 textColor="40,40,40,255", textOpacity="1", fontWeight="75" if look.bold else "50", multilineHeight="1",
                 namedStyle="Bold" if look.bold else "")
    _sub(style, "text-buffer", bufferDraw="1", bufferSize="0.8", bufferSizeUnits="MM", bufferColor="255,255,255,255",
         bufferOpacity="0.9", bufferNoFill="1", bufferJoinStyle="128", bufferBlendMode="0")
    _sub(settings, "text-format", wrapChar="", multilineAlign="3", formatNumbers="0", decimals="3")
    _sub(settings, "placement", **{"priority": str(look.priority), "dist": "0", "quadOffset": "4", "xOffset": "0", "yOffset": "0",
                                   "offsetType": "0", "distUnits": "MM", **_PLACEMENTS[geometry]})
    _sub(settings, "rendering", drawLabels="1", obstacle="1", obstacleFactor="1", obstacleType="1", displayAll="0",
         upsidedownLabels="0", labelPerPart="0", mergeLines="0", minFeatureSize="0", limitNumLabels="0",
         maxNumLabels="2000", scaleVisibility="0", scaleMin="0", scaleMax="0", fontLimitPixelSize="0", zIndex="0")


def _fields(parent: ET.Element, layer: ProjectLayer) -> None:
    listed = layer.fields or tuple((name, "") for name in layer.aliases)
    configuration = _sub(parent, "fieldConfiguration")
    for name, kind in listed:
        item = _sub(configuration, "field", name=name, configurationFlags="None")
        widget = _sub(item, "editWidget", type="CheckBox" if kind == "boolean" else "")  # "": QGIS picks by column type
        _sub(_sub(widget, "config"), "Option")
    aliases = _sub(parent, "aliases")
    for index, (name, _) in enumerate(listed):
        _sub(aliases, "alias", field=name, index=str(index), name=layer.aliases.get(name, ""))


def _maplayer(parent: ET.Element, layer: ProjectLayer, crs: _Crs, gpkg_name: str) -> None:
    if layer.geometry is not None and layer.geometry not in _GEOMETRIES:
        msg = f"QGIS project: layer '{layer.table}' has geometry '{layer.geometry}'; use one of {', '.join(_GEOMETRIES)} or None"
        raise DataError(msg)
    geometry, wkb = _GEOMETRIES[layer.geometry] if layer.geometry else _NO_GEOMETRY
    labelled = layer.geometry is not None and layer.label_field is not None
    element = _sub(parent, "maplayer", type="vector", geometry=geometry, wkbType=wkb, labelsEnabled="1" if labelled else "0",
                   hasScaleBasedVisibilityFlag="0", minScale="0", maxScale="0", readOnly="0", styleCategories="AllStyleCategories")
    _sub(element, "id", layer_id(layer.table))
    _sub(element, "datasource", layer_source(gpkg_name, layer.table))
    _sub(element, "abstract", layer.abstract)
    _sub(element, "layername", layer.name)
    if layer.geometry is not None:
        _spatialrefsys(_sub(element, "srs"), crs)
    metadata = _sub(element, "resourceMetadata")
    _sub(metadata, "type", "dataset")
    _sub(metadata, "title", layer.name)
    _sub(metadata, "abstract", layer.abstract)
    _sub(element, "provider", "ogr", encoding="UTF-8")
    if layer.geometry is not None:
        element.append(_renderer(layer))
        if layer.label_field is not None:
            _labeling(element, layer.label_field, layer.geometry, layer.label_style)
        _sub(element, "blendMode", "0")
        _sub(element, "featureBlendMode", "0")
        _sub(element, "layerOpacity", "1")
    _fields(element, layer)
    display = layer.display_field or layer.label_field
    _sub(element, "previewExpression", f'"{display.replace(chr(34), chr(34) * 2)}"' if display else "")


def _tree(parent: ET.Element, layers: list[ProjectLayer], gpkg_name: str) -> None:
    """Groups and layers top to bottom in the given order; only groups holding a visible layer are open and ticked."""
    root = _sub(parent, "layer-tree-group")
    shown = {layer.group[:depth] for layer in layers if layer.visible for depth in range(1, len(layer.group) + 1)}
    groups: dict[tuple[str, ...], ET.Element] = {(): root}
    for layer in layers:
        for depth in range(1, len(layer.group) + 1):
            path = layer.group[:depth]
            if path not in groups:
                state = "1" if path in shown else "0"
                groups[path] = _sub(groups[path[:-1]], "layer-tree-group", name=path[-1], expanded=state,
                                    checked="Qt::Checked" if path in shown else "Qt::Unchecked")
        _sub(groups[layer.group], "layer-tree-layer", id=layer_id(layer.table), name=layer.name, providerKey="ogr",
             source=layer_source(gpkg_name, layer.table), checked="Qt::Checked" if layer.visible else "Qt::Unchecked",
             expanded="1" if layer.visible else "0")


def _relations(parent: ET.Element, relations: list[ProjectRelation], tables: set[str]) -> None:
    element = _sub(parent, "relations")
    for relation in relations:
        for table in (relation.referencing_table, relation.referenced_table):
            if table not in tables:
                msg = f"QGIS project: relation '{relation.id}' links layer '{table}', which the project does not list; add the layer"
                raise DataError(msg)
        item = _sub(element, "relation", id=relation.id, name=relation.name, strength="Association",
                    referencingLayer=layer_id(relation.referencing_table), referencedLayer=layer_id(relation.referenced_table))
        _sub(item, "fieldRef", referencingField=relation.referencing_field, referencedField=relation.referenced_field)


def _check_unique(layers: Iterable[ProjectLayer]) -> None:
    seen: set[str] = set()
    for layer in layers:
        if layer.table in seen:
            msg = f"QGIS project: layer '{layer.table}' is listed twice; list each GeoPackage layer once"
            raise DataError(msg)
        seen.add(layer.table)


def project_qgs(
    *,
    title: str,
    abstract: str,
    crs: str,
    extent: Bounds,
    layers: list[ProjectLayer],
    relations: list[ProjectRelation],
    gpkg_name: str,
    created: datetime | None = None,
) -> str:
    """The project as QGIS's ``.qgs`` XML: ``layers`` top to bottom, their sources in ``gpkg_name`` beside the
    project, the view on ``extent`` (xmin, ymin, xmax, ymax in ``crs``), ``created`` (now) in the metadata."""
    _check_unique(layers)
    system = _crs(crs)
    stamp = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    qgis = ET.Element("qgis", {"version": QGIS_VERSION, "projectname": _text(title), "saveUser": PROJECT_AUTHOR,
                               "saveDateTime": stamp})
    _sub(qgis, "homePath", path="")
    _sub(qgis, "title", title)
    _spatialrefsys(_sub(qgis, "projectCrs"), system)
    _tree(qgis, layers, gpkg_name)
    _relations(qgis, relations, {layer.table for layer in layers})
    project_layers = _sub(qgis, "projectlayers")
    for layer in layers:
        _maplayer(project_layers, layer, system, gpkg_name)
    properties = _sub(qgis, "properties")
    _sub(_sub(properties, "Paths"), "Absolute", "false", type="bool")  # sources relative to the GeoPackage's folder
    _sub(_sub(properties, "SpatialRefSys"), "ProjectionsEnabled", "1", type="int")  # else QGIS ignores <projectCrs>
    metadata = _sub(qgis, "projectMetadata")
    for tag, value in (("identifier", ""), ("parentidentifier", ""), ("language", ""), ("type", ""),
                       ("title", title), ("abstract", abstract)):
        _sub(metadata, tag, value)
    _sub(metadata, "links")
    _sub(metadata, "author", PROJECT_AUTHOR)
    _sub(metadata, "creation", stamp)
    view = _sub(qgis, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    _sub(view, "Scales")
    xmin, ymin, xmax, ymax = extent
    default = _sub(view, "DefaultViewExtent", xmin=repr(float(xmin)), ymin=repr(float(ymin)), xmax=repr(float(xmax)), ymax=repr(float(ymax)))
    _spatialrefsys(default, system)
    ET.indent(qgis)
    return f"{_DOCTYPE}\n{ET.tostring(qgis, encoding='unicode')}\n"


def _tables(gpkg: Path) -> dict[str, Bounds | None]:
    """The GeoPackage's layers and tables with their bounds from ``gpkg_contents`` (None where it has none)."""
    if not gpkg.is_file():
        msg = f"{gpkg}: no such GeoPackage to store the QGIS project in; write the layers first"
        raise DataError(msg)
    with sqlite3.connect(gpkg) as connection:
        rows = connection.execute("SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents").fetchall()
    connection.close()
    tables: dict[str, Bounds | None] = {}
    for name, x0, y0, x1, y1 in rows:
        tables[name] = None if None in (x0, y0, x1, y1) else (float(x0), float(y0), float(x1), float(y1))
    return tables


def _extent(gpkg: Path, bounds: list[Bounds | None]) -> Bounds:
    """The union of the layers' bounds, with :data:`EXTENT_MARGIN` on each side."""
    known = [b for b in bounds if b is not None]
    if not known:
        msg = f"{gpkg}: no layer of the QGIS project has bounds in gpkg_contents; pass the extent"
        raise DataError(msg)
    xmin, ymin = min(b[0] for b in known), min(b[1] for b in known)
    xmax, ymax = max(b[2] for b in known), max(b[3] for b in known)
    dx, dy = (xmax - xmin) * EXTENT_MARGIN, (ymax - ymin) * EXTENT_MARGIN
    return (xmin - dx, ymin - dy, xmax + dx, ymax + dy)


def write_qgis_project(
    gpkg: Path,
    *,
    project_name: str,
    title: str,
    abstract: str,
    crs: str,
    layers: list[ProjectLayer],
    relations: list[ProjectRelation],
    extent: Bounds | None = None,
    created: datetime | None = None,
) -> None:
    """Store the project as ``project_name`` in ``gpkg``'s ``qgis_projects`` table (replacing one of that name).

    Every layer must be a layer or table of ``gpkg``. ``extent`` defaults to the bounds of the visible layers
    (of all layers if none is visible) in ``gpkg_contents``, which are in ``crs``, with a margin."""
    tables = _tables(gpkg)
    for layer in layers:
        if layer.table not in tables:
            msg = f"{gpkg}: the QGIS project lists layer '{layer.table}', which the GeoPackage does not hold; write the layer first"
            raise DataError(msg)
    if extent is None:
        chosen = [layer for layer in layers if layer.visible and layer.geometry] or [layer for layer in layers if layer.geometry]
        extent = _extent(gpkg, [tables[layer.table] for layer in chosen])
    stamp = created or datetime.now(UTC)
    qgs = project_qgs(title=title, abstract=abstract, crs=crs, extent=extent, layers=layers, relations=relations,
                      gpkg_name=gpkg.name, created=stamp)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as qgz:
        qgz.writestr(f"{plain_name(project_name)}.qgs", qgs.encode("utf-8"))
    metadata = json.dumps({"last_modified_time": stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                           "last_modified_user": PROJECT_AUTHOR})
    with sqlite3.connect(gpkg) as connection:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {PROJECTS_TABLE} (name TEXT PRIMARY KEY, metadata BLOB, content BLOB)")
        # QGIS reads content as text and decodes it from hexadecimal
        connection.execute(f"INSERT OR REPLACE INTO {PROJECTS_TABLE} (name, metadata, content) VALUES (?, ?, ?)",
                           (project_name, metadata, archive.getvalue().hex()))
    connection.close()


def read_qgis_project(gpkg: Path, project_name: str) -> str:
    """The ``.qgs`` XML of the project ``project_name`` stored in ``gpkg``, as QGIS reads it back."""
    with sqlite3.connect(gpkg) as connection:
        row = connection.execute(f"SELECT content FROM {PROJECTS_TABLE} WHERE name = ?", (project_name,)).fetchone()
    connection.close()
    if row is None:
        msg = f"{gpkg}: no QGIS project named '{project_name}' in {PROJECTS_TABLE}"
        raise DataError(msg)
    with zipfile.ZipFile(io.BytesIO(bytes.fromhex(row[0]))) as qgz:
        names = [n for n in qgz.namelist() if n.endswith(".qgs")]
        if not names:
            msg = f"{gpkg}: the QGIS project '{project_name}' holds no .qgs file"
            raise DataError(msg)
        return qgz.read(names[0]).decode("utf-8")
