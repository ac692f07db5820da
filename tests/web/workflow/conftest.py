"""A workflow world behind the real app (TestClient), every persona with a password login."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from steward.accounts.service import create_account
from steward.config import Settings
from steward.store.db import transaction
from steward.store.models import Person
from steward.web.app import create_app
from tests.workflow.conftest import World, build_world

PASSWORD = "workflow pass"


@pytest.fixture
def web_world(sqlite_engine: Engine, tmp_path: Path) -> World:
    with transaction(sqlite_engine) as db:
        w = build_world(db, tmp_path)
        for name, principal in w.people.items():
            create_account(db, db.get_one(Person, principal.person_id), name, PASSWORD)
        return w


def client_for(engine: Engine, w: World) -> TestClient:
    settings = Settings(
        database_url=str(engine.url), secret_key="test-secret", data_dir=w.data_dir, mfa_required_roles=[]
    )
    return TestClient(create_app(settings, engine))


@pytest.fixture
def app_client(sqlite_engine: Engine, web_world: World) -> Iterator[TestClient]:
    with client_for(sqlite_engine, web_world) as client:
        yield client


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str) -> str:
    """Sign in and return the session's CSRF token."""
    client.cookies.clear()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(page.text), "next": "/"},
        follow_redirects=True,
    )
    assert response.status_code == 200, response.text[:500]
    return csrf(client.get("/notifications").text)
