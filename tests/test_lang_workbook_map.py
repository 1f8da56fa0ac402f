"""One language when asked: the workbook and the web map of one sample run, written in Chinese and in English, hold
no word of the other language outside ids, units and names from the data; the workbook's summary heads with the plan
targets by level."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest
from mapdata import page_layers

from gis.api import load_project
from gis.methods.zones import catalog_names
from gis.outputs.folder import RunOutputs, read_run
from gis.outputs.i18n import Lang, foreign_words, page_text
from gis.outputs.summary import target_tallies
from gis.outputs.webmap import write_map
from gis.outputs.workbook import CODE_FONT, write_workbook
from gis.project.layers import LayerReader

NAME_FIELDS = ("name", "item_name", "station_name", "zone_name", "river")
"""Fields of the data and the run's tables that hold names (zones, facilities, rivers)."""


@pytest.fixture(scope="module")
def run(sample_run: tuple[Path, Path]) -> RunOutputs:
    return read_run(sample_run[1])


@pytest.fixture(scope="module")
def layers(sample_run: tuple[Path, Path]) -> LayerReader:
    return load_project(sample_run[0]).layers()


def _column_values(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> set[str]:
    return {str(v) for c in columns if c in frame.columns for v in frame[c].dropna()}


@pytest.fixture(scope="module")
def data(run: RunOutputs, layers: LayerReader) -> dict[str, set[str]]:
    return data_of(run, layers)


def data_of(run: RunOutputs, layers: LayerReader) -> dict[str, set[str]]:
    """What the data says as it is, collected from the project's layers and the run's tables and layers:

    ``names`` of zones and features (a zone the catalog names in English only in Chinese), ``english`` the zones with
    an English name, ``ids`` the features' ids (HN-LINGBAO), ``citations`` the inputs' provenance as the catalog writes it."""
    names: set[str] = set()
    ids: set[str] = set()
    for layer, entry in layers.catalog.layers.items():
        if entry.kind != "vector":
            continue
        frame = layers.read_vector(layer)
        names |= _column_values(frame, NAME_FIELDS)
        ids |= _column_values(frame, [entry.id_field, *[c for c in frame.columns if c.endswith("_id")]])
    for layer in run.layers:
        frame = pyogrio.read_dataframe(run.geopackage, layer=layer, read_geometry=False)
        names |= _column_values(frame, NAME_FIELDS)
        ids |= _column_values(frame, [c for c in frame.columns if c == "id" or c.endswith("_id")])
    names |= _column_values(run.proposals, ["item_name"])
    ids |= _column_values(run.proposals, ["item_id", "zone_id"])
    city = layers.catalog.project.city
    names |= {city.name, *(name for name, _ in catalog_names(layers).values())}
    names = {n for n in names if " built-up area" not in n}  # the outputs' own extension of a zone's name is not data
    citations = {str(value) for entry in run.record["inputs"].values() for key, value in (entry.get("provenance") or {}).items()
                 if key in ("source", "licence", "citation") and value}
    english = {name for name, _ in catalog_names(layers).values()}
    return {"names": names, "english": english, "ids": ids, "citations": citations}


def check(texts: Iterator[str] | list[str], lang: Lang, data: dict[str, set[str]]) -> list[str]:
    """The foreign words of ``texts`` in ``lang``, each once: zones with an English name must show it in English."""
    names = data["names"] - data["english"] if lang == "en" else data["names"]
    found: dict[str, None] = {}
    for text in texts:
        for word in foreign_words(text, lang, names=[*names, *data["citations"]], allowed=data["ids"]):
            found.setdefault(f"{word} ← {text[:100]}")
    return list(found)


# --- workbook -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def books(run: RunOutputs, tmp_path_factory: pytest.TempPathFactory) -> dict[str, openpyxl.Workbook]:
    folder = tmp_path_factory.mktemp("lang-books")
    return {lang: openpyxl.load_workbook(write_workbook(run, folder / f"gaps-{lang}.xlsx", lang=lang)) for lang in ("zh", "en")}


def _cells(book: openpyxl.Workbook) -> tuple[list[str], list[str]]:
    """The sheet names and text cells of a workbook, and apart its cells of code (in the code font)."""
    texts: list[str] = []
    code: list[str] = []
    for sheet in book.worksheets:
        texts.append(sheet.title)
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    (code if cell.font.name == CODE_FONT else texts).append(cell.value)
    return texts, code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_workbook_cell_is_in_one_language(books: dict[str, openpyxl.Workbook], data: dict[str, set[str]], lang: Lang) -> None:
    texts, code = _cells(books[lang])
    assert len(texts) > 1000 and check(texts, lang, data) == []
    # code is code: a JSON object or one token (a layer or file name, a checksum), never a sentence in a code font
    for cell in code:
        assert cell.startswith("{") and isinstance(json.loads(cell), dict) or not re.search(r"\s", cell), cell
    assert len(code) > 100


def test_workbook_in_one_language_translates_what_the_tables_hold_in_english(books: dict[str, openpyxl.Workbook]) -> None:
    zh, en = books["zh"], books["en"]
    assert zh.sheetnames[0] == "汇总" and en.sheetnames[0] == "Summary" and zh.sheetnames[-3:] == ["建议", "输入", "参数"]
    sheet_zh, sheet_en = zh["permeable.share"], en["permeable.share"]
    assert [c.value for c in sheet_zh[4]][:3] == ["类型", "代码", "地区"]
    city_zh = [c.value for c in sheet_zh[5]]
    city_en = [c.value for c in sheet_en[5]]
    assert city_zh[0] == "市" and city_en[0] == "city"
    assert city_zh[2] == "三门峡市建成区" and city_en[2] == "Sanmenxia built-up area"  # the catalog's English name
    assert city_zh[4] == "比例" and city_en[4] == "share"
    assert city_zh[8] in ("达标", "未达标") and city_en[8] in ("met", "gap")
    assert city_zh[10] == "平方公里不透水地面待改为可渗透地面" and city_en[10] == "km2 of impervious ground to make permeable"
    assert "可渗透地面" in sheet_zh["A2"].value and "Permeable ground" in sheet_en["A2"].value  # title and definition
    assert "条款 二(三)" in sheet_zh["A2"].value and "clause part 2 (3)" in sheet_en["A2"].value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_summary_heads_with_the_plan_targets_by_level(run: RunOutputs, books: dict[str, openpyxl.Workbook], lang: Lang) -> None:
    sheet = books[lang].worksheets[0]
    head, rows = str(sheet["A3"].value), str(sheet["A4"].value)
    assert head.startswith("规划目标" if lang == "zh" else "Plan targets")
    assert rows.startswith("地区评估行" if lang == "zh" else "Zone rows")  # zone rows come second
    tallies = target_tallies(run.indicators)
    assert [t.level for t in tallies] == ["city", "county", "park"]
    level = {"zh": {"city": "全市", "county": "分县\\(市、区\\)设定", "park": "分园区设定"},
             "en": {"city": "city", "county": "set per county", "park": "set per park"}}[lang]
    for tally in tallies:
        if lang == "zh":
            said = re.search(rf"{level[tally.level]} (\d+) 项目标：达标 (\d+)，未达标 (\d+)(?:，无数据 (\d+))?", head)
        else:
            said = re.search(rf"{level[tally.level]} (\d+) targets?: (\d+) met, (\d+) gap(?:, (\d+) no data)?", head)
        assert said, (tally.level, head)
        total, met, gap, no_data = (int(n) if n else 0 for n in said.groups())
        assert (total, met, gap, no_data) == (tally.total, tally.targets["met"], tally.targets["gap"], tally.targets["no_data"])
        assert total == met + gap + no_data
    # by hand: a city target is an indicator assessed whose city row has a target
    city = run.indicators[(run.indicators["zone_type"] == "city") & (run.indicators["status"] != "not_assessed")]
    assert tallies[0].total == int(city["target"].notna().sum())


# --- web map --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages(run: RunOutputs, layers: LayerReader, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("lang-maps")
    return {lang: write_map(run, folder / f"map-{lang}.html", layers=layers, lang=lang).read_text(encoding="utf-8")
            for lang in ("zh", "en")}


def interactive_texts(html: str) -> dict[str, list[str]]:
    """The texts a reader meets only by pointing or clicking, as the page's scripts hold them: every popup and tooltip of
    the GeoJSON layers, the legend, the layer panel's headings and labels, the county names and the north arrow."""
    found: dict[str, list[str]] = {"popups": [], "tooltips": [], "legend": [], "panel": [], "labels": []}
    for data in page_layers(html).values():
        for feature in data["features"]:
            properties = feature["properties"]
            found["popups"] += [page_text(properties["popup"])] if properties.get("popup") else []
            found["tooltips"] += [page_text(properties["tooltip"])] if properties.get("tooltip") else []
    found["legend"] = [page_text(json.loads(m.group(1))) for m in re.finditer(r"div\.innerHTML = (\".*?\");\n", html)]
    panel = json.loads(re.search(r"var P = (\{.*?\});\n", html).group(1))  # type: ignore[union-attr]
    found["panel"].append(page_text(panel["heading"]))
    for group in panel["themes"] + panel["groups"]:
        found["panel"].append(page_text(group["heading"]))
        for item in group["items"]:
            found["panel"] += [page_text(item["label"]), *(page_text(f["label"]) for f in item.get("follow", []))]
    found["labels"] = [page_text(json.loads(f'"{m.group(1)}"')) for m in re.finditer(r'"html": "(.*?)"', html)]
    found["labels"] += [json.loads(m.group(1)) for m in re.finditer(r"(?:div\.title|this\.letter) = (\".*?\")", html)]
    found["labels"] += [json.loads(m.group(1)) for m in re.finditer(r"div\.title = (\".*?\");", html)]
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_is_in_one_language(pages: dict[str, str], data: dict[str, set[str]], lang: Lang) -> None:
    html = pages[lang]
    assert check([page_text(html)], lang, data) == []
    texts = interactive_texts(html)
    assert len(texts["popups"]) > 500 and len(texts["tooltips"]) > 500 and texts["legend"] and len(texts["panel"]) > 60
    for kind, said in texts.items():
        assert check(said, lang, data) == [], kind


def test_map_tooltips_name_zones_and_say_no_data_once(pages: dict[str, str], run: RunOutputs) -> None:
    zh, en = interactive_texts(pages["zh"])["tooltips"], interactive_texts(pages["en"])["tooltips"]
    assert not [t for t in zh + en if "— —" in t]  # a missing value is not a dash before the status
    missing = run.indicators[run.indicators["value"].isna() & (run.indicators["zone_type"] == "county")]
    if not missing.empty:
        assert any(t.endswith(": 无数据") for t in zh) and any(t.endswith(": no data") for t in en)
    assert any(t.startswith("Hubin: ") for t in en) and any(t.startswith("湖滨区: ") for t in zh)
