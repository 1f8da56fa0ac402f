"""The one-page brief (``brief.html``, printed to ``brief.pdf``): the plan's targets at a glance.

The headline counts the plan's targets at the level it sets them (city, each county, each park);
a table gives every target the city or a zone falls short of, by theme, with value, target and
shortfall in real units (the targets met are named, not tabled); the five largest gaps say where
they are; a small map shades the counties by the targets they fall short of. Everything comes from
a finished run and the context the report reads (:func:`gis.outputs.report.report_context`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from gis.outputs._files import output_file, replaced_whole, write_text_whole
from gis.outputs.folder import RunOutputs
from gis.outputs.i18n import Lang, check_lang, html_lang
from gis.outputs.pdf import CJK_FONTS, render_pdf
from gis.outputs.report import Context, headlines, project_title, report_context, synthetic_note, templates, theme_heading, theme_names
from gis.outputs.report_sections import ReportContext, Words, gap_zones, top_gap_features
from gis.outputs.report_svg import overview_svg
from gis.outputs.summary import LevelTally, has_prefectures, plan_targets, target_tallies
from gis.outputs.text import as_text, comparator_sign, format_bare, format_shortfall, format_value, zone_shortfalls
from gis.project.layers import LayerReader
from gis.values import is_missing

log = logging.getLogger("gis")

TOP_GAPS = 5
SCALES = (1.0, 0.92, 0.84, 0.8, 0.76, 0.72, 0.68, 0.64, 0.6)
"""Type sizes (times the template's, which brief.html shows on screen) tried in turn until the brief prints on one page."""
CROWDED = 25
"""Targets short above which the printing starts at a scale of 0.84 (the sample's 50 print at 0.8 in both languages)."""


@dataclass
class BriefRow:
    """One target short: the city's value, target and shortfall, and the zones short where the plan sets zone targets."""

    id: str
    title: str
    status: str
    status_label: str
    value: str
    target: str
    shortfall: str
    zones: str


@dataclass
class Theme:
    heading: str
    rows: list[BriefRow]
    met: list[str]
    """The titles of the theme's targets met (no row of their own)."""
    continued: bool = False
    """A theme's rows continued from the foot of the first column."""

    @property
    def lines(self) -> int:
        """Its height in (about) lines: the heading, and two per row (titles and shortfalls wrap)."""
        return 1 + (len(self.met) + 1) // 3 + 2 * len(self.rows)


@dataclass
class TopGap:
    id: str
    title: str
    value: str
    target: str
    missing: str
    """How far from the target, in percent of the target (at least) or of the value (at most)."""
    shortfall: str
    where: str


@dataclass
class Brief:
    run: dict[str, Any]
    lang: Lang
    project_name: str
    place_name: str
    run_id: str
    date: str
    synthetic: bool
    synthetic_note: str
    headlines: list[str]
    tallies: list[LevelTally]
    themes: list[Theme]
    columns: list[list[Theme]]
    """The themes in two columns of about the same height (a theme split between them is headed again)."""
    top: list[TopGap]
    map: Markup | None
    met_count: int
    gap_count: int
    colours: dict[str, str] = field(default_factory=dict)
    gap_colour: str = ""
    province: bool = False
    """Whether the run reports prefectures (its top zone a province): the overview shades them, the columns say so."""

    @property
    def html_lang(self) -> str:
        return html_lang(self.lang)


# --- the rows ------------------------------------------------------------------------------------------


def _title(words: Words, first: pd.Series) -> str:
    """An indicator's title in the brief's language (Chinese in 'both': the table has no room for two)."""
    zh, en = as_text(first.get("title_zh")), as_text(first.get("title_en"))
    return (en or zh) if words.lang == "en" else (zh or en)


LEVEL_WORDS = {"prefecture": ("地级市", "pref."), "county": ("", ""), "park": ("园区", "parks")}
"""The word after a count of zones short: none for counties (the column says it), 'pref.' for prefectures, 'parks' for parks."""


def _bare_target(comparator: object, target: object, unit: str) -> str:
    """'≤ 0', '≥ 40.0%': the target without its unit (the value beside it gives it)."""
    if is_missing(target):
        return "—"
    return f"{comparator_sign(comparator)}\u00a0{format_bare(target, unit)}".strip()  # the sign kept with its number


def _zones_short(words: Words, group: pd.DataFrame) -> str:
    """'3/6 counties' for each level below the city the plan sets targets at ('17/18 pref.' first); '' when none."""
    parts = []
    for level in ("prefecture", "county", "park"):
        rows = group[(group["zone_type"] == level) & group["status"].isin(["met", "gap", "no_data"])]
        if not rows.empty and (rows["status"].isin(["met", "gap"]).any() or rows["target"].notna().any()):
            short = int((rows["status"] == "gap").sum())
            said = words.solo(*LEVEL_WORDS[level]) if level == "prefecture" else words.t(*LEVEL_WORDS[level])  # short: a narrow column
            parts.append(f"{short}/{len(rows)} {said}".strip())
    return ", ".join(parts)


def _row(ctx: ReportContext, indicator: str, group: pd.DataFrame) -> BriefRow:
    words = ctx.words
    first = group.iloc[0]
    unit = ctx.unit(indicator, "unit", first.get("unit"))
    city = group[group["zone_type"] == "city"]
    head = city.iloc[0] if not city.empty else None
    status = str(head["status"]) if head is not None else "no_target"
    shortfall = ""
    if head is not None and status == "gap" and not is_missing(head["shortfall"]):
        shortfall = format_shortfall(head["shortfall"], ctx.unit(indicator, "shortfall_unit", head["shortfall_unit"]), ctx.lang)
    return BriefRow(
        id=indicator,
        title=_title(words, first),
        status=status,
        status_label=words.status(status),
        value=format_value(head["value"], unit, ctx.lang) if head is not None else "—",
        target=_bare_target(head["comparator"], head["target"], unit) if head is not None and status != "no_target" else "—",
        shortfall=shortfall,
        zones=_zones_short(words, group),
    )


def _themes(ctx: ReportContext, indicators: pd.DataFrame, targets: pd.DataFrame) -> list[Theme]:
    """The targets by theme: a row for each indicator short at any level, the names of those met."""
    words = ctx.words
    status_by = targets.groupby("indicator")["status"].agg(lambda s: "gap" if (s == "gap").any() else "met" if (s == "met").any() else "no_data")
    groups: dict[str, Theme] = {}
    names = theme_names(ctx.catalog)
    for indicator, group in indicators.groupby("indicator", sort=False):
        indicator = str(indicator)
        if indicator not in status_by.index:
            continue  # no target at any level: reported for information, not in the brief
        theme = as_text(group["theme"].iloc[0])
        if theme not in groups:
            groups[theme] = Theme(theme_heading(names, theme, words), [], [])
        if status_by[indicator] == "met":
            groups[theme].met.append(_title(words, group.iloc[0]))
        else:
            groups[theme].rows.append(_row(ctx, indicator, group))
    return list(groups.values())


def two_columns(themes: list[Theme]) -> list[list[Theme]]:
    """The themes in two columns of about equal height; the theme at the split goes on in the second column."""
    half = sum(theme.lines for theme in themes) / 2
    first: list[Theme] = []
    second: list[Theme] = []
    height = 0
    for theme in themes:
        if second or height >= half:
            second.append(theme)
            continue
        room = int((half - height - 1 - (len(theme.met) + 1) // 3) // 2)
        if theme.lines + height <= half or room >= len(theme.rows):
            first.append(theme)
            height += theme.lines
        elif room <= 0:
            second.append(theme)
        else:
            first.append(Theme(theme.heading, theme.rows[:room], theme.met))
            second.append(Theme(theme.heading, theme.rows[room:], [], continued=True))
            height = int(half)
    return [first, second]


# --- the largest gaps ---------------------------------------------------------------------------------


def missing_share(value: object, target: object, comparator: object) -> float | None:
    """How far a value is from its target: (target - value) / target for 'at least' targets,
    (value - target) / value for 'at most' ones (the part of today's amount that must go); None when not defined."""
    if is_missing(value) or is_missing(target):
        return None
    v, t = float(value), float(target)  # type: ignore[arg-type]
    if str(comparator) in (">=", ">"):
        return (t - v) / t if t > 0 else None
    if str(comparator) in ("<=", "<"):
        return (v - t) / v if v > 0 else None
    return None


def _feature_counties(ctx: ReportContext, indicator: str) -> list[tuple[str, int]]:
    """The counties holding most of an indicator's gap features, with how many each holds."""
    gaps = ctx.read_layer(f"{indicator}.gaps")
    if gaps is None or gaps.empty:
        return []
    if "county_id" in gaps.columns:
        names = [ctx.zone_names.get(as_text(c), as_text(c)) for c in gaps["county_id"] if as_text(c)]
    else:
        if ctx.context is None:
            return []
        table, _ = top_gap_features(gaps, metric_crs=ctx.metric_crs, limit=len(gaps), zones=ctx.context)
        by_name = {as_text(n): ctx.words.zone("county", i, n) for i, n in zip(ctx.context["zone_id"], ctx.context["zone_name"], strict=True)}
        names = [by_name.get(as_text(n), as_text(n)) for n in table.get("zone_name", pd.Series(dtype=str)) if as_text(n)]
    counts = pd.Series(names, dtype=str).value_counts()
    return [(str(name), int(count)) for name, count in counts.head(3).items()]


def _where(ctx: ReportContext, indicator: str, group: pd.DataFrame) -> str:
    """Where a gap is: the zones short with their shortfalls (above prefectures, the prefectures short when there are),
    else the counties holding most gap features."""
    words = ctx.words
    prefectures = group[group["zone_type"] == "prefecture"]
    short = gap_zones(prefectures if (prefectures["status"] == "gap").any() else group).head(3)
    if not short.empty:
        unit = as_text(short["shortfall_unit"].dropna().iloc[0]) if short["shortfall_unit"].notna().any() else ""
        pairs = [(words.zone(t, i, n), s) for t, i, n, s in zip(short["zone_type"], short["zone_id"], short["zone_name"], short["shortfall"], strict=True)]
        return zone_shortfalls(pairs, ctx.unit(indicator, "shortfall_unit", unit), ctx.lang)
    counties = _feature_counties(ctx, indicator)
    if counties:
        if ctx.lang == "zh":
            return "、".join(f"{name} {count}" for name, count in counties) + "（个缺口要素）"
        listed = ", ".join(f"{name} {count}" for name, count in counties)
        return f"{listed} ({words.t('个缺口要素', 'gap features')})"
    return words.t("全市", "city-wide")


def _top_gaps(ctx: ReportContext, indicators: pd.DataFrame, limit: int = TOP_GAPS) -> list[TopGap]:
    """The city's targets furthest from being met (by :func:`missing_share`), each with where the gap is."""
    words = ctx.words
    city = indicators[(indicators["zone_type"] == "city") & (indicators["status"] == "gap")]
    ranked = []
    for row in city.itertuples(index=False):
        share = missing_share(row.value, row.target, row.comparator)
        if share is not None:
            ranked.append((share, str(row.indicator)))
    ranked.sort(key=lambda item: -item[0])
    out = []
    for share, indicator in ranked[:limit]:
        group = indicators[indicators["indicator"] == indicator]
        head = group[group["zone_type"] == "city"].iloc[0]
        unit = ctx.unit(indicator, "unit", head["unit"])
        shortfall = format_shortfall(head["shortfall"], ctx.unit(indicator, "shortfall_unit", head["shortfall_unit"]), ctx.lang)
        out.append(TopGap(
            id=indicator,
            title=_title(words, head),
            value=format_value(head["value"], unit, ctx.lang),
            target=_bare_target(head["comparator"], head["target"], unit),
            missing=f"{share * 100:.0f}%",
            shortfall=shortfall,
            where=_where(ctx, indicator, group),
        ))
    return out


def _overview(ctx: ReportContext, indicators: pd.DataFrame) -> Markup | None:
    """The counties shaded by the targets set per county they fall short of; above prefectures, the prefectures by the
    targets set per prefecture."""
    level, zones = ("prefecture", ctx.prefectures) if ctx.prefectures is not None and not ctx.prefectures.empty else ("county", ctx.context)
    if zones is None or zones.empty:
        return None
    short = indicators[(indicators["zone_type"] == level) & (indicators["status"] == "gap")]
    counts = {str(k): int(v) for k, v in short["zone_id"].astype(str).value_counts().items()}
    names = {str(i): ctx.words.zone(level, i, n) for i, n in zip(zones["zone_id"], zones["zone_name"], strict=True)}
    return overview_svg(zones, counts, names=names, lang=ctx.lang, palette=ctx.palette)


# --- building, rendering, writing ----------------------------------------------------------------------


def build_brief(run: RunOutputs, context: Context) -> Brief:
    """Everything the brief shows (no HTML yet)."""
    ctx = context.ctx
    record = run.record
    indicators = run.indicators
    indicators = indicators[indicators["status"] != "not_assessed"]
    targets = plan_targets(indicators)
    city = indicators[indicators["zone_type"] == "city"]
    themes = _themes(ctx, indicators, targets)
    finished = as_text(record.get("finished")) or as_text(record.get("started"))
    return Brief(
        run=record,
        lang=ctx.lang,
        project_name=project_title(record, ctx.catalog.project.title if ctx.catalog is not None else None, ctx.lang),
        place_name=as_text(city["zone_name"].iloc[0]) if not city.empty else "",
        run_id=as_text(record.get("run_id")),
        date=finished[:10],
        synthetic=run.synthetic,
        synthetic_note=synthetic_note(record, ctx.lang),
        headlines=headlines(run.indicators, ctx.lang),
        tallies=target_tallies(run.indicators),
        themes=themes,
        columns=two_columns(themes),
        top=_top_gaps(ctx, indicators),
        map=_overview(ctx, indicators),
        met_count=sum(len(theme.met) for theme in themes),
        gap_count=sum(len(theme.rows) for theme in themes),
        colours=dict(ctx.palette.status),
        gap_colour=ctx.palette.of("gap"),
        province=has_prefectures(indicators),
    )


def render_brief(run: RunOutputs, *, layers: LayerReader | None = None, lang: Lang = "both", context: Context | None = None,
                 scale: float = 1.0) -> str:
    """The brief as an HTML string in ``lang``; ``scale`` multiplies its type sizes (to fit one printed page)."""
    lang = check_lang(lang)
    context = context or report_context(run, layers=layers, lang=lang)
    words = Words(lang)
    brief = build_brief(run, context)
    return templates().get_template("brief.html.j2").render(
        brief=brief, t=words.t, h=words.h, solo=words.solo, lang=lang, cjk_fonts=CJK_FONTS, scale=scale,
    )


def write_brief(run: RunOutputs, path: Path, *, layers: LayerReader | None = None, lang: Lang = "both",
                context: Context | None = None) -> Path:
    """Write ``brief.html`` of a run (``path`` may be a folder), whole or not at all; returns the path."""
    lang = check_lang(lang)
    path = output_file(path, "brief.html")
    return write_text_whole(path, render_brief(run, layers=layers, lang=lang, context=context))


def write_brief_pdf(run: RunOutputs, path: Path, *, layers: LayerReader | None = None, lang: Lang = "both",
                    context: Context | None = None) -> int:
    """Print the brief to ``path`` (``brief.pdf``) on one A4 page: its type is made smaller, step by step, until it fits.

    Returns the number of pages (1 unless even the smallest type does not fit; then a warning says so).
    """
    lang = check_lang(lang)
    path = output_file(path, "brief.pdf")
    context = context or report_context(run, layers=layers, lang=lang)
    data, pages = b"", 0
    short = sum(len(theme.rows) for theme in build_brief(run, context).themes)
    for scale in [s for s in SCALES if short <= CROWDED or s <= 0.84]:  # each try is a full render: start near the fit
        data, pages = render_pdf(render_brief(run, lang=lang, context=context, scale=scale), base_url=path.parent)
        if pages == 1:
            break
    else:
        log.warning("%s: the brief takes %d pages even in the smallest type; the targets are too many for one page", path, pages)
    with replaced_whole(path) as staging:
        staging.write_bytes(data)
    return pages
