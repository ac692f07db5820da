"""Data requests: intake, triage, review, decision, agreements, fulfilment, results review and
destruction, as one state machine (``machine``) with every transition written to the request's
history and the audit log (actor and time), the SLA clock kept in step, and people notified."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from steward.delivery.destruction import submit_certificate
from steward.delivery.links import create_link
from steward.delivery.models import DestructionTask, Package
from steward.delivery.packages import DeliveryError
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear, local_date
from steward.policy.facts import AgreementKind, AgreementStatus, Clause
from steward.store.base import now_utc
from steward.store.fact_loader import load_tenants
from steward.store.models import Organization, Student
from steward.workflow import history
from steward.workflow.agreements import service as agreements
from steward.workflow.common import (
    InvalidError,
    NotAllowedError,
    Problem,
    WorkflowError,
    people_in_role,
    timezone_of,
    words,
)
from steward.workflow.models import Agreement
from steward.workflow.notifications.service import Message, notify
from steward.workflow.requests import cycles, fees, fulfilment, triage
from steward.workflow.requests.intake import KIND_OF_ORG, RequestInput, base_elements, check
from steward.workflow.requests.machine import (
    CANCELLABLE,
    STOPPED,
    Action,
    Party,
    PartyError,
    Status,
    TransitionError,
    step,
)
from steward.workflow.requests.models import (
    DataRequest,
    RequestAgreement,
    RequestMessage,
    RequestStudent,
    ReviewCycle,
)
from steward.workflow.settings import WorkflowConfig, config_for
from steward.workflow.sla import service as sla

REQUESTER_ROLES = frozenset(
    {
        Role.PARTNER_STAFF,
        Role.RESEARCHER,
        Role.AGENCY_ANALYST,
        Role.VENDOR_INTEGRATION,
        Role.MEDIA,
        Role.PUBLIC,
    }
)


# -- who may see and act -------------------------------------------------------------------------


def party_of(principal: Principal, req: DataRequest) -> Party | None:
    """How the principal relates to the request (None: not at all, so pages answer 404)."""
    if principal.organization_id == req.district_id:
        if principal.role is Role.DISTRICT_DATA_OFFICER:
            return Party.OFFICE
        if principal.role is Role.REVIEW_PANEL_MEMBER and req.status not in (Status.DRAFT.value,):
            return Party.PANEL
        return None
    if principal.organization_id == req.organization_id and principal.role is Role(req.requester_role):
        return Party.REQUESTER
    return None


def visible(db: Session, principal: Principal, code: str) -> DataRequest | None:
    req = db.scalar(select(DataRequest).where(DataRequest.code == code))
    if req is None or party_of(principal, req) is None:
        return None
    return req


def mine(db: Session, principal: Principal) -> list[DataRequest]:
    """The requests of the principal's organization made in the principal's role."""
    return list(
        db.scalars(
            select(DataRequest)
            .where(
                DataRequest.organization_id == principal.organization_id,
                DataRequest.requester_role == principal.role.value,
            )
            .order_by(DataRequest.created_at.desc(), DataRequest.id.desc())
        )
    )


def district_queue(db: Session, district_id: int, statuses: Sequence[Status]) -> list[DataRequest]:
    return list(
        db.scalars(
            select(DataRequest)
            .where(
                DataRequest.district_id == district_id, DataRequest.status.in_([s.value for s in statuses])
            )
            .order_by(DataRequest.submitted_at, DataRequest.id)
        )
    )


def _party(principal: Principal | None, req: DataRequest) -> Party:
    if principal is None:
        return Party.SYSTEM
    party = party_of(principal, req)
    if party is None:
        raise NotAllowedError("you may not act on this request")
    return party


# -- transitions ---------------------------------------------------------------------------------


def _link(req: DataRequest) -> str:
    return f"/requests/{req.code}"


def _requester_people(db: Session, req: DataRequest) -> list[int]:
    return [req.requester_person_id]


def _office_people(db: Session, req: DataRequest) -> list[int]:
    people = set(people_in_role(db, Role.DISTRICT_DATA_OFFICER, req.district_id))
    if req.assignee_person_id is not None:
        people.add(req.assignee_person_id)
    return sorted(people)


def _tell(db: Session, people: Sequence[int], req: DataRequest, kind: str, subject: str, body: str) -> None:
    notify(
        db,
        people,
        Message(kind, f"{req.code}: {subject}", f"{body}\n\nRequest {req.code}: {req.title}", _link(req)),
        district_id=req.district_id,
    )


def _sync_clock(db: Session, req: DataRequest, at: datetime) -> None:
    signed = True
    if req.status == Status.AGREEMENT_PENDING.value:
        pending = _linked_agreements(db, req, statuses=("draft", "submitted"))
        signed = all(
            agreements.recipient_signed(db, a.id)
            for a in pending
            if AgreementKind(a.kind) not in (AgreementKind.RESEARCH_APPROVAL, AgreementKind.IS_DESIGNATION)
        )
    sla.sync_pause(db, req, sla.pause_reason(req, signed), at)


def _move(
    db: Session,
    req: DataRequest,
    action: Action,
    actor: Principal | None,
    *,
    reason: str = "",
    changes: dict[str, Any] | None = None,
    at: datetime | None = None,
    answer_to: Status | None = None,
) -> Status:
    when = at or now_utc()
    party = _party(actor, req)
    try:
        moved = step(Status(req.status), action, party, answer_to=answer_to)
    except PartyError as exc:
        raise NotAllowedError(str(exc)) from exc
    except TransitionError as exc:
        raise WorkflowError(str(exc)) from exc
    req.status = moved.after.value
    req.updated_at = when
    if moved.after in (Status.CLOSED, Status.DENIED, Status.CANCELLED) and req.closed_at is None:
        req.closed_at = when
    history.record(
        db,
        "request",
        req.id,
        action.value,
        district_id=req.district_id,
        actor=actor,
        from_status=moved.before.value,
        to_status=moved.after.value,
        changes=changes,
        reason=reason,
        request_ref=req.code,
    )
    _sync_clock(db, req, when)
    return moved.after


def _first_response(req: DataRequest, at: datetime) -> None:
    if req.first_response_at is None:
        req.first_response_at = at


# -- intake --------------------------------------------------------------------------------------


def _values(form: RequestInput) -> dict[str, Any]:
    return {
        "title": form.title.strip()[:200],
        "purpose": form.purpose.strip(),
        "audience": form.audience.strip(),
        "summary": form.summary.strip(),
        "level": form.level,
        "datasets": sorted(dict.fromkeys(form.datasets)),
        "elements": sorted(dict.fromkeys(form.elements)),
        "justifications": {k: v.strip() for k, v in form.justifications.items() if v.strip()},
        "school_years": sorted(set(form.school_years)),
        "population": form.population.strip(),
        "names_students": bool(form.names_students or [r for r in form.student_refs if r.strip()]),
        "student_refs": list(dict.fromkeys(r.strip() for r in form.student_refs if r.strip())),
        "timeline": form.timeline.strip(),
        "needed_by": form.needed_by,
        "security_plan": form.security_plan.strip(),
        "access_list": [a.strip() for a in form.access_list if a.strip()],
        "destruction_method": form.destruction_method.strip(),
    }


def _requester_kind(org: Organization, form: RequestInput) -> str:
    if form.public_records:
        return "public_records"
    return KIND_OF_ORG.get(org.kind, "other")


def save_draft(
    db: Session, actor: Principal, form: RequestInput, req: DataRequest | None = None
) -> DataRequest:
    """Create or change a draft (not yet checked: submitting checks everything)."""
    if actor.role not in REQUESTER_ROLES:
        raise NotAllowedError(
            "data requests are made by partners, researchers, agencies, vendors and the public"
        )
    district = db.get(Organization, form.district_id)
    if district is None or district.kind != "district":
        raise InvalidError([Problem("district", "choose the district you are asking")])
    org = db.get(Organization, actor.organization_id)
    assert org is not None
    values = _values(form)
    values["requester_kind"] = _requester_kind(org, form)
    now = now_utc()
    if req is None:
        req = DataRequest(
            code=f"tmp-{uuid.uuid4().hex[:20]}",
            district_id=district.id,
            requester_person_id=actor.person_id,
            organization_id=actor.organization_id,
            requester_role=actor.role.value,
            status=Status.DRAFT.value,
            created_at=now,
            updated_at=now,
            **values,
        )
        db.add(req)
        db.flush()
        req.code = f"DR-{local_date(now, timezone_of(db, district.id)).year}-{req.id:05d}"
        history.record(
            db,
            "request",
            req.id,
            "created",
            district_id=req.district_id,
            actor=actor,
            to_status=req.status,
            request_ref=req.code,
        )
        return req
    if _party(actor, req) is not Party.REQUESTER or req.status not in (
        Status.DRAFT.value,
        Status.CHANGES_REQUESTED.value,
        Status.NEEDS_INFORMATION.value,
    ):
        raise WorkflowError(f"request {req.code} can no longer be edited")
    values["district_id"] = district.id if req.status == Status.DRAFT.value else req.district_id
    changed = history.diff(req, values)
    if changed:
        req.updated_at = now
        history.record(
            db,
            "request",
            req.id,
            "edited",
            district_id=req.district_id,
            actor=actor,
            changes=changed,
            request_ref=req.code,
        )
    return req


def match_students(db: Session, district_id: int, refs: Sequence[str]) -> tuple[list[int], list[str]]:
    """Student ids for district (local) or state IDs; and the IDs nobody in the district has."""
    wanted = list(dict.fromkeys(r.strip() for r in refs if r.strip()))
    if not wanted:
        return [], []
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        for student_id, local_id, state_id in db.execute(
            select(Student.id, Student.local_id, Student.state_id).where(
                Student.district_id == district_id,
                or_(Student.local_id.in_(chunk), Student.state_id.in_(chunk)),
            )
        ):
            for key in (local_id, state_id):
                if key is not None and key in chunk:
                    found.setdefault(key, student_id)
    return sorted(set(found.values())), [r for r in wanted if r not in found]


def validate(db: Session, req: DataRequest, at: datetime) -> list[Problem]:
    tenant = load_tenants(db, [req.district_id]).get(str(req.district_id))
    tz = timezone_of(db, req.district_id)
    form = RequestInput(
        district_id=req.district_id,
        title=req.title,
        purpose=req.purpose,
        audience=req.audience,
        summary=req.summary,
        level=req.level,
        datasets=list(req.datasets),
        elements=list(req.elements),
        justifications=dict(req.justifications),
        school_years=list(req.school_years),
        population=req.population,
        names_students=req.names_students,
        student_refs=list(req.student_refs),
        timeline=req.timeline,
        needed_by=req.needed_by,
        security_plan=req.security_plan,
        access_list=list(req.access_list),
        destruction_method=req.destruction_method,
    )
    problems = check(
        form,
        today=local_date(at, tz),
        floor_year=tenant.floor_year if tenant is not None else 2010,
        current_year=SchoolYear.at(at, tz).end_year,
    )
    if req.names_students and req.student_refs:
        _, unknown = match_students(db, req.district_id, req.student_refs)
        if unknown:
            problems.append(
                Problem(
                    "student_ids",
                    f"{len(unknown)} ID(s) match no student of the district: {words(unknown)}",
                )
            )
    return problems


def submit(db: Session, actor: Principal, req: DataRequest, at: datetime | None = None) -> DataRequest:
    """Check everything and submit; a request with problems is refused with every reason."""
    when = at or now_utc()
    if _party(actor, req) is not Party.REQUESTER:
        raise NotAllowedError("only the requester submits")
    problems = validate(db, req, when)
    if problems:
        raise InvalidError(problems)
    if not req.elements:
        req.elements = base_elements(list(req.datasets))
    ids, _ = match_students(db, req.district_id, req.student_refs)
    for student_id in ids:
        db.add(RequestStudent(request_id=req.id, student_id=student_id))
    config = config_for(db, req.district_id)
    req.sla_target_days = sla.target_days(config, req.requester_kind)
    req.submitted_at = when
    req.path = triage.suggest(req.requester_kind).value
    req.path_note = triage.message(triage.Path(req.path), config)
    _move(db, req, Action.SUBMIT, actor, at=when, changes={"students_matched": [None, len(ids)]})
    _tell(
        db,
        _requester_people(db, req),
        req,
        "request.submitted",
        "request received",
        f"We received your data request. {req.path_note}\nAn analyst replies to clarifying questions "
        f"within {config.clarify_min_days}-{config.clarify_max_days} business days.",
    )
    _tell(
        db,
        _office_people(db, req),
        req,
        "request.new",
        "new data request",
        f"A new request waits in triage: {req.title}",
    )
    return req


def create_and_submit(
    db: Session, actor: Principal, form: RequestInput, at: datetime | None = None
) -> DataRequest:
    """The API's one-step intake: nothing is stored when the form has problems."""
    req = save_draft(db, actor, form)
    return submit(db, actor, req, at)


