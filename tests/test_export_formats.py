"""`gis export --to PATH.gdb` and `--to PATH.zip`: File Geodatabase and zipped Shapefiles, read back with GDAL.

One run of the sample project (a tenth of its scale) is exported once to each format; small hand-made runs
check what the sample cannot show (Chinese text cut at 254 bytes, characters GBK lacks, an export that fails).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import sqlite3
import zipfile
from collections.abc import Callable
from contextlib import closing
from functools import cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import yaml
from click.testing import CliRunner
from shapely.geometry import Point, box

from gis.cli import main
from gis.errors import DataError, OutputError, UsageError
from gis.outputs import filegdb, shapefile
from gis.outputs.exchange import QGIS_TABLES, column_kind
from gis.outputs.filegdb import FIELDS_TABLE, export_filegdb, read_field_aliases
from gis.outputs.folder import RunOutputs, read_run
from gis.outputs.names import plain_name
from gis.outputs.shapefile import export_shapefiles, fit_text, nearest_character, shapefile_field_names
from gis.project.vocabulary import SHAPEFILE_NAME_MAX, output_field, output_fields

# What GDAL reads back for each dictionary type, per format (booleans are 0/1 integers in both).
GDB_TYPES = {"text": ("OFTString", "OFSTNone"), "integer": ("OFTInteger", "OFSTNone"), "real": ("OFTReal", "OFSTNone"),
             "boolean": ("OFTInteger", "OFSTInt16")}
SHP_TYPES = {"text": {"OFTString"}, "integer": {"OFTInteger", "OFTInteger64"}, "real": {"OFTReal"}, "boolean": {"OFTInteger"}}


@pytest.fixture(scope="module")
def sample_out(sample_run: tuple[Path, Path]) -> Path:
    """The output folder of the shared sample run (a tenth of the scale, seed 7); exports go beside it."""
    return sample_run[1]


@pytest.fixture(scope="module")
def gdb(sample_out: Path) -> tuple[Path, str]:
    """The sample run exported by the command line to a File Geodatabase, and what the command printed."""
    target = sample_out.parent / "exports" / "plan.gdb"
    target.parent.mkdir()
    result = CliRunner().invoke(main, ["export", "--out", str(sample_out), "--to", str(target)])
    assert result.exit_code == 0, result.output
    return target, result.output


@pytest.fixture(scope="module")
def zips(sample_out: Path) -> dict[str, tuple[Path, str]]:
    """The sample run exported to zipped Shapefiles in UTF-8 and in GBK, and each summary line."""
    folder = sample_out.parent / "zips"
    folder.mkdir()
    run = read_run(sample_out)
    made = {}
    for encoding in ("utf-8", "gbk"):
        target = folder / f"plan-{encoding}.zip"
        made[encoding] = (target, export_shapefiles(run, target, encoding=encoding).line())
    return made


def gpkg_layers(out: Path) -> dict[str, int]:
    """The exported layers of a run's GeoPackage with their feature counts, read straight from its SQLite tables."""
    with closing(sqlite3.connect(out / "planning.gpkg")) as gpkg:
        names = [row[0] for row in gpkg.execute("SELECT table_name FROM gpkg_contents ORDER BY rowid")]
        return {name: gpkg.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names if name not in QGIS_TABLES}


@cache
def gpkg_types(out: Path, layer: str) -> dict[str, str]:
    """The SQL types the GeoPackage declares for a layer's columns."""
    with closing(sqlite3.connect(out / "planning.gpkg")) as gpkg:
        return dict(gpkg.execute("SELECT name, type FROM pragma_table_info(?)", (layer,)).fetchall())


def read_fields_csv(target: Path) -> pd.DataFrame:
    """fields.csv of an export zip (it must start with a UTF-8 BOM, for Excel)."""
    data = zipfile.ZipFile(target).read("fields.csv")
    assert data.startswith(b"\xef\xbb\xbf")
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def expected_kind(out: Path, layer: str, column: str) -> str | None:
    """The type the export must give a column: the dictionary's, else the GeoPackage's declared one."""
    known = output_field(column)
    return known.type if known else column_kind(column, gpkg_types(out, layer).get(column, ""))


# --- File Geodatabase ------------------------------------------------------------------------------------------


