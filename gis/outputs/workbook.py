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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gis.outputs._files import output_file, replaced_whole
from gis.outputs.folder import RunOutputs
from gis.outputs.i18n import Lang, check_lang, label
from gis.outputs.summary import first_target_year, indicator_summary, not_assessed, status_counts
from gis.outputs.symbology import run_map_spec, status_colours
from gis.outputs.text import describe_target, zone_shortfalls
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
    ("指标", "indicator"), ("名称", "title (zh)"), ("英文名称", "title (en)"), ("条款", "clause"), ("主题", "theme"),
    ("单位", "unit"), ("市值", "city value"), ("比较", "comparator"), ("目标", "target"), ("状态", "status"),
    ("缺口", "shortfall (city)"), ("缺口单位", "shortfall unit"), ("未达标地区数", "zones with a gap"),
    ("有目标地区数", "zones with a target"), ("未达标地区", "zones with a gap"), ("目标说明", "target (en)"), ("工作表", "sheet"),
)
_SHARE_COLUMNS = {"value", "target", "baseline"}


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


def _status_cell(sheet: Worksheet, row: int, column: int, status: Any, colours: dict[str, str]) -> None:
    """The status code (for filtering; the header says 状态) on its colour from the map spec."""
    code = "" if is_missing(status) else str(status)
    cell = _put(sheet, row, column, code or None)
    if code in colours:
        cell.fill = PatternFill("solid", fgColor=colours[code].lstrip("#"))
        cell.font = Font(color="333333" if _is_pale(colours[code]) else "FFFFFF", bold=True)


