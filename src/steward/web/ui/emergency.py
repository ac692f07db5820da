"""Break-glass page for district data officers: record a health or safety emergency for a student
of the district (34 CFR 99.36), see the district's emergencies and end one early.

The service (steward.workflow.emergency) decides and writes the audit event; a refusal is rendered
inside the route so its own audit event commits with the request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from steward.domain.principal import Principal
from steward.store.access import NotFoundError, resolve_student
from steward.store.base import now_utc
from steward.store.models import Organization
from steward.store.tenants import load_policy
from steward.web.deps import CsrfChecked, Db, OfficerPrincipal
from steward.web.templating import render
from steward.workflow import emergency as service
from steward.workflow.common import InvalidError, NotAllowedError, WorkflowError

router = APIRouter(include_in_schema=False)


def _context(db: Session, principal: Principal, **extra: Any) -> dict[str, Any]:
    org = db.get(Organization, principal.organization_id)
    now = now_utc()
    rows = [
        {
            "id": r.id,
            "student": service.student_code(db, r.student_id),
            "threat": r.threat,
            "recipients": r.recipients,
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
            "in_force": service.in_force(r, now),
            "mine": r.person_id == principal.person_id,
        }
        for r in service.district_emergencies(db, principal.organization_id)
    ]
    return {
        "principal": principal,
        "org_name": org.name if org is not None else principal.organization_code,
        "window_hours": load_policy(db, principal.organization_id).emergency_window_hours,
        "emergencies": rows,
        "form": {"student": "", "threat": "", "recipients": ""},
        **extra,
    }


@router.get("/emergencies")
def emergencies_page(
    request: Request,
    db: Db,
    principal: OfficerPrincipal,
    recorded: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    return render(request, "emergencies.html", _context(db, principal, recorded=recorded))


@router.post("/emergencies", dependencies=[CsrfChecked])
async def record_emergency(request: Request, db: Db, principal: OfficerPrincipal) -> Response:
    """Record the emergency, or show why not (422 bad input, 403 not allowed, 404 unknown student)."""
    form = await request.form()
    values = {k: str(form.get(k, ""))[:5000] for k in ("student", "threat", "recipients")}
    student_id: int | None = None
    try:
        try:
            student_id = resolve_student(db, values["student"])
        except NotFoundError:
            raise service.UnknownStudentError(f"no student {values['student']!r} in your district") from None
        row = service.record_emergency(
            db, principal, student_id, values["threat"], recipients=values["recipients"]
        )
    except WorkflowError as exc:
        db.rollback()
        code = 422 if isinstance(exc, InvalidError) else 403 if isinstance(exc, NotAllowedError) else 404
        if student_id is not None and not isinstance(exc, InvalidError):
            service.log_refusal(db, principal, student_id, exc.problems)
        message = (
            f"No student {values['student']!r} in your district (give DISTRICTCODE:LOCALID)."
            if code == 404
            else "; ".join(exc.problems)
        )
        return render(request, "emergencies.html", _context(db, principal, error=message, form=values), code)
    return RedirectResponse(f"/emergencies?recorded={row.id}", status_code=303)


@router.post("/emergencies/{emergency_id}/end", dependencies=[CsrfChecked])
def end_emergency(request: Request, db: Db, principal: OfficerPrincipal, emergency_id: int) -> Response:
    try:
        service.end_emergency(db, principal, emergency_id)
    except service.UnknownStudentError:
        db.rollback()
        return render(request, "emergencies.html", _context(db, principal, error="No such emergency."), 404)
    except WorkflowError as exc:
        db.rollback()
        return render(request, "emergencies.html", _context(db, principal, error=str(exc)), 409)
    return RedirectResponse("/emergencies", status_code=303)
