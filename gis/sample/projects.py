"""Waste facilities, key emission-reduction projects and green factories.

Incineration carries most of the waste capacity; the completed key projects meet the COD and
VOCs targets but miss NH3-N and NOx; fewer than 20 green factories and parks.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point

from gis.sample._common import (
    COUNTY_CODES,
    HEATING_TOWNS,
    HUBIN,
    LINGBAO,
    LUSHI,
    MIANCHI,
    SHANZHOU,
    YIMA,
    count,
    sample_in,
)
from gis.sample.world import World

# Key-project targets (t) the completed projects must meet / miss.
_TARGET_T = {"cod_t": 2300.0, "nh3n_t": 34.0, "nox_t": 6231.0, "vocs_t": 1252.0}


def waste_facilities(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    avoid = shapely.union_all(list(world.builtup.values()) + [p["geometry"] for p in world.parks])
    shapely.prepare(avoid)
    free = lambda q: not avoid.intersects(q.buffer(300.0))  # noqa: E731
    rows = []
    n_inc = int(rng.integers(2, 4))
    inc_sites = [SHANZHOU, LINGBAO, str(rng.choice([MIANCHI, LUSHI]))][:n_inc]
    inc_name = {SHANZHOU: "三门峡市", LINGBAO: "灵宝市", MIANCHI: "渑池县", LUSHI: "卢氏县"}
    caps = []
    for i, code in enumerate(inc_sites):
        cap = float(round(rng.uniform(700, 1200) if i == 0 else rng.uniform(300, 700), -1))
        caps.append(cap)
        anchor = world.seats[HUBIN] if code == SHANZHOU else world.seats[code]
        p = world.near(anchor, 3000.0, 10000.0, world.county_inner[code], free)
        rows.append({"name": f"{inc_name[code]}生活垃圾焚烧发电厂", "kind": "incineration",
                     "capacity_t_d": cap, "geometry": p})
    share = rng.uniform(0.86, 0.91)
    lf_total = sum(caps) * (1 - share) / share
    n_lf = int(rng.integers(3, 6))
    lf_sites = list(rng.choice([LUSHI, YIMA, MIANCHI, LINGBAO, SHANZHOU], size=n_lf, replace=False))
    parts = rng.dirichlet(np.full(n_lf, 3.0)) * lf_total
    for code, cap in zip(lf_sites, parts, strict=True):
        code = str(code)
        p = world.near(world.seats[code], 3000.0, 12000.0, world.county_inner[code], free)
        rows.append({"name": f"{COUNTY_CODES[code]}生活垃圾卫生填埋场", "kind": "landfill",
                     "capacity_t_d": float(round(cap, 1)), "geometry": p})
    return world.frame(rows, ["id", "name", "kind", "capacity_t_d"], "WF")


def key_projects(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    n = count(60, 12, world.scale)
    pol_cols = ["cod_t", "nh3n_t", "nox_t", "vocs_t"]
    options: dict[str, list[tuple[str, ...]]] = {
        "industry": [("vocs_t",), ("nox_t",), ("cod_t", "nh3n_t"), ("nox_t", "vocs_t")],
        "sewage": [("cod_t", "nh3n_t")],
        "heating": [("nox_t",)],
        "transport": [("nox_t",), ("nox_t", "vocs_t")],
        "agriculture": [("cod_t", "nh3n_t")],
    }
    sectors = ["industry", "sewage", "heating", "transport", "agriculture"]
    # a fixed core so every pollutant has completed and pending projects, then random ones
    plan: list[tuple[str, tuple[str, ...], str]] = [
        ("sewage", ("cod_t", "nh3n_t"), "completed"), ("heating", ("nox_t",), "completed"),
        ("industry", ("vocs_t",), "completed"), ("transport", ("nox_t",), "completed"),
        ("sewage", ("cod_t", "nh3n_t"), "under_construction"), ("heating", ("nox_t",), "planned"),
        ("industry", ("vocs_t",), "under_construction"), ("agriculture", ("cod_t", "nh3n_t"), "planned"),
    ]
    for _ in range(n - len(plan)):
        s = str(rng.choice(sectors, p=[0.34, 0.2, 0.16, 0.14, 0.16]))
        pols = options[s][int(rng.integers(len(options[s])))]
        st = str(rng.choice(["completed", "under_construction", "planned"], p=[0.6, 0.25, 0.15]))
        plan.append((s, pols, st))
    order = rng.permutation(len(plan))
    plan = [plan[i] for i in order]
    done = np.array([st == "completed" for _, _, st in plan])
    completed = {"cod_t": rng.uniform(1.04, 1.12), "nh3n_t": rng.uniform(0.88, 0.96),
                 "nox_t": rng.uniform(0.90, 0.97), "vocs_t": rng.uniform(1.04, 1.12)}
    pending = {"cod_t": rng.uniform(0.2, 0.35), "nh3n_t": rng.uniform(0.15, 0.3),
               "nox_t": rng.uniform(0.12, 0.25), "vocs_t": rng.uniform(0.15, 0.3)}
    values = {c: np.zeros(len(plan)) for c in pol_cols}
    for c in pol_cols:
        has = np.array([c in pols for _, pols, _ in plan])
        for mask, frac in ((has & done, completed[c]), (has & ~done, pending[c])):
            idx = np.flatnonzero(mask)
            wts = rng.dirichlet(np.full(idx.size, 2.0))
            values[c][idx] = np.floor(wts * _TARGET_T[c] * frac * 100.0) / 100.0
            # flooring loses at most 0.01 t per project; put it back on the largest one
            values[c][idx[np.argmax(wts)]] += round(_TARGET_T[c] * frac - values[c][idx].sum(), 2)
    industry_names: dict[tuple[str, ...], str] = {
        ("vocs_t",): "VOCs综合治理工程", ("nox_t",): "工业炉窑超低排放改造工程",
        ("cod_t", "nh3n_t"): "工业废水深度治理工程", ("nox_t", "vocs_t"): "清洁生产改造工程",
    }
    names = {
        "sewage": "城镇污水处理提质增效工程", "heating": "集中供热燃煤锅炉替代工程",
        "transport": "公交车新能源替代与柴油货车治理工程", "agriculture": "畜禽养殖粪污资源化利用工程",
    }
    codes = list(COUNTY_CODES)
    cw = np.array([0.2, 0.2, 0.15, 0.15, 0.1, 0.2])
    rows = []
    for k, (s, pols, st) in enumerate(plan):
        if s == "industry":
            park = world.parks[int(rng.integers(len(world.parks)))]
            p = Point(*sample_in(rng, park["geometry"], 1)[0])
            label = f"{park['name']}{industry_names[pols]}"
        elif s == "sewage":
            plant = world.plants[int(rng.integers(len(world.plants)))]
            p = world.near(plant["geometry"], 30.0, 600.0, world.county_inner[plant["county"]])
            label = f"{plant['name']}提标改造工程" if rng.random() < 0.5 else \
                f"{COUNTY_CODES[plant['county']]}{names['sewage']}"
        elif s == "heating":
            code = HEATING_TOWNS[int(rng.integers(len(HEATING_TOWNS)))]
            p = Point(*sample_in(rng, world.builtup[code], 1)[0])
            label = f"{COUNTY_CODES[code]}{names['heating']}"
        elif s == "transport":
            code = str(rng.choice(codes, p=cw))
            p = Point(*sample_in(rng, world.builtup[code], 1)[0])
            label = f"{COUNTY_CODES[code]}{names['transport']}"
        else:
            code = str(rng.choice(codes, p=cw))
            p = world.township_point(code, 2500.0)
            label = f"{COUNTY_CODES[code]}{names['agriculture']}"
        year = {"completed": int(rng.integers(2021, 2026)), "under_construction": int(rng.integers(2023, 2026)),
                "planned": 2025}[st]
        rows.append({"name": label, "sector": s, "status": st, "year": year, "geometry": p,
                     **{c: float(round(values[c][k], 2)) for c in pol_cols}})
    return world.frame(rows, ["id", "name", "sector", *pol_cols, "status", "year"], "KP")


def green_factories(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    n = int(rng.integers(16, 19))
    n_park = int(rng.integers(2, 4))
    parks = rng.choice(len(world.parks), size=n_park, replace=False)
    rows = []
    for i in parks:
        park = world.parks[int(i)]
        rows.append({"name": park["name"], "kind": "park",
                     "geometry": park["geometry"].representative_point()})
    brand = ["华", "宏", "金", "豫", "崤", "函", "宝", "黄河", "天元", "东方", "陕塬", "甘棠"]
    trade = ["新材料", "化工", "铝业", "食品", "金属", "能源", "建材", "电子", "医药", "装备", "果业", "纺织"]
    combos = rng.permutation(len(brand) * len(trade))[: n - n_park]
    codes = list(COUNTY_CODES)
    for c in combos:
        if rng.random() < 0.7:
            park = world.parks[int(rng.integers(len(world.parks)))]
            p = Point(*sample_in(rng, park["geometry"], 1)[0])
        else:
            p = Point(*sample_in(rng, world.builtup[str(rng.choice(codes))], 1)[0])
        rows.append({"name": f"三门峡{brand[c // len(trade)]}{trade[c % len(trade)]}有限公司", "kind": "factory",
                     "geometry": p})
    for r in rows:
        r["level"] = "national" if rng.random() < 0.35 else "provincial"
        r["year"] = int(rng.integers(2021, 2026))
    return world.frame(rows, ["id", "name", "kind", "level", "year"], "GF")
