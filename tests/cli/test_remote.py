"""`steward remote check | students` against the real app served by uvicorn on 127.0.0.1, with tokens
issued by the token service; refusals (no token, http to another host, 401, 403, no hub) are one
clear line, never a traceback, and never show the token."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from sqlalchemy import Engine, select
from typer.testing import CliRunner, Result

from steward.accounts.service import create_account
from steward.accounts.tokens import create_token
from steward.cli import app
from steward.config import Settings
from steward.store.db import transaction
from steward.store.fact_writer import write_facts
from steward.store.models import Person, RoleAssignment
from steward.web.app import create_app
from tests.policy.scenario import facts

NOW = "2025-10-15T17:00:00Z"
runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Hub:
    url: str
    token: str  # decisions:write and students:read, acting as partner staff w1
    read_only: str  # read: no decisions (a POST)


@pytest.fixture
def hub(sqlite_engine: Engine) -> Iterator[Hub]:
    settings = Settings(database_url=str(sqlite_engine.url), secret_key="remote-test")
    with transaction(sqlite_engine) as db:
        ids = write_facts(db, facts())
        person = db.get(Person, ids.people["w1"])
        assert person is not None
        account = create_account(db, person, "w1", "partner pass 1")
        role = db.scalar(select(RoleAssignment).where(RoleAssignment.person_id == person.id))
        assert role is not None
        token = create_token(
            db,
            account,
            role,
            settings,
            name="remote cli",
            scopes=["decisions:write", "students:read"],
            days=7,
        ).text
        read_only = create_token(db, account, role, settings, name="reader", scopes=["read"], days=7).text
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, sqlite_engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield Hub(f"http://127.0.0.1:{port}", token, read_only)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _run(args: list[str], token: str | None) -> Result:
    result = runner.invoke(app, ["remote", *args], env={"STEWARD_TOKEN": token})
    if token:
        assert token not in result.output
    assert "Traceback" not in result.output
    return result


def test_check_answers_with_basis_or_what_is_missing(hub: Hub) -> None:
    allowed = _run(
        ["check", "--hub", hub.url + "/", "--student", "d1:st1", "--dataset", "attendance", "--at", NOW],
        hub.token,
    )
    assert allowed.exit_code == 0, allowed.output
    assert "ALLOWED: attendance (identifiable) of student d1:st1" in allowed.stdout
    assert "consent (34 CFR 99.30)" in allowed.stdout
    assert "consent:c1" in allowed.stdout
    denied = _run(
        ["check", "--hub", hub.url, "--student", "d1:st1", "--dataset", "discipline", "--at", NOW],
        hub.token,
    )
    assert denied.exit_code == 1, denied.output
    assert "DENIED" in denied.stdout
    assert "no consent" in denied.stdout
    as_json = _run(
        ["check", "--hub", hub.url, "--student", "d1:st1", "--dataset", "attendance", "--form",
         "aggregate", "--at", NOW, "--json"],
        hub.token,
    )  # fmt: skip
    assert as_json.exit_code == 0, as_json.output
    decision = json.loads(as_json.stdout)
    assert decision["allowed"] is True
    assert decision["form"] == "aggregate"
    assert decision["student"] == "d1:st1"
    stranger = _run(
        ["check", "--hub", hub.url, "--student", "d1:nobody", "--dataset", "attendance", "--at", NOW],
        hub.token,
    )
    assert stranger.exit_code == 1
    assert "you may not see any record of this student" in stranger.stdout


def test_students_lists_every_page(hub: Hub) -> None:
    listed = _run(["students", "--hub", hub.url, "--at", NOW, "--page-size", "1", "--json"], hub.token)
    assert listed.exit_code == 0, listed.output
    students = json.loads(listed.stdout)["students"]
    codes = [s["code"] for s in students]
    assert "d1:st1" in codes
    assert len(codes) == len(set(codes))
    (st1,) = [s for s in students if s["code"] == "d1:st1"]
    assert st1["datasets"]["attendance"] == "consent"
    table = _run(["students", "--hub", hub.url, "--at", NOW], hub.token)
    assert table.exit_code == 0, table.output
    assert "d1:st1" in table.stdout
    assert f"{len(codes)} students" in table.stdout


def test_refusals_are_one_clear_line(hub: Hub) -> None:
    ask = ["check", "--student", "d1:st1", "--dataset", "attendance", "--at", NOW]
    missing = _run([*ask, "--hub", hub.url], None)
    assert missing.exit_code == 2
    assert "set STEWARD_TOKEN" in missing.output
    clear_text = _run([*ask, "--hub", "http://steward.example.org"], hub.token)
    assert clear_text.exit_code == 2
    assert "use https" in clear_text.output
    wrong = _run([*ask, "--hub", hub.url], "stw_0000000000000000_not-a-real-secret")
    assert wrong.exit_code == 2
    assert "the hub refused the token (401" in wrong.output
    narrow = _run([*ask, "--hub", hub.url], hub.read_only)
    assert narrow.exit_code == 2
    assert "forbids this call (403" in narrow.output
    assert "decisions:write" in narrow.output
    assert _run(["students", "--hub", hub.url, "--at", NOW], hub.read_only).exit_code == 0
    bad_instant = _run([*ask[:-1], "yesterday", "--hub", hub.url], hub.token)
    assert bad_instant.exit_code == 2
    assert "not an ISO 8601 instant" in bad_instant.output
    nobody = _run([*ask, "--hub", f"http://127.0.0.1:{_free_port()}"], hub.token)
    assert nobody.exit_code == 2
    assert "cannot reach the hub at http://127.0.0.1:" in nobody.output
