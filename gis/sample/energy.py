"""Energy layers: county statistics (now and in 2020), the "two-high" project ledger, new buildings,
public institutions and key energy users.

Each is drawn from a random stream of its own (:func:`gis.sample._common.stream`), after every
other layer, so adding them left the earlier layers of a seed as they were.  Some counties cut
their energy intensity by more than 16 % since 2020, some less; some projects beat their sector's
benchmark, some do not; some counties have only green new buildings, every conservation-oriented
agency and every key energy user monitored online, others not.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from gis.sample._common import (
    COUNTY_CODES,
    HUBIN,
    LINGBAO,
    LUSHI,
    MIANCHI,
    SHANZHOU,
    SHORT,
    YIMA,
    complete_or_not,
    count,
    sample_in,
    split,
)
from gis.sample.world import World

COAL_TCE_PER_T = 0.7143
"""Standard-coal equivalent of a tonne of raw coal (GB/T 2589)."""

#: County statistics of 2020: GDP share of the city, energy per GDP (tce per 10,000 yuan), coal's share of
#: energy, industry's (above designated size) share of GDP and of energy, urban buildings' share of energy.
_PROFILE = {
    #         gdp    tce/gdp coal  ind_va ind_en bld
    HUBIN:    (0.18, 0.35, 0.45, 0.20, 0.50, 0.21),
    SHANZHOU: (0.14, 0.90, 0.60, 0.40, 0.74, 0.08),
    MIANCHI:  (0.15, 1.20, 0.70, 0.45, 0.78, 0.07),
    LUSHI:    (0.08, 0.40, 0.30, 0.20, 0.45, 0.10),
    YIMA:     (0.10, 1.60, 0.75, 0.50, 0.80, 0.06),
    LINGBAO:  (0.35, 0.70, 0.50, 0.45, 0.74, 0.08),
}
#: Public institutions' floor area (m2) and the public water supply (m3 a year) of 2020, roughly.
_PUBLIC_FLOOR = {HUBIN: 2.6e6, SHANZHOU: 0.7e6, MIANCHI: 0.8e6, LUSHI: 0.7e6, YIMA: 0.6e6, LINGBAO: 1.5e6}
_WATER_SUPPLY = {HUBIN: 3.2e7, SHANZHOU: 5.0e6, MIANCHI: 7.0e6, LUSHI: 4.0e6, YIMA: 6.0e6, LINGBAO: 1.1e7}
CITY_GDP_2020 = 1.45e7
"""GDP of Sanmenxia in 2020, 10,000 yuan (about 145 billion yuan)."""

STATISTICS_COLUMNS = [
    "id", "county_id", "gdp_10k_yuan", "energy_tce", "coal_t", "industrial_va_10k_yuan", "industrial_energy_tce",
    "industrial_water_m3", "building_energy_tce", "building_renewable_tce", "public_energy_kgce", "public_floor_m2",
    "public_persons", "water_supplied_m3", "water_leaked_m3",
]

_BRANDS = ["华", "宏", "金", "豫", "崤", "函", "宝", "黄河", "天元", "东方", "陕塬", "甘棠", "虢州", "召公", "中原", "开曼",
           "万山", "渑源", "韶峰", "仰韶", "燕山", "峡光", "秦岭", "伏牛"]


def _change(rng: np.random.Generator, met: bool, met_range: tuple[float, float], gap_range: tuple[float, float]) -> float:
    return float(rng.uniform(*(met_range if met else gap_range)))


def county_statistics(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The county statistics now (2025) and as they stood in 2020: one row per county.

    About half the counties cut energy per GDP by more than 16 %, industrial energy per value added
    by more than 18 % and industrial water per value added by more than 10 %; about half reach an 8 %
    renewable share of building energy, cut public institutions' energy per m2 by 4 % and per person
    by 6 %, and keep leakage of the water supply within 9 %; the others fall short.
    """
    codes = list(COUNTY_CODES)
    shares = np.array([_PROFILE[c][0] for c in codes]) * rng.uniform(0.93, 1.07, len(codes))
    gdp0 = shares / shares.sum() * CITY_GDP_2020 * rng.uniform(0.985, 1.015)
    met = {key: split(rng, codes) for key in ("intensity", "industry", "water", "renewable", "per_m2", "per_person", "leakage")}
    then: list[dict] = []
    now: list[dict] = []
    for code, g0 in zip(codes, gdp0, strict=True):
        _, intensity, coal_share, va_share, ind_share, bld_share = _PROFILE[code]
        growth = rng.uniform(1.24, 1.42)  # GDP 2025 over 2020, at 2020 prices
        e0 = g0 * intensity * rng.uniform(0.9, 1.1)
        e1 = g0 * growth * (e0 / g0) * (1 + _change(rng, code in met["intensity"], (-0.25, -0.17), (-0.15, -0.05)))
        coal0 = e0 * coal_share * rng.uniform(0.85, 0.95) / COAL_TCE_PER_T
        coal1 = coal0 * (e1 / e0) * rng.uniform(0.72, 0.9)
        va0 = g0 * va_share * rng.uniform(0.9, 1.1)
        ie0 = e0 * ind_share * rng.uniform(0.95, 1.02)
        per_va = (ie0 / va0) * (1 + _change(rng, code in met["industry"], (-0.27, -0.19), (-0.165, -0.05)))
        # industrial value added grows about as GDP, but industry's share of all energy use by at most 5 points
        va1 = min(va0 * growth * rng.uniform(0.97, 1.08), (ie0 / e0 + 0.05) * e1 / per_va)
        water0 = va0 * rng.uniform(12.0, 30.0)
        water1 = va1 * (water0 / va0) * (1 + _change(rng, code in met["water"], (-0.2, -0.105), (-0.09, -0.01)))
        b0 = e0 * bld_share * rng.uniform(0.9, 1.1)
        b1 = b0 * rng.uniform(1.05, 1.25)
        r0 = b0 * rng.uniform(0.025, 0.055)
        r1 = b1 * _change(rng, code in met["renewable"], (0.082, 0.12), (0.045, 0.077))
        floor0 = _PUBLIC_FLOOR[code] * rng.uniform(0.9, 1.1)
        persons0 = floor0 / rng.uniform(15.0, 20.0)
        pe0 = floor0 * rng.uniform(16.0, 21.0) / 1000.0  # 16-21 kgce per m2
        floor1 = floor0 * rng.uniform(1.02, 1.08)
        pe1 = floor1 * (pe0 / floor0) * (1 + _change(rng, code in met["per_m2"], (-0.09, -0.045), (-0.035, 0.01)))
        persons1 = pe1 / ((pe0 / persons0) * (1 + _change(rng, code in met["per_person"], (-0.11, -0.065), (-0.055, -0.01))))
        supplied0 = _WATER_SUPPLY[code] * rng.uniform(0.9, 1.1)
        supplied1 = supplied0 * rng.uniform(1.03, 1.15)
        leak1 = _change(rng, code in met["leakage"], (0.075, 0.089), (0.092, 0.12))
        leak0 = leak1 + rng.uniform(0.01, 0.03)
        for rows, values in ((then, (g0, e0, coal0, va0, ie0, water0, b0, r0, pe0, floor0, persons0, supplied0, leak0)),
                             (now, (g0 * growth, e1, coal1, va1, per_va * va1, water1, b1, r1, pe1, floor1, persons1, supplied1,
                                    leak1))):
            g, e, coal, va, ie, water, b, r, pe, floor, persons, supplied, leak = values
            rows.append({"id": f"ST-{code}", "county_id": code, "gdp_10k_yuan": round(g), "energy_tce": round(e),
                         "coal_t": round(coal), "industrial_va_10k_yuan": round(va), "industrial_energy_tce": round(ie),
                         "industrial_water_m3": round(water), "building_energy_tce": round(b),
                         "building_renewable_tce": round(r), "public_energy_kgce": round(pe * 1000), "public_floor_m2": round(floor),
                         "public_persons": round(persons), "water_supplied_m3": round(supplied),
                         "water_leaked_m3": round(supplied * leak)})
    return pd.DataFrame(now, columns=STATISTICS_COLUMNS), pd.DataFrame(then, columns=STATISTICS_COLUMNS)