# -- triage --------------------------------------------------------------------------------------


def take(db: Session, actor: Principal, req: DataRequest, at: datetime | None = None) -> DataRequest:
    when = at or now_utc()
    _move(
        db, req, Action.TAKE, actor, at=when, changes={"assignee": [req.assignee_person_id, actor.person_id]}
    )
    req.assignee_person_id = actor.person_id
    _first_response(req, when)
    return req


def ask(
    db: Session, actor: Principal, req: DataRequest, question: str, at: datetime | None = None
) -> DataRequest:
    """A clarifying question; the clock waits until the requester answers."""
    when = at or now_utc()
    if not question.strip():
        raise WorkflowError("write the question")
    db.add(
        RequestMessage(
            request_id=req.id,
            author_person_id=actor.person_id,
            kind="question",
            body=question.strip(),
            created_at=when,
        )
    )
    _move(db, req, Action.ASK, actor, reason=question.strip(), at=when)
    _first_response(req, when)
    _tell(
        db,
        _requester_people(db, req),
        req,
        "request.question",
        "a question about your request",
        question.strip(),
    )
    return req


def answer(
    db: Session, actor: Principal, req: DataRequest, body: str, at: datetime | None = None
) -> DataRequest:
    when = at or now_utc()
    if not body.strip():
        raise WorkflowError("write your answer")
    asked_from = db.scalar(
        select(history.HistoryEntry.from_status)
        .where(
            history.HistoryEntry.entity == "request",
            history.HistoryEntry.entity_id == req.id,
            history.HistoryEntry.action == Action.ASK.value,
        )
        .order_by(history.HistoryEntry.id.desc())
        .limit(1)
    )
    back = Status(asked_from) if asked_from in (Status.TRIAGE.value, Status.REVIEW.value) else Status.TRIAGE
    db.add(
        RequestMessage(
            request_id=req.id,
            author_person_id=actor.person_id,
            kind="answer",
            body=body.strip(),
            created_at=when,
        )
    )
    _move(db, req, Action.ANSWER, actor, reason=body.strip()[:500], at=when, answer_to=back)
    _tell(db, _office_people(db, req), req, "request.answered", "the requester answered", body.strip())
    return req


