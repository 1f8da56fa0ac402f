"""Issue 14: your own city with the data you have: `gis init` (CRS from the data, the city's names, its own map
spec), map specs checked against the project at load, the Gauss-Kruger zone warning, no city hard-coded."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from click.testing import CliRunner
from pyproj import CRS
from shapely.geometry import Point, box

from gis.api import load_project
from gis.cli import main
from gis.errors import ConfigError
from gis.project.config import read_project
from gis.project.georef import gk3_zone, zone_mismatch
from gis.project.mapspec import derive_map_spec, project_map_spec, read_map_spec, resolve_map_spec

LON, LAT = 113.6, 34.7  # a city in the zone CM 114E (EPSG:4547)
FORBIDDEN = ("Sanmenxia", "三门峡", "\\u4e09\\u95e8\\u5ce1")  # the last: as JSON escapes it in the map page


def _counties_file(folder: Path) -> Path:
    """Two counties around 113.6E, 34.7N in lon/lat, with Chinese column names."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = gpd.GeoDataFrame(
        {"代码": ["410102", "410103"], "名称": ["甲区", "乙区"]},
        geometry=[box(LON - 0.2, LAT - 0.1, LON, LAT + 0.1), box(LON, LAT - 0.1, LON + 0.2, LAT + 0.1)],
        crs="EPSG:4490",
    )
    path = folder / "boundaries.gpkg"
    frame.to_file(path, layer="xian", driver="GPKG", engine="pyogrio")
    return path


def _init(tmp_path: Path, *args: str) -> Path:
    city = tmp_path / "city"
    result = CliRunner().invoke(main, ["init", str(city), "--name", "Testville", "--name-zh", "测试市", *args])
    assert result.exit_code == 0, result.output
    return city


# --- the zone of the data ------------------------------------------------------------------------


def test_zone_lookup_by_name_covers_the_cgcs2000_3_degree_zones():
    assert gk3_zone(LON) == "EPSG:4547"
    assert gk3_zone(111.2) == "EPSG:4546"
    assert gk3_zone(75.0) == "EPSG:4534" and gk3_zone(135.0) == "EPSG:4554"
    assert gk3_zone(10.0) is None
    assert CRS.from_user_input(gk3_zone(LON)).name == "CGCS2000 / 3-degree Gauss-Kruger CM 114E"


def test_zone_mismatch_names_the_zone_that_fits_and_the_distortion():
    assert zone_mismatch(CRS.from_user_input("EPSG:4547"), (113.4, 34.6, 113.8, 34.8)) is None
    assert zone_mismatch(CRS.from_user_input("EPSG:4546"), (112.2, 34.6, 112.75, 34.8)) is None  # within the margin
    found = zone_mismatch(CRS.from_user_input("EPSG:4546"), (113.4, 34.6, 113.8, 34.8))
    assert found is not None
    problem, action = found
    assert "111E" in problem and "%" in problem and "north is turned" in problem
    assert "EPSG:4547" in action and "CM 114E" in action


def test_init_takes_the_crs_from_the_counties_and_maps_their_fields(tmp_path: Path):
    source = _counties_file(tmp_path / "in")
    city = _init(tmp_path, "--counties", str(source))
    catalog = yaml.safe_load((city / "layers" / "catalog.yaml").read_text(encoding="utf-8"))
    assert catalog["project"]["crs"] == "EPSG:4547"
    assert catalog["project"]["name"] == "Testville" and catalog["project"]["name_zh"] == "测试市"
    counties = catalog["layers"]["counties"]
    assert counties["file"] == "data/boundaries.gpkg" and counties["layer"] == "xian"
    assert counties["fields"] == {"id": "代码", "name": "名称"}
    assert (city / "layers" / "data" / "boundaries.gpkg").is_file()
    # the map spec is the city's, and valid against the project
    spec = read_map_spec(city / "maps" / "plan.yaml")
    assert spec.title is not None and (spec.title.zh, spec.title.en) == ("测试市", "Testville")
    assert spec.indicators.include == "all" and spec.indicators.start is None
    load_project(city)
    for path in (city / "layers" / "catalog.yaml", city / "maps" / "plan.yaml", city / "README.md"):
        text = path.read_text(encoding="utf-8")
        assert not any(word in text for word in FORBIDDEN), path


def test_init_crs_wins_near_works_and_none_says_how_to_choose(tmp_path: Path):
    runner = CliRunner()
    near = runner.invoke(main, ["init", str(tmp_path / "near"), "--near", "119.3,26.1"])
    assert near.exit_code == 0, near.output
    assert yaml.safe_load((tmp_path / "near" / "layers" / "catalog.yaml").read_text(encoding="utf-8"))["project"]["crs"] == "EPSG:4549"
    source = _counties_file(tmp_path / "in")
    given = runner.invoke(main, ["init", str(tmp_path / "given"), "--counties", str(source), "--crs", "EPSG:4546"])
    assert given.exit_code == 0, given.output
    assert yaml.safe_load((tmp_path / "given" / "layers" / "catalog.yaml").read_text(encoding="utf-8"))["project"]["crs"] == "EPSG:4546"
    none = runner.invoke(main, ["init", str(tmp_path / "none")])
    assert none.exit_code == 2
    assert "--counties" in none.output and "--near" in none.output and "--crs" in none.output
    assert not (tmp_path / "none").exists()
    bad_field = runner.invoke(main, ["init", str(tmp_path / "bad"), "--counties", str(source), "--id-field", "gb"])
    assert bad_field.exit_code == 2 and "代码" in bad_field.output


