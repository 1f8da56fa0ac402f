"""Coverage along the road network, on street grids whose answers are worked out by hand in the comments."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box
from tinyproject import X0, Y0

from gis import load_project
from gis.engines.local import run_project
from gis.methods.network import build_network, service_lines

# Two 1 km x 1 km blocks of streets every 100 m: county A west of x = 1000, county B east of it
# (offsets from X0, Y0).  A river runs between them, x in (900, 1100), crossed by one bridge
# along y = 500 from (900, 500) to (1100, 500).  A's streets: x = 0..900 and y = 0..1000 (every
# 100 m) within x in [0, 900]; B's: x = 1100..2000 and y = 0..1000 within x in [1100, 2000].
#
# The station F is at (1110, 750), 10 m east of B's street x = 1100: it joins the network at
# (1100, 750), access 10 m.  Service distance 600 m.  Along the roads: (1100, 500) is at
# 10 + 250 = 260 m, the bridge's west end (900, 500) at 260 + 200 = 460 m, leaving 140 m in A:
#   street x = 900 for y in [360, 640] (280 m), street y = 500 for x in [760, 900] (140 m),
#   (900, 400) and (900, 600) at 560 m: 40 m west along y = 400 and y = 600 (40 + 40 m),
#   (800, 500) at 560 m: 40 m north and south along x = 800 (80 m)  ->  580 m of A's streets.
# The catchment is 50 m either side of a reached street.
#
# Houses, 20 m x 20 m (400 m2 each), are the base:
#   H1 (870..890, 790..810) in A, just across the river from F (farthest corner 247 m away):
#      straight-line covered; along the roads the nearest reached street piece is x = 900 up
#      to y = 640 (its 50 m catchment ends at y = 690), and y = 600 west to x = 860 (up to
#      y = 650); y = 700 is first reached at (900, 700), 660 m > 600 m.  Not covered.
#   H2 (860..880, 540..560) in A near the bridge: straight covered (farthest corner 327 m);
#      along the roads inside the catchment of x = 900, y in [360, 640]: covered.
#   H3 (100..120, 100..120) in A, far: covered neither way (> 1100 m straight).
#   H4 (1200..1220, 800..820) in B near F: covered both ways (street y = 800 reached to x = 1220
#      at 60 + 120 m).
#   H5 (1900..1920, 100..120) in B, far: covered neither way (straight 1000 m, roads > 1400 m).
# Shares:  A straight 800/1200 = 2/3, along the roads 400/1200 = 1/3;  B 400/800 = 1/2 both ways;
#          city straight 1200/2000 = 0.6, along the roads 800/2000 = 0.4.

STATION = (1110.0, 750.0)
HOUSES = {
    "H1": (870, 790), "H2": (860, 540), "H3": (100, 100), "H4": (1200, 800), "H5": (1900, 100),
}


def _streets() -> list[LineString]:
    lines = []
    for x0, x1 in ((0, 900), (1100, 2000)):
        lines += [LineString([(X0 + x, Y0), (X0 + x, Y0 + 1000)]) for x in range(x0, x1 + 1, 100)]
        lines += [LineString([(X0 + x0, Y0 + y), (X0 + x1, Y0 + y)]) for y in range(0, 1001, 100)]
    lines.append(LineString([(X0 + 900, Y0 + 500), (X0 + 1100, Y0 + 500)]))  # the bridge
    return lines


def _project(make_project, distance: str):
    streets = _streets()
    roads = gpd.GeoDataFrame(
        {"id": [f"R{i}" for i in range(len(streets))], "name": ["street"] * (len(streets) - 1) + ["bridge"],
         "class": ["street"] * len(streets)},
        geometry=streets, crs="EPSG:4546",
    )
    houses = gpd.GeoDataFrame(
        {"id": list(HOUSES), "name": list(HOUSES)},
        geometry=[box(X0 + x, Y0 + y, X0 + x + 20, Y0 + y + 20) for x, y in HOUSES.values()], crs="EPSG:4546",
    )
    stations = gpd.GeoDataFrame({"id": ["F"], "name": ["station"]}, geometry=[Point(X0 + STATION[0], Y0 + STATION[1])], crs="EPSG:4546")
    parameters: dict = {"distance_m": 600}
    if distance == "network":
        parameters |= {"distance": "network", "roads": "roads", "catchment_m": 50}
    spec = {"id": "charging.coverage", "method": "coverage", "inputs": {"base": "houses", "facilities": "stations"}, "parameters": parameters}
    return make_project({"houses": houses, "stations": stations, "roads": roads}, [spec])


def test_river_crossing_straight_line_against_network(make_project):
    straight = run_project(load_project(_project(make_project, "straight")))
    network = run_project(load_project(_project(make_project, "network")))
    s_rows = straight.indicators.set_index("zone_id")
    n_rows = network.indicators.set_index("zone_id")
    assert s_rows.loc["A", "value"] == pytest.approx(2 / 3)
    assert n_rows.loc["A", "value"] == pytest.approx(1 / 3)
    assert s_rows.loc["B", "value"] == pytest.approx(1 / 2)
    assert n_rows.loc["B", "value"] == pytest.approx(1 / 2)
    assert s_rows.loc["C", "value"] == pytest.approx(0.6)
    assert n_rows.loc["C", "value"] == pytest.approx(0.4)
    assert n_rows.loc["A", "denominator"] == pytest.approx(1200e-6)  # km2
    assert n_rows.loc["A", "numerator"] == pytest.approx(400e-6)
    # The gaps along the roads: H1 and H3 in A, H5 in B, whole houses.
    gaps = network.results[0].gaps
    assert sorted(gaps["base_id"]) == ["H1", "H3", "H5"]
    assert gaps.geometry.area.tolist() == pytest.approx([400.0] * 3)
    assert sorted(straight.results[0].gaps["base_id"]) == ["H3", "H5"]


def test_reached_street_lengths_by_hand():
    # The reached parts of A's streets (x <= 900): 280 + 140 + 40 + 40 + 80 = 580 m; the bridge, whole.
    network = build_network(np.array([LineString([(x0 - X0, y0 - Y0) for x0, y0 in line.coords]) for line in _streets()]))
    lines = service_lines(network, np.array([Point(*STATION)]), 600.0)
    assert sum(line.length for line in lines if line.bounds[2] <= 900) == pytest.approx(580.0)
    assert [line.length for line in lines if line.bounds[0] == 900 and line.bounds[2] == 1100] == pytest.approx([200.0])


def test_grade_separated_road_joins_only_at_a_ramp():
    # A street (0,0)-(1000,0), a facility on it at (100,0), an expressway x = 500 from y = -1000 to
    # 1000 crossing the street with no junction, and a ramp from the street's end (1000,0) to
    # (500,-500) on the expressway (707.1 m).  Distance 2000 m: the street, whole (1000 m); the ramp,
    # whole (its far end at 900 + 707.1 = 1607.1 m); the expressway 392.9 m either side of the ramp:
    # 785.8 m, short of the crossing at y = 0 (it would need 500 m).  Total 2492.9 m.
    street = LineString([(0, 0), (1000, 0)])
    expressway = LineString([(500, -1000), (500, 1000)])
    ramp = LineString([(1000, 0), (500, -500)])
    ramp_m = math.hypot(500, 500)
    left = 2000 - 900 - ramp_m
    facility = np.array([Point(100, 0)])
    separated = build_network(np.array([street, expressway, ramp]), np.array([False, True, False]))
    lines = service_lines(separated, facility, 2000.0)
    assert shapely.multilinestrings(lines).length == pytest.approx(1000 + ramp_m + 2 * left)
    on_expressway = [line for line in lines if line.bounds[0] == line.bounds[2] == 500]
    assert sum(line.length for line in on_expressway) == pytest.approx(2 * left)
    assert max(line.bounds[3] for line in on_expressway) == pytest.approx(-500 + left)
    # A facility next to the expressway joins the street, not the expressway (nobody enters it from the roadside).
    beside = service_lines(separated, np.array([Point(510, 300)]), 350.0)
    assert shapely.multilinestrings(beside).length == pytest.approx(2 * (350 - 300))
    # Noded like any road, the expressway meets the street at (500, 0), 400 m away: reached whole.
    flat = build_network(np.array([street, expressway, ramp]))
    assert shapely.multilinestrings(service_lines(flat, facility, 2000.0)).length == pytest.approx(1000 + 2000 + ramp_m)


class _InOrder:
    """Runs the parts one after another in this process, every piece a part of its own (as the Dask engine cuts)."""

    part_seconds = 0.0

    def run_parts(self, func, parts):
        return [func(part) for part in parts]


def test_network_rule_in_parts_equals_whole(make_project):
    # The Dask engine measures the base pieces in parts: the reached roads are found once, whole,
    # and each piece is measured against them on its own, so the parts give the same rows, bit for bit.
    from gis.methods.attributes import Blanks, read_features
    from gis.methods.coverage import CoverageParams, base_pieces, coverage_rule
    from gis.methods.parts import by_parts
    from gis.methods.zones import build_zones

    project = load_project(_project(make_project, "network"))
    reader = project.layers()
    spec = project.specs[0]
    params = CoverageParams.model_validate(spec.parameters)
    blanks = Blanks(reader, spec)
    pieces = base_pieces(reader, spec, params, build_zones(reader).level("county"), blanks)
    rule = coverage_rule(reader, spec, params, read_features(reader, "stations", None, blanks).geometry, blanks)
    whole = rule(pieces)
    parts = by_parts(_InOrder(), rule, pieces, [1.0] * len(pieces))
    assert len(pieces) == 5
    whole, parts = (frame.reset_index().sort_values(["part", "index"], kind="stable", ignore_index=True) for frame in (whole, parts))
    assert whole.drop(columns="geometry").equals(parts.drop(columns="geometry"))
    assert whole.geometry.to_wkb().equals(parts.geometry.to_wkb())


class _ReaderInParts:
    """A reader whose measurements are cut into a part per base piece, run one after another here (as the Dask
    engine cuts them, without a cluster); it counts the parts."""

    part_seconds = 0.0

    def __init__(self, reader) -> None:
        self.reader, self.parts = reader, 0

    def __getattr__(self, name):
        return getattr(self.reader, name)

    def run_parts(self, func, parts):
        self.parts += len(parts)
        return [func(part) for part in parts]


def test_network_indicator_in_parts_equals_whole(make_project):
    # The whole indicator (rows and gap polygons), measured with every house a part of its own,
    # is the one measured in one call, bit for bit, and the hand answers: A 1/3, B 1/2, city 0.4.
    from gis.engines.local import run_indicator
    from gis.methods.parts import SpreadsWork
    from gis.methods.zones import build_zones

    project = load_project(_project(make_project, "network"))
    whole_reader, parts_reader = project.layers(), _ReaderInParts(project.layers())
    assert isinstance(parts_reader, SpreadsWork)
    spec = project.specs[0]
    whole = run_indicator(whole_reader, build_zones(whole_reader), spec)
    in_parts = run_indicator(parts_reader, build_zones(parts_reader.reader), spec)
    assert parts_reader.parts == 5  # H1..H5, each in one county
    assert whole.rows.equals(in_parts.rows)
    assert whole.gaps is not None and in_parts.gaps is not None
    assert whole.gaps.drop(columns="geometry").equals(in_parts.gaps.drop(columns="geometry"))
    assert whole.gaps.geometry.to_wkb().equals(in_parts.gaps.geometry.to_wkb())
    values = in_parts.rows.set_index("zone_id")["value"]
    assert values["A"] == pytest.approx(1 / 3) and values["B"] == pytest.approx(1 / 2) and values["C"] == pytest.approx(0.4)
    assert sorted(in_parts.gaps["base_id"]) == ["H1", "H3", "H5"]
