"""Attacks on signing in: password guessing, timing, session fixation, stolen cookies after sign-out."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from steward.accounts.models import AccountSecurity
from steward.config import Settings
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.web.app import create_app
from tests.accounts.world import build
from tests.web.auth_helpers import csrf_of, sign_in


def _app(engine: Engine, **overrides: object) -> TestClient:
    values: dict[str, object] = {"database_url": str(engine.url), "secret_key": "attacks", **overrides}
    return TestClient(create_app(Settings(**values), engine))  # type: ignore[arg-type]


def test_guessing_a_password_pauses_the_account_without_telling(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    client = _app(sqlite_engine, login_failure_floor_ms=0, login_max_failures=5, rate_login_burst=100)
    guesses = [sign_in(client, "tina", f"guess-{i}", mfa=False) for i in range(12)]
    assert {g.status_code for g in guesses} == {401}
    assert len({g.text.split("<main", 1)[1].split('name="csrf_token"')[0] for g in guesses}) == 1
    right = sign_in(client, "tina", "teacher pass 1", mfa=False)
    assert right.status_code == 401  # paused: the right password does not open it either
    assert "do not match an active account" in right.text
    unknown = sign_in(client, "no-such-user", "teacher pass 1", mfa=False)
    assert (
        unknown.text.split("<main", 1)[1].replace("no-such-user", "tina").split('name="csrf_token"')[0]
        == right.text.split("<main", 1)[1].split('name="csrf_token"')[0]
    )
    with transaction(sqlite_engine) as db:
        db.execute(update(AccountSecurity).values(locked_until=now_utc() - timedelta(seconds=1)))
    assert sign_in(client, "tina", "teacher pass 1", mfa=False).status_code == 303


def test_failures_take_the_same_time_whatever_the_reason(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    client = _app(sqlite_engine, login_failure_floor_ms=80, login_max_failures=3, rate_login_burst=1000)
    for _ in range(3):
        sign_in(client, "olga", "wrong", mfa=False)  # olga is now paused

    def median(username: str) -> float:
        page = client.get("/login")
        token = csrf_of(page.text)
        times = []
        for _ in range(7):
            started = time.perf_counter()
            response = client.post(
                "/login", data={"username": username, "password": "nope", "csrf_token": token}
            )
            times.append(time.perf_counter() - started)
            assert response.status_code == 401
            token = csrf_of(response.text)
        return statistics.median(times)

    unknown, wrong, paused = median("ghost"), median("tina"), median("olga")
    assert min(unknown, wrong, paused) >= 0.08
    assert max(unknown, wrong, paused) / min(unknown, wrong, paused) < 1.5


def test_session_fixation_a_planted_cookie_is_never_used(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    attacker = _app(sqlite_engine, login_failure_floor_ms=0)
    sign_in(attacker, "pam", "parent pass 1")
    planted = attacker.cookies.get("steward_session")
    assert planted
    victim = TestClient(attacker.app)
    victim.cookies.set("steward_session", planted, domain="testserver.local")
    assert sign_in(victim, "tina", "teacher pass 1").status_code == 303
    assert victim.cookies.get("steward_session") != planted
    assert "Welcome, Tina" in victim.get("/").text
    # The attacker's (planted) session was ended by the victim's sign-in; it never becomes Tina.
    assert attacker.get("/", follow_redirects=False).status_code == 303


def test_cookie_after_sign_out_and_forged_cookies_open_nothing(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    client = _app(sqlite_engine, login_failure_floor_ms=0)
    sign_in(client, "tina", "teacher pass 1")
    stolen = client.cookies.get("steward_session")
    home = client.get("/")
    client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    thief = TestClient(client.app)
    for value in (stolen or "", "", "x" * 43, "' OR 1=1 --"):
        thief.cookies.set("steward_session", value, domain="testserver.local")
        assert thief.get("/", follow_redirects=False).status_code == 303
        assert thief.get("/api/v1/ledger/recipients/1").status_code == 401
