"""Writers: refusals name file, row and element; drops are published whole or not at all."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from steward.domain import records as r
from steward.formats.cedars import CedarsWriteError, DropWriter, FileWriter, check_delimiter, write_file
from tests.formats.cedars.samples import student

AS_OF = date(2025, 10, 1)


def test_one_file_is_written_without_header(tmp_path: Path) -> None:
    path = tmp_path / "b.txt"
    assert write_file(path, [student(), student(student_id="S2")]) == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[:6] == ["2026", "90001", "90001", "S1", "1234567890", "Doe"]


@pytest.mark.parametrize(
    ("change", "element", "message"),
    [
        ({"last_name": "Do\te"}, "B06 LastName", "control character"),
        ({"last_name": "Do\ne"}, "B06 LastName", "control character"),
        ({"last_name": ""}, "B06 LastName", "is required but empty"),
        ({"sex": "Q"}, "B12 Gender", "is not a known code"),
        ({"state_id": "123"}, "B05 SSID", "10-digit"),
        ({"exit_date": date(2025, 9, 1)}, "B15 DistrictExitDate", "is before B14"),
        ({"grade_level": "10"}, "B26 GradRequirementsYear", "required for grades 9-12"),
        ({"district_code": "90002"}, "B02 ServingCountyDistrictCode", "does not match the drop's district"),
    ],
)
def test_refusals_name_file_row_and_element(
    tmp_path: Path, change: dict[str, object], element: str, message: str
) -> None:
    bad = student(student_id="S2", **change)
    with DropWriter(tmp_path, "90001", AS_OF, files=["B"]) as drop:
        drop.write(student())
        with pytest.raises(CedarsWriteError) as info:
            drop.write(bad)
        drop.abort()
    assert info.value.error.file == "90001_0000_DistrictStudent_20251001.txt"
    assert info.value.error.line == 2
    assert info.value.error.element == element
    assert message in info.value.error.message
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left


def test_an_exception_discards_the_whole_drop(tmp_path: Path) -> None:
    with pytest.raises(CedarsWriteError), DropWriter(tmp_path, "90001", AS_OF) as drop:
        drop.write(student(sex="Q"))
    assert list(tmp_path.iterdir()) == []


def test_the_delimiter_inside_a_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        CedarsWriteError, match=r"b\.txt line 1, B06 LastName: 'Doe\|Roe' contains the delimiter '\|'"
    ):
        write_file(tmp_path / "b.txt", [student(last_name="Doe|Roe")], delimiter="|")
    assert not (tmp_path / "b.txt").exists()


def test_a_record_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    with (
        pytest.raises(CedarsWriteError, match="cannot go in DistrictStudent"),
        FileWriter(tmp_path / "b.txt", "B") as w,
    ):
        w.write(r.StudentRace(2026, "90001", "S1", None, "WH"))


@pytest.mark.parametrize("bad", ["", "ab", "\n", "/", ".", "a", "1", " ", "-"])
def test_unusable_delimiters(bad: str) -> None:
    with pytest.raises(ValueError, match="cannot be a CEDARS delimiter"):
        check_delimiter(bad)
    assert check_delimiter("|") == "|"


def test_drop_writer_names_files_and_counts_rows(tmp_path: Path) -> None:
    with DropWriter(tmp_path / "90001", "90001", AS_OF) as drop:
        drop.write(student())
        drop.write(r.StudentRace(2026, "90001", "S1", None, "WH"))
        drop.write(r.StudentRace(2026, "90001", "S1", None, "AS"))
    assert drop.counts["B"] == 1
    assert drop.counts["M"] == 2
    assert drop.counts["N"] == 0
    names = sorted(p.name for p in (tmp_path / "90001").iterdir())
    assert len(names) == 14
    assert "90001_0000_StudentRace_20251001.txt" in names
    assert (tmp_path / "90001" / "90001_0000_StudentAbsence_20251001.txt").read_text() == ""


def test_write_file_needs_a_type_for_no_records(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pass file="):
        write_file(tmp_path / "x.txt", [])
    assert write_file(tmp_path / "x.txt", [], file="M") == 0
