"""Portal personas in headless Chromium on the demo region: partner, teacher, principal, counselor
and parent open their student lists and Student-at-a-Glance pages; the partner downloads the
workbook and is refused a student outside its grant. axe-core (from npm, injected into each page)
finds no serious or critical accessibility violation; screenshots are saved as artefacts."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from steward.accounts.service import create_account
from steward.cli.demo import build_demo
from steward.demo.partner import PARTNER
from steward.demo.seed import DEMO_PASSWORD
from steward.domain.orgs import Role
from steward.store.base import now_utc
from steward.store.db import make_engine, transaction
from steward.store.models import Account, Guardianship, Organization, Person, RoleAssignment, Student
from steward.workflow.models import Consent
from tests.e2e.a11y import axe_check

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    data = tmp_path_factory.mktemp("portal-e2e") / "data"
    url, _ = build_demo(data / "demo", districts=2, students=400, years=2, seed=11)
    engine = make_engine(url)
    with transaction(engine) as db:
        principal_person = db.scalar(select(Account.person_id).where(Account.username == "principal"))
        school = db.scalar(
            select(RoleAssignment.organization_id).where(
                RoleAssignment.person_id == principal_person, RoleAssignment.role == Role.PRINCIPAL.value
            )
        )
        counselor = Person(code="demo-counselor", given_name="Cary", family_name="Counsel")
        db.add(counselor)
        db.flush()
        db.add(
            RoleAssignment(
                person_id=counselor.id,
                role=Role.COUNSELOR.value,
                organization_id=school,
                valid_from=now_utc().replace(year=2020),
            )
        )
        create_account(db, counselor, "counselor", DEMO_PASSWORD)
    yield engine, data
    engine.dispose()


@pytest.fixture
def server(
    demo: tuple[Engine, Path], live_server: Callable[[Engine], Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    engine, data = demo
    monkeypatch.setenv("STEWARD_MFA_REQUIRED_ROLES", "[]")
    monkeypatch.setenv("STEWARD_DATA_DIR", str(data))
    with live_server(engine) as running:
        yield running


def sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def open_first_student(page: Page) -> int:
    link = page.get_by_test_id("student-row").first.get_by_role("link")
    href = link.get_attribute("href") or ""
    with page.expect_navigation():
        link.click()
    expect(page.get_by_test_id("why-panel")).to_be_visible()
    return int(href.rsplit("/", 1)[1])


def test_partner(
    page: Page,
    server: Any,
    demo: tuple[Engine, Path],
    axe_script: Path,
    screenshot: Callable[[Any, str], Path],
) -> None:
    engine, _ = demo
    sign_in(page, server.url, "partner")
    with page.expect_navigation():
        page.get_by_test_id("next-steps").get_by_role("link", name="See your students").click()
    expect(page.get_by_test_id("list-count")).to_contain_text("of 60 students")
    axe_check(page, axe_script, "partner list")
    screenshot(page, "partner-students")

    with page.expect_navigation():
        page.get_by_role("columnheader", name=re.compile(r"^Grade")).get_by_role("link").click()
    expect(page.locator("th[aria-sort]")).to_contain_text("Grade")
    first_id = page.get_by_test_id("student-row").first.locator("td").nth(1).inner_text().split()[0]
    page.get_by_label("Search by name or student ID").fill(first_id)
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("list-count")).to_contain_text("Showing 1–1 of 1 student")

    student = open_first_student(page)
    expect(page.get_by_test_id("section-programs")).to_contain_text("Not shared with you")
    expect(page.get_by_test_id("section-programs")).to_contain_text("What would be needed")
    expect(page.locator("[data-dataset-attendance]")).to_contain_text("34 CFR 99.30")
    expect(page.locator("[data-dataset-attendance]")).to_contain_text("signed consent")
    axe_check(page, axe_script, "partner glance")
    screenshot(page, "partner-glance")

    with transaction(engine) as db:
        stranger = db.scalar(select(Student.id).where(Student.id != student).order_by(Student.id.desc()))
    page.goto(f"{server.url}/portal/students/{stranger}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    screenshot(page, "partner-idor-404")

    page.goto(f"{server.url}/portal/reports")
    expect(page.get_by_test_id("reports-students")).to_contain_text("60 students")
    expect(page.get_by_test_id("reports-hidden")).to_contain_text("Program participation")
    axe_check(page, axe_script, "partner reports")
    screenshot(page, "partner-reports")
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download the workbook (Excel)").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(caught.value.path()).read_bytes()), read_only=True)
    assert book.sheetnames[0] == "README"
    assert "12 Program participation" not in book.sheetnames
    page.goto(f"{server.url}/portal/reports")
    expect(page.get_by_test_id("reports-history")).to_contain_text("on demand, download")


def _staff(
    page: Page, server: Any, axe_script: Path, screenshot: Callable[[Any, str], Path], username: str
) -> None:
    sign_in(page, server.url, username)
    page.goto(f"{server.url}/portal/students")
    expect(page.get_by_test_id("student-list")).to_be_visible()
    axe_check(page, axe_script, f"{username} list")
    screenshot(page, f"{username}-students")
    open_first_student(page)
    for key in ("attendance", "assessment", "courses", "programs", "discipline"):
        expect(page.get_by_test_id(f"section-{key}")).not_to_contain_text("Not shared with you")
    expect(page.locator("[data-dataset-attendance]")).to_contain_text("99.31(a)(1)")
    axe_check(page, axe_script, f"{username} glance")
    screenshot(page, f"{username}-glance")


def test_teacher(page: Page, server: Any, axe_script: Path, screenshot: Callable[[Any, str], Path]) -> None:
    _staff(page, server, axe_script, screenshot, "teacher")
    expect(page.locator("svg.pygal-chart").first).to_be_visible()


def test_principal_and_counselor(
    page: Page, server: Any, axe_script: Path, screenshot: Callable[[Any, str], Path]
) -> None:
    _staff(page, server, axe_script, screenshot, "principal")
    _staff(page, server, axe_script, screenshot, "counselor")
    page.goto(f"{server.url}/portal/reports")
    expect(page.get_by_test_id("reports-table")).to_contain_text("Program participation")


def _consented_child(engine: Engine) -> int:
    """The demo parent's child in the partner's tutoring program (signed consent)."""
    with transaction(engine) as db:
        parent = db.scalar(select(Account.person_id).where(Account.username == "parent"))
        child = db.scalar(
            select(Guardianship.student_id)
            .join(Consent, Consent.student_id == Guardianship.student_id)
            .join(Organization, Organization.id == Consent.organization_id)
            .where(Guardianship.person_id == parent, Organization.code == PARTNER)
            .order_by(Guardianship.student_id)
            .limit(1)
        )
    assert child is not None, "the demo parent's child is not in the partner's program"
    return child


def test_parent(
    page: Page,
    server: Any,
    demo: tuple[Engine, Path],
    axe_script: Path,
    screenshot: Callable[[Any, str], Path],
) -> None:
    engine, _ = demo
    # The partner looks at the child first, so the child's ledger has a disclosure to show.
    sign_in(page, server.url, "partner")
    page.goto(f"{server.url}/portal/students/{_consented_child(engine)}")
    expect(page.get_by_test_id("why-panel")).to_be_visible()
    sign_in(page, server.url, "parent")
    with page.expect_navigation():
        page.get_by_test_id("next-steps").get_by_role("link", name="See your children").click()
    expect(page.get_by_test_id("list-count")).to_contain_text("1 student")
    axe_check(page, axe_script, "parent list")
    open_first_student(page)
    ledger = page.get_by_test_id("glance-ledger")
    expect(ledger).to_be_visible()
    expect(ledger).to_contain_text("Rainier Youth Tutoring")  # the partner's view above
    expect(page.locator("[data-dataset-attendance]")).to_contain_text("99.10")
    axe_check(page, axe_script, "parent glance")
    screenshot(page, "parent-glance")
    assert re.search(r"/portal/students/\d+$", page.url)
