"""A teacher and a parent sign in to the demo region in headless Chromium and see their homes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from steward.cli.demo import build_demo
from steward.demo.seed import DEMO_PASSWORD, Persona
from steward.store.db import make_engine

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, list[Persona]]]:
    url, personas = build_demo(tmp_path_factory.mktemp("demo"), districts=2, students=400, years=2, seed=11)
    engine = make_engine(url)
    yield engine, personas
    engine.dispose()


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_teacher_and_parent_see_their_homes(
    page: Page,
    demo: tuple[Engine, list[Persona]],
    live_server: Callable[[Engine], Any],
    screenshot: Callable[[Any, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, personas = demo
    by_name = {p.username: p for p in personas}
    monkeypatch.setenv("STEWARD_MFA_REQUIRED_ROLES", "[]")  # the second factor is tested elsewhere
    with live_server(engine) as server:
        sign_in(page, server.url, "teacher")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
        expect(page.locator("main")).to_contain_text("signed in as teacher")
        expect(page.locator("dl.facts")).to_contain_text("Your sections this year")
        expect(page.get_by_test_id("next-steps")).to_contain_text("See your students")
        screenshot(page, "teacher-home")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{server.url}/login")

        sign_in(page, server.url, "parent")
        expect(page.locator("main")).to_contain_text("signed in as parent")
        expect(page.locator("main")).to_contain_text(by_name["parent"].organization)
        expect(page.locator("dl.facts")).to_contain_text("Children linked to your account")
        screenshot(page, "parent-home")


def test_wrong_password_shows_a_message(
    page: Page, demo: tuple[Engine, list[Persona]], live_server: Callable[[Engine], Any]
) -> None:
    engine, _ = demo
    with live_server(engine) as server:
        page.goto(f"{server.url}/login")
        page.get_by_label("Username").fill("teacher")
        page.get_by_label("Password").fill("wrong")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("do not match an active account")
