"""The report's section per indicator, and its proposal blocks: tables, inline drawings, the largest gap features.

Every section draws on one :class:`ReportContext` (the run, its layers in the metric CRS, the
report's words and colours); the text of each cell is formatted by :mod:`gis.outputs.text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from markupsafe import Markup, escape

from gis.bilingual import HAN, Bilingual, PlainForm, as_bilingual
from gis.errors import DataError
from gis.outputs.folder import RunOutputs
from gis.outputs.i18n import STATUS_LABELS, TRAJECTORY_LABELS, YES_NO, ZONE_TYPE_LABELS, Lang, label, pick, value_label, zone_label
from gis.outputs.report_svg import map_svg, trajectory_svg
from gis.outputs.run_texts import note_text, proposal_text
from gis.outputs.summary import first_target_year, has_prefectures
from gis.outputs.symbology import STATUSES, Palette
from gis.outputs.text import (
    as_text,
    clause_text,
    describe_target,
    format_number,
    format_shortfall,
    format_target,
    format_value,
    unit_text,
    with_unit,
)
from gis.project.catalog import Catalog
from gis.project.specs import SPEC_TEXT_KEYS, Spec
from gis.values import is_missing

GEOGRAPHIC_CRS = "EPSG:4490"
"""The lon/lat (CGCS2000) of the gap features' coordinates."""
TOP_GAPS = 3  # gap features per indicator in the report; all are in planning.gpkg
TOP_ZONES = 3  # zones with a gap per indicator in the report; all zone rows are in gaps.xlsx
ABOVE_COUNTIES = ("city", "prefecture")
"""The levels above the counties: the rows a list of counties (and parks) leaves out."""
# Gap features are ranked by the first of these fields they carry: (field, unit label as (zh, en)).
SIZE_FIELDS = (
    ("shortfall", ("", "")),
    ("uncovered_km2", ("km2", "km2")),
    ("people", ("人", "people")),
    ("area_km2", ("km2", "km2")),
    ("capacity_mw", ("MW", "MW")),
    ("capacity_t_d", ("t/d", "t/d")),
    ("heated_area_m2", ("m2", "m2")),
)
SIZE_LABELS: dict[str, tuple[str, str]] = {
    "shortfall": ("缺口", "shortfall"),
    "uncovered_km2": ("未覆盖面积", "area not covered"),
    "people": ("人口", "people"),
    "area_km2": ("面积", "area"),
    "capacity_mw": ("容量", "capacity"),
    "capacity_t_d": ("处理能力", "capacity"),
    "heated_area_m2": ("供热面积", "heated area"),
}
"""The heading of the size a gap feature is ranked by, in Chinese and English (the field name in the bilingual page)."""
METHOD_LABELS: dict[str, tuple[str, str]] = {
    "ratio": ("比值", "ratio"),
    "total": ("合计", "total"),
    "within": ("范围内占比", "share within reach"),
    "presence": ("有无", "presence"),
    "coverage": ("覆盖率", "coverage"),
    "raster_share": ("栅格占比", "raster share"),
    "area_share": ("面积占比", "area share"),
}
"""The methods of :data:`gis.methods.registry.METHODS` as the report names them (the id itself in the bilingual page)."""
_HIDDEN_GAP_FIELDS = {"indicator", "id", "name", "county_id", "base_id", "synthetic", "numerator", "denominator", "geometry"}


