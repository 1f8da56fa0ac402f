"""Never a quiet wrong answer: blank numbers, empty layers, non-finite spec values, unknown ids.

Each bad input is made in the test; the checks are the message, the exit code, what is on disk
and numbers small enough to work out by hand (in the comments).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import yaml
from badinput import (
    GPKG,
    edit_catalog,
    edit_layer,
    fails,
    indicator_rows,
    read_quality,
    rows_before,
    run_cli,
    snapshot,
)
from click.testing import CliRunner
from shapely.geometry import LineString, Point
from tinyproject import X0, Y0, target

from gis import load_project
from gis.cli import main
from gis.engines.local import run_project
from gis.errors import ConfigError, DataError

SHORTFALL = {"unit": "things", "factor": 1, "rounding": "ceil"}
BLANK_LOTS = ["PL-0002", "PL-0006", "PL-0010", "PL-0014", "PL-0018"]


def _points(records: list[dict], coords: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(records, geometry=[Point(x, y) for x, y in coords], crs="EPSG:4546")


def _rows(table: pd.DataFrame, indicator: str) -> pd.DataFrame:
    return table[table["indicator"] == indicator].set_index("zone_id")


def _run_tiny(root: Path, out: Path) -> tuple[int, str]:
    """``gis run`` of a tiny project, with a map spec of its own (the reference one styles the sample's indicators)."""
    (root / "maps").mkdir(exist_ok=True)
    (root / "maps" / "plan.yaml").write_text("{}\n", encoding="utf-8")
    return run_cli(root, out)


def _indicators(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})


def _set_spec(root: Path, spec_id: str, **keys: object) -> None:
    path = root / "analyses" / f"{spec_id}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(keys)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


# --- a blank number is missing, not 0: three lots, one blank --------------------------------------

# Lots L1 (100 spaces, 30 with chargers) and L2 (100, blank) in county A, L3 (600, 180) in B.
# Blank read as 0 (the old answer): A = 30/200 = 0.15, a gap of 0.25*200 - 30 = 20 spaces.
# L2 left out: A = 30/100 = 0.30, met; B = 180/600 = 0.30; city = 210/700 = 0.30.


def _lots_project(make_project, blank: str, missing: str | None) -> Path:
    spaces: list[object] = [100, 100, 600]
    chargers: list[object] = [30, 10, 180]
    if blank == "numerator":
        chargers[1] = None
    elif blank == "denominator":
        spaces[1] = None
    else:  # text of spaces only, in a text column
        spaces, chargers = [str(v) for v in spaces], [str(v) for v in chargers]
        chargers[1] = "   "
    lots = _points(
        [{"id": f"L{i + 1}", "name": f"lot {i + 1}", "spaces": s, "charger_spaces": c} for i, (s, c) in enumerate(zip(spaces, chargers, strict=True))],
        [(X0 + 100, Y0 + 100), (X0 + 900, Y0 + 900), (X0 + 1500, Y0 + 500)],
    )
    spec = {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
        "target": target(value=0.25), "shortfall": SHORTFALL,
    }
    if missing is not None:
        spec["missing_values"] = missing
    return make_project({"lots": lots}, [spec])


@pytest.mark.parametrize(("blank", "field"), [("numerator", "charger_spaces"), ("denominator", "spaces"), ("spaces only", "charger_spaces")])
def test_a_blank_number_stops_the_run_by_default(make_project, tmp_path, blank, field):
    root = _lots_project(make_project, blank, None)
    out = tmp_path / "out"
    code, output = _run_tiny(root, out)
    assert code == 1, output
    line = output.strip().splitlines()[-1]
    for text in ("test.gpkg", "layer 'lots'", f"field '{field}'", "blank in 1 feature (L2)", "a blank is not 0",
                 "set 'missing_values: skip' in analyses/charging.parking_share.yaml"):
        assert text in line, line
    assert not (out / "indicators.csv").exists()


