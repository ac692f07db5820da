"""Ed-Fi XML interchanges: hardened parsing, XSD validation, 5.2 and 2.x samples."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from steward.domain import records as r
from steward.formats.edfi import read_xml, to_canonical, validate
from steward.formats.edfi.xml import XmlRefusedError, check_prolog
from steward.formats.report import ConversionReport

GRAND_BEND = "edfi-grandbend/Samples/Sample XML"
SCHEMAS = "edfi-grandbend/Schemas/Bulk"
SECRET = "steward-xxe-canary-4f1c"

XXE = """<?xml version="1.0"?>
<!DOCTYPE InterchangeStudent [<!ENTITY leak SYSTEM "file://{path}">]>
<InterchangeStudent xmlns="http://ed-fi.org/5.2.0">
  <Student><StudentUniqueId>&leak;</StudentUniqueId>
    <Name><FirstName>A</FirstName><LastSurname>B</LastSurname></Name>
    <BirthData><BirthDate>2010-01-01</BirthDate></BirthData></Student>
</InterchangeStudent>
"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<InterchangeStudent xmlns="http://ed-fi.org/5.2.0"><Student><StudentUniqueId>&lol2;</StudentUniqueId></Student>
</InterchangeStudent>
"""


@pytest.mark.parametrize("payload", ["xxe", "laughs"])
def test_doctype_and_entities_are_refused(tmp_path: Path, payload: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    doc = tmp_path / "Student.xml"
    doc.write_text(XXE.format(path=secret) if payload == "xxe" else LAUGHS)
    with pytest.raises(XmlRefusedError):
        check_prolog(doc)
    data, report = read_xml(tmp_path)
    assert data.students == []
    assert [str(i) for i in report.errors] == [
        "Student.xml: refused: declares a DOCTYPE; DTDs and entities are refused (XXE protection)"
    ]
    assert SECRET not in repr(data)
    schema_report = ConversionReport()
    assert validate(doc, tmp_path, schema_report) is False
    assert "refused" in str(schema_report.errors[0])


def test_broken_xml_and_bad_values_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "A.xml").write_text('<InterchangeStudent xmlns="x"><Student>\n<oops></InterchangeStudent>')
    (tmp_path / "B.xml").write_text(
        '<InterchangeStudentEnrollment xmlns="http://ed-fi.org/5.2.0">\n'
        "<StudentSchoolAssociation><StudentReference><StudentIdentity><StudentUniqueId>1</StudentUniqueId>"
        "</StudentIdentity></StudentReference><SchoolReference><SchoolIdentity><SchoolId>9</SchoolId>"
        "</SchoolIdentity></SchoolReference><EntryDate>2021-13-01</EntryDate>"
        "</StudentSchoolAssociation></InterchangeStudentEnrollment>"
    )
    _, report = read_xml(tmp_path)
    messages = [str(i) for i in report.errors]
    assert messages[0].startswith("A.xml row 2: is not well-formed XML")
    assert messages[1] == "B.xml row 2, field EntryDate: StudentSchoolAssociation: '2021-13-01' is not a date"


def test_grand_bend_5_2_reads_every_kind(shared_data: Path) -> None:
    data, report = read_xml(shared_data / GRAND_BEND)
    assert report.errors == []
    counts = data.counts()
    assert counts["students"] == 960
    assert counts["sections"] == 532
    assert counts["staff_sections"] == 528
    assert counts["contacts"] == 1873
    assert counts["student_contacts"] == 1872
    assert counts["incidents"] == 21
    assert counts["actions"] == 25
    records = list(to_canonical(data, report))
    kinds = Counter(type(x).__name__ for x in records)
    assert kinds["Location"] == 3
    assert kinds["StaffSchedule"] == 528
    assert kinds["Absence"] == 1850  # 1077 excused + 773 unexcused; tardies are not absences
    assert kinds["DisciplineAction"] == 25
    dropped = {(d.entity, d.field): d for d in report.dropped.values()}
    assert dropped[("Student", None)].count == 960  # the sample lacks StudentEnrollment.xml
    assert dropped[("StudentSchoolAttendanceEvent", None)].count == 67  # 66 tardy + 1 partial
    suspension = next(x for x in records if isinstance(x, r.DisciplineAction) and x.incident_id == "18")
    assert (suspension.action_code, suspension.behavior_code, suspension.action_days) == ("IS", "OT", 3)
    elementary = next(x for x in records if isinstance(x, r.Location) and x.location_id == "255901107")
    assert (elementary.district_code, elementary.school_year) == ("255901", 2022)
    assert (str(elementary.first_day), str(elementary.last_day)) == ("2021-08-23", "2021-12-17")


def test_grand_bend_files_validate_against_the_xsd(shared_data: Path) -> None:
    report = ConversionReport()
    for name in ("EducationOrganization.xml", "StudentDiscipline.xml"):
        assert validate(shared_data / GRAND_BEND / name, shared_data / SCHEMAS, report), report.errors


def test_xsd_violation_is_reported_with_its_line(shared_data: Path, tmp_path: Path) -> None:
    doc = tmp_path / "Student.xml"
    doc.write_text(
        '<?xml version="1.0"?>\n<InterchangeStudent xmlns="http://ed-fi.org/5.2.0">\n'
        "<Student><StudentUniqueId>1</StudentUniqueId>\n<Nickname>x</Nickname></Student>\n"
        "</InterchangeStudent>\n"
    )
    report = ConversionReport()
    assert validate(doc, shared_data / SCHEMAS, report) is False
    first = report.errors[0]
    assert (first.file, first.row) == ("Student.xml", 4)
    assert "Interchange-Student.xsd" in first.message


def test_grand_bend_2_2_reads_demographics_from_the_student(shared_data: Path) -> None:
    data, report = read_xml(shared_data / "edfi-grandbend-v2.2" / "Student.xml")
    assert report.errors == []
    first = data.students[0]
    assert (first.id, first.sex, first.races, first.hispanic) == (
        "777777",
        "Male",
        ("Black - African American",),
        True,
    )


def test_sample_generator_2_0_students_with_enrollments(shared_data: Path) -> None:
    base = shared_data / "edfi-sdg-northridge"
    data, report = read_xml(
        [base / "Student-Grand Bend High School.xml", base / "StudentEnrollment-Grand Bend High School.xml"]
    )
    data_orgs, _ = read_xml(shared_data / GRAND_BEND / "EducationOrganization.xml")
    data.edorgs = data_orgs.edorgs
    records = list(to_canonical(data, report, school_year=2017))
    students = [x for x in records if isinstance(x, r.DistrictStudent)]
    assert len(students) == 1400
    last = next(s for s in students if s.student_id == "001400")
    assert (last.first_name, last.sex, last.grade_level, last.district_code) == (
        "Madisyn",
        "F",
        "12",
        "255901",
    )
    assert str(last.entry_date) == "2017-03-07"
    races = Counter(x.race_code for x in records if isinstance(x, r.StudentRace))
    assert sum(races.values()) >= 1400
