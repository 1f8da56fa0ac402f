"""The QGIS project stored in the GeoPackage, read back from its ``qgis_projects`` table and parsed."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from gpkg_validator import gpkg_validator
from shapely.geometry import Point, box

from gis.errors import DataError
from gis.outputs.qgis_project import ProjectLayer, ProjectRelation, project_uri, read_qgis_project, write_qgis_project
from gis.outputs.qgis_styles import ZoneSymbols, gaps_qml, zones_qml
from gis.outputs.symbology import STATUSES, ZoneClasses
from gis.project.catalog import SYNTHETIC_NOTE

CRS = "EPSG:4490"
TRICKY = '陕州区 "东" & <西>'
THEME = "交通 & <能源>"
CHARGING = '充电 "覆盖"'


def _counties(values: list[float | None], statuses: list[str | None]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"feature_id": ["x:county:A", "x:county:B"], "zone_type": "county", "zone_id": ["A", "B"],
         "zone_name": ["湖滨区", TRICKY], "value": values, "status": statuses, "synthetic": [True, True]},
        geometry=[box(111.0, 34.0, 111.2, 34.1), box(111.2, 34.0, 111.4, 34.2)], crs=CRS,
    )


def _write(path: Path, frame: pd.DataFrame, layer: str) -> None:
    spatial = isinstance(frame, gpd.GeoDataFrame)
    options = {"dataset_options": {"VERSION": "1.2"}} if not path.exists() else {}  # as planning.gpkg: no R-tree, version 1.2
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", promote_to_multi=spatial,
                            layer_options={"SPATIAL_INDEX": "NO"} if spatial else {}, **options)


@pytest.fixture
def gpkg(tmp_path: Path) -> Path:
    """Two zone layers, a gap layer, the city polygon and the city's indicator table."""
    path = tmp_path / "城市 plan" / "small.gpkg"
    path.parent.mkdir()
    _write(path, _counties([0.3, None], ["gap", None]), "permeable.share.county")
    _write(path, _counties([0.5, 0.9], ["no_target", "no_target"]), "charging.coverage.county")
    gaps = gpd.GeoDataFrame({"feature_id": ["g1", "g2"], "name": ["站 1", "站 2"]},
                            geometry=[Point(111.1, 34.05), Point(111.5, 34.3)], crs=CRS)
    _write(path, gaps, "charging.coverage.gaps")
    city = gpd.GeoDataFrame({"zone_type": ["city"], "zone_id": ["C"], "zone_name": ["测试市"]},
                            geometry=[box(111.0, 34.0, 111.4, 34.2)], crs=CRS)
    _write(path, city, "city")
    rows = pd.DataFrame({"zone_id": ["C", "C"], "indicator": ["permeable.share", "charging.coverage"], "value": [0.3, 0.7]})
    _write(path, rows, "city_indicators")
    return path


def _status_qml() -> str:
    colours = {status: f"#{i + 1}{i + 1}0000" for i, status in enumerate(STATUSES)}
    symbols = ZoneSymbols(classes=ZoneClasses(False, colours, [], [], "#cccccc"), status_labels={s: s for s in STATUSES},
                          class_labels=[], opacity=0.6, outline="#404040")
    return zones_qml(symbols)


def _value_qml() -> str:
    symbols = ZoneSymbols(classes=ZoneClasses(True, {}, [0.6], ["#eeeeee", "#0000ff"], "#cccccc"),
                          status_labels={"no_data": "no data"}, class_labels=["< 60 %", "≥ 60 %"], opacity=0.6, outline="#404040")
    return zones_qml(symbols)


ALIASES = {"zone_name": "区县名称", "value": "数值", "synthetic": "合成数据"}
FIELDS = (("feature_id", "text"), ("zone_type", "text"), ("zone_id", "text"), ("zone_name", "text"),
          ("value", "real"), ("status", "text"), ("synthetic", "boolean"))


