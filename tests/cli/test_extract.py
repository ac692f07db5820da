"""`steward extract`: a package for an agreement, or the refusal's reasons and exit code 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from steward.cli import app
from steward.policy.facts import AgreementStatus
from tests.products.extract.governance import setup_governance
from tests.sources.region import make_region

runner = CliRunner()


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_region(tmp_path_factory.mktemp("cli-extract"), students=500, districts=1, seed=8)[0]


def _args(code: str, out: Path, drop: Path, engine: Engine) -> list[str]:
    return [
        "extract",
        "--agreement",
        code,
        "--out",
        str(out),
        "--source",
        str(drop),
        "--database-url",
        str(engine.url),
    ]


def test_extract_writes_the_package(drop: Path, tmp_path: Path, sqlite_engine: Engine) -> None:
    gov = setup_governance(sqlite_engine, drop)
    gov.agreement("STUDY-1")
    out = tmp_path / "pkg"
    result = runner.invoke(app, _args("STUDY-1", out, drop, sqlite_engine))
    assert result.exit_code == 0, result.output
    assert "k=" in result.output
    assert str(out / "extract.csv") in result.output
    risk = json.loads((out / "risk_report.json").read_text())
    assert risk["agreement"] == "STUDY-1"
    assert risk["k_achieved"] >= 10
    again = runner.invoke(app, _args("STUDY-1", out, drop, sqlite_engine))
    assert again.exit_code == 2
    assert "must be a new or empty directory" in again.output


def test_refusal_lists_the_reasons(drop: Path, tmp_path: Path, sqlite_engine: Engine) -> None:
    gov = setup_governance(sqlite_engine, drop)
    gov.agreement("STUDY-1", status=AgreementStatus.SUBMITTED.value, school_years=[2001])
    result = runner.invoke(app, _args("STUDY-1", tmp_path / "pkg", drop, sqlite_engine))
    assert result.exit_code == 3
    assert "extract refused for STUDY-1" in result.output
    assert "is not executed (status: submitted)" in result.output
    assert "covers no school year" in result.output
    assert not (tmp_path / "pkg").exists()
