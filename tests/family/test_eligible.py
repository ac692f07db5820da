"""Eligible students: the district opens the family portal for a student at 18 (a student login
linked to their record); before 18 it refuses."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from steward.accounts.lifecycle import accept_invitation
from steward.config import Settings
from steward.domain.orgs import Role
from steward.family import eligible, portal
from steward.family.common import Capacity
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Student
from steward.workflow.common import NotAllowedError, WorkflowError
from tests.family.conftest import Family, family_principal


def test_the_district_opens_the_portal_at_18(
    sqlite_engine: Engine, sqlite_family: Family, tmp_path: Path
) -> None:
    fam = sqlite_family
    adult, soon, child = fam.world.students[:3]
    today = now_utc().date()
    settings = Settings(secret_key="t", data_dir=tmp_path)
    with transaction(sqlite_engine) as db:
        db.get_one(Student, adult).birth_date = date(today.year - 18, 1, 1) - timedelta(days=1)
        db.get_one(Student, soon).birth_date = date(today.year - 18, today.month, today.day) + timedelta(
            days=20
        )
        db.flush()
        rows = eligible.candidates(db, fam.officer)
        assert [c.student.id for c in rows] == [adult, soon]
        assert not any(c.has_login for c in rows)
        with pytest.raises(NotAllowedError):
            eligible.candidates(db, fam.partner)
        with pytest.raises(WorkflowError, match="turns 18"):
            eligible.open_portal(db, fam.officer, soon, username="soon", email="", settings=settings)
        with pytest.raises(WorkflowError, match="turns 18"):
            eligible.open_portal(db, fam.officer, child, username="child", email="", settings=settings)
        issued = eligible.open_portal(
            db, fam.officer, adult, username="stu0", email="stu0@example.org", settings=settings
        )
        student = db.get_one(Student, adult)
        assert student.person_id == issued.account.person_id
        accept_invitation(db, issued.token, "a long enough password")
        me = family_principal(db, issued.account.person_id, fam.world.district, Role.STUDENT)
        kids = portal.children(db, me)
        assert [(k.student.id, k.capacity) for k in kids] == [(adult, Capacity.STUDENT)]
        assert [(k.student.id, k.capacity) for k in portal.children(db, fam.parent_of(adult))] == [
            (adult, Capacity.PASSED)
        ]
        with pytest.raises(WorkflowError, match="already has a login"):
            eligible.open_portal(db, fam.officer, adult, username="again", email="", settings=settings)
        assert [c.has_login for c in eligible.candidates(db, fam.officer)] == [False, True]
