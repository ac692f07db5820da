"""Records-transfer pages: the registrar's request form, status and bulk lists; the sending
district's review queue and transfer log.

Every read goes through ``steward.workflow.transfers.service``, which returns nothing the viewer may
not see, so another district's request answers 404.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, HTTPException, Request, UploadFile, status
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward.delivery.models import Package
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import DEFAULT_TIMEZONE
from steward.store.models import Organization, Student, TenantSettings
from steward.web.deps import CsrfChecked, Db, PagePrincipal, settings_of
from steward.web.security import CSV, UploadRejectedError, check_stream, safe_filename
from steward.web.templating import render
from steward.workflow.transfers.models import MatchCandidate, TransferRequest
from steward.workflow.transfers.service import (
    Ask,
    Status,
    TransferError,
    batch_requests,
    confirm_candidate,
    parse_incoming,
    receive,
    receiving_district,
    registrar_requests,
    reject_candidates,
    request_bulk,
    request_records,
    review_queue,
    transfer_log,
    visible_request,
)
from steward.workflow.transfers.settings import settings_for

router = APIRouter(include_in_schema=False)

MAX_LIST_BYTES = 5 * 1024 * 1024
STATUS_CLASS = {
    Status.DELIVERED.value: "ok",
    Status.RECEIVED.value: "ok",
    Status.NEEDS_REVIEW.value: "wait",
    Status.REFUSED.value: "bad",
    Status.FAILED.value: "bad",
    Status.NO_MATCH.value: "bad",
    Status.REJECTED.value: "bad",
    Status.EXPIRED.value: "bad",
}


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "Not found")


def _org_name(db: Session, org_id: int | None) -> str:
    org = db.get(Organization, org_id) if org_id is not None else None
    return org.name if org is not None else ""


def _zone(db: Session, district_id: int) -> ZoneInfo:
    settings = db.get(TenantSettings, district_id)
    return ZoneInfo(settings.timezone if settings is not None else DEFAULT_TIMEZONE)


def _when(instant: datetime | None, tz: ZoneInfo) -> str:
    return "" if instant is None else instant.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _row(db: Session, request: TransferRequest, tz: ZoneInfo) -> dict[str, Any]:
    label = Status(request.status).label
    return {
        "id": request.id,
        "code": request.code,
        "status": request.status,
        "label": label,
        "css": STATUS_CLASS.get(request.status, ""),
        "reason": request.reason,
        "created": _when(request.created_at, tz),
        "sending": _org_name(db, request.sending_district_id),
        "receiving": _org_name(db, request.receiving_district_id),
        "asked": f"{request.requested_first_name} {request.requested_last_name}",
        "state_id": request.requested_state_id,
        "datasets": ", ".join(request.datasets),
        "format": request.format,
    }


def _registrar_page(
    request: Request, db: Session, principal: Principal, error: str = "", form: dict[str, str] | None = None
) -> Response:
    district = receiving_district(db, principal)
    tz = _zone(db, district.id)
    rows = [_row(db, r, tz) for r in registrar_requests(db, principal)]
    return render(
        request,
        "transfers.html",
        {
            "principal": principal,
            "org_name": _org_name(db, principal.organization_id),
            "district": district,
            "receive_format": settings_for(db, district.id).receive_format.value,
            "rows": rows,
            "error": error,
            "form": form or {},
        },
        422 if error else 200,
    )


@router.get("/transfers")
def transfers_home(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """The registrar's requests and forms; a data officer's transfer log."""
    if principal.role is Role.DISTRICT_DATA_OFFICER:
        return RedirectResponse("/transfers/log", status_code=303)
    if principal.role is not Role.REGISTRAR:
        raise _not_found()
    try:
        return _registrar_page(request, db, principal)
    except TransferError as exc:
        raise _not_found() from exc


@router.post("/transfers", dependencies=[CsrfChecked])
async def submit(request: Request, db: Db, principal: PagePrincipal) -> Response:
    if principal.role is not Role.REGISTRAR:
        raise _not_found()
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()[:60] for k in ("state_id", "first_name", "last_name", "birth_date")
    }
    try:
        try:
            born = date.fromisoformat(values["birth_date"])
        except ValueError:
            raise TransferError("the birth date must be a date (YYYY-MM-DD)") from None
        made = request_records(
            db,
            settings_of(request).data_dir,
            principal,
            Ask(values["state_id"], values["first_name"], values["last_name"], born),
        )
    except TransferError as exc:
        db.rollback()
        return _registrar_page(request, db, principal, str(exc), values)
    return RedirectResponse(f"/transfers/{made.id}", status_code=303)


@router.post("/transfers/bulk", dependencies=[CsrfChecked])
def submit_bulk(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    incoming: Annotated[UploadFile, File(description="incoming students (CSV)")],
) -> Response:
    if principal.role is not Role.REGISTRAR:
        raise _not_found()
    try:
        checked = check_stream(incoming.filename, incoming.content_type, incoming.file, [CSV], MAX_LIST_BYTES)
        text = incoming.file.read().decode("utf-8-sig")
        asks = parse_incoming(text, checked.filename)
        batch = request_bulk(db, settings_of(request).data_dir, principal, asks, checked.filename)
    except (UploadRejectedError, TransferError, UnicodeDecodeError) as exc:
        db.rollback()
        return _registrar_page(request, db, principal, str(exc))
    return RedirectResponse(f"/transfers/batches/{batch.id}", status_code=303)


@router.get("/transfers/batches/{batch_id}")
def batch_page(request: Request, db: Db, principal: PagePrincipal, batch_id: int) -> Response:
    found = batch_requests(db, principal, batch_id)
    if found is None:
        raise _not_found()
    batch, rows = found
    tz = _zone(db, batch.receiving_district_id)
    return render(
        request,
        "transfers_batch.html",
        {
            "principal": principal,
            "org_name": _org_name(db, principal.organization_id),
            "batch": batch,
            "created": _when(batch.created_at, tz),
            "rows": [_row(db, r, tz) for r in rows],
        },
    )


@router.get("/transfers/queue")
def queue_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """Near matches among the officer's students, waiting for a person to confirm or reject."""
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        raise _not_found()
    tz = _zone(db, principal.organization_id)
    items = [
        {
            "request": _row(db, item.request, tz),
            "asked_birth": item.request.requested_birth_date.isoformat(),
            "receiving": item.receiving.name,
            "candidates": [
                {
                    "id": c.id,
                    "name": f"{s.first_name} {s.last_name}",
                    "local_id": s.local_id,
                    "state_id": s.state_id or "",
                    "birth_date": s.birth_date.isoformat(),
                    "reasons": c.reasons,
                    "score": c.score,
                }
                for c, s in item.candidates
            ],
        }
        for item in review_queue(db, principal)
    ]
    return render(
        request,
        "transfers_queue.html",
        {"principal": principal, "org_name": _org_name(db, principal.organization_id), "items": items},
    )


