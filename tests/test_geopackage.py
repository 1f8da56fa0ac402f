"""planning.gpkg for the planning GIS: layers per level, stable ids, data dictionary, QGIS styles."""

from __future__ import annotations

import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml
from click.testing import CliRunner
from gpkg_validator import gpkg_validator

from gis.cli import main
from gis.outputs.geopackage import GPKG_VERSION, geopackage_version
from gis.outputs.gpkg_writer import gdal_metadata_xml, geopackage_writer
from gis.project.vocabulary import output_fields

REFERENCE = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same sample project run twice into two folders."""
    root = tmp_path_factory.mktemp("gpkg")
    runner = CliRunner()
    assert runner.invoke(main, ["sample", str(root / "city"), "--scale", "0.1"]).exit_code == 0
    for out in ("a", "b"):
        result = runner.invoke(main, ["run", "--no-pdf", "--project", str(root / "city"), "--out", str(root / out)])
        assert result.exit_code == 0, result.output
    return root / "a" / "planning.gpkg", root / "b" / "planning.gpkg"


def _styles(path: Path) -> dict[str, tuple[str, str, int]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT f_table_name, styleQML, styleSLD, useAsDefault FROM layer_styles").fetchall()
    return {table: (qml, sld, default) for table, qml, sld, default in rows}


def test_every_layer_opens_styled_in_the_web_map_colours(two_runs):
    path, _ = two_runs
    spatial = [name for name, geometry in pyogrio.list_layers(path) if geometry]
    styles = _styles(path)
    assert set(styles) == set(spatial)
    plan = yaml.safe_load((REFERENCE / "maps" / "plan.yaml").read_text(encoding="utf-8"))
    gap_red = plan["status"]["gap"]["colour"].lstrip("#")
    red = ",".join(str(int(gap_red[i : i + 2], 16)) for i in (0, 2, 4))

    qml, sld, default = styles["sewage.treatment_rate.county"]  # judged per county (城市、县城)
    assert default == 1
    renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "status"
    categories = {c.get("value"): c.get("symbol") for c in renderer.iter("category")}
    assert set(categories) == {"met", "gap", "no_data", "no_target", "not_assessed", ""}  # "": QGIS's catch-all, NULL too
    gap_symbol = next(s for s in renderer.iter("symbol") if s.get("name") == categories["gap"])
    colour = next(o.get("value") for o in gap_symbol.iter("Option") if o.get("name") == "color")
    assert colour.startswith(red + ",")
    sld_root = ET.fromstring(sld.encode("utf-8"))
    assert plan["status"]["gap"]["colour"] in sld

    # An indicator without a target at county level is graduated on its value, with the spec's classes.
    qml, _, _ = styles["charging.coverage.county"]
    renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer"  # graduated, with a rule for NULL values
    filters = [r.get("filter") for r in renderer.iter("rule")]
    assert '"value" IS NULL' in filters
    uppers = sorted(float(f.rsplit("<", 1)[1]) for f in filters if '"value" <' in f)
    assert uppers == plan["indicators"]["styles"]["charging.coverage"]["classes"]
    assert sld_root.tag.endswith("StyledLayerDescriptor")


def test_data_dictionary_names_every_field(two_runs):
    path, _ = two_runs
    dictionary = pyogrio.read_dataframe(path, layer="data_dictionary")
    assert (dictionary["description"].str.len() > 0).all()
    for name, geometry in pyogrio.list_layers(path):
        if not geometry:
            continue
        fields = set(pyogrio.read_info(path, layer=name)["fields"])
        assert fields == set(dictionary.loc[dictionary["layer"] == name, "field"]), name
    with sqlite3.connect(path) as connection:
        metadata = connection.execute(
            "SELECT r.table_name, m.metadata FROM gpkg_metadata m JOIN gpkg_metadata_reference r ON r.md_file_id = m.id"
        ).fetchall()
    described = dict(metadata)
    assert "FIELD_shortfall" in described["charging.parking_share.county"]


def test_feature_ids_are_stable_across_runs(two_runs):
    first, second = two_runs
    for name, geometry in pyogrio.list_layers(first):
        if not geometry:
            continue
        a = pyogrio.read_dataframe(first, layer=name, read_geometry=False)
        b = pyogrio.read_dataframe(second, layer=name, read_geometry=False)
        assert a["feature_id"].is_unique, name
        assert a["feature_id"].tolist() == b["feature_id"].tolist(), name
        assert a["run_id"].nunique() == 1 and a["run_id"].iloc[0] != b["run_id"].iloc[0]


def test_readme_documents_the_output_fields():
    readme = (REFERENCE / "README.md").read_text(encoding="utf-8")
    missing = [field for field in output_fields() if f"`{field}`" not in readme]
    assert not missing


def test_built_up_indicators_are_drawn_on_the_built_up_areas(two_runs):
    """permeable.share is measured inside the built-up areas: its county features are the built-up part of
    each county (as the zone name says), while an indicator of the whole county keeps the county polygon."""
    path = two_runs[0]
    project = path.parent.parent / "city"
    crs = "EPSG:4546"
    builtup = pyogrio.read_dataframe(project / "layers" / "sample" / "sanmenxia.gpkg", layer="builtup").to_crs(crs)
    counties = pyogrio.read_dataframe(project / "layers" / "sample" / "sanmenxia.gpkg", layer="counties").to_crs(crs)
    drawn = pyogrio.read_dataframe(path, layer="permeable.share.county").to_crs(crs).set_index("zone_id")
    whole = pyogrio.read_dataframe(path, layer="charging.parking_share.county").to_crs(crs).set_index("zone_id")
    for county in counties.itertuples():
        inside = builtup[builtup["county_id"] == county.id].union_all().intersection(county.geometry)
        assert drawn.loc[county.id].geometry.area == pytest.approx(inside.area, rel=1e-3)
        assert drawn.loc[county.id].geometry.area < 0.5 * county.geometry.area
        assert whole.loc[county.id].geometry.area == pytest.approx(county.geometry.area, rel=1e-3)
        assert drawn.loc[county.id, "zone_name"].endswith("built-up area (建成区)")


def test_style_names_fit_qgis_and_every_layer_says_it_is_synthetic(two_runs):
    """styleName is TEXT(30) in QGIS's layer_styles; a proposal layer of a synthetic run says so like every other."""
    path = two_runs[0]
    with sqlite3.connect(path) as connection:
        names = connection.execute("SELECT f_table_name, styleName FROM layer_styles").fetchall()
        described = dict(connection.execute("SELECT table_name, description FROM gpkg_contents WHERE data_type = 'features'").fetchall())
    assert names and all(len(name) <= 30 for _, name in names), [n for _, n in names if len(n) > 30]
    assert ("heating.coal_in_network.proposals", "heating.coal_i…twork.proposals") in names  # start and end kept
    assert [t for t, text in described.items() if "SYNTHETIC" not in text] == []
    assert any(t.endswith(".proposals") for t in described)


