"""``gis import``: POI tables, land-use polygons, land-cover rasters and OSM extracts, on hand-made files."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml
from click.testing import CliRunner
from osmium.osm.mutable import Node, Way
from pyproj import Transformer
from shapely.geometry import box
from tinyproject import X0, Y0, target, write_raster

from gis import load_project
from gis.cli import main
from gis.engines.local import run_project
from gis.errors import ConfigError
from gis.importers.catalog_entry import NewLayer, install, open_project, staged
from gis.importers.classes import landuse_table, normalise_code
from gis.project.catalog import read_catalog
from gis.project.coords import wgs84_to_gcj02

REFERENCE_CATALOG = Path(__file__).resolve().parent.parent / "layers" / "catalog.yaml"


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def reference_project(tmp_path: Path) -> Path:
    """A project folder holding a copy of the reference catalog (comments and all)."""
    (tmp_path / "city" / "layers").mkdir(parents=True)
    shutil.copy(REFERENCE_CATALOG, tmp_path / "city" / "layers" / "catalog.yaml")
    return tmp_path / "city"


def _metres_apart(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    to_metres = Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True)
    x1, y1 = to_metres.transform(lon1, lat1)
    x2, y2 = to_metres.transform(lon2, lat2)
    return np.hypot(np.asarray(x1) - x2, np.asarray(y1) - y2)


# --- POI tables ---------------------------------------------------------------------------------


def test_gcj02_gbk_csv_comes_back_to_its_wgs84_point(reference_project: Path, tmp_path: Path) -> None:
    # Two stations at known WGS84 points, shifted to GCJ-02 as Amap exports them, in a GBK CSV with
    # Chinese headers; a third row without coordinates is left out.
    lon, lat = np.array([111.2, 111.21]), np.array([34.77, 34.78])
    gx, gy = wgs84_to_gcj02(lon, lat)
    text = "序号,名称,经度,纬度,充电桩数,快充桩数\n" + "".join(
        f"S{i + 1},站{i + 1},{gx[i]:.8f},{gy[i]:.8f},{10 - 4 * i},{4 - 2 * i}\n" for i in range(2)
    ) + ",空,,,,\n"
    table = tmp_path / "stations.csv"
    table.write_bytes(text.encode("gbk"))
    code, output = _invoke("import", "poi", table, "--project", reference_project, "--layer", "charging_stations", "--coords", "gcj02")
    assert code == 2 and "exists already" in output and "--replace" in output
    code, output = _invoke("import", "poi", table, "--project", reference_project, "--layer", "charging_stations", "--coords", "gcj02",
                           "--replace", "--licence", "internal")
    assert code == 0, output
    written = reference_project / "layers" / "data" / "charging_stations.gpkg"
    frame = gpd.read_file(written)
    assert frame.crs.to_epsg() == 4490
    assert list(frame["id"]) == ["S1", "S2"] and list(frame["ports"]) == [10, 6] and list(frame["fast_ports"]) == [4, 2]
    assert _metres_apart(frame.geometry.x.values, frame.geometry.y.values, lon, lat).max() < 0.5
    assert _metres_apart(gx, gy, lon, lat).min() > 100, "the GCJ-02 shift is hundreds of metres: the test would see a missing conversion"
    with sqlite3.connect(written) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
    text_after = (reference_project / "layers" / "catalog.yaml").read_text(encoding="utf-8")
    assert "# Layer catalog of the reference project" in text_after and "provenance: *synthetic" in text_after
    entry = read_catalog(reference_project / "layers" / "catalog.yaml").layers["charging_stations"]
    assert entry.file == "data/charging_stations.gpkg" and entry.fields == {"id": "id", "name": "name", "ports": "ports", "fast_ports": "fast_ports"}
    assert entry.provenance.licence == "internal" and not entry.provenance.synthetic
    assert list(read_catalog(reference_project / "layers" / "catalog.yaml").layers).index("charging_stations") == 3, "replaced in place"


def test_bd09_xlsx_with_named_columns_and_a_field_option(reference_project: Path, tmp_path: Path) -> None:
    # A Baidu export: BD-09 = GCJ-02 shifted again; columns named by the options.
    from gis.project.coords import bd09_to_gcj02, gcj02_to_wgs84

    lon, lat = np.array([111.2]), np.array([34.77])
    gx, gy = wgs84_to_gcj02(lon, lat)
    bx, by = _gcj02_to_bd09(gx, gy)
    back = gcj02_to_wgs84(*bd09_to_gcj02(bx, by))
    assert _metres_apart(back[0], back[1], lon, lat)[0] < 0.5, "the test's own BD-09 forward formula"
    table = tmp_path / "lots.xlsx"
    pd.DataFrame({"停车场": ["医院停车场"], "X坐标": [bx[0]], "Y坐标": [by[0]], "总车位": [120]}).to_excel(table, index=False)
    code, output = _invoke("import", "poi", table, "--project", reference_project, "--layer", "hospital_lots", "--coords", "bd09",
                           "--lon", "X坐标", "--lat", "Y坐标", "--field", "name=停车场", "--field", "spaces=总车位")
    assert code == 0, output
    frame = gpd.read_file(reference_project / "layers" / "data" / "hospital_lots.gpkg")
    assert frame.loc[0, "name"] == "医院停车场" and frame.loc[0, "spaces"] == 120 and frame.loc[0, "id"] == "1"
    assert _metres_apart(frame.geometry.x.values, frame.geometry.y.values, lon, lat)[0] < 0.5


def _gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x_pi = np.pi * 3000.0 / 180.0
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * x_pi)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * x_pi)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def test_swapped_lon_lat_is_one_line_naming_the_fix(reference_project: Path, tmp_path: Path) -> None:
    table = tmp_path / "p.csv"
    table.write_text("name,lng,lat\na,34.77,111.2\n", encoding="utf-8")
    code, output = _invoke("import", "poi", table, "--project", reference_project, "--layer", "pois", "--coords", "wgs84")
    assert code == 1
    assert output.strip().count("\n") == 0 and "--lon lat --lat lng" in output
    assert "pois" not in read_catalog(reference_project / "layers" / "catalog.yaml").layers


def test_a_catalog_that_fails_validation_is_rolled_back(reference_project: Path) -> None:
    catalog = reference_project / "layers" / "catalog.yaml"
    before = catalog.read_text(encoding="utf-8")
    project = open_project(reference_project, ["broken"], replace=False)
    final = project.data_path("broken", ".gpkg")
    staged(final).write_bytes(b"not really a geopackage")
    with pytest.raises(ConfigError, match="back as they were"):
        install(project, [NewLayer("broken", {"file": "data/broken.gpkg", "kind": "vectors"}, {staged(final): final})])
    assert catalog.read_text(encoding="utf-8") == before
    assert not final.exists() and not staged(final).exists()


# --- land use -------------------------------------------------------------------------------------


def test_landuse_codes_fall_back_to_their_class() -> None:
    table = landuse_table("gbt21010_2017")
    assert normalise_code(101) == "0101" and normalise_code("05h1") == "05H1" and normalise_code(1101.0) == "1101"
    assert table.lookup("0101").permeable and not table.lookup("0701").permeable
    assert table.lookup("1101").excluded and table.lookup("070101").code == "0701"
    assert table.lookup("99") is None
    assert landuse_table("landuse_2023").lookup("1401").permeable


def _area_share_spec(**parameters: object) -> dict:
    return {
        "id": "permeable.landuse", "method": "area_share", "inputs": {"features": "landuse"},
        "parameters": {"class_field": "class_code", "classes": "gbt21010_2017", **parameters},
        "target": target(value=0.5), "shortfall": {"unit": "km2", "factor": 1e-6},
    }


def test_permeable_share_on_imported_landuse_polygons(make_project, tmp_path: Path) -> None:
    # County A holds a 600 m2 paddy field (0101, permeable), a 400 m2 urban residential plot (0701,
    # impervious) and a 500 m2 pond (1104, water: left out of both sides) -> 600 / 1000 = 0.6.
    # County B holds 300 m2 of a code the table lacks (9999): counted as not permeable -> 0.
    polygons = gpd.GeoDataFrame(
        {"BSM": ["1", "2", "3", "4"], "DLBM": ["0101", "0701", "1104", "9999"], "DLMC": ["水田", "城镇住宅用地", "坑塘水面", "?"]},
        geometry=[box(X0 + 100, Y0 + 100, X0 + 130, Y0 + 120), box(X0 + 200, Y0 + 100, X0 + 220, Y0 + 120),
                  box(X0 + 300, Y0 + 100, X0 + 325, Y0 + 120), box(X0 + 1100, Y0 + 100, X0 + 1115, Y0 + 120)],
        crs="EPSG:4546",
    )
    source = tmp_path / "sandiao.gpkg"
    pyogrio.write_dataframe(polygons, source, layer="DLTB")
    root = make_project({}, [_area_share_spec()])
    code, output = _invoke("import", "landuse", source, "--project", root, "--classes", "gbt21010_2017")
    assert code == 0, output
    assert "9999" in output
    imported = gpd.read_file(root / "layers" / "data" / "landuse.gpkg")
    assert list(imported["class_code"]) == ["0101", "0701", "1104", "9999"] and list(imported["id"]) == ["1", "2", "3", "4"]
    assert imported.crs.to_epsg() == 4490
    result = run_project(load_project(root))
    rows = result.indicators.set_index("zone_id")
    assert rows.loc["A", "value"] == pytest.approx(0.6, abs=1e-6)
    assert rows.loc["A", "numerator"] == pytest.approx(600, rel=1e-6)
    assert rows.loc["A", "denominator"] == pytest.approx(1000, rel=1e-6)
    assert rows.loc["B", "value"] == pytest.approx(0.0)
    assert rows.loc["C", "value"] == pytest.approx(600 / 1300, rel=1e-6)


def test_area_share_inside_a_mask_matches_the_raster_method(make_project) -> None:
    # The raster test's layout as polygons: county A in four 500 m quarters, top-left 40 (permeable),
    # top-right water, bottom two impervious.  Built-up = the whole county: 1 of 3 land quarters = 1/3,
    # shortfall at 0.4: 0.4 * 0.75 km2 - 0.25 km2 = 0.05 km2 (as test_raster_share_inside_mask_leaves_water_out).
    quarters = [box(X0, Y0 + 500, X0 + 500, Y0 + 1000), box(X0 + 500, Y0 + 500, X0 + 1000, Y0 + 1000),
                box(X0, Y0, X0 + 500, Y0 + 500), box(X0 + 500, Y0, X0 + 1000, Y0 + 500)]
    landuse = gpd.GeoDataFrame({"id": ["1", "2", "3", "4"], "class_code": ["G", "W", "I", "I"]}, geometry=quarters, crs="EPSG:4546")
    builtup = gpd.GeoDataFrame({"id": ["U1"], "name": ["all"]}, geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000)], crs="EPSG:4546")
    inline = [{"code": "G", "name_zh": "绿地", "permeable": True}, {"code": "W", "name_zh": "水", "excluded": True}, {"code": "I", "name_zh": "硬化"}]
    spec = _area_share_spec(classes=inline)
    spec["inputs"] = {"features": "landuse", "mask": "builtup"}
    spec["target"] = target(value=0.4)
    rows = run_project(load_project(make_project({"landuse": landuse, "builtup": builtup}, [spec]))).indicators.set_index("zone_id")
    assert rows.loc["A", "value"] == pytest.approx(1 / 3)
    assert rows.loc["A", "shortfall"] == pytest.approx(0.05)
    assert "built-up" in rows.loc["A", "zone_name"]


def test_a_spec_naming_an_unknown_class_table_fails_its_check(make_project) -> None:
    landuse = gpd.GeoDataFrame({"id": ["1"], "class_code": ["0101"]}, geometry=[box(X0, Y0, X0 + 10, Y0 + 10)], crs="EPSG:4546")
    root = make_project({"landuse": landuse}, [_area_share_spec(classes="sandiao_typo")])
    with pytest.raises(ConfigError, match="no class table 'sandiao_typo'"):
        load_project(root)


def _sandiao_parcels() -> gpd.GeoDataFrame:
    """三调 parcels (DLTB) with 城镇村属性码 CZCSXM, in metres from the counties' corner (X0, Y0)."""
    rows = [  # BSM, DLBM, CZCSXM, (x1, y1, x2, y2)
        ("1", "0701", "201", (0, 0, 400, 300)),  # county A, city: urban residential, impervious, 120 000 m2
        ("2", "0810", "201", (400, 0, 600, 300)),  # park, permeable, 60 000 m2
        ("3", "1101", "201", (600, 0, 700, 300)),  # river, water: left out of both sides, 30 000 m2
        ("4", "1004", "201", (0, 300, 700, 350)),  # urban road, impervious, 35 000 m2
        ("5", "0702", "203", (0, 600, 200, 800)),  # village homesteads: not built-up
        ("6", "0101", None, (200, 600, 1000, 1000)),  # paddy field outside the towns: not built-up
        ("7", "0701", "202", (1100, 0, 1300, 200)),  # county B, town: residential, impervious, 40 000 m2
        ("8", "0301", "202", (1300, 0, 1500, 200)),  # forest, permeable, 40 000 m2
        ("9", "1104", "202", (1100, 200, 1200, 250)),  # pond, water, 5 000 m2
        ("10", "0503", "202", (950, 500, 1100, 600)),  # restaurant across the border: 5 000 m2 in A, 10 000 m2 in B -> B's
    ]
    return gpd.GeoDataFrame(
        {"BSM": [r[0] for r in rows], "DLBM": [r[1] for r in rows], "CZCSXM": [r[2] for r in rows]},
        geometry=[box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2) for *_, (x1, y1, x2, y2) in rows],
        crs="EPSG:4546",
    )


