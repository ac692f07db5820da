"""Reader and drop validation: each malformed value is rejected naming file, line and element."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from steward.domain import records as r
from steward.formats.cedars import Drop, DropWriter, read_file, validate_drop
from steward.formats.cedars.layouts import FILES_BY_PREFIX
from steward.formats.cedars.reader import SpellTracker
from tests.formats.cedars.samples import enrollment, student

AS_OF = date(2025, 10, 1)
B_NAME = "90001_0000_DistrictStudent_20251001.txt"
C_NAME = "90001_0000_SchoolStudent_20251001.txt"


def make_drop(directory: Path, *records: object) -> Path:
    with DropWriter(directory, "90001", AS_OF, files=["A", "B", "C"]) as drop:
        drop.write(r.Location(2026, "90001", "Demo", "101", "1001", "Alder Elementary"))
        for rec in records:
            drop.write(rec)  # type: ignore[arg-type]
    return directory


def corrupt(path: Path, line: int, index: int, value: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    fields = lines[line - 1].split("\t")
    fields[index] = value
    lines[line - 1] = "\t".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")


def errors_of(directory: Path) -> list[str]:
    return [str(e) for e in validate_drop(directory).errors]


def test_a_clean_drop_validates(tmp_path: Path) -> None:
    make_drop(tmp_path, student(), student("S2"), enrollment(), enrollment("S2"))
    report = validate_drop(tmp_path)
    assert report.ok, report.errors
    assert report.district_code == "90001"
    assert report.files["B"].records == 2
    assert report.files["C"].lines == 2


@pytest.mark.parametrize(
    ("index", "value", "expected"),
    [
        (8, "13/45/2010", "line 2, B09 BirthDate: '13/45/2010' is not a date (MM/DD/YYYY)"),
        (5, "", "line 2, B06 LastName: is required but empty"),
        (11, "Q", "line 2, B12 Gender: 'Q' is not a known code (M, F, X)"),
        (
            12,
            "13",
            "line 2, B13 GradeLevel: '13' is not a known code (PK, K, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)",
        ),
        (1, "9000", "line 2, B02 ServingCountyDistrictCode: '9000' is not a 5-digit county-district code"),
        (3, "x" * 51, f"line 2, B04 DistrictStudentID: '{'x' * 51}' is longer than 50 characters"),
        (
            4,
            "0123456789",
            "line 2, B05 SSID: '0123456789' is not a 10-digit state student ID not starting with 0",
        ),
        (20, "X", "line 2, B21 IsHomeless: 'X' is not Y or N"),
        (27, "4.5", "line 2, B28 GPA: '4.5' is more than 4.000"),
        (
            14,
            "09/01/2025",
            "line 2, B15 DistrictExitDate: 09/01/2025 is before B14 DistrictEnrollmentDate 09/03/2025",
        ),
        (
            1,
            "90002",
            "line 2, B02 ServingCountyDistrictCode: '90002' does not match the file name's district 90001",
        ),
    ],
)
def test_malformed_values_are_rejected_with_file_line_and_element(
    tmp_path: Path, index: int, value: str, expected: str
) -> None:
    make_drop(tmp_path, student(), student("S2"))
    corrupt(tmp_path / B_NAME, 2, index, value)
    assert errors_of(tmp_path) == [f"{B_NAME} {expected}"]


def test_wrong_element_count_and_encoding(tmp_path: Path) -> None:
    make_drop(tmp_path, student(), student("S2"), student("S3"))
    path = tmp_path / B_NAME
    lines = path.read_bytes().split(b"\n")
    lines[0] = lines[0] + b"\textra"
    lines[2] = lines[2].replace(b"Doe", b"D\xe9")
    path.write_bytes(b"\n".join(lines))
    assert errors_of(tmp_path) == [
        f"{B_NAME} line 1: has 31 elements, expected 30 (B01..B30)",
        f"{B_NAME} line 3: is not UTF-8 text (byte 33)",
    ]


def test_overlapping_district_spells_are_rejected(tmp_path: Path) -> None:
    make_drop(
        tmp_path,
        student(school_year=2025, entry_date=date(2024, 9, 4), exit_date=date(2025, 6, 13)),
        student(entry_date=date(2025, 6, 13)),
    )
    assert errors_of(tmp_path) == [
        f"{B_NAME} line 2, B14 DistrictEnrollmentDate: district enrollment spell 06/13/2025-open of "
        "student 'S1' overlaps the spell on line 1 (09/04/2024-06/13/2025)"
    ]


def test_consecutive_spells_and_other_students_do_not_overlap(tmp_path: Path) -> None:
    make_drop(
        tmp_path,
        student(school_year=2025, entry_date=date(2024, 9, 4), exit_date=date(2025, 6, 13)),
        student(entry_date=date(2025, 6, 14)),
        student("S2", entry_date=date(2025, 6, 1)),
        enrollment(entry_date=date(2024, 9, 4), exit_date=date(2025, 1, 10), withdrawal_code="T0"),
        enrollment(location="102", entry_date=date(2025, 1, 6)),  # another school may overlap
    )
    assert errors_of(tmp_path) == []


def test_overlapping_school_spells_are_rejected(tmp_path: Path) -> None:
    make_drop(
        tmp_path,
        student(),
        enrollment(entry_date=date(2025, 9, 3), exit_date=date(2025, 12, 1), withdrawal_code="T0"),
        enrollment(entry_date=date(2025, 11, 3)),
    )
    assert errors_of(tmp_path) == [
        f"{C_NAME} line 2, C06 DateStudentEnrolledInSchool: school enrollment spell 11/03/2025-open of "
        "student 'S1', location '101' overlaps the spell on line 1 (09/03/2025-12/01/2025)"
    ]


def test_withdrawal_code_required_with_exit(tmp_path: Path) -> None:
    make_drop(tmp_path, student(), enrollment(exit_date=date(2025, 9, 30), withdrawal_code="T0"))
    corrupt(tmp_path / C_NAME, 1, 8, "")
    assert errors_of(tmp_path) == [
        f"{C_NAME} line 1, C09 SchoolWithdrawalCode: is required when C08 SchoolExitDate is set"
    ]


def test_crlf_bom_padding_and_blank_lines_are_tolerated(tmp_path: Path) -> None:
    make_drop(tmp_path, student(), student("S2"))
    path = tmp_path / B_NAME
    text = path.read_text(encoding="utf-8").replace("\tDoe\t", "\t Doe \t")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode() + b"\r\n\r\n")
    reader = read_file(path)
    records = list(reader)
    assert reader.errors == []
    assert [s.last_name for s in records] == ["Doe", "Doe"]


def test_errors_are_capped_but_all_counted(tmp_path: Path) -> None:
    make_drop(tmp_path, *(student(f"S{i}") for i in range(20)))
    path = tmp_path / B_NAME
    path.write_text(path.read_text().replace("01/02/2015", "1/2/15"))
    report = validate_drop(tmp_path, max_errors=5)
    assert report.error_count == 20
    assert len(report.errors) == 5
    assert report.truncated
    assert report.files["B"].records == 0


def test_drop_file_problems(tmp_path: Path) -> None:
    make_drop(tmp_path, student())
    (tmp_path / "90001_0000_DistrictStudent_20250901.txt").write_text("")
    (tmp_path / "90001_0000_Bogus_20251001.txt").write_text("")
    (tmp_path / "90002_0000_Staff_20251001.txt").write_text("")
    (tmp_path / "readme.md").write_text("")
    (tmp_path / ".hidden").write_text("")
    drop = Drop.open(tmp_path)
    problems = sorted(str(p) for p in drop.problems)
    assert problems == [
        "90001_0000_Bogus_20251001.txt: unknown file 'Bogus' (known: Location, DistrictStudent, "
        "SchoolStudent, CourseCatalog, StudentSchedule, Staff, StaffSchedule, GradeHistory, StudentPrograms, "
        "StudentRace, StudentAbsence, ExclusionaryDiscipline, StudentAssessment, StudentGuardian)",
        f"{B_NAME}: duplicate DistrictStudent file (also 90001_0000_DistrictStudent_20250901.txt); "
        "a drop holds one file per kind",
        "90002_0000_Staff_20251001.txt: belongs to district 90002, not 90001",
        "readme.md: unknown file: 'readme.md' does not follow "
        "{CountyDistrictCode}_0000_{FileName}_{YYYYMMDD}.txt",
    ]
    assert set(drop.files) == {"A", "B", "C"}
    assert drop.as_of == AS_OF
    assert not validate_drop(tmp_path).ok


def test_missing_required_files_and_directories(tmp_path: Path) -> None:
    make_drop(tmp_path, student())
    (tmp_path / C_NAME).unlink()
    assert errors_of(tmp_path) == [
        "90001_0000_SchoolStudent_YYYYMMDD.txt: missing: the drop has no School Student file"
    ]
    assert errors_of(tmp_path / "nope") == [
        f"{tmp_path / 'nope'}: is not a directory",
        "12345_0000_Location_YYYYMMDD.txt: missing: the drop has no Location file",
        "12345_0000_DistrictStudent_YYYYMMDD.txt: missing: the drop has no District Student file",
        "12345_0000_SchoolStudent_YYYYMMDD.txt: missing: the drop has no School Student file",
    ]


def test_drop_records_stream_by_prefix(tmp_path: Path) -> None:
    make_drop(tmp_path, student(), student("S2"), enrollment())
    drop = Drop.open(tmp_path)
    assert drop.district_code == "90001"
    assert "B" in drop
    assert [s.student_id for s in drop.records("B")] == ["S1", "S2"]
    reader = drop.records("C")
    assert list(reader) == [enrollment()]
    with pytest.raises(RuntimeError, match="already being read"):
        iter(reader)


def test_spell_tracker_is_compact() -> None:
    tracker = SpellTracker(FILES_BY_PREFIX["B"].spells)  # type: ignore[arg-type]
    for year in range(2000, 2010):
        assert tracker.add("S1", date(year, 9, 1), date(year + 1, 6, 15), year) is None
    assert len(tracker) == 1
    assert tracker.add("S1", date(2005, 1, 1), None, 99) == (2004, date(2004, 9, 1), date(2005, 6, 15))
