"""The orchestration of the province sample: geography, facility layers, tables, then the rasters tile by tile."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd

from gis.sample._common import BASELINE_YEAR, GPKG_LAYERS
from gis.sample.province import facilities as fac
from gis.sample.province import tables
from gis.sample.province.geography import make_province
from gis.sample.province.rasters import TILE, make_landscape, write_landcover, write_population
from gis.sample.writers import write_csv, write_gpkg

GPKG_NAME = "henan.gpkg"
PROVINCE_FILES = (GPKG_NAME, "fleet.csv", "baseline_2020.csv", "county_statistics.csv", "county_statistics_2020.csv",
                  "landcover.tif", "population.tif")
"""Files written by :func:`build_province`, in that order."""
PROVINCE_LAYERS = ("counties", "cities", *GPKG_LAYERS[1:])
"""The layers of the GeoPackage as they stand now, in the order written (the earlier years follow)."""


def build_province(data_dir: Path, *, seed: int = 2025, scale: float = 1.0, tile: int = TILE) -> list[Path]:
    """Write the synthetic Henan sample data into *data_dir*; return the files written.

    Parameters
    ----------
    data_dir
        Target folder (the catalog's ``sample/`` folder); created if missing.
    seed
        Seed of every random stream; same seed and scale give the same data.
    scale
        Multiplies the feature counts per county (with minimums); below 1 it also coarsens the rasters
        (land cover 10 m / sqrt(scale), population 100 m / sqrt(scale)) and widens the street, sewer and
        heating grids (up to four times).
    tile
        Cells per side of a generated raster tile (a multiple of 512): the memory the rasters take, not their values.
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    province = make_province(seed, float(scale))
    layers: dict[str, gpd.GeoDataFrame] = {
        "counties": fac.counties_layer(province), "cities": fac.cities_layer(province),
        "builtup": fac.builtup_layer(province), "parks": fac.parks_layer(province),
        "charging_stations": fac.charging_stations(province), "parking_lots": fac.parking_lots(province),
        "service_areas": fac.service_areas(province), "charging_hubs": fac.charging_hubs(province),
    }
    villages, villages_then = fac.villages(province)
    layers["heating_network"], lines, chp = fac.heating_network(province)
    layers["heat_sources"] = fac.heat_sources(province, lines, chp, villages)
    layers["sewage_plants"] = fac.sewage_plants(province)
    layers["sewer_network"] = fac.sewer_network(province, layers["sewage_plants"])
    layers["outfalls"] = fac.outfalls(province, layers["sewage_plants"])
    layers["waste_facilities"] = fac.waste_facilities(province)
    layers["key_projects"] = fac.key_projects(province)
    layers["green_factories"] = fac.green_factories(province)
    layers["roads"] = fac.roads(province)
    layers["rivers"] = fac.rivers_layer(province)
    layers["two_high_projects"] = fac.two_high_projects(province)
    layers["new_buildings"] = fac.new_buildings(province)
    layers["public_institutions"] = fac.public_institutions(province)
    layers["key_energy_users"] = fac.key_energy_users(province)
    layers["key_polluters"] = fac.key_polluters(province)
    layers["fuel_outlets"] = fac.fuel_outlets(province)
    layers["water_sections"] = fac.water_sections(province)
    layers["water_sources"] = fac.water_sources(province)
    layers["rural_water_bodies"] = fac.rural_water_bodies(province, villages)
    layers["villages"] = villages
    years = tables.history(province, layers, villages_then)
    tables.current(layers)
    statistics, statistics_then = tables.county_statistics(province)
    baseline = tables.baseline(province, years[BASELINE_YEAR]["heat_sources"], years[BASELINE_YEAR]["sewage_plants"])
    fleet = fac.fleet(province)
    year_layers = [(f"{name}_{year}", frame) for year, frames in years.items() for name, frame in frames.items()]
    written = [
        write_gpkg(data_dir / GPKG_NAME, [(name, layers[name]) for name in PROVINCE_LAYERS] + year_layers),
        write_csv(data_dir / "fleet.csv", fleet),
        write_csv(data_dir / "baseline_2020.csv", baseline),
        write_csv(data_dir / "county_statistics.csv", statistics),
        write_csv(data_dir / "county_statistics_2020.csv", statistics_then),
    ]
    del layers, years, villages, villages_then
    land = make_landscape(province)
    written.append(write_landcover(data_dir / "landcover.tif", province, land, tile=tile))
    written.append(write_population(data_dir / "population.tif", province, land, tile=tile))
    return written