def _reference_spec(spec_id: str) -> dict:
    return yaml.safe_load((REFERENCE_CATALOG.parent.parent / "analyses" / f"{spec_id}.yaml").read_text(encoding="utf-8"))


def test_sandiao_parcels_give_the_builtup_mask_and_the_permeable_share(make_project, tmp_path: Path) -> None:
    # Built-up = parcels with CZCSXM 201 or 202, one union per county, each parcel to the county it
    # overlaps most: A's is the city block 700 x 350 m (parcels 1-4, 245 000 m2, central_city); B's
    # the town parcels 7-9 and the restaurant 10 (its larger part is in B): 100 000 m2, county_seat.
    # permeable.share_landuse (the reference spec, untouched) inside that mask, water left out:
    #   A: BU-A holds 60 000 permeable (park) of 120 000 + 60 000 + 35 000 land; BU-B reaches 5 000 m2
    #      of restaurant into A: 60 000 / 220 000 = 3/11 = 0.2727 < 0.40, shortfall 0.4 * 220 000 - 60 000
    #      = 28 000 m2 = 0.028 km2 (reported, not judged: the 40 % is a city target).
    #   B: 40 000 forest / (40 000 + 40 000 + 10 000) = 4/9 = 0.444 >= 0.40 (reported, not judged).
    #   city: (60 000 + 40 000) / (220 000 + 90 000) = 10/31 = 0.3226, shortfall 124 000 - 100 000 = 0.024 km2.
    # The village (203) and the paddy field without a code lie outside the mask: if they counted, A would be far higher.
    source = tmp_path / "sandiao.gpkg"
    pyogrio.write_dataframe(_sandiao_parcels(), source, layer="DLTB")
    root = make_project({}, [_reference_spec("permeable.share_landuse")])
    code, output = _invoke("import", "landuse", source, "--project", root, "--classes", "gbt21010_2017", "--builtup-field", "CZCSXM")
    assert code == 0, output
    said = " ".join(output.split())
    assert "8 parcels with CZCSXM in 201, 202 -> layer 'builtup'" in said, output
    catalog = read_catalog(root / "layers" / "catalog.yaml")
    entry = catalog.layers["builtup"]
    assert entry.file == "data/builtup.gpkg" and entry.fields == {"id": "id", "name": "name", "county_id": "county_id", "kind": "kind"}
    assert set(catalog.zones) == {"county"}, "zones are left as they were: the mask reads the layer by name"
    builtup = gpd.read_file(root / "layers" / "data" / "builtup.gpkg").to_crs("EPSG:4546").set_index("id")
    assert builtup.crs.to_epsg() == 4546 and list(builtup.index) == ["BU-A", "BU-B"]
    assert list(builtup["county_id"]) == ["A", "B"] and list(builtup["kind"]) == ["central_city", "county_seat"]
    assert list(builtup["name"]) == ["甲县建成区", "乙县建成区"]
    expected_a = box(X0, Y0, X0 + 700, Y0 + 350)
    expected_b = shapely.union_all([box(X0 + 1100, Y0, X0 + 1500, Y0 + 200), box(X0 + 1100, Y0 + 200, X0 + 1200, Y0 + 250),
                                    box(X0 + 950, Y0 + 500, X0 + 1100, Y0 + 600)])
    assert builtup.loc["BU-A", "geometry"].symmetric_difference(expected_a).area < 1.0
    assert builtup.loc["BU-B", "geometry"].symmetric_difference(expected_b).area < 1.0
    result = run_project(load_project(root))
    rows = result.indicators.set_index("zone_id")
    assert (result.indicators["indicator"] == "permeable.share_landuse").all()
    assert rows.loc["A", "numerator"] == pytest.approx(60_000, rel=1e-5) and rows.loc["A", "denominator"] == pytest.approx(220_000, rel=1e-5)
    # a city target (全市): the counties are reported (A would be 0.028 km2 short, B met), not judged
    assert rows.loc["A", "value"] == pytest.approx(3 / 11, rel=1e-5) and rows.loc["A", "status"] == "no_target"
    assert rows.loc["B", "value"] == pytest.approx(4 / 9, rel=1e-5) and rows.loc["B", "status"] == "no_target"
    assert rows.loc["C", "value"] == pytest.approx(10 / 31, rel=1e-5) and rows.loc["C", "status"] == "gap"
    assert rows.loc["C", "shortfall"] == pytest.approx(0.024, abs=1e-3)
    assert "built-up" in rows.loc["A", "zone_name"]


