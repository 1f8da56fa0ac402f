"""The prefecture level: rows that sum their counties, as the city's sum every county (answers worked out by hand)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point
from tinyproject import PREFECTURE_COUNTIES as COUNTIES
from tinyproject import PREFECTURE_LEVELS as LEVELS
from tinyproject import PREFECTURE_ZONES as ZONES
from tinyproject import PREFECTURES, X0, Y0, target

from gis import load_project
from gis.cli import main
from gis.engines.local import run_project
from gis.errors import ConfigError, DataError
from gis.project.check import check_project
from gis.proposals import propose

SHORTFALL = {"unit": "spaces", "factor": 1, "rounding": "ceil"}



def _lots() -> gpd.GeoDataFrame:
    # A: 10 of 100 spaces; B: 40 of 100; D: 60 of 200.
    return gpd.GeoDataFrame(
        {"id": ["L1", "L2", "L3"], "name": ["a", "b", "d"], "spaces": [100, 100, 200], "charger_spaces": [10, 40, 60]},
        geometry=[Point(X0 + 500, Y0 + 500), Point(X0 + 1500, Y0 + 500), Point(X0 + 2500, Y0 + 500)],
        crs="EPSG:4546",
    )


def _parking_spec(**extra: object) -> dict:
    return {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"}, "zone_types": LEVELS,
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
        "target": target(value=0.25, zone_types=LEVELS), "shortfall": SHORTFALL, **extra,
    }


def _run(root) -> pd.DataFrame:
    return run_project(load_project(root)).indicators


def test_a_prefecture_sums_its_counties(make_project):
    # P1: (10 + 40) / (100 + 100) = 0.25, met although A alone (0.10) is short by 15 spaces.
    # P2 = D: 60 / 200 = 0.30, met.  City: 110 / 400 = 0.275.
    root = make_project({"counties": COUNTIES, "prefectures": PREFECTURES, "lots": _lots()}, [_parking_spec()], zones=ZONES)
    rows = _run(root)
    assert rows["zone_type"].tolist() == ["city", "prefecture", "prefecture", "county", "county", "county"]
    by_id = rows.set_index("zone_id")
    assert (by_id.loc["P1", "numerator"], by_id.loc["P1", "denominator"]) == (50, 200)
    assert by_id.loc["P1", "status"] == "met" and by_id.loc["P1", "zone_name"] == "一市"
    assert by_id.loc["A", "status"] == "gap" and by_id.loc["A", "shortfall"] == 15
    assert by_id.loc["P2", "value"] == pytest.approx(0.30)
    assert by_id.loc["C", "value"] == pytest.approx(0.275)


def test_a_prefecture_short_of_its_target_gets_its_shortfall(make_project):
    # At 0.30: P1 needs 0.30 * 200 - 50 = 10 more charger spaces; P2 is met.
    spec = _parking_spec(target=target(value=0.30, zone_types=LEVELS))
    rows = _run(make_project({"counties": COUNTIES, "prefectures": PREFECTURES, "lots": _lots()}, [spec], zones=ZONES)).set_index("zone_id")
    assert rows.loc["P1", "status"] == "gap" and rows.loc["P1", "shortfall"] == 10
    assert rows.loc["P2", "status"] == "met"


def test_without_the_field_a_county_goes_to_the_prefecture_holding_it(make_project):
    zones = {"county": {"layer": "counties"}, "prefecture": {"layer": "prefectures"}}
    counties = COUNTIES.drop(columns="pref")
    rows = _run(make_project({"counties": counties, "prefectures": PREFECTURES, "lots": _lots()}, [_parking_spec()], zones=zones))
    by_id = rows.set_index("zone_id")
    assert (by_id.loc["P1", "numerator"], by_id.loc["P2", "numerator"]) == (50, 60)


def test_every_method_sums_the_prefecture_from_its_counties(make_project):
    # Land cover of 500 m cells over the three counties: permeable (40) in the top row of A and B and
    # the whole of D -> P1 1 / 2, P2 1.  A table keyed by county: P1 = 3 + 4, P2 = 5.  A sewer 2.5 km
    # long across all three: present in every county, so P1 2 of 2 counties.
    classes = [{"code": 40, "name": "green", "permeable": True}, {"code": 70, "name": "impervious"}]
    cover = np.array([[40, 40, 40, 40, 40, 40], [70, 70, 70, 70, 40, 40]], dtype="uint8")
    table = pd.DataFrame({"id": ["T1", "T2", "T3"], "county_id": ["A", "B", "D"], "boilers": [3, 4, 5]})
    sewers = gpd.GeoDataFrame({"id": ["W1"]}, geometry=[LineString([(X0 + 250, Y0 + 500), (X0 + 2750, Y0 + 500)])], crs="EPSG:4546")
    specs = [
        {"id": "permeable.share", "method": "raster_share", "inputs": {"raster": "landcover"}, "zone_types": LEVELS},
        {"id": "heating.coal_exit", "method": "total", "inputs": {"features": "boilers"}, "unit": "boilers", "zone_types": LEVELS,
         "parameters": {"field": "boilers", "zone_field": "county_id"}},
        {"id": "sewage.county_network", "method": "presence", "inputs": {"zones": "counties", "facilities": "sewers"},
         "zone_types": LEVELS},
    ]
    layers = {"counties": COUNTIES, "prefectures": PREFECTURES, "boilers": table, "sewers": sewers,
              "landcover": {"values": cover, "cell": 500.0, "nodata": 0, "classes": classes}}
    rows = _run(make_project(layers, specs, zones=ZONES)).set_index(["indicator", "zone_id"])
    assert rows.loc[("permeable.share", "P1"), "value"] == pytest.approx(0.5)
    assert rows.loc[("permeable.share", "P2"), "value"] == pytest.approx(1.0)
    assert rows.loc[("permeable.share", "P1"), "denominator"] == pytest.approx(2_000_000)
    assert rows.loc[("heating.coal_exit", "P1"), "value"] == 7
    assert rows.loc[("heating.coal_exit", "P2"), "value"] == 5
    assert (rows.loc[("sewage.county_network", "P1"), "numerator"], rows.loc[("sewage.county_network", "P1"), "denominator"]) == (2, 2)


def test_a_prefecture_its_counties_do_not_tile_is_left_out_and_said(make_project):
    # Without county B (a county run alone, or left out of the export), P1's row would be A's alone: no row, a note.
    counties = COUNTIES[COUNTIES["id"] != "B"]
    result = run_project(load_project(make_project({"counties": counties, "prefectures": PREFECTURES, "lots": _lots()},
                                                   [_parking_spec()], zones=ZONES)))
    rows = result.indicators
    assert rows.loc[rows["zone_type"] == "prefecture", "zone_id"].tolist() == ["P2"]
    assert "A" in rows["zone_id"].tolist()
    said = [note for note in result.notes if note.layer == "prefectures" and note.feature_id == "P1"]
    assert len(said) == 1 and "cover 50.0% of it" in said[0].problem


def test_a_county_naming_no_known_prefecture_stops_the_run(make_project):
    counties = COUNTIES.assign(pref=["P1", "P9", "P2"])
    root = make_project({"counties": counties, "prefectures": PREFECTURES, "lots": _lots()}, [_parking_spec()], zones=ZONES)
    with pytest.raises(DataError, match=r"county 'B' field 'pref' names prefecture 'P9', which is not in layer 'prefectures'"):
        run_project(load_project(root))


def test_a_county_in_no_prefecture_stops_the_run_and_names_the_key(make_project):
    zones = {"county": {"layer": "counties"}, "prefecture": {"layer": "prefectures"}}
    root = make_project({"counties": COUNTIES, "prefectures": PREFECTURES.iloc[:1], "lots": _lots()}, [_parking_spec()], zones=zones)
    with pytest.raises(DataError, match=r"county 'D' lies in no prefecture of layer 'prefectures'.*zones.county.prefecture_field"):
        run_project(load_project(root))


def test_the_prefecture_field_must_be_in_the_county_layer(make_project):
    zones = {"county": {"layer": "counties", "prefecture_field": "city_code"}, "prefecture": {"layer": "prefectures"}}
    root = make_project({"counties": COUNTIES, "prefectures": PREFECTURES, "lots": _lots()}, [_parking_spec()], zones=zones)
    with pytest.raises(DataError, match=r"layer 'counties' has no field 'city_code' \(zones.county.prefecture_field\)"):
        run_project(load_project(root))


def test_a_spec_by_prefecture_needs_the_level_in_the_catalog(make_project):
    root = make_project({"counties": COUNTIES, "lots": _lots()}, [_parking_spec()])
    with pytest.raises(ConfigError, match=r"zone type 'prefecture' needs 'zones.prefecture' in the catalog"):
        load_project(root)


def test_the_prefecture_field_needs_the_level(make_project):
    zones = {"county": {"layer": "counties", "prefecture_field": "pref"}}
    root = make_project({"counties": COUNTIES, "lots": _lots()}, [{**_parking_spec(), "zone_types": ["city", "county"],
                                                                   "target": target(value=0.25)}], zones=zones)
    with pytest.raises(ConfigError, match=r"'zones.county.prefecture_field'.*no 'zones.prefecture' level"):
        load_project(root)


def _prefecture_findings(root) -> list[tuple[str, str]]:
    return [(f.severity, f.message) for f in check_project(load_project(root).layers()) if f.layer == "prefectures"]


def test_check_says_how_the_counties_group_and_what_would_stop_a_run(make_project, tmp_path):
    root = make_project({"counties": COUNTIES, "prefectures": PREFECTURES, "lots": _lots()}, [_parking_spec()], zones=ZONES)
    assert _prefecture_findings(root)[-1] == ("ok", "2 prefectures reported, their 3 counties grouped by pref")
    counties = COUNTIES.assign(pref=["P1", "", "P2"])
    counties.to_file(root / "layers" / "data" / "test.gpkg", layer="counties", driver="GPKG", engine="pyogrio")
    severity, message = _prefecture_findings(root)[-1]
    assert severity == "error" and "county 'B' field 'pref' is blank" in message
    checked = CliRunner().invoke(main, ["check", "--project", str(root), "--out", str(tmp_path / "checked")])
    assert checked.exit_code == 1


def test_check_names_a_prefecture_left_out(make_project):
    root = make_project({"counties": COUNTIES[COUNTIES["id"] != "B"], "prefectures": PREFECTURES, "lots": _lots()},
                        [_parking_spec()], zones=ZONES)
    read, *said = _prefecture_findings(root)  # the layer as read, then how the counties group
    assert read == ("ok", "2 features")
    assert said[0][0] == "warning" and said[0][1].startswith("prefecture 'P1': its counties in this run cover 50.0% of it")
    assert said[1:] == [("ok", "1 prefecture reported, their 2 counties grouped by pref")]


def test_proposals_meet_each_prefectures_target_from_its_own_lots(make_project):
    # Targets of 0.30 for the city and each prefecture (not the counties).  P1 (A + B): 50 of 200, needs
    # 0.30 * 200 - 50 = 10 spaces; lowest share first: L1 (10 of 100, in A) takes the 10.  P2 (D: 60 of
    # 200) is met.  The city (110 of 400, short by 10) is the prefecture proposals together: 120 of 400.
    spec = _parking_spec(target=target(value=0.30, zone_types=["city", "prefecture"]), proposal={"kind": "parking_spaces"})
    table = propose(run_project(load_project(make_project(
        {"counties": COUNTIES, "prefectures": PREFECTURES, "lots": _lots()}, [spec], zones=ZONES)))).table
    zones = table[table["row_type"] == "zone"].set_index("zone_id")
    assert list(zones.index) == ["C", "P1"]
    assert zones.loc["P1", "quantity"] == 10 and zones.loc["P1", "value_after"] == pytest.approx(0.30)
    assert zones.loc["C", "quantity"] == 10 and zones.loc["C", "value_after"] == pytest.approx(0.30)
    assert "the prefecture proposals together" in zones.loc["C", "detail"]
    assert "各地级市建议之和" in zones.loc["C", "detail_zh"]
    items = table[table["row_type"] == "item"]
    assert items[["zone_id", "item_id", "quantity"]].values.tolist() == [["P1", "L1", 10]]
