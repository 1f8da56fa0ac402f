"""Coordinates that do not fit their CRS, web-map offsets inside the city, repairs that repair, damaged
rasters, and the layer at fault named: each bad input made here, run through `gis run`, and checked by
its message, exit code, the outputs on disk and the numbers."""

from __future__ import annotations

import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
import yaml
from affine import Affine
from badinput import GPKG, edit_catalog, edit_layer, fails, read_quality, run_cli
from click.testing import CliRunner
from shapely.geometry import LineString, box
from tinyproject import target

from gis.cli import main
from gis.errors import DataError
from gis.methods.raster import zonal_sums
from gis.project.config import read_project
from gis.project.coords import wgs84_to_gcj02
from gis.project.georef import implausible, likely_crs
from gis.project.layers import LayerReader

METRIC = "EPSG:4546"  # the sample's metric CRS: CGCS2000 3-degree Gauss-Kruger CM 111E, no zone number
ZONE_37 = "EPSG:4525"  # the same projection with the zone number 37 in front of the easting


def _numbers(table: pd.DataFrame) -> pd.DataFrame:
    """The measured part of indicators.csv: one row per indicator, year and zone."""
    keep = ["indicator", "year", "zone_id", "value", "numerator", "denominator", "status"]
    return table[keep].sort_values(["indicator", "year", "zone_id"], ignore_index=True)


def _same_numbers(out: Path, before: dict[Path, bytes]) -> None:
    new = _numbers(pd.read_csv(out / "indicators.csv", dtype={"zone_id": str}))
    old = _numbers(pd.read_csv(io.BytesIO(before[Path("indicators.csv")]), dtype={"zone_id": str}))
    pd.testing.assert_frame_equal(new, old, check_exact=False, rtol=1e-9)


