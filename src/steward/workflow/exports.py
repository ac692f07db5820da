"""Exports people open in spreadsheets: every cell that a spreadsheet would run as a formula is
neutralised (a leading apostrophe), CSV and XLSX alike; XLSX is written with xlsxwriter, which
keeps strings as strings (never openpyxl, which would store ``=...`` as a live formula)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

import xlsxwriter

#: Leading characters that make Excel, LibreOffice or Sheets evaluate a cell (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def is_formula(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def neutralise(value: object) -> str:
    """The cell as text, prefixed with ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if is_formula(text) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], sheet: str = "Sheet1") -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    for col, name in enumerate(header):
        worksheet.write_string(0, col, neutralise(name), bold)
        worksheet.set_column(col, col, max(12, len(name) + 2))
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            worksheet.write_string(r, col, neutralise(value))
    workbook.close()
    return buffer.getvalue()
