"""A small region seeded with data only its own district may see, and signed-in probers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from steward.audit import Recipient, record_disclosure
from steward.config import Settings
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.store.db import transaction
from steward.store.models import Guardianship, RoleAssignment, Student
from steward.web.app import create_app
from tests import factories as f
from tests.accounts.world import World, build
from tests.web.auth_helpers import csrf_of, sign_in

#: Strings that only district d1's data holds; no prober outside d1 may ever receive them.
CANARIES = ("Zyxwvu", "Qwertz", "L-CANARY-7", "Canary Parent")


@dataclass
class Region:
    world: World
    app: object
    settings: Settings
    students: list[int]

    def client(self, username: str, password: str) -> TestClient:
        client = TestClient(self.app)  # type: ignore[arg-type]
        response = sign_in(client, username, password)
        assert response.status_code == 303, response.text
        if response.headers["location"] == "/role":
            page = client.get("/role")
            import re

            first = re.findall(r'name="role_assignment_id" value="(\d+)"', page.text)[0]
            client.post("/role", data={"role_assignment_id": first, "csrf_token": csrf_of(page.text)})
        return client


def csrf(client: TestClient) -> str:
    return csrf_of(client.get("/account").text)


@pytest.fixture
def region(sqlite_engine: Engine) -> Iterator[Region]:
    settings = Settings(
        database_url=str(sqlite_engine.url),
        secret_key="attack-tests",
        login_failure_floor_ms=0,
        rate_api_burst=100_000,
        rate_login_burst=1000,
    )
    with transaction(sqlite_engine) as db:
        world = build(db)
        own = []
        for i, (first, last) in enumerate([("Zyxwvu", "Alpha"), ("Beta", "Qwertz"), ("Gamma", "Delta")]):
            student = f.student(db, world.district, f"L-CANARY-{7 + i}")
            student.first_name, student.last_name = first, last
            own.append(student.id)
        f.student(db, world.other_district, "OTHER-1")
        guardian = f.person(db, "gina", "parent", world.district, password="guardian pass 1")
        guardian.given_name, guardian.family_name = "Canary", "Parent"
        db.add(Guardianship(person_id=guardian.id, student_id=own[0], valid_from=f.EPOCH))
        # A partner with no agreement, consent or grant anywhere: it may see nothing.
        stranger = f.org(db, "p2", "partner", "Unrelated Partners", registration_status="registered")
        staff = f.person(db, "pete", password="partner pass 1")
        db.add(
            RoleAssignment(
                person_id=staff.id, role="partner_staff", organization_id=stranger.id, valid_from=f.EPOCH
            )
        )
        db.flush()
        record_disclosure(
            db,
            Recipient.organization(db, world.partner.id),
            own,
            [Dataset.ATTENDANCE],
            LegalBasis.STUDIES,
            purpose="canary study Qwertz",
            agreement_id=world.agreement.id,
        )
        students = list(db.scalars(select(Student.id).order_by(Student.id)))
    app = create_app(settings, sqlite_engine)
    with TestClient(app):
        yield Region(world, app, settings, students)