@router.get("/transfers/log")
def log_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """The sending district's transfer log: every request matched to one of its students."""
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        raise _not_found()
    tz = _zone(db, principal.organization_id)
    rows = []
    for r in transfer_log(db, principal):
        row = _row(db, r, tz)
        student = db.get(Student, r.student_id) if r.student_id is not None else None
        row["student"] = f"{student.display_name} ({student.local_id})" if student is not None else ""
        row["delivered"] = _when(r.delivered_at, tz)
        row["received"] = _when(r.received_at, tz)
        rows.append(row)
    waiting = len(review_queue(db, principal))
    return render(
        request,
        "transfers_log.html",
        {
            "principal": principal,
            "org_name": _org_name(db, principal.organization_id),
            "rows": rows,
            "waiting": waiting,
        },
    )


@router.get("/transfers/{request_id}")
def status_page(request: Request, db: Db, principal: PagePrincipal, request_id: int) -> Response:
    found = visible_request(db, principal, request_id)
    if found is None:
        raise _not_found()
    tz = _zone(db, found.receiving_district_id)
    package = db.get(Package, found.package_id) if found.package_id is not None else None
    candidates = list(db.scalars(select(MatchCandidate).where(MatchCandidate.request_id == found.id)))
    return render(
        request,
        "transfer.html",
        {
            "principal": principal,
            "org_name": _org_name(db, principal.organization_id),
            "row": _row(db, found, tz),
            "transfer": found,
            "package": package,
            "delivered": _when(found.delivered_at, tz),
            "received": _when(found.received_at, tz),
            "is_registrar": principal.role is Role.REGISTRAR,
            "can_receive": principal.role is Role.REGISTRAR
            and found.status == Status.DELIVERED.value
            and package is not None
            and package.status == "available",
            "reviews": principal.role is Role.DISTRICT_DATA_OFFICER
            and any(c.district_id == principal.organization_id for c in candidates),
        },
    )


@router.post("/transfers/{request_id}/receive", dependencies=[CsrfChecked])
def receive_package(request: Request, db: Db, principal: PagePrincipal, request_id: int) -> Response:
    """The encrypted package, once; Steward shreds its own copy in the same transaction."""
    try:
        data, name = receive(db, settings_of(request).data_dir, principal, request_id)
    except TransferError as exc:
        raise _not_found() from exc
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{safe_filename(name, "records.tar.age")}"'},
    )


@router.post("/transfers/{request_id}/candidates/{candidate_id}/confirm", dependencies=[CsrfChecked])
def confirm(
    request: Request, db: Db, principal: PagePrincipal, request_id: int, candidate_id: int
) -> Response:
    try:
        confirm_candidate(db, settings_of(request).data_dir, principal, request_id, candidate_id)
    except TransferError as exc:
        raise _not_found() from exc
    return RedirectResponse(f"/transfers/{request_id}", status_code=303)


@router.post("/transfers/{request_id}/reject", dependencies=[CsrfChecked])
def reject(request: Request, db: Db, principal: PagePrincipal, request_id: int) -> Response:
    try:
        reject_candidates(db, principal, request_id)
    except TransferError as exc:
        raise _not_found() from exc
    return RedirectResponse("/transfers/queue", status_code=303)