def decide_path(
    db: Session,
    actor: Principal,
    req: DataRequest,
    path: triage.Path,
    note: str = "",
    at: datetime | None = None,
) -> DataRequest:
    """Triage's decision: close with a pointer (media, public records, public reports) or route to
    review (the panel's next cycle for research; an analyst otherwise)."""
    when = at or now_utc()
    config = config_for(db, req.district_id)
    if req.status == Status.SUBMITTED.value:
        take(db, actor, req, when)
    changes: dict[str, Any] = {"path": [req.path, path.value]}
    req.path = path.value
    req.path_note = triage.message(path, config, note.strip())
    _first_response(req, when)
    if path.closes:
        db.add(
            RequestMessage(
                request_id=req.id,
                author_person_id=actor.person_id,
                kind="decision",
                body=req.path_note,
                created_at=when,
            )
        )
        _move(db, req, Action.CLOSE_AT_TRIAGE, actor, reason=req.path_note, changes=changes, at=when)
        _tell(db, _requester_people(db, req), req, "request.closed", "where your request goes", req.path_note)
        return req
    if path is triage.Path.AGENCY and req.level != "aggregate":
        changes["level"] = [req.level, "aggregate"]
        req.level = "aggregate"
    route = path.route
    req.review_route = route
    if route == "panel":
        cycle = cycles.next_cycle(db, config, local_date(when, config.timezone))
        req.cycle_id = cycle.id
        changes["cycle"] = [None, cycle.code]
    _move(db, req, Action.ROUTE, actor, reason=req.path_note, changes=changes, at=when)
    where = (
        f"the review panel's next meeting on {db.get(ReviewCycle, req.cycle_id).meets_on}"  # type: ignore[union-attr]
        if route == "panel"
        else "an analyst"
    )
    _tell(
        db,
        _requester_people(db, req),
        req,
        "request.triaged",
        "your request is in review",
        f"{req.path_note}\nYour request is reviewed by {where}.",
    )
    return req


