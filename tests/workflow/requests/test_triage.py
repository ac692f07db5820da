"""Triage through the services, on both databases: public records and requests met by public reports
are closed with their pointer; an outside agency's request is routed at the aggregate level only."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from steward.store.db import transaction
from steward.workflow.common import WorkflowError
from steward.workflow.history import history_of
from steward.workflow.notifications.models import Notification
from steward.workflow.requests import service as requests
from steward.workflow.requests.intake import RequestInput
from steward.workflow.requests.models import RequestMessage, SlaPause
from steward.workflow.requests.triage import Path as TriagePath
from steward.workflow.requests.triage import checklist, missing
from steward.workflow.settings import WorkflowSettings
from tests.workflow.conftest import World
from tests.workflow.helpers import form

RECORDS_URL = "https://records.example.org/requests"
REPORTS_URL = "https://reportcard.example.org/lakeside"


def _urls(engine: Engine, w: World) -> None:
    with transaction(engine) as db:
        db.add(
            WorkflowSettings(
                district_id=w.district, public_records_url=RECORDS_URL, public_reports_url=REPORTS_URL
            )
        )


def _aggregate(w: World, **changes: object) -> RequestInput:
    return form(w, level="aggregate", names_students=False, student_refs=[], **changes)


def test_a_public_records_request_is_closed_with_the_citys_process(engine: Engine, world: World) -> None:
    w = world
    _urls(engine, w)
    with transaction(engine) as db:
        req = requests.create_and_submit(db, w.p("reporter"), _aggregate(w, public_records=True))
        assert req.requester_kind == "public_records"
        assert req.path == "public_records"  # suggested from what the requester said
        requests.decide_path(db, w.p("officer"), req, TriagePath.PUBLIC_RECORDS)
        assert req.status == "closed"
        assert req.closed_at is not None
        assert req.review_route is None
        assert "city's public records process" in req.path_note
        assert RECORDS_URL in req.path_note
        [decision] = db.scalars(
            select(RequestMessage.body).where(
                RequestMessage.request_id == req.id, RequestMessage.kind == "decision"
            )
        ).all()
        assert decision == req.path_note
        steps = [(h.action, h.to_status) for h in history_of(db, "request", req.id) if h.to_status]
        assert steps[-2:] == [("take", "triage"), ("close_at_triage", "closed")]
        closing = history_of(db, "request", req.id)[-1]
        assert closing.actor_person_id == w.p("officer").person_id
        assert closing.changes == {"path": ["public_records", "public_records"]}
        [told] = db.scalars(
            select(Notification).where(
                Notification.person_id == w.p("reporter").person_id, Notification.kind == "request.closed"
            )
        ).all()
        assert RECORDS_URL in told.body
        assert db.scalar(select(SlaPause.id).where(SlaPause.request_id == req.id)) is None
        with pytest.raises(WorkflowError):  # closed is closed: no route afterwards
            requests.decide_path(db, w.p("officer"), req, TriagePath.AGENCY)


def test_a_request_met_by_public_reports_is_closed_with_the_pointer(engine: Engine, world: World) -> None:
    w = world
    _urls(engine, w)
    with transaction(engine) as db:
        req = requests.create_and_submit(db, w.p("analyst"), _aggregate(w))
        assert req.path == "agency"
        requests.take(db, w.p("officer"), req)
        requests.decide_path(
            db, w.p("officer"), req, TriagePath.PUBLIC_REPORT, "See the attendance table, page 4."
        )
        assert req.status == "closed"
        assert req.path == "public_report"
        assert req.path_note == (
            f"The data you asked for are already published: {REPORTS_URL} See the attendance table, page 4."
        )
        closing = history_of(db, "request", req.id)[-1]
        assert (closing.action, closing.from_status, closing.to_status) == (
            "close_at_triage",
            "triage",
            "closed",
        )
        assert closing.changes == {"path": ["agency", "public_report"]}
        assert requests.is_open(req) is False


def test_without_urls_the_pointers_still_read_as_sentences(engine: Engine, world: World) -> None:
    w = world
    with transaction(engine) as db:
        records = requests.create_and_submit(db, w.p("reporter"), _aggregate(w, public_records=True))
        requests.decide_path(db, w.p("officer"), records, TriagePath.PUBLIC_RECORDS)
        assert records.path_note == "Public records requests go to the city's public records process."
        report = requests.create_and_submit(db, w.p("analyst"), _aggregate(w))
        requests.decide_path(db, w.p("officer"), report, TriagePath.PUBLIC_REPORT)
        assert report.path_note == "The data you asked for are already published."


@pytest.mark.parametrize("level", ["deidentified", "identifiable"])
def test_an_agency_request_is_routed_at_the_aggregate_level(engine: Engine, world: World, level: str) -> None:
    w = world
    with transaction(engine) as db:
        refs = ["100", "101"] if level == "identifiable" else []
        req = requests.create_and_submit(
            db,
            w.p("analyst"),
            form(w, level=level, names_students=bool(refs), student_refs=refs),
        )
        assert req.level == level
        requests.decide_path(db, w.p("officer"), req, TriagePath.AGENCY)
        assert req.status == "review"
        assert req.level == "aggregate"
        assert req.review_route == "analyst"
        assert req.cycle_id is None
        routing = history_of(db, "request", req.id)[-1]
        assert routing.action == "route"
        assert routing.changes["level"] == [level, "aggregate"]
        assert routing.actor_person_id == w.p("officer").person_id
        assert "aggregate, de-identified data only" in req.path_note
        items = {i.label: i.done for i in checklist(db, req, req.updated_at)}
        assert items["Aggregate level (agencies receive aggregate data only)"] is True
        assert [i.label for i in missing(checklist(db, req, req.updated_at))] == [
            "Agreement (MOU) with the district covering the datasets"
        ]
        told = db.scalar(
            select(Notification.body).where(
                Notification.person_id == w.p("analyst").person_id, Notification.kind == "request.triaged"
            )
        )
        assert told is not None
        assert "reviewed by an analyst" in told


def test_an_aggregate_agency_request_keeps_its_level(engine: Engine, world: World) -> None:
    w = world
    with transaction(engine) as db:
        req = requests.create_and_submit(db, w.p("analyst"), _aggregate(w))
        requests.decide_path(db, w.p("officer"), req, TriagePath.AGENCY)
        assert req.level == "aggregate"
        assert "level" not in history_of(db, "request", req.id)[-1].changes
