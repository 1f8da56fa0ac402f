"""The plan register (analyses/plan/register.yaml) and plan_coverage.csv: every item of the plan, and
whether the run assesses it, approximates it or leaves it out (with the reason)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from shapely.geometry import Point
from tinyproject import X0, Y0, target

from gis.cli import main
from gis.engines.local import run_project
from gis.errors import ConfigError
from gis.outputs.plan_coverage import PLAN_COVERAGE_COLUMNS, coverage_line, plan_coverage
from gis.project.config import read_project, reference_root
from gis.project.register import REGISTER_PATH, read_register

SHORTFALL = {"unit": "things", "factor": 1, "rounding": "ceil"}


def _lots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["L1", "L2"], "spaces": [100, 100], "charger_spaces": [30, 10]},
        geometry=[Point(X0 + 100, Y0 + 100), Point(X0 + 1500, Y0 + 100)], crs="EPSG:4546",
    )


def _spec(spec_id: str, layer: str) -> dict:
    return {"id": spec_id, "method": "ratio", "inputs": {"features": layer},
            "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
            "target": target(value=0.25), "shortfall": SHORTFALL}


def _item(n: int, assessment: str, indicators: list[str] | None = None, reason: str = "") -> dict:
    item = {"item": n, "clause": "二(四)", "title_zh": f"条目{n}", "title_en": f"Item {n}", "target": "≥ 25 %",
            "kind": "P", "assessment": assessment}
    if indicators:
        item["indicators"] = indicators
    if reason:
        item["reason"] = reason
    return item


def _tiny(make_project, items: list[dict]) -> Path:
    """Lots and two specs, one on the lots and one on a layer the catalog lacks; and a register of ``items``."""
    root = make_project({"lots": _lots()}, [_spec("charging.parking_share", "lots"), _spec("charging.hubs", "charging_hubs")])
    path = root / REGISTER_PATH
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump({"items": items}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def test_the_reference_register_has_80_items_each_linked_to_a_spec():
    root = reference_root()
    specs = {spec.id for spec in read_project(root).specs}
    register = read_register(root, specs)
    assert register is not None
    numbers = [item.item for item in register.items]
    assert numbers == list(range(1, 81))
    for item in register.items:
        assert set(item.indicators) <= specs, item.item
        assert (item.assessment == "not_assessed") == (not item.indicators), item.item
        assert item.assessment == "assessed" or item.reason, item.item
    assert len(read_project(root).specs) == len(list((root / "analyses").glob("*.yaml")))  # not read as a spec


def test_a_tiny_register_gives_its_rows(make_project, tmp_path):
    root = _tiny(make_project, [
        _item(1, "assessed", ["charging.parking_share"]),
        _item(2, "approximated", ["charging.parking_share"], "read over all lots"),
        _item(3, "not_assessed", reason="no data in the sample"),
    ])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "--no-pdf", "--project", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "plan_coverage.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == PLAN_COVERAGE_COLUMNS
    assert table.to_dict("records") == [
        {"item": "1", "clause": "二(四)", "title_zh": "条目1", "title_en": "Item 1", "target": "≥ 25 %", "kind": "P",
         "assessment": "assessed", "indicators": "charging.parking_share", "reason": ""},
        {"item": "2", "clause": "二(四)", "title_zh": "条目2", "title_en": "Item 2", "target": "≥ 25 %", "kind": "P",
         "assessment": "approximated", "indicators": "charging.parking_share", "reason": "read over all lots"},
        {"item": "3", "clause": "二(四)", "title_zh": "条目3", "title_en": "Item 3", "target": "≥ 25 %", "kind": "P",
         "assessment": "not_assessed", "indicators": "", "reason": "no data in the sample"},
    ]
    assert "plan items: 1 of 3 assessed, 1 approximated, 1 not assessed" in " ".join(result.output.split())
    history = next((out / "history").iterdir())
    assert (history / "plan_coverage.csv").read_bytes() == (out / "plan_coverage.csv").read_bytes()


def test_an_item_whose_indicators_are_not_assessed_in_the_run_is_not_assessed(make_project):
    root = _tiny(make_project, [
        _item(1, "assessed", ["charging.hubs"]),
        _item(2, "approximated", ["charging.parking_share", "charging.hubs"], "read over all lots"),
    ])
    project = read_project(root)
    table = plan_coverage(project.register, run_project(project).indicators)
    first, second = table.to_dict("records")
    assert first["assessment"] == "not_assessed"
    assert first["indicators"] == ""
    assert first["reason"].startswith("its indicators are not assessed in this run (charging.hubs: ")
    assert "charging_hubs" in first["reason"]  # the layer the catalog lacks
    assert second["assessment"] == "approximated"
    assert second["indicators"] == "charging.parking_share"
    assert second["reason"].startswith("read over all lots; not assessed in this run: charging.hubs: ")


def test_a_project_without_a_register_has_an_empty_table(make_project):
    project = read_project(make_project({"lots": _lots()}, [_spec("charging.parking_share", "lots")]))
    assert project.register is None
    table = plan_coverage(project.register, run_project(project).indicators)
    assert table.empty
    assert list(table.columns) == PLAN_COVERAGE_COLUMNS
    assert coverage_line(table).startswith("plan items: no plan register")


def test_a_register_naming_an_unknown_indicator_fails_at_load(make_project):
    root = _tiny(make_project, [_item(1, "assessed", ["charging.parkng_share"])])
    path = root / REGISTER_PATH
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "parkng" in text)
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}:{line}: key 'items\.0\.indicators\.0': no spec 'charging\.parkng_share'"):
        read_project(root)


@pytest.mark.parametrize(("items", "key"), [
    ([_item(1, "not_assessed", reason="x"), _item(1, "not_assessed", reason="y")], "items.1.item"),
    ([_item(1, "approximated", ["charging.parking_share"])], "items.0"),
    ([{**_item(1, "not_assessed", reason="x"), "kind": "Q"}], "items.0.kind"),
])
def test_a_bad_register_names_its_key(make_project, items, key):
    root = _tiny(make_project, items)
    with pytest.raises(ConfigError, match=rf"register\.yaml:\d+: key '{re.escape(key)}'"):
        read_project(root)


def test_the_sample_run_reports_every_item_of_the_plan(sample_run):
    _, out = sample_run
    table = pd.read_csv(out / "plan_coverage.csv", dtype={"item": int}, keep_default_na=False)
    assert table["item"].tolist() == list(range(1, 81))
    counts = table["assessment"].value_counts().to_dict()
    assert counts == {"not_assessed": 15, "assessed": 37, "approximated": 28}
    assert counts["assessed"] + counts["approximated"] >= 60  # issue 15: at least 60 of the 80 items
    assert (table.loc[table["assessment"] == "not_assessed", "reason"].str.len() > 0).all()
    assert (table.loc[table["assessment"] == "approximated", "reason"].str.len() > 0).all()
    permeable = table.set_index("item").loc[28]  # the land-use reading lacks its layer in the sample
    assert permeable["indicators"] == "permeable.share"
    assert "not assessed in this run: permeable.share_landuse" in permeable["reason"]
