"""The gap workbook (``gaps.xlsx``): a summary sheet, one sheet of zones per indicator, and the long tables
the report leaves out (every proposal item, the inputs, the parameters).

An indicator not assessed (a layer it reads is not in the catalog) keeps its line and its sheet,
status ``not_assessed`` and the reason in its status note; the summary sheet says above its
table how many were assessed and lists the others with the layer each lacks.

Numbers are written as numbers (shares as fractions with a percent format); text from the
data is always written as text, so a name such as ``=HYPERLINK(...)`` is never a formula.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gis.methods.zones import catalog_names
from gis.outputs._files import output_file, replaced_whole
from gis.outputs.folder import RunOutputs
from gis.outputs.i18n import YES_NO, ZONE_TYPE_LABELS, Lang, check_lang, label, pick, zone_label
from gis.outputs.run_texts import (
    PROPOSAL_TEXTS,
    layer_title,
    note_text,
    project_title,
    proposal_text,
    reason_text,
    spec_text,
    spec_unit,
    theme_title,
)
from gis.outputs.summary import first_target_year, has_prefectures, headline, indicator_summary, not_assessed, status_counts
from gis.outputs.symbology import project_at, run_map_spec, status_colours, status_labels
from gis.outputs.text import as_text, clause_text, describe_target, unit_text, zone_shortfalls
from gis.project.config import ProjectConfig
from gis.project.layers import LayerReader
from gis.project.mapspec import MapSpec
from gis.values import is_missing

SUMMARY_SHEET = "Summary 汇总"
PERCENT = "0.0%"
INTEGER = "#,##0"
DECIMAL = "#,##0.0##"
MAX_SHEET_NAME = 31
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_BAD_SHEET_CHARS = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="EEEEEE")
_TITLE_FONT = Font(bold=True, size=13)
_WARNING_FONT = Font(bold=True, color="B71C1C", size=12)
PROVINCE_LABEL = ("省", "province")
"""The top zone's type above prefectures, in a workbook in one language."""
_ZONE_COLUMNS = (
    ("zone_type", ("类型", "zone type")),
    ("zone_id", ("代码", "zone id")),
    ("zone_name", ("地区", "zone")),
    ("value", ("值", "value")),
    ("unit", ("单位", "unit")),
    ("comparator", ("比较", "comparator")),
    ("target", ("目标", "target")),
    ("baseline", ("基准", "baseline")),
    ("status", ("状态", "status")),
    ("shortfall", ("缺口", "shortfall")),
    ("shortfall_unit", ("缺口单位", "shortfall unit")),
    ("numerator", ("分子", "numerator")),
    ("denominator", ("分母", "denominator")),
    ("status_note", ("状态说明", "status note")),
)
_SUMMARY_COLUMNS = (
    ("indicator", "指标", "indicator"), ("title_zh", "名称", "title (zh)"), ("title_en", "英文名称", "title (en)"),
    ("clause", "条款", "clause"), ("theme", "主题", "theme"), ("unit", "单位", "unit"), ("value", "市值", "city value"),
    ("comparator", "比较", "comparator"), ("target", "目标", "target"), ("status", "状态", "status"),
    ("shortfall", "缺口", "shortfall (city)"), ("shortfall_unit", "缺口单位", "shortfall unit"),
    ("gap_zones", "未达标地区数", "zones with a gap"), ("target_zones", "有目标地区数", "zones with a target"),
    ("gap_zone_names", "未达标地区", "zones with a gap"), ("target_text", "目标说明", "target (en)"), ("sheet", "工作表", "sheet"),
)
"""The summary's columns (key, zh, en); a workbook in one language has one title column (``title``) for the two."""
_PREFECTURE_COLUMNS = (
    ("gap_prefectures", "未达标地级市数", "prefectures with a gap"), ("target_prefectures", "有目标地级市数", "prefectures with a target"),
    ("gap_prefecture_names", "未达标地级市", "prefectures with a gap"),
)
"""The summary's columns of the prefectures, before those of the zones below them, in a run with a prefecture level."""
_BELOW_PREFECTURES = {
    "gap_zones": ("未达标县(市、区)及园区数", "counties, parks with a gap"), "target_zones": ("有目标县(市、区)及园区数", "counties, parks with a target"),
    "gap_zone_names": ("未达标县(市、区)及园区", "counties, parks with a gap"),
}
"""The headings of the zone columns in a run with a prefecture level: the zones below the prefectures."""
_SHARE_COLUMNS = {"value", "target", "baseline"}
_SHARE_UNIT = ("比例", "share")
"""What the unit column says of a share (its values are percentages)."""
ROW_TYPES: dict[str, tuple[str, str]] = {"zone": ("地区", "zone"), "item": ("项目", "item")}
PROPOSAL_HEADINGS: dict[str, tuple[str, str]] = {
    "indicator": ("指标", "indicator"), "zone_type": ("类型", "zone type"), "zone_id": ("代码", "zone id"),
    "zone_name": ("地区", "zone"), "action": ("措施", "action"), "quantity": ("数量", "quantity"), "unit": ("单位", "unit"),
    "value_after": ("措施后指标值", "value after"), "meets_target": ("是否达标", "meets target"), "row_type": ("行类型", "row type"),
    "rank": ("顺序", "rank"), "item_layer": ("图层", "layer"), "item_id": ("编号", "item id"), "item_name": ("名称", "item"),
    "adds": ("增加量", "adds"), "adds_unit": ("增加量单位", "adds unit"), "value_before": ("措施前指标值", "value before"),
    "target": ("目标", "target"), "comparator": ("比较", "comparator"), "detail": ("说明", "detail"),
    "shortfall": ("缺口", "shortfall"), "shortfall_unit": ("缺口单位", "shortfall unit"),
}
"""Headings of the proposals.csv columns on the Proposals sheet (a column not listed is headed by its name)."""
INPUT_HEADINGS: dict[str, tuple[str, str]] = {
    "title": ("图层", "layer"), "layer": ("图层名", "layer name"), "file": ("文件", "file"), "file_layer": ("文件内图层", "layer in file"),
    "source": ("来源", "source"), "licence": ("许可", "licence"), "date": ("日期", "date"), "citation": ("引用", "citation"),
    "synthetic": ("合成数据", "synthetic"), "sha256": ("SHA-256", "SHA-256"), "bytes": ("字节", "bytes"),
}
PARAMETER_HEADINGS: dict[str, tuple[str, str]] = {
    "indicator": ("指标", "indicator"), "title": ("名称", "title"), "method": ("方法", "method"), "inputs": ("输入图层", "inputs"),
    "parameters": ("参数", "parameters"),
}
CODE_FONT = "Consolas"
"""The font of cells that hold code (layer and file names, checksums, methods, parameters as JSON): ids, in no language."""
_CODE_COLUMNS = {"layer", "file", "file_layer", "sha256", "method", "inputs", "parameters"}