# ----------------------------------------------------------------------------------
# The "two-high" project ledger
# ----------------------------------------------------------------------------------

#: Sector: name, benchmark of unit_energy (None: no benchmark), (range meeting it, range missing it), energy_tce range.
_SECTORS: dict[str, tuple[str, float | None, tuple[tuple[float, float], tuple[float, float]], tuple[float, float]]] = {
    "coal_power": ("燃煤发电机组", 297.0, ((280.0, 296.5), (298.0, 318.0)), (3.0e5, 1.5e6)),        # gce per kWh supplied
    "cement_clinker": ("水泥熟料生产线", 104.0, ((96.0, 103.8), (104.5, 116.0)), (5.0e4, 2.0e5)),   # kgce per t clinker
    "ethylene": ("乙烯装置", 780.0, ((700.0, 778.0), (785.0, 880.0)), (5.0e4, 3.0e5)),              # kgce per t ethylene
    "coal_olefins": ("煤制烯烃项目", 4000.0, ((3500.0, 3990.0), (4020.0, 4500.0)), (4.0e5, 1.5e6)),  # kgce per t olefins
    "data_centre": ("数据中心", 1.3, ((1.15, 1.29), (1.31, 1.65)), (5.0e3, 6.0e4)),                # PUE
    "electrolytic_aluminium": ("电解铝项目", None, ((12900.0, 13600.0), (12900.0, 13600.0)), (3.0e5, 1.0e6)),  # kWh per t Al
    "glass": ("平板玻璃生产线", None, ((11.0, 16.0), (11.0, 16.0)), (3.0e4, 1.2e5)),                # kgce per weight box
}
_NEW_CAPACITY = ("cement_clinker", "electrolytic_aluminium", "glass")