# -- fees ----------------------------------------------------------------------------------------


def schedule(config: WorkflowConfig) -> fees.FeeSchedule:
    return fees.FeeSchedule(
        config.fee_base_cents, config.fee_per_hour_cents, config.fee_per_thousand_rows_cents
    )


def estimate_fee(
    db: Session,
    actor: Principal,
    req: DataRequest,
    hours: float,
    rows: int,
    waive: bool = False,
    at: datetime | None = None,
) -> DataRequest:
    """Set the fee estimate from the district's schedule; the requester accepts it before approval."""
    if _party(actor, req) is not Party.OFFICE:
        raise NotAllowedError("only the data office estimates fees")
    if Status(req.status) not in (Status.SUBMITTED, Status.TRIAGE, Status.REVIEW, Status.NEEDS_INFORMATION):
        raise WorkflowError("fees are estimated before the decision")
    when = at or now_utc()
    config = config_for(db, req.district_id)
    try:
        cents = fees.estimate(schedule(config), hours, rows)
    except ValueError as exc:
        raise WorkflowError(str(exc)) from exc
    status = "waived" if waive or cents == 0 else "estimated"
    # A new estimate needs a new answer: an earlier acceptance was of another amount.
    changed = history.diff(
        req,
        {
            "fee_hours": hours,
            "fee_rows": rows,
            "fee_cents": cents,
            "fee_status": status,
            "fee_accepted_at": None,
            "fee_accepted_by_person_id": None,
        },
    )
    history.record(
        db,
        "request",
        req.id,
        "fee_estimated",
        district_id=req.district_id,
        actor=actor,
        changes=changed,
        request_ref=req.code,
    )
    _sync_clock(db, req, when)
    if status == "estimated":
        _tell(
            db,
            _requester_people(db, req),
            req,
            "request.fee",
            "fee estimate to accept",
            f"The estimated fee for your request is {fees.dollars(cents)} ({hours:g} hours, {rows} rows). "
            "Accept or decline it on the request's page.",
        )
    return req


