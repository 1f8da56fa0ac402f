"""The province's synthetic facility layers, county by county.

Every layer the reference specs read, with the reference catalog's columns.  A county's features
come from the stream of (layer, county) (:func:`gis.sample.province.streams.county_rng`); counts
follow the Sanmenxia sample's densities per county (its six counties' counts over six), times the
county's weight (its built-up area over 20 km2, 0.5 to 4) and ``scale``.  In each layer about half
the counties meet the plan's target and the others fall short, as in the Sanmenxia sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from gis.sample._common import complete_or_not, grid_segments, line_parts, sample_in
from gis.sample.province.crs import METRIC_WKT
from gis.sample.province.geography import EXPRESSWAYS, County, Province
from gis.sample.province.streams import county_rng, province_rng

LARGE_WATER_BODY_M2 = 5000.0
DANJIANGKOU = ("淅川县", "西峡县", "内乡县")
"""Counties draining to the Danjiangkou reservoir (the South-to-North water source), roughly."""

_BRANDS = ["华", "宏", "金", "豫", "中原", "黄河", "天元", "东方", "伏牛", "嵩山", "太行", "大别", "淮源", "商都", "汴梁", "宛城"]


def count(base: float, minimum: int, scale: float) -> int:
    """``max(minimum, round(base * scale))``."""
    return max(int(minimum), int(round(base * scale)))


def weight(county: County) -> float:
    """How much of a county's facilities a county has against an average one: its built-up area over 20 km2, 0.5-4."""
    return float(np.clip(county.builtup.area / 20e6, 0.5, 4.0))


def network_spacing(scale: float) -> float:
    """How much wider the street, sewer and heating grids are at *scale* (1 at 1 or more, up to 4 at 1/16 or less)."""
    return float(min(4.0, 1.0 / math.sqrt(min(scale, 1.0))))


def frame(rows: list[dict], columns: Sequence[str], prefix: str | None = None) -> gpd.GeoDataFrame:
    """A GeoDataFrame (metric CRS) of *columns*, with ids ``prefix-000001`` when *prefix* is given."""
    if prefix is not None:
        for i, r in enumerate(rows, start=1):
            r["id"] = f"{prefix}-{i:06d}"
    data = {c: [r[c] for r in rows] for c in columns}
    return gpd.GeoDataFrame(data, geometry=[r["geometry"] for r in rows], crs=METRIC_WKT)


def _unique(name: str, taken: dict[str, int]) -> str:
    taken[name] = taken.get(name, 0) + 1
    return name if taken[name] == 1 else f"{name}{taken[name]}"


def _away(area: BaseGeometry, distance: float = 0.0) -> Callable[[Point], bool]:
    """A test of a point lying farther than *distance* from *area* (outside it, for 0)."""
    return lambda q: bool(area.distance(q) > distance)


def _expressway_near(province: Province, county: County) -> list[LineString]:
    return [p for parts in province.expressways.values() for ln in parts
            for p in line_parts(shapely.intersection(ln, county.inner))]


# ----------------------------------------------------------------------------------
# Transport
# ----------------------------------------------------------------------------------


def charging_stations(province: Province) -> gpd.GeoDataFrame:
    rows: list[dict] = []
    for c in province.counties:
        rng = county_rng(province.seed, "charging_stations", c.index)
        n = count(25 * weight(c), 2, province.scale)
        roads = _expressway_near(province, c)
        for k in range(n):
            u = rng.random()
            if u < 0.75:
                p, where = province.in_town(rng, c, 1)[0], "公共"
            elif u < 0.87 and roads:
                ln = roads[int(rng.integers(len(roads)))]
                p, where = province.near(rng, c, ln.interpolate(rng.uniform(0, ln.length)), 60.0, 350.0), "高速沿线"
            else:
                p, where = province.in_country(rng, c)[0], "乡镇"
            ports = int(rng.integers(2, 21))
            rows.append({"name": f"{c.name}{where}充电站{k + 1:02d}", "ports": ports,
                         "fast_ports": int(rng.binomial(ports, rng.uniform(0.3, 0.9))), "geometry": p})
    return frame(rows, ["id", "name", "ports", "fast_ports"], "CS")


_PARKING = {"government": ("机关", 90, 0.2), "hospital": ("医院", 220, 0.15), "school": ("学校", 110, 0.25),
            "culture_sports": ("文体场馆", 180, 0.12), "tourism": ("景区", 200, 0.13), "transport_hub": ("交通枢纽", 300, 0.15)}


def parking_lots(province: Province) -> gpd.GeoDataFrame:
    """Public-service parking lots; in about 40 % of the counties at least 25 % of the spaces have chargers."""
    rows: list[dict] = []
    cats = list(_PARKING)
    p_cat = np.array([v[2] for v in _PARKING.values()])
    for c in province.counties:
        rng = county_rng(province.seed, "parking_lots", c.index)
        n = count(67 * weight(c), 3, province.scale)
        met = rng.random() < 0.4
        share = rng.uniform(0.265, 0.32) if met else rng.uniform(0.08, 0.235)
        start = len(rows)
        for k in range(n):
            cat = str(rng.choice(cats, p=p_cat / p_cat.sum()))
            label, median, _ = _PARKING[cat]
            rural = rng.random() < 0.2 or (cat == "tourism" and rng.random() < 0.6)
            p = province.in_country(rng, c)[0] if rural else province.in_town(rng, c, 1)[0]
            spaces = int(np.clip(round(rng.lognormal(math.log(median), 0.6)), 30, 800))
            chargers = min(spaces, int(spaces * share * rng.uniform(0.6, 1.4)))
            rows.append({"name": f"{c.name}{label}停车场{k + 1:02d}", "category": cat, "spaces": spaces,
                         "charger_spaces": chargers, "geometry": p})
        mine = rows[start:]
        total = sum(r["spaces"] for r in mine)
        target = math.ceil(0.25 * total) if met else math.floor(0.249 * total)
        have = sum(r["charger_spaces"] for r in mine)
        for r in sorted(mine, key=lambda r: -r["spaces"]):  # move the total to its side of 25 %
            if met and have < target:
                add = min(target - have, r["spaces"] - r["charger_spaces"])
                r["charger_spaces"] += add
                have += add
            elif not met and have > target:
                cut = min(have - target, r["charger_spaces"])
                r["charger_spaces"] -= cut
                have -= cut
    return frame(rows, ["id", "name", "category", "spaces", "charger_spaces"], "PL")


def service_areas(province: Province) -> gpd.GeoDataFrame:
    rng = province_rng(province.seed, "service_areas")
    rows: list[dict] = []
    taken: dict[str, int] = {}
    for code, parts in province.expressways.items():
        for part in parts:
            d = rng.uniform(8000.0, 20000.0)
            while d < part.length - 4000.0:
                p = part.interpolate(d)
                c = province.counties[int(province.counties_of(np.array([[p.x, p.y]]))[0])]
                fast = bool(rng.random() < 0.75)
                rows.append({"name": _unique(f"{c.short}服务区", taken), "expressway": EXPRESSWAYS[code][0],
                             "fast_charging": fast, "fast_chargers": int(rng.integers(2, 9)) if fast else 0, "geometry": p})
                d += rng.uniform(35000.0, 45000.0)
    return frame(rows, ["id", "name", "expressway", "fast_charging", "fast_chargers"], "SA")


def charging_hubs(province: Province) -> gpd.GeoDataFrame:
    cn = {"bus_depot": "公交场站", "passenger_hub": "客运枢纽", "logistics_park": "物流园区"}
    rows: list[dict] = []
    for c in province.counties:
        rng = county_rng(province.seed, "charging_hubs", c.index)
        kinds = ["bus_depot"] + [str(k) for k in rng.choice(list(cn), size=count(4 * weight(c) - 1, 0, province.scale),
                                                             p=[0.3, 0.35, 0.35])]
        for k, kind in enumerate(kinds):
            has = k == 0 and rng.random() < 0.9 or k > 0 and rng.random() < 0.82
            hi = 60 if kind == "bus_depot" else 30
            rows.append({"name": f"{c.name}{cn[kind]}{k + 1:02d}", "kind": kind, "has_charger": bool(has),
                         "chargers": int(rng.integers(4, hi + 1)) if has else 0,
                         "geometry": province.in_town(rng, c, 1)[0]})
    return frame(rows, ["id", "name", "kind", "has_charger", "chargers"], "HB")


