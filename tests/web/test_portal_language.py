"""Student-at-a-Glance as a Spanish-speaking parent sees it (the portal's sample district), with the
ledger beside it; a teacher's Glance stays English whatever the language cookie says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from steward.config import Settings
from steward.demo.seed import DEMO_PASSWORD
from steward.store.db import make_engine, migrate, transaction
from steward.web.app import create_app
from tests.products.portal.conftest import World, guardian_child, load, portal_data
from tests.web.auth_helpers import sign_in

__all__ = ["portal_data"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, portal_data: Path) -> Iterator[tuple[World, Settings]]:
    path = tmp_path_factory.mktemp("portal-language") / "steward.db"
    migrate(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    world = load(engine, portal_data)
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


def test_the_parents_glance_and_ledger_in_spanish(client: TestClient, site: tuple[World, Settings]) -> None:
    world, _ = site
    assert sign_in(client, "parent", DEMO_PASSWORD, mfa=False).status_code == 303
    with transaction(world.engine) as db:
        child = guardian_child(db)
    page = client.get(f"/portal/students/{child}?lang=es")
    assert page.status_code == 200, page.text[:300]
    assert '<html lang="es">' in page.text
    for words in (
        "¿Por qué puedo ver esto?",
        "Quién ha visto estos registros",
        "El registro completo de entregas de datos",
        "Asistencia",
        "Número de estudiante",
    ):
        assert words in page.text, words
    for english in ("Why can I see this?", "Who has seen these records", "No attendance on record."):
        assert english not in page.text, english
    # Remembered: the list and the ledger follow without ?lang=.
    listing = client.get("/portal/students")
    assert "Sus estudiantes" in listing.text
    ledger = client.get(f"/ledger/students/{child}")
    assert "Quién ha visto o recibido los datos de" in ledger.text
    assert "Cuándo" in ledger.text or "Todavía nadie ha visto" in ledger.text


def test_a_teachers_glance_stays_english(client: TestClient) -> None:
    assert sign_in(client, "teacher", DEMO_PASSWORD, mfa=False).status_code == 303
    client.cookies.set("steward_lang", "es")
    listing = client.get("/portal/students", headers={"accept-language": "es"})
    assert '<html lang="en">' in listing.text
    assert "Your students" in listing.text
    # The plural follows the number of students (not the first figure of the sentence).
    assert re.search(r"Showing 1–\d+ of \d+ students\.", listing.text), listing.text