@pytest.mark.parametrize(("blank", "field"), [("numerator", "charger_spaces"), ("denominator", "spaces"), ("spaces only", "charger_spaces")])
def test_skip_leaves_the_whole_feature_out_and_says_so(make_project, tmp_path, blank, field):
    root = _lots_project(make_project, blank, "skip")
    out = tmp_path / "out"
    code, output = _run_tiny(root, out)
    assert code == 0, output
    rows = _rows(_indicators(out), "charging.parking_share")
    assert rows.loc["A", ["numerator", "denominator", "value"]].tolist() == pytest.approx([30, 100, 0.30])
    assert rows.loc["A", "status"] == "met" and rows.loc["A", "shortfall"] == 0
    assert rows.loc["B", "value"] == pytest.approx(0.30)
    assert rows.loc["C", ["numerator", "denominator", "value"]].tolist() == pytest.approx([210, 700, 0.30])
    quality = read_quality(out)
    said = quality[quality["layer"] == "lots"]
    assert said[["severity", "feature_id", "field"]].values.tolist() == [["warning", "L2", field]]
    assert "left out of charging.parking_share" in said["action"].iloc[0]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["indicators"]["charging.parking_share"]["notes"] == [f"1 feature of lots left out: blank {field}"]


def test_a_blank_in_a_table_is_left_out_of_its_county(make_project):
    # Fleet rows: A 90 NEV of 100, A blank NEV of 40, B 50 of 50.  Skip: A = 90/100, city = 140/150
    # (blank as 0 would give A = 90/140).
    fleet = pd.DataFrame({"id": ["F1", "F2", "F3"], "county_id": ["A", "A", "B"], "vehicles": [100, 40, 50], "nev_vehicles": ["90", "", "50"]})
    spec = {
        "id": "charging.fleet", "method": "ratio", "inputs": {"features": "fleet"}, "missing_values": "skip",
        "parameters": {"numerator": "nev_vehicles", "denominator": "vehicles", "zone_field": "county_id"},
        "target": target(value=1.0), "shortfall": SHORTFALL,
    }
    root = make_project({"fleet": fleet}, [spec])
    result = run_project(load_project(root))
    rows = _rows(result.indicators, "charging.fleet")
    assert rows.loc["A", "value"] == pytest.approx(90 / 100)
    assert rows.loc["A", "shortfall"] == 10
    assert rows.loc["C", "value"] == pytest.approx(140 / 150)
    assert [(n.layer, n.feature_id, n.field) for n in result.notes] == [("fleet", "F2", "nev_vehicles")]
    _set_spec(root, "charging.fleet", missing_values="stop")
    with pytest.raises(DataError, match=r"fleet\.csv: layer 'fleet' field 'nev_vehicles' is blank in 1 feature \(F2\)"):
        run_project(load_project(root))


# --- a comparison on a blank has no answer ----------------------------------------------------------

# Green factories recognised in 2020, 2022, (blank) and 2023; the indicator counts those of 2021 on.


def _factories_project(make_project, where: dict, missing: str) -> Path:
    factories = _points(
        [{"id": f"F{i + 1}", "name": f"f{i + 1}", "year": year} for i, year in enumerate([2020, 2022, None, 2023])],
        [(X0 + 100, Y0 + 100), (X0 + 200, Y0 + 100), (X0 + 300, Y0 + 100), (X0 + 1300, Y0 + 100)],
    )
    spec = {
        "id": "industry.green_factories", "method": "total", "unit": "factories", "inputs": {"features": "factories"},
        "parameters": {"where": where}, "missing_values": missing,
        "target": target(value=3, zone_types=["city"]), "shortfall": SHORTFALL,
    }
    return make_project({"factories": factories}, [spec])


