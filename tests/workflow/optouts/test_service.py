"""Opt-outs with a start and an optional end; they belong to the student, not the enrollment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from steward.store.db import transaction
from steward.workflow.common import WorkflowError
from steward.workflow.optouts import service as optouts
from tests.workflow.conftest import World
from tests.workflow.helpers import today


def test_record_and_end(sqlite_engine: Engine, sqlite_world: World) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        row = optouts.record(
            db, w.p("officer"), student_id=w.students[0], kind="directory", starts_on=today(), source="letter"
        )
        assert row.valid_to is None
        with pytest.raises(WorkflowError, match="choose one of"):
            optouts.record(db, w.p("officer"), student_id=w.students[0], kind="everything", starts_on=today())
        with pytest.raises(WorkflowError, match="ends before"):
            optouts.record(
                db,
                w.p("officer"),
                student_id=w.students[0],
                kind="assessment",
                starts_on=today(),
                ends_on=today(),
            )
        optouts.end(db, w.p("officer"), row, today() + timedelta(days=30))
        assert row.valid_to is not None
