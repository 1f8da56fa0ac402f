"""A county alone: a project whose county layer holds one county, read with the whole city's layers
(the same files, not clipped), gives that county's rows of the whole run.

For every indicator and year the county's row (value, status, shortfall, numerator, denominator,
baseline, trajectory, notes: every column of ``indicators.csv``) is the whole run's, byte for byte
as written; so are the rows of the parks that meet the county, and its gap features are the whole
run's gap features in the county.  What differs by definition is asserted too: the city row of a
run is the union of its counties (here: the one county), and what lies outside them is summed in
the ``unassigned`` row.

The counties: Shanzhou, where charging stations and heating networks beyond its border count in its
coverage (clipping them to the county changes its values); Lushi, which holds none of the heating
network (the layer lies wholly outside it); Hubin, which holds no expressway service area and whose
county tables name five other counties.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml
from mapdata import page_layers
from shapely.geometry import shape

import gis
from gis.api import Result
from gis.outputs.webmap_layers import MAP_REACH_M

GPKG = Path("layers/sample/sanmenxia.gpkg")
COUNTIES = ["156411203", "156411224", "156411202"]  # Shanzhou, Lushi, Hubin
CITY = "156411200"
KEY = ["indicator", "zone_type", "zone_id", "year"]


def one_county_project(project: Path, county_id: str, root: Path, *, beyond: bool = True) -> Path:
    """A project of one county: its own county layer, every other layer the whole city's file (linked, not
    copied), and the catalog saying so (``zones.county.inputs_beyond``) unless ``beyond`` is False."""
    one = root / county_id
    shutil.copytree(project / "analyses", one / "analyses")
    shutil.copytree(project / "maps", one / "maps")
    (one / "layers").mkdir()
    (one / "layers" / "sample").symlink_to(project / "layers" / "sample", target_is_directory=True)
    counties = gpd.read_file(project / GPKG, layer="counties", engine="pyogrio")
    alone = counties[counties["id"].astype(str) == county_id]
    assert len(alone) == 1
    alone.to_file(one / "layers" / "county.gpkg", layer="counties", driver="GPKG", engine="pyogrio")
    catalog = yaml.safe_load((project / "layers" / "catalog.yaml").read_text(encoding="utf-8"))
    catalog["layers"]["counties"].update(file="county.gpkg", layer="counties")
    if beyond:
        catalog["zones"]["county"]["inputs_beyond"] = True
    (one / "layers" / "catalog.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return one


def as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as ``indicators.csv`` holds them (every cell as its text), indexed by indicator, zone and year."""
    text = frame.to_csv(index=False)
    return read_rows(io.StringIO(text))


def read_rows(source: Path | io.StringIO) -> pd.DataFrame:
    """An ``indicators.csv``, every cell as text ("" when blank), indexed by indicator, zone and year."""
    return pd.read_csv(source, dtype=str, keep_default_na=False).set_index(KEY).sort_index()


def differences(whole: pd.DataFrame, alone: pd.DataFrame) -> list[str]:
    """Where two tables of rows (same index) differ: rows only in one, and cells, as readable lines."""
    found = [f"only in the whole run: {key}" for key in whole.index.difference(alone.index)]
    found += [f"only in the county's run: {key}" for key in alone.index.difference(whole.index)]
    both = whole.index.intersection(alone.index)
    left, right = whole.loc[both], alone.loc[both, whole.columns]
    for key, column in zip(*(left != right).to_numpy().nonzero(), strict=True):
        found.append(f"{both[key]} {whole.columns[column]}: {left.iat[key, column]!r} in the whole run, {right.iat[key, column]!r} alone")
    return found


@pytest.fixture(scope="module")
def whole(sample_run) -> tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The whole run's rows, its gap features (metric CRS), the counties and the parks (metric CRS)."""
    project, out = sample_run
    crs = gis.load_project(project).crs
    gaps = [pyogrio.read_dataframe(out / "planning.gpkg", layer=name) for name, _ in pyogrio.list_layers(out / "planning.gpkg")
            if name.endswith(".gaps")]
    counties = gpd.read_file(project / GPKG, layer="counties", engine="pyogrio").to_crs(crs)
    parks = gpd.read_file(project / GPKG, layer="parks", engine="pyogrio").to_crs(crs)
    return read_rows(out / "indicators.csv"), pd.concat(gaps, ignore_index=True).to_crs(crs), counties, parks


@pytest.fixture(scope="module")
def alone(sample_run, tmp_path_factory) -> dict[str, Result]:
    """Each county's run on its own (the engine, as the Python API runs it: no output files)."""
    root = tmp_path_factory.mktemp("alone")
    return {county: gis.load_project(one_county_project(sample_run[0], county, root)).run() for county in COUNTIES}


