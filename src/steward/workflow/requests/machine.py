"""The data request state machine (pure): statuses, actions, who may take each, where it leads.

draft → submitted → triage → (needs information ⇄ requester) → review (a panel cycle, or an
analyst for routine partner requests) → approved / changes requested / denied → agreement pending →
agreement executed → fulfilment → delivered → results review → closed → destruction due →
destroyed. Cancel is possible until delivery. Triage may also close a request at once (media,
public records, already met by public reports).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    TRIAGE = "triage"
    NEEDS_INFORMATION = "needs_information"
    REVIEW = "review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    DENIED = "denied"
    AGREEMENT_PENDING = "agreement_pending"
    AGREEMENT_EXECUTED = "agreement_executed"
    FULFILMENT = "fulfilment"
    DELIVERED = "delivered"
    RESULTS_REVIEW = "results_review"
    CLOSED = "closed"
    DESTRUCTION_DUE = "destruction_due"
    DESTROYED = "destroyed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[Status, str] = {
    Status.DRAFT: "Draft",
    Status.SUBMITTED: "Submitted",
    Status.TRIAGE: "In triage",
    Status.NEEDS_INFORMATION: "Needs information from you",
    Status.REVIEW: "In review",
    Status.CHANGES_REQUESTED: "Changes requested",
    Status.APPROVED: "Approved",
    Status.DENIED: "Denied",
    Status.AGREEMENT_PENDING: "Agreement pending",
    Status.AGREEMENT_EXECUTED: "Agreement executed",
    Status.FULFILMENT: "Being filled",
    Status.DELIVERED: "Delivered",
    Status.RESULTS_REVIEW: "Results review",
    Status.CLOSED: "Closed",
    Status.DESTRUCTION_DUE: "Destruction due",
    Status.DESTROYED: "Destroyed",
    Status.CANCELLED: "Cancelled",
}


class Party(StrEnum):
    """Who acts: the requester, the district data office, the review panel, or Steward itself."""

    REQUESTER = "requester"
    OFFICE = "office"
    PANEL = "panel"
    SYSTEM = "system"


class Action(StrEnum):
    SUBMIT = "submit"
    TAKE = "take"
    ASK = "ask"
    ANSWER = "answer"
    CLOSE_AT_TRIAGE = "close_at_triage"
    ROUTE = "route"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    DENY = "deny"
    RESUBMIT = "resubmit"
    PREPARE_AGREEMENT = "prepare_agreement"
    AGREEMENT_EXECUTED = "agreement_executed"
    START_FULFILMENT = "start_fulfilment"
    DELIVER = "deliver"
    OPEN_RESULTS_REVIEW = "open_results_review"
    CLOSE = "close"
    DESTRUCTION_DUE = "destruction_due"
    CERTIFY_DESTRUCTION = "certify_destruction"
    CANCEL = "cancel"


S, A, P = Status, Action, Party

#: (from, action) -> to.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.TAKE): S.TRIAGE,
    (S.SUBMITTED, A.ASK): S.NEEDS_INFORMATION,
    (S.TRIAGE, A.ASK): S.NEEDS_INFORMATION,
    (S.REVIEW, A.ASK): S.NEEDS_INFORMATION,
    # The answer returns the request to where the question was asked (see ``answer_target``).
    (S.NEEDS_INFORMATION, A.ANSWER): S.TRIAGE,
    (S.SUBMITTED, A.CLOSE_AT_TRIAGE): S.CLOSED,
    (S.TRIAGE, A.CLOSE_AT_TRIAGE): S.CLOSED,
    (S.SUBMITTED, A.ROUTE): S.REVIEW,
    (S.TRIAGE, A.ROUTE): S.REVIEW,
    (S.REVIEW, A.APPROVE): S.APPROVED,
    (S.REVIEW, A.REQUEST_CHANGES): S.CHANGES_REQUESTED,
    (S.REVIEW, A.DENY): S.DENIED,
    (S.TRIAGE, A.DENY): S.DENIED,
    (S.CHANGES_REQUESTED, A.RESUBMIT): S.REVIEW,
    (S.APPROVED, A.PREPARE_AGREEMENT): S.AGREEMENT_PENDING,
    # Paperwork already on file: approval goes straight to an executed agreement.
    (S.APPROVED, A.AGREEMENT_EXECUTED): S.AGREEMENT_EXECUTED,
    (S.AGREEMENT_PENDING, A.AGREEMENT_EXECUTED): S.AGREEMENT_EXECUTED,
    (S.AGREEMENT_EXECUTED, A.START_FULFILMENT): S.FULFILMENT,
    (S.FULFILMENT, A.DELIVER): S.DELIVERED,
    (S.DELIVERED, A.OPEN_RESULTS_REVIEW): S.RESULTS_REVIEW,
    (S.DELIVERED, A.CLOSE): S.CLOSED,
    (S.RESULTS_REVIEW, A.CLOSE): S.CLOSED,
    (S.CLOSED, A.DESTRUCTION_DUE): S.DESTRUCTION_DUE,
    (S.DELIVERED, A.DESTRUCTION_DUE): S.DESTRUCTION_DUE,
    (S.RESULTS_REVIEW, A.DESTRUCTION_DUE): S.DESTRUCTION_DUE,
    (S.DESTRUCTION_DUE, A.CERTIFY_DESTRUCTION): S.DESTROYED,
}

#: Cancel is possible from every status before delivery.
CANCELLABLE = frozenset(
    {
        S.DRAFT,
        S.SUBMITTED,
        S.TRIAGE,
        S.NEEDS_INFORMATION,
        S.REVIEW,
        S.CHANGES_REQUESTED,
        S.APPROVED,
        S.AGREEMENT_PENDING,
        S.AGREEMENT_EXECUTED,
        S.FULFILMENT,
    }
)
for _status in CANCELLABLE:
    TRANSITIONS[(_status, A.CANCEL)] = S.CANCELLED

#: Who may take each action.
ACTORS: dict[Action, frozenset[Party]] = {
    A.SUBMIT: frozenset({P.REQUESTER}),
    A.TAKE: frozenset({P.OFFICE}),
    A.ASK: frozenset({P.OFFICE, P.PANEL}),
    A.ANSWER: frozenset({P.REQUESTER}),
    A.CLOSE_AT_TRIAGE: frozenset({P.OFFICE}),
    A.ROUTE: frozenset({P.OFFICE}),
    A.APPROVE: frozenset({P.OFFICE}),
    A.REQUEST_CHANGES: frozenset({P.OFFICE}),
    A.DENY: frozenset({P.OFFICE}),
    A.RESUBMIT: frozenset({P.REQUESTER}),
    A.PREPARE_AGREEMENT: frozenset({P.OFFICE}),
    A.AGREEMENT_EXECUTED: frozenset({P.OFFICE, P.SYSTEM}),
    A.START_FULFILMENT: frozenset({P.OFFICE}),
    A.DELIVER: frozenset({P.OFFICE}),
    A.OPEN_RESULTS_REVIEW: frozenset({P.OFFICE, P.SYSTEM}),
    A.CLOSE: frozenset({P.OFFICE, P.SYSTEM}),
    A.DESTRUCTION_DUE: frozenset({P.OFFICE, P.SYSTEM}),
    A.CERTIFY_DESTRUCTION: frozenset({P.REQUESTER, P.OFFICE, P.SYSTEM}),
    A.CANCEL: frozenset({P.REQUESTER, P.OFFICE}),
}

#: Statuses where the SLA clock waits on the requester.
WAITING_ON_REQUESTER = frozenset({S.NEEDS_INFORMATION, S.CHANGES_REQUESTED})
#: Statuses after which the request is no longer being worked (the SLA clock stops).
STOPPED = frozenset(
    {S.DELIVERED, S.RESULTS_REVIEW, S.CLOSED, S.DESTRUCTION_DUE, S.DESTROYED, S.DENIED, S.CANCELLED}
)
#: Statuses in which the request is open work of the district.
OPEN = frozenset(set(Status) - STOPPED - {S.DRAFT})


class TransitionError(ValueError):
    """An action that is not possible from the request's status, or not by this party."""


class PartyError(TransitionError):
    """The action is possible, but not by this party."""


@dataclass(frozen=True, slots=True)
class Step:
    before: Status
    action: Action
    after: Status


def step(current: Status, action: Action, party: Party, *, answer_to: Status | None = None) -> Step:
    """The transition ``action`` makes from ``current`` when ``party`` takes it; raises
    ``TransitionError`` naming what is possible instead."""
    after = TRANSITIONS.get((current, action))
    if after is None:
        possible = ", ".join(sorted(a.value for (s, a) in TRANSITIONS if s is current)) or "nothing"
        raise TransitionError(
            f"a request that is {current.label.lower()} cannot {action.value.replace('_', ' ')} "
            f"(possible: {possible})"
        )
    if party not in ACTORS[action]:
        allowed = " or ".join(sorted(p.value for p in ACTORS[action]))
        raise PartyError(f"only the {allowed} may {action.value.replace('_', ' ')}")
    if action is Action.ANSWER and answer_to is not None:
        after = answer_to
    return Step(current, action, after)


def available(current: Status, party: Party) -> list[Action]:
    """The actions ``party`` may take from ``current`` (for showing buttons)."""
    return [a for (s, a) in TRANSITIONS if s is current and party in ACTORS[a]]
