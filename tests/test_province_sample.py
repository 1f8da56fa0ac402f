"""Tests of the province sample (gis sample --region henan): a small variant, its boundaries, rasters and tiling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from click.testing import CliRunner
from rasterio import features
from rasterio.windows import Window

from gis.cli import main
from gis.project.catalog import read_catalog
from gis.project.specs import read_spec
from gis.sample.province import PROVINCE_FILES, PROVINCE_ID
from gis.sample.province.crs import METRIC_CRS
from gis.sample.province.geography import Province, make_province
from gis.sample.province.rasters import POPULATION_TOTAL, Grid, Landscape, make_landscape, resolutions, write_landcover, write_population

SCALE = 0.01  # land cover at 100 m, population at 1 km


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("henan")
    result = CliRunner().invoke(main, ["sample", str(directory), "--region", "henan", "--scale", str(SCALE)])
    assert result.exit_code == 0, result.output
    return directory


@pytest.fixture(scope="module")
def province() -> Province:
    return make_province(2025, SCALE)


@pytest.fixture(scope="module")
def land(province: Province) -> Landscape:
    return make_landscape(province)


def test_writes_a_complete_project_that_gis_check_accepts(project: Path) -> None:
    data = project / "layers" / "sample"
    assert sorted(p.name for p in data.iterdir()) == sorted(PROVINCE_FILES)
    catalog = read_catalog(project / "layers" / "catalog.yaml")
    assert catalog.project.city.id == PROVINCE_ID == "156410000"
    assert catalog.project.city.name == "河南省"
    assert "Albers" in catalog.project.crs
    assert all(e.file.startswith("sample/") for e in catalog.layers.values())
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(project / "check")])
    assert result.exit_code == 0, result.output
    assert "64 of 65 indicators will run" in " ".join(result.output.split())


def test_157_counties_in_18_cities(project: Path) -> None:
    gpkg = project / "layers" / "sample" / "henan.gpkg"
    counties = pyogrio.read_dataframe(gpkg, layer="counties")
    cities = pyogrio.read_dataframe(gpkg, layer="cities")
    assert len(counties) == 157 and counties["id"].is_unique
    assert len(cities) == 18 and cities["id"].is_unique
    assert counties["id"].str.startswith("15641").all()
    assert set(counties["city_id"]) == set(cities["id"])
    # Zhengzhou (郑州市) has 12 county-level units, Jiyuan (济源市) is its own city
    per_city = counties.groupby("city_id").size()
    assert per_city["156410100"] == 12
    assert per_city["156419001"] == 1
    assert dict(zip(cities["id"], cities["counties"], strict=True)) == per_city.to_dict()
    assert set(pyogrio.read_dataframe(gpkg, layer="builtup")["county_id"]) == set(counties["id"])


def test_the_18_cities_are_the_prefecture_level(project: Path, tmp_path: Path) -> None:
    catalog = read_catalog(project / "layers" / "catalog.yaml")
    assert catalog.zones["prefecture"].layer == "cities" and catalog.zones["county"].prefecture_field == "city_id"
    specs = {path.stem: read_spec(path) for path in (project / "analyses").glob("*.yaml")}
    share, total = specs["permeable.share"], specs["energy.total"]
    assert share.zone_types == ["city", "prefecture", "county"] and share.target and share.target.zone_types == ["city", "prefecture"]
    assert total.target and total.target.zone_types == ["city"]  # the province's tonnes are no city's
    assert specs["industry.park_pilots"].zone_types == ["city", "park"]  # not by county: not by prefecture
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "--project", str(project), "--out", str(out), "--only", "permeable.share"])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})
    prefectures, counties = rows[rows["zone_type"] == "prefecture"], rows[rows["zone_type"] == "county"]
    assert len(prefectures) == 18 and prefectures["status"].isin(["met", "gap"]).all()
    parents = pyogrio.read_dataframe(project / "layers" / "sample" / "henan.gpkg", layer="counties").set_index("id")["city_id"]
    summed = counties.groupby(counties["zone_id"].map(parents))[["numerator", "denominator"]].sum()
    mine = prefectures.set_index("zone_id")[["numerator", "denominator"]]
    assert np.allclose(mine.loc[summed.index].to_numpy(), summed.to_numpy(), rtol=1e-12)


def test_rasters_tiled_compressed_and_complete(project: Path) -> None:
    data = project / "layers" / "sample"
    lc_res, pop_res = resolutions(SCALE)
    assert (lc_res, pop_res) == (100.0, 1000.0)
    for name, res, dtype in (("landcover", lc_res, "uint8"), ("population", pop_res, "float32")):
        with rasterio.open(data / f"{name}.tif") as dataset:
            profile = dataset.profile
            assert profile["tiled"] and profile["blockxsize"] == profile["blockysize"] == 512
            assert profile["compress"] == "deflate"
            assert dataset.res == (res, res) and profile["dtype"] == dtype
            assert dataset.crs == rasterio.crs.CRS.from_wkt(METRIC_CRS.to_wkt())
            values = dataset.read(1, masked=True)
        if name == "population":
            assert float(values.sum(dtype=np.float64)) == pytest.approx(POPULATION_TOTAL, rel=1e-4)
        else:
            assert set(np.unique(values.compressed())) <= {10, 20, 30, 40, 50, 60, 70, 71, 80}


def test_permeable_share_near_each_countys_target(project: Path, province: Province) -> None:
    """Within each large built-up area, the permeable classes cover about the county's drawn share; some short of 40 %."""
    with rasterio.open(project / "layers" / "sample" / "landcover.tif") as dataset:
        lc = dataset.read(1)
        transform = dataset.transform
    permeable, counted = {10, 20, 30, 40, 50, 60}, {10, 20, 30, 40, 50, 60, 70, 71}
    shares = {}
    for c in province.counties:
        if c.builtup.area < 40e6:  # enough 100 m cells for the share to settle
            continue
        cells = features.geometry_mask([c.builtup], lc.shape, transform, invert=True, all_touched=True)
        values = lc[cells]
        share = np.isin(values, list(permeable)).sum() / np.isin(values, list(counted)).sum()
        shares[c.id] = share
        assert share == pytest.approx(c.permeable_target, abs=0.05), c.name
    assert min(shares.values()) < 0.4 < max(shares.values())


