"""Grants: a district's explicit right-to-view for an organization, naming students and datasets
(P2: "explicitly granted access to that student by a district staff person"). A data officer
grants for the district; for an Institutional Service partner, a principal (or designee) grants
for the students of their own school. Bulk grants take a list of student IDs, all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear
from steward.policy.facts import AgreementKind, AgreementStatus
from steward.store.base import now_utc
from steward.store.models import Organization, SchoolEnrollment, Student
from steward.workflow import history
from steward.workflow.common import (
    NotAllowedError,
    WorkflowError,
    district_of,
    school_year_end,
    timezone_of,
    words,
)
from steward.workflow.models import Agreement, Grant, GrantDataset, GrantStudent

SCHOOL_GRANTORS = frozenset({Role.PRINCIPAL})


def _is_partner_designated(db: Session, org_id: int, district_id: int, at: datetime) -> bool:
    return (
        db.scalar(
            select(Agreement.id)
            .where(
                Agreement.organization_id == org_id,
                Agreement.district_id == district_id,
                Agreement.kind == AgreementKind.IS_DESIGNATION.value,
                Agreement.status.in_([AgreementStatus.EXECUTED.value, AgreementStatus.APPROVED.value]),
                Agreement.valid_at(at),
            )
            .limit(1)
        )
        is not None
    )


def grant(
    db: Session,
    actor: Principal,
    *,
    organization_id: int,
    student_ids: Sequence[int],
    datasets: Sequence[str],
    district_id: int | None = None,
    valid_to: datetime | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> Grant:
    """Grant ``organization_id`` right-to-view for the students and datasets, from now to
    ``valid_to`` (default: the end of the school year)."""
    when = at or now_utc()
    school_id: int | None = None
    if actor.role is Role.DISTRICT_DATA_OFFICER:
        district_id = actor.organization_id
    elif actor.role in SCHOOL_GRANTORS:
        district = district_of(db, actor.organization_id)
        if district is None:
            raise NotAllowedError("your school belongs to no district")
        district_id, school_id = district.id, actor.organization_id
        if not _is_partner_designated(db, organization_id, district_id, when):
            raise NotAllowedError(
                "principals grant only Institutional Service partners; ask the district data office"
            )
    else:
        raise NotAllowedError("only a district data officer, or a principal for an IS partner, grants access")
    org = db.get(Organization, organization_id)
    if org is None or org.kind in ("district", "school"):
        raise WorkflowError("choose the organization that receives the grant")
    chosen = sorted(set(datasets))
    unknown = [d for d in chosen if d not in {x.value for x in Dataset}]
    if unknown or not chosen:
        raise WorkflowError(
            "choose the datasets granted" + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    ids = sorted(set(student_ids))
    if not ids:
        raise WorkflowError("name at least one student")
    tz = timezone_of(db, district_id)
    found = set(db.scalars(select(Student.id).where(Student.id.in_(ids), Student.district_id == district_id)))
    if found != set(ids):
        raise WorkflowError(f"{len(set(ids) - found)} student(s) are not students of the district")
    if school_id is not None:
        enrolled = set(
            db.scalars(
                select(SchoolEnrollment.student_id).where(
                    SchoolEnrollment.student_id.in_(ids),
                    SchoolEnrollment.school_id == school_id,
                    SchoolEnrollment.valid_at(when),
                )
            )
        )
        if enrolled != set(ids):
            raise WorkflowError(f"{len(set(ids) - enrolled)} student(s) are not enrolled at your school now")
    year = SchoolYear.at(when, tz).end_year
    end = valid_to or school_year_end(year, tz)
    if end <= when:
        raise WorkflowError("the grant would end before it starts")
    row = Grant(
        code=f"G-{uuid.uuid4().hex[:12].upper()}",
        district_id=district_id,
        organization_id=organization_id,
        school_id=school_id,
        granted_by_person_id=actor.person_id,
        valid_from=when,
        valid_to=end,
        status="active",
        reason=reason.strip(),
        school_year=year,
        created_at=when,
    )
    db.add(row)
    db.flush()
    db.execute(insert(GrantStudent), [{"grant_id": row.id, "student_id": s} for s in ids])
    db.execute(insert(GrantDataset), [{"grant_id": row.id, "dataset": d} for d in chosen])
    history.record(
        db,
        "grant",
        row.id,
        "granted",
        district_id=district_id,
        actor=actor,
        to_status="active",
        changes={"students": [None, len(ids)], "datasets": [None, chosen], "organization": [None, org.code]},
        reason=reason.strip(),
        at=when,
    )
    return row


def resolve(db: Session, district_id: int, refs: Sequence[str]) -> list[int]:
    """Student ids for district or state IDs; any unknown ID refuses the whole list."""
    from steward.workflow.requests.service import match_students

    ids, unknown = match_students(db, district_id, refs)
    if unknown:
        raise WorkflowError(f"{len(unknown)} ID(s) match no student of the district: {words(unknown)}")
    if not ids:
        raise WorkflowError("the list names no student")
    return ids


def grant_from_list(
    db: Session,
    actor: Principal,
    *,
    organization_id: int,
    refs: Sequence[str],
    datasets: Sequence[str],
    valid_to: datetime | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> Grant:
    """Bulk: a pasted or uploaded list of district (or state) student IDs, all or nothing."""
    district = district_of(db, actor.organization_id)
    if district is None:
        raise NotAllowedError("you act for no district")
    ids = resolve(db, district.id, refs)
    return grant(
        db,
        actor,
        organization_id=organization_id,
        student_ids=ids,
        datasets=datasets,
        valid_to=valid_to,
        reason=reason,
        at=at,
    )


def revoke(db: Session, actor: Principal, row: Grant, reason: str, at: datetime | None = None) -> Grant:
    if not (
        (actor.role is Role.DISTRICT_DATA_OFFICER and actor.organization_id == row.district_id)
        or (
            row.school_id is not None
            and actor.organization_id == row.school_id
            and actor.role in SCHOOL_GRANTORS
        )
    ):
        raise NotAllowedError("only the district (or the granting school) revokes a grant")
    if row.status != "active":
        raise WorkflowError(f"grant {row.code} is {row.status}")
    when = at or now_utc()
    changes: dict[str, list[object]] = {}
    if row.valid_to is None or row.valid_to > when:
        changes["valid_to"] = [row.valid_to, when]
        row.valid_to = max(when, row.valid_from)
    row.status = "revoked"
    row.revoked_at = when
    row.reason = reason.strip() or row.reason
    history.record(
        db,
        "grant",
        row.id,
        "revoked",
        district_id=row.district_id,
        actor=actor,
        from_status="active",
        to_status="revoked",
        changes=changes,
        reason=reason.strip(),
        at=when,
    )
    return row


def students_of(db: Session, grant_id: int) -> list[int]:
    return sorted(db.scalars(select(GrantStudent.student_id).where(GrantStudent.grant_id == grant_id)))


def datasets_of(db: Session, grant_id: int) -> list[str]:
    return sorted(db.scalars(select(GrantDataset.dataset).where(GrantDataset.grant_id == grant_id)))
