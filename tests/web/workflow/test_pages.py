"""Every workflow page answers its own role and 404s the others; the intake form refuses named
students without IDs and names every problem; the JSON API does the same and stores nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from steward.store.db import transaction
from steward.workflow.requests.models import DataRequest
from tests.web.workflow.conftest import sign_in
from tests.workflow.conftest import YEAR, World

OFFICE_PAGES = (
    "/office/triage",
    "/office/cycles",
    "/office/sla",
    "/office/agreements",
    "/office/consents",
    "/office/grants",
    "/office/training",
    "/office/opt-outs",
    "/office/settings",
)
PARTNER_PAGES = ("/requests", "/requests/new", "/partner/consents", "/partner/students")


def test_each_role_sees_its_pages_only(app_client: TestClient) -> None:
    sign_in(app_client, "officer")
    for path in OFFICE_PAGES:
        assert app_client.get(path).status_code == 200, path
    for path in (*PARTNER_PAGES, "/panel"):
        assert app_client.get(path).status_code == 404, path
    sign_in(app_client, "partner")
    for path in PARTNER_PAGES:
        assert app_client.get(path).status_code == 200, path
    for path in (*OFFICE_PAGES, "/panel"):
        assert app_client.get(path).status_code == 404, path
    sign_in(app_client, "panel")
    assert app_client.get("/panel").status_code == 200
    assert app_client.get("/notifications").status_code == 200


def test_intake_form_names_every_problem_and_stores_nothing(
    app_client: TestClient, sqlite_engine: Engine, web_world: World
) -> None:
    token = sign_in(app_client, "partner")
    response = app_client.post(
        "/requests/new",
        data={
            "csrf_token": token,
            "district_id": str(web_world.district),
            "title": "Tutoring",
            "purpose": "p",
            "audience": "a",
            "summary": "s",
            "level": "identifiable",
            "elements": ["programs.special_education"],
            "school_years": [str(YEAR)],
            "population": "tutored",
            "names_students": "yes",
            "student_ids": "",
            "security_plan": "encrypted",
            "access_list": "Marcus",
            "destruction_method": "wipe",
        },
    )
    assert response.status_code == 422
    assert "requests without ID numbers are not filled" in response.text
    assert "programs.special_education is sensitive" in response.text
    assert 'value="Tutoring"' in response.text  # the form keeps what was typed
    with transaction(sqlite_engine) as db:
        assert db.scalar(select(func.count()).select_from(DataRequest)) == 0


def test_api_intake_and_read(app_client: TestClient, sqlite_engine: Engine, web_world: World) -> None:
    sign_in(app_client, "analyst")
    body = {
        "district_id": web_world.district,
        "title": "Enrollment counts",
        "purpose": "plan services",
        "audience": "agency staff",
        "summary": "enrollment by grade",
        "level": "aggregate",
        "datasets": ["enrollment"],
        "school_years": [YEAR],
        "population": "all students",
        "names_students": True,
    }
    refused = app_client.post("/api/v1/requests", json=body)
    assert refused.status_code == 422
    assert {p["field"] for p in refused.json()["detail"]} == {"student_ids"}
    body["names_students"] = False
    created = app_client.post("/api/v1/requests", json=body)
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["status"] == "submitted"
    assert data["path"] == "agency"
    assert data["fulfilment"]["target"] == 15
    assert [h["to_status"] for h in data["history"]] == ["draft", "submitted"]
    listed = app_client.get("/api/v1/requests").json()
    assert [r["code"] for r in listed] == [data["code"]]
    sign_in(app_client, "partner")
    assert app_client.get(f"/api/v1/requests/{data['code']}").status_code == 404
    sign_in(app_client, "officer")
    assert app_client.get(f"/api/v1/requests/{data['code']}").json()["checklist"]


def test_an_upload_over_50_mb_is_refused_with_its_reason(app_client: TestClient, web_world: World) -> None:
    from steward.workflow.consents.bulk import COLUMNS, MAX_BYTES

    token = sign_in(app_client, "partner")
    body = (",".join(COLUMNS) + "\n").encode().ljust(MAX_BYTES + 1, b"x")
    response = app_client.post(
        "/partner/consents",
        data={
            "csrf_token": token,
            "district_id": str(web_world.district),
            "school_year": str(YEAR),
            "datasets": "attendance",
            "purpose": "tutoring",
        },
        files={"student_list": ("big.csv", body, "text/csv")},
    )
    assert response.status_code == 422
    assert "big.csv: the file is larger than 50 MiB" in response.text


def test_the_requester_never_sees_the_names_behind_the_ids_they_typed(
    app_client: TestClient, sqlite_engine: Engine, web_world: World
) -> None:
    from steward.store.models import Student
    from steward.workflow.requests import service as requests
    from tests.workflow.helpers import form

    with transaction(sqlite_engine) as db:
        student = db.get_one(Student, web_world.students[0])
        req = requests.create_and_submit(
            db, web_world.p("partner"), form(web_world, student_refs=[student.local_id])
        )
        code, name = req.code, student.first_name
    sign_in(app_client, "partner")
    page = app_client.get(f"/requests/{code}")
    assert page.status_code == 200
    assert student.local_id in page.text
    assert name not in page.text
    sign_in(app_client, "officer")
    assert name in app_client.get(f"/requests/{code}").text
