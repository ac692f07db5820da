"""``steward emergency record``: a district data officer breaks the glass for one student (a health
or safety emergency, 34 CFR 99.36), and ``steward emergency end`` closes one early.

Exit codes: 0 recorded, 1 refused (the reason is printed and the attempt is in the audit log),
2 bad input (unknown person or student, empty threat).
"""

from __future__ import annotations

import typer
from sqlalchemy.orm import Session

from steward.cli.options import resolve_url
from steward.store.access import (
    NotFoundError,
    parse_instant,
    resolve_person,
    resolve_student,
    student_timezone,
)
from steward.store.db import make_engine, transaction
from steward.workflow import emergency as service
from steward.workflow.common import InvalidError, WorkflowError

EXIT_REFUSED = 1
EXIT_INVALID = 2


def _fail(message: str, code: int) -> typer.Exit:
    typer.secho(f"error: {message}", fg="red", err=True)
    return typer.Exit(code)


def register(app: typer.Typer) -> None:
    emergency = typer.Typer(help="Health or safety emergencies (break-glass, 34 CFR 99.36).")
    app.add_typer(emergency, name="emergency")

    @emergency.command("record")
    def record_cmd(
        person: str = typer.Option(..., "--as", help="the data officer's person code (or internal id)"),
        student: str = typer.Option(..., "--student", help="DISTRICTCODE:LOCALID (or internal id)"),
        threat: str = typer.Option(..., "--threat", help="the articulable and significant threat"),
        recipients: str = typer.Option("", "--recipients", help="who will receive the data"),
        at: str | None = typer.Option(None, "--at", help="ISO instant the emergency starts; default now"),
        database_url: str | None = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
    ) -> None:
        """Record an emergency: the engine then lets PERSON see STUDENT's data for the district's
        emergency window. Only a data officer of the student's district may."""
        engine = make_engine(resolve_url(database_url))
        try:
            with Session(engine) as db:
                try:
                    person_id = resolve_person(db, person)
                    student_id = resolve_student(db, student)
                    instant = parse_instant(at, student_timezone(db, student_id))
                except (NotFoundError, ValueError) as exc:
                    raise _fail(str(exc), EXIT_INVALID) from None
            try:
                with transaction(engine) as db:
                    row = service.record_emergency(
                        db, person_id, student_id, threat, recipients=recipients, at=instant
                    )
                    emergency_id, valid_to = row.id, row.valid_to
            except InvalidError as exc:
                raise _fail("; ".join(exc.problems), EXIT_INVALID) from None
            except WorkflowError as exc:
                with transaction(engine) as db:
                    service.log_refusal(db, person_id, student_id, exc.problems, at=instant)
                raise _fail("; ".join(exc.problems), EXIT_REFUSED) from None
        finally:
            engine.dispose()
        ends = "open-ended" if valid_to is None else f"until {valid_to.isoformat()}"
        typer.echo(f"emergency {emergency_id} recorded for {student}: {person} may see the records {ends}")

    @emergency.command("end")
    def end_cmd(
        emergency_id: int = typer.Argument(..., help="the emergency's id"),
        person: str = typer.Option(..., "--as", help="a data officer of the student's district"),
        database_url: str | None = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
    ) -> None:
        """End an emergency now: access under it stops at once."""
        engine = make_engine(resolve_url(database_url))
        try:
            try:
                with transaction(engine) as db:
                    person_id = resolve_person(db, person)
                    service.end_emergency(db, person_id, emergency_id)
            except NotFoundError as exc:
                raise _fail(str(exc), EXIT_INVALID) from None
            except WorkflowError as exc:
                raise _fail("; ".join(exc.problems), EXIT_REFUSED) from None
        finally:
            engine.dispose()
        typer.echo(f"emergency {emergency_id} ended")
