"""The province's tables and history: county statistics (now and 2020), the layers as they stood in 2020 and
2023, and the 2020 baseline table computed from the 2020 layers."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.sample._common import BASELINE_YEAR, MID_YEAR
from gis.sample.energy import COAL_TCE_PER_T, STATISTICS_COLUMNS
from gis.sample.history import CLEAN_KINDS
from gis.sample.province.facilities import in_county
from gis.sample.province.geography import PROVINCE_ID, Province
from gis.sample.province.streams import county_rng

GDP_2020 = 5.5e8
"""GDP of Henan in 2020, 10,000 yuan (about 5.5 trillion yuan)."""

#: By kind of county: GDP weight, energy per GDP (tce per 10,000 yuan), coal share, industry's share of GDP and energy,
#: urban buildings' share of energy, public floor (m2) and water supplied (m3 a year) of an average county.
_PROFILE = {"district": (3.0, (0.3, 0.8), (0.35, 0.55), (0.2, 0.35), (0.45, 0.6), (0.15, 0.22), 1.6e6, 2.2e7),
            "city": (1.6, (0.6, 1.4), (0.5, 0.75), (0.35, 0.5), (0.7, 0.8), (0.06, 0.1), 0.9e6, 8.0e6),
            "county": (1.0, (0.4, 1.2), (0.4, 0.7), (0.25, 0.45), (0.6, 0.78), (0.06, 0.1), 0.7e6, 5.0e6)}


def county_statistics(province: Province) -> tuple[pd.DataFrame, pd.DataFrame]:
    """County statistics now (2025) and in 2020: in about half the counties energy per GDP fell by more than 16 %,
    industrial energy per value added by more than 18 %, industrial water per value added by more than 10 %; about
    half reach 8 % renewables in buildings, cut public energy per m2 by 4 % and per person by 6 %, keep leaks within 9 %."""
    draws = []
    for c in province.counties:
        rng = county_rng(province.seed, "county_statistics", c.index)
        draws.append((c, rng, _PROFILE[c.kind][0] * rng.uniform(0.6, 1.4)))
    total = sum(w for _, _, w in draws)
    now: list[dict] = []
    then: list[dict] = []
    for c, rng, w in draws:
        _, intensity, coal_share, va_share, ind_share, bld_share, floor, water = _PROFILE[c.kind]
        met = {key: bool(rng.random() < 0.5) for key in ("intensity", "industry", "water", "renewable", "per_m2", "per_person",
                                                          "leakage")}

        def change(key: str, ok: tuple[float, float], short: tuple[float, float], rng: np.random.Generator = rng,
                   met: dict[str, bool] = met) -> float:
            return float(rng.uniform(*(ok if met[key] else short)))

        g0 = GDP_2020 * w / total
        growth = rng.uniform(1.24, 1.42)
        e0 = g0 * rng.uniform(*intensity)
        e1 = g0 * growth * (e0 / g0) * (1 + change("intensity", (-0.25, -0.17), (-0.15, -0.05)))
        coal0 = e0 * rng.uniform(*coal_share) / COAL_TCE_PER_T
        coal1 = coal0 * (e1 / e0) * rng.uniform(0.72, 0.9)
        va0 = g0 * rng.uniform(*va_share)
        ie0 = e0 * rng.uniform(*ind_share)
        per_va = (ie0 / va0) * (1 + change("industry", (-0.27, -0.19), (-0.165, -0.05)))
        va1 = min(va0 * growth * rng.uniform(0.97, 1.08), (ie0 / e0 + 0.05) * e1 / per_va)
        water0 = va0 * rng.uniform(12.0, 30.0)
        water1 = va1 * (water0 / va0) * (1 + change("water", (-0.2, -0.105), (-0.09, -0.01)))
        b0 = e0 * rng.uniform(*bld_share)
        b1 = b0 * rng.uniform(1.05, 1.25)
        r0, r1 = b0 * rng.uniform(0.025, 0.055), b1 * change("renewable", (0.082, 0.12), (0.045, 0.077))
        floor0 = floor * rng.uniform(0.7, 1.3)
        persons0 = floor0 / rng.uniform(15.0, 20.0)
        pe0 = floor0 * rng.uniform(16.0, 21.0) / 1000.0
        floor1 = floor0 * rng.uniform(1.02, 1.08)
        pe1 = floor1 * (pe0 / floor0) * (1 + change("per_m2", (-0.09, -0.045), (-0.035, 0.01)))
        persons1 = pe1 / ((pe0 / persons0) * (1 + change("per_person", (-0.11, -0.065), (-0.055, -0.01))))
        supplied0 = water * rng.uniform(0.7, 1.3)
        supplied1 = supplied0 * rng.uniform(1.03, 1.15)
        leak1 = change("leakage", (0.075, 0.089), (0.092, 0.12))
        leak0 = leak1 + rng.uniform(0.01, 0.03)
        for rows, values in ((then, (g0, e0, coal0, va0, ie0, water0, b0, r0, pe0, floor0, persons0, supplied0, leak0)),
                             (now, (g0 * growth, e1, coal1, va1, per_va * va1, water1, b1, r1, pe1, floor1, persons1, supplied1,
                                    leak1))):
            g, e, coal, va, ie, wat, b, r, pe, fl, persons, supplied, leak = values
            rows.append({"id": f"ST-{c.id}", "county_id": c.id, "gdp_10k_yuan": round(g), "energy_tce": round(e),
                         "coal_t": round(coal), "industrial_va_10k_yuan": round(va), "industrial_energy_tce": round(ie),
                         "industrial_water_m3": round(wat), "building_energy_tce": round(b), "building_renewable_tce": round(r),
                         "public_energy_kgce": round(pe * 1000), "public_floor_m2": round(fl), "public_persons": round(persons),
                         "water_supplied_m3": round(supplied), "water_leaked_m3": round(supplied * leak)})
    return pd.DataFrame(now, columns=STATISTICS_COLUMNS), pd.DataFrame(then, columns=STATISTICS_COLUMNS)


HEAT_COLUMNS = ["id", "name", "kind", "capacity_mw", "heated_area_m2", "area_type", "ultra_low", "status", "geometry"]
PLANT_COLUMNS = ["id", "name", "capacity_m3_d", "generated_m3_d", "collected_m3_d", "treated_m3_d", "reclaimed_m3_d",
                 "sludge_t_d", "sludge_safe_t_d", "year_built", "sludge_route", "geometry"]


def current(layers: dict[str, gpd.GeoDataFrame]) -> None:
    """The heat sources and sewage plants as they stand now: without the columns kept for the history."""
    layers["heat_sources"] = layers["heat_sources"][HEAT_COLUMNS]
    layers["sewage_plants"] = layers["sewage_plants"][PLANT_COLUMNS]


def history(province: Province, layers: dict[str, gpd.GeoDataFrame],
            villages_then: gpd.GeoDataFrame) -> dict[int, dict[str, gpd.GeoDataFrame]]:
    """The heat sources, sewage plants, parking lots and key projects as they stood in 2020 and 2023 (and the
    villages in 2020), from the columns the generators drew for it; call before :func:`current`."""
    progress = np.array([county_rng(province.seed, "history", c.index).uniform(0.25, 0.95) for c in province.counties])
    index = {c.id: c.index for c in province.counties}
    lots = layers["parking_lots"]
    lot_progress = progress[[index[code] for code in in_county(province, list(lots.geometry))]]
    out: dict[int, dict[str, gpd.GeoDataFrame]] = {}
    for year, part in ((BASELINE_YEAR, np.zeros(len(lots))), (MID_YEAR, lot_progress)):
        heat = layers["heat_sources"].copy()
        heat["kind"] = heat[f"kind_{year}"]
        heat["status"] = heat[f"status_{year}"]
        heat.loc[heat["kind"] != layers["heat_sources"]["kind"], "ultra_low"] = False
        plants = layers["sewage_plants"].copy()
        plants["collected_m3_d"] = plants[f"collected_{year}"]
        plants["treated_m3_d"] = np.minimum(plants["treated_m3_d"], plants["collected_m3_d"])
        plants["reclaimed_m3_d"] = np.minimum(plants["reclaimed_m3_d"], plants["treated_m3_d"])
        plants = plants.loc[plants["year_built"] <= year]
        parking = lots.copy()
        parking["charger_spaces"] = np.floor(lots["charger_spaces"] * (0.06 + 0.94 * part)).astype(int)
        projects = layers["key_projects"].copy()
        late = (projects["status"] == "completed") & (projects["year"] > year)
        projects.loc[late, "status"] = "under_construction"
        out[year] = {"heat_sources": heat[HEAT_COLUMNS], "sewage_plants": plants[PLANT_COLUMNS], "parking_lots": parking,
                     "key_projects": projects}
    out[BASELINE_YEAR]["villages"] = villages_then
    return out


def baseline(province: Province, heat: gpd.GeoDataFrame, plants: gpd.GeoDataFrame) -> pd.DataFrame:
    """The 2020 baseline table from the 2020 layers: urban and rural clean-heating shares and the sewage collection
    rate of the province (the project's top zone) and of each county (operating heat sources only)."""
    heat = heat[heat["status"] == "operating"]
    clean = heat["kind"].isin(CLEAN_KINDS) | ((heat["kind"] == "chp") & heat["ultra_low"].astype(bool))
    heat = heat.assign(county=in_county(province, list(heat.geometry)), clean_area=np.where(clean, heat["heated_area_m2"], 0.0))
    plants = plants.assign(county=in_county(province, list(plants.geometry)))
    zones = [("city", PROVINCE_ID)] + [("county", c.id) for c in province.counties]
    rows: list[tuple[str, str, str, float]] = []
    for indicator, area_type in (("heating.clean_share", "urban"), ("heating.rural_clean", "rural")):
        sub = heat[heat["area_type"] == area_type]
        sums = sub.groupby("county")[["heated_area_m2", "clean_area"]].sum()
        for zone_type, zone_id in zones:
            total, good = (sub["heated_area_m2"].sum(), sub["clean_area"].sum()) if zone_type == "city" else \
                (sums["heated_area_m2"].get(zone_id, 0.0), sums["clean_area"].get(zone_id, 0.0))
            if total > 0:
                rows.append((indicator, zone_type, zone_id, float(good) / float(total)))
    sums = plants.groupby("county")[["generated_m3_d", "collected_m3_d"]].sum()
    for zone_type, zone_id in zones:
        generated, collected = (plants["generated_m3_d"].sum(), plants["collected_m3_d"].sum()) if zone_type == "city" else \
            (sums["generated_m3_d"].get(zone_id, 0), sums["collected_m3_d"].get(zone_id, 0))
        if generated > 0:
            rows.append(("sewage.collection_rate", zone_type, zone_id, float(collected) / float(generated)))
    width = max(4, int(math.log10(max(len(rows), 1))) + 1)
    return pd.DataFrame(
        [{"id": f"BL-{i:0{width}d}", "indicator": ind, "zone_type": zt, "zone_id": zid, "value": round(v, 4)}
         for i, (ind, zt, zid, v) in enumerate(rows, start=1)],
        columns=["id", "indicator", "zone_type", "zone_id", "value"],
    )
