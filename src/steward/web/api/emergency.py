"""Break-glass API (district data officers): record a health or safety emergency for a student of
the district, list and end the district's emergencies, and read the student's records under one.

Everyone else gets 403 naming what is missing; a student or emergency outside the officer's district
is a 404 like one that does not exist. A refused attempt is itself an audit event (committed, since
the route answers instead of raising). Reading records under an emergency writes the 99.32 ledger
line before the records are returned.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward.audit import record_disclosure
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.principal import Principal
from steward.policy import Actor
from steward.products.portal import catalog, lines
from steward.products.records import SourceRecordsError
from steward.store.access import NotFoundError, Question, decide_batch, resolve_student
from steward.store.base import now_utc
from steward.store.models import Organization, Student
from steward.web.api.delivery import CsrfHeader
from steward.web.deps import ApiPrincipal, Db
from steward.workflow import emergency as service
from steward.workflow.common import InvalidError, NotAllowedError, WorkflowError
from steward.workflow.models import Emergency
from steward.workflow.transfers.settings import SettingsError, source_directory

router = APIRouter(prefix="/api/v1/emergencies", tags=["emergencies"])

NOT_FOUND = "no such student in your district"


class EmergencyIn(BaseModel):
    student: int | str = Field(description="internal id, or DISTRICTCODE:LOCALID")
    threat: str = Field(min_length=1, max_length=service.MAX_THREAT, description="the articulable threat")
    recipients: str = Field("", max_length=service.MAX_RECIPIENTS, description="who receives the data")


class EmergencyOut(BaseModel):
    id: int
    student: int
    student_code: str
    officer: int
    threat: str
    recipients: str
    valid_from: datetime
    valid_to: datetime | None
    in_force: bool


def _out(db: Session, row: Emergency) -> EmergencyOut:
    return EmergencyOut(
        id=row.id,
        student=row.student_id,
        student_code=service.student_code(db, row.student_id),
        officer=row.person_id,
        threat=row.threat,
        recipients=row.recipients,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        in_force=service.in_force(row, now_utc()),
    )


def _student_id(db: Session, key: int | str) -> int | None:
    try:
        return resolve_student(db, str(key))
    except NotFoundError:
        return None


@router.post(
    "",
    status_code=201,
    response_model=EmergencyOut,
    dependencies=[CsrfHeader],
    responses={403: {"description": "not a data officer"}, 404: {"description": NOT_FOUND}},
)
def record(db: Db, principal: ApiPrincipal, body: EmergencyIn) -> Response | EmergencyOut:
    """Break the glass: record the threat; the engine then lets this officer see the student's
    data under 34 CFR 99.36 for the district's emergency window."""
    student_id = _student_id(db, body.student)
    try:
        # An unknown student is asked about as id 0 (no such row), so a caller who is not an
        # officer gets the same 403 for it as for a real student: no existence oracle.
        row = service.record_emergency(
            db, principal, student_id or 0, body.threat, recipients=body.recipients
        )
    except WorkflowError as exc:
        db.rollback()
        if isinstance(exc, InvalidError):
            problems = [{"field": p.field, "message": p.message} for p in exc.items]
            return JSONResponse({"detail": problems}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
        if student_id is not None:
            service.log_refusal(db, principal, student_id, exc.problems)
        if isinstance(exc, NotAllowedError):
            return JSONResponse({"detail": "; ".join(exc.problems)}, status_code=status.HTTP_403_FORBIDDEN)
        return JSONResponse({"detail": NOT_FOUND}, status_code=status.HTTP_404_NOT_FOUND)
    return _out(db, row)


def _officer_only(principal: Principal) -> None:
    if not service.is_data_officer(principal):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a district data officer may see emergencies")


@router.get("", response_model=list[EmergencyOut])
def district_list(db: Db, principal: ApiPrincipal) -> list[EmergencyOut]:
    """The district's emergencies, newest first (data officers of the district)."""
    _officer_only(principal)
    return [_out(db, r) for r in service.district_emergencies(db, principal.organization_id)]


def _visible(db: Session, principal: Principal, emergency_id: int) -> Emergency:
    _officer_only(principal)
    row = service.visible_emergency(db, principal, emergency_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such emergency in your district")
    return row


@router.get("/{emergency_id}", response_model=EmergencyOut)
def one(db: Db, principal: ApiPrincipal, emergency_id: int) -> EmergencyOut:
    return _out(db, _visible(db, principal, emergency_id))


@router.post("/{emergency_id}/end", response_model=EmergencyOut, dependencies=[CsrfHeader])
def end(db: Db, principal: ApiPrincipal, emergency_id: int) -> Response | EmergencyOut:
    """End the emergency now (access under it stops at once)."""
    row = _visible(db, principal, emergency_id)
    try:
        service.end_emergency(db, principal, emergency_id)
    except WorkflowError as exc:
        db.rollback()
        return JSONResponse({"detail": "; ".join(exc.problems)}, status_code=status.HTTP_409_CONFLICT)
    return _out(db, row)


@router.get("/{emergency_id}/records")
def records(
    request: Request,
    db: Db,
    principal: ApiPrincipal,
    emergency_id: int,
    dataset: Annotated[list[Dataset] | None, Query(description="only these datasets")] = None,
) -> Response:
    """The student's records, read from the district's source now, while the emergency is in force
    (the officer who recorded it only). Each read is a disclosure in the student's 99.32 ledger."""
    row = _visible(db, principal, emergency_id)
    if row.person_id != principal.person_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only the officer who recorded the emergency reads under it"
        )
    at = now_utc()
    wanted = list(dict.fromkeys(dataset or list(Dataset)))
    decisions = decide_batch(db, Actor.of(principal), [Question(row.student_id, d) for d in wanted], at)
    refused = [m for d in decisions if not d.allowed for m in d.missing]
    if refused:
        return JSONResponse({"detail": refused}, status_code=status.HTTP_403_FORBIDDEN)
    student = db.get_one(Student, row.student_id)
    district = db.get_one(Organization, student.district_id)
    try:
        directory = source_directory(db, request.app.state.settings.data_dir, district.id)
        found = lines.read_students(
            directory,
            district.code,
            [student.local_id],
            catalog.prefixes_for(frozenset(wanted)),
            references=(),
        )
    except (SettingsError, SourceRecordsError) as exc:
        return JSONResponse(
            {"detail": f"the district's records cannot be read right now: {exc}"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    groups: dict[LegalBasis, list[Dataset]] = defaultdict(list)
    evidence: dict[LegalBasis, list[str]] = defaultdict(list)
    for d in decisions:
        assert d.basis is not None
        groups[d.basis].append(d.dataset)
        evidence[d.basis].extend(e for e in d.evidence if e not in evidence[d.basis])
    for basis, datasets in groups.items():
        if basis is service.BASIS:
            service.disclose_under(db, principal, row, datasets, evidence[basis], channel="api", at=at)
        else:
            record_disclosure(
                db,
                principal,
                [row.student_id],
                datasets,
                basis,
                purpose="Health or safety emergency record read",
                channel="api",
                evidence=evidence[basis],
                at=at,
            )
    body: dict[str, Any] = {
        "emergency": row.id,
        "student": f"{district.code}:{student.local_id}",
        "at": at,
        "datasets": {d.dataset.value: d.basis for d in decisions},
        "ends": row.valid_to,
        "records": [{"type": type(r).__name__, **jsonable_encoder(r)} for r in found.records],
    }
    return JSONResponse(jsonable_encoder(body))


__all__ = ["router"]
