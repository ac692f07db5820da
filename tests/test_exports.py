"""CSV and XLSX exports never carry a live formula (CSV/XLSX injection)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.exports import csv_chunks, is_formula_like, neutralise, write_csv, write_xlsx

ATTACKS = [
    '=HYPERLINK("http://evil","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\uff1d1+1",
]


def test_attacks_become_text_and_plain_values_stay() -> None:
    for attack in ATTACKS:
        assert neutralise(attack) == "'" + attack
    assert neutralise("Ana O'Neil") == "Ana O'Neil"
    assert neutralise(42) == 42
    assert neutralise(-3.5) == -3.5
    assert neutralise(None) == ""
    assert neutralise(date(2026, 1, 2)) == date(2026, 1, 2)


@given(st.lists(st.lists(st.text(max_size=20), min_size=1, max_size=4), max_size=10))
@settings(max_examples=200, deadline=None)
def test_no_csv_cell_starts_like_a_formula(rows: list[list[str]]) -> None:
    out = io.StringIO()
    write_csv(out, ["a", "b"], rows)
    parsed = list(csv.reader(io.StringIO(out.getvalue())))
    for row in parsed:
        for cell in row:
            assert not is_formula_like(cell) or cell.startswith("'")
    assert "".join(csv_chunks(["a", "b"], rows, batch=3)) == out.getvalue()


def test_xlsx_cells_are_strings_not_formulas(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    assert write_xlsx(str(path), "Ledger", ["who", "n"], [[a, 1] for a in ATTACKS]) == len(ATTACKS)
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    # xlsx stores a carriage return as _x000D_, which openpyxl reads back literally.
    assert [str(v[0]).replace("_x000D_", "\r") for v in values] == ["'" + a for a in ATTACKS]
    assert all(v[1] == 1 for v in values)
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "s"
