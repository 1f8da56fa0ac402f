"""Facts and helpers shared by the sample generators.

The CRSs, codes and names of the reference city, the raster extent, the geometry helpers
(counts, random points in an area, street grids) and the coarse noise fields the rasters
are made from.  The helpers draw only from the generator they are given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.affinity
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

METRIC_CRS = "EPSG:4546"
"""CRS where the generator works and the rasters are written (metres)."""
OUTPUT_CRS = "EPSG:4490"
"""CRS of the written vector layers (CGCS2000 lon/lat)."""

CITY_ID = "156411200"
"""GB code of Sanmenxia city (三门峡市)."""

COUNTY_CODES: dict[str, str] = {
    "156411202": "湖滨区",
    "156411203": "陕州区",
    "156411221": "渑池县",
    "156411224": "卢氏县",
    "156411281": "义马市",
    "156411282": "灵宝市",
}
"""GB code -> Chinese name of the six county-level units of Sanmenxia."""

COUNTY_NAMES_EN: dict[str, str] = {
    "156411202": "Hubin",
    "156411203": "Shanzhou",
    "156411221": "Mianchi",
    "156411224": "Lushi",
    "156411281": "Yima",
    "156411282": "Lingbao",
}
"""GB code -> English name."""

LANDCOVER_CLASSES: dict[int, str] = {
    10: "cropland",
    20: "forest",
    30: "grassland",
    40: "urban green space",
    50: "permeable paving",
    60: "bare soil",
    70: "impervious surface",
    71: "building roofs",
    80: "water",
}
"""Land-cover codes of ``landcover.tif`` (0 is nodata)."""

POPULATION_TOTAL = 2_034_872
"""Total of ``population.tif`` (Sanmenxia, 7th census 2020)."""

GPKG_NAME = "sanmenxia.gpkg"
BASELINE_YEAR, MID_YEAR = 2020, 2023
"""Layers also written as they stood in 2020 and 2023 (``parking_lots_2020``, ...), for the trajectory."""
SAMPLE_FILES = (GPKG_NAME, "fleet.csv", "baseline_2020.csv", "county_statistics.csv", "county_statistics_2020.csv",
                "landcover.tif", "population.tif")
"""Files written by :func:`build_sample`, in that order."""

GPKG_LAYERS = (
    "counties",
    "builtup",
    "parks",
    "charging_stations",
    "parking_lots",
    "service_areas",
    "charging_hubs",
    "heat_sources",
    "heating_network",
    "sewage_plants",
    "sewer_network",
    "outfalls",
    "waste_facilities",
    "key_projects",
    "green_factories",
    "roads",
    "rivers",
    "two_high_projects",
    "new_buildings",
    "public_institutions",
    "key_energy_users",
    "key_polluters",
    "fuel_outlets",
    "water_sections",
    "water_sources",
    "rural_water_bodies",
    "villages",
)
"""The layers of the GeoPackage as they stand now, in the order written (the earlier years follow)."""

#: Keys of the random streams of their own (children of the seed, apart from the world's stream):
#: a layer drawn from its own stream leaves every other layer of a seed as it was.
STREAMS = {
    "roads": 14,
    "county_statistics": 15,
    "two_high_projects": 16,
    "new_buildings": 17,
    "public_institutions": 18,
    "key_energy_users": 19,
    "key_polluters": 20,
    "fuel_outlets": 21,
    "water_sections": 22,
    "water_sources": 23,
    "rural_water_bodies": 24,
    "villages": 25,
    "coal_users": 26,        # loose coal and farm coal, appended to heat_sources
    "plant_records": 27,     # year_built and sludge_route of the sewage plants
    "park_records": 28,      # pilots, rectification, monitoring ... of the parks
}


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream of its own of *name* (see :data:`STREAMS`): a child of ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAMS[name],)))


# ----------------------------------------------------------------------------------
# Fixed facts of the reference city
# ----------------------------------------------------------------------------------

HUBIN, SHANZHOU, MIANCHI, LUSHI, YIMA, LINGBAO = COUNTY_CODES

SHORT = {HUBIN: "湖滨", SHANZHOU: "陕州", MIANCHI: "渑池", LUSHI: "卢氏", YIMA: "义马", LINGBAO: "灵宝"}

#: Towns with a district-heating network (the central city and four county seats).
HEATING_TOWNS = (HUBIN, SHANZHOU, YIMA, MIANCHI, LINGBAO)

#: Raster extent in EPSG:4546 (the county bbox snapped outwards to 1 km).
X0, X1, Y0, Y1 = 440_000.0, 594_000.0, 3_713_000.0, 3_885_000.0


# ----------------------------------------------------------------------------------
# Geometry helpers
# ----------------------------------------------------------------------------------


def count(base: float, minimum: int, scale: float) -> int:
    """Feature count ``max(minimum, round(base * scale))``."""
    return max(int(minimum), int(round(base * scale)))


def split(rng: np.random.Generator, keys: Sequence[str], share: float = 0.5) -> set[str]:
    """About *share* of *keys* picked at random: at least one picked and one not, when there are two or more."""
    keys = list(keys)
    if not keys:
        return set()
    k = int(round(len(keys) * share))
    if len(keys) >= 2:
        k = min(max(k, 1), len(keys) - 1)
    return {keys[int(i)] for i in rng.permutation(len(keys))[:k]}


def complete_or_not(rng: np.random.Generator, groups: Sequence[str], rate: tuple[float, float],
                    share_complete: float = 0.5, *, complete: set[str] | None = None) -> np.ndarray:
    """Flags per item: every item true in about *share_complete* of the groups (say counties), or in the
    groups *complete* if given, in the others a share drawn from *rate* with at least one false; a mix
    when there are two groups or more."""
    groups = [str(g) for g in groups]
    flags = np.ones(len(groups), dtype=bool)
    if complete is None:
        complete = split(rng, sorted(set(groups)), share_complete)
    for g in sorted(set(groups) - complete):
        idx = np.flatnonzero(np.asarray(groups) == g)
        n_false = max(1, int(round(len(idx) * (1.0 - rng.uniform(*rate)))))
        flags[rng.choice(idx, size=min(n_false, len(idx)), replace=False)] = False
    return flags


def largest_polygon(geom: BaseGeometry) -> Polygon:
    """The largest polygon part of *geom* (an empty Polygon if none)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        return Polygon()
    return max(parts, key=lambda p: p.area)


