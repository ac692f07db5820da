"""Ledger pages and API: a parent sees only their own child; an officer sees their district."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit import Recipient, record_disclosure
from steward.audit.models import AuditEvent
from steward.config import Settings
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Guardianship, RoleAssignment
from steward.web.app import create_app
from steward.workflow.models import Agreement
from tests import factories as f
from tests.web.test_auth import sign_in


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """Page behaviour and visibility do not depend on the database (SQLite only)."""
    return sqlite_engine


@pytest.fixture
def ids(engine: Engine) -> dict[str, int]:
    with transaction(engine) as db:
        district = f.org(db, "d1", "district", "Lakeside District")
        other_district = f.org(db, "d2", "district", "Hillview District")
        partner = f.org(db, "p1", "partner", "Tutoring Partners")
        own, other, former = (
            f.student(db, district, "100"),
            f.student(db, district, "101"),
            f.student(db, district, "102"),
        )
        elsewhere = f.student(db, other_district, "200")
        adult = f.student(db, district, "103", birth_date=date(2000, 1, 1))
        parent = f.person(db, "pam", "parent", district, password="parent pass")
        db.add(Guardianship(person_id=parent.id, student_id=own.id, valid_from=f.EPOCH))
        db.add(Guardianship(person_id=parent.id, student_id=adult.id, valid_from=f.EPOCH))
        db.add(
            Guardianship(
                person_id=parent.id,
                student_id=former.id,
                valid_from=f.EPOCH,
                valid_to=now_utc() - timedelta(days=2),
            )
        )
        officer = f.person(db, "olga", "district_data_officer", district, password="officer pass")
        f.person(db, "tina", "teacher", district, password="teacher pass")
        db.add(
            RoleAssignment(
                person_id=officer.id, role="teacher", organization_id=district.id, valid_from=f.EPOCH
            )
        )
        agreement = Agreement(
            code="DSA-7", kind="dsa", organization_id=partner.id, district_id=district.id,
            status="executed", purpose="evaluation", valid_from=f.EPOCH,
        )  # fmt: skip
        foreign = Agreement(
            code="DSA-8", kind="dsa", organization_id=partner.id, district_id=other_district.id,
            status="executed", purpose="evaluation", valid_from=f.EPOCH,
        )  # fmt: skip
        db.add_all([agreement, foreign])
        db.flush()
        recipient = Recipient.organization(db, partner.id)
        record_disclosure(
            db,
            recipient,
            [own.id, other.id, former.id, elsewhere.id],
            [Dataset.ATTENDANCE],
            LegalBasis.STUDIES,
            purpose='=HYPERLINK("http://evil")',
            agreement_id=agreement.id,
            request_ref="DR-1",
            delivery_id=9,
            channel="package",
        )
        record_disclosure(
            db,
            Recipient(
                org_id=district.id,
                person_id=officer.id,
                name="Ms Teacher",
                org_name="Lakeside",
                role="teacher",
            ),
            [own.id],
            [Dataset.GRADES],
            LegalBasis.SCHOOL_OFFICIAL,
        )
        return {
            "own": own.id, "other": other.id, "former": former.id, "elsewhere": elsewhere.id,
            "adult": adult.id,
            "partner": partner.id, "district": district.id,
            "agreement": agreement.id, "foreign_agreement": foreign.id,
        }  # fmt: skip


@pytest.fixture
def client(engine: Engine, ids: dict[str, int]) -> Iterator[TestClient]:
    settings = Settings(database_url=str(engine.url), secret_key="test-secret")
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


def _as(client: TestClient, username: str, password: str) -> None:
    response = sign_in(client, username, password)
    assert response.status_code == 303  # type: ignore[attr-defined]
    if response.headers["location"] == "/role":  # type: ignore[attr-defined]
        page = client.get("/role")
        choice = re.findall(r'name="role_assignment_id" value="(\d+)"', page.text)[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        client.post("/role", data={"role_assignment_id": choice, "csrf_token": token.group(1)})


def test_parent_reads_own_childs_ledger_with_labels(
    client: TestClient, ids: dict[str, int], engine: Engine
) -> None:
    _as(client, "pam", "parent pass")
    home = client.get("/ledger")
    assert home.status_code == 200
    assert f"/ledger/students/{ids['own']}" in home.text
    assert f"/ledger/students/{ids['former']}" not in home.text
    page = client.get(f"/ledger/students/{ids['own']}")
    assert page.status_code == 200
    assert "Who has seen or received Stu 100’s data" in page.text
    assert page.text.count('data-testid="ledger-line"') == 2
    assert "Tutoring Partners" in page.text
    assert "34 CFR 99.31(a)(6)" in page.text
    assert "Not required" in page.text  # the school-official view, labelled
    assert "/static/ledger.css" in page.text
    with Session(engine) as db:
        assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "ledger.view")) is not None


@pytest.mark.parametrize("child", ["other", "former", "elsewhere", "adult"])
def test_parent_gets_404_for_any_other_child(client: TestClient, ids: dict[str, int], child: str) -> None:
    _as(client, "pam", "parent pass")
    assert client.get(f"/ledger/students/{ids[child]}").status_code == 404
    assert client.get(f"/ledger/students/{ids[child]}/export.csv").status_code == 404
    assert client.get(f"/api/v1/ledger/students/{ids[child]}").status_code == 404
    assert client.get(f"/ledger/recipients/{ids['partner']}").status_code == 404
    assert client.get(f"/ledger/agreements/{ids['agreement']}").status_code == 404


def test_officer_finds_by_student_recipient_and_agreement(client: TestClient, ids: dict[str, int]) -> None:
    _as(client, "olga", "officer pass")
    found = client.get("/ledger", params={"student": "101"}, follow_redirects=False)
    assert found.headers["location"] == f"/ledger/students/{ids['other']}"
    assert client.get("/ledger", params={"student": "200"}).status_code == 404  # other district
    by_recipient = client.get("/ledger", params={"recipient": "p1"})
    assert by_recipient.status_code == 200
    assert by_recipient.text.count('data-testid="ledger-line"') == 3  # not the other district's student
    agreement = client.get(f"/ledger/agreements/{ids['agreement']}")
    assert agreement.text.count('data-testid="ledger-line"') == 3
    assert client.get(f"/ledger/students/{ids['elsewhere']}").status_code == 404
    page = client.get(f"/ledger/students/{ids['own']}")
    assert "Who could see this student" in page.text


def test_csv_export_neutralises_formulas(client: TestClient, ids: dict[str, int]) -> None:
    _as(client, "olga", "officer pass")
    response = client.get(f"/ledger/recipients/{ids['partner']}/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 3
    assert all(r["purpose"] == '\'=HYPERLINK("http://evil")' for r in rows)
    assert {r["student_local_id"] for r in rows} == {"100", "101", "102"}


def test_api_pages_with_cursor(client: TestClient, ids: dict[str, int]) -> None:
    assert client.get(f"/api/v1/ledger/students/{ids['own']}").status_code == 401
    _as(client, "olga", "officer pass")
    first = client.get(f"/api/v1/ledger/agreements/{ids['agreement']}", params={"limit": 2}).json()
    assert len(first["entries"]) == 2
    second = client.get(
        f"/api/v1/ledger/agreements/{ids['agreement']}", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert len(second["entries"]) == 1
    assert second["next_cursor"] is None
    assert first["entries"][0]["citation"] == "34 CFR 99.31(a)(6)"


def test_teacher_has_no_ledger(client: TestClient) -> None:
    _as(client, "tina", "teacher pass")
    assert client.get("/ledger").status_code == 404


def test_officer_sees_who_could_see_at_any_instant(client: TestClient, ids: dict[str, int]) -> None:
    _as(client, "olga", "officer pass")
    now = client.get(f"/ledger/students/{ids['own']}")
    assert now.status_code == 200
    assert 'data-testid="could-see"' in now.text
    assert "Pam Tester" in now.text  # the parent, through the guardianship
    before = client.get(f"/ledger/students/{ids['own']}", params={"at": "1999-06-01"})
    assert "Pam Tester" not in before.text  # the guardianship starts in 2000
    bad = client.get(f"/ledger/students/{ids['own']}", params={"at": "yesterday"})
    assert "not a date or ISO instant" in bad.text


def test_agreement_ledger_is_404_for_an_unknown_or_foreign_agreement(
    client: TestClient, ids: dict[str, int]
) -> None:
    _as(client, "olga", "officer pass")
    mine = ids["agreement"]
    assert client.get(f"/ledger/agreements/{mine}").status_code == 200
    assert client.get(f"/ledger/agreements/{mine}/export.csv").status_code == 200
    assert client.get(f"/api/v1/ledger/agreements/{mine}").status_code == 200
    for agreement_id in (ids["foreign_agreement"], 999_999):
        assert client.get(f"/ledger/agreements/{agreement_id}").status_code == 404
        assert client.get(f"/ledger/agreements/{agreement_id}/export.csv").status_code == 404
        assert client.get(f"/api/v1/ledger/agreements/{agreement_id}").status_code == 404