def test_the_run_opens_as_a_qgis_project_in_groups_with_chinese_names(two_runs):
    """The project stored in planning.gpkg, read back from qgis_projects as QGIS reads it."""
    from gis.outputs.qgis_project import read_qgis_project

    path, _ = two_runs
    tree = ET.fromstring(read_qgis_project(path, "planning"))
    layers = {m.findtext("id"): m for m in tree.iter("maplayer")}
    tables = {i: m.findtext("datasource").split("layername=")[1] for i, m in layers.items()}
    spatial = {name for name, geometry in pyogrio.list_layers(path) if geometry}
    assert set(tables.values()) == spatial | {"city_indicators"}  # every layer of the file, the styles table not

    root = tree.find("layer-tree-group")
    top = [(node.tag, node.get("name")) for node in root if node.tag in ("layer-tree-layer", "layer-tree-group")]
    assert top[:2] == [("layer-tree-layer", "县区界线"), ("layer-tree-layer", "三门峡市 市域")]
    themes = [name for tag, name in top if tag == "layer-tree-group"]
    catalog = yaml.safe_load((path.parent.parent / "city" / "layers" / "catalog.yaml").read_text(encoding="utf-8"))
    names = catalog["project"]["theme_names"]
    order = [names[t]["zh"] for t in catalog["project"]["themes"] if names[t]["zh"] in themes]
    assert themes == order and "清洁取暖与燃煤" in themes

    heating = next(g for g in root.iter("layer-tree-group") if g.get("name") == "清洁取暖与燃煤")
    coal = next(g for g in heating if g.get("name") == "供热管网覆盖范围内的燃煤锅炉和散煤")
    order = [tables[node.get("id")] for node in coal.iter("layer-tree-layer")]
    assert order == ["heating.coal_in_network.proposals", "heating.coal_in_network.gaps", "heating.coal_in_network.county"]
    assert [node.get("name") for node in coal.iter("layer-tree-layer")][-1] == "供热管网覆盖范围内的燃煤锅炉和散煤 · 县区"

    shown = {tables[node.get("id")] for node in root.iter("layer-tree-layer") if node.get("checked") == "Qt::Checked"}
    indicators = {table.rsplit(".", 1)[0] for table in shown if "." in table}
    assert indicators == {"permeable.share"}  # the map spec's start indicator, as the web map
    assert {"counties", "city"} <= shown

    counties = layers[next(i for i, t in tables.items() if t == "counties")]
    assert counties.find("labeling").get("type") == "simple"
    assert counties.find(".//text-style").get("fieldName") == "zone_name"
    zones = layers[next(i for i, t in tables.items() if t == "charging.parking_share.county")]
    aliases = {a.get("field"): a.get("name") for a in zones.iter("alias")}
    assert aliases["shortfall"] == "缺口量" and aliases["status"] == "达标状态"
    assert "SYNTHETIC" in tree.find("projectMetadata").findtext("abstract")
    assert [r.get("referencingLayer") for r in tree.iter("relation")] == [next(i for i, t in tables.items() if t == "city_indicators")]


