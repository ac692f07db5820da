"""The roster importer on both databases: what it loads, and that loading twice changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from steward.domain import records as r
from steward.domain.time import local_midnight
from steward.store.models import (
    Guardianship,
    Organization,
    RoleAssignment,
    SchoolEnrollment,
    Section,
    SectionEnrollment,
    StaffAssignment,
    Student,
)
from steward.store.roster_import import RosterImportError, import_roster

D = "17999"


@dataclass
class MemorySource:
    district_code: str = D
    rows: dict[str, list[r.Record]] = field(default_factory=dict)

    def records(self, prefix: str) -> Iterator[r.Record]:
        return iter(self.rows.get(prefix, []))


def _student(sid: str, ssid: str, grade: str, entry: date, exit_: date | None = None) -> r.DistrictStudent:
    return r.DistrictStudent(
        school_year=2026,
        district_code=D,
        resident_district_code=D,
        student_id=sid,
        state_id=ssid,
        last_name="Lee",
        first_name=f"Kid{sid}",
        middle_name="",
        birth_date=date(2015, 5, 1),
        sex="F",
        grade_level=grade,
        entry_date=entry,
        exit_date=exit_,
    )


def make_source() -> MemorySource:
    start, end = date(2025, 9, 2), date(2026, 6, 19)
    return MemorySource(
        rows={
            "A": [
                r.Location(2026, D, "Lakeside SD", "101", "3001", "Cedar Elementary", start, end),
                r.Location(2026, D, "Lakeside SD", "102", "3002", "Alder Middle", start, end),
            ],
            "B": [
                _student("1", "5000000001", "4", start),
                _student("2", "5000000002", "4", start, date(2025, 12, 19)),
                _student("3", "5000000003", "7", start),
            ],
            "C": [
                r.SchoolStudent(2026, D, "1", "5000000001", "101", start),
                r.SchoolStudent(2026, D, "2", "5000000002", "101", start, date(2025, 12, 19), "T1"),
                r.SchoolStudent(2026, D, "3", "5000000003", "102", start),
            ],
            "D": [
                r.Course(2026, D, "101", "HR4", "Grade 4 Homeroom"),
                r.Course(2026, D, "102", "MA7", "Math 7"),
            ],
            "F": [
                r.Staff(2026, D, "T9", "C1", "Ng", "Tam", "", "101", "teacher"),
                r.Staff(2026, D, "P1", "C2", "Ruiz", "Ana", "", "101", "principal"),
            ],
            "G": [r.StaffSchedule(2026, D, "101", "HR4", "01", "S1", "T9", "teacher_of_record", start, end)],
            "E": [
                r.ScheduleEntry(2026, D, "1", "5000000001", "101", "HR4", "01", "S1", start, None),
                r.ScheduleEntry(
                    2026, D, "2", "5000000002", "101", "HR4", "01", "S1", start, date(2025, 12, 19)
                ),
                r.ScheduleEntry(2026, D, "3", "5000000003", "102", "MA7", "02", "S1", start, None),
            ],
            "XG": [
                r.Guardian(D, "1", "5000000001", "G1", "Lee", "Mia", "mother", "mia@example.invalid"),
                r.Guardian(D, "2", "5000000002", "G2", "Lee", "Bo", "father", restricted=True),
            ],
        }
    )


def _counts(db: Session) -> dict[str, int]:
    models = (
        Organization,
        Student,
        SchoolEnrollment,
        Section,
        SectionEnrollment,
        StaffAssignment,
        RoleAssignment,
        Guardianship,
    )
    return {m.__tablename__: int(db.scalar(select(func.count()).select_from(m)) or 0) for m in models}


def test_import_loads_the_roster_index(engine: Engine) -> None:
    with Session(engine) as db, db.begin():
        summary = import_roster(db, make_source())
    assert summary.new["students"] == 3
    with Session(engine) as db:
        counts = _counts(db)
        assert counts == {
            "organizations": 3,
            "students": 3,
            "school_enrollments": 3,
            "sections": 2,
            "section_enrollments": 3,
            "staff_assignments": 3,
            "role_assignments": 2,
            "guardianships": 2,
        }
        leaver = db.scalars(select(SchoolEnrollment).join(Student).where(Student.local_id == "2")).one()
        # The exit date is the last day enrolled: the interval ends at the next local midnight.
        assert leaver.valid_to == local_midnight(date(2025, 12, 20))
        assert leaver.grade == "4"
        assert leaver.exit_code == "T1"
        school = db.scalars(select(Organization).where(Organization.code == f"{D}-3001")).one()
        assert school.name == "Cedar Elementary"
        assert school.kind == "school"
        roles = {ra.role for ra in db.scalars(select(RoleAssignment))}
        assert roles == {"teacher", "principal"}
        restricted = db.scalars(select(Guardianship).where(Guardianship.restricted.is_(True))).all()
        assert len(restricted) == 1


def test_import_twice_changes_nothing(engine: Engine) -> None:
    with Session(engine) as db, db.begin():
        import_roster(db, make_source())
    with Session(engine) as db:
        first = _counts(db)
    with Session(engine) as db, db.begin():
        summary = import_roster(db, make_source())
    with Session(engine) as db:
        assert _counts(db) == first
    assert all(n == 0 for n in summary.new.values())


def test_import_updates_changed_rows(engine: Engine) -> None:
    with Session(engine) as db, db.begin():
        import_roster(db, make_source())
    source = make_source()
    source.rows["C"][0] = r.SchoolStudent(
        2026, D, "1", "5000000001", "101", date(2025, 9, 2), date(2026, 1, 30), "T2"
    )
    with Session(engine) as db, db.begin():
        import_roster(db, source)
    with Session(engine) as db:
        spell = db.scalars(select(SchoolEnrollment).join(Student).where(Student.local_id == "1")).one()
        assert spell.valid_to == local_midnight(date(2026, 1, 31))
        assert spell.exit_code == "T2"


def test_a_failing_import_leaves_nothing(engine: Engine) -> None:
    source = make_source()
    source.rows["E"].append(r.ScheduleEntry(2026, D, "404", None, "101", "HR4", "01", "S1", date(2025, 9, 2)))
    with (
        pytest.raises(
            RosterImportError, match=r"StudentSchedule \(E\) record 4: student '404' is not defined"
        ),
        Session(engine) as db,
        db.begin(),
    ):
        import_roster(db, source)
    with Session(engine) as db:
        assert all(n == 0 for n in _counts(db).values())
