"""OpenStreetMap extracts (``.osm.pbf``) into the project's layers, with pyosmium (``osmium`` on PyPI).

pyosmium streams the file once (libosmium, C++): node locations go to an index sized for the
extract, ways get their geometry from it, and closed ways and multipolygon relations are
assembled into areas.  Each kept object goes to one layer by these rules:

=================  ==========  ==========================================  ===============================================
layer              geometry    OSM objects and tags                        columns (canonical <- tag)
=================  ==========  ==========================================  ===============================================
charging_stations  Point       nodes, and areas as their centroid, with    id, name, operator, ports <- capacity (else the
                               ``amenity=charging_station``                sum of ``socket:<type>=N``), fast_ports <- sum
                                                                           of DC sockets (``socket:gb_dc``, ``type2_combo``,
                                                                           ``type1_combo``, ``chademo``,
                                                                           ``tesla_supercharger``)
parking_lots       Point       nodes, and areas as their centroid, with    id, name, spaces <- capacity, charger_spaces <-
                               ``amenity=parking``                         ``capacity:charging``, access, parking (kind:
                                                                           surface, multi-storey, underground ...)
sewage_plants      Point       nodes, and areas as their centroid, with    id, name, operator
                               ``man_made=wastewater_plant``
roads              LineString  ways with ``highway=*`` (not ``area=yes``)  id, name, highway, ref
waterways          LineString  ways with ``waterway=river|canal|stream``   id, name, waterway
buildings          Polygon     areas with ``building=*`` (not ``no``)      id, name, building, levels <- ``building:levels``
landuse            Polygon     areas with ``landuse=*``                    id, name, landuse
=================  ==========  ==========================================  ===============================================

Ids are the OSM type letter and id (``n123``, ``w45``, ``r6``: an area keeps the id of the way
or relation it was built from).  Numbers that are not plain integers (``capacity=approx 20``)
are left blank.  A way or area whose nodes are missing (cut at the extract's edge) is left out
and counted.  The data is © OpenStreetMap contributors, under the ODbL 1.0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import osmium
import shapely

from gis.errors import DataError, UsageError
from gis.importers.catalog_entry import NewLayer, file_date, install, open_project, provenance, staged, write_vector

log = logging.getLogger("gis")

Tags = dict[str, str]
FAST_SOCKETS = frozenset({"gb_dc", "type2_combo", "type1_combo", "chademo", "tesla_supercharger", "tesla_supercharger_ccs"})
"""``socket:<type>`` keys of DC fast charging."""
WATERWAYS = frozenset({"river", "canal", "stream"})
LICENCE = "ODbL-1.0"
ATTRIBUTION = "© OpenStreetMap contributors, https://www.openstreetmap.org/copyright"


def count(value: str | None) -> int | None:
    """A tag value that is a plain non-negative integer, else None."""
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.isdigit() else None


def socket_counts(tags: Tags) -> tuple[int | None, int | None]:
    """All sockets and DC sockets of a charging station, from its ``socket:<type>=N`` tags (None when none is given)."""
    total = fast = 0
    seen = False
    for key, value in tags.items():
        parts = key.split(":")
        if len(parts) != 2 or parts[0] != "socket":
            continue
        number = count(value)
        if number is None:
            continue
        seen = True
        total += number
        if parts[1] in FAST_SOCKETS:
            fast += number
    return (total, fast) if seen else (None, None)


def _charging(tags: Tags) -> dict[str, Any]:
    sockets, fast = socket_counts(tags)
    capacity = count(tags.get("capacity"))
    return {"name": tags.get("name"), "operator": tags.get("operator"),
            "ports": capacity if capacity is not None else sockets, "fast_ports": fast}


def _parking(tags: Tags) -> dict[str, Any]:
    return {"name": tags.get("name"), "spaces": count(tags.get("capacity")), "charger_spaces": count(tags.get("capacity:charging")),
            "access": tags.get("access"), "parking": tags.get("parking")}


@dataclass(frozen=True)
class Rule:
    """One layer of the extract: what it is, which objects it takes, and its columns from their tags."""

    geometry: str  # Point, LineString or Polygon
    title: str
    columns: tuple[str, ...]
    wanted: Callable[[Tags], bool]
    values: Callable[[Tags], dict[str, Any]]


RULES: dict[str, Rule] = {
    "charging_stations": Rule("Point", "Charging stations (OSM amenity=charging_station)", ("name", "operator", "ports", "fast_ports"),
                              lambda t: t.get("amenity") == "charging_station", _charging),
    "parking_lots": Rule("Point", "Parking (OSM amenity=parking)", ("name", "spaces", "charger_spaces", "access", "parking"),
                         lambda t: t.get("amenity") == "parking", _parking),
    "sewage_plants": Rule("Point", "Wastewater plants (OSM man_made=wastewater_plant)", ("name", "operator"),
                          lambda t: t.get("man_made") == "wastewater_plant", lambda t: {"name": t.get("name"), "operator": t.get("operator")}),
    "roads": Rule("LineString", "Roads (OSM highway=*)", ("name", "highway", "ref"),
                  lambda t: "highway" in t and t.get("area") != "yes",
                  lambda t: {"name": t.get("name"), "highway": t.get("highway"), "ref": t.get("ref")}),
    "waterways": Rule("LineString", "Rivers, canals and streams (OSM waterway=river|canal|stream)", ("name", "waterway"),
                      lambda t: t.get("waterway") in WATERWAYS, lambda t: {"name": t.get("name"), "waterway": t.get("waterway")}),
    "buildings": Rule("Polygon", "Buildings (OSM building=*)", ("name", "building", "levels"),
                      lambda t: t.get("building", "no") != "no",
                      lambda t: {"name": t.get("name"), "building": t.get("building"), "levels": count(t.get("building:levels"))}),
    "landuse": Rule("Polygon", "Land use (OSM landuse=*)", ("name", "landuse"),
                    lambda t: "landuse" in t, lambda t: {"name": t.get("name"), "landuse": t.get("landuse")}),
}
KEYS = ("amenity", "man_made", "highway", "waterway", "building", "landuse")
"""The tag keys any rule reads: objects without one are skipped at once."""


@dataclass
class OsmImport:
    """What an import of an OSM extract did."""

    counts: dict[str, int]
    paths: dict[str, Path]
    broken: int = 0


@dataclass
class _Collected:
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    broken: int = 0

    def add(self, kind: str, osm_id: str, geometry: shapely.Geometry, values: dict[str, Any]) -> None:
        self.rows.setdefault(kind, []).append({"id": osm_id, **values, "geometry": geometry})


def extract(path: Path, kinds: Iterable[str]) -> _Collected:
    """Read the extract once and collect the rows of each layer in ``kinds``."""
    rules = {kind: RULES[kind] for kind in kinds}
    points = {k: r for k, r in rules.items() if r.geometry == "Point"}
    lines = {k: r for k, r in rules.items() if r.geometry == "LineString"}
    areas = {k: r for k, r in rules.items() if r.geometry == "Polygon"}
    factory = osmium.geom.WKBFactory()
    found = _Collected()
    try:
        processor = osmium.FileProcessor(str(path)).with_areas().with_filter(osmium.filter.KeyFilter(*KEYS))
        for obj in processor:
            tags = dict(obj.tags)
            if isinstance(obj, osmium.osm.Node):
                for kind, rule in points.items():
                    if rule.wanted(tags):
                        found.add(kind, f"n{obj.id}", shapely.Point(obj.location.lon, obj.location.lat), rule.values(tags))
            elif isinstance(obj, osmium.osm.Way):
                wanted = [(k, r) for k, r in lines.items() if r.wanted(tags)]
                if wanted:
                    try:
                        line = shapely.LineString([(n.lon, n.lat) for n in obj.nodes])
                    except (osmium.InvalidLocationError, ValueError):
                        found.broken += 1
                        continue
                    for kind, rule in wanted:
                        found.add(kind, f"w{obj.id}", line, rule.values(tags))
            elif isinstance(obj, osmium.osm.Area):
                wanted = [(k, r) for k, r in {**areas, **points}.items() if r.wanted(tags)]
                if wanted:
                    try:
                        polygon = shapely.from_wkb(factory.create_multipolygon(obj))
                    except (RuntimeError, osmium.InvalidLocationError, shapely.errors.GEOSException):
                        found.broken += 1
                        continue
                    osm_id = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
                    for kind, rule in wanted:
                        shape = polygon.centroid if rule.geometry == "Point" else polygon
                        found.add(kind, osm_id, shape, rule.values(tags))
    except RuntimeError as exc:
        msg = f"{path}: not a readable OSM file ({str(exc).splitlines()[0]}); give an .osm.pbf extract"
        raise DataError(msg) from None
    return found


def extract_date(path: Path) -> str:
    """The date of the extract: its replication timestamp when the header has one, else the file's date."""
    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        stamp = reader.header().get("osmosis_replication_timestamp", "")
    finally:
        reader.close()
    return stamp[:10] if len(stamp) >= 10 else file_date(path)


