"""Break-glass: a district data officer records a health or safety emergency for one student
(34 CFR 99.31(a)(10), 99.36), which the decision engine then honours for the district's emergency
window; every record, refusal, early end and view under it is in the audit log, and every view of
the student's data under it is a line in the 99.32 record of disclosures (99.32(a)(5): the threat
and the parties who received the data).

Only a data officer of the student's own district may record one, acting for themself: the
engine reads the record as evidence for that officer only (policy/rules/officer.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import Appended, EventActor, EventSpec, append, record_disclosure
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import utc
from steward.store.base import now_utc
from steward.store.models import Organization, Person, RoleAssignment, Student
from steward.store.tenants import load_policy
from steward.workflow.common import InvalidError, NotAllowedError, Problem, WorkflowError
from steward.workflow.models import Emergency

BASIS = LegalBasis.HEALTH_SAFETY_EMERGENCY
ACTION = "break_glass"
MAX_THREAT = 4000
MAX_RECIPIENTS = 2000
#: Longest ledger purpose (``disclosure_ledger.purpose``).
PURPOSE_LIMIT = 500


class UnknownStudentError(WorkflowError):
    """No such student in any district the officer serves (routes answer 404: no existence oracle)."""


@dataclass(frozen=True, slots=True)
class Officer:
    """Who breaks the glass: a person, optionally signed in as one role at one organization."""

    person_id: int
    principal: Principal | None = None

    @classmethod
    def of(cls, who: Principal | int) -> Officer:
        return cls(who.person_id, who) if isinstance(who, Principal) else cls(who)

    def actor(self, district_id: int | None) -> EventActor:
        if self.principal is not None:
            p = self.principal
            return EventActor(p.person_id, p.role.value, p.organization_id)
        return EventActor(self.person_id, Role.DISTRICT_DATA_OFFICER.value, district_id)


def _officer_districts(db: Session, officer: Officer, at: datetime) -> set[int]:
    """Districts where the person acts as data officer at ``at`` (only the signed-in one, if any)."""
    if officer.principal is not None and officer.principal.role is not Role.DISTRICT_DATA_OFFICER:
        return set()
    query = select(RoleAssignment.organization_id).where(
        RoleAssignment.person_id == officer.person_id,
        RoleAssignment.role == Role.DISTRICT_DATA_OFFICER.value,
        RoleAssignment.valid_at(at),
    )
    if officer.principal is not None:
        query = query.where(RoleAssignment.organization_id == officer.principal.organization_id)
    return {int(o) for o in db.scalars(query)}


def _who(db: Session, officer: Officer) -> str:
    if officer.principal is not None:
        return officer.principal.describe()
    person = db.get(Person, officer.person_id)
    return person.code if person is not None else f"person {officer.person_id}"


def record_emergency(
    db: Session,
    who: Principal | int,
    student_id: int,
    threat: str,
    *,
    recipients: str = "",
    at: datetime | None = None,
) -> Emergency:
    """Record the emergency in the caller's transaction, with its ``break_glass`` audit event.

    The window is ``[at, at + the district's emergency_window_hours)``. Refused (nothing written)
    when the threat is empty, the person is not acting as a data officer at ``at``
    (``NotAllowedError``), or the student is not one of their district's (``UnknownStudentError``).
    """
    when = utc(at) if at is not None else now_utc()
    officer = Officer.of(who)
    problems: list[Problem] = []
    text = threat.strip()
    if not text:
        problems.append(
            Problem(
                "threat", "describe the articulable and significant threat (34 CFR 99.36(c)); it is required"
            )
        )
    elif len(text) > MAX_THREAT:
        problems.append(Problem("threat", f"at most {MAX_THREAT} characters"))
    if len(recipients.strip()) > MAX_RECIPIENTS:
        problems.append(Problem("recipients", f"at most {MAX_RECIPIENTS} characters"))
    if problems:
        raise InvalidError(problems)
    districts = _officer_districts(db, officer, when)
    if not districts:
        raise NotAllowedError(
            f"{_who(db, officer)} is not acting as a district data officer at "
            f"{when.isoformat(timespec='seconds')}: "
            "only a data officer of the student's district may record a health or safety emergency "
            "(34 CFR 99.36)"
        )
    district = db.scalar(select(Student.district_id).where(Student.id == student_id))
    if district is None or district not in districts:
        raise UnknownStudentError(f"no student {student_id} in your district")
    hours = load_policy(db, district).emergency_window_hours
    row = Emergency(
        person_id=officer.person_id,
        student_id=student_id,
        threat=text,
        recipients=recipients.strip(),
        valid_from=when,
        valid_to=when + timedelta(hours=hours),
    )
    db.add(row)
    db.flush()
    append(
        db,
        EventSpec(
            action=ACTION,
            district_id=district,
            actor=officer.actor(district),
            subject_type="student",
            subjects=[student_id],
            basis=BASIS.value,
            citation=BASIS.citation,
            evidence=[f"emergency:{row.id}"],
            details={
                "emergency": row.id,
                "threat": text,
                "recipients": row.recipients,
                "valid_from": when,
                "valid_to": row.valid_to,
                "window_hours": hours,
            },
        ),
    )
    return row


def log_refusal(
    db: Session, who: Principal | int, student_id: int, problems: Sequence[str], at: datetime | None = None
) -> Appended:
    """A refused break-glass attempt in the audit log (call after rolling the attempt back).

    It goes to the student's district chain when the student exists (read by that district's
    officers only), else to the global chain; the caller is never told which.
    """
    officer = Officer.of(who)
    district = db.scalar(select(Student.district_id).where(Student.id == student_id))
    return append(
        db,
        EventSpec(
            action=ACTION,
            district_id=district,
            actor=officer.actor(None),
            subject_type="student",
            subjects=[student_id],
            basis=BASIS.value,
            citation=BASIS.citation,
            outcome="denied",
            details={"problems": list(problems), **({"asked_for": utc(at)} if at is not None else {})},
        ),
    )


def end_emergency(
    db: Session, who: Principal | int, emergency_id: int, at: datetime | None = None
) -> Emergency:
    """End an emergency early (99.36 allows access only for its duration): the officer who
    recorded it, or another data officer of the student's district. ``UnknownStudentError`` when
    the caller may not see it."""
    when = utc(at) if at is not None else now_utc()
    officer = Officer.of(who)
    row = db.get(Emergency, emergency_id)
    district = (
        None if row is None else db.scalar(select(Student.district_id).where(Student.id == row.student_id))
    )
    if row is None or district is None or district not in _officer_districts(db, officer, when):
        raise UnknownStudentError(f"no emergency {emergency_id} in your district")
    if row.valid_to is not None and utc(row.valid_to) <= when:
        raise WorkflowError(f"emergency {emergency_id} already ended at {utc(row.valid_to).isoformat()}")
    ended_from = row.valid_to
    row.valid_to = max(when, utc(row.valid_from))
    append(
        db,
        EventSpec(
            action=f"{ACTION}.end",
            district_id=district,
            actor=officer.actor(district),
            subject_type="student",
            subjects=[row.student_id],
            basis=BASIS.value,
            citation=BASIS.citation,
            evidence=[f"emergency:{row.id}"],
            details={"emergency": row.id, "was_valid_to": ended_from, "valid_to": row.valid_to},
        ),
    )
    return row


def is_data_officer(principal: Principal) -> bool:
    return principal.role is Role.DISTRICT_DATA_OFFICER


def district_emergencies(db: Session, district_id: int, limit: int = 200) -> list[Emergency]:
    """The district's emergencies, newest first (for its officers)."""
    return list(
        db.scalars(
            select(Emergency)
            .join(Student, Student.id == Emergency.student_id)
            .where(Student.district_id == district_id)
            .order_by(Emergency.valid_from.desc(), Emergency.id.desc())
            .limit(limit)
        )
    )


