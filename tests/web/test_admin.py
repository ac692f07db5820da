"""An officer's account pages: invite (link sets the password), suspend, reactivate, remove, grant and
end roles; every form needs its CSRF token, other districts' accounts answer 404."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit.models import AuditEvent
from steward.config import Settings
from steward.store.db import transaction
from steward.store.models import Account
from steward.web.app import create_app
from tests.accounts.world import World, build
from tests.web.auth_helpers import csrf_of, sign_in


@pytest.fixture
def world(sqlite_engine: Engine) -> World:
    with transaction(sqlite_engine) as db:
        return build(db)


@pytest.fixture
def app_settings(sqlite_engine: Engine) -> Settings:
    return Settings(database_url=str(sqlite_engine.url), secret_key="admin-pages", login_failure_floor_ms=0)


@pytest.fixture
def officer(sqlite_engine: Engine, world: World, app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings, sqlite_engine)) as client:
        assert sign_in(client, "olga", "officer pass 1").headers["location"] == "/"
        yield client


def _account_id(engine: Engine, username: str) -> int:
    with Session(engine) as db:
        account_id = db.scalar(select(Account.id).where(Account.username == username))
        assert account_id is not None
        return account_id


def test_invite_accept_sign_in(officer: TestClient, world: World, sqlite_engine: Engine) -> None:
    listing = officer.get("/admin/accounts")
    assert "tina" in listing.text
    assert "otto" not in listing.text  # another district's officer
    form = officer.get("/admin/invite")
    created = officer.post(
        "/admin/invite",
        data={
            "csrf_token": csrf_of(form.text),
            "username": "Nina",
            "given_name": "Nina",
            "family_name": "New",
            "email": "nina@example.org",
            "role": "counselor",
            "organization_id": str(world.school.id),
            "valid_from": "",
            "valid_to": "2031-06-30",
            "agreement_id": "",
        },
    )
    assert created.status_code == 200, created.text
    link = re.search(r'data-testid="invitation-link">([^<]+)<', created.text)
    assert link
    path = link.group(1).split("testserver", 1)[1]
    newcomer = TestClient(officer.app)
    page = newcomer.get(path)
    assert "Choose a password for <strong>nina</strong>" in page.text
    mismatch = newcomer.post(
        path,
        data={"csrf_token": csrf_of(page.text), "password": "long enough words", "confirm": "other words!!"},
    )
    assert mismatch.status_code == 400
    accepted = newcomer.post(
        path,
        data={
            "csrf_token": csrf_of(mismatch.text),
            "password": "long enough words",
            "confirm": "long enough words",
        },
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == "/login?welcome=1"
    assert newcomer.get(path).status_code == 404  # the link works once
    # A counselor is district staff: the first sign-in asks for an authenticator app.
    assert sign_in(newcomer, "nina", "long enough words").headers["location"] == "/"
    assert "counselor" in newcomer.get("/").text.lower()


def test_suspend_ends_sessions_and_reactivate(
    officer: TestClient, world: World, sqlite_engine: Engine, app_settings: Settings
) -> None:
    teacher = TestClient(officer.app)
    sign_in(teacher, "tina", "teacher pass 1")
    assert teacher.get("/").status_code == 200
    tina = _account_id(sqlite_engine, "tina")
    page = officer.get(f"/admin/accounts/{tina}")
    assert (
        officer.post(f"/admin/accounts/{tina}/suspend", data={"csrf_token": csrf_of(page.text)}).status_code
        == 200
    )
    assert "suspended" in officer.get(f"/admin/accounts/{tina}").text
    assert teacher.get("/", follow_redirects=False).status_code == 303  # signed out at once
    assert sign_in(teacher, "tina", "teacher pass 1").status_code == 401
    officer.post(f"/admin/accounts/{tina}/reactivate", data={"csrf_token": csrf_of(page.text)})
    assert sign_in(teacher, "tina", "teacher pass 1").status_code == 303
    with Session(sqlite_engine) as db:
        actions = set(db.scalars(select(AuditEvent.action)))
    assert {"account.suspend", "account.reactivate"} <= actions


def test_grant_and_end_roles(officer: TestClient, world: World, sqlite_engine: Engine) -> None:
    pam = _account_id(sqlite_engine, "pam")
    page = officer.get(f"/admin/accounts/{pam}")
    refused = officer.post(
        f"/admin/accounts/{pam}/roles",
        data={
            "csrf_token": csrf_of(page.text),
            "role": "partner_staff",
            "organization_id": str(world.partner.id),
        },
    )
    assert refused.status_code == 400
    assert "needs one of your district" in refused.text
    granted = officer.post(
        f"/admin/accounts/{pam}/roles",
        data={
            "csrf_token": csrf_of(page.text),
            "role": "partner_staff",
            "organization_id": str(world.partner.id),
            "agreement_id": str(world.agreement.id),
        },
    )
    assert granted.status_code == 200
    assert "DSA-1" in granted.text
    role_ids = re.findall(r'action="/admin/roles/(\d+)/end"', granted.text)
    assert len(role_ids) == 2
    ended = officer.post(
        f"/admin/roles/{role_ids[-1]}/end", data={"csrf_token": csrf_of(page.text), "on": ""}
    )
    assert ended.status_code == 200
    assert len(re.findall(r'action="/admin/roles/(\d+)/end"', ended.text)) == 1
    bad_date = officer.post(
        f"/admin/roles/{role_ids[0]}/end", data={"csrf_token": csrf_of(page.text), "on": "June"}
    )
    assert bad_date.status_code == 400


def test_other_district_and_other_roles_get_nothing(
    officer: TestClient, world: World, sqlite_engine: Engine
) -> None:
    otto = _account_id(sqlite_engine, "otto")
    page = officer.get("/admin/accounts")
    token = csrf_of(page.text)
    assert officer.get(f"/admin/accounts/{otto}").status_code == 404
    assert officer.post(f"/admin/accounts/{otto}/suspend", data={"csrf_token": token}).status_code == 404
    assert officer.get("/admin/accounts/999999").status_code == 404
    teacher = TestClient(officer.app)
    sign_in(teacher, "tina", "teacher pass 1")
    home = teacher.get("/")
    for path in ("/admin/accounts", "/admin/invite", f"/admin/accounts/{otto}"):
        assert teacher.get(path).status_code == 403, path
    tina = _account_id(sqlite_engine, "tina")
    assert (
        teacher.post(f"/admin/accounts/{tina}/remove", data={"csrf_token": csrf_of(home.text)}).status_code
        == 403
    )