@pytest.mark.parametrize("county", COUNTIES)
def test_a_county_alone_has_its_rows_of_the_whole_run(whole, alone, county):
    rows, _, counties, parks = whole
    mine = alone[county]
    own = as_written(mine.run.indicator_history)
    expected = rows[(rows.index.get_level_values("zone_type") == "county") & (rows.index.get_level_values("zone_id") == county)]
    got = own[own.index.get_level_values("zone_type") == "county"]
    assert len(expected) > 60  # every indicator reported per county, several years
    assert differences(expected, got) == []
    # the parks of the run are those meeting the county, with the whole run's rows
    area = counties.loc[counties["id"].astype(str) == county].geometry.iloc[0]
    meeting = set(parks.loc[parks.intersects(area), "id"].astype(str))
    park_rows = rows[(rows.index.get_level_values("zone_type") == "park") & rows.index.get_level_values("zone_id").isin(meeting)]
    got_parks = own[own.index.get_level_values("zone_type") == "park"]
    assert meeting and len(park_rows) > 0
    assert differences(park_rows, got_parks) == []


@pytest.mark.parametrize("county", COUNTIES)
def test_a_county_alone_lists_the_whole_runs_gaps_in_it(whole, alone, county):
    _, gaps, counties, _ = whole
    area = counties.loc[counties["id"].astype(str) == county].geometry.iloc[0]
    # a coverage gap is a hole of one county (county_id); a gap feature is listed where it meets the county
    mine = gaps["county_id"].astype(str) == county if "county_id" in gaps else False
    mine = mine.where(gaps["county_id"].notna(), gaps.intersects(area))
    expected = set(map(tuple, gaps.loc[mine, ["indicator", "id"]].astype(str).to_numpy()))
    got = set(map(tuple, alone[county].gaps[["indicator", "id"]].astype(str).to_numpy()))
    assert len(expected) > 5
    assert got == expected


@pytest.mark.parametrize("county", COUNTIES)
def test_what_differs_by_definition(whole, alone, county):
    """The city row is the union of the counties run (here the one county); the rest of the city is 'unassigned'."""
    rows = whole[0]
    own = as_written(alone[county].run.indicator_history)
    numbers = ["value", "numerator", "denominator"]
    city = own.xs(("city", CITY), level=("zone_type", "zone_id"))[numbers]
    mine = own.xs(("county", county), level=("zone_type", "zone_id"))[numbers]
    shared = city.index.intersection(mine.index)
    assert len(shared) > 60
    assert city.loc[shared].equals(mine.loc[shared])
    # a table's rows of the other counties (county_statistics) go to the 'unassigned' row: the whole city less the county
    key = ("energy.total", "2025")
    whole_city = float(rows.xs(("city", CITY), level=("zone_type", "zone_id")).loc[key, "value"])
    whole_county = float(rows.xs(("county", county), level=("zone_type", "zone_id")).loc[key, "value"])
    rest = float(own.xs(("unassigned", "unassigned"), level=("zone_type", "zone_id")).loc[key, "value"])
    assert rest == pytest.approx(whole_city - whole_county, rel=1e-12)
    assert "unassigned" not in set(rows.index.get_level_values("zone_type"))


def test_the_comparison_finds_a_value_that_depends_on_the_other_counties(whole, alone):
    # The check can fail: a county row changed in the last digit, or a park row missing, is found.
    rows = whole[0]
    county = COUNTIES[0]
    got = as_written(alone[county].run.indicator_history)
    got = got[got.index.get_level_values("zone_type") == "county"].copy()
    expected = rows.loc[got.index]
    key = ("charging.coverage", "county", county, "2025")
    got.loc[key, "numerator"] = repr(float(got.loc[key, "numerator"]) * (1 + 1e-15))
    assert differences(expected, got) == [f"{key} numerator: {expected.loc[key, 'numerator']!r} in the whole run, {got.loc[key, 'numerator']!r} alone"]
    assert differences(expected, got.drop(index=key)) == [f"only in the whole run: {key}"]


def test_the_layers_beyond_the_county_are_said_once_each(alone):
    quality = alone["156411224"].data_quality  # Lushi holds none of the heating network: read, said once a year
    said = quality[(quality["layer"] == "heating_network") & quality["problem"].str.contains("features outside the counties")]
    assert said["problem"].str.replace(r"^\(\d{4}\) ", "", regex=True).str.match(r"(\d+) of \1 features outside").all()
    assert len(said) == 3 and (said["severity"] == "info").all()  # the data year, 2020 and 2023
    assert not (quality["problem"] == "outside every county").any()
    # the county table of the whole city: one line for the five other counties, not one per row or indicator
    tables = quality[quality["layer"] == "county_statistics"]
    assert tables["problem"].str.contains("5 county ids beyond the counties").tolist() == [True, True]  # the data year and 2020


def test_without_the_key_a_one_county_project_stops_and_names_it(sample_run, tmp_path):
    # The layers reach beyond the county; clipping them would lose the stations across the border, so the message names the key.
    one = one_county_project(sample_run[0], "156411224", tmp_path, beyond=False)
    with pytest.raises(gis.DataError) as stopped:
        gis.load_project(one).run()
    message = str(stopped.value)
    assert "features outside the study area" in message and "'zones.county.inputs_beyond: true'" in message
    assert "\n" not in message


