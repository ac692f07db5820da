"""Done when (issue 7): in headless Chromium, a registrar of district B receives a transferred
student's records from district A, and the parent sees the transfer in the child's ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyrage
import pytest
from playwright.sync_api import Page, expect
from pyrage import x25519
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.cli.demo import build_demo
from steward.delivery.recipients import register_key
from steward.demo.seed import DEMO_PASSWORD
from steward.store.db import make_engine, transaction
from steward.store.models import Account, Guardianship, Organization, RoleAssignment, Student
from steward.workflow.transfers.settings import set_settings
from tests.delivery.conftest import untar

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    directory = tmp_path_factory.mktemp("transfer-demo") / "demo"
    url, _ = build_demo(directory, districts=2, students=300, years=2, seed=17)
    engine = make_engine(url)
    yield engine, directory
    engine.dispose()


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _setup(engine: Engine, directory: Path) -> tuple[Student, str, x25519.Identity]:
    """District B's key; district A's source is its drop; the parent persona's child."""
    identity = x25519.Identity.generate()
    with transaction(engine) as db:
        registrar = db.scalar(select(Account).where(Account.username == "registrar"))
        parent = db.scalar(select(Account).where(Account.username == "parent"))
        assert registrar is not None
        assert parent is not None
        receiving_id = db.scalar(
            select(RoleAssignment.organization_id).where(RoleAssignment.person_id == registrar.person_id)
        )
        receiving = db.get(Organization, receiving_id)
        assert receiving is not None
        child = db.scalar(
            select(Student)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .where(Guardianship.person_id == parent.person_id)
            .order_by(Student.id)
        )
        assert child is not None
        sending = db.get(Organization, child.district_id)
        assert sending is not None
        assert sending.id != receiving.id
        register_key(db, receiving.id, str(identity.to_public()), "registrar office")
        set_settings(db, sending.id, source_path=directory / "region" / sending.code)
        return child, receiving.name, identity


def test_registrar_receives_a_transferred_students_records_and_the_parent_sees_it(
    page: Page,
    demo: tuple[Engine, Path],
    live_server: Callable[[Engine], Any],
    screenshot: Callable[[Any, str], Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    engine, directory = demo
    monkeypatch.setenv("STEWARD_MFA_REQUIRED_ROLES", "[]")
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path / "var"))
    child, receiving_name, identity = _setup(engine, directory)
    with live_server(engine) as server:
        _sign_in(page, server.url, "registrar")
        page.get_by_role("link", name="Request an incoming student's records").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Incoming students' records")
        page.get_by_label("State student ID").fill(child.state_id or "")
        page.get_by_label("First name").fill(child.first_name.upper())
        page.get_by_label("Last name").fill(child.last_name)
        page.get_by_label("Birth date").fill(child.birth_date.isoformat())
        with page.expect_navigation():
            page.get_by_role("button", name="Request the records").click()
        expect(page.get_by_test_id("transfer-status")).to_contain_text("Records ready to receive")
        expect(page.get_by_test_id("transfer-package")).to_contain_text(
            "transfer (34 CFR 99.31(a)(2), 99.34)"
        )
        screenshot(page, "registrar-delivered")
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Receive the encrypted records").click()
        download = download_info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        members = untar(pyrage.decrypt(saved.read_bytes(), [identity]))
        district_file = next(v for k, v in members.items() if "DistrictStudent" in k)
        assert f"\t{child.local_id}\t{child.state_id}\t".encode() in district_file
        page.reload()
        expect(page.get_by_test_id("transfer-status")).to_contain_text("Records received")
        expect(page.get_by_test_id("transfer-package")).to_contain_text("shredded")
        page.get_by_role("button", name="Sign out").click()

        _sign_in(page, server.url, "parent")
        page.goto(f"{server.url}/ledger")
        page.get_by_role("link", name=child.display_name).click()
        lines = page.get_by_test_id("ledger-line")
        expect(lines.first).to_contain_text(receiving_name)
        expect(page.get_by_test_id("ledger")).to_contain_text(
            "A school where the student seeks or intends to enroll"
        )
        expect(page.get_by_test_id("ledger")).to_contain_text("Sent as an encrypted package")
        screenshot(page, "parent-ledger")
    with Session(engine) as db:
        assert not list((tmp_path / "var" / "delivery" / "outbox").rglob("*.age"))
        assert db.get(Student, child.id) is not None
