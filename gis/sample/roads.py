"""Roads and rivers: expressways with their exits, arterials between the seats and to the townships,
street grids in the built-up areas and the townships, and the rivers the streets cross only at bridges.

Drawn from a random stream of their own (:func:`roads_rng`), after the other layers, so adding
them leaves every other layer of a seed as it was.  The rivers follow the real ones roughly:
the Yellow River along the northern edge, the Luo River through Lushi, and a tributary of the
Yellow River through each of the other towns (青龙涧河 through the central city, 涧河 through
Mianchi and Yima, 弘农涧河 through Lingbao).  Streets cross a river only at bridges, about a
kilometre apart; arterials always bridge it; expressways meet the other roads only at their
exits, through an exit link to the nearest seat or township.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from gis.sample._common import COUNTY_CODES, HUBIN, LINGBAO, LUSHI, METRIC_CRS, MIANCHI, OUTPUT_CRS, SHANZHOU, SHORT, YIMA, grid_segments, line_parts, stream
from gis.sample.boundaries import _LUO_RIVER
from gis.sample.world import World

ROAD_CLASSES = ("expressway", "arterial", "street")

_EXPRESSWAY_NAMES = {"G30": "G30连霍高速", "G59": "G59呼北高速"}

#: Tributaries through the towns: name, the towns it runs through (it starts south of the first).
_TRIBUTARIES = [("青龙涧河", (SHANZHOU, HUBIN)), ("涧河", (YIMA, MIANCHI)), ("弘农涧河", (LINGBAO,))]

#: Arterials between the seats (county-level highways), as pairs.
_ARTERIALS = [(HUBIN, SHANZHOU), (HUBIN, MIANCHI), (MIANCHI, YIMA), (HUBIN, LINGBAO), (SHANZHOU, LUSHI), (LINGBAO, LUSHI)]


def roads_rng(seed: int) -> np.random.Generator:
    """The random stream of the roads and rivers: a child of ``seed``, apart from the world's own."""
    return stream(seed, "roads")


