"""Online opt-outs: directory information and activity data sharing apply from the instant of the
request (the engine and the vendor feeds read them), an assessment opt-out is a letter the school sees
and confirms; lifting one ends it at that instant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from steward.family import optouts
from steward.products.provisioning import _opted_out
from steward.store.access import who_can_see
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.notifications.models import Notification
from tests.family.conftest import Family

TICK = timedelta(microseconds=1)


def test_directory_opt_out_applies_from_its_instant_until_lifted(engine: Engine, family: Family) -> None:
    fam = family
    student = fam.world.students[0]
    parent = fam.parent_of(student)
    at = now_utc()
    with transaction(engine) as db:
        assert who_can_see(db, student, at).directory is not None
        request = optouts.opt_out(db, parent, student, "directory", language="es", at=at)
        request_id = request.id
    with transaction(engine) as db:
        assert who_can_see(db, student, at - TICK).directory is not None
        closed = who_can_see(db, student, at)
        assert closed.directory is None
        assert any("opted out of directory information" in m for m in closed.directory_missing)
        with pytest.raises(WorkflowError, match="already in force"):
            optouts.opt_out(db, parent, student, "directory")
    lifted = now_utc()
    with transaction(engine) as db:
        optouts.lift(db, parent, request_id, at=lifted)
    with transaction(engine) as db:
        assert who_can_see(db, student, lifted - TICK).directory is None
        assert who_can_see(db, student, lifted).directory is not None
        current = optouts.of_student(db, student, now_utc())
        assert [c.in_force for c in current] == [False]
        with pytest.raises(WorkflowError, match="already ended"):
            optouts.lift(db, parent, request_id)


def test_activity_opt_out_takes_the_student_out_of_vendor_feeds(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    student = fam.world.students[1]
    with transaction(sqlite_engine) as db:
        assert _opted_out(db, [student], now_utc()) == set()
        optouts.opt_out(db, fam.parent_of(student), student, "activity")
        assert _opted_out(db, [student], now_utc()) == {student}


def test_an_assessment_opt_out_is_a_letter_the_school_sees_and_confirms(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    student = fam.world.students[2]
    parent = fam.parent_of(student)
    principal = fam.world.p("principal")
    with transaction(sqlite_engine) as db:
        with pytest.raises(WorkflowError, match="which tests"):
            optouts.opt_out(db, parent, student, "assessment", letter="   ")
        with pytest.raises(WorkflowError, match="Choose"):
            optouts.opt_out(db, parent, student, "homework")
        request = optouts.opt_out(
            db,
            parent,
            student,
            "assessment",
            letter="Please excuse Stu2 from the spring MAP test.",
            language="es",
        )
        assert request.school_id == fam.world.school
        told = db.scalar(select(Notification).where(Notification.kind == "family.opt_out.assessment"))
        assert told is not None
        assert told.person_id == principal.person_id
        assert "spring MAP test" in told.body
        letters = optouts.letters(db, principal)
        assert [letter.request.id for letter in letters] == [request.id]
        assert [letter.request.id for letter in optouts.letters(db, fam.officer)] == [request.id]
        with pytest.raises(NotAllowedError):
            optouts.letters(db, parent)
        with pytest.raises(NotAllowedError):
            optouts.acknowledge(db, fam.partner, request.id)
        optouts.acknowledge(db, principal, request.id)
        assert request.acknowledged_by_person_id == principal.person_id
        confirmed = db.scalar(select(Notification).where(Notification.kind == "family.opt_out.acknowledged"))
        assert confirmed is not None
        assert confirmed.subject == "La escuela recibió su solicitud sobre los exámenes"


def test_only_the_rights_holder_opts_out(sqlite_engine: Engine, sqlite_family: Family) -> None:
    fam = sqlite_family
    mine, theirs = fam.world.students[3], fam.world.students[4]
    with transaction(sqlite_engine) as db:
        with pytest.raises(NotAllowedError):
            optouts.opt_out(db, fam.parent_of(mine), theirs, "directory")
        request = optouts.opt_out(db, fam.parent_of(theirs), theirs, "directory")
        with pytest.raises(NotAllowedError):
            optouts.lift(db, fam.parent_of(mine), request.id)
