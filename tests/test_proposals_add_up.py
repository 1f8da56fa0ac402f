"""Proposals that add up: the city's proposal closes the city's shortfall, value_after recomputed
from the rows (or from the geometry), and the honest blank-area and permeable proposals worked
out by hand."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box
from tinyproject import X0, Y0, item_rows, propose_project, target, zone_row

from gis.methods.attributes import Blanks, read_features
from gis.methods.coverage import CoverageParams, base_pieces, coverage_rule
from gis.methods.zones import build_zones
from gis.outputs.folder import read_run
from gis.project.config import read_project
from gis.project.layers import LayerReader
from gis.values import is_missing

CRS = "EPSG:4546"


def blank_km2_with(root: Path, indicator: str, lines: gpd.GeoSeries) -> dict[str, float]:
    """The blank km2 per county (and the city, ``"city"``) the indicator's own rule measures once ``lines`` are
    connected sewers too: the coverage rule of the spec on the built-up pieces, nothing of the proposal's code."""
    project = read_project(root)
    reader = LayerReader(project)
    spec = next(s for s in project.specs if s.id == indicator)
    params = CoverageParams.model_validate(spec.parameters)
    said = Blanks(reader, spec, say=False)
    sewers = read_features(reader, spec.inputs["facilities"], params.facilities_where, said)
    rule = coverage_rule(reader, spec, params, pd.concat([sewers.geometry, lines.to_crs(reader.crs)], ignore_index=True))
    counties = build_zones(reader).level("county")
    measured = rule(base_pieces(reader, spec, params, counties, said))
    holes = measured[measured["part"] == "uncovered"]
    per_county = holes.groupby("zone_id")["area_km2"].sum().reindex(counties["zone_id"], fill_value=0.0)
    return {**{str(k): float(v) for k, v in per_county.items()}, "city": float(per_county.sum())}


# --- blank areas: the collection network inside, the trunk, the blank area left -----------------


def _blank_project(make_project, proposal: dict, *, min_gap_area_m2: float = 0.0) -> Path:
    # County A (1000 x 1000 m) is built up. The sewer S1 reaching plant P1 runs along y = 100;
    # with a collection distance of 200 m it serves y 0..300: the blank area is y 300..1000.
    builtup = gpd.GeoDataFrame({"id": ["BU1"], "name": ["town"]}, geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=CRS)
    sewers = gpd.GeoDataFrame({"id": ["S1"], "plant_id": ["P1"]}, geometry=[LineString([(X0, Y0 + 100), (X0 + 1000, Y0 + 100)])], crs=CRS)
    plants = gpd.GeoDataFrame({"id": ["P1"], "name": ["plant"]}, geometry=[Point(X0 + 500, Y0 + 50)], crs=CRS)
    spec = {
        "id": "sewage.blank_areas", "theme": "sewage", "method": "coverage", "unit": "km2",
        "inputs": {"base": "builtup", "facilities": "sewers"},
        "parameters": {"facilities_where": {"field": "plant_id", "in_layer": "plants"}, "distance_m": 200, "value": "uncovered_km2",
                       "min_gap_area_m2": min_gap_area_m2},
        "target": target("<=", value=0), "shortfall": {"unit": "km2", "factor": 1, "decimals": 3},
        "proposal": {"kind": "sewer_extensions", "population": None, **proposal},
    }
    return make_project({"builtup": builtup, "sewers": sewers, "plants": plants}, [spec])


