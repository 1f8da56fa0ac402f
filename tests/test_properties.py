"""Properties of the methods, on generated data: bounds, additivity, order and CRS independence."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point
from tinyproject import PROVENANCE, X0, Y0, counties_frame

from gis import load_project
from gis.engines.local import run_project

# Points anywhere over the two counties and a margin around them (some fall outside both).
coordinate_x = st.floats(min_value=X0 - 200, max_value=X0 + 2200, allow_nan=False)
coordinate_y = st.floats(min_value=Y0 - 200, max_value=Y0 + 1200, allow_nan=False)
lot = st.tuples(coordinate_x, coordinate_y, st.integers(1, 500), st.floats(0, 1)).map(
    lambda t: (t[0], t[1], t[2], int(round(t[2] * t[3])))
)


def _not_mostly_outside(lots: list[tuple[float, float, int, int]]) -> bool:
    """A layer with more than half (and at least 3) of its features outside every county is refused
    (tests/test_bad_coordinates.py); the properties are about layers that are read."""
    outside = sum(not (X0 <= x <= X0 + 2000 and Y0 <= y <= Y0 + 1000) for x, y, _, _ in lots)
    return outside < 3 or outside * 2 <= len(lots)


lots_strategy = st.lists(lot, min_size=1, max_size=25).filter(_not_mostly_outside)
SPEC = {
    "id": "charging.parking_share", "title": {"zh": "车位", "en": "spaces"}, "theme": "charging", "clause": "二(四)",
    "definition": "d", "formula": "f", "method": "ratio", "unit": "share", "inputs": {"features": "lots"},
    "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
    "target": {"comparator": ">=", "value": 0.25, "clause": "二(四)", "wording": "w"},
    "shortfall": {"unit": "charger spaces", "factor": 1, "rounding": "ceil"},
}


def _frame(lots: list[tuple[float, float, int, int]], order: list[int] | None = None) -> gpd.GeoDataFrame:
    rows = [lots[i] for i in (order or range(len(lots)))]
    return gpd.GeoDataFrame(
        {
            "id": [f"L{i}" for i in (order or range(len(lots)))],
            "spaces": [r[2] for r in rows],
            "charger_spaces": [r[3] for r in rows],
        },
        geometry=[Point(r[0], r[1]) for r in rows],
        crs="EPSG:4546",
    )


def _indicators(lots: gpd.GeoDataFrame) -> pd.DataFrame:
    root = Path(tempfile.mkdtemp(prefix="gis-prop-"))
    try:
        (root / "layers").mkdir()
        (root / "analyses").mkdir()
        counties_frame().to_file(root / "layers" / "data.gpkg", layer="counties", engine="pyogrio")
        lots.to_file(root / "layers" / "data.gpkg", layer="lots", engine="pyogrio")
        catalog = {
            "project": {"name": "p", "baseline_year": 2020, "target_year": 2025, "crs": "EPSG:4546", "city": {"id": "C", "name": "市"}},
            "zones": {"county": {"layer": "counties"}},
            "layers": {
                "counties": {"file": "data.gpkg", "layer": "counties", "kind": "vector", "provenance": PROVENANCE},
                "lots": {"file": "data.gpkg", "layer": "lots", "kind": "vector", "provenance": PROVENANCE,
                         "fields": {"id": "id", "spaces": "spaces", "charger_spaces": "charger_spaces"}},
            },
        }
        (root / "layers" / "catalog.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
        (root / "analyses" / "charging.parking_share.yaml").write_text(yaml.safe_dump(SPEC, allow_unicode=True), encoding="utf-8")
        return run_project(load_project(root)).indicators.set_index("zone_id").sort_index()
    finally:
        shutil.rmtree(root, ignore_errors=True)


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(lots_strategy)
def test_shares_stay_within_0_and_1_and_counties_add_up_to_the_city(lots):
    table = _indicators(_frame(lots))
    shares = table["value"].dropna()
    assert ((shares >= 0) & (shares <= 1)).all()
    counties = table[table["zone_type"] == "county"]
    city = table.loc["C"]
    assert city["numerator"] == counties["numerator"].sum()
    assert city["denominator"] == counties["denominator"].sum()
    # Nothing is dropped: counties plus the unassigned row hold every space.
    assigned = counties["denominator"].sum() + (table.loc["unassigned", "denominator"] if "unassigned" in table.index else 0)
    assert assigned == sum(lot[2] for lot in lots)
    gaps = table[table["status"] == "gap"]
    assert (gaps["shortfall"] >= 1).all()
    met = table[table["status"] == "met"]
    assert (met["value"] >= 0.25 - 1e-12).all()


@PROPERTY
@given(lots_strategy, st.randoms(use_true_random=False))
def test_results_do_not_depend_on_feature_order(lots, random):
    order = list(range(len(lots)))
    random.shuffle(order)
    pd.testing.assert_frame_equal(_indicators(_frame(lots)), _indicators(_frame(lots, order)))


@PROPERTY
@given(lots_strategy, st.sampled_from(["EPSG:4490", "EPSG:4326", "EPSG:3857", "EPSG:32649"]))
def test_results_do_not_depend_on_the_input_crs(lots, crs):
    # Points on a zone edge could flip sides through a round trip of reprojection; keep them off the edges.
    lots = [(x, y, s, c) for x, y, s, c in lots if min(abs(x - X0), abs(x - X0 - 1000), abs(x - X0 - 2000)) > 0.01
            and min(abs(y - Y0), abs(y - Y0 - 1000)) > 0.01]
    if not lots:
        return
    metric = _indicators(_frame(lots))
    other = _indicators(_frame(lots).to_crs(crs))
    columns = ["zone_type", "numerator", "denominator", "status", "shortfall"]
    pd.testing.assert_frame_equal(metric[columns], other[columns])
    np.testing.assert_allclose(metric["value"], other["value"], rtol=1e-12)
