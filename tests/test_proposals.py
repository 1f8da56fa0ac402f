"""Proposals on tiny projects whose best answers are worked out by hand, and on a sample run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from mapdata import page_layers
from shapely.geometry import LineString, Point, box
from tinyproject import X0, Y0, item_rows, propose_project, target, zone_row

from gis import load_project
from gis.cli import main
from gis.engines.local import run_project
from gis.errors import ConfigError
from gis.outputs.folder import read_run
from gis.outputs.report import render_report
from gis.outputs.webmap import write_map
from gis.project.config import reference_root
from gis.proposals import KINDS, PROPOSAL_COLUMNS, Proposals, ProposalSettings, greedy_cover, proposal_kind, propose, write_proposals

LEADING = ["indicator", "zone_type", "zone_id", "zone_name", "action", "quantity", "unit", "value_after", "meets_target"]
COUNT = {"unit": "things", "factor": 1, "rounding": "ceil"}
XSS = "<script>alert(1)</script>"


def _points(records: list[dict], coords: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(records, geometry=[Point(X0 + x, Y0 + y) for x, y in coords], crs="EPSG:4546")


# --- charging coverage: greedy by people newly covered ---------------------------------------


def _population() -> np.ndarray:
    """People on 100 m cells over both counties (20 x 10, row 0 at the top)."""
    people = np.zeros((10, 20), dtype="float32")
    people[7:9, 1:3] = 100  # cluster 1: 400 people in x 100..300, y 100..300 of county A
    people[2:4, 6:8] = 75  # cluster 2: 300 people in x 600..800, y 600..800
    people[9, 9] = 100  # 100 people in x 900..1000, y 0..100, covered by a station
    people[4:6, 14:16] = 50  # county B: 200 people around (1500, 500), covered by a station
    return people


def _coverage_project(make_project, candidates: dict) -> Path:
    stations = _points([{"id": "S1", "name": "a"}, {"id": "S2", "name": "b"}], [(950, 50), (1500, 500)])
    lots = _points(
        [
            {"id": "P0", "name": "lot with chargers", "chargers": 4},  # the best site, but it has chargers
            {"id": "P1", "name": "cluster 1 centre", "chargers": 0},
            {"id": "P2", "name": "near cluster 1", "chargers": 0},
            {"id": "P3", "name": "cluster 2", "chargers": 0},
            {"id": "P4", "name": "in county B", "chargers": 0},
        ],
        [(700, 700), (200, 200), (230, 230), (690, 700), (1500, 900)],
    )
    spec = {
        "id": "charging.coverage", "method": "coverage", "inputs": {"base": "population", "facilities": "stations"},
        "parameters": {"distance_m": 150, "value": "covered_share"}, "zone_types": ["city", "county"],
        "proposal": {"kind": "coverage_sites", **candidates},
    }
    population = {"values": _population(), "cell": 100.0, "nodata": -1.0}
    return make_project({"stations": stations, "lots": lots, "population": population}, [spec])


def test_coverage_greedy_picks_by_people_newly_covered(make_project):
    # County A: 800 people, 100 covered by S1 (0.125). P1 covers cluster 1 (400), P2 most of it
    # (over 300), P3 cluster 2 (300). Greedy picks P1 first; P2 then adds nothing new, so P3
    # (300) comes second: 800 of 800 covered. P0 has chargers and is no candidate; P4 lies in B.
    root = _coverage_project(make_project, {
        "coverage_target": 0.8, "candidates": ["lots"], "candidates_where": {"lots": {"field": "chargers", "eq": 0}},
    })
    result = propose_project(root)
    table = result.table
    assert list(table.columns[: len(LEADING)]) == LEADING
    county = zone_row(table, "charging.coverage", "A")
    assert county["quantity"] == 2
    assert county["value_before"] == pytest.approx(0.125)
    assert county["value_after"] == pytest.approx(1.0)
    assert county["meets_target"]
    assert county["target"] == 0.8
    items = item_rows(table, "charging.coverage", "A")
    assert list(items["item_id"]) == ["P1", "P3"]
    assert list(items["adds"]) == pytest.approx([400, 300], abs=1e-3)
    assert list(items["value_after"]) == pytest.approx([0.625, 1.0])
    assert list(items["meets_target"]) == [False, True]
    assert not (table["zone_id"] == "B").any()  # B is fully covered: no gap, no proposal
    city = zone_row(table, "charging.coverage", "C")
    assert city["quantity"] == 2 and city["value_after"] == pytest.approx(1.0)
    sites = result.layers["charging.coverage.proposals"]
    assert list(sites["id"]) == ["lots:P1", "lots:P3"]
    assert list(sites["rank"]) == [1, 2]
    assert sites.crs == "EPSG:4546"


def test_coverage_stops_when_no_candidate_adds_anyone(make_project):
    # Without the filter P0 (cluster 2, id first) ties with P3; a target of 1.0 cannot be met
    # once both clusters are covered: the county row says so.
    root = _coverage_project(make_project, {"coverage_target": 1.0, "candidates": ["lots"]})
    table = propose_project(root).table
    items = item_rows(table, "charging.coverage", "A")
    assert list(items["item_id"]) == ["P1", "P0"]
    county = zone_row(table, "charging.coverage", "A")
    assert county["value_after"] == pytest.approx(1.0)


def test_coverage_target_unreachable(make_project):
    # Only P2 as a candidate: it covers part of cluster 1 and nothing else; the county stays short.
    root = _coverage_project(make_project, {
        "coverage_target": 0.9, "candidates": ["lots"], "candidates_where": {"lots": {"field": "id", "eq": "P2"}},
    })
    county = zone_row(propose_project(root).table, "charging.coverage", "A")
    assert county["quantity"] == 1
    assert 0.125 + 300 / 800 < county["value_after"] < 0.625
    assert not county["meets_target"]


def test_coverage_missing_candidate_layer_is_left_out_and_said(make_project):
    # A candidate layer the project does not have: the sites come from the others, the notes say so.
    root = _coverage_project(make_project, {"coverage_target": 0.8, "candidates": ["lots", "bus_depots"],
                                            "candidates_where": {"lots": {"field": "chargers", "eq": 0}}})
    result = propose_project(root)
    assert list(item_rows(result.table, "charging.coverage", "A")["item_id"]) == ["P1", "P3"]
    assert "charging.coverage: layer 'bus_depots' is not in the catalog; its sites are not candidates" in result.notes


def test_coverage_misspelt_candidate_layer_is_refused_at_load(make_project):
    root = _coverage_project(make_project, {"coverage_target": 0.8, "candidates": ["lots", "lotz"]})
    with pytest.raises(ConfigError, match=r"charging\.coverage\.yaml:\d+: key 'proposal\.candidates\.1': layer 'lotz' is not in .*did you mean 'lots'"):
        load_project(root)


def test_greedy_cover_updates_the_covered_geometry():
    # Three candidate strips of unit height: [0,2], [1,3], [3,4.5] (amount = area), 3.5 needed.
    # [0,2] and [1,3] both add 2: the lower index wins. Then [1,3] adds only 1 (2..3) and
    # [3,4.5] adds 1.5: a choice by the amounts before the first pick would take [1,3].
    clips = np.array([box(0, 0, 2, 1), box(1, 0, 3, 1), box(3, 0, 4.5, 1)], dtype=object)
    picks = greedy_cover(clips, clips, [], lambda geoms: np.array([g.area for g in geoms]), need=3.5)
    assert [i for i, _ in picks] == [0, 2]
    assert [gain for _, gain in picks] == pytest.approx([2.0, 1.5])


# --- parking-space share -------------------------------------------------------------------


def test_parking_spaces_lowest_share_first(make_project):
    # County A: 70 of 700 spaces (0.10); 25 % needs 175: 105 more. Lowest share first, ties most
    # spaces first: L5 (0 of 300) gets 75, L1 (0 of 100) 25, L2 (20 of 200) the last 5.
    # County B: 30 of 100, met. City: 100 of 800 -> 205 of 800 after.
    lots = _points(
        [
            {"id": "L1", "name": "a", "spaces": 100, "charger_spaces": 0},
            {"id": "L2", "name": "b", "spaces": 200, "charger_spaces": 20},
            {"id": "L3", "name": "c", "spaces": 100, "charger_spaces": 50},
            {"id": "L5", "name": "e", "spaces": 300, "charger_spaces": 0},
            {"id": "L4", "name": "d", "spaces": 100, "charger_spaces": 30},
        ],
        [(100, 100), (200, 200), (300, 300), (400, 400), (1500, 500)],
    )
    spec = {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
        "target": target(value=0.25), "shortfall": COUNT, "proposal": {"kind": "parking_spaces"},
    }
    result = propose_project(make_project({"lots": lots}, [spec]))
    table = result.table
    county = zone_row(table, "charging.parking_share", "A")
    assert county["quantity"] == 105 and county["unit"] == "spaces"
    assert county["value_after"] == pytest.approx(0.25) and county["meets_target"]
    items = item_rows(table, "charging.parking_share", "A")
    assert list(items["item_id"]) == ["L5", "L1", "L2"]
    assert list(items["quantity"]) == [75, 25, 5]
    assert list(items["value_after"]) == pytest.approx([145 / 700, 170 / 700, 175 / 700])
    city = zone_row(table, "charging.parking_share", "C")
    assert city["quantity"] == 105 and city["value_after"] == pytest.approx(205 / 800)
    assert not (table["zone_id"] == "B").any()
    layer = result.layers["charging.parking_share.proposals"].set_index("id")
    assert layer.loc["L5", "spaces_to_equip"] == 75 and layer.loc["L2", "share_after"] == pytest.approx(25 / 200)


# --- expressway service areas ------------------------------------------------------------


def test_highway_fast_lists_the_nearest_fast_charger(make_project):
    areas = _points(
        [{"id": "SA1", "name": "x", "fast": False}, {"id": "SA2", "name": "y", "fast": True}],
        [(100, 500), (800, 500)],
    )
    stations = _points(
        [{"id": "F1", "name": "fast", "fast_ports": 2}, {"id": "F2", "name": "slow", "fast_ports": 0}],
        [(100, 3500), (100, 1500)],
    )
    spec = {
        "id": "charging.highway_fast", "method": "ratio", "inputs": {"features": "areas"},
        "parameters": {"numerator_where": {"field": "fast", "eq": True}},
        "target": target(value=1.0), "shortfall": COUNT,
        "proposal": {"kind": "fast_charging", "stations": "stations", "stations_where": {"field": "fast_ports", "gt": 0}},
    }
    result = propose_project(make_project({"areas": areas, "stations": stations}, [spec]))
    items = item_rows(result.table, "charging.highway_fast", "A")
    assert list(items["item_id"]) == ["SA1"]
    assert "F1" in items.iloc[0]["detail"] and "3.0 km" in items.iloc[0]["detail"]
    county = zone_row(result.table, "charging.highway_fast", "A")
    assert county["value_before"] == pytest.approx(0.5) and county["value_after"] == pytest.approx(1.0)
    layer = result.layers["charging.highway_fast.proposals"]
    assert layer.iloc[0]["station_id"] == "F1" and layer.iloc[0]["distance_km"] == pytest.approx(3.0)


# --- coal boilers and the clean-heating share ---------------------------------------------


def _heat_project(make_project) -> Path:
    common = {"area_type": "urban", "status": "operating", "ultra_low": False}
    sources = _points(
        [
            {"id": "H1", "name": "small", "kind": "coal_boiler", "capacity_mw": 10.0, "heated_area_m2": 10000.0, **common},
            {"id": "H2", "name": "large", "kind": "coal_boiler", "capacity_mw": 20.0, "heated_area_m2": 30000.0, **common},
            {"id": "H3", "name": "far", "kind": "coal_boiler", "capacity_mw": 5.0, "heated_area_m2": 20000.0, **common},
            {"id": "G1", "name": "gas", "kind": "gas_boiler", "capacity_mw": 50.0, "heated_area_m2": 60000.0, **common},
        ],
        [(200, 550), (800, 450), (500, 950), (300, 300)],
    )
    network = gpd.GeoDataFrame(
        {"id": ["N1"], "network_id": ["NET"], "name": ["net"]},
        geometry=[LineString([(X0 + 100, Y0 + 500), (X0 + 900, Y0 + 500)])], crs="EPSG:4546",
    )
    coal = {
        "id": "heating.coal_in_network", "theme": "heating", "method": "within", "unit": "boilers",
        "inputs": {"features": "heat_sources", "coverage": "heating_network"},
        "parameters": {"where": {"field": "kind", "eq": "coal_boiler"}, "distance_m": 100, "group_field": "network_id",
                       "label_fields": ["name", "capacity_mw", "heated_area_m2"]},
        "target": target("<=", value=0), "shortfall": COUNT,
        "proposal": {"kind": "coal_boilers", "clean_share": "heating.clean_share"},
    }
    clean = {
        "id": "heating.clean_share", "theme": "heating", "method": "ratio", "inputs": {"features": "heat_sources"},
        "parameters": {
            "where": {"all": [{"field": "area_type", "eq": "urban"}, {"field": "status", "eq": "operating"}]},
            "numerator": "heated_area_m2", "numerator_where": {"field": "kind", "in": ["gas_boiler"]},
            "denominator": "heated_area_m2",
        },
        "target": target(value=0.7), "shortfall": COUNT,
    }
    return make_project({"heat_sources": sources, "heating_network": network}, [coal, clean])


def test_coal_boilers_largest_first_and_the_clean_share_after(make_project):
    # H1 and H2 lie 50 m from the network (inside 100 m), H3 450 m away. Convert H2 (20 MW)
    # then H1 (10 MW). Clean share of A: 60,000 / 120,000 = 0.5; after: 100,000 / 120,000.
    result = propose_project(_heat_project(make_project))
    table = result.table
    items = item_rows(table, "heating.coal_in_network", "A")
    inside = items[items["rank"].notna()]
    assert list(inside["item_id"]) == ["H2", "H1"]
    assert list(inside["value_after"]) == [1.0, 0.0]
    assert list(inside["meets_target"]) == [False, True]
    outside = items[items["rank"].isna()]
    assert list(outside["item_id"]) == ["H3"] and "0.45 km" in outside.iloc[0]["detail"]
    clean = zone_row(table, "heating.clean_share", "A")
    assert clean["quantity"] == 40000
    assert clean["value_before"] == pytest.approx(0.5)
    assert clean["value_after"] == pytest.approx(100000 / 120000)
    assert clean["meets_target"]
    layer = result.layers["heating.coal_in_network.proposals"].set_index("id")
    assert layer.loc["H3", "distance_km"] == pytest.approx(0.45) and not layer.loc["H3", "in_coverage"]
    assert layer.loc["H2", "rank"] == 1 and layer.loc["H2", "network_id"] == "NET"


# --- permeable ground: blocks with the most impervious ground ------------------------------


def test_permeable_blocks_largest_impervious_first(make_project):
    # Built-up area: the lower half of county A = two 500 m blocks of 25 cells (100 m) each.
    # Left block: 20 impervious, 5 permeable. Right: 10 impervious, 10 permeable, 5 water.
    # Share 15 / 45 cells; 80 % needs 36 cells: 21 more = 0.21 km2: the left block's 20 cells,
    # then 1 cell of the right one.
    cover = np.full((10, 20), 10, dtype="uint8")  # permeable elsewhere
    cover[5:10, 0:5] = 70
    cover[5:6, 0:5] = 40  # left block: one row of green (5 cells), 20 impervious
    cover[5:10, 5:10] = 70
    cover[5:7, 5:10] = 40  # right block: 10 green
    cover[7:8, 5:10] = 80  # 5 water, 10 impervious left
    classes = [
        {"code": 10, "name": "crop", "permeable": True},
        {"code": 40, "name": "green", "permeable": True},
        {"code": 70, "name": "impervious"},
        {"code": 80, "name": "water", "excluded": True},
    ]
    builtup = gpd.GeoDataFrame({"id": ["BU1"], "name": ["town"], "county_id": ["A"]},
                               geometry=[box(X0, Y0, X0 + 1000, Y0 + 500)], crs="EPSG:4546")
    spec = {
        "id": "permeable.share", "theme": "permeable", "method": "raster_share",
        "inputs": {"raster": "landcover", "mask": "builtup"}, "parameters": {"flag": "permeable"},
        "target": target(value=0.8), "shortfall": {"unit": "km2", "factor": 0.000001, "decimals": 3},
        "proposal": {"kind": "permeable_blocks", "max_convert_share": 1.0},
    }
    root = make_project(
        {"builtup": builtup, "landcover": {"values": cover, "cell": 100.0, "nodata": 0, "classes": classes}}, [spec],
        zones={"county": {"layer": "counties"}, "builtup": {"layer": "builtup"}},
    )
    result = propose_project(root)
    county = zone_row(result.table, "permeable.share", "A")
    assert county["value_before"] == pytest.approx(15 / 45)
    assert county["quantity"] == pytest.approx(0.21)
    assert county["value_after"] == pytest.approx(0.8) and county["meets_target"]
    assert "roofs not told apart: land cover 70 impervious" in county["detail"]  # one impervious class, no footprints
    items = item_rows(result.table, "permeable.share", "A")
    left, right = f"A:BU1:{int(X0 / 500)}:{int(Y0 / 500)}", f"A:BU1:{int(X0 / 500) + 1}:{int(Y0 / 500)}"
    assert list(items["item_id"]) == [left, right]
    assert list(items["quantity"]) == pytest.approx([0.20, 0.01])
    blocks = result.layers["permeable.share.proposals"].set_index("id")
    assert blocks.loc[left, "impervious_km2"] == pytest.approx(0.20)
    assert blocks.loc[right, "convert_km2"] == pytest.approx(0.01)
    assert blocks.loc[left].geometry.area == pytest.approx(250_000)


# --- sewage blank areas --------------------------------------------------------------------


def test_sewer_extension_to_the_nearest_connected_sewer(make_project):
    # A sewer reaching plant P1 along y = 100 serves the built-up area up to y = 400 (300 m);
    # the strip y 400..1000 is blank (0.6 km2, 60 cells of 100 people). A sewer without a plant
    # at y = 900 does not count. Inside the strip one collection sewer along y = 700 (600 m
    # apart: the strip is 600 m wide) from x 0 to 1000 covers all of it; the trunk runs 600 m
    # down to the connected sewer: 1.6 km.
    builtup = gpd.GeoDataFrame({"id": ["BU1"], "name": ["town"], "county_id": ["A"]},
                               geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000)], crs="EPSG:4546")
    sewers = gpd.GeoDataFrame(
        {"id": ["S1", "S2"], "plant_id": ["P1", "NONE"]},
        geometry=[LineString([(X0, Y0 + 100), (X0 + 1000, Y0 + 100)]), LineString([(X0, Y0 + 900), (X0 + 1000, Y0 + 900)])],
        crs="EPSG:4546",
    )
    plants = _points([{"id": "P1", "name": "plant"}], [(500, 50)])
    people = np.zeros((10, 20), dtype="float32")
    people[:, :10] = 100
    spec = {
        "id": "sewage.blank_areas", "theme": "sewage", "method": "coverage", "unit": "km2",
        "inputs": {"base": "builtup", "facilities": "sewers"},
        "parameters": {"facilities_where": {"field": "plant_id", "in_layer": "plants"}, "distance_m": 300, "value": "uncovered_km2"},
        "target": target("<=", value=0), "shortfall": {"unit": "km2", "factor": 1, "decimals": 3},
        "proposal": {"kind": "sewer_extensions", "population": "population"},
    }
    root = make_project({"builtup": builtup, "sewers": sewers, "plants": plants,
                         "population": {"values": people, "cell": 100.0, "nodata": -1.0}}, [spec])
    result = propose_project(root)
    county = zone_row(result.table, "sewage.blank_areas", "A")
    assert county["value_before"] == pytest.approx(0.6, abs=1e-3)
    assert county["quantity"] == pytest.approx(1.6, abs=1e-3) and county["unit"] == "km of sewer"
    assert county["adds"] == pytest.approx(6000, rel=1e-3)
    assert county["value_after"] == 0 and county["meets_target"]
    lines = result.layers["sewage.blank_areas.proposals"]
    assert list(lines["sewer_id"]) == ["S1"]
    assert lines.iloc[0]["collection_m"] == pytest.approx(1000, abs=0.5) and lines.iloc[0]["trunk_m"] == pytest.approx(600, abs=0.5)
    assert lines.geometry.iloc[0].length == pytest.approx(1600, abs=0.5)
    assert lines.iloc[0]["people"] == pytest.approx(6000, rel=1e-3)


# --- key projects ----------------------------------------------------------------------------


def test_project_totals_unfinished_projects(make_project):
    # Completed: 100 t COD and 100 t NOx. Unfinished: K2 50/100, K3 30/0, K4 0/20.
    # COD: target 200, 80 t unfinished -> 180, still short. NOx: target 150, 120 t unfinished -> met.
    projects = _points(
        [
            {"id": "K1", "name": "done", "status": "completed", "cod_t": 100.0, "nox_t": 100.0},
            {"id": "K2", "name": "building", "status": "under_construction", "cod_t": 50.0, "nox_t": 100.0},
            {"id": "K3", "name": "planned", "status": "planned", "cod_t": 30.0, "nox_t": 0.0},
            {"id": "K4", "name": "planned 2", "status": "planned", "cod_t": 0.0, "nox_t": 20.0},
        ],
        [(100, 100), (200, 200), (1300, 300), (1400, 400)],
    )
    specs = [
        {
            "id": f"projects.{p}", "theme": "projects", "method": "total", "unit": "t", "inputs": {"features": "key_projects"},
            "parameters": {"where": {"field": "status", "eq": "completed"}, "field": f"{p}_t"},
            "target": target(value=value, zone_types=["city"]), "shortfall": {"unit": "t", "factor": 1, "decimals": 1},
            "proposal": {"kind": "project_totals"},
        }
        for p, value in (("cod", 200), ("nox", 150))
    ]
    result = propose_project(make_project({"key_projects": projects}, specs))
    cod = zone_row(result.table, "projects.cod", "C")
    assert cod["quantity"] == 80 and cod["value_after"] == 180 and not cod["meets_target"]
    assert "20.0 t still short" in cod["detail"]
    assert list(item_rows(result.table, "projects.cod", "C")["item_id"]) == ["K2", "K3"]
    nox = zone_row(result.table, "projects.nox", "C")
    assert nox["value_after"] == 220 and nox["meets_target"]
    assert list(item_rows(result.table, "projects.nox", "C")["value_after"]) == [200, 220]
    assert set(result.layers["projects.cod.proposals"]["id"]) == {"K2", "K3"}


def test_unknown_kind_is_refused():
    from gis.errors import DataError
    from gis.project.specs import Spec

    spec = Spec.model_validate({
        "id": "x.y", "title": {"zh": "x", "en": "x"}, "theme": "charging", "clause": "c", "definition": "d",
        "formula": "f", "method": "ratio", "inputs": {"features": "a"}, "unit": "share", "proposal": {"kind": "magic"},
    })
    with pytest.raises(DataError, match="unknown kind 'magic'"):
        proposal_kind(spec)


# --- the proposal blocks, checked when the project loads ------------------------------------


def test_a_spec_without_a_proposal_block_has_none(make_project):
    # A parking-share gap as above, but no proposal: block: no proposal, whatever the indicator's id.
    lots = _points([{"id": "L1", "name": "a", "spaces": 100, "charger_spaces": 0}], [(100, 100)])
    spec = {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
        "target": target(value=0.25), "shortfall": COUNT,
    }
    result = propose_project(make_project({"lots": lots}, [spec]))
    assert result.table.empty and not result.layers and not result.notes


def test_the_kinds_are_the_settings_union():
    members = set(get_args(get_args(ProposalSettings)[0]))
    assert members == {kind.settings for kind in KINDS.values()}
    assert all(kind.settings.model_fields["kind"].is_required() for kind in KINDS.values())


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    """The reference project's catalog and specs (loading reads no data)."""
    root = tmp_path / "reference"
    (root / "layers").mkdir(parents=True)
    shutil.copy2(reference_root() / "layers" / "catalog.yaml", root / "layers" / "catalog.yaml")
    shutil.copytree(reference_root() / "analyses", root / "analyses")
    return root