def fleet(province: Province) -> pd.DataFrame:
    """Buses and cruising taxis per county: all new-energy (but emergency vehicles) in about 40 % of the counties."""
    rows = []
    for vt, base in (("bus", 90), ("taxi", 190)):
        for c in province.counties:
            rng = county_rng(province.seed, f"fleet-{vt}", c.index)
            v = int(round(base * weight(c) * rng.uniform(0.85, 1.15)))
            emergency = int(rng.integers(0, max(1, round(0.03 * v)) + 1))
            available = v - emergency
            nev = available if rng.random() < 0.4 else int(round(available * rng.uniform(0.55, 0.93)))
            rows.append({"id": f"FL-{c.id}-{vt}", "county_id": c.id, "vehicle_type": vt, "vehicles": v,
                         "nev_vehicles": nev, "emergency_vehicles": emergency})
    return pd.DataFrame(rows, columns=["id", "county_id", "vehicle_type", "vehicles", "nev_vehicles", "emergency_vehicles"])


# ----------------------------------------------------------------------------------
# Heating
# ----------------------------------------------------------------------------------

_HEAT_CN = {"chp": "热电厂", "coal_boiler": "燃煤锅炉房", "gas_boiler": "燃气锅炉房", "heat_pump": "热泵供热站",
            "industrial_waste_heat": "工业余热供热站", "biomass": "生物质供热站", "electric": "电采暖站", "geothermal": "地热供热站"}
_HEAT_AREA = {"coal_boiler": (1e4, 1.5e5), "gas_boiler": (2e4, 4e5), "heat_pump": (1e4, 2e5), "industrial_waste_heat": (1e5, 1.2e6),
              "biomass": (1e4, 1.5e5), "electric": (1e4, 8e4), "geothermal": (2e4, 3e5)}


def heating_network(province: Province) -> tuple[gpd.GeoDataFrame, dict[str, list[LineString]], dict[str, Point]]:
    """District-heating lines in the towns north of the Huai River that heat (every city district, about half the
    counties); returns the layer, the lines per county and the CHP site per county."""
    rows: list[dict] = []
    lines: dict[str, list[LineString]] = {}
    chp: dict[str, Point] = {}
    spacing = network_spacing(province.scale)
    for c in province.counties:
        if not c.heating:
            continue
        rng = county_rng(province.seed, "heating_network", c.index)
        bu = c.builtup
        ring = shapely.difference(bu, bu.buffer(-900.0))
        site = Point(*sample_in(rng, ring if not ring.is_empty else bu, 1)[0])
        segs, _ = grid_segments(rng, bu.buffer(-100.0), (650.0 * spacing, 950.0 * spacing))
        pts = sample_in(rng, bu, 200)
        r70 = float(np.quantile(np.hypot(pts[:, 0] - c.seat.x, pts[:, 1] - c.seat.y), rng.uniform(0.6, 0.8)))
        keep = [s for s in segs if s.interpolate(0.5, normalized=True).distance(c.seat) <= r70 and rng.random() > 0.12]
        corner = (site.x, c.seat.y) if rng.random() < 0.5 else (c.seat.x, site.y)
        trunk = LineString([(site.x, site.y), corner, (c.seat.x, c.seat.y)])
        keep = [*line_parts(shapely.intersection(trunk, bu.buffer(50.0))), *keep]
        lines[c.id], chp[c.id] = keep, site
        rows += [{"network_id": f"HN-{c.id}", "name": f"{c.name}集中供热管网", "geometry": s} for s in keep]
    return frame(rows, ["id", "network_id", "name"], "HL"), lines, chp


