"""A city that is not Sanmenxia, with partial data, from `gis init` to the map, as the README walks it.

Three hand-drawn counties, charging stations exported from Amap (GCJ-02, GBK, Chinese columns),
三调 land-use parcels with their 城镇村属性码 and a small OpenStreetMap extract: no spec is
edited, and the outputs say what could be assessed and what not, and why.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import osmium
import pandas as pd
import pytest
from click.testing import CliRunner
from osmium.osm.mutable import Node, Way
from pyproj import Transformer
from shapely.geometry import box

from gis.cli import main
from gis.project.coords import wgs84_to_gcj02

METRIC = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E: the zone gis init should choose
TO_METRIC = Transformer.from_crs("EPSG:4490", METRIC, always_xy=True)
TO_LONLAT = Transformer.from_crs(METRIC, "EPSG:4490", always_xy=True)
X0, Y0 = (round(v, -3) for v in TO_METRIC.transform(113.6, 34.7))
FORBIDDEN = ("Sanmenxia", "三门峡", "\\u4e09\\u95e8\\u5ce1")


def _lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(x, y)
    return float(lon), float(lat)


def _counties(path: Path) -> None:
    """Three 4 km x 4 km counties side by side, drawn in metres (the file's CRS is the zone's)."""
    frame = gpd.GeoDataFrame(
        {"代码": ["410101", "410102", "410103"], "名称": ["甲区", "乙县", "丙县"]},
        geometry=[box(X0 + 4000 * i, Y0, X0 + 4000 * (i + 1), Y0 + 4000) for i in range(3)],
        crs=METRIC,
    )
    frame.to_file(path, layer="县界", driver="GPKG", engine="pyogrio")


def _stations(path: Path) -> None:
    """Two stations in county A and one in C, as Amap exports them: GCJ-02, GBK, Chinese headers."""
    points = [_lonlat(X0 + 1000, Y0 + 1000), _lonlat(X0 + 2500, Y0 + 3000), _lonlat(X0 + 9000, Y0 + 2000)]
    gx, gy = wgs84_to_gcj02(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    rows = "".join(f"CS{i + 1},充电站{i + 1},{gx[i]:.8f},{gy[i]:.8f},{8 + i},{2 + i}\n" for i in range(3))
    path.write_bytes(("编号,名称,经度,纬度,充电桩数,快充桩数\n" + rows).encode("gbk"))


def _landuse(path: Path) -> None:
    """三调 parcels: in county A a town (201) of 1 km2 housing, 0.5 km2 park and 0.2 km2 river; a village field in B."""
    parcels = [
        ("0701", "城镇住宅用地", "201", box(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 2000)),
        ("0810", "公园与绿地", "201", box(X0 + 2000, Y0 + 1000, X0 + 2500, Y0 + 2000)),
        ("1101", "河流水面", "201", box(X0 + 2500, Y0 + 1000, X0 + 2700, Y0 + 2000)),
        ("0103", "旱地", "203", box(X0 + 5000, Y0 + 1000, X0 + 6000, Y0 + 2000)),
    ]
    frame = gpd.GeoDataFrame(
        {"BSM": [f"T{i}" for i in range(len(parcels))], "DLBM": [p[0] for p in parcels], "DLMC": [p[1] for p in parcels],
         "CZCSXM": [p[2] for p in parcels]},
        geometry=[p[3] for p in parcels], crs=METRIC,
    )
    frame.to_file(path, layer="DLTB", driver="GPKG", engine="pyogrio")


def _osm(path: Path) -> None:
    """Two public car parks in county A (100 spaces, 10 with chargers; 60 spaces, 30 with chargers) and a street."""
    nodes = [
        Node(id=1, location=_lonlat(X0 + 1500, Y0 + 1500), tags={"amenity": "parking", "name": "北停车场", "capacity": "100",
                                                             "capacity:charging": "10"}),
        Node(id=2, location=_lonlat(X0 + 3000, Y0 + 500), tags={"amenity": "parking", "name": "南停车场", "capacity": "60",
                                                            "capacity:charging": "30"}),
        Node(id=10, location=_lonlat(X0 + 500, Y0 + 1200)), Node(id=11, location=_lonlat(X0 + 3500, Y0 + 1200)),
    ]
    ways = [Way(id=100, nodes=[10, 11], tags={"highway": "primary", "name": "人民路"})]
    with osmium.SimpleWriter(str(path)) as writer:
        for node in nodes:
            writer.add_node(node)
        for way in ways:
            writer.add_way(way)


def _gis(*args: object) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def own_city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The README's walkthrough, run: the project folder and its outputs."""
    inputs = tmp_path_factory.mktemp("inputs")
    _counties(inputs / "counties.gpkg")
    _stations(inputs / "充电站.csv")
    _landuse(inputs / "DLTB.gpkg")
    _osm(inputs / "city.osm.pbf")
    city = tmp_path_factory.mktemp("own") / "mycity"
    said = _gis("init", city, "--name", "Mycity", "--name-zh", "某市", "--counties", inputs / "counties.gpkg")
    assert "EPSG:4547" in said
    _gis("import", "poi", inputs / "充电站.csv", "--project", city, "--layer", "charging_stations", "--coords", "gcj02")
    _gis("import", "landuse", inputs / "DLTB.gpkg", "--project", city, "--classes", "gbt21010_2017", "--builtup-field", "CZCSXM")
    _gis("import", "osm", inputs / "city.osm.pbf", "--project", city, "--only", "parking_lots,roads")
    _gis("check", "--project", city)
    out = city / "out"
    _gis("run", "--project", city, "--out", out)
    return city, out


