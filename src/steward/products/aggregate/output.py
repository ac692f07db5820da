"""Report files: CSV (with a legend file next to it) and XLSX (report, legend and about sheets).

No text ever becomes a spreadsheet formula: XLSX cells are written with ``write_string`` (xlsxwriter
never interprets them) and any text starting with ``= + - @``, a tab or a carriage return gets a
leading apostrophe in both formats, so a later copy or CSV re-export stays inert.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from steward.domain.time import SchoolYear
from steward.products.aggregate.service import COLUMNS, ReportResult

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet could read it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return inert(str(value))


def legend_path(path: Path) -> Path:
    """Where the CSV legend goes: ``report.csv`` -> ``report.legend.csv``."""
    return path.with_name(f"{path.stem}.legend.csv")


def about(result: ReportResult) -> list[tuple[str, str]]:
    years = ", ".join(SchoolYear(y).label() for y in result.years)
    return [
        ("report", f"{result.title} ({result.name})"),
        ("district", result.district_code),
        ("school years", years),
        ("population", result.population),
        ("suppression threshold", f"groups of fewer than {result.threshold} students"),
        *((f"measure {name}", title) for name, title in result.measures.items()),
    ]


def write_csv(result: ReportResult, path: Path) -> list[Path]:
    """The report as CSV and its legend as ``<name>.legend.csv``; returns both paths."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in result.rows:
            writer.writerow([_cell(v) for v in row.values()])
    legend = legend_path(path)
    with legend.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(("notation", "meaning"))
        for notation, meaning in [*result.legend(), *about(result)]:
            writer.writerow((inert(notation), inert(meaning)))
    return [path, legend]


def _sheet_rows(sheet: Any, header: Sequence[str], rows: Sequence[Sequence[Any]], bold: Any) -> None:
    for col, name in enumerate(header):
        sheet.write_string(0, col, inert(name), bold)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_string(r, col, "yes" if value else "no")
            elif isinstance(value, int | float):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, inert(str(value)))


def write_xlsx(result: ReportResult, path: Path) -> list[Path]:
    """One workbook: the report, the legend and what the report is."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    try:
        bold = workbook.add_format({"bold": True})
        report = workbook.add_worksheet("Report")
        _sheet_rows(report, COLUMNS, [row.values() for row in result.rows], bold)
        report.freeze_panes(1, 0)
        report.autofilter(0, 0, max(1, len(result.rows)), len(COLUMNS) - 1)
        _sheet_rows(workbook.add_worksheet("Legend"), ("notation", "meaning"), result.legend(), bold)
        _sheet_rows(workbook.add_worksheet("About"), ("item", "value"), about(result), bold)
    finally:
        workbook.close()
    return [path]


def write_report(result: ReportResult, path: Path) -> list[Path]:
    """CSV or XLSX by the file's extension."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(result, path)
    if suffix == ".csv":
        return write_csv(result, path)
    raise ValueError(f"{path.name}: the report file must end in .csv or .xlsx")
