"""One language when asked: the texts the outputs draw on exist in Chinese and in English, each free of the other.

The reference specs (``analyses/*.yaml``) and catalog (``layers/catalog.yaml``) are read as shipped;
the sentences of :mod:`gis.outputs.text` are built from them and checked with
:func:`gis.outputs.i18n.foreign_words`, the same check the output pages get.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gis.bilingual import HAN
from gis.outputs.i18n import UNITS, foreign_words, zone_label
from gis.outputs.text import class_labels, clause_text, describe_target, format_shortfall, format_target, format_value, zone_shortfalls
from gis.project.catalog import read_catalog
from gis.project.specs import SPEC_TEXT_KEYS, Spec, read_spec

ROOT = Path(__file__).resolve().parents[1]
SPECS = [read_spec(path) for path in sorted((ROOT / "analyses").glob("*.yaml"))]
CATALOG = read_catalog(ROOT / "layers" / "catalog.yaml")
ZONES = ["湖滨区", "陕州区 built-up area (建成区)", "灵宝市"]


def _clean(zh: str, en: str) -> list[str]:
    """What is wrong with a pair: Chinese without Han, or with English words; English with Han."""
    wrong = [] if HAN.search(zh) else ["no Chinese in zh"]
    wrong += [f"zh: {w}" for w in foreign_words(zh, "zh")]
    return wrong + [f"en: {w}" for w in foreign_words(en, "en")]


def test_the_reference_project_has_its_65_specs() -> None:
    assert len(SPECS) == 65


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_every_spec_text_is_in_both_languages(spec: Spec) -> None:
    problems = {}
    for key in SPEC_TEXT_KEYS:
        text = spec.bilingual(key)
        if text is None or (key == "unit" and (text == "share" or text in UNITS)):
            continue  # no such text; a unit that is an id or a symbol reads the same in both
        wrong = _clean(text.zh, text.en) if text.translated else ["one plain string: give {zh, en}"]
        if wrong:
            problems[key] = wrong
    assert problems == {}


def test_the_texts_that_read_the_plan_quote_it_in_chinese() -> None:
    """The plan's wording reads as its own Chinese where code takes it as one string (the plan is Chinese)."""
    wordings = [s.target.wording for s in SPECS if s.target is not None]
    assert len(wordings) == 61
    assert all(str(w) == w.zh and HAN.search(w) for w in wordings)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.target is not None and s.shortfall is not None], ids=lambda s: s.id)
def test_shortfall_and_target_sentences_are_in_one_language(spec: Spec) -> None:
    assert spec.target is not None and spec.shortfall is not None
    target = spec.target.model_dump()
    unit, short = spec.unit, spec.shortfall.unit
    zh = [
        describe_target(target, unit, lang="zh", year=2025, baseline_year=2020),
        zone_shortfalls([(zone_label(z, None, "zh"), 7) for z in ZONES], short, "zh"),
        format_shortfall(1449, short, "zh"),
        format_target(">=", 3, unit, "zh"),
        *class_labels([1, 2], unit, "zh"),
    ]
    en = [
        describe_target(target, unit, lang="en", year=2025, baseline_year=2020),
        zone_shortfalls([(zone_label(z, ("湖滨区", "Hubin"), "en"), 7) for z in ZONES[:1]], short, "en"),
        format_shortfall(1449, short, "en"),
        format_target(">=", 3, unit, "en"),
        *class_labels([1, 2], unit, "en"),
    ]
    assert [foreign_words(text, "zh") for text in zh] == [[]] * len(zh), zh
    assert [foreign_words(text, "en") for text in en] == [[]] * len(en), en


