"""The views of a run with a prefecture level: console, report, brief, workbook and web map say the province's headline,
then the prefectures, then the counties, each level apart (answers worked out by hand).

Three 1 km counties in a row: A and B in prefecture P1 (一市), D in P2 (二市).  Lots: A 10 of 100 spaces with chargers,
B 40 of 100, D 60 of 200.  Target 30 % for the city (here the province), each prefecture and each county:
A short by 30 - 10 = 20 spaces, B and D met; P1 (50 of 200) short by 60 - 50 = 10, P2 (60 of 200) met;
the province (110 of 400) short by 120 - 110 = 10.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from mapdata import page_layers
from shapely.geometry import Point
from tinyproject import PREFECTURE_COUNTIES as COUNTIES
from tinyproject import PREFECTURE_LEVELS as LEVELS
from tinyproject import PREFECTURE_ZONES as ZONES
from tinyproject import PREFECTURES, X0, Y0, target

from gis.cli.console import console
from gis.cli.main import main
from gis.outputs.brief import render_brief
from gis.outputs.folder import RunOutputs, read_run
from gis.outputs.report import render_report
from gis.outputs.summary import headline, indicator_summary, target_tallies
from gis.outputs.text import describe_target

LOTS = gpd.GeoDataFrame(
    {"id": ["L1", "L2", "L3"], "name": ["a", "b", "d"], "spaces": [100, 100, 200], "charger_spaces": [10, 40, 60]},
    geometry=[Point(X0 + 500, Y0 + 500), Point(X0 + 1500, Y0 + 500), Point(X0 + 2500, Y0 + 500)],
    crs="EPSG:4546",
)
BOILERS = pd.DataFrame({"id": ["T1", "T2", "T3"], "county_id": ["A", "B", "D"], "boilers": [3, 4, 5]})
SPECS = [
    {"id": "charging.parking_share", "method": "ratio", "inputs": {"features": "lots"}, "zone_types": LEVELS,
     "parameters": {"numerator": "charger_spaces", "denominator": "spaces"},
     "target": target(value=0.30, zone_types=LEVELS), "shortfall": {"unit": "spaces", "factor": 1, "rounding": "ceil"}},
    # no target: reported for information; P1 has 3 + 4 = 7 boilers, P2 5
    {"id": "heating.coal_exit", "method": "total", "inputs": {"features": "boilers"}, "unit": "boilers", "theme": "heating",
     "zone_types": LEVELS, "parameters": {"field": "boilers", "zone_field": "county_id"}},
]
CHROMIUM = Path("/usr/bin/chromium")


def _gis_run(root: Path, out: Path) -> str:
    result = CliRunner().invoke(main, ["run", "--project", str(root), "--out", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


@pytest.fixture
def province(make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[RunOutputs, str]:
    """The run of the three-county province, and what `gis run` printed (on a console wide enough for the gap table)."""
    monkeypatch.setattr(console, "_width", 200)  # COLUMNS is read once, when the console is made (maybe by an earlier test)
    root = make_project({"counties": COUNTIES, "prefectures": PREFECTURES, "lots": LOTS, "boilers": BOILERS}, SPECS, zones=ZONES)
    printed = _gis_run(root, tmp_path / "out")
    return read_run(tmp_path / "out"), printed


def test_the_headline_counts_the_prefecture_targets_between_the_province_and_the_counties(province) -> None:
    run, printed = province
    rows = run.indicators
    assert [t.level for t in target_tallies(rows)] == ["city", "prefecture", "county"]
    assert headline(rows) == ("province 1 target: 0 met, 1 gap; set per prefecture 1 target: 0 met, 1 gap (1 of 2 prefecture rows short); "
                              "set per county 1 target: 0 met, 1 gap (1 of 3 county rows short)")
    assert headline(rows, "zh").startswith("全省 1 项目标：达标 0，未达标 1；分地级市设定 1 项目标：达标 0，未达标 1（2 个地级市评估中 1 个未达标）")
    summary = indicator_summary(rows).set_index("indicator").loc["charging.parking_share"]
    assert (summary["gap_prefectures"], summary["target_prefectures"], summary["gap_prefecture_names"]) == (1, 2, [("一市", 10.0)])
    assert (summary["gap_zones"], summary["target_zones"], summary["gap_zone_names"]) == (1, 3, [("甲县", 20.0)])  # counties alone
    # the console: the province's row, then the prefectures short, then the counties short, each in its own column
    assert "Plan targets 2025: province 1 target" in printed
    assert "prefectures with a gap" in printed and "counties with a gap" in printed and "zones with a gap" not in printed
    assert "一市 10 (spaces)" in printed and "1 of 3 short: 甲县 20 (spaces)" in printed
    assert "一市 10, 甲县" not in printed


def test_the_report_tables_the_prefectures_before_the_counties(province) -> None:
    run, _ = province
    page = render_report(run)
    assert "全省 1 项目标" in page and "province 1 target" in page
    # where the gaps are: the prefectures' table, then the counties' (each zone once, in its own level)
    prefectures = page[page.index('id="prefecture-gaps"'):page.index('id="county-gaps"')]
    counties = page[page.index('id="county-gaps"'):page.index('<section id="indicators">')]
    assert re.findall(r'<tr data-zone="(\w+)">', prefectures) == ["P1"] and "一市" in prefectures and "甲县" not in prefectures
    assert "甲县" in counties and "一市" not in counties
    # the indicator's section: every prefecture with its status and shortfall (the unit once, in the heading), before the counties
    section = page[page.index('id="ind-charging-parking_share"'):page.index('id="ind-heating-coal_exit"')]
    rows = re.findall(r'<td class="zone prefecture status-row-(\w+)" data-zone="(\w+)">(\S+)</td><td class="num">([^<]+)</td>'
                      r'\s*<td>.*?</td><td class="num">([^<]*)</td>', section, re.DOTALL)
    assert rows == [("gap", "P1", "一市", "25.0%", "10"), ("met", "P2", "二市", "30.0%", "")]
    assert "2 个地级市评估中 1 个未达标 1 of 2 prefectures short" in section
    assert section.index("prefecture-rows") < section.index("3 个地区评估中 1 个未达标")  # the counties come after
    # the summary says the zones short by level, the level named
    line = page[page.index('<tr data-indicator="charging.parking_share">'):]
    line = line[:line.index("</tr>")]
    assert re.findall(r'data-level="(\w+)">([^<]+)<', line)[:2] == [("prefecture", "1 / 2 "), ("county", "1 / 3 ")]
    assert "<b>地级市 prefecture</b>: 一市 10 (spaces)" in line and "<b>县(市、区) county</b>: 甲县 20 (spaces)" in line
    # the small map draws the prefecture outlines over the counties, which alone are filled (P1, P2 are not zones of it)
    svg = section[section.index("<svg"):section.index("</svg>")]
    assert svg.count('class="outlines"') == 1 and "一市:" not in svg and "甲县:" in svg


def test_the_brief_counts_the_prefectures_short_and_shades_them(province) -> None:
    run, _ = province
    page = render_brief(run)
    row = page[page.index('data-indicator="charging.parking_share" data-status="gap"'):]
    row = row[:row.index("</tr>")]
    assert "1/2 pref., 1/3" in row  # the prefectures short, then the counties
    assert "Prefectures shaded by the number of targets set per prefecture" in page
    overview = page[page.index('class="map overview"'):]
    assert re.findall(r"<title>([^<]+)</title>", overview[:overview.index("</svg>")]) == ["一市: 1", "二市: 0"]
    where = page[page.index('class="top-gap" data-indicator="charging.parking_share"'):]
    assert "一市 10 (spaces)" in where[:where.index("</tr>")]  # the prefecture short, not its county


@pytest.mark.parametrize("lang", ["both", "zh"])
def test_the_workbook_gives_the_prefectures_their_own_columns_and_label(province, tmp_path: Path, lang: str) -> None:
    run, _ = province
    from gis.outputs.workbook import write_workbook

    book = openpyxl.load_workbook(write_workbook(run, tmp_path / "gaps.xlsx", lang=lang))
    summary = book.worksheets[0]
    headers = [c.value for c in summary[5]]
    values = dict(zip(headers, [c.value for c in summary[6]], strict=True))
    said = {"both": ("未达标地级市数 prefectures with a gap", "未达标地级市 prefectures with a gap",
                     "未达标县(市、区)及园区数 counties, parks with a gap", "未达标县(市、区)及园区 counties, parks with a gap"),
            "zh": ("未达标地级市数", "未达标地级市", "未达标县(市、区)及园区数", "未达标县(市、区)及园区")}[lang]
    assert (values[said[0]], values[said[2]]) == (1, 1)
    assert values[said[1]].startswith("一市 10") and values[said[3]].startswith("甲县 20")
    assert headers.index(said[0]) < headers.index(said[2])
    sheet = book["charging.parking_share"]
    types = [sheet.cell(row=r, column=1).value for r in range(5, 11)]
    assert types == (["city", "prefecture", "prefecture", "county", "county", "county"] if lang == "both"
                     else ["省", "地级市", "地级市", "县(市、区)", "县(市、区)", "县(市、区)"])


def test_a_project_without_prefectures_says_nothing_of_them(make_project, tmp_path: Path) -> None:
    counties = COUNTIES.drop(columns="pref")
    specs = [{**SPECS[0], "zone_types": ["city", "county"], "target": target(value=0.30, zone_types=["city", "county"])}]
    root = make_project({"counties": counties, "lots": LOTS}, specs)
    printed = _gis_run(root, tmp_path / "out")
    run = read_run(tmp_path / "out")
    assert "city 1 target" in printed and "zones with a gap" in printed and "prefecture" not in printed
    page = render_report(run)
    assert "prefecture" not in page and "地级市" not in page and "全省" not in page
    assert "prefecture" not in (tmp_path / "out" / "map.html").read_text(encoding="utf-8")


# --- the web map --------------------------------------------------------------------------------------

_PROBE = """<script>
window.addEventListener("load", function() { setTimeout(function() {
  var G = window.gisMap, map = G.map, facts = {};
  function state() {
    var item = null;
    G.indicators.forEach(function(t) { t.items.forEach(function(i) { if (i.id === G.chosen()) { item = i; } }); });
    var prefectures = item.follow.filter(function(f) { return f.group === "prefectures"; })[0];
    return {chosen: G.chosen(), zones: map.hasLayer(window[item.zones]), prefectures: map.hasLayer(window[prefectures.layer]),
            ticked: prefectures.box.checked};
  }
  facts.start = state();
  var box = document.querySelector("li.gis-chosen .gis-follow input[type=checkbox]");
  box.click();  // the reader unticks 'by prefecture': the counties come back
  facts.unticked = state();
  G.choose("heating.coal_exit");
  facts.next = state();  // another indicator: by county still, as the reader chose
  var pre = document.createElement("pre"); pre.id = "test-facts"; pre.textContent = JSON.stringify(facts);
  document.body.appendChild(pre);
}, 300); });
</script>"""


def _chromium(url: str, profile: Path) -> str:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
        f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--virtual-time-budget=5000", "--dump-dom", url,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout


def _js(text: str) -> str:
    """``text`` as the page's scripts hold it (JSON, non-ASCII escaped)."""
    return json.dumps(text)[1:-1]


