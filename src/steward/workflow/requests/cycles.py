"""Review panel cycles (OSPI: March, July and November; tenant setting) and the panel's votes."""

from __future__ import annotations

import calendar as monthcal
from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.store.base import now_utc
from steward.workflow import history
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.requests.machine import Status
from steward.workflow.requests.models import DataRequest, ReviewCycle, ReviewVote
from steward.workflow.settings import WorkflowConfig

VOTES = {"approve": "Approve", "changes": "Request changes", "deny": "Deny", "abstain": "Abstain"}


def meeting_dates(config: WorkflowConfig, after: date, count: int = 1) -> list[date]:
    """The next ``count`` panel meetings strictly after ``after`` (pure)."""
    out: list[date] = []
    year = after.year
    while len(out) < count:
        for month in sorted(config.panel_months):
            day = min(config.panel_day, monthcal.monthrange(year, month)[1])
            meets = date(year, month, day)
            if meets > after and len(out) < count:
                out.append(meets)
        year += 1
    return out


def next_cycle(db: Session, config: WorkflowConfig, after: date) -> ReviewCycle:
    """The first open cycle meeting after ``after`` (created from the district's months if new)."""
    existing = db.scalar(
        select(ReviewCycle)
        .where(
            ReviewCycle.district_id == config.district_id,
            ReviewCycle.status == "open",
            ReviewCycle.meets_on > after,
        )
        .order_by(ReviewCycle.meets_on)
        .limit(1)
    )
    planned = meeting_dates(config, after)[0]
    if existing is not None and existing.meets_on <= planned:
        return existing
    cycle = db.scalar(
        select(ReviewCycle).where(
            ReviewCycle.district_id == config.district_id, ReviewCycle.meets_on == planned
        )
    )
    if cycle is None:
        cycle = ReviewCycle(district_id=config.district_id, code=f"{planned:%Y-%m}", meets_on=planned)
        db.add(cycle)
        db.flush()
        history.record(
            db,
            "review_cycle",
            cycle.id,
            "opened",
            district_id=config.district_id,
            actor=None,
            to_status="open",
            changes={"meets_on": [None, planned]},
        )
    elif cycle.status != "open":
        return next_cycle(db, config, planned)
    return cycle


def agenda(db: Session, cycle: ReviewCycle) -> list[DataRequest]:
    return list(
        db.scalars(
            select(DataRequest)
            .where(DataRequest.cycle_id == cycle.id)
            .order_by(DataRequest.submitted_at, DataRequest.id)
        )
    )


def cycles_of(db: Session, district_id: int, include_closed: bool = False) -> list[ReviewCycle]:
    query = select(ReviewCycle).where(ReviewCycle.district_id == district_id)
    if not include_closed:
        query = query.where(ReviewCycle.status == "open")
    return list(db.scalars(query.order_by(ReviewCycle.meets_on)))


def vote(db: Session, actor: Principal, req: DataRequest, choice: str, comment: str = "") -> ReviewVote:
    """A panel member's vote on a request on the current agenda; a second vote replaces the first."""
    if actor.role is not Role.REVIEW_PANEL_MEMBER or actor.organization_id != req.district_id:
        raise NotAllowedError("only the district's review panel members vote")
    if choice not in VOTES:
        raise WorkflowError(f"choose one of: {', '.join(VOTES)}")
    if req.status != Status.REVIEW.value or req.cycle_id is None:
        raise WorkflowError(f"request {req.code} is not on a panel agenda")
    if choice in ("changes", "deny") and not comment.strip():
        raise WorkflowError("say why: the requester is told the panel's reasons")
    row = db.scalar(
        select(ReviewVote).where(
            ReviewVote.request_id == req.id,
            ReviewVote.cycle_id == req.cycle_id,
            ReviewVote.person_id == actor.person_id,
        )
    )
    before = None if row is None else row.vote
    if row is None:
        row = ReviewVote(request_id=req.id, cycle_id=req.cycle_id, person_id=actor.person_id, vote=choice)
        db.add(row)
    row.vote = choice
    row.comment = comment.strip()
    row.created_at = now_utc()
    db.flush()
    history.record(
        db,
        "request",
        req.id,
        "voted",
        district_id=req.district_id,
        actor=actor,
        changes={"vote": [before, choice]},
        reason=comment.strip(),
        request_ref=req.code,
    )
    return row


def votes(db: Session, req: DataRequest) -> list[ReviewVote]:
    if req.cycle_id is None:
        return []
    return list(
        db.scalars(
            select(ReviewVote)
            .where(ReviewVote.request_id == req.id, ReviewVote.cycle_id == req.cycle_id)
            .order_by(ReviewVote.id)
        )
    )


def tally(db: Session, req: DataRequest) -> dict[str, int]:
    counts = Counter(v.vote for v in votes(db, req))
    return {name: counts.get(name, 0) for name in VOTES}


def close_cycle(db: Session, actor: Principal, cycle: ReviewCycle) -> ReviewCycle:
    """Close a cycle once none of its requests is still waiting for a decision."""
    if actor.role is not Role.DISTRICT_DATA_OFFICER or actor.organization_id != cycle.district_id:
        raise NotAllowedError("only a data officer of the district closes a cycle")
    waiting = [r.code for r in agenda(db, cycle) if r.status == Status.REVIEW.value]
    if waiting:
        raise WorkflowError(f"decide every request first: {', '.join(waiting)}")
    cycle.status = "closed"
    history.record(
        db,
        "review_cycle",
        cycle.id,
        "closed",
        district_id=cycle.district_id,
        actor=actor,
        from_status="open",
        to_status="closed",
    )
    return cycle
