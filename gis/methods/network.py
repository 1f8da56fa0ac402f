"""Road-network distance: the parts of a road network within a distance of facilities, along the roads.

The method of the reference tools for service coverage (GHSCI, the SDG 11.2.1 service areas):
the road lines are noded (split where they cross), each piece between two nodes is an edge
weighted by its length in the metric CRS, each facility joins the network at the nearest point
of the nearest road (the straight walk there, the *access* distance, counts), and a
multi-source Dijkstra (``scipy.sparse.csgraph``) limited to the service distance finds how far
every node is.  The reachable parts of the edges (an edge partly reached is cut at the distance
left) are the service lines; buffered by a catchment width they are the service area.

Roads that are grade-separated (expressways) are not noded where they cross other roads: they
meet the network only where a road ends on them (a ramp at an interchange), and facilities do
not join them (nobody walks or drives onto an expressway from the roadside).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.ops import substring

if TYPE_CHECKING:
    from scipy.sparse import coo_matrix

NODE_TOLERANCE_M = 0.01
"""End points closer than this are one node; a road ending within this of a grade-separated road joins it."""


@dataclass(frozen=True)
class RoadNetwork:
    """A noded road network: edges (LineStrings between nodes) with their end nodes and lengths."""

    edges: np.ndarray  # shapely LineStrings
    start: np.ndarray  # node of each edge's first point
    end: np.ndarray  # node of each edge's last point
    length: np.ndarray  # metres
    joinable: np.ndarray  # whether a facility may join the edge (not grade-separated)
    nodes: int


def _lines(geoms: Sequence[object] | np.ndarray) -> np.ndarray:
    """The non-empty LineString parts of line geometries."""
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    keep = (shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)
    return parts[keep]


def _split_at(line: LineString, points: np.ndarray) -> list[LineString]:
    """``line`` cut at the given points on it (its own end points are no cuts)."""
    positions = sorted({float(t) for t in shapely.line_locate_point(line, points)} if len(points) else set())
    cuts = [0.0, *[t for t in positions if 0.0 < t < line.length], line.length]
    pieces = [substring(line, lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True) if hi > lo]
    return [piece for piece in pieces if isinstance(piece, LineString) and piece.length > 0]


def build_network(lines: Sequence[object] | np.ndarray, separated: Sequence[bool] | np.ndarray | None = None) -> RoadNetwork:
    """The network of road ``lines`` (metric CRS); ``separated`` marks the grade-separated ones.

    Ordinary roads are noded where they cross or touch (``shapely.union_all``); grade-separated
    roads are noded among themselves and cut where an end point of any road lies on them.
    """
    geoms = np.asarray(lines, dtype=object)
    sep = np.zeros(len(geoms), dtype=bool) if separated is None else np.asarray(separated, dtype=bool)
    ordinary = _lines([shapely.union_all(_lines(geoms[~sep]))]) if (~sep).any() else np.empty(0, dtype=object)
    raised = _lines([shapely.union_all(_lines(geoms[sep]))]) if sep.any() else np.empty(0, dtype=object)
    if len(raised):
        every = _lines(geoms)
        ends = np.concatenate([shapely.get_point(every, 0), shapely.get_point(every, -1)])
        tree = shapely.STRtree(ends)
        pieces = []
        for line in raised:
            on = ends[tree.query(line, predicate="dwithin", distance=NODE_TOLERANCE_M)]
            pieces += _split_at(line, on)
        raised = np.asarray(pieces, dtype=object)
    edges = np.concatenate([ordinary, raised])
    joinable = np.concatenate([np.ones(len(ordinary), dtype=bool), np.zeros(len(raised), dtype=bool)])
    first = shapely.get_coordinates(shapely.get_point(edges, 0))
    last = shapely.get_coordinates(shapely.get_point(edges, -1))
    keys = np.round(np.concatenate([first, last]) / NODE_TOLERANCE_M).astype(np.int64)
    _, node = np.unique(keys, axis=0, return_inverse=True)
    node = node.reshape(-1)
    n = len(edges)
    return RoadNetwork(edges=edges, start=node[:n], end=node[n:], length=shapely.length(edges),
                       joinable=joinable, nodes=int(node.max()) + 1 if n else 0)


def _graph(network: RoadNetwork, source_to: np.ndarray, source_cost: np.ndarray) -> coo_matrix:
    """The directed graph of the network (both ways along every edge) plus a source node joined to ``source_to``."""
    from scipy.sparse import coo_matrix  # scipy is imported by the runs that walk a network, not by every command

    source = network.nodes
    a = np.concatenate([network.start, network.end, np.full(len(source_to), source)])
    b = np.concatenate([network.end, network.start, source_to])
    w = np.concatenate([network.length, network.length, source_cost])
    keep = a != b
    a, b, w = a[keep], b[keep], np.maximum(w[keep], 1e-9)  # a zero weight would be no edge
    order = np.lexsort((w, b, a))  # parallel edges: keep the shortest (a sparse matrix would add them up)
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return coo_matrix((w[first], (a[first], b[first])), shape=(source + 1, source + 1))


def _merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching intervals joined."""
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def service_lines(network: RoadNetwork, facilities: Sequence[object] | np.ndarray, distance: float) -> np.ndarray:
    """The parts of the network within ``distance`` (access walk included) of any facility, as LineStrings.

    Each facility joins the nearest joinable edge at its nearest point; an edge reached from
    one end keeps the part up to the distance left, from both ends the two parts (the whole
    edge when they meet), and the edge a facility joins the part within the distance left
    on either side of the joining point.
    """
    points = np.asarray(facilities, dtype=object)
    points = np.where(shapely.get_type_id(points) == 0, points, shapely.point_on_surface(points)) if len(points) else points
    joinable = np.flatnonzero(network.joinable)
    if len(points) == 0 or len(joinable) == 0:
        return np.empty(0, dtype=object)
    tree = shapely.STRtree(network.edges[joinable])
    (which, nearest), access = tree.query_nearest(points, return_distance=True, all_matches=False)
    edge = joinable[nearest]
    along = shapely.line_locate_point(network.edges[edge], points[which])
    left = distance - access  # what remains at the joining point
    ok = left > 0
    edge, along, left = edge[ok], along[ok], left[ok]
    if len(edge) == 0:
        return np.empty(0, dtype=object)
    length = network.length[edge]
    to = np.concatenate([network.start[edge], network.end[edge]])
    access = distance - left
    cost = np.concatenate([access + along, access + (length - along)])  # to the edge's start and end
    reach = cost < distance
    from scipy.sparse.csgraph import dijkstra

    graph = _graph(network, to[reach], cost[reach]).tocsr()
    far = dijkstra(graph, directed=True, indices=network.nodes, limit=distance)[: network.nodes]
    spare_start = distance - far[network.start]  # inf distance gives -inf: not reached
    spare_end = distance - far[network.end]
    intervals: dict[int, list[tuple[float, float]]] = {}
    for i in np.flatnonzero((spare_start > 0) | (spare_end > 0)).tolist():
        length_i = float(network.length[i])
        got = []
        if spare_start[i] > 0:
            got.append((0.0, min(length_i, float(spare_start[i]))))
        if spare_end[i] > 0:
            got.append((max(0.0, length_i - float(spare_end[i])), length_i))
        intervals[i] = got
    for e, t, r in zip(edge, along, left, strict=True):
        intervals.setdefault(int(e), []).append((max(0.0, float(t - r)), min(float(network.length[e]), float(t + r))))
    out = []
    for k in sorted(intervals):
        line, full = network.edges[k], float(network.length[k])
        for lo, hi in _merged(intervals[k]):
            if lo <= 0.0 and hi >= full:
                out.append(line)
            elif hi > lo:
                piece = substring(line, lo, hi)
                if isinstance(piece, LineString) and not piece.is_empty:
                    out.append(piece)
    return np.asarray(out, dtype=object)
