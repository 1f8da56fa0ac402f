"""The web map: layers from the map spec, escaping, offline page, and a real headless browser."""

from __future__ import annotations

import html
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from shapely.geometry import LineString, Point

from gis.api import load_project
from gis.cli import main
from gis.errors import ConfigError, UsageError
from gis.outputs._leaflet import FeatureLayer
from gis.outputs._offline import make_offline, remote_assets
from gis.outputs.folder import RunOutputs, read_run
from gis.outputs.summary import not_assessed
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
    result = runner.invoke(main, ["-q", "run", "--project", str(root), "--out", str(root / "out")])
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
    assert '"popup":"{{ 7 * 7 }}"' in page and '"tooltip":"{% if 1 %}"' in page
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
    page = decoded(text)
    boilers = run.read_layer("heating.coal_in_network.gaps")
    assert len(boilers) > 0
    for name in boilers["name"]:
        popup = re.search(rf"<b>{re.escape(html.escape(name))}</b> <small>热源 Heat sources</small>(.*?)\"tooltip\"", page)
        assert popup, name
        assert "供热管网覆盖范围内的燃煤锅炉或散煤，须淘汰 coal boiler or loose coal inside heating coverage — phase out" in popup.group(1)
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


def _feature_data(page_text: str, label: str) -> tuple[str, dict]:
    """The swatch colour in the layer control and the features and styles of the layer named ``label``."""
    var = re.search(rf'background:(#\w{{6}})[^\n]*?{re.escape(label)}"\s*:\s*(\w+)', page_text)
    assert var, label
    data = re.search(rf"var {var.group(2)}_data = (.*?);\n", page_text)
    assert data
    return var.group(1), json.loads(data.group(1))


