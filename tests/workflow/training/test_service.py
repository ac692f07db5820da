"""Training completions count until the end of their school year."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from steward.domain.time import SchoolYear
from steward.store.db import transaction
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.training import service as training
from tests.workflow.conftest import TZ, YEAR, World
from tests.workflow.helpers import today


def test_record_and_withdraw(sqlite_engine: Engine, sqlite_world: World) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        row = training.record(db, w.p("officer"), person_id=w.p("partner").person_id, completed_on=today())
        assert row.school_year == YEAR
        assert row.valid_to == SchoolYear(YEAR).interval(TZ).end
        assert row.organization_id == w.partner
        with pytest.raises(WorkflowError, match="future"):
            training.record(
                db,
                w.p("officer"),
                person_id=w.p("partner").person_id,
                completed_on=today() + timedelta(days=3),
            )
        with pytest.raises(NotAllowedError):
            training.record(db, w.p("partner"), person_id=w.p("partner").person_id, completed_on=today())
        training.withdraw(db, w.p("officer"), row, "recorded for the wrong person")
        assert row.valid_to is not None
        assert row.valid_to <= SchoolYear(YEAR).interval(TZ).end
