"""Single sign-on against a real (small) OpenID provider on 127.0.0.1, through the app's pages."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.accounts.models import OidcIdentity, WebSession
from steward.accounts.oidc import add_provider
from steward.audit.models import AuditEvent
from steward.config import Settings
from steward.store.db import transaction
from steward.web.app import create_app
from tests.accounts.oidc_provider import FakeIdentityProvider, RunningProvider
from tests.accounts.world import build
from tests.web.auth_helpers import complete_mfa, totp_secret


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeIdentityProvider]:
    with RunningProvider(FakeIdentityProvider()) as provider:
        yield provider


@pytest.fixture
def client(sqlite_engine: Engine, idp: FakeIdentityProvider) -> Iterator[TestClient]:
    settings = Settings(database_url=str(sqlite_engine.url), secret_key="sso-test", login_failure_floor_ms=0)
    with transaction(sqlite_engine) as db:
        world = build(db)
        for person, email in (
            (world.teacher, "tina@lakeside.example"),
            (world.officer, "olga@lakeside.example"),
        ):
            db.merge(person).email = email
        add_provider(
            db,
            settings,
            slug="lakeside",
            district_id=world.district.id,
            display_name="Lakeside Google",
            discovery_url=idp.discovery_url,
            client_id=idp.client_id,
            client_secret=idp.client_secret,
        )
    idp.tamper = None
    with TestClient(create_app(settings, sqlite_engine)) as test_client:
        yield test_client


def _sso(
    client: TestClient, idp: FakeIdentityProvider, claims: dict[str, object], slug: str = "lakeside"
) -> httpx.Response:
    """Walk the redirects: app -> provider (real HTTP) -> app callback."""
    idp.user = claims
    start = client.get(f"/sso/{slug}?next=/", follow_redirects=False)
    assert start.status_code == 303, start.text
    location = start.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"]
    assert query["state"]
    back = httpx.get(location, follow_redirects=False)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_login_page_offers_the_provider(client: TestClient) -> None:
    assert "Sign in with Lakeside Google" in client.get("/login").text


def test_first_sign_in_links_by_verified_email_then_by_subject(
    client: TestClient, idp: FakeIdentityProvider, sqlite_engine: Engine
) -> None:
    done = _sso(client, idp, {"sub": "g-123", "email": "TINA@lakeside.example", "email_verified": True})
    assert done.status_code == 303
    assert done.headers["location"].startswith("/mfa/setup")  # a teacher needs a second factor too
    assert complete_mfa(client, done, "tina").headers["location"] == "/"
    assert "Welcome, Tina" in client.get("/").text
    with Session(sqlite_engine) as db:
        identity = db.scalar(select(OidcIdentity))
        assert identity is not None
        assert identity.subject == "g-123"
        assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "sso.link")) is not None
        session = db.scalar(select(WebSession).where(WebSession.revoked_at.is_(None)))
        assert session is not None
        assert session.auth_method == "sso"
    client.cookies.clear()
    again = _sso(client, idp, {"sub": "g-123", "email": "other@example.org", "email_verified": False})
    assert again.headers["location"].startswith("/mfa?")
    assert complete_mfa(client, again, "tina").headers["location"] == "/"


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "g-1", "email": "tina@lakeside.example", "email_verified": False},
        {"sub": "g-2", "email": "nobody@lakeside.example", "email_verified": True},
        {"sub": "g-3"},
    ],
)
def test_unknown_or_unverified_identity_is_refused(
    client: TestClient, idp: FakeIdentityProvider, claims: dict[str, object]
) -> None:
    refused = _sso(client, idp, claims)
    assert refused.status_code == 401
    assert "Single sign-on did not work" in refused.text
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("tamper", ["nonce", "aud", "iss", "expired", "other_key", "alg_none", "no_id_token"])
def test_a_bad_id_token_is_refused(client: TestClient, idp: FakeIdentityProvider, tamper: str) -> None:
    idp.tamper = tamper
    refused = _sso(client, idp, {"sub": "g-9", "email": "tina@lakeside.example", "email_verified": True})
    assert refused.status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303


def test_state_must_match_the_browsers_pending_login(client: TestClient, idp: FakeIdentityProvider) -> None:
    idp.user = {"sub": "g-5", "email": "tina@lakeside.example", "email_verified": True}
    start = client.get("/sso/lakeside", follow_redirects=False)
    back = httpx.get(start.headers["location"], follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    code = parse_qs(callback.query)["code"][0]
    forged = client.get(f"{callback.path}?code={code}&state=forged", follow_redirects=False)
    assert forged.status_code == 401
    client.cookies.delete("steward_sso", path="/sso")
    # Login CSRF: a victim's browser without the pending-login cookie cannot be fed an attacker's code.
    fresh = TestClient(client.app)
    assert fresh.get(f"{callback.path}?{callback.query}", follow_redirects=False).status_code == 401


def test_unknown_provider_is_404(client: TestClient) -> None:
    assert client.get("/sso/nope", follow_redirects=False).status_code == 404


def test_officer_still_needs_a_second_factor_after_sso(
    client: TestClient, idp: FakeIdentityProvider, sqlite_engine: Engine
) -> None:
    done = _sso(client, idp, {"sub": "g-olga", "email": "olga@lakeside.example", "email_verified": True})
    assert done.headers["location"].startswith("/mfa/setup")
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/mfa/setup")
    with pytest.raises(AssertionError):
        totp_secret(client, "olga")  # nothing enrolled yet: the officer cannot skip the step
