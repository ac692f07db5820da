"""A consent is pending until verified; rejection needs a reason; revocation ends it at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from steward.store.base import now_utc
from steward.store.db import transaction
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.consents import service as consents
from steward.workflow.history import history_of
from tests.workflow.conftest import YEAR, World
from tests.workflow.helpers import today


def test_verify_reject_and_revoke(sqlite_engine: Engine, sqlite_world: World) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        record: dict[str, object] = {
            "organization_id": w.partner,
            "signed_on": today() - timedelta(days=1),
            "school_year": YEAR,
            "datasets": ["attendance"],
            "purpose": "tutoring",
            "guardian_name": "Pat",
        }
        first = consents.record(
            db,
            w.p("partner"),
            student_id=w.students[0],
            signed_by_person_id=w.guardians[w.students[0]],
            **record,
        )  # type: ignore[arg-type]
        stranger = consents.record(
            db,
            w.p("partner"),
            student_id=w.students[1],
            signed_by_person_id=w.guardians[w.students[0]],
            **record,
        )  # type: ignore[arg-type]
        with pytest.raises(NotAllowedError):
            consents.verify(db, w.p("partner"), first)
        consents.verify(db, w.p("officer"), first)
        assert first.status == "verified"
        assert first.reviewed_by_person_id == w.p("officer").person_id
        with pytest.raises(WorkflowError, match="not a guardian of record"):
            consents.verify(db, w.p("officer"), stranger)
        with pytest.raises(WorkflowError, match="reason"):
            consents.reject(db, w.p("officer"), stranger, " ")
        consents.reject(db, w.p("officer"), stranger, "signed by someone who is not the guardian")
        assert stranger.status == "rejected"
        when = now_utc()
        consents.revoke(db, w.p("officer"), first, "parent withdrew", at=when)
        assert first.status == "revoked"
        assert first.valid_to == when
        assert [h.action for h in history_of(db, "consent", first.id)] == ["recorded", "verified", "revoked"]
        with pytest.raises(WorkflowError, match="future"):
            consents.record(
                db,
                w.p("partner"),
                student_id=w.students[2],
                signed_by_person_id=w.guardians[w.students[2]],
                **{**record, "signed_on": today() + timedelta(days=2)},
            )  # type: ignore[arg-type]
