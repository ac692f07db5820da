"""Signing in through the real pages in tests, including the second factor when a role needs one."""

from __future__ import annotations

import re
import time

import httpx
import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select

from steward.accounts.crypto import decrypt_field
from steward.accounts.models import TotpCredential
from steward.store.models import Account

#: Recovery codes shown at enrolment, per app and username (used when no fresh TOTP step is left).
RECOVERY: dict[tuple[int, str], list[str]] = {}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def totp_secret(client: TestClient, username: str) -> tuple[str, int]:
    """The account's TOTP seed (decrypted as the server would) and its last accepted step."""
    app = client.app
    with app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        account = db.scalar(select(Account).where(Account.username == username))
        assert account is not None
        credential = db.get(TotpCredential, account.id)
        assert credential is not None
        return decrypt_field(app.state.settings, credential.secret_encrypted), credential.last_step  # type: ignore[attr-defined]


def fresh_code(secret: str, last_step: int) -> str | None:
    """A code for a step the server has not accepted yet, within its window (None when none is left)."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(time.time())
    step = max(now - 1, last_step + 1)
    return totp.generate_otp(step) if step <= now + 1 else None


def complete_mfa(client: TestClient, response: httpx.Response, username: str) -> httpx.Response:
    """Finish a sign-in that stopped at /mfa or /mfa/setup; returns a 303 to where it continues."""
    location = response.headers.get("location", "")
    key = (id(client.app), username)
    if location.startswith("/mfa/setup"):
        page = client.get(location)
        secret = re.search(r'data-testid="totp-secret">([^<]+)<', page.text)
        assert secret, page.text
        code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
        done = client.post("/mfa/setup", data={"code": code, "csrf_token": csrf_of(page.text), "next": "/"})
        assert done.status_code == 200, done.text
        RECOVERY[key] = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
        target = re.search(r'<a href="([^"]+)">Continue</a>', done.text)
        assert target
        return httpx.Response(303, headers={"location": target.group(1)})
    if location.startswith("/mfa"):
        page = client.get(location)
        secret, last = totp_secret(client, username)
        code = fresh_code(secret, last) or RECOVERY[key].pop()
        return client.post(
            "/mfa",
            data={"code": code, "csrf_token": csrf_of(page.text), "next": "/"},
            follow_redirects=False,
        )
    return response


def sign_in(client: TestClient, username: str, password: str, mfa: bool = True) -> httpx.Response:
    """Sign in through /login (and the second factor, unless ``mfa`` is False)."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    if mfa and response.status_code == 303:
        return complete_mfa(client, response, username)
    return response