def respond_to_fee(
    db: Session, actor: Principal, req: DataRequest, accept: bool, at: datetime | None = None
) -> DataRequest:
    if _party(actor, req) is not Party.REQUESTER:
        raise NotAllowedError("only the requester accepts the fee estimate")
    if req.fee_status != "estimated":
        raise WorkflowError("there is no fee estimate waiting for an answer")
    when = at or now_utc()
    status = "accepted" if accept else "declined"
    changes = history.diff(req, {"fee_status": status})
    if accept:
        req.fee_accepted_at = when
        req.fee_accepted_by_person_id = actor.person_id
    history.record(
        db,
        "request",
        req.id,
        f"fee_{status}",
        district_id=req.district_id,
        actor=actor,
        changes=changes,
        request_ref=req.code,
    )
    _sync_clock(db, req, when)
    _tell(
        db,
        _office_people(db, req),
        req,
        "request.fee_answer",
        f"fee estimate {status}",
        f"The requester {status} the fee estimate of {fees.dollars(req.fee_cents)}.",
    )
    return req


# -- review and decision -------------------------------------------------------------------------


def decide(
    db: Session,
    actor: Principal,
    req: DataRequest,
    decision: str,
    reasons: str = "",
    at: datetime | None = None,
) -> DataRequest:
    """Approve, request changes or deny (reasons required for the last two; the panel's votes are
    recorded first, the officer records the outcome)."""
    when = at or now_utc()
    actions = {"approve": Action.APPROVE, "changes": Action.REQUEST_CHANGES, "deny": Action.DENY}
    if decision not in actions:
        raise WorkflowError("decide approve, changes or deny")
    if decision != "approve" and not reasons.strip():
        raise WorkflowError("give the reasons: the requester reads them")
    if decision == "approve" and req.fee_status in ("estimated", "declined"):
        raise WorkflowError("the requester has not accepted the fee estimate")
    req.decision_reasons = reasons.strip()
    db.add(
        RequestMessage(
            request_id=req.id,
            author_person_id=actor.person_id,
            kind="decision",
            body=f"{decision}: {reasons.strip()}".strip(": "),
            created_at=when,
        )
    )
    after = _move(db, req, actions[decision], actor, reason=reasons.strip(), at=when)
    words_ = {"approve": "approved", "changes": "changes requested", "deny": "denied"}[decision]
    _tell(
        db,
        _requester_people(db, req),
        req,
        f"request.{words_.replace(' ', '_')}",
        f"decision: {words_}",
        f"Your request was {words_}." + (f"\nReasons: {reasons.strip()}" if reasons.strip() else ""),
    )
    if after is Status.APPROVED:
        if req.path == triage.Path.RESEARCH.value:
            _approve_research(db, actor, req, when)
        settle_paperwork(db, req, when)
    return req


