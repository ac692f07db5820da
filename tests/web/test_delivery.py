"""Delivery over HTTP: links made by the officer, one download, certificates from the recipient."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from steward.config import Settings
from steward.delivery.destruction import end_agreement
from steward.delivery.packages import release
from steward.store.db import transaction
from steward.store.models import Organization
from steward.web.app import create_app
from tests import factories as f
from tests.delivery.conftest import World, make_world
from tests.web.test_auth import sign_in

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """HTTP behaviour does not depend on the database (SQLite only)."""
    return sqlite_engine


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    w = make_world(engine, tmp_path)
    with transaction(engine) as db:
        district = db.get(Organization, w.district)
        partner = db.get(Organization, w.partner)
        assert district is not None
        assert partner is not None
        f.person(db, "olga", "district_data_officer", district, password="officer pass")
        f.person(db, "pete", "partner_staff", partner, password="partner pass")
        release(db, w.data_dir, w.request())
    return w


@pytest.fixture
def client(engine: Engine, world: World) -> Iterator[TestClient]:
    settings = Settings(database_url=str(engine.url), secret_key="test-secret", data_dir=world.data_dir)
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


def _csrf(client: TestClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert match
    return match.group(1)


def test_officer_link_downloads_once(client: TestClient, world: World) -> None:
    sign_in(client, "olga", "officer pass")
    [package] = client.get("/api/v1/delivery/packages").json()
    refused = client.post(f"/api/v1/delivery/packages/{package['id']}/links", json={"hours": 2})
    assert refused.status_code == 403  # no CSRF header
    made = client.post(
        f"/api/v1/delivery/packages/{package['id']}/links",
        json={"hours": 2},
        headers={"X-CSRF-Token": _csrf(client)},
    )
    assert made.status_code == 200, made.text
    url = made.json()["url"]
    client.cookies.clear()
    first = client.get(url)
    assert first.status_code == 200
    assert len(first.content) == package["size"]
    assert "attachment" in first.headers["content-disposition"]
    second = client.get(url)
    assert second.status_code == 410


def test_recipient_uploads_a_certificate(client: TestClient, engine: Engine, world: World) -> None:
    with transaction(engine) as db:
        end_agreement(db, world.data_dir, world.agreement)
    sign_in(client, "pete", "partner pass")
    [task] = client.get("/api/v1/delivery/destruction").json()
    assert task["status"] == "open"
    assert client.get("/api/v1/delivery/packages").json()[0]["status"] == "shredded"
    response = client.post(
        f"/api/v1/delivery/destruction/{task['id']}/certificate",
        files={"certificate": ("certificate.pdf", b"%PDF-1.4 signed", "application/pdf")},
        data={"signer_name": "Pete Tester", "signer_title": "Director", "destroyed_on": YESTERDAY},
        headers={"X-CSRF-Token": _csrf(client)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "certified"
    again = client.post(
        f"/api/v1/delivery/destruction/{task['id']}/certificate",
        files={"certificate": ("certificate.pdf", b"%PDF-1.4 signed", "application/pdf")},
        data={"signer_name": "Pete Tester", "destroyed_on": YESTERDAY},
        headers={"X-CSRF-Token": _csrf(client)},
    )
    assert again.status_code == 422
    assert "already certified" in again.text


def _token(engine: Engine, username: str, scopes: list[str]) -> str:
    from steward.accounts.tokens import create_token
    from steward.store.models import Account, RoleAssignment

    with transaction(engine) as db:
        account = db.query(Account).filter_by(username=username).one()
        role = db.query(RoleAssignment).filter_by(person_id=account.person_id).one()
        return create_token(
            db, account, role, Settings(secret_key="test-secret"), name="sis", scopes=scopes, days=1
        ).text


def test_bearer_calls_need_no_csrf_token_and_cookie_calls_still_do(
    client: TestClient, engine: Engine, world: World
) -> None:
    bearer = {"Authorization": f"Bearer {_token(engine, 'olga', ['write'])}"}
    [package] = client.get("/api/v1/delivery/packages", headers=bearer).json()
    made = client.post(f"/api/v1/delivery/packages/{package['id']}/links", json={"hours": 2}, headers=bearer)
    assert made.status_code == 200, made.text
    revoked = client.post(f"/api/v1/delivery/links/{made.json()['id']}/revoke", headers=bearer)
    assert revoked.status_code == 204, revoked.text
    # A token must be valid: a wrong one is a 401 even with a signed-in session's cookie beside it.
    sign_in(client, "olga", "officer pass")
    wrong = {"Authorization": "Bearer stw_0000000000000000_guess"}
    guessed = client.post(f"/api/v1/delivery/packages/{package['id']}/links", json={}, headers=wrong)
    assert guessed.status_code == 401
    # The cookie session alone still needs the CSRF header.
    cookie = client.post(f"/api/v1/delivery/packages/{package['id']}/links", json={"hours": 2})
    assert cookie.status_code == 403
    assert "X-CSRF-Token" in cookie.text
    read_only = {"Authorization": f"Bearer {_token(engine, 'olga', ['read'])}"}
    scoped = client.post(f"/api/v1/delivery/packages/{package['id']}/links", json={}, headers=read_only)
    assert scoped.status_code == 403
    assert "scopes" in scoped.text


def test_recipient_uploads_a_certificate_with_a_token(
    client: TestClient, engine: Engine, world: World
) -> None:
    with transaction(engine) as db:
        end_agreement(db, world.data_dir, world.agreement)
    bearer = {"Authorization": f"Bearer {_token(engine, 'pete', ['delivery:write'])}"}
    [task] = client.get("/api/v1/delivery/destruction", headers=bearer).json()
    response = client.post(
        f"/api/v1/delivery/destruction/{task['id']}/certificate",
        files={"certificate": ("certificate.pdf", b"%PDF-1.4 signed", "application/pdf")},
        data={"signer_name": "Pete Tester", "destroyed_on": YESTERDAY},
        headers=bearer,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "certified"


def test_certificate_uploads_are_checked_and_named_safely(
    client: TestClient, engine: Engine, world: World
) -> None:
    from steward.delivery.models import DestructionTask

    with transaction(engine) as db:
        end_agreement(db, world.data_dir, world.agreement)
    bearer = {"Authorization": f"Bearer {_token(engine, 'pete', ['delivery:write'])}"}
    [task] = client.get("/api/v1/delivery/destruction", headers=bearer).json()
    url = f"/api/v1/delivery/destruction/{task['id']}/certificate"
    form = {"signer_name": "Pete Tester", "destroyed_on": YESTERDAY}
    for upload, message in (
        (
            ("certificate.pdf", b"I destroyed it", "application/pdf"),
            "certificate.pdf: the content is not a PDF",
        ),
        (("certificate.pdf", b"%PDF-1.4 signed", "text/html"), "certificate.pdf: declared as text/html"),
        (("certificate.exe", b"MZ", "application/octet-stream"), "certificate.exe: only"),
        (("certificate.txt", b"signed\x00", "text/plain"), "must not contain NUL"),
    ):
        refused = client.post(url, files={"certificate": upload}, data=form, headers=bearer)
        assert refused.status_code == 422, upload[0]
        assert message in str(refused.json()["detail"])
    accepted = client.post(
        url,
        files={
            "certificate": (
                "../../etc/Zertifikat f\u00fcr Tr\u00e4ger.pdf",
                b"%PDF-1.4 signed",
                "application/pdf",
            )
        },
        data=form,
        headers=bearer,
    )
    assert accepted.status_code == 200, accepted.text
    with transaction(engine) as db:
        stored = db.get(DestructionTask, task["id"])
        assert stored is not None
        assert stored.certificate_name == "Zertifikat_fur_Trager.pdf"