def test_filegdb_has_every_layer_with_its_plain_name_and_features(sample_out: Path, gdb: tuple[Path, str]) -> None:
    target, output = gdb
    expected = {plain_name(name): count for name, count in gpkg_layers(sample_out).items()}
    listed = {str(name): kind for name, kind in pyogrio.list_layers(target)}
    assert set(listed) == {*expected, FIELDS_TABLE}
    for name, count in expected.items():
        info = pyogrio.read_info(target, layer=name)
        assert info["features"] == count, name
        if listed[name] is not None:
            assert info["crs"] == "EPSG:4490", name
    assert listed["data_dictionary"] is None  # an attribute table stays a table
    spatial = sum(kind is not None for name, kind in listed.items() if name != FIELDS_TABLE)
    assert output.count("exported run") == 1
    assert f"{spatial} layers and {len(listed) - spatial} tables, {sum(expected.values())} features and rows" in output
    assert "EPSG:4490" in output


def test_filegdb_fields_have_the_dictionary_types_and_chinese_aliases(sample_out: Path, gdb: tuple[Path, str]) -> None:
    target, _ = gdb
    checked = 0
    for source in gpkg_layers(sample_out):
        name = plain_name(source)
        info = pyogrio.read_info(target, layer=name)
        aliases = read_field_aliases(target, name)
        for field, ogr_type, subtype in zip(info["fields"], info["ogr_types"], info["ogr_subtypes"], strict=True):
            kind = expected_kind(sample_out, source, field)
            assert kind is not None, (source, field)
            assert (ogr_type, subtype) == GDB_TYPES[kind], (source, field)
            known = output_field(field)
            assert aliases[field] == (known.zh if known else ""), (source, field)
            checked += 1
    assert checked > 1000
    county = read_field_aliases(target, "permeable_share_county")
    assert county["zone_name"] == "地区名称"
    assert county["shortfall_unit"] == "缺口单位"


def test_filegdb_layer_alias_is_the_chinese_title_and_text_is_intact(sample_out: Path, gdb: tuple[Path, str]) -> None:
    target, _ = gdb
    with closing(sqlite3.connect(sample_out / "planning.gpkg")) as gpkg:
        description = gpkg.execute("SELECT description FROM gpkg_contents WHERE table_name = 'permeable.share.county'").fetchone()[0]
    info = pyogrio.read_info(target, layer="permeable_share_county")
    assert description.startswith("可渗透地面面积比例（建成区）（县区）/ Permeable ground share")
    assert info["layer_metadata"]["ALIAS_NAME"] == "可渗透地面面积比例（建成区）（县区）"  # the Chinese title only
    source = gpd.read_file(sample_out / "planning.gpkg", layer="permeable.share.county")
    exported = gpd.read_file(target, layer="permeable_share_county")
    assert exported["zone_name"].tolist() == source["zone_name"].tolist()
    assert any("湖滨区" in name for name in exported["zone_name"])
    assert exported["synthetic"].tolist() == [1] * len(exported)  # the sample is synthetic: true as 1
    assert exported.geometry.geom_equals_exact(source.geometry, tolerance=1e-7).all()


def test_filegdb_fields_table_lists_every_field_with_its_aliases(sample_out: Path, gdb: tuple[Path, str]) -> None:
    target, _ = gdb
    table = pyogrio.read_dataframe(target, layer=FIELDS_TABLE)
    assert list(table.columns) == ["layer", "field", "alias_zh", "alias_en", "type", "meaning"]
    rows = table[table["layer"] == "permeable_share_county"]
    assert rows["field"].tolist() == list(pyogrio.read_info(target, layer="permeable_share_county")["fields"])
    unit = rows[rows["field"] == "shortfall_unit"].iloc[0]
    assert (unit["alias_zh"], unit["alias_en"], unit["type"]) == ("缺口单位", "shortfall unit", "text")
    assert unit["meaning"] == output_field("shortfall_unit").meaning
    assert set(table["layer"]) == {plain_name(name) for name in gpkg_layers(sample_out)}
    assert read_field_aliases(target, FIELDS_TABLE)["alias_zh"] == "中文别名"


