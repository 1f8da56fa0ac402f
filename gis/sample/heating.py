"""Heating layers: district-heating networks and heat sources.

A network and a coal CHP in the central city and four county seats; coal boilers near and far
from the networks; clean sources (gas, heat pumps, waste heat, ...) in every county; loose coal
of villages and urban-village blocks and farm coal facilities (:func:`coal_users`, appended).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point

from gis.sample._common import (
    COUNTY_CODES,
    COUNTY_NAMES_EN,
    HEATING_TOWNS,
    HUBIN,
    LINGBAO,
    LUSHI,
    MIANCHI,
    SHANZHOU,
    YIMA,
    complete_or_not,
    count,
    grid_segments,
    line_parts,
    sample_in,
    sample_one,
    split,
)
from gis.sample.world import World

_SLUG = {code: name.upper() for code, name in COUNTY_NAMES_EN.items()}


def heating_network(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    rows = []
    for code in HEATING_TOWNS:
        bu = world.builtup[code]
        seat = world.seats[code]
        ring = shapely.difference(bu, bu.buffer(-900.0))
        chp = sample_one(rng, ring if not ring.is_empty else bu)
        world.chp_sites[code] = chp
        segs, _ = grid_segments(rng, bu.buffer(-100.0), (650.0, 950.0))
        sample = sample_in(rng, bu, 400)
        r70 = float(np.quantile(np.hypot(sample[:, 0] - seat.x, sample[:, 1] - seat.y),
                                rng.uniform(0.6, 0.8)))
        keep = [s for s in segs
                if s.interpolate(0.5, normalized=True).distance(seat) <= r70 and rng.random() > 0.12]
        # trunk main from the CHP to the centre (an L)
        corner = (chp.x, seat.y) if rng.random() < 0.5 else (seat.x, chp.y)
        trunk = LineString([(chp.x, chp.y), corner, (seat.x, seat.y)])
        keep = [*line_parts(shapely.intersection(trunk, bu.buffer(50.0))), *keep]
        world.heat_lines[code] = keep
        for s in keep:
            rows.append({"network_id": f"HN-{_SLUG[code]}", "name": f"{COUNTY_CODES[code]}集中供热管网",
                         "geometry": s})
    return world.frame(rows, ["id", "network_id", "name"], "HL")


def heat_sources(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    codes = list(COUNTY_CODES)
    net = shapely.union_all([ln for lines in world.heat_lines.values() for ln in lines])
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
                     "area_type": "urban" if world.in_builtup(p) else "rural",
                     "ultra_low": ultra_low, "status": "operating", "geometry": p})

    # coal CHP in the towns with a network; one of the county ones not ultra-low
    dirty = HEATING_TOWNS[1 + int(rng.integers(len(HEATING_TOWNS) - 1))]
    for code in HEATING_TOWNS:
        area = rng.uniform(3.5e6, 5.0e6) if code == HUBIN else rng.uniform(1.0e6, 2.5e6)
        add("chp", world.chp_sites[code], area, code != dirty)
    # coal boilers: about half within 1 km of a heating network, the rest far away
    n_coal = count(25, 6, world.scale)
    n_near = n_coal // 2 + int(rng.integers(0, 2)) if n_coal > 2 else 1
    net_lines = [ln for lines in world.heat_lines.values() for ln in lines]
    for _ in range(n_near):
        ln = net_lines[int(rng.integers(len(net_lines)))]
        base = ln.interpolate(rng.uniform(0, ln.length))
        p = world.near(base, 150.0, 850.0, accept=lambda q: 100.0 <= net.distance(q) <= 900.0)
        add("coal_boiler", p, rng.uniform(*area_rng["coal_boiler"]), False)
    far_w = np.array([len(world.townships[c]) for c in codes], float)
    for code in rng.choice(codes, size=n_coal - n_near, p=far_w / far_w.sum()):
        p = world.township_point(str(code), 1200.0)
        for _ in range(50):
            if net.distance(p) > 3000.0:
                break
            p = world.township_point(str(code), 1200.0)
        add("coal_boiler", p, rng.uniform(*area_rng["coal_boiler"]), False)
    # other sources: every county has at least one urban and one rural one
    urban_kinds = ["gas_boiler", "heat_pump", "industrial_waste_heat", "electric", "geothermal", "biomass"]
    urban_p = np.array([0.35, 0.25, 0.12, 0.13, 0.10, 0.05])
    rural_kinds = ["biomass", "heat_pump", "electric", "gas_boiler", "geothermal"]
    rural_p = np.array([0.25, 0.25, 0.25, 0.15, 0.10])
    n_other = count(90, 14, world.scale)
    plan = [(c, "urban") for c in codes] + [(c, "rural") for c in codes]
    cw = np.array([0.22, 0.15, 0.15, 0.14, 0.1, 0.24])
    for _ in range(max(0, n_other - len(plan))):
        plan.append((str(rng.choice(codes, p=cw)), "urban" if rng.random() < 0.5 else "rural"))
    for code, at in plan:
        if at == "urban":
            kind = str(rng.choice(urban_kinds, p=urban_p))
            p = Point(*sample_in(rng, world.builtup[code], 1)[0])
        else:
            kind = str(rng.choice(rural_kinds, p=rural_p))
            p = world.township_point(code, 1500.0)
        add(kind, p, rng.uniform(*area_rng[kind]), True)
    counter: dict[tuple[str, str], int] = {}
    for r in rows:
        code = world.county_of(r["geometry"])
        key = (code, r["kind"])
        counter[key] = counter.get(key, 0) + 1
        r["name"] = f"{COUNTY_CODES[code]}{cn[r['kind']]}{counter[key]:02d}"
    return world.frame(rows, ["id", "name", "kind", "capacity_mw", "heated_area_m2", "area_type", "ultra_low",
                              "status"], "HS")


def coal_users(world: World, rng: np.random.Generator, villages: gpd.GeoDataFrame, heat: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Loose coal (散煤: the coal stoves of a village or an urban-village block) and farm coal (the coal
    facilities of planting, breeding and processing), to append to the heat sources.

    Drawn from a stream of its own.  The urban-village blocks lie in the towns, most of them
    inside district-heating coverage; the rural loose coal is that of villages.  Every one operated
    in 2020; by now (``status``) some are replaced, in 2023 (``status_2023``) fewer: every urban
    block in the heating coverage is replaced in the towns without coal boilers there (in *heat*)
    and in some others, and every farm coal facility in about half the counties.  Farm coal heats
    no homes (``heated_area_m2`` 0).
    """
    w = world.drawing_from(rng)
    net_lines = [ln for lines in w.heat_lines.values() for ln in lines]
    net = shapely.union_all(net_lines)
    shapely.prepare(net)
    codes = list(COUNTY_CODES)
    rows: list[dict] = []
    # urban-village blocks in the towns (Lushi has no network: all outside coverage)
    weights = {HUBIN: 0.35, SHANZHOU: 0.15, MIANCHI: 0.13, LUSHI: 0.1, YIMA: 0.12, LINGBAO: 0.15}
    n_urban = count(30, 6, w.scale)
    per_town = np.floor(np.array(list(weights.values())) * (n_urban - len(weights))).astype(int) + 1
    per_town[0] += n_urban - int(per_town.sum())
    for code, k in zip(weights, per_town, strict=True):
        lines = w.heat_lines.get(code, [])
        for j in range(int(k)):
            if lines and rng.random() < 0.75:
                ln = lines[int(rng.integers(len(lines)))]
                p = w.near(ln.interpolate(rng.uniform(0, ln.length)), 80.0, 700.0, w.builtup[code],
                           lambda q: net.distance(q) <= 900.0)
            else:
                p = Point(*sample_in(rng, w.builtup[code], 1)[0])
            area = rng.uniform(1.0e4, 5.0e4)
            rows.append({"name": f"{COUNTY_CODES[code]}城中村{j + 1:02d}片区散煤", "kind": "loose_coal", "area": area,
                         "county": code, "geometry": p})
    # villages burning coal
    n_rural = min(len(villages), count(180, 20, w.scale))
    for i in sorted(rng.choice(len(villages), size=n_rural, replace=False)):
        v = villages.iloc[int(i)]
        area = v["households"] * rng.uniform(0.35, 0.9) * rng.uniform(80.0, 120.0)
        rows.append({"name": f"{v['name']}散煤", "kind": "loose_coal", "area": area, "county": w.county_of(v.geometry),
                     "geometry": v.geometry})
    # farm coal: tobacco curing and mushroom drying (Lushi, Lingbao), greenhouses, livestock farms, processing
    facilities = ["烤烟房", "食用菌烘干房", "设施大棚", "畜禽养殖场", "农产品加工厂"]
    town_w = np.array([float(len(w.townships[c])) for c in codes])
    counter: dict[str, int] = {}
    for _ in range(count(60, 8, w.scale)):
        code = str(rng.choice(codes, p=town_w / town_w.sum()))
        p = w.township_point(code, 3000.0)
        facility = facilities[int(rng.integers(len(facilities)))]
        counter[code] = counter.get(code, 0) + 1
        rows.append({"name": f"{COUNTY_CODES[code]}{facility}燃煤设施{counter[code]:02d}", "kind": "agri_coal", "area": 0.0,
                     "capacity": rng.uniform(0.1, 2.0), "county": code, "geometry": p})
    # replaced by now: urban blocks inside the coverage by town, village stoves by county, farm coal by county
    replaced = np.zeros(len(rows), dtype=bool)
    covered = [i for i, r in enumerate(rows) if r["kind"] == "loose_coal" and w.in_builtup(r["geometry"])
               and net.distance(r["geometry"]) <= 1000.0]
    boilers = heat[(heat["kind"] == "coal_boiler") & (heat["status"] == "operating")]
    with_boilers = {w.county_of(g) for g in boilers.geometry if net.distance(g) <= 1000.0}
    cleared = {c for c in HEATING_TOWNS if c not in with_boilers} | split(rng, sorted(with_boilers), 0.25)
    replaced[covered] = complete_or_not(rng, [rows[i]["county"] for i in covered], (0.3, 0.7), complete=cleared)
    rate = {c: rng.uniform(0.35, 0.85) for c in codes}
    for i, r in enumerate(rows):
        if r["kind"] == "loose_coal" and i not in covered:
            replaced[i] = rng.random() < rate[r["county"]]
    farm = [i for i, r in enumerate(rows) if r["kind"] == "agri_coal"]
    replaced[farm] = complete_or_not(rng, [rows[i]["county"] for i in farm], (0.3, 0.8))
    progress = {c: rng.uniform(0.3, 0.9) for c in codes}
    for i, r in enumerate(rows):
        r["status"] = "replaced" if replaced[i] else "operating"
        r["status_2023"] = "replaced" if replaced[i] and rng.random() < progress[r["county"]] else "operating"
        r["status_2020"] = "operating"
        r["heated_area_m2"] = float(round(r["area"], -2))
        w_per_m2 = rng.uniform(70.0, 100.0)  # stoves: more capacity per m2 than a boiler house
        r["capacity_mw"] = float(max(0.1, round(r.get("capacity", r["area"] * w_per_m2 / 1e6), 1)))
        r["area_type"] = "urban" if w.in_builtup(r["geometry"]) else "rural"
        r["ultra_low"] = False
    return w.frame(rows, ["name", "kind", "capacity_mw", "heated_area_m2", "area_type", "ultra_low", "status", "status_2023",
                          "status_2020"])