def test_check_warns_when_the_data_lie_outside_the_zone(make_project: Callable[..., Path]):
    root = make_project({"stations": _stations()}, [SPEC])  # the test counties lie at 111E (zone EPSG:4546)
    catalog_path = root / "layers" / "catalog.yaml"
    catalog = yaml.safe_load(catalog_path.read_text(encoding="utf-8"))
    catalog["project"]["crs"] = "EPSG:4547"
    catalog_path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    layers = read_and_check(root)
    zone = [n for n in layers if "central meridian" in n.problem]
    assert len(zone) == 1 and zone[0].severity == "warning" and zone[0].layer == "counties"
    assert "EPSG:4546" in zone[0].action


def read_and_check(root: Path) -> list:
    from gis.project.layers import LayerReader

    reader = LayerReader(read_project(root))
    reader.read_vector("counties")
    return reader.notes


def test_sample_refuses_a_project_of_ones_own(tmp_path: Path):
    city = _init(tmp_path, "--near", f"{LON},{LAT}")
    result = CliRunner().invoke(main, ["sample", str(city)])
    assert result.exit_code == 2
    assert "layers/data" in result.output.replace("\\", "/") and "gis sample SAMPLE_DIR" in result.output
    assert not (city / "layers" / "sample").exists()


# --- map specs checked at load ----------------------------------------------------------------


def _stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["s1", "s2"], "name": ["一", "二"], "fast": [1, 0]},
        geometry=[Point(500_200, 3_800_500), Point(501_500, 3_800_500)], crs="EPSG:4546",
    )


SPEC = {"id": "charging.fast", "method": "ratio", "inputs": {"features": "stations"},
        "parameters": {"numerator_where": {"field": "fast", "eq": 1}}}