def test_czcsxm_is_found_by_name_and_an_existing_builtup_is_left_alone(make_project, tmp_path: Path) -> None:
    source = tmp_path / "sandiao.gpkg"
    pyogrio.write_dataframe(_sandiao_parcels(), source, layer="DLTB")
    root = make_project({}, [])
    code, output = _invoke("import", "landuse", source, "--project", root, "--classes", "gbt21010_2017")
    assert code == 0, output
    said = " ".join(output.split())
    assert "column 'CZCSXM' (城镇村属性码) found: parcels with codes 201, 202 become layer 'builtup'" in said, output
    assert "builtup" in read_catalog(root / "layers" / "catalog.yaml").layers
    code, output = _invoke("import", "landuse", source, "--project", root, "--classes", "gbt21010_2017", "--layer", "landuse_2", "--replace")
    assert code == 0, output
    said = " ".join(output.split())
    assert "'builtup' exists already and is left as it is" in said and "--builtup-field CZCSXM --replace" in said, output
    code, output = _invoke("import", "landuse", source, "--project", root, "--classes", "gbt21010_2017", "--layer", "landuse_3",
                           "--builtup-field", "CZCSXM")
    assert code == 2 and "'builtup' exists already" in " ".join(output.split()), output


def test_a_failing_builtup_step_imports_nothing(make_project, tmp_path: Path) -> None:
    source = tmp_path / "sandiao.gpkg"
    pyogrio.write_dataframe(_sandiao_parcels(), source, layer="DLTB")
    root = make_project({}, [])
    catalog = root / "layers" / "catalog.yaml"
    before = catalog.read_text(encoding="utf-8")
    code, output = _invoke("import", "landuse", source, "--project", root, "--classes", "gbt21010_2017", "--builtup-field", "CZCSXM",
                           "--builtup-codes", "209")
    assert code == 1 and output.strip().count("\n") == 0
    assert "no parcel with code 209" in output and "--builtup-codes" in output, output
    assert catalog.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in (root / "layers" / "data").iterdir()) == ["test.gpkg"]


