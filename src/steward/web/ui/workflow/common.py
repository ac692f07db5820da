"""Shared pieces of the workflow pages: the sub-navigation per role, role checks that answer 404,
reading multi-value forms, turning refusals into messages on the page."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import BackgroundTasks, HTTPException, Request, status
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from steward.config import Settings
from steward.domain.datasets import ELEMENTS, Dataset, Sensitivity
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear
from steward.store.base import now_utc
from steward.store.models import Organization
from steward.web.deps import settings_of
from steward.web.security import DOCUMENTS, FileKind, UploadRejectedError, check_stream
from steward.web.templating import render
from steward.workflow.common import WorkflowError, timezone_of
from steward.workflow.notifications.mailer import send_pending
from steward.workflow.notifications.service import unread_count
from steward.workflow.requests.intake import STUDENT_LEVEL
from steward.workflow.requests.machine import Status

REQUESTER_ROLES = frozenset(
    {Role.PARTNER_STAFF, Role.RESEARCHER, Role.AGENCY_ANALYST, Role.VENDOR_INTEGRATION, Role.MEDIA}
)


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    label: str


NAV: dict[Role, list[Link]] = {
    Role.DISTRICT_DATA_OFFICER: [
        Link("/office/triage", "Triage"),
        Link("/office/cycles", "Review cycles"),
        Link("/office/sla", "SLA dashboard"),
        Link("/office/agreements", "Agreements"),
        Link("/office/consents", "Consent review"),
        Link("/office/grants", "Grants"),
        Link("/office/training", "Training"),
        Link("/office/opt-outs", "Opt-outs"),
        Link("/office/settings", "Workflow settings"),
    ],
    Role.REVIEW_PANEL_MEMBER: [Link("/panel", "Cycle agenda")],
    Role.PARTNER_STAFF: [
        Link("/requests", "My requests"),
        Link("/requests/new", "New request"),
        Link("/partner/consents", "Upload consents"),
        Link("/partner/students", "My students"),
    ],
    Role.PRINCIPAL: [Link("/office/grants", "Grants for IS partners")],
}
for _role in (Role.RESEARCHER, Role.AGENCY_ANALYST, Role.VENDOR_INTEGRATION, Role.MEDIA):
    NAV[_role] = [Link("/requests", "My requests"), Link("/requests/new", "New request")]


def frame(
    request: Request, db: Session, principal: Principal, last: Link, done_limit: int = 200
) -> dict[str, Any]:
    """The layout's context for a signed-in page: organization, the role's navigation ending with
    ``last``, unread notifications and the ``done`` message of a redirect."""
    org = db.get(Organization, principal.organization_id)
    return {
        "principal": principal,
        "org_name": org.name if org else principal.organization_code,
        "nav": [*NAV.get(principal.role, []), last],
        "unread": unread_count(db, principal.person_id),
        "current": request.url.path,
        "done": request.query_params.get("done", "")[:done_limit],
    }


def page(
    request: Request,
    db: Session,
    principal: Principal,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """Render ``workflow/<name>`` with the role's navigation and unread notifications."""
    ctx = frame(request, db, principal, Link("/notifications", "Notifications"))
    ctx.update(context or {})
    return render(request, f"workflow/{name}", ctx, status_code)


def need(principal: Principal, *roles: Role) -> None:
    """Pages of other roles answer 404 (no hint that they exist)."""
    if principal.role not in roles:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "not found")


def field(form: FormData, name: str, limit: int = 20_000) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def values(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def uploads(form: FormData, name: str) -> list[UploadFile]:
    return [v for v in form.getlist(name) if isinstance(v, UploadFile) and (v.filename or "")]


#: Scanned forms may also come as TIFF (what many scanners write).
TIFF = FileKind("TIFF image", (".tif", ".tiff"), ("image/tiff", "image/tif"), magic=(b"II*\x00", b"MM\x00*"))
SCANS = (*DOCUMENTS, TIFF)


async def checked_upload(upload: UploadFile, kinds: Iterable[FileKind], max_bytes: int) -> tuple[str, bytes]:
    """A file of the form, accepted only if its size, extension, declared type and first bytes
    agree with one of ``kinds`` (``check_stream``): its safe name and its content.

    Raises ``WorkflowError`` naming the file, so the page shows the reason and stores nothing.
    """
    try:
        accepted = check_stream(upload.filename, upload.content_type, upload.file, kinds, max_bytes)
    except UploadRejectedError as exc:
        raise WorkflowError(str(exc)) from exc
    return accepted.filename, await upload.read()


_SPLIT = re.compile(r"[\s,;]+")


def id_list(text: str) -> list[str]:
    """Student IDs typed one per line or separated by commas, semicolons or spaces."""
    return [t for t in _SPLIT.split(text) if t]


def line_list(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def problems(exc: WorkflowError) -> list[str]:
    return list(exc.problems)


def after_change(background: BackgroundTasks, request: Request) -> None:
    """Send the e-mails the change queued once the response is on its way."""
    settings: Settings = settings_of(request)
    background.add_task(send_pending, request.app.state.engine, settings)


def local(db: Session, district_id: int, instant: datetime | None) -> str:
    if instant is None:
        return ""
    return instant.astimezone(ZoneInfo(timezone_of(db, district_id))).strftime("%Y-%m-%d %H:%M")


def year_choices(db: Session, district_id: int, floor: int = 2010, count: int = 8) -> list[tuple[int, str]]:
    current = SchoolYear.at(now_utc(), timezone_of(db, district_id)).end_year
    return [(y, SchoolYear(y).label()) for y in range(current, max(floor, current - count + 1) - 1, -1)]


def element_groups() -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Datasets with their elements: (``dataset.element``, description, sensitive)."""
    return [
        (
            ds.value,
            [
                (f"{ds.value}.{e.name}", e.description, e.sensitivity is Sensitivity.SENSITIVE)
                for e in ELEMENTS[ds]
                if not (ds is Dataset.DEMOGRAPHICS and e.name == "ssn")
            ],
        )
        for ds in Dataset
    ]


STATUS_CLASS = {
    Status.DELIVERED.value: "ok",
    Status.CLOSED.value: "ok",
    Status.DESTROYED.value: "ok",
    Status.AGREEMENT_EXECUTED.value: "ok",
    Status.APPROVED.value: "ok",
    Status.NEEDS_INFORMATION.value: "wait",
    Status.CHANGES_REQUESTED.value: "wait",
    Status.AGREEMENT_PENDING.value: "wait",
    Status.DESTRUCTION_DUE.value: "wait",
    Status.RESULTS_REVIEW.value: "wait",
    Status.DENIED.value: "bad",
    Status.CANCELLED.value: "bad",
}


def status_label(value: str) -> str:
    try:
        return Status(value).label
    except ValueError:
        return value


def student_level(level: str) -> bool:
    return level in STUDENT_LEVEL


def any_of(items: Iterable[object]) -> bool:
    return any(True for _ in items)