def test_the_reference_specs_name_their_proposals(reference_copy):
    project = load_project(reference_copy)
    kinds = {spec.id: proposal_kind(spec) for spec in project.specs if spec.proposal is not None}
    assert kinds == {
        "charging.coverage": "coverage_sites", "charging.parking_share": "parking_spaces", "charging.highway_fast": "fast_charging",
        "heating.coal_in_network": "coal_boilers", "permeable.share": "permeable_blocks", "sewage.blank_areas": "sewer_extensions",
        "projects.cod": "project_totals", "projects.nh3n": "project_totals", "projects.nox": "project_totals", "projects.vocs": "project_totals",
    }


def _misspell(root: Path, spec: str, old: str, new: str, line_text: str | None) -> tuple[Path, int]:
    """Replace ``old`` by ``new`` in a spec; the file and the line that holds ``line_text`` (None: ``proposal:``)."""
    path = root / "analyses" / f"{spec}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    wanted = line_text or "proposal:"
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if wanted in line]
    assert len(lines) == 1, wanted
    return path, lines[0]


MISSPELT = {
    # name: (spec, text, replaced by, the key named, the text on the line named (None: 'proposal:'), the message says)
    "kind": ("charging.coverage", "kind: coverage_sites", "kind: magik", "proposal.kind", "kind: magik", "unknown kind 'magik' (kinds: "),
    "rule": ("charging.parking_share", "rule: lowest_share_first", "rule: lowest", "proposal.rule", "rule: lowest",
             "'lowest_share_first' or 'largest_first'"),
    "unknown key": ("charging.coverage", "coverage_target: 0.40", "coverage_targt: 0.40", "proposal.coverage_targt", "coverage_targt",
                    "Extra inputs are not permitted"),
    "key of another kind": ("permeable.share", "block_m: 500", "rule: largest_first", "proposal.rule", "rule: largest_first",
                            "Extra inputs are not permitted"),
    "no kind": ("permeable.share", "  kind: permeable_blocks\n", "", "proposal.kind", None, "no kind given (kinds: "),
    "no stations key": ("charging.highway_fast", "  stations: charging_stations ", "  # ", "proposal.stations", None, "Field required"),
    "stations layer": ("charging.highway_fast", "stations: charging_stations ", "stations: charging_station ", "proposal.stations",
                       "stations: charging_station ", "layer 'charging_station' is not in"),
    "stations field": ("charging.highway_fast", "{field: fast_ports, gt: 0}", "{field: fast_port, gt: 0}", "proposal.stations_where",
                       "fast_port,", "layer 'charging_stations' has no field 'fast_port'"),
    "candidate layer": ("charging.coverage", "[parking_lots, service_areas,", "[parking_lots, service_area,", "proposal.candidates.1",
                        "service_area,", "layer 'service_area' is not in"),
    "candidate condition": ("charging.coverage", "{field: charger_spaces, eq: 0}", "{field: charger_spaces, eq: 0, gt: 1}",
                            "proposal.candidates_where.parking_lots", "gt: 1", "exactly one test"),
    "condition on no candidate": ("charging.coverage", "service_areas: {field: fast_charging", "charging_stations: {field: fast_charging",
                                  "proposal.candidates_where.charging_stations", "charging_stations: {field", "not one of the candidates"),
    "indicator": ("heating.coal_in_network", "clean_share: heating.clean_share", "clean_share: heating.clean_shares", "proposal.clean_share",
                  "heating.clean_shares", "indicator 'heating.clean_shares' is not a spec of this project"),
    "raster": ("sewage.blank_areas", "population: population", "population: parking_lots", "proposal.population", "population: parking_lots",
               "layer 'parking_lots' is a vector layer; a raster layer is needed"),
    "method": ("projects.cod", "{kind: project_totals}", "{kind: coal_boilers, clean_share: null}", "proposal.kind", "coal_boilers",
               "kind 'coal_boilers' acts on indicators of method within; this one's method is total"),
}