def test_blank_area_gets_a_collection_network_and_a_trunk(make_project):
    # The blank area is 1000 m long (x) and 700 m wide (y): collection sewers 400 m apart
    # (2 x 200 m) along x, centred across it: y = 450 and y = 850, 1000 m each; every point of
    # y 300..1000 lies within 200 m of one. They are joined by 400 m across; the trunk runs from
    # y = 450 down to the sewer at y = 100: 350 m. 2.4 km collection + 0.35 km trunk = 2.75 km.
    root = _blank_project(make_project, {})
    result = propose_project(root)
    county = zone_row(result.table, "sewage.blank_areas", "A")
    assert county["value_before"] == pytest.approx(0.7)
    assert county["quantity"] == pytest.approx(2.75, abs=1e-6) and county["unit"] == "km of sewer"
    assert county["value_after"] == 0 and county["meets_target"]
    assert "400 m apart" in county["detail"] and "close all 0.700 km2" in county["detail"]
    assert county["shortfall"] == pytest.approx(0.7)
    layer = result.layers["sewage.blank_areas.proposals"]
    assert layer.iloc[0]["collection_m"] == pytest.approx(2400, abs=1e-6)
    assert layer.iloc[0]["trunk_m"] == pytest.approx(350, abs=1e-6)
    assert layer.iloc[0]["left_km2"] == 0
    # the indicator's own rule, with the proposed lines as connected sewers: nothing blank
    assert blank_km2_with(root, "sewage.blank_areas", layer.geometry)["A"] == pytest.approx(0.0, abs=1e-9)
    city = zone_row(result.table, "sewage.blank_areas", "C")
    assert city["quantity"] == pytest.approx(2.75, abs=1e-6) and city["detail"].startswith("the county proposals together")


def test_blank_area_left_is_measured_not_assumed(make_project):
    # Sewers 1200 m apart (wider than 2 x 200 m): one line down the middle (y = 650) serves
    # y 450..850 and leaves two 150 m strips, 0.15 km2 each; spurs reach into them. What they
    # still leave is what the indicator's own rule measures with the proposed lines, not 0.
    root = _blank_project(make_project, {"spacing_m": 1200}, min_gap_area_m2=1000)
    result = propose_project(root)
    county = zone_row(result.table, "sewage.blank_areas", "A")
    layer = result.layers["sewage.blank_areas.proposals"]
    measured = blank_km2_with(root, "sewage.blank_areas", layer.geometry)["A"]
    assert county["value_after"] == pytest.approx(measured, abs=1e-9)
    assert layer.iloc[0]["left_km2"] == pytest.approx(measured, abs=1e-9)
    assert 0 <= measured < 0.3  # less than the two strips the single line leaves
    assert county["meets_target"] == (measured <= 0)
    if measured > 0:
        assert "still farther than 200 m" in county["detail"]
    assert county["quantity"] > 1.0 + 0.55  # the 1 km line, the 550 m trunk, and spurs


# --- permeable ground: roofs left out, a cap per block, fewest blocks -----------------------------


def _permeable_project(make_project, proposal: dict, layers: dict | None = None) -> Path:
    # Two 500 m blocks of 5 x 5 cells (100 m). Left: 5 green, 10 paved, 10 roofs. Right: 10 green,
    # 15 paved. Permeable 15 of 50 cells (0.30); 50 % needs 25: 10 cells = 0.10 km2 more.
    cover = np.full((10, 20), 10, dtype="uint8")
    cover[5:6, 0:5] = 40
    cover[6:8, 0:5] = 70
    cover[8:10, 0:5] = 71
    cover[5:7, 5:10] = 40
    cover[7:10, 5:10] = 70
    classes = [
        {"code": 10, "name": "crop", "permeable": True}, {"code": 40, "name": "green", "permeable": True},
        {"code": 70, "name": "paved"}, {"code": 71, "name": "roofs"}, {"code": 80, "name": "water", "excluded": True},
    ]
    builtup = gpd.GeoDataFrame({"id": ["BU1"], "name": ["town"]}, geometry=[box(X0, Y0, X0 + 1000, Y0 + 500)], crs=CRS)
    spec = {
        "id": "permeable.share", "theme": "permeable", "method": "raster_share", "inputs": {"raster": "landcover", "mask": "builtup"},
        "parameters": {"flag": "permeable"}, "target": target(value=0.5, zone_types=["city"]),
        "shortfall": {"unit": "km2", "factor": 0.000001, "decimals": 3},
        "proposal": {"kind": "permeable_blocks", **proposal},
    }
    landcover = {"values": cover, "cell": 100.0, "nodata": 0, "classes": classes}
    return make_project({"builtup": builtup, "landcover": landcover, **(layers or {})}, [spec],
                        zones={"county": {"layer": "counties"}, "builtup": {"layer": "builtup"}})


