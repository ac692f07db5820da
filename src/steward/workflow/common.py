"""Shared pieces of the workflow services: errors that carry plain-word problems, who holds which
role at a district, the district's time zone and school-year arithmetic."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import DEFAULT_TIMEZONE, SchoolYear, local_date
from steward.store.base import now_utc
from steward.store.models import Organization, RoleAssignment, TenantSettings


class WorkflowError(ValueError):
    """An action refused with reasons a person can act on (shown as they are, never a traceback)."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class NotAllowedError(WorkflowError):
    """The principal may not do this (pages answer 404 for records they may not see at all)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem with one field (intake forms), or with one row of an upload."""

    field: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


class InvalidError(WorkflowError):
    """Input with problems per field or row; nothing was changed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.items = list(problems)
        super().__init__([str(p) for p in problems])


def timezone_of(db: Session, district_id: int) -> str:
    settings = db.get(TenantSettings, district_id)
    return settings.timezone if settings is not None else DEFAULT_TIMEZONE


def today_in(db: Session, district_id: int, at: datetime | None = None) -> date:
    return local_date(at or now_utc(), timezone_of(db, district_id))


def school_year_end(year: int, tz: str) -> datetime:
    """The instant a school year ends (local midnight of July 1): when annual paperwork expires."""
    end = SchoolYear(year).interval(tz).end
    assert end is not None
    return end


def people_in_role(db: Session, role: Role, org_id: int, at: datetime | None = None) -> list[int]:
    """Ids of the people acting as ``role`` at the organization at ``at`` (now by default)."""
    when = at or now_utc()
    return sorted(
        set(
            db.scalars(
                select(RoleAssignment.person_id).where(
                    RoleAssignment.role == role.value,
                    RoleAssignment.organization_id == org_id,
                    RoleAssignment.valid_at(when),
                )
            )
        )
    )


def org_people(db: Session, org_id: int, at: datetime | None = None) -> list[int]:
    """Everyone holding any role at the organization now."""
    when = at or now_utc()
    return sorted(
        set(
            db.scalars(
                select(RoleAssignment.person_id).where(
                    RoleAssignment.organization_id == org_id, RoleAssignment.valid_at(when)
                )
            )
        )
    )


def is_officer(principal: Principal | None, district_id: int) -> bool:
    return (
        principal is not None
        and principal.role is Role.DISTRICT_DATA_OFFICER
        and principal.organization_id == district_id
    )


def require_officer(principal: Principal | None, district_id: int) -> None:
    if principal is not None and not is_officer(principal, district_id):
        raise NotAllowedError("only a data officer of the district may do this")


def district_of(db: Session, org_id: int) -> Organization | None:
    """The district an organization is (a district) or belongs to (a school)."""
    org = db.get(Organization, org_id)
    while org is not None and org.kind != "district":
        org = db.get(Organization, org.parent_id) if org.parent_id is not None else None
    return org


def words(items: Iterable[str], limit: int = 10) -> str:
    """``a, b, c`` with at most ``limit`` items and ``and N more``."""
    listed = list(items)
    head = ", ".join(listed[:limit])
    return head + (f" and {len(listed) - limit} more" if len(listed) > limit else "")
