"""Stewardship training completions, per person per school year (SPS: one member of each partner
organization, re-established every year). A completion counts from its date to the year's end."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.domain.principal import Principal
from steward.domain.time import SchoolYear, local_date, local_midnight
from steward.store.base import now_utc
from steward.store.models import Person, RoleAssignment
from steward.workflow import history
from steward.workflow.common import WorkflowError, require_officer, school_year_end, timezone_of
from steward.workflow.models import Training


def record(
    db: Session,
    actor: Principal,
    *,
    person_id: int,
    completed_on: date,
    school_year: int | None = None,
    course: str = "stewardship",
    evidence: str = "",
    organization_id: int | None = None,
) -> Training:
    """Record a completion (by the district's data officer) valid until the end of its school year."""
    district_id = actor.organization_id
    require_officer(actor, district_id)
    person = db.get(Person, person_id)
    if person is None:
        raise WorkflowError(f"no person with id {person_id}")
    tz = timezone_of(db, district_id)
    if completed_on > local_date(now_utc(), tz):
        raise WorkflowError(f"the completion date {completed_on} lies in the future")
    year = school_year or SchoolYear.of(completed_on).end_year
    if completed_on > SchoolYear(year).last_day:
        raise WorkflowError(f"completed on {completed_on}, after the end of {SchoolYear(year).label()}")
    start = local_midnight(completed_on, tz)
    if organization_id is None:
        organization_id = db.scalar(
            select(RoleAssignment.organization_id).where(RoleAssignment.person_id == person_id).limit(1)
        )
    row = Training(
        person_id=person_id,
        course=course.strip() or "stewardship",
        school_year=year,
        valid_from=start,
        valid_to=school_year_end(year, tz),
        completed_on=completed_on,
        organization_id=organization_id,
        recorded_by_person_id=actor.person_id,
        evidence=evidence.strip(),
    )
    db.add(row)
    db.flush()
    history.record(
        db,
        "training",
        row.id,
        "recorded",
        district_id=district_id,
        actor=actor,
        to_status="valid",
        changes={
            "person": [None, person.code],
            "school_year": [None, year],
            "completed_on": [None, completed_on],
        },
    )
    return row


def withdraw(
    db: Session, actor: Principal, row: Training, reason: str, at: datetime | None = None
) -> Training:
    """A completion recorded by mistake stops counting now."""
    require_officer(actor, actor.organization_id)
    if not reason.strip():
        raise WorkflowError("say why the completion is withdrawn")
    when = at or now_utc()
    changes = history.diff(row, {"valid_to": max(when, row.valid_from)})
    history.record(
        db,
        "training",
        row.id,
        "withdrawn",
        district_id=actor.organization_id,
        actor=actor,
        from_status="valid",
        to_status="withdrawn",
        changes=changes,
        reason=reason.strip(),
        at=when,
    )
    return row
