"""`steward report aggregate`: the district's threshold, CSV/XLSX with a legend, an audit event."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from steward.audit.models import AuditEvent
from steward.cli import app
from steward.domain.orgs import OrgKind
from steward.store.db import transaction
from steward.store.models import Organization, TenantSettings
from tests.sources.region import make_region

runner = CliRunner()


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_region(tmp_path_factory.mktemp("cli-report"), students=150, districts=1, seed=5)[0]


def _district(engine: Engine, threshold: int) -> None:
    with transaction(engine) as db:
        org = Organization(code="90001", kind=OrgKind.DISTRICT.value, name="Clearwater", flags=[])
        db.add(org)
        db.flush()
        db.add(TenantSettings(district_id=org.id, suppression_threshold=threshold))


def _args(drop: Path, out: Path, url: str, *extra: str) -> list[str]:
    return [
        "report", "aggregate", "--district", "90001", "--report", "enrollment", "--years", "2026",
        "--out", str(out), "--source", str(drop), "--database-url", url, *extra,
    ]  # fmt: skip


def test_report_uses_the_tenant_threshold(drop: Path, tmp_path: Path, sqlite_engine: Engine) -> None:
    _district(sqlite_engine, 15)
    out = tmp_path / "enrollment.csv"
    result = runner.invoke(app, _args(drop, out, str(sqlite_engine.url)))
    assert result.exit_code == 0, result.output
    assert "N<15" in result.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    notes = {r["suppression"] for r in rows}
    assert "N<15" in notes
    assert "N<10" not in notes
    assert all(r["n"] == "" or int(r["n"]) == 0 or int(r["n"]) >= 15 for r in rows)
    assert (tmp_path / "enrollment.legend.csv").exists()
    with sqlite_engine.connect() as conn:
        assert (
            conn.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "report.aggregate")
            )
            == 1
        )


def test_xlsx_report(drop: Path, tmp_path: Path, sqlite_engine: Engine) -> None:
    out = tmp_path / "enrollment.xlsx"
    result = runner.invoke(app, _args(drop, out, str(sqlite_engine.url)))
    assert result.exit_code == 0, result.output
    assert "not in the governance database" in result.output
    assert out.stat().st_size > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--years", "26"), "is not a school year"),
        (("--report", "lunch"), "unknown report"),
        (("--out", "report.txt"), "must end in .csv or .xlsx"),
    ],
)
def test_bad_options(drop: Path, tmp_path: Path, change: tuple[str, str], message: str) -> None:
    args = _args(drop, tmp_path / "r.csv", "sqlite://")
    position = args.index(change[0])
    args[position + 1] = change[1] if change[0] != "--out" else str(tmp_path / change[1])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_missing_source(tmp_path: Path, sqlite_engine: Engine) -> None:
    result = runner.invoke(app, _args(tmp_path / "nowhere", tmp_path / "r.csv", str(sqlite_engine.url)))
    assert result.exit_code == 2
    assert "neither a drop directory nor a PostgreSQL URL" in result.output
