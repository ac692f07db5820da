"""Consent pages: the partner's bulk upload (student list plus scanned forms) with every unmatched
row and its reason, the partner's accepted students (and their CSV export, cells neutralised),
and the district's review queue (verify, reject with a reason, grant right-to-view)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear
from steward.policy.facts import ConsentStatus
from steward.store.base import now_utc
from steward.store.models import Organization, SchoolEnrollment, Student
from steward.web.deps import CsrfChecked, Db, PagePrincipal, settings_of
from steward.web.security import CSV, XLSX
from steward.web.ui.workflow.common import (
    SCANS,
    after_change,
    checked_upload,
    field,
    local,
    need,
    not_found,
    page,
    uploads,
    values,
)
from steward.workflow.common import WorkflowError, timezone_of
from steward.workflow.consents import bulk
from steward.workflow.consents import service as consents
from steward.workflow.consents.models import ConsentUpload
from steward.workflow.exports import csv_bytes
from steward.workflow.files import MAX_EVIDENCE_BYTES, path_of
from steward.workflow.grants import service as grants
from steward.workflow.models import Consent, ConsentDataset, Grant, GrantDataset, GrantStudent

router = APIRouter(include_in_schema=False)
OFFICER = Role.DISTRICT_DATA_OFFICER
PARTNER = Role.PARTNER_STAFF
#: The list (50 MB at most) plus the scanned forms travel in one request.
UPLOAD_LIMIT = 120 * 1024 * 1024


def _districts(db: Db) -> list[Organization]:
    return list(
        db.scalars(select(Organization).where(Organization.kind == "district").order_by(Organization.name))
    )


def _consent_years(db: Db, district_id: int) -> list[tuple[int, str]]:
    """This school year and the next (forms for the coming year are collected from spring on)."""
    current = SchoolYear.at(now_utc(), timezone_of(db, district_id)).end_year
    return [(current, SchoolYear(current).label()), (current + 1, SchoolYear(current + 1).label())]


def _upload_context(db: Db, principal: Principal, **extra: Any) -> dict[str, Any]:
    districts = _districts(db)
    uploads_done = db.scalars(
        select(ConsentUpload)
        .where(ConsentUpload.organization_id == principal.organization_id)
        .order_by(ConsentUpload.id.desc())
        .limit(20)
    ).all()
    return {
        "districts": districts,
        "datasets": [d.value for d in Dataset],
        "years": _consent_years(db, districts[0].id) if districts else [],
        "columns": [(c, bulk.DESCRIPTIONS[c]) for c in bulk.COLUMNS],
        "uploads": uploads_done,
        "result": None,
        "problems": [],
        "errors": [],
        **extra,
    }


@router.get("/partner/consents")
def upload_form(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, PARTNER)
    return page(request, db, principal, "partner_upload.html", _upload_context(db, principal))


@router.get("/partner/consents/template.{fmt}")
def template(principal: PagePrincipal, fmt: str) -> Response:
    need(principal, PARTNER, OFFICER)
    if fmt == "csv":
        return Response(
            bulk.template_csv(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="consent-list-template.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            bulk.template_xlsx(),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="consent-list-template.xlsx"'},
        )
    raise not_found()


@router.post("/partner/consents", dependencies=[CsrfChecked], max_body_size=UPLOAD_LIMIT)
async def upload(request: Request, db: Db, principal: PagePrincipal, background: BackgroundTasks) -> Response:
    need(principal, PARTNER)
    form = await request.form()
    lists = uploads(form, "student_list")
    try:
        if not lists:
            raise WorkflowError("choose the student list (CSV or XLSX)")
        list_name, content = await checked_upload(lists[0], [CSV, XLSX], bulk.MAX_BYTES)
        scans = [await checked_upload(f, SCANS, MAX_EVIDENCE_BYTES) for f in uploads(form, "forms")]
        try:
            district_id = int(field(form, "district_id") or 0)
            year = int(field(form, "school_year") or 0)
        except ValueError as exc:
            raise WorkflowError("choose the district and the school year") from exc
        result = bulk.upload(
            db,
            principal,
            district_id=district_id,
            list_name=list_name,
            list_content=content,
            scans=scans,
            school_year=year,
            datasets=values(form, "datasets"),
            purpose=field(form, "purpose"),
            data_dir=settings_of(request).data_dir,
        )
    except bulk.UploadRejectedError as exc:
        db.rollback()
        context = _upload_context(db, principal, problems=exc.row_problems, rows=exc.rows)
        return page(request, db, principal, "partner_upload.html", context, 422)
    except WorkflowError as exc:
        db.rollback()
        return page(
            request,
            db,
            principal,
            "partner_upload.html",
            _upload_context(db, principal, errors=exc.problems),
            422,
        )
    after_change(background, request)
    return page(request, db, principal, "partner_upload.html", _upload_context(db, principal, result=result))


def _accepted(db: Db, principal: Principal) -> list[dict[str, Any]]:
    """Students with a verified consent in force and a district grant for the organization."""
    now = now_utc()
    rows = db.execute(
        select(Consent, Student)
        .join(Student, Student.id == Consent.student_id)
        .where(
            Consent.organization_id == principal.organization_id,
            Consent.status == ConsentStatus.VERIFIED.value,
            Consent.valid_at(now),
        )
        .order_by(Student.local_id)
    ).all()
    granted: dict[int, set[str]] = {}
    until: dict[int, Any] = {}
    for student_id, dataset, valid_to in db.execute(
        select(GrantStudent.student_id, GrantDataset.dataset, Grant.valid_to)
        .join(Grant, Grant.id == GrantStudent.grant_id)
        .join(GrantDataset, GrantDataset.grant_id == Grant.id)
        .where(Grant.organization_id == principal.organization_id, Grant.valid_at(now))
    ):
        granted.setdefault(student_id, set()).add(dataset)
        until[student_id] = valid_to
    out = []
    for consent, student in rows:
        sets = sorted(
            db.scalars(select(ConsentDataset.dataset).where(ConsentDataset.consent_id == consent.id))
        )
        shared = sorted(set(sets) & granted.get(student.id, set()))
        school = db.scalar(
            select(Organization.name)
            .join(SchoolEnrollment, SchoolEnrollment.school_id == Organization.id)
            .where(SchoolEnrollment.student_id == student.id, SchoolEnrollment.valid_at(now))
            .limit(1)
        )
        out.append(
            {
                "student": student,
                "school": school or "",
                "consented": ", ".join(sets),
                "shared": ", ".join(shared),
                "until": local(db, student.district_id, until.get(student.id) or consent.valid_to)[:10],
                "consent": consent,
            }
        )
    return out


@router.get("/partner/students")
def partner_students(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, PARTNER)
    pending = db.scalars(
        select(Consent).where(
            Consent.organization_id == principal.organization_id,
            Consent.status == ConsentStatus.PENDING.value,
        )
    ).all()
    return page(
        request,
        db,
        principal,
        "partner_students.html",
        {"rows": _accepted(db, principal), "pending": len(pending)},
    )


@router.get("/partner/students.csv")
def partner_students_csv(db: Db, principal: PagePrincipal) -> Response:
    need(principal, PARTNER)
    rows = [
        (
            r["student"].local_id,
            r["student"].first_name,
            r["student"].last_name,
            r["school"],
            r["consented"],
            r["shared"],
            r["until"],
        )
        for r in _accepted(db, principal)
    ]
    content = csv_bytes(
        ("student_id", "first_name", "last_name", "school", "consented", "shared", "until"), rows
    )
    return Response(
        content, media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="students.csv"'}
    )


# -- the district's review -----------------------------------------------------------------------


def _queue_context(db: Db, principal: Principal, errors: list[str] | None = None) -> dict[str, Any]:
    rows = []
    for consent in consents.review_queue(db, principal.organization_id):
        student = db.get(Student, consent.student_id)
        org = db.get(Organization, consent.organization_id)
        rows.append(
            {
                "c": consent,
                "student": student,
                "org": org.name if org else "",
                "datasets": ", ".join(consents.datasets_of(db, consent.id)),
                "year": SchoolYear(consent.school_year).label() if consent.school_year else "",
                "guardian_ok": consents.signer_is_guardian(db, consent),
            }
        )
    return {"rows": rows, "errors": errors or []}


@router.get("/office/consents")
def review_queue(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    return page(request, db, principal, "consents_review.html", _queue_context(db, principal))


@router.post("/office/consents/review", dependencies=[CsrfChecked])
async def review(request: Request, db: Db, principal: PagePrincipal, background: BackgroundTasks) -> Response:
    """Verify the ticked consents (and, when asked, grant their datasets), or reject them with a reason."""
    need(principal, OFFICER)
    form = await request.form()
    ids = [int(v) for v in values(form, "consent_ids") if v.isdigit()]
    decision = field(form, "decision")
    try:
        if not ids:
            raise WorkflowError("tick at least one consent")
        chosen = []
        for consent_id in ids:
            consent = db.get(Consent, consent_id)
            if consent is None or not consents.may_see(db, principal, consent):
                raise not_found()
            chosen.append(consent)
        if decision == "verify":
            for consent in chosen:
                consents.verify(db, principal, consent)
            if field(form, "grant") == "yes":
                by_org: dict[tuple[int, tuple[str, ...]], list[int]] = {}
                for consent in chosen:
                    key = (consent.organization_id, tuple(consents.datasets_of(db, consent.id)))
                    by_org.setdefault(key, []).append(consent.student_id)
                for (org_id, sets), students in by_org.items():
                    grants.grant(
                        db,
                        principal,
                        organization_id=org_id,
                        student_ids=students,
                        datasets=list(sets),
                        reason="consent verified",
                    )
        elif decision == "reject":
            for consent in chosen:
                consents.reject(db, principal, consent, field(form, "reason"))
        else:
            raise WorkflowError("choose verify or reject")
    except WorkflowError as exc:
        db.rollback()
        return page(
            request, db, principal, "consents_review.html", _queue_context(db, principal, exc.problems), 422
        )
    after_change(background, request)
    return RedirectResponse(f"/office/consents?done={decision}", status_code=303)


@router.get("/consents/{consent_id}/evidence")
def evidence(request: Request, db: Db, principal: PagePrincipal, consent_id: int) -> Response:
    consent = db.get(Consent, consent_id)
    if consent is None or not consents.may_see(db, principal, consent) or not consent.evidence_file:
        raise not_found()
    path: Path = path_of(settings_of(request).data_dir, consent.evidence_file)
    if not path.is_file():
        raise not_found()
    return FileResponse(path, filename=f"consent-{consent.code}{path.suffix}")
