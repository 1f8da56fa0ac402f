"""One language when asked: the report and the brief of one run, rebuilt in Chinese and in English, hold no word of
the other language outside ids, units and the data's own names (:func:`gis.outputs.i18n.foreign_words`).

The pages are rebuilt from the shared sample run (``sample_run``: 0.1 scale, seed 7) as HTML only; the PDFs print the
same HTML. What a page may quote as it is comes from the run itself, never from a list of words:

- names from the data: the zones of indicators.csv, the items of proposals.csv, the gap features of planning.gpkg,
  and the inputs' provenance (source and licence, cited as the catalog writes them);
- ids: the names of the run's layers and of the packages run.json records versions of.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gis.bilingual import HAN
from gis.outputs.brief import render_brief
from gis.outputs.folder import RunOutputs, read_run
from gis.outputs.i18n import foreign_words, page_text
from gis.outputs.report import render_report, report_context
from gis.values import is_missing


def data_names(run: RunOutputs) -> set[str]:
    """The names the pages quote from the data: zones, proposal items, gap features, the inputs' sources and licences."""
    names = {str(n) for n in run.indicators["zone_name"] if not is_missing(n)}
    if not run.proposals.empty and "item_name" in run.proposals.columns:
        names |= {str(n) for n in run.proposals["item_name"] if not is_missing(n)}
    for layer in run.layers:
        if layer.endswith(".gaps"):
            frame = run.read_layer(layer)
            if "name" in frame.columns:
                names |= {str(n) for n in frame["name"] if not is_missing(n)}
    for entry in (run.record.get("inputs") or {}).values():
        provenance = entry.get("provenance") or {}
        names |= {str(provenance[k]) for k in ("source", "licence") if provenance.get(k)}
    return names


def run_ids(run: RunOutputs) -> set[str]:
    """The ids a page may show as they are: the run's layer names and the packages of run.json's ``versions``."""
    record = run.record
    ids = {str(name) for name in record.get("inputs") or {}}
    for item in (record.get("indicators") or {}).values():
        ids |= {str(name) for name in (item.get("inputs") or {}).values()}
    return ids | {str(name) for name in record.get("versions") or {}}


@pytest.fixture(scope="module")
def run(sample_run: tuple[Path, Path]) -> RunOutputs:
    return read_run(sample_run[1])


@pytest.fixture(scope="module")
def pages(run: RunOutputs) -> dict[tuple[str, str], str]:
    """The report's and the brief's text in Chinese and in English, rebuilt from the one run."""
    out = {}
    for lang in ("zh", "en"):
        context = report_context(run, lang=lang)
        out["report", lang] = page_text(render_report(run, lang=lang, context=context))
        out["brief", lang] = page_text(render_brief(run, lang=lang, context=context))
    return out


@pytest.mark.parametrize("page", ["report", "brief"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_page_in_one_language_has_no_word_of_the_other(run: RunOutputs, pages: dict[tuple[str, str], str], page: str,
                                                          lang: str) -> None:
    assert foreign_words(pages[page, lang], lang, names=data_names(run), allowed=run_ids(run)) == []  # type: ignore[arg-type]


def test_the_check_finds_the_other_language(run: RunOutputs, pages: dict[tuple[str, str], str]) -> None:
    """Each page read as the other language is full of foreign words: the check above can fail."""
    names, ids = data_names(run), run_ids(run)
    for page in ("report", "brief"):
        assert len(foreign_words(pages[page, "zh"], "en", names=names, allowed=ids)) > 20
        assert len(foreign_words(pages[page, "en"], "zh", names=names, allowed=ids)) > 20


def test_the_spec_texts_come_in_the_page_language(run: RunOutputs, pages: dict[tuple[str, str], str]) -> None:
    """The definition, the plan's wording and the shortfall unit of an indicator, as run.json gives them, in each page."""
    texts = run.record["indicators"]["agencies.conservation"]["texts"]
    zh, en = pages["report", "zh"], pages["report", "en"]
    for key in ("definition", "wording", "reading"):
        assert " ".join(texts[key]["zh"].split()) in zh
        assert " ".join(texts[key]["en"].split()) in en
    assert not HAN.search(texts["definition"]["en"])
    assert "比值 （公式见 analyses/agencies.conservation.yaml）" in zh  # the method by name; the formula (English) in the spec
    assert "count(agencies with conservation_agency) / count(county-level and higher agencies) ratio" in en
    short = run.indicators.query("indicator == 'charging.parking_share' and zone_type == 'city'").iloc[0]
    assert short["status"] == "gap"
    number = f"{int(short['shortfall']):,}"
    assert f"{number}{texts_of(run, 'charging.parking_share')['zh']}" in zh
    assert f"{number} {texts_of(run, 'charging.parking_share')['en']}" in en


def texts_of(run: RunOutputs, indicator: str) -> dict[str, str]:
    """An indicator's shortfall unit in both languages, as run.json gives it."""
    return run.record["indicators"][indicator]["texts"]["shortfall_unit"]


def test_the_project_and_the_zones_are_named_in_the_page_language(pages: dict[tuple[str, str], str]) -> None:
    zh, en = pages["report", "zh"], pages["report", "en"]
    assert "三门峡市" in zh and re.search(r"Project: Sanmenxia\b", en)
    assert "Hubin" in en
    assert "part 2 (6)" in en and "二(六)" in zh
