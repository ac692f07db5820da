"""The layouts: element numbering, names from the layouts document, record coverage, file names."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import pytest

from steward.domain import records as r
from steward.formats.cedars import (
    FILES,
    FILES_BY_PREFIX,
    DropFileName,
    build_file_name,
    parse_file_name,
    spec_for,
)
from steward.formats.cedars.codec import element_codecs

EXPECTED_FILES = {
    "A": "Location",
    "B": "DistrictStudent",
    "C": "SchoolStudent",
    "D": "CourseCatalog",
    "E": "StudentSchedule",
    "F": "Staff",
    "G": "StaffSchedule",
    "H": "GradeHistory",
    "I": "StudentPrograms",
    "M": "StudentRace",
    "N": "StudentAbsence",
    "R": "ExclusionaryDiscipline",
    "XA": "StudentAssessment",
    "XG": "StudentGuardian",
}


def test_the_fourteen_files_and_their_names() -> None:
    assert {s.prefix: s.file_name for s in FILES} == EXPECTED_FILES
    assert {s.prefix for s in FILES if s.extension} == {"XA", "XG"}


@pytest.mark.parametrize("spec", FILES, ids=lambda s: s.prefix)
def test_every_record_field_without_default_has_an_element(spec: object) -> None:
    spec = spec_for(spec)  # type: ignore[arg-type]
    mapped = {e.attribute for e in spec.elements if e.attribute}
    fields = {f.name for f in dataclasses.fields(spec.record_type)}
    assert mapped <= fields
    needed = {
        f.name
        for f in dataclasses.fields(spec.record_type)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    assert needed <= mapped
    assert len(element_codecs(spec)) == len(spec.elements)


def test_every_record_type_has_a_file() -> None:
    carried = {s.record_type for s in FILES}
    assert carried == {
        r.Location, r.DistrictStudent, r.SchoolStudent, r.Course, r.ScheduleEntry, r.Staff,
        r.StaffSchedule, r.GradeHistory, r.ProgramParticipation, r.StudentRace, r.Absence,
        r.DisciplineAction, r.AssessmentResult, r.Guardian,
    }  # fmt: skip


def test_district_student_elements_match_the_layouts_document(shared_data: Path) -> None:
    text = (shared_data / "wa-cedars" / "CEDARS_file_layouts.md").read_text()
    documented = dict(re.findall(r"^\| (B\d\d) \| (\w+) \|", text, flags=re.M))
    assert len(documented) == 30
    assert {e.code: e.name for e in FILES_BY_PREFIX["B"].elements} == documented


def test_documented_codes_of_other_files_are_used(shared_data: Path) -> None:
    text = (shared_data / "wa-cedars" / "CEDARS_file_layouts.md").read_text()
    for prefix in "CDEIM":
        documented = set(re.findall(rf"\b({prefix}\d\d) ", text))
        ours = {e.code for e in FILES_BY_PREFIX[prefix].elements if not e.steward_defined}
        assert documented <= ours | {"D17", "D18", "D19", "E16"}, prefix  # later elements not carried
    assert FILES_BY_PREFIX["I"].element("I06").codes is not None
    assert {"15", "36"} <= set(FILES_BY_PREFIX["I"].element("I06").codes or {})


def test_steward_defined_elements_are_marked() -> None:
    assert FILES_BY_PREFIX["A"].element("A06").steward_defined
    assert FILES_BY_PREFIX["E"].element("E12").steward_defined
    assert not FILES_BY_PREFIX["E"].element("E08").steward_defined
    for prefix in ("F", "G", "H", "N", "R", "XA", "XG"):
        assert all(e.steward_defined for e in FILES_BY_PREFIX[prefix].elements), prefix


def test_file_names_build_and_parse() -> None:
    name = build_file_name("12345", "B", date(2025, 10, 1))
    assert name == "12345_0000_DistrictStudent_20251001.txt"
    assert parse_file_name(name) == DropFileName("12345", "DistrictStudent", date(2025, 10, 1))
    assert build_file_name("01234", r.Guardian, date(2026, 1, 2)) == "01234_0000_StudentGuardian_20260102.txt"


@pytest.mark.parametrize(
    "bad",
    [
        "1234_0000_DistrictStudent_20251001.txt",
        "12345_0001_Staff_20251001.txt",
        "12345_0000_Staff_20251301.txt",
        "12345_0000_Staff_20251001.csv",
        "notes.txt",
    ],
)
def test_bad_file_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        parse_file_name(bad)


def test_spec_lookup() -> None:
    assert spec_for("B") is spec_for("DistrictStudent") is spec_for(r.DistrictStudent)
    with pytest.raises(KeyError, match="unknown CEDARS file"):
        spec_for("Z")
    with pytest.raises(ValueError, match="county-district"):
        build_file_name("123", "B", date(2025, 1, 1))
