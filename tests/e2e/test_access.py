"""A district data officer, in headless Chromium: who can see a student, then the settings page
(a loosening is refused, a tightening is saved)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from steward.accounts.service import create_account
from steward.store.db import transaction
from steward.store.fact_writer import write_facts
from steward.store.models import Person
from tests.policy.scenario import facts

pytestmark = pytest.mark.e2e

PASSWORD = "officer e2e pass"


def test_officer_who_can_see_and_settings(
    page: Page,
    sqlite_engine: Engine,
    live_server: Callable[[Engine], Any],
    screenshot: Callable[[Any, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STEWARD_MFA_REQUIRED_ROLES", "[]")  # sign-in hardening is tested elsewhere
    with transaction(sqlite_engine) as db:
        ids = write_facts(db, facts())
        officer = db.get_one(Person, ids.people["o1"])
        officer.given_name, officer.family_name = "Olga", "Officer"
        create_account(db, officer, "olga", PASSWORD)
    with live_server(sqlite_engine) as server:
        page.goto(f"{server.url}/login")
        page.get_by_label("Username").fill("olga")
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()

        page.goto(f"{server.url}/access")
        page.get_by_label("Student (DISTRICTCODE:LOCALID)").fill("d1:st1")
        page.get_by_label("At (date, or date and time; empty: now)").fill("2025-10-15T10:00")
        page.get_by_role("button", name="Show who can see").click()
        table = page.get_by_test_id("who-can-see")
        expect(table).to_contain_text("d1:st1")
        expect(table).to_contain_text("consent")
        expect(table).to_contain_text("consent:c1")
        expect(table).to_contain_text("teacher at s1")
        expect(page.get_by_test_id("anyone")).to_contain_text("directory information")
        screenshot(page, "who-can-see")

        page.get_by_label("Student (DISTRICTCODE:LOCALID)").fill("d2:nobody")
        page.get_by_role("button", name="Show who can see").click()
        expect(page.get_by_role("alert")).to_contain_text("No student")

        page.get_by_role("link", name="Your district's sharing settings").click()
        threshold = page.get_by_label("Suppress groups smaller than (10 or more)")
        threshold.fill("5")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_test_id("settings-error")).to_contain_text("below 10")
        page.get_by_label("Suppress groups smaller than (10 or more)").fill("15")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_test_id("saved")).to_contain_text("1 setting changed")
        expect(page.get_by_label("Suppress groups smaller than (10 or more)")).to_have_value("15")
        screenshot(page, "settings")