@dataclass(frozen=True)
class Words:
    """The labels of one report in its language, and the English zone names it may show."""

    lang: Lang = "both"
    names: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # the catalog's (name, name_en)

    def t(self, zh: str, en: str) -> str:
        """A label: '中文', 'English' or '中文 English'."""
        return label(zh, en, self.lang)

    def solo(self, zh: str, en: str) -> str:
        """Text the bilingual page gives in English only (its Chinese label is beside it): Chinese in 'zh'."""
        return zh if self.lang == "zh" else en

    def h(self, zh: str, en: str) -> Markup:
        """A heading: in both languages the English half in a quieter span."""
        if self.lang == "both":
            return Markup(f'{escape(zh)} <span class="en">{escape(en)}</span>')
        return Markup(escape(label(zh, en, self.lang)))

    def zone(self, zone_type: object, zone_id: object, zone_name: object) -> str:
        """A zone's name from the data, with its English name from the catalog in 'en' and 'both'."""
        name = as_text(zone_name) or as_text(zone_id)
        return zone_label(name, self.names.get((as_text(zone_type), as_text(zone_id))), self.lang)

    def yes_no(self, value: bool) -> str:
        return label(*YES_NO[bool(value)], self.lang)

    def status(self, status: object) -> str:
        return pick(STATUS_LABELS, status, self.lang)

    def zone_type(self, zone_type: object) -> str:
        return pick(ZONE_TYPE_LABELS, zone_type, self.lang)

    def trajectory(self, verdict: object) -> str:
        return pick(TRAJECTORY_LABELS, verdict, self.lang)

    def method(self, method: object) -> str:
        """A method's name: its id in the bilingual page (as the specs write it), its label in one language."""
        return as_text(method) if self.lang == "both" else pick(METHOD_LABELS, method, self.lang)

    def text(self, text: Bilingual | None, fallback: str = "") -> str:
        """A two-language text in the page's language; in both, its plain form (as the bilingual page always showed it)."""
        if text is None:
            return fallback
        return str(text) if self.lang == "both" else text.pick(self.lang)


def anchor(indicator: str) -> str:
    """The id of an indicator's section."""
    return "ind-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in indicator)


@dataclass(frozen=True)
class ReportContext:
    """What every section draws on: the run, the indicators' zone layers in the metric CRS, the words and colours."""

    run: RunOutputs
    words: Words
    palette: Palette
    metric_crs: str
    specs: dict[str, Spec]
    layers: dict[str, gpd.GeoDataFrame | None]  # by indicator: its zones at every level
    context: gpd.GeoDataFrame | None  # county outlines (zone_id, zone_name, polygon)
    zone_names: dict[str, str]  # zone id -> name as shown
    statuses: dict[str, str]  # indicator -> overall status
    histories: dict[str, pd.DataFrame]  # indicator -> its rows of every year
    texts: dict[str, dict[str, Bilingual]] = field(default_factory=dict)
    """Indicator -> its texts in both languages (:data:`~gis.project.specs.SPEC_TEXT_KEYS`): run.json's, else the spec's."""
    catalog: Catalog | None = None
    """The project's catalog when it could be read: its title, layer titles and coded values."""
    prefectures: gpd.GeoDataFrame | None = None
    """The prefecture outlines (zone_id, zone_name, polygon) of a run with a prefecture level, else None."""

    @property
    def lang(self) -> Lang:
        return self.words.lang

    @property
    def data_year(self) -> int | None:
        year = self.run.record.get("data_year")
        return None if year is None else int(year)

    def read_layer(self, name: str) -> gpd.GeoDataFrame | None:
        """A layer of the run's GeoPackage in the metric CRS; None when the run has none of that name."""
        return read_layer(self.run, name, self.metric_crs)

    def bilingual(self, indicator: str, key: str) -> Bilingual | None:
        """An indicator's text ``key`` in both languages; None when neither run.json nor the spec has it."""
        return self.texts.get(indicator, {}).get(key)

    def say(self, indicator: str, key: str, fallback: object = "") -> str:
        """An indicator's text ``key`` in the page's language (:meth:`Words.text`); ``fallback`` (a row's column) without one."""
        return self.words.text(self.bilingual(indicator, key), as_text(fallback))

    def unit(self, indicator: str, key: str, fallback: object) -> str:
        """An indicator's ``unit`` or ``shortfall_unit`` in both languages, for the formatting of :mod:`gis.outputs.text`;
        the row's column ``fallback`` (English) when neither run.json nor the spec has it."""
        return self.bilingual(indicator, key) or as_text(fallback)

    def value_names(self, layer: str, column: str) -> dict[str, Bilingual] | None:
        """The catalog's names of the coded values of ``column`` in ``layer``; None without a table (or a catalog)."""
        entry = self.catalog.layers.get(layer) if self.catalog is not None else None
        return entry.values.get(column) if entry is not None else None


