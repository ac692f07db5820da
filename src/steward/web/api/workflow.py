"""JSON API of data requests: intake (validated exactly like the form: problems come back per
field with status 422 and nothing is stored), the caller's requests, one request with its
checklist, SLA and history, and the requester's answers (cancel, answer a question, fee)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.store.base import now_utc
from steward.web.deps import ApiPrincipal, Db
from steward.web.ui.workflow.common import after_change
from steward.workflow.common import InvalidError, NotAllowedError, WorkflowError
from steward.workflow.history import history_of
from steward.workflow.requests import service as requests
from steward.workflow.requests.intake import RequestInput
from steward.workflow.requests.machine import OPEN
from steward.workflow.requests.models import DataRequest
from steward.workflow.requests.triage import checklist
from steward.workflow.settings import config_for
from steward.workflow.sla import service as sla

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])

Text = Annotated[str, Field(max_length=20_000)]


class RequestIn(BaseModel):
    """The intake form. ``student_ids`` are district or state IDs (required when ``names_students``)."""

    district_id: int
    title: Annotated[str, Field(max_length=200)] = ""
    purpose: Text = ""
    audience: Text = ""
    summary: Text = ""
    level: Annotated[str, Field(pattern="^(aggregate|deidentified|identifiable)$")] = "aggregate"
    datasets: list[str] = []
    elements: list[str] = []
    justifications: dict[str, Text] = {}
    school_years: list[int] = []
    population: Text = ""
    names_students: bool = False
    student_ids: Annotated[list[Annotated[str, Field(max_length=50)]], Field(max_length=50_000)] = []
    timeline: Text = ""
    needed_by: date | None = None
    security_plan: Text = ""
    access_list: list[Annotated[str, Field(max_length=300)]] = []
    destruction_method: Text = ""
    public_records: bool = False
    #: False keeps a draft (not yet checked).
    submit: bool = True


class ChecklistItemOut(BaseModel):
    label: str
    done: bool
    detail: str
    required: bool


class ClockOut(BaseModel):
    state: str
    due: date
    remaining: int
    paused_days: int
    target: int


class HistoryOut(BaseModel):
    at: datetime
    action: str
    from_status: str | None
    to_status: str | None
    actor_person_id: int | None
    actor_role: str | None
    reason: str


class RequestOut(BaseModel):
    code: str
    status: str
    path: str | None
    path_note: str
    district_id: int
    organization_id: int
    title: str
    level: str
    datasets: list[str]
    elements: list[str]
    school_years: list[int]
    submitted_at: datetime | None
    fee_cents: int | None
    fee_status: str
    checklist: list[ChecklistItemOut] = []
    first_response: ClockOut | None = None
    fulfilment: ClockOut | None = None


class RequestDetailOut(RequestOut):
    history: list[HistoryOut] = []


class ProblemOut(BaseModel):
    field: str
    message: str


class TextIn(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=20_000)]


class FeeIn(BaseModel):
    accept: bool


def _clock(value: object) -> ClockOut | None:
    if value is None:
        return None
    return ClockOut(
        state=value.state.value,  # type: ignore[attr-defined]
        due=value.due,  # type: ignore[attr-defined]
        remaining=value.remaining,  # type: ignore[attr-defined]
        paused_days=value.paused_days,  # type: ignore[attr-defined]
        target=value.target,  # type: ignore[attr-defined]
    )


def _out(db: Session, req: DataRequest, detail: bool = False) -> RequestDetailOut:
    now = now_utc()
    clocks = sla.clocks(db, req, config_for(db, req.district_id), now)
    items = checklist(db, req, now) if req.submitted_at is not None else []
    return RequestDetailOut(
        code=req.code,
        status=req.status,
        path=req.path,
        path_note=req.path_note,
        district_id=req.district_id,
        organization_id=req.organization_id,
        title=req.title,
        level=req.level,
        datasets=list(req.datasets),
        elements=list(req.elements),
        school_years=list(req.school_years),
        submitted_at=req.submitted_at,
        fee_cents=req.fee_cents,
        fee_status=req.fee_status,
        checklist=[
            ChecklistItemOut(label=i.label, done=i.done, detail=i.detail, required=i.required) for i in items
        ],
        first_response=_clock(clocks.first_response),
        fulfilment=_clock(clocks.fulfilment),
        history=[
            HistoryOut(
                at=h.at,
                action=h.action,
                from_status=h.from_status,
                to_status=h.to_status,
                actor_person_id=h.actor_person_id,
                actor_role=h.actor_role,
                reason=h.reason,
            )
            for h in history_of(db, "request", req.id)
        ]
        if detail
        else [],
    )


def _refused(db: Session, exc: WorkflowError) -> Response:
    db.rollback()
    if isinstance(exc, NotAllowedError):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "; ".join(exc.problems))
    if isinstance(exc, InvalidError):
        problems = [ProblemOut(field=p.field, message=p.message).model_dump() for p in exc.items]
    else:
        problems = [{"field": "", "message": p} for p in exc.problems]
    return JSONResponse({"detail": problems}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


@router.post(
    "",
    status_code=201,
    response_model=RequestDetailOut,
    responses={422: {"description": "the request has problems; nothing was stored"}},
)
def create_request(
    request: Request, db: Db, principal: ApiPrincipal, body: RequestIn, background: BackgroundTasks
) -> Response | RequestDetailOut:
    """Submit a data request (or keep it as a draft with ``submit: false``)."""
    form = RequestInput(
        district_id=body.district_id,
        title=body.title,
        purpose=body.purpose,
        audience=body.audience,
        summary=body.summary,
        level=body.level,
        datasets=body.datasets,
        elements=body.elements,
        justifications=dict(body.justifications),
        school_years=body.school_years,
        population=body.population,
        names_students=body.names_students,
        student_refs=body.student_ids,
        timeline=body.timeline,
        needed_by=body.needed_by,
        security_plan=body.security_plan,
        access_list=body.access_list,
        destruction_method=body.destruction_method,
        public_records=body.public_records,
    )
    try:
        req = (
            requests.create_and_submit(db, principal, form)
            if body.submit
            else requests.save_draft(db, principal, form)
        )
    except WorkflowError as exc:
        return _refused(db, exc)
    after_change(background, request)
    return _out(db, req, detail=True)


def _visible(db: Session, principal: Principal, code: str) -> DataRequest:
    req = requests.visible(db, principal, code)
    if req is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return req


@router.get("", response_model=list[RequestOut])
def list_requests(db: Db, principal: ApiPrincipal) -> list[RequestDetailOut]:
    """The caller's own requests; for a district data officer, the district's open requests."""
    if principal.role is Role.DISTRICT_DATA_OFFICER:
        rows = requests.district_queue(db, principal.organization_id, sorted(OPEN))
    else:
        rows = requests.mine(db, principal)
    return [_out(db, r) for r in rows[:500]]


@router.get("/{code}", response_model=RequestDetailOut)
def get_request(db: Db, principal: ApiPrincipal, code: str) -> RequestDetailOut:
    return _out(db, _visible(db, principal, code), detail=True)


@router.post("/{code}/submit", response_model=RequestDetailOut)
def submit_request(
    request: Request, db: Db, principal: ApiPrincipal, code: str, background: BackgroundTasks
) -> Response | RequestDetailOut:
    req = _visible(db, principal, code)
    try:
        requests.submit(db, principal, req)
    except WorkflowError as exc:
        return _refused(db, exc)
    after_change(background, request)
    return _out(db, req, detail=True)


@router.post("/{code}/answer", response_model=RequestDetailOut)
def answer(
    request: Request, db: Db, principal: ApiPrincipal, code: str, body: TextIn, background: BackgroundTasks
) -> Response | RequestDetailOut:
    req = _visible(db, principal, code)
    try:
        requests.answer(db, principal, req, body.text)
    except WorkflowError as exc:
        return _refused(db, exc)
    after_change(background, request)
    return _out(db, req, detail=True)


@router.post("/{code}/fee", response_model=RequestDetailOut)
def fee(
    request: Request, db: Db, principal: ApiPrincipal, code: str, body: FeeIn, background: BackgroundTasks
) -> Response | RequestDetailOut:
    req = _visible(db, principal, code)
    try:
        requests.respond_to_fee(db, principal, req, body.accept)
    except WorkflowError as exc:
        return _refused(db, exc)
    after_change(background, request)
    return _out(db, req, detail=True)


@router.post("/{code}/cancel", response_model=RequestDetailOut)
def cancel(
    request: Request, db: Db, principal: ApiPrincipal, code: str, body: TextIn, background: BackgroundTasks
) -> Response | RequestDetailOut:
    req = _visible(db, principal, code)
    try:
        requests.cancel(db, principal, req, body.text)
    except WorkflowError as exc:
        return _refused(db, exc)
    after_change(background, request)
    return _out(db, req, detail=True)
