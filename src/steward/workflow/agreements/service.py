"""Agreements as records: drafted (often from a request's terms), signed (the recipient's PDF and
its hash), executed only when complete, expired at their end or terminated, renewed into a draft
that copies last year's terms. Every change writes history and an audit event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.delivery.destruction import end_agreement
from steward.delivery.models import DestructionTask
from steward.domain.datasets import Dataset
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear, local_date, local_midnight
from steward.policy.facts import AgreementKind, AgreementStatus, Clause
from steward.policy.tenant import MAX_RESEARCH_YEARS
from steward.store.base import now_utc
from steward.store.fact_loader import load_tenants
from steward.store.models import Organization
from steward.workflow import files, history
from steward.workflow.agreements.models import AgreementSignature
from steward.workflow.agreements.rules import (
    DATA_KINDS,
    DEFAULT_DESTRUCTION_DAYS,
    Terms,
    add_years,
    destroy_by,
    problems,
)
from steward.workflow.common import (
    NotAllowedError,
    WorkflowError,
    require_officer,
    school_year_end,
    timezone_of,
)
from steward.workflow.models import Agreement

PREFIX: dict[str, str] = {
    "dsa": "DSA",
    "nda": "NDA",
    "mou": "MOU",
    "contract": "CON",
    "research_approval": "RA",
    "studies": "STU",
    "network_use": "NET",
    "is_designation": "IS",
}
EDITABLE = frozenset({AgreementStatus.DRAFT.value, AgreementStatus.SUBMITTED.value})
TERM_FIELDS = (
    "title",
    "purpose",
    "datasets",
    "elements",
    "school_years",
    "schools",
    "population",
    "clauses",
    "redisclosure_terms",
    "penalties",
    "destruction_method",
    "destruction_days",
    "destroy_by",
    "parties",
    "valid_from",
    "valid_to",
    "annual",
    "school_year",
)
DEFAULT_CLAUSES = (
    Clause.NO_COMMERCIAL_USE.value,
    Clause.CONFIDENTIALITY.value,
    Clause.REDISCLOSURE.value,
    Clause.DESTRUCTION.value,
)
SIGNATURE_TYPES = (".pdf",)


def _max_years(db: Session, district_id: int) -> int:
    tenant = load_tenants(db, [district_id]).get(str(district_id))
    return tenant.max_research_years if tenant is not None else MAX_RESEARCH_YEARS


__all__ = ["add_years"]


def recipient_signed(db: Session, agreement_id: int) -> bool:
    return (
        db.scalar(
            select(AgreementSignature.id)
            .where(AgreementSignature.agreement_id == agreement_id, AgreementSignature.party == "recipient")
            .limit(1)
        )
        is not None
    )


def terms_of(db: Session, a: Agreement) -> Terms:
    org = db.get(Organization, a.organization_id)
    return Terms(
        kind=AgreementKind(a.kind),
        purpose=a.purpose or "",
        datasets=tuple(a.datasets or ()),
        elements=None if a.elements is None else tuple(a.elements),
        school_years=tuple(a.school_years or ()),
        population=a.population or "",
        valid_from=a.valid_from,
        valid_to=a.valid_to,
        destruction_days=a.destruction_days,
        destroy_by=a.destroy_by,
        annual=bool(a.annual),
        school_year=a.school_year,
        recipient_signed=recipient_signed(db, a.id),
        research_org=org is not None and org.kind == "research_org",
    )


def execution_problems(db: Session, a: Agreement) -> list[str]:
    return problems(
        terms_of(db, a), max_research_years=_max_years(db, a.district_id), tz=timezone_of(db, a.district_id)
    )


def _check_values(values: dict[str, Any]) -> None:
    datasets = values.get("datasets")
    if datasets is not None:
        unknown = [d for d in datasets if d not in {x.value for x in Dataset}]
        if unknown:
            raise WorkflowError(f"unknown datasets: {', '.join(unknown)}")
    days = values.get("destruction_days")
    if days is not None and not 0 <= int(days) <= 365:
        raise WorkflowError("the destruction period is between 0 and 365 days")


def create(
    db: Session,
    actor: Principal | None,
    *,
    kind: AgreementKind | str,
    organization_id: int,
    district_id: int,
    valid_from: datetime | None = None,
    status: AgreementStatus = AgreementStatus.DRAFT,
    reason: str = "",
    **terms: Any,
) -> Agreement:
    """A new agreement (a draft unless ``status`` says otherwise); annual ones end with their year."""
    require_officer(actor, district_id)
    kind = AgreementKind(kind)
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise WorkflowError(f"unknown agreement terms: {', '.join(sorted(unknown))}")
    _check_values(terms)
    if db.get(Organization, organization_id) is None:
        raise WorkflowError(f"no organization with id {organization_id}")
    tz = timezone_of(db, district_id)
    now = now_utc()
    start = valid_from or local_midnight(local_date(now, tz), tz)
    values: dict[str, Any] = {
        "clauses": list(DEFAULT_CLAUSES),
        "destruction_days": DEFAULT_DESTRUCTION_DAYS,
        **terms,
    }
    if values.get("annual"):
        year = values.get("school_year") or SchoolYear.at(start, tz).end_year
        values["school_year"] = year
        values["valid_to"] = school_year_end(year, tz)
    agreement = Agreement(
        code=f"tmp-{uuid.uuid4().hex[:20]}",
        kind=kind.value,
        organization_id=organization_id,
        district_id=district_id,
        status=status.value,
        valid_from=start,
        created_at=now,
        updated_at=now,
        **values,
    )
    db.add(agreement)
    db.flush()
    agreement.code = f"{PREFIX[kind.value]}-{local_date(now, tz).year}-{agreement.id:05d}"
    history.record(
        db,
        "agreement",
        agreement.id,
        "created",
        district_id=district_id,
        actor=actor,
        to_status=agreement.status,
        changes={"code": [None, agreement.code], "kind": [None, kind.value]},
        reason=reason,
    )
    return agreement


def update(db: Session, actor: Principal | None, a: Agreement, **values: Any) -> dict[str, list[Any]]:
    """Change the terms of a draft; returns what changed."""
    require_officer(actor, a.district_id)
    if a.status not in EDITABLE:
        raise WorkflowError(
            f"agreement {a.code} is {a.status}: only drafts can be changed (renew it instead)"
        )
    unknown = set(values) - set(TERM_FIELDS)
    if unknown:
        raise WorkflowError(f"unknown agreement terms: {', '.join(sorted(unknown))}")
    _check_values(values)
    if values.get("annual", a.annual):
        year = values.get("school_year") or a.school_year or SchoolYear.at(a.valid_from).end_year
        values["school_year"] = year
        values["valid_to"] = school_year_end(year, timezone_of(db, a.district_id))
    changed = history.diff(a, values)
    if changed:
        a.updated_at = now_utc()
        history.record(
            db, "agreement", a.id, "updated", district_id=a.district_id, actor=actor, changes=changed
        )
    return changed


def may_sign_for_recipient(principal: Principal, a: Agreement) -> bool:
    return principal.organization_id == a.organization_id


def sign(
    db: Session,
    actor: Principal,
    a: Agreement,
    *,
    signer_name: str,
    signer_title: str,
    signed_on: date,
    content: bytes,
    filename: str,
    data_dir: Path,
) -> AgreementSignature:
    """The recipient's signed copy (a PDF), uploaded by the recipient or by the officer for them."""
    if not (may_sign_for_recipient(actor, a) or actor.organization_id == a.district_id):
        raise NotAllowedError("only the recipient organization or the district may upload the signed copy")
    if actor.organization_id == a.district_id:
        require_officer(actor, a.district_id)
    if a.status not in EDITABLE:
        raise WorkflowError(f"agreement {a.code} is {a.status}: it can no longer be signed")
    if not signer_name.strip():
        raise WorkflowError("name the person who signed")
    tz = timezone_of(db, a.district_id)
    if signed_on > local_date(now_utc(), tz):
        raise WorkflowError(f"the signature date {signed_on} lies in the future")
    kept = files.store(data_dir, "signatures", content, filename, SIGNATURE_TYPES)
    signature = AgreementSignature(
        agreement_id=a.id,
        party="recipient",
        signer_name=signer_name.strip()[:200],
        signer_title=signer_title.strip()[:200],
        signer_person_id=actor.person_id if may_sign_for_recipient(actor, a) else None,
        signed_on=signed_on,
        file_name=kept.name,
        stored_file=kept.stored,
        sha256=kept.sha256,
    )
    db.add(signature)
    if a.status == AgreementStatus.DRAFT.value:
        a.status = AgreementStatus.SUBMITTED.value
    a.updated_at = now_utc()
    db.flush()
    history.record(
        db,
        "agreement",
        a.id,
        "signed",
        district_id=a.district_id,
        actor=actor,
        from_status=AgreementStatus.DRAFT.value,
        to_status=a.status,
        changes={"signature": [None, {"signer": signature.signer_name, "sha256": kept.sha256}]},
        subjects=[f"sha256:{kept.sha256}"],
    )
    from steward.workflow.requests import service as requests

    requests.after_agreement_change(db, a)
    return signature


