"""Small builders for governance rows in tests (no sample data needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from steward.accounts.service import create_account
from steward.store.models import Organization, Person, Region, RoleAssignment, Student

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def region(db: Session, code: str = "r1") -> Region:
    row = Region(code=code, name=f"Region {code}", state="WA")
    db.add(row)
    db.flush()
    return row


def org(
    db: Session,
    code: str,
    kind: str,
    name: str | None = None,
    parent: Organization | None = None,
    region_id: int | None = None,
    state: str = "WA",
    registration_status: str = "unregistered",
) -> Organization:
    row = Organization(
        code=code,
        kind=kind,
        name=name or code,
        parent_id=parent.id if parent else None,
        region_id=region_id,
        state=state,
        registration_status=registration_status,
    )
    db.add(row)
    db.flush()
    return row


def person(
    db: Session,
    code: str,
    role: str | None = None,
    at: Organization | None = None,
    password: str | None = None,
    valid_from: datetime = EPOCH,
    valid_to: datetime | None = None,
) -> Person:
    row = Person(code=code, given_name=code.capitalize(), family_name="Tester")
    db.add(row)
    db.flush()
    if role is not None and at is not None:
        db.add(
            RoleAssignment(
                person_id=row.id, role=role, organization_id=at.id, valid_from=valid_from, valid_to=valid_to
            )
        )
    if password is not None:
        create_account(db, row, code, password)
    db.flush()
    return row


def student(
    db: Session,
    district: Organization,
    local_id: str,
    state_id: str | None = None,
    birth_date: date = date(2014, 3, 2),
) -> Student:
    row = Student(
        district_id=district.id,
        local_id=local_id,
        state_id=state_id,
        first_name="Stu",
        last_name=local_id,
        birth_date=birth_date,
    )
    db.add(row)
    db.flush()
    return row
