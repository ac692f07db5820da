"""`steward sso add | list | link | disable`; the provider then signs people in (see tests/accounts)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from steward.accounts.models import OidcIdentity, OidcProvider
from steward.cli import app
from steward.store.db import transaction
from tests.accounts.world import build

runner = CliRunner()


def test_add_list_link_disable(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    url = str(sqlite_engine.url)
    monkeypatch.setenv("LAKESIDE_OIDC_SECRET", "very-secret-value")
    monkeypatch.setenv("STEWARD_SECRET_KEY", "cli-sso-test")
    from steward.config import get_settings

    get_settings.cache_clear()
    try:
        added = runner.invoke(
            app,
            ["sso", "add", "--district", "d1", "--slug", "lakeside", "--name", "Lakeside Google",
             "--discovery-url", "https://accounts.example.org/.well-known/openid-configuration",
             "--client-id", "abc", "--client-secret-env", "LAKESIDE_OIDC_SECRET", "--database-url", url],
        )  # fmt: skip
        assert added.exit_code == 0, added.output
        with sqlite_engine.connect() as conn:
            stored = conn.execute(text("SELECT client_secret_encrypted FROM oidc_providers")).scalar_one()
        assert "very-secret-value" not in stored
        plain = runner.invoke(
            app,
            ["sso", "add", "--district", "d1", "--slug", "plain", "--name", "x", "--client-id", "a",
             "--discovery-url", "http://evil.example/.well-known/openid-configuration",
             "--database-url", url],
        )  # fmt: skip
        assert plain.exit_code == 2
        assert "https" in plain.output
        listed = runner.invoke(app, ["sso", "list", "--database-url", url])
        assert "Lakeside Google" in listed.output
        assert "very-secret-value" not in listed.output
        linked = runner.invoke(
            app,
            [
                "sso",
                "link",
                "--slug",
                "lakeside",
                "--subject",
                "g-1",
                "--username",
                "tina",
                "--database-url",
                url,
            ],
        )
        assert linked.exit_code == 0, linked.output
        assert runner.invoke(app, ["sso", "disable", "lakeside", "--database-url", url]).exit_code == 0
        with Session(sqlite_engine) as db:
            assert db.scalar(select(OidcIdentity.subject)) == "g-1"
            provider = db.scalar(select(OidcProvider))
            assert provider is not None
            assert provider.active is False
    finally:
        get_settings.cache_clear()