def _layers() -> list[ProjectLayer]:
    """Top to bottom: the city outline, charging's gaps above its counties (the one indicator shown), permeable
    counties, the city's indicator table."""
    note = f" — {SYNTHETIC_NOTE}"
    return [
        ProjectLayer("city", "城市边界", "City outline", (), "polygon", gaps_qml("polygon", "#000000", opacity=0.0), True, None, {}),
        ProjectLayer("charging.coverage.gaps", "缺口 · 充电站", f"Gap features of charging.coverage{note}", (THEME, CHARGING),
                     "point", gaps_qml("point", "#d73027", opacity=0.9), True, None, {"name": "名称"}),
        ProjectLayer("charging.coverage.county", f"{CHARGING} · 县区", f"Charging coverage & <more>, by county{note}",
                     (THEME, CHARGING), "polygon", _value_qml(), True, "zone_name", ALIASES, FIELDS),
        ProjectLayer("permeable.share.county", "透水面积比例 · 县区", f"Permeable share, by county{note}", ("生态", "透水面积比例"),
                     "polygon", _status_qml(), False, "zone_name", ALIASES, FIELDS),
        ProjectLayer("city_indicators", "全市指标", "Every indicator's city row", (), None, None, False, None,
                     {"indicator": "指标", "value": "数值"}, display_field="indicator"),
    ]


RELATION = ProjectRelation("city_indicators", "全市指标", "city_indicators", "city", "zone_id", "zone_id")
CREATED = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)


def _write_project(gpkg: Path, layers: list[ProjectLayer] | None = None, relations: tuple = (RELATION,)) -> ET.Element:
    write_qgis_project(gpkg, project_name="planning", title="测试市 planning", abstract=f"Plan indicators — {SYNTHETIC_NOTE}",
                       crs=CRS, layers=_layers() if layers is None else layers, relations=list(relations), created=CREATED)
    text = read_qgis_project(gpkg, "planning")
    assert text.startswith("<!DOCTYPE qgis")
    return ET.fromstring(text.split("\n", 1)[1])


def _tree(group: ET.Element) -> list:
    """The layer tree as nested lists: (group name, expanded, [children]) and (layer name, checked)."""
    items: list = []
    for child in group:
        if child.tag == "layer-tree-group":
            items.append((child.get("name"), child.get("expanded"), _tree(child)))
        elif child.tag == "layer-tree-layer":
            items.append((child.get("name"), child.get("checked")))
    return items


def test_the_table_is_qgis_own(gpkg):
    _write_project(gpkg)
    with sqlite3.connect(gpkg) as connection:
        schema = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'qgis_projects'").fetchone()[0]
        name, metadata, content = connection.execute("SELECT name, metadata, content FROM qgis_projects").fetchone()
        listed = connection.execute("SELECT count(*) FROM gpkg_contents WHERE table_name = 'qgis_projects'").fetchone()[0]
    connection.close()
    assert "name TEXT PRIMARY KEY, metadata BLOB, content BLOB" in schema
    assert name == "planning" and listed == 0  # QGIS does not list it as a layer either
    assert json.loads(metadata) == {"last_modified_time": "2024-05-01T08:30:00", "last_modified_user": "gis"}
    assert isinstance(content, str) and bytes.fromhex(content)[:4] == b"PK\x03\x04"  # a zip, written as hex text