def test_a_tile_is_the_same_whatever_the_tiling(province: Province, land: Landscape) -> None:
    """Land cover and population of a window equal the same cells cut from other tilings (values depend on position only)."""
    lc_res, pop_res = resolutions(SCALE)
    grid = Grid.over(land.bounds, lc_res)
    whole = land.landcover(grid, Window(2048, 1536, 1024, 1024))
    assert len(np.unique(whole)) >= 6  # a window with towns, farmland and hills, not empty
    pieces = np.block([[land.landcover(grid, Window(2048 + c, 1536 + r, 512, 512)) for c in (0, 512)] for r in (0, 512)])
    assert np.array_equal(whole, pieces)
    shifted = land.landcover(grid, Window(2048 + 300, 1536 + 200, 700, 600))
    assert np.array_equal(whole[200:800, 300:1000], shifted)
    grid = Grid.over(land.bounds, pop_res)
    whole = land.population(grid, Window(128, 128, 256, 256))
    pieces = np.block([[land.population(grid, Window(128 + c, 128 + r, 128, 128)) for c in (0, 128)] for r in (0, 128)])
    assert np.array_equal(whole, pieces)


def test_same_seed_same_data_other_seed_other_data(province: Province) -> None:
    again = make_province(2025, SCALE)
    assert [c.builtup.wkb for c in again.counties[:5]] == [c.builtup.wkb for c in province.counties[:5]]
    other = make_province(7, SCALE)
    assert [c.builtup.wkb for c in other.counties[:5]] != [c.builtup.wkb for c in province.counties[:5]]


def test_sample_refuses_a_folder_of_the_other_region(project: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sample", str(project)])
    assert result.exit_code != 0 and "holds the henan sample" in result.output
    result = CliRunner().invoke(main, ["sample", str(tmp_path / "x"), "--tile", "1000", "--region", "henan"])
    assert result.exit_code != 0 and "multiple of 512" in result.output


def test_written_rasters_do_not_depend_on_the_tile_size(project: Path, province: Province, land: Landscape, tmp_path: Path) -> None:
    """The GeoTIFFs written with 512- and 1024-cell tiles hold the same cells as those the command wrote (4096)."""
    for name, write in (("landcover", write_landcover), ("population", write_population)):
        with rasterio.open(project / "layers" / "sample" / f"{name}.tif") as dataset:
            expected = dataset.read(1)
        for tile in (512, 1024):
            path = write(tmp_path / f"{name}-{tile}.tif", province, land, tile=tile)
            with rasterio.open(path) as dataset:
                assert np.array_equal(dataset.read(1), expected), (name, tile)


def test_each_region_knows_its_sample_by_the_top_zone() -> None:
    from gis.sample import CITY_ID
    from gis.sample.regions import REGIONS, region_of

    assert (REGIONS["sanmenxia"].city_id, REGIONS["henan"].city_id) == (CITY_ID, PROVINCE_ID)
    assert region_of(PROVINCE_ID) == "henan" and region_of("156411200") == "sanmenxia" and region_of("110000") is None
