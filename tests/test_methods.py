"""Every method on a tiny project whose answers are worked out by hand in the comments."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box
from tinyproject import X0, Y0, target

from gis import load_project
from gis.engines.local import run_project

SHORTFALL = {"unit": "things", "factor": 1, "rounding": "ceil"}


def _rows(root, spec_id: str) -> pd.DataFrame:
    result = run_project(load_project(root))
    table = result.indicators
    return table[table["indicator"] == spec_id].set_index("zone_id")


def _points(records: list[dict], coords: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(records, geometry=[Point(x, y) for x, y in coords], crs="EPSG:4546")


def test_ratio_of_sums_not_mean_of_shares(make_project):
    # County A: (30 + 10) / (100 + 100) = 0.20 -> gap of 0.25*200 - 40 = 10 spaces.
    # County B: 180 / 600 = 0.30 -> met.  City: 220 / 800 = 0.275 (the mean of shares would be 0.25).
    lots = _points(
        [
            {"id": "L1", "name": "a", "spaces": 100, "charger_spaces": 30},
            {"id": "L2", "name": "b", "spaces": 100, "charger_spaces": 10},
            {"id": "L3", "name": "c", "spaces": 600, "charger_spaces": 180},
        ],
        [(X0 + 100, Y0 + 100), (X0 + 900, Y0 + 900), (X0 + 1500, Y0 + 500)],
    )
    spec = {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
        "target": target(value=0.25), "shortfall": SHORTFALL,
    }
    rows = _rows(make_project({"lots": lots}, [spec]), "charging.parking_share")
    assert rows.loc["A", "value"] == pytest.approx(0.20)
    assert rows.loc["A", "status"] == "gap"
    assert rows.loc["A", "shortfall"] == 10
    assert rows.loc["B", "value"] == pytest.approx(0.30)
    assert rows.loc["B", "status"] == "met"
    assert rows.loc["C", "value"] == pytest.approx(0.275)
    assert rows.loc["C", "numerator"] == 220 and rows.loc["C", "denominator"] == 800
    assert rows.loc["A", "zone_name"] == "甲县"


def test_share_of_features_meeting_a_condition(make_project):
    # 3 of 4 service areas have fast charging: 0.75, one to equip.
    areas = _points(
        [{"id": f"S{i}", "name": f"s{i}", "fast": flag} for i, flag in enumerate([True, True, False, True])],
        [(X0 + 100, Y0 + 100), (X0 + 200, Y0 + 100), (X0 + 1200, Y0 + 100), (X0 + 1300, Y0 + 100)],
    )
    spec = {
        "id": "charging.highway_fast", "method": "ratio", "inputs": {"features": "areas"},
        "parameters": {"numerator_where": {"field": "fast", "eq": True}},
        "target": target(value=1.0), "shortfall": SHORTFALL,
    }
    rows = _rows(make_project({"areas": areas}, [spec]), "charging.highway_fast")
    assert rows.loc["C", "value"] == pytest.approx(0.75)
    assert rows.loc["C", "shortfall"] == 1
    assert rows.loc["A", "status"] == "met"
    assert rows.loc["B", "value"] == pytest.approx(0.5)


def test_raster_share_two_of_four_cells(make_project):
    # County A is covered by 2 x 2 cells of 500 m: permeable 40 and 50, impervious 70 twice -> 0.5,
    # shortfall none at a 0.5 target; county B has no cells (nodata) -> no_data.
    classes = [
        {"code": 40, "name": "green", "permeable": True},
        {"code": 50, "name": "paving", "permeable": True},
        {"code": 70, "name": "impervious"},
        {"code": 80, "name": "water", "excluded": True},
    ]
    raster = {"values": np.array([[40, 70], [50, 70]], dtype="uint8"), "cell": 500.0, "nodata": 0, "classes": classes}
    spec = {
        "id": "permeable.share", "method": "raster_share", "inputs": {"raster": "landcover"},
        "target": target(value=0.5), "shortfall": {"unit": "km2", "factor": 1e-6},
    }
    rows = _rows(make_project({"landcover": raster}, [spec]), "permeable.share")
    assert rows.loc["A", "value"] == pytest.approx(0.5)
    assert rows.loc["A", "denominator"] == pytest.approx(1_000_000)
    assert rows.loc["A", "status"] == "met"
    assert rows.loc["B", "status"] == "no_data"


def test_raster_share_inside_mask_leaves_water_out(make_project):
    # Built-up area: the top half of county A: cells 40 (permeable) and 80 (water, left out) -> 1.0.
    # Bottom half is 70 and 70.  Mask on the whole county: 1 permeable of 3 land cells -> 1/3,
    # shortfall at 0.4: 0.4 * 0.75 km2 - 0.25 km2 = 0.05 km2.
    classes = [{"code": 40, "name": "g", "permeable": True}, {"code": 70, "name": "i"}, {"code": 80, "name": "w", "excluded": True}]
    raster = {"values": np.array([[40, 80], [70, 70]], dtype="uint8"), "cell": 500.0, "nodata": 0, "classes": classes}
    builtup = gpd.GeoDataFrame(
        {"id": ["U1", "U2"], "name": ["top", "all"]},
        geometry=[box(X0, Y0 + 500, X0 + 1000, Y0 + 1000), box(X0, Y0, X0 + 1000, Y0 + 1000)],
        crs="EPSG:4546",
    )
    spec = {
        "id": "permeable.share", "method": "raster_share", "inputs": {"raster": "landcover", "mask": "builtup"},
        "target": target(value=0.4), "shortfall": {"unit": "km2", "factor": 1e-6},
    }
    top_only = builtup.iloc[[0]]
    root = make_project({"landcover": raster, "builtup": top_only}, [spec])
    rows = _rows(root, "permeable.share")
    assert rows.loc["A", "value"] == pytest.approx(1.0)
    assert "built-up" in rows.loc["A", "zone_name"]
    whole = builtup.iloc[[1]]
    root = make_project({"landcover": raster, "builtup": whole}, [spec])
    rows = _rows(root, "permeable.share")
    assert rows.loc["A", "value"] == pytest.approx(1 / 3)
    assert rows.loc["A", "shortfall"] == pytest.approx(0.05)


def test_coverage_of_built_up_area_by_connected_sewers(make_project):
    # Built-up area = county A.  A sewer at x = X0+100 reaching plant P1 covers x in [X0, X0+400]
    # at 300 m: 0.4 km2 covered, 0.6 km2 blank.  A sewer at x = X0+900 reaches no plant: not counted.
    builtup = gpd.GeoDataFrame({"id": ["U1"], "name": ["town"]}, geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000)], crs="EPSG:4546")
    sewers = gpd.GeoDataFrame(
        {"id": ["W1", "W2"], "plant_id": ["P1", "NOPE"]},
        geometry=[LineString([(X0 + 100, Y0 - 500), (X0 + 100, Y0 + 1500)]), LineString([(X0 + 900, Y0), (X0 + 900, Y0 + 1000)])],
        crs="EPSG:4546",
    )
    plants = _points([{"id": "P1", "name": "plant"}], [(X0 + 50, Y0 + 50)])
    spec = {
        "id": "sewage.blank_areas", "method": "coverage", "unit": "km2",
        "inputs": {"base": "builtup", "facilities": "sewers"},
        "parameters": {"facilities_where": {"field": "plant_id", "in_layer": "plants"}, "distance_m": 300, "value": "uncovered_km2"},
        "target": target("<=", value=0), "shortfall": {"unit": "km2", "factor": 1},
    }
    root = make_project({"builtup": builtup, "sewers": sewers, "plants": plants}, [spec])
    result = run_project(load_project(root))
    rows = result.indicators.set_index("zone_id")
    assert rows.loc["A", "value"] == pytest.approx(0.6)
    assert rows.loc["A", "shortfall"] == pytest.approx(0.6)
    assert rows.loc["B", "value"] == pytest.approx(0.0)
    assert rows.loc["B", "status"] == "met"
    assert rows.loc["C", "value"] == pytest.approx(0.6)
    gaps = result.results[0].gaps
    assert len(gaps) == 1
    assert gaps.geometry.area.iloc[0] == pytest.approx(600_000)
    assert gaps.total_bounds.tolist() == pytest.approx([X0 + 400, Y0, X0 + 1000, Y0 + 1000])


def test_coverage_of_population(make_project):
    # Population 100 in the top-left 500 m cell and 100 in the bottom-right one.  A station in the
    # top-left cell with a 50 m radius covers 100 * area(buffer) / 250,000 people.
    population = {"values": np.array([[100, 0], [0, 100]], dtype="float32"), "cell": 500.0, "nodata": -1}
    station = Point(X0 + 100, Y0 + 900)
    stations = _points([{"id": "S1", "name": "s"}], [(station.x, station.y)])
    spec = {
        "id": "charging.coverage", "method": "coverage", "inputs": {"base": "population", "facilities": "stations"},
        "parameters": {"distance_m": 50},
    }
    rows = _rows(make_project({"population": population, "stations": stations}, [spec]), "charging.coverage")
    covered = 100 * station.buffer(50).area / 250_000
    assert rows.loc["A", "denominator"] == pytest.approx(200)
    assert rows.loc["A", "numerator"] == pytest.approx(covered, rel=1e-6)
    assert rows.loc["A", "value"] == pytest.approx(covered / 200, rel=1e-6)
    assert rows.loc["A", "status"] == "no_target"
    assert math.isnan(rows.loc["B", "value"])


def test_features_within_coverage_of_another_layer(make_project):
    # Boilers at 100 m, 900 m and 1500 m from the network; 1000 m coverage -> 2 to phase out.
    network = gpd.GeoDataFrame(
        {"id": ["N1"], "network_id": ["HN-1"]}, geometry=[LineString([(X0, Y0), (X0, Y0 + 1000)])], crs="EPSG:4546"
    )
    boilers = _points(
        [{"id": f"B{i}", "name": f"b{i}", "kind": "coal_boiler"} for i in range(3)] + [{"id": "G", "name": "g", "kind": "gas_boiler"}],
        [(X0 + 100, Y0 + 500), (X0 + 900, Y0 + 500), (X0 + 1500, Y0 + 500), (X0 + 10, Y0 + 10)],
    )
    spec = {
        "id": "heating.coal_in_network", "method": "within", "unit": "boilers",
        "inputs": {"features": "boilers", "coverage": "network"},
        "parameters": {"where": {"field": "kind", "eq": "coal_boiler"}, "distance_m": 1000, "group_field": "network_id"},
        "target": target("<=", value=0), "shortfall": SHORTFALL,
    }
    root = make_project({"boilers": boilers, "network": network}, [spec])
    result = run_project(load_project(root))
    rows = result.indicators.set_index("zone_id")
    assert rows.loc["C", "value"] == 2
    assert rows.loc["C", "shortfall"] == 2
    assert rows.loc["B", "status"] == "met"
    gaps = result.results[0].gaps.set_index("id")
    assert sorted(gaps.index) == ["B0", "B1"]
    assert gaps.loc["B1", "distance_m"] == pytest.approx(900)
    assert gaps.loc["B0", "network_id"] == "HN-1"


def test_totals_against_city_targets(make_project):
    # Completed COD 1000 + 1500 = 2500 >= 2300; the planned 5000 does not count.
    projects = _points(
        [
            {"id": "P1", "name": "a", "cod_t": 1000.0, "status": "completed"},
            {"id": "P2", "name": "b", "cod_t": 1500.0, "status": "completed"},
            {"id": "P3", "name": "c", "cod_t": 5000.0, "status": "planned"},
        ],
        [(X0 + 100, Y0 + 100), (X0 + 1100, Y0 + 100), (X0 + 1200, Y0 + 100)],
    )
    specs = [
        {
            "id": "projects.cod", "method": "total", "unit": "t", "inputs": {"features": "projects"},
            "parameters": {"where": {"field": "status", "eq": "completed"}, "field": "cod_t"},
            "target": target(value=2300, zone_types=["city"]), "shortfall": {"unit": "t", "factor": 1},
        },
        {
            "id": "projects.cod_all", "method": "total", "unit": "t", "inputs": {"features": "projects"},
            "parameters": {"field": "cod_t"},
            "target": target(value=9000, zone_types=["city"]), "shortfall": {"unit": "t", "factor": 1},
        },
    ]
    root = make_project({"projects": projects}, specs)
    table = run_project(load_project(root)).indicators.set_index(["indicator", "zone_id"])
    assert table.loc[("projects.cod", "C"), "value"] == 2500
    assert table.loc[("projects.cod", "C"), "status"] == "met"
    assert table.loc[("projects.cod", "A"), "status"] == "no_target"
    assert table.loc[("projects.cod", "B"), "value"] == 1500
    assert table.loc[("projects.cod_all", "C"), "shortfall"] == pytest.approx(1500)


def test_presence_of_sewers_in_parks(make_project):
    # Park P1 holds 600 m of connected sewer, P2 only 300 m: with 500 m needed, one of two is served.
    parks = gpd.GeoDataFrame(
        {"id": ["P1", "P2"], "name": ["一园", "二园"], "kind": ["development_zone", "development_zone"]},
        geometry=[box(X0, Y0, X0 + 800, Y0 + 800), box(X0 + 1100, Y0, X0 + 1900, Y0 + 800)],
        crs="EPSG:4546",
    )
    sewers = gpd.GeoDataFrame(
        {"id": ["W1", "W2"], "plant_id": ["T1", "T1"]},
        geometry=[LineString([(X0 + 100, Y0 + 100), (X0 + 700, Y0 + 100)]), LineString([(X0 + 1200, Y0 + 100), (X0 + 1500, Y0 + 100)])],
        crs="EPSG:4546",
    )
    spec = {
        "id": "sewage.park_network", "method": "presence", "zone_types": ["city", "park"],
        "inputs": {"zones": "parks", "facilities": "sewers"}, "parameters": {"min_length_m": 500},
        "target": target(value=1.0, zone_types=["city", "park"]), "shortfall": SHORTFALL,
    }
    zones = {"county": {"layer": "counties"}, "park": {"layer": "parks"}}
    root = make_project({"parks": parks, "sewers": sewers}, [spec], zones=zones)
    result = run_project(load_project(root))
    rows = result.indicators.set_index("zone_id")
    assert rows.loc["P1", "status"] == "met"
    assert rows.loc["P2", "status"] == "gap"
    assert rows.loc["C", "value"] == pytest.approx(0.5)
    assert rows.loc["C", "shortfall"] == 1
    assert result.results[0].gaps["id"].tolist() == ["P2"]


def test_table_rows_by_county_field(make_project):
    # Fleet: county A 90 NEV of 100 vehicles less 5 emergency -> 90/95; B 50/50; city 140/145.
    fleet = pd.DataFrame(
        {"id": ["F1", "F2"], "county_id": ["A", "B"], "vehicles": [100, 50], "nev_vehicles": [90, 50], "emergency_vehicles": [5, 0]}
    )
    spec = {
        "id": "charging.fleet", "method": "ratio", "inputs": {"features": "fleet"},
        "parameters": {"numerator": "nev_vehicles", "denominator": ["vehicles", "-emergency_vehicles"], "zone_field": "county_id"},
        "target": target(value=1.0), "shortfall": SHORTFALL,
    }
    rows = _rows(make_project({"fleet": fleet}, [spec]), "charging.fleet")
    assert rows.loc["A", "value"] == pytest.approx(90 / 95)
    assert rows.loc["A", "shortfall"] == 5
    assert rows.loc["B", "status"] == "met"
    assert rows.loc["C", "value"] == pytest.approx(140 / 145)


def test_layers_in_another_crs_are_measured_in_the_metric_crs(make_project):
    # The same lots as in the first test, stored in CGCS2000 lon/lat: same answer.
    lots = _points(
        [
            {"id": "L1", "name": "a", "spaces": 100, "charger_spaces": 30},
            {"id": "L2", "name": "b", "spaces": 600, "charger_spaces": 180},
        ],
        [(X0 + 100, Y0 + 100), (X0 + 1500, Y0 + 500)],
    ).to_crs("EPSG:4490")
    spec = {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
    }
    rows = _rows(make_project({"lots": lots}, [spec]), "charging.parking_share")
    assert rows.loc["A", "value"] == pytest.approx(0.30)
    assert rows.loc["C", "denominator"] == 700