def test_a_comparison_on_a_blank_stops_by_default(make_project):
    root = _factories_project(make_project, {"field": "year", "ge": 2021}, "stop")
    with pytest.raises(DataError, match=r"layer 'factories' field 'year' is blank in 1 feature \(F3\).*missing_values: skip"):
        run_project(load_project(root))


@pytest.mark.parametrize(
    ("where", "count", "left_out"),
    [
        ({"field": "year", "ge": 2021}, 2, ["F3"]),  # F2, F4; F3 may or may not be: left out, said
        ({"not": {"field": "year", "ge": 2021}}, 1, ["F3"]),  # F1; "not" of an open answer is still open
        ({"any": [{"field": "year", "is_null": True}, {"field": "year", "ge": 2021}]}, 3, []),  # the spec says blanks count
        ({"all": [{"field": "name", "eq": "f1"}, {"field": "year", "ge": 2021}]}, 0, []),  # F3 is not f1, whatever its year
    ],
    ids=["ge", "not-ge", "explicit-is-null", "all-fails-anyway"],
)
def test_skip_leaves_out_a_feature_whose_condition_a_blank_leaves_open(make_project, where, count, left_out):
    root = _factories_project(make_project, where, "skip")
    result = run_project(load_project(root))
    city = _rows(result.indicators, "industry.green_factories").loc["C"]
    assert city["value"] == count
    assert city["status"] == ("met" if count >= 3 else "gap")
    assert [n.feature_id for n in result.notes if n.layer == "factories"] == left_out
    assert result.results[0].notes == (["1 feature of factories left out: blank year"] if left_out else [])


def test_a_blank_true_false_is_not_false(make_project):
    # Service areas with fast charging: yes, yes, (blank), no.  Skip: 2 of 3; blank read as "no" would say 2 of 4.
    areas = _points(
        [{"id": f"S{i}", "name": f"s{i}", "fast": flag} for i, flag in enumerate([True, True, None, False])],
        [(X0 + 100, Y0 + 100), (X0 + 200, Y0 + 100), (X0 + 1200, Y0 + 100), (X0 + 1300, Y0 + 100)],
    )
    spec = {
        "id": "charging.highway_fast", "method": "ratio", "inputs": {"features": "areas"}, "missing_values": "skip",
        "parameters": {"numerator_where": {"field": "fast", "eq": True}},
        "target": target(value=1.0), "shortfall": SHORTFALL,
    }
    result = run_project(load_project(make_project({"areas": areas}, [spec])))
    rows = _rows(result.indicators, "charging.highway_fast")
    assert rows.loc["C", ["numerator", "denominator"]].tolist() == [2, 3]
    assert rows.loc["B", ["numerator", "denominator", "value"]].tolist() == [0, 1, 0]
    assert [(n.feature_id, n.field) for n in result.notes] == [("S2", "fast")]


# --- an empty layer is a stated condition -----------------------------------------------------------

# Coal boilers inside 1000 m of a heating network (target: none left).


def _boilers_project(make_project, boilers: gpd.GeoDataFrame) -> Path:
    network = gpd.GeoDataFrame({"id": ["N1"], "network_id": ["HN-1"]}, geometry=[LineString([(X0, Y0), (X0, Y0 + 1000)])], crs="EPSG:4546")
    spec = {
        "id": "heating.coal_in_network", "method": "within", "unit": "boilers",
        "inputs": {"features": "boilers", "coverage": "network"},
        "parameters": {"where": {"field": "kind", "eq": "coal_boiler"}, "distance_m": 1000},
        "target": target("<=", value=0), "shortfall": SHORTFALL,
    }
    return make_project({"boilers": boilers, "network": network}, [spec])


def _no_boilers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [], "name": [], "kind": []}, geometry=gpd.GeoSeries([], crs="EPSG:4546"), crs="EPSG:4546")


