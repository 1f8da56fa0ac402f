"""End to end: ``gis sample``, ``gis check`` and ``gis run`` on a small generated project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import yaml
from click.testing import CliRunner

from gis.cli import main
from gis.outputs.geopackage import geopackage_version
from gis.outputs.summary import plan_targets

REFERENCE = Path(__file__).resolve().parent.parent


def test_sample_is_a_complete_project(sample_run):
    project, _ = sample_run
    assert (project / "layers" / "catalog.yaml").read_text(encoding="utf-8") == (REFERENCE / "layers" / "catalog.yaml").read_text(encoding="utf-8")
    specs = sorted(p.name for p in (project / "analyses").glob("*.yaml"))
    assert specs == sorted(p.name for p in (REFERENCE / "analyses").glob("*.yaml"))
    result = CliRunner().invoke(main, ["check", "--project", str(project)])
    assert result.exit_code == 0, result.output


def test_every_indicator_for_the_city_and_its_counties(sample_run):
    _, out = sample_run
    history = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})
    assert set(history["year"]) == {2020, 2023, 2025}
    table = history[history["year"] == 2025]
    required = ["indicator", "zone_type", "zone_id", "zone_name", "value", "unit", "target", "comparator", "status",
                "shortfall", "shortfall_unit", "clause"]
    assert list(table.columns[: len(required)]) == required
    spec_ids = {p.stem for p in (REFERENCE / "analyses").glob("*.yaml")}
    assert set(table["indicator"]) == spec_ids
    city = table[table["zone_type"] == "city"]
    assert set(city["indicator"]) == spec_ids
    assert (city["zone_id"] == "156411200").all()
    for spec_id in spec_ids:
        spec = yaml.safe_load((REFERENCE / "analyses" / f"{spec_id}.yaml").read_text(encoding="utf-8"))
        if "county" in spec.get("zone_types", ["city", "county"]):
            counties = table[(table["indicator"] == spec_id) & (table["zone_type"] == "county")]
            assert len(counties) == 6, spec_id
    # The four themes of the plan and the project totals all appear.
    assert {"heating", "charging", "permeable", "sewage", "projects"} <= set(table["theme"])
    # Both met targets and gaps, every gap with a shortfall in real units.
    assert {"met", "gap"} <= set(table["status"])
    gaps = table[table["status"] == "gap"]
    assert (gaps["shortfall"] > 0).all()
    assert gaps["shortfall_unit"].notna().all()
    # Shares are fractions; a city share is the ratio of the summed counties, not a mean.
    shares = table[(table["unit"] == "share") & table["value"].notna()]
    assert shares["value"].between(0, 1).all()
    parking = table[table["indicator"] == "charging.parking_share"].set_index("zone_type")
    counties = table[(table["indicator"] == "charging.parking_share") & (table["zone_type"] == "county")]
    assert parking.loc["city", "value"] == pytest.approx(counties["numerator"].sum() / counties["denominator"].sum())
    assert table["synthetic"].all()


def test_geopackage_is_version_1_2_in_cgcs2000(sample_run):
    _, out = sample_run
    path = out / "planning.gpkg"
    assert geopackage_version(path) == 10200
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"city", "city_indicators", "permeable.share.county", "charging.parking_share.county",
            "sewage.park_network.park", "sewage.blank_areas.gaps", "heating.coal_in_network.gaps"} <= layers
    assert not [name for name in layers if name.endswith(".city")]  # the city once, not a copy per indicator
    city = pyogrio.read_dataframe(path, layer="city")
    assert len(city) == 1 and city["zone_id"].iloc[0] == "156411200"
    rows = pyogrio.read_dataframe(path, layer="city_indicators")
    assert rows["indicator"].is_unique and set(rows["zone_id"]) == {"156411200"}
    assert pyogrio.read_info(path, layer="city_indicators")["geometry_type"] is None
    info = pyogrio.read_info(path, layer="permeable.share.county")
    assert info["crs"] == "EPSG:4490"
    zones = pyogrio.read_dataframe(path, layer="permeable.share.county")
    assert set(zones["zone_type"]) == {"county"} and len(zones) == 6
    assert zones["synthetic"].all()
    assert zones["feature_id"].str.startswith("permeable.share:county:").all()


def test_run_record(sample_run):
    project, out = sample_run
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["synthetic"] is True
    assert record["versions"]["exactextract"]
    assert len(record["inputs"]["landcover"]["sha256"]) == 64
    assert record["indicators"]["charging.coverage"]["parameters"]["distance_m"] == 2000
    assert record["started"] <= record["finished"]
    assert not list(out.glob(".gis-staging-*"))


def test_a_failed_run_leaves_earlier_outputs_whole(sample_run, tmp_path):
    project, out = sample_run
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    broken = tmp_path / "broken"
    CliRunner().invoke(main, ["sample", str(broken), "--scale", "0.1"])
    (broken / "layers" / "sample" / "landcover.tif").write_bytes(b"not a tiff")
    result = CliRunner().invoke(main, ["run", "--project", str(broken), "--out", str(out)])
    assert result.exit_code == 1
    assert "landcover.tif" in result.output and "cannot be opened" in result.output
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_usage_errors_exit_2_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gis", "run", "--project", str(tmp_path / "nowhere")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "project folder not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_history_and_diff_show_what_changed(tmp_path):
    import io

    import geopandas as gpd

    project, out = tmp_path / "city", tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(main, ["sample", str(project), "--scale", "0.1"]).exit_code == 0
    assert runner.invoke(main, ["run", "--no-pdf", "--project", str(project), "--out", str(out)]).exit_code == 0
    assert (out / "report.html").exists() and not (out / "report.pdf").exists()  # --no-pdf: the HTML only
    # Equip every space of one parking lot in 湖滨区 (156411202) with a charger.
    data = project / "layers" / "sample" / "sanmenxia.gpkg"
    lots = gpd.read_file(data, layer="parking_lots")
    counties = gpd.read_file(data, layer="counties")
    hubin = counties.loc[counties["id"] == "156411202"].geometry.iloc[0]
    inside = lots.loc[lots.within(hubin) & (lots["charger_spaces"] < lots["spaces"])].index[0]
    added = int(lots.loc[inside, "spaces"] - lots.loc[inside, "charger_spaces"])
    lots.loc[inside, "charger_spaces"] = lots.loc[inside, "spaces"]
    pyogrio.write_dataframe(lots, data, layer="parking_lots", driver="GPKG")
    assert runner.invoke(main, ["run", "--no-pdf", "--project", str(project), "--out", str(out)]).exit_code == 0

    listed = runner.invoke(main, ["history", "--out", str(out), "--format", "csv"])
    runs = pd.read_csv(io.StringIO(listed.output))
    assert len(runs) == 2 and runs["run_id"].is_unique
    # each run listed by its plan targets, counted at their levels as the report counts them
    current = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str}).query("year == 2025")
    targets = plan_targets(current)
    latest = runs.iloc[-1]
    assert latest["targets"] == len(targets) > 0
    assert (latest["targets_met"], latest["targets_gap"]) == ((targets["status"] == "met").sum(), (targets["status"] == "gap").sum())

    result = runner.invoke(main, ["diff", "previous", "latest", "--out", str(out), "--format", "csv"])
    assert result.exit_code == 0, result.output
    changes = pd.read_csv(io.StringIO(result.output), dtype={"zone_id": str})
    assert set(changes["indicator"]) == {"charging.parking_share"}
    assert set(changes["zone_id"]) == {"156411200", "156411202"}
    hubin_row = changes.set_index("zone_id").loc["156411202"]
    table = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})
    table = table[table["year"] == 2025].set_index(["indicator", "zone_id"])
    after = table.loc[("charging.parking_share", "156411202")]
    assert hubin_row["value_b"] == pytest.approx(after["value"])
    assert hubin_row["value_b"] - hubin_row["value_a"] == pytest.approx(added / after["denominator"])
    assert runner.invoke(main, ["diff", "nosuchrun", "--out", str(out)]).exit_code == 2


def test_run_writes_report_and_workbook_and_report_rebuilds_them(sample_run):
    _, out = sample_run
    table = pd.read_csv(out / "indicators.csv")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert all(indicator in html for indicator in set(table["indicator"]))
    assert (out / "gaps.xlsx").stat().st_size > 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert {"report.html", "gaps.xlsx", "data_quality.csv"} <= set(record["outputs"])
    (out / "report.html").unlink()
    result = CliRunner().invoke(main, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").read_text(encoding="utf-8").count(record["run_id"]) >= 1


def test_views_written_by_run_equal_views_rebuilt_from_the_files(sample_run, tmp_path):
    """`gis run` makes the map, report and workbook from the layers it holds in memory; `gis map`
    and `gis report` read them back from planning.gpkg. Both must give the same pages."""
    import re
    import shutil

    import openpyxl

    out = tmp_path / "out"
    shutil.copytree(sample_run[1], out)
    if not (out / "report.html").exists():
        pytest.skip("report.html rebuilt by another test")
    before = {name: (out / name).read_text(encoding="utf-8") for name in ("map.html", "report.html")}
    sheets_before = {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in openpyxl.load_workbook(out / "gaps.xlsx")}
    for command in (["map", "--out", str(out)], ["report", "--out", str(out)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, result.output
    element_ids = re.compile(r"_[0-9a-f]{32}")  # folium names every element with a fresh uuid
    for name, page in before.items():
        again = (out / name).read_text(encoding="utf-8")
        assert element_ids.sub("_ID", again) == element_ids.sub("_ID", page), name
    sheets = {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in openpyxl.load_workbook(out / "gaps.xlsx")}
    assert sheets == sheets_before


def test_trajectory_from_the_2020_baseline(sample_run):
    _, out = sample_run
    table = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})
    parking = table[(table["indicator"] == "charging.parking_share") & (table["zone_type"] == "city")].set_index("year")
    start, target = parking.loc[2020, "value"], parking.loc[2025, "target"]
    # The straight path from the 2020 value to the 2025 target: three fifths of the way by 2023.
    assert parking.loc[2023, "path_value"] == pytest.approx(start + (target - start) * 3 / 5)
    assert parking.loc[2020, "trajectory"] == "baseline"
    expected = "on_track" if parking.loc[2023, "value"] >= parking.loc[2023, "path_value"] else "behind"
    assert parking.loc[2023, "trajectory"] == expected
    assert set(table["trajectory"]) <= {"baseline", "met", "on_track", "behind", "no_target", "no_data", "no_path", "not_assessed"}
    # Only indicators whose inputs have earlier years get earlier rows.
    assert set(table.loc[table["year"] == 2020, "indicator"]) == {
        "charging.parking_share",  # parking_lots
        "heating.clean_share", "heating.rural_clean", "heating.coal_in_network", "heating.boilers_ultra_low",  # heat_sources
        "heating.waste_heat_renewable", "heating.coal_exit", "heating.agri_coal",
        "sewage.collection_rate", "sewage.treatment_rate", "sewage.treatment_of_collected",  # sewage_plants
        "sewage.reclaimed_rate", "sewage.sludge_safe", "sewage.sludge_routes",
        "projects.cod", "projects.nh3n", "projects.nox", "projects.vocs",  # key_projects
        "energy.intensity", "energy.total", "energy.coal", "industry.energy_per_va", "industry.water_per_va",  # county_statistics
        "buildings.renewable_share", "agencies.energy_per_m2", "agencies.energy_per_person", "water.supply_leakage",
        "rural.sewage",  # villages
    }


def test_readme_indicator_table_is_gis_targets_output():
    result = CliRunner().invoke(main, ["targets", "--project", str(REFERENCE), "--format", "md"])
    assert result.exit_code == 0, result.output
    assert result.stdout in (REFERENCE / "README.md").read_text(encoding="utf-8")


def test_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:")[1].split()
    commands = {"check", "diff", "export", "history", "init", "layers", "map", "report", "run", "sample", "targets"}
    assert commands <= set(listed)


def test_init_needs_a_metric_crs(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["init", str(tmp_path / "a")])
    assert missing.exit_code == 2 and "--crs" in missing.output
    assert not (tmp_path / "a").exists()
    degrees = runner.invoke(main, ["init", str(tmp_path / "b"), "--crs", "EPSG:4326"])
    assert degrees.exit_code == 2 and "metres" in degrees.output
    result = runner.invoke(main, ["init", str(tmp_path / "c"), "--crs", "EPSG:4547"])
    assert result.exit_code == 0, result.output
    catalog = yaml.safe_load((tmp_path / "c" / "layers" / "catalog.yaml").read_text(encoding="utf-8"))
    assert catalog["project"]["crs"] == "EPSG:4547"


def test_scheduler_without_dask_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["run", "--project", str(tmp_path), "--scheduler", "tcp://localhost:8786"])
    assert result.exit_code == 2
    assert "--scheduler goes with --engine dask" in result.output


def test_gap_table_names_the_projects_target_year_and_name():
    from gis.cli.console import console
    from gis.cli.run import print_gaps

    indicators = pd.DataFrame(
        {
            "indicator": ["x.share", "x.share"], "zone_type": ["city", "county"], "zone_name": ["City", "County"],
            "value": [0.4, 0.3], "unit": ["share", "share"], "target": [0.5, 0.5], "comparator": [">=", ">="],
            "status": ["gap", "gap"], "shortfall": [10.0, 4.0], "shortfall_unit": ["km2", "km2"],
        }
    )
    with console.capture() as capture:
        print_gaps(indicators, target_year=2030, project_name="Test city", synthetic=True)
    text = " ".join(capture.get().split())
    # targets first, at the level the plan sets them (a city target and one set per county); zone rows second
    assert "Plan targets 2030: city 1 target: 0 met, 1 gap; set per county 1 target: 0 met, 1 gap (1 of 1 county rows short)" in text
    assert "zone rows: 0 met, 2 gap, 0 no_data, 0 no_target" in text
    assert "40.0%" in text and ">= 50.0%" in text and "County 4 (km2)" in text  # the unit said once
    assert "the numbers show the method, not Test city." in text
