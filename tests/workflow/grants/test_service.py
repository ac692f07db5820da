"""Grants by the district (and by a principal for IS partners), from a list, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from steward.store.db import transaction
from steward.store.models import Student
from steward.workflow.agreements import service as agreements
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.grants import service as grants
from tests.workflow.conftest import World


def test_officer_grants_from_a_list_and_revokes(sqlite_engine: Engine, sqlite_world: World) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        refs = [db.get_one(Student, s).local_id for s in w.students[:3]]
        with pytest.raises(WorkflowError, match="1 ID\\(s\\) match no student of the district: X-1"):
            grants.grant_from_list(
                db, w.p("officer"), organization_id=w.partner, refs=[*refs, "X-1"], datasets=["attendance"]
            )
        row = grants.grant_from_list(
            db, w.p("officer"), organization_id=w.partner, refs=refs, datasets=["attendance"]
        )
        assert grants.students_of(db, row.id) == sorted(w.students[:3])
        assert row.granted_by_person_id == w.p("officer").person_id
        assert row.valid_to is not None
        with pytest.raises(NotAllowedError):
            grants.grant(
                db,
                w.p("partner"),
                organization_id=w.partner,
                student_ids=w.students[:1],
                datasets=["attendance"],
            )
        grants.revoke(db, w.p("officer"), row, "program ended")
        assert row.status == "revoked"
        assert row.valid_to == row.revoked_at


def test_principal_grants_only_is_partners_and_own_students(
    sqlite_engine: Engine, sqlite_world: World
) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        with pytest.raises(NotAllowedError, match="Institutional Service"):
            grants.grant(
                db,
                w.p("principal"),
                organization_id=w.partner,
                student_ids=w.students[:1],
                datasets=["grades"],
            )
        designation = agreements.create(
            db,
            w.p("officer"),
            kind="is_designation",
            organization_id=w.partner,
            district_id=w.district,
            purpose="in-school tutoring",
            annual=True,
        )
        agreements.execute(db, w.p("officer"), designation)
        row = grants.grant(
            db, w.p("principal"), organization_id=w.partner, student_ids=w.students[:2], datasets=["grades"]
        )
        assert row.school_id == w.school
