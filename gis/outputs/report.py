"""The printable gap report (``report.html``): summary, one section per indicator, provenance.

Everything is computed from a finished run (:class:`~gis.outputs.folder.RunOutputs`); the
definitions and formulas come from the project's specs when the project can still be read,
the colours from its map spec (:mod:`gis.outputs.symbology`). The sections are built in
:mod:`gis.outputs.report_sections`, their maps and charts drawn as inline SVG in
:mod:`gis.outputs.report_svg`, so the file needs no network, script or font.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyproj
from jinja2 import Environment, PackageLoader, StrictUndefined

from gis.bilingual import Bilingual
from gis.errors import DataError, GisError
from gis.methods.zones import catalog_names
from gis.outputs._files import output_file, write_text_whole
from gis.outputs.folder import RunOutputs
from gis.outputs.i18n import STATUS_LABELS, TRAJECTORY_LABELS, Lang, check_lang, html_lang
from gis.outputs.pdf import CJK_FONTS
from gis.outputs.plan_coverage import coverage_counts
from gis.outputs.report_sections import (
    ABOVE_COUNTIES,
    GEOGRAPHIC_CRS,
    TOP_GAPS,
    ProposalSection,
    ReportContext,
    Section,
    Words,
    anchor,
    city_trajectory,
    county_context,
    indicator_texts,
    proposal_sections,
    read_layer,
    section,
)
from gis.outputs.run_texts import reason_text
from gis.outputs.summary import (
    LevelTally,
    has_prefectures,
    headline,
    indicator_summary,
    not_assessed,
    status_counts,
    target_tallies,
    target_years,
)
from gis.outputs.symbology import STATUSES, Palette, run_map_spec
from gis.outputs.text import as_text, clause_text, format_number, format_shortfall, format_target, format_value, zone_shortfalls
from gis.project.catalog import SYNTHETIC_NOTE, Catalog
from gis.project.config import read_project
from gis.project.layers import LayerReader
from gis.values import is_missing

log = logging.getLogger("gis")


def theme_names(catalog: Catalog | None) -> dict[str, Bilingual]:
    """The catalog's name of each of its themes (``project.theme_names``); empty without a catalog."""
    if catalog is None:
        return {}
    return {theme: catalog.project.theme_name(theme) for theme in catalog.project.themes}


def theme_heading(names: dict[str, Bilingual], theme: str, words: Words) -> str:
    """A theme's heading in the page's language(s): the catalog's name, else the theme's id ('Other' without one)."""
    name = names.get(theme)
    if name is not None and name.translated:
        return words.t(name.zh, name.en)
    return theme or words.t("其他", "Other")