def test_the_map_draws_each_indicator_by_prefecture_sharing_their_shapes(province, tmp_path: Path) -> None:
    run, _ = province
    page = (run.out_dir / "map.html").read_text(encoding="utf-8")
    # both indicators' prefecture layers draw the same two prefectures, their county layers the same three counties:
    # each set of shapes is in the page once
    layers = page_layers(page)
    assert len(re.findall(r"var gis_shapes_\w+ = \[", page)) == 2
    uses = Counter(data["shapes"] for data in layers.values() if "shapes" in data)
    assert sorted(uses.values()) == [2, 2] and sorted(len(layers[name]["features"]) for name in layers if "shapes" in layers[name]) == [2, 2, 3, 3]
    # a county's popup names its prefecture; a prefecture's says its level; the panel offers the choropleth
    popups = [f["properties"]["popup"] for data in layers.values() for f in data["features"] if "popup" in f["properties"]]
    assert any("<tr><th>地级市 prefecture</th><td>一市</td></tr><tr><th>指标 indicator</th>" in text for text in popups)
    assert any("一市</b> <small>地级市 prefecture</small>" in text for text in popups)
    # the panel and the legend reach the page as JSON
    assert page.count(_js("按地级市 by prefecture")) == 2  # under each indicator
    assert _js("地级市界线 Prefecture outlines") in page and _js("地级市名称 Prefecture names") in page
    assert _js("全省 province 测试市") in page  # the legend's top line is the province's


