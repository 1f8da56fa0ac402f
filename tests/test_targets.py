"""Targets and shortfalls, zone apportioning, and config errors that name file, line and key."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, box
from tinyproject import X0, Y0, counties_frame, target

from gis import ConfigError, load_project
from gis.methods.targets import judge, rounded_up, threshold_for
from gis.methods.zones import Zones, sum_by_zone, sums_per_level
from gis.project.specs import Spec, Target


def _target(**kw) -> Target:
    return Target.model_validate({"comparator": ">=", "clause": "二(十)", "wording": "w", **kw})


def test_threshold_either_absolute_or_baseline_plus_increase():
    # "70 % or +5 points over 2020": with a 2020 baseline of 0.60 the easier one is 0.65.
    either = _target(value=0.70, increase=0.05, baseline_layer="b")
    assert threshold_for(either, "county", 0.60) == pytest.approx(0.65)
    assert threshold_for(either, "county", 0.68) == pytest.approx(0.70)
    assert threshold_for(either, "county", None) == pytest.approx(0.70)
    direction = _target(increase=0.10, baseline_layer="b")
    assert threshold_for(direction, "city", 0.5) == pytest.approx(0.6)
    assert threshold_for(direction, "city", None) is None
    by_level = _target(value_by_zone_type={"city": 0.98, "county": 0.95})
    assert threshold_for(by_level, "city", None) == 0.98
    assert threshold_for(by_level, "county", None) == 0.95


def _spec(target_block: dict, shortfall: dict) -> Spec:
    return Spec.model_validate(
        {
            "id": "sewage.collection_rate", "title": {"zh": "z", "en": "e"}, "theme": "sewage", "clause": "二(十)",
            "definition": "d", "formula": "f", "method": "ratio", "inputs": {"features": "x"}, "unit": "share",
            "target": target_block, "shortfall": shortfall,
        }
    )


def test_judge_status_and_shortfall_in_real_units():
    spec = _spec(target(value=0.70, increase=0.05, baseline_layer="b"), {"unit": "m3/d", "factor": 1, "rounding": "ceil"})
    rows = pd.DataFrame(
        {
            "zone_type": ["city", "county", "county", "county"],
            "zone_id": ["C", "A", "B", "D"],
            "zone_name": ["c", "a", "b", "d"],
            "numerator": [650.0, 62.0, 0.0, 701.0],
            "denominator": [1000.0, 100.0, 0.0, 1000.0],
        }
    )
    rows["value"] = rows["numerator"] / rows["denominator"].where(rows["denominator"] > 0)
    baselines = {("sewage.collection_rate", "county", "A"): 0.55}
    judged = judge(rows, spec, "ratio", baselines).set_index("zone_id")
    # City: 0.65 < 0.70 (no baseline) -> 0.70 * 1000 - 650 = 50 m3/d.
    assert judged.loc["C", "status"] == "gap" and judged.loc["C", "shortfall"] == 50
    # A: baseline 0.55 + 0.05 = 0.60 <= 0.62 -> met although under 70 %.
    assert judged.loc["A", "status"] == "met" and judged.loc["A", "target"] == pytest.approx(0.60)
    assert judged.loc["A", "baseline"] == 0.55
    assert judged.loc["B", "status"] == "no_data"
    assert judged.loc["D", "status"] == "met" and judged.loc["D", "shortfall"] == 0


def test_judge_amounts_below_a_ceiling():
    spec = _spec(target("<=", value=0), {"unit": "km2", "factor": 1, "decimals": 3})
    rows = pd.DataFrame({"zone_type": ["city"], "zone_id": ["C"], "zone_name": ["c"], "numerator": [1.23456],
                         "denominator": [10.0], "value": [1.23456]})
    judged = judge(rows, spec, "amount", {})
    assert judged.loc[0, "status"] == "gap"
    assert judged.loc[0, "shortfall"] == pytest.approx(1.235)


def test_shortfall_is_rounded_up_so_that_doing_it_meets_the_target():
    # Sludge: 0.98 * 112 - 107.52 = 2.24 t/d exactly would do; 2.2391 rounded to nearest (2.239) would leave the
    # zone at 109.759 / 112 = 0.97999 < 0.98.  Rounded up at 3 decimals: 2.240; then 109.76 / 112 = 0.98, met.
    spec = _spec(target(value=0.98), {"unit": "t/d", "factor": 1, "decimals": 3})
    rows = pd.DataFrame({"zone_type": ["city"], "zone_id": ["C"], "zone_name": ["c"], "numerator": [107.5209],
                         "denominator": [112.0]})
    rows["value"] = rows["numerator"] / rows["denominator"]
    judged = judge(rows, spec, "ratio", {})
    assert judged.loc[0, "shortfall"] == pytest.approx(2.240)
    assert (107.5209 + judged.loc[0, "shortfall"]) / 112.0 >= 0.98
    assert rounded_up(4.116979, 3) == 4.117 and rounded_up(0.1 + 0.2, 1) == 0.3 and rounded_up(1449.0, 0) == 1449.0


def test_nothing_measured_is_no_data_with_or_without_a_target_at_that_level():
    # A city target (全市): county A has 0/0 (no waste facility), county B a value.  A is no_data (nothing to
    # measure, said why), not no_target; B is no_target; the city is judged.
    spec = _spec(target(value=0.95, zone_types=["city"]), {"unit": "t/d", "factor": 1, "rounding": "ceil"})
    rows = pd.DataFrame({"zone_type": ["city", "county", "county"], "zone_id": ["C", "A", "B"], "zone_name": ["c", "a", "b"],
                         "numerator": [90.0, 0.0, 90.0], "denominator": [100.0, 0.0, 100.0]})
    rows["value"] = rows["numerator"] / rows["denominator"].where(rows["denominator"] > 0)
    judged = judge(rows, spec, "ratio", {}).set_index("zone_id")
    assert judged.loc["A", "status"] == "no_data" and "denominator is 0" in judged.loc["A", "status_note"]
    assert judged.loc["B", "status"] == "no_target" and pd.isna(judged.loc["B", "status_note"])
    assert judged.loc["C", "status"] == "gap" and judged.loc["C", "shortfall"] == 5


def test_lines_and_polygons_are_split_between_counties():
    # A line of 2000 m, 500 m in county A and 1500 m in B, carrying 100: 25 and 75.
    # A park polygon 40 % in A and 60 % in B, carrying 1000: 400 and 600.
    counties = counties_frame().rename(columns={"id": "zone_id", "name": "zone_name"})
    line = gpd.GeoDataFrame({"q": [100.0]}, geometry=[LineString([(X0 + 500, Y0 + 10), (X0 + 2500, Y0 + 10)])], crs="EPSG:4546")
    sums = sum_by_zone(line, ["q"], counties)
    assert sums.loc["A", "q"] == pytest.approx(25)
    assert sums.loc["B", "q"] == pytest.approx(50)  # the last 500 m lie outside every county
    park = gpd.GeoDataFrame({"q": [1000.0]}, geometry=[box(X0 + 600, Y0, X0 + 1600, Y0 + 100)], crs="EPSG:4546")
    sums = sum_by_zone(park, ["q"], counties)
    assert sums.loc["A", "q"] == pytest.approx(400)
    assert sums.loc["B", "q"] == pytest.approx(600)
    city = gpd.GeoDataFrame({"zone_type": ["city"], "zone_id": ["C"], "zone_name": ["市"]}, geometry=[box(X0, Y0, X0 + 2000, Y0 + 1000)], crs="EPSG:4546")
    zones = Zones(levels={"county": counties.assign(zone_type="county"), "city": city}, builtup=None)
    rows = sums_per_level(park, ["q"], zones, ["city", "county"]).set_index("zone_id")
    assert rows.loc["C", "q"] == pytest.approx(rows.loc["A", "q"] + rows.loc["B", "q"])


def test_yaml_syntax_error_names_file_and_line(make_project):
    root = make_project({}, [])
    path = root / "layers" / "catalog.yaml"
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(3, "  broken: [unclosed")
    path.write_text("\n".join(text), encoding="utf-8")
    (root / "analyses" / "x.y.yaml").write_text("id: x.y\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"catalog\.yaml:\d+: YAML error"):
        load_project(root)


def test_schema_error_names_key_and_line(make_project):
    spec = {"id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
            "parameters": {"numerator": "charger_spaces"}, "target": {"comparator": "≥", "clause": "x", "wording": "w", "value": 1},
            "shortfall": {"unit": "u"}}
    root = make_project({}, [spec])
    with pytest.raises(ConfigError, match=r"charging\.parking_share\.yaml:\d+: key 'target\.comparator'"):
        load_project(root)


def test_spec_field_not_in_catalog_is_named(make_project):
    lots = gpd.GeoDataFrame({"id": ["L1"], "spaces": [10]}, geometry=gpd.points_from_xy([X0 + 1], [Y0 + 1]), crs="EPSG:4546")
    spec = {"id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
            "parameters": {"numerator": "chargers", "denominator": "spaces"}}
    root = make_project({"lots": lots}, [spec])
    with pytest.raises(ConfigError, match=r"key 'parameters\.numerator': layer 'lots' has no field 'chargers'"):
        load_project(root)
