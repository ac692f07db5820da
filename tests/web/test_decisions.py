"""Decisions API: batch checks, the caller's students (cursor paged), who can see (officers), and
IDOR: changing a student id in a URL gives 404 for students the caller may not see."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

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
from steward.web.app import create_app
from steward.web.deps import optional_principal
from tests.policy.scenario import facts

NOW = "2025-10-15T17:00:00Z"

AS: dict[str, tuple[Role, str, OrgKind]] = {
    "t1": (Role.TEACHER, "s1", OrgKind.SCHOOL),
    "pr1": (Role.PRINCIPAL, "s1", OrgKind.SCHOOL),
    "w1": (Role.PARTNER_STAFF, "cbo1", OrgKind.PARTNER),
    "o1": (Role.DISTRICT_DATA_OFFICER, "d1", OrgKind.DISTRICT),
    "r2": (Role.REGISTRAR, "d2", OrgKind.DISTRICT),
    "p1": (Role.PARENT, "d1", OrgKind.DISTRICT),
    "x1": (Role.PUBLIC, "d1", OrgKind.DISTRICT),
}


@pytest.fixture
def world(engine: Engine) -> Iterator[tuple[TestClient, FactIds, Callable[[str], None]]]:
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    app = create_app(Settings(database_url=str(engine.url), secret_key="test-secret"), engine)
    client = TestClient(app)

    def act_as(person: str) -> None:
        role, org, kind = AS[person]
        principal = Principal(ids.people[person], person, role, ids.orgs[org], org, kind, person)
        app.dependency_overrides[optional_principal] = lambda: principal

    with client:
        yield client, ids, act_as


def _decide(client: TestClient, checks: list[dict[str, object]]) -> list[dict[str, object]]:
    response = client.post("/api/v1/decisions", json={"checks": checks, "at": NOW})
    assert response.status_code == 200, response.text
    decisions: list[dict[str, object]] = response.json()["decisions"]
    return decisions


def test_batch_decisions_explain_themselves(world: tuple[TestClient, FactIds, Callable[[str], None]]) -> None:
    client, ids, act_as = world
    act_as("w1")
    st1 = ids.students["st1"]
    allowed, denied, by_code, stranger, unknown = _decide(
        client,
        [
            {"student": st1, "dataset": "attendance"},
            {"student": st1, "dataset": "discipline"},
            {"student": "d1:st1", "dataset": "attendance", "form": "aggregate"},
            {"student": ids.students["st3"], "dataset": "attendance"},
            {"student": "d1:nobody", "dataset": "attendance"},
        ],
    )
    assert allowed["allowed"] is True
    assert allowed["basis"] == "consent"
    assert allowed["citation"] == "34 CFR 99.30"
    assert "consent:c1" in allowed["evidence"]  # type: ignore[operator]
    assert {o["kind"] for o in allowed["obligations"]} >= {"redisclosure_notice", "encrypt"}  # type: ignore[attr-defined]
    assert denied["allowed"] is False
    assert any("no consent" in m for m in denied["missing"])  # type: ignore[attr-defined]
    assert by_code["allowed"] is True
    assert by_code["student"] == "d1:st1"
    # Nothing of st3 is visible to w1, and d1:nobody does not exist: the same answer for both.
    assert stranger["missing"] == unknown["missing"] == ["you may not see any record of this student"]
    assert stranger["evidence"] == unknown["evidence"] == []


def test_batch_limits_and_validation(world: tuple[TestClient, FactIds, Callable[[str], None]]) -> None:
    client, ids, act_as = world
    act_as("t1")
    assert client.post("/api/v1/decisions", json={"checks": []}).status_code == 422
    bad = client.post("/api/v1/decisions", json={"checks": [{"student": 1, "dataset": "gossip"}]})
    assert bad.status_code == 422
    many = [{"student": ids.students["st1"], "dataset": "grades"}] * 1000
    assert all(d["allowed"] for d in _decide(client, many))


def test_students_visible_to_the_caller(world: tuple[TestClient, FactIds, Callable[[str], None]]) -> None:
    client, ids, act_as = world
    act_as("t1")
    page = client.get("/api/v1/students", params={"at": NOW}).json()
    assert [s["id"] for s in page["students"]] == [ids.students["st1"]]
    assert page["students"][0]["code"] == "d1:st1"
    assert page["students"][0]["datasets"]["grades"] == "school_official"
    assert page["next_cursor"] is None
    act_as("x1")
    assert client.get("/api/v1/students", params={"at": NOW}).json()["students"] == []
    everyone = client.get("/api/v1/students", params={"at": NOW, "directory": "true", "limit": 1})
    first = everyone.json()
    assert len(first["students"]) == 1
    assert first["next_cursor"]
    assert first["students"][0]["datasets"] == {"directory": "directory_information"}
    second = client.get(
        "/api/v1/students",
        params={"at": NOW, "directory": "true", "limit": 1, "cursor": first["next_cursor"]},
    ).json()
    assert second["students"][0]["id"] > first["students"][0]["id"]
    assert client.get("/api/v1/students", params={"cursor": "nonsense"}).status_code == 422


@pytest.mark.parametrize("person", ["t1", "pr1", "w1", "p1", "x1", "r2"])
def test_idor_changing_the_student_id_gives_404(
    world: tuple[TestClient, FactIds, Callable[[str], None]], person: str
) -> None:
    client, ids, act_as = world
    act_as(person)
    visible = {s["id"] for s in client.get("/api/v1/students", params={"at": NOW}).json()["students"]}
    for student, sid in ids.students.items():
        response = client.get(f"/api/v1/students/{sid}", params={"at": NOW})
        if sid in visible:
            assert response.status_code == 200, (person, student)
            assert response.json()["id"] == sid
        else:
            assert response.status_code == 404, (person, student, response.text)
            assert response.json() == {"detail": "no such student"}
    assert client.get("/api/v1/students/999999", params={"at": NOW}).status_code == 404


def test_who_can_see_is_for_the_districts_officer_only(
    world: tuple[TestClient, FactIds, Callable[[str], None]], engine: Engine
) -> None:
    client, ids, act_as = world
    st1 = ids.students["st1"]
    act_as("o1")
    response = client.get(f"/api/v1/students/{st1}/access", params={"at": NOW})
    assert response.status_code == 200, response.text
    result = response.json()
    seen = {(a["person"], a["dataset"], a["basis"]) for a in result["access"]}
    assert ("t1", "grades", "school_official") in seen
    assert ("w1", "attendance", "consent") in seen
    past = client.get(f"/api/v1/students/{st1}/access", params={"at": "2025-03-01T12:00:00-08:00"}).json()
    assert ("t2", "grades", "school_official") in {
        (a["person"], a["dataset"], a["basis"]) for a in past["access"]
    }
    with Session(engine) as db:
        actions = db.scalars(select(AuditEvent.action)).all()
    assert "access.who_can_see" in actions
    for person in ("t1", "pr1", "w1", "p1"):
        act_as(person)
        assert client.get(f"/api/v1/students/{st1}/access").status_code == 403
    act_as("o1")
    assert client.get("/api/v1/students/999999/access").status_code == 404


def test_api_requires_sign_in(engine: Engine) -> None:
    app = create_app(Settings(database_url=str(engine.url), secret_key="test-secret"), engine)
    with TestClient(app) as client:
        assert client.get("/api/v1/students").status_code == 401
        assert (
            client.post(
                "/api/v1/decisions", json={"checks": [{"student": 1, "dataset": "grades"}]}
            ).status_code
            == 401
        )


def test_openapi_documents_the_routes(world: tuple[TestClient, FactIds, Callable[[str], None]]) -> None:
    client, _, _ = world
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/v1/decisions", "/api/v1/students", "/api/v1/students/{student_id}/access"} <= set(paths)


def test_a_revocation_applies_to_the_very_next_decision(
    world: tuple[TestClient, FactIds, Callable[[str], None]], engine: Engine
) -> None:
    """Nothing is cached: the decision after the revocation's commit denies."""
    from steward.workflow.models import Consent

    client, ids, act_as = world
    act_as("w1")
    check = {"student": ids.students["st1"], "dataset": "attendance"}
    assert _decide(client, [check])[0]["allowed"] is True
    with Session(engine) as db, db.begin():
        consent = db.scalars(select(Consent).where(Consent.code == "c1")).one()
        consent.status = "revoked"
        consent.valid_to = datetime.fromisoformat("2025-10-15T16:59:59+00:00")
    (after,) = _decide(client, [check])
    assert after["allowed"] is False
    assert any("consent c1 expired" in m for m in after["missing"])  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/students/{ids.students['st1']}", params={"at": NOW}).status_code == 404
