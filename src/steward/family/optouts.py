"""Opt-outs a family makes online (34 CFR 99.37; SPS): directory information and activity data
sharing take effect at once through the ordinary ``opt_outs`` rows the engine and provisioning read;
an assessment opt-out is a written request to the school, which sees and acknowledges it. Each kind
comes with its effect in plain words. Lifting one ends it at that instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import i18n
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.family.common import new_code, require_rights
from steward.family.models import OptOutRequest
from steward.i18n import N_
from steward.policy.facts import OptOutKind
from steward.store.base import now_utc
from steward.store.models import Organization, SchoolEnrollment, Student
from steward.workflow import history
from steward.workflow.common import NotAllowedError, WorkflowError, district_of, people_in_role
from steward.workflow.models import OptOut
from steward.workflow.notifications.service import Message, notify

MAX_LETTER = 4000


@dataclass(frozen=True, slots=True)
class Kind:
    kind: OptOutKind
    name: str
    effect: str
    #: What stays the same (so nobody expects more than the opt-out does).
    limits: str


KINDS: tuple[Kind, ...] = (
    Kind(
        OptOutKind.DIRECTORY,
        N_("Directory information"),
        N_(
            "The district stops giving out your child's directory information (name, age, grade "
            "level, dates of enrollment) to people outside the school without your consent, from "
            "the moment you opt out. This keeps applying after your child leaves the district."
        ),
        N_(
            "Your child's name may still appear where the school needs it, such as class lists. "
            "Organizations you gave consent to still see what you agreed to."
        ),
    ),
    Kind(
        OptOutKind.ACTIVITY,
        N_("Activity data sharing"),
        N_(
            "The learning apps and services the district uses stop receiving your child's roster "
            "data (name, classes, teachers) for new accounts, from the moment you opt out."
        ),
        N_(
            "Your child may not be able to use some classroom apps. Data the district must report "
            "by law is still reported."
        ),
    ),
    Kind(
        OptOutKind.ASSESSMENT,
        N_("District and state tests"),
        N_(
            "Your written request goes to your child's school, which sees it and confirms it. The "
            "school then arranges for your child not to take the tests you name."
        ),
        N_(
            "Some tests are required by law and may not allow opting out; the school will tell "
            "you. Opting out of tests does not change who can see your child's records."
        ),
    ),
)
KIND_BY_VALUE = {k.kind.value: k for k in KINDS}


@dataclass(frozen=True, slots=True)
class Current:
    """An opt-out of the student, as the family portal lists it."""

    opt_out: OptOut
    request: OptOutRequest | None
    kind: Kind
    in_force: bool


def current_school(db: Session, student_id: int, at: datetime) -> int | None:
    return db.scalar(
        select(SchoolEnrollment.school_id)
        .where(SchoolEnrollment.student_id == student_id, SchoolEnrollment.valid_at(at))
        .order_by(SchoolEnrollment.valid_from.desc())
        .limit(1)
    )


def of_student(db: Session, student_id: int, at: datetime) -> list[Current]:
    """The student's opt-outs (recorded by the district or made online), in force first."""
    requests = {
        r.opt_out_id: r
        for r in db.scalars(select(OptOutRequest).where(OptOutRequest.student_id == student_id))
    }
    out = []
    for row in db.scalars(
        select(OptOut).where(OptOut.student_id == student_id).order_by(OptOut.valid_from.desc())
    ):
        kind = KIND_BY_VALUE.get(row.kind)
        if kind is None:
            continue
        in_force = row.valid_from <= at and (row.valid_to is None or row.valid_to > at)
        out.append(Current(row, requests.get(row.id), kind, in_force))
    return sorted(out, key=lambda c: (not c.in_force, -c.opt_out.valid_from.timestamp()))


