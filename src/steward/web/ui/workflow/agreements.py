"""Agreement pages: the office's list with an expiry calendar and a form for new agreements; an
agreement's page (terms, signatures with their hashes, history; edit, execute, terminate, renew);
the recipient's signed-copy upload; the terms as plain text to sign."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import local_midnight
from steward.policy.facts import AgreementKind, AgreementStatus, Clause
from steward.store.base import now_utc
from steward.store.models import Organization, Person
from steward.web.deps import CsrfChecked, Db, PagePrincipal, settings_of
from steward.web.security import PDF
from steward.web.ui.workflow.common import (
    after_change,
    checked_upload,
    field,
    local,
    need,
    not_found,
    page,
    parse_date,
    uploads,
    values,
    year_choices,
)
from steward.workflow.agreements import service as agreements
from steward.workflow.common import WorkflowError, timezone_of
from steward.workflow.files import MAX_EVIDENCE_BYTES
from steward.workflow.history import history_of
from steward.workflow.models import Agreement

router = APIRouter(include_in_schema=False)
OFFICER = Role.DISTRICT_DATA_OFFICER


def _may_see(principal: Principal, a: Agreement) -> bool:
    return (principal.role is OFFICER and principal.organization_id == a.district_id) or (
        principal.organization_id == a.organization_id
    )


def _agreement(db: Db, principal: Principal, agreement_id: int) -> Agreement:
    a = db.get(Agreement, agreement_id)
    if a is None or not _may_see(principal, a):
        raise not_found()
    return a


def _list_context(
    db: Db, principal: Principal, errors: list[str] | None = None, form: dict[str, Any] | None = None
) -> dict[str, Any]:
    rows = db.scalars(
        select(Agreement)
        .where(Agreement.district_id == principal.organization_id)
        .order_by(Agreement.valid_to, Agreement.id)
    ).all()
    orgs = {
        o.id: o
        for o in db.scalars(
            select(Organization).where(Organization.id.in_({a.organization_id for a in rows}))
        )
    }
    now = now_utc()
    horizon = now + timedelta(days=400)
    calendar: dict[str, list[Agreement]] = defaultdict(list)
    for a in rows:
        if a.status in ("executed", "approved") and a.valid_to is not None and now <= a.valid_to <= horizon:
            calendar[local(db, a.district_id, a.valid_to - timedelta(seconds=1))[:7]].append(a)
    choices = db.scalars(
        select(Organization)
        .where(Organization.kind.in_(["partner", "research_org", "agency", "vendor", "state_agency"]))
        .order_by(Organization.name)
    ).all()
    return {
        "rows": [
            {
                "a": a,
                "org": orgs[a.organization_id].name if a.organization_id in orgs else "",
                "from": local(db, a.district_id, a.valid_from)[:10],
                "to": local(db, a.district_id, a.valid_to - timedelta(seconds=1))[:10]
                if a.valid_to
                else "open-ended",
            }
            for a in rows
        ],
        "calendar": sorted(calendar.items()),
        "orgs": choices,
        "kinds": [(k.value, k.label) for k in AgreementKind],
        "datasets": [d.value for d in Dataset],
        "clauses": [c.value for c in Clause],
        "years": year_choices(db, principal.organization_id, count=3),
        "errors": errors or [],
        "form": form or {},
    }


@router.get("/office/agreements")
def agreements_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    return page(request, db, principal, "agreements.html", _list_context(db, principal))


def _terms(form: Any, tz: str) -> dict[str, Any]:
    starts = parse_date(field(form, "valid_from"))
    ends = parse_date(field(form, "valid_to"))
    elements = [e.strip() for e in field(form, "elements").replace("\n", ",").split(",") if e.strip()]
    years = [int(y) for y in values(form, "school_years") if y.isdigit()]
    days = field(form, "destruction_days").strip()
    terms: dict[str, Any] = {
        "title": field(form, "title", 200),
        "purpose": field(form, "purpose"),
        "datasets": values(form, "datasets"),
        "elements": elements or None,
        "school_years": years,
        "population": field(form, "population"),
        "clauses": values(form, "clauses"),
        "penalties": field(form, "penalties"),
        "redisclosure_terms": field(form, "redisclosure_terms"),
        "destruction_method": field(form, "destruction_method"),
        "destruction_days": int(days) if days.isdigit() else None,
        "annual": field(form, "annual") == "yes",
    }
    if terms["annual"]:
        year = field(form, "school_year")
        terms["school_year"] = int(year) if year.isdigit() else None
    elif ends is not None:
        terms["valid_to"] = local_midnight(ends + timedelta(days=1), tz)
    if starts is not None:
        terms["valid_from"] = local_midnight(starts, tz)
    return terms


@router.post("/office/agreements", dependencies=[CsrfChecked])
async def agreement_create(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    form = await request.form()
    tz = timezone_of(db, principal.organization_id)
    try:
        terms = _terms(form, tz)
        start = terms.pop("valid_from", None)
        org_id = int(field(form, "organization_id") or 0)
        a = agreements.create(
            db,
            principal,
            kind=field(form, "kind"),
            organization_id=org_id,
            district_id=principal.organization_id,
            valid_from=start,
            **terms,
        )
    except (WorkflowError, ValueError) as exc:
        db.rollback()
        problems = exc.problems if isinstance(exc, WorkflowError) else [f"check the form: {exc}"]
        return page(
            request, db, principal, "agreements.html", _list_context(db, principal, problems, dict(form)), 422
        )
    return RedirectResponse(f"/office/agreements/{a.id}?done=created", status_code=303)


def _detail(
    request: Request,
    db: Db,
    principal: Principal,
    a: Agreement,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    entries = history_of(db, "agreement", a.id)
    people = {
        p.id: p.display_name
        for p in db.scalars(
            select(Person).where(Person.id.in_({h.actor_person_id for h in entries if h.actor_person_id}))
        )
    }
    context = {
        "a": a,
        "kind": AgreementKind(a.kind).label,
        "org": db.get(Organization, a.organization_id),
        "district": db.get(Organization, a.district_id),
        "signatures": agreements.signatures(db, a.id),
        "history": entries,
        "people": people,
        "problems": agreements.execution_problems(db, a) if a.status in agreements.EDITABLE else [],
        "office": principal.role is OFFICER and principal.organization_id == a.district_id,
        "recipient": principal.organization_id == a.organization_id,
        "editable": a.status in agreements.EDITABLE,
        "in_force": a.status in (AgreementStatus.EXECUTED.value, AgreementStatus.APPROVED.value),
        "from": local(db, a.district_id, a.valid_from)[:10],
        "to": local(db, a.district_id, a.valid_to - timedelta(seconds=1))[:10] if a.valid_to else "",
        "local": lambda instant: local(db, a.district_id, instant),
        "errors": errors or [],
        "renewal": db.scalar(select(Agreement).where(Agreement.renewed_from_id == a.id).limit(1)),
        "today": local(db, a.district_id, now_utc())[:10],
    }
    return page(request, db, principal, "agreement_detail.html", context, status_code)


@router.get("/office/agreements/{agreement_id}")
def agreement_page(request: Request, db: Db, principal: PagePrincipal, agreement_id: int) -> Response:
    return _detail(request, db, principal, _agreement(db, principal, agreement_id))


@router.get("/agreements/{agreement_id}/terms.txt")
def agreement_terms(db: Db, principal: PagePrincipal, agreement_id: int) -> Response:
    """The terms as plain text: what the recipient prints, signs and uploads as PDF."""
    a = _agreement(db, principal, agreement_id)
    org = db.get(Organization, a.organization_id)
    district = db.get(Organization, a.district_id)
    to = local(db, a.district_id, a.valid_to - timedelta(seconds=1))[:10] if a.valid_to else "open-ended"
    lines = [
        f"{AgreementKind(a.kind).label.upper()} {a.code}",
        f"Between {district.name if district else ''} (the district) and "
        f"{org.name if org else ''} (the recipient)",
        "",
        f"Title: {a.title}",
        f"Purpose: {a.purpose}",
        f"Population: {a.population}",
        f"Datasets: {', '.join(a.datasets or [])}",
        f"Elements: {', '.join(a.elements or [])}",
        f"School years of data: {', '.join(str(y) for y in a.school_years or [])}",
        f"Term: {local(db, a.district_id, a.valid_from)[:10]} to {to}",
        f"Clauses: {', '.join(a.clauses or [])}",
        f"Redisclosure: {a.redisclosure_terms or 'no redisclosure without written consent (34 CFR 99.33)'}",
        f"Penalties: {a.penalties or 'loss of access; as the law provides'}",
        f"Destruction: {a.destruction_method or 'as the district directs'}, within "
        f"{a.destruction_days if a.destruction_days is not None else 45} days of the end, "
        "with a signed certificate",
        "",
        "Signed for the recipient: ______________________  Date: __________",
    ]
    return PlainTextResponse(
        "\n".join(lines) + "\n", headers={"Content-Disposition": f'attachment; filename="{a.code}.txt"'}
    )


@router.post("/office/agreements/{agreement_id}/{action}", dependencies=[CsrfChecked])
async def agreement_action(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    background: BackgroundTasks,
    agreement_id: int,
    action: str,
) -> Response:
    need(principal, OFFICER)
    a = _agreement(db, principal, agreement_id)
    form = await request.form()
    data_dir = settings_of(request).data_dir
    target = f"/office/agreements/{a.id}"
    try:
        if action == "sign":
            files = uploads(form, "signed_copy")
            if not files:
                raise WorkflowError("attach the signed PDF")
            name, content = await checked_upload(files[0], [PDF], MAX_EVIDENCE_BYTES)
            signed = parse_date(field(form, "signed_on"))
            if signed is None:
                raise WorkflowError("give the date of the signature")
            agreements.sign(
                db,
                principal,
                a,
                signer_name=field(form, "signer_name", 200),
                signer_title=field(form, "signer_title", 200),
                signed_on=signed,
                content=content,
                filename=name,
                data_dir=data_dir,
            )
        elif action == "execute":
            agreements.execute(db, principal, a)
        elif action == "terminate":
            agreements.terminate(db, principal, a, data_dir, field(form, "reason"))
        elif action == "renew":
            target = f"/office/agreements/{agreements.renew(db, principal, a).id}"
        elif action == "update":
            terms = _terms(form, timezone_of(db, a.district_id))
            agreements.update(db, principal, a, **terms)
        else:
            raise not_found()
    except WorkflowError as exc:
        db.rollback()
        return _detail(request, db, principal, _agreement(db, principal, agreement_id), exc.problems, 422)
    after_change(background, request)
    return RedirectResponse(f"{target}?done={action}", status_code=303)
