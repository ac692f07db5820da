"""The request state machine (pure): who may move a request where."""

from __future__ import annotations

import pytest

from steward.workflow.requests.machine import (
    CANCELLABLE,
    TRANSITIONS,
    Action,
    Party,
    PartyError,
    Status,
    TransitionError,
    available,
    step,
)


def test_the_documented_path_from_draft_to_destroyed() -> None:
    path = [
        (Action.SUBMIT, Party.REQUESTER, Status.SUBMITTED),
        (Action.TAKE, Party.OFFICE, Status.TRIAGE),
        (Action.ASK, Party.OFFICE, Status.NEEDS_INFORMATION),
        (Action.ANSWER, Party.REQUESTER, Status.TRIAGE),
        (Action.ROUTE, Party.OFFICE, Status.REVIEW),
        (Action.APPROVE, Party.OFFICE, Status.APPROVED),
        (Action.PREPARE_AGREEMENT, Party.OFFICE, Status.AGREEMENT_PENDING),
        (Action.AGREEMENT_EXECUTED, Party.SYSTEM, Status.AGREEMENT_EXECUTED),
        (Action.START_FULFILMENT, Party.OFFICE, Status.FULFILMENT),
        (Action.DELIVER, Party.OFFICE, Status.DELIVERED),
        (Action.OPEN_RESULTS_REVIEW, Party.SYSTEM, Status.RESULTS_REVIEW),
        (Action.CLOSE, Party.OFFICE, Status.CLOSED),
        (Action.DESTRUCTION_DUE, Party.SYSTEM, Status.DESTRUCTION_DUE),
        (Action.CERTIFY_DESTRUCTION, Party.REQUESTER, Status.DESTROYED),
    ]
    current = Status.DRAFT
    for action, party, expected in path:
        current = step(current, action, party).after
        assert current is expected


def test_the_answer_returns_to_where_the_question_was_asked() -> None:
    assert (
        step(Status.NEEDS_INFORMATION, Action.ANSWER, Party.REQUESTER, answer_to=Status.REVIEW).after
        is Status.REVIEW
    )


def test_parties_are_enforced() -> None:
    with pytest.raises(PartyError, match="only the office"):
        step(Status.SUBMITTED, Action.TAKE, Party.REQUESTER)
    with pytest.raises(PartyError):
        step(Status.REVIEW, Action.APPROVE, Party.PANEL)
    with pytest.raises(PartyError):
        step(Status.DRAFT, Action.SUBMIT, Party.OFFICE)


def test_impossible_moves_name_what_is_possible() -> None:
    with pytest.raises(TransitionError, match=r"possible: .*take"):
        step(Status.SUBMITTED, Action.DELIVER, Party.OFFICE)


def test_cancel_is_possible_until_delivery_and_not_after() -> None:
    for status in Status:
        possible = (status, Action.CANCEL) in TRANSITIONS
        assert possible == (status in CANCELLABLE)
    assert Status.DELIVERED not in CANCELLABLE
    assert Status.FULFILMENT in CANCELLABLE


def test_every_status_is_reachable_from_draft() -> None:
    seen = {Status.DRAFT}
    frontier = [Status.DRAFT]
    while frontier:
        current = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is current and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(Status)


def test_available_actions_for_buttons() -> None:
    assert set(available(Status.REVIEW, Party.OFFICE)) == {
        Action.ASK,
        Action.APPROVE,
        Action.REQUEST_CHANGES,
        Action.DENY,
        Action.CANCEL,
    }
    assert available(Status.DELIVERED, Party.REQUESTER) == []
