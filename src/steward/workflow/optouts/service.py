"""Family opt-outs (directory information, assessment, activity) with a start and an optional end.
They belong to the student, not to an enrollment, so they keep applying after the student leaves
(34 CFR 99.37(b))."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from steward.domain.principal import Principal
from steward.domain.time import local_midnight
from steward.policy.facts import OptOutKind
from steward.store.base import now_utc
from steward.store.models import Student
from steward.workflow import history
from steward.workflow.common import WorkflowError, require_officer, timezone_of
from steward.workflow.models import OptOut


def record(
    db: Session,
    actor: Principal,
    *,
    student_id: int,
    kind: OptOutKind | str,
    starts_on: date,
    ends_on: date | None = None,
    source: str = "",
    note: str = "",
) -> OptOut:
    student = db.get(Student, student_id)
    if student is None:
        raise WorkflowError(f"no student with id {student_id}")
    require_officer(actor, student.district_id)
    try:
        kind = OptOutKind(kind)
    except ValueError as exc:
        raise WorkflowError(f"choose one of: {', '.join(k.value for k in OptOutKind)}") from exc
    if ends_on is not None and ends_on <= starts_on:
        raise WorkflowError("the opt-out ends before it starts")
    tz = timezone_of(db, student.district_id)
    row = OptOut(
        student_id=student_id,
        kind=kind.value,
        valid_from=local_midnight(starts_on, tz),
        valid_to=None if ends_on is None else local_midnight(ends_on, tz),
        source=source.strip()[:40],
        note=note.strip(),
        recorded_by_person_id=actor.person_id,
    )
    db.add(row)
    db.flush()
    history.record(
        db,
        "opt_out",
        row.id,
        "recorded",
        district_id=student.district_id,
        actor=actor,
        to_status="in_force",
        changes={"kind": [None, kind.value], "starts_on": [None, starts_on], "ends_on": [None, ends_on]},
    )
    return row


def end(db: Session, actor: Principal, row: OptOut, ends_on: date, at: datetime | None = None) -> OptOut:
    """The family lifted the opt-out: it ends at local midnight of ``ends_on``."""
    student = db.get(Student, row.student_id)
    assert student is not None
    require_officer(actor, student.district_id)
    end_at = local_midnight(ends_on, timezone_of(db, student.district_id))
    if end_at <= row.valid_from:
        raise WorkflowError("the opt-out would end before it starts")
    changes = history.diff(row, {"valid_to": end_at})
    history.record(
        db,
        "opt_out",
        row.id,
        "ended",
        district_id=student.district_id,
        actor=actor,
        from_status="in_force",
        to_status="ended",
        changes=changes,
        at=at or now_utc(),
    )
    return row