@dataclass
class _Report:
    run: dict[str, Any]
    synthetic: bool
    synthetic_layers: list[str]
    counts: dict[str, int]
    """Zone rows by status (all levels): second to the targets."""
    tallies: list[LevelTally]
    """The plan's targets by the level it sets them at (city, county, park), by status: the headline."""
    headlines: list[str]
    """The targets in one line, in the report's language(s): Chinese first in ``both``."""
    indicator_count: int
    summary: list[dict[str, Any]]
    gaps_by_zone: list[dict[str, Any]]
    """The zones below the city (below the prefectures, above them) with their gaps, most first."""
    sections: list[Section]
    inputs: list[dict[str, Any]]
    parameters: list[dict[str, str]]
    versions: dict[str, str]
    quality: list[dict[str, str]]
    spec_note: str
    palette: Palette
    metric_crs: str
    target_years: list[int] = field(default_factory=list)
    city_name: str = ""
    proposals: list[ProposalSection] = field(default_factory=list)
    not_assessed: list[dict[str, str]] = field(default_factory=list)
    """The indicators not assessed (a layer they read is not in the catalog): id, titles, reason, note."""
    plan_counts: dict[str, int] = field(default_factory=dict)
    """Items of the plan register per assessment (assessed, approximated, not_assessed); empty without a register."""
    plan_items: int = 0
    lang: Lang = "both"
    labels: dict[str, str] = field(default_factory=dict)
    count_words: dict[str, str] = field(default_factory=dict)
    count_note: str = ""
    trajectory_labels: dict[str, str] = field(default_factory=dict)
    top_gaps: int = TOP_GAPS
    geographic_crs: str = GEOGRAPHIC_CRS
    title: Bilingual | None = None
    """The project's name in both languages (the catalog's ``name_zh`` and ``name``) when the project could be read."""
    layer_titles: dict[str, Bilingual] = field(default_factory=dict)
    theme_names: dict[str, Bilingual] = field(default_factory=dict)
    """The catalog's name of each theme, in both languages (empty when the project could not be read)."""
    """The catalog's title of each layer, in both languages (empty when the project could not be read)."""
    prefecture_gaps: list[dict[str, Any]] = field(default_factory=list)
    """The prefectures with their gaps, most first (empty without a prefecture level)."""
    province: bool = False
    """Whether the run reports prefectures: its top zone is then a province (the page says 全省, province)."""

    def __post_init__(self) -> None:
        words = Words(self.lang)
        self.labels = self.labels or {k: words.status(k) for k in STATUSES}
        # the status words after the counts: English in the bilingual page (the Chinese follows in brackets)
        self.count_words = self.count_words or {k: words.solo(*STATUS_LABELS[k]) for k in STATUSES}
        if self.lang == "both" and not self.count_note:
            self.count_note = " / ".join(STATUS_LABELS[k][0] for k in STATUSES)
        self.trajectory_labels = self.trajectory_labels or {k: words.trajectory(k) for k in TRAJECTORY_LABELS}

    @property
    def assessed_count(self) -> int:
        """How many of the indicators were assessed."""
        return self.indicator_count - len(self.not_assessed)

    @property
    def shown_statuses(self) -> list[str]:
        """The statuses the counts show: ``not_assessed`` only when some row has it."""
        return [s for s in STATUSES if s != "not_assessed" or self.counts.get(s)]

    @property
    def colours(self) -> dict[str, str]:
        """Status to colour, from the project's map spec."""
        return self.palette.status

    @property
    def trajectory_colours(self) -> dict[str, str]:
        return self.palette.trajectory

    @property
    def gap_colour(self) -> str:
        return self.palette.gap_features

    @property
    def proposal_colour(self) -> str:
        return self.palette.proposals

    @property
    def project_name(self) -> str:
        """The project's name in the report's language (:func:`project_title`)."""
        return project_title(self.run, self.title, self.lang)

    @property
    def example_id(self) -> str:
        """The id of the first indicator with a section: the example of a layer name the Chinese page gives."""
        return self.sections[0].id if self.sections else "permeable.share"

    @property
    def synthetic_note(self) -> str:
        """The run's note on its synthetic data in the report's language ('' without one)."""
        return synthetic_note(self.run, self.lang)

    @property
    def place_name(self) -> str:
        """The name of the place the report is about: its city zone's (as the data give it), else the project's."""
        return self.city_name or self.project_name

    @property
    def proposal_anchors(self) -> dict[str, str]:
        """Indicator id to the anchor of its proposal block."""
        return {block.id: block.anchor for block in self.proposals}

    @property
    def contents(self) -> list[dict[str, Any]]:
        """The lines of the contents: the summary, each theme and its indicators, the proposals, the provenance."""
        words = Words(self.lang)
        lines: list[dict[str, Any]] = [{"anchor": "summary", "text": words.t("摘要", "Summary"), "theme": True}]
        for theme, heading, items in self.themes:
            lines.append({"anchor": f"theme-{theme}", "text": heading, "theme": True})
            lines += [{"anchor": item.anchor, "text": item.title_en if self.lang == "en" else item.title_zh, "theme": False} for item in items]
        if self.proposals:
            lines.append({"anchor": "proposals", "text": words.t("建议", "Proposals"), "theme": True})
        lines.append({"anchor": "provenance", "text": words.t("数据来源与运行记录", "Provenance and run record"), "theme": True})
        return lines

    def layer_name(self, name: str) -> str:
        """An input layer as the page names it: its id in the bilingual page (as the files name it), its catalog title
        in one language (the id without a title)."""
        title = self.layer_titles.get(name)
        return name if self.lang == "both" or title is None else title.pick(self.lang)

    @property
    def list_sep(self) -> str:
        """What separates the items of a list: '、' in Chinese, ', ' otherwise."""
        return "、" if self.lang == "zh" else ", "

    @property
    def synthetic_list(self) -> str:
        """The synthetic layers: every one (ids in the bilingual page, titles otherwise); in one language, when most are
        synthetic, 'all N but' the others."""
        names = self.synthetic_layers
        others = [row["name"] for row in self.inputs if not row["is_synthetic"]]
        if self.lang == "both" or len(others) >= len(names) or not others:
            return self.list_sep.join(self.layer_name(n) for n in names)
        listed = self.list_sep.join(self.layer_name(n) for n in others)
        if self.lang == "zh":
            return f"除{listed}外的全部 {len(names)} 个图层"
        return f"all {len(names)} layers but {listed}"

    @property
    def sources(self) -> list[dict[str, Any]]:
        """The inputs by source and licence: each with the names of its layers (the full table is in the workbook)."""
        groups: dict[tuple[str, str], list[str]] = {}
        for row in self.inputs:
            groups.setdefault((row["source"], row["licence"]), []).append(self.layer_name(row["name"]))
        return [{"source": source, "licence": licence, "layers": names} for (source, licence), names in groups.items()]

    @property
    def themes(self) -> list[tuple[str, str, list[Section]]]:
        """The sections by theme, in the order of the table: (theme id, heading, sections)."""
        groups: dict[str, list[Section]] = {}
        for item in self.sections:
            groups.setdefault(item.theme, []).append(item)
        words = Words(self.lang)
        out = []
        for theme, items in groups.items():
            out.append((theme, theme_heading(self.theme_names, theme, words), items))
        return out

    @property
    def level_words(self) -> dict[str, str]:
        """The heading of each level of targets."""
        words = Words(self.lang)
        city = words.t("全省目标", "Province targets") if self.province else words.t("全市目标", "City targets")
        return {"city": city, "prefecture": words.t("分地级市目标", "Targets set per prefecture"),
                "county": words.t("分县(市、区)目标", "Targets set per county"), "park": words.t("分园区目标", "Targets set per park")}

    @staticmethod
    def crs_label(crs: object) -> str:
        """A CRS as the page names it: an authority code as it is ('EPSG:4546'), a CRS written out in full (WKT) by its name."""
        return crs_label(crs)

    @property
    def html_lang(self) -> str:
        """The page's ``lang`` attribute."""
        return html_lang(self.lang)