# --- land cover -----------------------------------------------------------------------------------


def test_landcover_raster_is_copied_with_its_legend(reference_project: Path, tmp_path: Path) -> None:
    raster = tmp_path / "clcd_2022.tif"
    write_raster(raster, np.array([[1, 8], [5, 42]], dtype="uint8"), cell=30.0, nodata=0)
    code, output = _invoke("import", "landcover", raster, "--project", reference_project, "--classes", "clcd", "--layer", "clcd")
    assert code == 0, output
    assert "42" in output, "a code the legend lacks is named"
    entry = read_catalog(reference_project / "layers" / "catalog.yaml").layers["clcd"]
    assert entry.file == "data/clcd.tif" and (reference_project / "layers" / "data" / "clcd.tif").exists()
    by_code = {c.code: c for c in entry.classes}
    assert by_code[1].permeable and not by_code[8].permeable and by_code[5].excluded
    assert entry.provenance.licence == "CC-BY-4.0"
    text = (reference_project / "layers" / "catalog.yaml").read_text(encoding="utf-8")
    assert "- {code: 8, name: 不透水面 impervious}   # roofs and paving" in text


# --- OpenStreetMap --------------------------------------------------------------------------------


def _square(first_id: int, lon: float, lat: float, side: float) -> list[Node]:
    corners = [(lon, lat), (lon + side, lat), (lon + side, lat + side), (lon, lat + side)]
    return [Node(id=first_id + i, location=corner) for i, corner in enumerate(corners)]


