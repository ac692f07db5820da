"""Spreadsheet-safe exports: CSV and XLSX cells that can never run as formulas (CSV/XLSX injection).

A cell whose text starts with ``= + - @``, a tab, a carriage return or a line feed (also after
leading spaces, which spreadsheets skip) is prefixed with an apostrophe, as OWASP recommends; numbers
stay numbers. Every module that writes CSV or XLSX for people to open calls ``neutralise`` (or the
writers below) on each cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def is_formula_like(text: str) -> bool:
    return text.lstrip(" ").startswith(FORMULA_START)


def neutralise(value: object) -> object:
    """A cell value that a spreadsheet shows as text: strings are neutralised, numbers and dates kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal | date | datetime):
        return value
    text = str(value)
    return "'" + text if is_formula_like(text) else text


def neutralise_text(value: object) -> str:
    """``neutralise`` as text (CSV cells)."""
    cell = neutralise(value)
    return cell.isoformat() if isinstance(cell, date | datetime) else str(cell)


def neutralise_row(row: Iterable[object]) -> list[str]:
    return [neutralise_text(v) for v in row]


def write_csv(out: IO[str], header: Sequence[str], rows: Iterable[Iterable[object]]) -> int:
    """Write a neutralised CSV (CRLF line ends, as RFC 4180 says); returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(neutralise_row(header))
    count = 0
    for row in rows:
        writer.writerow(neutralise_row(row))
        count += 1
    return count


def csv_chunks(header: Sequence[str], rows: Iterable[Iterable[object]], batch: int = 500) -> Iterator[str]:
    """Neutralised CSV text in chunks, for streaming responses."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(neutralise_row(header))
    for index, row in enumerate(rows, start=1):
        writer.writerow(neutralise_row(row))
        if index % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx_row(worksheet: Any, row_index: int, values: Iterable[object]) -> None:
    """Write one row with xlsxwriter, strings always as strings (``write_string``), never formulas."""
    for col, value in enumerate(values):
        cell = neutralise(value)
        if isinstance(cell, str):
            worksheet.write_string(row_index, col, cell)
        elif isinstance(cell, date):  # datetime is a date too
            worksheet.write_string(row_index, col, cell.isoformat())
        else:
            worksheet.write_number(row_index, col, float(cell))  # type: ignore[arg-type]


def write_xlsx(path_or_file: Any, sheet: str, header: Sequence[str], rows: Iterable[Iterable[object]]) -> int:
    """A one-sheet XLSX workbook with neutralised cells; returns the number of data rows."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path_or_file, {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}
    )
    try:
        worksheet = workbook.add_worksheet(sheet[:31] or "Sheet1")
        write_xlsx_row(worksheet, 0, header)
        count = 0
        for count, row in enumerate(rows, start=1):
            write_xlsx_row(worksheet, count, row)
    finally:
        workbook.close()
    return count
