"""The SLA clock of stored requests: pauses opened and closed as the request waits on its
requester or the panel, and the status (due, at risk, overdue) in the district's business days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.domain.time import local_date
from steward.store.base import now_utc
from steward.workflow.requests.machine import WAITING_ON_REQUESTER, Status
from steward.workflow.requests.models import DataRequest, SlaPause
from steward.workflow.settings import WorkflowConfig
from steward.workflow.sla.calendar import BusinessCalendar, calendar_for
from steward.workflow.sla.clock import Pause, SlaState, SlaStatus, status


@lru_cache(maxsize=64)
def _calendar(
    country: str, subdivision: str, closures: frozenset[date], first: int, last: int
) -> BusinessCalendar:
    return calendar_for(range(first, last + 1), country, subdivision or None, closures)


def calendar(config: WorkflowConfig, around: date) -> BusinessCalendar:
    """The district's business calendar for the years around ``around`` (a request's life)."""
    return _calendar(
        config.holiday_country, config.holiday_subdivision, config.closures, around.year - 1, around.year + 3
    )


def target_days(config: WorkflowConfig, requester_kind: str) -> int:
    if requester_kind == "partner":
        return config.partner_target_days
    if requester_kind == "research":
        return config.research_target_days
    return config.other_target_days


def pause_reason(req: DataRequest, recipient_signed: bool = True) -> str | None:
    """Why the clock should stand still now (None: it runs)."""
    current = Status(req.status)
    if current in WAITING_ON_REQUESTER:
        return "waiting on the requester"
    if current is Status.REVIEW and req.review_route == "panel":
        return "waiting for the panel cycle"
    if current is Status.AGREEMENT_PENDING and not recipient_signed:
        return "waiting for the requester's signature"
    if req.fee_status == "estimated" and current not in (Status.DRAFT, Status.DELIVERED):
        return "waiting for the fee estimate to be accepted"
    return None


def sync_pause(db: Session, req: DataRequest, reason: str | None, at: datetime | None = None) -> None:
    """Open or close the request's pause so that the clock matches ``reason``."""
    when = at or now_utc()
    open_pause = db.scalar(
        select(SlaPause).where(SlaPause.request_id == req.id, SlaPause.ended_at.is_(None)).limit(1)
    )
    if open_pause is not None and (reason is None or open_pause.reason != reason[:64]):
        open_pause.ended_at = when
        open_pause = None
    if reason is not None and open_pause is None and req.submitted_at is not None:
        db.add(SlaPause(request_id=req.id, started_at=when, reason=reason[:64]))
    db.flush()


@dataclass(frozen=True, slots=True)
class Clocks:
    """The two clocks of a request: first response (clarifying questions) and fulfilment."""

    first_response: SlaStatus | None
    fulfilment: SlaStatus | None


_STOPPED_NOT_DELIVERED = {Status.CLOSED, Status.DENIED, Status.CANCELLED}


def clocks(db: Session, req: DataRequest, config: WorkflowConfig, at: datetime | None = None) -> Clocks:
    if req.submitted_at is None:
        return Clocks(None, None)
    when = at or now_utc()
    tz = config.timezone
    started = local_date(req.submitted_at, tz)
    today = local_date(when, tz)
    cal = calendar(config, started)
    first = status(
        cal,
        started,
        config.clarify_max_days,
        (),
        today,
        at_risk_days=max(0, config.clarify_max_days - config.clarify_min_days),
        stopped_on=None if req.first_response_at is None else local_date(req.first_response_at, tz),
        delivered=True,
    )
    rows = db.scalars(select(SlaPause).where(SlaPause.request_id == req.id).order_by(SlaPause.started_at))
    pauses = [
        Pause(local_date(p.started_at, tz), None if p.ended_at is None else local_date(p.ended_at, tz))
        for p in rows
    ]
    current = Status(req.status)
    stopped_on: date | None = None
    delivered = False
    if req.delivered_at is not None:
        stopped_on, delivered = local_date(req.delivered_at, tz), True
    elif current in _STOPPED_NOT_DELIVERED:
        stopped_on = local_date(req.closed_at or req.updated_at, tz)
    target = req.sla_target_days or target_days(config, req.requester_kind)
    fulfilment = status(
        cal,
        started,
        target,
        pauses,
        today,
        at_risk_days=config.at_risk_days,
        stopped_on=stopped_on,
        delivered=delivered,
    )
    return Clocks(first, fulfilment)


#: The states a dashboard counts as needing attention.
ATTENTION = frozenset({SlaState.AT_RISK, SlaState.OVERDUE})