def test_map_spec_naming_an_unknown_indicator_stops_load(make_project: Callable[..., Path]):
    root = make_project({"stations": _stations()}, [SPEC])
    (root / "maps").mkdir()
    plan = root / "maps" / "plan.yaml"
    plan.write_text("title: {zh: 测试, en: Test}\ncoverage:\n  - indicator: charging.coverage\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_project(root)
    text = str(error.value)
    assert f"{plan}:3" in text and "coverage.0.indicator" in text and "charging.fast" in text
    plan.write_text("indicators: {start: permeable.share}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plan\.yaml:1: key 'indicators.start'.*the project has: charging\.fast"):
        load_project(root)
    other = root / "maps" / "other.yaml"  # every maps/*.yaml is checked
    plan.write_text("{}\n", encoding="utf-8")
    other.write_text("gaps: {include: [sewage.blank_areas]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"other\.yaml:1: key 'gaps.include.0'"):
        load_project(root)


def test_map_spec_facility_layers_missing_from_the_catalog(make_project: Callable[..., Path]):
    root = make_project({"stations": _stations()}, [SPEC])
    (root / "maps").mkdir()
    plan = root / "maps" / "plan.yaml"
    plan.write_text("facilities:\n  stations: {}\n  heat_sources: {colour: '#8c510a'}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plan\.yaml:3: key 'facilities.heat_sources': no layer 'heat_sources'.*optional: true"):
        load_project(root)
    plan.write_text("facilities:\n  stations: {fields: [name, nope]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'facilities.stations.fields.1'.*no field 'nope'"):
        load_project(root)
    plan.write_text("facilities:\n  stations: {}\n  heat_sources: {optional: true}\n", encoding="utf-8")
    project = load_project(root)
    resolved = project_map_spec(project)
    assert list(resolved.spec.facilities) == ["stations"]
    assert any("heat_sources" in note for note in resolved.notes)


def test_map_spec_skips_indicators_that_are_not_assessed(make_project: Callable[..., Path]):
    lacking = {**SPEC, "id": "charging.lots", "inputs": {"features": "parking_lots"}}
    root = make_project({"stations": _stations()}, [SPEC, lacking])
    (root / "maps").mkdir()
    (root / "maps" / "plan.yaml").write_text(
        "indicators: {start: charging.lots}\n"
        "facilities:\n  stations:\n    status:\n      - indicator: charging.fast\n      - indicator: charging.lots\n",
        encoding="utf-8",
    )
    config = read_project(root)  # the spec of charging.lots exists; its layer is not in the catalog
    resolved = resolve_map_spec(config, read_map_spec(root / "maps" / "plan.yaml"))
    assert resolved.spec.indicators.start is None
    assert "charging.lots" in resolved.spec.indicators.exclude and "charging.lots" in resolved.spec.gaps.exclude
    assert [c.indicator for c in resolved.spec.facilities["stations"].status] == ["charging.fast"]
    assert len(resolved.notes) >= 3


def test_a_project_without_a_map_spec_gets_one_derived_from_its_specs(make_project: Callable[..., Path]):
    root = make_project({"stations": _stations()}, [SPEC])
    catalog_path = root / "layers" / "catalog.yaml"
    catalog = yaml.safe_load(catalog_path.read_text(encoding="utf-8"))
    catalog["project"]["name_zh"] = "测试市"
    catalog["layers"]["stations"]["geometry"] = "Point"
    catalog_path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    project = load_project(root)
    resolved = project_map_spec(project)
    assert resolved.derived
    spec = derive_map_spec(project)
    assert spec.title is not None and (spec.title.zh, spec.title.en) == ("测试市", "Test city")
    assert [c.indicator for c in spec.facilities["stations"].status] == ["charging.fast"]
    assert spec.field_labels  # the generic labels of the canonical fields


# --- a whole own city: no other city's name in any output -------------------------------------------


def _point_layer(path: Path, layer: str, rows: list[dict]) -> None:
    frame = gpd.GeoDataFrame(rows, geometry=[Point(r.pop("lon"), r.pop("lat")) for r in rows], crs="EPSG:4490")
    frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def _output_texts(out: Path) -> dict[Path, str]:
    """The text of every output file: csv, json, html, md as they are; gpkg bytes decoded; xlsx's XML parts."""
    texts: dict[Path, str] = {}
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                texts[path] = "".join(book.read(n).decode("utf-8", "ignore") for n in book.namelist())
        else:
            texts[path] = path.read_bytes().decode("utf-8", "ignore")
    return texts


def _uncomment(catalog: str, layer: str) -> str:
    """The init catalog with the template entry of ``layer`` uncommented, as its comment tells a planner to."""
    lines, inside = [], False
    for line in catalog.splitlines():
        if line.startswith("#   ") and not line.startswith("#    "):
            inside = line == f"#   {layer}:"
        lines.append(line[2:] if inside and line.startswith("# ") else line)
    return "\n".join(lines) + "\n"


def test_own_city_outputs_name_no_other_city(tmp_path: Path):
    source = _counties_file(tmp_path / "in")
    city = _init(tmp_path, "--counties", str(source))
    keep = {"charging.highway_fast", "charging.hubs"}
    for path in (city / "analyses").glob("*.yaml"):
        if path.stem not in keep:
            path.unlink()
    (city / "analyses" / "plan" / "register.yaml").unlink()  # it links the specs removed above
    catalog_path = city / "layers" / "catalog.yaml"
    text = catalog_path.read_text(encoding="utf-8")
    for layer in ("service_areas", "charging_hubs", "charging_stations"):
        text = _uncomment(text, layer)
    catalog_path.write_text(text, encoding="utf-8")
    catalog = yaml.safe_load(text)
    assert set(catalog["layers"]) == {"counties", "service_areas", "charging_hubs", "charging_stations"}

    # The init map spec leaves coverage, facilities and context to be derived at each run.
    plan = yaml.safe_load((city / "maps" / "plan.yaml").read_text(encoding="utf-8"))
    assert not {"coverage", "facilities", "context"} & set(plan)
    runner = CliRunner()

    data = city / "layers" / "data"
    west, east = LON - 0.15, LON + 0.15
    _point_layer(data / "service_areas.gpkg", "service_areas", [
        {"id": "S1", "name": "东服务区", "expressway": "G30", "fast_charging": True, "fast_chargers": 4, "lon": east, "lat": LAT},
        {"id": "S2", "name": "西服务区", "expressway": "G30", "fast_charging": False, "fast_chargers": 0, "lon": west, "lat": LAT},
    ])
    _point_layer(data / "charging_hubs.gpkg", "charging_hubs", [
        {"id": "H1", "name": "客运站", "kind": "passenger_hub", "has_charger": True, "chargers": 6, "lon": west, "lat": LAT + 0.05},
        {"id": "H2", "name": "物流园", "kind": "logistics_park", "has_charger": False, "chargers": 0, "lon": east, "lat": LAT - 0.05},
    ])
    _point_layer(data / "charging_stations.gpkg", "charging_stations", [
        {"id": "C1", "name": "充电站", "ports": 10, "fast_ports": 4, "lon": west + 0.02, "lat": LAT},
    ])
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", "--no-pdf", "--project", str(city), "--out", str(out)])
    assert result.exit_code == 0, result.output
    texts = _output_texts(out)
    assert {p.suffix for p in texts} >= {".csv", ".gpkg", ".html", ".xlsx", ".json"}
    found = {str(p.relative_to(out)): w for p, t in texts.items() for w in FORBIDDEN if w in t}
    assert not found, found
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Testville" in page and ("测试市" in page or "\\u6d4b\\u8bd5\\u5e02" in page)
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["project"]["name"] == "Testville"
