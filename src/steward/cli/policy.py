"""Decision commands: ``steward check``, ``steward who-can-see`` and ``steward policy test``.

People are given by their person code (``17001-staff-42``) and students as
``DISTRICTCODE:LOCALID`` (the district's own student ID); both also accept the internal id.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from steward.cli.options import resolve_url
from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.policy import Form
from steward.store.access import (
    NotFoundError,
    check,
    parse_instant,
    resolve_org,
    resolve_person,
    resolve_student,
    student_timezone,
    who_can_see,
)
from steward.store.db import make_engine
from steward.store.policy_runner import EXIT_INVALID, FileResult, run_policy_file

console = Console()


def _fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    typer.secho(f"error: {message}", fg="red", err=True)
    return typer.Exit(code)


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_cmd(
        person: str = typer.Option(..., "--as", help="person code (or internal id)"),
        student: str = typer.Option(..., "--student", help="DISTRICTCODE:LOCALID (or internal id)"),
        dataset: Dataset = typer.Option(..., "--dataset"),
        form: Form = typer.Option(Form.IDENTIFIABLE, "--form"),
        at: str | None = typer.Option(None, "--at", help="ISO instant or date (local midnight); default now"),
        role: Role | None = typer.Option(None, "--role", help="only this capacity of the person"),
        org: str | None = typer.Option(None, "--org", help="only at this organization (code)"),
        purpose: str = typer.Option("", "--purpose"),
        as_json: bool = typer.Option(False, "--json", help="print the decision as JSON"),
        database_url: str | None = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
    ) -> None:
        """May PERSON see DATASET of STUDENT (at an instant)? Exit 0 allowed, 1 denied, 2 bad input."""
        engine = make_engine(resolve_url(database_url))
        try:
            with engine.connect() as db:
                try:
                    person_id = resolve_person(db, person)
                    student_id = resolve_student(db, student)
                    org_id = None if org is None else resolve_org(db, org)
                    instant = parse_instant(at, student_timezone(db, student_id))
                except (NotFoundError, ValueError) as exc:
                    raise _fail(str(exc)) from None
                decision = check(
                    db, person_id, student_id, dataset, instant, form, purpose, role=role, org=org_id
                )
        finally:
            engine.dispose()
        if as_json:
            typer.echo(json.dumps(decision.to_dict(), indent=2))
        else:
            typer.echo(decision.explain())
        raise typer.Exit(0 if decision.allowed else 1)

    @app.command("who-can-see")
    def who_can_see_cmd(
        student: str = typer.Argument(..., help="DISTRICTCODE:LOCALID (or internal id)"),
        at: str | None = typer.Option(None, "--at", help="ISO instant or date (local midnight); default now"),
        as_json: bool = typer.Option(False, "--json"),
        database_url: str | None = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
    ) -> None:
        """Every person and organization that could see STUDENT's data at an instant, per dataset,
        with the legal basis and the evidence."""
        engine = make_engine(resolve_url(database_url))
        try:
            with engine.connect() as db:
                try:
                    student_id = resolve_student(db, student)
                    instant = parse_instant(at, student_timezone(db, student_id))
                except (NotFoundError, ValueError) as exc:
                    raise _fail(str(exc)) from None
                result = who_can_see(db, student_id, instant)
        finally:
            engine.dispose()
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
            return
        console.print(f"Who could see {result.student_code} at {result.at.isoformat()}", highlight=False)
        table = Table("dataset", "who", "as", "form", "basis", "evidence")
        for a in result.accesses:
            basis = a.decision.basis
            table.add_row(
                a.dataset.value,
                f"{a.person_code}" + (f" ({a.person_name})" if a.person_name else ""),
                f"{a.role}" + (f" at {a.org_code}" if a.org_code else ""),
                a.decision.form.value,
                "" if basis is None else basis.display(),
                ", ".join(a.decision.evidence),
            )
        console.print(table)
        if result.directory is not None:
            elements = ", ".join(result.directory.elements or ())
            console.print(
                f"Anyone: directory information ({elements}), 34 CFR 99.31(a)(11), 99.37", highlight=False
            )
        else:
            console.print(
                f"Anyone: no directory information ({'; '.join(result.directory_missing)})", highlight=False
            )

    policy_app = typer.Typer(
        help="Policy tests: facts and expected decisions in YAML (docs/policy-tests.md)."
    )
    app.add_typer(policy_app, name="policy")

    @policy_app.command("test")
    def policy_test_cmd(
        files: list[Path] = typer.Argument(..., help="policy test files (YAML)"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Run policy test files through both evaluators. Exit 0 all pass, 1 some fail, 2 invalid file."""
        results = [run_policy_file(path) for path in files]
        if as_json:
            payload = [r.to_dict() for r in results]
            typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
        else:
            for result in results:
                _print_result(result)
        raise typer.Exit(max(r.exit_code for r in results))


def _print_result(result: FileResult) -> None:
    """Plain lines (``FILE:LINE: FAIL ...``), never wrapped, so editors and CI can jump to them."""
    if result.error is not None:
        typer.secho(f"{result.error} (invalid file)", fg="red", err=True)
        return
    for r in result.failed:
        c = r.check
        label = c.name or f"{c.person} {c.dataset.value} of {c.student}"
        typer.echo(f"{result.path}:{c.line}: " + typer.style("FAIL", fg="red") + f" {label}")
        for problem in r.problems:
            typer.echo(f"    {problem}")
    total = len(result.results)
    failed = len(result.failed)
    summary = f"{result.path}: {total} checks, {total - failed} passed"
    typer.echo(summary + (typer.style(f", {failed} failed", fg="red") if failed else ""))
