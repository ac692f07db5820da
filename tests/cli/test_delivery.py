"""`steward delivery add-key | link | recover | sweep`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from steward.cli import app
from steward.delivery.packages import release
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.workflow.models import Agreement
from tests.delivery.conftest import make_world

runner = CliRunner()


def test_keys_links_recovery_and_sweep(sqlite_engine: Engine, tmp_path: Path) -> None:
    world = make_world(sqlite_engine, tmp_path)
    url = str(sqlite_engine.url)
    key = tmp_path / "key.pub"
    key.write_text(world.ssh_key.export_public_key().decode())
    added = runner.invoke(app, ["delivery", "add-key", "tutors", str(key), "--database-url", url])
    assert added.exit_code == 0, added.output
    assert "registered ssh key" in added.output
    bad = tmp_path / "bad.pub"
    bad.write_text("ssh-dss AAAA")
    refused = runner.invoke(app, ["delivery", "add-key", "tutors", str(bad), "--database-url", url])
    assert refused.exit_code == 2
    assert "expected an age public key" in refused.output
    with transaction(sqlite_engine) as db:
        package = release(db, world.data_dir, world.request())
    made = runner.invoke(app, ["delivery", "link", str(package.id), "--hours", "2", "--database-url", url])
    assert made.exit_code == 0, made.output
    assert "/d/" in made.output
    recovered = runner.invoke(
        app, ["delivery", "recover", "--database-url", url, "--data-dir", str(world.data_dir)]
    )
    assert recovered.output.strip() == "moved 0, removed 0"
    ended = now_utc() - timedelta(days=50)
    with transaction(sqlite_engine) as db:
        agreement = db.get(Agreement, world.agreement)
        assert agreement is not None
        agreement.valid_to = ended
    swept = runner.invoke(
        app, ["delivery", "sweep", "--database-url", url, "--data-dir", str(world.data_dir)]
    )
    assert swept.exit_code == 0, swept.output
    assert f"destruction task 1 due {ended + timedelta(days=45):%Y-%m-%d}" in swept.output
    assert "5 days overdue, escalation level 1" in swept.output
    again = runner.invoke(
        app, ["delivery", "sweep", "--database-url", url, "--data-dir", str(world.data_dir)]
    )
    assert again.output.strip() == "no new escalations"
