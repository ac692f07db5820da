"""The data request state machine through the services, on both databases: every transition is
written with actor and time, the decision engine gates the delivery, people are notified."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from steward.audit.models import AuditEvent
from steward.delivery.models import Package
from steward.store.db import transaction
from steward.store.models import Student
from steward.workflow.common import InvalidError, NotAllowedError, WorkflowError
from steward.workflow.history import HistoryEntry, history_of
from steward.workflow.notifications.models import Notification
from steward.workflow.requests import service as requests
from steward.workflow.requests.fulfilment import FulfilmentError
from steward.workflow.requests.models import DataRequest, SlaPause
from steward.workflow.requests.triage import Path as TriagePath
from steward.workflow.requests.triage import checklist, missing
from tests.workflow.conftest import World
from tests.workflow.helpers import data_file, executed_dsa, form, partner_paperwork


def _refs(engine: Engine, ids: list[int]) -> list[str]:
    with transaction(engine) as db:
        return [db.get_one(Student, i).local_id for i in ids]


def test_partner_request_from_submission_to_delivery(engine: Engine, world: World, tmp_path: Path) -> None:
    named = world.students[:2]
    refs = _refs(engine, named)
    with transaction(engine) as db:
        executed_dsa(db, world)
        partner_paperwork(db, world, named)
        req = requests.create_and_submit(db, world.p("partner"), form(world, student_refs=refs))
        code = req.code
        assert req.status == "submitted"
        assert req.path == "partner"
        assert not missing(checklist(db, req, req.submitted_at))  # type: ignore[arg-type]
    with transaction(engine) as db:
        req = requests.visible(db, world.p("officer"), code)
        assert req is not None
        requests.decide_path(db, world.p("officer"), req, TriagePath.PARTNER)
        assert req.status == "review"
        assert req.review_route == "analyst"
        requests.decide(db, world.p("officer"), req, "approve")
        assert req.status == "agreement_executed"  # the DSA on file moves it on at once
        delivered = requests.deliver(db, world.p("officer"), req, data_file(tmp_path / "out"), world.data_dir)
        assert req.status == "delivered"
        assert delivered.package.student_count == 2
        assert delivered.link_token
    with transaction(engine) as db:
        req = db.scalar(select(DataRequest).where(DataRequest.code == code))
        assert req is not None
        steps = [
            (h.action, h.from_status, h.to_status) for h in history_of(db, "request", req.id) if h.to_status
        ]
        assert [s[2] for s in steps] == [
            "draft",
            "submitted",
            "triage",
            "review",
            "approved",
            "agreement_executed",
            "fulfilment",
            "delivered",
        ]
        for entry in history_of(db, "request", req.id):
            assert entry.at is not None
        actors = {h.action: h.actor_person_id for h in history_of(db, "request", req.id)}
        assert actors["submit"] == world.p("partner").person_id
        assert actors["approve"] == world.p("officer").person_id
        assert actors["agreement_executed"] is None  # Steward itself
        events = db.scalars(
            select(AuditEvent.body).where(AuditEvent.body.contains('"workflow.request.'))
        ).all()
        assert len(events) == len(history_of(db, "request", req.id))
        assert db.scalar(select(func.count()).select_from(Package)) == 1
        kinds = set(
            db.scalars(
                select(Notification.kind).where(Notification.person_id == world.p("partner").person_id)
            )
        )
        assert {"request.submitted", "request.triaged", "request.approved", "request.delivered"} <= kinds


def test_delivery_is_refused_with_the_engines_reasons(engine: Engine, world: World, tmp_path: Path) -> None:
    named = world.students[:2]
    refs = _refs(engine, named)
    with transaction(engine) as db:
        executed_dsa(db, world)
        partner_paperwork(db, world, named[:1])  # the second student has no consent and no grant
        req = requests.create_and_submit(db, world.p("partner"), form(world, student_refs=refs))
        requests.decide_path(db, world.p("officer"), req, TriagePath.PARTNER)
        requests.decide(db, world.p("officer"), req, "approve")
        code = req.code
    files = data_file(tmp_path / "out")
    with transaction(engine) as db:
        req = requests.visible(db, world.p("officer"), code)
        assert req is not None
        with pytest.raises(FulfilmentError) as caught:
            requests.deliver(db, world.p("officer"), req, files, world.data_dir)
    text = str(caught.value)
    assert f"lakeside:{refs[1]}" in text
    assert "no consent" in text
    with transaction(engine) as db:
        assert db.scalar(select(func.count()).select_from(Package)) == 0
        req = db.scalar(select(DataRequest).where(DataRequest.code == code))
        assert req is not None
        assert req.status == "agreement_executed"


def test_intake_refuses_named_students_without_ids(engine: Engine, world: World) -> None:
    with pytest.raises(InvalidError) as caught, transaction(engine) as db:
        requests.create_and_submit(db, world.p("partner"), form(world, student_refs=[]))
    assert any("student ID numbers are required" in p for p in caught.value.problems)
    with transaction(engine) as db:
        assert db.scalar(select(func.count()).select_from(DataRequest)) == 0


def test_unknown_ids_and_missing_justification_are_named(engine: Engine, world: World) -> None:
    with pytest.raises(InvalidError) as caught, transaction(engine) as db:
        requests.create_and_submit(
            db,
            world.p("partner"),
            form(
                world,
                student_refs=["100", "NOPE-1"],
                datasets=["attendance", "programs"],
                elements=["attendance.attendance_rate", "programs.special_education"],
            ),
        )
    problems = caught.value.problems
    assert any("NOPE-1" in p for p in problems)
    assert any("programs.special_education is sensitive" in p for p in problems)


def test_media_request_is_closed_at_triage_with_the_message(engine: Engine, world: World) -> None:
    with transaction(engine) as db:
        req = requests.create_and_submit(
            db, world.p("reporter"), form(world, level="aggregate", names_students=False, student_refs=[])
        )
        assert req.path == "media"
        requests.decide_path(db, world.p("officer"), req, TriagePath.MEDIA)
        assert req.status == "closed"
        assert "communications office" in req.path_note


def test_question_pauses_the_clock_and_the_answer_resumes_it(engine: Engine, world: World) -> None:
    with transaction(engine) as db:
        req = requests.create_and_submit(
            db, world.p("analyst"), form(world, level="aggregate", names_students=False, student_refs=[])
        )
        requests.take(db, world.p("officer"), req)
        requests.ask(db, world.p("officer"), req, "Which grades?")
        assert req.status == "needs_information"
        assert req.first_response_at is not None
        pauses = db.scalars(select(SlaPause).where(SlaPause.request_id == req.id)).all()
        assert len(pauses) == 1
        assert pauses[0].ended_at is None
        with pytest.raises(NotAllowedError):
            requests.answer(db, world.p("officer"), req, "not mine to answer")
        requests.answer(db, world.p("analyst"), req, "Grades 3 to 5")
        assert req.status == "triage"
        assert pauses[0].ended_at is not None


def test_requester_cannot_see_other_organizations_requests(engine: Engine, world: World) -> None:
    with transaction(engine) as db:
        req = requests.create_and_submit(
            db, world.p("analyst"), form(world, level="aggregate", names_students=False, student_refs=[])
        )
        assert requests.visible(db, world.p("partner"), req.code) is None
        assert requests.visible(db, world.p("researcher"), req.code) is None
        assert requests.visible(db, world.p("analyst"), req.code) is not None


def test_cancel_until_delivery_only(engine: Engine, world: World) -> None:
    with transaction(engine) as db:
        req = requests.create_and_submit(
            db, world.p("analyst"), form(world, level="aggregate", names_students=False, student_refs=[])
        )
        with pytest.raises(WorkflowError, match="say why"):
            requests.cancel(db, world.p("analyst"), req, "")
        requests.cancel(db, world.p("analyst"), req, "no longer needed")
        assert req.status == "cancelled"
        with pytest.raises(WorkflowError):
            requests.cancel(db, world.p("analyst"), req, "again")
        assert (
            db.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.action == "cancel"))
            == 1
        )
