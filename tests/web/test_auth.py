"""Sign-in, sessions, role choice and persona homes through the real app on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.accounts.models import WebSession
from steward.config import Settings
from steward.web.app import create_app
from tests import factories as f
from tests.web.auth_helpers import csrf_of, sign_in

__all__ = ["sign_in"]


@pytest.fixture
def client(engine: Engine, tmp_path: object) -> Iterator[TestClient]:
    with Session(engine) as db, db.begin():
        district = f.org(db, "d1", "district", "Lakeside District")
        school = f.org(db, "s1", "school", "Cedar Elementary", parent=district)
        f.person(db, "tina", "teacher", school, password="correct horse")
        busy = f.person(db, "pat", "principal", school, password="two roles")
        from steward.store.models import RoleAssignment

        db.add(
            RoleAssignment(
                person_id=busy.id,
                role="district_data_officer",
                organization_id=district.id,
                valid_from=f.EPOCH,
            )
        )
    settings = Settings(database_url=str(engine.url), secret_key="test-secret")
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    return csrf_of(html)


def test_home_requires_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_teacher_signs_in_and_sees_home(client: TestClient) -> None:
    response = sign_in(client, "tina", "correct horse")
    assert response.status_code == 303  # type: ignore[attr-defined]
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome, Tina" in home.text
    assert "teacher" in home.text.lower()
    assert "You have no sections this school year" in home.text
    assert home.headers["content-security-policy"].startswith("default-src 'self'")


def test_wrong_password_and_unknown_user_get_the_same_message(client: TestClient) -> None:
    wrong = sign_in(client, "tina", "nope")
    unknown = sign_in(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401  # type: ignore[attr-defined]
    assert "do not match an active account" in wrong.text  # type: ignore[attr-defined]
    assert "do not match an active account" in unknown.text  # type: ignore[attr-defined]


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"username": "tina", "password": "correct horse", "csrf_token": "x"}
    )
    assert response.status_code == 403


def test_person_with_two_roles_chooses_one(client: TestClient) -> None:
    response = sign_in(client, "pat", "two roles")
    assert response.headers["location"] == "/role"  # type: ignore[attr-defined]
    page = client.get("/role")
    assert "District data officer" in page.text
    role_id = re.findall(r'name="role_assignment_id" value="(\d+)"', page.text)[1]
    chosen = client.post(
        "/role", data={"role_assignment_id": role_id, "csrf_token": _csrf(page.text)}, follow_redirects=False
    )
    assert chosen.status_code == 303
    assert "district data officer" in client.get("/").text.lower()


def test_logout_revokes_the_session(client: TestClient, engine: Engine) -> None:
    sign_in(client, "tina", "correct horse")
    token = client.cookies.get("steward_session")
    home = client.get("/")
    client.post("/logout", data={"csrf_token": _csrf(home.text)})
    client.cookies.set("steward_session", token or "")
    assert client.get("/", follow_redirects=False).status_code == 303
    with Session(engine) as db:
        assert all(s.revoked_at is not None for s in db.scalars(select(WebSession)))


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/api/v1/health").json()
    assert health["status"] == "ok"
    assert health["database"] in {"sqlite", "postgresql"}
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/health" in spec["paths"]
    assert client.get("/api/docs").status_code == 200


def test_not_found_after_sign_in_is_a_404_page(client: TestClient) -> None:
    """An HTTPException raised after the session loaded renders the error page (not a 500)."""
    sign_in(client, "tina", "correct horse")
    response = client.get("/ledger/students/999999", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Not found" in response.text