def resubmit(
    db: Session, actor: Principal, req: DataRequest, note: str = "", at: datetime | None = None
) -> DataRequest:
    """After requested changes: back to review (the next panel cycle for panel requests)."""
    when = at or now_utc()
    problems = validate(db, req, when)
    if problems:
        raise InvalidError(problems)
    changes: dict[str, Any] = {}
    if req.review_route == "panel":
        config = config_for(db, req.district_id)
        cycle = cycles.next_cycle(db, config, local_date(when, config.timezone))
        if cycle.id != req.cycle_id:
            changes["cycle"] = [req.cycle_id, cycle.code]
            req.cycle_id = cycle.id
    if note.strip():
        db.add(
            RequestMessage(
                request_id=req.id,
                author_person_id=actor.person_id,
                kind="answer",
                body=note.strip(),
                created_at=when,
            )
        )
    _move(db, req, Action.RESUBMIT, actor, reason=note.strip(), changes=changes, at=when)
    _tell(
        db,
        _office_people(db, req),
        req,
        "request.resubmitted",
        "changes made",
        "The requester made the requested changes.",
    )
    return req


def _approve_research(db: Session, actor: Principal, req: DataRequest, at: datetime) -> None:
    """The panel's approval is itself a record: a research approval agreement (at most 3 years)."""
    tenant = load_tenants(db, [req.district_id]).get(str(req.district_id))
    years = tenant.max_research_years if tenant is not None else 3
    start = at
    approval = agreements.create(
        db,
        actor,
        kind=AgreementKind.RESEARCH_APPROVAL,
        organization_id=req.organization_id,
        district_id=req.district_id,
        valid_from=start,
        title=f"Research proposal {req.code}: {req.title}"[:200],
        purpose=req.purpose,
        datasets=list(req.datasets),
        elements=list(req.elements),
        school_years=list(req.school_years),
        population=req.population,
        valid_to=agreements.add_years(start, years),
        reason=f"approved by the review panel for {req.code}",
    )
    agreements.grant_approval(db, actor, approval, reason=f"panel decision on {req.code}")
    db.add(RequestAgreement(request_id=req.id, agreement_id=approval.id))


def _linked_agreements(
    db: Session, req: DataRequest, statuses: Sequence[str] | None = None
) -> list[Agreement]:
    query = (
        select(Agreement)
        .join(RequestAgreement, RequestAgreement.agreement_id == Agreement.id)
        .where(RequestAgreement.request_id == req.id)
    )
    if statuses is not None:
        query = query.where(Agreement.status.in_(list(statuses)))
    return list(db.scalars(query.order_by(Agreement.id)))


def linked_agreements(db: Session, req: DataRequest) -> list[Agreement]:
    return _linked_agreements(db, req)


def settle_paperwork(db: Session, req: DataRequest, at: datetime) -> None:
    """After approval: an executed agreement already on file moves the request on at once."""
    if req.status != Status.APPROVED.value:
        return
    agreement = fulfilment.data_agreement(db, req, at)
    if agreement is None:
        return
    if db.get(RequestAgreement, (req.id, agreement.id)) is None:
        db.add(RequestAgreement(request_id=req.id, agreement_id=agreement.id))
    _move(db, req, Action.AGREEMENT_EXECUTED, None, reason=f"agreement {agreement.code} is on file", at=at)


def agreement_kind_for(req: DataRequest) -> AgreementKind:
    if req.path == triage.Path.RESEARCH.value:
        return AgreementKind.STUDIES if req.level == "identifiable" else AgreementKind.NDA
    if req.path == triage.Path.AGENCY.value:
        return AgreementKind.MOU
    if req.path == triage.Path.VENDOR.value:
        return AgreementKind.CONTRACT
    return AgreementKind.DSA