def test_groups_layers_and_sources(gpkg):
    project = _write_project(gpkg)
    tree = _tree(project.find("layer-tree-group"))
    assert tree == [
        ("城市边界", "Qt::Checked"),
        (THEME, "1", [(CHARGING, "1", [("缺口 · 充电站", "Qt::Checked"), (f"{CHARGING} · 县区", "Qt::Checked")])]),
        ("生态", "0", [("透水面积比例", "0", [("透水面积比例 · 县区", "Qt::Unchecked")])]),
        ("全市指标", "Qt::Unchecked"),
    ]
    sources = {layer.findtext("layername"): layer.findtext("datasource") for layer in project.iter("maplayer")}
    assert sources["透水面积比例 · 县区"] == "./small.gpkg|layername=permeable.share.county"
    tables = {source.split("|layername=")[1] for source in sources.values()}
    assert tables == {name for name, _ in pyogrio.list_layers(gpkg)}  # every layer of the same file, and only those
    providers = {layer.find("provider").text: layer.find("provider").get("encoding") for layer in project.iter("maplayer")}
    assert providers == {"ogr": "UTF-8"}
    assert project.find("properties/Paths/Absolute").text == "false"  # resolved against the GeoPackage's folder


def test_one_indicator_shown_with_county_labels_and_aliases(gpkg):
    project = _write_project(gpkg)
    shown = {g.get("name") for g in project.iter("layer-tree-group")
             if any(child.get("checked") == "Qt::Checked" for child in g.findall("layer-tree-layer"))}
    assert shown == {CHARGING, None}  # the charging indicator, and the city outline at the top level (no name)
    layers = {layer.findtext("layername"): layer for layer in project.iter("maplayer")}
    county = layers[f"{CHARGING} · 县区"]
    assert county.get("labelsEnabled") == "1" and county.get("geometry") == "Polygon"
    assert county.find("labeling/settings/text-style").get("fieldName") == "zone_name"
    assert county.find("labeling/settings/text-style/text-buffer").get("bufferDraw") == "1"
    assert county.find("labeling/settings/placement").get("placement") == "1"  # over the centroid, inside the polygon
    assert layers["缺口 · 充电站"].get("labelsEnabled") == "0"
    aliases = {a.get("field"): a.get("name") for a in county.iter("alias")}
    assert aliases == {"feature_id": "", "zone_type": "", "zone_id": "", "zone_name": "区县名称", "value": "数值",
                       "status": "", "synthetic": "合成数据"}
    widgets = {f.get("name"): f.find("editWidget").get("type") for f in county.iter("field")}
    assert widgets["synthetic"] == "CheckBox" and widgets["value"] == ""
    renderer = county.find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer"
    assert [r.get("filter") for r in renderer.iter("rule")] == ['"value" < 0.59999999999999998', '"value" >= 0.59999999999999998',
                                                                '"value" IS NULL']
    assert layers["透水面积比例 · 县区"].find("renderer-v2").get("attr") == "status"
    table = layers["全市指标"]
    assert table.get("geometry") == "No geometry" and table.find("renderer-v2") is None
    assert table.findtext("previewExpression") == '"indicator"'


def test_relation_metadata_and_view(gpkg):
    project = _write_project(gpkg)
    ids = {layer.findtext("layername"): layer.findtext("id") for layer in project.iter("maplayer")}
    relation = project.find("relations/relation")
    assert relation.get("referencedLayer") == ids["城市边界"] and relation.get("referencingLayer") == ids["全市指标"]
    assert relation.find("fieldRef").attrib == {"referencingField": "zone_id", "referencedField": "zone_id"}
    metadata = project.find("projectMetadata")
    assert metadata.findtext("title") == "测试市 planning" and metadata.findtext("author") == "gis"
    assert SYNTHETIC_NOTE in metadata.findtext("abstract")
    assert metadata.findtext("creation") == "2024-05-01T08:30:00"
    assert project.find("projectCrs/spatialrefsys/authid").text == "EPSG:4490"
    assert project.find("projectCrs/spatialrefsys/wkt").text.startswith('GEOGCRS["China Geodetic Coordinate System 2000"')
    # the view: the visible layers (outline 111.0-111.4 x 34.0-34.2, counties, gap points up to 111.5, 34.3),
    # with 5 % of 0.5 x 0.3 degrees as margin
    view = project.find("ProjectViewSettings/DefaultViewExtent")
    assert [float(view.get(k)) for k in ("xmin", "ymin", "xmax", "ymax")] == pytest.approx([110.975, 33.985, 111.525, 34.315])