#: A fixed core: every sector, both sides of each benchmark and of each flag; then random ones.
_CORE: list[tuple[str, str, bool]] = [  # sector, stage, meets the benchmark
    ("coal_power", "existing", False), ("coal_power", "existing", True), ("coal_power", "existing", False),
    ("coal_power", "under_construction", True), ("cement_clinker", "existing", True),
    ("cement_clinker", "existing", False), ("cement_clinker", "proposed", True), ("coal_olefins", "existing", False),
    ("coal_olefins", "under_construction", True), ("ethylene", "existing", True), ("data_centre", "existing", False),
    ("data_centre", "proposed", True), ("electrolytic_aluminium", "existing", True),
    ("electrolytic_aluminium", "under_construction", True), ("glass", "proposed", True),
]


def _park_point(world: World, rng: np.random.Generator, names: list[str]) -> Point:
    parks = [p for p in world.parks if p["name"] in names or p["kind"] in names]
    park = parks[int(rng.integers(len(parks)))]
    return Point(*sample_in(rng, park["geometry"], 1)[0])


def _outside_town(world: World, code: str) -> Point:
    """A point 2-9 km from the seat of *code*, outside its built-up area and every park."""
    taken = shapely.union_all([world.builtup[code].buffer(300.0)] + [p["geometry"] for p in world.parks])
    return world.near(world.seats[code], 2000.0, 9000.0, world.county_inner[code], lambda q: not taken.contains(q))


