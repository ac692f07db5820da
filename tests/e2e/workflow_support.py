"""Shared pieces of the workflow e2e tests: a world with password logins, a local SMTP sink,
sign-in and e-mail helpers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from steward.accounts.service import create_account
from steward.store.db import transaction
from steward.store.models import Person
from tests.workflow.conftest import SmtpSink, World, build_world

PASSWORD = "workflow e2e pass"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def world(sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpSink) -> World:
    monkeypatch.setenv("STEWARD_MFA_REQUIRED_ROLES", "[]")
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("STEWARD_SMTP_PORT", str(smtp.port))
    with transaction(sqlite_engine) as db:
        w = build_world(db, tmp_path)
        for name, principal in w.people.items():
            create_account(db, db.get_one(Person, principal.person_id), name, PASSWORD)
    return w


def sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def click(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def wait_for_mail(smtp: SmtpSink, address: str, subject_part: str, timeout: float = 20) -> str:
    """The body of the first e-mail to ``address`` whose subject contains ``subject_part``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.to(address):
            if subject_part in str(message["Subject"]):
                payload = message.get_payload(decode=True)
                return payload.decode() if isinstance(payload, bytes) else str(payload)
        time.sleep(0.1)
    raise AssertionError(f"no e-mail to {address} about {subject_part!r}; got {smtp.subjects()}")


def status_is(page: Page, text: str) -> None:
    expect(page.get_by_test_id("request-status")).to_have_text(text)