def _is_pale(colour: str) -> bool:
    """Whether white text would not read on ``colour`` (#rrggbb): the pale grey of ``not_assessed``."""
    red, green, blue = (int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.85


def _share_format(unit: Any) -> str | None:
    return PERCENT if unit == "share" else None


@dataclass(frozen=True)
class _Style:
    """The language of the workbook's titles and headers, and the status colours of the project's map spec."""

    lang: Lang
    colours: dict[str, str]

    def label(self, zh: str, en: str, *, sep: str = " ") -> str:
        return label(zh, en, self.lang, sep=sep)

    @property
    def target_lang(self) -> Lang:
        """The language of the targets in words: Chinese in a Chinese workbook, else English."""
        return "zh" if self.lang == "zh" else "en"


def _write_summary(sheet: Worksheet, run: RunOutputs, summary: pd.DataFrame, sheets: dict[str, str], style: _Style) -> None:
    record = run.record
    project = record.get("project") or {}
    title = f"{style.label('差距汇总', 'Gap summary')} — {project.get('name', '')} — {style.label('运行', 'run')} {record.get('run_id', '')}"
    _put(sheet, 1, 1, title).font = _TITLE_FONT
    if run.synthetic:
        note = record.get("synthetic_note") or "SYNTHETIC sample data"
        method = style.label("数字仅演示方法，不代表实际情况。", "The numbers show the method, not the real city.")
        _put(sheet, 2, 1, f"{style.label('合成数据', 'SYNTHETIC DATA')}: {note}. {method}").font = _WARNING_FONT
    counts = status_counts(run.indicators)
    _put(sheet, 3, 1, f"{style.label('全部地区', 'All zone rows')}: " + " / ".join(f"{counts[s]} {s}" for s in counts))
    skipped = not_assessed(run.indicators)
    if skipped:
        total = len(summary)
        head = style.label(f"已评估 {total - len(skipped)} / {total} 项指标", f"{total - len(skipped)} of {total} indicators assessed")
        listed = ", ".join(f"{item.indicator} ({item.reason})" for item in skipped)
        _put(sheet, 4, 1, f"{head}; {style.label('未评估', 'not assessed')}: {listed}").font = Font(bold=True)
    _header(sheet, 5, [style.label(zh, en) for zh, en in _SUMMARY_COLUMNS])
    targets = {k: (v or {}).get("target") for k, v in (record.get("indicators") or {}).items()}
    for offset, item in enumerate(summary.to_dict("records")):
        row = 6 + offset
        percent = _share_format(item["unit"])
        names = zone_shortfalls(item["gap_zone_names"], item["shortfall_unit"])
        values = [item["indicator"], item["title_zh"], item["title_en"], item["clause"], item["theme"], item["unit"]]
        for column, value in enumerate(values, start=1):
            _put(sheet, row, column, value)
        _put(sheet, row, 7, item["value"], percent)
        _put(sheet, row, 8, item["comparator"])
        _put(sheet, row, 9, item["target"], percent)
        _status_cell(sheet, row, 10, item["status"], style.colours)
        _put(sheet, row, 11, item["shortfall"])
        _put(sheet, row, 12, item["shortfall_unit"] or None)
        _put(sheet, row, 13, item["gap_zones"])
        _put(sheet, row, 14, item["target_zones"])
        _put(sheet, row, 15, names or None)
        target = describe_target(targets.get(item["indicator"]), item["unit"], lang=style.target_lang, year=item["target_year"],
                                 baseline_year=record.get("baseline_year"))
        _put(sheet, row, 16, target)
        link = _put(sheet, row, 17, sheets[item["indicator"]])
        link.hyperlink = f"#'{sheets[item['indicator']]}'!A1"
        link.font = Font(color="1565C0", underline="single")
    _fit_columns(sheet, 5)
    for letter in ("C", "O", "P"):
        sheet.column_dimensions[letter].width = 40


def _write_indicator(
    sheet: Worksheet, indicator: str, rows: pd.DataFrame, target: dict[str, Any] | None, style: _Style, baseline_year: object = None
) -> None:
    first = rows.iloc[0]
    unit = first.get("unit")
    _put(sheet, 1, 1, indicator).font = _TITLE_FONT
    title = style.label(str(first.get("title_zh", "")), str(first.get("title_en", "")), sep=" / ")
    _put(sheet, 2, 1, f"{title} ({style.label('条款', 'clause')} {first.get('clause', '')})")
    wording = (target or {}).get("wording")
    words = describe_target(target, str(unit), lang=style.target_lang, year=first_target_year(rows), baseline_year=baseline_year)
    _put(sheet, 3, 1, f"{style.label('目标', 'Target')}: {wording + ' — ' if wording else ''}{words}")
    _header(sheet, 4, [style.label(zh, en) for _, (zh, en) in _ZONE_COLUMNS])
    percent = _share_format(unit)
    for offset, record in enumerate(rows.to_dict("records")):
        row = 5 + offset
        for column, (name, _) in enumerate(_ZONE_COLUMNS, start=1):
            value = record.get(name)
            if name == "status":
                _status_cell(sheet, row, column, value, style.colours)
            else:
                _put(sheet, row, column, value, percent if name in _SHARE_COLUMNS else None)
    _fit_columns(sheet, 4)


# --- the long tables the report leaves out: proposal items, inputs, parameters -------------------------
TABLE_SHEETS = (("建议", "Proposals"), ("输入", "Inputs"), ("参数", "Parameters"))
"""The sheets after the indicators' (titles as (zh, en)): every row of proposals.csv, the inputs with their provenance, each indicator's method."""


def _write_table(sheet: Worksheet, title: str, table: pd.DataFrame, *, percent_rows: pd.Series | None = None,
                 share_columns: Iterable[str] = ()) -> None:
    """A title, a header and the rows of ``table``; ``share_columns`` are percent where ``percent_rows`` is true."""
    _put(sheet, 1, 1, title).font = _TITLE_FONT
    _header(sheet, 2, [str(c) for c in table.columns])
    shares = set(share_columns)
    for offset, record in enumerate(table.to_dict("records")):
        row = 3 + offset
        percent = PERCENT if percent_rows is not None and bool(percent_rows.iloc[offset]) else None
        for column, name in enumerate(table.columns, start=1):
            _put(sheet, row, column, record[name], percent if name in shares else None)
    _fit_columns(sheet, 2)


def _proposal_table(run: RunOutputs) -> tuple[pd.DataFrame, pd.Series]:
    """Every row of proposals.csv, and which rows are in a share (value and target as percentages)."""
    table = run.proposals.reset_index(drop=True)
    units = dict(zip(run.indicators["indicator"].astype(str), run.indicators["unit"], strict=False))
    return table, table["indicator"].astype(str).map(units).eq("share") if not table.empty else pd.Series(dtype=bool)


def _input_table(record: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name, entry in (record.get("inputs") or {}).items():
        provenance = entry.get("provenance") or {}
        rows.append({"layer": str(name), "file": entry.get("file"), "file_layer": entry.get("layer"),
                     "source": provenance.get("source"), "licence": provenance.get("licence"), "date": provenance.get("date"),
                     "citation": provenance.get("citation"), "synthetic": bool(entry.get("synthetic") or provenance.get("synthetic")),
                     "sha256": entry.get("sha256"), "bytes": entry.get("bytes")})
    return pd.DataFrame(rows, columns=["layer", "file", "file_layer", "source", "licence", "date", "citation", "synthetic", "sha256", "bytes"])


def _parameter_table(record: dict[str, Any]) -> pd.DataFrame:
    rows = [{"indicator": str(indicator), "method": item.get("method"),
             "inputs": ", ".join(f"{k}: {v}" for k, v in (item.get("inputs") or {}).items()),
             "parameters": json.dumps(item.get("parameters") or {}, ensure_ascii=False, sort_keys=True)}
            for indicator, item in (record.get("indicators") or {}).items()]
    return pd.DataFrame(rows, columns=["indicator", "method", "inputs", "parameters"])


def _write_tables(book: Workbook, run: RunOutputs, style: _Style) -> None:
    """The sheets of the long tables: proposals (every item), inputs (provenance, checksums), parameters."""
    taken = list(book.sheetnames)
    record = run.record
    proposals, shares = _proposal_table(run)
    tables = [
        (proposals, "proposals.csv", shares, ("value_before", "value_after", "target")),
        (_input_table(record), "run.json: inputs", None, ()),
        (_parameter_table(record), "run.json: indicators", None, ()),
    ]
    for (zh, en), (table, source, percent_rows, share_columns) in zip(TABLE_SHEETS, tables, strict=True):
        name = safe_sheet_name(style.label(zh, en), taken)
        taken.append(name)
        _write_table(book.create_sheet(name), f"{style.label(zh, en)} ({source})", table, percent_rows=percent_rows,
                     share_columns=share_columns)


def write_workbook(run: RunOutputs, path: Path, *, lang: Lang = "both") -> Path:
    """Write ``gaps.xlsx`` of a run (``path`` may be a folder); written whole or not at all.

    ``lang`` is the language of the titles and headers: ``zh``, ``en`` or ``both`` (the default).
    Status cells are filled in the status colours of the project's map spec (``maps/plan.yaml``).
    """
    lang = check_lang(lang)
    path = output_file(path, "gaps.xlsx")
    style = _Style(lang, status_colours(run_map_spec(run.record)))
    indicators = run.indicators
    summary = indicator_summary(indicators)
    book = Workbook()
    book.properties.title = f"Gap summary {run.record.get('run_id', '')}"
    book.properties.creator = "gis-plan"
    first = book.active
    first.title = SUMMARY_SHEET if lang == "both" else style.label("汇总", "Summary")
    sheets: dict[str, str] = {}
    records = run.record.get("indicators") or {}
    for indicator, rows in indicators.groupby("indicator", sort=False):
        name = safe_sheet_name(str(indicator), [first.title, *sheets.values()])
        sheets[str(indicator)] = name
        _write_indicator(book.create_sheet(name), str(indicator), rows, (records.get(str(indicator)) or {}).get("target"), style,
                         run.record.get("baseline_year"))
    _write_summary(first, run, summary, sheets, style)
    _write_tables(book, run, style)
    with replaced_whole(path) as staging:
        book.save(staging)
    return path
