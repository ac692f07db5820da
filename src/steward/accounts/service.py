"""Sign-in with lockout, server-side sessions and the principal a session acts as.

Sign-in never tells an unknown username from a wrong password, a paused (locked) account or a
suspended one: the caller shows one message, and every path verifies exactly one argon2 hash.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from steward.accounts.crypto import token_hash
from steward.accounts.models import AccountSecurity, RoleAssignmentTerms, WebSession
from steward.accounts.passwords import dummy_verify, hash_password, verify_password
from steward.audit import SYSTEM, EventActor, EventSpec, append
from steward.config import Settings
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.policy.facts import BINDING_APPROVAL_STATUSES
from steward.store.base import now_utc
from steward.store.models import Account, Organization, Person, RoleAssignment
from steward.store.upsert import upsert
from steward.workflow.models import Agreement

#: ``last_seen_at`` is written at most this often (a write per page view would serialize SQLite).
SESSION_TOUCH_SECONDS = 60


class AccountStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class SignInOutcome(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown_user"
    BAD_PASSWORD = "bad_password"  # noqa: S105  (an outcome name, not a password)
    LOCKED = "locked"
    INACTIVE = "inactive"


class SessionStage(StrEnum):
    COMPLETE = "complete"
    MFA = "mfa"
    ENROL = "enrol"


@dataclass(frozen=True, slots=True)
class SignIn:
    """The result of a password check; only ``OK`` carries an account to sign in."""

    outcome: SignInOutcome
    account: Account | None

    @property
    def ok(self) -> bool:
        return self.outcome is SignInOutcome.OK


def normalise_username(username: str) -> str:
    return username.strip().lower()


def audit_account(
    db: Session,
    action: str,
    account: Account | None,
    *,
    actor: EventActor | None = None,
    district_id: int | None = None,
    outcome: str = "ok",
    **details: Any,
) -> None:
    """An account or sign-in event, in the caller's transaction (the global chain without a district)."""
    if actor is None:
        actor = EventActor(person_id=account.person_id) if account is not None else SYSTEM
    append(
        db,
        EventSpec(
            action=action,
            district_id=district_id,
            actor=actor,
            subject_type="account" if account is not None else None,
            subjects=[account.id] if account is not None else [],
            outcome=outcome,
            details=details,
        ),
    )


def security_of(db: Session, account_id: int) -> AccountSecurity:
    """The account's security row, created on first need (accounts made elsewhere have none)."""
    row = db.get(AccountSecurity, account_id)
    if row is None:
        upsert(
            db,
            AccountSecurity,
            [{"account_id": account_id, "status": AccountStatus.ACTIVE.value, "failed_logins": 0}],
            conflict=["account_id"],
        )
        row = db.get(AccountSecurity, account_id)
        assert row is not None
    return row


def account_status(db: Session, account: Account) -> AccountStatus:
    row = db.get(AccountSecurity, account.id)
    if row is not None:
        return AccountStatus(row.status)
    return AccountStatus.ACTIVE if account.active else AccountStatus.SUSPENDED


def is_usable(db: Session, account: Account) -> bool:
    """Active flag set and lifecycle status active (invited, suspended, removed cannot act)."""
    return account.active and account_status(db, account) is AccountStatus.ACTIVE


def lockout_seconds(failures: int, settings: Settings) -> int:
    """Pause after ``failures`` consecutive failures: 0 below the limit, then doubling to the cap."""
    if failures < settings.login_max_failures:
        return 0
    exponent = min(failures - settings.login_max_failures, 30)
    return int(min(settings.lockout_base_seconds * (2**exponent), settings.lockout_max_seconds))


def is_locked(db: Session, account: Account, now: datetime | None = None) -> bool:
    row = db.get(AccountSecurity, account.id)
    return row is not None and row.locked_until is not None and row.locked_until > (now or now_utc())