def indicator_texts(record: dict[str, Any], specs: dict[str, Spec]) -> dict[str, dict[str, Bilingual]]:
    """Every indicator's texts in both languages: run.json's ``texts`` (the run's own), else its spec's.

    The plan's wording reads as its Chinese where taken as one string, every other text as its English.
    """
    out: dict[str, dict[str, Bilingual]] = {}
    for indicator in {*(record.get("indicators") or {}), *specs}:
        written = ((record.get("indicators") or {}).get(indicator) or {}).get("texts") or {}
        spec = specs.get(indicator)
        texts: dict[str, Bilingual] = {}
        for key in SPEC_TEXT_KEYS:
            form: PlainForm = "zh" if key == "wording" else "en"
            pair = written.get(key)
            if isinstance(pair, dict) and pair.get("zh") and pair.get("en"):
                texts[key] = Bilingual.of(str(pair["zh"]), str(pair["en"]), form)
            elif spec is not None and (own := spec.bilingual(key)) is not None:
                texts[key] = as_bilingual(own, form)
        out[indicator] = texts
    return out


def read_layer(run: RunOutputs, name: str, metric_crs: str) -> gpd.GeoDataFrame | None:
    """A layer of the run in ``metric_crs``; None when it has none of that name."""
    if not run.has_layer(name):
        return None
    frame = run.read_layer(name)
    if frame.crs is None:
        msg = f"{run.geopackage}: layer '{name}' has no CRS; re-run `gis run` to rewrite the outputs"
        raise DataError(msg)
    return frame.to_crs(metric_crs)


def county_context(layers: dict[str, gpd.GeoDataFrame | None], level: str = "county") -> gpd.GeoDataFrame | None:
    """The counties (zone_name, polygon) of the indicator layer where they cover most ground (with ``level``
    "prefecture", the prefectures: None in a run without them)."""
    best, best_area = None, 0.0
    for frame in layers.values():
        if frame is None or "zone_type" not in frame:
            continue
        counties = frame.loc[frame["zone_type"] == level, ["zone_id", "zone_name", frame.geometry.name]]
        area = float(counties.area.sum()) if not counties.empty else 0.0
        if area > best_area:
            best, best_area = counties, area
    return best


def shown_names(frame: pd.DataFrame, words: Words) -> pd.DataFrame:
    """``frame`` with ``zone_name`` as shown in the report's language (English names added)."""
    if not words.names or frame.empty:
        return frame
    names = [words.zone(t, i, n) for t, i, n in zip(frame["zone_type"], frame["zone_id"], frame["zone_name"], strict=True)]
    return frame.assign(zone_name=names)


# --- the model the template shows ----------------------------------------------------------------


@dataclass
class GapTable:
    total: int
    size_label: str
    size_unit: str
    columns: list[str]
    rows: list[dict[str, str]]


@dataclass
class Trajectory:
    """An indicator's values by year: the city's chart and its verdict in the data year."""

    years: list[int]
    baseline_year: int | None
    chart: Markup | None
    verdict: str
    verdict_label: str
    verdict_year: int


@dataclass
class Proposal:
    """The proposal of an indicator at the level of its target: what, how much, the value after, and why it differs."""

    zone_name: str
    action: str
    quantity: str
    after: str
    meets: str
    meets_class: str
    detail: str
    zones: int  # the zone rows of the proposal (city and counties)


@dataclass
class Section:
    id: str
    anchor: str
    title_zh: str
    title_en: str
    theme: str
    clause: str
    unit: str
    status: str
    definition: str
    formula: str
    method: str
    inputs: str
    wording: str
    target_en: str
    target_clause: str
    reading: str
    notes: list[str]
    city: dict[str, str] | None
    """The city row: value, target, status, shortfall with its unit."""
    rows: list[dict[str, str]]
    """The zones below the prefectures with a gap, largest shortfall first (at most :data:`TOP_ZONES`)."""
    zone_total: int
    zone_gaps: int
    map: Markup | None
    statuses: list[str]
    gaps: GapTable | None
    gap_layer: bool
    trajectory: Trajectory | None = None
    proposal: Proposal | None = None
    wording_translated: bool = False
    """Whether ``wording`` is an English rendering of the plan's Chinese (the English page)."""
    prefectures: list[dict[str, str]] = field(default_factory=list)
    """Every prefecture's row, in the table's order (empty without a prefecture level): the table before the counties."""
    prefecture_total: int = 0
    prefecture_gaps: int = 0
    """The prefectures judged (met, gap, no data) and those short."""
    shortfall_unit: str = ""
    """The unit of the shortfalls in the page's language (the prefecture table says it once, in its heading)."""

    @property
    def prefecture_pairs(self) -> list[tuple[dict[str, str], dict[str, str] | None]]:
        """The prefecture rows in two columns of one table: the first half down the left, the rest down the right."""
        half = (len(self.prefectures) + 1) // 2
        right: list[dict[str, str] | None] = [*self.prefectures[half:], None]
        return list(zip(self.prefectures[:half], right[:half], strict=True))