def execute(db: Session, actor: Principal, a: Agreement, at: datetime | None = None) -> Agreement:
    """Execute a complete, signed agreement (the district's signature is the officer's act)."""
    require_officer(actor, a.district_id)
    if a.status not in EDITABLE:
        raise WorkflowError(f"agreement {a.code} is {a.status}, not a draft awaiting execution")
    found = execution_problems(db, a)
    if found:
        raise WorkflowError([f"agreement {a.code} cannot be executed: {p}" for p in found])
    when = at or now_utc()
    tz = timezone_of(db, a.district_id)
    before = a.status
    a.status = AgreementStatus.EXECUTED.value
    a.executed_at = when
    a.executed_by_person_id = actor.person_id
    a.destroy_by = destroy_by(terms_of(db, a), tz)
    a.updated_at = when
    db.add(
        AgreementSignature(
            agreement_id=a.id,
            party="district",
            signer_name=actor.display_name or actor.person_code,
            signer_title=actor.role.label,
            signer_person_id=actor.person_id,
            signed_on=local_date(when, tz),
        )
    )
    history.record(
        db,
        "agreement",
        a.id,
        "executed",
        district_id=a.district_id,
        actor=actor,
        from_status=before,
        to_status=a.status,
        changes={"destroy_by": [None, a.destroy_by]},
    )
    from steward.workflow.requests import service as requests

    requests.after_agreement_change(db, a)
    return a


