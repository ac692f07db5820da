"""Record-of-disclosures pages: a parent's view of their own child, a district officer's views by
student, recipient and agreement, each printable and exportable as CSV.

Every read goes through ``visible_student`` or ``district_scope``; anything else answers 404, so a
parent cannot reach another child's ledger by changing the id in the address.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
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
    visible_agreement,
    visible_student,
)
from steward.audit.models import DisclosureEntry
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.store.access import parse_instant, who_can_see
from steward.store.models import Organization, Student
from steward.web.deps import Db, PagePrincipal
from steward.web.templating import render
from steward.workflow.models import Agreement

router = APIRouter(include_in_schema=False)


class NotVisibleError(Exception):
    """What the viewer may not see, or what does not exist: both answer the same 404 page."""


def answers_404(route: Callable[..., Response]) -> Callable[..., Response]:
    """Render the 404 page inside the route, while the request's session is still open."""

    @functools.wraps(route)
    def wrapper(**kwargs: Any) -> Response:
        try:
            return route(**kwargs)
        except NotVisibleError:
            request: Request = kwargs["request"]
            context = {"title": "Not found", "message": "Not found", "principal": kwargs.get("principal")}
            return render(request, "error.html", context, 404)

    return wrapper


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
    t = instant.astimezone(tz)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d} {t.tzname()}"


def _lines(entries: Sequence[Any], tz: ZoneInfo, students: dict[int, str] | None = None) -> list[Line]:
    """Format ``DisclosureEntry`` objects or ledger rows (same attribute names) for a page."""
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
        raise NotVisibleError
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
@answers_404
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
        return render(request, "ledger_children.html", context, db=db)
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


@dataclass(frozen=True, slots=True)
class CouldSee:
    """One person who could see the student at an instant, with what and why."""

    who: str
    role: str
    organization: str
    items: list[tuple[str, str, str]]


def _who_could_see(db: Session, student: Student, at: str | None, tz: ZoneInfo) -> dict[str, Any]:
    """The decision engine's answer for any instant (time travel), grouped by person."""
    try:
        instant = parse_instant(at, str(tz))
    except ValueError as exc:
        return {"who_error": str(exc), "who_at": at or ""}
    result = who_can_see(db, student.id, instant)
    people: dict[int, CouldSee] = {}
    for access in result.accesses:
        entry = people.setdefault(
            access.person_id,
            CouldSee(
                access.person_name or access.person_code,
                access.role.replace("_", " "),
                access.org_code or "",
                [],
            ),
        )
        decision = access.decision
        basis = decision.basis.display() if decision.basis is not None else ""
        entry.items.append((access.dataset.value, basis, ", ".join(decision.evidence)))
    return {
        "who_could_see": list(people.values()),
        "who_at": at or "",
        "who_when": _when(result.at, tz),
        "who_directory": result.directory is not None,
    }


@router.get("/ledger/students/{student_id}")
@answers_404
def student_ledger(
    request: Request, db: Db, principal: PagePrincipal, student_id: int, at: str | None = None
) -> Response:
    """Who has seen or received this student's data, when and why (printable); for the district
    officer also who *could* see it at any instant (``at``: a date or ISO time; default now)."""
    student = visible_student(db, principal, student_id)
    if student is None:
        raise NotVisibleError
    entries = student_entries(db, student)
    tz = district_timezone(db, student.district_id)
    lines = _lines(entries, tz)
    district = db.get(Organization, student.district_id)
    is_officer = principal.role is Role.DISTRICT_DATA_OFFICER
    could_see = _who_could_see(db, student, at, tz) if is_officer else {}
    response = render(
        request,
        "ledger_student.html",
        {
            **could_see,
            "principal": principal,
            "org_name": _org_name(db, principal),
            "student": student,
            "district_name": district.name if district is not None else "",
            "lines": lines,
            "required_count": sum(1 for line in lines if line.required),
            "exempt_count": sum(1 for line in lines if not line.required),
            "is_officer": is_officer,
            "record_label": RECORD_LABEL,
            "exempt_label": EXEMPT_LABEL,
        },
        db=db,
    )
    # Appended last: the chain's lock is then held only from here to the commit.
    _audit_read(db, principal, student.district_id, "ledger.view", student_id=student.id)
    return response


@router.get("/ledger/students/{student_id}/export.csv")
@answers_404
def student_ledger_csv(request: Request, db: Db, principal: PagePrincipal, student_id: int) -> Response:
    student = visible_student(db, principal, student_id)
    if student is None:
        raise NotVisibleError
    _audit_read(db, principal, student.district_id, "ledger.export", student_id=student.id)
    return _csv(
        request,
        f"ledger-student-{student.local_id}",
        entries_query(student.district_id, student_id=student.id),
    )


def _recipient(db: Session, org_id: int) -> Organization:
    org = db.get(Organization, org_id)
    if org is None:
        raise NotVisibleError
    return org


@router.get("/ledger/recipients/{org_id}")
@answers_404
def recipient_ledger(
    request: Request, db: Db, principal: PagePrincipal, org_id: int, cursor: int | None = None
) -> Response:
    """Every line of the officer's district naming this recipient, newest first, by pages."""
    district = _officer_district(principal)
    org = _recipient(db, org_id)
    result = page(db, entries_query(district, recipient_org_id=org.id), cursor, PAGE_SIZE)
    response = _list_page(
        request, db, principal, district, result, f"Disclosures to {org.name}", f"/ledger/recipients/{org.id}"
    )
    _audit_read(db, principal, district, "ledger.view", recipient_org=org.id)
    return response


@router.get("/ledger/recipients/{org_id}/export.csv")
@answers_404
def recipient_ledger_csv(request: Request, db: Db, principal: PagePrincipal, org_id: int) -> Response:
    district = _officer_district(principal)
    org = _recipient(db, org_id)
    _audit_read(db, principal, district, "ledger.export", recipient_org=org.id)
    return _csv(request, f"ledger-recipient-{org.code}", entries_query(district, recipient_org_id=org.id))


def _agreement(db: Session, principal: Principal, agreement_id: int) -> Agreement:
    agreement = visible_agreement(db, principal, agreement_id)
    if agreement is None:
        raise NotVisibleError
    return agreement


@router.get("/ledger/agreements/{agreement_id}")
@answers_404
def agreement_ledger(
    request: Request, db: Db, principal: PagePrincipal, agreement_id: int, cursor: int | None = None
) -> Response:
    """Every line of the officer's district under one of its agreements, newest first, by pages."""
    agreement = _agreement(db, principal, agreement_id)
    district = agreement.district_id
    result = page(db, entries_query(district, agreement_id=agreement.id), cursor, PAGE_SIZE)
    response = _list_page(
        request,
        db,
        principal,
        district,
        result,
        f"Disclosures under agreement {agreement.code}",
        f"/ledger/agreements/{agreement.id}",
    )
    _audit_read(db, principal, district, "ledger.view", agreement=agreement.id)
    return response


@router.get("/ledger/agreements/{agreement_id}/export.csv")
@answers_404
def agreement_ledger_csv(request: Request, db: Db, principal: PagePrincipal, agreement_id: int) -> Response:
    agreement = _agreement(db, principal, agreement_id)
    district = agreement.district_id
    _audit_read(db, principal, district, "ledger.export", agreement=agreement.id)
    return _csv(
        request,
        f"ledger-agreement-{agreement.id}",
        entries_query(district, agreement_id=agreement.id),
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
