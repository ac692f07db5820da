"""The demo partner's paperwork: Rainier Youth Tutoring gets an executed data sharing agreement for
this school year, its staff member's stewardship training, verified guardian consents for the
students of its tutoring program and the district's grant, through the workflow services (the
same path an officer's clicks take). Discipline is consented for some students only and program
participation is outside the agreement, so the partner's pages show what is not shared and why.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear, local_date, local_midnight
from steward.policy.facts import AgreementStatus
from steward.store.base import now_utc
from steward.store.models import (
    Account,
    Guardianship,
    Organization,
    Person,
    RoleAssignment,
    SchoolEnrollment,
    Student,
)
from steward.workflow.agreements import service as agreements
from steward.workflow.common import timezone_of
from steward.workflow.consents import service as consents
from steward.workflow.grants import service as grants
from steward.workflow.models import Agreement
from steward.workflow.training import service as training

PARTNER = "rainier-youth-tutoring"
PROGRAM_SIZE = 60
#: Schools of the tutoring program (the busiest ones of the district).
PROGRAM_SCHOOLS = 3
DSA_DATASETS = (
    "directory",
    "demographics",
    "enrollment",
    "attendance",
    "discipline",
    "assessment",
    "grades",
    "schedule",
)
CONSENTED = ("directory", "demographics", "enrollment", "attendance", "assessment", "grades", "schedule")
PURPOSE = "After-school tutoring: monitor attendance, grades and test results of participants"


def _officer(db: Session, district: Organization) -> Principal:
    row = db.execute(
        select(Person, RoleAssignment)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(
            RoleAssignment.organization_id == district.id,
            RoleAssignment.role == Role.DISTRICT_DATA_OFFICER.value,
        )
        .order_by(Person.id)
        .limit(1)
    ).first()
    if row is None:
        raise RuntimeError(f"district {district.code} has no data officer to sign the demo paperwork")
    person = row[0]
    return Principal(
        person.id,
        person.code,
        Role.DISTRICT_DATA_OFFICER,
        district.id,
        district.code,
        OrgKind.DISTRICT,
        person.display_name,
    )


def _staff(db: Session, partner: Organization) -> Person:
    person = db.scalar(
        select(Person)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(
            RoleAssignment.organization_id == partner.id,
            RoleAssignment.role == Role.PARTNER_STAFF.value,
        )
        .order_by(Person.id)
        .limit(1)
    )
    if person is None:
        raise RuntimeError(f"the demo partner {partner.code} has no staff member")
    return person


def _program_students(
    db: Session, district: Organization, signed_on: date, tz: str, limit: int
) -> list[tuple[int, int, str]]:
    """(student, guardian who signs, guardian's name) for minors enrolled now at the program's
    schools whose unrestricted guardian was on record on the day of signing; the demo parent's
    child first when eligible."""
    now = now_utc()
    signed_at = local_midnight(signed_on, tz)
    adult_born = date(signed_on.year - 18, signed_on.month, min(signed_on.day, 28))
    schools = [
        school
        for school, _ in db.execute(
            select(SchoolEnrollment.school_id, SchoolEnrollment.id)
            .join(Organization, Organization.id == SchoolEnrollment.school_id)
            .where(Organization.parent_id == district.id, SchoolEnrollment.valid_at(now))
        ).all()
    ]
    busiest = sorted(set(schools), key=lambda s: (-schools.count(s), s))[:PROGRAM_SCHOOLS]
    rows = db.execute(
        select(Student.id, Guardianship.person_id, Person.given_name, Person.family_name)
        .join(SchoolEnrollment, SchoolEnrollment.student_id == Student.id)
        .join(Guardianship, Guardianship.student_id == Student.id)
        .join(Person, Person.id == Guardianship.person_id)
        .where(
            Student.district_id == district.id,
            Student.legal_restriction.is_(False),
            Student.birth_date > adult_born,
            SchoolEnrollment.school_id.in_(busiest),
            SchoolEnrollment.valid_at(now),
            Guardianship.valid_at(signed_at),
            Guardianship.valid_at(now),
            Guardianship.restricted.is_(False),
        )
        .order_by(Student.id, Guardianship.person_id)
    ).all()
    chosen: dict[int, tuple[int, str]] = {}
    parent = db.scalar(select(Account.person_id).where(Account.username == "parent"))
    if parent is not None:
        for student_id, guardian, given, family in db.execute(
            select(Student.id, Guardianship.person_id, Person.given_name, Person.family_name)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .join(Person, Person.id == Guardianship.person_id)
            .where(
                Guardianship.person_id == parent,
                Student.district_id == district.id,
                Student.birth_date > adult_born,
                Guardianship.valid_at(signed_at),
                Guardianship.restricted.is_(False),
            )
            .order_by(Student.id)
        ).all():
            chosen.setdefault(student_id, (guardian, f"{given} {family}".strip()))
    first: dict[int, tuple[int, str]] = {}
    for student_id, guardian, given, family in rows:
        first.setdefault(student_id, (guardian, f"{given} {family}".strip()))
    pool = sorted(first)
    step = max(1, len(pool) // max(1, limit))
    for student_id in pool[::step]:
        if len(chosen) >= limit:
            break
        chosen.setdefault(student_id, first[student_id])
    return [(s, g, name) for s, (g, name) in chosen.items()][:limit]


def seed_partner(db: Session, district: Organization, size: int = PROGRAM_SIZE) -> list[int]:
    """Paperwork for the demo partner with ``district``; returns the consented and granted students
    (idempotent: a second call finds the agreement and changes nothing)."""
    partner = db.scalar(select(Organization).where(Organization.code == PARTNER))
    if partner is None:
        raise RuntimeError(f"the demo partner {PARTNER} is missing")
    officer = _officer(db, district)
    staff = _staff(db, partner)
    tz = timezone_of(db, district.id)
    now = now_utc()
    today = local_date(now, tz)
    year = SchoolYear.of(today)
    existing = db.scalar(
        select(Agreement).where(
            Agreement.organization_id == partner.id,
            Agreement.district_id == district.id,
            Agreement.kind == "dsa",
            Agreement.school_year == year.end_year,
        )
    )
    if existing is not None:
        return []
    start = local_midnight(year.first_day, tz)
    dsa = agreements.create(
        db,
        officer,
        kind="dsa",
        organization_id=partner.id,
        district_id=district.id,
        valid_from=start,
        status=AgreementStatus.EXECUTED,
        reason="demo: standard data sharing agreement",
        title="Standard data sharing agreement: after-school tutoring",
        purpose=PURPOSE,
        datasets=list(DSA_DATASETS),
        population="students in the tutoring program at three schools",
        annual=True,
        school_year=year.end_year,
    )
    dsa.executed_at = start
    dsa.executed_by_person_id = officer.person_id
    completed = max(year.first_day, today - timedelta(days=21))
    training.record(
        db,
        officer,
        person_id=staff.id,
        completed_on=completed,
        school_year=year.end_year,
        organization_id=partner.id,
        evidence="demo: stewardship training certificate",
    )
    signed_on = max(year.first_day, today - timedelta(days=14))
    students = _program_students(db, district, signed_on, tz, size)
    for n, (student_id, guardian, name) in enumerate(students):
        datasets = [*CONSENTED, "discipline"] if n % 3 == 0 else list(CONSENTED)
        consent = consents.record(
            db,
            officer,
            student_id=student_id,
            organization_id=partner.id,
            signed_by_person_id=guardian,
            guardian_name=name,
            signed_on=signed_on,
            school_year=year.end_year,
            datasets=datasets,
            purpose=PURPOSE,
        )
        consents.verify(db, officer, consent, at=now)
    ids = [s for s, _, _ in students]
    if ids:
        grants.grant(
            db,
            officer,
            organization_id=partner.id,
            student_ids=ids,
            datasets=list(DSA_DATASETS),
            reason="demo: students of the tutoring program",
            at=now - timedelta(minutes=1),
        )
    return ids
