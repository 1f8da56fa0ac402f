"""Cutting a layer's join to the zones into parts (as the Dask engine does) gives the same sums, bit for bit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString

from gis.api import load_project
from gis.methods.parts import SpreadsWork
from gis.methods.zones import MIN_FEATURES_PER_PART, build_zones, sum_by_zone


class InOrder:
    """Runs the parts one after another in this process: ``by_parts``' cutting and joining, without a cluster."""

    part_seconds = 0.0

    def __init__(self) -> None:
        self.parts: list[int] = []

    def run_parts(self, func: Callable[[Any], Any], parts: Sequence[Any]) -> list[Any]:
        self.parts = [len(part) for part in parts]
        return [func(part) for part in parts]


@pytest.fixture(scope="module")
def counties(sample_run) -> gpd.GeoDataFrame:
    return build_zones(load_project(sample_run[0]).layers()).level("county")


def _features(counties: gpd.GeoDataFrame, kind: str, count: int) -> gpd.GeoDataFrame:
    """Features scattered over (and beyond) the counties, each with a value of many digits."""
    rng = np.random.default_rng(5)
    minx, miny, maxx, maxy = counties.total_bounds
    x, y = rng.uniform(minx - 5000, maxx + 5000, count), rng.uniform(miny - 5000, maxy + 5000, count)
    points = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=counties.crs)
    if kind == "line":
        geometry = gpd.GeoSeries([LineString(p.buffer(9000).exterior.coords) for p in points], crs=counties.crs)
    elif kind == "polygon":
        geometry = points.buffer(6000)
    else:
        geometry = points
    return gpd.GeoDataFrame({"value": rng.uniform(0, 1000, count), "other": rng.uniform(0, 1, count)}, geometry=geometry)


@pytest.mark.parametrize(("kind", "count"), [("point", 3000), ("line", 700), ("polygon", 700)])
def test_sums_in_parts_equal_sums_in_one(counties: gpd.GeoDataFrame, kind: str, count: int) -> None:
    features = _features(counties, kind, count)
    spread = InOrder()
    assert isinstance(spread, SpreadsWork)
    whole = sum_by_zone(features, ["value", "other"], counties)
    in_parts = sum_by_zone(features, ["value", "other"], counties, project=spread)
    assert len(spread.parts) == -(-count // MIN_FEATURES_PER_PART) and sum(spread.parts) == count
    assert sum(size < MIN_FEATURES_PER_PART for size in spread.parts) == 1  # only the last part is short
    pd.testing.assert_frame_equal(in_parts, whole, check_exact=True)
    assert (whole["value"] > 0).all() and whole["value"].sum() < features["value"].sum()  # some lie outside
