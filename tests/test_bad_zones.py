"""Zones that overlap, and `gis check` on every year's layers: refused, cut, or noted, never counted twice."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from badinput import GPKG, edit_catalog, edit_layer, fails, snapshot
from click.testing import CliRunner
from shapely.geometry import box
from tinyproject import X0, Y0, counties_frame, target

from gis import load_project
from gis.cli import main
from gis.engines.local import run_project

HUBIN, SHANZHOU = "156411202", "156411203"


def _grow_into_neighbour(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """湖滨区 grown 1.5 km in every direction, into 陕州区 and its other neighbours."""
    metric = counties.to_crs("EPSG:4546")
    grown = metric.geometry[metric["id"] == HUBIN].buffer(1500)
    metric.loc[grown.index, "geometry"] = grown
    return metric.to_crs(counties.crs)


def test_counties_overlapping_beyond_the_tolerance_stop_the_run(case):
    project, _, _ = case
    counties = _grow_into_neighbour(gpd.read_file(project / GPKG, layer="counties")).to_crs("EPSG:4546").set_index("id")
    shared = {other: counties.geometry[HUBIN].intersection(counties.geometry[other]).area
              for other in counties.index if other != HUBIN}
    worst = max(shared, key=shared.__getitem__)
    assert shared[worst] > 10_000_000  # several km2: the people there would be counted twice
    pairs = sum(area > 10_000 for area in shared.values())
    expected = [
        "counties", f"'{worst}'", f"'{HUBIN}' 湖滨区", f"overlap by {shared[worst] / 1e6:,.3f} km2",
        f"(and {pairs - 1} more pairs)" if pairs > 1 else "overlap", "zones.county.overlap_tolerance_m2", "fix the boundaries",
    ]
    fails(case, expected, edit=lambda p: edit_layer(p, "counties", _grow_into_neighbour))


def test_check_names_the_overlap_too(case):
    project, out, _ = case
    edit_layer(project, "counties", _grow_into_neighbour)
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(out / "checked")])
    assert result.exit_code == 1
    assert "overlap by" in result.output and "zones.county.overlap_tolerance_m2" in result.output


def _two_counties_sharing(width_m: float) -> gpd.GeoDataFrame:
    """The two 1 km test counties with B drawn ``width_m`` into A (a digitising sliver of width x 1000 m)."""
    counties = counties_frame()
    counties.loc[1, "geometry"] = box(X0 + 1000 - width_m, Y0, X0 + 2000, Y0 + 1000)
    return counties


def _total_spec() -> dict:
    return {
        "id": "projects.cod", "method": "total", "unit": "t", "inputs": {"features": "works"},
        "parameters": {"field": "cod_t"},
        "target": target(value=5, zone_types=["city"]), "shortfall": {"unit": "t", "factor": 1},
    }


def _sliver_work() -> gpd.GeoDataFrame:
    # One 5 m x 200 m work lying wholly in the sliver; its 10 t go to A, or to A and B when the sliver is in both.
    return gpd.GeoDataFrame({"id": ["W1"], "cod_t": [10.0]}, geometry=[box(X0 + 995, Y0 + 400, X0 + 1000, Y0 + 600)], crs="EPSG:4546")


def test_a_sliver_within_the_tolerance_is_cut_from_the_later_zone_and_counted_once(make_project):
    # The sliver is 5 m x 1000 m = 5,000 m2, under the default 10,000 m2: cut from B (later in the file).
    root = make_project({"counties": _two_counties_sharing(5), "works": _sliver_work()}, [_total_spec()])
    result = run_project(load_project(root))
    rows = result.indicators.set_index("zone_id")
    assert rows.loc["A", "value"] == pytest.approx(10)
    assert rows.loc["B", "value"] == pytest.approx(0)
    assert rows.loc["C", "value"] == pytest.approx(10)  # not 20
    notes = [note for note in result.notes if note.layer == "counties"]
    assert len(notes) == 1
    assert notes[0].feature_id == "B" and notes[0].problem.startswith("overlaps zone 'A' 甲县 by 5,000 m2")
    assert "cut from this zone" in notes[0].action
    county_b = result.zones.level("county").set_index("zone_id").geometry["B"]
    assert county_b.area == pytest.approx(1_000_000)  # 1,005,000 m2 as drawn, less the sliver


def test_a_sliver_beyond_a_tighter_tolerance_is_refused(make_project):
    zones = {"county": {"layer": "counties", "overlap_tolerance_m2": 1000}}
    root = make_project({"counties": _two_counties_sharing(5), "works": _sliver_work()}, [_total_spec()], zones=zones)
    result = CliRunner().invoke(main, ["run", "--no-pdf", "--project", str(root), "--out", str(root / "out")])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert "zones 'A' 甲县 and 'B' 乙县 of layer 'counties' overlap by 5,000 m2" in line
    assert "1,000 m2 allowed by 'zones.county.overlap_tolerance_m2'" in line
    assert not (root / "out" / "indicators.csv").exists()


def test_parks_overlapping_each_other_are_noted_not_cut(make_project):
    # Two parks share a 300 m x 300 m corner (90,000 m2): each is reported on its own, so both keep it, with a note.
    parks = gpd.GeoDataFrame(
        {"id": ["P1", "P2"], "name": ["一园", "二园"]},
        geometry=[box(X0, Y0, X0 + 600, Y0 + 600), box(X0 + 300, Y0 + 300, X0 + 900, Y0 + 900)],
        crs="EPSG:4546",
    )
    spec = {
        "id": "parks.area", "method": "total", "unit": "t", "zone_types": ["city", "park"], "inputs": {"features": "works"},
        "parameters": {"field": "cod_t"}, "target": target(value=1, zone_types=["city"]), "shortfall": {"unit": "t", "factor": 1},
    }
    work = gpd.GeoDataFrame({"id": ["W1"], "cod_t": [9.0]}, geometry=[box(X0 + 400, Y0 + 400, X0 + 500, Y0 + 500)], crs="EPSG:4546")
    root = make_project({"parks": parks, "works": work}, [spec], zones={"county": {"layer": "counties"}, "park": {"layer": "parks"}})
    result = run_project(load_project(root))
    rows = result.indicators.set_index("zone_id")
    assert rows.loc["P1", "value"] == pytest.approx(9) and rows.loc["P2", "value"] == pytest.approx(9)
    assert rows.loc["C", "value"] == pytest.approx(9)
    notes = [note for note in result.notes if note.layer == "parks"]
    assert [(n.feature_id, n.problem) for n in notes] == [("P2", "overlaps zone 'P1' 一园 by 90,000 m2")]


# --- every year's layers -------------------------------------------------------------------


def _repeat_an_id(lots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return lots.assign(id=[lots["id"].iloc[1], *lots["id"].iloc[1:]])


def test_check_reads_the_layers_of_every_year(case):
    project, out, before = case
    edit_layer(project, "parking_lots_2020", _repeat_an_id)
    checked = out / "checked"
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(checked)])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("gis: error:")]
    assert len(errors) == 1
    assert "parking_lots_2020" in errors[0] and "repeats id" in errors[0]
    assert "parking_lots (2020)" in result.output  # the table row names the year
    assert "parking_lots (2023)" in result.output  # the clean years are checked too
    assert {k: v for k, v in snapshot(out).items() if k.parts[0] != "checked"} == before


def test_run_names_the_earlier_year_at_fault(case):
    fails(case, ["parking_lots_2020", "2020", "repeats id"], edit=lambda p: edit_layer(p, "parking_lots_2020", _repeat_an_id))


def test_earlier_year_findings_are_tagged_with_their_year(case):
    project, out, _ = case

    def empty_geometry(lots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        lots.loc[lots.index[0], "geometry"] = shapely.Point()
        return lots

    edit_layer(project, "parking_lots_2023", empty_geometry)
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(out / "checked")])
    assert result.exit_code == 0, result.output
    quality = _any_quality(out / "checked")
    said = quality[(quality["layer"] == "parking_lots") & (quality["problem"] == "(2023) empty geometry")]
    assert len(said) == 1


def _any_quality(folder: Path) -> pd.DataFrame:
    """The check's data-quality table wherever under ``folder`` the command put it."""
    found = sorted(folder.rglob("data_quality.csv"))
    assert found, f"no data_quality.csv under {folder}"
    return pd.read_csv(found[0], dtype=str, keep_default_na=False)


def test_overlap_tolerance_key_is_checked(case):
    fails(case, ["catalog.yaml", "zones.county.overlap_tolerance_m2"],
          edit=lambda p: edit_catalog(p, lambda c: c["zones"]["county"].update(overlap_tolerance_m2=-5)))


def test_check_warns_about_an_empty_layer_before_any_work(case):
    project, out, _ = case
    edit_layer(project, "charging_stations", lambda s: s.iloc[0:0])
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(out / "checked")])
    assert result.exit_code == 0, result.output
    quality = _any_quality(out / "checked")
    said = quality[(quality["layer"] == "charging_stations") & (quality["problem"] == "no features (a broken export?)")]
    assert said["action"].tolist() == [
        "its indicators (charging.coverage, charging.coverage_network) will be no_data; "
        f"if there really are none, set 'layers.charging_stations.may_be_empty: true' in {project / 'layers' / 'catalog.yaml'}"
    ]