# --- zipped Shapefiles -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "cpg"), [("utf-8", "UTF-8"), ("gbk", "936")])
def test_shapefiles_hold_every_layer_with_its_files_and_features(sample_out: Path, zips: dict, encoding: str, cpg: str) -> None:
    target, line = zips[encoding]
    names = set(zipfile.ZipFile(target).namelist())
    layers = gpkg_layers(sample_out)
    for source, count in layers.items():
        name = plain_name(source)
        spatial = f"{name}.shp" in names
        extensions = (".shp", ".shx", ".dbf", ".prj", ".cpg") if spatial else (".dbf", ".cpg")
        assert {f"{name}{ext}" for ext in extensions} <= names, source
        assert zipfile.ZipFile(target).read(f"{name}.cpg").decode("ascii") == cpg
        info = pyogrio.read_info(f"/vsizip/{target}/{name}{'.shp' if spatial else '.dbf'}")
        assert info["features"] == count, source
        if spatial:
            assert info["crs"] == "EPSG:4490", source
    assert len(names) == 2 + sum(5 if f"{plain_name(s)}.shp" in names else 2 for s in layers)  # + README.txt, fields.csv
    assert line.count("exported run") == 1
    assert f"{sum(layers.values())} features and rows" in line
    assert f"(.cpg {cpg})" in line


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_shapefile_chinese_reads_back_equal(sample_out: Path, zips: dict, encoding: str) -> None:
    target, _ = zips[encoding]
    source = gpd.read_file(sample_out / "planning.gpkg", layer="permeable.share.county")
    exported = gpd.read_file(f"/vsizip/{target}/permeable_share_county.shp")
    assert exported["zone_name"].tolist() == source["zone_name"].tolist()
    assert exported["title_zh"].tolist() == source["title_zh"].tolist()
    dbf = zipfile.ZipFile(target).read("permeable_share_county.dbf")
    assert "湖滨区".encode(encoding) in dbf  # the bytes are in the encoding the .cpg names
    assert dbf[29] == (0x4D if encoding == "gbk" else 0)  # the DBF language driver: GBK, or none for UTF-8


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_fields_csv_agrees_with_the_dbf_field_names_and_types(sample_out: Path, zips: dict, encoding: str) -> None:
    target, _ = zips[encoding]
    table = read_fields_csv(target)
    assert list(table.columns) == ["layer", "shapefile_field", "field", "alias_zh", "alias_en", "type", "meaning",
                                   "values_cut", "chars_replaced"]
    for file_name, rows in table.groupby("layer", sort=False):
        info = pyogrio.read_info(f"/vsizip/{target}/{file_name}")
        assert list(info["fields"]) == rows["shapefile_field"].tolist(), file_name
        assert all(len(name.encode(encoding)) <= SHAPEFILE_NAME_MAX for name in info["fields"])
        source = next(name for name in gpkg_layers(sample_out) if f"{plain_name(name)}." in f"{file_name}")
        for row, ogr_type in zip(rows.itertuples(), info["ogr_types"], strict=True):
            known = output_field(row.field)
            if known is not None:
                assert row.shapefile_field == known.shapefile
                assert row.alias_zh == known.zh
            kind = expected_kind(sample_out, source, row.field)
            assert ogr_type in SHP_TYPES[str(kind)], (file_name, row.field)
    denominator = table[(table["layer"] == "permeable_share_county.shp") & (table["field"] == "denominator")].iloc[0]
    assert denominator["shapefile_field"] == "denominatr"
    assert denominator["alias_zh"] == "分母"