def _rows(out: Path) -> pd.DataFrame:
    table = pd.read_csv(out / "indicators.csv", dtype={"zone_id": str})
    return table[table["year"] == table["year"].max()].set_index(["indicator", "zone_id"])


def test_what_the_data_allow_is_assessed_with_hand_checked_numbers(own_city):
    _, out = own_city
    rows = _rows(out)
    # Parking: (10 + 30) chargers of (100 + 60) spaces = 0.25, both lots in 甲区; the city is the sum of its counties.
    # A city target (全市): the city is judged, the county reported.
    assert rows.loc[("charging.parking_share", "410101"), "value"] == pytest.approx(40 / 160)
    assert rows.loc[("charging.parking_share", "410101"), "status"] == "no_target"
    parking = rows.xs("charging.parking_share", level="indicator")
    assert parking[parking["zone_type"] == "city"]["status"].iloc[0] == "met"
    # Permeable ground from the parcels: inside the town (201 parcels: 1.7 km2), 0.5 km2 park of 1.5 km2 land
    # (the 0.2 km2 river left out) = 1/3 < 40 %: 0.4 * 1.5 - 0.5 = 0.1 km2 to make permeable.
    share = rows.loc[("permeable.share_landuse", "410101")]
    assert share["value"] == pytest.approx(1 / 3) and share["status"] == "no_target"
    city = rows.xs("permeable.share_landuse", level="indicator")
    city = city[city["zone_type"] == "city"].iloc[0]
    assert city["value"] == pytest.approx(1 / 3)
    assert city["status"] == "gap" and city["shortfall"] == pytest.approx(0.1)


def test_what_the_data_do_not_allow_is_listed_with_the_reason(own_city):
    _, out = own_city
    rows = _rows(out)
    coverage = rows.xs("charging.coverage", level="indicator")
    assert (coverage["status"] == "not_assessed").all()
    assert coverage["status_note"].str.contains("no layer 'population'").all()
    assessed = sorted(rows[rows["status"] != "not_assessed"].index.get_level_values("indicator").unique())
    assert assessed == ["charging.parking_share", "permeable.share_landuse"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "charging.coverage" in report and "population" in report
    book = openpyxl.load_workbook(out / "gaps.xlsx")
    summary = " ".join(str(c.value) for row in book.worksheets[0].iter_rows() for c in row if c.value)
    assert "not assessed" in summary or "未评估" in summary


def test_the_outputs_name_the_city_and_never_another(own_city):
    _, out = own_city
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                text = "".join(book.read(n).decode("utf-8", "ignore") for n in book.namelist())
        else:
            text = path.read_bytes().decode("utf-8", "ignore")
        assert not [word for word in FORBIDDEN if word in text], path
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["project"]["name"] == "Mycity"
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Mycity" in page


def test_the_imported_layers_are_where_they_were_drawn(own_city):
    city, _ = own_city
    stations = gpd.read_file(city / "layers" / "data" / "charging_stations.gpkg").to_crs(METRIC)
    # GCJ-02 converted back: each station within half a metre of where it was placed.
    expected = [(X0 + 1000, Y0 + 1000), (X0 + 2500, Y0 + 3000), (X0 + 9000, Y0 + 2000)]
    for point, (x, y) in zip(stations.geometry, expected, strict=True):
        assert point.distance(gpd.points_from_xy([x], [y])[0]) < 0.5
    builtup = gpd.read_file(city / "layers" / "data" / "builtup.gpkg").to_crs(METRIC)
    assert builtup.geometry.area.sum() == pytest.approx(1_700_000, rel=1e-6)
