"""Bad input through `gis run` and `gis check`: the message, the exit code, and the outputs left whole."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from badinput import (
    GPKG,
    edit_catalog,
    edit_layer,
    fails,
    indicator_rows,
    read_quality,
    rows_before,
    run_cli,
)
from click.testing import CliRunner
from rasterio.warp import Resampling, calculate_default_transform, reproject

from gis.cli import main
from gis.project.coords import bd09_to_gcj02, gcj02_to_wgs84, wgs84_to_gcj02

# --- files and layers --------------------------------------------------------------------


def test_missing_file(case):
    fails(case, ["landcover.tif", "not found", "layers.landcover.file"],
           edit=lambda p: (p / "layers/sample/landcover.tif").unlink())


def test_corrupted_geopackage(case):
    fails(case, ["sanmenxia.gpkg", "cannot be opened", "replace the file"],
           edit=lambda p: (p / GPKG).write_bytes(b"SQLite format 3\x00" + b"\x00" * 2048))


def test_corrupted_geotiff(case):
    fails(case, ["population.tif", "cannot be opened"], edit=lambda p: (p / "layers/sample/population.tif").write_bytes(b"II*\x00garbage"))


def test_layer_name_not_in_file(case):
    fails(case, ["no layer 'parking_lot'", "it has:", "parking_lots", "layers.parking_lots.layer"],
           edit=lambda p: edit_catalog(p, lambda c: c["layers"]["parking_lots"].update(layer="parking_lot")))


def test_missing_layer_of_an_earlier_year_names_its_key(case):
    fails(case, ["no layer 'parking_lots_2023'", "layers.parking_lots.years.2023.layer"],
           edit=lambda p: edit_catalog(p, lambda c: c["layers"]["parking_lots"]["years"][2023].update(layer="parking_lots_2023")) or
           _rename_layer(p, "parking_lots_2023", "lots_2023"))


def _rename_layer(project: Path, old: str, new: str) -> None:
    import sqlite3

    with sqlite3.connect(project / GPKG) as connection:
        connection.execute(f'ALTER TABLE "{old}" RENAME TO "{new}"')
        for table in ("gpkg_contents", "gpkg_geometry_columns"):
            connection.execute(f"UPDATE {table} SET table_name = ? WHERE table_name = ?", (new, old))


def test_verbose_shows_the_traceback_and_keeps_the_exit_code(case):
    project, out, _ = case
    (project / "layers/sample/landcover.tif").unlink()
    plain = CliRunner().invoke(main, ["run", "--no-pdf", "--project", str(project), "--out", str(out)])
    verbose = CliRunner().invoke(main, ["-v", "run", "--no-pdf", "--project", str(project), "--out", str(out)])
    assert plain.exit_code == verbose.exit_code != 0
    assert "Traceback" not in plain.output and "Traceback" in verbose.output
    line = next(text for text in plain.output.splitlines() if text.startswith("gis: error:"))
    assert "not found" in line and line in verbose.output.splitlines()
    usage = CliRunner().invoke(main, ["-v", "diff", "nosuchrun", "--out", str(out)])
    assert usage.exit_code == 2 and "Traceback" in usage.output  # a usage error stays 2 with -v


# --- coordinate reference systems --------------------------------------------------------


def _lots_to_shapefile(project: Path, *, crs: str | None, encoding: str = "UTF-8") -> None:
    lots = gpd.read_file(project / GPKG, layer="parking_lots")
    if crs is None:
        lots = lots.set_crs(None, allow_override=True)
    else:
        lots = lots.to_crs(crs)
    # Shapefile field names stop at 10 characters: the catalog maps the canonical name to the short one.
    lots = lots.rename(columns={"charger_spaces": "chg_spaces"})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        pyogrio.write_dataframe(lots, project / "layers/sample/lots.shp", encoding=encoding)

    def point(catalog: dict) -> None:
        catalog["layers"]["parking_lots"].update(file="sample/lots.shp")
        catalog["layers"]["parking_lots"].pop("layer")
        catalog["layers"]["parking_lots"].pop("years")  # the shapefile holds this year only
        catalog["layers"]["parking_lots"]["fields"]["charger_spaces"] = "chg_spaces"

    edit_catalog(project, point)


def test_layer_without_crs_is_refused_then_assumed_from_the_catalog(case):
    project, out, before = case
    fails(case, ["lots.shp", "has no CRS", "layers.parking_lots.crs"], edit=lambda p: _lots_to_shapefile(p, crs=None))
    edit_catalog(project, lambda c: c["layers"]["parking_lots"].update(crs="EPSG:4490"))
    exit_code, output = run_cli(project, out)
    assert exit_code == 0, output
    quality = read_quality(out)
    assert ((quality["layer"] == "parking_lots") & (quality["problem"] == "no CRS in the file")).any()
    assert indicator_rows(out, "charging.parking_share")["value"].tolist() == pytest.approx(
        rows_before(before, "charging.parking_share")["value"].tolist()
    )


def test_layer_in_another_crs_is_reprojected_and_said(case):
    project, out, before = case
    _lots_to_shapefile(project, crs="EPSG:3857")
    assert run_cli(project, out)[0] == 0
    quality = read_quality(out)
    said = quality[(quality["layer"] == "parking_lots") & (quality["problem"] == "stored in EPSG:3857")]
    assert said["action"].tolist() == ["reprojected to EPSG:4546 for measuring"]
    old = rows_before(before, "charging.parking_share")
    assert indicator_rows(out, "charging.parking_share")["value"].to_dict() == pytest.approx(old["value"].to_dict())


def test_raster_in_another_crs_is_used_and_said(case):
    project, out, before = case
    path = project / "layers/sample/landcover.tif"
    with rasterio.open(path) as source:
        transform, width, height = calculate_default_transform(source.crs, "EPSG:4490", source.width, source.height, *source.bounds)
        profile = source.profile | {"crs": "EPSG:4490", "transform": transform, "width": width, "height": height}
        data = np.zeros((height, width), dtype=source.dtypes[0])
        reproject(rasterio.band(source, 1), data, dst_transform=transform, dst_crs="EPSG:4490", resampling=Resampling.nearest)
    with rasterio.open(path, "w", **profile) as target:
        target.write(data, 1)
    assert run_cli(project, out)[0] == 0
    quality = read_quality(out)
    assert ((quality["layer"] == "landcover") & (quality["problem"] == "raster in EPSG:4490")).any()
    old = rows_before(before, "permeable.share")["value"]
    new = indicator_rows(out, "permeable.share")["value"]
    assert (new - old).abs().max() < 0.03  # two nearest-neighbour resamplings of ~95 m cells


# --- coordinates from web maps, swapped axes, encodings ------------------------------------


def test_bd09_and_gcj02_formulas():
    # A well-known pair: BD-09 (116.404, 39.915) is GCJ-02 (116.397627, 39.908657).
    assert bd09_to_gcj02(np.array([116.404]), np.array([39.915])) == pytest.approx((116.3976273, 39.9086567), abs=1e-6)
    lon, lat = wgs84_to_gcj02(np.array([111.2]), np.array([34.78]))
    assert gcj02_to_wgs84(lon, lat) == pytest.approx((111.2, 34.78), abs=1e-7)


def _near_the_east_edge(project: Path) -> gpd.GeoDataFrame:
    """Twenty lots 200 m inside the east edge of the city, where a GCJ-02 shift (~550 m east) puts them outside."""
    counties = gpd.read_file(project / GPKG, layer="counties").to_crs("EPSG:4546")
    inner = shapely.union_all(counties.geometry.values).buffer(-200).exterior
    ring = gpd.GeoSeries([inner.interpolate(f, normalized=True) for f in np.linspace(0, 1, 400)], crs="EPSG:4546")
    east = ring[ring.x > ring.x.quantile(0.95)].iloc[:20]
    lots = gpd.read_file(project / GPKG, layer="parking_lots").iloc[:20].copy()
    lots["geometry"] = east.to_crs("EPSG:4490").values
    lots["id"] = [f"EDGE-{i}" for i in range(len(lots))]
    return lots


def test_gcj02_points_are_warned_about_then_converted(case):
    # A layer copied from Amap: every lot about 500 m off.  Most stay inside the city; the twenty by the
    # east edge land outside every county and fall inside read as GCJ-02: a warning (a layer mostly
    # outside is refused instead, see test_bad_coordinates.py).
    project, out, _ = case
    lots = gpd.read_file(project / GPKG, layer="parking_lots")
    true = pd.concat([lots, _near_the_east_edge(project)], ignore_index=True)
    shifted = true.copy()
    lon, lat = wgs84_to_gcj02(true.geometry.x.to_numpy(), true.geometry.y.to_numpy())
    shifted["geometry"] = gpd.points_from_xy(lon, lat)
    pyogrio.write_dataframe(shifted, project / GPKG, layer="parking_lots", driver="GPKG")
    assert run_cli(project, out)[0] == 0
    quality = read_quality(out)
    warning = quality[(quality["layer"] == "parking_lots") & quality["problem"].str.contains("GCJ-02")]
    assert len(warning) == 1 and "coordinates: gcj02" in warning["action"].iloc[0]

    edit_catalog(project, lambda c: c["layers"]["parking_lots"].update(coordinates="gcj02"))
    assert run_cli(project, out)[0] == 0
    quality = read_quality(out)
    assert not quality["problem"].str.contains("GCJ-02 \\(about", regex=True).any()
    assert ((quality["layer"] == "parking_lots") & (quality["problem"] == "coordinates in GCJ-02 (Amap/Tencent)")).any()
    assert not ((quality["layer"] == "parking_lots") & (quality["problem"] == "outside every county")).any()


def test_swapped_latitude_and_longitude_are_repaired_and_reported(case):
    project, out, before = case
    swapped_ids = []

    def swap(lots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        swapped_ids.extend(lots["id"].iloc[:3])
        lots.loc[lots.index[:3], "geometry"] = shapely.transform(lots.geometry.iloc[:3].values, lambda c: c[:, ::-1].copy())
        return lots

    edit_layer(project, "parking_lots", swap)
    assert run_cli(project, out)[0] == 0
    quality = read_quality(out)
    fixed = quality[quality["problem"] == "latitude and longitude swapped"]
    assert sorted(fixed["feature_id"]) == sorted(swapped_ids)
    old = rows_before(before, "charging.parking_share")["value"]
    assert indicator_rows(out, "charging.parking_share")["value"].to_dict() == pytest.approx(old.to_dict())


def test_gbk_shapefile_without_cpg_is_guessed_and_reported(case):
    project, out, _ = case
    _lots_to_shapefile(project, crs="EPSG:4490", encoding="GBK")
    (project / "layers/sample/lots.cpg").unlink(missing_ok=True)
    assert run_cli(project, out)[0] == 0
    quality = read_quality(out)
    guess = quality[(quality["layer"] == "parking_lots") & quality["problem"].str.contains(".cpg")]
    assert "guessed GBK" in guess["action"].iloc[0]
    names = pyogrio.read_dataframe(out / "planning.gpkg", layer="charging.parking_share.gaps")["name"]
    assert names.str.contains("停车场").all()


# --- geometries and places ------------------------------------------------------------------


def test_invalid_and_empty_geometries_are_repaired_or_left_out_and_counted(case):
    project, out, _ = case

    def bowtie(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        x0, y0, x1, y1 = parks.geometry.iloc[0].bounds
        parks.loc[parks.index[0], "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
        return parks

    edit_layer(project, "parks", bowtie)
    edit_layer(project, "charging_stations", lambda s: s.assign(geometry=[shapely.Point(), *s.geometry.iloc[1:]]))
    assert run_cli(project, out)[0] == 0
    quality = read_quality(out)
    assert len(quality[(quality["layer"] == "parks") & (quality["problem"] == "invalid geometry")]) == 1
    empty = quality[(quality["layer"] == "charging_stations") & (quality["problem"] == "empty geometry")]
    assert empty["action"].tolist() == ["feature left out"]


def test_points_outside_every_county_are_kept_unassigned(case):
    project, out, _ = case
    moved = {}

    def move(lots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        moved.update(spaces=float(lots["spaces"].iloc[0]), chargers=float(lots["charger_spaces"].iloc[0]), id=lots["id"].iloc[0])
        lots.loc[lots.index[0], "geometry"] = shapely.Point(113.6, 34.7)  # Zhengzhou, far east of Sanmenxia
        return lots

    edit_layer(project, "parking_lots", move)
    assert run_cli(project, out)[0] == 0
    rows = indicator_rows(out, "charging.parking_share")
    assert rows.loc["unassigned", "zone_type"] == "unassigned"
    assert rows.loc["unassigned", "denominator"] == moved["spaces"]
    assert rows.loc["unassigned", "status"] == "no_target"
    counties = rows[rows["zone_type"] == "county"]
    assert rows.loc["156411200", "denominator"] == pytest.approx(counties["denominator"].sum())
    quality = read_quality(out)
    assert ((quality["feature_id"] == moved["id"]) & (quality["problem"] == "outside every county")).any()


# --- ids and fields --------------------------------------------------------------------------


def test_duplicate_ids(case):
    fails(case, ["parking_lots", "repeats id", "unique"],
           edit=lambda p: edit_layer(p, "parking_lots", lambda s: s.assign(id=[s["id"].iloc[1], *s["id"].iloc[1:]])))


def test_required_field_missing_suggests_the_closest_columns(case):
    fails(case, ["no column 'charger_spaces'", "closest columns: chargers_spaces", "layers.parking_lots.fields.charger_spaces"],
           edit=lambda p: edit_layer(p, "parking_lots", lambda s: s.rename(columns={"charger_spaces": "chargers_spaces"})))


def test_text_in_a_numeric_field(case):
    def text(lots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        lots["spaces"] = lots["spaces"].astype(str)
        lots.loc[lots.index[2], "spaces"] = "many"
        return lots

    fails(case, ["parking_lots", "field 'spaces'", "'many' is not a number"], edit=lambda p: edit_layer(p, "parking_lots", text))


@pytest.mark.parametrize(
    ("layer", "change", "expected"),
    [
        ("parking_lots", lambda s: s.assign(charger_spaces=s["spaces"] + 5), ["parking_lots", "exceeds denominator"]),
        ("sewage_plants", lambda s: s.assign(treated_m3_d=s["collected_m3_d"] * 1.5), ["sewage_plants", "exceeds denominator"]),
        ("waste_facilities", lambda s: s.assign(capacity_t_d=-s["capacity_t_d"]), ["waste_facilities", "capacity_t_d", "negative"]),
    ],
    ids=["chargers-over-spaces", "treated-over-collected", "negative-capacity"],
)
def test_impossible_values(case, layer, change, expected):
    fails(case, expected, edit=lambda p: edit_layer(p, layer, change))


# --- rasters ----------------------------------------------------------------------------------


def _rewrite_landcover(project: Path, change: Callable[[np.ndarray, dict], tuple[np.ndarray, dict]]) -> None:
    path = project / "layers/sample/landcover.tif"
    with rasterio.open(path) as source:
        data, profile = change(source.read(1), dict(source.profile))
    path.unlink()
    with rasterio.open(path, "w", **profile) as target:
        target.write(data, 1)


def test_raster_without_nodata_is_said(case):
    project, out, _ = case
    _rewrite_landcover(project, lambda data, profile: (data, profile | {"nodata": None}))
    assert run_cli(project, out)[0] == 0
    quality = read_quality(out)
    assert ((quality["layer"] == "landcover") & (quality["problem"] == "no nodata value declared")).any()


def test_unmapped_land_cover_classes_are_said(case):
    project, out, _ = case

    def recode(data: np.ndarray, profile: dict) -> tuple[np.ndarray, dict]:
        data = data.copy()
        data[data == 50] = 99  # permeable paving becomes a code the class table does not know
        return data, profile

    _rewrite_landcover(project, recode)
    assert run_cli(project, out)[0] == 0
    quality = read_quality(out)
    said = quality[(quality["layer"] == "landcover") & quality["problem"].str.contains("missing from the class table")]
    assert len(said) == 1 and "layers.landcover.classes" in said["action"].iloc[0]
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(out)])
    assert result.exit_code == 0 and "99" in result.output


# --- YAML --------------------------------------------------------------------------------------


def test_yaml_syntax_error_in_the_catalog(case):
    def breaking(project: Path) -> None:
        path = project / "layers" / "catalog.yaml"
        lines = path.read_text(encoding="utf-8").splitlines()
        index = next(i for i, line in enumerate(lines) if line.startswith("layers:"))
        lines.insert(index + 1, "  oops: [unclosed")
        path.write_text("\n".join(lines), encoding="utf-8")

    fails(case, ["catalog.yaml:", "YAML error"], edit=breaking)


def test_wrong_key_in_a_spec_names_file_line_and_key(case):
    def breaking(project: Path) -> None:
        path = project / "analyses" / "charging.parking_share.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace('comparator: ">="', 'comparator: "at least"'), encoding="utf-8")

    fails(case, ["charging.parking_share.yaml:", "key 'target.comparator'"], edit=breaking)


def test_check_reports_every_broken_layer_and_writes_the_table(case):
    project, out, before = case
    (project / "layers/sample/population.tif").unlink()
    edit_layer(project, "parking_lots", lambda s: s.rename(columns={"spaces": "space"}))
    result = CliRunner().invoke(main, ["check", "--project", str(project), "--out", str(out)])
    assert result.exit_code == 1
    quality = read_quality(out / "check")  # beside the run's outputs: the run's own data_quality.csv stays
    errors = quality[quality["severity"] == "error"]
    assert set(errors["layer"]) == {"population", "parking_lots"}
    assert (out / "data_quality.csv").read_bytes() == before[Path("data_quality.csv")]