# --- the project behind the run ----------------------------------------------------------------------


def crs_label(crs: object) -> str:
    """A CRS as a page names it: a short code as it is ('EPSG:4546'), one written out (WKT, PROJ JSON) by its name
    ('CGCS2000 / Albers Henan'); '' when missing."""
    text = as_text(crs)
    if len(text) <= 40 or "[" not in text and "{" not in text:
        return text
    try:
        return str(pyproj.CRS.from_user_input(text).name)
    except pyproj.exceptions.CRSError:
        return text


def project_title(record: dict[str, Any], title: Bilingual | None, lang: Lang) -> str:
    """The project's name: the catalog's in ``lang`` (``name_zh`` in Chinese, ``name`` in English) when the project
    could be read, else the run record's ``project.name``; the record's in the bilingual page (as it always showed)."""
    name = as_text((record.get("project") or {}).get("name"))
    if title is None or lang == "both":
        return name or (str(title) if title is not None else "")
    return title.pick(lang)


SYNTHETIC_NOTES: dict[str, tuple[str, str]] = {
    SYNTHETIC_NOTE: ("合成示例数据：并非真实设施数据", SYNTHETIC_NOTE),
}
"""The run record's ``synthetic_note`` (English) in Chinese and English."""


def synthetic_note(record: dict[str, Any], lang: Lang) -> str:
    """The run's ``synthetic_note`` in ``lang`` (a note the table does not know is left out of a Chinese page)."""
    note = as_text(record.get("synthetic_note"))
    if note in SYNTHETIC_NOTES:
        zh, en = SYNTHETIC_NOTES[note]
        return zh if lang == "zh" else en
    return "" if lang == "zh" else note


def _project(run: RunOutputs, layers: LayerReader | None, words: Words) -> tuple[LayerReader | None, str]:
    """The given project's layers, else the run's project folder; a note when it cannot be read."""
    if layers is not None:
        return layers, ""
    root = (run.record.get("project") or {}).get("root")
    if not root:
        return None, words.t(
            "运行记录未注明项目文件夹：定义和公式从缺。",
            "The run record names no project folder: definitions and formulas are not available.",
        )
    try:
        return LayerReader(read_project(root)), ""
    except (GisError, OSError) as exc:
        log.warning("report: project %s not readable (%s); definitions left out", root, exc)
        return None, words.t(
            f"无法读取项目文件夹 {root}（{exc}）：定义和公式从缺。",
            f"The project folder {root} could not be read ({exc}): definitions and formulas are not available.",
        )


