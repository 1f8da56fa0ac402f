"""The state shared by the layer generators: the synthetic world and its small utilities.

A :class:`World` holds the county boundaries, the drawn geography (built-up areas, townships,
parks, expressways, water, noise fields; see :func:`gis.sample.boundaries.make_world`) and what
earlier generators leave for later ones (heating lines, sewage plants), all in EPSG:4546.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gis.sample._common import METRIC_CRS, Noise, sample_one


@dataclass
class World:
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
    noise: dict[str, Noise] = field(default_factory=dict)
    permeable_target: dict[str, float] = field(default_factory=dict)
    _town_cache: dict[tuple[str, float], BaseGeometry] = field(default_factory=dict)

    # -- small utilities --------------------------------------------------------------

    def drawing_from(self, rng: np.random.Generator) -> World:
        """This world drawing from *rng* (a stream of its own): the helpers below leave ``self.rng`` as it was."""
        return dataclasses.replace(self, rng=rng)

    def counties_of(self, xy: np.ndarray) -> np.ndarray:
        """GB codes of the counties containing the points *xy* (n x 2; nearest county for a point in none)."""
        out = np.full(len(xy), "", dtype=object)
        for code, g in zip(self.counties["id"], self.counties.geometry, strict=True):
            out[(out == "") & shapely.contains_xy(g, xy[:, 0], xy[:, 1])] = code
        for i in np.flatnonzero(out == ""):
            out[i] = self.county_of(Point(xy[i]))
        return out.astype(str)

    def county_of(self, geom: BaseGeometry) -> str:
        """GB code of the county containing *geom* (nearest county if none)."""
        p = geom if isinstance(geom, Point) else geom.representative_point()
        for code, g in zip(self.counties["id"], self.counties.geometry, strict=True):
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
            q = sample_one(self.rng, near_region, accept, tries=100)
            if accept is None or accept(q):
                return q
        if not (region.contains(q) and self.inner.contains(q)):
            q = sample_one(self.rng, shapely.intersection(region, self.inner))
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
            return sample_one(self.rng, shapely.difference(self.county_inner[code], self.builtup[code]))
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
