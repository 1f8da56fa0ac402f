"""Targets relative to a baseline (``change``), targets set zone by zone (``by_zone``), and baselines
measured on the layers as they stood in the baseline year: two counties, worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from tinyproject import target

from gis import ConfigError, load_project
from gis.engines.local import run_project
from gis.outputs.tables import targets_table
from gis.outputs.text import describe_target, zone_rule
from gis.project.check import WILL_RUN, check_indicators, check_project
from gis.project.quality import quality_table
from gis.project.specs import Target

SPEC_ID = "industry.energy_intensity"
SHORTFALL = {"unit": "tce", "factor": 1}


def _energy(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    """A table of (county_id, energy in tce, GDP in 10k yuan), one row per county."""
    return pd.DataFrame(
        {"id": [f"E{i}" for i in range(len(rows))], "county_id": [r[0] for r in rows],
         "energy": [r[1] for r in rows], "gdp": [r[2] for r in rows]}
    )


def _spec(target_block: dict, *, spec_id: str = SPEC_ID, unit: str = "tce/10k yuan") -> dict:
    return {
        "id": spec_id, "method": "ratio", "inputs": {"features": "energy"},
        "parameters": {"numerator": "energy", "denominator": "gdp", "zone_field": "county_id"},
        "unit": unit, "target": target_block, "shortfall": SHORTFALL,
    }


def _project(make_project, now: pd.DataFrame, then: pd.DataFrame | None, specs: list[dict], **tables: pd.DataFrame) -> Path:
    """The project with the energy table of now (and other ``tables``), and (when given) its 2020 state as
    ``years: {2020: {file: ...}}``."""
    root = make_project({"energy": now, **tables}, specs)
    if then is not None:
        then.to_csv(root / "layers" / "data" / "energy_2020.csv", index=False)
        path = root / "layers" / "catalog.yaml"
        catalog = yaml.safe_load(path.read_text(encoding="utf-8"))
        catalog["layers"]["energy"]["years"] = {2020: {"file": "data/energy_2020.csv"}}
        path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    return root


def _rows(result, year: int = 2025) -> pd.DataFrame:
    table = result.indicator_history
    return table[(table["indicator"] == SPEC_ID) & (table["year"] == year)].set_index("zone_id")


# 2020: A 100 tce / 100 (1.0), B 100 / 100 (1.0); city 200 / 200 (1.0).
THEN = _energy([("A", 100, 100), ("B", 100, 100)])
# Now: A 80 / 100 (0.8), B 90 / 100 (0.9); city 170 / 200 (0.85).
NOW = _energy([("A", 80, 100), ("B", 90, 100)])


def test_change_from_the_measured_2020_value(make_project):
    root = _project(make_project, NOW, THEN, [_spec(target("<=", change=-0.16))])
    result = run_project(load_project(root))
    rows = _rows(result)
    # A: threshold 1.0 x (1 - 0.16) = 0.84; 0.8 <= 0.84, met.
    assert rows.loc["A", "baseline"] == pytest.approx(1.0)
    assert rows.loc["A", "target"] == pytest.approx(0.84)
    assert rows.loc["A", "value"] == pytest.approx(0.8)
    assert rows.loc["A", "status"] == "met" and rows.loc["A", "shortfall"] == 0
    # B: 0.9 > 0.84, a gap of 90 - 0.84 x 100 = 6 tce (energy to save at today's GDP).
    assert rows.loc["B", "status"] == "gap"
    assert rows.loc["B", "shortfall"] == pytest.approx(6)
    assert rows.loc["B", "shortfall_unit"] == "tce"
    # City from the sums: 2020 200 / 200 = 1.0 -> 0.84; now 170 / 200 = 0.85, a gap of 170 - 168 = 2 tce.
    assert rows.loc["C", "baseline"] == pytest.approx(1.0)
    assert rows.loc["C", "target"] == pytest.approx(0.84)
    assert rows.loc["C", "value"] == pytest.approx(0.85)
    assert rows.loc["C", "status"] == "gap" and rows.loc["C", "shortfall"] == pytest.approx(2)
    # The 2020 row of the trajectory is the baseline itself, judged against the same threshold.
    then = _rows(result, 2020)
    assert then.loc["B", "value"] == pytest.approx(1.0) and then.loc["B", "target"] == pytest.approx(0.84)
    assert then.loc["B", "baseline"] == pytest.approx(1.0)


def test_by_zone_replaces_one_countys_change(make_project):
    # B's own target -5 %: 1.0 x 0.95 = 0.95, and 0.9 meets it; A keeps -16 %.
    root = _project(make_project, NOW, THEN, [_spec(target("<=", change=-0.16, by_zone={"B": -0.05}))])
    rows = _rows(run_project(load_project(root)))
    assert rows.loc["B", "target"] == pytest.approx(0.95) and rows.loc["B", "status"] == "met"
    assert rows.loc["A", "target"] == pytest.approx(0.84) and rows.loc["A", "status"] == "met"
    assert rows.loc["C", "target"] == pytest.approx(0.84) and rows.loc["C", "status"] == "gap"


def test_by_zone_replaces_an_absolute_value(make_project):
    root = _project(make_project, NOW, None, [_spec(target("<=", value=0.85, by_zone={"A": 0.75}))])
    rows = _rows(run_project(load_project(root)))
    assert rows.loc["A", "target"] == pytest.approx(0.75) and rows.loc["A", "status"] == "gap"
    assert rows.loc["A", "shortfall"] == pytest.approx(5)  # 80 - 0.75 x 100
    assert rows.loc["B", "target"] == pytest.approx(0.85) and rows.loc["B", "status"] == "gap"


def test_a_zone_without_a_2020_value_is_no_data(make_project):
    # The 2020 table has county A only: B has nothing to apply the change to.
    root = _project(make_project, NOW, _energy([("A", 100, 100)]), [_spec(target("<=", change=-0.16))])
    rows = _rows(run_project(load_project(root)))
    assert rows.loc["A", "status"] == "met"
    assert rows.loc["B", "status"] == "no_data"
    assert pd.isna(rows.loc["B", "target"]) and pd.isna(rows.loc["B", "baseline"])
    note = rows.loc["B", "status_note"]
    assert note.startswith("no 2020 value to apply the change to:")
    assert "baseline_layer" in note
    # The city's 2020 value is A's alone: 100 / 100 -> 0.84.
    assert rows.loc["C", "target"] == pytest.approx(0.84)


def test_no_layer_with_2020_data_means_no_measured_baseline(make_project):
    root = _project(make_project, NOW, None, [_spec(target("<=", change=-0.16))])
    rows = _rows(run_project(load_project(root)))
    assert set(rows["status"]) == {"no_data"}
    assert rows["value"].notna().all()  # measured, not judged
    note = rows.loc["A", "status_note"]
    assert note.startswith("no 2020 value to apply the change to: no input layer has data of 2020")
    assert "'layers.energy'" in note and "years: {2020:" in note and "baseline_layer" in note


def test_the_check_says_a_baseline_cannot_be_measured(make_project):
    specs = [_spec(target("<=", change=-0.16)), _spec(target("<=", value=0.9, change=-0.16), spec_id="industry.either")]
    project = load_project(_project(make_project, NOW, None, specs))
    layers = project.layers()
    reasons = {c.indicator: (c.state, c.reason) for c in check_indicators(layers, check_project(layers), {})}
    assert reasons[SPEC_ID] == (WILL_RUN, "no_data: no input layer has data of 2020 to measure the baseline of its relative target")
    assert reasons["industry.either"][1].startswith("judged against its value only")
    with_2020 = load_project(_project(make_project, NOW, THEN, specs)).layers()  # the same folder, now with the 2020 table
    assert {c.reason for c in check_indicators(with_2020, check_project(with_2020), {})} == {""}


def test_increase_over_the_measured_baseline(make_project):
    # A share: 2020 A 50/100, B 60/100 (city 110/200); now A 58/100, B 62/100 (city 120/200).
    # +5 points: A 0.55 (met), B 0.65 (gap of 0.65 x 100 - 62 = 3), city 0.60 (met).
    then = _energy([("A", 50, 100), ("B", 60, 100)])
    now = _energy([("A", 58, 100), ("B", 62, 100)])
    root = _project(make_project, now, then, [_spec(target(increase=0.05), unit="share")])
    rows = _rows(run_project(load_project(root)))
    assert rows.loc["A", "baseline"] == pytest.approx(0.5) and rows.loc["A", "target"] == pytest.approx(0.55)
    assert rows.loc["A", "status"] == "met"
    assert rows.loc["B", "target"] == pytest.approx(0.65) and rows.loc["B", "status"] == "gap"
    assert rows.loc["B", "shortfall"] == pytest.approx(3)
    assert rows.loc["C", "target"] == pytest.approx(0.60) and rows.loc["C", "status"] == "met"


def test_increase_with_a_baseline_table_is_as_before(make_project):
    # The table says A 0.7 and B 0.8 (not the measured 0.5, 0.6); the city has no row: no threshold.
    table = pd.DataFrame({"id": ["b1", "b2"], "indicator": [SPEC_ID, SPEC_ID], "zone_type": ["county", "county"], "zone_id": ["A", "B"],
                          "value": [0.7, 0.8]})
    then = _energy([("A", 50, 100), ("B", 60, 100)])
    now = _energy([("A", 58, 100), ("B", 62, 100)])
    spec = _spec(target(increase=0.05, baseline_layer="baseline_2020"), unit="share")
    root = _project(make_project, now, then, [spec], baseline_2020=table)
    rows = _rows(run_project(load_project(root)))
    assert rows.loc["A", "baseline"] == pytest.approx(0.7) and rows.loc["A", "target"] == pytest.approx(0.75)
    assert rows.loc["C", "status"] == "no_data"
    assert rows.loc["C", "status_note"] == "no threshold: the zone has no baseline value to add the increase to"


def test_the_dask_engine_gives_the_same_rows(make_project):
    pytest.importorskip("distributed")
    from gis.engines.dask import run_project_dask

    root = _project(make_project, NOW, _energy([("A", 100, 100)]), [_spec(target("<=", change=-0.16, by_zone={"A": -0.1}))])
    local = run_project(load_project(root))
    dask = run_project_dask(load_project(root), workers=2)
    pd.testing.assert_frame_equal(local.indicator_history, dask.indicator_history)
    assert set(local.indicators["status"]) == {"met", "gap", "no_data"}
    assert quality_table(local.notes).equals(quality_table(dask.notes))


# --- loading ----------------------------------------------------------------------------------------


def test_a_change_of_minus_one_or_less_is_refused(make_project):
    root = _project(make_project, NOW, THEN, [_spec(target("<=", change=-1.0))])
    with pytest.raises(ConfigError, match=r"industry\.energy_intensity\.yaml:\d+: key 'target\.change': .*above -1"):
        load_project(root)


def test_by_zone_with_two_kinds_of_figure_is_refused(make_project):
    root = _project(make_project, NOW, THEN, [_spec(target("<=", value=0.9, change=-0.16, by_zone={"A": -0.2}))])
    with pytest.raises(ConfigError, match=r"industry\.energy_intensity\.yaml:\d+: key 'target\.by_zone': .*'value' and 'change'"):
        load_project(root)


def test_by_zone_naming_no_zone_is_refused(make_project):
    root = _project(make_project, NOW, THEN, [_spec(target("<=", change=-0.16, by_zone={"Z": -0.2}))])
    with pytest.raises(ConfigError, match=r"industry\.energy_intensity\.yaml:\d+: key 'target\.by_zone\.Z': no zone 'Z' among.*county A, B"):
        run_project(load_project(root))


def test_county_codes_written_as_numbers_are_zone_ids():
    parsed = Target.model_validate({"comparator": "<=", "change": -0.16, "by_zone": {411202: -0.2}, "clause": "c", "wording": "w"})
    assert parsed.by_zone == {"411202": -0.2}


# --- in words ---------------------------------------------------------------------------------------


def test_change_in_words(make_project):
    root = _project(make_project, NOW, THEN, [_spec(target("<=", change=-0.16, by_zone={"B": -0.05}))])
    project = load_project(root)
    spec = project.specs[0]
    assert targets_table(project).loc[0, "target"] == "<= -16 % vs 2020; by zone: B -5 %"  # `gis targets`, the README table
    block = spec.target.model_dump() if spec.target else None
    en = describe_target(block, "tce/10k yuan", year=2025, baseline_year=2020)
    assert en == "-16 % from the 2020 value for city, county by 2025; by zone: B -5 %."
    zh = describe_target(block, "tce/10k yuan", lang="zh", year=2025, baseline_year=2020)
    assert zh == "市、县(市、区)：比2020年下降16%，2025年前达到；分区目标：B 下降5%。"
    assert zone_rule(block, "B", "tce/10k yuan", lang="zh", baseline_year=2020) == "比2020年下降5%"
    assert zone_rule(block, "A", "tce/10k yuan", baseline_year=2020) == "-16 % from the 2020 value"
    # A ceiling on growth reads as one.
    ceiling = {"comparator": "<=", "change": 0.05, "zone_types": ["city"]}
    assert describe_target(ceiling, "t", baseline_year=2020).startswith("a rise of no more than 5 % from the 2020 value")
    assert describe_target(ceiling, "t", lang="zh", baseline_year=2020).startswith("市：比2020年增长不超过5%")