def _catalog_names(project: LayerReader | None) -> dict[tuple[str, str], tuple[str, str]]:
    if project is None:
        return {}
    try:
        return catalog_names(project)
    except (GisError, OSError) as exc:
        log.warning("report: English zone names not readable (%s); left out", exc)
        return {}


def _catalog(project: LayerReader | None) -> Catalog | None:
    """The project's catalog (its title, layer titles and coded values); None when the project is not readable."""
    if project is None:
        return None
    try:
        return project.catalog
    except (GisError, OSError) as exc:
        log.warning("report: catalog not readable (%s); names in one language left out", exc)
        return None


def _metric_crs(run: RunOutputs, project: LayerReader | None) -> str:
    """The CRS the run measured in: run.json's ``project.crs``, else the project's."""
    crs = (run.record.get("project") or {}).get("crs") or (project.crs if project is not None else None)
    if not crs:
        msg = f"{run.out_dir / 'run.json'}: no 'project.crs' (the metric CRS of the run); re-run `gis run` to rewrite the outputs"
        raise DataError(msg)
    return str(crs)


# --- the summary and the run record --------------------------------------------------------------------


COUNTIES_NAMED = 10
"""Counties named in the summary's 'Where' cell above prefectures, largest shortfall first (every one is in gaps.xlsx)."""


def _summary_rows(summary: pd.DataFrame, ctx: ReportContext, trajectories: dict[str, dict[str, Any] | None], *,
                  province: bool = False) -> list[dict[str, Any]]:
    """The summary table's rows; above prefectures (``province``) each with its zones short by level (``levels``)."""
    words, lang = ctx.words, ctx.lang
    rows = []
    for item in summary.to_dict("records"):
        unit = ctx.unit(item["indicator"], "unit", item["unit"])
        short_unit = ctx.unit(item["indicator"], "shortfall_unit", item["shortfall_unit"])
        pairs = [(words.zone(t, i, name), short) for (name, short), (t, i) in zip(item["gap_zone_names"], item["gap_zone_ids"], strict=True)]
        shortfall = "" if is_missing(item["shortfall"]) or item["status"] != "gap" else format_shortfall(item["shortfall"], short_unit, lang)
        row = {
            "id": item["indicator"],
            "anchor": anchor(item["indicator"]),
            "title_zh": item["title_zh"],
            "title_en": item["title_en"],
            "clause": clause_text(item["clause"], lang),
            "value": format_value(item["value"], unit, lang),
            "target": format_target(item["comparator"], item["target"], unit, lang),
            "status": item["status"],
            "status_label": words.status(item["status"]),
            "shortfall": shortfall,
            "gap_zones": f"{item['gap_zones']} / {item['target_zones']}" if item["target_zones"] else "—",
            "gap_zone_names": zone_shortfalls(pairs, short_unit, lang),
            "trajectory": trajectories.get(item["indicator"]),
            "levels": [],
        }
        if province:
            row["levels"] = _level_cells(item, pairs, short_unit, words)
        rows.append(row)
    return rows


def _level_cells(item: dict[str, Any], pairs: list[tuple[str, object]], unit: str, words: Words) -> list[dict[str, str]]:
    """The summary's zones short above prefectures, a line per level (its name said): the prefectures short, every one
    named; the counties (and parks) short, the :data:`COUNTIES_NAMED` largest named and the others counted."""
    lang = words.lang
    prefectures = [(words.zone(t, i, name), short)
                   for (name, short), (t, i) in zip(item["gap_prefecture_names"], item["gap_prefecture_ids"], strict=True)]
    sizes = pd.to_numeric(pd.Series([short for _, short in pairs], dtype=object), errors="coerce").fillna(float("-inf"))
    ranked = [pairs[k] for k in sizes.sort_values(ascending=False, kind="stable").index]
    named = zone_shortfalls(ranked[:COUNTIES_NAMED], unit, lang)
    more = len(ranked) - COUNTIES_NAMED
    if more > 0:
        named += words.t(f"，另 {more} 个", f", +{more} more")
    cells = []
    for level, total, short, names in (("prefecture", item["target_prefectures"], item["gap_prefectures"], zone_shortfalls(prefectures, unit, lang)),
                                       ("county", item["target_zones"], item["gap_zones"], named)):
        if total or names:
            cells.append({"level": level, "label": words.zone_type(level), "count": f"{short} / {total}" if total else "—", "names": names})
    return cells


