"""Greedy maximal covering: the candidate that newly covers the most, one at a time."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely


def greedy_cover(
    clips: np.ndarray,
    buffers: np.ndarray,
    covered: list[shapely.Geometry],
    amount: Callable[[np.ndarray], np.ndarray],
    need: float,
    *,
    limit: int | None = None,
) -> list[tuple[int, float]]:
    """Greedy maximal covering: pick the candidate that newly covers the most, until ``need`` is covered.

    ``clips`` are the candidates' service areas cut to the zone, ``buffers`` the whole service
    areas (they cover neighbours too), ``covered`` the service areas already there. The newly
    covered amount of a candidate is ``amount`` of its clip minus everything covered: exact
    (difference geometries), computed for all candidates once, then after each pick only for
    the candidates whose clip meets the picked service area, in one ``amount`` call.
    Returns (candidate index, amount it newly covers) in the order picked.
    """
    count = len(clips)
    tree = shapely.STRtree(covered) if covered else None
    picked_buffers: list[shapely.Geometry] = []
    gains = np.zeros(count)

    def refresh(indices: np.ndarray) -> None:
        parts = []
        for i in indices:
            near = [covered[j] for j in tree.query(clips[i], predicate="intersects")] if tree is not None else []
            near += [b for b in picked_buffers if b.intersects(clips[i])]
            parts.append(shapely.difference(clips[i], shapely.union_all(near)) if near else clips[i])
        geoms = np.array(parts, dtype=object)
        keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)
        values = np.zeros(len(indices))
        if keep.any():
            values[keep] = amount(geoms[keep])
        gains[indices] = values

    if count:
        refresh(np.arange(count))
    available = np.ones(count, dtype=bool)
    picks: list[tuple[int, float]] = []
    got = 0.0
    while got < need - 1e-9 and available.any() and (limit is None or len(picks) < limit):
        best = int(np.argmax(np.where(available, gains, -np.inf)))
        if gains[best] <= 1e-9:
            break
        picks.append((best, float(gains[best])))
        got += gains[best]
        available[best] = False
        picked_buffers.append(buffers[best])
        touched = np.flatnonzero(available & shapely.intersects(clips, buffers[best]))
        if touched.size:
            refresh(touched)
    return picks
