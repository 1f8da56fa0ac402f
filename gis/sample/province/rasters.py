"""Land cover and population of the province, generated tile by tile in bounded memory.

Every cell's value is a function of the seed and the cell's position only: the coarse noise
fields are drawn once for the whole extent (a few megabytes) and interpolated bilinearly at the
cell centres, the shapes (counties, built-up areas, water, villages, expressways) are burnt in
with each tile's own transform, and the thresholds (land-cover quantiles, each built-up area's
permeable cut, each county's population totals) are computed beforehand on fixed grids.  So a
tile comes out the same whatever the tiling and the order tiles are written, and no array larger
than a tile is ever held.

Land cover (uint8, 0 = nodata): terrain (the Taihang, Funiu, Tongbai and Dabie mountains higher,
valleys at the seats) splits cropland, grassland and forest; villages and expressways are
impervious; built-up areas are paved (70), roofed (71) and, up to each county's drawn
permeable share (about half the counties short of 40 %), green, permeable paving or bare;
rivers and reservoirs are water.  Population (float32 persons per cell, -1 = nodata) adds up,
county by county, to drawn urban and rural totals of the province's 99.4 million.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import Transformer
from rasterio import features
from rasterio.transform import Affine
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from gis.sample._common import LANDCOVER_CLASSES, OUTPUT_CRS
from gis.sample.province.crs import METRIC_WKT
from gis.sample.province.geography import Province
from gis.sample.province.streams import county_rng, province_rng

POPULATION_TOTAL = 99_365_519
"""Resident population of Henan, 7th census (2020): the total of ``population.tif``."""

TILE = 4096
"""Cells per side of a generated tile (a multiple of the 512-cell GeoTIFF blocks)."""
BLOCK = 512
"""GeoTIFF block size."""
SUM_BLOCK = 1024
"""Cells per side of the fixed blocks the population totals are summed over (independent of the tiling)."""

#: Mountains: centre (lon, lat), sigma km, height (terrain units).
MOUNTAINS = [((111.4, 33.8), 70.0, 2.0), ((112.3, 33.75), 50.0, 1.6), ((111.8, 34.35), 35.0, 1.0),
             ((113.4, 35.65), 35.0, 1.5), ((112.6, 35.2), 30.0, 1.3), ((113.0, 34.45), 25.0, 1.0),
             ((114.5, 31.7), 45.0, 1.5), ((113.5, 32.45), 30.0, 1.2)]

#: Noise fields: key, cell size (m).
FIELDS = (("n20", 20000.0), ("n6", 6000.0), ("n2", 2000.0), ("loc", 1200.0), ("u1", 700.0), ("u2", 220.0),
          ("sub", 300.0), ("pop", 900.0))

RASTER_OPTIONS = {"tiled": True, "blockxsize": BLOCK, "blockysize": BLOCK, "compress": "deflate", "zlevel": 6,
                  "bigtiff": "IF_SAFER"}
"""Creation options of both GeoTIFFs (the predictor is chosen per raster)."""


def resolutions(scale: float) -> tuple[float, float]:
    """Land-cover and population cell sizes (m) for *scale*: 10 m and 100 m at scale 1 or more, coarser below
    (10 m / sqrt(scale) and 100 m / sqrt(scale): --scale 0.01 gives 100 m and 1 km)."""
    factor = 1.0 / math.sqrt(min(scale, 1.0))
    return 10.0 * factor, 100.0 * factor


@dataclass(frozen=True)
class Grid:
    """A north-up grid over the province's extent (snapped outwards to 1 km)."""

    west: float
    north: float
    res: float
    width: int
    height: int

    @classmethod
    def over(cls, bounds: tuple[float, float, float, float], res: float) -> Grid:
        west, south = math.floor(bounds[0] / 1000.0) * 1000.0, math.floor(bounds[1] / 1000.0) * 1000.0
        east, north = math.ceil(bounds[2] / 1000.0) * 1000.0, math.ceil(bounds[3] / 1000.0) * 1000.0
        return cls(west, north, res, int(math.ceil((east - west) / res)), int(math.ceil((north - south) / res)))

    @property
    def transform(self) -> Affine:
        return Affine(self.res, 0.0, self.west, 0.0, -self.res, self.north)

    def window_transform(self, win: Window) -> Affine:
        return Affine(self.res, 0.0, self.west + win.col_off * self.res, 0.0, -self.res, self.north - win.row_off * self.res)

    def centres(self, win: Window) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x (1 x w) and y (h x 1) of a window, from the global cell indices."""
        cols = np.arange(win.col_off, win.col_off + win.width, dtype=np.float64)
        rows = np.arange(win.row_off, win.row_off + win.height, dtype=np.float64)
        return (self.west + (cols + 0.5) * self.res)[None, :], (self.north - (rows + 0.5) * self.res)[:, None]

    def bounds(self, win: Window) -> tuple[float, float, float, float]:
        west, north = self.west + win.col_off * self.res, self.north - win.row_off * self.res
        return west, north - win.height * self.res, west + win.width * self.res, north

    def windows(self, size: int) -> Iterator[Window]:
        """The grid cut into windows of *size* cells (the last row and column smaller)."""
        for row in range(0, self.height, size):
            for col in range(0, self.width, size):
                yield Window(col, row, min(size, self.width - col), min(size, self.height - row))


@dataclass(frozen=True)
class Field:
    """A coarse standard-normal random field; :meth:`at` interpolates it bilinearly at any points of a grid."""

    data: np.ndarray
    west: float
    north: float
    cell: float

    def at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Values at the points x (1 x w) by y (h x 1): each depends on its own coordinates only."""
        fx = (x[0] - self.west) / self.cell
        fy = (self.north - y[:, 0]) / self.cell
        ix = np.clip(np.floor(fx).astype(np.int64), 0, self.data.shape[1] - 2)
        iy = np.clip(np.floor(fy).astype(np.int64), 0, self.data.shape[0] - 2)
        tx = (fx - ix).astype(np.float32)
        ty = (fy - iy).astype(np.float32)[:, None]
        rows = np.unique(np.concatenate([iy, iy + 1]))
        coarse = self.data[rows]
        across = coarse[:, ix] * (1.0 - tx) + coarse[:, ix + 1] * tx  # (rows, w)
        where = np.searchsorted(rows, iy)
        out = across[where]
        out *= 1.0 - ty
        out += across[where + 1] * ty
        return out