def line_parts(geom: BaseGeometry) -> list[LineString]:
    """The LineString parts of *geom*."""
    return [p for p in shapely.get_parts(geom) if isinstance(p, LineString) and not p.is_empty]


def sample_in(rng: np.random.Generator, geom: BaseGeometry, n: int) -> np.ndarray:
    """*n* uniform random points (array n x 2) inside *geom*, by rejection."""
    out = np.empty((0, 2))
    if n <= 0:
        return out
    if geom.is_empty or geom.area <= 0:
        raise ValueError("cannot sample points in an empty area")
    shapely.prepare(geom)
    minx, miny, maxx, maxy = geom.bounds
    ratio = (maxx - minx) * (maxy - miny) / geom.area
    for _ in range(1000):
        need = n - len(out)
        k = int(min(2_000_000, math.ceil(need * ratio * 1.3) + 16))
        x = rng.uniform(minx, maxx, k)
        y = rng.uniform(miny, maxy, k)
        ok = shapely.contains_xy(geom, x, y)
        out = np.vstack([out, np.column_stack([x[ok], y[ok]])[:need]])
        if len(out) >= n:
            return out
    raise RuntimeError("point sampling did not converge")


def sample_one(
    rng: np.random.Generator,
    geom: BaseGeometry,
    accept: Callable[[Point], bool] | None = None,
    tries: int = 400,
) -> Point:
    """One random point in *geom* passing *accept* (the last candidate if none does)."""
    p = Point()
    for _ in range(tries):
        x, y = sample_in(rng, geom, 1)[0]
        p = Point(x, y)
        if accept is None or accept(p):
            return p
    return p