def test_the_prefecture_choropleth_replaces_the_counties_until_the_reader_unticks_it(province, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} not found; CI must install it (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium to run the browser test")
    run, _ = province
    probe = tmp_path / "probe.html"
    probe.write_text((run.out_dir / "map.html").read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>", 1), encoding="utf-8")
    found = re.search(r'<pre id="test-facts">(.*?)</pre>', _chromium(probe.as_uri(), tmp_path / "profile"), re.DOTALL)
    assert found, "the page did not finish loading"
    facts = json.loads(html.unescape(found.group(1)))
    assert facts["start"] == {"chosen": "charging.parking_share", "zones": False, "prefectures": True, "ticked": True}
    assert facts["unticked"] == {"chosen": "charging.parking_share", "zones": True, "prefectures": False, "ticked": False}
    assert facts["next"] == {"chosen": "heating.coal_exit", "zones": True, "prefectures": False, "ticked": False}


def test_the_map_spec_may_open_on_the_counties(make_project, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} not found; CI must install it (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium to run the browser test")
    root = make_project({"counties": COUNTIES, "prefectures": PREFECTURES, "lots": LOTS, "boilers": BOILERS}, SPECS, zones=ZONES)
    (root / "maps").mkdir(exist_ok=True)
    (root / "maps" / "plan.yaml").write_text("indicators:\n  by_prefecture: false\n", encoding="utf-8")
    _gis_run(root, tmp_path / "out")
    probe = tmp_path / "probe.html"
    probe.write_text((tmp_path / "out" / "map.html").read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>", 1), encoding="utf-8")
    found = re.search(r'<pre id="test-facts">(.*?)</pre>', _chromium(probe.as_uri(), tmp_path / "profile"), re.DOTALL)
    assert found, "the page did not finish loading"
    facts = json.loads(html.unescape(found.group(1)))
    assert facts["start"] == {"chosen": "charging.parking_share", "zones": True, "prefectures": False, "ticked": False}


def test_a_county_popup_names_the_prefecture_the_run_grouped_it_in(make_project, tmp_path: Path) -> None:
    # County D's field names P1 although D lies in P2's polygon: the run sums D into P1 (and reports no P2, which no
    # county of the run tiles), and D's popup names 一市, as the run grouped it, not the prefecture around it.
    counties = COUNTIES.assign(pref=["P1", "P1", "P1"])
    root = make_project({"counties": counties, "prefectures": PREFECTURES, "lots": LOTS, "boilers": BOILERS}, SPECS, zones=ZONES)
    _gis_run(root, tmp_path / "out")
    run = read_run(tmp_path / "out")
    rows = run.indicators
    assert rows.loc[rows["zone_type"] == "prefecture", "zone_id"].unique().tolist() == ["P1"]
    popups = [f["properties"]["popup"] for data in page_layers((tmp_path / "out" / "map.html").read_text(encoding="utf-8")).values()
              for f in data["features"] if "丁县" in f["properties"].get("popup", "")]
    assert popups and all("<tr><th>地级市 prefecture</th><td>一市</td></tr>" in text for text in popups)


def test_a_target_above_prefectures_is_the_provinces(province) -> None:
    # The report and the workbook describe the target of the top zone as the province's (省), not a city's (市).
    run, _ = province
    page, chinese = render_report(run), render_report(run, lang="zh")
    assert "≥ 30.0% for province, prefecture, county" in page and "for city, prefecture" not in page
    assert "省、地级市、县(市、区)：≥ 30.0%" in chinese and "市、地级市" not in chinese.replace("省、地级市", "")
    assert describe_target({"comparator": ">=", "value": 0.4, "zone_types": ["city", "county"]}, "share", lang="zh") == "市、县(市、区)：≥ 40.0%，达到。"


def test_a_county_named_as_its_prefecture_keeps_its_own_english_name(make_project, tmp_path: Path) -> None:
    # County A is called 一市 like its prefecture P1 (as 济源市 is both): both are short, and the English workbook names
    # each by its own catalog entry, not by the first row of that name.
    counties = COUNTIES.assign(name=["一市", "乙县", "丁县"], name_en=["Yi county", "B county", "D county"])
    prefectures = PREFECTURES.assign(name_en=["Yi city", "Er city"])
    root = make_project({"counties": counties, "prefectures": prefectures, "lots": LOTS, "boilers": BOILERS}, SPECS, zones=ZONES)
    _gis_run(root, tmp_path / "out")
    from gis.outputs.workbook import write_workbook

    book = openpyxl.load_workbook(write_workbook(read_run(tmp_path / "out"), tmp_path / "gaps.xlsx", lang="en"))
    summary = book.worksheets[0]
    values = dict(zip([c.value for c in summary[5]], [c.value for c in summary[6]], strict=True))
    assert values["prefectures with a gap"].startswith("Yi city 10") and values["counties, parks with a gap"].startswith("Yi county 20")