@dataclass
class Shapes:
    """Geometries burnt into tiles, with a tree to find those meeting a tile."""

    geoms: list[BaseGeometry]
    values: list[int]
    tree: shapely.STRtree = field(init=False)

    def __post_init__(self) -> None:
        self.tree = shapely.STRtree(self.geoms)

    def burn(self, grid: Grid, win: Window, *, all_touched: bool = False, dtype: str = "uint8") -> np.ndarray:
        shape = (int(win.height), int(win.width))
        hits = self.tree.query(shapely.box(*grid.bounds(win)))
        if len(hits) == 0:
            return np.zeros(shape, dtype=dtype)
        return features.rasterize([(self.geoms[i], self.values[i]) for i in sorted(hits)], out_shape=shape,
                                  transform=grid.window_transform(win), fill=0, dtype=dtype, all_touched=all_touched)


@dataclass
class Landscape:
    """Everything a tile is made from: fields, shapes and thresholds, all fixed by the seed (small)."""

    fields: dict[str, Field]
    mountains: list[tuple[float, float, float, float]]  # x, y, sigma m, height
    seats: np.ndarray  # n x 2
    counties: Shapes  # value: county index + 1
    builtup: Shapes  # value: county index + 1
    water: Shapes
    impervious: Shapes  # villages and expressways
    bounds: tuple[float, float, float, float]
    thresholds: tuple[float, float, float] = (0.0, 0.0, 0.0)  # cropland, grassland, bare
    permeable_cut: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per county index
    sub_cuts: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    builtup_bounds: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    builtup_geoms: list[BaseGeometry] = field(default_factory=list)
    urban: np.ndarray = field(default_factory=lambda: np.zeros(0))  # persons per county in the built-up area
    rural: np.ndarray = field(default_factory=lambda: np.zeros(0))
    urban_sum: np.ndarray = field(default_factory=lambda: np.zeros(0))  # population weights summed per county
    rural_sum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rural_floor: float = 0.0
    villages: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, radius m
    _village_tree: shapely.STRtree | None = None

    # -- per tile ---------------------------------------------------------------------

    def terrain(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Smooth 'elevation': the mountains, noise, and lower ground around the seats."""
        e = self.fields["n20"].at(x, y)
        e *= 0.5
        for key, amp in (("n6", 0.3), ("n2", 0.15)):
            layer = self.fields[key].at(x, y)
            layer *= amp
            e += layer
            del layer
        for mx, my, sigma, height in self.mountains:
            # cut to zero below 1e-3 cell by cell (not by window: a tile's values must not depend on the tiling)
            gx = np.exp(-((x - mx) ** 2) / (2 * sigma ** 2)).astype(np.float32)
            gx[gx < 1e-3] = 0.0
            gy = (height * np.exp(-((y - my) ** 2) / (2 * sigma ** 2))).astype(np.float32)
            gy[gy < 1e-3] = 0.0
            if gx.any() and gy.any():
                e += gy * gx
        sigma = 7000.0
        reach = 3.5 * sigma
        for sx, sy in self.seats:
            rs, cs = _near(x, y, sx, sy, reach)
            if cs.start < cs.stop and rs.start < rs.stop:
                gx = np.exp(-((x[:, cs] - sx) ** 2) / (2 * sigma ** 2)).astype(np.float32)
                gy = (1.4 * np.exp(-((y[rs] - sy) ** 2) / (2 * sigma ** 2))).astype(np.float32)
                e[rs, cs] -= gy * gx
        return e

    def landcover(self, grid: Grid, win: Window) -> np.ndarray:
        """The land-cover classes of one window (uint8, 0 outside the province)."""
        shape = (int(win.height), int(win.width))
        inside = self.counties.burn(grid, win) > 0
        if not inside.any():
            return np.zeros(shape, dtype=np.uint8)
        x, y = grid.centres(win)
        t1, t2, t_bare = self.thresholds
        v = self.terrain(x, y)
        loc = self.fields["loc"].at(x, y)
        v += 0.35 * loc
        lc = np.full(shape, 20, dtype=np.uint8)
        lc[v < t2] = 30
        lc[v < t1] = 10
        lc[(loc > t_bare) & (v < t2)] = 60  # quarries, bare slopes
        del v, loc
        lc[self.impervious.burn(grid, win, all_touched=True) > 0] = 70
        water = self.water.burn(grid, win) > 0
        bu = self.builtup.burn(grid, win, all_touched=True)
        for index in np.unique(bu[bu > 0]):
            self._fill_builtup(grid, win, lc, bu, water, int(index) - 1)
        lc[water] = 80
        lc[~inside] = 0
        return lc

    def _fill_builtup(self, grid: Grid, win: Window, lc: np.ndarray, bu: np.ndarray, water: np.ndarray, i: int) -> None:
        """Paved, roofed and (up to the county's share) permeable cells of built-up area *i* within the window."""
        rs, cs = _slices(grid, win, self.builtup_geoms[i].bounds)
        part = Window(win.col_off + cs.start, win.row_off + rs.start, cs.stop - cs.start, rs.stop - rs.start)
        m = (bu[rs, cs] == i + 1) & ~water[rs, cs]
        x, y = grid.centres(part)
        f = self.fields["u1"].at(x, y)
        f += 0.8 * self.fields["u2"].at(x, y)
        perm = m & (f > self.permeable_cut[i])
        block = lc[rs, cs]
        block[m] = 70
        # roofs (71): off a street every third row and column of the global grid; streets, yards and squares stay paved
        grow = (np.arange(part.row_off, part.row_off + part.height) % 3 != 0)[:, None]
        gcol = (np.arange(part.col_off, part.col_off + part.width) % 3 != 0)[None, :]
        block[m & ~perm & grow & gcol] = 71
        if perm.any():
            sub = self.fields["sub"].at(x, y)
            a, b = self.sub_cuts[i]
            block[perm & (sub < a)] = 40
            block[perm & (sub >= a) & (sub < b)] = 50
            block[perm & (sub >= b)] = 60

    def weights(self, grid: Grid, win: Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per cell of a window: county index + 1 (0 outside), whether urban, and the population weight."""
        county = self.counties.burn(grid, win)
        weight = np.zeros(county.shape, dtype=np.float64)
        urban = np.zeros(county.shape, dtype=bool)
        if not county.any():
            return county, urban, weight
        x, y = grid.centres(win)
        water = self.water.burn(grid, win) > 0
        bu = self.builtup.burn(grid, win)
        urban = (bu > 0) & ~water & (county > 0)
        rural = (bu == 0) & ~water & (county > 0)
        wide = np.exp(0.3 * self.fields["pop"].at(x, y), dtype=np.float32)
        e = self.terrain(x, y)
        w_rural = np.exp(-2.2 * (e - self.rural_floor)) * wide
        del e
        for px, py, radius in self._villages_in(grid, win):
            sig = 3.0 * radius
            rs, cs = _near(x, y, px, py, 4 * sig)
            gx = np.exp(-((x[:, cs] - px) ** 2) / (2 * sig ** 2))
            gy = 25.0 * np.exp(-((y[rs] - py) ** 2) / (2 * sig ** 2))
            w_rural[rs, cs] += (gy * gx).astype(np.float32)
        weight[rural] = w_rural[rural]
        del w_rural
        for index in np.unique(bu[urban]):
            i = int(index) - 1
            rs, cs = _slices(grid, win, self.builtup_geoms[i].bounds)
            sx, sy = self.seats[i]
            sigma = math.sqrt(self.builtup_geoms[i].area) / 2.5
            m = urban[rs, cs] & (bu[rs, cs] == index)
            w_urban = (0.35 + np.exp(-((x[:, cs] - sx) ** 2 + (y[rs] - sy) ** 2) / (2 * sigma ** 2))) * wide[rs, cs] ** (0.35 / 0.3)
            weight[rs, cs][m] = w_urban[m]
        return county, urban, weight

    def population(self, grid: Grid, win: Window) -> np.ndarray:
        """Persons per cell of one window (float32, -1 outside the province)."""
        county, urban, weight = self.weights(grid, win)
        out = np.full(county.shape, -1.0, dtype=np.float32)
        inside = county > 0
        if not inside.any():
            return out
        i = county.astype(np.int64) - 1
        factor = np.where(urban, self.urban[i] / np.maximum(self.urban_sum[i], 1e-300),
                          self.rural[i] / np.maximum(self.rural_sum[i], 1e-300))
        out[inside] = (weight * factor)[inside].astype(np.float32)
        return out

    def _villages_in(self, grid: Grid, win: Window) -> list[tuple[float, float, float]]:
        if self._village_tree is None:
            self._village_tree = shapely.STRtree([shapely.Point(px, py).buffer(12.0 * r, quad_segs=2)
                                                  for px, py, r in self.villages])
        hits = self._village_tree.query(shapely.box(*grid.bounds(win)))
        return [self.villages[i] for i in sorted(hits)]


def _slices(grid: Grid, win: Window, bounds: tuple[float, float, float, float]) -> tuple[slice, slice]:
    """Row and column slices of a window's arrays covering *bounds* (grown by a cell, clipped to the window)."""
    minx, miny, maxx, maxy = bounds
    west, north = grid.west + win.col_off * grid.res, grid.north - win.row_off * grid.res
    c0 = max(0, int(math.floor((minx - west) / grid.res)) - 1)
    c1 = min(int(win.width), int(math.ceil((maxx - west) / grid.res)) + 1)
    r0 = max(0, int(math.floor((north - maxy) / grid.res)) - 1)
    r1 = min(int(win.height), int(math.ceil((north - miny) / grid.res)) + 1)
    return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))


def _near(x: np.ndarray, y: np.ndarray, px: float, py: float, reach: float) -> tuple[slice, slice]:
    """Row and column slices of the cells whose centres lie within *reach* of (px, py) along each axis: which cells
    they are depends on the centres only, not on the window."""
    cs = slice(int(np.searchsorted(x[0], px - reach)), int(np.searchsorted(x[0], px + reach)))
    rs = slice(int(np.searchsorted(-y[:, 0], -py - reach)), int(np.searchsorted(-y[:, 0], -py + reach)))
    return rs, cs


def make_landscape(province: Province) -> Landscape:
    """The fields, shapes and thresholds of the province's rasters (tens of megabytes at most)."""
    seed = province.seed
    west, south, east, north = province.bounds
    fields: dict[str, Field] = {}
    for key, cell in FIELDS:
        rng = province_rng(seed, f"field-{key}")
        cols = int(math.ceil((east - west) / cell)) + 4
        rows = int(math.ceil((north - south) / cell)) + 4
        fields[key] = Field(rng.standard_normal((rows, cols)).astype(np.float32), west - 2 * cell, north + 2 * cell, cell)
    to_m = Transformer.from_crs(OUTPUT_CRS, METRIC_WKT, always_xy=True)
    mountains = [(*to_m.transform(lon, lat), sigma * 1000.0, height) for (lon, lat), sigma, height in MOUNTAINS]
    counties = province.counties
    villages = [(t.x, t.y, r) for c in counties for t, r in zip(c.townships, c.village_radius, strict=True)]
    impervious = [shapely.Point(px, py).buffer(r) for px, py, r in villages]
    impervious += [ln.buffer(20.0) for parts in province.expressways.values() for ln in parts]
    land = Landscape(
        fields=fields, mountains=mountains,
        seats=np.array([[c.seat.x, c.seat.y] for c in counties]),
        counties=Shapes([c.geometry for c in counties], [c.index + 1 for c in counties]),
        builtup=Shapes([c.builtup for c in counties], [c.index + 1 for c in counties]),
        water=Shapes(list(province.water), [1] * len(province.water)),
        impervious=Shapes(impervious, [1] * len(impervious)),
        bounds=province.bounds, villages=villages,
        builtup_geoms=[c.builtup for c in counties],
    )
    _thresholds(land, province)
    _builtup_cuts(land, province)
    _population_totals(land, province)
    return land


def _thresholds(land: Landscape, province: Province) -> None:
    """Land-cover quantiles over the province on a fixed 1 km grid: about 50 % cropland, 15 % grassland, 1.2 % bare."""
    grid = Grid.over(land.bounds, 1000.0)
    win = Window(0, 0, grid.width, grid.height)
    inside = land.counties.burn(grid, win) > 0
    x, y = grid.centres(win)
    loc = land.fields["loc"].at(x, y)
    v = land.terrain(x, y) + 0.35 * loc
    t1, t2 = np.quantile(v[inside], [0.50, 0.65])
    land.thresholds = (float(t1), float(t2), float(np.quantile(loc[inside], 0.988)))
    rural = inside & (land.builtup.burn(grid, win) == 0)
    land.rural_floor = float(np.quantile(land.terrain(x, y)[rural], 0.05))


def _builtup_cuts(land: Landscape, province: Province) -> None:
    """Each built-up area's cut of the urban noise leaving its drawn permeable share above it, and the cuts of the
    permeable classes (55 % green, 30 % permeable paving, 15 % bare), from the noise on a 20 m grid inside it."""
    n = len(province.counties)
    land.permeable_cut = np.zeros(n)
    land.sub_cuts = np.zeros((n, 2))
    for c in province.counties:
        minx, miny, maxx, maxy = c.builtup.bounds
        step = max(20.0, math.sqrt(c.builtup.area) / 200.0)
        grid = Grid(minx, maxy, step, int(math.ceil((maxx - minx) / step)), int(math.ceil((maxy - miny) / step)))
        win = Window(0, 0, grid.width, grid.height)
        x, y = grid.centres(win)
        m = shapely.contains_xy(c.builtup, np.broadcast_to(x, (grid.height, grid.width)),
                                np.broadcast_to(y, (grid.height, grid.width)))
        f = land.fields["u1"].at(x, y) + 0.8 * land.fields["u2"].at(x, y)
        cut = float(np.quantile(f[m], 1.0 - c.permeable_target))
        land.permeable_cut[c.index] = cut
        sub = land.fields["sub"].at(x, y)[m & (f > cut)]
        land.sub_cuts[c.index] = np.quantile(sub, [0.55, 0.85]) if sub.size else (0.0, 0.0)


def _population_totals(land: Landscape, province: Province) -> None:
    """Each county's urban and rural population (drawn), and its weights summed over fixed blocks of the grid."""
    counties = province.counties
    density = np.zeros(len(counties))
    urban_share = np.zeros(len(counties))
    for c in counties:
        rng = county_rng(province.seed, "population", c.index)
        density[c.index] = {"district": rng.uniform(2500.0, 6000.0), "city": rng.uniform(550.0, 850.0),
                            "county": rng.uniform(420.0, 780.0)}[c.kind]
        urban_share[c.index] = {"district": rng.uniform(0.85, 0.97), "city": rng.uniform(0.45, 0.6),
                                "county": rng.uniform(0.3, 0.45)}[c.kind]
    weights = np.array([c.area_km2 for c in counties]) * density
    people = POPULATION_TOTAL * weights / weights.sum()
    land.urban = people * urban_share
    land.rural = people - land.urban
    _, pop_res = resolutions(province.scale)
    grid = Grid.over(land.bounds, pop_res)
    land.urban_sum = np.zeros(len(counties))
    land.rural_sum = np.zeros(len(counties))
    for win in grid.windows(SUM_BLOCK):
        county, urban, weight = land.weights(grid, win)
        if not county.any():
            continue
        index = county.astype(np.int64).ravel()
        land.urban_sum += np.bincount(index, weights=(weight * urban).ravel(), minlength=len(counties) + 1)[1:]
        land.rural_sum += np.bincount(index, weights=(weight * ~urban).ravel(), minlength=len(counties) + 1)[1:]
    # a county whose built-up area covers no cell centre (coarse grids): its urban people live in its rural cells
    empty = land.urban_sum <= 0
    land.rural[empty] += land.urban[empty]
    land.urban[empty] = 0.0


def write_tiled(path: Path, grid: Grid, make: Callable[[Grid, Window], np.ndarray], *, dtype: str, nodata: float,
                predictor: int, tile: int = TILE, description: str, tags: dict[str, str] | None = None) -> Path:
    """Write a single-band GeoTIFF (tiled, compressed) window by window from *make*, atomically; windows wholly
    outside the province are left as nodata blocks."""
    if tile % BLOCK:
        msg = f"tile size {tile} must be a multiple of the {BLOCK}-cell GeoTIFF blocks"
        raise ValueError(msg)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    profile = {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1, "dtype": dtype,
               "crs": METRIC_WKT, "transform": grid.transform, "nodata": nodata, "predictor": predictor, **RASTER_OPTIONS}
    try:
        with rasterio.Env(GDAL_CACHEMAX=256), rasterio.open(tmp, "w", **profile) as dst:
            for win in grid.windows(tile):
                data = make(grid, win)
                if (data == nodata).all():
                    continue
                dst.write(data, 1, window=win)
                del data
            dst.set_band_description(1, description)
            if tags:
                dst.update_tags(1, **tags)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_landcover(path: Path, province: Province, land: Landscape, *, tile: int = TILE) -> Path:
    res, _ = resolutions(province.scale)
    return write_tiled(path, Grid.over(land.bounds, res), land.landcover, dtype="uint8", nodata=0, predictor=1, tile=tile,
                       description="land cover class", tags={f"CLASS_{k}": v for k, v in LANDCOVER_CLASSES.items()})


def write_population(path: Path, province: Province, land: Landscape, *, tile: int = TILE) -> Path:
    _, res = resolutions(province.scale)
    return write_tiled(path, Grid.over(land.bounds, res), land.population, dtype="float32", nodata=-1.0, predictor=3,
                       tile=tile, description="persons per cell")
