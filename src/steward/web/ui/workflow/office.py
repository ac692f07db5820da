"""The district data office's pages: triage queue, SLA dashboard, review cycles, grants, training,
opt-outs and the workflow settings (targets, panel months, fee schedule, closure days)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from starlette.responses import Response

from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.policy.facts import OptOutKind
from steward.store.base import now_utc
from steward.store.models import Organization, Person, RoleAssignment, Student
from steward.web.deps import CsrfChecked, Db, PagePrincipal
from steward.web.security import CSV, TXT
from steward.web.ui.workflow.common import (
    STATUS_CLASS,
    after_change,
    checked_upload,
    field,
    id_list,
    local,
    need,
    not_found,
    page,
    parse_date,
    status_label,
    uploads,
    values,
)
from steward.workflow import history
from steward.workflow.common import WorkflowError, district_of, today_in
from steward.workflow.grants import service as grants
from steward.workflow.models import Grant, OptOut, Training
from steward.workflow.optouts import service as optouts
from steward.workflow.requests import cycles
from steward.workflow.requests import service as requests
from steward.workflow.requests.machine import OPEN, Status
from steward.workflow.requests.models import ReviewCycle
from steward.workflow.requests.triage import Path as TriagePath
from steward.workflow.settings import ClosureDay, WorkflowSettings, config_for
from steward.workflow.sla import service as sla
from steward.workflow.sla.clock import SlaState
from steward.workflow.training import service as training

#: A list of student IDs for a grant.
MAX_LIST_BYTES = 5 * 1024 * 1024

router = APIRouter(include_in_schema=False)
OFFICER = Role.DISTRICT_DATA_OFFICER


def _sla_rows(
    db: Db, principal: Principal, statuses: frozenset[Status] | set[Status]
) -> list[dict[str, Any]]:
    config = config_for(db, principal.organization_id)
    now = now_utc()
    rows = []
    for req in requests.district_queue(db, principal.organization_id, sorted(statuses)):
        clocks = sla.clocks(db, req, config, now)
        org = db.get(Organization, req.organization_id)
        rows.append(
            {
                "req": req,
                "org": org.name if org else "",
                "status": status_label(req.status),
                "status_class": STATUS_CLASS.get(req.status, ""),
                "submitted": local(db, req.district_id, req.submitted_at),
                "path": TriagePath(req.path).label if req.path else "",
                "first": clocks.first_response,
                "fulfilment": clocks.fulfilment,
            }
        )
    return rows


@router.get("/office/triage")
def triage_queue(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    rows = _sla_rows(db, principal, {Status.SUBMITTED, Status.TRIAGE, Status.NEEDS_INFORMATION})
    return page(request, db, principal, "triage.html", {"rows": rows})


@router.get("/office/sla")
def sla_dashboard(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    rows = _sla_rows(db, principal, OPEN)
    counts = Counter(r["fulfilment"].state for r in rows if r["fulfilment"] is not None)
    today = today_in(db, principal.organization_id)
    due_this_week = [
        r for r in rows if r["fulfilment"] is not None and 0 <= (r["fulfilment"].due - today).days <= 7
    ]
    order = {SlaState.OVERDUE: 0, SlaState.AT_RISK: 1, SlaState.ON_TRACK: 2, SlaState.PAUSED: 3}
    rows.sort(key=lambda r: (order.get(r["fulfilment"].state, 9) if r["fulfilment"] else 9, r["req"].id))
    config = config_for(db, principal.organization_id)
    return page(
        request,
        db,
        principal,
        "sla.html",
        {
            "rows": rows,
            "overdue": counts.get(SlaState.OVERDUE, 0),
            "at_risk": counts.get(SlaState.AT_RISK, 0),
            "on_track": counts.get(SlaState.ON_TRACK, 0),
            "paused": counts.get(SlaState.PAUSED, 0),
            "due_this_week": len(due_this_week),
            "config": config,
        },
    )


@router.get("/office/cycles")
def cycles_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    return page(request, db, principal, "cycles.html", {"cycles": _agendas(db, principal.organization_id)})


def _agendas(db: Db, district_id: int) -> list[dict[str, Any]]:
    out = []
    for cycle in cycles.cycles_of(db, district_id):
        items = []
        for req in cycles.agenda(db, cycle):
            org = db.get(Organization, req.organization_id)
            items.append(
                {
                    "req": req,
                    "org": org.name if org else "",
                    "status": status_label(req.status),
                    "tally": cycles.tally(db, req),
                    "votes": cycles.votes(db, req),
                    "open": req.status == Status.REVIEW.value,
                }
            )
        out.append({"cycle": cycle, "entries": items})
    return out


@router.post("/office/cycles/{cycle_id}/close", dependencies=[CsrfChecked])
def close_cycle(request: Request, db: Db, principal: PagePrincipal, cycle_id: int) -> Response:
    need(principal, OFFICER)
    cycle = db.get(ReviewCycle, cycle_id)
    if cycle is None or cycle.district_id != principal.organization_id:
        raise not_found()
    try:
        cycles.close_cycle(db, principal, cycle)
    except WorkflowError as exc:
        db.rollback()
        return page(
            request,
            db,
            principal,
            "cycles.html",
            {"cycles": _agendas(db, principal.organization_id), "errors": exc.problems},
            422,
        )
    return RedirectResponse("/office/cycles?done=closed", status_code=303)


# -- grants --------------------------------------------------------------------------------------


def _grant_context(db: Db, principal: Principal, errors: list[str] | None = None) -> dict[str, Any]:
    district = district_of(db, principal.organization_id)
    query = select(Grant).where(Grant.district_id == (district.id if district else 0))
    if principal.role is Role.PRINCIPAL:
        query = query.where(Grant.school_id == principal.organization_id)
    rows = []
    for grant in db.scalars(query.order_by(Grant.created_at.desc()).limit(300)):
        org = db.get(Organization, grant.organization_id)
        who = db.get(Person, grant.granted_by_person_id) if grant.granted_by_person_id else None
        rows.append(
            {
                "grant": grant,
                "org": org.name if org else "",
                "students": len(grants.students_of(db, grant.id)),
                "datasets": ", ".join(grants.datasets_of(db, grant.id)),
                "until": local(db, grant.district_id, grant.valid_to),
                "by": who.display_name if who else "",
            }
        )
    orgs = db.scalars(
        select(Organization)
        .where(Organization.kind.in_(["partner", "research_org", "agency", "vendor", "state_agency"]))
        .order_by(Organization.name)
    ).all()
    return {"rows": rows, "orgs": orgs, "datasets": [d.value for d in Dataset], "errors": errors or []}


@router.get("/office/grants")
def grants_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER, Role.PRINCIPAL)
    return page(request, db, principal, "grants.html", _grant_context(db, principal))


@router.post("/office/grants", dependencies=[CsrfChecked])
async def grant_create(
    request: Request, db: Db, principal: PagePrincipal, background: BackgroundTasks
) -> Response:
    need(principal, OFFICER, Role.PRINCIPAL)
    form = await request.form()
    refs = id_list(field(form, "student_ids", 2_000_000))
    try:
        for upload in uploads(form, "student_file"):
            name, content = await checked_upload(upload, [CSV, TXT], MAX_LIST_BYTES)
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise WorkflowError(
                    f"{name}: not UTF-8 text (byte {exc.start + 1}); save it as UTF-8"
                ) from exc
            lines = [line.split(",")[0].strip() for line in text.splitlines() if line.strip()]
            refs += [r for r in lines if r.lower() not in ("student_id", "id", "student id")]
    except WorkflowError as exc:
        return page(request, db, principal, "grants.html", _grant_context(db, principal, exc.problems), 422)
    try:
        org_id = int(field(form, "organization_id") or 0)
        grants.grant_from_list(
            db,
            principal,
            organization_id=org_id,
            refs=refs,
            datasets=values(form, "datasets"),
            reason=field(form, "reason"),
        )
    except (WorkflowError, ValueError) as exc:
        db.rollback()
        problems = exc.problems if isinstance(exc, WorkflowError) else ["choose the organization"]
        return page(request, db, principal, "grants.html", _grant_context(db, principal, problems), 422)
    after_change(background, request)
    return RedirectResponse("/office/grants?done=granted", status_code=303)


@router.post("/office/grants/{grant_id}/revoke", dependencies=[CsrfChecked])
async def grant_revoke(request: Request, db: Db, principal: PagePrincipal, grant_id: int) -> Response:
    need(principal, OFFICER, Role.PRINCIPAL)
    form = await request.form()
    row = db.get(Grant, grant_id)
    district = district_of(db, principal.organization_id)
    if row is None or district is None or row.district_id != district.id:
        raise not_found()
    try:
        grants.revoke(db, principal, row, field(form, "reason"))
    except WorkflowError as exc:
        db.rollback()
        return page(request, db, principal, "grants.html", _grant_context(db, principal, exc.problems), 422)
    return RedirectResponse("/office/grants?done=revoked", status_code=303)


# -- training ------------------------------------------------------------------------------------


def _external_people(db: Db) -> list[tuple[int, str]]:
    rows = db.execute(
        select(Person.id, Person.given_name, Person.family_name, Organization.name)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .join(Organization, Organization.id == RoleAssignment.organization_id)
        .where(Organization.kind.in_(["partner", "research_org", "agency", "vendor", "state_agency"]))
        .order_by(Organization.name, Person.family_name)
    ).all()
    seen: dict[int, str] = {}
    for person_id, given, family, org in rows:
        seen.setdefault(person_id, f"{given} {family} ({org})".strip())
    return list(seen.items())


def _training_context(db: Db, principal: Principal, errors: list[str] | None = None) -> dict[str, Any]:
    rows = []
    district_staff = select(RoleAssignment.person_id).where(
        RoleAssignment.organization_id == principal.organization_id
    )
    query = select(Training).where(Training.recorded_by_person_id.in_(district_staff))
    for row in db.scalars(query.order_by(Training.valid_from.desc()).limit(300)):
        person = db.get(Person, row.person_id)
        org = db.get(Organization, row.organization_id) if row.organization_id else None
        rows.append(
            {
                "row": row,
                "person": person.display_name if person else "",
                "org": org.name if org else "",
                "until": local(db, principal.organization_id, row.valid_to),
                "valid": row.valid_to is None or row.valid_to > now_utc(),
            }
        )
    return {
        "rows": rows,
        "people": _external_people(db),
        "errors": errors or [],
        "today": today_in(db, principal.organization_id).isoformat(),
    }


@router.get("/office/training")
def training_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    return page(request, db, principal, "training.html", _training_context(db, principal))


@router.post("/office/training", dependencies=[CsrfChecked])
async def training_record(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    form = await request.form()
    completed = parse_date(field(form, "completed_on"))
    try:
        if completed is None:
            raise WorkflowError("give the completion date")
        training.record(
            db,
            principal,
            person_id=int(field(form, "person_id") or 0),
            completed_on=completed,
            course=field(form, "course", 100) or "stewardship",
            evidence=field(form, "evidence"),
        )
    except (WorkflowError, ValueError) as exc:
        db.rollback()
        problems = exc.problems if isinstance(exc, WorkflowError) else ["choose the person"]
        return page(request, db, principal, "training.html", _training_context(db, principal, problems), 422)
    return RedirectResponse("/office/training?done=recorded", status_code=303)


# -- opt-outs ------------------------------------------------------------------------------------


def _optout_context(db: Db, principal: Principal, errors: list[str] | None = None) -> dict[str, Any]:
    rows = []
    for row, student in db.execute(
        select(OptOut, Student)
        .join(Student, Student.id == OptOut.student_id)
        .where(Student.district_id == principal.organization_id)
        .order_by(OptOut.valid_from.desc())
        .limit(300)
    ):
        rows.append(
            {
                "row": row,
                "student": f"{student.local_id} {student.display_name}",
                "start": local(db, principal.organization_id, row.valid_from)[:10],
                "end": local(db, principal.organization_id, row.valid_to)[:10],
            }
        )
    return {
        "rows": rows,
        "kinds": [k.value for k in OptOutKind],
        "errors": errors or [],
        "today": today_in(db, principal.organization_id).isoformat(),
    }


@router.get("/office/opt-outs")
def optouts_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    return page(request, db, principal, "optouts.html", _optout_context(db, principal))


@router.post("/office/opt-outs", dependencies=[CsrfChecked])
async def optout_record(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    form = await request.form()
    try:
        ref = field(form, "student_id", 50).strip()
        student_id = db.scalar(
            select(Student.id).where(
                Student.district_id == principal.organization_id, Student.local_id == ref
            )
        )
        if student_id is None:
            raise WorkflowError(f"no student with district ID {ref!r}")
        starts = parse_date(field(form, "starts_on"))
        if starts is None:
            raise WorkflowError("give the date the opt-out starts")
        optouts.record(
            db,
            principal,
            student_id=student_id,
            kind=field(form, "kind"),
            starts_on=starts,
            ends_on=parse_date(field(form, "ends_on")),
            source=field(form, "source", 40),
            note=field(form, "note"),
        )
    except WorkflowError as exc:
        db.rollback()
        return page(request, db, principal, "optouts.html", _optout_context(db, principal, exc.problems), 422)
    return RedirectResponse("/office/opt-outs?done=recorded", status_code=303)


@router.post("/office/opt-outs/{optout_id}/end", dependencies=[CsrfChecked])
async def optout_end(request: Request, db: Db, principal: PagePrincipal, optout_id: int) -> Response:
    need(principal, OFFICER)
    form = await request.form()
    row = db.get(OptOut, optout_id)
    student = db.get(Student, row.student_id) if row else None
    if row is None or student is None or student.district_id != principal.organization_id:
        raise not_found()
    try:
        ends = parse_date(field(form, "ends_on"))
        if ends is None:
            raise WorkflowError("give the end date")
        optouts.end(db, principal, row, ends)
    except WorkflowError as exc:
        db.rollback()
        return page(request, db, principal, "optouts.html", _optout_context(db, principal, exc.problems), 422)
    return RedirectResponse("/office/opt-outs?done=ended", status_code=303)


# -- workflow settings ---------------------------------------------------------------------------

NUMBERS = (
    "partner_target_days",
    "research_target_days",
    "other_target_days",
    "clarify_min_days",
    "clarify_max_days",
    "at_risk_days",
    "panel_day",
    "fee_base_cents",
    "fee_per_hour_cents",
    "fee_per_thousand_rows_cents",
    "renewal_reminder_days",
)
TEXTS = ("holiday_subdivision", "communications_contact", "public_records_url", "public_reports_url")


def _settings_context(db: Db, principal: Principal, errors: list[str] | None = None) -> dict[str, Any]:
    closures = db.scalars(
        select(ClosureDay).where(ClosureDay.district_id == principal.organization_id).order_by(ClosureDay.day)
    ).all()
    return {
        "config": config_for(db, principal.organization_id),
        "closures": closures,
        "errors": errors or [],
        "numbers": NUMBERS,
    }


@router.get("/office/settings")
def settings_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    return page(request, db, principal, "settings.html", _settings_context(db, principal))


@router.post("/office/settings", dependencies=[CsrfChecked])
async def settings_save(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    form = await request.form()
    problems: list[str] = []
    changes: dict[str, Any] = {}
    for name in NUMBERS:
        try:
            value = int(field(form, name) or 0)
        except ValueError:
            problems.append(f"{name.replace('_', ' ')} is a whole number")
            continue
        if value < 0 or value > 10_000_000:
            problems.append(f"{name.replace('_', ' ')} is out of range")
        changes[name] = value
    for name in TEXTS:
        changes[name] = field(form, name, 300).strip()
    try:
        months = sorted({int(m) for m in values(form, "panel_months")})
    except ValueError:
        months = []
    if not months or any(m < 1 or m > 12 for m in months):
        problems.append("choose at least one panel month")
    changes["panel_months"] = months
    if changes.get("clarify_min_days", 0) > changes.get("clarify_max_days", 0):
        problems.append("the clarifying-question window ends before it starts")
    if not 1 <= changes.get("panel_day", 15) <= 28:
        problems.append("the panel day is between 1 and 28")
    if problems:
        return page(request, db, principal, "settings.html", _settings_context(db, principal, problems), 422)
    row = db.get(WorkflowSettings, principal.organization_id)
    if row is None:
        row = WorkflowSettings(district_id=principal.organization_id)
        db.add(row)
        db.flush()
    changed = history.diff(row, changes)
    if changed:
        history.record(
            db,
            "workflow_settings",
            principal.organization_id,
            "updated",
            district_id=principal.organization_id,
            actor=principal,
            changes=changed,
        )
    return RedirectResponse("/office/settings?done=saved", status_code=303)


@router.post("/office/settings/closures", dependencies=[CsrfChecked])
async def closure_add(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, OFFICER)
    form = await request.form()
    day = parse_date(field(form, "day"))
    if day is None:
        return page(
            request, db, principal, "settings.html", _settings_context(db, principal, ["give the date"]), 422
        )
    exists = db.scalar(
        select(func.count())
        .select_from(ClosureDay)
        .where(ClosureDay.district_id == principal.organization_id, ClosureDay.day == day)
    )
    if not exists:
        db.add(ClosureDay(district_id=principal.organization_id, day=day, name=field(form, "name", 200)))
        db.flush()
        history.record(
            db,
            "closure_day",
            principal.organization_id,
            "added",
            district_id=principal.organization_id,
            actor=principal,
            changes={"day": [None, day]},
        )
    return RedirectResponse("/office/settings?done=closure", status_code=303)
