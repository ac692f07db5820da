"""Done when (issue 10), in headless Chromium on the demo region with a local SMTP sink: a partner
publishes a consent request, the district approves it, a parent opens the e-mailed link and signs in
Spanish, the partner sees the student in its list at once and downloads a report, the parent takes
the consent back and the partner loses the student at once; the transparency page lists the partner;
the parent's record of disclosures shows the download, in Spanish. And every family page (with
the child's ledger, the account page, the start page and sign-in), in English and Spanish, at 320 px wide: no
horizontal scroll, no serious or critical axe-core violation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from steward.accounts.service import create_account
from steward.cli.demo import build_demo
from steward.demo.seed import DEMO_PASSWORD
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.family import requests
from steward.policy.rules.common import adult_cutoff
from steward.store.base import now_utc
from steward.store.db import make_engine, transaction
from steward.store.models import (
    Account,
    Guardianship,
    Organization,
    Person,
    RoleAssignment,
    SchoolEnrollment,
    Student,
)
from steward.store.visibility import all_visible
from tests.e2e.a11y import axe_check, no_horizontal_scroll
from tests.e2e.workflow_support import wait_for_mail
from tests.family.conftest import family_principal
from tests.workflow.conftest import SmtpSink

pytestmark = pytest.mark.e2e

PARTNER = "Rainier Youth Tutoring"


@dataclass
class Demo:
    engine: Engine
    data: Path
    district: int
    #: username -> (student id, student local ID)
    families: dict[str, tuple[int, str]]


def _family(db: Any, district: Organization, taken: set[int], username: str, email: str) -> tuple[int, str]:
    """A minor enrolled now, with an unrestricted guardian and no access yet for the partner; the
    guardian gets a parent login."""
    at = now_utc()
    cutoff = adult_cutoff(date.today())
    row = db.execute(
        select(Student.id, Student.local_id, Guardianship.person_id)
        .join(Guardianship, Guardianship.student_id == Student.id)
        .join(SchoolEnrollment, SchoolEnrollment.student_id == Student.id)
        .where(
            Student.district_id == district.id,
            Student.legal_restriction.is_(False),
            Student.birth_date > cutoff,
            Student.id.not_in(taken or {0}),
            Guardianship.restricted.is_(False),
            Guardianship.valid_at(at),
            SchoolEnrollment.valid_at(at),
            Guardianship.person_id.not_in(select(Account.person_id)),
        )
        .order_by(Student.id)
        .limit(1)
    ).first()
    assert row is not None, "the demo region has no family to test with"
    student_id, local_id, guardian = row
    person = db.get(Person, guardian)
    person.email = email
    db.add(
        RoleAssignment(person_id=guardian, role=Role.PARENT.value, organization_id=district.id, valid_from=at)
    )
    create_account(db, person, username, DEMO_PASSWORD)
    db.flush()
    taken.add(student_id)
    return student_id, local_id


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data = tmp_path_factory.mktemp("family-e2e") / "data"
    url, _ = build_demo(data / "demo", districts=2, students=400, years=2, seed=11)
    engine = make_engine(url)
    with transaction(engine) as db:
        officer = db.scalar(select(Account.person_id).where(Account.username == "officer"))
        district_id = db.scalar(
            select(RoleAssignment.organization_id).where(
                RoleAssignment.person_id == officer, RoleAssignment.role == Role.DISTRICT_DATA_OFFICER.value
            )
        )
        district = db.get_one(Organization, district_id)
        partner_person = db.scalar(select(Account.person_id).where(Account.username == "partner"))
        assert partner_person is not None
        taken = set(all_visible(db, partner_person, now_utc(), directory_information=False))
        families = {
            "famparent": _family(db, district, taken, "famparent", "famparent@example.org"),
            "a11yparent": _family(db, district, taken, "a11yparent", "a11yparent@example.org"),
        }
    yield Demo(engine, data, district.id, families)
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def server(
    demo: Demo, smtp: SmtpSink, live_server: Callable[[Engine], Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    monkeypatch.setenv("STEWARD_MFA_REQUIRED_ROLES", "[]")
    monkeypatch.setenv("STEWARD_DATA_DIR", str(demo.data))
    monkeypatch.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("STEWARD_SMTP_PORT", str(smtp.port))
    with live_server(demo.engine) as running:
        yield running


def sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def click(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def partner_list(page: Page, base: str, local_id: str) -> Any:
    page.goto(f"{base}/portal/students?q={local_id}")
    return page.get_by_test_id("list-count")


def test_done_when_consent_signed_in_spanish_seen_at_once_revoked_at_once(
    page: Page, demo: Demo, server: Any, smtp: SmtpSink, screenshot: Callable[[Any, str], Path]
) -> None:
    base = server.url
    student_id, local_id = demo.families["famparent"]

    # The partner publishes a consent request for its program's student.
    sign_in(page, base, "partner")
    page.goto(f"{base}/consent-requests/new")
    page.get_by_label("Program name", exact=True).fill("After-school tutoring")
    page.get_by_label("Why you need the records (the purpose)").fill(
        "Follow the attendance and grades of the students we tutor"
    )
    page.get_by_label("Your organization in two or three sentences").fill(
        "Rainier Youth Tutoring helps students with homework after school."
    )
    for dataset in ("directory", "attendance", "grades"):
        page.locator(f"#ds-{dataset}").check()
    page.get_by_label("Your program's students: district or state student IDs, one per line").fill(local_id)
    page.get_by_text("Your own wording in Español (es), optional").click()
    page.locator("#purpose_es").fill(
        "Seguir la asistencia y las calificaciones de los estudiantes que ayudamos"
    )
    click(page, "Publish for the district's review")
    expect(page.get_by_test_id("consent-request-status")).to_have_text("submitted")
    code = re.search(r"(CR-[0-9A-F]+)", page.url).group(1)  # type: ignore[union-attr]
    expect(partner_list(page, base, local_id)).to_contain_text("No student matches")

    # The district approves the wording.
    sign_in(page, base, "officer")
    page.goto(f"{base}/consent-requests")
    page.get_by_role("link", name=code).click()
    expect(page.get_by_test_id("preview-es")).to_contain_text("Seguir la asistencia y las calificaciones")
    click(page, "Approve the wording and notify the families")
    expect(page.get_by_test_id("consent-request-status")).to_have_text("approved")

    # The parent follows the e-mailed link, reads in Spanish and signs.
    body = wait_for_mail(smtp, "famparent@example.org", "Permission to share")
    link = re.search(r"https?://[^\s]+/family/requests/[^\s]+", body).group(0)  # type: ignore[union-attr]
    path = link.split("://", 1)[1].split("/", 1)[1]
    sign_in(page, base, "famparent")
    page.goto(f"{base}/{path}")
    page.get_by_test_id("languages").get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Permiso para compartir los expedientes escolares"
    )
    expect(page.get_by_test_id("consent-text")).to_contain_text("Seguir la asistencia y las calificaciones")
    screenshot(page, "parent-reads-in-spanish")
    page.get_by_label("Leí este texto. Estoy de acuerdo y quiero dar este permiso.").check()
    page.get_by_label("Escriba su nombre completo para firmar").fill("Guardian of " + local_id)
    click(page, "Firmar: sí, doy permiso")
    expect(page.get_by_test_id("done")).to_contain_text("Gracias. Su permiso quedó registrado")
    expect(page.get_by_test_id("who-can-see")).to_contain_text(PARTNER)
    screenshot(page, "parent-signed")
    assert "Firma ES-" in wait_for_mail(smtp, "famparent@example.org", f"Usted dio permiso a {PARTNER}")

    # The partner sees the student at once, and downloads a report.
    sign_in(page, base, "partner")
    expect(partner_list(page, base, local_id)).to_contain_text("Showing 1–1 of 1 student")
    expect(page.get_by_test_id("student-list")).to_contain_text(local_id)
    page.goto(f"{base}/portal/reports")
    with page.expect_download() as download:
        page.get_by_test_id("report-attendance_summary").get_by_role("button").click()
    assert download.value.suggested_filename.endswith(".csv")
    assert local_id in Path(download.value.path()).read_text()

    # The parent takes the consent back; the partner loses the student at once.
    sign_in(page, base, "famparent")
    page.goto(f"{base}/family/children/{student_id}")
    click(page, f"Retirar este permiso a {PARTNER}")
    expect(page.get_by_test_id("done")).to_contain_text("Usted retiró su permiso")
    sign_in(page, base, "partner")
    expect(partner_list(page, base, local_id)).to_contain_text("No student matches")

    # The public transparency page lists the partner (no sign-in).
    page.context.clear_cookies()
    page.goto(f"{base}/transparency")
    expect(page.get_by_test_id("organizations").first).to_contain_text(PARTNER)
    expect(page.locator("main")).not_to_contain_text(local_id)

    # The parent's record of disclosures shows the partner's download.
    sign_in(page, base, "famparent")
    page.goto(f"{base}/family/children/{student_id}")
    page.get_by_test_id("ledger-link").click()
    # In the language the parent chose above (remembered for the account, so also after sign-in).
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quién ha visto o recibido los datos de")
    line = page.get_by_test_id("ledger-line").filter(has_text=PARTNER).first
    expect(line).to_contain_text("Descargado")
    screenshot(page, "parent-ledger")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_family_pages_are_accessible_at_320_px(
    page: Page, demo: Demo, server: Any, axe_script: Path, lang: str, screenshot: Callable[[Any, str], Path]
) -> None:
    base = server.url
    student_id, _ = demo.families["a11yparent"]
    with transaction(demo.engine) as db:
        code = _offer(db, demo, student_id)
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, base, "a11yparent")
    pages = [
        ("home", f"/family?lang={lang}"),
        ("child", f"/family/children/{student_id}"),
        ("request", f"/family/requests/{code}?student={student_id}"),
        ("transparency", "/transparency"),
        ("ledger", f"/ledger/students/{student_id}"),
        ("ledger children", "/ledger"),
        ("account", "/account"),
        ("start page", "/"),
    ]
    for name, path in pages:
        page.goto(f"{base}{path}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        no_horizontal_scroll(page, f"{name} ({lang})")
        axe_check(page, axe_script, f"{name} ({lang})")
        screenshot(page, f"{name}-{lang}-320")
    # After answering: the request page with its history, and the child page with the consent.
    page.goto(f"{base}/family/requests/{code}?student={student_id}")
    page.locator("#agree").check()
    page.locator("#typed_name").fill("A11y Parent")
    with page.expect_navigation():
        page.get_by_test_id("sign-form").get_by_role("button").click()
    for name, path in (
        ("child signed", f"/family/children/{student_id}"),
        ("request signed", f"/family/requests/{code}?student={student_id}"),
    ):
        page.goto(f"{base}{path}")
        no_horizontal_scroll(page, f"{name} ({lang})")
        axe_check(page, axe_script, f"{name} ({lang})")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Take back|Retirar")).click()
    page.context.clear_cookies()
    page.goto(f"{base}/transparency?lang={lang}")
    no_horizontal_scroll(page, f"public transparency ({lang})")
    axe_check(page, axe_script, f"public transparency ({lang})")
    page.goto(f"{base}/login")  # the choice is remembered on this browser before anyone signs in
    expect(page.locator("html")).to_have_attribute("lang", lang)
    no_horizontal_scroll(page, f"sign-in ({lang})")
    axe_check(page, axe_script, f"sign-in ({lang})")
    screenshot(page, f"sign-in-{lang}-320")


def _offer(db: Any, demo: Demo, student_id: int) -> str:
    """An approved consent request for the student, published and approved through the services."""
    partner = db.scalar(select(Account).where(Account.username == "partner"))
    officer = db.scalar(select(Account).where(Account.username == "officer"))
    partner_org = db.scalar(
        select(RoleAssignment.organization_id).where(RoleAssignment.person_id == partner.person_id)
    )
    district = db.get_one(Organization, demo.district)
    org = db.get_one(Organization, partner_org)
    who = Principal(
        partner.person_id, "demo-partner", Role.PARTNER_STAFF, org.id, org.code, org.kind, "Marcus Bell"
    )  # type: ignore[arg-type]
    row = requests.publish(
        db,
        who,
        requests.RequestInput(
            district.id,
            "Homework club",
            "See attendance to plan the homework club",
            "We run a homework club.",
            ["attendance"],
            [db.get_one(Student, student_id).local_id],
        ),
    )
    officer_principal = family_principal(db, officer.person_id, district.id, Role.DISTRICT_DATA_OFFICER)
    requests.approve(db, officer_principal, row)
    return row.code