def test_columns_have_the_dictionary_types_when_every_value_is_missing(two_runs):
    """charging.coverage has no target number: its target and shortfall are empty, and still real columns."""
    path, _ = two_runs
    with sqlite3.connect(path) as connection:
        columns = {row[1]: row[2] for row in connection.execute('PRAGMA table_info("charging.coverage.county")')}
        empty = connection.execute('SELECT count(*) FROM "charging.coverage.county" WHERE target IS NOT NULL').fetchone()[0]
    assert empty == 0
    assert (columns["target"], columns["shortfall"], columns["baseline"], columns["year"]) == ("REAL", "REAL", "REAL", "INTEGER")


# Metadata whose XML the writer stores itself (quotes, markup, Chinese, keys differing in case, an empty value) ...
_PLAIN = {"DESCRIPTION": "a layer", "FIELD_b": 'q"uo\'te <a> & b  ', "FIELD_A": "中文 ü", "FIELD_a_b": "",
          "FIELD_Z": "z", "FIELD__x": "under", "FIELD_1": "one"}
# ... and metadata only GDAL writes exactly: it sorts a non-ASCII key by the platform's char, drops control characters.
_GDAL_ONLY = {"DESCRIPTION": "another", "FIELD_é": "é", "FIELD_ctl": "a\x01b"}


def _small_layers() -> dict[str, tuple[pd.DataFrame, dict[str, str], dict[str, str]]]:
    """Seven layers (frame, metadata, layer options): the writer leaves the metadata of the first to GDAL (it makes
    the metadata tables), of the third and fourth too (GDAL's alone to write); it stores that of the second before
    the third is written (and GDAL rewrites it, as it rewrites every layer's), that of the fifth and seventh at the end."""
    points = gpd.GeoDataFrame({"v": [1, 2]}, geometry=[shapely.Point(111, 34), shapely.Point(112, 35)], crs="EPSG:4490")
    squares = gpd.GeoDataFrame({"v": [1.5]}, geometry=[shapely.box(111, 34, 111.1, 34.1)], crs="EPSG:4490")
    table = pd.DataFrame({"v": ["x", None]})
    return {
        "first": (points, _PLAIN, {}),
        "second": (squares, {**_PLAIN, "FIELD_Z": "zz"}, {"SPATIAL_INDEX": "YES"}),
        "third": (points, _GDAL_ONLY, {}),
        "fourth": (points, {"DESCRIPTION": "not the layer option's", "FIELD_v": "v"}, {"DESCRIPTION": "replaced"}),
        "fifth": (table, {"DESCRIPTION": "a table", "FIELD_v": "v & w"}, {}),
        "sixth": (points, {"DESCRIPTION": "no field described"}, {}),
        "seventh": (squares, {**_PLAIN, "FIELD_b": "<b>", "FIELD_0": "zero"}, {"SPATIAL_INDEX": "YES"}),
    }


def _metadata(path: Path) -> tuple[list[tuple], list[tuple]]:
    """Every layer's metadata row (without its timestamp), in order, and the extensions the file declares."""
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(
            "SELECT r.table_name, r.reference_scope, r.column_name, r.row_id_value, m.id, m.md_scope, m.md_standard_uri, "
            "m.mime_type, m.metadata FROM gpkg_metadata_reference r JOIN gpkg_metadata m ON m.id = r.md_file_id "
            "ORDER BY r.rowid").fetchall()
        extensions = connection.execute("SELECT * FROM gpkg_extensions ORDER BY rowid").fetchall()
    return rows, extensions


def _write_through_one_writer(path: Path) -> None:
    with geopackage_writer(path, version=GPKG_VERSION) as writer:
        for name, (frame, items, options) in _small_layers().items():
            writer.write(frame, name, metadata=items, layer_options={"DESCRIPTION": items["DESCRIPTION"], **options},
                         promote_to_multi=isinstance(frame, gpd.GeoDataFrame))