LEFT, RIGHT = f"A:BU1:{int(X0 / 500)}:{int(Y0 / 500)}", f"A:BU1:{int(X0 / 500) + 1}:{int(Y0 / 500)}"


def test_permeable_converts_paved_ground_only_up_to_the_cap(make_project):
    # Paved ground only (70), at most half of it per block: left 5 cells, right 7.5 cells of
    # room. Fewest blocks: the right first (0.075 km2), then 0.025 km2 of the left: 0.100 km2,
    # the city's shortfall, exactly; the roofs (71) stay.
    result = propose_project(_permeable_project(make_project, {"convertible": [70], "max_convert_share": 0.5}))
    city = zone_row(result.table, "permeable.share", "C")
    assert city["value_before"] == pytest.approx(0.3)
    assert city["quantity"] == pytest.approx(0.1) and city["shortfall"] == pytest.approx(0.1)
    assert city["value_after"] == pytest.approx(0.5) and city["meets_target"]
    assert "only 70 paved converted, never 71 roofs" in city["detail"] and "at most 50% of a block's convertible ground" in city["detail"]
    items = item_rows(result.table, "permeable.share", "C")
    assert list(items["item_id"]) == [RIGHT, LEFT]
    assert list(items["quantity"]) == pytest.approx([0.075, 0.025])
    assert list(items["value_after"]) == pytest.approx([22.5 / 50, 25 / 50])
    assert not (result.table["zone_type"] == "county").any()  # the plan sets a city target only
    blocks = result.layers["permeable.share.proposals"].set_index("id")
    assert blocks.loc[LEFT, "impervious_km2"] == pytest.approx(0.20) and blocks.loc[LEFT, "convertible_km2"] == pytest.approx(0.10)


def test_permeable_cap_leaves_a_remainder_and_says_so(make_project):
    # At most 30 %: left 3 cells, right 4.5: 0.075 km2 of the 0.100 needed; 0.45 after, short.
    result = propose_project(_permeable_project(make_project, {"convertible": [70], "max_convert_share": 0.3}))
    city = zone_row(result.table, "permeable.share", "C")
    assert city["quantity"] == pytest.approx(0.075)
    assert city["value_after"] == pytest.approx(22.5 / 50) and not city["meets_target"]
    assert "gives only 0.075 of the 0.100 km2: 0.025 more need another measure" in city["detail"]


def test_permeable_building_footprints_are_never_converted(make_project):
    # Every impervious class may be converted, but a footprint covers the lower 300 m of the
    # right block (15 cells, 0.15 km2): its paved room is 0, and only the left block's 20 cells
    # (half: 0.10 km2) remain, exactly the shortfall.
    footprints = gpd.GeoDataFrame({"id": ["B1"]}, geometry=[box(X0 + 500, Y0, X0 + 1000, Y0 + 300)], crs=CRS)
    root = _permeable_project(make_project, {"buildings": "buildings", "max_convert_share": 0.5}, {"buildings": footprints})
    result = propose_project(root)
    city = zone_row(result.table, "permeable.share", "C")
    assert "building footprints of layer 'buildings'" in city["detail"]
    assert list(item_rows(result.table, "permeable.share", "C")["item_id"]) == [LEFT]
    assert city["quantity"] == pytest.approx(0.1) and city["meets_target"]


# --- a city target gets a city proposal ---------------------------------------------------------


def test_city_target_only_takes_the_fewest_across_counties(make_project):
    # 6 service areas, 1 with fast charging; the plan sets 50 % for the city only: 2 more
    # (ceil(3 - 1)), the first two of the list across counties (A's SA2, then B's SA3), none
    # per county.
    areas = gpd.GeoDataFrame(
        {"id": ["SA1", "SA2", "SA3", "SA4", "SA5", "SA6"], "fast": [True, False, False, False, False, False]},
        geometry=[Point(X0 + x, Y0 + 500) for x in (100, 200, 300, 1200, 1300, 1400)], crs=CRS,
    )
    areas.loc[2, "geometry"] = Point(X0 + 1500, Y0 + 500)  # SA3 lies in B
    spec = {
        "id": "charging.highway_fast", "method": "ratio", "inputs": {"features": "areas"},
        "parameters": {"numerator_where": {"field": "fast", "eq": True}},
        "target": target(value=0.5, zone_types=["city"]), "shortfall": {"unit": "service areas", "factor": 1, "rounding": "ceil"},
        "proposal": {"kind": "fast_charging", "stations": None},
    }
    table = propose_project(make_project({"areas": areas}, [spec])).table
    city = zone_row(table, "charging.highway_fast", "C")
    assert city["quantity"] == 2 == city["shortfall"]
    assert city["value_after"] == pytest.approx(0.5) and city["meets_target"]
    assert list(item_rows(table, "charging.highway_fast", "C")["item_id"]) == ["SA2", "SA3"]
    assert set(table["zone_type"]) == {"city"}