def _gaps_by_zone(indicators: pd.DataFrame, words: Words, *, leave_out: tuple[str, ...] = ("city",)) -> list[dict[str, Any]]:
    """Zones below the city with the indicators they fall short of, most gaps first; the zone types in ``leave_out`` left out."""
    gaps = indicators[(indicators["status"] == "gap") & ~indicators["zone_type"].isin(leave_out)]
    out = []
    for (zone_type, zone_id), group in gaps.groupby(["zone_type", "zone_id"], sort=False):
        out.append({
            "zone_type": words.zone_type(zone_type),
            "zone_id": str(zone_id),
            "zone_name": words.zone(zone_type, zone_id, group["zone_name"].iloc[0]),
            "count": len(group),
            "indicators": [(str(i), anchor(str(i))) for i in group["indicator"]],
        })
    return sorted(out, key=lambda z: -z["count"])


def _inputs(record: dict[str, Any], words: Words) -> list[dict[str, Any]]:
    rows = []
    for name, entry in (record.get("inputs") or {}).items():
        provenance = entry.get("provenance") or {}
        synthetic = bool(entry.get("synthetic") or provenance.get("synthetic"))
        rows.append({
            "name": str(name),
            "file": Path(str(entry.get("file") or "")).name,
            "layer": as_text(entry.get("layer")),
            "source": as_text(provenance.get("source")),
            "licence": as_text(provenance.get("licence")),
            "date": as_text(provenance.get("date")),
            "citation": as_text(provenance.get("citation")),
            "synthetic": words.yes_no(synthetic),
            "is_synthetic": synthetic,
            "sha256": (as_text(entry.get("sha256")) or "—")[:12],
            "bytes": format_number(entry.get("bytes")),
        })
    return rows


def _parameters(record: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "id": str(indicator),
            "method": as_text(item.get("method")),
            "inputs": ", ".join(f"{k}: {v}" for k, v in (item.get("inputs") or {}).items()),
            "parameters": json.dumps(item.get("parameters") or {}, ensure_ascii=False, sort_keys=True),
        }
        for indicator, item in (record.get("indicators") or {}).items()
    ]


# --- building, rendering, writing ------------------------------------------------------------------------


def headlines(indicators: pd.DataFrame, lang: Lang) -> list[str]:
    """The plan's targets in one line (:func:`~gis.outputs.summary.headline`) in ``lang``: both lines in ``both``
    (an English line alone starts with a capital, as a sentence of its page)."""
    if lang == "both":
        return [headline(indicators, "zh"), headline(indicators, "en")]
    line = headline(indicators, lang)
    return [line[:1].upper() + line[1:]]


@dataclass(frozen=True)
class Context:
    """What the report and the brief draw on, built once: the sections' context and the note on an unreadable project."""

    ctx: ReportContext
    spec_note: str


def report_context(run: RunOutputs, *, layers: LayerReader | None = None, lang: Lang = "both") -> Context:
    """What the sections draw on (the zone layers of every indicator, read once), for the report and the brief."""
    lang = check_lang(lang)
    project, spec_note = _project(run, layers, Words(lang))
    words = Words(lang, _catalog_names(project))
    specs = {spec.id: spec for spec in project.specs} if project is not None else {}
    metric_crs = _metric_crs(run, project)
    indicators = run.indicators
    summary = indicator_summary(indicators)
    ids = [str(i) for i in summary["indicator"]] if not summary.empty else []
    zone_layers = {i: read_layer(run, i, metric_crs) for i in ids}
    zone_names = {str(z): words.zone(t, z, n) for t, z, n in zip(indicators["zone_type"], indicators["zone_id"], indicators["zone_name"], strict=True)}
    ctx = ReportContext(
        run=run,
        words=words,
        palette=Palette.from_spec(run_map_spec(run.record, project.root if project is not None else None)),
        metric_crs=metric_crs,
        specs=specs,
        layers=zone_layers,
        context=county_context(zone_layers),
        prefectures=county_context(zone_layers, "prefecture"),
        zone_names=zone_names,
        statuses=dict(zip(ids, summary["status"], strict=True)) if ids else {},
        histories={str(i): rows for i, rows in run.indicator_history.groupby("indicator", sort=False)},
        texts=indicator_texts(run.record, specs),
        catalog=_catalog(project),
    )
    return Context(ctx, spec_note)


