"""A project with only some of the plan's layers: the indicators reading a layer the catalog lacks are
not assessed (status ``not_assessed``, the layer named), in every output; a misspelt name stays an error."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import yaml
from badinput import edit_catalog, run_cli
from click.testing import CliRunner
from shapely.geometry import Point
from tinyproject import X0, Y0, target

from gis import load_project
from gis.cli import main
from gis.engines.local import run_project
from gis.errors import ConfigError
from gis.methods.registry import spec_layers
from gis.outputs.folder import read_run
from gis.outputs.webmap import write_map
from gis.project.check import CANNOT_RUN, NOT_ASSESSED, WILL_RUN, check_indicators, check_project
from gis.proposals import propose

SHORTFALL = {"unit": "things", "factor": 1, "rounding": "ceil"}


def _lots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["L1", "L2"], "spaces": [100, 100], "charger_spaces": [30, 10]},
        geometry=[Point(X0 + 100, Y0 + 100), Point(X0 + 1500, Y0 + 100)], crs="EPSG:4546",
    )


def _spec(spec_id: str, layer: str, **parameters: object) -> dict:
    return {
        "id": spec_id, "method": "ratio", "inputs": {"features": layer},
        "parameters": {"numerator": "charger_spaces", "denominator": "spaces", **parameters},
        "target": target(value=0.25), "shortfall": SHORTFALL,
    }


def _tiny(make_project) -> Path:
    """Lots, and three specs: one on the lots, one on a layer the project lacks, one on an in_layer it lacks."""
    return make_project({"lots": _lots()}, [
        _spec("charging.parking_share", "lots"),
        _spec("charging.hubs", "charging_hubs"),
        _spec("charging.fleet", "lots", where={"field": "id", "in_layer": "operators"}),
    ])


def test_a_layer_the_catalog_lacks_leaves_its_indicator_not_assessed(make_project):
    rows = run_project(load_project(_tiny(make_project))).indicators
    assessed = rows[rows["indicator"] == "charging.parking_share"]
    assert assessed["status"].tolist() == ["gap", "met", "gap"]
    for spec_id, layer in (("charging.hubs", "charging_hubs"), ("charging.fleet", "operators")):
        mine = rows[rows["indicator"] == spec_id]
        assert len(mine) == 3 and (mine["status"] == "not_assessed").all()
        assert mine["value"].isna().all() and mine["shortfall"].isna().all()
        assert mine["status_note"].str.startswith(f"not assessed: no layer '{layer}';").all()
        assert (mine["trajectory"] == "not_assessed").all()


@pytest.mark.parametrize(("where", "name", "closest"), [
    ("inputs", "lot", "lots"),
    ("in_layer", "lotss", "lots"),
])
def test_a_name_close_to_a_catalog_layer_is_a_typo_not_a_missing_layer(make_project, where, name, closest):
    spec = _spec("charging.hubs", name) if where == "inputs" else _spec("charging.hubs", "lots", where={"field": "id", "in_layer": name})
    root = make_project({"lots": _lots()}, [spec])
    with pytest.raises(ConfigError, match=rf"charging\.hubs\.yaml:\d+: key '[a-z_.]+': .*layer '{name}' is not in .*did you mean '{closest}'"):
        load_project(root)


def test_a_missing_baseline_table_measures_the_value_but_does_not_judge_it(make_project):
    spec = _spec("charging.parking_share", "lots")
    spec["target"] = target(increase=0.05, baseline_layer="baseline_2020")
    rows = run_project(load_project(make_project({"lots": _lots()}, [spec]))).indicators
    assert (rows["status"] == "not_assessed").all()
    assert rows["value"].round(3).tolist() == [0.2, 0.3, 0.1]
    assert rows["target"].isna().all()
    assert rows["status_note"].str.contains("not assessed: no layer 'baseline_2020';").all()


def test_check_says_which_indicators_will_run(make_project):
    root = _tiny(make_project)
    project = load_project(root)
    layers = project.layers()
    findings = check_project(layers)
    reads = {"charging.parking_share": ["lots"], "charging.hubs": ["charging_hubs"], "charging.fleet": ["lots", "operators"]}
    states = {c.indicator: (c.state, c.reason) for c in check_indicators(layers, findings, reads)}
    assert states == {
        "charging.parking_share": (WILL_RUN, ""),
        "charging.hubs": (NOT_ASSESSED, "no layer 'charging_hubs' in the catalog"),
        "charging.fleet": (NOT_ASSESSED, "no layer 'operators' in the catalog"),
    }
    (root / "layers" / "data" / "test.gpkg").rename(root / "layers" / "data" / "moved.gpkg")
    layers = project.layers()
    findings = check_project(layers)
    assert any(f.severity == "error" and f.layer == "lots" for f in findings)
    states = {c.indicator: c.state for c in check_indicators(layers, findings, reads)}
    assert states == {"charging.parking_share": CANNOT_RUN, "charging.hubs": NOT_ASSESSED, "charging.fleet": NOT_ASSESSED}


def test_the_check_command_lists_the_indicators(make_project, tmp_path):
    root = _tiny(make_project)
    result = CliRunner().invoke(main, ["check", "--project", str(root), "--out", str(tmp_path / "check")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "1 of 3 indicators will run; not assessed: charging.fleet (no layer 'operators' in the catalog), charging.hubs (no layer " \
           "'charging_hubs' in the catalog)" in " ".join(result.output.split())



def test_the_dask_engine_gives_the_same_rows(make_project):
    pytest.importorskip("distributed")
    from gis.engines.dask import run_project_dask

    root = _tiny(make_project)
    local = run_project(load_project(root)).indicators
    pd.testing.assert_frame_equal(local, run_project_dask(load_project(root), workers=1).indicators)


def test_a_not_assessed_indicator_gets_no_proposal(make_project):
    spec = _spec("charging.parking_share", "charging_hubs")
    spec["proposal"] = {"kind": "parking_spaces"}
    result = run_project(load_project(make_project({"lots": _lots()}, [spec])))
    proposals = propose(result)
    assert proposals.table.empty
    assert proposals.notes == ["charging.parking_share: not assessed (no layer 'charging_hubs'); no proposal"]


# --- the sample project without its population raster and its sewer network ---------------------------

GONE = {"charging.coverage": "population", "sewage.blank_areas": "sewer_network", "sewage.park_network": "sewer_network"}


def _drop_layers(project: Path) -> None:
    def change(catalog: dict) -> None:
        for name in ("population", "sewer_network"):
            del catalog["layers"][name]
    edit_catalog(project, change)


def _gone(project: Path) -> tuple[set[str], int]:
    """The specs of the sample that read the population raster or the sewer network (at least those of GONE), and
    how many specs there are."""
    config = load_project(project)
    specs, kept = config.specs, set(config.catalog.layers) - {"population", "sewer_network"}
    gone = {spec.id for spec in specs if set(spec_layers(spec)) - kept}  # and those the sample lacks a layer of (landuse)
    assert set(GONE) <= gone
    return gone, len(specs)


def _listed(text: str, head: str, tail: str = "") -> None:
    """``text`` says ``head`` and lists every indicator of GONE with the layer it lacks."""
    assert head in text, text
    for indicator, layer in GONE.items():
        assert f"{indicator} (no layer '{layer}'{tail})" in text, text


def test_the_sample_without_two_layers_runs_the_rest_unchanged(case):
    project, out, before = case
    gone, total = _gone(project)
    _drop_layers(project)
    code, output = run_cli(project, out)
    assert code == 0, output
    table = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})
    last = table[table["year"] == table["year"].max()]
    assert set(last.loc[last["status"] == "not_assessed", "indicator"]) == gone
    for indicator, layer in GONE.items():
        rows = last[last["indicator"] == indicator]
        assert (rows["status"] == "not_assessed").all() and rows["value"].isna().all()
        assert rows["status_note"].str.startswith(f"not assessed: no layer '{layer}';").all()
        assert indicator not in set(table.loc[table["year"] != table["year"].max(), "indicator"])  # no earlier years either
    earlier = pd.read_csv(io.BytesIO(before[Path("indicators.csv")]), dtype={"zone_id": str})
    for indicator in sorted(set(earlier["indicator"]) - gone):
        now, then = table[table["indicator"] == indicator], earlier[earlier["indicator"] == indicator]
        pd.testing.assert_frame_equal(now.reset_index(drop=True), then.reset_index(drop=True), obj=indicator)
    head = f"{total - len(gone)} of {total} indicators assessed"
    _listed(" ".join(output.split()), f"{head}; not assessed: ")

    proposals = pd.read_csv(out / "proposals.csv")
    assert not set(proposals["indicator"]) & gone

    report = (out / "report.html").read_text(encoding="utf-8")
    assert f'id="not-assessed" data-assessed="{total - len(gone)}" data-total="{total}"' in report
    for indicator, layer in GONE.items():
        assert f'data-indicator="{indicator}"' in report and f"no layer &#39;{layer}&#39;" in report
        assert f'<section class="indicator" id="ind-{indicator.replace(".", "-")}"' not in report

    sheet = openpyxl.load_workbook(out / "gaps.xlsx").worksheets[0]
    _listed(str(sheet["A4"].value), head)
    statuses = {row[0]: row[9] for row in sheet.iter_rows(min_row=6, values_only=True)}
    assert {k for k, v in statuses.items() if v == "not_assessed"} == gone

    layers = {name for name, _ in pyogrio.list_layers(out / "planning.gpkg")}
    assert not any(name.startswith(tuple(f"{i}." for i in gone)) for name in layers)
    assert "charging.fleet.county" in layers

    page = (out / "map.html").read_text(encoding="utf-8")
    assert "not assessed (no map layer)" in page
    assert "no layer \\u0026#x27;population\\u0026#x27;" in page

    # A map spec that names a not-assessed indicator (first layer, start) draws the others, and lists it.
    plan_path = project / "maps" / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    plan["indicators"].update(include=["charging.coverage", "charging.fleet"], start="charging.coverage")
    plan_path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    page = write_map(read_run(out), out / "partial.html").read_text(encoding="utf-8")
    assert "charging.fleet" in page and "not assessed (no map layer)" in page


def test_check_of_the_sample_without_two_layers(case, tmp_path):
    project, _, _ = case
    gone, total = _gone(project)
    _drop_layers(project)
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(tmp_path / "check")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    _listed(text, f"{total - len(gone)} of {total} indicators will run; not assessed: ", " in the catalog")
    assert "error" not in text


def test_a_listed_layer_whose_file_is_missing_stays_an_error(case, tmp_path):
    project, _, _ = case
    (project / "layers" / "sample" / "population.tif").unlink()
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(tmp_path / "check")])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "population.tif" in text and "cannot run: charging.coverage" in text