def test_shortfall_sentences_by_hand() -> None:
    spec = next(s for s in SPECS if s.id == "charging.parking_share")
    assert spec.shortfall is not None
    unit = spec.shortfall.unit
    assert format_shortfall(1449, unit, "zh") == "1,449个车位待配建充电设施"
    assert format_shortfall(1449, unit, "en") == format_shortfall(1449, unit, "both") == "1,449 charger spaces"
    assert zone_shortfalls([("湖滨区", 7), ("陕州区", 4)], unit, "zh") == "湖滨区 7、陕州区 4（个车位待配建充电设施）"
    assert zone_shortfalls([("Hubin", 7), ("Shanzhou", 4)], unit, "en") == "Hubin 7, Shanzhou 4 (charger spaces)"
    outfalls = next(s for s in SPECS if s.id == "sewage.direct_outfalls")
    assert format_value(3, outfalls.unit, "zh") == "3个排污口" and format_value(3, outfalls.unit, "en") == "3 outfalls"
    assert format_value(2.5, "km2", "zh") == "2.5 km2"  # a plain unit: the same in both


def test_the_catalog_names_things_in_both_languages() -> None:
    project = CATALOG.project
    assert (project.title.zh, project.title.en) == ('三门峡市"十四五"节能减排 2025', "Sanmenxia 2025")
    assert (project.city.title.zh, project.city.title.en) == ("三门峡市", "Sanmenxia")
    assert project.plan is not None and _clean(project.plan.zh, project.plan.en) == []
    assert sorted(project.theme_names) == sorted(project.themes)
    problems = {theme: _clean(name.zh, name.en) for theme, name in project.theme_names.items()}
    for layer, entry in CATALOG.layers.items():
        if entry.title is not None:
            problems[f"{layer} title"] = _clean(entry.title.zh, entry.title.en) if entry.title.translated else ["untranslated"]
        for field, table in entry.values.items():
            for code, name in table.items():
                problems[f"{layer}.{field}={code}"] = _clean(name.zh, name.en) if name.translated else ["untranslated"]
        for land in entry.classes:
            problems[f"{layer} class {land.code}"] = _clean(land.name.zh, land.name.en)
    assert {key: wrong for key, wrong in problems.items() if wrong} == {}


def test_the_coded_fields_that_specs_show_have_value_names() -> None:
    """Every text field a spec names on its gap features (label_fields) whose values are codes has a value table."""
    coded = {("heat_sources", "kind"), ("parking_lots", "category"), ("two_high_projects", "sector"), ("two_high_projects", "stage"),
             ("outfalls", "kind"), ("public_institutions", "kind"), ("public_institutions", "level"), ("water_sections", "kind"),
             ("water_sections", "water_class"), ("water_sources", "kind"), ("new_buildings", "energy_class"), ("parks", "kind"),
             ("parks", "pilot"), ("green_factories", "level"), ("charging_hubs", "kind"), ("fuel_outlets", "kind"),
             ("waste_facilities", "kind"), ("key_energy_users", "sector"), ("key_polluters", "sector")}
    shown = set()
    for spec in SPECS:
        layer = spec.inputs.get("features")
        for field in spec.parameters.get("label_fields", []):
            if layer and (layer, field) in coded:
                shown.add((layer, field))
    assert shown  # the specs do show coded fields
    assert [pair for pair in sorted(shown) if pair[1] not in CATALOG.layers[pair[0]].values] == []


def test_zone_names_read_in_one_language() -> None:
    name = "陕州区 built-up area (建成区)"
    assert foreign_words(zone_label(name, ("陕州区", "Shanzhou"), "zh"), "zh") == []
    assert foreign_words(zone_label(name, ("陕州区", "Shanzhou"), "en"), "en") == []


def test_clauses_read_in_english_as_parts_and_attachments() -> None:
    assert [clause_text(c, "en") for c in ("二(三)", "二(十)", "一", "一, 三(一)", "二(一), 附件2", "附件2")] == [
        "part 2 (3)", "part 2 (10)", "part 1", "part 1, part 3 (1)", "part 2 (1), attachment 2", "attachment 2"]
    assert clause_text("二(三)", "zh") == clause_text("二(三)", "both") == "二(三)"
    assert all(foreign_words(clause_text(s.clause, "en"), "en") == [] for s in SPECS)
