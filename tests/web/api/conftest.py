"""The policy scenario's people and students in a database, and an API client that acts as any of
them (the sign-in is replaced; the cookie session's CSRF header check is switched off, since API
routes with a real session are covered by tests/security)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit.models import AuditEvent
from steward.config import Settings
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.store.db import transaction
from steward.store.fact_writer import FactIds, write_facts
from steward.web.api.delivery import api_csrf
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


@dataclass
class Api:
    client: TestClient
    app: FastAPI
    ids: FactIds
    engine: Engine

    def act_as(self, person: str) -> Principal:
        role, org, kind = AS[person]
        principal = Principal(self.ids.people[person], person, role, self.ids.orgs[org], org, kind, person)
        self.app.dependency_overrides[optional_principal] = lambda: principal
        return principal

    def events(self, action: str) -> list[dict[str, object]]:
        with Session(self.engine) as db:
            bodies = db.scalars(
                select(AuditEvent.body).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
            return [json.loads(b) for b in bodies]


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    app = create_app(Settings(database_url=str(engine.url), secret_key="test-secret"), engine)
    app.dependency_overrides[api_csrf] = lambda: None
    with TestClient(app) as client:
        yield Api(client, app, ids, engine)
