"""Coordinates from Chinese web maps: GCJ-02 (Amap, Tencent) and BD-09 (Baidu) to CGCS2000.

GCJ-02 is WGS84 shifted by a published, non-linear formula (a few hundred metres in China);
BD-09 is GCJ-02 shifted again.  CGCS2000 and WGS84 agree to well under a metre, so the
inverse of the shift gives CGCS2000 coordinates at the precision planning needs.  The
inverse has no closed form: it is found by fixed-point iteration, to about 1e-7 degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

WebDatum = Literal["gcj02", "bd09"]


def _shift_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 coordinates of WGS84 (or CGCS2000) longitudes and latitudes."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlat = _shift_lat(lon - 105.0, lat - 35.0)
    dlon = _shift_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray, *, iterations: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out_lon, out_lat = lon.copy(), lat.copy()
    for _ in range(iterations):
        fwd_lon, fwd_lat = wgs84_to_gcj02(out_lon, out_lat)
        out_lon -= fwd_lon - lon
        out_lat -= fwd_lat - lat
    return out_lon, out_lat


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baidu BD-09 to GCJ-02."""
    x, y = np.asarray(lon, dtype=float) - 0.0065, np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def to_cgcs2000(geometries: np.ndarray, datum: WebDatum) -> np.ndarray:
    """Geometries in GCJ-02 or BD-09 lon/lat, moved to CGCS2000 lon/lat."""

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = coords[:, 0], coords[:, 1]
        if datum == "bd09":
            lon, lat = bd09_to_gcj02(lon, lat)
        lon, lat = gcj02_to_wgs84(lon, lat)
        return np.column_stack([lon, lat])

    return shapely.transform(geometries, convert)


def swap_lon_lat(geometries: np.ndarray) -> np.ndarray:
    """Geometries with x and y exchanged."""
    return shapely.transform(geometries, lambda coords: coords[:, ::-1].copy())


# --- telling web-map coordinates by their fit to a surveyed reference ---------------------------

FIT_NEAR_M = 1000.0
"""Only points within this distance of the reference (as stored or moved) tell anything about the fit."""
FIT_STEP_M = 10.0
"""A point fits better (or worse) moved when its distance to the reference falls (or grows) by more than this."""
FIT_CHANCE = 0.001
"""A warning needs the points that fit better moved to outnumber those that fit worse so far that a layer
unrelated to the reference (as likely better as worse, each point) would do it by chance less often than this."""


@dataclass(frozen=True)
class OffsetFit:
    """Points that fit a reference clearly better moved (by the GCJ-02 shift, or its inverse)."""

    better: int  # points closer to the reference moved
    worse: int  # points farther from it moved
    before_m: float  # median distance to the reference of the points that changed, as used
    after_m: float  # the same, moved
    offset_m: float  # median length of the move


def _chance_of_at_least(successes: int, trials: int) -> float:
    """P(X >= successes) for X ~ Binomial(trials, 1/2): the one-sided sign test (normal approximation past 300 trials)."""
    if trials > 300:
        z = (successes - 0.5 - trials / 2) / math.sqrt(trials / 4)
        return 0.5 * math.erfc(z / math.sqrt(2))
    return sum(math.comb(trials, k) for k in range(successes, trials + 1)) / (1 << trials)  # exact integers: no overflow


def web_map_fit(before: np.ndarray, after: np.ndarray, shift: np.ndarray) -> OffsetFit | None:
    """Whether moving the points fits them clearly better to a reference, from each point's distance to the
    nearest reference feature as used (``before``) and moved (``after``), and the length of each move.

    A sign test: of the points within :data:`FIT_NEAR_M` of the reference whose distance changes by more
    than :data:`FIT_STEP_M`, those that come closer must outnumber those that move away beyond what chance
    gives a layer unrelated to the reference (:data:`FIT_CHANCE`: ten points closer and none farther at least).  Points
    on reference lines (facilities on roads) decide quickly; points well inside reference polygons do not
    count (their distance is 0 both ways), only those near the polygons' edges.
    """
    before, after, shift = (np.asarray(a, dtype=float) for a in (before, after, shift))
    near = np.isfinite(before) & np.isfinite(after) & (np.minimum(before, after) <= FIT_NEAR_M)
    better = near & (after < before - FIT_STEP_M)
    worse = near & (after > before + FIT_STEP_M)
    n_better, n_worse = int(better.sum()), int(worse.sum())
    if n_better <= n_worse or _chance_of_at_least(n_better, n_better + n_worse) >= FIT_CHANCE:
        return None
    changed = better | worse
    return OffsetFit(
        better=n_better, worse=n_worse, before_m=float(np.median(before[changed])), after_m=float(np.median(after[changed])),
        offset_m=float(np.median(shift[near])),
    )