def _declared_as(crs: str, *, projected_to: str | None = None):
    """An edit that stores a layer's coordinates (optionally in ``projected_to``) under the wrong CRS ``crs``."""

    def change(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if projected_to is not None:
            frame = frame.to_crs(projected_to)
        return frame.set_crs(crs, allow_override=True)

    return change


# --- coordinates that cannot be in their declared CRS ------------------------------------------------


@pytest.mark.parametrize("layer", ["heat_sources", "parking_lots", "sewer_network"])
def test_degrees_declared_metric_are_refused_with_the_crs_they_fit(case, layer):
    # The tester's run: lon/lat in a file declared EPSG:4546 gave exit 0, coal boilers in the heating
    # network 12 -> 0 and parking shares no_data.  Now one line names the layer and the CRS they fit.
    fails(case, [f"layer '{layer}' has coordinates like 11", "(degrees) but declares EPSG:4546 (metres)", "they fit EPSG:4490",
                 f"'layers.{layer}.crs: EPSG:4490'", f"'layers.{layer}.crs_override: true'", "catalog.yaml"],
          edit=lambda p: edit_layer(p, layer, _declared_as(METRIC)))


def test_crs_override_reads_the_layer_as_it_really_is(case):
    project, out, before = case
    edit_layer(project, "heat_sources", _declared_as(METRIC))
    edit_catalog(project, lambda c: c["layers"]["heat_sources"].update(crs="EPSG:4490", crs_override=True))
    exit_code, output = run_cli(project, out)
    assert exit_code == 0, output
    _same_numbers(out, before)  # coal boilers in the network, clean heating shares: as with the right CRS
    quality = read_quality(out)
    said = quality[(quality["layer"] == "heat_sources") & (quality["problem"] == "the file declares EPSG:4546")]
    assert len(said) == 1 and "crs_override" in said["action"].iloc[0]


def test_metres_declared_geographic_are_refused_with_the_crs_they_fit(case):
    fails(case, ["layer 'heat_sources' has coordinates like ", "(metres) but declares EPSG:4490 (degrees)", "they fit EPSG:4546",
                 "'layers.heat_sources.crs: EPSG:4546'"],
          edit=lambda p: edit_layer(p, "heat_sources", _declared_as("EPSG:4490", projected_to=METRIC)))


def test_zone_number_in_the_easting_is_found(case):
    # Gauss-Kruger coordinates with the zone number (37) in front of the easting, declared without it:
    # every feature lands thousands of km away; the search finds the zone CRS by its area of use.
    count = len(pyogrio.read_dataframe(case[0] / GPKG, layer="heat_sources", read_geometry=False))
    fails(case, [f"layer 'heat_sources' has {count} of {count} features outside the study area", "it declares EPSG:4546",
                 "like 37", "fit EPSG:4525 (CGCS2000 / 3-degree Gauss-Kruger zone 37)", "'layers.heat_sources.crs: EPSG:4525'"],
          edit=lambda p: edit_layer(p, "heat_sources", _declared_as(METRIC, projected_to=ZONE_37)))


def test_counties_outside_the_area_of_use_of_their_crs(case):
    # The counties have no study area to be compared to: their CRS's area of use stands in.
    fails(case, ["layer 'counties' has coordinates like 37", "outside the area of use of its CRS", "it declares EPSG:4546",
                 "they fit EPSG:4525"],
          edit=lambda p: edit_layer(p, "counties", _declared_as(METRIC, projected_to=ZONE_37)))


def test_a_wrong_crs_override_names_the_catalog_key_to_fix(case):
    fails(case, ["layer 'parking_lots'", "is read, by crs_override, as EPSG:4546 (metres)", "they fit EPSG:4490",
                 "set 'layers.parking_lots.crs: EPSG:4490'"],
          edit=lambda p: edit_catalog(p, lambda c: c["layers"]["parking_lots"].update(crs=METRIC, crs_override=True)))


def test_crs_override_without_a_crs(case):
    fails(case, ["catalog.yaml", "'layers.parking_lots.crs_override' is set without 'layers.parking_lots.crs'"],
          edit=lambda p: edit_catalog(p, lambda c: c["layers"]["parking_lots"].update(crs_override=True)))


def test_a_layer_mostly_far_away_fits_no_crs(case):
    # Every lot in Zhengzhou (in the right CRS, in the wrong place): no CRS fits better; check it.
    count = len(pyogrio.read_dataframe(case[0] / GPKG, layer="parking_lots", read_geometry=False))
    fails(case, [f"layer 'parking_lots' has {count} of {count} features outside the study area", "fit no CRS near the study area",
                 "check its CRS and extent"],
          edit=lambda p: edit_layer(p, "parking_lots", lambda s: s.assign(geometry=gpd.points_from_xy([113.6] * len(s), [34.7] * len(s)))))


def test_a_layer_mostly_just_outside_the_counties_points_at_its_extent(case):
    # Lots 5 km beyond the east edge: the CRS is right (they lie around the city), the extent is not.
    count = len(pyogrio.read_dataframe(case[0] / GPKG, layer="parking_lots", read_geometry=False))

    def beyond(project: Path) -> None:
        counties = gpd.read_file(project / GPKG, layer="counties").to_crs(METRIC)
        ring = shapely.union_all(counties.geometry.values).buffer(5000).exterior
        points = gpd.GeoSeries([ring.interpolate(f, normalized=True) for f in np.linspace(0, 1, count, endpoint=False)], crs=METRIC)
        edit_layer(project, "parking_lots", lambda s: s.assign(geometry=points.to_crs("EPSG:4490").values))

    fails(case, [f"layer 'parking_lots' has {count} of {count} features outside the study area", "in the CRS it declares (EPSG:4490), so the CRS looks right",
                 "check the layer's extent"], edit=beyond)


def test_plausibility_rules():
    assert implausible((111.0, 34.0, 112.0, 35.0), gpd.GeoSeries(crs=METRIC).crs) == "degrees"
    assert implausible((440000.0, 3.7e6, 600000.0, 3.9e6), gpd.GeoSeries(crs="EPSG:4490").crs) == "metres"
    assert implausible((111.0, 34.0, 112.0, 35.0), gpd.GeoSeries(crs="EPSG:4490").crs) is None
    assert implausible((440000.0, 3.7e6, 600000.0, 3.9e6), gpd.GeoSeries(crs=METRIC).crs) is None
    # Lon/lat with latitude first fit the geographic CRS with x and y exchanged.
    crs = gpd.GeoSeries(crs="EPSG:4490").crs
    fit = likely_crs(np.array([[34.7, 111.2], [34.8, 111.5]]), crs, (110.3, 33.5, 112.0, 35.0), [crs])
    assert fit is not None and fit.swapped


# --- web-map coordinates ---------------------------------------------------------------------------------


def _near_the_east_edge(project: Path, count: int = 20) -> gpd.GeoDataFrame:
    """Lots 200 m inside the east edge of the city, where a GCJ-02 shift (~550 m east) puts them outside."""
    counties = gpd.read_file(project / GPKG, layer="counties").to_crs(METRIC)
    inner = shapely.union_all(counties.geometry.values).buffer(-200).exterior
    ring = gpd.GeoSeries([inner.interpolate(f, normalized=True) for f in np.linspace(0, 1, 400)], crs=METRIC)
    east = ring[ring.x > ring.x.quantile(0.95)].iloc[:count]
    lots = gpd.read_file(project / GPKG, layer="parking_lots").iloc[:count].copy()
    lots["geometry"] = east.to_crs("EPSG:4490").values
    lots["id"] = [f"EDGE-{i}" for i in range(len(lots))]
    return lots


def _to_gcj02(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    lon, lat = wgs84_to_gcj02(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    return frame.assign(geometry=gpd.points_from_xy(lon, lat))


def test_a_layer_mostly_outside_in_the_gcj02_pattern_is_refused(case):
    def shift(project: Path) -> None:
        pyogrio.write_dataframe(_to_gcj02(_near_the_east_edge(project)), project / GPKG, layer="parking_lots", driver="GPKG")

    fails(case, ["layer 'parking_lots' has 1", "of 20 features outside the study area", "of them fall inside when read as GCJ-02",
                 "'layers.parking_lots.coordinates: gcj02'"], edit=shift)


_FAST = {
    "id": "charging.highway_fast", "method": "ratio", "inputs": {"features": "stations"},
    "parameters": {"numerator_where": {"field": "fast", "eq": True}},
    "target": target(value=1.0), "shortfall": {"unit": "things", "factor": 1, "rounding": "ceil"},
}
SQUARE = box(500_000.0, 3_800_000.0, 510_000.0, 3_810_000.0)  # 10 km x 10 km, EPSG:4546 (about 111.0E, 34.3N)


def _roads(rng: np.random.Generator, count: int = 14) -> gpd.GeoDataFrame:
    """Straight roads across the square at random angles: a surveyed reference network."""
    x0, y0, x1, y1 = SQUARE.bounds
    lines = []
    for _ in range(count):
        cx, cy = rng.uniform(x0 + 2000, x1 - 2000), rng.uniform(y0 + 2000, y1 - 2000)
        angle = rng.uniform(0, np.pi)
        dx, dy = 9000 * np.cos(angle), 9000 * np.sin(angle)
        lines.append(LineString([(cx - dx, cy - dy), (cx + dx, cy + dy)]).intersection(SQUARE))
    return gpd.GeoDataFrame({"id": [f"R{i}" for i in range(count)], "name": "road"}, geometry=lines, crs=METRIC)


def _stations_on(roads: gpd.GeoDataFrame, rng: np.random.Generator, count: int = 40) -> gpd.GeoDataFrame:
    """Stations on the roads, at least 1.5 km inside the square (no shift puts them outside), in lon/lat."""
    inner = SQUARE.buffer(-1500)
    points = []
    while len(points) < count:
        road = roads.geometry.iloc[int(rng.integers(len(roads)))]
        point = road.interpolate(rng.uniform(0, 1), normalized=True)
        if inner.contains(point):
            points.append(point)
    frame = gpd.GeoDataFrame({"id": [f"S{i}" for i in range(count)], "fast": [i % 2 == 0 for i in range(count)]}, geometry=points, crs=METRIC)
    return frame.to_crs("EPSG:4490")


def _city_with_roads(make_project, stations: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, *, reference: bool = True,
                     coordinates: str = "as_declared") -> Path:
    counties = gpd.GeoDataFrame({"id": ["A", "B"], "name": ["甲县", "乙县"], "name_en": ["A", "B"]},
                                geometry=[box(500_000, 3_800_000, 505_000, 3_810_000), box(505_000, 3_800_000, 510_000, 3_810_000)], crs=METRIC)
    root = make_project({"counties": counties, "roads": roads, "stations": stations}, [_FAST])
    path = root / "layers" / "catalog.yaml"
    catalog = yaml.safe_load(path.read_text(encoding="utf-8"))
    catalog["layers"]["roads"].update(geometry="LineString", reference=reference)
    catalog["layers"]["stations"].update(geometry="Point", coordinates=coordinates)
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    (root / "maps").mkdir(exist_ok=True)
    (root / "maps" / "plan.yaml").write_text("title: {zh: 测试, en: Test}\n", encoding="utf-8")  # defaults, not the reference's styles
    return root


def _web_map_notes(out: Path) -> pd.DataFrame:
    quality = read_quality(out)
    return quality[(quality["layer"] == "stations") & quality["problem"].str.contains("reference layers")]


@pytest.fixture
def road_city(make_project, tmp_path):
    """Roads marked as the reference, and stations on them: true, and as Amap gives them (GCJ-02)."""
    rng = np.random.default_rng(13)
    roads = _roads(rng)
    true = _stations_on(roads, rng)

    def build(stations: gpd.GeoDataFrame, **options) -> tuple[int, str, Path]:
        root = _city_with_roads(make_project, stations, roads, **options)
        out = tmp_path / "out"
        code, output = run_cli(root, out)
        return code, output, out

    return build, true


def test_gcj02_points_inside_the_city_are_told_by_the_reference_roads(road_city):
    build, true = road_city
    code, output, out = build(_to_gcj02(true))
    assert code == 0, output
    notes = _web_map_notes(out)
    assert len(notes) == 1, notes
    problem = notes["problem"].iloc[0]
    assert "better read as GCJ-02" in problem and "'roads'" in problem
    numbers = re.search(r"about (\d+) m off \((\d+) points closer, (\d+) farther; median distance of these (\d+) m -> (\d+) m\)", problem)
    assert numbers is not None, problem
    offset, closer, farther, before, after = (int(n) for n in numbers.groups())
    assert 450 <= offset <= 650  # the GCJ-02 shift near 111E, 34.3N
    assert closer >= 30 and farther == 0  # of 40 stations on the roads
    assert before > 50 and after < 5  # off the roads as stored, on them converted
    assert notes["severity"].iloc[0] == "warning" and "'layers.stations.coordinates: gcj02'" in notes["action"].iloc[0]
    # Nothing is outside any county: only the fit to the roads could tell.
    assert not (read_quality(out)["problem"] == "outside every county").any()


def test_true_points_give_no_warning_and_converted_ones_none_either(road_city):
    build, true = road_city
    code, output, out = build(true)
    assert code == 0, output
    assert _web_map_notes(out).empty
    code, output, out = build(_to_gcj02(true), coordinates="gcj02")
    assert code == 0, output
    assert _web_map_notes(out).empty
    assert (read_quality(out)["problem"] == "coordinates in GCJ-02 (Amap/Tencent)").any()


def test_points_declared_gcj02_that_are_not_are_warned_about(road_city):
    build, true = road_city
    code, output, out = build(true, coordinates="gcj02")
    assert code == 0, output
    notes = _web_map_notes(out)
    assert len(notes) == 1 and "declared GCJ-02 fit the reference layers ('roads') better unconverted" in notes["problem"].iloc[0]
    assert "remove 'layers.stations.coordinates'" in notes["action"].iloc[0]


def test_without_a_reference_layer_nothing_can_tell(road_city):
    build, true = road_city
    code, output, out = build(_to_gcj02(true), reference=False)
    assert code == 0, output
    quality = read_quality(out)
    assert not quality["problem"].str.contains("GCJ-02").any()


# --- repairs that repair ------------------------------------------------------------------------------------


def _with_spike(geometry: shapely.Geometry, length_m: float = 300.0) -> shapely.Geometry:
    """The polygon (in EPSG:4490) with a zero-width spike: out ``length_m`` east of its eastmost vertex and back."""
    metric = gpd.GeoSeries([geometry], crs="EPSG:4490").to_crs(METRIC).iloc[0]
    parts = list(getattr(metric, "geoms", [metric]))
    largest = max(range(len(parts)), key=lambda i: parts[i].area)
    ring = np.asarray(parts[largest].exterior.coords)
    k = int(np.argmax(ring[:-1, 0]))
    tip = gpd.GeoSeries(gpd.points_from_xy([ring[k, 0] + length_m], [ring[k, 1]]), crs=METRIC).to_crs("EPSG:4490").iloc[0]
    lonlat = list(getattr(geometry, "geoms", [geometry]))
    coords = [tuple(c) for c in lonlat[largest].exterior.coords]
    coords = [*coords[: k + 1], (tip.x, tip.y), coords[k], *coords[k + 1:]]
    lonlat[largest] = shapely.Polygon(coords, [r.coords for r in lonlat[largest].interiors])
    return shapely.MultiPolygon(lonlat) if len(lonlat) > 1 else lonlat[0]


@pytest.mark.parametrize("layer", ["counties", "parks"])
def test_a_spike_is_repaired_away_and_the_area_kept(case, layer):
    # make_valid turns a spiked ring into a GeometryCollection (the polygon and a 300 m line): the
    # polygon is kept, the line dropped and counted; nothing else changes.
    project, out, before = case
    original = gpd.read_file(project / GPKG, layer=layer)

    def spike(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        frame.loc[frame.index[0], "geometry"] = _with_spike(frame.geometry.iloc[0])
        return frame

    edit_layer(project, layer, spike)
    assert not gpd.read_file(project / GPKG, layer=layer).geometry.iloc[0].is_valid
    exit_code, output = run_cli(project, out)
    assert exit_code == 0, output
    quality = read_quality(out)
    said = quality[(quality["layer"] == layer) & (quality["problem"] == "invalid geometry")]
    assert said["feature_id"].tolist() == [str(original["id"].iloc[0])]
    assert said["action"].iloc[0] == "repaired with make_valid; kept the Polygon parts, dropped 1 line (300 m)"
    read = LayerReader(read_project(project)).read_vector(layer)
    assert read.geometry.iloc[0].geom_type in {"Polygon", "MultiPolygon"}
    assert read.geometry.iloc[0].area == pytest.approx(original.to_crs(METRIC).geometry.iloc[0].area, abs=1.0)
    _same_numbers(out, before)


def test_a_polygon_with_no_area_is_left_out_and_counted(case):
    project, out, _ = case
    left_out = {}

    def flatten(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        x0, y0, x1, y1 = parks.geometry.iloc[1].bounds
        parks.loc[parks.index[1], "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x0, y0), (x1, y1)])
        left_out["id"] = str(parks["id"].iloc[1])
        return parks

    edit_layer(project, "parks", flatten)
    exit_code, output = run_cli(project, out)
    assert exit_code == 0, output
    quality = read_quality(out)
    said = quality[(quality["layer"] == "parks") & (quality["feature_id"] == left_out["id"])]
    assert len(said) == 1 and said["action"].iloc[0].startswith("no Polygon left after make_valid")
    assert said["action"].iloc[0].endswith("feature left out")
    parks = pyogrio.read_dataframe(out / "planning.gpkg", layer="sewage.park_network.park")
    assert left_out["id"] not in set(parks["zone_id"].astype(str))


# --- rasters ----------------------------------------------------------------------------------------------


def _rewrite_population(project: Path, **profile_changes) -> Path:
    path = project / "layers/sample/population.tif"
    with rasterio.open(path) as source:
        data, profile = source.read(1), dict(source.profile)
    path.unlink()
    with rasterio.open(path, "w", **(profile | profile_changes)) as target_file:
        target_file.write(data, 1)
    return path


def _damage_a_tile(project: Path) -> Path:
    """population.tif tiled (256 x 256) and compressed, with the bytes of tile (1, 1) overwritten: it opens, one tile fails."""
    path = _rewrite_population(project, tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    with rasterio.open(path) as dataset:
        offset = int(dataset.get_tag_item("BLOCK_OFFSET_1_1", "TIFF", bidx=1))
        size = int(dataset.get_tag_item("BLOCK_SIZE_1_1", "TIFF", bidx=1))
    raw = bytearray(path.read_bytes())
    raw[offset + 8: offset + size - 8] = (np.arange(size - 16) * 7919 % 251).astype(np.uint8).tobytes()
    path.write_bytes(bytes(raw))
    return path


def test_a_damaged_tile_names_the_file_the_tile_and_the_fix(case):
    fails(case, ["population.tif: raster 'population' cannot be read at tile 1, 1", "cells from column 256, row 256",
                 "the file is damaged: replace it"], edit=_damage_a_tile)
    project, out, _ = case
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(out)])
    assert result.exit_code == 1
    assert "cannot be read at tile 1, 1" in result.output and "unexpected" not in result.output


def test_a_damaged_tile_met_inside_zonal_statistics_is_named(case):
    # The engines inspect a raster before measuring; should a read fail inside exactextract anyway
    # (another tile, a part run on a worker), the error still names the file and the fix.
    project = case[0]
    path = _damage_a_tile(project)
    with rasterio.open(path) as dataset:
        x0, y_top = dataset.transform * (256, 256)
        cell = dataset.transform.a
    polygons = gpd.GeoDataFrame(geometry=[box(x0 + cell, y_top - 100 * cell, x0 + 100 * cell, y_top - cell)], crs=METRIC)
    with pytest.raises(DataError, match=r"population\.tif: raster 'population' cannot be read at tile 1, 1 .*replace it"):
        zonal_sums(path, "population", polygons)


def test_a_raster_declared_geographic_with_metres(case):
    fails(case, ["population.tif: raster 'population' has coordinates like", "(metres) but declares EPSG:4490 (degrees)",
                 "its corners fit EPSG:4546", "gdal_edit.py -a_srs EPSG:4546"],
          edit=lambda p: _rewrite_population(p, crs="EPSG:4490"))


def test_a_raster_with_the_zone_number_in_the_easting(case):
    def move(project: Path) -> None:
        with rasterio.open(project / "layers/sample/population.tif") as dataset:
            transform = dataset.transform
        _rewrite_population(project, transform=Affine(transform.a, 0.0, transform.c + 37_000_000, 0.0, transform.e, transform.f))

    fails(case, ["raster 'population' does not overlap the study area", "EPSG:4546", "its corners fit EPSG:4525",
                 "gdal_edit.py -a_srs EPSG:4525"], edit=move)


# --- the layer at fault, named ------------------------------------------------------------------------------


def test_duplicate_ids_in_an_earlier_year_name_that_year_and_layer(case):
    fails(case, ["layer 'parking_lots' of 2020 (layer 'parking_lots_2020' in the file) repeats id", "ids must be unique"],
          edit=lambda p: edit_layer(p, "parking_lots_2020", lambda s: s.assign(id=[s["id"].iloc[1], *s["id"].iloc[1:]])))


def test_a_missing_column_in_an_earlier_year_names_that_year(case):
    fails(case, ["layer 'parking_lots' of 2020 (layer 'parking_lots_2020' in the file) has no column 'spaces'"],
          edit=lambda p: edit_layer(p, "parking_lots_2020", lambda s: s.rename(columns={"spaces": "space"})))
