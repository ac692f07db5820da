"""Grants: a district's explicit right-to-view for an organization, naming students and datasets
(P2: "explicitly granted access to that student by a district staff person"). A data officer
grants for the district; for an Institutional Service partner, a principal (or designee) grants
for the students of their own school. Bulk grants take a list of student IDs, all or nothing.

A designee is a delegation record, not a role: the principal (or the district's data officer) names
a staff member who holds a role at the school, for a period (default: to the school year's end).
While the designation is in force and the person still holds a role there, they grant and revoke
the school's IS grants acting in their own role; nothing else about their access changes."""

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
from steward.store.models import Organization, Person, RoleAssignment, SchoolEnrollment, Student
from steward.workflow import history
from steward.workflow.common import (
    NotAllowedError,
    WorkflowError,
    district_of,
    school_year_end,
    timezone_of,
    words,
)
from steward.workflow.grants.models import GrantDesignee
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
    designation = None if actor.role in SCHOOL_GRANTORS else designation_of(db, actor, when)
    if actor.role is Role.DISTRICT_DATA_OFFICER:
        district_id = actor.organization_id
    elif actor.role in SCHOOL_GRANTORS or designation is not None:
        district = district_of(db, actor.organization_id)
        if district is None:
            raise NotAllowedError("your school belongs to no district")
        district_id, school_id = district.id, actor.organization_id
        if not _is_partner_designated(db, organization_id, district_id, when):
            raise NotAllowedError(
                "principals grant only Institutional Service partners; ask the district data office"
            )
    else:
        raise NotAllowedError(
            "only a district data officer, or a principal or their designee for an IS partner, grants access"
        )
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
        changes={
            "students": [None, len(ids)],
            "datasets": [None, chosen],
            "organization": [None, org.code],
            **({"designation": [None, designation.code]} if designation is not None else {}),
        },
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
    when = at or now_utc()
    if not (
        (actor.role is Role.DISTRICT_DATA_OFFICER and actor.organization_id == row.district_id)
        or (
            row.school_id is not None
            and actor.organization_id == row.school_id
            and (actor.role in SCHOOL_GRANTORS or designation_of(db, actor, when) is not None)
        )
    ):
        raise NotAllowedError("only the district (or the granting school) revokes a grant")
    if row.status != "active":
        raise WorkflowError(f"grant {row.code} is {row.status}")
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


# -- designees -----------------------------------------------------------------------------------

#: The roles at a school whose holders a principal may name designee.
DESIGNEE_ROLES = frozenset({Role.TEACHER, Role.COUNSELOR, Role.REGISTRAR})


def designation_of(db: Session, actor: Principal, at: datetime) -> GrantDesignee | None:
    """The designation in force at ``at`` that lets ``actor`` grant for the school it acts at (None:
    there is none, or the person no longer holds the role they act in there)."""
    if actor.role not in DESIGNEE_ROLES:
        return None
    holds = db.scalar(
        select(RoleAssignment.id)
        .where(
            RoleAssignment.person_id == actor.person_id,
            RoleAssignment.organization_id == actor.organization_id,
            RoleAssignment.role == actor.role.value,
            RoleAssignment.valid_at(at),
        )
        .limit(1)
    )
    if holds is None:
        return None
    return db.scalar(
        select(GrantDesignee)
        .where(
            GrantDesignee.school_id == actor.organization_id,
            GrantDesignee.person_id == actor.person_id,
            GrantDesignee.valid_at(at),
        )
        .order_by(GrantDesignee.id)
        .limit(1)
    )


def _school_of(db: Session, actor: Principal, school_id: int | None) -> tuple[Organization, int]:
    """The school the actor may name designees for and its district: the principal's own school, or
    any school of the data officer's district."""
    if actor.role is Role.PRINCIPAL:
        if school_id is not None and school_id != actor.organization_id:
            raise NotAllowedError("a principal names designees for their own school only")
        school_id = actor.organization_id
    elif actor.role is Role.DISTRICT_DATA_OFFICER:
        if school_id is None:
            raise WorkflowError("choose the school")
    else:
        raise NotAllowedError("only the school's principal or the district data office names a designee")
    school = db.get(Organization, school_id)
    district = district_of(db, school_id)
    if school is None or school.kind != "school" or district is None:
        raise WorkflowError("choose a school of the district")
    if actor.role is Role.DISTRICT_DATA_OFFICER and district.id != actor.organization_id:
        raise NotAllowedError("the school is not in your district")
    return school, district.id


