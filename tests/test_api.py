"""A new city: `gis init`, data in the city's own column names mapped by the catalog, a run from the CLI and the API."""

from __future__ import annotations

import shutil
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import yaml
from click.testing import CliRunner

import gis
from gis.cli import main

# The city's own column names: Chinese for some fields, prefixed for the rest.
OWN_NAMES = {"id": "编号", "name": "名称", "spaces": "车位数", "charger_spaces": "充电车位数", "kind": "类型"}


def _own(field: str) -> str:
    return OWN_NAMES.get(field, f"src_{field}")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A scaffolded project filled with the sample data under other column names, and the sample's own run."""
    root = tmp_path_factory.mktemp("newcity")
    runner = CliRunner()
    sample, city = root / "sample", root / "city"
    assert runner.invoke(main, ["sample", str(sample), "--scale", "0.1", "--seed", "3"]).exit_code == 0
    assert runner.invoke(main, ["run", "--no-pdf", "--project", str(sample), "--out", str(root / "sample_out")]).exit_code == 0
    result = runner.invoke(main, ["init", str(city), "--name", "测试市", "--crs", "EPSG:4546"])
    assert result.exit_code == 0, result.output

    # A fresh scaffold says, layer by layer, what is missing.
    result = runner.invoke(main, ["check", "--project", str(city), "--out", str(root / "check")])
    assert result.exit_code == 1
    missing = pd.read_csv(root / "check" / "data_quality.csv")
    assert set(missing["layer"]) == set(yaml.safe_load((city / "layers" / "catalog.yaml").read_text(encoding="utf-8"))["layers"])

    # Every template entry uncommented (the init catalog lists only the counties as given), as its comment says.
    catalog_path = city / "layers" / "catalog.yaml"
    text = "\n".join(line[2:] if line.startswith("#   ") else line for line in catalog_path.read_text(encoding="utf-8").splitlines())
    catalog = yaml.safe_load(text)
    reference = yaml.safe_load((sample / "layers" / "catalog.yaml").read_text(encoding="utf-8"))
    catalog["project"]["city"] = reference["project"]["city"]
    for name, entry in catalog["layers"].items():
        source = reference["layers"][name]
        target = city / "layers" / entry["file"]
        if entry["kind"] == "raster":
            shutil.copy2(sample / "layers" / source["file"], target)
        else:
            if entry["kind"] == "table":
                frame = pd.read_csv(sample / "layers" / source["file"], dtype=str)
            else:
                frame = gpd.read_file(sample / "layers" / source["file"], layer=source["layer"])
            frame = frame.rename(columns={f: _own(f) for f in entry["fields"]})
            if entry["kind"] == "table":
                frame.to_csv(target, index=False)
            else:
                pyogrio.write_dataframe(frame, target, layer=entry["layer"], driver="GPKG")
            entry["fields"] = {f: _own(f) for f in entry["fields"]}
            entry["id_field"] = _own("id")
        entry["provenance"] = source["provenance"]
    catalog_path.write_text(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return city, root


def test_cli_run_of_the_new_city_matches_the_sample(city):
    project, root = city
    runner = CliRunner()
    assert runner.invoke(main, ["check", "--project", str(project), "--out", str(root / "check")]).exit_code == 0
    result = runner.invoke(main, ["run", "--no-pdf", "--project", str(project), "--out", str(root / "out")])
    assert result.exit_code == 0, result.output
    mine = pd.read_csv(root / "out" / "indicators.csv", dtype={"zone_id": str})
    sample = pd.read_csv(root / "sample_out" / "indicators.csv", dtype={"zone_id": str})
    sample = sample[sample["year"] == 2025].reset_index(drop=True)  # the scaffold keeps no earlier years
    assert set(mine["year"]) == {2025}
    # Targets relative to 2020 measured on the layers of 2020 (energy per GDP -16 %): the scaffold has no 2020 data,
    # so those are measured, and judged no_data with the reason; everything else is judged as in the sample.
    relative = {spec.id for spec in gis.load_project(project).specs
                if spec.target and (spec.target.change is not None or spec.target.increase is not None) and not spec.target.baseline_layer}
    assert relative >= {"energy.intensity", "rural.sewage"}
    apart = mine["indicator"].isin(relative)
    assert set(mine.loc[apart, "status"]) == {"no_data", "no_target"}  # no_target: the zones a city target does not judge
    unjudged = apart & (mine["status"] == "no_data")
    assert mine.loc[unjudged, "status_note"].str.contains("no 2020 value").all()
    columns = ["indicator", "zone_type", "zone_id", "value", "status", "shortfall"]
    pd.testing.assert_frame_equal(mine.loc[apart, columns[:4]], sample.loc[apart, columns[:4]])
    pd.testing.assert_frame_equal(mine.loc[~unjudged, columns], sample.loc[~unjudged, columns])
    for name in ("map.html", "report.html", "gaps.xlsx", "planning.gpkg", "run.json"):
        assert (root / "out" / name).stat().st_size > 0


def test_python_api(city, tmp_path):
    project_dir, root = city
    project = gis.load_project(project_dir)
    assert isinstance(project, gis.Project)
    findings = project.check()
    assert set(findings["severity"]) == {"ok"}
    result = project.run()
    assert isinstance(result, gis.Result)
    cli = pd.read_csv(root / "out" / "indicators.csv", dtype={"zone_id": str}) if (root / "out").exists() else None
    indicators = result.indicators
    assert {"indicator", "zone_id", "value", "status", "shortfall"} <= set(indicators.columns)
    if cli is not None:
        assert indicators["value"].tolist() == pytest.approx(cli["value"].tolist(), nan_ok=True)
    gaps = result.gaps
    assert isinstance(gaps, gpd.GeoDataFrame) and gaps.crs == "EPSG:4546"
    assert {"sewage.blank_areas", "heating.coal_in_network"} <= set(gaps["indicator"])
    assert isinstance(result.map(), folium.Map)
    assert result.report(tmp_path / "report.html").read_text(encoding="utf-8").count("permeable.share") >= 1
    layers = {name for name, _ in pyogrio.list_layers(result.to_geopackage(tmp_path / "planning.gpkg"))}
    assert "permeable.share.county" in layers
    assert "gaps" in repr(result)


def test_a_second_run_of_one_project_says_the_same(sample_run: tuple[Path, Path]) -> None:
    """Each run owns its data-quality log: running one loaded project twice gives identical tables."""
    project = gis.load_project(sample_run[0])
    first = project.run(only=["charging.parking_share", "heating.coal_in_network", "permeable.share"])
    second = project.run(only=["charging.parking_share", "heating.coal_in_network", "permeable.share"])
    assert len(first.data_quality) > 0, "the sample should give some data-quality notes"
    pd.testing.assert_frame_equal(first.data_quality, second.data_quality)
    pd.testing.assert_frame_equal(first.indicators, second.indicators)
    with pytest.raises(AttributeError):
        project.specs = ()  # type: ignore[misc]  # the configuration is frozen
