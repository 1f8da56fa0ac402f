"""`gis export`, `gis history --db` and `gis diff --db` against a real PostGIS server."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import pyogrio
from click.testing import CliRunner

from gis.cli import main


def test_export_history_and_diff_through_the_cli(postgis_url, schema, tmp_path):
    runner = CliRunner()
    project, out = tmp_path / "city", tmp_path / "out"
    assert runner.invoke(main, ["sample", str(project), "--scale", "0.1"]).exit_code == 0
    assert runner.invoke(main, ["run", "--no-pdf", "--project", str(project), "--out", str(out)]).exit_code == 0
    result = runner.invoke(main, ["export", "--out", str(out), "--to", postgis_url, "--schema", schema])
    assert result.exit_code == 0, result.output
    assert result.output.count("exported") == 1  # one summary line, not a log line beside it

    # Next year's data: every public-service parking space in 湖滨区 gets a charger.
    data = project / "layers" / "sample" / "sanmenxia.gpkg"
    lots = gpd.read_file(data, layer="parking_lots")
    hubin = gpd.read_file(data, layer="counties").set_index("id").geometry["156411202"]
    inside = lots.within(hubin)
    lots.loc[inside, "charger_spaces"] = lots.loc[inside, "spaces"]
    pyogrio.write_dataframe(lots, data, layer="parking_lots", driver="GPKG")
    assert runner.invoke(main, ["run", "--no-pdf", "--project", str(project), "--out", str(out)]).exit_code == 0
    assert runner.invoke(main, ["export", "--out", str(out), "--to", postgis_url, "--schema", schema]).exit_code == 0

    listed = runner.invoke(main, ["history", "--db", postgis_url, "--schema", schema, "--format", "csv"])
    assert listed.exit_code == 0, listed.output
    assert len(pd.read_csv(io.StringIO(listed.output))) == 2
    changed = runner.invoke(main, ["diff", "previous", "latest", "--db", postgis_url, "--schema", schema, "--format", "csv"])
    assert changed.exit_code == 0, changed.output
    rows = pd.read_csv(io.StringIO(changed.output), dtype={"zone_id": str})
    hubin_row = rows[(rows["indicator"] == "charging.parking_share") & (rows["zone_id"] == "156411202")].iloc[0]
    assert hubin_row["value_b"] == 1.0 and hubin_row["status_b"] == "no_target"  # a city target: the county is reported
    assert set(rows["indicator"]) == {"charging.parking_share"}
