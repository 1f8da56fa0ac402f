"""The 2020 baseline table and the history layers as they stood in 2020 and 2023.

:func:`baseline` draws 2020 values below the current ones; :func:`history` derives from them the
heat sources, sewage plants, parking lots and key projects as they stood in 2020 and 2023;
:func:`baseline_from` computes the table ``baseline_2020.csv`` from the 2020 layers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.sample._common import BASELINE_YEAR, CITY_ID, COUNTY_CODES, MID_YEAR
from gis.sample.world import World

CLEAN_KINDS = ("gas_boiler", "heat_pump", "industrial_waste_heat", "biomass", "electric", "geothermal")
"""Kinds of heat source that heat cleanly (with coal CHP of ultra-low emissions), as the heating specs read them."""


def _clean(heat: pd.DataFrame) -> pd.Series:
    """Which heat sources heat cleanly: the clean kinds and coal CHP with ultra-low emissions."""
    return heat["kind"].isin(CLEAN_KINDS) | ((heat["kind"] == "chp") & heat["ultra_low"].astype(bool))


def append_rows(frame: gpd.GeoDataFrame, extra: gpd.GeoDataFrame, prefix: str) -> gpd.GeoDataFrame:
    """*frame* with the rows of *extra* after its own, their ids numbered on (``prefix-0121``, ...).

    The rows of *frame* keep their ids and values; *extra* has *frame*'s columns but ``id``.
    """
    width = len(str(frame["id"].iloc[-1]).rsplit("-", 1)[-1]) if len(frame) else 4
    extra = extra.assign(id=[f"{prefix}-{i:0{width}d}" for i in range(len(frame) + 1, len(frame) + len(extra) + 1)])
    extra = extra[list(frame.columns)].astype(frame.dtypes.drop("geometry").to_dict())
    out = pd.concat([frame, extra], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)


def baseline(world: World, heat: gpd.GeoDataFrame, plants: gpd.GeoDataFrame) -> pd.DataFrame:
    """2020 values computed from the current data minus random improvements."""
    rng = world.rng
    zones = [("city", CITY_ID)] + [("county", c) for c in COUNTY_CODES]
    heat = heat.assign(county=[world.county_of(g) for g in heat.geometry])
    heat = heat.assign(clean_area=np.where(_clean(heat), heat["heated_area_m2"], 0.0))
    plants = plants.assign(county=[world.county_of(g) for g in plants.geometry])

    def draws(lo: float, mid: float, hi: float) -> dict[str, float]:
        """Half the zones improved by >= mid, the others by less (shuffled)."""
        perm = rng.permutation(len(zones))
        big = set(perm[: (len(zones) + 1) // 2].tolist())
        return {zones[i][1]: float(rng.uniform(mid + 0.005, hi) if i in big else rng.uniform(lo, mid - 0.005))
                for i in range(len(zones))}

    rows = []
    for indicator, area_type in (("heating.clean_share", "urban"), ("heating.rural_clean", "rural")):
        d = draws(0.03, 0.10, 0.20)
        sub = heat[heat["area_type"] == area_type]
        for zt, zid in zones:
            z = sub if zt == "city" else sub[sub["county"] == zid]
            total = float(z["heated_area_m2"].sum())
            if total <= 0:
                continue
            now = float(z["clean_area"].sum()) / total
            rows.append((indicator, zt, zid, float(np.clip(now - d[zid], 0.0, 1.0))))
    d = draws(0.02, 0.05, 0.08)
    for zt, zid in zones:
        z = plants if zt == "city" else plants[plants["county"] == zid]
        gen = float(z["generated_m3_d"].sum())
        if gen <= 0:
            continue
        now = float(z["collected_m3_d"].sum()) / gen
        rows.append(("sewage.collection_rate", zt, zid, float(np.clip(now - d[zid], 0.0, 1.0))))
    return pd.DataFrame(
        [{"id": f"BL-{i:04d}", "indicator": ind, "zone_type": zt, "zone_id": zid, "value": round(v, 4)}
         for i, (ind, zt, zid, v) in enumerate(rows, start=1)],
        columns=["id", "indicator", "zone_type", "zone_id", "value"],
    )


def history(world: World, layers: dict[str, gpd.GeoDataFrame], baseline: pd.DataFrame) -> dict[int, dict[str, gpd.GeoDataFrame]]:
    """The history layers as they stood in 2020 and 2023, derived from the current ones.

    In 2020 each county's clean-heating and sewage-collection shares are its drawn baseline
    values; in 2023 each county has gone a random part of the way (some ahead of the straight
    path to 2025, some behind).  Parking chargers grow the same way; key projects count as
    completed in a year only when they were completed by then.
    """
    rng = world.rng
    counties = list(COUNTY_CODES)
    progress = {c: float(rng.uniform(0.25, 0.95)) for c in counties}  # share of the 2020->now change done by 2023
    value = {(r.indicator, r.zone_id): r.value for r in baseline.itertuples()}
    out: dict[int, dict[str, gpd.GeoDataFrame]] = {BASELINE_YEAR: {}, MID_YEAR: {}}

    heat = layers["heat_sources"].copy()
    heat["_county"] = [world.county_of(g) for g in heat.geometry]
    clean = _clean(heat)
    converted: dict[int, list] = {BASELINE_YEAR: [], MID_YEAR: []}  # clean now, coal boilers then
    for (county, area_type), group in heat.groupby(["_county", "area_type"]):
        indicator = "heating.clean_share" if area_type == "urban" else "heating.rural_clean"
        start = value.get((indicator, county))
        candidates = group.loc[clean[group.index] & (group["kind"] != "chp")]
        if start is None or candidates.empty:
            continue
        total = float(group["heated_area_m2"].sum())
        clean_area = float(group.loc[clean[group.index], "heated_area_m2"].sum())
        order = candidates.index[rng.permutation(len(candidates))]
        chosen, area = [], clean_area
        for index in order:  # convert back to coal until the 2020 share is reached
            if area / total <= start:
                break
            chosen.append(index)
            area -= float(group.at[index, "heated_area_m2"])
        converted[BASELINE_YEAR] += chosen
        still_coal = chosen[: int(round(len(chosen) * (1 - progress[county])))]
        converted[MID_YEAR] += still_coal
    plants = layers["sewage_plants"].copy()
    plants["_county"] = [world.county_of(g) for g in plants.geometry]
    lots = layers["parking_lots"].copy()
    lots["_county"] = [world.county_of(g) for g in lots.geometry]
    for year, part in ((BASELINE_YEAR, dict.fromkeys(counties, 0.0)), (MID_YEAR, progress)):
        frame = heat.copy()
        frame.loc[converted[year], "kind"] = "coal_boiler"
        frame.loc[converted[year], "ultra_low"] = False
        out[year]["heat_sources"] = frame.drop(columns="_county")

        frame = plants.copy()
        for county, group in plants.groupby("_county"):
            start = value.get(("sewage.collection_rate", county))
            if start is None:
                continue
            rate_now = group["collected_m3_d"] / group["generated_m3_d"]
            rate = start + (rate_now.mean() - start) * part[county]
            scale = (rate / rate_now.mean()) if rate_now.mean() > 0 else 1.0
            frame.loc[group.index, "collected_m3_d"] = (group["collected_m3_d"] * scale).round(0)
            for field in ("treated_m3_d", "reclaimed_m3_d"):
                frame.loc[group.index, field] = np.minimum(group[field], frame.loc[group.index, "collected_m3_d"]).round(0)
            frame.loc[group.index, "reclaimed_m3_d"] = np.minimum(
                frame.loc[group.index, "reclaimed_m3_d"], frame.loc[group.index, "treated_m3_d"])
        out[year]["sewage_plants"] = frame.drop(columns="_county")

        frame = lots.copy()
        share_then = 0.06 + (1 - 0.06) * lots["_county"].map(part).fillna(0.0)
        frame["charger_spaces"] = np.floor(lots["charger_spaces"] * share_then).astype(int)
        out[year]["parking_lots"] = frame.drop(columns="_county")

        frame = layers["key_projects"].copy()
        finished = (frame["status"] == "completed") & (frame["year"] <= year)
        frame.loc[~finished & (frame["status"] == "completed"), "status"] = "under_construction"
        out[year]["key_projects"] = frame
    return out


def baseline_from(world: World, heat: gpd.GeoDataFrame, plants: gpd.GeoDataFrame) -> pd.DataFrame:
    """The 2020 baseline table computed from the 2020 layers (the city from sums; operating heat sources only)."""
    heat = heat[heat["status"] == "operating"]
    heat = heat.assign(county=[world.county_of(g) for g in heat.geometry])
    heat = heat.assign(clean_area=np.where(_clean(heat), heat["heated_area_m2"], 0.0))
    plants = plants.assign(county=[world.county_of(g) for g in plants.geometry])
    zones = [("city", CITY_ID)] + [("county", c) for c in COUNTY_CODES]
    rows = []
    for indicator, area_type in (("heating.clean_share", "urban"), ("heating.rural_clean", "rural")):
        sub = heat[heat["area_type"] == area_type]
        for zt, zid in zones:
            z = sub if zt == "city" else sub[sub["county"] == zid]
            total = float(z["heated_area_m2"].sum())
            if total > 0:
                rows.append((indicator, zt, zid, float(z["clean_area"].sum()) / total))
    for zt, zid in zones:
        z = plants if zt == "city" else plants[plants["county"] == zid]
        generated = float(z["generated_m3_d"].sum())
        if generated > 0:
            rows.append(("sewage.collection_rate", zt, zid, float(z["collected_m3_d"].sum()) / generated))
    return pd.DataFrame(
        [{"id": f"BL-{i:04d}", "indicator": ind, "zone_type": zt, "zone_id": zid, "value": round(v, 4)}
         for i, (ind, zt, zid, v) in enumerate(rows, start=1)],
        columns=["id", "indicator", "zone_type", "zone_id", "value"],
    )