def _write_pbf(path: Path) -> None:
    """A hand-made extract: one of each kind of feature the importer reads, and things it leaves alone."""
    nodes = [
        Node(id=1, location=(111.20, 34.77), tags={"amenity": "charging_station", "name": "东站", "socket:gb_dc": "4", "socket:gb_ac": "6"}),
        Node(id=2, location=(111.21, 34.77), tags={"amenity": "charging_station", "capacity": "12", "socket:gb_dc": "2"}),
        Node(id=3, location=(111.22, 34.77), tags={"man_made": "wastewater_plant", "name": "污水厂"}),
        Node(id=4, location=(111.23, 34.77), tags={"amenity": "cafe"}),
        *_square(10, 111.200, 34.780, 0.001),  # parking area
        *_square(20, 111.210, 34.780, 0.0002),  # building
        *_square(30, 111.220, 34.780, 0.002),  # landuse
        Node(id=40, location=(111.20, 34.79)), Node(id=41, location=(111.21, 34.79)), Node(id=42, location=(111.22, 34.79)),
    ]
    ways = [
        Way(id=100, nodes=[10, 11, 12, 13, 10], tags={"amenity": "parking", "capacity": "80", "capacity:charging": "8", "parking": "surface"}),
        Way(id=101, nodes=[20, 21, 22, 23, 20], tags={"building": "yes", "building:levels": "5"}),
        Way(id=102, nodes=[30, 31, 32, 33, 30], tags={"landuse": "residential"}),
        Way(id=103, nodes=[40, 41], tags={"highway": "primary", "name": "崤山路", "ref": "G209"}),
        Way(id=104, nodes=[41, 42], tags={"waterway": "river", "name": "青龙涧河"}),
        Way(id=105, nodes=[40, 42], tags={"waterway": "ditch"}),
        Way(id=106, nodes=[40, 999], tags={"highway": "residential"}),  # a node cut off by the extract
    ]
    with osmium.SimpleWriter(str(path)) as writer:
        for node in nodes:
            writer.add_node(node)
        for way in ways:
            writer.add_way(way)


