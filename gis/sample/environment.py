"""Environment layers: key polluters, fuel outlets, water-quality sections, drinking-water sources,
rural black-and-odorous water bodies and the administrative villages (now and in 2020).

Each is drawn from a random stream of its own (:func:`gis.sample._common.stream`), after every
other layer, so adding them left the earlier layers of a seed as they were.  In about half the
counties every VOCs-related polluter is monitored online and every petrol station recovers its
vapour, in the others not; most sections are of class II-III, one or two of class IV; a few large
black-and-odorous water bodies remain; the share of villages treating their sewage rose by 5 to
15 points since 2020.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from gis.sample._common import (
    COUNTY_CODES,
    HUBIN,
    LINGBAO,
    LUSHI,
    METRIC_CRS,
    MIANCHI,
    OUTPUT_CRS,
    SHANZHOU,
    SHORT,
    YIMA,
    complete_or_not,
    count,
    line_parts,
    sample_in,
    split,
)
from gis.sample.energy import _BRANDS, _allocate, _park_point, _unique_name, township_site
from gis.sample.world import World

LARGE_WATER_BODY_M2 = 5000.0
"""Water bodies at least this large count as large (大面积) in the sample's mix."""

DANJIANGKOU_LAT = 33.88
"""Lushi south of this latitude drains to the Danjiangkou reservoir (the Laoguan River basin), roughly."""

# ----------------------------------------------------------------------------------
# Key polluters
# ----------------------------------------------------------------------------------

#: Sector of key polluters: weight, VOCs-related, park kinds it sits in (or "builtup"/"township"), trade name.
_POLLUTER_SECTORS: dict[str, tuple[float, bool, tuple[str, ...], str]] = {
    "chemical": (0.22, True, ("chemical_park",), "化工"),
    "pharmaceutical": (0.08, True, ("chemical_park", "hightech_zone", "development_zone"), "制药"),
    "surface_coating": (0.08, True, ("development_zone", "management_zone"), "涂装"),
    "printing": (0.05, True, ("development_zone", "builtup"), "包装印刷"),
    "nonferrous_smelting": (0.15, False, ("circular_pilot", "development_zone", "solid_waste_base"), "冶炼"),
    "building_materials": (0.12, False, ("solid_waste_base", "development_zone", "green_pilot"), "建材"),
    "power": (0.06, False, ("development_zone", "management_zone"), "热电"),
    "food": (0.12, False, ("development_zone", "builtup"), "食品"),
    "livestock": (0.12, False, ("township",), "养殖"),
}


