"""``steward suppress`` writes OUT.csv spreadsheet-safe: labels from IN.csv never run as formulas."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from steward.cli import app
from steward.exports import is_formula_like

HOSTILE = (
    "=region,+sex,n\n"
    "=1+2,@SUM(A1),20\n"
    "=1+2,-2+3,3\n"
    " =cmd|' /C calc'!A0,@SUM(A1),15\n"
    " =cmd|' /C calc'!A0,-2+3,12\n"
)


def test_labels_and_column_names_are_neutralised(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["suppress", str(src), "--dims", "=region,+sex", "--count", "n", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--threshold", "5"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert rows[0] == ["'=region", "'+sex", "n", "status"]
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if is_formula_like(cell)]
    by_cell = {(row[0], row[1]): row for row in rows[1:]}
    assert by_cell[("'=cmd|' /C calc'!A0", "'-2+3")][3] in {"published", "primary", "secondary"}
    assert by_cell[("'=1+2", "'@SUM(A1)")][3] in {"published", "primary", "secondary"}
    assert by_cell[("Total", "Total")][2:] == ["50", "published"]