def test_utf8_values_longer_than_254_bytes_are_cut_at_a_character_boundary_and_counted(sample_out: Path, zips: dict) -> None:
    target, line = zips["utf-8"]
    table = read_fields_csv(target)
    long_values = 0
    with closing(sqlite3.connect(sample_out / "planning.gpkg")) as gpkg:
        for source in gpkg_layers(sample_out):
            name = plain_name(source)
            for column, kind in gpkg_types(sample_out, source).items():
                counted = table[(table["layer"].str.startswith(f"{name}.")) & (table["field"] == column)]["values_cut"]
                if kind != "TEXT":
                    assert counted.tolist() in ([], ["0"]), (source, column)
                    continue
                query = f'SELECT rowid, "{column}" FROM "{source}" WHERE length(CAST("{column}" AS BLOB)) > 254 ORDER BY rowid'
                too_long = gpkg.execute(query).fetchall()
                assert counted.tolist() == [str(len(too_long))], (source, column)
                if too_long:
                    spatial = f"{name}.shp" in zipfile.ZipFile(target).namelist()
                    exported = pyogrio.read_dataframe(f"/vsizip/{target}/{name}{'.shp' if spatial else '.dbf'}", read_geometry=False)
                    short = shapefile_field_names(list(gpkg_types(sample_out, source)))[column]
                    for rowid, value in too_long:
                        kept = exported[short].iloc[rowid - 1]  # GeoPackage rowids count from 1 in the order written
                        assert kept == value.encode("utf-8")[:254].decode("utf-8", errors="ignore")
                long_values += len(too_long)
    assert long_values > 0  # the sample's long target readings
    assert f"{long_values} text values longer than 254 bytes cut" in line


def test_readme_says_what_the_zip_holds(zips: dict) -> None:
    target, _ = zips["gbk"]
    readme = zipfile.ZipFile(target).read("README.txt").decode("utf-8-sig")
    assert "SYNTHETIC sample data" in readme
    assert '.cpg "936", DBF language driver 0x4D' in readme
    assert "EPSG:4490" in readme


# --- hand-made runs ----------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_run(tmp_path: Path) -> Callable[..., RunOutputs]:
    """A hand-made run folder: run.json, indicators.csv and a GeoPackage with the given zone names."""

    def build(names: list[str], *, extra: dict[str, list] | None = None, folder: str = "out") -> RunOutputs:
        out = tmp_path / folder
        out.mkdir()
        record = {"run_id": "20260101T000000Z-tiny", "synthetic": True,
                  "indicators": {"demo.share": {"texts": {"title": {"zh": "示范比例", "en": "Demo share"}}}}}
        (out / "run.json").write_text(json.dumps(record), encoding="utf-8")
        pd.DataFrame({"indicator": ["demo.share"], "zone_id": ["1"], "value": [0.5]}).to_csv(out / "indicators.csv", index=False)
        zones = gpd.GeoDataFrame(
            {"feature_id": [f"demo.share:county:{i}" for i in range(len(names))], "zone_name": names,
             "value": [0.5] * len(names), "target": [None] * len(names), "synthetic": [True] * len(names), **(extra or {})},
            geometry=[box(111 + i * 0.1, 34, 111.1 + i * 0.1, 34.1) for i in range(len(names))], crs="EPSG:4490",
        )
        pyogrio.write_dataframe(zones, out / "planning.gpkg", layer="demo.share.county", driver="GPKG",
                                layer_options={"DESCRIPTION": "示范比例（县区）/ Demo share, by county"})
        gaps = gpd.GeoDataFrame({"id": ["g1"], "people": [12.0]}, geometry=[Point(111.05, 34.05)], crs="EPSG:4490")
        pyogrio.write_dataframe(gaps, out / "planning.gpkg", layer="demo.share.gaps", driver="GPKG")
        return read_run(out)

    return build


def test_chinese_longer_than_254_bytes_is_cut_between_characters_in_both_encodings(tiny_run: Callable, tmp_path: Path) -> None:
    long_name = "湖滨区" + "测" * 200  # 609 bytes in UTF-8, 406 in GBK
    run = tiny_run([long_name, "湖滨区"])
    for encoding, chars in (("utf-8", 84), ("gbk", 127)):  # 84 x 3 = 252 <= 254 < 255; 127 x 2 = 254
        target = tmp_path / f"tiny-{encoding}.zip"
        line = export_shapefiles(run, target, encoding=encoding).line()
        zones = gpd.read_file(f"/vsizip/{target}/demo_share_county.shp")
        assert zones["zone_name"].tolist() == [long_name[:chars], "湖滨区"]
        assert "1 text value longer than 254 bytes cut" in line
        table = read_fields_csv(target)
        assert table[table["field"] == "zone_name"]["values_cut"].tolist() == ["1"]


