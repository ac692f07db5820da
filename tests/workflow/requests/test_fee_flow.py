"""Fees through the services, on both databases: the office estimates from the district's schedule,
the requester accepts or declines, and approval waits for an accepted (or waived) estimate."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from steward.store.db import transaction
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.history import history_of
from steward.workflow.notifications.models import Notification
from steward.workflow.requests import service as requests
from steward.workflow.requests.models import DataRequest, SlaPause
from steward.workflow.requests.triage import Path as TriagePath
from steward.workflow.requests.triage import checklist
from steward.workflow.settings import WorkflowSettings
from tests.workflow.conftest import World
from tests.workflow.helpers import form

FEE_WAIT = "waiting for the fee estimate to be accepted"


def _agency_request_in_review(engine: Engine, w: World) -> str:
    """An agency's aggregate request routed to an analyst, in a district that charges fees."""
    with transaction(engine) as db:
        db.add(
            WorkflowSettings(
                district_id=w.district,
                fee_base_cents=2500,
                fee_per_hour_cents=4000,
                fee_per_thousand_rows_cents=150,
            )
        )
        req = requests.create_and_submit(
            db, w.p("analyst"), form(w, level="aggregate", names_students=False, student_refs=[])
        )
        requests.decide_path(db, w.p("officer"), req, TriagePath.AGENCY)
        assert req.status == "review"
        return req.code


def _load(engine: Engine, code: str) -> DataRequest:
    with transaction(engine) as db:
        req = db.scalar(select(DataRequest).where(DataRequest.code == code))
        assert req is not None
        db.expunge(req)
        return req


def _open_pauses(db: object, req: DataRequest) -> list[str]:
    return list(
        db.scalars(  # type: ignore[attr-defined]
            select(SlaPause.reason).where(SlaPause.request_id == req.id, SlaPause.ended_at.is_(None))
        )
    )


def test_estimate_blocks_approval_until_the_requester_accepts(engine: Engine, world: World) -> None:
    w = world
    code = _agency_request_in_review(engine, w)
    with transaction(engine) as db:
        req = requests.visible(db, w.p("officer"), code)
        assert req is not None
        with pytest.raises(NotAllowedError):
            requests.estimate_fee(db, w.p("analyst"), req, 2, 1000)
        with pytest.raises(WorkflowError, match="no fee estimate"):
            requests.respond_to_fee(db, w.p("analyst"), req, True)
        requests.estimate_fee(db, w.p("officer"), req, 2.5, 12_345)
        assert (req.fee_status, req.fee_cents) == ("estimated", 2500 + 10_000 + 1852)
        assert _open_pauses(db, req) == [FEE_WAIT]
        assert ("Accept the fee estimate", False) in [
            (i.label, i.done) for i in checklist(db, req, req.updated_at)
        ]
        with pytest.raises(WorkflowError, match="has not accepted the fee estimate"):
            requests.decide(db, w.p("officer"), req, "approve")
        assert req.status == "review"
    with transaction(engine) as db:
        req = requests.visible(db, w.p("analyst"), code)
        assert req is not None
        with pytest.raises(NotAllowedError):
            requests.respond_to_fee(db, w.p("officer"), req, True)
        requests.respond_to_fee(db, w.p("analyst"), req, True)
        assert req.fee_status == "accepted"
        assert req.fee_accepted_by_person_id == w.p("analyst").person_id
        assert req.fee_accepted_at is not None
        assert _open_pauses(db, req) == []
        with pytest.raises(WorkflowError, match="no fee estimate waiting"):
            requests.respond_to_fee(db, w.p("analyst"), req, False)
    with transaction(engine) as db:
        req = requests.visible(db, w.p("officer"), code)
        assert req is not None
        requests.decide(db, w.p("officer"), req, "approve")
        assert req.status == "approved"
        with pytest.raises(WorkflowError, match="before the decision"):
            requests.estimate_fee(db, w.p("officer"), req, 1, 0)
        actions = [h.action for h in history_of(db, "request", req.id)]
        assert actions.index("fee_estimated") < actions.index("fee_accepted") < actions.index("approve")
        fee_entry = next(h for h in history_of(db, "request", req.id) if h.action == "fee_accepted")
        assert fee_entry.actor_person_id == w.p("analyst").person_id
        assert fee_entry.changes == {"fee_status": ["estimated", "accepted"]}
        told = {
            (n.person_id, n.kind)
            for n in db.scalars(select(Notification).where(Notification.kind.like("request.fee%")))
        }
        assert (w.p("analyst").person_id, "request.fee") in told
        assert (w.p("officer").person_id, "request.fee_answer") in told


