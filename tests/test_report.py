"""The HTML report and the gap workbook, on a small sample run and on a tampered copy of it."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pypdfium2 as pdfium
import pytest
import yaml

from gis.errors import UsageError
from gis.outputs.folder import RunOutputs, read_run
from gis.outputs.report import render_report, write_report
from gis.outputs.report_sections import top_gap_features
from gis.outputs.report_svg import trajectory_svg
from gis.outputs.symbology import run_map_spec, status_colours
from gis.outputs.text import describe_target, format_value, zone_shortfalls
from gis.outputs.webmap import write_map
from gis.outputs.workbook import MAX_SHEET_NAME, PERCENT, SUMMARY_SHEET, TABLE_SHEETS, safe_sheet_name, write_workbook

# Sanmenxia's lon/lat box (CGCS2000)
LON = (110.3, 112.1)
LAT = (33.5, 35.1)
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(2)>'
FORMULA = '=HYPERLINK("http://example.invalid","click")'
REFERENCE_ANALYSES = Path(__file__).resolve().parent.parent / "analyses"


@pytest.fixture(scope="module")
def run_dir(sample_run: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shared sample run's outputs (its project folder stays where the run names it)."""
    out = tmp_path_factory.mktemp("report") / "out"
    shutil.copytree(sample_run[1], out)
    return out


@pytest.fixture(scope="module")
def report(run_dir: Path) -> str:
    path = write_report(read_run(run_dir), run_dir / "report.html")
    assert path == run_dir / "report.html"
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workbook(run_dir: Path) -> openpyxl.Workbook:
    path = write_workbook(read_run(run_dir), run_dir)
    assert path == run_dir / "gaps.xlsx"
    return openpyxl.load_workbook(path)


