"""`steward check`, `steward who-can-see` and `steward policy test` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from steward.cli import app
from steward.store.db import transaction
from steward.store.fact_writer import FactIds, write_facts
from tests.policy.scenario import facts

runner = CliRunner()
CASES = Path(__file__).resolve().parents[1] / "policy" / "cases"


@pytest.fixture
def region(engine: Engine) -> tuple[str, FactIds]:
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    return engine.url.render_as_string(hide_password=False), ids


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_check_allows_with_basis_and_evidence(region: tuple[str, FactIds]) -> None:
    url, _ = region
    code, out = _run(
        "check",
        "--as",
        "w1",
        "--student",
        "d1:st1",
        "--dataset",
        "attendance",
        "--at",
        "2025-10-15T10:00:00-07:00",
        "--json",
        "--database-url",
        url,
    )
    assert code == 0, out
    decision = json.loads(out)
    assert decision["allowed"] is True
    assert decision["basis"] == "consent"
    assert decision["citation"] == "34 CFR 99.30"
    assert any(e == "consent:c1" for e in decision["evidence"])


def test_check_denies_with_reasons(region: tuple[str, FactIds]) -> None:
    url, ids = region
    code, out = _run(
        "check",
        "--as",
        "w1",
        "--student",
        str(ids.students["st1"]),
        "--dataset",
        "discipline",
        "--at",
        "2025-10-15",
        "--database-url",
        url,
    )
    assert code == 1
    assert "DENY discipline (identifiable) of d1:st1" in out
    assert "no consent from a guardian of student d1:st1" in out


def test_check_in_one_capacity_and_after_the_year(region: tuple[str, FactIds]) -> None:
    url, _ = region
    base = ["check", "--as", "t1", "--student", "d1:st1", "--dataset", "grades", "--database-url", url]
    assert _run(*base, "--at", "2025-10-15", "--role", "teacher", "--org", "s1")[0] == 0
    assert _run(*base, "--at", "2026-07-01", "--role", "teacher")[0] == 1
    assert _run(*base, "--at", "2025-10-15", "--role", "principal")[0] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as", "nobody", "--student", "d1:st1"], "no person with code 'nobody'"),
        (["--as", "t1", "--student", "d9:st1"], "no student 'st1' in district 'd9'"),
        (["--as", "t1", "--student", "st1"], "DISTRICTCODE:LOCALID"),
        (["--as", "t1", "--student", "d1:st1", "--at", "yesterday"], "not a date or ISO instant"),
    ],
)
def test_bad_input_exits_2_with_a_message(region: tuple[str, FactIds], args: list[str], message: str) -> None:
    url, _ = region
    code, out = _run("check", *args, "--dataset", "grades", "--database-url", url)
    assert code == 2
    assert message in out


def test_who_can_see(region: tuple[str, FactIds]) -> None:
    url, _ = region
    code, out = _run(
        "who-can-see", "d1:st1", "--at", "2025-10-15T10:00:00-07:00", "--json", "--database-url", url
    )
    assert code == 0, out
    result = json.loads(out)
    seen = {(a["person"], a["dataset"], a["basis"]) for a in result["access"]}
    assert ("t1", "grades", "school_official") in seen
    assert ("pr1", "discipline", "school_official") in seen
    assert ("p1", "grades", "parent_or_eligible_student") in seen
    assert ("w1", "attendance", "consent") in seen
    assert ("w1", "discipline", "consent") not in seen
    assert ("r2", "grades", "transfer") in seen
    assert ("o1", "enrollment", "school_official") in seen
    assert ("t2", "grades", "school_official") not in seen  # last year's teacher
    assert {"s1", "cbo1", "d2", "d1"} <= set(result["organizations"])
    assert result["anyone"]["basis"] == "directory_information"
    code, out = _run("who-can-see", "d1:st1", "--at", "2025-03-01", "--database-url", url)
    assert code == 0
    assert "t2" in out
    assert "Anyone: directory information" in out


def test_policy_test_passes_the_case_files() -> None:
    code, out = _run("policy", "test", str(CASES / "example.yaml"), str(CASES / "partner.yaml"))
    assert code == 0, out
    assert "example.yaml: 7 checks, 7 passed" in out


def test_policy_test_reports_failures_with_lines(tmp_path: Path) -> None:
    text = (
        (CASES / "example.yaml")
        .read_text()
        .replace(
            "- {as: t1, student: st1, dataset: attendance, expect: allow, basis: school_official}",
            "- {as: t1, student: st1, dataset: attendance, expect: deny}",
        )
    )
    path = tmp_path / "wrong.yaml"
    path.write_text(text)
    code, out = _run("policy", "test", str(path))
    assert code == 1
    assert f"{path}:22: FAIL" in out
    assert "expected deny, got allow" in out
    code, out = _run("policy", "test", str(path), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["failed"] == 1
    failed = next(c for c in report["checks"] if not c["passed"])
    assert failed["line"] == 22
    assert failed["set"] == {"visible": True, "basis": "school_official"}


def test_policy_test_invalid_file_exits_2_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("now: 2025-10-15\nfacts:\n  students: [{id: st1, district: d1}]\nchecks: []\n")
    code, out = _run("policy", "test", str(path))
    assert code == 2
    assert f"{path}:3:" in out
    assert "birth_date is required" in out