def test_a_declined_estimate_blocks_approval_until_a_new_one_is_accepted(
    engine: Engine, world: World
) -> None:
    w = world
    code = _agency_request_in_review(engine, w)
    with transaction(engine) as db:
        req = requests.visible(db, w.p("officer"), code)
        assert req is not None
        requests.estimate_fee(db, w.p("officer"), req, 10, 0)
        requests.respond_to_fee(db, w.p("analyst"), req, False)
        assert req.fee_status == "declined"
        assert req.fee_accepted_at is None
        with pytest.raises(WorkflowError, match="has not accepted the fee estimate"):
            requests.decide(db, w.p("officer"), req, "approve")
        # Denying needs no accepted fee; but here the office offers a smaller estimate instead.
        requests.estimate_fee(db, w.p("officer"), req, 1, 0)
        assert (req.fee_status, req.fee_cents) == ("estimated", 2500 + 4000)
        requests.respond_to_fee(db, w.p("analyst"), req, True)
        requests.decide(db, w.p("officer"), req, "approve")
        assert req.status == "approved"
    req = _load(engine, code)
    assert req.fee_status == "accepted"
    assert req.fee_cents == 6500


def test_a_new_estimate_after_acceptance_must_be_accepted_again(engine: Engine, world: World) -> None:
    w = world
    code = _agency_request_in_review(engine, w)
    with transaction(engine) as db:
        req = requests.visible(db, w.p("officer"), code)
        assert req is not None
        requests.estimate_fee(db, w.p("officer"), req, 1, 0)
        requests.respond_to_fee(db, w.p("analyst"), req, True)
        requests.estimate_fee(db, w.p("officer"), req, 20, 0)
        assert req.fee_status == "estimated"
        assert req.fee_accepted_at is None  # the earlier acceptance was of another amount
        assert req.fee_accepted_by_person_id is None
        with pytest.raises(WorkflowError, match="has not accepted the fee estimate"):
            requests.decide(db, w.p("officer"), req, "approve")


def test_a_waived_fee_needs_no_answer(engine: Engine, world: World) -> None:
    w = world
    code = _agency_request_in_review(engine, w)
    with transaction(engine) as db:
        req = requests.visible(db, w.p("officer"), code)
        assert req is not None
        requests.estimate_fee(db, w.p("officer"), req, 3, 500, waive=True)
        assert req.fee_status == "waived"
        assert _open_pauses(db, req) == []
        with pytest.raises(WorkflowError, match="no fee estimate waiting"):
            requests.respond_to_fee(db, w.p("analyst"), req, True)
        requests.decide(db, w.p("officer"), req, "approve")
        assert req.status == "approved"
        assert db.scalar(select(Notification.id).where(Notification.kind == "request.fee")) is None


def test_negative_hours_are_refused_and_nothing_changes(engine: Engine, world: World) -> None:
    w = world
    code = _agency_request_in_review(engine, w)
    with transaction(engine) as db:
        req = requests.visible(db, w.p("officer"), code)
        assert req is not None
        with pytest.raises(WorkflowError, match="negative"):
            requests.estimate_fee(db, w.p("officer"), req, -1, 0)
        assert req.fee_status == "none"