def test_an_empty_layer_gives_no_data_with_the_reason_not_zero(make_project, tmp_path):
    root = _boilers_project(make_project, _no_boilers())
    out = tmp_path / "out"
    code, output = _run_tiny(root, out)
    assert code == 0, output
    rows = _rows(_indicators(out), "heating.coal_in_network")
    assert sorted(rows.index) == ["A", "B", "C"]
    assert (rows["status"] == "no_data").all()
    assert rows["value"].isna().all() and rows["shortfall"].isna().all()
    reason = "layer 'boilers' has no features: a broken export? if there really are none, set 'layers.boilers.may_be_empty: true' in layers/catalog.yaml"
    assert (rows["status_note"] == reason).all()
    quality = read_quality(out)
    said = quality[quality["layer"] == "boilers"]
    assert said[["severity", "problem"]].values.tolist() == [["warning", "no features (a broken export?)"]]
    assert "heating.coal_in_network not measured" in said["action"].iloc[0]
    layer = pyogrio.read_dataframe(out / "planning.gpkg", layer="heating.coal_in_network.county")
    assert (layer["status_note"] == reason).all()


def test_a_layer_that_may_be_empty_is_measured_from_zero_features(make_project):
    # No coal boilers left at all: 0 inside coverage is the real, met answer.
    root = _boilers_project(make_project, _no_boilers())
    edit_catalog(root, lambda c: c["layers"]["boilers"].update(may_be_empty=True))
    result = run_project(load_project(root))
    rows = _rows(result.indicators, "heating.coal_in_network")
    assert rows["value"].tolist() == [0, 0, 0]
    assert (rows["status"] == "met").all() and rows["status_note"].isna().all()
    assert not [n for n in result.notes if n.layer == "boilers"]


def test_features_filtered_away_are_not_an_empty_layer(make_project):
    # One gas boiler, no coal boiler: the layer has a feature, the count of coal boilers is a real 0.
    gas = _points([{"id": "G", "name": "g", "kind": "gas_boiler"}], [(X0 + 10, Y0 + 10)])
    result = run_project(load_project(_boilers_project(make_project, gas)))
    rows = _rows(result.indicators, "heating.coal_in_network")
    assert rows["value"].tolist() == [0, 0, 0] and (rows["status"] == "met").all()


def test_a_ratio_over_zero_features_is_no_data_with_its_reason(make_project):
    # may_be_empty lots: 0 / 0 spaces is not a share of 0; it is no value, and the note says why.
    lots = gpd.GeoDataFrame({"id": [], "spaces": [], "charger_spaces": []}, geometry=gpd.GeoSeries([], crs="EPSG:4546"), crs="EPSG:4546")
    spec = {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
        "target": target(value=0.25), "shortfall": SHORTFALL,
    }
    root = make_project({"lots": lots}, [spec])
    edit_catalog(root, lambda c: c["layers"]["lots"].update(may_be_empty=True))
    rows = _rows(run_project(load_project(root)).indicators, "charging.parking_share")
    assert rows["value"].isna().all() and (rows["status"] == "no_data").all()
    assert (rows["status_note"] == "nothing to measure in this zone: the denominator is 0").all()


def test_an_empty_layer_a_condition_names_is_an_empty_input_too(make_project):
    # Lots kept when their operator is in the operators table: with that table empty, every lot would
    # drop out and the share be "nothing"; the indicator says why instead.
    lots = _points([{"id": "L1", "operator": "O1", "spaces": 100, "charger_spaces": 30}], [(X0 + 100, Y0 + 100)])
    spec = {
        "id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"},
        "parameters": {"where": {"field": "operator", "in_layer": "operators"}, "numerator": "charger_spaces", "denominator": "spaces"},
        "target": target(value=0.25), "shortfall": SHORTFALL,
    }
    root = make_project({"lots": lots, "operators": pd.DataFrame({"id": pd.Series([], dtype=str)})}, [spec])
    rows = _rows(run_project(load_project(root)).indicators, "charging.parking_share")
    assert (rows["status"] == "no_data").all()
    assert rows["status_note"].str.startswith("layer 'operators' has no features: a broken export?").all()


