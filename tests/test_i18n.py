"""Labels in Chinese, English or both; texts in two languages; the zones' English names; the one-language check."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from gis.bilingual import as_bilingual, text_of
from gis.errors import UsageError
from gis.outputs.i18n import STATUS_LABELS, check_lang, foreign_words, html_lang, label, page_text, pick, value_label, zone_label
from gis.project.catalog import LayerEntry
from gis.project.specs import Spec


def test_label_picks_from_the_pair() -> None:
    assert label("状态", "status") == "状态 status"
    assert label("状态", "status", "zh") == "状态"
    assert label("状态", "status", "en") == "status"
    assert label("三门峡市", None, "en") == "三门峡市"  # no English form: the name itself
    assert label("id", "id", "zh") == "id"
    assert label("甲", "A", sep=" / ") == "甲 / A"
    assert pick(STATUS_LABELS, "no_data", "en") == "no data"
    assert pick(STATUS_LABELS, "unheard_of", "zh") == "unheard_of"


def test_zone_names_keep_what_the_outputs_added() -> None:
    catalog = ("湖滨区", "Hubin")
    assert [zone_label("湖滨区", catalog, lang) for lang in ("both", "zh", "en")] == ["湖滨区 Hubin", "湖滨区", "Hubin"]
    built_up = "湖滨区 built-up area (建成区)"
    assert [zone_label(built_up, catalog, lang) for lang in ("both", "zh", "en")] == [
        "湖滨区 Hubin built-up area (建成区)", "湖滨区建成区", "Hubin built-up area"]
    assert [zone_label(built_up, None, lang) for lang in ("both", "zh", "en")] == [
        built_up, "湖滨区建成区", "湖滨区 built-up area"]  # no English name: the Chinese one stands
    assert zone_label("湖滨区 central area (中心区)", catalog, "zh") == "湖滨区中心区"  # any 'English (中文)' extension
    assert zone_label("湖滨区东", catalog, "en") == "湖滨区东"  # another name, not an extension
    assert zone_label("湖滨区", None, "en") == "湖滨区"


def test_languages() -> None:
    assert [html_lang(lang) for lang in ("both", "zh", "en")] == ["zh-Hans", "zh-Hans", "en"]
    assert check_lang("en") == "en"
    with pytest.raises(UsageError, match="choose one of both, zh, en"):
        check_lang("EN")


def test_a_text_in_two_languages_reads_as_its_plain_form() -> None:
    text = as_bilingual({"zh": "个排污口", "en": "outfalls"})
    assert text == "outfalls" and str(text) == "outfalls"  # code that takes it as a string keeps the English
    assert (text.zh, text.en, text.pick("zh"), text.pick("both")) == ("个排污口", "outfalls", "个排污口", "个排污口 outfalls")
    assert as_bilingual({"zh": "全市", "en": "the whole city"}, "zh") == "全市"  # the plan's wording reads as its Chinese
    plain = as_bilingual("km2")
    assert (plain.zh, plain.en, plain.translated) == ("km2", "km2", False)
    titled = as_bilingual("Heat sources (热源)", "en (zh)")  # the catalog's titles: split when in that shape
    assert (titled.zh, titled.en, str(titled)) == ("热源", "Heat sources", "Heat sources (热源)")
    assert as_bilingual("耕地 cropland", "zh en").en == "cropland"
    assert not as_bilingual("Population, about 100 m (人口, persons per cell)", "en (zh)").translated  # latin in the brackets
    assert pickle.loads(pickle.dumps(text)).zh == "个排污口"
    assert text_of({"zh": "甲", "en": "A"}, "en") == "A" and text_of(None, "zh") == "" and text_of("x", "zh") == "x"
    with pytest.raises(ValueError, match="needs exactly 'zh' and 'en' \\(missing en\\)"):
        as_bilingual({"zh": "甲"})


def test_a_spec_gives_each_text_in_either_language() -> None:
    spec = Spec.model_validate({
        "id": "a.b", "title": {"zh": "甲", "en": "A"}, "theme": "t", "clause": "一", "formula": "x / y", "method": "ratio",
        "definition": {"zh": "某某的比例。", "en": "The share of x."}, "inputs": {"features": "f"},
        "unit": "share", "target": {"comparator": ">=", "value": 0.5, "clause": "一",
                                    "wording": {"zh": "达到50%", "en": "Reach 50 %"}, "reading": "Read as it says."},
        "shortfall": {"unit": {"zh": "个设施", "en": "facilities"}},
    })
    assert [spec.text(key, "zh") for key in ("title", "definition", "wording", "reading", "shortfall_unit", "notes")] == [
        "甲", "某某的比例。", "达到50%", "Read as it says.", "个设施", ""]  # a plain string reads the same in both
    assert spec.text("wording", "en") == "Reach 50 %" and spec.target is not None and spec.target.wording == "达到50%"
    assert spec.texts()["shortfall_unit"] == {"zh": "个设施", "en": "facilities"}
    assert spec.model_dump(mode="json")["definition"] == {"zh": "某某的比例。", "en": "The share of x."}
    assert spec.model_dump(mode="json")["unit"] == "share"
    with pytest.raises(KeyError, match="unknown spec text 'formula'"):
        spec.text("formula")


def test_coded_values_read_in_one_language() -> None:
    entry = LayerEntry.model_validate({
        "file": "x.gpkg", "kind": "vector", "fields": {"id": "id", "kind": "kind", "water_class": "cls"},
        "provenance": {"source": "s", "licence": "l", "date": "d"},
        "values": {"kind": {"coal_boiler": {"zh": "燃煤锅炉", "en": "coal boiler"}}, "water_class": {3: {"zh": "Ⅲ类", "en": "class III"}}},
    })
    kinds = entry.values.get("kind")
    assert [value_label(kinds, "coal_boiler", lang) for lang in ("zh", "en", "both")] == ["燃煤锅炉", "coal boiler", "燃煤锅炉 coal boiler"]
    assert value_label(kinds, "gas_boiler", "zh") == "gas_boiler"  # not in the table: as it is
    assert value_label(entry.values.get("water_class"), np.float64(3.0), "zh") == "Ⅲ类"  # 3.0 read from a file is code 3
    assert [value_label(None, np.True_, "zh"), value_label(None, False, "en")] == ["是", "no"]
    with pytest.raises(ValidationError, match="'values' names field 'sector'"):
        LayerEntry.model_validate({"file": "x", "kind": "vector", "fields": {"id": "id"}, "values": {"sector": {}},
                                   "provenance": {"source": "s", "licence": "l", "date": "d"}})


def test_foreign_words_are_found_outside_ids_units_and_names() -> None:
    zh = "permeable.share 湖滨区建成区：缺口 4.117 km2，charger_spaces 字段；运行 20261130T164608Z-2db72a85，EPSG:4546；VOCs 达到 III 类"
    assert foreign_words(zh, "zh") == []
    assert foreign_words("缺口 3 charger spaces to add（见 `pilot`）", "zh") == ["charger", "spaces", "to", "add"]
    assert foreign_words("灵宝市 Lingbao：达标", "zh") == ["Lingbao"]
    assert foreign_words("灵宝市 Lingbao：达标", "zh", names=["Lingbao"]) == []  # a name from the data is allowed when listed
    assert foreign_words("Leaflet 地图", "zh", allowed=["Leaflet"]) == []
    assert foreign_words("Shortfall: 1,449 charger spaces in 湖滨区, 陕州区", "en") == ["湖滨区", "陕州区"]
    assert foreign_words("Shortfall: 陕州区 7、渑池县 4", "en", names=["陕州区", "渑池县"]) == ["、"]  # Chinese punctuation
    assert foreign_words("class III ≥ 40.0% — km2", "en") == []
    assert foreign_words("anything 任何", "both") == []


def test_page_text_is_what_a_reader_sees() -> None:
    html = '<html><head><style>.a{color:red}</style><script>var x = "隐藏";</script></head><body title="标题"><p>达标 &amp; met</p></body></html>'
    assert page_text(html) == "标题 达标 & met"
    assert "隐藏" in page_text(html, scripts=True)


def test_a_text_dumps_to_yaml_as_it_is_written() -> None:
    texts = {"class": as_bilingual("耕地 cropland", "zh en"), "title": as_bilingual({"zh": "热源", "en": "Heat sources"}), "unit": as_bilingual("t")}
    assert yaml.safe_load(yaml.safe_dump(texts, allow_unicode=True)) == {
        "class": "耕地 cropland", "title": {"zh": "热源", "en": "Heat sources"}, "unit": "t"}
