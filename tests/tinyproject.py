"""Hand-made test data: two 1 km counties, and helpers to describe small projects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from shapely.geometry import box

from gis import load_project
from gis.engines.local import run_project
from gis.proposals import Proposals, propose

# Two 1 km x 1 km counties side by side, in EPSG:4546 (metres).
X0, Y0 = 500_000.0, 3_800_000.0
COUNTY_A = box(X0, Y0, X0 + 1000, Y0 + 1000)
COUNTY_B = box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)
# Three 1 km counties in a row in two prefectures: A and B in P1 (2 km x 1 km), D in P2 (each county names its own in
# "pref"); the catalog's zones for them, and the levels a spec reports them at.
PREFECTURE_COUNTIES = gpd.GeoDataFrame(
    {"id": ["A", "B", "D"], "name": ["甲县", "乙县", "丁县"], "pref": ["P1", "P1", "P2"]},
    geometry=[box(X0 + 1000 * i, Y0, X0 + 1000 * (i + 1), Y0 + 1000) for i in range(3)],
    crs="EPSG:4546",
)
PREFECTURES = gpd.GeoDataFrame(
    {"id": ["P1", "P2"], "name": ["一市", "二市"]},
    geometry=[box(X0, Y0, X0 + 2000, Y0 + 1000), box(X0 + 2000, Y0, X0 + 3000, Y0 + 1000)],
    crs="EPSG:4546",
)
PREFECTURE_ZONES = {"county": {"layer": "counties", "prefecture_field": "pref"}, "prefecture": {"layer": "prefectures"}}
PREFECTURE_LEVELS = ["city", "prefecture", "county"]
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
        crs="EPSG:4546", transform=Affine(cell, 0.0, x0, 0.0, -cell, y_top), nodata=nodata,
    ) as dataset:
        dataset.write(values, 1)



def target(comparator: str = ">=", **extra: Any) -> dict:
    """A target block for a test spec."""
    return {"comparator": comparator, "clause": "二(四)", "wording": "test", **extra}


def propose_project(root: Path) -> Proposals:
    """The proposals of a run of the project at ``root``."""
    return propose(run_project(load_project(root)))


def zone_row(table: pd.DataFrame, indicator: str, zone_id: str) -> pd.Series:
    """The one zone row of a proposals table for ``indicator`` and ``zone_id``."""
    rows = table[(table["indicator"] == indicator) & (table["zone_id"] == zone_id) & (table["row_type"] == "zone")]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def item_rows(table: pd.DataFrame, indicator: str, zone_id: str) -> pd.DataFrame:
    """The item rows of a zone's proposal, in rank order."""
    rows = table[(table["indicator"] == indicator) & (table["zone_id"] == zone_id) & (table["row_type"] == "item")]
    return rows.sort_values("rank")
