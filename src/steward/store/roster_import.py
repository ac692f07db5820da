"""Load the roster index from one district's canonical records (a CEDARS file drop, or any source).

All-or-nothing: everything is written in one transaction, after the caller has validated the drop.
Idempotent: every row is upserted on its natural key, so importing the same drop twice changes
nothing. Exit dates are the last day of enrollment, so intervals end at the following local midnight.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from steward.domain import records as r
from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.domain.time import DEFAULT_TIMEZONE, SchoolYear, local_midnight
from steward.store.models import (
    Guardianship,
    ImportBatch,
    Organization,
    Person,
    RoleAssignment,
    SchoolEnrollment,
    Section,
    SectionEnrollment,
    StaffAssignment,
    Student,
    TenantSettings,
)
from steward.store.upsert import upsert


class RecordSource(Protocol):
    """What the importer needs from a drop: its district and its records by file prefix."""

    @property
    def district_code(self) -> str: ...

    def records(self, prefix: str) -> Iterator[r.Record]: ...


Progress = Callable[[str, int], None]


class RosterImportError(Exception):
    """A drop refers to something it does not define (e.g. a schedule row for an unknown student)."""


_FILES = {
    "A": "Location",
    "B": "DistrictStudent",
    "C": "SchoolStudent",
    "D": "CourseCatalog",
    "E": "StudentSchedule",
    "F": "Staff",
    "G": "StaffSchedule",
    "XG": "StudentGuardian",
}


def _ref(mapping: dict[Any, int], key: Any, prefix: str, n: int, what: str) -> int:
    """Resolve a reference or fail naming the file, its record number and what is missing."""
    try:
        return mapping[key]
    except KeyError:
        raise RosterImportError(
            f"{_FILES.get(prefix, prefix)} ({prefix}) record {n}: {what} {key!r} is not defined in the drop"
        ) from None


@dataclass
class ImportSummary:
    district_code: str
    rows: dict[str, int] = field(default_factory=dict)
    new: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, sent: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + sent


def _start(day: date, tz: str) -> Any:
    return local_midnight(day, tz)


def _end(day: date | None, tz: str) -> Any:
    """The exclusive end of a spell whose last day is ``day``."""
    return None if day is None else local_midnight(day + timedelta(days=1), tz)


def _counted(source: Iterable[r.Record], label: str, progress: Progress | None) -> Iterator[r.Record]:
    for n, record in enumerate(source, 1):
        if progress is not None and n % 5000 == 0:
            progress(label, 5000)
        yield record


class _Spells:
    """Grade per student over time, from district spells, to label school enrollments."""

    def __init__(self) -> None:
        self._by_student: dict[str, list[tuple[date, str]]] = {}

    def add(self, student_id: str, entry: date, grade: str) -> None:
        self._by_student.setdefault(student_id, []).append((entry, grade))

    def freeze(self) -> None:
        for spells in self._by_student.values():
            spells.sort()

    def grade(self, student_id: str, day: date) -> str:
        spells = self._by_student.get(student_id)
        if not spells:
            return ""
        index = bisect_right(spells, (day, "\uffff")) - 1
        return spells[max(index, 0)][1]


def _tables() -> dict[str, Any]:
    return {
        "organizations": Organization.__table__,
        "students": Student.__table__,
        "school_enrollments": SchoolEnrollment.__table__,
        "sections": Section.__table__,
        "section_enrollments": SectionEnrollment.__table__,
        "people": Person.__table__,
        "role_assignments": RoleAssignment.__table__,
        "staff_assignments": StaffAssignment.__table__,
        "guardianships": Guardianship.__table__,
    }


def _count_rows(db: Session) -> dict[str, int]:
    return {
        name: int(db.scalar(select(func.count()).select_from(table)) or 0)
        for name, table in _tables().items()
    }


def import_roster(
    db: Session,
    source: RecordSource,
    *,
    fingerprint: str = "",
    region_id: int | None = None,
    state: str = "WA",
    progress: Progress | None = None,
) -> ImportSummary:
    """Upsert the district, its schools, students, enrollments, sections, staff and guardians."""
    before = _count_rows(db)
    summary = ImportSummary(source.district_code)
    district = _district(db, source, region_id, state)
    settings = db.get(TenantSettings, district.id)
    if settings is None:
        settings = TenantSettings(district_id=district.id)
        db.add(settings)
        db.flush()
    tz = settings.timezone or DEFAULT_TIMEZONE
    schools = _schools(db, source, district, state, summary, progress)
    students, spells = _students(db, source, district, summary, progress)
    _school_enrollments(db, source, schools, students, spells, tz, summary, progress)
    sections = _sections(db, source, schools, summary, progress)
    staff = _staff(db, source, schools, tz, summary, progress)
    _staff_schedule(db, source, schools, sections, staff, tz, summary, progress)
    _schedules(db, source, schools, sections, students, tz, summary, progress)
    _guardians(db, source, students, tz, summary, progress)
    after = _count_rows(db)
    summary.new = {name: after[name] - before[name] for name in after}
    db.add(
        ImportBatch(district_id=district.id, source="cedars", fingerprint=fingerprint, counts=summary.rows)
    )
    db.flush()
    return summary


def _district(db: Session, source: RecordSource, region_id: int | None, state: str) -> Organization:
    code = source.district_code
    district = db.scalar(select(Organization).where(Organization.code == code))
    name = next((loc.district_name for loc in source.records("A") if isinstance(loc, r.Location)), "") or code
    if district is None:
        district = Organization(code=code, kind=OrgKind.DISTRICT, name=name, state=state, region_id=region_id)
        district.registration_status = RegistrationStatus.REGISTERED
        db.add(district)
    else:
        district.name = name or district.name
        if region_id is not None:
            district.region_id = region_id
    db.flush()
    return district


def _schools(
    db: Session,
    source: RecordSource,
    district: Organization,
    state: str,
    summary: ImportSummary,
    progress: Progress | None,
) -> dict[str, int]:
    """Schools by Location ID (the district's SIS code); their org code is DISTRICT-SCHOOLCODE."""
    latest: dict[str, r.Location] = {}
    for loc in _counted(source.records("A"), "locations", progress):
        assert isinstance(loc, r.Location)
        if loc.location_id not in latest or loc.school_year >= latest[loc.location_id].school_year:
            latest[loc.location_id] = loc
    rows: list[dict[str, Any]] = [
        {
            "code": f"{district.code}-{loc.school_code}",
            "kind": OrgKind.SCHOOL.value,
            "name": loc.school_name or loc.school_code,
            "state": state,
            "region_id": district.region_id,
            "parent_id": district.id,
            "registration_status": RegistrationStatus.REGISTERED.value,
            "flags": [],
            "created_at": local_midnight(date.today()),
        }
        for loc in latest.values()
    ]
    summary.add(
        "organizations",
        upsert(db, Organization, rows, ["code"], ["name", "parent_id", "region_id"]),
    )
    ids = dict(
        db.execute(
            select(Organization.code, Organization.id).where(Organization.parent_id == district.id)
        ).all()
    )
    return {loc_id: ids[f"{district.code}-{loc.school_code}"] for loc_id, loc in latest.items()}


def _students(
    db: Session,
    source: RecordSource,
    district: Organization,
    summary: ImportSummary,
    progress: Progress | None,
) -> tuple[dict[str, int], _Spells]:
    spells = _Spells()
    latest: dict[str, tuple[tuple[int, date], dict[str, Any]]] = {}
    for rec in _counted(source.records("B"), "district students", progress):
        assert isinstance(rec, r.DistrictStudent)
        spells.add(rec.student_id, rec.entry_date, rec.grade_level)
        key = (rec.school_year, rec.entry_date)
        if rec.student_id not in latest or key >= latest[rec.student_id][0]:
            latest[rec.student_id] = (
                key,
                {
                    "district_id": district.id,
                    "local_id": rec.student_id,
                    "state_id": rec.state_id,
                    "first_name": rec.first_name,
                    "middle_name": rec.middle_name,
                    "last_name": rec.last_name,
                    "birth_date": rec.birth_date,
                    "legal_restriction": False,
                },
            )
    spells.freeze()
    rows = (row for _, row in latest.values())
    updated = ["state_id", "first_name", "middle_name", "last_name", "birth_date"]
    summary.add("students", upsert(db, Student, rows, ["district_id", "local_id"], updated))
    ids = dict(
        db.execute(select(Student.local_id, Student.id).where(Student.district_id == district.id)).all()
    )
    return ids, spells


def _school_enrollments(
    db: Session,
    source: RecordSource,
    schools: dict[str, int],
    students: dict[str, int],
    spells: _Spells,
    tz: str,
    summary: ImportSummary,
    progress: Progress | None,
) -> None:
    def rows() -> Iterator[dict[str, Any]]:
        for n, rec in enumerate(_counted(source.records("C"), "school enrollments", progress), 1):
            assert isinstance(rec, r.SchoolStudent)
            yield {
                "student_id": _ref(students, rec.student_id, "C", n, "student"),
                "school_id": _ref(schools, rec.location_id, "C", n, "location"),
                "grade": spells.grade(rec.student_id, rec.entry_date),
                "school_year": rec.school_year,
                "exit_code": rec.withdrawal_code,
                "valid_from": _start(rec.entry_date, tz),
                "valid_to": _end(rec.exit_date, tz),
            }

    sent = upsert(
        db,
        SchoolEnrollment,
        rows(),
        ["student_id", "school_id", "valid_from"],
        ["grade", "school_year", "exit_code", "valid_to"],
    )
    summary.add("school_enrollments", sent)


def _section_key(course_id: str, section_id: str) -> str:
    return f"{course_id}-{section_id}"


def _sections(
    db: Session,
    source: RecordSource,
    schools: dict[str, int],
    summary: ImportSummary,
    progress: Progress | None,
) -> dict[tuple[int, int, str], int]:
    """Sections named in the staff schedule (G) and student schedule (E), titled from the catalog (D)."""
    titles: dict[tuple[str, int, str], str] = {}
    for course in _counted(source.records("D"), "courses", progress):
        assert isinstance(course, r.Course)
        titles[(course.location_id, course.school_year, course.course_id)] = course.title
    found: dict[tuple[int, int, str], dict[str, Any]] = {}
    for prefix in ("G", "E"):
        for n, rec in enumerate(_counted(source.records(prefix), "sections", progress), 1):
            assert isinstance(rec, r.StaffSchedule | r.ScheduleEntry)
            school_id = _ref(schools, rec.location_id, prefix, n, "location")
            local = _section_key(rec.course_id, rec.section_id)
            key = (school_id, rec.school_year, local)
            if key not in found:
                found[key] = {
                    "school_id": school_id,
                    "school_year": rec.school_year,
                    "local_id": local,
                    "course_id": rec.course_id,
                    "title": titles.get((rec.location_id, rec.school_year, rec.course_id), rec.course_id),
                    "term": rec.term,
                }
    sent = upsert(
        db,
        Section,
        found.values(),
        ["school_id", "school_year", "local_id"],
        ["course_id", "title", "term"],
    )
    summary.add("sections", sent)
    result: dict[tuple[int, int, str], int] = {}
    for school_id in set(schools.values()):
        for sid, year, local in db.execute(
            select(Section.id, Section.school_year, Section.local_id).where(Section.school_id == school_id)
        ):
            result[(school_id, year, local)] = sid
    return result


def _staff_code(district_code: str, staff_id: str) -> str:
    return f"{district_code}-staff-{staff_id}"


def _staff(
    db: Session,
    source: RecordSource,
    schools: dict[str, int],
    tz: str,
    summary: ImportSummary,
    progress: Progress | None,
) -> dict[str, int]:
    """Staff become people with a role at their school for the school year (or their assignment)."""
    people: dict[str, dict[str, Any]] = {}
    roles: list[dict[str, Any]] = []
    for n, rec in enumerate(_counted(source.records("F"), "staff", progress), 1):
        assert isinstance(rec, r.Staff)
        code = _staff_code(source.district_code, rec.staff_id)
        people[code] = {
            "code": code,
            "given_name": rec.first_name,
            "family_name": rec.last_name,
            "email": rec.email,
            "created_at": local_midnight(date.today()),
        }
        role = STAFF_ROLES.get(rec.role.strip().lower())
        if role is None:
            continue
        year = SchoolYear(rec.school_year)
        start = rec.assignment_start or year.first_day
        roles.append(
            {
                "code": code,
                "role": role.value,
                "organization_id": _ref(schools, rec.location_id, "F", n, "location"),
                "valid_from": _start(start, tz),
                "valid_to": _end(rec.assignment_end or year.last_day, tz),
            }
        )
    summary.add(
        "people",
        upsert(db, Person, people.values(), ["code"], ["given_name", "family_name", "email"]),
    )
    ids = _people_ids(db, list(people))
    existing = {
        (p, role, org, start)
        for p, role, org, start in db.execute(
            select(
                RoleAssignment.person_id,
                RoleAssignment.role,
                RoleAssignment.organization_id,
                RoleAssignment.valid_from,
            ).where(RoleAssignment.person_id.in_(list(ids.values())) if ids else RoleAssignment.id < 0)
        )
    }
    new_roles = []
    for row in roles:
        person_id = ids[row.pop("code")]
        key = (person_id, row["role"], row["organization_id"], row["valid_from"])
        if key not in existing:
            existing.add(key)
            new_roles.append({"person_id": person_id, **row})
    if new_roles:
        db.execute(insert(RoleAssignment), new_roles)
    summary.add("role_assignments", len(roles))
    school_rows = (
        {
            "person_id": ids_row,
            "organization_id": row["organization_id"],
            "section_id": None,
            "section_key": 0,
            "role": row["role"],
            "valid_from": row["valid_from"],
            "valid_to": row["valid_to"],
        }
        for row, ids_row in ((row, row["person_id"]) for row in new_roles)
    )
    upsert(
        db,
        StaffAssignment,
        school_rows,
        ["person_id", "organization_id", "section_key", "role", "valid_from"],
    )
    return ids


#: Staff roles of a drop that become Steward roles; others (specialists, paraeducators) get none,
#: so they see nothing until the district assigns them a role (deny by default).
STAFF_ROLES: dict[str, Role] = {
    "teacher": Role.TEACHER,
    "principal": Role.PRINCIPAL,
    "assistant_principal": Role.PRINCIPAL,
    "counselor": Role.COUNSELOR,
}


def _people_ids(db: Session, codes: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(codes), 5000):
        chunk = codes[start : start + 5000]
        ids.update(dict(db.execute(select(Person.code, Person.id).where(Person.code.in_(chunk))).all()))
    return ids


def _staff_schedule(
    db: Session,
    source: RecordSource,
    schools: dict[str, int],
    sections: dict[tuple[int, int, str], int],
    staff: dict[str, int],
    tz: str,
    summary: ImportSummary,
    progress: Progress | None,
) -> None:
    def rows() -> Iterator[dict[str, Any]]:
        for n, rec in enumerate(_counted(source.records("G"), "staff schedule", progress), 1):
            assert isinstance(rec, r.StaffSchedule)
            school_id = schools[rec.location_id]
            section_id = sections[(school_id, rec.school_year, _section_key(rec.course_id, rec.section_id))]
            yield {
                "person_id": _ref(
                    staff, _staff_code(source.district_code, rec.staff_id), "G", n, "staff member"
                ),
                "organization_id": school_id,
                "section_id": section_id,
                "section_key": section_id,
                "role": Role.TEACHER.value,
                "valid_from": _start(rec.start_date, tz),
                "valid_to": _end(rec.end_date, tz),
            }

    sent = upsert(
        db,
        StaffAssignment,
        rows(),
        ["person_id", "organization_id", "section_key", "role", "valid_from"],
        ["valid_to"],
    )
    summary.add("staff_assignments", sent)


def _schedules(
    db: Session,
    source: RecordSource,
    schools: dict[str, int],
    sections: dict[tuple[int, int, str], int],
    students: dict[str, int],
    tz: str,
    summary: ImportSummary,
    progress: Progress | None,
) -> None:
    def rows() -> Iterator[dict[str, Any]]:
        for n, rec in enumerate(_counted(source.records("E"), "student schedules", progress), 1):
            assert isinstance(rec, r.ScheduleEntry)
            school_id = schools[rec.location_id]
            yield {
                "section_id": sections[
                    (school_id, rec.school_year, _section_key(rec.course_id, rec.section_id))
                ],
                "student_id": _ref(students, rec.student_id, "E", n, "student"),
                "valid_from": _start(rec.entry_date, tz),
                "valid_to": _end(rec.exit_date, tz),
            }

    sent = upsert(db, SectionEnrollment, rows(), ["section_id", "student_id", "valid_from"], ["valid_to"])
    summary.add("section_enrollments", sent)


def _guardians(
    db: Session,
    source: RecordSource,
    students: dict[str, int],
    tz: str,
    summary: ImportSummary,
    progress: Progress | None,
) -> None:
    """Guardians become people (DISTRICT-guardian-ID) with a guardianship per student."""
    links: list[r.Guardian] = []
    people: dict[str, dict[str, Any]] = {}
    for rec in _counted(source.records("XG"), "guardians", progress):
        assert isinstance(rec, r.Guardian)
        code = f"{source.district_code}-guardian-{rec.guardian_id}"
        people[code] = {
            "code": code,
            "given_name": rec.first_name,
            "family_name": rec.last_name,
            "email": rec.email,
            "created_at": local_midnight(date.today()),
        }
        links.append(rec)
    summary.add(
        "people",
        upsert(db, Person, people.values(), ["code"], ["given_name", "family_name", "email"]),
    )
    ids = _people_ids(db, list(people))
    births = (
        dict(
            db.execute(
                select(Student.id, Student.birth_date).where(Student.id.in_(list(set(students.values()))))
            ).all()
        )
        if len(students) <= 30000
        else None
    )

    def rows() -> Iterator[dict[str, Any]]:
        for n, rec in enumerate(links, 1):
            student_id = _ref(students, rec.student_id, "XG", n, "student")
            start = rec.start_date or (births or {}).get(student_id) or date(1990, 1, 1)
            yield {
                "person_id": ids[f"{source.district_code}-guardian-{rec.guardian_id}"],
                "student_id": student_id,
                "relationship_code": rec.relationship or "parent",
                "restricted": rec.restricted,
                "dependency_claimed": False,
                "valid_from": _start(start, tz),
                "valid_to": _end(rec.end_date, tz),
            }

    sent = upsert(
        db,
        Guardianship,
        rows(),
        ["person_id", "student_id", "valid_from"],
        ["relationship_code", "restricted", "valid_to"],
    )
    summary.add("guardianships", sent)


def fingerprint_files(paths: Iterable[Any]) -> str:
    """SHA-256 over the names and contents of a drop's files (recorded with each import)."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: str(p.name)):
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()
