"""Consent request pages for partners (publish, follow, withdraw) and district officers (review the
wording a family will read, in English and Spanish, then approve or return it). Requests of other
organizations or districts answer 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward import i18n
from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.family import requests
from steward.family.models import ConsentRequest
from steward.family.wording import Reader, dataset_meaning, dataset_name, sections, title_of
from steward.store.base import now_utc
from steward.store.models import Organization
from steward.web.deps import CsrfChecked, Db, PagePrincipal, settings_of
from steward.web.templating import render
from steward.web.ui.workflow.common import Link, after_change, frame, id_list
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.notifications.mailer import base_url

router = APIRouter(include_in_schema=False)

STAFF_ROLES = frozenset({Role.PARTNER_STAFF, Role.DISTRICT_DATA_OFFICER})
#: Languages an organization may give its own wording in (besides English).
OWN_LANGUAGES = ("es", "so", "vi", "zh", "am")
PREVIEW_LANGUAGES = ("en", "es")


def _page(
    request: Request,
    db: Session,
    principal: Principal,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = frame(request, db, principal, Link("/consent-requests", "Consent requests"), done_limit=40)
    ctx.update({"dataset_name": dataset_name, "datasets": list(Dataset)})
    ctx.update(context or {})
    return render(request, name, ctx, status_code)


def _404(request: Request, db: Session, principal: Principal) -> Response:
    return _page(request, db, principal, "error.html", {"title": "Not found", "message": "Not found"}, 404)


def _districts(db: Session, principal: Principal) -> list[Organization]:
    """Districts the partner has an executed data sharing agreement with now."""
    out = []
    for district in db.scalars(
        select(Organization).where(Organization.kind == "district").order_by(Organization.name)
    ):
        if requests.executed_dsa(db, principal.organization_id, district.id, now_utc()) is not None:
            out.append(district)
    return out


def public_base(request: Request) -> str:
    """Where families reach the hub: the configured public address, else this request's."""
    settings = settings_of(request)
    return base_url(settings) if settings.public_url else str(request.base_url).rstrip("/")


@router.get("/consent-requests")
def listing(request: Request, db: Db, principal: PagePrincipal) -> Response:
    if principal.role not in STAFF_ROLES:
        return _404(request, db, principal)
    rows = requests.listing(db, principal)
    orgs = (
        dict(
            db.execute(
                select(Organization.id, Organization.name).where(
                    Organization.id.in_({r.organization_id for r in rows})
                )
            ).all()
        )
        if rows
        else {}
    )
    return _page(
        request,
        db,
        principal,
        "family/staff/requests.html",
        {"rows": rows, "orgs": orgs, "is_partner": principal.role is Role.PARTNER_STAFF},
    )


@router.get("/consent-requests/new")
def new_form(request: Request, db: Db, principal: PagePrincipal) -> Response:
    if principal.role is not Role.PARTNER_STAFF:
        return _404(request, db, principal)
    return _page(
        request,
        db,
        principal,
        "family/staff/request_new.html",
        {"districts": _districts(db, principal), "languages": OWN_LANGUAGES, "form": {}, "errors": []},
    )


@router.post("/consent-requests", dependencies=[CsrfChecked])
async def publish(
    request: Request, db: Db, principal: PagePrincipal, background: BackgroundTasks
) -> Response:
    if principal.role is not Role.PARTNER_STAFF:
        return _404(request, db, principal)
    form = await request.form()
    values = {k: str(v)[:5000] for k, v in form.items() if isinstance(v, str)}
    translations = {
        lang: {name: values.get(f"{name}_{lang}", "") for name in ("title", "purpose", "description")}
        for lang in OWN_LANGUAGES
    }
    try:
        district_id = int(values.get("district_id", "0") or 0)
    except ValueError:
        district_id = 0
    try:
        row = requests.publish(
            db,
            principal,
            requests.RequestInput(
                district_id=district_id,
                title=values.get("title", ""),
                purpose=values.get("purpose", ""),
                description=values.get("description", ""),
                datasets=[v for v in form.getlist("datasets") if isinstance(v, str)],
                student_refs=id_list(str(form.get("student_refs", ""))[:200_000]),
                translations=translations,
            ),
        )
    except NotAllowedError:
        return _404(request, db, principal)
    except WorkflowError as exc:
        return _page(
            request,
            db,
            principal,
            "family/staff/request_new.html",
            {
                "districts": _districts(db, principal),
                "languages": OWN_LANGUAGES,
                "form": values,
                "chosen": [v for v in form.getlist("datasets") if isinstance(v, str)],
                "errors": exc.problems,
            },
            400,
        )
    after_change(background, request)
    return RedirectResponse(f"/consent-requests/{row.code}?done=published", status_code=303)


def _preview(db: Session, row: ConsentRequest) -> list[dict[str, Any]]:
    """The text families will read, for a sample student, in English and Spanish."""
    wording = requests.wording_for(db, row)
    reader = Reader("[student name]", "[student ID]", "parent")
    out = []
    for lang in PREVIEW_LANGUAGES:
        with i18n.use(lang):
            out.append(
                {
                    "lang": lang,
                    "name": i18n.language_name(lang),
                    "title": title_of(wording, reader),
                    "sections": sections(wording, reader),
                }
            )
    return out


@router.get("/consent-requests/{code}")
def detail(request: Request, db: Db, principal: PagePrincipal, code: str) -> Response:
    if principal.role not in STAFF_ROLES:
        return _404(request, db, principal)
    try:
        row = requests.find(db, principal, code[:40])
    except NotAllowedError:
        return _404(request, db, principal)
    is_officer = principal.role is Role.DISTRICT_DATA_OFFICER
    org = db.get(Organization, row.organization_id)
    return _page(
        request,
        db,
        principal,
        "family/staff/request_detail.html",
        {
            "r": row,
            "org": org.name if org else "",
            "preview": _preview(db, row),
            "tally": requests.tally(db, row),
            "unknown": requests.unknown_refs(db, row) if is_officer else [],
            "is_officer": is_officer,
            "dataset_meaning": dataset_meaning,
            "errors": [e for e in [request.query_params.get("error", "")[:300]] if e],
        },
    )


@router.post("/consent-requests/{code}/{action}", dependencies=[CsrfChecked])
async def act(
    request: Request, db: Db, principal: PagePrincipal, code: str, action: str, background: BackgroundTasks
) -> Response:
    if principal.role not in STAFF_ROLES or action not in ("approve", "return", "withdraw"):
        return _404(request, db, principal)
    try:
        row = requests.find(db, principal, code[:40])
    except NotAllowedError:
        return _404(request, db, principal)
    form = await request.form()
    note = str(form.get("note", ""))[:2000]
    try:
        if action == "approve":
            requests.approve(db, principal, row, note, base_url=public_base(request))
        elif action == "return":
            requests.return_for_changes(db, principal, row, note)
        else:
            requests.withdraw(db, principal, row)
    except NotAllowedError:
        return _404(request, db, principal)
    except WorkflowError as exc:
        return RedirectResponse(
            f"/consent-requests/{row.code}?error={quote('; '.join(exc.problems)[:300])}", status_code=303
        )
    after_change(background, request)
    done = {"approve": "approved", "return": "returned", "withdraw": "withdrawn"}[action]
    return RedirectResponse(f"/consent-requests/{row.code}?done={done}", status_code=303)