@pytest.mark.parametrize("case", list(MISSPELT))
def test_a_misspelt_proposal_block_stops_the_load(reference_copy, case):
    spec, old, new, key, line_text, message = MISSPELT[case]
    path, line = _misspell(reference_copy, spec, old, new, line_text)
    with pytest.raises(ConfigError) as raised:
        load_project(reference_copy)
    text = str(raised.value)
    assert text.startswith(f"{path}:{line}: key '{key}': "), text
    assert message in text and "\n" not in text


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("case", ["kind", "rule"])
def test_gis_stops_on_a_misspelt_proposal_block(reference_copy, tmp_path, command, case):
    spec, old, new, key, line_text, message = MISSPELT[case]
    path, line = _misspell(reference_copy, spec, old, new, line_text)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [command, "--project", str(reference_copy), "--out", str(out)])
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"gis: error: {path}:{line}: key '{key}': ") and message in last, last
    assert "Traceback" not in result.output and not out.exists()


# --- a sample project ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Proposals, pd.DataFrame]:
    """A sample project at a tenth of the reference scale: its run folder, proposals and indicators."""
    root = tmp_path_factory.mktemp("proposals")
    project, out = root / "city", root / "out"
    runner = CliRunner()
    result = runner.invoke(main, ["-q", "sample", str(project), "--scale", "0.1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["-q", "run", "--no-pdf", "--project", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = run_project(load_project(project))
    return out, propose(run), run.indicators


def test_sample_every_actionable_gap_has_a_proposal(sample):
    _, proposals, indicators = sample
    table = proposals.table
    assert list(table.columns) == PROPOSAL_COLUMNS
    actionable = {"charging.parking_share", "charging.highway_fast", "heating.coal_in_network", "permeable.share",
                  "sewage.blank_areas", "projects.cod", "projects.nh3n", "projects.nox", "projects.vocs"}
    gaps = indicators[indicators["indicator"].isin(actionable) & (indicators["status"] == "gap")]
    assert not gaps.empty
    zone_rows = table[table["row_type"] == "zone"].set_index(["indicator", "zone_type", "zone_id"])
    for gap in gaps.itertuples():
        key = (gap.indicator, gap.zone_type, gap.zone_id)
        assert key in zone_rows.index, key
        row = zone_rows.loc[key]
        if gap.indicator.startswith("projects."):
            assert row["meets_target"] == (row["value_after"] >= gap.target)
        else:
            assert row["meets_target"], key  # candidates allow it: every site, lot, block, boiler, area
    # coverage: every county below the proposal's target got sites (or is at it after them)
    coverage = indicators[(indicators["indicator"] == "charging.coverage") & (indicators["value"] < 0.4)]
    for zone in coverage.itertuples():
        assert (zone.indicator, zone.zone_type, zone.zone_id) in zone_rows.index
    # every layer is in the metric CRS with unique ids
    for name, layer in proposals.layers.items():
        assert name.endswith(".proposals") and layer.crs == "EPSG:4546"
        assert layer["id"].is_unique, name


def test_sample_proposals_are_stable(sample):
    out, proposals, _ = sample
    again = propose(run_project(load_project(out.parent / "city")))
    pd.testing.assert_frame_equal(proposals.table, again.table)
    for name, layer in proposals.layers.items():
        assert list(layer["id"]) == list(again.layers[name]["id"])


def test_report_and_map_show_the_proposals(sample, tmp_path):
    out, proposals, _ = sample
    copy = tmp_path / "out"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("history"))
    (copy / "proposals.csv").unlink()  # as a run written before proposals existed
    older = read_run(copy)
    assert older.proposals.empty and list(older.proposals.columns) == PROPOSAL_COLUMNS
    assert "id=\"proposals\"" not in render_report(older)
    hostile = Proposals(proposals.table, dict(proposals.layers), proposals.notes)
    sites = hostile.layers["permeable.share.proposals"].copy()
    sites.loc[sites.index[0], "id"] = XSS
    hostile.layers["permeable.share.proposals"] = sites
    written = write_proposals(hostile, copy, crs="EPSG:4490", run_id="test")
    assert set(written) == set(proposals.layers)
    run = read_run(copy)
    assert len(run.proposals) == len(proposals.table)
    assert run.proposals["meets_target"].dtype == "boolean"
    report = render_report(run)
    assert 'id="proposals"' in report
    assert report.count('class="proposal-indicator"') == len(set(proposals.table["indicator"]))
    page = write_map(run, copy / "map.html").read_text(encoding="utf-8")
    assert json.dumps("建议 proposals · permeable.share")[1:-1] in page  # the layer control's label, as JSON
    tooltips = {f["properties"].get("tooltip") for data in page_layers(page).values() for f in data["features"]}
    assert XSS not in page and "建议 proposal · permeable.share: &lt;script&gt;alert(1)&lt;/script&gt;" in tooltips  # escaped
