"""Portal pages through the app: IDOR answers 404 and is logged, downloads are CSRF-protected
disclosures, every view is an audit event, roles outside the portal are refused."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from steward.accounts.service import create_account
from steward.audit.models import AuditEvent, DisclosureEntry
from steward.config import Settings
from steward.demo.seed import DEMO_PASSWORD
from steward.domain.datasets import Dataset
from steward.policy import Actor
from steward.products.portal import catalog as c
from steward.store.base import now_utc
from steward.store.db import make_engine, migrate, transaction
from steward.store.models import Person, Student
from steward.store.visibility import all_visible
from steward.web.app import create_app
from tests.products.portal.conftest import World, add_partner, guardian_child, load, portal_data, principal_of
from tests.web.auth_helpers import csrf_of, sign_in

__all__ = ["portal_data"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, portal_data: Path) -> Iterator[tuple[World, Settings]]:
    path = tmp_path_factory.mktemp("portal-web") / "steward.db"
    migrate(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    world = load(engine, portal_data)
    with transaction(engine) as db:
        who = add_partner(
            db, "no-discipline", [d for d in Dataset if d is not Dataset.DISCIPLINE], students=4
        )
        create_account(db, db.get_one(Person, who.person_id), "nodisc", DEMO_PASSWORD)
    settings = Settings(
        database_url=str(engine.url), secret_key="portal-test", data_dir=portal_data, mfa_required_roles=[]
    )
    yield world, settings
    engine.dispose()


@pytest.fixture
def client(site: tuple[World, Settings]) -> Iterator[TestClient]:
    world, settings = site
    with TestClient(create_app(settings, world.engine)) as test_client:
        yield test_client


def _as(client: TestClient, username: str) -> None:
    response = sign_in(client, username, DEMO_PASSWORD, mfa=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/", response.headers["location"]


def _events(world: World, action: str) -> list[AuditEvent]:
    with transaction(world.engine) as db:
        return [
            e
            for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if f'"action":"{action}"' in e.body
        ]


def _visible(world: World, username: str) -> set[int]:
    with transaction(world.engine) as db:
        who = principal_of(db, username)
        return {
            k
            for k, v in all_visible(
                db, who.person_id, now_utc(), actor=Actor.of(who), directory_information=False
            ).items()
            if v
        }


def test_partner_asking_for_a_student_outside_its_grant_gets_404_and_it_is_logged(
    site: tuple[World, Settings], client: TestClient
) -> None:
    world, _ = site
    _as(client, "partner")
    mine = _visible(world, "partner")
    with transaction(world.engine) as db:
        stranger = db.scalar(select(Student.id).where(Student.id.notin_(list(mine))).order_by(Student.id))
    assert stranger is not None
    before = len(_events(world, "portal.not_found"))
    for target in (stranger, 10**9):
        response = client.get(f"/portal/students/{target}")
        assert response.status_code == 404
        assert "Not found" in response.text
    logged = _events(world, "portal.not_found")
    assert len(logged) == before + 2
    assert f"{stranger}" in logged[-2].body
    ok = client.get(f"/portal/students/{min(mine)}")
    assert ok.status_code == 200
    assert "Why can I see this?" in ok.text


def test_a_report_outside_the_grant_is_404_and_logged(
    site: tuple[World, Settings], client: TestClient
) -> None:
    world, _ = site
    _as(client, "nodisc")
    page = client.get("/portal/reports")
    assert page.status_code == 200
    assert 'data-testid="report-discipline_incidents"' not in page.text
    token = csrf_of(page.text)
    before = len(_events(world, "portal.not_found"))
    for key in (c.DISCIPLINE_INCIDENTS.key, c.DISCIPLINE_SUMMARY.key, "nonsense"):
        response = client.post(f"/portal/reports/{key}.csv", data={"csrf_token": token})
        assert response.status_code == 404, key
    assert len(_events(world, "portal.not_found")) == before + 3
    granted = client.post(f"/portal/reports/{c.ATTENDANCE_SUMMARY.key}.csv", data={"csrf_token": token})
    assert granted.status_code == 200
    assert granted.text.splitlines()[0] == ",".join(c.ATTENDANCE_SUMMARY.header)
    assert "attachment" in granted.headers["content-disposition"]


def test_downloads_need_the_form_token_and_are_recorded(
    site: tuple[World, Settings], client: TestClient
) -> None:
    world, _ = site
    _as(client, "partner")
    assert client.post("/portal/reports/package.xlsx").status_code == 403
    token = csrf_of(client.get("/portal/reports").text)
    with transaction(world.engine) as db:
        partner = principal_of(db, "partner")
        before = db.scalar(select(DisclosureEntry.id).order_by(DisclosureEntry.id.desc())) or 0
    xlsx = client.post("/portal/reports/package.xlsx", data={"csrf_token": token})
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert book.sheetnames[0] == "README"
    archive = zipfile.ZipFile(
        io.BytesIO(client.post("/portal/reports/package.zip", data={"csrf_token": token}).content)
    )
    assert "README.txt" in archive.namelist()
    with transaction(world.engine) as db:
        lines = db.scalars(
            select(DisclosureEntry).where(
                DisclosureEntry.id > before, DisclosureEntry.recipient_person_id == partner.person_id
            )
        ).all()
    assert len(lines) == 2 * len(_visible(world, "partner"))
    assert {line.channel for line in lines} == {"download"}
    history = client.get("/portal/reports")
    assert history.text.count("on demand, download") >= 2


def test_views_are_audited_and_partner_views_are_ledger_lines(
    site: tuple[World, Settings], client: TestClient
) -> None:
    world, _ = site
    _as(client, "partner")
    listing = client.get("/portal/students?sort=grade&order=desc")
    assert listing.status_code == 200
    assert _events(world, "portal.list")
    sid = int(re.findall(r'href="/portal/students/(\d+)"', listing.text)[0])
    client.get(f"/portal/students/{sid}")
    with transaction(world.engine) as db:
        line = db.scalars(
            select(DisclosureEntry)
            .where(DisclosureEntry.student_id == sid, DisclosureEntry.channel == "view")
            .order_by(DisclosureEntry.id.desc())
        ).first()
        assert line is not None
        assert line.purpose == "Student-at-a-Glance"
    client.cookies.clear()
    _as(client, "parent")
    with transaction(world.engine) as db:
        child = guardian_child(db)
        before = db.scalar(select(DisclosureEntry.id).order_by(DisclosureEntry.id.desc())) or 0
    page = client.get(f"/portal/students/{child}")
    assert page.status_code == 200
    assert 'data-testid="glance-ledger"' in page.text
    assert _events(world, "portal.glance")
    with transaction(world.engine) as db:
        assert (
            db.scalar(select(DisclosureEntry.id).where(DisclosureEntry.id > before)) is None
        )  # the family's own view
    assert client.get("/portal/reports").status_code == 403


def test_roles_outside_the_portal_are_refused(client: TestClient) -> None:
    _as(client, "vendor")
    assert client.get("/portal/students").status_code == 403
    assert client.get("/portal/students/1").status_code == 403
    assert client.get("/portal/reports").status_code == 403


def test_the_list_searches_sorts_and_pages(site: tuple[World, Settings], client: TestClient) -> None:
    _world, _ = site
    _as(client, "partner")
    first = client.get("/portal/students")
    assert "Showing 1–25 of" in first.text
    assert 'aria-sort="ascending"' in first.text
    second = client.get("/portal/students?page=2")
    assert "Page 2 of" in second.text
    ids = re.findall(r"<td>(\d{8})", first.text)
    found = client.get(f"/portal/students?q={ids[0]}")
    assert "Showing 1–1 of 1 student matching" in found.text
    nothing = client.get("/portal/students?q=zzzz-nobody")
    assert "No student matches" in nothing.text


def test_sending_to_sftp_without_a_key_says_what_to_do(client: TestClient) -> None:
    _as(client, "partner")
    token = csrf_of(client.get("/portal/reports").text)
    sent = client.post("/portal/reports/sftp", data={"csrf_token": token}, follow_redirects=True)
    assert sent.status_code == 200
    assert "no registered age or SSH public key" in sent.text