def key_polluters(world: World, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Key polluters (重点排污单位), mostly in the parks: in about half the counties every VOCs-related
    one is monitored online and has done leak detection and repair, in the others not."""
    w = world.drawing_from(rng)
    n = count(120, 18, w.scale)
    sectors = list(_POLLUTER_SECTORS)
    weights = np.array([_POLLUTER_SECTORS[s][0] for s in sectors])
    # the first two: a chemical plant in each chemical park (VOCs sources in two counties at least)
    plan = ["chemical", "chemical"] + [str(rng.choice(sectors, p=weights / weights.sum())) for _ in range(n - 2)]
    chemical_parks = [p["name"] for p in w.parks if p["kind"] == "chemical_park"]
    codes = list(COUNTY_CODES)
    rows: list[dict] = []
    names: dict[str, int] = {}
    for k, sector in enumerate(plan):
        _, vocs, kinds, trade = _POLLUTER_SECTORS[sector]
        kind = kinds[int(rng.integers(len(kinds)))]
        if k < len(chemical_parks):
            p = _park_point(w, rng, [chemical_parks[k]])
        elif kind == "builtup":
            p = Point(*sample_in(rng, w.builtup[str(rng.choice(codes))], 1)[0])
        elif kind == "township":
            p, _ = township_site(w, str(rng.choice(codes)), 3000.0)
        else:
            p = _park_point(w, rng, [kind])
        code = w.county_of(p)
        name = f"{SHORT[code]}{_BRANDS[int(rng.integers(len(_BRANDS)))]}{trade}{'场' if sector == 'livestock' else '有限公司'}"
        rows.append({"name": _unique_name(name, names), "sector": sector, "vocs": vocs, "county": code, "geometry": p})
    vocs_idx = [i for i, r in enumerate(rows) if r["vocs"]]
    vocs_county = [rows[i]["county"] for i in vocs_idx]
    online = dict(zip(vocs_idx, complete_or_not(rng, vocs_county, (0.5, 0.85)), strict=True))
    ldar = dict(zip(vocs_idx, complete_or_not(rng, vocs_county, (0.4, 0.8)), strict=True))
    for i, r in enumerate(rows):
        r["online_monitoring"] = bool(online[i]) if i in online else bool(rng.random() < 0.75)
        r["ldar"] = bool(ldar[i]) if i in ldar else False
    return w.frame(rows, ["id", "name", "sector", "vocs", "online_monitoring", "ldar"], "PS")


# ----------------------------------------------------------------------------------
# Fuel outlets
# ----------------------------------------------------------------------------------


def fuel_outlets(world: World, rng: np.random.Generator, roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Petrol stations in the towns, along the arterials and expressways and in the townships, and a
    few fuel depots with their tankers; vapour recovery works everywhere in about half the counties."""
    w = world.drawing_from(rng)
    codes = list(COUNTY_CODES)
    n_stations = count(240, 20, w.scale)
    n_depots = count(5, 3, w.scale)
    arterials = [g for g in roads.loc[roads["class"] == "arterial", "geometry"] if g.length > 200.0]
    lengths = np.array([g.length for g in arterials])
    rows: list[dict] = []
    for _ in range(n_stations):
        u = rng.random()
        if u < 0.5:
            code = str(rng.choice(codes, p=[0.32, 0.12, 0.13, 0.1, 0.1, 0.23]))
            p = Point(*sample_in(rng, w.in_town(code, 300.0), 1)[0])
        elif u < 0.8:
            line = arterials[int(rng.choice(len(arterials), p=lengths / lengths.sum()))]
            p = w.near(line.interpolate(rng.uniform(0.0, line.length)), 20.0, 80.0)
        elif u < 0.88:
            p = w.expressway_point((40.0, 150.0))
        else:
            p, _ = township_site(w, str(rng.choice(codes)), 1000.0)
        rows.append({"kind": "petrol_station", "tankers": 0, "tankers_recovery": 0, "geometry": p})
    taken = shapely.union_all(list(w.builtup.values()))
    for code in [HUBIN, LINGBAO, MIANCHI, LUSHI, YIMA, SHANZHOU][:n_depots] + \
            [str(c) for c in rng.choice(codes, size=max(0, n_depots - 6))]:
        p = w.near(w.seats[code], 2500.0, 7000.0, w.county_inner[code], lambda q: not taken.intersects(q.buffer(500.0)))
        tankers = int(rng.integers(10, 61))
        rows.append({"kind": "fuel_depot", "tankers": tankers, "tankers_recovery": tankers, "geometry": p})
    county = [w.county_of(r["geometry"]) for r in rows]
    stations = [i for i, r in enumerate(rows) if r["kind"] == "petrol_station"]
    ok = complete_or_not(rng, [county[i] for i in stations], (0.8, 0.96))
    for i, flag in zip(stations, ok, strict=True):
        rows[i]["vapour_recovery"] = bool(flag)
    depots = [i for i, r in enumerate(rows) if r["kind"] == "fuel_depot"]
    short = split(rng, [str(i) for i in depots], 0.5)  # depots with tankers lacking vapour recovery
    for i in depots:
        r = rows[i]
        r["vapour_recovery"] = bool(str(i) not in short or rng.random() < 0.6)
        if str(i) in short:
            r["tankers_recovery"] = int(r["tankers"] - rng.integers(1, max(2, r["tankers"] // 3)))
    counter: dict[tuple[str, str], int] = {}
    for r, code in zip(rows, county, strict=True):
        counter[(code, r["kind"])] = counter.get((code, r["kind"]), 0) + 1
        label = "加油站" if r["kind"] == "petrol_station" else "成品油库"
        r["name"] = f"{COUNTY_CODES[code]}{label}{counter[(code, r['kind'])]:02d}"
    return w.frame(rows, ["id", "name", "kind", "vapour_recovery", "tankers", "tankers_recovery"], "FO")


# ----------------------------------------------------------------------------------
# Water
# ----------------------------------------------------------------------------------


def _inside(w: World, p: Point, region: BaseGeometry | None = None) -> Point:
    """*p* itself if it lies inside the counties (and *region*), else a point close to it that does."""
    region = w.inner if region is None else region
    if w.inner.contains(p) and region.contains(p):
        return p
    return w.near(p, 150.0, 600.0, region)


def water_sections(world: World, rng: np.random.Generator, rivers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Monitoring sections on the Yellow River (main stream), where the Yellow and Luo rivers enter
    from Shaanxi (provincial boundary) and on the tributaries; class II-III, one or two of class IV."""
    w = world.drawing_from(rng)
    assert w.river is not None
    rows: list[dict] = []
    yellow = w.river
    # provincial boundary: the Yellow River where it enters from Shaanxi (west end), the Luo River likewise
    west = yellow.interpolate(0.0) if yellow.coords[0][0] < yellow.coords[-1][0] else yellow.interpolate(1.0, normalized=True)
    rows.append({"river": "黄河", "kind": "provincial_boundary", "geometry": _inside(w, west), "label": "豫陕省界"})
    luo = list(rivers.loc[rivers["name"] == "洛河", "geometry"])
    if luo:
        line = max(luo, key=lambda g: g.length)
        start = Point(line.coords[0]) if line.coords[0][0] < line.coords[-1][0] else Point(line.coords[-1])
        rows.append({"river": "洛河", "kind": "provincial_boundary", "geometry": _inside(w, start), "label": "豫陕省界"})
    for t in sorted(rng.uniform(0.25, 0.95, 3)):
        rows.append({"river": "黄河", "kind": "main_stream", "label": None,
                     "geometry": _inside(w, yellow.interpolate(float(t), normalized=True))})
    tributaries = [(name, g) for name, g in zip(rivers["name"], rivers.geometry, strict=True) if name != "黄河"]
    lengths = np.array([g.length for _, g in tributaries])
    for _ in range(count(8, 4, w.scale)):
        name, line = tributaries[int(rng.choice(len(tributaries), p=lengths / lengths.sum()))]
        rows.append({"river": name, "kind": "tributary", "label": None,
                     "geometry": _inside(w, line.interpolate(rng.uniform(0.05, 0.95), normalized=True))})
    classes = rng.choice([2, 3], size=len(rows), p=[0.55, 0.45])
    classes[[i for i, r in enumerate(rows) if r["kind"] == "main_stream"]] = 2
    trib = [i for i, r in enumerate(rows) if r["kind"] == "tributary"]
    judged = [i for i, r in enumerate(rows) if r["kind"] != "tributary"]
    classes[int(rng.choice(trib))] = 4
    classes[int(rng.choice(judged))] = 4
    counter: dict[tuple[str, str], int] = {}
    for r, c in zip(rows, classes, strict=True):
        r["water_class"] = int(c)
        code = w.county_of(r["geometry"])
        if r["label"] is None:
            key = (r["river"], code)
            counter[key] = counter.get(key, 0) + 1
            r["label"] = f"{SHORT[code]}{counter[key]}号"
        r["name"] = f"{r['river']}{r['label']}断面"
    return w.frame(rows, ["id", "name", "river", "kind", "water_class"], "WQ")


def danjiangkou_catchment(world: World) -> BaseGeometry:
    """The part of Lushi draining to the Danjiangkou reservoir (south of :data:`DANJIANGKOU_LAT`), EPSG:4546."""
    to_m = Transformer.from_crs(OUTPUT_CRS, METRIC_CRS, always_xy=True)
    line = [to_m.transform(lon, DANJIANGKOU_LAT) for lon in np.linspace(110.3, 111.6, 27)]
    minx, miny, maxx, _ = world.county_inner[LUSHI].bounds
    south = shapely.Polygon([*line, (line[-1][0], miny - 1000.0), (line[0][0], miny - 1000.0)])
    return shapely.intersection(world.county_inner[LUSHI], south)


#: Reservoirs of world.water (after the Yellow River band and the Luo River) used as drinking-water sources.
_RESERVOIRS = {LINGBAO: "窄口水库", SHANZHOU: "卫家磨水库"}


def water_sources(world: World, rng: np.random.Generator, rivers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drinking-water sources: the two reservoirs, a source for each county town, two in the Danjiangkou
    catchment of southern Lushi and township sources; all standardised in about half the counties."""
    w = world.drawing_from(rng)
    codes = list(COUNTY_CODES)
    catchment = danjiangkou_catchment(w)
    shapely.prepare(catchment)
    rows: list[dict] = []
    for code, reservoir in zip((LINGBAO, SHANZHOU), w.water[2:4], strict=False):
        p = _inside(w, Point(*sample_in(rng, reservoir.buffer(-30.0) if reservoir.buffer(-30.0).area > 0 else reservoir, 1)[0]))
        rows.append({"name": f"{COUNTY_CODES[code]}{_RESERVOIRS[code]}饮用水水源地", "kind": "surface", "geometry": p})
    rivers_by_name = {name: g for name, g in zip(rivers["name"], rivers.geometry, strict=True) if name != "黄河"}
    for code in codes:  # each county town: a groundwater well field at its edge, the larger ones a river intake too
        ring = shapely.difference(w.builtup[code].buffer(2500.0), w.builtup[code].buffer(300.0))
        p = Point(*sample_in(rng, shapely.intersection(ring, w.county_inner[code]), 1)[0])
        rows.append({"name": f"{COUNTY_CODES[code]}城区地下水饮用水水源地", "kind": "groundwater", "geometry": p})
    for code, river in ((HUBIN, "青龙涧河"), (LUSHI, "洛河"), (MIANCHI, "涧河")):
        line = rivers_by_name.get(river)
        if line is None:
            continue
        part = shapely.intersection(line, w.county_inner[code])
        parts = line_parts(part)
        if parts:
            seg = max(parts, key=lambda g: g.length)
            p = _inside(w, seg.interpolate(rng.uniform(0.1, 0.9), normalized=True), w.county_inner[code])
            rows.append({"name": f"{COUNTY_CODES[code]}{river}饮用水水源地", "kind": "surface", "geometry": p})
    for k in range(2):  # in the Danjiangkou catchment (southern Lushi)
        kind = "surface" if k == 0 else "groundwater"
        p = Point(*sample_in(rng, catchment, 1)[0])
        rows.append({"name": f"卢氏县南部{k + 1}号{'地表水' if kind == 'surface' else '地下水'}饮用水水源地", "kind": kind,
                     "geometry": p})
    n = count(40, len(rows) + 4, w.scale)
    town_w = np.array([float(len(w.townships[c])) for c in codes])
    names: dict[str, int] = {}
    while len(rows) < n:
        code = str(rng.choice(codes, p=town_w / town_w.sum()))
        p, town = township_site(w, code, 2500.0)
        kind = "groundwater" if rng.random() < 0.7 else "surface"
        rows.append({"name": _unique_name(f"{town}{'地下水' if kind == 'groundwater' else '地表水'}饮用水水源地", names),
                     "kind": kind, "geometry": p})
    county = [w.county_of(r["geometry"]) for r in rows]
    done = complete_or_not(rng, county, (0.6, 0.9))
    for r, flag in zip(rows, done, strict=True):
        r["standardised"] = bool(flag)
        r["danjiangkou_catchment"] = bool(catchment.contains(r["geometry"]))
    return w.frame(rows, ["id", "name", "kind", "standardised", "danjiangkou_catchment"], "DW")


_WATER_BODY_KINDS = ["坑塘", "沟渠", "河塘", "排水沟"]


def rural_water_bodies(world: World, rng: np.random.Generator, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rural black-and-odorous water bodies near villages, small and large: most eliminated; in about
    half the counties every large one, in the others a few large ones remain."""
    w = world.drawing_from(rng)
    n = count(50, 10, w.scale)
    pick = rng.choice(len(villages), size=n, replace=len(villages) < n)
    rows: list[dict] = []
    names: dict[str, int] = {}
    for i in pick:
        v = villages.iloc[int(i)]
        code = w.county_of(v.geometry)
        p = w.near(v.geometry, 80.0, 500.0, w.county_inner[code], lambda q: w.in_builtup(q) is None)
        area = float(np.clip(rng.lognormal(math.log(3000.0), 1.0), 200.0, 60000.0))
        kind = _WATER_BODY_KINDS[int(rng.integers(len(_WATER_BODY_KINDS)))]
        rows.append({"name": _unique_name(f"{v['name']}{kind}", names), "area_m2": area, "county": code, "geometry": p})
    # large ones in three counties at least
    counties = sorted({r["county"] for r in rows})
    for c in [str(c) for c in rng.permutation(counties)][:3]:
        idx = [i for i, r in enumerate(rows) if r["county"] == c]
        if not any(rows[i]["area_m2"] >= LARGE_WATER_BODY_M2 for i in idx):
            rows[int(rng.choice(idx))]["area_m2"] = float(rng.uniform(6000.0, 20000.0))
    large = [i for i, r in enumerate(rows) if r["area_m2"] >= LARGE_WATER_BODY_M2]
    done = complete_or_not(rng, [rows[i]["county"] for i in large], (0.3, 0.75))
    for i, flag in zip(large, done, strict=True):
        rows[i]["eliminated"] = bool(flag)
    for r in rows:
        r.setdefault("eliminated", bool(rng.random() < 0.85))
        r["area_m2"] = float(round(r["area_m2"], -1))
    return w.frame(rows, ["id", "name", "area_m2", "eliminated"], "BW")


# ----------------------------------------------------------------------------------
# Villages
# ----------------------------------------------------------------------------------

_VILLAGE_HEADS = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗梁宋郑谢韩唐冯董程曹袁邓许沈彭吕苏卢蒋蔡贾丁魏薛叶阎杜范方石姚"
                      "谭秦史侯邵孟段雷常武乔贺郝崔康白") + list("东西南北上下前后大小新老柏槐杏枣桃柳石窑")
_VILLAGE_TAILS = ["庄", "村", "沟", "洼", "坡", "岭", "河", "湾", "寨", "峪", "原", "店", "营", "堡", "塬", "头", "家庄", "家沟",
                  "家洼", "家岭", "家河", "家寨"]


def villages(world: World, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The administrative villages around the townships now, and as they stood in 2020.

    Now about 30-60 % of a county's villages treat their sewage (the central city more), 5 to 15
    points more than in 2020 (more than 10 in about half the counties); waste is collected in every
    village of about half the counties.
    """
    w = world.drawing_from(rng)
    codes = list(COUNTY_CODES)
    per_county = _allocate(count(1100, 60, w.scale), {c: float(len(w.townships[c])) for c in codes}, 5)
    rows: list[dict] = []
    for code in codes:
        towns = w.townships[code]
        combos = rng.permutation(len(_VILLAGE_HEADS) * len(_VILLAGE_TAILS))
        names: dict[str, int] = {}
        for k in range(per_county[code]):
            t = towns[k % len(towns)] if k < len(towns) else towns[int(rng.integers(len(towns)))]
            p = w.near(t, 400.0, 4500.0, w.county_inner[code], lambda q: w.in_builtup(q) is None)
            c = int(combos[k % len(combos)])
            head, tail = _VILLAGE_HEADS[c // len(_VILLAGE_TAILS)], _VILLAGE_TAILS[c % len(_VILLAGE_TAILS)]
            name = _unique_name(f"{COUNTY_CODES[code]}{head}{tail}{'' if tail.endswith('村') else '村'}", names)
            rows.append({"name": name, "households": int(np.clip(rng.lognormal(math.log(280.0), 0.5), 60, 1500)),
                         "county": code, "geometry": p})
    county = np.array([r["county"] for r in rows])
    treated, treated_then = np.zeros(len(rows), bool), np.zeros(len(rows), bool)
    big_rise = split(rng, codes)
    for code in codes:
        idx = np.flatnonzero(county == code)
        share = rng.uniform(0.6, 0.8) if code == HUBIN else rng.uniform(0.3, 0.6)
        rise = rng.uniform(0.105, 0.15) if code in big_rise else rng.uniform(0.05, 0.095)
        k_now = int(round(share * len(idx)))
        k_then = max(0, k_now - max(1, int(round(rise * len(idx)))))
        now = rng.choice(idx, size=k_now, replace=False)
        treated[now] = True
        treated_then[now[:k_then]] = True
    collected = complete_or_not(rng, list(county), (0.88, 0.98))
    collected_then = collected.copy()
    for code in codes:
        idx = np.flatnonzero(collected & (county == code))
        collected_then[rng.choice(idx, size=int(round(len(idx) * rng.uniform(0.03, 0.12))), replace=False)] = False
    frames = []
    for sewage, waste in ((treated, collected), (treated_then, collected_then)):
        year_rows = [{**r, "sewage_treated": bool(a), "waste_collected": bool(b)} for r, a, b in zip(rows, sewage, waste, strict=True)]
        frames.append(w.frame(year_rows, ["id", "name", "households", "sewage_treated", "waste_collected"], "VL"))
    return frames[0], frames[1]