@dataclass
class ProposalSection:
    id: str
    anchor: str
    section_anchor: str
    title_zh: str
    title_en: str
    zones: list[dict[str, str]]
    item_total: int
    """Items of the proposal (in proposals.csv, gaps.xlsx and the GeoPackage layer ``layer``)."""
    layer: str


# --- one indicator -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """What the report says about an indicator's definition: its spec when the project could be read, else run.json."""

    spec: Spec | None
    record: dict[str, Any]

    @property
    def target(self) -> dict[str, Any] | None:
        if self.spec is not None and self.spec.target:
            return self.spec.target.model_dump()
        return self.record.get("target")

    @property
    def inputs(self) -> dict[str, Any]:
        return self.spec.inputs if self.spec is not None else self.record.get("inputs") or {}

    @property
    def method(self) -> str:
        return self.spec.method if self.spec is not None else str(self.record.get("method", ""))

    @property
    def notes(self) -> list[str]:
        own = [self.spec.notes] if self.spec is not None and self.spec.notes else []
        return [str(n) for n in self.record.get("notes") or []] + own

    @property
    def shortfall(self) -> tuple[float, str | None]:
        """The factor from the numerator's unit to the shortfall's, and the shortfall's unit (None: not stated)."""
        if self.spec is not None:
            stated = self.spec.shortfall.model_dump() if self.spec.shortfall is not None else {}
        else:
            stated = self.record.get("shortfall") or {}
        return float(stated.get("factor", 1.0)), stated.get("unit")


def section(ctx: ReportContext, indicator: str, group: pd.DataFrame) -> Section:
    """The section of one indicator: its definition and target, the city against it, the zones and features
    with the largest gaps, a small map, its trajectory and its proposal."""
    first = group.iloc[0]
    lang = ctx.lang
    unit = ctx.unit(indicator, "unit", first["unit"])
    short_unit = ctx.unit(indicator, "shortfall_unit", first.get("shortfall_unit"))
    source = _Source(ctx.specs.get(indicator), (ctx.run.record.get("indicators") or {}).get(indicator) or {})
    spec = source.spec
    target = source.target or {}
    layer = ctx.layers.get(indicator)
    gaps = ctx.read_layer(f"{indicator}.gaps")
    year = first_target_year(group)
    city = group[group["zone_type"] == "city"]
    below = group[group["zone_type"] != "city"]
    prefectures = group[group["zone_type"] == "prefecture"]
    judged = below[below["status"].isin(["met", "gap", "no_data"]) & (below["zone_type"] != "prefecture")]
    judged_prefectures = prefectures[prefectures["status"].isin(["met", "gap", "no_data"])]
    wording = as_text(target.get("wording"))
    return Section(
        id=indicator,
        anchor=anchor(indicator),
        title_zh=as_text(first.get("title_zh")) or (spec.title.zh if spec else ""),
        title_en=as_text(first.get("title_en")) or (spec.title.en if spec else ""),
        theme=as_text(first.get("theme")),
        clause=as_text(first.get("clause")),
        unit="share" if unit == "share" else unit_text(unit, lang),
        status=ctx.statuses[indicator],
        definition=ctx.say(indicator, "definition"),
        formula=_formula(spec.formula if spec else "", lang),
        method=ctx.words.method(source.method),
        inputs=", ".join(f"{role}: {name}" for role, name in source.inputs.items()),
        wording=ctx.say(indicator, "wording", wording) if wording else "",
        wording_translated=lang == "en" and bool(wording) and not HAN.search(ctx.say(indicator, "wording", wording)),
        target_en=describe_target(source.target, unit, lang="en" if lang == "both" else lang, year=year,
                                  baseline_year=ctx.run.record.get("baseline_year"), province=has_prefectures(ctx.run.indicators)),
        target_clause=clause_text(as_text(target.get("clause")) or as_text(first.get("clause")), lang),
        reading=ctx.say(indicator, "reading", as_text(target.get("reading")) or as_text(first.get("reading"))),
        notes=_notes(ctx, indicator, source),
        city=_zone_row(city.iloc[0], unit, short_unit, ctx.words) if not city.empty else None,
        rows=[_zone_row(row, unit, short_unit, ctx.words) for _, row in gap_zones(group, leave_out=ABOVE_COUNTIES).head(TOP_ZONES).iterrows()],
        zone_total=len(judged),
        zone_gaps=int((judged["status"] == "gap").sum()),
        prefectures=[_zone_row(row, unit, short_unit, ctx.words) for _, row in prefectures.iterrows()]
        if prefectures["value"].notna().any() or not judged_prefectures.empty else [],
        prefecture_total=len(judged_prefectures),
        shortfall_unit=unit_text(short_unit, lang) if not is_missing(short_unit) else "",
        prefecture_gaps=int((judged_prefectures["status"] == "gap").sum()),
        map=_section_map(ctx, layer, gaps, unit, below),
        statuses=[s for s in STATUSES if s in set(group["status"])],
        gaps=gap_table(ctx, gaps, source, unit, short_unit) if gaps is not None and not gaps.empty else None,
        gap_layer=gaps is not None,
        trajectory=_trajectory(ctx, ctx.histories.get(indicator, group), unit),
        proposal=level_proposal(ctx, indicator, unit),
    )