def test_clipping_the_layers_to_the_county_would_change_its_rows(whole, sample_run, tmp_path):
    # Why the layers must reach beyond the county (and what the equality above guards): Shanzhou clipped to itself
    # loses the people that stations in Hubin cover across the border, and a coal boiler near Hubin's heating network.
    county, rows = "156411203", whole[0]
    one = one_county_project(sample_run[0], county, tmp_path)
    catalog_path = one / "layers" / "catalog.yaml"
    catalog = yaml.safe_load(catalog_path.read_text(encoding="utf-8"))
    area = gpd.read_file(one / "layers" / "county.gpkg", engine="pyogrio").geometry.iloc[0]
    for name in ("charging_stations", "heating_network"):
        entry = catalog["layers"][name]
        layer = gpd.read_file(sample_run[0] / GPKG, layer=entry["layer"], engine="pyogrio")
        layer[layer.intersects(area)].to_file(one / "layers" / "clipped.gpkg", layer=name, driver="GPKG", engine="pyogrio")
        entry.update(file="clipped.gpkg", layer=name, years={})
    catalog_path.write_text(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False), encoding="utf-8")
    clipped = gis.load_project(one).run(only=["charging.coverage", "heating.coal_in_network"]).indicators.set_index(["indicator", "zone_type", "zone_id"])
    for indicator in ("charging.coverage", "heating.coal_in_network"):
        before = float(rows.loc[(indicator, "county", county, "2025"), "numerator"])
        assert float(clipped.loc[(indicator, "county", county), "numerator"]) < before


def test_the_key_is_for_the_counties_only(sample_run, tmp_path):
    one = one_county_project(sample_run[0], "156411224", tmp_path)
    path = one / "layers" / "catalog.yaml"
    catalog = yaml.safe_load(path.read_text(encoding="utf-8"))
    catalog["zones"]["park"]["inputs_beyond"] = True
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(gis.ConfigError, match=r"'zones.park.inputs_beyond' is for the counties only; set 'zones.county.inputs_beyond'"):
        gis.load_project(one)


def test_a_target_set_for_counties_beyond_the_run_is_passed_over_and_said(sample_run, tmp_path):
    # The city's spec sets targets county by county; a one-county run judges its own county by its entry.
    lushi, hubin = "156411224", "156411202"
    one = one_county_project(sample_run[0], lushi, tmp_path)
    path = one / "analyses" / "sewage.sludge_safe.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["target"]["by_zone"] = {lushi: 0.9, hubin: 0.97}
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = gis.load_project(one).run(only=["sewage.sludge_safe"])
    rows = result.indicators.set_index(["zone_type", "zone_id"])
    assert rows.loc[("county", lushi), "target"] == 0.9
    said = result.data_quality[result.data_quality["problem"].str.contains("target.by_zone names 1 zones beyond the counties")]
    assert len(said) >= 1 and said["problem"].str.endswith(hubin).all()


def test_a_county_alone_maps_what_lies_near_it_not_the_whole_city(sample_run, alone, tmp_path):
    # Hubin's map draws the charging stations within 5 km of Hubin (they may serve it), not the city's others.
    project, _ = sample_run
    hubin = alone["156411202"]
    hubin.save(tmp_path / "out", pdf=False)
    page = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    panel = json.loads(re.search(r"var P = (\{.*?\});\n", page).group(1))  # type: ignore[union-attr]
    items = [item for group in panel["groups"] for item in group["items"] if "Public charging stations" in item["label"]]
    assert len(items) == 1
    inside = re.search(rf"(\w+)\.addTo\({items[0]['layer']}\)", page)  # the stations' layer in its marker cluster
    assert inside
    drawn = gpd.GeoSeries([shape(f["geometry"]) for f in page_layers(page)[inside.group(1)]["features"]], crs="EPSG:4326")
    crs = gis.load_project(project).crs
    counties = gpd.read_file(project / GPKG, layer="counties", engine="pyogrio").to_crs(crs)
    area = counties.loc[counties["id"].astype(str) == "156411202"].geometry.iloc[0]
    stations = gpd.read_file(project / GPKG, layer="charging_stations", engine="pyogrio").to_crs(crs)
    near = stations.loc[stations.distance(area) <= MAP_REACH_M]
    assert 0 < len(near) < len(stations)
    assert len(drawn) == len(near)
    assert (drawn.to_crs(crs).distance(area) <= MAP_REACH_M + 2).all()  # within 5 km, give or take the map's rounding
    # the roads and rivers are cut at 5 km: their parts near Hubin, not the city's whole network
    context = [item for group in panel["groups"] for item in group["items"] if "Roads" in item["label"] or "Rivers" in item["label"]]
    assert len(context) == 2
    for item in context:
        lines = gpd.GeoSeries([shape(f["geometry"]) for f in page_layers(page)[item["layer"]]["features"]], crs="EPSG:4326").to_crs(crs)
        vertices = shapely.points(shapely.get_coordinates(lines.values))
        assert len(vertices) > 0 and shapely.distance(vertices, area).max() <= MAP_REACH_M + 50  # simplified at 20 m, rounded
