"""DuckDB over CEDARS drops reads exactly what the CEDARS reader reads, with canonical types."""

from __future__ import annotations

import dataclasses
import shutil
from collections import Counter
from pathlib import Path

import pytest

from steward.formats.cedars.layouts import spec_for
from steward.formats.cedars.reader import Drop
from steward.sources import CedarsDropSource, SourceError, open_source
from steward.sources.canonical import TABLES, columns, schema


def _rows(source: CedarsDropSource, name: str) -> list[tuple[object, ...]]:
    return sorted(
        (tuple(r[c] for c in columns(name)) for r in source.to_arrow(source.table(name)).to_pylist()),
        key=repr,
    )


@pytest.mark.parametrize("name", list(TABLES))
def test_every_table_matches_the_reader(duck: CedarsDropSource, region: list[Path], name: str) -> None:
    drop = Drop.open(region[0])
    prefix = spec_for(TABLES[name]).prefix
    expected = (
        sorted((dataclasses.astuple(r) for r in drop.records(prefix)), key=repr) if prefix in drop else []
    )
    assert _rows(duck, name) == expected
    assert duck.table(name).schema() == schema(name)


def test_student_years_keep_the_latest_spell(region: list[Path], tmp_path: Path) -> None:
    """A student who leaves and re-enters in one year has two spell rows; the later one counts."""
    drop = tmp_path / region[0].name
    shutil.copytree(region[0], drop)
    path = next(drop.glob("*_DistrictStudent_*.txt"))
    first = path.read_text().splitlines()[0].split("\t")
    year = int(first[0])
    first[13], first[14] = f"09/05/{year - 1}", f"01/10/{year}"
    later = list(first)
    later[12], later[13], later[14] = "7", f"03/02/{year}", ""
    path.write_text(
        "\n".join(["\t".join(first), "\t".join(later), *path.read_text().splitlines()[1:]]) + "\n"
    )
    with CedarsDropSource(drop) as source:
        spells = source.to_arrow(source.table("district_students")).to_pylist()
        years = source.to_arrow(source.student_years()).to_pylist()
    keys = Counter((r["school_year"], r["student_id"]) for r in spells)
    assert keys[(year, first[3])] == 2
    assert len(years) == len(keys)
    mine = next(r for r in years if (r["school_year"], r["student_id"]) == (year, first[3]))
    assert (mine["grade_level"], mine["exit_date"]) == ("7", None)


def test_several_drops_read_as_one_source(region: list[Path]) -> None:
    with open_source(region[0].parent) as source:
        districts = {r["district_code"] for r in source.to_arrow(source.table("locations")).to_pylist()}
    assert districts == {p.name for p in region}


def test_bad_value_names_file_line_and_element(region: list[Path], tmp_path: Path) -> None:
    drop = tmp_path / region[0].name
    shutil.copytree(region[0], drop)
    path = next(drop.glob("*_DistrictStudent_*.txt"))
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[2].split("\t")
    fields[8] = "13/45/2014"
    lines[2] = "\t".join(fields)
    path.write_text("".join(lines))
    with CedarsDropSource(drop) as source, pytest.raises(SourceError) as caught:
        source.to_arrow(source.table("district_students"))
    error = caught.value
    assert (error.where, error.line, error.element) == (path.name, 3, "B09 BirthDate")
    assert "'13/45/2014' is not a date (MM/DD/YYYY)" in str(error)


def test_missing_file_is_an_empty_table(region: list[Path], tmp_path: Path) -> None:
    drop = tmp_path / region[0].name
    shutil.copytree(region[0], drop)
    next(drop.glob("*_ExclusionaryDiscipline_*.txt")).unlink()
    with CedarsDropSource(drop) as source:
        assert source.to_arrow(source.table("discipline")).num_rows == 0
        assert source.table("discipline").schema() == schema("discipline")


def test_open_source_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="neither a drop directory nor a PostgreSQL URL"):
        open_source(tmp_path / "nowhere")
    with pytest.raises(SourceError, match="cannot connect") as caught:
        open_source("postgresql://reader:s3cret@127.0.0.1:1/none")
    assert "s3cret" not in str(caught.value)
