"""Fixtures: tiny hand-made projects whose answers can be checked by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from rasterio.transform import from_origin
from shapely.geometry import box

# Two 1 km x 1 km counties side by side, in EPSG:4546 (metres).
X0, Y0 = 500_000.0, 3_800_000.0
COUNTY_A = box(X0, Y0, X0 + 1000, Y0 + 1000)
COUNTY_B = box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)
PROVENANCE = {"source": "hand-made test data", "licence": "CC0-1.0", "date": "2026-11-26", "synthetic": True}


def counties_frame() -> gpd.GeoDataFrame:
    """The two test counties."""
    return gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["甲县", "乙县"], "name_en": ["County A", "County B"]},
        geometry=[COUNTY_A, COUNTY_B],
        crs="EPSG:4546",
    )


def write_raster(path: Path, values: np.ndarray, *, cell: float, nodata: float, x0: float = X0, y_top: float = Y0 + 1000) -> None:
    """A single-band GeoTIFF in EPSG:4546 whose top-left corner is (x0, y_top)."""
    with rasterio.open(
        path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1, dtype=values.dtype,
        crs="EPSG:4546", transform=from_origin(x0, y_top, cell, cell), nodata=nodata,
    ) as dataset:
        dataset.write(values, 1)


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


def target(comparator: str = ">=", **extra: Any) -> dict:
    """A target block for a test spec."""
    return {"comparator": comparator, "clause": "二(四)", "wording": "test", **extra}