def test_one_writer_stores_every_layer_and_the_metadata_gdal_would(tmp_path):
    """The layers written through one writer hold what GDAL writes when it sets each layer's metadata itself
    (pyogrio, one layer at a time: the old way, whose cost grew with the square of the number of layers)."""
    reference = tmp_path / "gdal.gpkg"
    for name, (frame, items, options) in _small_layers().items():
        pyogrio.write_dataframe(frame, reference, layer=name, driver="GPKG", promote_to_multi=isinstance(frame, gpd.GeoDataFrame),
                                layer_metadata=items, layer_options={"DESCRIPTION": items["DESCRIPTION"], **options},
                                **({} if reference.exists() else {"dataset_options": {"VERSION": GPKG_VERSION}}))
    path = tmp_path / "one.gpkg"
    _write_through_one_writer(path)

    layers = pyogrio.list_layers(path).tolist()
    assert layers == [["first", "MultiPoint"], ["second", "MultiPolygon"], ["third", "MultiPoint"], ["fourth", "MultiPoint"],
                      ["sixth", "MultiPoint"], ["seventh", "MultiPolygon"], ["fifth", None]]  # tables without geometry last
    assert layers == pyogrio.list_layers(reference).tolist()
    assert geopackage_version(path) == 10200
    rows, extensions = _metadata(path)
    assert [row[0] for row in rows] == ["first", "second", "third", "fourth", "fifth", "seventh"]  # "sixth" has no field
    assert (rows, extensions) == _metadata(reference)
    contents = "SELECT table_name, data_type, identifier, description, srs_id FROM gpkg_contents ORDER BY rowid"
    with closing(sqlite3.connect(path)) as connection, closing(sqlite3.connect(reference)) as gdal:
        assert connection.execute(contents).fetchall() == gdal.execute(contents).fetchall()
        fourth = "SELECT description FROM gpkg_contents WHERE table_name = 'fourth'"
        assert connection.execute(fourth).fetchone() == ("replaced",)  # GDAL keeps the layer option's description
    second = pyogrio.read_info(path, layer="second")["layer_metadata"]
    assert (second["FIELD_Z"], second["FIELD_b"], second["FIELD_A"]) == ("zz", 'q"uo\'te <a> & b  ', "中文 ü")
    assert pyogrio.read_info(path, layer="fifth")["layer_metadata"] == {"DESCRIPTION": "a table", "FIELD_v": "v & w"}
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT v FROM fifth ORDER BY fid").fetchall() == [("x",), (None,)]


def test_the_writer_stores_gdals_xml_itself_or_leaves_it_to_gdal(tmp_path):
    """The XML is GDAL's to the byte where the writer writes it (keys sorted regardless of case, only &, < and >
    escaped); metadata it cannot write exactly is refused, and the writer hands it to GDAL."""
    reference = tmp_path / "gdal.gpkg"
    frame = _small_layers()["first"][0]
    pyogrio.write_dataframe(frame, reference, layer="first", driver="GPKG", layer_metadata=_PLAIN)
    stored = _metadata(reference)[0][0][-1]
    assert gdal_metadata_xml(_PLAIN) == stored
    keys = [mdi.get("key") for mdi in ET.fromstring(stored).iter("MDI")]
    assert keys == ["FIELD_1", "FIELD_A", "FIELD_a_b", "FIELD_b", "FIELD_Z", "FIELD__x"]
    assert '<MDI key="FIELD_b">q"uo\'te &lt;a&gt; &amp; b  </MDI>' in stored
    assert gdal_metadata_xml({"DESCRIPTION": "only the description"}) is None  # GDAL keeps it in gpkg_contents
    for items in ({"FIELD_é": "x"}, {"FIELD_c": "a\x01b"}, {"FIELD_c": " leading blank"}, {"FIELD_c": "\ufeffbom"},
                  {"FIELD_c": "c", "FIELD_C": "C"}):
        with pytest.raises(ValueError, match="left to GDAL"):
            gdal_metadata_xml(items)


def test_gdal_validator_accepts_a_file_of_one_writer(tmp_path, two_runs):
    command = gpkg_validator()
    if command is None:
        pytest.skip("GDAL's validate_gpkg.py is not installed (python3-gdal)")
    path = tmp_path / "one.gpkg"
    _write_through_one_writer(path)
    for checked_path in (path, two_runs[0]):
        checked = subprocess.run([*command, "--extra", str(checked_path)], capture_output=True, text=True, check=False)
        assert (checked.returncode, checked.stdout.strip(), checked.stderr.strip()) == (0, "", ""), checked_path