def opt_out(
    db: Session,
    principal: Principal,
    student_id: int,
    kind: str,
    *,
    letter: str = "",
    language: str = "en",
    at: datetime | None = None,
) -> OptOutRequest:
    """Opt the student out now (the rights holder only)."""
    at = at or now_utc()
    standing = require_rights(db, principal, student_id, at)
    chosen = KIND_BY_VALUE.get(kind)
    if chosen is None:
        raise WorkflowError(i18n.gettext("Choose what to opt out of."))
    text = letter.strip()
    if chosen.kind is OptOutKind.ASSESSMENT and not text:
        raise WorkflowError(i18n.gettext("Write which tests your request is about."))
    if len(text) > MAX_LETTER:
        raise WorkflowError(i18n.gettext("The letter is too long."))
    if any(c.in_force and c.kind.kind is chosen.kind for c in of_student(db, student_id, at)):
        raise WorkflowError(i18n.gettext("This opt-out is already in force."))
    row = OptOut(
        student_id=student_id,
        kind=chosen.kind.value,
        valid_from=at,
        valid_to=None,
        source="family portal",
        note=text,
        recorded_by_person_id=principal.person_id,
        created_at=at,
    )
    db.add(row)
    db.flush()
    district_id = standing.student.district_id
    history.record(
        db,
        "opt_out",
        row.id,
        "recorded",
        district_id=district_id,
        actor=principal,
        to_status="in_force",
        changes={"kind": [None, chosen.kind.value], "starts_at": [None, at]},
        subjects=[student_id],
        at=at,
    )
    school = current_school(db, student_id, at)
    request = OptOutRequest(
        code=new_code("OO"),
        opt_out_id=row.id,
        student_id=student_id,
        kind=chosen.kind.value,
        school_id=school,
        letter=text,
        language=i18n.normalise(language) or i18n.DEFAULT,
        person_id=principal.person_id,
        at=at,
    )
    db.add(request)
    db.flush()
    if chosen.kind is OptOutKind.ASSESSMENT and school is not None:
        student = standing.student
        notify(
            db,
            people_in_role(db, Role.PRINCIPAL, school, at),
            Message(
                "family.opt_out.assessment",
                f"written request: a family opts {student.display_name} out of tests",
                f"A family asked in writing that {student.display_name} (student ID {student.local_id}) "
                f"not take these tests:\n\n{text}\n\nPlease confirm you received it.",
                "/family/school/opt-outs",
            ),
            district_id=district_id,
        )
    return request


def lift(db: Session, principal: Principal, request_id: int, at: datetime | None = None) -> OptOutRequest:
    """End an online opt-out now."""
    at = at or now_utc()
    request = db.get(OptOutRequest, request_id)
    if request is None:
        raise NotAllowedError("not found")
    standing = require_rights(db, principal, request.student_id, at)
    row = db.get(OptOut, request.opt_out_id)
    assert row is not None
    if row.valid_to is not None and row.valid_to <= at:
        raise WorkflowError(i18n.gettext("This opt-out has already ended."))
    changes = history.diff(row, {"valid_to": max(at, row.valid_from)})
    request.lifted_at = at
    history.record(
        db,
        "opt_out",
        row.id,
        "ended",
        district_id=standing.student.district_id,
        actor=principal,
        from_status="in_force",
        to_status="ended",
        changes=changes,
        subjects=[request.student_id],
        at=at,
    )
    return request


@dataclass(frozen=True, slots=True)
class Letter:
    request: OptOutRequest
    student: Student
    school: str


def letters(db: Session, principal: Principal, limit: int = 500) -> list[Letter]:
    """Assessment opt-out letters the principal's school (or the officer's district) received."""
    query = (
        select(OptOutRequest, Student, Organization.name)
        .join(Student, Student.id == OptOutRequest.student_id)
        .join(Organization, Organization.id == OptOutRequest.school_id)
        .where(OptOutRequest.kind == OptOutKind.ASSESSMENT.value)
        .order_by(OptOutRequest.at.desc(), OptOutRequest.id.desc())
        .limit(limit)
    )
    if principal.role in (Role.PRINCIPAL, Role.COUNSELOR):
        query = query.where(OptOutRequest.school_id == principal.organization_id)
    elif principal.role is Role.DISTRICT_DATA_OFFICER:
        query = query.where(Student.district_id == principal.organization_id)
    else:
        raise NotAllowedError("only the school's principal or counselor and the district's data officers")
    return [Letter(r, s, name) for r, s, name in db.execute(query).all()]


def acknowledge(
    db: Session, principal: Principal, request_id: int, at: datetime | None = None
) -> OptOutRequest:
    """The school confirms it received the written request."""
    at = at or now_utc()
    request = db.get(OptOutRequest, request_id)
    if request is None or request.kind != OptOutKind.ASSESSMENT.value:
        raise NotAllowedError("not found")
    student = db.get(Student, request.student_id)
    assert student is not None
    district = district_of(db, principal.organization_id)
    allowed = (principal.role is Role.PRINCIPAL and principal.organization_id == request.school_id) or (
        principal.role is Role.DISTRICT_DATA_OFFICER
        and district is not None
        and district.id == student.district_id
    )
    if not allowed:
        raise NotAllowedError("not found")
    if request.acknowledged_at is None:
        request.acknowledged_at = at
        request.acknowledged_by_person_id = principal.person_id
        history.record(
            db,
            "opt_out",
            request.opt_out_id,
            "acknowledged",
            district_id=student.district_id,
            actor=principal,
            subjects=[student.id],
            at=at,
        )
        with i18n.use(request.language):
            subject = i18n.gettext("The school received your request about tests")
            body = i18n.gettext("%(school)s confirmed it received your written request for %(child)s.") % {
                "school": (db.get(Organization, request.school_id).name if request.school_id else ""),  # type: ignore[union-attr]
                "child": student.display_name,
            }
        notify(
            db,
            [request.person_id],
            Message("family.opt_out.acknowledged", subject, body),
            district_id=student.district_id,
        )
    return request