def grant_approval(db: Session, actor: Principal | None, a: Agreement, reason: str = "") -> Agreement:
    """A research proposal approved by the panel (binding once approved, OSPI)."""
    if AgreementKind(a.kind) is not AgreementKind.RESEARCH_APPROVAL:
        raise WorkflowError("only research proposals are approved this way")
    found = execution_problems(db, a)
    if found:
        raise WorkflowError([f"research approval {a.code}: {p}" for p in found])
    before, a.status = a.status, AgreementStatus.APPROVED.value
    a.updated_at = now_utc()
    history.record(
        db,
        "agreement",
        a.id,
        "approved",
        district_id=a.district_id,
        actor=actor,
        from_status=before,
        to_status=a.status,
        reason=reason,
    )
    return a


def _end(
    db: Session,
    a: Agreement,
    status: AgreementStatus,
    at: datetime,
    actor: Principal | None,
    data_dir: Path,
    reason: str,
) -> list[DestructionTask]:
    before = a.status
    changes: dict[str, list[Any]] = {}
    if a.valid_to is None or a.valid_to > at:
        changes["valid_to"] = [a.valid_to, at]
        a.valid_to = at
    a.status = status.value
    a.ended_at = at
    a.updated_at = now_utc()
    # Only agreements under which data left the district open destruction tasks.
    tasks = (
        end_agreement(db, data_dir, a.id, ended_at=at, actor=actor)
        if AgreementKind(a.kind) in DATA_KINDS
        else []
    )
    history.record(
        db,
        "agreement",
        a.id,
        status.value,
        district_id=a.district_id,
        actor=actor,
        from_status=before,
        to_status=a.status,
        changes=changes,
        reason=reason,
        at=at,
    )
    from steward.workflow.requests import service as requests

    requests.after_agreement_change(db, a, tasks)
    return tasks


def terminate(
    db: Session, actor: Principal, a: Agreement, data_dir: Path, reason: str, at: datetime | None = None
) -> list[DestructionTask]:
    """End an agreement early (or at its end): validity ends now; destruction tasks open."""
    require_officer(actor, a.district_id)
    if a.status not in (AgreementStatus.EXECUTED.value, AgreementStatus.APPROVED.value):
        raise WorkflowError(f"agreement {a.code} is {a.status}: only agreements in force can be terminated")
    if not reason.strip():
        raise WorkflowError("say why the agreement is terminated")
    return _end(db, a, AgreementStatus.TERMINATED, at or now_utc(), actor, data_dir, reason.strip())


def expire(db: Session, a: Agreement, data_dir: Path, at: datetime) -> list[DestructionTask]:
    """The expiry sweep's step for one agreement whose ``valid_to`` has passed (system actor)."""
    assert a.valid_to is not None
    return _end(db, a, AgreementStatus.EXPIRED, a.valid_to, None, data_dir, "reached the end of its term")


def renew(db: Session, actor: Principal, a: Agreement) -> Agreement:
    """A draft for the next term that copies this agreement's terms (annual: the next school year)."""
    require_officer(actor, a.district_id)
    existing = db.scalar(select(Agreement).where(Agreement.renewed_from_id == a.id).limit(1))
    if existing is not None:
        return existing
    tz = timezone_of(db, a.district_id)
    copied = {
        name: getattr(a, name) for name in TERM_FIELDS if name not in ("valid_from", "valid_to", "destroy_by")
    }
    if a.annual and a.school_year is not None:
        copied["school_year"] = a.school_year + 1
        start = SchoolYear(a.school_year + 1).interval(tz).start
    else:
        start = a.valid_to or now_utc()
        if a.valid_to is not None:
            copied["valid_to"] = start + (a.valid_to - a.valid_from)
    draft = create(
        db,
        actor,
        kind=a.kind,
        organization_id=a.organization_id,
        district_id=a.district_id,
        valid_from=start,
        reason=f"renewal of {a.code}",
        **copied,
    )
    draft.renewed_from_id = a.id
    history.record(
        db,
        "agreement",
        a.id,
        "renewal_drafted",
        district_id=a.district_id,
        actor=actor,
        changes={"renewal": [None, draft.code]},
    )
    return draft


def signatures(db: Session, agreement_id: int) -> Sequence[AgreementSignature]:
    return db.scalars(
        select(AgreementSignature)
        .where(AgreementSignature.agreement_id == agreement_id)
        .order_by(AgreementSignature.id)
    ).all()
