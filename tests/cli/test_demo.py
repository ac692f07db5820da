"""`steward demo --no-serve`: the README's demo region with every persona able to sign in."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from steward.accounts.service import SignInOutcome, authenticate, current_roles
from steward.config import get_settings
from steward.demo.seed import DEMO_PASSWORD
from steward.domain.orgs import Role
from steward.store.db import make_engine

PERSONAS = {
    "officer": Role.DISTRICT_DATA_OFFICER,
    "panel": Role.REVIEW_PANEL_MEMBER,
    "principal": Role.PRINCIPAL,
    "teacher": Role.TEACHER,
    "registrar": Role.REGISTRAR,
    "partner": Role.PARTNER_STAFF,
    "researcher": Role.RESEARCHER,
    "parent": Role.PARENT,
    "vendor": Role.VENDOR_INTEGRATION,
    "analyst": Role.AGENCY_ANALYST,
}


def test_demo_builds_the_region_and_every_persona_signs_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.cli import app

    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        args = ["demo", "--no-serve", "--students", "300", "--districts", "2", "--years", "1"]
        result = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    database = tmp_path / "demo" / "steward.db"
    assert database.is_file()
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as db:
            for username, role in PERSONAS.items():
                assert username in result.output
                signed = authenticate(db, username, DEMO_PASSWORD, get_settings())
                assert signed.outcome is SignInOutcome.OK, username
                assert signed.account is not None
                roles = {r.role for r in current_roles(db, signed.account.person_id)}
                assert role.value in roles, (username, roles)
    finally:
        engine.dispose()