def _formula(formula: str, lang: Lang) -> str:
    """The spec's formula where the page can show it: it is written once, in English words over field names, so a
    Chinese page leaves it out (the definition says the same in Chinese; the page names the method and the spec file)."""
    return "" if lang == "zh" else formula


def _notes(ctx: ReportContext, indicator: str, source: _Source) -> list[str]:
    """The run's notes on an indicator (English: shown where the page has English) and its spec's note, in the page's language."""
    own = ctx.say(indicator, "notes", source.spec.notes if source.spec is not None and source.spec.notes else "")
    run_notes = [str(n) for n in source.record.get("notes") or []] if ctx.lang != "zh" else []
    return run_notes + ([own] if own else [])


def gap_zones(group: pd.DataFrame, *, leave_out: tuple[str, ...] = ("city",)) -> pd.DataFrame:
    """The rows below the city with a gap, largest shortfall first (those without a shortfall last); the zone types in
    ``leave_out`` left out (:data:`ABOVE_COUNTIES`: the counties and parks alone)."""
    rows = group[~group["zone_type"].isin(leave_out) & (group["status"] == "gap")]
    order = pd.to_numeric(rows["shortfall"], errors="coerce")
    return rows.assign(_order=order).sort_values("_order", ascending=False, kind="stable", na_position="last").drop(columns="_order")


def _section_map(ctx: ReportContext, layer: gpd.GeoDataFrame | None, gaps: gpd.GeoDataFrame | None, unit: str,
                 below: pd.DataFrame) -> Markup | None:
    """The small map: zones by status and the gap features; None when it would show nothing the text does not
    (no zone below the city is judged and there are no gap features)."""
    if layer is None or "zone_type" not in layer:
        return Markup(f'<p class="muted">{escape(ctx.words.t("GeoPackage 中无此图层。", "No zone layer in the GeoPackage."))}</p>')
    judged = below["status"].isin(["met", "gap", "no_data"]).any()
    if not judged and (gaps is None or gaps.empty):
        return None
    return map_svg(shown_names(layer, ctx.words), gaps, context=ctx.context, unit=unit, lang=ctx.lang, palette=ctx.palette,
                   width=300, height=230, outlines=ctx.prefectures)


