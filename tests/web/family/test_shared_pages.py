"""The shared pages a parent also uses outside /family (sign-in, errors, account and second factor,
the invitation, the home page, the child's ledger and the student list; the Glance is in
test_portal_language.py) follow the family's language (?lang=, the cookie, the account's
preference, Accept-Language); staff keep English."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from steward.config import Settings
from steward.family import eligible
from steward.family.common import remember
from steward.store.db import transaction
from steward.store.models import Student
from tests.family.conftest import Family
from tests.web.family.test_pages import client, csrf, fam, sign_in  # noqa: F401  (fixtures)

SPANISH = {"accept-language": "es-MX,es;q=0.9"}


def test_sign_in_page_and_its_errors_in_spanish(client: TestClient) -> None:  # noqa: F811
    client.cookies.clear()
    page = client.get("/login", headers=SPANISH)
    assert '<html lang="es">' in page.text
    assert "Iniciar sesión" in page.text
    assert "Nombre de usuario" in page.text
    assert "Contraseña" in page.text
    assert 'data-testid="languages"' in page.text
    wrong = client.post(
        "/login",
        data={"username": "parent0", "password": "not it", "csrf_token": csrf(page.text), "next": "/"},
        headers=SPANISH,
    )
    assert wrong.status_code == 401
    assert "Ese nombre de usuario y esa contraseña no corresponden a una cuenta activa." in wrong.text
    # Picked on purpose: remembered in the cookie, then used without the browser's header.
    client.cookies.clear()
    asked = client.get("/login?lang=es")
    assert "steward_lang=es" in asked.headers["set-cookie"]
    assert "Iniciar sesión" in client.get("/login").text
    client.cookies.clear()
    assert "Sign in" in client.get("/login").text


def test_a_spanish_speaking_parent_reads_ledger_list_and_account_in_spanish(
    client: TestClient,  # noqa: F811
    sqlite_engine: Engine,
    fam: Family,  # noqa: F811
) -> None:
    student = fam.world.students[0]
    with transaction(sqlite_engine) as db:
        remember(db, fam.parent_of(student).person_id, "es")
    sign_in(client, "parent0")  # the account's preference, no ?lang= and an English browser
    english_browser = {"accept-language": "en"}

    home = client.get("/", headers=english_browser)  # where sign-in lands
    assert '<html lang="es">' in home.text
    assert "Lo que puede hacer ahora" in home.text
    assert "Portal para familias: permisos y exclusiones" in home.text
    assert "What you can do next" not in home.text

    ledger = client.get(f"/ledger/students/{student}", headers=english_browser)
    assert ledger.status_code == 200, ledger.text[:300]
    assert '<html lang="es">' in ledger.text
    assert "Quién ha visto o recibido los datos de" in ledger.text
    assert "Imprimir este registro" in ledger.text
    assert "Registrado según 34 CFR 99.32" in ledger.text
    assert "Who has seen or received" not in ledger.text

    children = client.get("/ledger", headers=english_browser)
    assert "Quién ha visto los datos de su hijo o hija" in children.text

    listing = client.get("/portal/students", headers=english_browser)
    assert listing.status_code == 200, listing.text[:300]
    assert "Sus estudiantes" in listing.text
    assert "Sus hijos." in listing.text
    assert "Buscar por nombre o número de estudiante" in listing.text

    account = client.get("/account", headers=english_browser)
    assert "Su cuenta y su seguridad" in account.text
    assert "Configurar una aplicación de autenticación" in account.text
    setup = client.get("/mfa/setup?next=/account", headers=english_browser)
    assert "Configure su aplicación de autenticación" in setup.text

    missing = client.get("/ledger/students/999999", headers=english_browser)
    assert missing.status_code == 404
    assert "No encontrado" in missing.text
    assert "Volver a su página de inicio" in missing.text

    # ?lang= on a shared page switches and is remembered for the account too.
    switched = client.get(f"/ledger/students/{student}?lang=en")
    assert "Who has seen or received" in switched.text
    assert "steward_lang=en" in switched.headers["set-cookie"]
    client.cookies.clear()
    sign_in(client, "parent0")
    assert "Who has seen or received" in client.get(f"/ledger/students/{student}", headers=SPANISH).text


def test_staff_keep_english_on_the_shared_pages(client: TestClient, fam: Family) -> None:  # noqa: F811
    sign_in(client, "officer")
    client.cookies.set("steward_lang", "es")
    page = client.get(f"/ledger/students/{fam.world.students[0]}", headers=SPANISH)
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Who has seen or received" in page.text
    assert '<html lang="en">' in client.get("/account", headers=SPANISH).text
    assert "What you can do next" in client.get("/", headers=SPANISH).text


def test_the_invitation_page_in_spanish(
    client: TestClient,  # noqa: F811
    sqlite_engine: Engine,
    fam: Family,  # noqa: F811
    tmp_path: Path,
) -> None:
    from datetime import date, timedelta

    from steward.store.base import now_utc

    adult = fam.world.students[0]
    with transaction(sqlite_engine) as db:
        db.get_one(Student, adult).birth_date = date(now_utc().year - 19, 1, 1) - timedelta(days=1)
        db.flush()
        issued = eligible.open_portal(
            db,
            fam.officer,
            adult,
            username="stu0",
            email="",
            settings=Settings(secret_key="t", data_dir=tmp_path),
        )
    client.cookies.clear()
    page = client.get(f"/invite/{issued.token}", headers=SPANISH)
    assert page.status_code == 200, page.text[:300]
    assert "Bienvenido a Steward" in page.text
    assert "Elija una contraseña para <strong>stu0</strong>" in page.text
    differ = client.post(
        f"/invite/{issued.token}",
        data={
            "password": "a long enough password",
            "confirm": "another long one!",
            "csrf_token": csrf(page.text),
        },
        headers=SPANISH,
    )
    assert "Las dos contraseñas no son iguales." in differ.text
