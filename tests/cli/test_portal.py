"""`steward portal nightly` and `steward portal warm` on an imported region."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from steward.cli import app
from tests.products.portal.conftest import load, portal_data

__all__ = ["portal_data"]
runner = CliRunner()


def test_nightly_and_warm(sqlite_engine: Engine, portal_data: Path) -> None:
    load(sqlite_engine, portal_data)
    url = str(sqlite_engine.url)
    warm = runner.invoke(app, ["portal", "warm", "--database-url", url, "--data-dir", str(portal_data)])
    assert warm.exit_code == 0, warm.output
    assert "lines in 10 files" in warm.output
    early = ["portal", "nightly", "--database-url", url, "--data-dir", str(portal_data)]
    result = runner.invoke(app, [*early, "--at", "2030-01-15T09:00:00+00:00"])  # 01:00 in Seattle
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    night = runner.invoke(app, [*early, "--at", "2030-01-15T11:00:00+00:00"])
    assert night.exit_code == 0, night.output
    assert (
        "rainier-youth-tutoring: " in night.output
    )  # skipped or empty: no key registered, or consents ended
    again = runner.invoke(app, [*early, "--at", "2030-01-15T12:00:00+00:00"])
    assert "nothing to do" in again.output
    bad = runner.invoke(app, [*early, "--at", "2030-01-15T11:00:00"])
    assert bad.exit_code != 0
    assert "time zone" in bad.output