def _zone_row(row: pd.Series, unit: str, shortfall_unit: str, words: Words) -> dict[str, str]:
    """One zone's value, target, status and shortfall (with its unit), as shown.

    ``unit`` and ``shortfall_unit`` may be two-language (:meth:`ReportContext.unit`): each is written in the page's
    language, as is the row's ``status_note`` (:func:`~gis.outputs.run_texts.note_text`).
    """
    lang = words.lang
    return {
        "zone_type": words.zone_type(row["zone_type"]),
        "zone_id": as_text(row["zone_id"]),
        "zone_name": words.zone(row["zone_type"], row["zone_id"], row["zone_name"]),
        "value": format_value(row["value"], unit, lang),
        "target": format_target(row["comparator"], row["target"], unit, lang),
        "status": str(row["status"]),
        "status_label": words.status(row["status"]),
        "shortfall": format_shortfall(row["shortfall"], shortfall_unit or row.get("shortfall_unit"), lang),
        "shortfall_number": "" if is_missing(row["shortfall"]) else format_number(row["shortfall"]),
        "status_note": note_text(row.get("status_note"), lang),
    }


def level_proposal(ctx: ReportContext, indicator: str, unit: str) -> Proposal | None:
    """The indicator's proposal at the city (else its first zone row): what, how much, the value after and why
    the total differs from the shortfall (the row's ``detail``); None without a proposal."""
    table = ctx.run.proposals
    if table.empty:
        return None
    rows = table[(table["indicator"] == indicator) & (table["row_type"] == "zone")]
    if rows.empty:
        return None
    city = rows[rows["zone_type"] == "city"]
    row = (city if not city.empty else rows).iloc[0]
    shown = _proposal_rows(pd.DataFrame([row]), unit, ctx.zone_names, ctx.words)[0]
    return Proposal(zone_name=shown["zone_name"], action=shown["action"], quantity=shown["quantity"], after=shown["after"],
                    meets=shown["meets"], meets_class=shown["meets_class"], detail=shown["detail"], zones=len(rows))


# --- the largest gap features ------------------------------------------------------------------------


def _size_field(gaps: pd.DataFrame) -> str | None:
    return next((name for name, _ in SIZE_FIELDS if name in gaps.columns and gaps[name].notna().any()), None)


def top_gap_features(
    gaps: gpd.GeoDataFrame,
    *,
    metric_crs: str,
    limit: int = TOP_GAPS,
    shortfall_factor: float = 1.0,
    zones: gpd.GeoDataFrame | None = None,
) -> tuple[pd.DataFrame, str | None]:
    """The largest gap features with the lon/lat (CGCS2000) of their point or centroid.

    Centroids are taken in ``metric_crs`` (the project's, ``run.json``'s ``project.crs``) and
    then projected to EPSG:4490. Features are ranked by the first size field of
    :data:`SIZE_FIELDS` they carry (a feature's ``shortfall`` is in its numerator's unit and is
    multiplied by ``shortfall_factor``); polygons without one are ranked by their area in km2,
    anything else keeps its order. With ``zones`` (zone_name and polygons), the column
    ``zone_name`` names the zone holding each centroid. Returns the table and the name of the
    size field used (``None`` when unranked).
    """
    frame = gaps[gaps.geometry.notna() & ~gaps.geometry.is_empty].to_crs(metric_crs)
    size = _size_field(frame)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if size == "shortfall":
        table["shortfall"] = pd.to_numeric(table["shortfall"], errors="coerce") * shortfall_factor
    if size is None and frame.geom_type.str.contains("Polygon").any():
        size = "area_km2"
        table[size] = frame.geometry.area.to_numpy() / 1e6
    centroids = gpd.GeoSeries(frame.geometry.centroid, crs=metric_crs)
    if zones is not None and not zones.empty:
        points = gpd.GeoDataFrame(geometry=centroids.to_numpy(), crs=metric_crs)
        joined = gpd.sjoin(points, zones[["zone_name", zones.geometry.name]].to_crs(metric_crs), how="left", predicate="within")
        table["zone_name"] = joined[~joined.index.duplicated()]["zone_name"].reindex(points.index).to_numpy()
    centroids = centroids.to_crs(GEOGRAPHIC_CRS)
    table["lon"] = centroids.x.to_numpy()
    table["lat"] = centroids.y.to_numpy()
    if size is not None:
        table = table.assign(_size=pd.to_numeric(table[size], errors="coerce"))
        table = table.sort_values("_size", ascending=False, kind="stable", na_position="last").drop(columns="_size")
    return table.head(limit).reset_index(drop=True), size