def _put(sheet: Worksheet, row: int, column: int, value: Any, number_format: str | None = None) -> Cell:
    """Write one cell: numbers as numbers, text always as text (never a formula)."""
    cell = sheet.cell(row=row, column=column)
    if is_missing(value):
        return cell
    if isinstance(value, bool | np.bool_):
        cell.value = bool(value)
    elif isinstance(value, int | np.integer):
        cell.value = int(value)
        cell.number_format = number_format or INTEGER
    elif isinstance(value, float | np.floating):
        number = float(value)
        cell.value = number
        cell.number_format = number_format or (INTEGER if number.is_integer() else DECIMAL)
    else:
        text = str(value)
        cell.value = text
        if text.startswith(FORMULA_PREFIXES):
            cell.data_type = "s"  # a string cell, whatever openpyxl guessed from the '='
            cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    return cell


def safe_sheet_name(name: str, taken: Iterable[str]) -> str:
    """A valid sheet name (≤ 31 characters, no []:*?/\\) not yet in ``taken`` (case-insensitive)."""
    base = name.translate(_BAD_SHEET_CHARS).strip("'") or "sheet"
    used = {t.casefold() for t in taken}
    candidate = base[:MAX_SHEET_NAME]
    number = 2
    while candidate.casefold() in used:
        suffix = f"~{number}"
        candidate = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        number += 1
    return candidate


