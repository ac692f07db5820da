"""Eligible students (34 CFR 99.3, 99.5): at 18 the rights pass from the parents to the student.
The district opens the family portal for them (an invitation to a student login linked to their
record); from then on they read their own records, answer consent requests and opt out, and their
parents lose access unless a dependency record exists (the engine decides that, everywhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.accounts.lifecycle import InviteRequest, IssuedInvitation, RoleRequest, invite
from steward.config import Settings
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import local_date
from steward.policy.rules.common import adult_cutoff, eighteenth_birthday
from steward.store.base import now_utc
from steward.store.models import Account, SchoolEnrollment, Student
from steward.workflow.common import NotAllowedError, WorkflowError, is_officer, timezone_of

#: Students turning 18 within this many days are listed ahead of time.
AHEAD_DAYS = 60


@dataclass(frozen=True, slots=True)
class Candidate:
    student: Student
    turns_18: date
    has_login: bool


def candidates(
    db: Session, officer: Principal, at: datetime | None = None, limit: int = 200
) -> list[Candidate]:
    """Currently enrolled students of the officer's district who are 18 or turn 18 soon, those
    without a portal login first."""
    if not is_officer(officer, officer.organization_id):
        raise NotAllowedError("only a district data officer")
    at = at or now_utc()
    today = local_date(at, timezone_of(db, officer.organization_id))
    cutoff = adult_cutoff(date.fromordinal(today.toordinal() + AHEAD_DAYS))
    enrolled = select(SchoolEnrollment.student_id).where(SchoolEnrollment.valid_at(at))
    rows = db.scalars(
        select(Student)
        .where(
            Student.district_id == officer.organization_id,
            Student.birth_date <= cutoff,
            Student.id.in_(enrolled),
        )
        .order_by(Student.birth_date.desc(), Student.id)
        .limit(limit)
    ).all()
    people = {s.person_id for s in rows if s.person_id is not None}
    with_login = (
        set(db.scalars(select(Account.person_id).where(Account.person_id.in_(people)))) if people else set()
    )
    found = [Candidate(s, eighteenth_birthday(s.birth_date), s.person_id in with_login) for s in rows]
    return sorted(found, key=lambda c: (c.has_login, c.turns_18, c.student.id))


def open_portal(
    db: Session,
    officer: Principal,
    student_id: int,
    *,
    username: str,
    email: str,
    settings: Settings,
    at: datetime | None = None,
) -> IssuedInvitation:
    """Invite the student (18 or older) to a student login linked to their record."""
    at = at or now_utc()
    student = db.get(Student, student_id)
    if student is None or not is_officer(officer, student.district_id):
        raise NotAllowedError("not found")
    today = local_date(at, timezone_of(db, student.district_id))
    if student.birth_date > adult_cutoff(today):
        raise WorkflowError(
            f"{student.display_name} turns 18 on {eighteenth_birthday(student.birth_date)}; "
            "until then the rights are the parents'"
        )
    if student.person_id is not None and db.scalar(
        select(Account.id).where(Account.person_id == student.person_id)
    ):
        raise WorkflowError(f"{student.display_name} already has a login")
    if student.person_id is not None:
        raise WorkflowError(
            f"{student.display_name}'s record is linked to a person already known to Steward; "
            "give that person the student role from the accounts page"
        )
    issued = invite(
        db,
        officer,
        InviteRequest(
            username=username,
            given_name=student.first_name or student.local_id,
            family_name=student.last_name or student.local_id,
            email=email,
            role=RoleRequest(
                role=Role.STUDENT.value, organization_id=student.district_id, note="eligible student"
            ),
        ),
        settings,
    )
    student.person_id = issued.account.person_id
    db.flush()
    return issued
