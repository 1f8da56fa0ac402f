"""The prefecture level in the layers for the planning GIS: planning.gpkg, its QGIS project and the exports.

A tiny province: counties A and B (1 km squares) in prefecture P1, county D in P2 (answers worked out by hand).
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from gpkg_validator import gpkg_validator
from shapely.geometry import Point
from tinyproject import PREFECTURE_COUNTIES as COUNTIES
from tinyproject import PREFECTURE_LEVELS as LEVELS
from tinyproject import PREFECTURE_ZONES as ZONES
from tinyproject import PREFECTURES, X0, Y0, target

from gis import load_project
from gis.engines.local import run_project
from gis.outputs.exchange import layer_title_zh
from gis.outputs.filegdb import export_filegdb
from gis.outputs.folder import RunOutputs, read_run
from gis.outputs.qgis_project import read_qgis_project
from gis.outputs.shapefile import export_shapefiles
from gis.outputs.write import write_outputs

SHARE, TOTAL = "charging.parking_share", "heating.coal_exit"


def _layers() -> dict:
    # Parking: A 10 of 100 spaces, B 40 of 100, D 60 of 200 -> P1 50 / 200 = 0.25 (met at 0.25; A alone is short), P2 0.30.
    lots = gpd.GeoDataFrame(
        {"id": ["L1", "L2", "L3"], "name": ["a", "b", "d"], "spaces": [100, 100, 200], "charger_spaces": [10, 40, 60]},
        geometry=[Point(X0 + 500, Y0 + 500), Point(X0 + 1500, Y0 + 500), Point(X0 + 2500, Y0 + 500)],
        crs="EPSG:4546",
    )
    # Boilers by county (no target: coloured by value): A 3, B 4, D 5 -> P1 7, P2 5.
    boilers = pd.DataFrame({"id": ["T1", "T2", "T3"], "county_id": ["A", "B", "D"], "boilers": [3, 4, 5]})
    return {"counties": COUNTIES, "prefectures": PREFECTURES, "lots": lots, "boilers": boilers}


def _specs(levels: list[str]) -> list[dict]:
    return [
        {"id": SHARE, "title": {"zh": "停车比例", "en": "Parking share"}, "method": "ratio", "inputs": {"features": "lots"},
         "zone_types": levels,
         "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
         "target": target(value=0.25, zone_types=levels), "shortfall": {"unit": "spaces", "factor": 1, "rounding": "ceil"}},
        {"id": TOTAL, "title": {"zh": "燃煤锅炉", "en": "Coal boilers"}, "theme": "heating", "method": "total",
         "inputs": {"features": "boilers"}, "unit": "boilers", "zone_types": levels,
         "parameters": {"field": "boilers", "zone_field": "county_id"}},
    ]


def _run(make_project, tmp_path: Path, *, zones: dict | None = ZONES) -> RunOutputs:
    levels = LEVELS if zones else ["city", "county"]
    root = make_project(_layers(), _specs(levels), zones=zones)
    out = tmp_path / "out"
    write_outputs(run_project(load_project(root)), out, pdf=False)
    return read_run(out)


@pytest.fixture
def province(make_project, tmp_path: Path) -> RunOutputs:
    """The tiny province run, its outputs written as ``gis run --no-pdf`` writes them."""
    return _run(make_project, tmp_path)


def _contents(gpkg: Path) -> dict[str, str]:
    with closing(sqlite3.connect(gpkg)) as connection:
        return dict(connection.execute("SELECT table_name, description FROM gpkg_contents ORDER BY rowid").fetchall())


def test_planning_gpkg_holds_each_indicator_by_prefecture_and_the_prefecture_outlines(province):
    gpkg = province.geopackage
    layer = pyogrio.read_dataframe(gpkg, layer=f"{SHARE}.prefecture")
    assert layer["feature_id"].tolist() == [f"{SHARE}:prefecture:P1", f"{SHARE}:prefecture:P2"]  # the layer's order
    assert layer["zone_name"].tolist() == ["一市", "二市"]
    assert layer["value"].tolist() == pytest.approx([0.25, 0.30])
    assert layer["status"].tolist() == ["met", "met"]
    assert (layer["numerator"].tolist(), layer["denominator"].tolist()) == ([50, 60], [200, 200])
    assert pyogrio.read_dataframe(gpkg, layer=f"{TOTAL}.prefecture")["value"].tolist() == [7, 5]

    outlines = pyogrio.read_dataframe(gpkg, layer="prefectures")
    assert outlines["zone_id"].tolist() == ["P1", "P2"] and set(outlines["zone_type"]) == {"prefecture"}
    assert outlines.to_crs("EPSG:4546").area.round(-3).tolist() == [2_000_000, 1_000_000]  # 2 km x 1 km and 1 km x 1 km

    contents = _contents(gpkg)
    names = list(contents)
    assert names.index("counties") < names.index("prefectures") < names.index("city")  # between the counties and the city
    assert contents[f"{SHARE}.prefecture"].startswith("停车比例（地级市）/ Parking share, by prefecture (plan clause 二(四))")
    assert contents["prefectures"].startswith("地级市界线 / prefecture outlines")
    assert contents["city"].startswith("测试市：省域范围 / the province's outline")  # above prefectures the top zone is a province
    with closing(sqlite3.connect(gpkg)) as connection:
        described = {t for (t,) in connection.execute("SELECT table_name FROM gpkg_metadata_reference")}
        styled = {t for (t,) in connection.execute("SELECT f_table_name FROM layer_styles")}
        dictionary = {t for (t,) in connection.execute("SELECT DISTINCT layer FROM data_dictionary")}
    for table in (f"{SHARE}.prefecture", f"{TOTAL}.prefecture", "prefectures"):
        assert table in described and table in styled and table in dictionary, table


def test_read_layer_gives_an_indicator_level_by_level(province):
    rows = province.read_layer(SHARE)
    assert rows["zone_type"].tolist() == ["city", "prefecture", "prefecture", "county", "county", "county"]
    assert rows["zone_id"].tolist() == ["C", "P1", "P2", "A", "B", "D"]


def _breaks(qml: str) -> list[float]:
    """The class breaks of a QML rule renderer on ``value``."""
    rules = ET.fromstring(qml.split("\n", 1)[1]).iter("rule")
    return sorted({float(x) for rule in rules for x in re.findall(r'"value" [<>]=? ([0-9.eE+-]+)', rule.get("filter", ""))})


def _class_of(value: float, breaks: list[float]) -> int:
    return sum(value >= b for b in breaks)


def test_prefectures_are_classed_on_their_own_values(province):
    # Counties 3, 4, 5 and prefectures 7, 5: on the counties' breaks (all below 5) both prefectures would fall into the
    # top class; on their own, P2 (5) is in the lowest and P1 (7) in the highest.
    with closing(sqlite3.connect(province.geopackage)) as connection:
        qml = dict(connection.execute("SELECT f_table_name, styleQML FROM layer_styles"))
    counties, prefectures = _breaks(qml[f"{TOTAL}.county"]), _breaks(qml[f"{TOTAL}.prefecture"])
    assert counties and prefectures
    assert all(3 < b < 5 for b in counties) and all(5 < b < 7 for b in prefectures)
    assert {_class_of(7, counties), _class_of(5, counties)} == {len(counties)}
    assert (_class_of(5, prefectures), _class_of(7, prefectures)) == (0, len(prefectures))
    # judged against a target: the same categories by status as the counties'
    assert 'attr="status"' in qml[f"{SHARE}.prefecture"] and 'attr="status"' in qml[f"{SHARE}.county"]


def test_the_qgis_project_shows_the_prefectures_between_the_city_and_the_counties(province):
    tree = ET.fromstring(read_qgis_project(province.geopackage, "planning"))
    maps = {m.findtext("datasource").split("layername=")[1]: m for m in tree.iter("maplayer")}
    root = tree.find("layer-tree-group")
    top = [node.get("name") for node in root if node.tag == "layer-tree-layer"]
    assert top[:3] == ["县区界线", "地级市界线", "测试市 省域"]

    group = next(g for g in root.iter("layer-tree-group") if g.get("name") == "停车比例")
    sources = [node.get("source").split("layername=")[1] for node in group.findall("layer-tree-layer")]
    assert sources == [f"{SHARE}.gaps", f"{SHARE}.prefecture", f"{SHARE}.county"]  # A's lots are the gap
    checked = {node.get("source").split("layername=")[1]: node.get("checked") for node in root.iter("layer-tree-layer")}
    assert checked[f"{SHARE}.county"] == "Qt::Checked"  # the first indicator is on at the start...
    assert checked[f"{SHARE}.prefecture"] == "Qt::Unchecked"  # ...one level of fills at a time: its prefectures a tick away
    assert checked["prefectures"] == checked["counties"] == "Qt::Checked"

    prefecture, county = maps[f"{SHARE}.prefecture"], maps[f"{SHARE}.county"]
    assert prefecture.findtext("layername") == "停车比例 · 地级市"
    assert prefecture.find("renderer-v2").get("type") == county.find("renderer-v2").get("type") == "categorizedSymbol"
    assert prefecture.findtext("previewExpression") == '"zone_name"'  # identify names the prefecture
    outline = maps["prefectures"]
    style = outline.find(".//text-style")
    assert (style.get("fieldName"), style.get("fontSize"), style.get("fontWeight")) == ("zone_name", "11", "75")
    assert maps["counties"].find(".//text-style").get("fontSize") == "9"
    assert [r.get("name") for r in tree.iter("relation")] == ["全省各指标"]


def test_gdal_validates_the_geopackage_with_prefectures(province):
    command = gpkg_validator()
    if command is None:
        pytest.skip("GDAL's validate_gpkg.py needs Debian's python3-gdal")
    checked = subprocess.run([*command, "--extra", str(province.geopackage)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_exports_carry_the_prefecture_level(province, tmp_path):
    zipped = tmp_path / "plan.zip"
    export_shapefiles(province, zipped)
    names = set(zipfile.ZipFile(zipped).namelist())
    assert {"charging_parking_share_prefecture.shp", "prefectures.shp", "prefectures.dbf"} <= names
    shapes = gpd.read_file(f"/vsizip/{zipped}/charging_parking_share_prefecture.shp")
    assert shapes["zone_name"].tolist() == ["一市", "二市"]

    gdb = tmp_path / "plan.gdb"
    export_filegdb(province, gdb)
    info = pyogrio.read_info(gdb, layer="charging_parking_share_prefecture")
    assert info["features"] == 2 and info["layer_metadata"]["ALIAS_NAME"].startswith("停车比例（地级市）")
    assert pyogrio.read_info(gdb, layer="prefectures")["layer_metadata"]["ALIAS_NAME"] == "地级市界线"


def test_a_layer_without_a_chinese_description_is_titled_by_its_level():
    titles = {"demo.share": "示范比例"}
    assert layer_title_zh("demo.share.prefecture", "", titles) == "示范比例（地级市）"
    assert layer_title_zh("demo.share.county", "", titles) == "示范比例（县区）"
    assert layer_title_zh("prefectures", "", titles) == "地级市界线"


def test_a_project_without_the_level_has_no_prefecture_layers(make_project, tmp_path):
    run = _run(make_project, tmp_path, zones=None)
    contents = _contents(run.geopackage)
    assert not [t for t in contents if "prefecture" in t]
    assert contents["city"].startswith("测试市：市域范围 / the city's outline")
    tree = ET.fromstring(read_qgis_project(run.geopackage, "planning"))
    top = [node.get("name") for node in tree.find("layer-tree-group") if node.tag == "layer-tree-layer"]
    assert top[:2] == ["县区界线", "测试市 市域"] and "地级市界线" not in top
    assert run.read_layer(SHARE)["zone_type"].tolist() == ["city", "county", "county", "county"]