def _display_width(value: Any) -> int:
    if is_missing(value):
        return 0
    text = f"{value:,.3f}" if isinstance(value, float) else str(value)
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)


def _fit_columns(sheet: Worksheet, header_row: int, *, least: int = 8, most: int = 60) -> None:
    """Column widths from the header row down (title rows above it do not count)."""
    for column_cells in sheet.iter_cols(min_row=header_row):
        width = max((_display_width(c.value) for c in column_cells), default=0)
        sheet.column_dimensions[get_column_letter(column_cells[0].column)].width = min(max(width + 2, least), most)


def _header(sheet: Worksheet, row: int, labels: list[str]) -> None:
    for column, text in enumerate(labels, start=1):
        cell = _put(sheet, row, column, text)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)
    sheet.auto_filter.ref = f"A{row}:{get_column_letter(len(labels))}{row}"


def _status_cell(sheet: Worksheet, row: int, column: int, status: Any, style: _Style) -> None:
    """A status on its colour from the map spec: the code in both languages (for filtering; the header says 状态),
    else the spec's label in the workbook's language."""
    code = "" if is_missing(status) else str(status)
    cell = _put(sheet, row, column, style.status(code) or None)
    if code in style.colours:
        cell.fill = PatternFill("solid", fgColor=style.colours[code].lstrip("#"))
        cell.font = Font(color="333333" if _is_pale(style.colours[code]) else "FFFFFF", bold=True)


