"""Web hardening: headers, HSTS, body size limit, rate limits, error pages, upload checks, file names."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from steward.config import Settings
from steward.store.db import transaction
from steward.web.app import create_app
from steward.web.security import (
    CSV,
    DOCUMENTS,
    PDF,
    XLSX,
    Limiter,
    UploadRejectedError,
    check_upload,
    safe_filename,
)
from tests.accounts.world import build
from tests.web.auth_helpers import csrf_of, sign_in


def _app(engine: Engine, **overrides: object) -> TestClient:
    values: dict[str, object] = {
        "database_url": str(engine.url),
        "secret_key": "security-tests",
        "login_failure_floor_ms": 0,
        **overrides,
    }
    return TestClient(create_app(Settings(**values), engine))  # type: ignore[arg-type]


@pytest.fixture
def client(sqlite_engine: Engine) -> Iterator[TestClient]:
    with transaction(sqlite_engine) as db:
        build(db)
    with _app(sqlite_engine) as test_client:
        yield test_client


def test_headers_on_pages_and_api(client: TestClient) -> None:
    for response in (client.get("/login"), client.get("/api/v1/health")):
        headers = response.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in headers
    cookie = client.get("/login").headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


def test_pages_have_no_inline_script(client: TestClient) -> None:
    sign_in(client, "tina", "teacher pass 1")
    for path in ("/login", "/", "/account"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert " on" + "click=" not in html


def test_hsts_and_secure_cookies_behind_tls(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    with _app(sqlite_engine, cookie_secure=True, mfa_required_roles=[]) as secure:
        assert secure.get("/login").headers["strict-transport-security"].startswith("max-age=")
        assert "Secure" in secure.get("/login").headers["set-cookie"]
        # Behind the TLS proxy the browser sends the Secure cookies back.
        https = TestClient(secure.app, base_url="https://testserver")
        signed = sign_in(https, "tina", "teacher pass 1")
        assert "Secure" in signed.headers["set-cookie"]
    with _app(sqlite_engine) as plain:
        over_tls = TestClient(plain.app, base_url="https://testserver")
        assert "strict-transport-security" in over_tls.get("/login").headers


def test_bodies_over_the_limit_get_413(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    with _app(sqlite_engine, max_request_bytes=4096) as small:
        page = small.get("/login")
        big = small.post(
            "/login",
            data={"username": "tina", "password": "x" * 10_000, "csrf_token": csrf_of(page.text)},
        )
        assert big.status_code == 413
        streamed = small.post(
            "/api/v1/decisions",
            content=iter([b"{" + b" " * 3000, b" " * 3000 + b"}"]),
            headers={"content-type": "application/json"},
        )
        assert streamed.status_code == 413
        assert small.post("/login", data={"csrf_token": "x"}).status_code != 413


def test_errors_never_show_a_traceback_or_sql(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    client = _app(sqlite_engine)
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        with sqlite_engine.connect() as conn:
            conn.execute(text("SELECT secret_column FROM no_such_table WHERE password = 'hunter2'"))

    @router.get("/api/v1/boom")
    def api_boom() -> None:
        raise RuntimeError("Traceback: internal detail /srv/steward/secret.py line 3")

    client.app.include_router(router)  # type: ignore[attr-defined]
    with TestClient(client.app, raise_server_exceptions=False) as quiet:
        page = quiet.get("/boom", headers={"accept": "text/html"})
        api = quiet.get("/api/v1/boom")
    assert page.status_code == api.status_code == 500
    for body in (page.text, api.text):
        for leak in ("Traceback", "no_such_table", "SELECT", "hunter2", "secret.py", "sqlite3", 'File "'):
            assert leak not in body
    assert "Something went wrong" in page.text
    assert api.json() == {"detail": "internal error"}


def test_sign_in_is_rate_limited_per_address_and_username(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    with _app(sqlite_engine, rate_login_burst=3, rate_login_per_minute=1) as limited:
        results = [sign_in(limited, "tina", "wrong", mfa=False).status_code for _ in range(4)]
        assert results == [401, 401, 401, 429]
        blocked = sign_in(limited, "tina", "teacher pass 1", mfa=False)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert sign_in(limited, "pam", "parent pass 1", mfa=False).status_code == 303  # another username
        # Unknown usernames are limited the same way (no hint that the name does not exist).
        assert [sign_in(limited, "ghost", "x", mfa=False).status_code for _ in range(4)][-1] == 429


def test_api_is_rate_limited_per_token(sqlite_engine: Engine) -> None:
    from steward.accounts.tokens import create_token
    from steward.store.models import Account, RoleAssignment

    with transaction(sqlite_engine) as db:
        build(db)
        account = db.query(Account).filter_by(username="olga").one()
        role = db.query(RoleAssignment).filter_by(person_id=account.person_id).one()
        token = create_token(
            db, account, role, Settings(secret_key="x"), name="t", scopes=["read"], days=1
        ).text
    with _app(sqlite_engine, rate_api_burst=5, rate_api_per_second=0.001) as limited:
        headers = {"Authorization": f"Bearer {token}"}
        codes = [limited.get("/api/v1/ledger/recipients/999", headers=headers).status_code for _ in range(6)]
        assert codes == [404] * 5 + [429]
        bad = {"Authorization": "Bearer stw_0000000000000000_guess"}
        guesses = [limited.get("/api/v1/ledger/recipients/1", headers=bad).status_code for _ in range(6)]
        assert guesses == [401] * 5 + [429]


def test_limiter_refills_and_forgets_old_keys() -> None:
    limiter = Limiter(capacity=2, rate=1.0, max_keys=3)
    assert [limiter.hit("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert limiter.hit("a", now=1.0) == 0.0
    for key in "bcde":
        limiter.hit(key, now=1.0)
    assert len(limiter._buckets) == 3


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_safe_filename_is_always_safe(name: str) -> None:
    safe = safe_filename(name)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", safe)
    assert ".." not in safe
    assert len(safe) <= 120
    assert safe.split(".")[0].lower() not in {"con", "nul", "aux", "prn"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\consent form.pdf", "consent_form.pdf"),
        (".htaccess", "htaccess"),
        ("Résumé élève.PDF", "Resume_eleve.PDF"),
        ("con.txt", "file_con.txt"),
        ("", "file"),
        ("a" * 300 + ".csv", "a" * 116 + ".csv"),
    ],
)
def test_safe_filename_examples(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_uploads_are_checked_by_name_type_content_and_size() -> None:
    pdf = b"%PDF-1.7\n..."
    assert check_upload("consent.pdf", "application/pdf", pdf, 100, DOCUMENTS, 1000).kind is PDF
    assert check_upload("roster.csv", "text/csv", b"a,b\n1,2\n", 8, [CSV], 1000).filename == "roster.csv"
    assert check_upload("r.xlsx", None, b"PK\x03\x04rest", 10, [XLSX], 1000).kind is XLSX
    refusals = [
        ("consent.exe", "application/pdf", pdf, 100, DOCUMENTS),  # extension
        ("consent.pdf", "text/html", pdf, 100, DOCUMENTS),  # declared type
        ("consent.pdf", "application/pdf", b"<html><script>", 100, DOCUMENTS),  # content
        ("consent.pdf", "application/pdf", pdf, 0, DOCUMENTS),  # empty
        ("consent.pdf", "application/pdf", pdf, 10_000, DOCUMENTS),  # size
        ("roster.csv", "text/csv", b"a,b\x00\n", 5, [CSV]),  # NUL in text
        ("roster.csv", "text/csv", b"\xff\xfe\xfa bad utf8 then more text", 30, [CSV]),
    ]
    for name, kind, head, size, kinds in refusals:
        with pytest.raises(UploadRejectedError) as error:
            check_upload(name, kind, head, size, kinds, 1000)
        assert safe_filename(name) in str(error.value)


def test_concurrency_limit_queues_requests_at_the_door() -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from steward.web.security import ConcurrencyLimit

    inside = 0
    peak = 0

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        await asyncio.sleep(0.01)
        inside -= 1

    limited = ConcurrencyLimit(app, limit=3)  # type: ignore[arg-type]

    async def main() -> None:
        await asyncio.gather(*(limited({"type": "http", "path": "/"}, None, None) for _ in range(12)))  # type: ignore[arg-type]

    # A thread of its own: pytest-playwright's session loop may be running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result()
    assert peak == 3
