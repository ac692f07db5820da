"""`steward audit verify | checkpoint | export-key` on a real database file."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from steward.audit import EventSpec, append_many
from steward.cli import app
from steward.store.db import transaction
from tests import factories as f

runner = CliRunner()


def _seed(engine: Engine) -> None:
    with transaction(engine) as db:
        district = f.org(db, "lakeside", "district").id
        append_many(db, [EventSpec(action="x.y", district_id=district, details={"i": i}) for i in range(5)])


def test_verify_checkpoint_and_export_key(sqlite_engine: Engine, tmp_path: Path) -> None:
    _seed(sqlite_engine)
    url = str(sqlite_engine.url)
    signed = runner.invoke(app, ["audit", "checkpoint", "--database-url", url, "--data-dir", str(tmp_path)])
    assert signed.exit_code == 0, signed.output
    assert "signed district:1 at seq 5" in signed.output
    key = tmp_path / "lakeside.pem"
    exported = runner.invoke(
        app,
        [
            "audit",
            "export-key",
            "--district",
            "lakeside",
            "--out",
            str(key),
            "--database-url",
            url,
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert "BEGIN PUBLIC KEY" in key.read_text()
    ok = runner.invoke(app, ["audit", "verify", "--key", str(key), "--database-url", url])
    assert ok.exit_code == 0, ok.output
    assert "district:1: 5 events, 1 checkpoints: ok" in ok.output

    with sqlite_engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET body = body || ' ' WHERE seq = 3"))
    broken = runner.invoke(app, ["audit", "verify", "--json", "--database-url", url])
    assert broken.exit_code == 1
    report = json.loads(broken.output)
    assert report["ok"] is False
    assert report["problems"][0]["seq"] == 3
    assert report["problems"][0]["kind"] == "changed"
    partial = runner.invoke(app, ["audit", "verify", "--from", "4", "--database-url", url])
    assert partial.exit_code == 0, partial.output


def test_unknown_district_and_bad_key_file_are_clear_errors(sqlite_engine: Engine, tmp_path: Path) -> None:
    url = str(sqlite_engine.url)
    missing = runner.invoke(app, ["audit", "export-key", "--district", "nope", "--database-url", url])
    assert missing.exit_code == 2
    assert "no district with code 'nope'" in missing.output
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    refused = runner.invoke(app, ["audit", "verify", "--key", str(bad), "--database-url", url])
    assert refused.exit_code == 2
    assert "no PEM public key found" in refused.output


def test_verify_in_database(engine: Engine) -> None:
    """--in-database reaches verify (the server hashes on PostgreSQL; SQLite checks in Python)."""
    _seed(engine)
    url = engine.url.render_as_string(hide_password=False)
    ok = runner.invoke(app, ["audit", "verify", "--in-database", "--json", "--database-url", url])
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.output)
    assert report["ok"] is True
    assert report["events"] == 5
