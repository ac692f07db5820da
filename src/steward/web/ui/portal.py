"""Portal pages: student lists, Student-at-a-Glance, and the report package (partners and school
staff; parents see their own children with the ledger beside each page).

Every read starts from the decision engine for the signed-in principal: a student or report the
viewer may not see answers the same 404 as one that does not exist, rendered inside the route so the
audit event of the attempt commits with the request. Every view is an audit event; a view of a
student's records by anyone but the family is a disclosure in the ledger (exempt lines where 99.32(d)
says so); every package made is a disclosure for each student in it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from steward.audit import EventSpec, actor_of, append, append_many, record_disclosure
from steward.audit.ledger import basis_words, student_entries
from steward.delivery.packages import Layout
from steward.delivery.recipients import active_keys
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.products.portal import catalog
from steward.products.portal import service as portal
from steward.products.portal.glance import PORTAL_ROLES, Glance, build_glance, evidence_label
from steward.products.portal.lists import SORTS, student_list
from steward.products.portal.package import PackageSourceError, members_of
from steward.products.records import SourceRecordsError
from steward.store.base import now_utc
from steward.store.models import Organization, Student
from steward.web.deps import CsrfChecked, Db, PagePrincipal
from steward.web.security import safe_filename
from steward.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("steward.portal")

HOME_HINT: dict[Role, str] = {
    Role.PARTNER_STAFF: "Consented students your district granted to your organization.",
    Role.TEACHER: "The students in your sections this school year.",
    Role.PRINCIPAL: "The students enrolled in your school.",
    Role.COUNSELOR: "The students enrolled in your school.",
    Role.PARENT: "Your children.",
}


def _org_name(db: Session, principal: Principal) -> str:
    org = db.get(Organization, principal.organization_id)
    return org.name if org is not None else principal.organization_code


def _page(
    request: Request, db: Session, principal: Principal, name: str, context: dict[str, Any], status: int = 200
) -> Response:
    ctx = {"principal": principal, "org_name": _org_name(db, principal), **context}
    return render(request, name, ctx, status, db=db)


def _not_found(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    subject_type: str,
    subject: int | str,
    district_id: int | None = None,
) -> Response:
    """404, and the attempt in the audit log (the district's chain when the student exists)."""
    append(
        db,
        EventSpec(
            action="portal.not_found",
            district_id=district_id,
            actor=actor_of(principal),
            subject_type=subject_type,
            subjects=[subject],
            outcome="denied",
            details={"path": request.url.path, "method": request.method},
        ),
    )
    return _page(request, db, principal, "error.html", {"title": "Not found", "message": "Not found"}, 404)


def _not_for_role(request: Request, db: Session, principal: Principal, what: str) -> Response:
    message = f"{what} are for community partners, teachers, principals, counselors and parents."
    return _page(
        request, db, principal, "error.html", {"title": "Not for your role", "message": message}, 403
    )


# -- lists ----------------------------------------------------------------------------------------


@router.get("/portal/students")
def students(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    q: Annotated[str, Query(max_length=100)] = "",
    sort: Annotated[str, Query(max_length=10)] = "name",
    order: Annotated[str, Query(max_length=4)] = "asc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The viewer's students: search by name or ID, sort by name, ID, school or grade, paged."""
    if principal.role not in PORTAL_ROLES:
        return _not_for_role(request, db, principal, "Student lists")
    at = now_utc()
    listing = student_list(
        db, principal, at, q=q, sort=sort if sort in SORTS else "name", descending=order == "desc", page=page
    )
    districts = (
        dict(
            db.execute(
                select(Student.id, Student.district_id).where(Student.id.in_([r.id for r in listing.rows]))
            ).all()
        )
        if listing.rows
        else {}
    )
    by_district: dict[int, list[int]] = defaultdict(list)
    for sid, district_id in districts.items():
        by_district[district_id].append(sid)
    append_many(
        db,
        [
            EventSpec(
                action="portal.list",
                district_id=district_id,
                actor=actor_of(principal),
                subject_type="student",
                subjects=sorted(ids),
                details={"q": listing.q, "sort": listing.sort, "page": listing.page},
            )
            for district_id, ids in sorted(by_district.items())
        ]
        or [
            EventSpec(
                action="portal.list",
                actor=actor_of(principal),
                details={"q": listing.q, "sort": listing.sort, "page": listing.page, "students": 0},
            )
        ],
    )
    return _page(
        request,
        db,
        principal,
        "portal/students.html",
        {
            "listing": listing,
            "hint": HOME_HINT.get(principal.role, ""),
            "order": "desc" if listing.descending else "asc",
            "sorts": SORTS,
            "packages": principal.role in portal.PACKAGE_ROLES,
        },
    )


# -- Student-at-a-Glance -------------------------------------------------------------------------


def _record_view(db: Session, principal: Principal, glance: Glance) -> None:
    """The view in the audit log; for everyone but the family also in the student's ledger."""
    if principal.role is Role.PARENT:
        append(
            db,
            EventSpec(
                action="portal.glance",
                district_id=db.get(Student, glance.student_id).district_id,  # type: ignore[union-attr]
                actor=actor_of(principal),
                subject_type="student",
                subjects=[glance.student_id],
                basis=LegalBasis.PARENT_OR_ELIGIBLE_STUDENT.value,
                citation=LegalBasis.PARENT_OR_ELIGIBLE_STUDENT.citation,
                details={"datasets": sorted(d.value for d in glance.shown)},
            ),
        )
        return
    groups: dict[LegalBasis, list[Dataset]] = defaultdict(list)
    evidence: dict[LegalBasis, list[str]] = defaultdict(list)
    for e in glance.explanations:
        if e.allowed and e.basis is not None:
            groups[e.basis].append(e.dataset)
            evidence[e.basis].extend(e.evidence)
    for basis, datasets in groups.items():
        record_disclosure(
            db,
            principal,
            [glance.student_id],
            datasets,
            basis,
            purpose="Student-at-a-Glance",
            channel="view",
            evidence=list(dict.fromkeys(evidence[basis])),
            at=glance.at,
        )


@router.get("/portal/students/{student_id}")
def glance_page(request: Request, db: Db, principal: PagePrincipal, student_id: int) -> Response:
    """One student's page, or 404 (logged) when the viewer may see nothing of them."""
    if principal.role not in PORTAL_ROLES:
        return _not_for_role(request, db, principal, "Student pages")
    settings = request.app.state.settings
    try:
        glance = build_glance(db, settings.data_dir, principal, student_id)
    except (SourceRecordsError, PackageSourceError, ValueError) as exc:
        log.warning("portal: source of student %s unreadable: %s", student_id, exc)
        message = f"The district's records cannot be read right now: {exc}"
        return _page(
            request, db, principal, "error.html", {"title": "Records unavailable", "message": message}, 503
        )
    if glance is None:
        district = db.scalar(select(Student.district_id).where(Student.id == student_id))
        return _not_found(
            request, db, principal, subject_type="student", subject=student_id, district_id=district
        )
    _record_view(db, principal, glance)
    ledger: list[Any] = []
    if principal.role is Role.PARENT:
        student = db.get(Student, student_id)
        assert student is not None
        ledger = student_entries(db, student)[:8]
    return _page(
        request,
        db,
        principal,
        "portal/glance.html",
        {
            "g": glance,
            "is_partner": principal.role is Role.PARTNER_STAFF,
            "is_parent": principal.role is Role.PARENT,
            "ledger": ledger,
            "basis_words": basis_words,
            "evidence_label": evidence_label,
        },
    )


# -- the report package --------------------------------------------------------------------------


@router.get("/portal/reports")
def reports_page(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    made: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """What the package would hold now, downloads, the SFTP delivery, and past makings."""
    if principal.role not in portal.PACKAGE_ROLES:
        return _not_for_role(request, db, principal, "Report packages")
    at = now_utc()
    members = members_of(db, principal, at)
    datasets = frozenset(d for m in members for d in m.datasets)
    per_report = {spec.key: sum(1 for m in members if spec.dataset in m.datasets) for spec in catalog.REPORTS}
    append(
        db,
        EventSpec(
            action="portal.reports",
            actor=actor_of(principal),
            details={"students": len(members), "datasets": sorted(d.value for d in datasets)},
        ),
    )
    history = portal.history(db, principal.organization_id)
    org = db.get(Organization, principal.organization_id)
    keys = active_keys(db, principal.organization_id)
    settings = request.app.state.settings
    last = next((g for g in history if g.uuid == made), None) if made else None
    return _page(
        request,
        db,
        principal,
        "portal/reports.html",
        {
            "members": members,
            "reports": catalog.reports_for(datasets),
            "hidden": [r for r in catalog.REPORTS if r.dataset not in datasets],
            "per_report": per_report,
            "history": history,
            "made": last,
            "error": request.query_params.get("error", "")[:300],
            "keys": keys,
            "sftp_dir": Layout.of(settings.data_dir).recipient_dir(org.code).name if org else "",
            "is_partner": principal.role is Role.PARTNER_STAFF,
        },
    )


def _file(content: bytes, filename: str, media_type: str) -> Response:
    name = safe_filename(filename, "steward-report")
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.post("/portal/reports/package.{fmt}", dependencies=[CsrfChecked])
def download_package(request: Request, db: Db, principal: PagePrincipal, fmt: str) -> Response:
    """The whole package now: ``xlsx`` (one workbook) or ``zip`` (CSV files); recorded."""
    if principal.role not in portal.PACKAGE_ROLES:
        return _not_for_role(request, db, principal, "Report packages")
    if fmt not in portal.FORMATS:
        return _not_found(request, db, principal, subject_type="report", subject=f"package.{fmt}")
    try:
        made = portal.download(db, request.app.state.settings.data_dir, principal, fmt)
    except portal.NotVisibleError:
        return _not_found(request, db, principal, subject_type="report", subject=f"package.{fmt}")
    except (PackageSourceError, SourceRecordsError) as exc:
        return _page(
            request, db, principal, "error.html", {"title": "Records unavailable", "message": str(exc)}, 503
        )
    return _file(made.content, made.filename, made.media_type)


@router.post("/portal/reports/{key}.csv", dependencies=[CsrfChecked])
def download_report(request: Request, db: Db, principal: PagePrincipal, key: str) -> Response:
    """One report as CSV; 404 (logged) for a report the viewer may see for no student."""
    if principal.role not in portal.PACKAGE_ROLES:
        return _not_for_role(request, db, principal, "Report packages")
    try:
        made = portal.download(db, request.app.state.settings.data_dir, principal, "csv", report=key)
    except portal.NotVisibleError:
        return _not_found(request, db, principal, subject_type="report", subject=key[:60])
    except (PackageSourceError, SourceRecordsError) as exc:
        return _page(
            request, db, principal, "error.html", {"title": "Records unavailable", "message": str(exc)}, 503
        )
    return _file(made.content, made.filename, made.media_type)


@router.post("/portal/reports/sftp", dependencies=[CsrfChecked])
def send_to_sftp(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """Make the package now and place it, encrypted, in the organization's SFTP directory."""
    if principal.role not in portal.PACKAGE_ROLES:
        return _not_for_role(request, db, principal, "Report packages")
    try:
        generation = portal.deliver(db, request.app.state.settings.data_dir, principal)
    except (portal.PortalError, PackageSourceError, SourceRecordsError) as exc:
        from urllib.parse import quote

        return RedirectResponse(f"/portal/reports?error={quote(str(exc)[:300])}", status_code=303)
    return RedirectResponse(f"/portal/reports?made={generation.uuid}", status_code=303)