def record_failure(db: Session, account: Account, settings: Settings, now: datetime | None = None) -> int:
    """Count a failed password or second factor; pauses the account past the limit. Returns the count."""
    now = now or now_utc()
    security_of(db, account.id)
    failures = int(
        db.execute(
            update(AccountSecurity)
            .where(AccountSecurity.account_id == account.id)
            .values(failed_logins=AccountSecurity.failed_logins + 1, last_failed_at=now)
            .returning(AccountSecurity.failed_logins)
            .execution_options(synchronize_session=False)
        ).scalar_one()
    )
    pause = lockout_seconds(failures, settings)
    if pause:
        db.execute(
            update(AccountSecurity)
            .where(AccountSecurity.account_id == account.id)
            .values(locked_until=now + timedelta(seconds=pause))
            .execution_options(synchronize_session=False)
        )
    row = db.get(AccountSecurity, account.id, populate_existing=True)
    assert row is not None
    return failures


def clear_failures(db: Session, account: Account) -> None:
    row = db.get(AccountSecurity, account.id)
    if row is not None and (row.failed_logins or row.locked_until is not None):
        row.failed_logins = 0
        row.locked_until = None


def authenticate(
    db: Session, username: str, password: str, settings: Settings, now: datetime | None = None
) -> SignIn:
    """Check a password with lockout and back-off; every outcome costs one hash verification."""
    now = now or now_utc()
    account = db.scalar(select(Account).where(Account.username == normalise_username(username)))
    if account is None:
        dummy_verify(password)
        return SignIn(SignInOutcome.UNKNOWN, None)
    if not is_usable(db, account):
        dummy_verify(password)
        return SignIn(SignInOutcome.INACTIVE, account)
    if is_locked(db, account, now):
        dummy_verify(password)
        return SignIn(SignInOutcome.LOCKED, account)
    if not verify_password(account.password_hash, password):
        record_failure(db, account, settings, now)
        return SignIn(SignInOutcome.BAD_PASSWORD, account)
    clear_failures(db, account)
    return SignIn(SignInOutcome.OK, account)


def set_password(db: Session, account: Account, password: str) -> None:
    account.password_hash = hash_password(password)
    security_of(db, account.id).password_changed_at = now_utc()


def current_roles(db: Session, person_id: int, at: datetime | None = None) -> list[RoleAssignment]:
    """Role assignments of a person valid at ``at`` (default now), oldest first.

    A role tied to an agreement also ends when the agreement does (or is not binding).
    """
    at = at or now_utc()
    stmt = (
        select(RoleAssignment)
        .outerjoin(RoleAssignmentTerms, RoleAssignmentTerms.role_assignment_id == RoleAssignment.id)
        .outerjoin(Agreement, Agreement.id == RoleAssignmentTerms.agreement_id)
        .where(RoleAssignment.person_id == person_id, _current_role_filter(at))
        .order_by(RoleAssignment.id)
    )
    return list(db.scalars(stmt))


def mfa_required(db: Session, account: Account, settings: Settings, at: datetime | None = None) -> bool:
    """A second factor is required when any current role is district staff or can export identifiable data."""
    required = set(settings.mfa_required_roles)
    return any(r.role in required for r in current_roles(db, account.person_id, at))


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str
    record: WebSession


def open_session(
    db: Session,
    account: Account,
    settings: Settings,
    role_assignment_id: int | None,
    *,
    stage: SessionStage = SessionStage.COMPLETE,
    auth_method: str = "password",
) -> OpenedSession:
    """A new session with a fresh token (rotation at sign-in: old tokens are never reused).

    A session waiting for a second factor lives only ``mfa_pending_minutes``.
    """
    token = secrets.token_urlsafe(32)
    now = now_utc()
    lifetime = (
        timedelta(hours=settings.session_absolute_hours)
        if stage is SessionStage.COMPLETE
        else timedelta(minutes=settings.mfa_pending_minutes)
    )
    record = WebSession(
        token_hash=token_hash(token),
        account_id=account.id,
        role_assignment_id=role_assignment_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        stage=stage.value,
        auth_method=auth_method,
    )
    db.add(record)
    if stage is SessionStage.COMPLETE:
        account.last_login_at = now
    db.flush()
    return OpenedSession(token, record)


