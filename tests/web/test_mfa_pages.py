"""The second factor through the pages: enrolment is forced for district staff, codes are asked at
every sign-in, recovery codes work once, and a half-signed-in session acts as nobody."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from steward.config import Settings
from steward.store.db import transaction
from steward.web.app import create_app
from tests import factories as f
from tests.accounts.world import build
from tests.web.auth_helpers import RECOVERY, csrf_of, fresh_code, sign_in, totp_secret


@pytest.fixture
def client(sqlite_engine: Engine) -> Iterator[TestClient]:
    with transaction(sqlite_engine) as db:
        build(db)
    settings = Settings(
        database_url=str(sqlite_engine.url),
        secret_key="mfa-pages",
        login_failure_floor_ms=0,
        login_max_failures=4,
    )
    with TestClient(create_app(settings, sqlite_engine)) as test_client:
        yield test_client


def _password_only(client: TestClient, username: str, password: str) -> str:
    response = sign_in(client, username, password, mfa=False)
    assert response.status_code == 303
    return str(response.headers["location"])


def test_officer_must_enrol_before_acting(client: TestClient) -> None:
    location = _password_only(client, "olga", "officer pass 1")
    assert location.startswith("/mfa/setup")
    for path in ("/", "/ledger", "/admin/accounts", "/account"):
        blocked = client.get(path, follow_redirects=False)
        assert blocked.status_code == 303, path
        assert blocked.headers["location"].startswith("/mfa/setup"), path
    assert client.get("/api/v1/ledger/recipients/1").status_code == 401
    assert client.get("/role", follow_redirects=False).headers["location"] == "/login"
    page = client.get(location)
    assert "otpauth://totp/Steward:olga" in page.text
    assert "<script" not in page.text.split("</head>")[1]  # no inline script on the page
    wrong = client.post("/mfa/setup", data={"code": "000000", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 400
    before = client.cookies.get("steward_session")
    secret = re.search(r'data-testid="totp-secret">([^<]+)<', page.text)
    assert secret
    done = client.post(
        "/mfa/setup",
        data={"code": pyotp.TOTP(secret.group(1).replace(" ", "")).now(), "csrf_token": csrf_of(page.text)},
    )
    assert done.status_code == 200
    assert len(re.findall(r"<li><code>", done.text)) == 10
    assert client.cookies.get("steward_session") != before  # rotated once every factor is checked
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("tina", "teacher pass 1"), ("rita", "researcher pass 1")],
    ids=["teacher", "researcher"],
)
def test_teacher_and_researcher_must_enrol(
    client: TestClient, sqlite_engine: Engine, username: str, password: str
) -> None:
    """Teachers download identifiable packages; researchers receive records under a studies agreement."""
    with transaction(sqlite_engine) as db:
        university = f.org(db, "u1", "research_org", "Cascade University", registration_status="registered")
        f.person(db, "rita", "researcher", university, password="researcher pass 1")
    assert _password_only(client, username, password).startswith("/mfa/setup")
    blocked = client.get("/portal/students", follow_redirects=False)
    assert blocked.status_code == 303
    assert blocked.headers["location"].startswith("/mfa/setup")


def test_parent_is_not_forced_but_may_enrol(client: TestClient) -> None:
    assert _password_only(client, "pam", "parent pass 1") == "/"
    assert "Set up an authenticator app" in client.get("/account").text


def test_code_asked_at_every_sign_in_and_recovery_codes_work_once(client: TestClient) -> None:
    sign_in(client, "olga", "officer pass 1")  # enrols
    codes = RECOVERY[(id(client.app), "olga")]
    client.cookies.clear()
    assert _password_only(client, "olga", "officer pass 1").startswith("/mfa?")
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/mfa")
    page = client.get("/mfa")
    used = client.post(
        "/mfa", data={"code": codes[0], "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert used.status_code == 303
    assert client.get("/").status_code == 200
    client.cookies.clear()
    _password_only(client, "olga", "officer pass 1")
    page = client.get("/mfa")
    again = client.post(
        "/mfa", data={"code": codes[0], "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert again.status_code == 401


def test_guessing_codes_pauses_the_account(client: TestClient) -> None:
    sign_in(client, "olga", "officer pass 1")
    client.cookies.clear()
    _password_only(client, "olga", "officer pass 1")
    page = client.get("/mfa")
    token = csrf_of(page.text)
    statuses = []
    for guess in ("000001", "000002", "000003", "000004"):
        statuses.append(
            client.post("/mfa", data={"code": guess, "csrf_token": token}, follow_redirects=False)
        )
    assert [r.status_code for r in statuses[:3]] == [401, 401, 401]
    assert statuses[3].headers["location"] == "/login"  # paused: the half session is gone
    assert client.get("/mfa", follow_redirects=False).headers["location"] == "/login"
    secret, last = totp_secret(client, "olga")
    client.cookies.clear()
    # Even the right password and a right code do not get in while paused, and the message is the same.
    refused = sign_in(client, "olga", "officer pass 1", mfa=False)
    assert refused.status_code == 401
    assert "do not match an active account" in refused.text
    assert fresh_code(secret, last) is not None
