"""API tokens: hashed at rest, scoped per method and area, expiring, revocable, tied to a live role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text

from steward.accounts.models import AccountSecurity, ApiToken
from steward.accounts.tokens import TokenError, allows, create_token, resolve_token, revoke_token
from steward.config import Settings
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Account, RoleAssignment
from tests.accounts.world import build

SETTINGS = Settings(secret_key="t", api_token_max_days=30)


def _issue(engine: Engine, scopes: list[str], days: int = 10) -> tuple[str, int]:
    with transaction(engine) as db:
        account = db.scalar(select(Account).where(Account.username == "olga"))
        assert account is not None
        role = db.scalar(select(RoleAssignment).where(RoleAssignment.person_id == account.person_id))
        assert role is not None
        issued = create_token(db, account, role, SETTINGS, name="sis sync", scopes=scopes, days=days)
        return issued.text, issued.record.id


@pytest.mark.parametrize(
    ("scopes", "method", "path", "ok"),
    [
        (["read"], "GET", "/api/v1/ledger/students/1", True),
        (["read"], "POST", "/api/v1/decisions", False),
        (["write"], "POST", "/api/v1/decisions", True),
        (["write"], "GET", "/api/v1/health", True),
        (["ledger:read"], "GET", "/api/v1/ledger/students/1", True),
        (["ledger:read"], "GET", "/api/v1/students", False),
        (["decisions:write"], "POST", "/api/v1/decisions", True),
        (["decisions:write"], "POST", "/api/v1/delivery/x", False),
        (["ledger:read"], "GET", "/api/other", False),
    ],
)
def test_scopes(scopes: list[str], method: str, path: str, ok: bool) -> None:
    assert allows(scopes, method, path) is ok


def test_token_is_hashed_resolves_and_is_revoked(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    token, token_id = _issue(sqlite_engine, ["read"])
    assert token.startswith("stw_")
    with sqlite_engine.connect() as conn:
        row = conn.execute(text("SELECT key, secret_hash FROM api_tokens")).one()
    assert token.split("_", 2)[2] not in row.secret_hash
    with transaction(sqlite_engine) as db:
        resolved = resolve_token(db, token)
        assert resolved is not None
        assert resolved.principal.role.value == "district_data_officer"
        assert resolve_token(db, token[:-2] + "xx") is None
        assert resolve_token(db, "stw_" + "0" * 16 + "_nope") is None
        assert resolve_token(db, "garbage") is None
        assert resolve_token(db, token, now_utc() + timedelta(days=11)) is None  # expired
        revoke_token(db, token_id)
    with transaction(sqlite_engine) as db:
        assert resolve_token(db, token) is None


def test_token_stops_with_account_or_role(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    token, _ = _issue(sqlite_engine, ["read"])
    with transaction(sqlite_engine) as db:
        account = db.scalar(select(Account).where(Account.username == "olga"))
        assert account is not None
        db.add(AccountSecurity(account_id=account.id, status="suspended", failed_logins=0))
    with transaction(sqlite_engine) as db:
        assert resolve_token(db, token) is None
        db.execute(text("UPDATE account_security SET status = 'active'"))
    with transaction(sqlite_engine) as db:
        assert resolve_token(db, token) is not None
        for role in db.scalars(select(RoleAssignment)):
            role.valid_to = now_utc() - timedelta(seconds=1)
    with transaction(sqlite_engine) as db:
        assert resolve_token(db, token) is None


def test_bad_token_requests_are_refused(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    for scopes, days in ((["admin"], 10), ([], 10), (["read"], 31), (["read"], 0)):
        with pytest.raises(TokenError):
            _issue(sqlite_engine, scopes, days)
    with transaction(sqlite_engine) as db:
        account = db.scalar(select(Account).where(Account.username == "olga"))
        other = db.scalar(select(RoleAssignment).where(RoleAssignment.person_id != account.person_id))  # type: ignore[union-attr]
        assert account is not None
        assert other is not None
        with pytest.raises(TokenError):
            create_token(db, account, other, SETTINGS, name="x", scopes=["read"], days=1)
        assert db.scalar(select(ApiToken.id)) is None
