"""The SLA clock of a data request, in business days (pure).

The clock starts on the local date of submission and is due ``target`` business days later. It
stands still while the request waits on the requester (a question, requested changes, a signature,
a fee estimate) or on the panel's next cycle: every business day inside a pause moves the due date
one business day later. It stops when the request is delivered (met or missed) or ends otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from steward.workflow.sla.calendar import BusinessCalendar


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    PAUSED = "paused"
    MET = "met"
    MISSED = "missed"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return {
            "on_track": "on track",
            "at_risk": "at risk",
            "overdue": "overdue",
            "paused": "paused (waiting on the requester or the panel)",
            "met": "met",
            "missed": "missed",
            "stopped": "stopped",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Pause:
    """A pause from ``start`` (local date) to ``end`` (exclusive; None: still paused)."""

    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class SlaStatus:
    state: SlaState
    due: date
    #: Business days left from today to the due date (negative: overdue by that many).
    remaining: int
    paused_days: int
    target: int


def paused_business_days(calendar: BusinessCalendar, pauses: Sequence[Pause], today: date) -> int:
    """Business days spent paused; a pause still open counts up to ``today`` (exclusive)."""
    total = 0
    for pause in pauses:
        end = pause.end if pause.end is not None else today
        if end > pause.start:
            total += calendar.between(pause.start, end)
    return total


def due_date(calendar: BusinessCalendar, started: date, target: int, paused: int) -> date:
    return calendar.add(started, target + paused)


def status(
    calendar: BusinessCalendar,
    started: date,
    target: int,
    pauses: Sequence[Pause],
    today: date,
    *,
    at_risk_days: int = 3,
    stopped_on: date | None = None,
    delivered: bool = False,
) -> SlaStatus:
    """Where the clock stands on ``today`` (or where it stopped on ``stopped_on``)."""
    as_of = stopped_on if stopped_on is not None else today
    paused = paused_business_days(calendar, pauses, as_of)
    due = due_date(calendar, started, target, paused)
    remaining = calendar.between(as_of, due) if as_of <= due else -calendar.between(due, as_of)
    if stopped_on is not None:
        if not delivered:
            return SlaStatus(SlaState.STOPPED, due, remaining, paused, target)
        return SlaStatus(
            SlaState.MET if stopped_on <= due else SlaState.MISSED, due, remaining, paused, target
        )
    if any(p.end is None for p in pauses):
        return SlaStatus(SlaState.PAUSED, due, remaining, paused, target)
    if today > due:
        state = SlaState.OVERDUE
    elif remaining <= at_risk_days:
        state = SlaState.AT_RISK
    else:
        state = SlaState.ON_TRACK
    return SlaStatus(state, due, remaining, paused, target)