def heat_sources(province: Province, lines: dict[str, list[LineString]], chp: dict[str, Point],
                 villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Heat sources now, with ``status_2023``, ``status_2020`` and ``kind_2020``/``kind_2023`` for the history.

    A CHP in every heating town (a fifth not ultra-low); coal boilers, about half within a kilometre of a network;
    clean sources in town and country; the loose coal of urban-village blocks and villages and the farm coal,
    replaced by now in part (every one of a kind in about half the counties).
    """
    rows: list[dict] = []
    village_county = province.counties_of(np.column_stack([villages.geometry.x, villages.geometry.y])) if len(villages) \
        else np.zeros(0, dtype=int)
    for c in province.counties:
        rng = county_rng(province.seed, "heat_sources", c.index)
        net_lines = lines.get(c.id, [])
        net = shapely.union_all(net_lines) if net_lines else None
        start = len(rows)

        def add(kind: str, p: Point, area: float, ultra_low: bool, name: str | None = None,
                rng: np.random.Generator = rng, c: County = c) -> dict:
            w_per_m2 = rng.uniform(60.0, 80.0) if kind == "chp" else rng.uniform(40.0, 60.0)
            row = {"kind": kind, "capacity_mw": round(area * w_per_m2 / 1e6, 1), "heated_area_m2": float(round(area, -2)),
                   "area_type": "urban" if c.builtup.contains(p) else "rural", "ultra_low": ultra_low, "status": "operating",
                   "name": name, "geometry": p}
            rows.append(row)
            return row

        if c.id in chp:
            add("chp", chp[c.id], rng.uniform(1.0e6, 4.5e6), bool(rng.random() < 0.8))
        for _ in range(count(4 * weight(c), 1, province.scale)):
            if net is not None and rng.random() < 0.5:
                ln = net_lines[int(rng.integers(len(net_lines)))]
                p = province.near(rng, c, ln.interpolate(rng.uniform(0, ln.length)), 150.0, 850.0)
            else:
                p = province.in_country(rng, c, 1200.0)[0]
            add("coal_boiler", p, rng.uniform(*_HEAT_AREA["coal_boiler"]), False)
        for k in range(count(15 * weight(c), 2, province.scale)):
            urban = k % 2 == 0
            kinds = (["gas_boiler", "heat_pump", "industrial_waste_heat", "electric", "geothermal", "biomass"], [0.35, 0.25, 0.12, 0.13, 0.1, 0.05]) \
                if urban else (["biomass", "heat_pump", "electric", "gas_boiler", "geothermal"], [0.25, 0.25, 0.25, 0.15, 0.1])
            kind = str(rng.choice(kinds[0], p=kinds[1]))
            p = province.in_town(rng, c, 1)[0] if urban else province.in_country(rng, c, 1500.0)[0]
            add(kind, p, rng.uniform(*_HEAT_AREA[kind]), True)
        # loose coal: urban-village blocks (mostly near the network), villages' stoves; farm coal
        for j in range(count(5 * weight(c), 1, province.scale)):
            if net is not None and rng.random() < 0.75:
                ln = net_lines[int(rng.integers(len(net_lines)))]
                p = province.near(rng, c, ln.interpolate(rng.uniform(0, ln.length)), 80.0, 700.0, c.builtup.contains)
            else:
                p = province.in_town(rng, c, 1)[0]
            add("loose_coal", p, rng.uniform(1.0e4, 5.0e4), False, f"{c.name}城中村{j + 1:02d}片区散煤")
        mine = np.flatnonzero(np.asarray(village_county) == c.index)
        for i in rng.choice(mine, size=min(len(mine), count(30 * weight(c), 2, province.scale)), replace=False):
            v = villages.iloc[int(i)]
            add("loose_coal", v.geometry, v["households"] * rng.uniform(0.35, 0.9) * rng.uniform(80.0, 120.0), False,
                f"{v['name']}散煤")
        facilities = ["烤烟房", "食用菌烘干房", "设施大棚", "畜禽养殖场", "农产品加工厂"]
        for j in range(count(10, 1, province.scale)):
            row = add("agri_coal", province.in_country(rng, c, 3000.0)[0], 0.0, False,
                      f"{c.name}{facilities[int(rng.integers(len(facilities)))]}燃煤设施{j + 1:02d}")
            row["capacity_mw"] = round(rng.uniform(0.1, 2.0), 1)
        mine_rows = rows[start:]
        coal = [r for r in mine_rows if r["kind"] in ("loose_coal", "agri_coal")]
        replaced = complete_or_not(rng, [r["kind"] for r in coal], (0.3, 0.8)) if coal else np.zeros(0, dtype=bool)
        progress = rng.uniform(0.3, 0.9)
        back = rng.uniform(0.15, 0.45)  # share of the clean sources that were coal boilers in 2020
        for r in mine_rows:
            r["status_2020"] = r["status_2023"] = "operating"
            r["kind_2020"] = r["kind_2023"] = r["kind"]
            if r["kind"] in _HEAT_CN and r["kind"] not in ("chp", "coal_boiler") and rng.random() < back:
                r["kind_2020"] = "coal_boiler"
                r["kind_2023"] = "coal_boiler" if rng.random() > progress else r["kind"]
        for r, flag in zip(coal, replaced, strict=True):
            if flag:
                r["status"] = "replaced"
                r["status_2023"] = "replaced" if rng.random() < progress else "operating"
            if r["kind"] == "loose_coal":
                r["capacity_mw"] = float(max(0.1, round(r["heated_area_m2"] * rng.uniform(70.0, 100.0) / 1e6, 1)))
        counter: dict[str, int] = {}
        for r in mine_rows:
            if r["name"] is None:
                counter[r["kind"]] = counter.get(r["kind"], 0) + 1
                r["name"] = f"{c.name}{_HEAT_CN[r['kind']]}{counter[r['kind']]:02d}"
    return frame(rows, ["id", "name", "kind", "capacity_mw", "heated_area_m2", "area_type", "ultra_low", "status",
                        "status_2023", "status_2020", "kind_2023", "kind_2020"], "HS")


# ----------------------------------------------------------------------------------
# Sewage, outfalls, waste
# ----------------------------------------------------------------------------------

_ORDINAL = ["第一", "第二", "第三", "第四"]
SLUDGE_ROUTES = ("incineration", "co_disposal", "land_use", "landfill")


def sewage_plants(province: Province) -> gpd.GeoDataFrame:
    """A plant or more per town: collection 66-79 % of the sewage generated; treatment short of 98 % in about a
    third of the counties; ``collected_2020``/``collected_2023`` for the history; a plant built since 2021 in
    some counties, one of them without a sludge route."""
    rows: list[dict] = []
    for c in province.counties:
        rng = county_rng(province.seed, "sewage_plants", c.index)
        k = 1 + int(c.builtup.area > 40e6) + int(c.builtup.area > 80e6)
        flow = c.builtup.area / 1e6 * rng.uniform(1800.0, 2600.0)
        collect = rng.uniform(0.66, 0.79)
        treat = rng.uniform(0.925, 0.968) if rng.random() < 0.33 else rng.uniform(0.984, 1.0)
        shares = rng.dirichlet(np.full(k, 4.0))
        ring = shapely.difference(c.builtup, c.builtup.buffer(-1000.0))
        drop = rng.uniform(0.02, 0.08)  # collection rate gained since 2020
        progress = rng.uniform(0.25, 0.95)
        for i in range(k):
            p = Point(*sample_in(rng, ring if not ring.is_empty else c.builtup, 1)[0])
            gen = flow * shares[i]
            col = math.floor(gen * np.clip(collect + rng.uniform(-0.015, 0.015), 0.6, 0.85))
            tre = math.floor(col * min(1.0, treat + rng.uniform(-0.004, 0.004)))
            rec = math.floor(tre * rng.uniform(0.20, 0.35))
            sludge = round(tre / 1e4 * rng.uniform(5.0, 9.0), 1)
            safe = sludge if rng.random() < 0.3 else math.floor(sludge * rng.uniform(0.93, 1.0) * 10) / 10
            cap = int(math.ceil(tre / rng.uniform(0.72, 0.95) / 5000.0) * 5000)
            new = i > 0 and rng.random() < 0.5
            year = int(rng.integers(2021, 2025)) if new else int(rng.integers(1995, 2013) if i == 0 else rng.integers(2005, 2020))
            route = str(rng.choice([*SLUDGE_ROUTES, "none"], p=[0.15, 0.25, 0.2, 0.3, 0.1]))
            if new:
                route = "none" if rng.random() < 0.3 else str(rng.choice(["co_disposal", "incineration"]))
            rate_then = max(0.4, col / gen - drop)
            rows.append({"name": f"{c.name}{_ORDINAL[i] if k > 1 else ''}污水处理厂", "capacity_m3_d": cap,
                         "generated_m3_d": int(math.ceil(gen)), "collected_m3_d": int(col), "treated_m3_d": int(tre),
                         "reclaimed_m3_d": int(rec), "sludge_t_d": float(sludge), "sludge_safe_t_d": float(safe),
                         "year_built": year, "sludge_route": None if route == "none" else route,
                         "collected_2020": int(gen * rate_then), "collected_2023": int(gen * (rate_then + (col / gen - rate_then) * progress)),
                         "county": c.id, "geometry": p})
    return frame(rows, ["id", "name", "capacity_m3_d", "generated_m3_d", "collected_m3_d", "treated_m3_d", "reclaimed_m3_d",
                        "sludge_t_d", "sludge_safe_t_d", "year_built", "sludge_route", "collected_2020", "collected_2023",
                        "county"], "SP")


def sewer_network(province: Province, plants: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sewers over each town with one or two blank patches, a part without a plant in about a third of the towns;
    sewers in most parks, none in about a tenth of those away from the towns.  The grid widens with a small scale
    only so far that every point stays within the 300 m collection distance of a sewer: the blank areas stay the
    drawn ones."""
    spacing = min(network_spacing(province.scale), 1.15)
    by_county: dict[str, list[tuple[str, Point]]] = {}
    for pid, county, g in zip(plants["id"], plants["county"], plants.geometry, strict=True):
        by_county.setdefault(county, []).append((pid, g))
    rows: list[dict] = []

    def plant_for(p: Point, county: str) -> str:
        return min(by_county[county], key=lambda q: q[1].distance(p))[0]

    for c in province.counties:
        rng = county_rng(province.seed, "sewer_network", c.index)
        bu = c.builtup
        holes = []
        for _ in range(int(rng.integers(1, 3))):
            r = math.sqrt(rng.uniform(0.2, 0.9) * 1e6 / math.pi)
            region = bu.buffer(-0.8 * r)
            holes.append(Point(*sample_in(rng, region if not region.is_empty else bu, 1)[0]).buffer(r + 300.0))
        orphan = None
        if rng.random() < 0.33:
            ring = shapely.difference(bu, bu.buffer(-600.0))
            orphan = Point(*sample_in(rng, ring if not ring.is_empty else bu, 1)[0]).buffer(rng.uniform(450.0, 700.0))
        segs, trunk = grid_segments(rng, bu.buffer(80.0), (300.0 * spacing, 470.0 * spacing))
        cut = shapely.union_all(holes)
        for s, t in zip(segs, trunk, strict=True):
            for part in line_parts(shapely.difference(s, cut)) if cut.intersects(s) else [s]:
                if part.length <= 15.0:
                    continue
                mid = part.interpolate(0.5, normalized=True)
                pid = None if orphan is not None and orphan.contains(mid) else plant_for(mid, c.id)
                rows.append({"plant_id": pid, "diameter_mm": int(rng.choice([800, 1000, 1200] if t else [300, 400, 500, 600])),
                             "geometry": part})
    rng = province_rng(province.seed, "park_sewers")
    for park in province.parks:
        far = park["kind"] not in ("management_zone", "hightech_zone") and \
            not park["geometry"].intersects(province.by_id[park["county"]].builtup.buffer(600.0))
        if far and rng.random() < 0.1:
            continue
        segs, trunk = grid_segments(rng, park["geometry"], (300.0 * spacing, 470.0 * spacing))
        for s, t in zip(segs, trunk, strict=True):
            rows.append({"plant_id": plant_for(s.interpolate(0.5, normalized=True), park["county"]),
                         "diameter_mm": int(rng.choice([800, 1000] if t else [300, 400, 500])), "geometry": s})
    return frame(rows, ["id", "plant_id", "diameter_mm"], "SW")


def _river_of(province: Province, c: County) -> tuple[str, bool, LineString]:
    """The river nearest the county seat: name, tributary of the Yellow River, line."""
    name, line, yellow = min(province.rivers, key=lambda r: r[1].distance(c.seat))
    return name, yellow and name != "黄河", line


def outfalls(province: Province, plants: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cn = {"direct_discharge": "直排口", "plant_outlet": "排口", "stormwater": "雨水排口", "industrial": "工业排口"}
    rows: list[dict] = []
    for c in province.counties:
        rng = county_rng(province.seed, "outfalls", c.index)
        river, tributary, _ = _river_of(province, c)
        outside = _away(c.builtup, 60.0)
        for name, g in zip(plants["name"], plants.geometry, strict=True):
            if name.startswith(c.name):
                rows.append({"name": f"{name}排口", "kind": "plant_outlet", "river": river, "yellow_tributary": tributary,
                             "remediated": True, "geometry": province.near(rng, c, g, 400.0, 2500.0, outside)})
        if rng.random() < 0.4:
            inner = c.builtup.buffer(-150.0)
            p = Point(*sample_in(rng, inner if not inner.is_empty else c.builtup, 1)[0])
            rows.append({"name": None, "kind": "direct_discharge", "river": river, "yellow_tributary": tributary,
                         "remediated": False, "geometry": p})
        edge = c.builtup.exterior
        parks = province.parks_of(c)
        for _ in range(count(5 * weight(c), 1, province.scale)):
            kind = str(rng.choice(["stormwater", "industrial", "direct_discharge"], p=[0.35, 0.3, 0.35]))
            if kind == "stormwater":  # at the town's edge
                p = province.near(rng, c, edge.interpolate(rng.uniform(0.0, edge.length)), 80.0, 800.0, outside)
            elif kind == "industrial" and parks:
                park = parks[int(rng.integers(len(parks)))]
                p = province.near(rng, c, park["geometry"].representative_point(), 200.0, 2500.0, outside)
            else:  # a village's or a works' direct discharge in the country
                p = province.in_country(rng, c, 1200.0)[0]
            rows.append({"name": None, "kind": kind, "river": river, "yellow_tributary": tributary,
                         "remediated": bool(rng.random() < (0.9 if tributary else 0.8)), "geometry": p})
        counter: dict[str, int] = {}
        for r in rows:
            if r["name"] is None:
                counter[r["kind"]] = counter.get(r["kind"], 0) + 1
                r["name"] = f"{r['river']}{c.short}{cn[r['kind']]}{counter[r['kind']]:02d}"
    return frame(rows, ["id", "name", "kind", "river", "yellow_tributary", "remediated"], "OF")


def waste_facilities(province: Province) -> gpd.GeoDataFrame:
    """Per city one or two incineration plants near its centre and landfills in some of its counties: incineration
    85-97 % of the capacity."""
    rows: list[dict] = []
    rng = province_rng(province.seed, "waste_facilities")
    for city_id, city_name in zip(province.cities["id"], province.cities["name"], strict=True):
        members = [c for c in province.counties if c.city_id == city_id]
        hosts = [members[int(i)] for i in rng.choice(len(members), size=min(len(members), int(rng.integers(1, 3))), replace=False)]
        caps = []
        for k, c in enumerate(hosts):
            cap = float(round(rng.uniform(800, 2500) if k == 0 else rng.uniform(300, 900), -1))
            caps.append(cap)
            rows.append({"name": f"{city_name if k == 0 else c.name}生活垃圾焚烧发电厂",
                         "kind": "incineration", "capacity_t_d": cap,
                         "geometry": province.near(rng, c, c.seat, 3000.0, 10000.0, _away(c.builtup, 300.0))})
        share = rng.uniform(0.85, 0.97)
        rest = [c for c in members if c not in hosts]
        sites = [rest[int(i)] for i in rng.choice(len(rest), size=min(len(rest), int(rng.integers(1, 4))), replace=False)] \
            if rest else hosts[:1]
        parts = rng.dirichlet(np.full(len(sites), 3.0)) * sum(caps) * (1 - share) / share
        for c, cap in zip(sites, parts, strict=True):
            rows.append({"name": f"{c.name}生活垃圾卫生填埋场", "kind": "landfill", "capacity_t_d": float(round(cap, 1)),
                         "geometry": province.near(rng, c, c.seat, 3000.0, 12000.0, _away(c.builtup, 300.0))})
    return frame(rows, ["id", "name", "kind", "capacity_t_d"], "WF")


# ----------------------------------------------------------------------------------
# Projects, factories, two-high ledger, buildings, institutions, energy users
# ----------------------------------------------------------------------------------

_TARGET_T = {"cod_t": 2300.0, "nh3n_t": 34.0, "nox_t": 6231.0, "vocs_t": 1252.0}
_PROJECT_NAMES = {"sewage": "城镇污水处理提质增效工程", "heating": "集中供热燃煤锅炉替代工程", "transport": "公交车新能源替代与柴油货车治理工程",
                  "agriculture": "畜禽养殖粪污资源化利用工程", "industry": "工业污染深度治理工程"}
_PROJECT_POLLUTANTS: dict[str, list[tuple[str, ...]]] = {"industry": [("vocs_t",), ("nox_t",), ("cod_t", "nh3n_t"), ("nox_t", "vocs_t")],
                       "sewage": [("cod_t", "nh3n_t")], "heating": [("nox_t",)], "transport": [("nox_t",), ("nox_t", "vocs_t")],
                       "agriculture": [("cod_t", "nh3n_t")]}


def key_projects(province: Province) -> gpd.GeoDataFrame:
    """Key emission-reduction projects: the completed ones add up, over the province, to a little more than the
    reference targets of COD and VOCs and a little less of NH3-N and NOx (the city-level spec targets)."""
    rows: list[dict] = []
    sectors = list(_PROJECT_POLLUTANTS)
    for c in province.counties:
        rng = county_rng(province.seed, "key_projects", c.index)
        parks = province.parks_of(c)
        for _ in range(count(10 * weight(c), 1, province.scale)):
            s = str(rng.choice(sectors, p=[0.34, 0.2, 0.16, 0.14, 0.16]))
            pols = _PROJECT_POLLUTANTS[s][int(rng.integers(len(_PROJECT_POLLUTANTS[s])))]
            status = str(rng.choice(["completed", "under_construction", "planned"], p=[0.6, 0.25, 0.15]))
            if s == "industry" and parks:
                park = parks[int(rng.integers(len(parks)))]
                p, label = province.park_point(rng, park), f"{park['name']}{_PROJECT_NAMES[s]}"
            elif s == "agriculture":
                p, label = province.in_country(rng, c)[0], f"{c.name}{_PROJECT_NAMES[s]}"
            else:
                p, label = province.in_town(rng, c, 1)[0], f"{c.name}{_PROJECT_NAMES[s]}"
            year = {"completed": int(rng.integers(2021, 2026)), "under_construction": int(rng.integers(2023, 2026)),
                    "planned": 2025}[status]
            rows.append({"name": label, "sector": s, "status": status, "year": year, "pols": pols, "geometry": p})
    rng = province_rng(province.seed, "key_project_values")
    done = np.array([r["status"] == "completed" for r in rows])
    for col, target in _TARGET_T.items():
        has = np.array([col in r["pols"] for r in rows])
        values = np.zeros(len(rows))
        for mask, frac in ((has & done, rng.uniform(1.04, 1.12) if col in ("cod_t", "vocs_t") else rng.uniform(0.88, 0.97)),
                           (has & ~done, rng.uniform(0.15, 0.35))):
            idx = np.flatnonzero(mask)
            if idx.size:
                wts = rng.dirichlet(np.full(idx.size, 2.0))
                values[idx] = np.floor(wts * target * frac * 1000.0) / 1000.0
        for r, v in zip(rows, values, strict=True):
            r[col] = float(round(v, 3))
    return frame(rows, ["id", "name", "sector", "cod_t", "nh3n_t", "nox_t", "vocs_t", "status", "year"], "KP")


def green_factories(province: Province) -> gpd.GeoDataFrame:
    trades = ["新材料", "化工", "铝业", "食品", "金属", "能源", "建材", "电子", "医药", "装备", "纺织", "汽车零部件"]
    rows: list[dict] = []
    for c in province.counties:
        rng = county_rng(province.seed, "green_factories", c.index)
        parks = province.parks_of(c)
        if parks and rng.random() < 0.15:
            park = parks[int(rng.integers(len(parks)))]
            rows.append({"name": park["name"], "kind": "park", "geometry": park["geometry"].representative_point()})
        for _ in range(int(rng.poisson(1.0 * weight(c) * min(province.scale, 1.0) ** 0.5))):
            where = parks[int(rng.integers(len(parks)))] if parks and rng.random() < 0.7 else None
            p = province.park_point(rng, where) if where else province.in_town(rng, c, 1)[0]
            rows.append({"name": f"{c.short}{_BRANDS[int(rng.integers(len(_BRANDS)))]}{trades[int(rng.integers(len(trades)))]}有限公司",
                         "kind": "factory", "geometry": p})
        for r in rows:
            if "level" not in r:
                r["level"] = "national" if rng.random() < 0.35 else "provincial"
                r["year"] = int(rng.integers(2021, 2026))
    taken: dict[str, int] = {}
    for r in rows:
        r["name"] = _unique(r["name"], taken)
    return frame(rows, ["id", "name", "kind", "level", "year"], "GF")


_SECTORS: dict[str, tuple[str, float | None, tuple[tuple[float, float], tuple[float, float]], tuple[float, float]]] = {
    "coal_power": ("燃煤发电机组", 297.0, ((280.0, 296.5), (298.0, 318.0)), (3.0e5, 1.5e6)),
    "cement_clinker": ("水泥熟料生产线", 104.0, ((96.0, 103.8), (104.5, 116.0)), (5.0e4, 2.0e5)),
    "ethylene": ("乙烯装置", 780.0, ((700.0, 778.0), (785.0, 880.0)), (5.0e4, 3.0e5)),
    "coal_olefins": ("煤制烯烃项目", 4000.0, ((3500.0, 3990.0), (4020.0, 4500.0)), (4.0e5, 1.5e6)),
    "data_centre": ("数据中心", 1.3, ((1.15, 1.29), (1.31, 1.65)), (5.0e3, 6.0e4)),
    "electrolytic_aluminium": ("电解铝项目", None, ((12900.0, 13600.0), (12900.0, 13600.0)), (3.0e5, 1.0e6)),
    "glass": ("平板玻璃生产线", None, ((11.0, 16.0), (11.0, 16.0)), (3.0e4, 1.2e5)),
}
_NEW_CAPACITY = ("cement_clinker", "electrolytic_aluminium", "glass")


def two_high_projects(province: Province) -> gpd.GeoDataFrame:
    """The energy- and emission-intensive project ledger, in the counties' parks: some beat their benchmark,
    some not; some new ones have their coal offset and capacity replacement secured, some not."""
    rows: list[dict] = []
    sectors = list(_SECTORS)
    first: dict[str, str] = {}
    for c in province.counties:  # at least one project in a county of each city, at any scale
        first.setdefault(c.city_id, c.id)
    for c in province.counties:
        rng = county_rng(province.seed, "two_high_projects", c.index)
        parks = province.parks_of(c)
        for k in range(count(5 * weight(c), int(first[c.city_id] == c.id), province.scale)):
            sector = str(rng.choice(sectors, p=[0.12, 0.24, 0.04, 0.08, 0.16, 0.16, 0.2]))
            stage = str(rng.choice(["existing", "under_construction", "proposed"], p=[0.6, 0.2, 0.2]))
            label, benchmark, (ok, bad), energy = _SECTORS[sector]
            unit = rng.uniform(*(ok if rng.random() < 0.55 else bad))
            p = province.park_point(rng, parks[int(rng.integers(len(parks)))]) if parks else province.in_country(rng, c)[0]
            new = stage != "existing"
            rows.append({
                "name": f"{c.short}{_BRANDS[int(rng.integers(len(_BRANDS)))]}{label}{k + 1:02d}", "sector": sector, "stage": stage,
                "energy_tce": float(round(rng.uniform(*energy), -2)),
                "unit_energy": float(round(unit, 2 if benchmark is not None and benchmark < 10 else 1)),
                "ultra_low": bool(stage != "existing" or rng.random() < 0.7) if sector in ("coal_power", "cement_clinker") else None,
                "coal_offset_secured": bool(rng.random() < 0.65) if new else None,
                "retrofitted": bool(stage == "existing" and rng.random() < 0.55) if sector == "coal_power" else None,
                "capacity_replaced": bool(rng.random() < 0.6) if new and sector in _NEW_CAPACITY else None,
                "geometry": p})
    gdf = frame(rows, ["id", "name", "sector", "stage", "energy_tce", "unit_energy", "ultra_low", "coal_offset_secured",
                       "retrofitted", "capacity_replaced"], "TH")
    for column in ("ultra_low", "coal_offset_secured", "retrofitted", "capacity_replaced"):
        gdf[column] = gdf[column].astype("boolean")
    return gdf


_ESTATES = ["锦绣", "阳光", "滨河", "嵩山", "中原", "黄河", "丽景", "御景", "翠苑", "和园", "华府", "新城", "东方", "建业", "正商", "金地"]


def new_buildings(province: Province) -> gpd.GeoDataFrame:
    """Buildings completed 2021-2025: every new urban building green in about 40 % of the counties, some not in the
    others (one completed in 2025); a few ultra-low, near-zero and zero-carbon demonstrations."""
    urban_kinds = ["住宅小区", "住宅小区", "安置小区", "商业综合体", "办公楼", "学校教学楼", "医院门诊楼"]
    rural_kinds = ["农村住宅", "乡镇卫生院", "乡镇中心学校", "村级活动中心"]
    rows: list[dict] = []
    taken: dict[str, int] = {}
    for c in province.counties:
        rng = county_rng(province.seed, "new_buildings", c.index)
        n = count(70 * weight(c), 3, province.scale)
        n_urban = max(2, int(round(n * 0.8)))
        start = len(rows)
        for p in province.in_town(rng, c, n_urban):
            kind = urban_kinds[int(rng.integers(len(urban_kinds)))]
            rows.append({"name": _unique(f"{c.short}{_ESTATES[int(rng.integers(len(_ESTATES)))]}{kind}", taken), "urban": True,
                         "year": int(rng.integers(2021, 2026)),
                         "floor_m2": float(round(np.clip(rng.lognormal(math.log(45000.0), 0.7), 3000.0, 400000.0), -1)),
                         "green_star": int(rng.choice([1, 2, 3], p=[0.7, 0.25, 0.05])), "energy_class": "standard", "geometry": p})
        if rng.random() >= 0.4:
            idx = np.arange(start, len(rows))
            plain = rng.choice(idx, size=max(1, int(round(len(idx) * rng.uniform(0.06, 0.2)))), replace=False)
            for j in plain:
                rows[int(j)]["green_star"] = 0
            rows[int(plain[0])]["year"] = 2025
        if rng.random() < 0.25:
            cand = [i for i in range(start, len(rows)) if rows[i]["green_star"] > 0]
            if cand:
                r = rows[int(rng.choice(cand))]
                r["energy_class"] = str(rng.choice(["ultra_low", "near_zero", "zero_carbon"], p=[0.5, 0.35, 0.15]))
                r["green_star"] = max(2, r["green_star"])
        for _ in range(n - n_urban):
            kind = rural_kinds[int(rng.integers(len(rural_kinds)))]
            rows.append({"name": _unique(f"{c.short}{kind}", taken), "urban": False, "year": int(rng.integers(2021, 2026)),
                         "floor_m2": float(round(np.clip(rng.lognormal(math.log(1200.0), 0.6), 200.0, 8000.0), -1)),
                         "green_star": int(rng.choice([0, 1], p=[0.85, 0.15])), "energy_class": "standard",
                         "geometry": province.in_country(rng, c)[0]})
        for r in rows[start:]:
            r["green_standard"] = bool(r["green_star"] > 0 or (r["urban"] and rng.random() < 0.3))
    return frame(rows, ["id", "name", "urban", "year", "floor_m2", "green_standard", "green_star", "energy_class"], "NB")


_INSTITUTIONS = {
    "agency": ["人民政府", "发展和改革委员会", "财政局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局",
               "教育局", "卫生健康委员会", "市场监督管理局", "机关事务管理局", "统计局"],
    "school": ["第一中学", "第二中学", "实验小学", "第一小学", "职业技术学校", "实验中学"],
    "hospital": ["人民医院", "中医院", "妇幼保健院", "疾病预防控制中心"],
    "other": ["图书馆", "博物馆", "体育中心", "文化馆", "档案馆"],
}


def public_institutions(province: Province) -> gpd.GeoDataFrame:
    """Agencies, schools, hospitals and others; at least 80 % of the county-level agencies meet the conservation
    criteria in about half the counties, fewer in the others."""
    rows: list[dict] = []
    taken: dict[str, int] = {}
    spaces_range = {"agency": (30, 300), "school": (20, 200), "hospital": (100, 800), "other": (10, 150)}
    for c in province.counties:
        rng = county_rng(province.seed, "public_institutions", c.index)
        n = count(50 * weight(c), 6, province.scale)
        n_agency = max(2, int(round(n * 0.27)))
        start = len(rows)
        for k in range(n):
            kind = "agency" if k < n_agency else str(rng.choice(["agency", "school", "hospital", "other"], p=[0.1, 0.45, 0.18, 0.27]))
            level = "county_and_above" if k < n_agency or rng.random() < 0.6 else "township"
            p, town = (province.in_town(rng, c, 1)[0], None) if level == "county_and_above" else province.in_country(rng, c, 1500.0)
            base = _INSTITUTIONS[kind][int(rng.integers(len(_INSTITUTIONS[kind])))]
            where = c.name if town is None else f"{c.short}{town + 1}号乡镇"
            rows.append({"name": _unique(f"{where}{base}", taken), "kind": kind, "level": level, "geometry": p})
        mine = rows[start:]
        top = [r for r in mine if r["kind"] == "agency" and r["level"] == "county_and_above"]
        met = rng.random() < 0.5
        k_ok = math.ceil(0.8 * len(top) - 1e-9) if met else max(0, math.ceil(0.8 * len(top) - 1e-9) - int(rng.integers(1, 3)))
        ok = set(rng.choice(len(top), size=min(k_ok, len(top)), replace=False).tolist())
        for i, r in enumerate(top):
            r["conservation_agency"] = i in ok
        retrofit, pv, nev = rng.uniform(0.3, 0.7), rng.uniform(0.15, 0.6), rng.uniform(0.03, 0.2)
        for r in mine:
            r.setdefault("conservation_agency", bool(r["kind"] == "agency" and rng.random() < 0.6))
            r["retrofitted"] = bool(rng.random() < retrofit)
            r["rooftop_pv_kw"] = float(round(np.clip(rng.lognormal(math.log(80.0), 0.8), 10.0, 800.0), 1)) if rng.random() < pv else 0.0
            lo, hi = spaces_range[r["kind"]]
            r["parking_spaces"] = int(rng.integers(lo, hi + 1)) if r["level"] == "county_and_above" else int(rng.integers(5, 40))
            r["nev_spaces"] = int(rng.binomial(r["parking_spaces"], nev))
    return frame(rows, ["id", "name", "kind", "level", "conservation_agency", "retrofitted", "rooftop_pv_kw", "parking_spaces",
                        "nev_spaces"], "PI")


_ENERGY_SECTORS = {"power": (0.08, "发电", (2.0e5, 1.5e6)), "chemical": (0.16, "化工", (1.0e4, 8.0e5)),
                   "nonferrous": (0.16, "有色金属", (1.0e4, 6.0e5)), "building_materials": (0.16, "建材", (1.0e4, 2.0e5)),
                   "food": (0.1, "食品", (5.0e3, 3.0e4)), "equipment": (0.1, "装备制造", (5.0e3, 3.0e4)),
                   "mining": (0.12, "矿业", (1.0e4, 1.0e5)), "public": (0.12, "公共机构", (5.0e3, 2.0e4))}


def key_energy_users(province: Province) -> gpd.GeoDataFrame:
    """Key energy users in the parks and towns: all monitored online (and all reports filed) in about half the
    counties, not all in the others."""
    rows: list[dict] = []
    sectors = list(_ENERGY_SECTORS)
    p = np.array([v[0] for v in _ENERGY_SECTORS.values()])
    taken: dict[str, int] = {}
    for c in province.counties:
        rng = county_rng(province.seed, "key_energy_users", c.index)
        parks = province.parks_of(c)
        start = len(rows)
        for _ in range(count(17 * weight(c), 1, province.scale)):
            sector = str(rng.choice(sectors, p=p / p.sum()))
            _, trade, (lo, hi) = _ENERGY_SECTORS[sector]
            where = parks[int(rng.integers(len(parks)))] if parks and sector != "public" and rng.random() < 0.75 else None
            point = province.park_point(rng, where) if where else province.in_town(rng, c, 1)[0]
            name = f"{c.name}人民医院" if sector == "public" else f"{c.short}{_BRANDS[int(rng.integers(len(_BRANDS)))]}{trade}有限公司"
            rows.append({"name": _unique(name, taken), "sector": sector, "geometry": point,
                         "energy_tce": float(round(math.exp(rng.uniform(math.log(lo), math.log(hi))), -1))})
        mine = rows[start:]
        online = complete_or_not(rng, ["c"] * len(mine), (0.6, 0.9), 0.5)
        filed = complete_or_not(rng, ["c"] * len(mine), (0.8, 0.95), 0.5)
        for r, a, b in zip(mine, online, filed, strict=True):
            r["online_monitoring"], r["report_filed"] = bool(a), bool(b)
    return frame(rows, ["id", "name", "sector", "energy_tce", "online_monitoring", "report_filed"], "EU")


# ----------------------------------------------------------------------------------
# Environment
# ----------------------------------------------------------------------------------

_POLLUTERS = {"chemical": (0.22, True, "化工"), "pharmaceutical": (0.08, True, "制药"), "surface_coating": (0.08, True, "涂装"),
              "printing": (0.05, True, "包装印刷"), "nonferrous_smelting": (0.15, False, "冶炼"),
              "building_materials": (0.12, False, "建材"), "power": (0.08, False, "热电"), "food": (0.1, False, "食品"),
              "livestock": (0.12, False, "养殖")}


def key_polluters(province: Province) -> gpd.GeoDataFrame:
    """Key pollutant-discharging units: every VOCs-related one monitored online and leak-checked in about half the
    counties, not all in the others."""
    rows: list[dict] = []
    sectors = list(_POLLUTERS)
    p = np.array([v[0] for v in _POLLUTERS.values()])
    taken: dict[str, int] = {}
    for c in province.counties:
        rng = county_rng(province.seed, "key_polluters", c.index)
        parks = province.parks_of(c)
        start = len(rows)
        for _ in range(count(20 * weight(c), 1, province.scale)):
            sector = str(rng.choice(sectors, p=p / p.sum()))
            _, vocs, trade = _POLLUTERS[sector]
            if sector == "livestock":
                point = province.in_country(rng, c, 3000.0)[0]
            elif parks and rng.random() < 0.8:
                point = province.park_point(rng, parks[int(rng.integers(len(parks)))])
            else:
                point = province.in_town(rng, c, 1)[0]
            rows.append({"name": _unique(f"{c.short}{_BRANDS[int(rng.integers(len(_BRANDS)))]}{trade}有限公司", taken),
                         "sector": sector, "vocs": vocs, "geometry": point})
        mine = rows[start:]
        voc_rows = [r for r in mine if r["vocs"]]
        online = complete_or_not(rng, ["c"] * len(voc_rows), (0.5, 0.85), 0.5)
        ldar = complete_or_not(rng, ["c"] * len(voc_rows), (0.5, 0.85), 0.5)
        for r, a, b in zip(voc_rows, online, ldar, strict=True):
            r["online_monitoring"], r["ldar"] = bool(a), bool(b)
        for r in mine:
            r.setdefault("online_monitoring", bool(rng.random() < 0.5))
            r.setdefault("ldar", False)
    return frame(rows, ["id", "name", "sector", "vocs", "online_monitoring", "ldar"], "PS")


def fuel_outlets(province: Province) -> gpd.GeoDataFrame:
    """Petrol stations in towns, along expressways and in the country; a fuel depot in some counties. Vapour
    recovery at every station in about half the counties."""
    rows: list[dict] = []
    for c in province.counties:
        rng = county_rng(province.seed, "fuel_outlets", c.index)
        roads = _expressway_near(province, c)
        start = len(rows)
        for k in range(count(41 * weight(c), 2, province.scale)):
            u = rng.random()
            if u < 0.5:
                point = province.in_town(rng, c, 1)[0]
            elif u < 0.6 and roads:
                ln = roads[int(rng.integers(len(roads)))]
                point = province.near(rng, c, ln.interpolate(rng.uniform(0, ln.length)), 60.0, 400.0)
            else:
                point = province.in_country(rng, c, 3000.0)[0]
            rows.append({"name": f"{c.short}加油站{k + 1:03d}", "kind": "petrol_station", "tankers": 0, "tankers_recovery": 0,
                         "geometry": point})
        if rng.random() < 0.35:
            tankers = int(rng.integers(4, 30))
            rows.append({"name": f"{c.name}储油库", "kind": "fuel_depot", "tankers": tankers,
                         "tankers_recovery": tankers if rng.random() < 0.5 else int(tankers * rng.uniform(0.5, 0.95)),
                         "geometry": province.near(rng, c, c.seat, 2000.0, 8000.0, _away(c.builtup))})
        mine = rows[start:]
        flags = complete_or_not(rng, ["c"] * len(mine), (0.8, 0.97), 0.5)
        for r, flag in zip(mine, flags, strict=True):
            r["vapour_recovery"] = bool(flag)
    return frame(rows, ["id", "name", "kind", "vapour_recovery", "tankers", "tankers_recovery"], "FO")


def water_sections(province: Province) -> gpd.GeoDataFrame:
    """Monitoring sections: where each river enters the province (provincial boundary), along the Yellow River
    (main stream) and on each river in each county it crosses (tributary); mostly class II-III, a few IV-V."""
    rng = province_rng(province.seed, "water_sections")
    rows: list[dict] = []
    taken: dict[str, int] = {}
    boundary = province.inner.boundary
    for name, line, _ in province.rivers:
        start = Point(line.coords[0])
        if start.distance(boundary) < 3000.0:
            rows.append({"river": name, "kind": "provincial_boundary", "label": "省界", "geometry": line.interpolate(1500.0)})
        step = 60000.0 if name == "黄河" else 45000.0
        d = rng.uniform(10000.0, 30000.0)
        while d < line.length - 5000.0:
            p = line.interpolate(d)
            c = province.counties[int(province.counties_of(np.array([[p.x, p.y]]))[0])]
            rows.append({"river": name, "kind": "main_stream" if name == "黄河" else "tributary", "label": c.short, "geometry": p})
            d += rng.uniform(0.7, 1.3) * step
    for r in rows:
        r["water_class"] = int(rng.choice([2, 3, 4, 5, 6], p=[0.35, 0.45, 0.14, 0.04, 0.02]))
        r["name"] = _unique(f"{r['river']}{r['label']}断面", taken)
    return frame(rows, ["id", "name", "river", "kind", "water_class"], "WQ")


def water_sources(province: Province) -> gpd.GeoDataFrame:
    """Drinking-water sources: a well field at each town, river intakes at the larger ones, township sources;
    standardised in full in about half the counties."""
    rows: list[dict] = []
    for c in province.counties:
        rng = county_rng(province.seed, "water_sources", c.index)
        start = len(rows)
        rows.append({"name": f"{c.name}城区地下水饮用水水源地", "kind": "groundwater",
                     "geometry": province.near(rng, c, c.seat, 2000.0, 6000.0, _away(c.builtup))})
        if c.builtup.area > 30e6:
            river, _, line = _river_of(province, c)
            if line.distance(c.seat) < 20000.0:
                p = line.interpolate(line.project(c.seat))
                rows.append({"name": f"{c.name}{river}饮用水水源地", "kind": "surface", "geometry": province.near(rng, c, p, 50.0, 300.0)})
        for _ in range(count(5 * c.area_km2 / 1050.0, 1, province.scale)):
            p, town = province.in_country(rng, c)
            kind = "groundwater" if rng.random() < 0.7 else "surface"
            rows.append({"name": f"{c.short}{town + 1}号乡镇{'地下水' if kind == 'groundwater' else '地表水'}饮用水水源地", "kind": kind,
                         "geometry": p})
        mine = rows[start:]
        flags = complete_or_not(rng, ["c"] * len(mine), (0.6, 0.9), 0.5)
        for r, flag in zip(mine, flags, strict=True):
            r["standardised"] = bool(flag)
            r["danjiangkou_catchment"] = c.name in DANJIANGKOU
    taken: dict[str, int] = {}
    for r in rows:
        r["name"] = _unique(r["name"], taken)
    return frame(rows, ["id", "name", "kind", "standardised", "danjiangkou_catchment"], "DW")


def rural_water_bodies(province: Province, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Black-and-odorous water bodies near villages: most eliminated; every large one in about half the counties."""
    rows: list[dict] = []
    xy = np.column_stack([villages.geometry.x, villages.geometry.y])
    owner = province.counties_of(xy)
    kinds = ["坑塘", "沟渠", "河塘", "排水沟"]
    for c in province.counties:
        rng = county_rng(province.seed, "rural_water_bodies", c.index)
        mine = np.flatnonzero(owner == c.index)
        if not len(mine):
            continue
        start = len(rows)
        for i in rng.choice(mine, size=count(8 * c.area_km2 / 1050.0, 1, province.scale), replace=True):
            v = villages.iloc[int(i)]
            p = province.near(rng, c, v.geometry, 80.0, 500.0, _away(c.builtup))
            rows.append({"name": f"{v['name']}{kinds[int(rng.integers(len(kinds)))]}",
                         "area_m2": float(np.clip(rng.lognormal(math.log(3000.0), 1.0), 200.0, 60000.0)), "geometry": p})
        mine_rows = rows[start:]
        large = [r for r in mine_rows if r["area_m2"] >= LARGE_WATER_BODY_M2]
        for r, flag in zip(large, complete_or_not(rng, ["c"] * len(large), (0.3, 0.75), 0.5), strict=True):
            r["eliminated"] = bool(flag)
        for r in mine_rows:
            r.setdefault("eliminated", bool(rng.random() < 0.85))
            r["area_m2"] = float(round(r["area_m2"], -1))
    taken: dict[str, int] = {}
    for r in rows:
        r["name"] = _unique(r["name"], taken)
    return frame(rows, ["id", "name", "area_m2", "eliminated"], "BW")


_HEADS = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗梁宋郑谢韩唐冯董程曹袁邓许沈彭吕苏卢蒋蔡贾丁魏薛叶阎杜范方石姚") \
    + list("东西南北上下前后大小新老柏槐杏枣桃柳")
_TAILS = ["庄", "村", "营", "集", "寨", "店", "屯", "楼", "湾", "岗", "洼", "桥", "家庄", "家寨", "家营", "家集"]


def villages(province: Province) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Administrative villages around the townships now and in 2020 (about 28,000 at scale 1): 30-60 % treat their
    sewage (5-15 points more than in 2020); waste collected in every village of about half the counties."""
    frames: tuple[list[dict], list[dict]] = ([], [])
    for c in province.counties:
        rng = county_rng(province.seed, "villages", c.index)
        n = count(28000 * c.area_km2 / 166000.0, 3, province.scale)
        combos = rng.permutation(len(_HEADS) * len(_TAILS))
        taken: dict[str, int] = {}
        rows = []
        for k in range(n):
            t = c.townships[k % len(c.townships)]
            p = province.near(rng, c, t, 400.0, 4500.0, _away(c.builtup))
            combo = int(combos[k % len(combos)])
            head, tail = _HEADS[combo // len(_TAILS)], _TAILS[combo % len(_TAILS)]
            rows.append({"name": _unique(f"{c.name}{head}{tail}{'' if tail.endswith('村') else '村'}", taken),
                         "households": int(np.clip(rng.lognormal(math.log(280.0), 0.5), 60, 1500)), "geometry": p})
        share = rng.uniform(0.6, 0.8) if c.kind == "district" else rng.uniform(0.3, 0.6)
        rise = rng.uniform(0.105, 0.15) if rng.random() < 0.5 else rng.uniform(0.05, 0.095)
        order = rng.permutation(n)
        k_now = int(round(share * n))
        k_then = max(0, k_now - max(1, int(round(rise * n))))
        collected = complete_or_not(rng, ["c"] * n, (0.88, 0.98), 0.5)
        for j, r in enumerate(rows):
            rank = int(np.flatnonzero(order == j)[0])
            frames[0].append({**r, "sewage_treated": rank < k_now, "waste_collected": bool(collected[j])})
            frames[1].append({**r, "sewage_treated": rank < k_then,
                              "waste_collected": bool(collected[j]) and rng.random() > 0.08})
    columns = ["id", "name", "households", "sewage_treated", "waste_collected"]
    return frame(frames[0], columns, "VL"), frame(frames[1], columns, "VL")


# ----------------------------------------------------------------------------------
# Zones, roads and rivers
# ----------------------------------------------------------------------------------


def counties_layer(province: Province) -> gpd.GeoDataFrame:
    """The real county boundaries (EPSG:4490, as read) with their city's code."""
    c = province.counties_ll
    return gpd.GeoDataFrame({"id": c["id"].to_list(), "name": c["name"].to_list(), "city_id": c["city_id"].to_list()},
                            geometry=c.geometry.to_list(), crs=c.crs)


def cities_layer(province: Province) -> gpd.GeoDataFrame:
    """The 18 prefecture-level cities (EPSG:4490) with their number of county-level units."""
    cities = province.cities.to_crs(province.counties_ll.crs)
    n = province.counties_ll.groupby("city_id").size()
    return gpd.GeoDataFrame({"id": cities["id"].to_list(), "name": cities["name"].to_list(),
                             "counties": [int(n.get(i, 0)) for i in cities["id"]]}, geometry=cities.geometry.to_list(), crs=cities.crs)


def builtup_layer(province: Province) -> gpd.GeoDataFrame:
    rows = [{"id": f"BU-{c.id}", "name": f"{c.name}建成区", "county_id": c.id,
             "kind": "central_city" if c.kind == "district" else "county_seat", "geometry": c.builtup} for c in province.counties]
    return frame(rows, ["id", "name", "county_id", "kind"])


def parks_layer(province: Province) -> gpd.GeoDataFrame:
    """The parks with what the plan asks of them: pilots, rectification, monitoring, micro-grids, bases built."""
    rng = province_rng(province.seed, "park_records")
    rows = []
    for park in province.parks:
        kind = park["kind"]
        pilot = {"green_pilot": "green", "circular_pilot": "circular"}.get(kind)
        rows.append({**park, "pilot": pilot,
                     "transformation_done": bool(rng.random() < 0.55) if pilot else None,
                     "rectified": bool(rng.random() < 0.5) if kind == "chemical_park" else None,
                     "energy_monitoring": bool(rng.random() < 0.6), "green_microgrid": bool(rng.random() < 0.3),
                     "base_built": bool(rng.random() < 0.5) if kind in ("solid_waste_base", "hightech_zone") else None})
    gdf = frame(rows, ["id", "name", "name_en", "kind", "pilot", "transformation_done", "rectified", "energy_monitoring",
                       "green_microgrid", "base_built"], "PK")
    for column in ("transformation_done", "rectified", "base_built"):
        gdf[column] = gdf[column].astype("boolean")
    return gdf


def roads(province: Province) -> gpd.GeoDataFrame:
    """Expressways, arterials (each seat to its city's centre and to its townships) and main streets in the towns."""
    spacing = network_spacing(province.scale)
    rows: list[dict] = []
    for code, parts in province.expressways.items():
        rows += [{"name": EXPRESSWAYS[code][0], "class": "expressway", "geometry": part} for part in parts]
    centre: dict[str, County] = {}
    for c in province.counties:
        centre.setdefault(c.city_id, c)  # the first unit of a city (its oldest district) stands for its centre
    for c in province.counties:
        rng = county_rng(province.seed, "roads", c.index)
        hub = centre[c.city_id]
        if hub is not c:
            rows.append({"name": f"{c.short}—{hub.short}干线公路", "class": "arterial", "geometry": _wiggle(rng, c.seat, hub.seat)})
        for i, t in enumerate(c.townships):
            rows.append({"name": f"{c.short}{i + 1}号乡镇公路", "class": "arterial", "geometry": _wiggle(rng, c.seat, t)})
        segs, _ = grid_segments(rng, c.builtup.buffer(200.0).intersection(c.inner), (350.0 * spacing, 550.0 * spacing))
        rows += [{"name": f"{c.short}街道", "class": "street", "geometry": s} for s in segs]
    return frame(rows, ["id", "name", "class"], "RD")


def rivers_layer(province: Province) -> gpd.GeoDataFrame:
    return frame([{"name": name, "geometry": line} for name, line, _ in province.rivers], ["id", "name"], "RV")


def _wiggle(rng: np.random.Generator, a: Point, b: Point) -> LineString:
    """A line from *a* to *b* bending sideways by up to an eighth of its length (at most 3 km)."""
    length = a.distance(b)
    n = max(2, int(length // 1000.0) + 1)
    t = np.linspace(0.0, 1.0, n)
    nx, ny = -(b.y - a.y) / max(length, 1.0), (b.x - a.x) / max(length, 1.0)
    amplitude = min(3000.0, length / 8)
    waves = sum(rng.uniform(-1, 1) * np.sin(k * math.pi * t + rng.uniform(0, 2 * math.pi)) for k in (1, 2, 3))
    off = amplitude / 3 * waves * np.sin(math.pi * t)
    return LineString(np.column_stack([a.x + (b.x - a.x) * t + nx * off, a.y + (b.y - a.y) * t + ny * off]))


def in_county(province: Province, geoms: Sequence[BaseGeometry]) -> np.ndarray:
    """GB code of the county holding each geometry's representative point."""
    pts = shapely.get_coordinates(shapely.point_on_surface(np.asarray(geoms, dtype=object)))
    codes = np.array([c.id for c in province.counties])
    return codes[province.counties_of(pts)]
