"""Delivery over HTTP: single-use download links, package lists, destruction certificates."""

from __future__ import annotations

import hmac
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward.delivery.destruction import MAX_CERTIFICATE_BYTES, submit_certificate
from steward.delivery.links import claim, create_link, revoke_link
from steward.delivery.models import DestructionTask, DownloadLink, Package
from steward.delivery.packages import DeliveryError, package_path
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.web.deps import ApiPrincipal, CurrentWebSession, Db, settings_of
from steward.web.security import JPEG, PDF, PNG, TXT, FileKind, UploadRejectedError, check_stream

router = APIRouter(tags=["delivery"])

#: What a signed certificate of destruction may be: a document, a scan, text, or a detached signature.
CERTIFICATES = (
    PDF,
    PNG,
    JPEG,
    TXT,
    FileKind("signature", (".asc",), ("application/pgp-signature", "text/plain"), text=True),
    FileKind("signature", (".sig",), ("application/pgp-signature",)),
)

GONE = "This download link has expired, was revoked or was already used. Ask the district for a new one."


async def api_csrf(request: Request, web_session: CurrentWebSession, principal: ApiPrincipal) -> None:
    """State-changing calls of a cookie session echo the session's CSRF token in ``X-CSRF-Token``.

    A call authenticated by an API token (``Authorization: Bearer``) carries no ambient credential a
    third-party page could make the browser send, so it needs no CSRF token. ``api_principal`` has
    already resolved the caller: a request with an Authorization header is the token's or a 401.
    """
    if getattr(request.state, "api_token_id", None) is not None:
        return
    sent = request.headers.get("x-csrf-token", "")
    if web_session is None or not hmac.compare_digest(sent, web_session.csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong X-CSRF-Token header")


CsrfHeader = Depends(api_csrf)


class PackageOut(BaseModel):
    id: int
    name: str
    file_name: str
    recipient_org_id: int
    agreement_id: int | None
    basis: str
    datasets: list[str]
    size: int
    sha256: str
    student_count: int
    row_count: int
    destroy_by: date | None
    status: str
    created_at: datetime
    downloads: int


class LinkIn(BaseModel):
    hours: int = Field(default=72, ge=1, le=14 * 24)


class LinkOut(BaseModel):
    id: int
    url: str
    expires_at: datetime


class TaskOut(BaseModel):
    id: int
    agreement_id: int
    recipient_org_id: int
    due_at: datetime
    status: str
    escalation_level: int
    certified_at: datetime | None
    certificate_sha256: str | None


def _may_manage(principal: Principal, package: Package) -> bool:
    return principal.role is Role.DISTRICT_DATA_OFFICER and principal.organization_id == package.district_id


def _may_see_package(principal: Principal, package: Package) -> bool:
    return _may_manage(principal, package) or principal.organization_id == package.recipient_org_id


def _package(db: Session, principal: Principal, package_id: int) -> Package:
    package = db.get(Package, package_id)
    if package is None or not _may_see_package(principal, package):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return package


@router.get("/api/v1/delivery/packages", response_model=list[PackageOut])
def list_packages(db: Db, principal: ApiPrincipal) -> list[PackageOut]:
    """The district officer's packages, or the packages sent to the caller's organization."""
    column = Package.district_id if principal.role is Role.DISTRICT_DATA_OFFICER else Package.recipient_org_id
    rows = db.scalars(select(Package).where(column == principal.organization_id).order_by(Package.id.desc()))
    return [PackageOut.model_validate(p, from_attributes=True) for p in rows]


@router.post(
    "/api/v1/delivery/packages/{package_id}/links", response_model=LinkOut, dependencies=[CsrfHeader]
)
def new_link(request: Request, db: Db, principal: ApiPrincipal, package_id: int, body: LinkIn) -> LinkOut:
    """A single-use download link (the token is shown only now)."""
    package = _package(db, principal, package_id)
    if not _may_manage(principal, package):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    try:
        link, token = create_link(db, package, principal, timedelta(hours=body.hours))
    except DeliveryError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return LinkOut(id=link.id, url=str(request.url_for("download", token=token)), expires_at=link.expires_at)


@router.post("/api/v1/delivery/links/{link_id}/revoke", status_code=204, dependencies=[CsrfHeader])
def revoke(db: Db, principal: ApiPrincipal, link_id: int) -> Response:
    link = db.get(DownloadLink, link_id)
    package = db.get(Package, link.package_id) if link is not None else None
    if link is None or package is None or not _may_manage(principal, package):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    revoke_link(db, link, principal)
    return Response(status_code=204)


@router.get("/d/{token}", name="download", include_in_schema=False)
def download(request: Request, db: Db, token: str) -> Response:
    """Serve a package once; its audit event commits before the first byte leaves."""
    package = claim(db, token)
    if package is None:
        db.rollback()
        return PlainTextResponse(GONE, status_code=status.HTTP_410_GONE)
    path = package_path(db, settings_of(request).data_dir, package)
    if not path.is_file():
        db.rollback()
        return PlainTextResponse(GONE, status_code=status.HTTP_410_GONE)
    db.commit()
    return FileResponse(path, media_type="application/octet-stream", filename=package.file_name)


@router.get("/api/v1/delivery/destruction", response_model=list[TaskOut])
def list_tasks(db: Db, principal: ApiPrincipal) -> list[TaskOut]:
    """Destruction tasks of the officer's district, or those the caller's organization owes."""
    column = (
        DestructionTask.district_id
        if principal.role is Role.DISTRICT_DATA_OFFICER
        else DestructionTask.recipient_org_id
    )
    rows = db.scalars(
        select(DestructionTask).where(column == principal.organization_id).order_by(DestructionTask.id)
    )
    return [TaskOut.model_validate(t, from_attributes=True) for t in rows]


@router.post(
    "/api/v1/delivery/destruction/{task_id}/certificate", response_model=TaskOut, dependencies=[CsrfHeader]
)
async def upload_certificate(
    request: Request,
    db: Db,
    principal: ApiPrincipal,
    task_id: int,
    certificate: Annotated[UploadFile, File(description="the signed certificate (PDF, image, text)")],
    signer_name: Annotated[str, Form(min_length=1, max_length=200)],
    destroyed_on: Annotated[date, Form()],
    signer_title: Annotated[str, Form(max_length=200)] = "",
) -> TaskOut:
    """The recipient (or the district officer on its behalf) uploads the signed certificate."""
    task = db.get(DestructionTask, task_id)
    if task is None or principal.organization_id not in (task.recipient_org_id, task.district_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    if principal.organization_id == task.district_id and principal.role is not Role.DISTRICT_DATA_OFFICER:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    try:
        accepted = check_stream(
            certificate.filename,
            certificate.content_type,
            certificate.file,
            CERTIFICATES,
            MAX_CERTIFICATE_BYTES,
        )
    except UploadRejectedError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    content = await certificate.read()
    try:
        submit_certificate(
            db,
            settings_of(request).data_dir,
            task,
            content,
            accepted.filename,
            signer_name,
            signer_title,
            destroyed_on,
            principal,
        )
    except DeliveryError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return TaskOut.model_validate(task, from_attributes=True)