@pytest.fixture
def tampered(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunOutputs:
    """A copy of the run whose names, titles and provenance carry markup and formulas; its project folder gone."""
    copy = tmp_path / "out"
    copy.mkdir()
    for name in ("indicators.csv", "planning.gpkg", "run.json"):
        shutil.copy2(run_dir / name, copy / name)
    table = pd.read_csv(copy / "indicators.csv", dtype={"zone_id": str})
    counties = table["zone_type"] == "county"
    table.loc[counties & (table["zone_id"] == table.loc[counties, "zone_id"].iloc[0]), "zone_name"] = SCRIPT
    table.loc[counties & (table["zone_id"] == table.loc[counties, "zone_id"].iloc[1]), "zone_name"] = FORMULA
    table.loc[table["indicator"] == "permeable.share", "title_en"] = ATTRIBUTE
    table.loc[table["indicator"] == "permeable.share", "title_zh"] = "@SUM(A1)"
    table.to_csv(copy / "indicators.csv", index=False)
    record = json.loads((copy / "run.json").read_text(encoding="utf-8"))
    record["project"]["name"] = SCRIPT
    record["project"]["root"] = str(tmp_path / "gone")
    first = next(iter(record["inputs"].values()))
    first["provenance"]["source"] = SCRIPT
    first["provenance"]["citation"] = ATTRIBUTE
    (copy / "run.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    renamed = dict(zip(table["zone_id"], table["zone_name"], strict=False))
    original = RunOutputs.read_layer

    def read_layer(self: RunOutputs, name: str) -> gpd.GeoDataFrame:
        frame = original(self, name)
        if "zone_name" in frame:
            frame["zone_name"] = frame["zone_id"].map(renamed).fillna(frame["zone_name"])
        return frame

    monkeypatch.setattr(RunOutputs, "read_layer", read_layer)
    return read_run(copy)


def _without(html: str, section: str) -> str:
    return re.sub(rf'<section id="{section}">.*?</section>', "", html, flags=re.S)


# --- report ------------------------------------------------------------------------------------


def test_report_names_every_indicator(run_dir: Path, report: str):
    table = pd.read_csv(run_dir / "indicators.csv")
    ids = table.loc[table["status"] != "not_assessed", "indicator"].unique()  # not assessed: listed, no section
    assert len(ids) > 10
    for indicator in ids:
        assert f'data-indicator="{indicator}"' in report, indicator
        assert re.search(rf'<section class="indicator[^"]*" id="ind-{indicator.replace(".", "-")}"', report)


def test_headline_counts_targets_at_their_level(run_dir: Path, report: str):
    table = pd.read_csv(run_dir / "indicators.csv", dtype={"zone_id": str})
    table = table[table["year"] == table["year"].max()]
    city = table[(table["zone_type"] == "city") & table["status"].isin(["met", "gap", "no_data"])]
    cards = {m.group(1): {k: int(v) for k, v in re.findall(r'data-([a-z_]+)="(\d+)"', m.group(2))}
             for m in re.finditer(r'class="count count-(\w+)" data-level="\w+" ([^>]*)>', report)}
    # a city target is an indicator's city row judged against a target
    assert cards["city"] == {"targets": len(city), "met": int((city["status"] == "met").sum()),
                             "gap": int((city["status"] == "gap").sum()), "no_data": int((city["status"] == "no_data").sum())}
    # a target set per county is one target, short when any county is short
    county = table[(table["zone_type"] == "county") & table["status"].isin(["met", "gap"])]
    per_county = county.groupby("indicator")["status"].agg(lambda s: "gap" if (s == "gap").any() else "met")
    assert cards["county"]["targets"] >= len(per_county) and cards["county"]["gap"] == int((per_county == "gap").sum())
    assert f"city {len(city)} targets: {cards['city']['met']} met, {cards['city']['gap']} gap" in report
    assert report.index('id="target-counts"') < report.index('id="row-counts"')  # zone rows second
    rows = table["status"].value_counts()
    block = re.search(r'id="row-counts" ([^>]*)>', report).group(1)
    assert {k: int(v) for k, v in re.findall(r'data-(\w+)="(\d+)"', block)} == {s: int(rows.get(s, 0)) for s in ("met", "gap", "no_data", "no_target")}


def test_report_has_definitions_targets_and_provenance(run_dir: Path, report: str):
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert "Permeable ground (green space" in report  # definition from the project's spec
    assert "全市可渗透地面面积比例不低于40%" in report  # plan wording
    assert "≥ 40.0% for city by 2025." in report  # a city target (全市): the counties are reported, not judged
    assert record["run_id"] in report
    sources = re.search(r'<ul class="sources">(.*?)</ul>', report, flags=re.S).group(1)
    assert all(name in sources for name in record["inputs"])  # every input named by its source; the table is in the workbook
    assert "0.37197" not in report  # shares on screen are percentages


def test_synthetic_notice_at_the_top(report: str):
    notice = report.find('id="synthetic-notice"')
    assert 0 < notice < report.find('id="summary"')
    assert "SYNTHETIC DATA" in report[notice : notice + 400]


def test_report_is_self_contained_and_small(run_dir: Path, report: str):
    assert "<script" not in report
    assert "<link" not in report
    assert "@import" not in report and "url(" not in report
    assert not re.search(r"https?://", _without(report, "provenance"))
    assert len(report.encode("utf-8")) < 3_000_000
    sections = dict(re.findall(r'<section class="indicator[^"]*" id="[^"]+" data-indicator="([^"]+)">(.*?)</section>', report, flags=re.S))
    table = pd.read_csv(run_dir / "indicators.csv")
    judged = table[(table["zone_type"] != "city") & table["status"].isin(["met", "gap", "no_data"])]["indicator"].unique()
    assert len(judged) > 10 and all(sections[i].count('<svg class="map"') == 1 for i in judged)  # a small map where zones are judged
    assert all(part.count('<svg class="map"') <= 1 for part in sections.values())
    for colour in status_colours(run_map_spec(read_run(run_dir).record)).values():  # the project's map spec
        assert colour in report


def test_top_gap_features_lie_in_sanmenxia(report: str):
    lons = [float(v) for v in re.findall(r'<td class="num lon">([-\d.]+)</td>', report)]
    lats = [float(v) for v in re.findall(r'<td class="num lat">([-\d.]+)</td>', report)]
    assert len(lons) == len(lats) > 10
    assert all(LON[0] < x < LON[1] for x in lons)
    assert all(LAT[0] < y < LAT[1] for y in lats)
    assert report.count('class="gap-feature"') == len(lons)


def test_top_gap_features_are_ranked_and_located(run_dir: Path):
    run = read_run(run_dir)
    points = run.read_layer("charging.parking_share.gaps")
    crs = run.record["project"]["crs"]
    top, size = top_gap_features(points, metric_crs=crs, limit=5)
    assert size == "shortfall" and len(top) == min(5, len(points))
    assert top["shortfall"].is_monotonic_decreasing
    own = points.set_index("id").geometry
    for row in top.itertuples():
        point = own[row.id].geoms[0]
        assert (row.lon, row.lat) == pytest.approx((point.x, point.y), abs=1e-7)
    polygons = run.read_layer("sewage.blank_areas.gaps")
    top, size = top_gap_features(polygons, metric_crs=crs)
    assert size == "uncovered_km2" and top["uncovered_km2"].is_monotonic_decreasing
    expected = polygons.to_crs(crs).centroid.to_crs("EPSG:4490")
    by_id = dict(zip(polygons["id"], zip(expected.x, expected.y, strict=True), strict=True))
    for row in top.itertuples():
        assert (row.lon, row.lat) == pytest.approx(by_id[row.id], abs=1e-9)
    permeable = run.read_layer("permeable.share.gaps")
    top, size = top_gap_features(permeable, metric_crs=crs, shortfall_factor=1e-6)  # m2 to km2, as the spec says
    assert top["shortfall"].max() < 100


def test_report_escapes_untrusted_text(tampered: RunOutputs, tmp_path: Path):
    html = write_report(tampered, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    # the project folder is gone: the report still stands, and says why definitions are missing
    assert "could not be read" in html
    for indicator in tampered.indicators["indicator"].unique():
        assert f'data-indicator="{indicator}"' in html


# --- formatting and drawing ----------------------------------------------------------------------


def test_targets_in_words():
    assert format_value(0.4, "share") == "40.0%"
    assert format_value(2546.94, "t") == "2,547 t"
    assert describe_target({"comparator": ">=", "value": 0.7, "increase": 0.05, "baseline_layer": "baseline_2020",
                            "zone_types": ["city"], "year": 2025}, "share") == (
        "≥ 70.0% or +5 percentage points over the baseline (baseline_2020), whichever is easier to reach for city by 2025."
    )
    assert "city ≥ 98.0%, county ≥ 95.0%" in describe_target(
        {"comparator": ">=", "value_by_zone_type": {"city": 0.98, "county": 0.95}, "zone_types": ["city", "county"]}, "share"
    )
    assert describe_target(None, "share").startswith("No target")


# --- workbook ------------------------------------------------------------------------------------


def test_workbook_has_a_summary_and_a_sheet_per_indicator(run_dir: Path, workbook: openpyxl.Workbook):
    ids = list(pd.read_csv(run_dir / "indicators.csv")["indicator"].unique())
    assert workbook.sheetnames[0] == SUMMARY_SHEET
    assert len(workbook.sheetnames) == len(ids) + 1 + len(TABLE_SHEETS)
    assert len({n.casefold() for n in workbook.sheetnames}) == len(workbook.sheetnames)
    assert all(len(name) <= MAX_SHEET_NAME for name in workbook.sheetnames)
    assert sorted(workbook[name]["A1"].value for name in workbook.sheetnames[1 : len(ids) + 1]) == sorted(ids)
    summary = workbook[SUMMARY_SHEET]
    assert "SYNTHETIC" in summary["A2"].value
    assert summary.freeze_panes == "A6"
    listed = [summary.cell(row=r, column=1).value for r in range(6, 6 + len(ids))]
    assert listed == ids


def test_workbook_numbers_are_numbers_and_shares_percent(run_dir: Path, workbook: openpyxl.Workbook):
    table = pd.read_csv(run_dir / "indicators.csv", dtype={"zone_id": str})
    sheet = workbook["permeable.share"]
    assert sheet.freeze_panes == "A5"
    header = [c.value for c in sheet[4]]
    value_col = header.index("值 value") + 1
    shortfall_col = header.index("缺口 shortfall") + 1
    id_col = header.index("代码 zone id") + 1
    rows = table[table["indicator"] == "permeable.share"]
    for offset, expected in enumerate(rows.itertuples()):
        value = sheet.cell(row=5 + offset, column=value_col)
        assert isinstance(value.value, float) and value.value == pytest.approx(expected.value)
        assert value.number_format == PERCENT
        shortfall = sheet.cell(row=5 + offset, column=shortfall_col).value
        if expected.status == "no_target":  # the counties of a city target: no shortfall
            assert shortfall is None
        else:
            assert isinstance(shortfall, int | float)
        assert sheet.cell(row=5 + offset, column=id_col).value == expected.zone_id  # ids stay text
    boilers = workbook["heating.coal_in_network"]
    assert boilers.cell(row=5, column=value_col).number_format != PERCENT
    summary = workbook[SUMMARY_SHEET]
    headers = [c.value for c in summary[5]]
    city_value = headers.index("市值 city value") + 1
    gap_zones = headers.index("未达标地区数 zones with a gap") + 1
    for row in range(6, summary.max_row + 1):
        assert isinstance(summary.cell(row=row, column=gap_zones).value, int)
        cell = summary.cell(row=row, column=city_value)
        if summary.cell(row=row, column=6).value == "share" and cell.value is not None:
            assert cell.number_format == PERCENT


def test_workbook_stores_formula_text_as_text(tampered: RunOutputs, tmp_path: Path):
    book = openpyxl.load_workbook(write_workbook(tampered, tmp_path / "gaps.xlsx"))
    found = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith(("=", "@"))
    ]
    assert {c.value for c in found} >= {FORMULA, "@SUM(A1)"}
    assert all(c.data_type == "s" and c.quotePrefix for c in found)
    with zipfile.ZipFile(tmp_path / "gaps.xlsx") as archive:  # no formula element anywhere
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in archive.read(n).decode("utf-8") for n in sheets)


def test_sheet_names_are_short_and_unique():
    taken: list[str] = [SUMMARY_SHEET]
    for name in ["a" * 40, "a" * 40, "A" * 40, "x[1]:y?", "Summary 汇总"]:
        taken.append(safe_sheet_name(name, taken))
    assert all(len(n) <= MAX_SHEET_NAME for n in taken)
    assert len({n.casefold() for n in taken}) == len(taken)
    assert taken[4] == "x_1__y_"


def test_gap_points_are_placed_in_their_county(run_dir: Path):
    run = read_run(run_dir)
    counties = run.read_layer("charging.parking_share")
    counties = counties[counties["zone_type"] == "county"]
    lots = run.read_layer("charging.parking_share.gaps")
    top, _ = top_gap_features(lots, metric_crs=run.record["project"]["crs"], zones=counties)
    assert top["zone_name"].notna().all()
    assert set(top["zone_name"]) <= set(counties["zone_name"])
    for row in top.itertuples():  # the synthetic lots are named after their county
        assert str(row.name).startswith(row.zone_name[:2])


# --- trajectory ------------------------------------------------------------------------------------


def _section_of(html: str, indicator: str) -> str:
    anchor = "ind-" + indicator.replace(".", "-")
    return re.search(rf'<section class="indicator[^"]*" id="{anchor}".*?</section>', html, flags=re.S).group(0)


def _history(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "indicators.csv", dtype={"zone_id": str})


def test_trajectory_chart_for_parking_share(run_dir: Path, report: str):
    table = _history(run_dir)
    data_year = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["data_year"]
    city = table[(table["indicator"] == "charging.parking_share") & (table["zone_type"] == "city")].set_index("year")
    assert sorted(city.index) == [2020, 2023, 2025]
    section = _section_of(report, "charging.parking_share")
    svg = re.search(r'<svg class="trajectory".*?</svg>', section, flags=re.S).group(0)
    points = re.findall(r'<circle class="point" data-year="(\d+)"', svg)
    assert points == ["2020", "2023", "2025"]
    for year in (2020, 2023, 2025):  # each point's value is labelled
        assert format_value(city.loc[year, "value"], "share") in svg
    assert 'class="path"' in svg and 'stroke-dasharray="5 3"' in svg  # the straight path, dashed
    assert 'class="target"' in svg and "≥ 25.0%" in svg  # the target line
    verdict = city.loc[data_year, "trajectory"]
    assert verdict in ("on_track", "behind", "met")
    words = {"on_track": "按计划 on track", "behind": "落后 behind", "met": "已达标 met"}[verdict]
    assert f'data-verdict="{verdict}" data-year="{data_year}"' in svg
    assert re.search(rf'<tspan class="verdict"[^>]*>{words}</tspan>', svg)
    assert f"{data_year}: <b class=\"traj traj-{verdict}\">{words}</b>" in section  # and in the caption


def test_trajectory_figure_gives_the_years_of_the_csv(run_dir: Path, report: str):
    table = _history(run_dir)
    rows = table[(table["indicator"] == "charging.parking_share") & (table["zone_type"] == "city")]
    figure = re.search(r'<div class="figure trajectory" data-verdict="([a-z_]+)" data-years="([\d ]+)">', _section_of(report, "charging.parking_share"))
    assert figure.group(2).split() == [str(y) for y in sorted(rows["year"])]
    data_year = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["data_year"]
    assert figure.group(1) == rows.loc[rows["year"] == data_year, "trajectory"].iloc[0]
    assert "gaps.xlsx" in _section_of(report, "charging.parking_share")  # every zone's row: in the workbook


def test_summary_gives_the_trajectory_before_the_data_year(run_dir: Path, report: str):
    table = _history(run_dir)
    data_year = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["data_year"]
    summary = re.search(r'<table class="summary">.*?</table>', report, flags=re.S).group(0)
    for indicator, rows in table[(table["zone_type"] == "city") & (table["status"] != "not_assessed")].groupby("indicator"):
        row = re.search(rf'<tr data-indicator="{re.escape(indicator)}">(.*?)</tr>', summary, flags=re.S).group(1)
        earlier = rows[rows["year"] < data_year].sort_values("year")
        line = re.search(r'class="trajectory-line" data-year="(\d+)" data-verdict="([a-z_]+)"', row)
        if earlier.empty or earlier["trajectory"].iloc[-1] == "baseline":  # a baseline year says nothing of progress
            assert line is None, indicator
        else:
            assert line is not None, indicator
            assert (int(line.group(1)), line.group(2)) == (int(earlier["year"].iloc[-1]), earlier["trajectory"].iloc[-1])
    assert re.search(r'data-indicator="charging.parking_share">.*?2023: <span class="traj traj-behind">落后 behind</span>', summary, flags=re.S)


def test_no_trajectory_without_earlier_years(run_dir: Path, report: str):
    table = _history(run_dir)
    years = table[table["status"] != "not_assessed"].groupby("indicator")["year"].nunique()
    assert (years > 1).sum() >= 5 and (years == 1).sum() >= 5
    for indicator, count in years.items():
        section = _section_of(report, indicator)
        assert ('<svg class="trajectory"' in section) == (count > 1), indicator
    assert '<svg class="trajectory"' not in _section_of(report, "permeable.share")


def test_trajectory_svg_escapes_and_drops_the_path_without_a_target():
    rows = pd.DataFrame({
        "year": [2020, 2023, 2025], "value": [3.0, 2.0, 1.0], "target": [None] * 3, "comparator": [None] * 3,
        "path_value": [None] * 3, "trajectory": ["no_target"] * 3,
    })
    svg = str(trajectory_svg(rows, "boilers", title=SCRIPT))
    assert "&lt;script&gt;" in svg and "<script" not in svg
    assert 'class="target"' not in svg and 'class="path"' not in svg
    assert svg.count('class="point"') == 3 and "无目标 no target" in svg
    assert "无目标" not in str(trajectory_svg(rows, "boilers", lang="en"))


# --- language ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_en(run_dir: Path) -> str:
    return render_report(read_run(run_dir), lang="en")


@pytest.fixture(scope="module")
def report_zh(run_dir: Path) -> str:
    return render_report(read_run(run_dir), lang="zh")


def _visible(html: str) -> str:
    """The text a reader sees: no style block, no tags, no attributes."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


ZH_LABELS = ("状态", "摘要", "目录", "数据来源与运行记录", "缺口要素", "落后", "合成数据")
EN_LABELS = ("Status", "Summary", "Contents", "Provenance and run record", "Gap features", "behind", "SYNTHETIC DATA")


def _without_plan_words(text: str) -> str:
    """``text`` without the plan's own words and their readings, which the specs quote in Chinese in every language."""
    for path in sorted(REFERENCE_ANALYSES.glob("*.yaml")):
        target = yaml.safe_load(path.read_text(encoding="utf-8")).get("target") or {}
        for words in (target.get("wording"), target.get("reading")):
            for form in (words.values() if isinstance(words, dict) else [words]):  # a text in one language, or {zh, en}
                if form:
                    text = text.replace(" ".join(str(form).split()), "")
    return text


def test_report_in_english_has_no_chinese_labels(report_en: str):
    assert '<html lang="en">' in report_en
    text = _without_plan_words(_visible(report_en))
    for zh, en in zip(ZH_LABELS, EN_LABELS, strict=True):
        assert zh not in text, zh
        assert en in text, en
    assert "Hubin" in text and "<td>湖滨区</td>" not in report_en  # the catalog's English zone names
    assert "≥ 40.0% for city by 2025." in text


def test_report_in_chinese_has_no_english_labels(report_zh: str):
    assert '<html lang="zh-Hans">' in report_zh
    text = _visible(report_zh)
    for zh, en in zip(ZH_LABELS, EN_LABELS, strict=True):
        assert zh in text, zh
        assert en not in text, en
    assert "Hubin" not in text and "<td>湖滨区</td>" in report_zh
    assert "市：≥ 40.0%，2025年前达到。" in text  # the target in Chinese words


def test_report_in_both_languages_by_default(report: str):
    assert '<html lang="zh-Hans">' in report
    text = _visible(report)
    for zh, en in zip(ZH_LABELS, EN_LABELS, strict=True):
        assert zh in text and en in text, (zh, en)
    assert "状态 Status" in text and "摘要 Summary" in text and "湖滨区 Hubin" in text


def test_unknown_language_is_refused(run_dir: Path, tmp_path: Path):
    with pytest.raises(UsageError, match="unknown language 'fr'"):
        write_report(read_run(run_dir), tmp_path, lang="fr")  # type: ignore[arg-type]


def test_workbook_in_one_language(run_dir: Path, tmp_path: Path):
    english = openpyxl.load_workbook(write_workbook(read_run(run_dir), tmp_path / "en.xlsx", lang="en"))
    chinese = openpyxl.load_workbook(write_workbook(read_run(run_dir), tmp_path / "zh.xlsx", lang="zh"))
    assert english.sheetnames[0] == "Summary" and chinese.sheetnames[0] == "汇总"
    assert [c.value for c in english["permeable.share"][4]][:4] == ["zone type", "zone id", "zone", "value"]
    assert [c.value for c in chinese["permeable.share"][4]][:4] == ["类型", "代码", "地区", "值"]


# --- colours from the project's map spec -----------------------------------------------------------


def test_report_workbook_and_map_take_the_status_colour_from_the_map_spec(sample_run: tuple[Path, Path], run_dir: Path, tmp_path: Path):
    """'met' recoloured in the project's maps/plan.yaml (default #1a9850) is the colour of all three views."""
    project = tmp_path / "city"
    shutil.copytree(sample_run[0], project)
    plan = project / "maps" / "plan.yaml"
    spec = yaml.safe_load(plan.read_text(encoding="utf-8"))
    assert spec["status"]["met"]["colour"] == "#1a9850"
    spec["status"]["met"]["colour"] = "#123456"
    plan.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    shutil.copytree(run_dir, out)
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    record["project"]["root"] = str(project)
    (out / "run.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    run = read_run(out)

    report = render_report(run)
    assert "--met: #123456;" in report and "#1a9850" not in report
    book = openpyxl.load_workbook(write_workbook(run, out))
    met_fills = {cell.fill.fgColor.rgb for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value == "met"}
    assert met_fills == {"00123456"}
    page = write_map(run, out / "map.html").read_text(encoding="utf-8")
    assert "#123456" in page and "#1a9850" not in page


def test_report_opens_with_what_the_plan_covers(run_dir: Path, report: str):
    # The counts come from plan_coverage.csv (the reference register: 80 items), so the reader does not
    # take the indicators for the whole plan.
    table = pd.read_csv(run_dir / "plan_coverage.csv", dtype=str, keep_default_na=False)
    assert len(table) == 80
    counts = table["assessment"].value_counts()
    block = re.search(r'<p class="plan-coverage" id="plan-coverage"(.*?)</p>', report, flags=re.S).group(0)
    expected = {"total": 80, "assessed": counts.get("assessed", 0), "approximated": counts.get("approximated", 0),
                "not-assessed": counts.get("not_assessed", 0)}
    assert {k: int(v) for k, v in re.findall(r'data-([a-z-]+)="(\d+)"', block)} == expected
    assert f"{expected['assessed']} of 80 plan items assessed" in block
    assert report.index('id="plan-coverage"') < report.index('class="summary"')


def test_where_names_each_zone_with_its_shortfall_and_the_unit_once():
    # The "Where" column of the report, the workbook and the console: numbers with their unit, never 1.567e+05.
    assert zone_shortfalls([("陕州区", 7.0), ("渑池县", 4.0)], "coal facilities to replace") == "陕州区 7, 渑池县 4 (coal facilities to replace)"
    assert zone_shortfalls([("A", 156_700.0)], "m3/d more sewage to treat") == "A 156,700 (m3/d more sewage to treat)"
    assert zone_shortfalls([("A", None)], "t") == "A" and zone_shortfalls([], "t") == ""


# --- the long tables in the workbook, and the printed report ------------------------------------------


def test_workbook_holds_the_tables_the_report_leaves_out(run_dir: Path, workbook: openpyxl.Workbook):
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    proposals = pd.read_csv(run_dir / "proposals.csv")
    sheet = workbook[" ".join(TABLE_SHEETS[0])]
    assert sheet.max_row == 2 + len(proposals)  # a title, a header, every row (items included)
    inputs = workbook[" ".join(TABLE_SHEETS[1])]
    header = [c.value for c in inputs[2]]
    listed = {inputs.cell(row=r, column=1).value: inputs.cell(row=r, column=header.index("sha256") + 1).value for r in range(3, inputs.max_row + 1)}
    assert listed == {name: entry["sha256"] for name, entry in record["inputs"].items()}


def _pdf_text(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(path)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def _squash(text: str) -> str:
    """Text without whitespace or the marks pdfium leaves where a line wraps."""
    return re.sub(r"[\s\ufffe\x02]+", "", text)


def test_report_pdf_is_short_numbered_and_has_contents(run_dir: Path):
    pages = _pdf_text(run_dir / "report.pdf")
    assert 10 < len(pages) <= 30  # the sample prints to at most 30 A4 pages
    for number, text in enumerate(pages, start=1):
        assert f"页 page {number} / {len(pages)}" in text, number  # page X of Y in every footer
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert all(record["run_id"] in text for text in pages)  # the run in the running footer
    assert all("合成数据 SYNTHETIC DATA" in text for text in pages)  # and the synthetic notice in the header
    contents = pages[0]
    assert "目录 Contents" in contents and "摘要 Summary" in contents
    # each line of the contents ends in its page number: the proposals start on the page it gives
    page = int(re.search(r"建议 Proposals[ .]+(\d+)", contents).group(1))
    assert "每项可处理的缺口" in pages[page - 1] and "每项可处理的缺口" not in pages[page - 2]
    table = pd.read_csv(run_dir / "indicators.csv")
    titles = table.loc[table["status"] != "not_assessed", "title_zh"].unique()
    assert all(_squash(title) in _squash(contents) for title in titles)  # every indicator listed


def test_report_pdf_pages_are_a4_and_drawn(run_dir: Path):
    pdf = pdfium.PdfDocument(run_dir / "report.pdf")
    try:
        assert {tuple(round(v) for v in pdf[i].get_size()) for i in range(len(pdf))} == {(595, 842)}
        image = pdf[0].render(scale=0.5).to_pil().convert("L")
    finally:
        pdf.close()
    inked = int((np.asarray(image) < 200).sum())
    assert inked > 0.05 * image.width * image.height  # text on the page, not a blank sheet