def complete_session(db: Session, record: WebSession, settings: Settings) -> OpenedSession:
    """Every factor is checked: revoke the half-signed-in session and open a full one (new token)."""
    account = db.get(Account, record.account_id)
    assert account is not None
    record.revoked_at = now_utc()
    return open_session(db, account, settings, record.role_assignment_id, auth_method=record.auth_method)


def resolve_session(db: Session, token: str | None, settings: Settings) -> WebSession | None:
    """The live session for a cookie token; idle, expired or revoked sessions resolve to None."""
    if not token:
        return None
    record = db.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if record is None or record.revoked_at is not None:
        return None
    now = now_utc()
    if now >= record.expires_at or now - record.last_seen_at > timedelta(
        minutes=settings.session_idle_minutes
    ):
        record.revoked_at = now
        return None
    if (now - record.last_seen_at).total_seconds() >= SESSION_TOUCH_SECONDS:
        record.last_seen_at = now
    return record


def revoke_session(db: Session, token: str | None) -> None:
    if not token:
        return
    record = db.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if record is not None and record.revoked_at is None:
        record.revoked_at = now_utc()


def revoke_all_sessions(db: Session, account_id: int) -> int:
    """End every live session of an account (suspension, removal, password or factor change)."""
    result = db.execute(
        update(WebSession)
        .where(WebSession.account_id == account_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def principal_for(db: Session, record: WebSession) -> Principal | None:
    """The principal a fully signed-in session acts as, if its role assignment is still valid now."""
    if record.role_assignment_id is None or record.stage != SessionStage.COMPLETE:
        return None
    return principal_for_assignment(db, record.account_id, record.role_assignment_id)


def _current_role_filter(at: datetime) -> Any:
    """A role assignment valid at ``at``, and its agreement too when it rests on one."""
    return and_(
        RoleAssignment.valid_at(at),
        or_(
            RoleAssignmentTerms.agreement_id.is_(None),
            and_(
                Agreement.valid_at(at),
                Agreement.status.in_([s.value for s in BINDING_APPROVAL_STATUSES]),
            ),
        ),
    )


def principal_for_assignment(db: Session, account_id: int, role_assignment_id: int) -> Principal | None:
    """The principal of an account acting in one role assignment, if both are usable now.

    One query (it runs on every request): account active and not suspended, role valid now.
    """
    row = db.execute(
        select(RoleAssignment.role, Person, Organization)
        .join(Person, Person.id == RoleAssignment.person_id)
        .join(Account, Account.person_id == Person.id)
        .join(Organization, Organization.id == RoleAssignment.organization_id)
        .outerjoin(AccountSecurity, AccountSecurity.account_id == Account.id)
        .outerjoin(RoleAssignmentTerms, RoleAssignmentTerms.role_assignment_id == RoleAssignment.id)
        .outerjoin(Agreement, Agreement.id == RoleAssignmentTerms.agreement_id)
        .where(
            RoleAssignment.id == role_assignment_id,
            Account.id == account_id,
            Account.active.is_(True),
            or_(AccountSecurity.status.is_(None), AccountSecurity.status == AccountStatus.ACTIVE.value),
            _current_role_filter(now_utc()),
        )
    ).first()
    if row is None:
        return None
    role, person, org = row
    return Principal(
        person_id=person.id,
        person_code=person.code,
        role=Role(role),
        organization_id=org.id,
        organization_code=org.code,
        organization_kind=OrgKind(org.kind),
        display_name=person.display_name,
    )


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
        person_id=person.id, username=normalise_username(username), password_hash=hash_password(password)
    )
    db.add(account)
    db.flush()
    return account