def _wiggle(rng: np.random.Generator, a: Point, b: Point, amplitude: float, step: float = 500.0) -> LineString:
    """A line from *a* to *b* bending sideways by up to *amplitude* (a smooth random meander)."""
    length = a.distance(b)
    n = max(2, int(length // step) + 1)
    t = np.linspace(0.0, 1.0, n)
    nx, ny = -(b.y - a.y) / max(length, 1.0), (b.x - a.x) / max(length, 1.0)
    waves = sum(rng.uniform(-1, 1) * np.sin(k * math.pi * t + rng.uniform(0, 2 * math.pi)) for k in (1, 2, 3))
    off = amplitude / 3 * waves * np.sin(math.pi * t)  # pinned at both ends
    xs = a.x + (b.x - a.x) * t + nx * off
    ys = a.y + (b.y - a.y) * t + ny * off
    return LineString(np.column_stack([xs, ys]))


def _rivers(world: World, rng: np.random.Generator) -> list[tuple[str, LineString]]:
    """The rivers as lines: the Yellow River, the Luo River and the tributaries through the towns."""
    rivers: list[tuple[str, LineString]] = []
    assert world.river is not None
    rivers.append(("黄河", world.river))
    to_m = Transformer.from_crs(OUTPUT_CRS, METRIC_CRS, always_xy=True)
    luo = LineString([to_m.transform(*p) for p in _LUO_RIVER])
    rivers += [("洛河", part) for part in line_parts(shapely.intersection(luo, world.inner))]
    for name, towns in _TRIBUTARIES:
        seats = [world.seats[c] for c in towns]
        first = seats[0]
        source = Point(first.x + rng.uniform(-3000, 3000), first.y - rng.uniform(15000, 22000))
        through = [Point(s.x + rng.uniform(-800, 800), s.y + rng.uniform(-800, 800)) for s in seats]
        last = through[-1]
        mouth = world.river.interpolate(world.river.project(Point(last.x, last.y + 10000)))
        stops = [source, *through, mouth]
        coords: list[tuple[float, float]] = []
        for a, b in zip(stops[:-1], stops[1:], strict=True):
            part = _wiggle(rng, a, b, min(1500.0, a.distance(b) / 6))
            coords += list(part.coords)[: -1]
        coords.append((mouth.x, mouth.y))
        line = LineString(coords)
        rivers += [(name, part) for part in line_parts(shapely.intersection(line, world.inner)) if part.length > 1000]
    return rivers


def _bridged(rng: np.random.Generator, streets: list[LineString], rivers: BaseGeometry) -> list[LineString]:
    """The streets, without those crossing a river away from a bridge (a bridge about every kilometre)."""
    if not streets:
        return streets
    lines = np.asarray(streets, dtype=object)
    crossing = shapely.intersects(lines, rivers)
    keep = ~crossing
    bridges: list[Point] = []
    for river in line_parts(rivers):
        d = rng.uniform(0.0, 900.0)
        while d < river.length:
            bridges.append(river.interpolate(d))
            d += rng.uniform(800.0, 1300.0)
    if bridges:
        cross = np.flatnonzero(crossing)
        # each bridge: the nearest crossing street, if it is within 120 m
        tree = shapely.STRtree(lines[cross])
        for b in bridges:
            near = tree.query_nearest(b, max_distance=120.0, all_matches=False)
            if len(near):
                keep[cross[int(near[0])]] = True
    return [s for s, k in zip(streets, keep, strict=True) if k]


def roads_and_rivers(world: World, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ``roads`` (id, name, class) and ``rivers`` (id, name) layers, EPSG:4546."""
    rivers = _rivers(world, rng)
    water = shapely.union_all([line for _, line in rivers])
    rows: list[dict] = []
    # expressways, cut at their exits (near the seats and townships they pass), with an exit link each
    places = [(SHORT[c], p) for c, p in world.seats.items()] + [
        (f"{SHORT[c]}{i + 1}号乡镇", t) for c, towns in world.townships.items() for i, t in enumerate(towns)]
    for code, parts in world.expressways.items():
        for part in parts:
            exits = []
            for label, p in places:
                t = part.project(p)
                if 0 < t < part.length and part.interpolate(t).distance(p) < (12000.0 if label in SHORT.values() else 4000.0):
                    exits.append((t, label, p))
            exits.sort()
            chosen: list[tuple[float, str, Point]] = []
            for t, label, p in exits:  # no two exits within 5 km
                if not chosen or t - chosen[-1][0] >= 5000.0:
                    chosen.append((t, label, p))
            cuts = [0.0, *[t for t, _, _ in chosen], part.length]
            for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
                piece = substring(part, lo, hi)
                if isinstance(piece, LineString) and piece.length > 0:
                    rows.append({"name": _EXPRESSWAY_NAMES.get(code, code), "class": "expressway", "geometry": piece})
            for t, label, p in chosen:
                exit_point = part.interpolate(t)
                if exit_point.distance(p) < 50.0:  # the exit is in the town: a link of 300 m into its streets
                    angle = rng.uniform(0.0, 2 * math.pi)
                    p = Point(exit_point.x + 300.0 * math.cos(angle), exit_point.y + 300.0 * math.sin(angle))
                rows.append({"name": f"{code}{label}出口连接线", "class": "arterial",
                             "geometry": _wiggle(rng, exit_point, p, min(300.0, exit_point.distance(p) / 8))})
    # arterials between the seats, and from each seat to its townships
    for a, b in _ARTERIALS:
        line = _wiggle(rng, world.seats[a], world.seats[b], min(4000.0, world.seats[a].distance(world.seats[b]) / 8))
        rows.append({"name": f"{SHORT[a]}—{SHORT[b]}干线公路", "class": "arterial", "geometry": line})
    for code, towns in world.townships.items():
        for i, t in enumerate(towns):
            line = _wiggle(rng, world.seats[code], t, min(2000.0, world.seats[code].distance(t) / 8))
            rows.append({"name": f"{SHORT[code]}{i + 1}号乡镇公路", "class": "arterial", "geometry": line})
    # streets: a grid in each built-up area (and 300 m around it), and a small one in each township
    for code in COUNTY_CODES:
        area = shapely.intersection(world.builtup[code].buffer(300.0), world.county_inner[code])
        segments, _ = grid_segments(rng, area, (110.0, 190.0))
        for i, t in enumerate(world.townships[code]):
            village = shapely.intersection(t.buffer(world.village_radius[(code, i)]), world.county_inner[code])
            segments += grid_segments(rng, village, (120.0, 220.0))[0]
        for s in _bridged(rng, segments, water):
            rows.append({"name": f"{SHORT[code]}街道", "class": "street", "geometry": s})
    roads = world.frame(rows, ["id", "name", "class"], "RD")
    river_rows = [{"name": name, "geometry": line} for name, line in rivers]
    return roads, world.frame(river_rows, ["id", "name"], "RV")