def _code_cell(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """A cell of code (a layer or file name, a checksum, JSON) in the code font."""
    cell = _put(sheet, row, column, value)
    cell.font = Font(name=CODE_FONT)
    return cell


def _is_pale(colour: str) -> bool:
    """Whether white text would not read on ``colour`` (#rrggbb): the pale grey of ``not_assessed``."""
    red, green, blue = (int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.85


def _share_format(unit: Any) -> str | None:
    return PERCENT if unit == "share" else None


@dataclass(frozen=True)
class _Style:
    """The language of the workbook, the run's record, the project (its catalog names things) and the map spec's statuses."""

    lang: Lang
    spec: MapSpec
    record: dict[str, Any]
    project: ProjectConfig | None = None
    zones: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # the catalog's (name, name_en) by zone
    province: bool = False  # whether the run reports prefectures: its top zone is a province

    @property
    def one(self) -> bool:
        """Whether the workbook is in one language."""
        return self.lang != "both"

    @property
    def colours(self) -> dict[str, str]:
        return status_colours(self.spec)

    def label(self, zh: str, en: str, *, sep: str = " ") -> str:
        return label(zh, en, self.lang, sep=sep)

    def status(self, code: str) -> str:
        """A status as the cell shows it: the code in both languages, the spec's label in one."""
        return status_labels(self.spec, self.lang).get(code, code) if self.one and code else code

    @property
    def target_lang(self) -> Lang:
        """The language of the targets in words: Chinese in a Chinese workbook, else English."""
        return "zh" if self.lang == "zh" else "en"

    def zone(self, zone_type: object, zone_id: object, name: object) -> str:
        """A zone's name: as written in both languages, in one as :func:`~gis.outputs.i18n.zone_label` gives it."""
        text = as_text(name)
        if not self.one or not text:
            return text
        return zone_label(text, self.zones.get((as_text(zone_type), as_text(zone_id))), self.lang)

    def zone_type(self, zone_type: object) -> str:
        """A zone type as the cell shows it: the code in both languages, its label in one (the top zone above
        prefectures: 省 province)."""
        text = as_text(zone_type)
        if self.province and text == "city" and self.one:
            return label(*PROVINCE_LABEL, self.lang)
        return pick(ZONE_TYPE_LABELS, text, self.lang) if self.one and text else text

    def unit(self, indicator: str, unit: object, key: str = "unit") -> str:
        """The unit column of an indicator (or its shortfall unit): run.json's in one language, as written in both."""
        if not self.one or is_missing(unit):
            return as_text(unit)
        if key == "unit" and as_text(unit) == "share":
            return self.label(*_SHARE_UNIT)
        return unit_text(spec_unit(self.record, indicator, unit, key), self.lang)

    def title(self, indicator: str, row: Any) -> str:
        """An indicator's title: run.json's in one language, '中文 / English' in both."""
        zh, en = as_text(row.get("title_zh")), as_text(row.get("title_en"))
        if not self.one:
            return label(zh, en, "both", sep=" / ")
        return spec_text(self.record, indicator, "title", self.lang, zh if self.lang == "zh" else en)


def _headline(run: RunOutputs, style: _Style) -> str:
    """The plan targets by level (cities first), in the workbook's language ('both': Chinese, then English)."""
    head = style.label("规划目标", "Plan targets")
    colon = "：" if style.lang == "zh" else ": "
    if style.one:
        return f"{head}{colon}{headline(run.indicators, style.lang)}"
    return f"{head}: {headline(run.indicators, 'zh')} | {headline(run.indicators, 'en')}"


def _zone_rows_line(run: RunOutputs, summary: pd.DataFrame, style: _Style) -> str:
    """The zone rows by status (second to the targets), and the indicators not assessed with the layer each lacks."""
    counts = status_counts(run.indicators)
    if style.one:
        said = " / ".join(f"{style.status(s)} {n}" if style.lang == "zh" else f"{n} {style.status(s)}" for s, n in counts.items())
    else:
        said = " / ".join(f"{n} {s}" for s, n in counts.items())
    colon = "：" if style.lang == "zh" else ": "
    line = f"{style.label('地区评估行', 'Zone rows')}{colon}{said}"
    skipped = not_assessed(run.indicators)
    if skipped:
        total = len(summary)
        head = style.label(f"已评估 {total - len(skipped)} / {total} 项指标", f"{total - len(skipped)} of {total} indicators assessed")
        listed = ", ".join(f"{item.indicator} ({reason_text(item.reason, style.lang)})" for item in skipped)
        line += f"; {head}; {style.label('未评估', 'not assessed')}{colon}{listed}"
    return line


def _synthetic_line(run: RunOutputs, style: _Style) -> str:
    """The synthetic notice: the map spec's in one language, the run's note in both."""
    method = style.label("数字仅演示方法，不代表实际情况。", "The numbers show the method, not the real city.")
    if style.one:
        notice = style.spec.synthetic_notice
        return f"⚠ {label(notice.zh, notice.en, style.lang)}{'。' if style.lang == 'zh' else '. '}{method}"
    note = run.record.get("synthetic_note") or "SYNTHETIC sample data"
    return f"{style.label('合成数据', 'SYNTHETIC DATA')}: {note}. {method}"


def _summary_columns(style: _Style, *, province: bool = False) -> list[tuple[str, str, str]]:
    """The summary's columns: one title column in one language (its target text in that language); in a run with
    prefectures (``province``), theirs before the zones below them."""
    every: list[tuple[str, str, str]] = []
    for key, zh, en in _SUMMARY_COLUMNS:
        if province and key == "gap_zones":
            every += _PREFECTURE_COLUMNS
        if province and key in _BELOW_PREFECTURES:
            zh, en = _BELOW_PREFECTURES[key]
        elif province and key in ("value", "shortfall"):
            zh, en = {"value": ("全省数值", "province value"), "shortfall": ("缺口", "shortfall (province)")}[key]
        every.append((key, zh, en))
    if not style.one:
        return every
    columns = []
    for key, zh, en in every:
        if key == "title_en":
            continue
        if key == "title_zh":
            columns.append(("title", "名称", "title"))
        elif key == "target_text":
            columns.append((key, zh, "target in words"))
        else:
            columns.append((key, zh, en))
    return columns


def _write_summary(sheet: Worksheet, run: RunOutputs, summary: pd.DataFrame, sheets: dict[str, str], style: _Style) -> None:
    record = run.record
    title = f"{style.label('差距汇总', 'Gap summary')} — {project_title(record, style.project, style.lang)} — " \
            f"{style.label('运行', 'run')} {record.get('run_id', '')}"
    _put(sheet, 1, 1, title).font = _TITLE_FONT
    if run.synthetic:
        _put(sheet, 2, 1, _synthetic_line(run, style)).font = _WARNING_FONT
    _put(sheet, 3, 1, _headline(run, style)).font = Font(bold=True, size=12)
    _put(sheet, 4, 1, _zone_rows_line(run, summary, style)).font = Font(bold=bool(not_assessed(run.indicators)))
    province = has_prefectures(run.indicators)
    columns = _summary_columns(style, province=province)
    _header(sheet, 5, [style.label(zh, en) for _, zh, en in columns])
    targets = {k: (v or {}).get("target") for k, v in (record.get("indicators") or {}).items()}
    for offset, item in enumerate(summary.to_dict("records")):
        row = 6 + offset
        indicator = str(item["indicator"])
        percent = _share_format(item["unit"])
        places = _named(item["gap_zone_names"], item["gap_zone_ids"], style)
        cities = _named(item["gap_prefecture_names"], item["gap_prefecture_ids"], style)
        shortfall_unit = spec_unit(record, indicator, item["shortfall_unit"], "shortfall_unit") if style.one else item["shortfall_unit"]
        target = describe_target(targets.get(indicator), spec_unit(record, indicator, item["unit"]) if style.one else item["unit"],
                                 lang=style.target_lang, year=item["target_year"], baseline_year=record.get("baseline_year"),
                                 province=style.province)
        values: dict[str, Any] = {
            "indicator": indicator, "title_zh": item["title_zh"], "title_en": item["title_en"], "title": style.title(indicator, item),
            "clause": clause_text(item["clause"], style.lang), "theme": theme_title(style.project, item["theme"], style.lang)
            if style.one else item["theme"], "unit": style.unit(indicator, item["unit"]),
            "comparator": item["comparator"], "shortfall": item["shortfall"],
            "shortfall_unit": style.unit(indicator, item["shortfall_unit"], "shortfall_unit") or None,
            "gap_zones": item["gap_zones"], "target_zones": item["target_zones"],
            "gap_zone_names": zone_shortfalls(places, shortfall_unit, style.lang if style.one else "both") or None,
            "gap_prefectures": item["gap_prefectures"], "target_prefectures": item["target_prefectures"],
            "gap_prefecture_names": zone_shortfalls(cities, shortfall_unit, style.lang if style.one else "both") or None,
            "target_text": target,
        }
        for column, (key, _, _) in enumerate(columns, start=1):
            if key in ("value", "target"):
                _put(sheet, row, column, item[key], percent)
            elif key == "status":
                _status_cell(sheet, row, column, item["status"], style)
            elif key == "sheet":
                link = _put(sheet, row, column, sheets[indicator])
                link.hyperlink = f"#'{sheets[indicator]}'!A1"
                link.font = Font(color="1565C0", underline="single")
            else:
                _put(sheet, row, column, values[key])
    _fit_columns(sheet, 5)
    for key in ("title" if style.one else "title_en", "gap_zone_names", *(["gap_prefecture_names"] if province else []), "target_text"):
        index = [k for k, _, _ in columns].index(key) + 1
        sheet.column_dimensions[get_column_letter(index)].width = 40


def _named(names: list[tuple[str, object]], ids: list[tuple[str, str]], style: _Style) -> list[tuple[str, object]]:
    """The zones with a gap and their shortfalls, each named in the workbook's language by its own (zone_type, zone_id):
    a prefecture and a county of the same name (济源市) keep their own names."""
    if not style.one:
        return names
    return [(style.zone(zone_type, zone_id, name), short) for (name, short), (zone_type, zone_id) in zip(names, ids, strict=True)]


def _write_indicator(sheet: Worksheet, indicator: str, rows: pd.DataFrame, target: dict[str, Any] | None, style: _Style) -> None:
    first = rows.iloc[0]
    unit = first.get("unit")
    record = style.record
    _put(sheet, 1, 1, indicator).font = _TITLE_FONT
    clause = f"{style.label('条款', 'clause')} {clause_text(first.get('clause', ''), style.lang)}"
    heading = f"{style.title(indicator, first)} ({clause})"
    if style.one:
        definition = spec_text(record, indicator, "definition", style.lang)
        heading += f"{'：' if style.lang == 'zh' else ': '}{definition}" if definition else ""
    _put(sheet, 2, 1, heading)
    wording = spec_text(record, indicator, "wording", style.lang, (target or {}).get("wording")) if style.one \
        else (target or {}).get("wording")
    words = describe_target(target, spec_unit(record, indicator, unit) if style.one else str(unit), lang=style.target_lang,
                            year=first_target_year(rows), baseline_year=record.get("baseline_year"), province=style.province)
    _put(sheet, 3, 1, f"{style.label('目标', 'Target')}{'：' if style.lang == 'zh' else ': '}{wording + ' — ' if wording else ''}{words}")
    _header(sheet, 4, [style.label(zh, en) for _, (zh, en) in _ZONE_COLUMNS])
    percent = _share_format(unit)
    for offset, item in enumerate(rows.to_dict("records")):
        row = 5 + offset
        shown = {
            "zone_type": style.zone_type(item.get("zone_type")),
            "zone_name": style.zone(item.get("zone_type"), item.get("zone_id"), item.get("zone_name")),
            "unit": style.unit(indicator, item.get("unit")),
            "shortfall_unit": style.unit(indicator, item.get("shortfall_unit"), "shortfall_unit") or None,
            "status_note": note_text(item.get("status_note"), style.lang) or None,
        }
        for column, (name, _) in enumerate(_ZONE_COLUMNS, start=1):
            if name == "status":
                _status_cell(sheet, row, column, item.get(name), style)
            elif (name in shown and style.one) or name == "status_note":
                _put(sheet, row, column, shown[name])
            else:
                _put(sheet, row, column, item.get(name), percent if name in _SHARE_COLUMNS else None)
    _fit_columns(sheet, 4)


# --- the long tables the report leaves out: proposal items, inputs, parameters -------------------------
TABLE_SHEETS = (("建议", "Proposals"), ("输入", "Inputs"), ("参数", "Parameters"))
"""The sheets after the indicators' (titles as (zh, en)): every row of proposals.csv, the inputs with their provenance, each indicator's method."""


def _write_table(sheet: Worksheet, title: str, table: pd.DataFrame, headings: dict[str, tuple[str, str]], style: _Style, *,
                 percent_rows: pd.Series | None = None, share_columns: Iterable[str] = ()) -> None:
    """A title, a header (``headings`` in the workbook's language, else the column's name) and the rows of ``table``;
    ``share_columns`` are percent where ``percent_rows`` is true; code columns in the code font."""
    _put(sheet, 1, 1, title).font = _TITLE_FONT
    _header(sheet, 2, [style.label(*headings[c]) if c in headings else str(c) for c in table.columns])
    shares = set(share_columns)
    for offset, record in enumerate(table.to_dict("records")):
        row = 3 + offset
        percent = PERCENT if percent_rows is not None and bool(percent_rows.iloc[offset]) else None
        for column, name in enumerate(table.columns, start=1):
            if name in _CODE_COLUMNS:
                _code_cell(sheet, row, column, record[name])
            else:
                _put(sheet, row, column, record[name], percent if name in shares else None)
    _fit_columns(sheet, 2)


_ONE_LANGUAGE_COLUMNS = ("action_zh", "action_en", "unit_zh", "detail_zh", "adds_unit_zh")
"""The columns of proposals.csv that a workbook in one language folds into ``action``, ``unit``, ``detail``, ``adds_unit``."""


def _proposal_table(run: RunOutputs, style: _Style) -> tuple[pd.DataFrame, pd.Series]:
    """Every row of proposals.csv in the workbook's language, and which rows are in a share (value and target as percentages)."""
    table = run.proposals.reset_index(drop=True)
    units = dict(zip(run.indicators["indicator"].astype(str), run.indicators["unit"], strict=False))
    shares = table["indicator"].astype(str).map(units).eq("share") if not table.empty else pd.Series(dtype=bool)
    if not style.one:
        return table, shares
    rows = []
    for item in table.to_dict("records"):
        indicator = as_text(item.get("indicator"))
        meets = item.get("meets_target")
        rows.append({
            **item,
            "zone_type": style.zone_type(item.get("zone_type")),
            "zone_name": style.zone(item.get("zone_type"), item.get("zone_id"), item.get("zone_name")),
            **{column: proposal_text(item, column, style.lang) or None for column in PROPOSAL_TEXTS},
            "meets_target": None if is_missing(meets) else pick({"True": YES_NO[True], "False": YES_NO[False]}, str(bool(meets)), style.lang),
            "row_type": pick(ROW_TYPES, as_text(item.get("row_type")), style.lang) if as_text(item.get("row_type")) else None,
            "item_layer": _item_layer(item.get("item_layer"), style),
            "shortfall_unit": style.unit(indicator, item.get("shortfall_unit"), "shortfall_unit") or None,
        })
    columns = [c for c in table.columns if c not in _ONE_LANGUAGE_COLUMNS]
    return pd.DataFrame(rows, columns=columns), shares


def _item_layer(layer: object, style: _Style) -> str | None:
    """The layer of a proposal item by its title (a gap layer ``<indicator>.gaps`` by the indicator's title and 缺口 gaps)."""
    name = as_text(layer)
    if not name:
        return None
    if name.endswith(".gaps"):
        indicator = name.removesuffix(".gaps")
        rows = style.record.get("indicators") or {}
        if indicator in rows:
            return f"{spec_text(style.record, indicator, 'title', style.lang, indicator)} · {style.label('缺口', 'gaps')}"
    blocks = re.fullmatch(r"(\d+(?:\.\d+)?) m blocks", name)  # the permeable proposals' grid, no catalog layer
    if blocks is not None:
        return style.label(f"{blocks[1]} 米网格", name)
    return layer_title(style.project, name, style.lang)


def _input_table(record: dict[str, Any], style: _Style) -> pd.DataFrame:
    rows = []
    for name, entry in (record.get("inputs") or {}).items():
        provenance = entry.get("provenance") or {}
        synthetic = bool(entry.get("synthetic") or provenance.get("synthetic"))
        rows.append({"title": layer_title(style.project, name, style.lang), "layer": str(name), "file": entry.get("file"),
                     "file_layer": entry.get("layer"), "source": provenance.get("source"), "licence": provenance.get("licence"),
                     "date": provenance.get("date"), "citation": provenance.get("citation"),
                     "synthetic": label(*YES_NO[synthetic], style.lang) if style.one else synthetic,
                     "sha256": entry.get("sha256"), "bytes": entry.get("bytes")})
    columns = ["layer", "file", "file_layer", "source", "licence", "date", "citation", "synthetic", "sha256", "bytes"]
    return pd.DataFrame(rows, columns=["title", *columns] if style.one else columns)


def _parameter_table(record: dict[str, Any], style: _Style) -> pd.DataFrame:
    """Each indicator's method, input layers and parameters (JSON: code, in no language)."""
    rows = [{"indicator": str(indicator), "title": spec_text(record, str(indicator), "title", style.lang, indicator),
             "method": item.get("method"),
             "inputs": json.dumps(item.get("inputs") or {}, ensure_ascii=False) if style.one
             else ", ".join(f"{k}: {v}" for k, v in (item.get("inputs") or {}).items()),
             "parameters": json.dumps(item.get("parameters") or {}, ensure_ascii=False, sort_keys=True)}
            for indicator, item in (record.get("indicators") or {}).items()]
    columns = ["indicator", "title", "method", "inputs", "parameters"] if style.one else ["indicator", "method", "inputs", "parameters"]
    return pd.DataFrame(rows, columns=columns)


def _write_tables(book: Workbook, run: RunOutputs, style: _Style) -> None:
    """The sheets of the long tables: proposals (every item), inputs (provenance, checksums), parameters."""
    taken = list(book.sheetnames)
    record = run.record
    proposals, shares = _proposal_table(run, style)
    tables = [
        (proposals, "proposals.csv", PROPOSAL_HEADINGS, shares, ("value_before", "value_after", "target")),
        (_input_table(record, style), "run.json: inputs", INPUT_HEADINGS, None, ()),
        (_parameter_table(record, style), "run.json: indicators", PARAMETER_HEADINGS, None, ()),
    ]
    for (zh, en), (table, source, headings, percent_rows, share_columns) in zip(TABLE_SHEETS, tables, strict=True):
        name = safe_sheet_name(style.label(zh, en), taken)
        taken.append(name)
        shown = source if not style.one else source.split(":", 1)[0]  # one language: the file alone (run.json), no key
        _write_table(book.create_sheet(name), f"{style.label(zh, en)} ({shown})", table, headings if style.one else {}, style,
                     percent_rows=percent_rows, share_columns=share_columns)


def write_workbook(run: RunOutputs, path: Path, *, lang: Lang = "both") -> Path:
    """Write ``gaps.xlsx`` of a run (``path`` may be a folder); written whole or not at all.

    ``lang`` is the language of every text: ``zh``, ``en`` or ``both`` (the default: titles and headers in both, codes
    and the English texts as the tables hold them).  In one language the statuses, zone types, units, titles,
    definitions, the plan's wording, zone names, proposal texts and headings are in that language (spec texts from
    run.json, names from the project's catalog when its folder is there); ids, file names and parameters stay code.
    Status cells are filled in the status colours of the project's map spec (``maps/plan.yaml``).
    """
    lang = check_lang(lang)
    path = output_file(path, "gaps.xlsx")
    root = (run.record.get("project") or {}).get("root")
    project = project_at(Path(str(root))) if root else None
    zones = catalog_names(LayerReader(project)) if project is not None and lang != "both" else {}
    indicators = run.indicators
    style = _Style(lang, run_map_spec(run.record, project.root if project is not None else None), run.record, project, zones,
                   province=has_prefectures(indicators))
    summary = indicator_summary(indicators)
    book = Workbook()
    book.properties.title = f"{style.label('差距汇总', 'Gap summary')} {run.record.get('run_id', '')}"
    book.properties.creator = "gis-plan"
    first = book.active
    first.title = SUMMARY_SHEET if lang == "both" else style.label("汇总", "Summary")
    sheets: dict[str, str] = {}
    records = run.record.get("indicators") or {}
    for indicator, rows in indicators.groupby("indicator", sort=False):
        name = safe_sheet_name(str(indicator), [first.title, *sheets.values()])
        sheets[str(indicator)] = name
        _write_indicator(book.create_sheet(name), str(indicator), rows, (records.get(str(indicator)) or {}).get("target"), style)
    _write_summary(first, run, summary, sheets, style)
    _write_tables(book, run, style)
    with replaced_whole(path) as staging:
        book.save(staging)
    return path
