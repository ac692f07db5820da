"""`steward sweep`, `steward worker` (refused while another holds the lease) and
`steward consent-template`."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from steward.cli import app
from steward.workflow.consents.bulk import COLUMNS
from steward.workflow.worker import runner as worker

runner = CliRunner()


def test_sweep_runs_every_sweep(sqlite_engine: Engine, tmp_path: Path) -> None:
    url = str(sqlite_engine.url)
    result = runner.invoke(app, ["sweep", "--database-url", url, "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("expire_agreements", "sla_reminders", "renewal_reminders", "send_mail"):
        assert name in result.output
    bad = runner.invoke(app, ["sweep", "--database-url", url, "--at", "2027-07-01T07:00:00"])
    assert bad.exit_code != 0
    assert "time zone" in bad.output


def test_worker_refuses_when_the_lease_is_held(sqlite_engine: Engine) -> None:
    worker.acquire(sqlite_engine, "another-host:1")
    result = runner.invoke(app, ["worker", "--database-url", str(sqlite_engine.url)])
    assert result.exit_code == 3
    assert "exactly one may run" in result.output


def test_consent_template(tmp_path: Path) -> None:
    csv_path, xlsx_path = tmp_path / "t.csv", tmp_path / "t.xlsx"
    assert runner.invoke(app, ["consent-template", str(csv_path)]).exit_code == 0
    assert csv_path.read_text().splitlines()[0] == ",".join(COLUMNS)
    assert runner.invoke(app, ["consent-template", str(xlsx_path)]).exit_code == 0
    sheet = load_workbook(io.BytesIO(xlsx_path.read_bytes()), read_only=True).worksheets[0]
    assert list(next(sheet.iter_rows(values_only=True))) == list(COLUMNS)
    again = runner.invoke(app, ["consent-template", str(csv_path)])
    assert again.exit_code != 0
    assert "exists" in again.output
