"""Every policy test file under tests/policy/cases passes through both evaluators."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.store.policy_runner import run_policy_file

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


def test_there_is_a_case_file_per_rule() -> None:
    names = {p.stem for p in CASES}
    rules = {"teacher", "principal", "registrar", "parent", "student", "partner", "partner_is", "researcher"}
    rules |= {"vendor", "agency", "media", "directory", "emergency", "hard_deny", "time", "tenant", "example"}
    assert rules <= names


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_file_passes(path: Path) -> None:
    result = run_policy_file(path)
    assert result.error is None, str(result.error)
    failures = [f"line {r.check.line} {r.check.name}: {'; '.join(r.problems)}" for r in result.failed]
    assert failures == []
    assert result.exit_code == 0
    assert len(result.results) >= 3
    # Each file shows both outcomes.
    assert {r.decision.allowed for r in result.results} == {True, False}