def prepare_agreement(
    db: Session,
    actor: Principal,
    req: DataRequest,
    *,
    valid_to: datetime | None = None,
    at: datetime | None = None,
) -> Agreement:
    """Draft the agreement from the request's terms; the requester is asked to sign it."""
    when = at or now_utc()
    if _party(actor, req) is not Party.OFFICE:
        raise NotAllowedError("only the data office prepares agreements")
    kind = agreement_kind_for(req)
    tz = timezone_of(db, req.district_id)
    annual = kind is AgreementKind.DSA and req.path == triage.Path.PARTNER.value
    terms: dict[str, Any] = {
        "title": f"{kind.label.capitalize()} for {req.code}: {req.title}"[:200],
        "purpose": req.purpose,
        "datasets": list(req.datasets),
        "elements": list(req.elements),
        "school_years": list(req.school_years),
        "population": req.population,
        "destruction_method": req.destruction_method,
        "clauses": list(agreements.DEFAULT_CLAUSES)
        + ([Clause.RESULTS_REVIEW.value] if req.path == triage.Path.RESEARCH.value else []),
        "annual": annual,
    }
    if not annual:
        research_end = None
        for approval in _linked_agreements(db, req, statuses=(AgreementStatus.APPROVED.value,)):
            research_end = approval.valid_to
        terms["valid_to"] = valid_to or research_end or agreements.add_years(when, 1)
    else:
        terms["school_year"] = SchoolYear.at(when, tz).end_year
    draft = agreements.create(
        db,
        actor,
        kind=kind,
        organization_id=req.organization_id,
        district_id=req.district_id,
        valid_from=when,
        reason=f"prepared for {req.code}",
        **terms,
    )
    db.add(RequestAgreement(request_id=req.id, agreement_id=draft.id))
    db.flush()
    _move(db, req, Action.PREPARE_AGREEMENT, actor, changes={"agreement": [None, draft.code]}, at=when)
    _tell(
        db,
        _requester_people(db, req),
        req,
        "agreement.to_sign",
        "agreement to sign",
        f"Your {kind.label} {draft.code} is ready. Download it, sign it and upload the signed PDF on "
        "the request's page.",
    )
    return draft


def after_agreement_change(db: Session, agreement: Agreement, tasks: Sequence[DestructionTask] = ()) -> None:
    """Keep linked requests in step with their agreement (signed, executed, ended)."""
    reqs = list(
        db.scalars(
            select(DataRequest)
            .join(RequestAgreement, RequestAgreement.request_id == DataRequest.id)
            .where(RequestAgreement.agreement_id == agreement.id)
        )
    )
    now = now_utc()
    for req in reqs:
        if (
            agreement.status == AgreementStatus.EXECUTED.value
            and req.status == Status.AGREEMENT_PENDING.value
        ):
            pending = _linked_agreements(db, req, statuses=("draft", "submitted"))
            if not pending:
                _move(
                    db,
                    req,
                    Action.AGREEMENT_EXECUTED,
                    None,
                    reason=f"agreement {agreement.code} executed",
                    at=now,
                )
                _tell(
                    db,
                    _requester_people(db, req) + _office_people(db, req),
                    req,
                    "agreement.executed",
                    "agreement executed",
                    f"Agreement {agreement.code} is executed; the data will be prepared.",
                )
        elif agreement.status in (AgreementStatus.EXPIRED.value, AgreementStatus.TERMINATED.value):
            task = next((t for t in tasks if t.recipient_org_id == req.organization_id), None)
            if (
                req.status in (Status.CLOSED.value, Status.DELIVERED.value, Status.RESULTS_REVIEW.value)
                and req.package_id
            ):
                if task is not None:
                    req.destruction_task_id = task.id
                _move(
                    db, req, Action.DESTRUCTION_DUE, None, reason=f"agreement {agreement.code} ended", at=now
                )
                due = f" by {local_date(task.due_at, timezone_of(db, req.district_id))}" if task else ""
                _tell(
                    db,
                    _requester_people(db, req),
                    req,
                    "destruction.due",
                    "destroy the data",
                    f"Agreement {agreement.code} has ended. Destroy the data{due} and upload the signed "
                    "certificate of destruction on the request's page.",
                )
        else:
            _sync_clock(db, req, now)


# -- fulfilment ----------------------------------------------------------------------------------


def start_fulfilment(
    db: Session, actor: Principal, req: DataRequest, at: datetime | None = None
) -> DataRequest:
    _move(db, req, Action.START_FULFILMENT, actor, at=at)
    return req


@dataclass(frozen=True, slots=True)
class Delivered:
    package: Package
    link_token: str | None


