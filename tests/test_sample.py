"""Tests of the synthetic Sanmenxia sample-data generator (gis.sample)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
import yaml
from geopandas.testing import assert_geodataframe_equal
from rasterio import features

from gis.sample import COUNTY_CODES, POPULATION_TOTAL, build_sample

CATALOG_PATH = Path(__file__).resolve().parents[1] / "layers" / "catalog.yaml"
SCALE = 0.1
SEED = 2025
HUBIN = "156411202"


@pytest.fixture(scope="module")
def catalog() -> dict:
    with open(CATALOG_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _build(root: Path, seed: int = SEED) -> tuple[Path, list[Path]]:
    data_dir = root / "layers" / "sample"
    return data_dir, build_sample(data_dir, seed=seed, scale=SCALE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    return _build(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def data_dir(built: tuple[Path, list[Path]]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def layers_dir(data_dir: Path) -> Path:
    """The folder catalog file paths are relative to."""
    return data_dir.parent


@pytest.fixture(scope="module")
def gpkg(data_dir: Path) -> Path:
    return data_dir / "sanmenxia.gpkg"


@pytest.fixture(scope="module")
def vectors(catalog: dict, layers_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    return {
        name: gpd.read_file(layers_dir / spec["file"], layer=spec["layer"], engine="pyogrio")
        for name, spec in catalog["layers"].items()
        if spec["kind"] == "vector"
    }


@pytest.fixture(scope="module")
def counties(vectors: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    return vectors["counties"]


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"id": str, "county_id": str, "zone_id": str}, encoding="utf-8")


# ---------------------------------------------------------------------------------------
# files, layers and columns against the catalog
# ---------------------------------------------------------------------------------------


def test_returns_the_written_files(built: tuple[Path, list[Path]]) -> None:
    data_dir, files = built
    assert [f.name for f in files] == [
        "sanmenxia.gpkg", "fleet.csv", "baseline_2020.csv", "county_statistics.csv", "county_statistics_2020.csv",
        "landcover.tif", "population.tif",
    ]
    assert all(f.parent == data_dir and f.is_file() for f in files)
    # written under temporary names and renamed: nothing else is left behind
    assert sorted(p.name for p in data_dir.iterdir()) == sorted(f.name for f in files)


def test_every_catalog_layer_exists_with_its_columns(catalog: dict, layers_dir: Path) -> None:
    gpkg_layers: dict[Path, dict[str, str]] = {}
    for name, spec in catalog["layers"].items():
        path = layers_dir / spec["file"]
        assert path.is_file(), f"{name}: {path} missing"
        if spec["kind"] == "vector":
            if path not in gpkg_layers:
                gpkg_layers[path] = {str(n): str(t) for n, t in pyogrio.list_layers(path)}
            assert spec["layer"] in gpkg_layers[path], f"{name}: layer {spec['layer']} missing"
            info = pyogrio.read_info(path, layer=spec["layer"])
            assert set(info["fields"]) == set(spec["fields"].values()), name
            assert info["geometry_type"] == spec["geometry"], name
            assert info["features"] > 0, name
        elif spec["kind"] == "table":
            df = _read_csv(path)
            assert set(df.columns) == set(spec["fields"].values()), name
            assert len(df) > 0, name
        else:
            assert spec["kind"] == "raster"
            with rasterio.open(path) as src:
                assert src.count == 1
        for year, source in spec.get("years", {}).items():  # the same layer as it stood in earlier years
            if spec["kind"] == "table":
                df = _read_csv(layers_dir / source.get("file", spec["file"]))
                assert set(df.columns) == set(spec["fields"].values()), (name, year)
                assert len(df) > 0, (name, year)
                continue
            info = pyogrio.read_info(layers_dir / source.get("file", spec["file"]), layer=source["layer"])
            assert set(info["fields"]) == set(spec["fields"].values()), (name, year)
            assert info["features"] > 0, (name, year)
    # no layer the catalog does not know about
    cat_layers = {spec["layer"] for spec in catalog["layers"].values() if spec["kind"] == "vector"}
    cat_layers |= {s["layer"] for spec in catalog["layers"].values() for s in spec.get("years", {}).values() if "layer" in s}
    for layers in gpkg_layers.values():
        assert set(layers) == cat_layers


def test_geopackage_version_1_2(gpkg: Path) -> None:
    with sqlite3.connect(gpkg) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
    con.close()


def test_vector_crs_is_cgcs2000(vectors: dict[str, gpd.GeoDataFrame]) -> None:
    for name, gdf in vectors.items():
        assert gdf.crs is not None and gdf.crs.to_epsg() == 4490, name


def test_ids_are_unique_readable_strings(catalog: dict, layers_dir: Path,
                                         vectors: dict[str, gpd.GeoDataFrame]) -> None:
    tables = {name: _read_csv(layers_dir / spec["file"]) for name, spec in catalog["layers"].items()
              if spec["kind"] == "table"}
    for name, df in {**vectors, **tables}.items():
        field = catalog["layers"][name]["id_field"]
        ids = df[field]
        assert ids.notna().all() and ids.map(lambda v: isinstance(v, str) and len(v) > 0).all(), name
        assert ids.is_unique, name
    assert sorted(vectors["counties"]["id"]) == sorted(COUNTY_CODES)
    assert vectors["charging_stations"]["id"].iloc[0] == "CS-0001"
    assert vectors["parking_lots"]["id"].iloc[0] == "PL-0001"


def test_points_fall_inside_the_counties(vectors: dict[str, gpd.GeoDataFrame],
                                         counties: gpd.GeoDataFrame) -> None:
    union = shapely.union_all(counties.geometry.values)
    shapely.prepare(union)
    for name, gdf in vectors.items():
        if (gdf.geom_type == "Point").all():
            inside = shapely.contains_xy(union, gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())
            assert inside.all(), f"{name}: {(~inside).sum()} points outside the counties"
        else:
            assert gdf.geometry.is_valid.all() and not gdf.geometry.is_empty.any(), name


# ---------------------------------------------------------------------------------------
# the real county boundaries
# ---------------------------------------------------------------------------------------


def test_counties_are_the_six_real_units(counties: gpd.GeoDataFrame) -> None:
    assert len(counties) == 6
    assert dict(zip(counties["id"], counties["name"], strict=True)) == COUNTY_CODES
    assert set(counties["name_en"]) == {"Hubin", "Shanzhou", "Mianchi", "Lushi", "Yima", "Lingbao"}
    area_km2 = counties.to_crs(4546).area.sum() / 1e6
    assert 9900 <= area_km2 <= 10000


# ---------------------------------------------------------------------------------------
# rasters
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dtype", "nodata", "res"),
    [("landcover.tif", "uint8", 0, 30.0), ("population.tif", "float32", -1.0, 100.0)],
)
def test_raster_format(data_dir: Path, name: str, dtype: str, nodata: float, res: float) -> None:
    with rasterio.open(data_dir / name) as src:
        assert src.crs.to_epsg() == 4546
        assert src.dtypes[0] == dtype
        assert src.nodata == nodata
        assert src.profile["tiled"] and src.compression.name == "deflate"
        assert src.res[0] == pytest.approx(res / math.sqrt(SCALE))
        left, bottom, right, top = src.bounds
        assert left <= 440_666 and right >= 593_828 and bottom <= 3_713_716 and top >= 3_884_067
        assert right - left < 160_000 and top - bottom < 180_000


def test_landcover_classes_and_nodata_outside(data_dir: Path, counties: gpd.GeoDataFrame,
                                              catalog: dict) -> None:
    codes = {c["code"] for c in catalog["layers"]["landcover"]["classes"]}
    with rasterio.open(data_dir / "landcover.tif") as src:
        lc = src.read(1)
        inside = features.rasterize(((g, 1) for g in counties.to_crs(src.crs).geometry),
                                    out_shape=lc.shape, transform=src.transform) == 1
    assert set(np.unique(lc[inside]).tolist()) <= codes
    assert codes <= set(np.unique(lc).tolist())
    assert (lc[~inside] == 0).all()


def test_population_total(data_dir: Path) -> None:
    with rasterio.open(data_dir / "population.tif") as src:
        pop = src.read(1)
    valid = pop[pop != -1]
    assert (valid >= 0).all()
    assert abs(float(valid.sum(dtype=np.float64)) - 2.0e6) <= 0.1 * 2.0e6
    assert float(valid.sum(dtype=np.float64)) == pytest.approx(POPULATION_TOTAL, rel=1e-3)


# ---------------------------------------------------------------------------------------
# reproducibility
# ---------------------------------------------------------------------------------------


def _assert_same_data(a: Path, b: Path, catalog: dict) -> None:
    for spec in catalog["layers"].values():
        pa, pb = a.parent / spec["file"], b.parent / spec["file"]
        if spec["kind"] == "vector":
            assert_geodataframe_equal(gpd.read_file(pa, layer=spec["layer"]), gpd.read_file(pb, layer=spec["layer"]))
        elif spec["kind"] == "table":
            pd.testing.assert_frame_equal(_read_csv(pa), _read_csv(pb))
        else:
            with rasterio.open(pa) as ra, rasterio.open(pb) as rb:
                np.testing.assert_array_equal(ra.read(1), rb.read(1))
                assert ra.transform == rb.transform


def test_same_seed_same_data_other_seed_other_data(data_dir: Path, catalog: dict,
                                                   tmp_path: Path) -> None:
    again, _ = _build(tmp_path / "again")
    _assert_same_data(data_dir, again, catalog)
    # identical bytes too (GeoPackage timestamps are pinned)
    for name in ("sanmenxia.gpkg", "landcover.tif", "fleet.csv"):
        assert (data_dir / name).read_bytes() == (again / name).read_bytes(), name

    other, _ = _build(tmp_path / "other", seed=SEED + 1)
    with pytest.raises(AssertionError):
        _assert_same_data(data_dir, other, catalog)
    a = gpd.read_file(data_dir / "sanmenxia.gpkg", layer="charging_stations")
    b = gpd.read_file(other / "sanmenxia.gpkg", layer="charging_stations")
    assert not a.geometry.geom_equals(b.geometry).all()
    # the real boundaries do not depend on the seed
    assert_geodataframe_equal(gpd.read_file(data_dir / "sanmenxia.gpkg", layer="counties"),
                              gpd.read_file(other / "sanmenxia.gpkg", layer="counties"))


def test_rejects_a_bad_scale(tmp_path: Path) -> None:
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError):
            build_sample(tmp_path, scale=bad)
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------
# the data carries both met targets and gaps
# ---------------------------------------------------------------------------------------


def _by_county(points: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    joined = gpd.sjoin(points, counties[["id", "geometry"]].rename(columns={"id": "county"}), predicate="within")
    assert len(joined) == len(points)
    return joined


def test_parking_charger_share_met_in_some_counties_only(vectors: dict[str, gpd.GeoDataFrame],
                                                          counties: gpd.GeoDataFrame) -> None:
    lots = vectors["parking_lots"]
    assert (lots["charger_spaces"] >= 0).all() and (lots["charger_spaces"] <= lots["spaces"]).all()
    assert lots["spaces"].between(30, 800).all()
    sums = _by_county(lots, counties).groupby("county")[["spaces", "charger_spaces"]].sum()
    assert len(sums) == 6
    share = sums["charger_spaces"] / sums["spaces"]
    assert (share >= 0.25).any() and (share < 0.25).any()
    assert sums["charger_spaces"].sum() / sums["spaces"].sum() < 0.25


def test_key_projects_completed_meet_some_targets_only(vectors: dict[str, gpd.GeoDataFrame]) -> None:
    kp = vectors["key_projects"]
    cols = ["cod_t", "nh3n_t", "nox_t", "vocs_t"]
    assert (kp[cols] >= 0).all().all()
    done = kp.loc[kp["status"] == "completed", cols].sum()
    assert done["cod_t"] >= 2300 and done["vocs_t"] >= 1252
    assert done["nh3n_t"] < 34 and done["nox_t"] < 6231
    total = kp[cols].sum()
    assert total["cod_t"] > 2300 and total["nh3n_t"] > 34 and total["nox_t"] > 6231 and total["vocs_t"] > 1252
    assert set(kp["status"]) <= {"completed", "under_construction", "planned"}
    assert kp["year"].between(2021, 2025).all()


def test_zones(vectors: dict[str, gpd.GeoDataFrame], counties: gpd.GeoDataFrame) -> None:
    bu = vectors["builtup"].to_crs(4546).set_index("county_id")
    area = bu.area / 1e6
    assert set(bu.index) == set(COUNTY_CODES)
    assert 60 <= area[HUBIN] <= 80 and area.drop(HUBIN).between(10, 25).all()
    assert bu.loc[HUBIN, "kind"] == "central_city" and (bu.drop(HUBIN)["kind"] == "county_seat").all()
    parks = vectors["parks"].to_crs(4546)
    assert (parks.area / 1e6).between(2, 15).all()
    zone = parks.loc[parks["name"] == "城乡一体化示范区", "geometry"].iloc[0]
    hubin = counties.to_crs(4546).set_index("id").geometry[HUBIN]
    assert 0.3 <= zone.intersection(hubin).area / zone.area <= 0.6


def test_facility_attributes_are_consistent(vectors: dict[str, gpd.GeoDataFrame], data_dir: Path) -> None:
    cs = vectors["charging_stations"]
    assert cs["ports"].between(2, 20).all() and (cs["fast_ports"] <= cs["ports"]).all()
    sa = vectors["service_areas"]
    assert sa["fast_charging"].any() and not sa["fast_charging"].all()
    assert (sa.loc[~sa["fast_charging"], "fast_chargers"] == 0).all()
    sp = vectors["sewage_plants"]
    assert (sp["collected_m3_d"] <= sp["generated_m3_d"]).all()
    assert (sp["treated_m3_d"] <= sp["collected_m3_d"]).all()
    assert (sp["reclaimed_m3_d"] <= sp["treated_m3_d"]).all()
    assert (sp["sludge_safe_t_d"] <= sp["sludge_t_d"]).all()
    assert vectors["sewer_network"]["plant_id"].isna().any()
    assert set(vectors["sewer_network"]["plant_id"].dropna()) <= set(sp["id"])
    wf = vectors["waste_facilities"]
    inc = wf.loc[wf["kind"] == "incineration", "capacity_t_d"].sum() / wf["capacity_t_d"].sum()
    assert 0.85 <= inc < 0.95
    assert len(vectors["green_factories"]) < 20
    fleet = _read_csv(data_dir / "fleet.csv")
    assert len(fleet) == 12
    assert (fleet["nev_vehicles"] + fleet["emergency_vehicles"] <= fleet["vehicles"]).all()


def test_baseline_rows(data_dir: Path) -> None:
    bl = _read_csv(data_dir / "baseline_2020.csv")
    assert set(bl["indicator"]) == {"heating.clean_share", "heating.rural_clean", "sewage.collection_rate"}
    assert bl["value"].between(0, 1).all()
    for _, rows in bl.groupby("indicator"):
        assert set(rows["zone_id"]) == {"156411200", *COUNTY_CODES}
        assert (rows.loc[rows["zone_type"] == "city", "zone_id"] == "156411200").all()


def test_the_rest_of_the_plan_has_met_and_gaps(vectors: dict[str, gpd.GeoDataFrame], counties: gpd.GeoDataFrame,
                                                data_dir: Path) -> None:
    now = _read_csv(data_dir / "county_statistics.csv").set_index("county_id")
    then = _read_csv(data_dir / "county_statistics_2020.csv").set_index("county_id")
    assert sorted(now.index) == sorted(then.index) == sorted(COUNTY_CODES)
    intensity = (now["energy_tce"] / now["gdp_10k_yuan"]) / (then["energy_tce"] / then["gdp_10k_yuan"]) - 1
    assert (intensity <= -0.16).any() and (intensity > -0.16).any()
    assert 1.3e7 <= then["gdp_10k_yuan"].sum() <= 1.6e7 and 0.7 <= then["energy_tce"].sum() / then["gdp_10k_yuan"].sum() <= 0.9
    assert (now["industrial_energy_tce"] < now["energy_tce"]).all() and (now["water_leaked_m3"] < now["water_supplied_m3"]).all()

    agencies = _by_county(vectors["public_institutions"], counties)
    agencies = agencies[(agencies["kind"] == "agency") & (agencies["level"] == "county_and_above")]
    share = agencies.groupby("county")["conservation_agency"].mean()
    assert (share >= 0.8).any() and (share < 0.8).any() and 0.7 <= agencies["conservation_agency"].mean() < 0.8

    projects = vectors["two_high_projects"]
    assert len(projects) >= 15 and set(projects["stage"]) == {"existing", "under_construction", "proposed"}
    assert projects.loc[projects["stage"] == "existing", "coal_offset_secured"].isna().all()
    assert projects.loc[projects["sector"] != "coal_power", "retrofitted"].isna().all()

    sections = vectors["water_sections"]
    assert sections["water_class"].between(1, 6).all() and 1 <= (sections["water_class"] >= 4).sum() <= 2

    villages = _by_county(vectors["villages"], counties).groupby("county")["sewage_treated"].mean()
    villages_2020 = gpd.read_file(data_dir / "sanmenxia.gpkg", layer="villages_2020")
    rise = villages - _by_county(villages_2020, counties).groupby("county")["sewage_treated"].mean()
    assert (rise > 0).all() and (rise <= 0.2).all()


def test_loose_coal_plants_and_parks_extend_their_layers(vectors: dict[str, gpd.GeoDataFrame], data_dir: Path) -> None:
    heat = vectors["heat_sources"]
    coal = heat["kind"].isin(["loose_coal", "agri_coal"])
    assert coal.any() and not coal.iloc[: int((~coal).sum())].any()  # appended after the other sources
    assert set(heat.loc[coal, "status"]) == {"operating", "replaced"} and not heat.loc[coal, "ultra_low"].any()
    heat_2020 = gpd.read_file(data_dir / "sanmenxia.gpkg", layer="heat_sources_2020")
    assert (heat_2020.loc[heat_2020["kind"].isin(["loose_coal", "agri_coal"]), "status"] == "operating").all()
    plants = vectors["sewage_plants"]
    new = plants[plants["year_built"] >= 2021]
    assert new["sludge_route"].isna().any() and new["sludge_route"].notna().any()
    parks = vectors["parks"].set_index("name")
    assert parks.loc["灵宝市循环化改造试点园区", "pilot"] == "circular"
    assert set(parks.loc[parks["pilot"].notna(), "pilot"]) == {"green", "circular"} and parks["pilot"].notna().sum() == 4
    assert parks.loc[parks["kind"] != "chemical_park", "rectified"].isna().all()