def _build_report(run: RunOutputs, context: Context) -> _Report:
    """Collect everything the template shows (no HTML yet).

    An indicator not assessed has no section and no line of the summary table: the summary lists
    it up front, with the layer it lacks.
    """
    ctx, spec_note = context.ctx, context.spec_note
    lang = ctx.lang
    record = run.record
    everything = run.indicators
    skipped = not_assessed(everything)
    indicators = everything[~everything["indicator"].astype(str).isin({item.indicator for item in skipped})]
    summary = indicator_summary(indicators)
    sections = [section(ctx, str(indicator), group) for indicator, group in indicators.groupby("indicator", sort=False)]
    trajectories = {i: city_trajectory(rows, ctx.data_year, ctx.words) for i, rows in ctx.histories.items()}
    inputs = _inputs(record, ctx.words)
    city = indicators[indicators["zone_type"] == "city"]
    province = has_prefectures(everything)
    return _Report(
        run=record,
        synthetic=run.synthetic,
        synthetic_layers=[row["name"] for row in inputs if row["is_synthetic"]],
        counts=status_counts(everything),
        tallies=target_tallies(everything),
        headlines=headlines(everything, lang),
        indicator_count=len(ctx.statuses),
        summary=_summary_rows(summary, ctx, trajectories, province=province) if not summary.empty else [],
        gaps_by_zone=_gaps_by_zone(indicators, ctx.words, leave_out=ABOVE_COUNTIES if province else ("city",)),
        prefecture_gaps=_gaps_by_zone(indicators[indicators["zone_type"] == "prefecture"], ctx.words),
        province=province,
        sections=sections,
        inputs=inputs,
        parameters=_parameters(record),
        versions={str(k): str(v) for k, v in (record.get("versions") or {}).items()},
        quality=[{str(k): as_text(v) for k, v in note.items()} for note in record.get("data_quality") or []],
        spec_note=spec_note,
        palette=ctx.palette,
        metric_crs=ctx.metric_crs,
        target_years=target_years(indicators),
        city_name=as_text(city["zone_name"].iloc[0]) if not city.empty else "",
        proposals=[block for block in proposal_sections(ctx) if block.id not in {item.indicator for item in skipped}],
        not_assessed=[{"id": item.indicator, "title_zh": item.title_zh, "title_en": item.title_en,
                       "reason": reason_text(item.reason, lang), "note": item.note} for item in skipped],
        plan_counts=coverage_counts(run.plan_coverage) if not run.plan_coverage.empty else {},
        plan_items=len(run.plan_coverage),
        lang=lang,
        title=ctx.catalog.project.title if ctx.catalog is not None else None,
        layer_titles={name: entry.title for name, entry in ctx.catalog.layers.items() if entry.title} if ctx.catalog is not None else {},
        theme_names=theme_names(ctx.catalog),
    )


def templates() -> Environment:
    """The Jinja environment of the printed pages (report and brief): autoescaped, strict."""
    return Environment(
        loader=PackageLoader("gis.outputs", "templates"), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )


def render_report(run: RunOutputs, *, layers: LayerReader | None = None, lang: Lang = "both", context: Context | None = None) -> str:
    """The report as an HTML string, its labels in ``lang``: ``zh``, ``en`` or ``both`` (Chinese and English).

    ``context`` (from :func:`report_context`, in the same language) saves reading the run's layers again.
    """
    lang = check_lang(lang)
    context = context or report_context(run, layers=layers, lang=lang)
    words = Words(lang)
    report = _build_report(run, context)
    return templates().get_template("report.html.j2").render(
        report=report, t=words.t, h=words.h, solo=words.solo, yes_no=words.yes_no, lang=lang, cjk_fonts=CJK_FONTS,
        page_label=words.t("页", "page"),
    )


def write_report(run: RunOutputs, path: Path, *, layers: LayerReader | None = None, lang: Lang = "both",
                 context: Context | None = None) -> Path:
    """Write the printable gap report (``report.html``) of a run; ``path`` may be a folder.

    ``lang`` is the language of the labels: ``zh``, ``en`` or ``both`` (the default). The
    file is written whole or not at all. Returns the path written.
    """
    lang = check_lang(lang)
    path = output_file(path, "report.html")
    return write_text_whole(path, render_report(run, layers=layers, lang=lang, context=context))
