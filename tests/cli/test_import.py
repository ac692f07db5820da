"""`steward import cedars` end to end on real files: a clean drop loads; a malformed one loads nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from steward.cli import app
from steward.formats.cedars import DropWriter
from steward.store.models import SchoolEnrollment, Student
from tests.store.test_roster_import import D, make_source

runner = CliRunner()


def write_drop(directory: Path) -> Path:
    source = make_source()
    with DropWriter(directory, D, date(2025, 10, 1)) as writer:
        for rows in source.rows.values():
            writer.write_all(rows)
    return directory


def _students(engine: Engine) -> int:
    with Session(engine) as db:
        return int(db.scalar(select(func.count()).select_from(Student)) or 0)


def _import(engine: Engine, directory: Path) -> object:
    return runner.invoke(
        app, ["import", "cedars", str(directory), "--district", D, "--database-url", str(engine.url)]
    )


def test_import_a_clean_drop_twice(engine: Engine, tmp_path: Path) -> None:
    drop = write_drop(tmp_path / D)
    first = _import(engine, drop)
    assert first.exit_code == 0, first.output  # type: ignore[attr-defined]
    assert "imported" in first.output  # type: ignore[attr-defined]
    assert _students(engine) == 3
    second = _import(engine, drop)
    assert second.exit_code == 0  # type: ignore[attr-defined]
    assert _students(engine) == 3
    with Session(engine) as db:
        assert db.scalar(select(func.count()).select_from(SchoolEnrollment)) == 3


def _corrupt(path: Path, line: int, index: int, value: str) -> None:
    lines = path.read_text().splitlines()
    cells = lines[line - 1].split("\t")
    cells[index] = value
    lines[line - 1] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("index", "value", "element", "message"),
    [
        (8, "13/45/2010", "B09", "not a date"),
        (5, "", "B06", "required"),
    ],
)
def test_malformed_value_rejected_and_nothing_imported(
    sqlite_engine: Engine, tmp_path: Path, index: int, value: str, element: str, message: str
) -> None:
    drop = write_drop(tmp_path / D)
    b_file = next(drop.glob(f"{D}_0000_DistrictStudent_*.txt"))
    _corrupt(b_file, 2, index, value)
    result = _import(sqlite_engine, drop)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    out = result.output  # type: ignore[attr-defined]
    assert b_file.name[:20] in out.replace("\n", "")
    assert element in out
    assert message in out
    assert "nothing was imported" in out
    assert _students(sqlite_engine) == 0


def test_overlapping_spells_rejected(sqlite_engine: Engine, tmp_path: Path) -> None:
    drop = write_drop(tmp_path / D)
    b_file = next(drop.glob(f"{D}_0000_DistrictStudent_*.txt"))
    first = b_file.read_text().splitlines()[0]
    b_file.write_text(b_file.read_text() + first + "\n")
    result = _import(sqlite_engine, drop)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "overlap" in result.output.lower()  # type: ignore[attr-defined]
    assert _students(sqlite_engine) == 0
