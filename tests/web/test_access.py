"""District officer pages: who can see a student, and the tenant settings (tighten, never loosen)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit.models import AuditEvent
from steward.config import Settings
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.store.db import transaction
from steward.store.fact_writer import FactIds, write_facts
from steward.store.models import TenantSettings
from steward.web.app import create_app
from steward.web.deps import LOGIN_CSRF_COOKIE, optional_principal
from tests.policy.scenario import facts

CSRF = "test-csrf-token"


@pytest.fixture
def site(engine: Engine) -> Iterator[tuple[TestClient, FactIds, Callable[[str, Role, str], None]]]:
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    app = create_app(Settings(database_url=str(engine.url), secret_key="test-secret"), engine)

    def act_as(person: str, role: Role, org: str) -> None:
        kind = OrgKind.DISTRICT if org.startswith("d") else OrgKind.SCHOOL
        principal = Principal(ids.people[person], person, role, ids.orgs[org], org, kind, person)
        app.dependency_overrides[optional_principal] = lambda: principal

    with TestClient(app) as client:
        client.cookies.set(LOGIN_CSRF_COOKIE, CSRF)
        yield client, ids, act_as


def test_officer_sees_who_can_see_a_student(
    site: tuple[TestClient, FactIds, Callable[[str, Role, str], None]],
) -> None:
    client, _, act_as = site
    act_as("o1", Role.DISTRICT_DATA_OFFICER, "d1")
    page = client.get("/access")
    assert page.status_code == 200
    assert "Who can see a student" in page.text
    result = client.get("/access", params={"student": "d1:st1", "at": "2025-10-15T10:00"})
    assert result.status_code == 200
    assert 'data-testid="who-can-see"' in result.text
    assert "school official" in result.text
    assert "consent:c1" in result.text
    assert "Anyone: directory information" in result.text


@pytest.mark.parametrize("student", ["d1:nobody", "d2:st1", "999999"])
def test_officer_page_404_for_students_outside_the_district(
    site: tuple[TestClient, FactIds, Callable[[str, Role, str], None]], student: str
) -> None:
    client, _, act_as = site
    act_as("o1", Role.DISTRICT_DATA_OFFICER, "d1")
    assert client.get("/access", params={"student": student}).status_code == 404


def test_other_district_officer_gets_404(
    site: tuple[TestClient, FactIds, Callable[[str, Role, str], None]],
) -> None:
    client, _, act_as = site
    act_as("o1", Role.DISTRICT_DATA_OFFICER, "d2")
    response = client.get("/access", params={"student": "d1:st1"})
    assert response.status_code == 404
    assert "school official" not in response.text


def test_pages_are_for_officers_only(
    site: tuple[TestClient, FactIds, Callable[[str, Role, str], None]],
) -> None:
    client, _, act_as = site
    act_as("t1", Role.TEACHER, "s1")
    assert client.get("/access", params={"student": "d1:st1"}).status_code == 403
    assert client.get("/settings/policy").status_code == 403
    assert client.post("/settings/policy", data={"csrf_token": CSRF}).status_code == 403


def _form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": CSRF,
        "timezone": "America/Los_Angeles",
        "floor_year": "2010",
        "suppression_threshold": "10",
        "k_anonymity": "10",
        "emergency_window_hours": "24",
        "max_research_years": "3",
        "destruction_days": "45",
        "directory_elements": ["name", "grade_level"],
        "research_identifiable_requires_consent": "on",
        "kind_partner": ["attendance", "grades"],
        "kind_vendor": ["directory", "enrollment", "schedule"],
    }
    data.update(changes)
    return data


def test_officer_tightens_settings_and_a_loosening_is_refused(
    site: tuple[TestClient, FactIds, Callable[[str, Role, str], None]], engine: Engine
) -> None:
    client, ids, act_as = site
    act_as("o1", Role.DISTRICT_DATA_OFFICER, "d1")
    page = client.get("/settings/policy")
    assert page.status_code == 200
    assert 'name="suppression_threshold" value="10"' in page.text
    saved = client.post("/settings/policy", data=_form(suppression_threshold="15"), follow_redirects=False)
    assert saved.status_code == 303
    again = client.get(saved.headers["location"])
    assert 'data-testid="saved"' in again.text
    assert 'name="suppression_threshold" value="15"' in again.text
    with Session(engine) as db:
        row = db.get(TenantSettings, ids.orgs["d1"])
        assert row is not None
        assert row.suppression_threshold == 15
        assert row.directory_elements == ["name", "grade_level"]
        assert row.extra["kind_datasets"]["partner"] == ["attendance", "grades"]
        assert "tenant.settings.changed" in db.scalars(select(AuditEvent.action)).all()
    refused = client.post("/settings/policy", data=_form(suppression_threshold="5"))
    assert refused.status_code == 422
    assert "below 10" in refused.text
    vendor = client.post("/settings/policy", data=_form(kind_vendor=["grades"]))
    assert vendor.status_code == 422
    assert "may never receive" in vendor.text
    bad_zone = client.post("/settings/policy", data=_form(timezone="Mars/Olympus"))
    assert bad_zone.status_code == 422
    with Session(engine) as db:
        row = db.get(TenantSettings, ids.orgs["d1"])
        assert row is not None
        assert row.suppression_threshold == 15


def test_settings_change_applies_to_the_next_decision(
    site: tuple[TestClient, FactIds, Callable[[str, Role, str], None]],
) -> None:
    client, ids, act_as = site
    act_as("o1", Role.DISTRICT_DATA_OFFICER, "d1")
    client.post("/settings/policy", data=_form(kind_partner=["grades"]), follow_redirects=False)
    act_as("w1", Role.PARTNER_STAFF, "cbo1")
    (decision,) = client.post(
        "/api/v1/decisions",
        json={
            "checks": [{"student": ids.students["st1"], "dataset": "attendance"}],
            "at": "2025-10-15T17:00:00Z",
        },
    ).json()["decisions"]
    assert decision["allowed"] is False
    assert any("does not share attendance" in m for m in decision["missing"])


def test_settings_need_the_csrf_token(
    site: tuple[TestClient, FactIds, Callable[[str, Role, str], None]],
) -> None:
    client, _, act_as = site
    act_as("o1", Role.DISTRICT_DATA_OFFICER, "d1")
    assert client.post("/settings/policy", data=_form(csrf_token="wrong")).status_code == 403
