"""Water layers: sewage plants, the sewer network, outfalls.

Collection and treatment fall short in some counties; sewers leave blank patches in the towns
and miss a park or two; a few direct discharges and tributary outfalls await remediation; a
plant built since 2021 has no defined sludge route (:func:`plant_records`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from gis.sample._common import (
    COUNTY_CODES,
    HUBIN,
    LINGBAO,
    LUSHI,
    MIANCHI,
    SHANZHOU,
    SHORT,
    YIMA,
    count,
    grid_segments,
    line_parts,
    sample_in,
    sample_one,
)
from gis.sample.world import World

#: Rivers receiving outfalls, per county: (name, tributary of the Yellow River).
_RIVERS = {
    HUBIN: [("青龙涧河", True), ("苍龙涧河", True), ("黄河", False)],
    SHANZHOU: [("青龙涧河", True), ("苍龙涧河", True), ("黄河", False)],
    MIANCHI: [("涧河", True), ("黄河", False)],
    YIMA: [("涧河", True)],
    LINGBAO: [("弘农涧河", True), ("黄河", False)],
    LUSHI: [("洛河", True)],
}

_CN_ORDINAL = ["第一", "第二", "第三", "第四", "第五"]


def sewage_plants(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    n_plants = {HUBIN: 3, SHANZHOU: int(rng.integers(1, 3)), MIANCHI: int(rng.integers(1, 3)),
                LUSHI: 1, YIMA: 1, LINGBAO: 2}
    town_flow = {HUBIN: rng.uniform(1.3e5, 1.6e5)}
    for c in COUNTY_CODES:
        if c != HUBIN:
            town_flow[c] = world.builtup[c].area / 1e6 * rng.uniform(1800.0, 2600.0)
    gap = set(rng.choice(list(COUNTY_CODES), size=int(rng.integers(1, 3)), replace=False).tolist())
    rows = []
    for code, k in n_plants.items():
        bu = world.builtup[code]
        ring = shapely.difference(bu, bu.buffer(-1000.0))
        ring = ring if not ring.is_empty else bu
        collect = rng.uniform(0.66, 0.79)
        treat = rng.uniform(0.925, 0.968) if code in gap else rng.uniform(0.984, 1.0)
        shares = rng.dirichlet(np.full(k, 4.0))
        placed: list[Point] = []
        for i in range(k):
            p = sample_one(rng, ring, _far_from(placed, 2500.0))
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
    gdf = world.frame(rows, ["id", "name", "capacity_m3_d", "generated_m3_d", "collected_m3_d", "treated_m3_d",
                             "reclaimed_m3_d", "sludge_t_d", "sludge_safe_t_d"], "SP")
    world.plants = [{"id": i, "county": r["county"], "name": r["name"], "geometry": r["geometry"]}
                    for i, r in zip(gdf["id"], rows, strict=True)]
    return gdf


def sewer_network(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    rows: list[dict] = []
    holes: list[BaseGeometry] = []
    diam_trunk, diam_branch = [800, 1000, 1200], [300, 400, 500, 600]

    def plant_for(p: Point, code: str) -> str:
        cands = [q for q in world.plants if q["county"] == code] or world.plants
        return min(cands, key=lambda q: q["geometry"].distance(p))["id"]

    orphan_towns = set(rng.choice(list(COUNTY_CODES), size=int(rng.integers(2, 4)), replace=False).tolist())
    for code, bu in world.builtup.items():
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
            c = sample_one(rng, region, _far_from(town_holes, 2 * r + 1500))
            town_holes.append(c)
            holes.append(c.buffer(r + 300.0))
        segs, trunk = grid_segments(rng, bu.buffer(80.0), (300.0, 470.0))
        orphan = None
        if code in orphan_towns:
            ring = shapely.difference(bu, bu.buffer(-600.0))
            orphan = sample_one(rng, ring if not ring.is_empty else bu).buffer(rng.uniform(450.0, 700.0))
        for s, t in zip(segs, trunk, strict=True):
            mid = s.interpolate(0.5, normalized=True)
            pid = None if orphan is not None and orphan.contains(mid) else plant_for(mid, code)
            rows.append({"plant_id": pid, "diameter_mm": int(rng.choice(diam_trunk if t else diam_branch)),
                         "geometry": s})
    # parks: most have sewers, one or two (away from towns) have none
    bu_all = shapely.union_all(list(world.builtup.values()))
    eligible = [i for i, p in enumerate(world.parks)
                if p["kind"] != "management_zone" and not p["geometry"].intersects(bu_all.buffer(600.0))]
    n_none = min(len(eligible), int(rng.integers(1, 3)))
    no_sewer = set(rng.choice(eligible, size=n_none, replace=False).tolist()) if n_none else set()
    for i, park in enumerate(world.parks):
        if i in no_sewer:
            continue
        area = shapely.difference(park["geometry"], bu_all.buffer(50.0))
        segs, trunk = grid_segments(rng, area, (300.0, 470.0))
        for s, t in zip(segs, trunk, strict=True):
            mid = s.interpolate(0.5, normalized=True)
            rows.append({"plant_id": plant_for(mid, park["county"]),
                         "diameter_mm": int(rng.choice(diam_trunk if t else diam_branch)), "geometry": s})
    # cut the blank patches out of every line
    cut = shapely.union_all(holes)
    shapely.prepare(cut)
    out = []
    for row in rows:
        g = row["geometry"]
        if cut.intersects(g):
            for part in line_parts(shapely.difference(g, cut)):
                if part.length > 15.0:
                    out.append({**row, "geometry": part})
        else:
            out.append(row)
    return world.frame(out, ["id", "plant_id", "diameter_mm"], "SW")


def outfalls(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    bu_all = shapely.union_all(list(world.builtup.values()))
    shapely.prepare(bu_all)
    outside = lambda q: bu_all.distance(q) > 60.0  # noqa: E731
    rows: list[dict] = []
    cn = {"direct_discharge": "直排口", "plant_outlet": "排口", "stormwater": "雨水排口", "industrial": "工业排口"}

    def river_for(code: str, tributary_only: bool = False) -> tuple[str, bool]:
        opts = [r for r in _RIVERS[code] if r[1] or not tributary_only]
        return opts[int(rng.integers(len(opts)))]

    def yellow_point(code: str) -> Point | None:
        river = shapely.intersection(world.river, world.county_inner[code].buffer(700.0))
        parts = line_parts(river)
        if not parts:
            return None
        ln = max(parts, key=lambda g: g.length)
        for _ in range(100):
            base = ln.interpolate(rng.uniform(0, ln.length))
            q = world.near(base, 150.0, 900.0, world.county_inner[code], outside)
            if outside(q):
                return q
        return None

    for plant in world.plants:  # one outlet per plant, outside the town
        code = plant["county"]
        river, trib = river_for(code, tributary_only=True)
        p = world.near(plant["geometry"], 400.0, 2500.0, world.inner, outside)
        rows.append({"name": f"{plant['name']}排口", "kind": "plant_outlet", "river": river,
                     "yellow_tributary": trib, "remediated": True, "geometry": p})
    n_direct_in = int(rng.integers(2, 5))
    towns = [HUBIN] + list(rng.choice([c for c in COUNTY_CODES if c != HUBIN], size=n_direct_in - 1))
    for code in towns:
        code = str(code)
        river, trib = river_for(code, tributary_only=True)
        p = Point(*sample_in(rng, world.builtup[code].buffer(-150.0), 1)[0])
        rows.append({"name": None, "kind": "direct_discharge", "river": river, "yellow_tributary": trib,
                     "remediated": False, "county": code, "geometry": p})
    n = count(40, len(rows) + 6, world.scale)
    rest = n - len(rows)
    kinds = ["stormwater", "industrial", "direct_discharge"] * 2
    kinds += list(rng.choice(["stormwater", "industrial", "direct_discharge"], size=max(0, rest - 6),
                             p=[0.35, 0.3, 0.35]))
    codes = list(COUNTY_CODES)
    cw = np.array([0.2, 0.2, 0.15, 0.15, 0.1, 0.2])
    for kind in kinds[:rest]:
        kind = str(kind)
        if kind == "industrial":
            park = world.parks[int(rng.integers(len(world.parks)))]
            code = park["county"]
            p = world.near(park["geometry"].representative_point(), 200.0, 2500.0, world.county_inner[code],
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
                p = world.near(world.builtup[code].representative_point(), 0.0, 9000.0, world.county_inner[code],
                               lambda q: outside(q) and bu_all.distance(q) < 1500.0)
            else:
                p = world.township_point(code, 1200.0)
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
            code = world.county_of(r["geometry"])
            key = (r["river"], r["kind"])
            counter[key] = counter.get(key, 0) + 1
            r["name"] = f"{r['river']}{SHORT[code]}{cn[r['kind']]}{counter[key]:02d}"
    return world.frame(rows, ["id", "name", "kind", "river", "yellow_tributary", "remediated"], "OF")


def _far_from(others: Sequence[Point], distance: float) -> Callable[[Point], bool]:
    """A test of a point lying farther than *distance* from each of *others* (as they are when tested)."""
    return lambda q: all(q.distance(o) > distance for o in others)


SLUDGE_ROUTES = ("incineration", "co_disposal", "land_use", "landfill")


def plant_records(world: World, rng: np.random.Generator, plants: gpd.GeoDataFrame) -> pd.DataFrame:
    """``year_built`` and ``sludge_route`` of each plant (by ``id``), from a stream of its own.

    The first plant of a town is old; two or three later plants (one in the central city, one
    elsewhere where a town has a second plant) were built 2021 or later, one of them without a
    defined sludge route.  A few old plants lack a route too.
    """
    county = {p["id"]: p["county"] for p in world.plants}
    later = [i for i, name in zip(plants["id"], plants["name"], strict=True)
             if any(o in name for o in _CN_ORDINAL[1:])]
    hubin = [i for i in later if county[i] == HUBIN]
    elsewhere = [i for i in later if county[i] != HUBIN]
    new = [str(rng.choice(hubin))] if hubin else []
    if elsewhere:
        new.append(str(rng.choice(elsewhere)))
    rest = [i for i in later if i not in new]
    if rest and (len(new) < 2 or rng.random() < 0.4):
        new.append(str(rng.choice(rest)))
    no_route = str(rng.choice(new)) if new else None
    years, routes = [], []
    for i, name in zip(plants["id"], plants["name"], strict=True):
        if i in new:
            years.append(int(rng.integers(2021, 2025)))
            routes.append(None if i == no_route else str(rng.choice(["co_disposal", "incineration"])))
        else:
            first = not any(o in name for o in _CN_ORDINAL[1:])
            years.append(int(rng.integers(1995, 2013)) if first else int(rng.integers(2005, 2020)))
            route = str(rng.choice([*SLUDGE_ROUTES, "none"], p=[0.15, 0.25, 0.2, 0.3, 0.1]))
            routes.append(None if route == "none" else route)
    return pd.DataFrame({"id": plants["id"].to_list(), "year_built": years, "sludge_route": routes})
