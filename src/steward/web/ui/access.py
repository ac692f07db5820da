"""District data officer pages: who can see a student (at any instant), and the district's tenant
policy (edit, validated: tighten, never loosen)."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from steward.audit import EventSpec, actor_of, append
from steward.domain.datasets import Dataset
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.policy.tenant import DIRECTORY_CHOICES, KIND_CEILING, TenantPolicy, TenantPolicyError
from steward.store.access import NotFoundError, parse_instant, resolve_student, who_can_see
from steward.store.models import Organization, Student
from steward.store.tenants import load_policy, save_policy
from steward.web.deps import CsrfChecked, Db, PagePrincipal
from steward.web.templating import render

router = APIRouter(include_in_schema=False)

DIRECTORY_ORDER = [
    "name",
    "first_name",
    "middle_name",
    "last_name",
    "age",
    "grade_level",
    "enrollment_dates",
    "school_name",
]


def officer(principal: PagePrincipal) -> Principal:
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This page is for district data officers.")
    return principal


Officer = Annotated[Principal, Depends(officer)]


def _district_name(db: Session, principal: Principal) -> str:
    org = db.get(Organization, principal.organization_id)
    return org.name if org else principal.organization_code


@router.get("/access")
def access_page(
    request: Request,
    db: Db,
    principal: Officer,
    student: Annotated[str | None, Query(max_length=120)] = None,
    at: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Find a student of the district and list who could see their data at an instant."""
    context: dict[str, Any] = {
        "principal": principal,
        "org_name": _district_name(db, principal),
        "student_query": student or "",
        "at_query": at or "",
    }
    if not student:
        return render(request, "access.html", context)
    code = 200
    try:
        student_id = resolve_student(db, student)
        district = db.scalar(select(Student.district_id).where(Student.id == student_id))
        if district != principal.organization_id:
            raise NotFoundError("not in this district")
        policy = load_policy(db, principal.organization_id)
        instant = parse_instant(at, policy.timezone)
    except NotFoundError:
        context["error"] = f"No student {student!r} in your district (give DISTRICTCODE:LOCALID)."
        code = 404
    except ValueError as exc:
        context["error"] = str(exc)
        code = 422
    else:
        result = who_can_see(db, student_id, instant)
        append(
            db,
            EventSpec(
                action="access.who_can_see",
                district_id=principal.organization_id,
                actor=actor_of(principal),
                subject_type="student",
                subjects=[student_id],
                details={"at": result.at.isoformat()},
            ),
        )
        context["result"] = result
        context["local_at"] = result.at.astimezone(_zone(policy.timezone)).strftime("%Y-%m-%d %H:%M %Z")
    return render(request, "access.html", context, code)


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _settings_context(db: Session, principal: Principal, policy: TenantPolicy) -> dict[str, Any]:
    kinds = [k for k in KIND_CEILING if k is not OrgKind.STATE_AGENCY]
    return {
        "principal": principal,
        "org_name": _district_name(db, principal),
        "policy": policy,
        "directory_choices": [c for c in DIRECTORY_ORDER if c in DIRECTORY_CHOICES],
        "kinds": [(k.value, sorted(KIND_CEILING[k], key=lambda d: list(Dataset).index(d))) for k in kinds],
        "kind_allowed": {k.value: {d.value for d in policy.datasets_for(k)} for k in kinds},
    }


@router.get("/settings/policy")
def settings_page(
    request: Request, db: Db, principal: Officer, saved: Annotated[int | None, Query(ge=0, le=100)] = None
) -> Response:
    policy = load_policy(db, principal.organization_id)
    context = _settings_context(db, principal, policy)
    context["saved"] = saved
    return render(request, "policy_settings.html", context)


@router.post("/settings/policy", dependencies=[CsrfChecked])
async def save_settings(request: Request, db: Db, principal: Officer) -> Response:
    """Validate and store the district's settings; a loosening is refused with the reason."""
    form = await request.form()
    current = load_policy(db, principal.organization_id)

    def number(name: str, default: int) -> int:
        raw = str(form.get(name, "")).strip()
        if not raw.lstrip("-").isdigit():
            raise TenantPolicyError(f"{name.replace('_', ' ')} must be a whole number")
        return int(raw) if raw else default

    try:
        names = {d.value for d in Dataset}
        kind_datasets: dict[OrgKind, frozenset[Dataset]] = {}
        for kind in KIND_CEILING:
            if kind is OrgKind.STATE_AGENCY:
                continue
            chosen = frozenset(Dataset(str(v)) for v in form.getlist(f"kind_{kind.value}") if v in names)
            if chosen != KIND_CEILING[kind]:  # the ceiling is the default: store only restrictions
                kind_datasets[kind] = chosen
        policy = TenantPolicy(
            district=current.district,
            timezone=str(form.get("timezone", current.timezone)).strip() or current.timezone,
            floor_year=number("floor_year", current.floor_year),
            directory_elements=tuple(str(v) for v in form.getlist("directory_elements")),
            suppression_threshold=number("suppression_threshold", current.suppression_threshold),
            k_anonymity=number("k_anonymity", current.k_anonymity),
            kind_datasets=kind_datasets,
            emergency_window_hours=number("emergency_window_hours", current.emergency_window_hours),
            research_identifiable_requires_consent=form.get("research_identifiable_requires_consent") == "on",
            annual_notice_forwards_records=form.get("annual_notice_forwards_records") == "on",
            max_research_years=number("max_research_years", current.max_research_years),
            destruction_days=number("destruction_days", current.destruction_days),
        )
        _zone(policy.timezone)
    except (TenantPolicyError, ValueError, KeyError) as exc:
        context = _settings_context(db, principal, current)
        context["error"] = str(exc) if str(exc) else "invalid time zone"
        return render(request, "policy_settings.html", context, 422)
    changed = save_policy(db, principal.organization_id, policy, actor_of(principal))
    return RedirectResponse(f"/settings/policy?saved={len(changed)}", status_code=303)