def designate(
    db: Session,
    actor: Principal,
    *,
    person_id: int,
    school_id: int | None = None,
    valid_to: datetime | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> GrantDesignee:
    """Name ``person_id`` (a teacher, counselor or registrar of the school) the principal's designee
    for IS grants, from now to ``valid_to`` (default: the end of the school year)."""
    when = at or now_utc()
    school, district_id = _school_of(db, actor, school_id)
    person = db.get(Person, person_id)
    if person is None:
        raise WorkflowError("choose the person to designate")
    roles = set(
        db.scalars(
            select(RoleAssignment.role).where(
                RoleAssignment.person_id == person_id,
                RoleAssignment.organization_id == school.id,
                RoleAssignment.valid_at(when),
            )
        )
    )
    if Role.PRINCIPAL.value in roles:
        raise WorkflowError(f"{person.display_name} is a principal of {school.name} and grants already")
    if not roles & {r.value for r in DESIGNEE_ROLES}:
        raise WorkflowError(
            f"{person.display_name} holds no staff role (teacher, counselor, registrar) at {school.name}"
        )
    current = db.scalar(
        select(GrantDesignee)
        .where(
            GrantDesignee.school_id == school.id,
            GrantDesignee.person_id == person_id,
            GrantDesignee.valid_at(when),
        )
        .limit(1)
    )
    if current is not None:
        raise WorkflowError(f"{person.display_name} is already a designee ({current.code})")
    tz = timezone_of(db, district_id)
    end = valid_to or school_year_end(SchoolYear.at(when, tz).end_year, tz)
    if end <= when:
        raise WorkflowError("the designation would end before it starts")
    row = GrantDesignee(
        code=f"GD-{uuid.uuid4().hex[:12].upper()}",
        school_id=school.id,
        person_id=person_id,
        designated_by_person_id=actor.person_id,
        reason=reason.strip(),
        created_at=when,
        valid_from=when,
        valid_to=end,
    )
    db.add(row)
    db.flush()
    history.record(
        db,
        "grant_designee",
        row.id,
        "designated",
        district_id=district_id,
        actor=actor,
        to_status="active",
        changes={"person": [None, person.code], "school": [None, school.code], "valid_to": [None, end]},
        reason=reason.strip(),
        at=when,
    )
    return row


def end_designation(
    db: Session, actor: Principal, row: GrantDesignee, reason: str = "", at: datetime | None = None
) -> GrantDesignee:
    """Withdraw a designation now; grants the designee made stay in force until they end or are
    revoked (as a principal's grants do when the principal leaves)."""
    when = at or now_utc()
    _, district_id = _school_of(db, actor, row.school_id)
    if row.ended_at is not None or (row.valid_to is not None and row.valid_to <= when):
        raise WorkflowError(f"designation {row.code} has already ended")
    old = row.valid_to
    row.valid_to = max(when, row.valid_from)
    row.ended_at = when
    row.ended_by_person_id = actor.person_id
    history.record(
        db,
        "grant_designee",
        row.id,
        "ended",
        district_id=district_id,
        actor=actor,
        from_status="active",
        to_status="ended",
        changes={"valid_to": [old, row.valid_to]},
        reason=reason.strip(),
        at=when,
    )
    return row


def designees(db: Session, school_id: int, at: datetime | None = None) -> list[GrantDesignee]:
    """The school's designations in force at ``at`` (now by default)."""
    when = at or now_utc()
    return list(
        db.scalars(
            select(GrantDesignee)
            .where(GrantDesignee.school_id == school_id, GrantDesignee.valid_at(when))
            .order_by(GrantDesignee.id)
        )
    )
