"""Run a policy test file through both evaluators: the point evaluator over the file's facts in
memory, and the set evaluator over the same facts loaded into a temporary migrated SQLite
database. A check passes when both agree and both meet the expectation."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.domain.legal import LegalBasis
from steward.policy import Decision, decide_person
from steward.policy.testfile import Check, PolicyFileError, PolicyTestFile, parse_policy_file
from steward.store.db import make_engine, migrate, transaction
from steward.store.fact_writer import FactIds, write_facts
from steward.store.visibility import visible_among

EXIT_PASS, EXIT_FAIL, EXIT_INVALID = 0, 1, 2


@dataclass
class CheckResult:
    check: Check
    decision: Decision
    #: The set evaluator's basis for this student and dataset (None: not in the visible set).
    set_basis: LegalBasis | None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        c = self.check
        return {
            "line": c.line,
            "name": c.name,
            "as": c.person,
            "student": c.student,
            "dataset": c.dataset.value,
            "form": c.form.value,
            "at": c.at.isoformat(),
            "expect": "allow" if c.expect_allow else "deny",
            "passed": self.passed,
            "problems": self.problems,
            "point": self.decision.to_dict(),
            "set": {
                "visible": self.set_basis is not None,
                "basis": None if self.set_basis is None else self.set_basis.value,
            },
        }


@dataclass
class FileResult:
    path: str
    results: list[CheckResult] = field(default_factory=list)
    error: PolicyFileError | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return EXIT_INVALID
        return EXIT_PASS if all(r.passed for r in self.results) else EXIT_FAIL

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.path, "exit_code": self.exit_code}
        if self.error is not None:
            out["error"] = {"line": self.error.line, "message": self.error.message}
            return out
        out["checks"] = [r.to_dict() for r in self.results]
        out["passed"] = sum(r.passed for r in self.results)
        out["failed"] = len(self.failed)
        return out


_template: Path | None = None


def _migrated_copy(directory: Path) -> str:
    """A fresh migrated SQLite file (migrations run once per process, then copied)."""
    global _template
    if _template is None or not _template.exists():
        holder = Path(tempfile.mkdtemp(prefix="steward-policy-tpl-"))
        atexit.register(shutil.rmtree, holder, True)
        path = holder / "template.db"
        migrate(f"sqlite:///{path}")
        _template = path
    target = directory / "facts.db"
    shutil.copyfile(_template, target)
    return f"sqlite:///{target}"


def expectations(check: Check, decision: Decision) -> list[str]:
    """What the check expects that the decision does not give."""
    problems: list[str] = []
    if decision.allowed != check.expect_allow:
        got = "allow" if decision.allowed else "deny"
        reason = f" (basis {decision.basis.value})" if decision.basis else ""
        if not decision.allowed:
            reason = f" (missing: {'; '.join(decision.missing)})"
        problems.append(f"expected {'allow' if check.expect_allow else 'deny'}, got {got}{reason}")
    if check.basis is not None and decision.allowed and decision.basis is not check.basis:
        actual = "none" if decision.basis is None else decision.basis.value
        problems.append(f"expected basis {check.basis.value}, got {actual}")
    for text in check.missing_contains:
        if not any(text.lower() in m.lower() for m in decision.missing):
            listed = "; ".join(decision.missing) or "none"
            problems.append(f"no missing requirement mentions {text!r} (missing: {listed})")
    for text in check.evidence_contains:
        if not any(text in e for e in decision.evidence):
            listed = ", ".join(decision.evidence) or "none"
            problems.append(f"no evidence id contains {text!r} (evidence: {listed})")
    kinds = {o.kind.value for o in decision.obligations}
    for text in check.obligations_contains:
        if text not in kinds:
            problems.append(f"no obligation {text!r} (obligations: {', '.join(sorted(kinds)) or 'none'})")
    return problems


def run_parsed(parsed: PolicyTestFile) -> FileResult:
    result = FileResult(parsed.path)
    with tempfile.TemporaryDirectory(prefix="steward-policy-") as tmp:
        engine = make_engine(_migrated_copy(Path(tmp)))
        try:
            with transaction(engine) as db:
                ids = write_facts(db, parsed.facts)
            with engine.connect() as conn:
                for check in parsed.checks:
                    result.results.append(_run_check(conn, parsed, ids, check))
        finally:
            engine.dispose()
    return result


def _run_check(conn: Any, parsed: PolicyTestFile, ids: FactIds, check: Check) -> CheckResult:
    decision = decide_person(
        parsed.facts,
        check.person,
        check.student,
        check.dataset,
        check.form,
        check.at,
        check.purpose,
        role=check.role,
        org=check.org,
    )
    seen = visible_among(
        conn,
        ids.people[check.person],
        check.at,
        [ids.students[check.student]],
        role=check.role,
        org=None if check.org is None else ids.orgs[check.org],
        form=check.form,
        datasets=[check.dataset],
        purpose=check.purpose,
    )
    set_basis = seen.get(ids.students[check.student], {}).get(check.dataset)
    outcome = CheckResult(check, decision, set_basis, expectations(check, decision))
    point_basis = decision.basis if decision.allowed else None
    if point_basis != set_basis:
        outcome.problems.append(
            "the evaluators disagree: point "
            + (f"allows ({point_basis.value})" if point_basis else "denies")
            + ", set "
            + (f"allows ({set_basis.value})" if set_basis else "denies")
        )
    return outcome


def run_policy_file(path: str | Path) -> FileResult:
    """Parse and run one file; an unreadable or invalid file gives a result with ``error``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FileResult(name, error=PolicyFileError(name, 0, f"cannot read the file: {exc}"))
    try:
        parsed = parse_policy_file(text, name)
    except PolicyFileError as exc:
        return FileResult(name, error=exc)
    return run_parsed(parsed)