def gap_table(ctx: ReportContext, gaps: gpd.GeoDataFrame, source: _Source, unit: str, shortfall_unit: str = "") -> GapTable:
    """The largest gap features of an indicator, each with its county, size, details and lon/lat.

    ``shortfall_unit`` is the indicator's (two-language, :meth:`ReportContext.unit`), else the spec's or run.json's.
    """
    words = ctx.words
    factor, stated_unit = source.shortfall
    lookup = ctx.context if "county_id" not in gaps.columns else None
    top, size = top_gap_features(gaps, metric_crs=ctx.metric_crs, shortfall_factor=factor, zones=lookup)
    if size == "shortfall":
        size_label = words.t("缺口", "shortfall")
        size_unit = unit_text(shortfall_unit or stated_unit, words.lang) or words.t("输入数据自身的单位", "in the input's own unit")
    elif size is not None:
        size_label = size if words.lang == "both" else pick(SIZE_LABELS, size, words.lang)
        size_unit = words.t(*dict(SIZE_FIELDS).get(size, ("", "")))
    else:
        size_label, size_unit = "", ""
    extra = [c for c in top.columns if c not in _HIDDEN_GAP_FIELDS | {size, "lon", "lat", "zone_name"}]
    by_name = {}
    if lookup is not None:
        by_name = {as_text(n): words.zone("county", i, n) for i, n in zip(lookup["zone_id"], lookup["zone_name"], strict=True)}
    rows = []
    for record in top.to_dict("records"):
        county = as_text(record.get("county_id"))
        found = as_text(record.get("zone_name"))
        rows.append({
            "id": as_text(record.get("id")),
            "name": as_text(record.get("name")),
            "county": ctx.zone_names.get(county, county) if county else by_name.get(found, found),
            "size": format_number(record.get(size)) if size else "",
            "details": "; ".join(_gap_details(record, extra, unit, ctx, source)),
            "lon": f"{record['lon']:.5f}",
            "lat": f"{record['lat']:.5f}",
        })
    return GapTable(total=len(gaps), size_label=size_label, size_unit=size_unit, columns=extra, rows=rows)


def _gap_details(record: dict[str, Any], columns: list[str], unit: str, ctx: ReportContext, source: _Source) -> list[str]:
    """'field: value' of a gap feature's other fields (the feature's own ``value`` in the indicator's unit); a coded
    value as the catalog names it in the page's language (the table of the first of the indicator's layers that has one)."""
    lang = ctx.lang
    layers = [str(name) for name in source.inputs.values()]
    details = []
    for column in columns:
        value = record.get(column)
        if is_missing(value) or value == "":
            continue
        if column == "value":
            shown = format_value(value, unit, lang)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            shown = format_number(value)
        else:
            names = next((table for layer in layers if (table := ctx.value_names(layer, column))), None)
            shown = value_label(names, value, lang)
        details.append(f"{column}: {shown}")
    return details


# --- the trajectory by year ----------------------------------------------------------------------------


def _trajectory(ctx: ReportContext, history: pd.DataFrame, unit: str) -> Trajectory | None:
    """The city's values of every year as a chart, with its verdict in the data year; None for a single year.

    The values of every zone by year are in ``indicators.csv``.
    """
    if "year" not in history.columns or history["year"].nunique() < 2:
        return None
    words = ctx.words
    history = history.sort_values("year", kind="stable")
    years = sorted(int(y) for y in history["year"].unique())
    data_year = ctx.data_year if ctx.data_year in years else years[-1]
    baselines = history.loc[history["trajectory"] == "baseline", "year"] if "trajectory" in history else pd.Series(dtype=int)
    city = history[history["zone_type"] == "city"]
    chart, verdict = None, ""
    if not city.empty:
        last = city.iloc[-1]
        title = words.zone("city", last["zone_id"], last["zone_name"])
        chart = trajectory_svg(city, unit, title=title, data_year=data_year, lang=ctx.lang, palette=ctx.palette)
        at = city[city["year"] == data_year]
        verdict = str(at["trajectory"].iloc[0]) if not at.empty and "trajectory" in at else ""
    return Trajectory(
        years=years,
        baseline_year=int(baselines.min()) if not baselines.empty else None,
        chart=chart,
        verdict=verdict,
        verdict_label=words.trajectory(verdict) if verdict else "",
        verdict_year=data_year,
    )