# --- the sample: every city proposal recomputed -----------------------------------------------------

# how a proposal's quantity changes its indicator's numerator (m2 per km2, one fewer coal user, ...)
TO_NUMERATOR = {"spaces": 1.0, "service areas": 1.0, "m2 floor area": 1.0, "km2": 1e6, "coal users": -1.0, "t": 1.0}
EXPLAINS = ("only", "still short", "still farther", "still to convert")


def test_sample_city_proposals_recomputed(sample_run):
    project, out = sample_run
    proposals = pd.read_csv(out / "proposals.csv", dtype={"zone_id": str})
    indicators = read_run(out).indicators.set_index(["indicator", "zone_type", "zone_id"])  # the data year
    zones = proposals[proposals["row_type"] == "zone"]
    checked = set()
    for row in zones.itertuples():
        own = indicators.loc[(row.indicator, row.zone_type, row.zone_id)]
        if row.indicator == "sewage.blank_areas":
            continue  # from the geometry, below
        if row.indicator == "charging.coverage":
            continue  # no target: the planning setting per county, measured by the indicator's own rule in test_proposals
        change = row.quantity * TO_NUMERATOR[row.unit]
        if own["unit"] == "share":
            recomputed = (own["numerator"] + change) / own["denominator"]
        else:
            recomputed = own["value"] + change
        assert row.value_after == pytest.approx(recomputed, rel=1e-9, abs=1e-12), row
        checked.add(row.indicator)
        if row.meets_target is False or row.meets_target == "False":
            assert any(word in row.detail for word in EXPLAINS), row.detail
        elif not is_missing(row.shortfall) and abs(row.quantity - row.shortfall) > 1e-6 and row.unit != "km2":
            assert "shortfall" in row.detail, row.detail  # a total that differs from the shortfall says why
    assert {"charging.parking_share", "permeable.share", "heating.coal_in_network"} <= checked
    # the city's proposal closes the city's shortfall where the layers allow it
    for indicator in ("charging.parking_share", "permeable.share", "charging.highway_fast", "heating.coal_in_network", "sewage.blank_areas"):
        city = zones[(zones["indicator"] == indicator) & (zones["zone_type"] == "city")]
        if indicators.loc[(indicator, "city")]["status"].iloc[0] == "gap":
            assert len(city) == 1 and bool(city["meets_target"].iloc[0]), indicator
    # permeable: the km2 converted are the shortfall as stated, so doing it meets the target
    permeable = zones[(zones["indicator"] == "permeable.share") & (zones["zone_type"] == "city")].iloc[0]
    assert permeable["quantity"] == pytest.approx(permeable["shortfall"])
    assert "roofs left out by land-cover class" in permeable["detail"]
    # blank areas: the indicator's own rule with the proposed lines as connected sewers
    lines = gpd.read_file(out / "planning.gpkg", layer="sewage.blank_areas.proposals")
    measured = blank_km2_with(project, "sewage.blank_areas", lines.geometry)
    sewage = zones[zones["indicator"] == "sewage.blank_areas"]
    assert not sewage.empty
    for row in sewage.itertuples():
        key = "city" if row.zone_type == "city" else row.zone_id
        assert row.value_after == pytest.approx(measured.get(key, 0.0), abs=1e-4), row
        assert bool(row.meets_target) == (row.value_after <= 1e-9) or "still farther" in row.detail
