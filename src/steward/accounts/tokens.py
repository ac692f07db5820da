"""API tokens for integrations and the CLI against a remote hub: scoped, expiring, revocable, hashed.

Scopes are ``read`` / ``write`` (every API area) or ``<area>:read`` / ``<area>:write`` where the area
is the first path segment after ``/api/v1/`` (``ledger``, ``decisions``...). ``write`` implies
``read``. Safe methods (GET, HEAD, OPTIONS) need a read scope, all others a write scope.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.accounts.crypto import token_hash
from steward.accounts.models import ApiToken
from steward.accounts.service import audit_account, current_roles, principal_for_assignment
from steward.audit import EventActor
from steward.config import Settings
from steward.domain.principal import Principal
from steward.store.base import now_utc
from steward.store.models import Account, RoleAssignment

PREFIX = "stw"
_SCOPE = re.compile(r"^(read|write|[a-z][a-z0-9_-]{0,30}:(read|write))$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenError(ValueError):
    """A token request that cannot be honoured (bad scope, role not held, too long a life)."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """The token text is shown once; only ``record`` (with the hash) is kept."""

    text: str
    record: ApiToken


def validate_scopes(scopes: list[str]) -> list[str]:
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    if not cleaned:
        raise TokenError("give at least one scope (read, write, <area>:read, <area>:write)")
    for scope in cleaned:
        if not _SCOPE.match(scope):
            raise TokenError(f"unknown scope {scope!r}: use read, write, <area>:read or <area>:write")
    return cleaned


def allows(scopes: list[str], method: str, path: str) -> bool:
    """Whether a token with ``scopes`` may call ``method path`` (an /api/v1 path)."""
    rest = path.removeprefix("/api/v1/") if path.startswith("/api/v1/") else ""
    area = rest.split("/", 1)[0]
    need = ("read", "write") if method.upper() in SAFE_METHODS else ("write",)
    granted = set(scopes)
    return any(level in granted or (area and f"{area}:{level}" in granted) for level in need)


def create_token(
    db: Session,
    account: Account,
    assignment: RoleAssignment,
    settings: Settings,
    *,
    name: str,
    scopes: list[str],
    days: int,
    actor: EventActor | None = None,
    created_by_person_id: int | None = None,
) -> IssuedToken:
    """Issue a token acting as ``assignment`` (a current role of the account's person)."""
    if assignment.person_id != account.person_id or assignment.id not in {
        r.id for r in current_roles(db, account.person_id)
    }:
        raise TokenError("the token's role must be a current role of the account")
    if not 1 <= days <= settings.api_token_max_days:
        raise TokenError(f"a token lives between 1 and {settings.api_token_max_days} days")
    name = name.strip()
    if not name or len(name) > 100:
        raise TokenError("name the token (1 to 100 characters), e.g. the integration using it")
    clean_scopes = validate_scopes(scopes)
    key = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    record = ApiToken(
        key=key,
        secret_hash=token_hash(secret),
        name=name,
        account_id=account.id,
        role_assignment_id=assignment.id,
        scopes=clean_scopes,
        created_at=now_utc(),
        expires_at=now_utc() + timedelta(days=days),
        created_by_person_id=created_by_person_id,
    )
    db.add(record)
    db.flush()
    audit_account(
        db,
        "token.create",
        account,
        actor=actor,
        token=record.id,
        scopes=clean_scopes,
        expires_at=record.expires_at,
        role_assignment=assignment.id,
    )
    return IssuedToken(f"{PREFIX}_{key}_{secret}", record)


def _parse(text: str) -> tuple[str, str] | None:
    parts = text.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 16:
        return None
    return parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class TokenPrincipal:
    token: ApiToken
    principal: Principal


def resolve_token(db: Session, text: str, at: datetime | None = None) -> TokenPrincipal | None:
    """The live token and the principal it acts as; None for unknown, expired or revoked tokens."""
    parsed = _parse(text)
    if parsed is None:
        return None
    key, secret = parsed
    record = db.scalar(select(ApiToken).where(ApiToken.key == key))
    if record is None or not hmac.compare_digest(record.secret_hash, token_hash(secret)):
        return None
    at = at or now_utc()
    if record.revoked_at is not None or record.expires_at <= at:
        return None
    principal = principal_for_assignment(db, record.account_id, record.role_assignment_id)
    if principal is None:
        return None
    if record.last_used_at is None or (at - record.last_used_at).total_seconds() >= 60:
        record.last_used_at = at
    return TokenPrincipal(record, principal)


def revoke_token(db: Session, token_id: int, *, actor: EventActor | None = None) -> ApiToken | None:
    record = db.get(ApiToken, token_id)
    if record is None:
        return None
    if record.revoked_at is None:
        record.revoked_at = now_utc()
        account = db.get(Account, record.account_id)
        audit_account(db, "token.revoke", account, actor=actor, token=record.id)
    return record


def revoke_all_tokens(db: Session, account_id: int, *, actor: EventActor | None = None) -> None:
    for record in tokens_of(db, account_id):
        if record.revoked_at is None:
            revoke_token(db, record.id, actor=actor)


def tokens_of(db: Session, account_id: int | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.id)
    if account_id is not None:
        stmt = stmt.where(ApiToken.account_id == account_id)
    return list(db.scalars(stmt))


def token_state(record: ApiToken, at: datetime | None = None) -> str:
    if record.revoked_at is not None:
        return "revoked"
    if record.expires_at <= (at or now_utc()):
        return "expired"
    return "active"
