"""The orchestration: :func:`build_sample` draws every layer in a fixed order and writes the files.

The order of the calls is the order of the random draws: changing it changes the data.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np

from gis.sample import heating, history, projects, rasters, roads, sewage, transport
from gis.sample._common import BASELINE_YEAR, GPKG_LAYERS, GPKG_NAME
from gis.sample.boundaries import builtup_layer, counties_layer, make_world, parks_layer
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
        ``sanmenxia.gpkg``, ``fleet.csv``, ``baseline_2020.csv``, ``landcover.tif``,
        ``population.tif`` inside *data_dir*.
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
    baseline = history.baseline_from(w, years[BASELINE_YEAR]["heat_sources"], years[BASELINE_YEAR]["sewage_plants"])
    year_layers = [(f"{name}_{year}", frame) for year, frames in years.items() for name, frame in frames.items()]
    # from a random stream of their own: the layers above stay as they were for the seed
    layers["roads"], layers["rivers"] = roads.roads_and_rivers(w, roads.roads_rng(seed))

    written = [
        write_gpkg(data_dir / GPKG_NAME, [(name, layers[name]) for name in GPKG_LAYERS] + year_layers),
        write_csv(data_dir / "fleet.csv", fleet),
        write_csv(data_dir / "baseline_2020.csv", baseline),
    ]
    landcover, lc_transform = rasters.landcover(w)
    written.append(write_raster(data_dir / "landcover.tif", landcover, lc_transform, nodata=0))
    del landcover
    population, pop_transform = rasters.population(w)
    written.append(write_raster(data_dir / "population.tif", population, pop_transform, nodata=-1.0))
    return written
