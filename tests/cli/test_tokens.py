"""`steward token create | list | revoke` against a real database file; the token works as Bearer."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from steward.cli import app
from steward.config import Settings
from steward.store.db import transaction
from steward.web.app import create_app
from tests.accounts.world import build

runner = CliRunner()


def test_create_list_use_and_revoke(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    url = str(sqlite_engine.url)
    created = runner.invoke(
        app,
        ["token", "create", "--username", "olga", "--name", "sis sync", "--scope", "read", "--days", "30",
         "--database-url", url],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("stw_")
    with sqlite_engine.connect() as conn:
        assert (
            token.split("_", 2)[2]
            not in conn.execute(text("SELECT secret_hash FROM api_tokens")).scalar_one()
        )
    listed = runner.invoke(app, ["token", "list", "--database-url", url])
    assert listed.exit_code == 0, listed.output
    assert "sis sync" in listed.output
    assert "active" in listed.output
    assert token not in listed.output
    web = TestClient(create_app(Settings(database_url=url, secret_key="t"), sqlite_engine))
    headers = {"Authorization": f"Bearer {token}"}
    assert web.get("/api/v1/health", headers=headers).status_code == 200
    assert (
        web.get("/api/v1/ledger/recipients/999999", headers=headers).status_code == 404
    )  # authorized, no row
    revoked = runner.invoke(app, ["token", "revoke", "1", "--database-url", url])
    assert revoked.exit_code == 0, revoked.output
    assert web.get("/api/v1/ledger/recipients/999999", headers=headers).status_code == 401
    assert "revoked" in runner.invoke(app, ["token", "list", "--database-url", url]).output


def test_refusals_name_the_problem(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
    url = str(sqlite_engine.url)
    unknown = runner.invoke(
        app, ["token", "create", "--username", "nobody", "--name", "x", "--database-url", url]
    )
    assert unknown.exit_code == 2
    assert "no account named 'nobody'" in unknown.output
    scope = runner.invoke(
        app,
        ["token", "create", "--username", "olga", "--name", "x", "--scope", "root", "--database-url", url],
    )
    assert scope.exit_code == 2
    assert "unknown scope 'root'" in scope.output
    role = runner.invoke(
        app,
        ["token", "create", "--username", "olga", "--name", "x", "--role", "teacher", "--database-url", url],
    )
    assert role.exit_code == 2
    assert "district_data_officer at d1" in role.output
    assert runner.invoke(app, ["token", "revoke", "42", "--database-url", url]).exit_code == 2
