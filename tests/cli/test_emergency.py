"""`steward emergency record | end`: the district's data officer breaks the glass from the command
line; anyone else is refused with the reason (exit 1, logged); bad input exits 2."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from steward.audit.models import AuditEvent
from steward.cli import app
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.store.access import check
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.fact_writer import write_facts
from steward.workflow.models import Emergency
from tests.policy.scenario import facts

runner = CliRunner()
THREAT = "Student reported a weapon on the bus; the sheriff's office needs the emergency contacts."


def _outcomes(engine: Engine) -> list[str]:
    with Session(engine) as db:
        return [
            json.loads(b)["outcome"]
            for b in db.scalars(
                select(AuditEvent.body).where(AuditEvent.action == "break_glass").order_by(AuditEvent.id)
            )
        ]


def test_record_and_end_from_the_command_line(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        ids = write_facts(db, facts())
    url = str(sqlite_engine.url)
    args = ["emergency", "record", "--student", "d1:st1", "--threat", THREAT, "--database-url", url]
    done = runner.invoke(app, [*args, "--as", "o1", "--recipients", "sheriff"])
    assert done.exit_code == 0, done.output
    assert "emergency 1 recorded for d1:st1" in done.output
    with Session(sqlite_engine) as db:
        row = db.scalars(select(Emergency)).one()
        assert row.recipients == "sheriff"
        decision = check(db, ids.people["o1"], ids.students["st1"], Dataset.PROGRAMS, now_utc())
    assert decision.basis is LegalBasis.HEALTH_SAFETY_EMERGENCY
    assert "emergency:1" in decision.evidence

    refused = runner.invoke(app, [*args, "--as", "t1"])
    assert refused.exit_code == 1
    assert "not acting as a district data officer" in refused.output
    assert _outcomes(sqlite_engine) == ["ok", "denied"]

    assert (
        runner.invoke(app, [*args[:-4], "--threat", " ", "--database-url", url, "--as", "o1"]).exit_code == 2
    )
    unknown = runner.invoke(
        app,
        [
            "emergency",
            "record",
            "--as",
            "o1",
            "--student",
            "d1:nobody",
            "--threat",
            THREAT,
            "--database-url",
            url,
        ],
    )
    assert unknown.exit_code == 2
    assert "no student 'nobody' in district 'd1'" in unknown.output
    assert runner.invoke(app, ["emergency", "end", "1", "--as", "t1", "--database-url", url]).exit_code == 1
    ended = runner.invoke(app, ["emergency", "end", "1", "--as", "o1", "--database-url", url])
    assert ended.exit_code == 0, ended.output
    with Session(sqlite_engine) as db:
        assert not check(db, ids.people["o1"], ids.students["st1"], Dataset.PROGRAMS, now_utc()).allowed
