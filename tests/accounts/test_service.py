"""Sign-in with lockout and back-off, sessions with idle and absolute limits, roles ending with
agreements: on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.accounts.models import AccountSecurity, RoleAssignmentTerms, WebSession
from steward.accounts.service import (
    SignInOutcome,
    authenticate,
    current_roles,
    lockout_seconds,
    open_session,
    principal_for,
    resolve_session,
    revoke_all_sessions,
)
from steward.audit.models import AuditEvent
from steward.config import Settings
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Account, RoleAssignment
from tests import factories as f
from tests.accounts.world import build

SETTINGS = Settings(secret_key="test", login_max_failures=3, lockout_base_seconds=60, lockout_max_seconds=600)


def _account(db: Session, username: str) -> Account:
    account = db.scalar(select(Account).where(Account.username == username))
    assert account is not None
    return account


def test_back_off_doubles_then_caps() -> None:
    assert [lockout_seconds(n, SETTINGS) for n in range(1, 9)] == [0, 0, 60, 120, 240, 480, 600, 600]


def test_lockout_after_failures_refuses_even_the_right_password(engine: Engine) -> None:
    with transaction(engine) as db:
        build(db)
    now = now_utc()
    with transaction(engine) as db:
        outcomes = [authenticate(db, "tina", "wrong", SETTINGS, now).outcome for _ in range(3)]
        assert outcomes == [SignInOutcome.BAD_PASSWORD] * 3
        assert authenticate(db, "tina", "teacher pass 1", SETTINGS, now).outcome is SignInOutcome.LOCKED
        # Paused attempts are not counted again (the pause does not grow while nobody can try).
        assert db.get(AccountSecurity, _account(db, "tina").id).failed_logins == 3  # type: ignore[union-attr]
    later = now + timedelta(seconds=61)
    with transaction(engine) as db:
        assert authenticate(db, "tina", "wrong", SETTINGS, later).outcome is SignInOutcome.BAD_PASSWORD
        row = db.get(AccountSecurity, _account(db, "tina").id)
        assert row is not None
        assert row.locked_until is not None
        assert row.locked_until - later == timedelta(seconds=120)  # doubled
    with transaction(engine) as db:
        result = authenticate(db, "tina", "teacher pass 1", SETTINGS, later + timedelta(seconds=121))
        assert result.ok
        row = db.get(AccountSecurity, _account(db, "tina").id)
        assert row is not None
        assert row.failed_logins == 0
        assert row.locked_until is None


def test_every_failure_costs_exactly_one_hash_check(sqlite_engine: Engine) -> None:
    """Unknown user, wrong password, paused and suspended accounts all spend one argon2 verification."""
    with transaction(sqlite_engine) as db:
        build(db)
        _account(db, "pam").active = False
    with transaction(sqlite_engine) as db:
        for _ in range(3):
            authenticate(db, "olga", "wrong", SETTINGS)
        real = PasswordHasher.verify
        with mock.patch.object(PasswordHasher, "verify", autospec=True, side_effect=real) as spy:
            for username in ("nobody", "tina", "olga", "pam"):
                spy.reset_mock()
                result = authenticate(db, username, "wrong", SETTINGS)
                assert not result.ok
                assert spy.call_count == 1, username


def test_session_idle_and_absolute_limits(sqlite_engine: Engine) -> None:
    settings = Settings(secret_key="t", session_idle_minutes=30, session_absolute_hours=12)
    with transaction(sqlite_engine) as db:
        build(db)
        opened = open_session(db, _account(db, "tina"), settings, None)
        token, session_id = opened.token, opened.record.id
    with transaction(sqlite_engine) as db:
        assert resolve_session(db, token, settings) is not None
        record = db.get(WebSession, session_id)
        assert record is not None
        record.last_seen_at = now_utc() - timedelta(minutes=31)
    with transaction(sqlite_engine) as db:
        assert resolve_session(db, token, settings) is None  # idle too long: revoked for good
        record = db.get(WebSession, session_id)
        assert record is not None
        assert record.revoked_at is not None
        fresh = open_session(db, _account(db, "tina"), settings, None)
        record = fresh.record
        record.created_at = now_utc() - timedelta(hours=13)
        record.expires_at = now_utc() - timedelta(seconds=1)
        token2 = fresh.token
    with transaction(sqlite_engine) as db:
        assert resolve_session(db, token2, settings) is None  # past the absolute limit though active


def test_revoke_all_sessions_ends_every_live_session(sqlite_engine: Engine) -> None:
    settings = Settings(secret_key="t")
    with transaction(sqlite_engine) as db:
        build(db)
        account = _account(db, "tina")
        tokens = [open_session(db, account, settings, None).token for _ in range(3)]
        assert revoke_all_sessions(db, account.id) == 3
    with transaction(sqlite_engine) as db:
        assert all(resolve_session(db, t, settings) is None for t in tokens)


def test_role_tied_to_an_agreement_ends_with_it(engine: Engine) -> None:
    with transaction(engine) as db:
        world = build(db)
        staff = f.person(db, "pete", password="partner pass 1")
        role = RoleAssignment(
            person_id=staff.id, role="partner_staff", organization_id=world.partner.id, valid_from=f.EPOCH
        )
        db.add(role)
        db.flush()
        db.add(RoleAssignmentTerms(role_assignment_id=role.id, agreement_id=world.agreement.id))
        person_id, agreement = staff.id, world.agreement
        opened = open_session(db, _account(db, "pete"), Settings(secret_key="t"), role.id)
    with transaction(engine) as db:
        assert [r.role for r in current_roles(db, person_id)] == ["partner_staff"]
        assert current_roles(db, person_id, agreement.valid_to + timedelta(seconds=1)) == []  # type: ignore[operator]
        record = db.get(WebSession, opened.record.id)
        assert record is not None
        assert principal_for(db, record) is not None
        db.merge(agreement).status = "terminated"
        db.merge(agreement).valid_to = now_utc() - timedelta(seconds=1)
    with transaction(engine) as db:
        assert current_roles(db, person_id) == []
        record = db.get(WebSession, opened.record.id)
        assert record is not None
        assert principal_for(db, record) is None  # the live session stops acting at once


def test_sign_in_events_are_audited(sqlite_engine: Engine) -> None:
    from fastapi.testclient import TestClient

    from steward.web.app import create_app
    from tests.web.auth_helpers import sign_in

    with transaction(sqlite_engine) as db:
        build(db)
    app = create_app(Settings(database_url=str(sqlite_engine.url), secret_key="t"), sqlite_engine)
    with TestClient(app) as client:
        sign_in(client, "tina", "wrong")
        sign_in(client, "tina", "teacher pass 1")
    with Session(sqlite_engine) as db:
        events = db.execute(select(AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.id)).all()
    assert ("auth.login", "denied") in events
    assert ("auth.login", "ok") in events


@pytest.mark.parametrize("status", ["suspended", "removed", "invited"])
def test_inactive_accounts_cannot_sign_in(sqlite_engine: Engine, status: str) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
        account = _account(db, "tina")
        db.add(AccountSecurity(account_id=account.id, status=status, failed_logins=0))
    with transaction(sqlite_engine) as db:
        assert authenticate(db, "tina", "teacher pass 1", SETTINGS).outcome is SignInOutcome.INACTIVE
