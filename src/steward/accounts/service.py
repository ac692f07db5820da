"""Sign-in, server-side sessions and the principal a session acts as."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from steward.accounts.models import WebSession
from steward.accounts.passwords import dummy_verify, hash_password, verify_password
from steward.config import Settings
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.store.base import now_utc
from steward.store.models import Account, Organization, Person, RoleAssignment


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(db: Session, username: str, password: str) -> Account | None:
    """The active account whose password matches, else None (same work either way)."""
    account = db.scalar(select(Account).where(Account.username == username.strip().lower()))
    if account is None or not account.active:
        dummy_verify(password)
        return None
    if not verify_password(account.password_hash, password):
        return None
    return account


def current_roles(db: Session, person_id: int, at: datetime | None = None) -> list[RoleAssignment]:
    """Role assignments of a person valid at ``at`` (default now), oldest first."""
    at = at or now_utc()
    stmt = (
        select(RoleAssignment)
        .where(
            RoleAssignment.person_id == person_id,
            RoleAssignment.valid_from <= at,
            or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to > at),
        )
        .order_by(RoleAssignment.id)
    )
    return list(db.scalars(stmt))


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str
    record: WebSession


def open_session(
    db: Session, account: Account, settings: Settings, role_assignment_id: int | None
) -> OpenedSession:
    """A new session with a fresh token (rotation at sign-in: old tokens are never reused)."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    record = WebSession(
        token_hash=_token_hash(token),
        account_id=account.id,
        role_assignment_id=role_assignment_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
    )
    db.add(record)
    account.last_login_at = now
    db.flush()
    return OpenedSession(token, record)


def resolve_session(db: Session, token: str | None, settings: Settings) -> WebSession | None:
    """The live session for a cookie token; idle, expired or revoked sessions resolve to None."""
    if not token:
        return None
    record = db.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    if record is None or record.revoked_at is not None:
        return None
    now = now_utc()
    if now >= record.expires_at or now - record.last_seen_at > timedelta(
        minutes=settings.session_idle_minutes
    ):
        record.revoked_at = now
        return None
    record.last_seen_at = now
    return record


def revoke_session(db: Session, token: str | None) -> None:
    if not token:
        return
    record = db.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    if record is not None and record.revoked_at is None:
        record.revoked_at = now_utc()


def principal_for(db: Session, record: WebSession) -> Principal | None:
    """The principal a session acts as, if its role assignment is still valid now."""
    if record.role_assignment_id is None:
        return None
    account = db.get(Account, record.account_id)
    if account is None or not account.active:
        return None
    valid = {r.id: r for r in current_roles(db, account.person_id)}
    assignment = valid.get(record.role_assignment_id)
    if assignment is None:
        return None
    return principal_of(db, assignment)


def principal_of(db: Session, assignment: RoleAssignment) -> Principal:
    person = db.get(Person, assignment.person_id)
    org = db.get(Organization, assignment.organization_id)
    assert person is not None
    assert org is not None
    return Principal(
        person_id=person.id,
        person_code=person.code,
        role=Role(assignment.role),
        organization_id=org.id,
        organization_code=org.code,
        organization_kind=OrgKind(org.kind),
        display_name=person.display_name,
    )


def create_account(db: Session, person: Person, username: str, password: str) -> Account:
    account = Account(
        person_id=person.id, username=username.strip().lower(), password_hash=hash_password(password)
    )
    db.add(account)
    db.flush()
    return account