def city_trajectory(history: pd.DataFrame, data_year: int | None, words: Words) -> dict[str, Any] | None:
    """The city's verdict in the latest year before the data year, for the summary table."""
    if "year" not in history.columns or "trajectory" not in history.columns or history["year"].nunique() < 2:
        return None
    city = history[history["zone_type"] == "city"]
    if data_year is not None:
        city = city[city["year"] < data_year]
    else:
        city = city[city["year"] < city["year"].max()]
    if city.empty:
        return None
    row = city.sort_values("year", kind="stable").iloc[-1]
    verdict = str(row["trajectory"])
    return {"year": int(row["year"]), "verdict": verdict, "label": words.trajectory(verdict)}


# --- proposals ---------------------------------------------------------------------------------------


def _meets(value: object) -> bool | None:
    return None if is_missing(value) else bool(value)


def _proposal_rows(rows: pd.DataFrame, unit: str, zone_names: dict[str, str], words: Words) -> list[dict[str, str]]:
    lang = words.lang
    out = []
    for row in rows.to_dict("records"):
        adds = "" if is_missing(row.get("adds")) else with_unit(format_number(row["adds"]), proposal_text(row, "adds_unit", lang))
        zone_id = as_text(row.get("zone_id"))
        item_id = as_text(row.get("item_id"))
        meets = _meets(row.get("meets_target"))
        out.append({
            "zone_type": words.zone_type(row["zone_type"]),
            "zone_name": words.zone(row["zone_type"], zone_id, row.get("zone_name")) if as_text(row.get("zone_name")) else zone_names.get(zone_id, ""),
            "rank": "" if is_missing(row.get("rank")) else str(int(row["rank"])),
            "item": " ".join(p for p in (as_text(row.get("item_name")), f"({item_id})" if item_id else "") if p),
            "action": proposal_text(row, "action", lang),
            "quantity": with_unit(format_number(row.get("quantity")), proposal_text(row, "unit", lang)).strip(),
            "adds": adds,
            "before": format_value(row.get("value_before"), unit, lang),
            "after": format_value(row.get("value_after"), unit, lang),
            "target": format_target(row.get("comparator"), row.get("target"), unit, lang),
            "meets": "—" if meets is None else words.yes_no(meets),
            "meets_class": "" if meets is None else ("met" if meets else "gap"),
            "detail": proposal_text(row, "detail", lang),
        })
    return out


def proposal_sections(ctx: ReportContext) -> list[ProposalSection]:
    """One block per indicator with proposals: its zone rows (its items are in the workbook and proposals.csv)."""
    table = ctx.run.proposals
    if table.empty:
        return []
    indicators = ctx.run.indicators
    return [
        _proposal_section(ctx, str(indicator), group, indicators[indicators["indicator"] == str(indicator)])
        for indicator, group in table.groupby("indicator", sort=False)
    ]


def _proposal_section(ctx: ReportContext, indicator: str, group: pd.DataFrame, own: pd.DataFrame) -> ProposalSection:
    unit = ctx.unit(indicator, "unit", own["unit"].iloc[0] if not own.empty else "")
    zones = group[group["row_type"] == "zone"]
    items = group[group["row_type"] == "item"]
    layer_name = f"{indicator}.proposals"
    return ProposalSection(
        id=indicator,
        anchor="prop-" + anchor(indicator).removeprefix("ind-"),
        section_anchor=anchor(indicator),
        title_zh=as_text(own["title_zh"].iloc[0]) if not own.empty else indicator,
        title_en=as_text(own["title_en"].iloc[0]) if not own.empty else "",
        zones=_proposal_rows(zones, unit, ctx.zone_names, ctx.words),
        item_total=len(items),
        layer=layer_name if ctx.run.has_layer(layer_name) else "",
    )