def grid_segments(
    rng: np.random.Generator,
    poly: BaseGeometry,
    spacing: tuple[float, float],
    *,
    trunk_every: int = 4,
) -> tuple[list[LineString], list[bool]]:
    """Street-grid segments (between crossings) over *poly*, rotated, jittered, clipped.

    Returns the segments and whether each lies on a trunk line.
    """
    if poly.is_empty:
        return [], []
    angle = math.radians(rng.uniform(-25.0, 25.0))
    c = poly.centroid
    ca, sa = math.cos(angle), math.sin(angle)
    frame = shapely.affinity.rotate(poly, -angle, origin=c, use_radians=True)
    minx, miny, maxx, maxy = frame.bounds

    def ticks(lo: float, hi: float) -> np.ndarray:
        t = [lo - rng.uniform(0.0, spacing[0])]
        while t[-1] < hi:
            t.append(t[-1] + rng.uniform(*spacing))
        return np.asarray(t)

    xs, ys = ticks(minx, maxx), ticks(miny, maxy)
    kx, ky = int(rng.integers(0, trunk_every)), int(rng.integers(0, trunk_every))
    segs, trunk = [], []
    for i, x in enumerate(xs):  # "vertical" streets
        for j in range(len(ys) - 1):
            segs.append(((x, ys[j]), (x, ys[j + 1])))
            trunk.append(i % trunk_every == kx)
    for j, y in enumerate(ys):  # "horizontal" streets
        for i in range(len(xs) - 1):
            segs.append(((xs[i], y), (xs[i + 1], y)))
            trunk.append(j % trunk_every == ky)
    a = np.asarray(segs, dtype=float)  # (n, 2, 2)
    dx, dy = a[..., 0] - c.x, a[..., 1] - c.y
    a = np.stack([c.x + dx * ca - dy * sa, c.y + dx * sa + dy * ca], axis=-1)
    lines = shapely.linestrings(a)
    shapely.prepare(poly)
    keep = shapely.intersects(poly, lines)
    clipped = shapely.intersection(lines[keep], poly)
    parts, idx = shapely.get_parts(clipped, return_index=True)
    trunk_arr = np.asarray(trunk)[keep]
    out, flags = [], []
    for p, i in zip(parts, idx, strict=True):
        if isinstance(p, LineString) and p.length > 15.0:
            out.append(p)
            flags.append(bool(trunk_arr[i]))
    return out, flags


# ----------------------------------------------------------------------------------
# Noise fields
# ----------------------------------------------------------------------------------


@dataclass
class Noise:
    """A coarse random field covering the raster extent; bilinear on any grid."""

    data: np.ndarray
    transform: Affine

    @classmethod
    def create(cls, rng: np.random.Generator, cell: float) -> Noise:
        ncols = int(math.ceil((X1 - X0) / cell)) + 3
        nrows = int(math.ceil((Y1 - Y0) / cell)) + 3
        data = rng.standard_normal((nrows, ncols)).astype(np.float32)
        return cls(data, origin(X0 - cell, Y1 + cell, cell))

    def sample(self, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
        out = np.zeros(shape, dtype=np.float32)
        reproject(
            self.data,
            out,
            src_transform=self.transform,
            src_crs=METRIC_CRS,
            dst_transform=transform,
            dst_crs=METRIC_CRS,
            resampling=Resampling.bilinear,
        )
        return out


def origin(west: float, north: float, res: float) -> Affine:
    """North-up transform (built directly: affine's ``*`` operator warns)."""
    return Affine(res, 0.0, west, 0.0, -res, north)