def test_osm_extract_to_layers(reference_project: Path, tmp_path: Path) -> None:
    pbf = tmp_path / "city.osm.pbf"
    _write_pbf(pbf)
    code, output = _invoke("import", "osm", pbf, "--project", reference_project, "--prefix", "osm_")
    assert code == 0, output
    catalog = read_catalog(reference_project / "layers" / "catalog.yaml")
    data = reference_project / "layers" / "data"
    stations = gpd.read_file(data / "osm_charging_stations.gpkg").set_index("id")
    assert stations.loc["n1", "ports"] == 10 and stations.loc["n1", "fast_ports"] == 4  # sockets: 4 DC + 6 AC
    assert stations.loc["n2", "ports"] == 12 and stations.loc["n2", "fast_ports"] == 2  # capacity wins over sockets
    lots = gpd.read_file(data / "osm_parking_lots.gpkg")
    assert list(lots["id"]) == ["w100"] and lots.loc[0, "spaces"] == 80 and lots.loc[0, "charger_spaces"] == 8
    assert lots.geometry.iloc[0].geom_type == "Point"
    assert lots.geometry.iloc[0].x == pytest.approx(111.2005) and lots.geometry.iloc[0].y == pytest.approx(34.7805)
    assert list(gpd.read_file(data / "osm_sewage_plants.gpkg")["name"]) == ["污水厂"]
    roads = gpd.read_file(data / "osm_roads.gpkg")
    assert list(roads["id"]) == ["w103"] and roads.loc[0, "ref"] == "G209"
    assert list(gpd.read_file(data / "osm_waterways.gpkg")["waterway"]) == ["river"]
    buildings = gpd.read_file(data / "osm_buildings.gpkg")
    assert list(buildings["id"]) == ["w101"] and buildings.loc[0, "levels"] == 5 and "Polygon" in buildings.geometry.iloc[0].geom_type
    assert list(gpd.read_file(data / "osm_landuse.gpkg")["landuse"]) == ["residential"]
    entry = catalog.layers["osm_roads"]
    assert entry.geometry == "LineString" and entry.provenance.licence == "ODbL-1.0" and "OpenStreetMap contributors" in entry.provenance.citation
    assert "1 ways or areas" in output


def test_osm_only_some_layers_and_no_clobbering(reference_project: Path, tmp_path: Path) -> None:
    pbf = tmp_path / "city.osm.pbf"
    _write_pbf(pbf)
    code, output = _invoke("import", "osm", pbf, "--project", reference_project, "--only", "waterways,charging_stations")
    assert code == 2 and "'charging_stations' exists already" in output and "--prefix" in output
    code, output = _invoke("import", "osm", pbf, "--project", reference_project, "--only", "waterways,buildings")
    assert code == 0, output
    layers = yaml.safe_load((reference_project / "layers" / "catalog.yaml").read_text(encoding="utf-8"))["layers"]
    assert "waterways" in layers and "buildings" in layers and "landuse" not in layers
