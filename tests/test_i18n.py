"""Labels in Chinese, English or both, and the zones' English names."""

from __future__ import annotations

import pytest

from gis.errors import UsageError
from gis.outputs.i18n import STATUS_LABELS, check_lang, html_lang, label, pick, zone_label


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
    assert zone_label(built_up, catalog, "en") == "Hubin built-up area (建成区)"
    assert zone_label(built_up, catalog, "both") == "湖滨区 Hubin built-up area (建成区)"
    assert zone_label("湖滨区东", catalog, "en") == "湖滨区东"  # another name, not an extension
    assert zone_label("湖滨区", None, "en") == "湖滨区"


def test_languages() -> None:
    assert [html_lang(lang) for lang in ("both", "zh", "en")] == ["zh-Hans", "zh-Hans", "en"]
    assert check_lang("en") == "en"
    with pytest.raises(UsageError, match="choose one of both, zh, en"):
        check_lang("EN")
