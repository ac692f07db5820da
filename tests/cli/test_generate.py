"""`steward generate`: writes valid drops, prints the summary, refuses a bad delimiter."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from steward.cli import app
from steward.cli.generate import parse_delimiter
from steward.formats.cedars import validate_drop

runner = CliRunner()


def test_generate_writes_a_drop_per_district(tmp_path: Path) -> None:
    args = ["generate", str(tmp_path), "--districts", "2", "--students", "200", "--years", "2", "--seed", "3"]
    result = runner.invoke(app, [*args, "--delimiter", "PIPE", "--end-year", "2025"])
    assert result.exit_code == 0, result.output
    assert "movers between districts" in result.output
    assert "StudentAbsence" in result.output
    drops = sorted(p for p in tmp_path.iterdir())
    assert [p.name for p in drops] == ["90001", "90002"]
    for drop in drops:
        assert validate_drop(drop, delimiter="|").ok
        assert "|" in next(drop.glob("*_DistrictStudent_*.txt")).read_text().splitlines()[0]


def test_a_bad_delimiter_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", str(tmp_path), "--students", "10", "--delimiter", "ab"])
    assert result.exit_code == 2
    assert "cannot be a CEDARS delimiter" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "char"), [("TAB", "\t"), ("tab", "\t"), ("COMMA", ","), ("|", "|")])
def test_delimiter_names(name: str, char: str) -> None:
    assert parse_delimiter(name) == char
    with pytest.raises(typer.BadParameter):
        parse_delimiter("/")
