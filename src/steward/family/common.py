"""Shared pieces of the family services: in which capacity a person acts for a student (decided by
the engine, so the 18th birthday and dependency records apply everywhere alike), languages, codes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import i18n
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import local_date
from steward.family.models import LanguagePreference
from steward.policy.rules.common import eighteenth_birthday, is_adult
from steward.store.access import check
from steward.store.base import now_utc
from steward.store.models import Guardianship, Person, Student
from steward.workflow.common import NotAllowedError, timezone_of

#: Roles that use the family portal.
FAMILY_ROLES = frozenset({Role.PARENT, Role.STUDENT})


class Capacity(StrEnum):
    """How a person stands to a student's records now."""

    #: A parent of a minor: sees the records and holds the rights (consent, opt-outs).
    PARENT = "parent"
    #: The student at 18 or older: the rights are theirs.
    STUDENT = "student"
    #: A parent of an adult student who claims them as a tax dependent: may see, holds no rights.
    DEPENDENT = "dependent"
    #: A guardian of an adult student without a dependency record: no access any more.
    PASSED = "passed"
    #: A student under 18 signed in themselves: the parents hold the rights for now.
    MINOR = "minor"

    @property
    def holds_rights(self) -> bool:
        return self in (Capacity.PARENT, Capacity.STUDENT)

    @property
    def sees_records(self) -> bool:
        return self in (Capacity.PARENT, Capacity.STUDENT, Capacity.DEPENDENT)


@dataclass(frozen=True, slots=True)
class Standing:
    student: Student
    capacity: Capacity
    #: The day the rights passed (or will pass) to the student.
    rights_pass_on: date
    tz: str


def new_code(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6).upper()}"


def standing(
    db: Session, principal: Principal, student_id: int, at: datetime | None = None
) -> Standing | None:
    """The principal's capacity for the student now, from the decision engine (parent or eligible
    student rule), or None when they have no relationship to the student at all."""
    if principal.role not in FAMILY_ROLES:
        return None
    student = db.get(Student, student_id)
    if student is None:
        return None
    at = at or now_utc()
    tz = timezone_of(db, student.district_id)
    passes = eighteenth_birthday(student.birth_date)
    if principal.role is Role.STUDENT:
        if student.person_id != principal.person_id:
            return None
        adult = is_adult(student.birth_date, _today(at, tz))
        return Standing(student, Capacity.STUDENT if adult else Capacity.MINOR, passes, tz)
    linked = db.scalar(
        select(Guardianship.id).where(
            Guardianship.person_id == principal.person_id,
            Guardianship.student_id == student_id,
            Guardianship.restricted.is_(False),
            Guardianship.valid_at(at),
        )
    )
    if linked is None:
        return None
    # ENROLLMENT, not DIRECTORY: directory information may be open to anyone and says nothing
    # about the parent's own rights.
    decision = check(db, principal.person_id, student_id, Dataset.ENROLLMENT, at, role=Role.PARENT)
    if decision.allowed and decision.basis is LegalBasis.PARENT_OR_ELIGIBLE_STUDENT:
        return Standing(student, Capacity.PARENT, passes, tz)
    if decision.allowed and decision.basis is LegalBasis.DEPENDENT_STUDENT_PARENT:
        return Standing(student, Capacity.DEPENDENT, passes, tz)
    if is_adult(student.birth_date, _today(at, tz)):
        return Standing(student, Capacity.PASSED, passes, tz)
    return None


def require_rights(db: Session, principal: Principal, student_id: int, at: datetime) -> Standing:
    """The principal must hold the student's FERPA rights now (404 otherwise)."""
    found = standing(db, principal, student_id, at)
    if found is None or not found.capacity.holds_rights:
        raise NotAllowedError("not found")
    return found


def _today(at: datetime, tz: str) -> date:
    return local_date(at, tz)


def preference(db: Session, person_id: int) -> str | None:
    row = db.get(LanguagePreference, person_id)
    return row.language if row is not None else None


def remember(db: Session, person_id: int, language: str) -> str:
    """Store the person's language (pages and e-mails use it from now on)."""
    chosen = i18n.normalise(language) or i18n.DEFAULT
    row = db.get(LanguagePreference, person_id)
    if row is None:
        db.add(LanguagePreference(person_id=person_id, language=chosen, updated_at=now_utc()))
    elif row.language != chosen:
        row.language = chosen
        row.updated_at = now_utc()
    db.flush()
    return chosen


def language_of(db: Session, person_id: int) -> str:
    """The language to write to a person in (their preference, else English)."""
    return preference(db, person_id) or i18n.DEFAULT


def person_name(db: Session, person_id: int) -> str:
    person = db.get(Person, person_id)
    return person.display_name if person is not None else ""


def rights_holders(db: Session, student: Student, at: datetime) -> list[int]:
    """Who answers for the student now: the student at 18 or older (when they have a person
    record), else each unrestricted guardian of record."""
    tz = timezone_of(db, student.district_id)
    if is_adult(student.birth_date, _today(at, tz)):
        return [student.person_id] if student.person_id is not None else []
    if student.legal_restriction:
        return []
    return sorted(
        set(
            db.scalars(
                select(Guardianship.person_id).where(
                    Guardianship.student_id == student.id,
                    Guardianship.restricted.is_(False),
                    Guardianship.valid_at(at),
                )
            )
        )
    )