def visible_emergency(db: Session, principal: Principal, emergency_id: int) -> Emergency | None:
    """The emergency if the principal is a data officer of the student's district, else None."""
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        return None
    row = db.get(Emergency, emergency_id)
    if row is None:
        return None
    district = db.scalar(select(Student.district_id).where(Student.id == row.student_id))
    return row if district == principal.organization_id else None


def student_code(db: Session, student_id: int) -> str:
    row = db.execute(
        select(Organization.code, Student.local_id)
        .join(Organization, Organization.id == Student.district_id)
        .where(Student.id == student_id)
    ).one_or_none()
    return f"{row[0]}:{row[1]}" if row is not None else str(student_id)


def in_force(row: Emergency, at: datetime) -> bool:
    start, end = utc(row.valid_from), None if row.valid_to is None else utc(row.valid_to)
    return start <= at and (end is None or at < end)


def disclose_under(
    db: Session,
    principal: Principal,
    row: Emergency,
    datasets: Iterable[Dataset],
    evidence: Sequence[str],
    *,
    channel: str = "view",
    at: datetime | None = None,
) -> list[Appended]:
    """The 99.32 ledger line (and its audit event) for data of the student seen under the emergency:
    the recipient, the basis, and the threat as the legitimate interest (99.32(a)(5))."""
    purpose = f"Health or safety emergency: {row.threat}"
    if row.recipients:
        purpose += f" (shared with: {row.recipients})"
    if len(purpose) > PURPOSE_LIMIT:  # the ledger column's size; the whole threat stays on the record
        purpose = purpose[: PURPOSE_LIMIT - 1] + "…"
    return record_disclosure(
        db,
        principal,
        [row.student_id],
        list(datasets),
        BASIS,
        purpose=purpose,
        request_ref=f"emergency:{row.id}",
        channel=channel,
        evidence=list(evidence),
        at=at,
    )


__all__ = [
    "ACTION",
    "BASIS",
    "UnknownStudentError",
    "disclose_under",
    "district_emergencies",
    "end_emergency",
    "in_force",
    "is_data_officer",
    "log_refusal",
    "record_emergency",
    "student_code",
    "visible_emergency",
]