def test_names_survive_escaping(gpkg):
    layers = _layers()
    layers[1] = ProjectLayer(layers[1].table, 'a "b" & <c>\x07', "abstract & <x>", (THEME, CHARGING), "point",
                             layers[1].qml, True, 'na"me', {"name": "名 & <称>"})
    project = _write_project(gpkg, layers)
    layer = next(m for m in project.iter("maplayer") if m.findtext("datasource").endswith("gaps"))
    assert layer.findtext("layername") == 'a "b" & <c>'  # the bell character, not allowed in XML, is dropped
    assert layer.find("labeling/settings/text-style").get("fieldName") == 'na"me'
    assert layer.find("labeling/settings/placement").get("placement") == "0"  # beside the point
    assert layer.findtext("previewExpression") == '"na""me"'  # an expression: quotes doubled
    assert layer.findtext("abstract") == "abstract & <x>"
    assert {a.get("field"): a.get("name") for a in layer.iter("alias")} == {"name": "名 & <称>"}
    assert [g.get("name") for g in project.iter("layer-tree-group")][1:3] == [THEME, CHARGING]


def test_the_project_moves_with_the_file(gpkg, tmp_path):
    _write_project(gpkg)
    moved = tmp_path / "elsewhere" / gpkg.name
    moved.parent.mkdir()
    shutil.move(gpkg, moved)
    project = ET.fromstring(read_qgis_project(moved, "planning").split("\n", 1)[1])
    assert all(m.findtext("datasource").startswith("./small.gpkg|") for m in project.iter("maplayer"))


def test_project_uri_percent_encodes_spaces():
    # QGIS decodes the query with QUrlQuery, which reads '+' as a plus: spaces must be %20
    assert project_uri(Path("/data/a b/x.gpkg"), "规划 1") == "geopackage:/data/a%20b/x.gpkg?projectName=%E8%A7%84%E5%88%92%201"


def test_writing_again_replaces_the_project(gpkg):
    _write_project(gpkg)
    _write_project(gpkg, _layers()[:3], relations=())
    with sqlite3.connect(gpkg) as connection:
        assert connection.execute("SELECT count(*) FROM qgis_projects").fetchone()[0] == 1
    connection.close()
    assert len(list(_write_project(gpkg, _layers()[:3], relations=()).iter("maplayer"))) == 3


def test_bad_input_is_named(gpkg):
    missing = ProjectLayer("energy.total.county", "能源", "", (), "polygon", _status_qml(), False, None, {})
    with pytest.raises(DataError, match=r"small\.gpkg: the QGIS project lists layer 'energy\.total\.county', which the GeoPackage does not hold"):
        _write_project(gpkg, [*_layers(), missing])
    with pytest.raises(DataError, match="relation 'city_indicators' links layer 'city_indicators', which the project does not list"):
        _write_project(gpkg, _layers()[:4])
    unstyled = ProjectLayer("city", "城市边界", "", (), "polygon", None, True, None, {})
    with pytest.raises(DataError, match="layer 'city' has a geometry but no QML style"):
        _write_project(gpkg, [unstyled, *_layers()[1:]])
    with pytest.raises(DataError, match="'city' is listed twice"):
        _write_project(gpkg, [*_layers(), _layers()[0]])
    with pytest.raises(DataError, match=r"nothing\.gpkg: no such GeoPackage"):
        _write_project(gpkg.with_name("nothing.gpkg"))
    assert not gpkg.with_name("nothing.gpkg").exists()  # not made empty by SQLite


def test_gdal_validator_accepts_the_extra_table(gpkg):
    command = gpkg_validator()
    if command is None:
        pytest.skip("GDAL's validate_gpkg.py is not installed (python3-gdal)")
    _write_project(gpkg)
    checked = subprocess.run([*command, "--extra", "--warning-as-error", str(gpkg)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "" and checked.stderr.strip() == ""