def test_characters_gbk_lacks_are_replaced_counted_and_listed(tiny_run: Callable, tmp_path: Path) -> None:
    run = tiny_run(["𠀀村", "−5 km²", "湖滨区"])  # U+20000 has no GBK code; − and ² have near equivalents
    target = tmp_path / "tiny.zip"
    line = export_shapefiles(run, target, encoding="gbk").line()
    zones = gpd.read_file(f"/vsizip/{target}/demo_share_county.shp")
    assert zones["zone_name"].tolist() == ["?村", "-5 km2", "湖滨区"]
    assert "3 characters GBK lacks replaced" in line
    readme = zipfile.ZipFile(target).read("README.txt").decode("utf-8-sig")
    assert "demo_share_county.zone_name (demo.share:county:0): 𠀀村" in readme  # the full text is kept there
    table = read_fields_csv(target)
    assert table[table["field"] == "zone_name"]["chars_replaced"].tolist() == ["3"]
    utf8 = tmp_path / "tiny-utf8.zip"
    export_shapefiles(run, utf8)
    assert gpd.read_file(f"/vsizip/{utf8}/demo_share_county.shp")["zone_name"].tolist() == ["𠀀村", "−5 km²", "湖滨区"]


def test_unknown_fields_get_unique_ten_character_names_in_the_zip(tiny_run: Callable, tmp_path: Path) -> None:
    run = tiny_run(["a"], extra={"charging_point_count": [3], "charging_point_kind": ["fast"], "short_unit": ["x"]})
    target = tmp_path / "tiny.zip"
    export_shapefiles(run, target)
    info = pyogrio.read_info(f"/vsizip/{target}/demo_share_county.shp")
    assert list(info["fields"]) == ["feature_id", "zone_name", "value", "target", "synthetic", "charging_p", "charging_1",
                                    "short_unit"]
    table = read_fields_csv(target)
    mapped = dict(zip(table["field"], table["shapefile_field"], strict=True))
    assert mapped["charging_point_count"] == "charging_p" and mapped["charging_point_kind"] == "charging_1"
    assert table[table["field"] == "charging_point_count"]["type"].tolist() == ["integer"]  # as the GeoPackage declares it
    assert info["ogr_types"][list(info["fields"]).index("target")] == "OFTReal"  # all NULL, still real (the dictionary)


def test_shapefile_field_names_by_hand() -> None:
    columns = ["shortfall_unit", "denominator", "my_long_field_name", "my_long_field_other", "short_unit", "VALUE", "value"]
    assert shapefile_field_names(columns) == {
        "shortfall_unit": "short_unit", "denominator": "denominatr", "my_long_field_name": "my_long_fi",
        "my_long_field_other": "my_long__1", "short_unit": "short_un_1", "VALUE": "VALUE_1", "value": "value",
    }
    assert shapefile_field_names(["地区名称说明字段"], "utf-8") == {"地区名称说明字段": "地区名"}  # 3 bytes each: 9 <= 10
    assert shapefile_field_names(["地区名称说明字段"], "gbk") == {"地区名称说明字段": "地区名称说"}  # 2 bytes each: 10
    assert shapefile_field_names(["a b\tc"]) == {"a b\tc": "a b_c"}  # control characters become underscores


def test_dictionary_shapefile_names_are_short_and_unique() -> None:
    text = (Path(__file__).parents[1] / "gis" / "project" / "dictionary.yaml").read_text(encoding="utf-8")
    names = [*output_fields(), *yaml.safe_load(text)["copied"]]
    short = [output_field(name).shapefile for name in names]
    assert all(len(name) <= SHAPEFILE_NAME_MAX for name in short)
    assert len({name.casefold() for name in short}) == len(short)


def test_fit_text_by_hand() -> None:
    assert fit_text("湖" * 100, "utf-8").text == "湖" * 84
    assert fit_text("a" + "湖" * 200, "gbk").text == "a" + "湖" * 126  # 1 + 252 = 253; one more would be 255
    kept = fit_text("x" * 254, "utf-8")
    assert (kept.text, kept.cut, kept.replaced) == ("x" * 254, False, 0)
    assert fit_text("≥·−", "gbk").text == "≥·-"  # ≥ and · are in GBK, − is not
    assert nearest_character("𠀀", "gbk") == "?"


