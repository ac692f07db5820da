"""Report files: XLSX cells are never formulas, CSV text is neutralised, the legend travels along."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from steward.products.aggregate.output import legend_path, write_report
from steward.products.aggregate.service import CROSS_GROUP, ReportResult, Row

HOSTILE = ('=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(A1)", "=cmd|' /C calc'!A0")


def _result() -> ReportResult:
    result = ReportResult("enrollment", "Enrollment", "students", (2026,), "90001", 10)
    result.measures["enrollment"] = "=students"
    for i, name in enumerate(HOSTILE):
        result.rows.append(
            Row(
                2026,
                "90001",
                f"000{i}",
                name,
                "5",
                "All Students",
                "All Students",
                "enrollment",
                40 + i,
                None,
                12.5,
                "",
            )
        )
    result.rows.append(
        Row(
            2026,
            "90001",
            "0009",
            "Tiny",
            "5",
            "Low Income",
            "Low Income",
            "enrollment",
            None,
            None,
            None,
            "N<10",
        )
    )
    result.rows.append(
        Row(
            2026,
            "90001",
            "0009",
            "Tiny",
            "5",
            "Low Income",
            "Non Low Income",
            "enrollment",
            None,
            None,
            "≤5%",
            CROSS_GROUP,
        )
    )
    return result


def test_xlsx_cells_are_never_formulas(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_report(_result(), path)
    book = load_workbook(path)
    assert book.sheetnames == ["Report", "Legend", "About"]
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                seen += 1
                assert cell.data_type in ("s", "n"), (sheet.title, cell.coordinate, cell.data_type)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
    assert seen > 50
    report = book["Report"]
    header = [c.value for c in report[1]]
    names = [r[header.index("school_name")] for r in report.iter_rows(min_row=2, values_only=True)]
    assert names[: len(HOSTILE)] == ["'" + h for h in HOSTILE]
    ns = [r[header.index("n")] for r in report.iter_rows(min_row=2, values_only=True)]
    assert ns[0] == 40
    assert isinstance(ns[0], int | float)
    legend = {r[0]: r[1] for r in book["Legend"].iter_rows(min_row=2, values_only=True)}
    assert {"N<10", CROSS_GROUP, "Top/Bottom"} <= set(legend)


def test_csv_is_neutralised_and_has_a_legend(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    written = write_report(_result(), path)
    assert written == [path, legend_path(path)]
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["school_name"] for r in rows[: len(HOSTILE)]] == ["'" + h for h in HOSTILE]
    assert rows[-2]["suppression"] == "N<10"
    assert rows[-2]["n"] == ""
    assert rows[-1]["percent"] == "≤5%"
    assert rows[0]["percent"] == "12.5"
    with legend_path(path).open(encoding="utf-8") as handle:
        legend = {r["notation"]: r["meaning"] for r in csv.DictReader(handle)}
    assert {"N<10", CROSS_GROUP, "Top/Bottom", "report"} <= set(legend)
    assert legend["measure enrollment"] == "'=students"


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
        write_report(_result(), tmp_path / "report.txt")