def two_high_projects(world: World, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The ledger of energy- and emission-intensive projects: existing, under construction, proposed.

    Mostly in the chemical parks and development zones, coal power and some cement outside; some
    beat their sector's benchmark (attachment 2 of the plan), some do not; some new projects have
    their coal offset and capacity replacement secured, some not.
    """
    w = world.drawing_from(rng)
    n = count(32, len(_CORE), w.scale)
    plan = list(_CORE)
    sectors = list(_SECTORS)
    for _ in range(n - len(plan)):
        sector = str(rng.choice(sectors, p=[0.12, 0.24, 0.04, 0.08, 0.16, 0.16, 0.2]))
        stage = str(rng.choice(["existing", "under_construction", "proposed"], p=[0.6, 0.2, 0.2]))
        plan.append((sector, stage, bool(rng.random() < 0.55)))
    plan = [plan[int(i)] for i in rng.permutation(len(plan))]
    # yes/no flags with both answers among the projects they apply to
    new = [i for i, (_, stage, _) in enumerate(plan) if stage != "existing"]
    offset = dict(zip(new, complete_or_not(rng, ["all"] * len(new), (0.5, 0.8), share_complete=0.0), strict=True))
    replaced_idx = [i for i in new if plan[i][0] in _NEW_CAPACITY]
    replaced = dict(zip(replaced_idx, complete_or_not(rng, ["all"] * len(replaced_idx), (0.4, 0.75), 0.0), strict=True))
    ultra_low: dict[int, bool] = {}
    for low_sector in ("coal_power", "cement_clinker"):
        low_idx = [i for i, (s, stage, _) in enumerate(plan) if s == low_sector and stage == "existing"]
        ultra_low.update(zip(low_idx, complete_or_not(rng, ["all"] * len(low_idx), (0.5, 0.8), 0.0), strict=True))
    retro_idx = [i for i, (s, stage, _) in enumerate(plan) if s == "coal_power" and stage == "existing"]
    retrofitted = dict(zip(retro_idx, complete_or_not(rng, ["all"] * len(retro_idx), (0.3, 0.6), 0.0), strict=True))
    where = {
        "coal_power": (0.25, ["development_zone", "management_zone"], [HUBIN, SHANZHOU, MIANCHI, YIMA, LINGBAO]),
        "cement_clinker": (0.6, ["solid_waste_base", "development_zone"], [MIANCHI, SHANZHOU, LUSHI, LINGBAO]),
        "ethylene": (1.0, ["chemical_park"], []),
        "coal_olefins": (1.0, ["chemical_park"], []),
        "data_centre": (1.0, ["hightech_zone", "经济开发区", "城乡一体化示范区", "现代服务业开发区"], []),
        "electrolytic_aluminium": (0.9, ["solid_waste_base", "渑池县先进制造业开发区", "义马市先进制造业开发区",
                                         "陕州区先进制造业开发区"], [MIANCHI, YIMA]),
        "glass": (0.9, ["development_zone", "circular_pilot"], [LINGBAO, SHANZHOU]),
    }
    rows = []
    counter: dict[str, int] = {}
    for i, (sector, stage, meets) in enumerate(plan):
        label, benchmark, (ok, bad), energy = _SECTORS[sector]
        p_park, park_names, outside = where[sector]
        if rng.random() < p_park or not outside:
            p = _park_point(w, rng, park_names)
        else:
            p = _outside_town(w, str(rng.choice(outside)))
        code = w.county_of(p)
        counter[sector] = counter.get(sector, 0) + 1
        unit = rng.uniform(*(ok if meets else bad))
        rows.append({
            "name": f"{SHORT[code]}{_BRANDS[int(rng.integers(len(_BRANDS)))]}{label}{counter[sector]:02d}",
            "sector": sector, "stage": stage,
            "energy_tce": float(round(rng.uniform(*energy), -2)),
            "unit_energy": float(round(unit, 2 if benchmark is not None and benchmark < 10 else 1)),
            "ultra_low": (bool(ultra_low[i]) if i in ultra_low else True) if sector in ("coal_power", "cement_clinker") else None,
            "coal_offset_secured": bool(offset[i]) if i in offset else None,
            "retrofitted": (bool(retrofitted[i]) if i in retrofitted else False) if sector == "coal_power" else None,
            "capacity_replaced": bool(replaced[i]) if i in replaced else None,
            "geometry": p,
        })
    gdf = w.frame(rows, ["id", "name", "sector", "stage", "energy_tce", "unit_energy", "ultra_low", "coal_offset_secured",
                         "retrofitted", "capacity_replaced"], "TH")
    for column in ("ultra_low", "coal_offset_secured", "retrofitted", "capacity_replaced"):
        gdf[column] = gdf[column].astype("boolean")
    return gdf


# ----------------------------------------------------------------------------------
# New buildings, public institutions, key energy users
# ----------------------------------------------------------------------------------

_COUNTY_WEIGHTS = {HUBIN: 0.33, SHANZHOU: 0.12, MIANCHI: 0.13, LUSHI: 0.1, YIMA: 0.09, LINGBAO: 0.23}


def _allocate(total: int, weights: dict[str, float], minimum: int) -> dict[str, int]:
    """Integer allocation of *total* over the counties by *weights*, at least *minimum* each."""
    codes = list(weights)
    w = np.array([weights[c] for c in codes])
    base = np.full(len(codes), minimum)
    rest = max(0, total - int(base.sum()))
    share = w / w.sum() * rest
    n = np.floor(share).astype(int)
    n[np.argsort(-(share - n), kind="stable")[: rest - int(n.sum())]] += 1
    return {c: int(k) for c, k in zip(codes, base + n, strict=True)}


def township_site(world: World, code: str, rmax: float) -> tuple[Point, str]:
    """A point near one of the townships of *code* (outside the built-up areas) and the township's name."""
    towns = world.townships[code]
    i = int(world.rng.integers(len(towns)))
    p = world.near(towns[i], 50.0, rmax, world.county_inner[code], lambda q: world.in_builtup(q) is None)
    return p, f"{SHORT[code]}{i + 1}号乡镇"


def _unique_name(name: str, taken: dict[str, int]) -> str:
    taken[name] = taken.get(name, 0) + 1
    return name if taken[name] == 1 else f"{name}{taken[name]}"


_URBAN_BUILDINGS = ["住宅小区", "住宅小区", "住宅小区", "安置小区", "商业综合体", "办公楼", "学校教学楼", "医院门诊楼", "文体中心"]
_RURAL_BUILDINGS = ["农村住宅", "乡镇卫生院", "乡镇中心学校", "村级活动中心"]
_ESTATES = ["锦绣", "阳光", "滨河", "崤山", "函谷", "天鹅湖", "甘棠", "黄河", "陕塬", "虢国", "丽景", "御景", "翠苑", "和园", "华府",
            "新城", "东方", "建业", "正商", "金地", "秀水", "湖滨", "宏农", "仰韶", "召公"]


def new_buildings(world: World, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Buildings completed 2021-2025, mostly urban: in about half the counties every new urban building
    is a certified green building, in the others some are not (one of them completed in 2025); a
    handful of ultra-low, near-zero and zero-carbon demonstrations in a few counties."""
    w = world.drawing_from(rng)
    codes = list(COUNTY_CODES)
    n = count(420, 40, w.scale)
    n_urban = _allocate(int(round(n * 0.8)), _COUNTY_WEIGHTS, 3)
    n_rural = _allocate(n - sum(n_urban.values()), {c: float(len(w.townships[c])) for c in codes}, 0)
    green = split(rng, codes, 0.4)
    rows: list[dict] = []
    names: dict[str, int] = {}
    for code in codes:
        start = len(rows)
        for x, y in sample_in(rng, w.builtup[code], n_urban[code]):
            kind = _URBAN_BUILDINGS[int(rng.integers(len(_URBAN_BUILDINGS)))]
            floor = float(np.clip(rng.lognormal(math.log(45000.0), 0.7), 3000.0, 400000.0))
            rows.append({"name": _unique_name(f"{SHORT[code]}{_ESTATES[int(rng.integers(len(_ESTATES)))]}{kind}", names),
                         "urban": True, "year": int(rng.integers(2021, 2026)), "floor_m2": float(round(floor, -1)),
                         "green_star": int(rng.choice([1, 2, 3], p=[0.7, 0.25, 0.05])), "energy_class": "standard",
                         "county": code, "geometry": Point(x, y)})
        if code not in green:  # some not certified, one of them completed in 2025
            idx = np.arange(start, len(rows))
            k = max(1, int(round(len(idx) * rng.uniform(0.06, 0.2))))
            plain = rng.choice(idx, size=min(k, len(idx)), replace=False)
            for j in plain:
                rows[int(j)]["green_star"] = 0
            rows[int(plain[0])]["year"] = 2025
        for _ in range(n_rural[code]):
            kind = _RURAL_BUILDINGS[int(rng.integers(len(_RURAL_BUILDINGS)))]
            floor = float(np.clip(rng.lognormal(math.log(1200.0), 0.6), 200.0, 8000.0))
            rows.append({"name": _unique_name(f"{SHORT[code]}{kind}", names), "urban": False, "year": int(rng.integers(2021, 2026)),
                         "floor_m2": float(round(floor, -1)), "green_star": int(rng.choice([0, 1], p=[0.85, 0.15])),
                         "energy_class": "standard", "county": code, "geometry": w.township_point(code, 2500.0)})
    # a handful of demonstrations, in the central city and one to three other counties
    demo_counties = [HUBIN, *sorted(split(rng, [c for c in codes if c != HUBIN], rng.uniform(0.2, 0.5)))]
    n_demo = max(3, int(round(8 * w.scale)))
    classes = ["zero_carbon", "near_zero", *(["ultra_low", "near_zero", "ultra_low"] * n_demo)][:n_demo]
    for j, cls in enumerate(classes):
        code = demo_counties[j % len(demo_counties)]
        cand = [i for i, r in enumerate(rows) if r["urban"] and r["energy_class"] == "standard" and r["green_star"] > 0
                and r["county"] == code]
        if cand:
            r = rows[int(rng.choice(cand))]
            r["energy_class"], r["green_star"] = cls, max(2, r["green_star"])
    for r in rows:  # built to the green-building standard: every starred building, and some at the basic level (基本级)
        r["green_standard"] = bool(r["green_star"] > 0 or (r["urban"] and rng.random() < 0.3))
    return w.frame(rows, ["id", "name", "urban", "year", "floor_m2", "green_standard", "green_star", "energy_class"], "NB")


_INSTITUTION_NAMES = {
    "agency": ["人民政府", "发展和改革委员会", "财政局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局",
               "农业农村局", "商务局", "教育局", "卫生健康委员会", "市场监督管理局", "应急管理局", "人力资源和社会保障局",
               "机关事务管理局", "统计局", "审计局", "司法局", "民政局", "文化广电和旅游局", "城市管理局"],
    "school": ["第一中学", "第二中学", "第三中学", "实验小学", "第一小学", "第二小学", "职业技术学校", "实验中学", "幼儿园"],
    "hospital": ["人民医院", "中医院", "妇幼保健院", "第二人民医院", "疾病预防控制中心"],
    "other": ["图书馆", "博物馆", "体育中心", "文化馆", "档案馆", "科技馆", "会展中心"],
}


def public_institutions(world: World, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Agencies, schools, hospitals and other public institutions, county level and township.

    Slightly fewer than 80 % of the county-level agencies meet the conservation-oriented agency
    criteria (a gap of a few agencies for the city); about half the counties reach 80 %.
    """
    w = world.drawing_from(rng)
    codes = list(COUNTY_CODES)
    n = count(300, 40, w.scale)
    n_agency = _allocate(int(round(n * 0.27)), _COUNTY_WEIGHTS, 2)
    rows: list[dict] = []
    names: dict[str, int] = {}

    def add(code: str, kind: str, level: str, p: Point, where: str | None = None) -> None:
        base = _INSTITUTION_NAMES[kind][int(rng.integers(len(_INSTITUTION_NAMES[kind])))]
        if kind == "agency" and level == "township":
            base = "人民政府" if rng.random() < 0.5 else base.replace("局", "所").replace("委员会", "办公室")
        rows.append({"name": _unique_name(f"{where or COUNTY_CODES[code]}{base}", names), "kind": kind, "level": level,
                     "county": code, "geometry": p})

    county_p = np.array([_COUNTY_WEIGHTS[c] for c in codes])
    town_w = np.array([float(len(w.townships[c])) for c in codes])
    for code in codes:
        for x, y in sample_in(rng, w.builtup[code], n_agency[code]):
            add(code, "agency", "county_and_above", Point(x, y))
    for code, k in _allocate(int(round((n - len(rows)) * 0.15)), dict(zip(codes, town_w, strict=True)), 0).items():
        for _ in range(k):
            add(code, "agency", "township", *township_site(w, code, 1500.0))
    while len(rows) < n:
        kind = str(rng.choice(["school", "hospital", "other"], p=[0.5, 0.2, 0.3]))
        if rng.random() < 0.65:
            code = str(rng.choice(codes, p=county_p))
            add(code, kind, "county_and_above", Point(*sample_in(rng, w.builtup[code], 1)[0]))
        else:
            code = str(rng.choice(codes, p=town_w / town_w.sum()))
            add(code, kind, "township", *township_site(w, code, 1500.0))
    # conservation-oriented agencies: about half the counties at 80 % or more, the city a few agencies short
    top = [i for i, r in enumerate(rows) if r["kind"] == "agency" and r["level"] == "county_and_above"]
    by_county = {c: idx for c in codes if (idx := [i for i in top if rows[i]["county"] == c])}
    met = split(rng, list(by_county))
    n_ok = {c: math.ceil(0.8 * len(idx) - 1e-9) - (0 if c in met else 1) for c, idx in by_county.items()}
    target = math.ceil(0.8 * len(top) - 1e-9) - (1 if len(top) < 30 else int(rng.integers(2, 4)))
    order = [str(c) for c in rng.permutation(list(by_county))]
    while (diff := target - sum(n_ok.values())) != 0:  # each county staying on its side of 80 %
        if diff > 0:
            movable = [c for c in order if c in met and n_ok[c] < len(by_county[c])]
        else:
            movable = [c for c in order if c not in met and n_ok[c] > len(by_county[c]) // 2]
        if not movable:
            break
        n_ok[movable[0]] += 1 if diff > 0 else -1
        order = [*order[1:], order[0]]
    conservation = np.zeros(len(rows), dtype=bool)
    for c, idx in by_county.items():
        conservation[rng.choice(idx, size=max(0, n_ok[c]), replace=False)] = True
    township = [i for i, r in enumerate(rows) if r["kind"] == "agency" and r["level"] == "township"]
    conservation[township] = rng.random(len(township)) < 0.6
    retrofit_rate = {c: rng.uniform(0.3, 0.7) for c in codes}
    pv_rate = {c: rng.uniform(0.15, 0.6) for c in codes}
    nev_rate = {c: rng.uniform(0.03, 0.2) for c in codes}
    spaces_range = {"agency": (30, 300), "school": (20, 200), "hospital": (100, 800), "other": (10, 150)}
    for i, r in enumerate(rows):
        c = r["county"]
        r["conservation_agency"] = bool(conservation[i])
        r["retrofitted"] = bool(rng.random() < retrofit_rate[c])
        r["rooftop_pv_kw"] = float(round(np.clip(rng.lognormal(math.log(80.0), 0.8), 10.0, 800.0), 1)) \
            if rng.random() < pv_rate[c] else 0.0
        lo, hi = spaces_range[r["kind"]]
        r["parking_spaces"] = int(rng.integers(lo, hi + 1)) if r["level"] == "county_and_above" else int(rng.integers(5, 40))
        r["nev_spaces"] = int(rng.binomial(r["parking_spaces"], nev_rate[c]))
    return w.frame(rows, ["id", "name", "kind", "level", "conservation_agency", "retrofitted", "rooftop_pv_kw",
                          "parking_spaces", "nev_spaces"], "PI")


#: Sector of key energy users: weight, park kinds it sits in (or "builtup"), energy range tce.
_ENERGY_SECTORS: dict[str, tuple[float, tuple[str, ...], tuple[float, float], str]] = {
    "power": (0.08, ("development_zone", "management_zone"), (2.0e5, 1.5e6), "发电"),
    "chemical": (0.16, ("chemical_park",), (1.0e4, 8.0e5), "化工"),
    "nonferrous": (0.16, ("development_zone", "circular_pilot", "solid_waste_base"), (1.0e4, 6.0e5), "有色金属"),
    "building_materials": (0.16, ("solid_waste_base", "development_zone", "green_pilot"), (1.0e4, 2.0e5), "建材"),
    "food": (0.1, ("development_zone", "builtup"), (5.0e3, 3.0e4), "食品"),
    "equipment": (0.1, ("development_zone", "management_zone", "hightech_zone"), (5.0e3, 3.0e4), "装备制造"),
    "mining": (0.12, ("circular_pilot", "development_zone", "green_pilot"), (1.0e4, 1.0e5), "矿业"),
    "public": (0.12, ("builtup",), (5.0e3, 2.0e4), "医院/学校"),
}


def key_energy_users(world: World, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Key energy users (重点用能单位): in the parks and the built-up areas; in about half the
    counties every one is monitored online and has filed its report, in the others not."""
    w = world.drawing_from(rng)
    n = count(100, 15, w.scale)
    sectors = list(_ENERGY_SECTORS)
    weights = np.array([_ENERGY_SECTORS[s][0] for s in sectors])
    codes = list(COUNTY_CODES)
    rows = []
    for _ in range(n):
        sector = str(rng.choice(sectors, p=weights / weights.sum()))
        _, kinds, energy, trade = _ENERGY_SECTORS[sector]
        kind = kinds[int(rng.integers(len(kinds)))]
        if kind == "builtup":
            code = str(rng.choice(codes, p=[_COUNTY_WEIGHTS[c] for c in codes]))
            p = Point(*sample_in(rng, w.builtup[code], 1)[0])
        else:
            p = _park_point(w, rng, [kind])
        code = w.county_of(p)
        brand = _BRANDS[int(rng.integers(len(_BRANDS)))]
        if sector == "public":
            name = f"{COUNTY_CODES[code]}{['人民医院', '中医院', '第一高级中学', '职业技术学院'][int(rng.integers(4))]}"
        else:
            name = f"三门峡{brand}{trade}有限公司" if rng.random() < 0.5 else f"{SHORT[code]}{brand}{trade}有限公司"
        lo, hi = energy
        rows.append({"name": name, "sector": sector, "geometry": p, "county": code,
                     "energy_tce": float(round(math.exp(rng.uniform(math.log(lo), math.log(hi))), -1))})
    names: dict[str, int] = {}
    for r in rows:
        r["name"] = _unique_name(r["name"], names)
    county = [r["county"] for r in rows]
    online = complete_or_not(rng, county, (0.6, 0.9))
    filed = complete_or_not(rng, county, (0.8, 0.95))
    for r, a, b in zip(rows, online, filed, strict=True):
        r["online_monitoring"], r["report_filed"] = bool(a), bool(b)
    return w.frame(rows, ["id", "name", "sector", "energy_tce", "online_monitoring", "report_filed"], "EU")