def test_an_earlier_geodatabase_stays_whole_when_a_new_export_fails(tiny_run: Callable, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    run = tiny_run(["湖滨区"])
    target = tmp_path / "plan.gdb"
    export_filegdb(run, target)
    before = {path.name: path.read_bytes() for path in target.iterdir()}
    export_filegdb(run, target)  # a second export replaces the first
    assert sorted(str(n) for n, _ in pyogrio.list_layers(target)) == ["demo_share_county", "demo_share_gaps", FIELDS_TABLE]

    write = filegdb._write_layer
    calls = []

    def full_disk(*args: object, **kwargs: object) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(filegdb, "_write_layer", full_disk)
    with pytest.raises(OutputError, match=r"plan\.gdb: could not be written \(No space left on device\).*is as it was"):
        export_filegdb(run, target)
    assert {path.name for path in target.iterdir()} == set(before)
    assert gpd.read_file(target, layer="demo_share_county")["zone_name"].tolist() == ["湖滨区"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gis-")]  # no staging or backup left behind


def test_an_earlier_zip_stays_whole_when_a_new_export_fails(tiny_run: Callable, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    run = tiny_run(["湖滨区"])
    target = tmp_path / "plan.zip"
    export_shapefiles(run, target)
    before = target.read_bytes()

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shapefile, "_write_layer", full_disk)
    with pytest.raises(OutputError, match=r"plan\.zip: could not be written .*is as it was"):
        export_shapefiles(run, target, encoding="gbk")
    assert target.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gis-")]


def test_a_layer_named_like_the_fields_table_is_refused(tmp_path: Path, tiny_run: Callable) -> None:
    run = tiny_run(["a"])
    pyogrio.write_dataframe(pd.DataFrame({"x": [1]}), run.geopackage, layer="fields", driver="GPKG")
    with pytest.raises(DataError, match="layer 'fields' would be named 'fields'"):
        export_filegdb(read_run(run.out_dir), tmp_path / "plan.gdb")
    assert not (tmp_path / "plan.gdb").exists()


@pytest.mark.parametrize(
    ("to", "extra", "message"),
    [
        ("plan.shp", [], "not a target gis export knows"),
        ("plan.gdb", ["--encoding", "gbk"], "--encoding is for zipped Shapefiles"),
        ("plan.zip", ["--schema", "x"], "--schema is for PostGIS"),
        ("missing/plan.zip", [], "the folder .*missing does not exist"),
        ("file.gdb", [], "a file of that name is in the way"),
        ("folder.zip", [], "a folder of that name is in the way of the zip"),
        ("mine.gdb", [], "exists and is not a File Geodatabase; it is left alone"),
    ],
)
def test_bad_targets_are_usage_errors(tiny_run: Callable, tmp_path: Path, to: str, extra: list[str], message: str) -> None:
    run = tiny_run(["a"])
    (tmp_path / "file.gdb").write_text("not a geodatabase", encoding="utf-8")
    (tmp_path / "folder.zip").mkdir()
    (tmp_path / "mine.gdb").mkdir()
    (tmp_path / "mine.gdb" / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(main, ["export", "--out", str(run.out_dir), "--to", str(tmp_path / to), *extra])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert re.search(message, result.output), result.output
    assert (tmp_path / "mine.gdb" / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_folder_that_may_not_be_written_is_a_usage_error(tiny_run: Callable, tmp_path: Path) -> None:
    run = tiny_run(["a"])
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(UsageError, match="may not be written"):
            export_shapefiles(run, locked / "plan.zip")
    finally:
        locked.chmod(0o755)


def test_cli_writes_gbk_shapefiles(tiny_run: Callable, tmp_path: Path) -> None:
    run = tiny_run(["湖滨区"])
    target = tmp_path / "plan.zip"
    result = CliRunner().invoke(main, ["export", "--out", str(run.out_dir), "--to", str(target), "--encoding", "GBK"])
    assert result.exit_code == 0, result.output
    assert result.output.count("exported run") == 1
    assert "text in GBK (.cpg 936)" in result.output
    assert zipfile.ZipFile(target).read("demo_share_county.cpg") == b"936"
    assert gpd.read_file(f"/vsizip/{target}/demo_share_county.shp")["zone_name"].tolist() == ["湖滨区"]
    rows = list(csv.reader(io.StringIO(zipfile.ZipFile(target).read("fields.csv").decode("utf-8-sig"))))
    assert rows[0][:3] == ["layer", "shapefile_field", "field"]