def test_an_empty_zone_layer_is_an_error(make_project, tmp_path):
    parks = gpd.GeoDataFrame({"id": [], "name": [], "kind": []}, geometry=gpd.GeoSeries([], crs="EPSG:4546"), crs="EPSG:4546")
    sewers = gpd.GeoDataFrame({"id": ["W1"], "plant_id": ["T1"]}, geometry=[LineString([(X0 + 100, Y0 + 100), (X0 + 700, Y0 + 100)])],
                              crs="EPSG:4546")
    spec = {
        "id": "sewage.park_network", "method": "presence", "zone_types": ["city", "park"],
        "inputs": {"zones": "parks", "facilities": "sewers"}, "parameters": {"min_length_m": 500},
        "target": target(value=1.0, zone_types=["city", "park"]), "shortfall": SHORTFALL,
    }
    root = make_project({"parks": parks, "sewers": sewers}, [spec], zones={"county": {"layer": "counties"}, "park": {"layer": "parks"}})
    code, output = _run_tiny(root, tmp_path / "out")
    assert code == 1, output
    line = output.strip().splitlines()[-1]
    assert "test.gpkg" in line and "'parks'" in line and "no features" in line, line
    assert not (tmp_path / "out" / "indicators.csv").exists()


# --- spec values that are not numbers; unknown ids ----------------------------------------------------


