"""Rasters: land cover (30 m / sqrt(scale)) and population (100 m / sqrt(scale)) over the county bbox.

Both come from a smooth terrain (higher to the south, lower around the towns) and the noise
fields of the world; built-up areas are filled window by window and full-size arrays are
worked in row blocks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from rasterio import features
from rasterio.transform import Affine
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from gis.sample._common import HUBIN, POPULATION_TOTAL, X0, X1, Y0, Y1, origin
from gis.sample.world import World


def landcover(world: World) -> tuple[np.ndarray, Affine]:
    """Land-cover classes (uint8, 0 = nodata outside the counties)."""
    grid = _Grid(30.0 / math.sqrt(world.scale))
    tr, shape = grid.transform, grid.shape
    cid = grid.rasterize((g, i + 1) for i, g in enumerate(world.counties.geometry))
    inside = cid > 0
    del cid
    v = _terrain(world, grid)
    loc = world.noise["loc"].sample(tr, shape)
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
    villages = [(world.townships[c][i].buffer(r), 1) for (c, i), r in world.village_radius.items()]
    roads = [(ln.buffer(20.0), 1) for parts in world.expressways.values() for ln in parts]
    lc[grid.rasterize(villages + roads, all_touched=True) > 0] = 70
    water = grid.rasterize(((g, 1) for g in world.water), all_touched=False) > 0
    # built-up areas: impervious with green, permeable paving and bare patches
    bu_id = grid.rasterize(((g, i + 1) for i, g in enumerate(world.builtup.values())), all_touched=True)
    for i, (code, poly) in enumerate(world.builtup.items()):
        win = grid.window(poly.bounds, pad=2 * grid.res)
        rs, cs = _slices(win)
        wtr = _win_transform(win, tr)
        wshape = (int(win.height), int(win.width))
        m = (bu_id[rs, cs] == i + 1) & ~water[rs, cs]
        if not m.any():
            continue
        f = world.noise["u1"].sample(wtr, wshape) + 0.8 * world.noise["u2"].sample(wtr, wshape)
        perm = m & (f > np.quantile(f[m], 1.0 - world.permeable_target[code]))
        sub = world.noise["sub"].sample(wtr, wshape)
        block = lc[rs, cs]
        block[m] = 70
        # roofs (71): the cells off a street every third row and column of the grid; streets, yards, squares stay paved (70)
        rows, cols = (np.arange(block.shape[0]) + rs.start)[:, None], (np.arange(block.shape[1]) + cs.start)[None, :]
        block[m & ~perm & (rows % 3 != 0) & (cols % 3 != 0)] = 71
        if perm.any():
            a, b = np.quantile(sub[perm], [0.55, 0.85])
            block[perm & (sub < a)] = 40
            block[perm & (sub >= a) & (sub < b)] = 50
            block[perm & (sub >= b)] = 60
    lc[water] = 80
    lc[~inside] = 0
    return lc, tr


def population(world: World) -> tuple[np.ndarray, Affine]:
    """Persons per cell (float32, -1 = nodata outside the counties)."""
    rng = world.rng
    grid = _Grid(100.0 / math.sqrt(world.scale))
    tr, shape = grid.transform, grid.shape
    inside = grid.rasterize((g, i + 1) for i, g in enumerate(world.counties.geometry)) > 0
    water = grid.rasterize((g, 1) for g in world.water) > 0
    bu_id = grid.rasterize((g, i + 1) for i, g in enumerate(world.builtup.values()))
    pop = np.zeros(shape, dtype=np.float64)
    urban_total = POPULATION_TOTAL * rng.uniform(0.57, 0.63)
    wts = np.array([g.area * (1.3 if c == HUBIN else 1.0) for c, g in world.builtup.items()])
    urban = urban_total * wts / wts.sum()
    wide = world.noise["pop"]
    for i, (code, poly) in enumerate(world.builtup.items()):
        win = grid.window(poly.bounds, pad=grid.res)
        rs, cs = _slices(win)
        m = (bu_id[rs, cs] == i + 1) & ~water[rs, cs] & inside[rs, cs]
        if not m.any():
            continue
        x, y = grid.centres(win)
        seat = world.seats[code]
        sigma = math.sqrt(poly.area) / 2.5
        w = (0.35 + np.exp(-((x - seat.x) ** 2 + (y - seat.y) ** 2) / (2 * sigma ** 2)))
        w = w * np.exp(0.35 * wide.sample(_win_transform(win, tr), (int(win.height), int(win.width))))
        w = np.where(m, w, 0.0)
        pop[rs, cs] += urban[i] * w / w.sum()
    rural = (bu_id == 0) & ~water & inside
    e = _terrain(world, grid)
    lo = np.quantile(e[rural], 0.05)
    w = np.exp(-2.2 * (e - lo)).astype(np.float64)
    del e
    w *= np.exp(0.3 * wide.sample(tr, shape))
    for (code, i), r in world.village_radius.items():
        t = world.townships[code][i]
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


def _terrain(world: World, grid: _Grid) -> np.ndarray:
    """Smooth 'elevation': rising to the south (Qinling, Xiong'er mountains) plus noise."""
    tr, shape = grid.transform, grid.shape
    _, y = grid.centres(Window(0, 0, shape[1], shape[0]))
    e = np.broadcast_to((2.0 * (Y1 - y) / (Y1 - Y0)).astype(np.float32), shape).copy()
    for key, amp in (("n20", 0.5), ("n6", 0.3), ("n2", 0.15)):
        layer = world.noise[key].sample(tr, shape)
        layer *= amp  # in place: one full-size temporary, not two
        e += layer
        del layer
    # towns lie in valleys and on the loess tablelands: lower ground around the seats
    sigma = 7000.0
    for seat in world.seats.values():
        win = grid.window(seat.buffer(3.5 * sigma).bounds)
        rs, cs = _slices(win)
        x, y = grid.centres(win)
        e[rs, cs] -= (1.4 * np.exp(-((x - seat.x) ** 2 + (y - seat.y) ** 2) / (2 * sigma ** 2))).astype(np.float32)
    return e


# ----------------------------------------------------------------------------------
# Raster grids
# ----------------------------------------------------------------------------------


@dataclass
class _Grid:
    """A raster grid over the county bbox."""

    res: float

    @property
    def transform(self) -> Affine:
        return origin(X0, Y1, self.res)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(math.ceil((Y1 - Y0) / self.res)), int(math.ceil((X1 - X0) / self.res)))

    def window(self, bounds: Sequence[float], pad: float = 0.0) -> Window:
        """The window covering *bounds* (grown by *pad*), clipped to the grid."""
        minx, miny, maxx, maxy = bounds
        h, w = self.shape
        c0 = max(0, int(math.floor((minx - pad - X0) / self.res)))
        c1 = min(w, int(math.ceil((maxx + pad - X0) / self.res)))
        r0 = max(0, int(math.floor((Y1 - maxy - pad) / self.res)))
        r1 = min(h, int(math.ceil((Y1 - miny + pad) / self.res)))
        return Window(c0, r0, max(0, c1 - c0), max(0, r1 - r0))

    def centres(self, win: Window) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x (1 x w) and y (h x 1) of a window."""
        x = X0 + (win.col_off + np.arange(win.width) + 0.5) * self.res
        y = Y1 - (win.row_off + np.arange(win.height) + 0.5) * self.res
        return x[None, :], y[:, None]

    def rasterize(self, shapes: Iterable[tuple[BaseGeometry, int]], *, all_touched: bool = False) -> np.ndarray:
        shapes = [(g, v) for g, v in shapes if g is not None and not g.is_empty]
        if not shapes:
            return np.zeros(self.shape, dtype=np.uint8)
        return features.rasterize(
            shapes, out_shape=self.shape, transform=self.transform, fill=0, dtype="uint8",
            all_touched=all_touched,
        )


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