def deliver(
    db: Session,
    actor: Principal,
    req: DataRequest,
    files: dict[str, Path],
    data_dir: Path,
    at: datetime | None = None,
) -> Delivered:
    """Check with the engine, release the package, move to delivered, tell the requester (with a
    single-use download link); results review opens when the agreement asks for it."""
    when = at or now_utc()
    if _party(actor, req) is not Party.OFFICE:
        raise NotAllowedError("only the data office delivers")
    if req.status not in (Status.AGREEMENT_EXECUTED.value, Status.FULFILMENT.value):
        raise WorkflowError(f"request {req.code} is {Status(req.status).label.lower()}, not being filled")
    package = fulfilment.deliver(db, actor, req, files, data_dir, when)
    if req.status == Status.AGREEMENT_EXECUTED.value:
        start_fulfilment(db, actor, req, when)
    req.package_id = package.id
    req.delivered_at = when
    token: str | None = None
    try:
        _, token = create_link(db, package, actor)
    except DeliveryError:
        token = None
    _move(db, req, Action.DELIVER, actor, changes={"package": [None, package.name]}, at=when)
    link = f"/d/{token}" if token else ""
    _tell(
        db,
        _requester_people(db, req),
        req,
        "request.delivered",
        "your data are ready",
        f"Package {package.name} ({package.student_count} students) is ready, encrypted to your "
        f"organization's key. Download it once from {link or 'the SFTP server'}"
        + (" (the link works once and expires in 72 hours)." if link else "."),
    )
    agreement = db.get(Agreement, package.agreement_id) if package.agreement_id else None
    if agreement is not None and Clause.RESULTS_REVIEW.value in (agreement.clauses or []):
        _move(
            db,
            req,
            Action.OPEN_RESULTS_REVIEW,
            None,
            reason=f"agreement {agreement.code} requires results review",
            at=when,
        )
        _tell(
            db,
            _requester_people(db, req),
            req,
            "request.results_due",
            "results due before publication",
            "Share your products (reports, papers, dashboards) with the district before they are published.",
        )
    return Delivered(package, token)


def close(
    db: Session, actor: Principal | None, req: DataRequest, note: str = "", at: datetime | None = None
) -> DataRequest:
    """Close after delivery (results reviewed, when the agreement asked for it)."""
    _move(db, req, Action.CLOSE, actor, reason=note.strip(), at=at)
    return req


def certify_destruction(
    db: Session,
    actor: Principal,
    req: DataRequest,
    *,
    content: bytes,
    filename: str,
    signer_name: str,
    signer_title: str,
    destroyed_on: date,
    data_dir: Path,
    at: datetime | None = None,
) -> DataRequest:
    """The recipient's signed certificate of destruction closes the request for good."""
    party = _party(actor, req)
    if req.status != Status.DESTRUCTION_DUE.value:
        raise WorkflowError(f"request {req.code} has no destruction due")
    task = db.get(DestructionTask, req.destruction_task_id) if req.destruction_task_id else None
    if task is None:
        raise WorkflowError(f"request {req.code} has no open destruction task")
    if party is Party.PANEL:
        raise NotAllowedError("the panel does not certify destruction")
    try:
        submit_certificate(
            db, data_dir, task, content, filename, signer_name, signer_title, destroyed_on, actor
        )
    except DeliveryError as exc:
        raise WorkflowError(str(exc)) from exc
    _move(
        db,
        req,
        Action.CERTIFY_DESTRUCTION,
        actor,
        changes={"certificate": [None, task.certificate_sha256]},
        at=at,
    )
    _tell(
        db,
        _office_people(db, req),
        req,
        "destruction.certified",
        "certificate of destruction received",
        f"{signer_name} certified the destruction on {destroyed_on}.",
    )
    return req


def destroyed_elsewhere(db: Session, req: DataRequest, at: datetime) -> DataRequest:
    """The certificate arrived through the delivery API: the request follows its task."""
    _move(db, req, Action.CERTIFY_DESTRUCTION, None, reason="certificate of destruction received", at=at)
    return req


def office_people(db: Session, req: DataRequest) -> list[int]:
    """The district's data officers and the request's assignee."""
    return _office_people(db, req)


def cancel(
    db: Session, actor: Principal, req: DataRequest, reason: str, at: datetime | None = None
) -> DataRequest:
    if Status(req.status) not in CANCELLABLE:
        raise WorkflowError("a request can be cancelled only until delivery")
    if not reason.strip():
        raise WorkflowError("say why the request is cancelled")
    party = _party(actor, req)
    _move(db, req, Action.CANCEL, actor, reason=reason.strip(), at=at)
    others = _office_people(db, req) if party is Party.REQUESTER else _requester_people(db, req)
    _tell(
        db,
        others,
        req,
        "request.cancelled",
        "request cancelled",
        f"The request was cancelled: {reason.strip()}",
    )
    return req


# -- reading -------------------------------------------------------------------------------------


def messages(db: Session, req: DataRequest) -> list[RequestMessage]:
    return list(
        db.scalars(
            select(RequestMessage)
            .where(RequestMessage.request_id == req.id)
            .order_by(RequestMessage.created_at, RequestMessage.id)
        )
    )


def is_open(req: DataRequest) -> bool:
    return Status(req.status) not in STOPPED and req.status != Status.DRAFT.value