def import_osm(
    path: Path, project_dir: Path, *, kinds: Sequence[str] | None = None, prefix: str = "", date: str | None = None, replace: bool = False,
) -> OsmImport:
    """Extract the layers of :data:`RULES` (all, or ``kinds``) from an ``.osm.pbf`` into the project, one GeoPackage each."""
    kinds = list(kinds or RULES)
    unknown = [k for k in kinds if k not in RULES]
    if unknown:
        msg = f"--only {unknown[0]}: no such OSM layer; use some of {', '.join(RULES)}"
        raise UsageError(msg)
    names = {kind: f"{prefix}{kind}" for kind in kinds}
    project = open_project(project_dir, list(names.values()), replace=replace, rename="give --prefix (e.g. osm_) or --only other layers")
    found = extract(path, kinds)
    day = date or extract_date(path)
    layers: list[NewLayer] = []
    counts: dict[str, int] = {}
    paths: dict[str, Path] = {}
    for kind in kinds:
        rule, name, rows = RULES[kind], names[kind], found.rows.get(kind, [])
        counts[name] = len(rows)
        if not rows:
            continue
        frame = gpd.GeoDataFrame(rows, columns=["id", *rule.columns, "geometry"], geometry="geometry", crs="EPSG:4326")
        frame = frame.drop_duplicates(subset="id").set_crs("EPSG:4490", allow_override=True)  # WGS84 = CGCS2000 within a metre
        final = project.data_path(name, ".gpkg")
        write_vector(frame, staged(final), name, rule.title)
        entry = {
            "title": rule.title,
            "file": project.catalog_file(final),
            "layer": name,
            "kind": "vector",
            "geometry": rule.geometry,
            "id_field": "id",
            "fields": {column: column for column in ["id", *rule.columns]},
            "provenance": provenance(f"OpenStreetMap extract {path.name}, imported by gis import osm", LICENCE, day, ATTRIBUTION),
        }
        layers.append(NewLayer(name, entry, {staged(final): final}))
        paths[name] = final
    if layers:
        install(project, layers)
    return OsmImport(counts=counts, paths=paths, broken=found.broken)
