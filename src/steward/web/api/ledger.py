"""JSON API of the record of disclosures (34 CFR 99.32), paged by cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from steward.audit.ledger import (
    Page,
    basis_words,
    district_scope,
    entries_query,
    page,
    visible_agreement,
    visible_student,
)
from steward.audit.models import DisclosureEntry
from steward.store.models import Organization
from steward.web.deps import ApiPrincipal, Db

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])

Cursor = Annotated[int | None, Query(ge=1, description="`next_cursor` of the previous page")]
Limit = Annotated[int, Query(ge=1, le=1000)]


class LedgerEntryOut(BaseModel):
    id: int
    kind: str
    disclosed_at: datetime
    student_id: int
    recipient_org_id: int | None
    recipient_person_id: int | None
    recipient_name: str
    recipient_org_name: str
    recipient_role: str
    basis: str
    basis_words: str
    citation: str
    purpose: str
    datasets: list[str]
    agreement_id: int | None
    request_ref: str | None
    delivery_id: int | None
    channel: str
    record_required: bool
    audit_event_id: int


class LedgerPage(BaseModel):
    entries: list[LedgerEntryOut]
    next_cursor: int | None


def _out(entry: DisclosureEntry) -> LedgerEntryOut:
    return LedgerEntryOut(
        id=entry.id,
        kind=entry.kind,
        disclosed_at=entry.disclosed_at,
        student_id=entry.student_id,
        recipient_org_id=entry.recipient_org_id,
        recipient_person_id=entry.recipient_person_id,
        recipient_name=entry.recipient_name,
        recipient_org_name=entry.recipient_org_name,
        recipient_role=entry.recipient_role,
        basis=entry.basis,
        basis_words=basis_words(entry.basis),
        citation=entry.citation,
        purpose=entry.purpose,
        datasets=list(entry.datasets),
        agreement_id=entry.agreement_id,
        request_ref=entry.request_ref,
        delivery_id=entry.delivery_id,
        channel=entry.channel,
        record_required=entry.record_required,
        audit_event_id=entry.event_id,
    )


def _page(result: Page) -> LedgerPage:
    return LedgerPage(entries=[_out(e) for e in result.entries], next_cursor=result.next_cursor)


def _district(principal: ApiPrincipal) -> int:
    district = district_scope(principal)
    if district is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return district


@router.get("/students/{student_id}", response_model=LedgerPage)
def student_ledger(
    db: Db, principal: ApiPrincipal, student_id: int, cursor: Cursor = None, limit: Limit = 200
) -> LedgerPage:
    """A student's record of disclosures (their parent, the student, or their district's officer)."""
    student = visible_student(db, principal, student_id)
    if student is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return _page(page(db, entries_query(student.district_id, student_id=student.id), cursor, limit))


@router.get("/recipients/{org_id}", response_model=LedgerPage)
def recipient_ledger(
    db: Db, principal: ApiPrincipal, org_id: int, cursor: Cursor = None, limit: Limit = 200
) -> LedgerPage:
    """Disclosures of the officer's district to one organization."""
    district = _district(principal)
    if db.get(Organization, org_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return _page(page(db, entries_query(district, recipient_org_id=org_id), cursor, limit))


@router.get("/agreements/{agreement_id}", response_model=LedgerPage)
def agreement_ledger(
    db: Db, principal: ApiPrincipal, agreement_id: int, cursor: Cursor = None, limit: Limit = 200
) -> LedgerPage:
    """Disclosures of the officer's district under one of its agreements."""
    agreement = visible_agreement(db, principal, agreement_id)
    if agreement is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    query = entries_query(agreement.district_id, agreement_id=agreement.id)
    return _page(page(db, query, cursor, limit))
