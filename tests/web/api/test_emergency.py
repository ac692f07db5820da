"""Break-glass API: the district's data officer records an emergency and the decisions API then
allows under 99.36 with it as evidence; everyone else is refused (403 naming what is missing, and
the attempt is logged); ending it stops access; reading records under it writes the 99.32 line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit.models import DisclosureEntry
from steward.config import Settings
from steward.store.models import Student
from steward.web.api.delivery import api_csrf
from steward.web.app import create_app
from steward.web.deps import optional_principal
from tests.products.portal.conftest import World, principal_of
from tests.products.portal.conftest import portal_data as portal_data
from tests.products.portal.conftest import sqlite_world as sqlite_world
from tests.web.api.conftest import Api

THREAT = "A parent reported a credible threat of self-harm; the crisis team needs the 504 plan now."


def _record(api: Api, student: object, threat: str = THREAT) -> tuple[int, dict[str, object]]:
    response = api.client.post("/api/v1/emergencies", json={"student": student, "threat": threat})
    return response.status_code, response.json()


def _no_instant(text: object) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:+]+", "INSTANT", str(text))


def _discipline(api: Api, student: int) -> dict[str, object]:
    response = api.client.post(
        "/api/v1/decisions", json={"checks": [{"student": student, "dataset": "discipline"}]}
    )
    assert response.status_code == 200, response.text
    decision: dict[str, object] = response.json()["decisions"][0]
    return decision


def test_officer_breaks_the_glass_and_the_engine_allows_with_the_record(api: Api) -> None:
    st1 = api.ids.students["st1"]
    api.act_as("o1")
    assert _discipline(api, st1)["allowed"] is False
    code, body = _record(api, "d1:st1")
    assert code == 201, body
    assert body["student"] == st1
    assert body["student_code"] == "d1:st1"
    assert body["in_force"] is True
    assert body["threat"] == THREAT
    decision = _discipline(api, st1)
    assert decision["allowed"] is True
    assert decision["basis"] == "health_safety_emergency"
    assert f"emergency:{body['id']}" in decision["evidence"]  # type: ignore[operator]
    (event,) = api.events("break_glass")
    assert event["outcome"] == "ok"
    assert event["actor_person"] == api.ids.people["o1"]
    assert event["subjects"] == [str(st1)]
    assert event["details"]["threat"] == THREAT  # type: ignore[index]
    listed = api.client.get("/api/v1/emergencies").json()
    assert [e["id"] for e in listed] == [body["id"]]
    # Ending it stops access at once.
    ended = api.client.post(f"/api/v1/emergencies/{body['id']}/end")
    assert ended.status_code == 200, ended.text
    assert ended.json()["in_force"] is False
    assert _discipline(api, st1)["allowed"] is False
    assert api.client.post(f"/api/v1/emergencies/{body['id']}/end").status_code == 409


@pytest.mark.parametrize("person", ["t1", "pr1", "w1", "p1", "r2"])
def test_everyone_else_is_refused_with_what_is_missing_and_logged(api: Api, person: str) -> None:
    api.act_as(person)
    code, body = _record(api, api.ids.students["st1"])
    assert code == 403
    assert "not acting as a district data officer" in str(body["detail"])
    # The same answer for a student that does not exist: no existence oracle.
    again, other = _record(api, "d1:nobody")
    assert again == code
    assert _no_instant(other["detail"]) == _no_instant(body["detail"])
    (event,) = api.events("break_glass")
    assert event["outcome"] == "denied"
    assert event["actor_person"] == api.ids.people[person]
    assert api.client.get("/api/v1/emergencies").status_code == 403
    assert api.client.get("/api/v1/emergencies/1").status_code == 403


def test_unknown_students_empty_threats_and_foreign_emergencies(api: Api) -> None:
    api.act_as("o1")
    assert _record(api, "d1:nobody") == (404, {"detail": "no such student in your district"})
    code, body = _record(api, "d1:st1", "   ")
    assert code == 422
    assert [p["field"] for p in body["detail"]] == ["threat"]  # type: ignore[union-attr,index]
    assert _record(api, "d1:st1", "")[0] == 422
    assert api.events("break_glass") == []
    assert api.client.get("/api/v1/emergencies/999").status_code == 404


def test_records_need_a_readable_source(api: Api) -> None:
    api.act_as("o1")
    code, body = _record(api, "d1:st1")
    assert code == 201
    response = api.client.get(f"/api/v1/emergencies/{body['id']}/records")
    assert response.status_code == 503
    assert "cannot be read" in response.json()["detail"]
    with Session(api.engine) as db:
        assert db.scalars(select(DisclosureEntry)).all() == []  # nothing left, nothing recorded


@pytest.fixture
def officer_client(sqlite_world: World) -> Iterator[tuple[TestClient, World, int]]:
    """The generated region, signed in as its data officer, with a student of their district."""
    with Session(sqlite_world.engine) as db:
        officer = principal_of(db, "officer")
        student = db.scalar(
            select(Student.id).where(Student.district_id == officer.organization_id).order_by(Student.id)
        )
    assert student is not None
    settings = Settings(
        database_url=str(sqlite_world.engine.url),
        data_dir=Path(sqlite_world.data_dir),
        secret_key="test-secret",
    )
    app = create_app(settings, sqlite_world.engine)
    app.dependency_overrides[optional_principal] = lambda: officer
    app.dependency_overrides[api_csrf] = lambda: None
    with TestClient(app) as client:
        yield client, sqlite_world, student


def test_records_read_under_the_emergency_are_a_ledger_line(
    officer_client: tuple[TestClient, World, int],
) -> None:
    client, world, student = officer_client
    created = client.post(
        "/api/v1/emergencies", json={"student": student, "threat": THREAT, "recipients": "crisis team"}
    )
    assert created.status_code == 201, created.text
    emergency = created.json()["id"]
    response = client.get(f"/api/v1/emergencies/{emergency}/records")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["datasets"]["programs"] == "health_safety_emergency"
    assert body["datasets"]["directory"] == "school_official"
    assert body["records"]
    assert {r["type"] for r in body["records"]} >= {"DistrictStudent"}
    with Session(world.engine) as db:
        lines = db.scalars(
            select(DisclosureEntry).where(
                DisclosureEntry.student_id == student, DisclosureEntry.request_ref == f"emergency:{emergency}"
            )
        ).all()
    (line,) = lines
    assert line.basis == "health_safety_emergency"
    assert line.record_required is True
    assert THREAT in line.purpose
    assert "programs" in line.datasets
    assert "directory" not in line.datasets  # seen as a school official: an exempt line of its own