def test_context_layers_beneath_in_the_spec_colours(text: str, layers: LayerReader) -> None:
    page = decoded(text)
    panes = dict(re.findall(r'createPane\(\s*"(\w+)"\);\s*\w+\.style\.zIndex = (\d+)', page))
    assert int(panes["context"]) < min(int(z) for name, z in panes.items() if name != "context")
    swatch, rivers = _feature_data(page, "背景 Context · 河流 Rivers")
    assert swatch == "#4a90d9"
    swatch, roads = _feature_data(page, "背景 Context · 道路：高速公路、干线公路、街道 Roads")
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
    _, data = _feature_data(page, "背景 Context · 道路：高速公路、干线公路、街道 Roads")
    assert len(data["features"]) == 1 and data["features"][0]["geometry"]["type"] == "MultiLineString"
    on_page = sum(len(part) for part in data["features"][0]["geometry"]["coordinates"])
    in_data = sum(len(g.coords) for g in streets.geometry)
    assert 0 < on_page < in_data / 4


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
    return decoded(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page_zh(run: RunOutputs, layers: LayerReader) -> str:
    return render(run, read_map_spec(PLAN), layers, lang="zh")


# the same labels in Chinese and in English, as the page writes them
MAP_ZH = ("<th>状态</th>", "<b>图例</b>", "按目标达成状态着色", "缺口 · heating.coal_in_network", "<th>编号</th>", "<th>分子</th>")
MAP_EN = ("<th>status</th>", "<b>Legend</b>", "coloured by status against the target", "gaps · heating.coal_in_network", "<th>id</th>", "<th>numerator</th>")


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
    page = decoded(text)
    assert '<html lang="zh-Hans">' in page
    for label in ("<th>状态 status</th>", "<b>图例 Legend</b>", "按目标达成状态着色 coloured by status against the target",
                  "缺口 gaps · heating.coal_in_network", "<th>编号 id</th>", "湖滨区 Hubin: "):
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
  var popups = [];
  for (var key in window) {
    var layer; try { layer = window[key]; } catch (e) { continue; }
    if (layer && typeof L !== "undefined" && layer instanceof L.GeoJSON && layer.getPopup()) {
      var content = layer.getPopup()._content;
      layer.eachLayer(function (child) { popups.push(content(child).innerHTML); });
    }
  }
  var box = document.createElement("div"); box.id = "test-popups"; box.hidden = true; box.innerHTML = popups.join("<hr>");
  document.body.appendChild(box);
  var visible = Array.prototype.filter.call(document.querySelectorAll(".gis-section"), function (s) { return !s.hidden; });
  var facts = {
    typeofL: typeof L,
    containers: document.querySelectorAll(".leaflet-container").length,
    labels: Array.prototype.map.call(document.querySelectorAll(".leaflet-control-layers-overlays label"), function (l) { return l.textContent.trim(); }),
    checked: Array.prototype.map.call(document.querySelectorAll(".leaflet-control-layers-overlays input:checked"),
                                      function (i) { return i.nextSibling.textContent.trim(); }),
    paths: document.querySelectorAll("path.leaflet-interactive").length,
    clusters: document.querySelectorAll(".leaflet-marker-icon.gis-cluster").length,
    banner: (document.querySelector(".gis-banner") || {}).textContent || null,
    legend: visible.map(function (s) { return s.textContent; }),
    popups: popups.length,
    liveScripts: document.querySelectorAll("#test-popups script, #test-popups img, .gis-legend img").length,
    errors: window.__errors
  };
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


def test_map_in_headless_chromium(browser: Path, page: Path, run: RunOutputs, tmp_path: Path) -> None:
    probe = tmp_path / "map.html"
    source = page.read_text(encoding="utf-8")
    probe.write_text(source.replace("<head>", "<head>" + _HEAD, 1).replace("</body>", _TAIL + "</body>", 1), encoding="utf-8")
    dom = _chromium(probe.as_uri(), tmp_path / "profile", "--dump-dom")
    found = re.search(r'<pre id="test-facts"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    assert found, f"the page did not finish loading:\n{dom[-2000:]}"
    facts = json.loads(html.unescape(found.group(1)))

    assert facts["errors"] == []
    assert facts["typeofL"] == "object" and facts["containers"] == 1
    labels = facts["labels"]
    for indicator, rows in assessed(run).groupby("indicator"):
        assert f"{indicator} {rows['title_zh'].iloc[0]} — {rows['clause'].iloc[0]}" in labels
    assert {"热源 Heat sources", "公共充电站 Public charging stations", "排污口 Outfalls"} <= set(labels)
    assert any(label.startswith("缺口 gaps · heating.coal_in_network") for label in labels)
    assert f"sewage.sludge_safe 污泥无害化处置率{XSS_TITLE} — 二(十)" in labels  # markup shown as text
    indicators_on = [c for c in facts["checked"] if " — " in c and not c.startswith(("缺口", "覆盖"))]
    assert indicators_on == ["permeable.share 可渗透地面面积比例（建成区） — 二(三)"]
    assert facts["paths"] > 5 and facts["clusters"] > 0
    assert "SYNTHETIC sample data" in facts["banner"]
    assert any(section.startswith("permeable.share") and "未达标 gap" in section for section in facts["legend"])
    assert XSS_CITY in " ".join(facts["legend"])  # shown as text
    context = ["背景 Context · 河流 Rivers", "背景 Context · 道路：高速公路、干线公路、街道 Roads"]
    assert labels[-2:] == context and set(context) <= set(facts["checked"])  # last in the control, on at the start
    assert facts["popups"] > 100 and facts["liveScripts"] == 0
    assert html.escape(XSS_NAME) in dom  # the hostile name is text inside a popup, not markup
    assert html.escape(TEMPLATE_NAME) in dom  # and a name in Jinja syntax is shown as it is

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "map.png"
    shot.unlink(missing_ok=True)
    _chromium(page.as_uri(), tmp_path / "profile", "--window-size=1400,900", "--hide-scrollbars", f"--screenshot={shot}")
    assert shot.stat().st_size > 20_000
