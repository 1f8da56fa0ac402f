"""The orchestration: :func:`build_sample` draws every layer in a fixed order and writes the files.

The order of the calls is the order of the random draws: changing it changes the data.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.sample import energy, environment, heating, history, projects, rasters, roads, sewage, transport
from gis.sample._common import BASELINE_YEAR, GPKG_LAYERS, GPKG_NAME, MID_YEAR, stream
from gis.sample.boundaries import builtup_layer, counties_layer, make_world, park_records, parks_layer
from gis.sample.world import World
from gis.sample.writers import write_csv, write_gpkg, write_raster


def build_sample(data_dir: Path, *, seed: int = 2025, scale: float = 1.0) -> list[Path]:
    """Write the synthetic Sanmenxia sample data into data_dir; return the files written.

    Parameters
    ----------
    data_dir
        Target folder (the catalog's ``sample/`` folder); created if missing.
    seed
        Seed of ``numpy.random.default_rng``; same seed and scale give the same data.
    scale
        Multiplies the counts of the numerous point layers (with per-layer minimums) and
        refines the rasters (land cover 30 m / sqrt(scale), population 100 m / sqrt(scale)).

    Returns
    -------
    list of Path
        ``sanmenxia.gpkg``, ``fleet.csv``, ``baseline_2020.csv``, ``county_statistics.csv``,
        ``county_statistics_2020.csv``, ``landcover.tif``, ``population.tif`` inside *data_dir*.
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)

    w = make_world(np.random.default_rng(seed), float(scale))
    layers: dict[str, gpd.GeoDataFrame] = {}
    layers["counties"] = counties_layer(w)
    layers["builtup"] = builtup_layer(w)
    layers["parks"] = parks_layer(w)
    layers["charging_stations"] = transport.charging_stations(w)
    layers["parking_lots"] = transport.parking_lots(w)
    layers["service_areas"] = transport.service_areas(w)
    layers["charging_hubs"] = transport.charging_hubs(w)
    fleet = transport.fleet(w)
    layers["heating_network"] = heating.heating_network(w)
    layers["heat_sources"] = heating.heat_sources(w)
    layers["sewage_plants"] = sewage.sewage_plants(w)
    layers["sewer_network"] = sewage.sewer_network(w)
    layers["outfalls"] = sewage.outfalls(w)
    layers["waste_facilities"] = projects.waste_facilities(w)
    layers["key_projects"] = projects.key_projects(w)
    layers["green_factories"] = projects.green_factories(w)
    baseline = history.baseline(w, layers["heat_sources"], layers["sewage_plants"])
    years = history.history(w, layers, baseline)
    # from random streams of their own: the layers above stay as they were for the seed
    layers["roads"], layers["rivers"] = roads.roads_and_rivers(w, roads.roads_rng(seed))
    statistics, statistics_then = _rest_of_plan(w, seed, layers, years)
    baseline = history.baseline_from(w, years[BASELINE_YEAR]["heat_sources"], years[BASELINE_YEAR]["sewage_plants"])
    year_layers = [(f"{name}_{year}", frame) for year, frames in years.items() for name, frame in frames.items()]

    written = [
        write_gpkg(data_dir / GPKG_NAME, [(name, layers[name]) for name in GPKG_LAYERS] + year_layers),
        write_csv(data_dir / "fleet.csv", fleet),
        write_csv(data_dir / "baseline_2020.csv", baseline),
        write_csv(data_dir / "county_statistics.csv", statistics),
        write_csv(data_dir / "county_statistics_2020.csv", statistics_then),
    ]
    landcover, lc_transform = rasters.landcover(w)
    written.append(write_raster(data_dir / "landcover.tif", landcover, lc_transform, nodata=0))
    del landcover
    population, pop_transform = rasters.population(w)
    written.append(write_raster(data_dir / "population.tif", population, pop_transform, nodata=-1.0))
    return written


def _rest_of_plan(w: World, seed: int, layers: dict[str, gpd.GeoDataFrame],
                  years: dict[int, dict[str, gpd.GeoDataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The layers of the rest of the plan, each from a random stream of its own, into *layers* and *years*;
    the new rows and columns of the parks, heat sources and sewage plants after their own.  Returns the
    county statistics now and in 2020."""
    parks = park_records(w, stream(seed, "park_records")).set_axis(layers["parks"].index)
    layers["parks"] = layers["parks"].assign(**{column: parks[column] for column in parks.columns})
    plants = sewage.plant_records(w, stream(seed, "plant_records"), layers["sewage_plants"]).set_index("id")
    for year, frames in ((None, layers), *years.items()):
        frame = frames["sewage_plants"]
        frame = frame.assign(year_built=frame["id"].map(plants["year_built"]).astype("int64"),
                             sludge_route=frame["id"].map(plants["sludge_route"]))
        # a plant built after an earlier year is not in that year's state
        frames["sewage_plants"] = frame if year is None else frame.loc[frame["year_built"] <= year]
    villages, villages_then = environment.villages(w, stream(seed, "villages"))
    coal = heating.coal_users(w, stream(seed, "coal_users"), villages, layers["heat_sources"])
    for year, frames in ((None, layers), (MID_YEAR, years[MID_YEAR]), (BASELINE_YEAR, years[BASELINE_YEAR])):
        status = coal["status"] if year is None else coal[f"status_{year}"]
        extra = coal.drop(columns=["status", "status_2023", "status_2020"]).assign(status=status)
        frames["heat_sources"] = history.append_rows(frames["heat_sources"], extra, "HS")
    statistics, statistics_then = energy.county_statistics(stream(seed, "county_statistics"))
    layers["two_high_projects"] = energy.two_high_projects(w, stream(seed, "two_high_projects"))
    layers["new_buildings"] = energy.new_buildings(w, stream(seed, "new_buildings"))
    layers["public_institutions"] = energy.public_institutions(w, stream(seed, "public_institutions"))
    layers["key_energy_users"] = energy.key_energy_users(w, stream(seed, "key_energy_users"))
    layers["key_polluters"] = environment.key_polluters(w, stream(seed, "key_polluters"))
    layers["fuel_outlets"] = environment.fuel_outlets(w, stream(seed, "fuel_outlets"), layers["roads"])
    layers["water_sections"] = environment.water_sections(w, stream(seed, "water_sections"), layers["rivers"])
    layers["water_sources"] = environment.water_sources(w, stream(seed, "water_sources"), layers["rivers"])
    layers["rural_water_bodies"] = environment.rural_water_bodies(w, stream(seed, "rural_water_bodies"), villages)
    layers["villages"] = villages
    years[BASELINE_YEAR]["villages"] = villages_then
    return statistics, statistics_then
