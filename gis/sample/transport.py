"""Transport layers: charging stations, parking lots, service areas, charging hubs, the fleet table.

Parking-lot charger shares meet the 25 % target in some counties only; some service areas
and hubs lack chargers; some counties' bus and taxi fleets are fully electric.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from gis.sample._common import COUNTY_CODES, HUBIN, LINGBAO, LUSHI, MIANCHI, SHANZHOU, SHORT, YIMA, count, sample_in
from gis.sample.world import World


def charging_stations(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    n = count(150, 12, world.scale)
    n_expr = max(1, int(round(n * 0.12)))
    n_town = max(1, int(round(n * 0.23)))
    n_urban = n - n_expr - n_town
    codes = list(COUNTY_CODES)
    per_seat = _alloc(n_urban, [world.builtup[c].area * (1.6 if c == HUBIN else 1.0) for c in codes], 1)
    rows: list[dict] = []
    counter: dict[str, int] = {}

    def add(p: Point, where: str) -> None:
        code = world.county_of(p)
        counter[code] = counter.get(code, 0) + 1
        ports = int(rng.integers(2, 21))
        rows.append({"name": f"{COUNTY_CODES[code]}{where}充电站{counter[code]:02d}",
                     "ports": ports, "fast_ports": int(rng.binomial(ports, rng.uniform(0.3, 0.9))),
                     "geometry": p})

    for code, k in zip(codes, per_seat, strict=True):
        for x, y in sample_in(rng, world.in_town(code, 500.0), int(k)):
            add(Point(x, y), "公共")
    for _ in range(n_expr):
        add(world.expressway_point(), "高速沿线")
    town_w = [len(world.townships[c]) for c in codes]
    for code, k in zip(codes, _alloc(n_town, town_w), strict=True):
        for _ in range(int(k)):
            add(world.township_point(code), "乡镇")
    return world.frame(rows, ["id", "name", "ports", "fast_ports"], "CS")


def parking_lots(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    n = count(400, 18, world.scale)
    codes = list(COUNTY_CODES)
    weights = {HUBIN: 0.30, SHANZHOU: 0.12, MIANCHI: 0.14, LUSHI: 0.12, YIMA: 0.10, LINGBAO: 0.22}
    per_county = _alloc(n, [weights[c] for c in codes], 3)
    cats = ["government", "hospital", "school", "culture_sports", "tourism", "transport_hub"]
    cat_p = np.array([0.2, 0.15, 0.25, 0.12, 0.13, 0.15])
    cat_cn = {"government": "机关", "hospital": "医院", "school": "学校", "culture_sports": "文体场馆",
              "tourism": "景区", "transport_hub": "交通枢纽"}
    median = {"government": 90, "hospital": 220, "school": 110, "culture_sports": 180, "tourism": 200,
              "transport_hub": 300}
    rows: list[dict] = []
    for code, k in zip(codes, per_county, strict=True):
        k = int(k)
        cat = rng.choice(cats, size=k, p=cat_p)
        rural = rng.random(k) < 0.2
        town = world.in_town(code, 300.0)
        for i in range(k):
            c = str(cat[i])
            if rural[i] or c == "tourism" and rng.random() < 0.6:
                p = world.township_point(code, 2500.0)
            else:
                p = Point(*sample_in(rng, town, 1)[0])
            spaces = int(np.clip(round(rng.lognormal(math.log(median[c]), 0.6)), 30, 800))
            rows.append({"name": f"{COUNTY_CODES[code]}{cat_cn[c]}停车场{i + 1:02d}", "category": c,
                         "spaces": spaces, "county": code, "geometry": p})
    # charger share by county: some met (>= 25 %), the others and the city below
    county_of_row = np.array([world.county_of(r["geometry"]) for r in rows])
    row_spaces = np.array([r["spaces"] for r in rows])
    tot = {c: int(row_spaces[county_of_row == c].sum()) for c in codes}
    others = [c for c in codes if c != HUBIN]
    met = list(rng.choice(others, size=int(rng.integers(2, 4)), replace=False))
    gap = [c for c in codes if c not in met]
    share = {c: rng.uniform(0.265, 0.32) for c in met}
    city_share = rng.uniform(0.222, 0.240)
    t_all = sum(tot.values())
    t_gap = sum(tot[c] for c in gap)
    g = (city_share * t_all - sum(share[c] * tot[c] for c in met)) / max(t_gap, 1)
    jitter = rng.uniform(0.85, 1.15, len(gap))
    jitter = jitter * t_gap / max(sum(j * tot[c] for j, c in zip(jitter, gap, strict=True)), 1)
    for c, j in zip(gap, jitter, strict=True):
        share[c] = float(np.clip(g * j, 0.06, 0.235))
    chargers = np.zeros(len(rows), dtype=int)
    for c in codes:
        idx = np.flatnonzero(county_of_row == c)
        if idx.size == 0:
            continue
        total = int(math.ceil(share[c] * tot[c])) if c in met else int(math.floor(share[c] * tot[c]))
        wts = row_spaces[idx] * rng.uniform(0.3, 1.7, idx.size) * (rng.random(idx.size) > 0.2)
        if wts.sum() == 0:
            wts = row_spaces[idx].astype(float)
        chargers[idx] = _alloc_capped(total, wts, row_spaces[idx])
    for r, ch in zip(rows, chargers, strict=True):
        r["charger_spaces"] = int(ch)
    return world.frame(rows, ["id", "name", "category", "spaces", "charger_spaces"], "PL")


def service_areas(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    pts: list[tuple[str, Point]] = []
    for name, parts in world.expressways.items():
        for part in parts:
            d = rng.uniform(8000.0, 20000.0)
            while d < part.length - 4000.0:
                p = part.interpolate(d)
                if world.inner.contains(p):
                    pts.append((name, p))
                d += rng.uniform(35000.0, 45000.0)
    n = len(pts)
    n_false = max(1, int(round(n * rng.uniform(0.2, 0.3))))
    no_fast = set(rng.choice(n, size=min(n_false, max(n - 1, 1)), replace=False).tolist())
    rows, used = [], set()
    for i, (expr, p) in enumerate(pts):
        code = world.county_of(p)
        seat = world.seats[code]
        dx, dy = p.x - seat.x, p.y - seat.y
        side = ("东" if dx > 0 else "西") if abs(dx) >= abs(dy) else ("北" if dy > 0 else "南")
        for cand in (f"{SHORT[code]}服务区", f"{SHORT[code]}{side}服务区",
                     *(f"{SHORT[code]}{side}{k}服务区" for k in range(2, 9))):
            if cand not in used:
                break
        used.add(cand)
        fast = i not in no_fast
        rows.append({"name": cand, "expressway": expr, "fast_charging": fast,
                     "fast_chargers": int(rng.integers(2, 9)) if fast else 0, "geometry": p})
    return world.frame(rows, ["id", "name", "expressway", "fast_charging", "fast_chargers"], "SA")


def charging_hubs(world: World) -> gpd.GeoDataFrame:
    rng = world.rng
    n = count(25, 8, world.scale)
    codes = list(COUNTY_CODES)
    kinds = ["bus_depot"] * len(codes)  # one bus depot per seat
    kinds += ["passenger_hub", "logistics_park"]
    kinds += list(rng.choice(["passenger_hub", "logistics_park", "bus_depot"], size=n - len(kinds),
                             p=[0.35, 0.35, 0.30]))
    where = codes + [HUBIN, HUBIN] + list(rng.choice(
        codes, size=n - len(codes) - 2, p=np.array([0.3, 0.15, 0.13, 0.12, 0.1, 0.2])))
    cn = {"bus_depot": "公交场站", "passenger_hub": "客运枢纽", "logistics_park": "物流园区"}
    n_false = max(1, int(round(n * rng.uniform(0.12, 0.2))))
    no_ch = set(rng.choice(n, size=n_false, replace=False).tolist())
    rows: list[dict] = []
    counter: dict[tuple[str, str], int] = {}
    for i, (kind, code) in enumerate(zip(kinds, where, strict=True)):
        kind, code = str(kind), str(code)
        if kind == "logistics_park" and rng.random() < 0.6:
            p = world.expressway_point((300.0, 2500.0))
        else:
            p = Point(*sample_in(rng, world.in_town(code, 400.0), 1)[0])
        code = world.county_of(p)
        counter[(code, kind)] = counter.get((code, kind), 0) + 1
        has = i not in no_ch
        hi = 60 if kind == "bus_depot" else 30
        rows.append({"name": f"{COUNTY_CODES[code]}{cn[kind]}{counter[(code, kind)]:02d}", "kind": kind,
                     "has_charger": has, "chargers": int(rng.integers(4, hi + 1)) if has else 0,
                     "geometry": p})
    return world.frame(rows, ["id", "name", "kind", "has_charger", "chargers"], "HB")


def fleet(world: World) -> pd.DataFrame:
    rng = world.rng
    size = {HUBIN: (1.0, 1.0), SHANZHOU: (0.18, 0.2), MIANCHI: (0.25, 0.25), LUSHI: (0.2, 0.18),
            YIMA: (0.22, 0.2), LINGBAO: (0.4, 0.38)}
    rows = []
    for vt, base in (("bus", 560), ("taxi", 1150)):
        met = set(rng.choice(list(COUNTY_CODES), size=int(rng.integers(2, 5)), replace=False).tolist())
        for code in COUNTY_CODES:
            f = size[code][0 if vt == "bus" else 1]
            v = int(round(base * f * rng.uniform(0.85, 1.15)))
            emerg = int(rng.integers(0, max(1, round(0.03 * v)) + 1))
            avail = v - emerg
            nev = avail if code in met else int(round(avail * rng.uniform(0.55, 0.93)))
            rows.append({"id": f"FL-{code}-{vt}", "county_id": code, "vehicle_type": vt, "vehicles": v,
                         "nev_vehicles": nev, "emergency_vehicles": emerg})
    return pd.DataFrame(rows, columns=["id", "county_id", "vehicle_type", "vehicles", "nev_vehicles",
                                       "emergency_vehicles"])


# ----------------------------------------------------------------------------------
# Allocation helpers
# ----------------------------------------------------------------------------------


def _alloc(total: int, weights: Sequence[float] | np.ndarray, minimum: int = 0) -> np.ndarray:
    """Integer allocation of *total* by *weights* (largest remainder), ``>= minimum`` each."""
    w = np.asarray(weights, dtype=float)
    base = np.full(len(w), minimum, dtype=int)
    rest = total - base.sum()
    if rest <= 0:
        return base
    share = w / w.sum() * rest
    n = np.floor(share).astype(int)
    left = rest - n.sum()
    order = np.argsort(-(share - n), kind="stable")
    n[order[:left]] += 1
    return base + n


def _alloc_capped(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Integer allocation of *total* by *weights*, each at most its cap."""
    out = np.zeros(len(weights), dtype=int)
    w = np.asarray(weights, dtype=float).copy()
    caps = np.asarray(caps, dtype=int)
    total = int(min(total, caps.sum()))
    for _ in range(50):
        rest = total - out.sum()
        free = (out < caps) & (w > 0)
        if rest <= 0 or not free.any():
            break
        add = _alloc(rest, np.where(free, w, 0.0))
        out = np.minimum(out + add, caps)
    rest = total - out.sum()
    if rest > 0:  # weights exhausted: fill any remaining room
        for i in np.argsort(-(caps - out), kind="stable"):
            take = min(rest, caps[i] - out[i])
            out[i] += take
            rest -= take
            if rest <= 0:
                break
    return out
