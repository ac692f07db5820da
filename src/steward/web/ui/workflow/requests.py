"""Data request pages: the intake form, the requester's list with status and checklist, and the
request's own page, whose forms depend on who looks (requester, data office, review panel).
Requests of other organizations answer 404."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from steward.delivery.destruction import MAX_CERTIFICATE_BYTES
from steward.domain.datasets import Dataset
from steward.domain.principal import Principal
from steward.store.base import now_utc
from steward.store.models import Organization, Person, Student
from steward.web.api.delivery import CERTIFICATES
from steward.web.deps import CsrfChecked, Db, PagePrincipal, settings_of
from steward.web.security import CSV, PDF, TXT, XLSX, XML, ZIP, FileKind
from steward.web.ui.workflow.common import (
    REQUESTER_ROLES,
    STATUS_CLASS,
    after_change,
    checked_upload,
    element_groups,
    field,
    id_list,
    line_list,
    local,
    need,
    not_found,
    page,
    parse_date,
    status_label,
    uploads,
    values,
    year_choices,
)
from steward.workflow.agreements import service as agreements
from steward.workflow.common import InvalidError, WorkflowError
from steward.workflow.files import MAX_EVIDENCE_BYTES
from steward.workflow.history import history_of
from steward.workflow.requests import cycles, fulfilment
from steward.workflow.requests import service as requests
from steward.workflow.requests.fees import dollars
from steward.workflow.requests.intake import LEVELS, RequestInput
from steward.workflow.requests.machine import CANCELLABLE, Party, Status
from steward.workflow.requests.models import DataRequest, RequestStudent, ReviewCycle
from steward.workflow.requests.triage import Path as TriagePath
from steward.workflow.requests.triage import checklist
from steward.workflow.settings import config_for
from steward.workflow.sla import service as sla

router = APIRouter(include_in_schema=False)
MAX_DELIVERY_FILE = 200 * 1024 * 1024
#: What an analyst may hand over as a prepared file: tables, documents and archives of them.
DELIVERABLES = (
    CSV,
    TXT,
    XLSX,
    PDF,
    ZIP,
    XML,
    FileKind("JSON", (".json",), ("application/json", "text/plain"), text=True),
    FileKind("Parquet file", (".parquet",), ("application/vnd.apache.parquet",), magic=(b"PAR1",)),
)


def _districts(db: Db) -> list[Organization]:
    return list(
        db.scalars(select(Organization).where(Organization.kind == "district").order_by(Organization.name))
    )


def _form_context(
    db: Db, district_id: int | None, form: dict[str, Any] | None = None, errors: list[str] | None = None
) -> dict[str, Any]:
    districts = _districts(db)
    chosen = district_id or (districts[0].id if districts else 0)
    return {
        "districts": districts,
        "levels": LEVELS,
        "datasets": [d.value for d in Dataset],
        "groups": element_groups(),
        "years": year_choices(db, chosen) if chosen else [],
        "form": form
        or {
            "district_id": chosen,
            "level": "aggregate",
            "datasets": [],
            "elements": [],
            "school_years": [],
            "justifications": {},
        },
        "errors": errors or [],
    }


@router.get("/requests/new")
def new_request_form(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, *REQUESTER_ROLES)
    return page(request, db, principal, "request_new.html", _form_context(db, None))


def _read_intake(form: Any) -> tuple[RequestInput, dict[str, Any]]:
    elements = values(form, "elements")
    datasets = sorted(set(values(form, "datasets")) | {e.split(".", 1)[0] for e in elements})
    justifications = {
        key.removeprefix("justification:"): str(value)
        for key, value in form.multi_items()
        if key.startswith("justification:") and isinstance(value, str) and value.strip()
    }
    years: list[int] = []
    for text in values(form, "school_years"):
        try:
            years.append(int(text))
        except ValueError:
            continue
    try:
        district_id = int(field(form, "district_id") or 0)
    except ValueError:
        district_id = 0
    data = RequestInput(
        district_id=district_id,
        title=field(form, "title", 200),
        purpose=field(form, "purpose"),
        audience=field(form, "audience"),
        summary=field(form, "summary"),
        level=field(form, "level") or "aggregate",
        datasets=datasets,
        elements=elements,
        justifications=justifications,
        school_years=years,
        population=field(form, "population"),
        names_students=field(form, "names_students") == "yes",
        student_refs=id_list(field(form, "student_ids", 2_000_000)),
        timeline=field(form, "timeline"),
        needed_by=parse_date(field(form, "needed_by")),
        security_plan=field(form, "security_plan"),
        access_list=line_list(field(form, "access_list")),
        destruction_method=field(form, "destruction_method"),
        public_records=field(form, "public_records") == "yes",
    )
    echo = {
        **data.__dict__,
        "student_ids": field(form, "student_ids", 2_000_000),
        "access_list": field(form, "access_list"),
        "needed_by": field(form, "needed_by"),
    }
    return data, echo


@router.post("/requests/new", dependencies=[CsrfChecked])
async def new_request(
    request: Request, db: Db, principal: PagePrincipal, background: BackgroundTasks
) -> Response:
    need(principal, *REQUESTER_ROLES)
    form = await request.form()
    data, echo = _read_intake(form)
    try:
        req = requests.create_and_submit(db, principal, data)
    except WorkflowError as exc:
        db.rollback()
        errors = [str(p) for p in exc.items] if isinstance(exc, InvalidError) else exc.problems
        context = _form_context(db, data.district_id or None, echo, errors)
        return page(request, db, principal, "request_new.html", context, 422)
    after_change(background, request)
    return RedirectResponse(f"/requests/{req.code}?done=submitted", status_code=303)


@router.get("/requests")
def my_requests(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, *REQUESTER_ROLES)
    now = now_utc()
    rows = []
    for req in requests.mine(db, principal):
        items = checklist(db, req, now) if req.status not in ("draft",) else []
        rows.append(
            {
                "req": req,
                "status": status_label(req.status),
                "status_class": STATUS_CLASS.get(req.status, ""),
                "submitted": local(db, req.district_id, req.submitted_at),
                "missing": [i for i in items if i.required and not i.done],
                "path": TriagePath(req.path).label if req.path else "",
            }
        )
    return page(request, db, principal, "requests_mine.html", {"rows": rows})


def _visible(db: Db, principal: Principal, code: str) -> DataRequest:
    req = requests.visible(db, principal, code)
    if req is None:
        raise not_found()
    return req


def _detail(
    request: Request,
    db: Db,
    principal: Principal,
    req: DataRequest,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    party = requests.party_of(principal, req)
    now = now_utc()
    config = config_for(db, req.district_id)
    clocks = sla.clocks(db, req, config, now)
    students = list(
        db.execute(
            select(Student.local_id, Student.first_name, Student.last_name)
            .join(RequestStudent, RequestStudent.student_id == Student.id)
            .where(RequestStudent.request_id == req.id)
            .order_by(Student.local_id)
            .limit(500)
        )
    )
    people = {
        p.id: p.display_name
        for p in db.scalars(
            select(Person).where(
                Person.id.in_(
                    {h.actor_person_id for h in history_of(db, "request", req.id) if h.actor_person_id}
                    | {m.author_person_id for m in requests.messages(db, req) if m.author_person_id}
                )
            )
        )
    }
    linked = requests.linked_agreements(db, req)
    gate = None
    if party is Party.OFFICE and req.status in (Status.AGREEMENT_EXECUTED.value, Status.FULFILMENT.value):
        gate = fulfilment.gate(db, req, now)
    context: dict[str, Any] = {
        "req": req,
        "party": party.value if party else "",
        "status": status_label(req.status),
        "status_class": STATUS_CLASS.get(req.status, ""),
        "path_label": TriagePath(req.path).label if req.path else "",
        "paths": [(p.value, p.label) for p in TriagePath],
        "checklist": checklist(db, req, now) if req.status != Status.DRAFT.value else [],
        "clocks": clocks,
        "messages": requests.messages(db, req),
        "history": history_of(db, "request", req.id),
        "people": people,
        "students": students,
        "agreements": [(a, agreements.recipient_signed(db, a.id)) for a in linked],
        "org": db.get(Organization, req.organization_id),
        "district": db.get(Organization, req.district_id),
        "fee": dollars(req.fee_cents),
        "votes": cycles.votes(db, req),
        "tally": cycles.tally(db, req),
        "vote_choices": cycles.VOTES,
        "cycle": db.get(ReviewCycle, req.cycle_id) if req.cycle_id else None,
        "gate": gate,
        "local": lambda instant: local(db, req.district_id, instant),
        "today": local(db, req.district_id, now)[:10],
        "errors": errors or [],
        "cancellable": req.status in {s.value for s in CANCELLABLE},
        "level_label": LEVELS.get(req.level, req.level),
    }
    return page(request, db, principal, "request_detail.html", context, status_code)


@router.get("/requests/{code}")
def request_page(request: Request, db: Db, principal: PagePrincipal, code: str) -> Response:
    return _detail(request, db, principal, _visible(db, principal, code))


ACTIONS = frozenset(
    {
        "take",
        "ask",
        "answer",
        "triage",
        "fee",
        "fee_answer",
        "decide",
        "resubmit",
        "prepare_agreement",
        "start",
        "deliver",
        "close",
        "cancel",
        "certify",
        "vote",
        "sign",
    }
)


@router.post("/requests/{code}/{action}", dependencies=[CsrfChecked])
async def request_action(
    request: Request, db: Db, principal: PagePrincipal, background: BackgroundTasks, code: str, action: str
) -> Response:
    if action not in ACTIONS:
        raise not_found()
    req = _visible(db, principal, code)
    form = await request.form()
    data_dir: Path = settings_of(request).data_dir
    done = action
    try:
        if action == "take":
            requests.take(db, principal, req)
        elif action == "ask":
            requests.ask(db, principal, req, field(form, "question"))
        elif action == "answer":
            requests.answer(db, principal, req, field(form, "answer"))
        elif action == "triage":
            try:
                path = TriagePath(field(form, "path"))
            except ValueError as exc:
                raise WorkflowError("choose the path") from exc
            requests.decide_path(db, principal, req, path, field(form, "note"))
        elif action == "fee":
            try:
                hours = float(field(form, "hours") or 0)
                rows = int(field(form, "rows") or 0)
            except ValueError as exc:
                raise WorkflowError("hours and rows are numbers") from exc
            requests.estimate_fee(db, principal, req, hours, rows, waive=field(form, "waive") == "yes")
        elif action == "fee_answer":
            requests.respond_to_fee(db, principal, req, field(form, "accept") == "yes")
        elif action == "decide":
            requests.decide(db, principal, req, field(form, "decision"), field(form, "reasons"))
        elif action == "resubmit":
            requests.resubmit(db, principal, req, field(form, "note"))
        elif action == "prepare_agreement":
            requests.prepare_agreement(db, principal, req)
        elif action == "start":
            requests.start_fulfilment(db, principal, req)
        elif action == "deliver":
            await _deliver(db, principal, req, form, data_dir)
        elif action == "close":
            requests.close(db, principal, req, field(form, "note"))
        elif action == "cancel":
            requests.cancel(db, principal, req, field(form, "reason"))
        elif action == "certify":
            files = uploads(form, "certificate")
            if not files:
                raise WorkflowError("attach the signed certificate of destruction")
            name, content = await checked_upload(files[0], CERTIFICATES, MAX_CERTIFICATE_BYTES)
            destroyed = parse_date(field(form, "destroyed_on"))
            if destroyed is None:
                raise WorkflowError("give the date the data were destroyed")
            requests.certify_destruction(
                db,
                principal,
                req,
                content=content,
                filename=name,
                signer_name=field(form, "signer_name", 200),
                signer_title=field(form, "signer_title", 200),
                destroyed_on=destroyed,
                data_dir=data_dir,
            )
        elif action == "sign":
            await _sign(db, principal, req, form, data_dir)
            done = "signed"
        elif action == "vote":
            cycles.vote(db, principal, req, field(form, "vote"), field(form, "comment"))
            done = "voted"
    except WorkflowError as exc:
        db.rollback()
        fresh = _visible(db, principal, code)
        return _detail(request, db, principal, fresh, exc.problems, 422)
    after_change(background, request)
    target = "/panel" if action == "vote" else f"/requests/{req.code}"
    return RedirectResponse(f"{target}?done={done}", status_code=303)


async def _sign(db: Db, principal: Principal, req: DataRequest, form: Any, data_dir: Path) -> None:
    """The requester uploads the signed copy of an agreement the request led to."""
    try:
        agreement_id = int(field(form, "agreement_id") or 0)
    except ValueError as exc:
        raise WorkflowError("choose the agreement") from exc
    linked = {a.id: a for a in requests.linked_agreements(db, req)}
    agreement = linked.get(agreement_id)
    if agreement is None:
        raise WorkflowError("that agreement does not belong to this request")
    files = uploads(form, "signed_copy")
    if not files:
        raise WorkflowError("attach the signed PDF")
    signed = parse_date(field(form, "signed_on"))
    if signed is None:
        raise WorkflowError("give the date of the signature")
    name, content = await checked_upload(files[0], [PDF], MAX_EVIDENCE_BYTES)
    agreements.sign(
        db,
        principal,
        agreement,
        signer_name=field(form, "signer_name", 200),
        signer_title=field(form, "signer_title", 200),
        signed_on=signed,
        content=content,
        filename=name,
        data_dir=data_dir,
    )


async def _deliver(db: Db, principal: Principal, req: DataRequest, form: Any, data_dir: Path) -> None:
    """Package the analyst's files (and, when asked, the roster index extract) for the requester."""
    staging = data_dir / "workflow" / "outgoing" / f"{req.code}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        files: dict[str, Path] = {}
        for upload in uploads(form, "files"):
            name, content = await checked_upload(upload, DELIVERABLES, MAX_DELIVERY_FILE)
            path = staging / name
            path.write_bytes(content)
            files[name] = path
        if field(form, "roster_extract") == "yes":
            checked = fulfilment.gate(db, req, now_utc())
            if checked.problems:
                raise WorkflowError(checked.problems[:20])
            files["roster.csv"] = fulfilment.roster_extract(
                db, req, checked.students, staging / "roster.csv", now_utc()
            )
        requests.deliver(db, principal, req, files, data_dir)
    finally:
        # The plain files never outlive the request: the package holds the only (encrypted) copy.
        shutil.rmtree(staging, ignore_errors=True)
