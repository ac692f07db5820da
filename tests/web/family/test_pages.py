"""The family pages behind the real app: language chosen and remembered, the whole consent path
through forms (publish, approve, read in Spanish, sign, revoke) with the partner's API answering at
once, 404 for anything not the viewer's, CSRF on every change, and the public transparency page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from steward.accounts.service import create_account
from steward.config import Settings
from steward.family.models import ConsentSignature, LanguagePreference, OptOutRequest
from steward.store.db import transaction
from steward.store.models import Person, Student
from steward.web.app import create_app
from steward.workflow.notifications.models import Notification
from tests.family.conftest import Family, approved, build_family

PASSWORD = "family pages pass"


@pytest.fixture
def fam(sqlite_engine: Engine, tmp_path: Path) -> Family:
    with transaction(sqlite_engine) as db:
        family = build_family(db, tmp_path)
        for name, principal in family.world.people.items():
            create_account(db, db.get_one(Person, principal.person_id), name, PASSWORD)
        for n, student in enumerate(family.world.students):
            create_account(
                db, db.get_one(Person, family.parent_of(student).person_id), f"parent{n}", PASSWORD
            )
        return family


@pytest.fixture
def client(sqlite_engine: Engine, fam: Family) -> Iterator[TestClient]:
    settings = Settings(
        database_url=str(sqlite_engine.url),
        secret_key="test",
        data_dir=fam.world.data_dir,
        mfa_required_roles=[],
    )
    with TestClient(create_app(settings, sqlite_engine)) as c:
        yield c


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    page = client.get("/login")
    done = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(page.text), "next": "/"},
        follow_redirects=True,
    )
    assert done.status_code == 200, done.text[:300]


def test_language_from_the_browser_then_remembered(
    client: TestClient, sqlite_engine: Engine, fam: Family
) -> None:
    sign_in(client, "parent0")
    page = client.get("/family", headers={"accept-language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in page.text
    assert "Los expedientes escolares de sus hijos" in page.text
    assert "Cerrar sesión" in page.text
    english = client.get("/family", headers={"accept-language": "en"})
    assert '<html lang="en">' in english.text
    moved = client.get("/language", params={"lang": "vi", "next": "//evil.example/x"}, follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"] == "/"
    assert "steward_lang=vi" in moved.headers["set-cookie"]
    with transaction(sqlite_engine) as db:
        pref = db.get(LanguagePreference, fam.parent_of(fam.world.students[0]).person_id)
        assert pref is not None
        assert pref.language == "vi"
    client.get("/language", params={"lang": "es", "next": "/family"})
    sign_in(client, "parent0")  # a new session, no cookie: the account's preference
    assert (
        "Los expedientes escolares de sus hijos"
        in client.get("/family", headers={"accept-language": "en"}).text
    )
    asked = client.get("/family?lang=am")
    assert '<html lang="am">' in asked.text
    assert "steward_lang=am" in asked.headers["set-cookie"]
    # Staff pages are English whatever the family language cookie says.
    sign_in(client, "officer")
    client.cookies.set("steward_lang", "es")
    assert '<html lang="en">' in client.get("/family/eligible").text


def test_publish_approve_sign_in_spanish_and_revoke_through_the_pages(
    client: TestClient, sqlite_engine: Engine, fam: Family
) -> None:
    student = fam.world.students[0]
    sign_in(client, "partner")
    form = client.get("/consent-requests/new")
    assert "Lakeside District" in form.text
    published = client.post(
        "/consent-requests",
        data={
            "csrf_token": csrf(form.text),
            "district_id": str(fam.world.district),
            "title": "After-school tutoring",
            "purpose": "Follow attendance of the students we tutor",
            "description": "We tutor students after school.",
            "datasets": ["attendance", "enrollment"],
            "student_refs": "100\n101",
            "purpose_es": "Seguir la asistencia de los estudiantes",
        },
        follow_redirects=True,
    )
    assert published.status_code == 200
    code = re.search(r"Consent request (CR-[0-9A-F]+)", published.text).group(1)  # type: ignore[union-attr]
    sign_in(client, "officer")
    review = client.get(f"/consent-requests/{code}")
    assert "Seguir la asistencia de los estudiantes" in review.text
    assert "Permission to share [student name]" in review.text
    client.post(f"/consent-requests/{code}/approve", data={"csrf_token": csrf(review.text)})

    sign_in(client, "parent0")
    home = client.get("/family?lang=es")
    assert "1 solicitud espera su respuesta" in home.text
    page = client.get(f"/family/requests/{code}", params={"student": student, "via": "email"})
    assert page.status_code == 200
    assert "Permiso para compartir los expedientes escolares de Stu0 Family0" in page.text
    sha = re.search(r'name="text_sha256" value="([0-9a-f]{64})"', page.text).group(1)  # type: ignore[union-attr]
    fields = {
        "csrf_token": csrf(page.text),
        "student": str(student),
        "language": "es",
        "text_sha256": sha,
        "via": "email",
        "decision": "signed",
    }
    missing = client.post(f"/family/requests/{code}/answer", data={**fields, "typed_name": "Pat Zero"})
    assert missing.status_code == 400
    assert "Marque la casilla" in missing.text
    assert f"next=/family/requests/{code}%3Fstudent%3D{student}%26via%3Demail" in missing.text
    stale = client.post(
        f"/family/requests/{code}/answer",
        data={**fields, "text_sha256": "0" * 64, "agree": "yes", "typed_name": "Pat Zero"},
    )
    assert stale.status_code == 400
    assert "El texto cambió" in stale.text
    signed = client.post(
        f"/family/requests/{code}/answer",
        data={**fields, "agree": "yes", "typed_name": "Pat Zero"},
        follow_redirects=True,
    )
    assert "Gracias. Su permiso quedó registrado" in signed.text
    assert "Partner Tester" in signed.text
    with transaction(sqlite_engine) as db:
        sig = db.scalar(select(ConsentSignature))
        assert sig is not None
        assert (sig.channel, sig.language, sig.auth_method, sig.client_address) == (
            "email_link",
            "es",
            "password",
            "testclient",
        )
        consent_id = sig.consent_id

    sign_in(client, "partner")
    listed = client.get("/api/v1/students").json()["students"]
    assert [s["id"] for s in listed] == [student]

    sign_in(client, "parent0")
    child = client.get(f"/family/children/{student}")
    revoked = client.post(
        f"/family/consents/{consent_id}/revoke", data={"csrf_token": csrf(child.text)}, follow_redirects=True
    )
    assert "Usted retiró su permiso" in revoked.text
    sign_in(client, "partner")
    assert client.get("/api/v1/students").json()["students"] == []


def test_other_families_records_answer_404_and_changes_need_csrf(
    client: TestClient, sqlite_engine: Engine, fam: Family
) -> None:
    mine, theirs = fam.world.students[:2]
    with transaction(sqlite_engine) as db:
        row = approved(db, fam, [mine, theirs])
        code = row.code
    sign_in(client, "parent0")
    assert client.get(f"/family/children/{theirs}").status_code == 404
    assert client.get("/family/children/999999").status_code == 404
    assert client.get(f"/family/requests/{code}", params={"student": theirs}).status_code == 404
    page = client.get(f"/family/children/{mine}")
    token = csrf(page.text)
    assert (
        client.post(
            f"/family/children/{theirs}/opt-outs", data={"csrf_token": token, "kind": "directory"}
        ).status_code
        == 404
    )
    assert client.post(f"/family/children/{mine}/opt-outs", data={"kind": "directory"}).status_code == 403
    assert client.post("/family/consents/1/revoke", data={"csrf_token": token}).status_code == 404
    sign_in(client, "principal")
    assert client.get("/family").status_code == 404
    assert client.get(f"/consent-requests/{code}").status_code == 404


def test_opt_outs_through_the_pages_and_the_schools_letters(
    client: TestClient, sqlite_engine: Engine, fam: Family
) -> None:
    student = fam.world.students[0]
    sign_in(client, "parent0")
    page = client.get(f"/family/children/{student}?lang=es")
    assert "Información del directorio" in page.text
    assert 'data-testid="directory-open"' in page.text
    done = client.post(
        f"/family/children/{student}/opt-outs",
        data={"csrf_token": csrf(page.text), "kind": "directory"},
        follow_redirects=True,
    )
    assert "Su exclusión quedó registrada" in done.text
    assert 'data-testid="directory-closed"' in done.text
    refused = client.post(
        f"/family/children/{student}/opt-outs",
        data={"csrf_token": csrf(page.text), "kind": "assessment", "letter": ""},
        follow_redirects=True,
    )
    assert "Escriba a qué exámenes" in refused.text
    client.post(
        f"/family/children/{student}/opt-outs",
        data={
            "csrf_token": csrf(page.text),
            "kind": "assessment",
            "letter": "No MAP test this spring, please.",
        },
    )
    sign_in(client, "principal")
    letters = client.get("/family/school/opt-outs")
    assert "No MAP test this spring, please." in letters.text
    with transaction(sqlite_engine) as db:
        letter = db.scalar(select(OptOutRequest).where(OptOutRequest.kind == "assessment"))
        assert letter is not None
        letter_id = letter.id
    client.post(f"/family/school/opt-outs/{letter_id}/acknowledge", data={"csrf_token": csrf(letters.text)})
    with transaction(sqlite_engine) as db:
        assert db.get_one(OptOutRequest, letter_id).acknowledged_at is not None
        told = db.scalar(select(Notification).where(Notification.kind == "family.opt_out.acknowledged"))
        assert told is not None
        assert told.subject.startswith("La escuela recibió")


def test_the_transparency_page_is_public_and_shows_no_student(
    client: TestClient, sqlite_engine: Engine, fam: Family
) -> None:
    client.cookies.clear()
    page = client.get("/transparency")
    assert page.status_code == 200
    assert "Tutoring Partners" in page.text
    assert fam.dsa_code in page.text
    assert 'data-testid="request-stats"' in page.text
    with transaction(sqlite_engine) as db:
        for student in db.scalars(select(Student)):
            assert student.first_name not in page.text
            assert student.last_name not in page.text
    spanish = client.get("/transparency/lakeside?lang=es")
    assert "Quién recibe datos de estudiantes, y por qué" in spanish.text
    assert client.get("/transparency/nowhere").status_code == 404
