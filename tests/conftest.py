"""Fixtures: tiny hand-made projects whose answers can be checked by hand."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from badinput import snapshot
from tinyproject import PROVENANCE, counties_frame, write_raster


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project folder with the given layers and specs; return its root.

    ``layers`` maps a layer name to a GeoDataFrame, a DataFrame (a CSV table) or a dict
    describing a raster ({"values": array, "cell": m, "nodata": v, "classes": [...]}).
    Every vector layer lands in one GeoPackage; fields map to themselves.
    """

    def build(layers: dict[str, Any], specs: list[dict], *, zones: dict | None = None) -> Path:
        root = tmp_path / "project"
        (root / "layers" / "data").mkdir(parents=True, exist_ok=True)
        (root / "analyses").mkdir(exist_ok=True)
        entries: dict[str, dict] = {}
        all_layers = {"counties": counties_frame(), **layers}
        for name, data in all_layers.items():
            if isinstance(data, gpd.GeoDataFrame):
                data.to_file(root / "layers" / "data" / "test.gpkg", layer=name, driver="GPKG", engine="pyogrio")
                entries[name] = {"file": "data/test.gpkg", "layer": name, "kind": "vector"}
            elif isinstance(data, pd.DataFrame):
                data.to_csv(root / "layers" / "data" / f"{name}.csv", index=False)
                entries[name] = {"file": f"data/{name}.csv", "kind": "table"}
            else:
                write_raster(root / "layers" / "data" / f"{name}.tif", data["values"], cell=data["cell"], nodata=data["nodata"])
                entries[name] = {"file": f"data/{name}.tif", "kind": "raster"}
                if "classes" in data:
                    entries[name]["classes"] = data["classes"]
            if not isinstance(data, dict):
                entries[name]["fields"] = {c: c for c in data.columns if c != "geometry"}
            entries[name]["provenance"] = PROVENANCE
        catalog = {
            "project": {
                "name": "Test city",
                "baseline_year": 2020,
                "target_year": 2025,
                "crs": "EPSG:4546",
                "output_crs": "EPSG:4490",
                "city": {"id": "C", "name": "测试市", "name_en": "Test city"},
            },
            "zones": zones or {"county": {"layer": "counties"}},
            "layers": entries,
        }
        (root / "layers" / "catalog.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
        for spec in specs:
            full = {
                "title": {"zh": "测试", "en": "Test"},
                "theme": "charging",
                "clause": "二(四)",
                "definition": "test",
                "formula": "test",
                "unit": "share",
                **spec,
            }
            (root / "analyses" / f"{spec['id']}.yaml").write_text(yaml.safe_dump(full, allow_unicode=True), encoding="utf-8")
        return root

    return build


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample project at a tenth of the reference scale (seed 7) and the outputs of one run.

    Shared by several test modules: read it, or copy it before changing anything.
    """
    from click.testing import CliRunner

    from gis.cli import main

    root = tmp_path_factory.mktemp("sample-run")
    project, out = root / "city", root / "out"
    runner = CliRunner()
    result = runner.invoke(main, ["sample", str(project), "--scale", "0.1", "--seed", "7"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["run", "--project", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return project, out


@pytest.fixture
def case(sample_run, tmp_path) -> tuple[Path, Path, dict[Path, bytes]]:
    """A copy of the sample project and of its outputs, with the outputs' bytes to compare."""
    project, out = tmp_path / "city", tmp_path / "out"
    shutil.copytree(sample_run[0], project)
    shutil.copytree(sample_run[1], out)
    return project, out, snapshot(out)