def _replace(spec_id: str, old: str, new: str):
    def edit(project: Path) -> None:
        path = project / "analyses" / f"{spec_id}.yaml"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def _line_of(project: Path, spec_id: str, text: str) -> int:
    lines = (project / "analyses" / f"{spec_id}.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


@pytest.mark.parametrize(
    ("spec_id", "old", "new", "key"),
    [
        ("charging.parking_share", "  value: 0.25", "  value: .nan", "target.value"),
        ("charging.parking_share", "factor: 1,", "factor: .inf,", "shortfall.factor"),
        ("charging.coverage", "distance_m: 2000", "distance_m: .inf", "parameters.distance_m"),
        ("charging.coverage", "coverage_target: 0.40", "coverage_target: .NaN", "proposal.coverage_target"),
        ("industry.green_factories", "{field: year, ge: 2021}", "{field: year, ge: -.inf}", "parameters.where.ge"),
        ("industry.green_factories", "{field: year, ge: 2021}", "{field: year, eq: .nan}", "parameters.where.eq"),
    ],
    ids=["target", "shortfall-factor", "distance", "proposal", "condition-bound", "condition-eq"],
)
def test_nan_or_inf_in_a_spec_names_file_line_and_key(case, spec_id, old, new, key):
    project = case[0]
    edit = _replace(spec_id, old, new)
    edit(project)
    line = _line_of(project, spec_id, new.split(":")[0].strip() + ":")
    fails(case, [f"{spec_id}.yaml:{line}: key '{key}'", "finite number"], edit=lambda p: None)
    with pytest.raises(ConfigError):
        load_project(project)


def test_only_with_an_unknown_id_is_bad_usage_naming_the_closest(case):
    project, out, before = case
    result = CliRunner().invoke(main, ["run", "--project", str(project), "--out", str(out), "--only", "charging.parkingshare"])
    assert result.exit_code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("gis: error: no indicator spec named charging.parkingshare")
    assert "did you mean charging.parking_share? (`gis targets` lists every id)" in line
    far = CliRunner().invoke(main, ["run", "--project", str(project), "--out", str(out), "--only", "nothing.like.it"])
    assert far.exit_code == 2
    assert "--only takes the id of a spec: agencies.conservation, agencies.energy_per_m2, " in far.output.strip().splitlines()[-1]
    assert "Traceback" not in result.output and "unexpected" not in result.output
    assert snapshot(out) == before


# --- the sample: five parking lots without a charger count --------------------------------------------


def _blank_chargers(project: Path) -> None:
    def blank(lots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        lots["charger_spaces"] = lots["charger_spaces"].astype(float)
        lots.loc[lots["id"].isin(BLANK_LOTS), "charger_spaces"] = np.nan
        return lots

    edit_layer(project, "parking_lots", blank)


def test_null_charger_spaces_stop_the_sample_run(case):
    fails(case, ["sanmenxia.gpkg", "layer 'parking_lots' field 'charger_spaces' is blank in 5 features", ", ".join(BLANK_LOTS),
                 "set 'missing_values: skip' in analyses/charging.parking_share.yaml"], edit=_blank_chargers)


def _shortfalls_from_the_layer(project: Path, keep: pd.Series | None, *, blank_as_zero: bool = False) -> dict[str, float]:
    """The parking-share shortfall per county and for the city, summed from the lots layer by hand."""
    lots = gpd.read_file(project / GPKG, layer="parking_lots").to_crs("EPSG:4546")
    counties = gpd.read_file(project / GPKG, layer="counties").to_crs("EPSG:4546")
    if blank_as_zero:
        lots["charger_spaces"] = lots["charger_spaces"].fillna(0)
    elif keep is not None:
        lots = lots[keep(lots)]
    joined = gpd.sjoin(lots, counties[["id", "geometry"]].rename(columns={"id": "county"}), predicate="intersects")
    sums = joined.groupby("county")[["spaces", "charger_spaces"]].sum()
    sums.loc["156411200"] = sums.sum()
    return {zone: max(math.ceil(round(0.25 * row.spaces - row.charger_spaces, 9)), 0) for zone, row in sums.iterrows()}


def test_null_charger_spaces_with_skip_leave_those_lots_out(case):
    project, out, before = case
    _blank_chargers(project)
    _set_spec(project, "charging.parking_share", missing_values="skip")
    code, output = run_cli(project, out)
    assert code == 0, output
    rows = indicator_rows(out, "charging.parking_share")
    expected = _shortfalls_from_the_layer(project, lambda lots: lots["charger_spaces"].notna())
    # a city target (全市): the city is judged, the counties are reported without a shortfall
    assert rows.loc["156411200", "shortfall"] == expected["156411200"]
    assert rows.drop(index="156411200")["shortfall"].isna().all()
    # Read as 0 (the old way) the five lots would have made the city's shortfall larger still; before the edit it was another.
    quiet = _shortfalls_from_the_layer(project, None, blank_as_zero=True)
    assert rows.loc["156411200", "shortfall"] < quiet["156411200"]
    assert rows.loc["156411200", "shortfall"] != rows_before(before, "charging.parking_share").loc["156411200", "shortfall"]
    quality = read_quality(out)
    said = quality[(quality["layer"] == "parking_lots") & (quality["field"] == "charger_spaces")]
    assert said["feature_id"].tolist() == BLANK_LOTS and (said["severity"] == "warning").all()
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["indicators"]["charging.parking_share"]["notes"] == ["5 features of parking_lots left out: blank charger_spaces"]
    # The coverage proposal's candidate lots (those without chargers) cannot tell: left out, and said.
    assert "charging.coverage: candidate sites: 5 features of parking_lots left out: blank charger_spaces" in record["proposal_notes"]


# --- the sample: a charging-station layer with no features --------------------------------------------


def _empty_stations(project: Path) -> None:
    edit_layer(project, "charging_stations", lambda stations: stations.iloc[0:0])


def test_an_empty_layer_in_the_sample_is_no_data_everywhere_it_reaches(case):
    project, out, before = case
    _empty_stations(project)
    code, output = run_cli(project, out)
    assert code == 0, output
    reason = ("layer 'charging_stations' has no features: a broken export? if there really are none, "
              "set 'layers.charging_stations.may_be_empty: true' in layers/catalog.yaml")
    rows = indicator_rows(out, "charging.coverage")
    assert len(rows) == 7 and (rows["status"] == "no_data").all() and rows["value"].isna().all()
    assert (rows["status_note"] == reason).all()
    other = indicator_rows(out, "charging.parking_share")
    assert other["value"].tolist() == pytest.approx(rows_before(before, "charging.parking_share")["value"].tolist())
    assert other["status_note"].isna().all()
    quality = read_quality(out)
    said = quality[(quality["layer"] == "charging_stations") & (quality["severity"] == "warning")
                   & (quality["problem"] == "no features (a broken export?)")]
    # One note per indicator that could not be measured from it.
    assert sorted(action.split(" not measured")[0] for action in said["action"]) == ["charging.coverage", "charging.coverage_network"]
    layer = pyogrio.read_dataframe(out / "planning.gpkg", layer="charging.coverage.county")
    assert (layer["status_note"] == reason).all()
    sheet = openpyxl.load_workbook(out / "gaps.xlsx")["charging.coverage"]
    header = [c.value for c in sheet[4]]
    column = header.index("状态说明 status note") + 1
    assert [sheet.cell(row=r, column=column).value for r in range(5, 12)] == [reason] * 7
    assert reason.replace("'", "&#39;") in (out / "report.html").read_text(encoding="utf-8")


def test_an_empty_layer_that_may_be_empty_is_measured(case):
    project, out, before = case
    _empty_stations(project)
    edit_catalog(project, lambda c: c["layers"]["charging_stations"].update(may_be_empty=True))
    code, output = run_cli(project, out)
    assert code == 0, output
    rows = indicator_rows(out, "charging.coverage")
    old = rows_before(before, "charging.coverage")
    # Nobody is within reach of a station when there is none: 0 of the same people.
    assert rows["numerator"].tolist() == [0.0] * 7
    assert rows["denominator"].tolist() == pytest.approx(old["denominator"].tolist())
    assert rows["value"].tolist() == [0.0] * 7
    assert rows["status_note"].isna().all()
    quality = read_quality(out)
    assert not (quality["problem"].str.contains("no features")).any()


def test_an_empty_layer_of_an_earlier_year_is_no_data_in_that_year_only(case):
    project, out, before = case
    edit_layer(project, "parking_lots_2020", lambda lots: lots.iloc[0:0])
    code, output = run_cli(project, out)
    assert code == 0, output
    table = _indicators(out)
    parking = table[table["indicator"] == "charging.parking_share"]
    then = parking[parking["year"] == 2020]
    assert (then["status"] == "no_data").all() and then["value"].isna().all()
    assert then["status_note"].str.startswith("layer 'parking_lots' has no features in 2020:").all()
    assert indicator_rows(out, "charging.parking_share")["value"].tolist() == pytest.approx(
        rows_before(before, "charging.parking_share")["value"].tolist()
    )
    quality = read_quality(out)
    assert (quality["problem"] == "(2020) no features (a broken export?)").sum() == 1


# --- both engines say the same -------------------------------------------------------------------------


def test_the_dask_engine_gives_the_same_blanks_and_empty_layers(case):
    pytest.importorskip("distributed")
    from gis.engines.dask import run_project_dask

    project = case[0]
    _blank_chargers(project)
    _set_spec(project, "charging.parking_share", missing_values="skip")
    _empty_stations(project)
    edit_layer(project, "parking_lots_2020", lambda lots: lots.iloc[0:0])
    local = run_project(load_project(project))
    on_dask = run_project_dask(load_project(project), workers=1)
    pd.testing.assert_frame_equal(local.indicator_history, on_dask.indicator_history, check_exact=True)
    assert on_dask.notes == local.notes
    assert [r.notes for r in on_dask.results] == [r.notes for r in local.results]
    assert "no features" in " ".join(n.problem for n in local.notes)
