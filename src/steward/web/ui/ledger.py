"""Record-of-disclosures pages: a parent's view of their own child, a district officer's views by
student, recipient and agreement, each printable and exportable as CSV.

Every read goes through ``visible_student`` or ``district_scope``; anything else answers 404, so a
parent cannot reach another child's ledger by changing the id in the address.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward.audit import EventSpec, actor_of, append
from steward.audit.ledger import (
    EXEMPT_LABEL,
    RECORD_LABEL,
    basis_words,
    csv_rows,
    district_scope,
    district_timezone,
    entries_query,
    own_children,
    page,
    student_entries,
    visible_student,
)
from steward.audit.models import DisclosureEntry
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.store.models import Organization, Student
from steward.web.deps import Db, PagePrincipal
from steward.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 200
CHANNELS = {
    "view": "Viewed in Steward",
    "package": "Sent as an encrypted package",
    "download": "Downloaded",
    "api": "Through the API",
    "transfer": "Records transfer",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One ledger line, formatted for a page."""

    id: int
    when: str
    who: str
    organization: str
    role: str
    basis: str
    basis_words: str
    citation: str
    purpose: str
    datasets: str
    reference: str
    channel: str
    required: bool
    label: str
    student: str


def _when(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _lines(
    entries: list[DisclosureEntry], tz: ZoneInfo, students: dict[int, str] | None = None
) -> list[Line]:
    lines = []
    for e in entries:
        refs = []
        if e.agreement_id is not None:
            refs.append(f"agreement {e.agreement_id}")
        if e.request_ref:
            refs.append(f"request {e.request_ref}")
        if e.delivery_id is not None:
            refs.append(f"delivery {e.delivery_id}")
        lines.append(
            Line(
                id=e.id,
                when=_when(e.disclosed_at, tz),
                who=e.recipient_name or e.recipient_org_name,
                organization=e.recipient_org_name,
                role=e.recipient_role.replace("_", " "),
                basis=e.basis,
                basis_words=basis_words(e.basis),
                citation=e.citation,
                purpose=e.purpose,
                datasets=", ".join(e.datasets),
                reference="; ".join(refs),
                channel=("Request for access" if e.kind == "request" else CHANNELS.get(e.channel, e.channel)),
                required=e.record_required,
                label=RECORD_LABEL if e.record_required else EXEMPT_LABEL,
                student=(students or {}).get(e.student_id, ""),
            )
        )
    return lines


def _org_name(db: Session, principal: Principal) -> str:
    org = db.get(Organization, principal.organization_id)
    return org.name if org is not None else principal.organization_code


def _officer_district(principal: Principal) -> int:
    district = district_scope(principal)
    if district is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
    return district


def _audit_read(db: Session, principal: Principal, district_id: int, action: str, **details: Any) -> None:
    """Reading the ledger is itself an event (not a ledger line: that would feed on itself)."""
    subjects = [details.pop("student_id")] if "student_id" in details else []
    append(
        db,
        EventSpec(
            action=action,
            district_id=district_id,
            actor=actor_of(principal),
            subject_type="student" if subjects else None,
            subjects=subjects,
            details=details,
        ),
    )


def _csv(request: Request, name: str, query: Any) -> Response:
    """Stream the CSV from a session of its own (the request's session closes before streaming)."""

    def chunks() -> Iterator[str]:
        with request.app.state.sessionmaker() as db:
            yield from csv_rows(db, query)

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/ledger")
def ledger_home(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    student: str | None = None,
    recipient: str | None = None,
    agreement: int | None = None,
) -> Response:
    """Parents and students: their children; district officers: search by student, recipient, agreement."""
    context: dict[str, Any] = {"principal": principal, "org_name": _org_name(db, principal)}
    if principal.role in (Role.PARENT, Role.STUDENT):
        context["children"] = own_children(db, principal)
        return render(request, "ledger_children.html", context)
    district = _officer_district(principal)
    error = None
    if student:
        found = db.scalar(
            select(Student).where(Student.district_id == district, Student.local_id == student.strip())
        )
        if found is not None:
            return RedirectResponse(f"/ledger/students/{found.id}", status_code=303)
        error = f"No student with local ID {student!r} in your district."
    elif recipient:
        org = db.scalar(select(Organization).where(Organization.code == recipient.strip()))
        if org is not None:
            return RedirectResponse(f"/ledger/recipients/{org.id}", status_code=303)
        error = f"No organization with code {recipient!r}."
    elif agreement is not None:
        return RedirectResponse(f"/ledger/agreements/{agreement}", status_code=303)
    recent = page(db, entries_query(district), None, 50)
    tz = district_timezone(db, district)
    names = _student_names(db, recent.entries)
    context.update({"error": error, "lines": _lines(recent.entries, tz, names)})
    return render(request, "ledger_search.html", context, 200 if error is None else 404)


def _student_names(db: Session, entries: list[DisclosureEntry]) -> dict[int, str]:
    ids = {e.student_id for e in entries}
    if not ids:
        return {}
    return {
        s.id: f"{s.display_name} ({s.local_id})"
        for s in db.scalars(select(Student).where(Student.id.in_(ids)))
    }


@router.get("/ledger/students/{student_id}")
def student_ledger(request: Request, db: Db, principal: PagePrincipal, student_id: int) -> Response:
    """Who has seen or received this student's data, when and why (printable)."""
    student = visible_student(db, principal, student_id)
    if student is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
    entries = student_entries(db, student)
    tz = district_timezone(db, student.district_id)
    lines = _lines(entries, tz)
    _audit_read(db, principal, student.district_id, "ledger.view", student_id=student.id)
    district = db.get(Organization, student.district_id)
    return render(
        request,
        "ledger_student.html",
        {
            "principal": principal,
            "org_name": _org_name(db, principal),
            "student": student,
            "district_name": district.name if district is not None else "",
            "lines": lines,
            "required_count": sum(1 for line in lines if line.required),
            "exempt_count": sum(1 for line in lines if not line.required),
            "is_officer": principal.role is Role.DISTRICT_DATA_OFFICER,
            "record_label": RECORD_LABEL,
            "exempt_label": EXEMPT_LABEL,
        },
    )


@router.get("/ledger/students/{student_id}/export.csv")
def student_ledger_csv(request: Request, db: Db, principal: PagePrincipal, student_id: int) -> Response:
    student = visible_student(db, principal, student_id)
    if student is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
    _audit_read(db, principal, student.district_id, "ledger.export", student_id=student.id)
    return _csv(
        request,
        f"ledger-student-{student.local_id}",
        entries_query(student.district_id, student_id=student.id),
    )


def _recipient(db: Session, org_id: int) -> Organization:
    org = db.get(Organization, org_id)
    if org is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
    return org


@router.get("/ledger/recipients/{org_id}")
def recipient_ledger(
    request: Request, db: Db, principal: PagePrincipal, org_id: int, cursor: int | None = None
) -> Response:
    """Every line of the officer's district naming this recipient, newest first, by pages."""
    district = _officer_district(principal)
    org = _recipient(db, org_id)
    result = page(db, entries_query(district, recipient_org_id=org.id), cursor, PAGE_SIZE)
    _audit_read(db, principal, district, "ledger.view", recipient_org=org.id)
    return _list_page(
        request, db, principal, district, result, f"Disclosures to {org.name}", f"/ledger/recipients/{org.id}"
    )


@router.get("/ledger/recipients/{org_id}/export.csv")
def recipient_ledger_csv(request: Request, db: Db, principal: PagePrincipal, org_id: int) -> Response:
    district = _officer_district(principal)
    org = _recipient(db, org_id)
    _audit_read(db, principal, district, "ledger.export", recipient_org=org.id)
    return _csv(request, f"ledger-recipient-{org.code}", entries_query(district, recipient_org_id=org.id))


@router.get("/ledger/agreements/{agreement_id}")
def agreement_ledger(
    request: Request, db: Db, principal: PagePrincipal, agreement_id: int, cursor: int | None = None
) -> Response:
    district = _officer_district(principal)
    result = page(db, entries_query(district, agreement_id=agreement_id), cursor, PAGE_SIZE)
    _audit_read(db, principal, district, "ledger.view", agreement=agreement_id)
    return _list_page(
        request,
        db,
        principal,
        district,
        result,
        f"Disclosures under agreement {agreement_id}",
        f"/ledger/agreements/{agreement_id}",
    )


@router.get("/ledger/agreements/{agreement_id}/export.csv")
def agreement_ledger_csv(request: Request, db: Db, principal: PagePrincipal, agreement_id: int) -> Response:
    district = _officer_district(principal)
    _audit_read(db, principal, district, "ledger.export", agreement=agreement_id)
    return _csv(
        request, f"ledger-agreement-{agreement_id}", entries_query(district, agreement_id=agreement_id)
    )


def _list_page(
    request: Request, db: Session, principal: Principal, district: int, result: Any, title: str, base: str
) -> Response:
    tz = district_timezone(db, district)
    return render(
        request,
        "ledger_list.html",
        {
            "principal": principal,
            "org_name": _org_name(db, principal),
            "title": title,
            "lines": _lines(result.entries, tz, _student_names(db, result.entries)),
            "next_url": f"{base}?cursor={result.next_cursor}" if result.next_cursor else None,
            "csv_url": f"{base}/export.csv",
        },
    )
