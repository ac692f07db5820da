"""Consents (34 CFR 99.30) as records: recorded pending, verified or rejected (with a reason) by the
district, revoked by the family (validity ends at that instant, so past decisions replay unchanged)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from steward.domain.datasets import Dataset
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear, local_date, local_midnight
from steward.policy.facts import ConsentStatus
from steward.store.base import now_utc
from steward.store.models import Guardianship, Organization, Student
from steward.workflow import files, history
from steward.workflow.common import (
    NotAllowedError,
    WorkflowError,
    require_officer,
    school_year_end,
    timezone_of,
)
from steward.workflow.models import Consent, ConsentDataset


def consent_window(school_year: int, tz: str) -> tuple[datetime, datetime]:
    """A consent counts from its signature to the end of its school year (SPS: annual)."""
    return SchoolYear(school_year).interval(tz).start, school_year_end(school_year, tz)


def check_dates(signed_on: date, school_year: int, today: date) -> str | None:
    """Why the signature date does not fit (None: it does). Forms for the coming year are collected
    from spring on (SPS: due by June 1), so up to a year before the school year starts."""
    year = SchoolYear(school_year)
    if signed_on > today:
        return f"the signature date {signed_on} lies in the future"
    if signed_on > year.last_day:
        return f"signed on {signed_on}, after the end of {year.label()}"
    if signed_on < date(year.first_day.year - 1, year.first_day.month, year.first_day.day):
        return f"signed on {signed_on}, more than a year before {year.label()} starts"
    return None


def record(
    db: Session,
    actor: Principal | None,
    *,
    student_id: int,
    organization_id: int,
    signed_by_person_id: int,
    guardian_name: str,
    signed_on: date,
    school_year: int,
    datasets: Sequence[str],
    purpose: str,
    evidence: files.Stored | None = None,
    upload_id: int | None = None,
) -> Consent:
    """A pending consent (the district verifies it before it counts)."""
    student = db.get(Student, student_id)
    if student is None:
        raise WorkflowError(f"no student with id {student_id}")
    tz = timezone_of(db, student.district_id)
    problem = check_dates(signed_on, school_year, local_date(now_utc(), tz))
    if problem:
        raise WorkflowError(problem)
    chosen = sorted({Dataset(d).value for d in datasets})
    if not chosen:
        raise WorkflowError("a consent names the records it covers")
    if not purpose.strip():
        raise WorkflowError("a consent names its purpose")
    _, end = consent_window(school_year, tz)
    consent = Consent(
        code=f"C-{uuid.uuid4().hex[:12].upper()}",
        student_id=student_id,
        organization_id=organization_id,
        signed_by_person_id=signed_by_person_id,
        signed_on=signed_on,
        signed_at=local_midnight(signed_on, tz),
        purpose=purpose.strip(),
        status=ConsentStatus.PENDING.value,
        school_year=school_year,
        valid_from=local_midnight(signed_on, tz),
        valid_to=end,
        guardian_name=guardian_name.strip()[:200],
        evidence_file=evidence.stored if evidence else None,
        evidence_sha256=evidence.sha256 if evidence else None,
        upload_id=upload_id,
    )
    db.add(consent)
    db.flush()
    db.execute(insert(ConsentDataset), [{"consent_id": consent.id, "dataset": d} for d in chosen])
    history.record(
        db,
        "consent",
        consent.id,
        "recorded",
        district_id=student.district_id,
        actor=actor,
        to_status=consent.status,
        changes={"datasets": [None, chosen]},
    )
    return consent


def _district(db: Session, consent: Consent) -> int:
    student = db.get(Student, consent.student_id)
    assert student is not None
    return student.district_id


def verify(db: Session, actor: Principal, consent: Consent, at: datetime | None = None) -> Consent:
    """The district checked the form: the consent counts from its signature to the year's end."""
    district = _district(db, consent)
    require_officer(actor, district)
    if consent.status != ConsentStatus.PENDING.value:
        raise WorkflowError(f"consent {consent.code} is {consent.status}, not pending")
    if not signer_is_guardian(db, consent):
        raise WorkflowError(
            f"consent {consent.code}: the signer is not a guardian of record of the student on "
            f"{consent.signed_on} (nor the student at 18 or older)"
        )
    when = at or now_utc()
    consent.status = ConsentStatus.VERIFIED.value
    consent.reviewed_by_person_id = actor.person_id
    consent.reviewed_at = when
    history.record(
        db,
        "consent",
        consent.id,
        "verified",
        district_id=district,
        actor=actor,
        from_status=ConsentStatus.PENDING.value,
        to_status=consent.status,
        at=when,
    )
    return consent


def reject(
    db: Session, actor: Principal, consent: Consent, reason: str, at: datetime | None = None
) -> Consent:
    district = _district(db, consent)
    require_officer(actor, district)
    if consent.status != ConsentStatus.PENDING.value:
        raise WorkflowError(f"consent {consent.code} is {consent.status}, not pending")
    if not reason.strip():
        raise WorkflowError("give the reason for rejecting the consent")
    when = at or now_utc()
    consent.status = ConsentStatus.REJECTED.value
    consent.reason = reason.strip()
    consent.reviewed_by_person_id = actor.person_id
    consent.reviewed_at = when
    history.record(
        db,
        "consent",
        consent.id,
        "rejected",
        district_id=district,
        actor=actor,
        from_status=ConsentStatus.PENDING.value,
        to_status=consent.status,
        reason=consent.reason,
        at=when,
    )
    return consent


def revoke(
    db: Session, actor: Principal, consent: Consent, reason: str, at: datetime | None = None
) -> Consent:
    """The family withdrew the consent: it stops counting at ``at`` (now)."""
    district = _district(db, consent)
    guardians = {
        g.person_id
        for g in db.scalars(select(Guardianship).where(Guardianship.student_id == consent.student_id))
    }
    if actor.person_id not in guardians:
        require_officer(actor, district)
    if consent.status not in (ConsentStatus.VERIFIED.value, ConsentStatus.PENDING.value):
        raise WorkflowError(f"consent {consent.code} is {consent.status}: nothing to revoke")
    when = at or now_utc()
    before = consent.status
    changes: dict[str, list[object]] = {}
    if consent.valid_to is None or consent.valid_to > when:
        changes["valid_to"] = [consent.valid_to, when]
        consent.valid_to = max(when, consent.valid_from)
    consent.status = ConsentStatus.REVOKED.value
    consent.reason = reason.strip() or "revoked by the family"
    history.record(
        db,
        "consent",
        consent.id,
        "revoked",
        district_id=district,
        actor=actor,
        from_status=before,
        to_status=consent.status,
        changes=changes,
        reason=consent.reason,
        at=when,
    )
    return consent


def signer_is_guardian(db: Session, consent: Consent) -> bool:
    """99.30: a guardian of record on the signature date, or the student at 18 or older."""
    student = db.get(Student, consent.student_id)
    if student is None:
        return False
    if student.person_id is not None and student.person_id == consent.signed_by_person_id:
        return _age(student.birth_date, consent.signed_on) >= 18
    return any(
        g.person_id == consent.signed_by_person_id
        and g.valid_from <= consent.signed_at
        and (g.valid_to is None or g.valid_to > consent.signed_at)
        and not g.restricted
        for g in db.scalars(select(Guardianship).where(Guardianship.student_id == consent.student_id))
    )


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def review_queue(db: Session, district_id: int, limit: int = 500) -> list[Consent]:
    return list(
        db.scalars(
            select(Consent)
            .join(Student, Student.id == Consent.student_id)
            .where(Student.district_id == district_id, Consent.status == ConsentStatus.PENDING.value)
            .order_by(Consent.created_at, Consent.id)
            .limit(limit)
        )
    )


def datasets_of(db: Session, consent_id: int) -> list[str]:
    return sorted(db.scalars(select(ConsentDataset.dataset).where(ConsentDataset.consent_id == consent_id)))


def evidence_path(data_dir: Path, consent: Consent) -> Path | None:
    return files.path_of(data_dir, consent.evidence_file) if consent.evidence_file else None


def may_see(db: Session, principal: Principal, consent: Consent) -> bool:
    """The district's officers and the recipient organization see a consent."""
    student = db.get(Student, consent.student_id)
    if student is None:
        return False
    org = db.get(Organization, principal.organization_id)
    return principal.organization_id == consent.organization_id or (
        org is not None and org.id == student.district_id and principal.role.value == "district_data_officer"
    )


def ensure_visible(db: Session, principal: Principal, consent: Consent | None) -> Consent:
    if consent is None or not may_see(db, principal, consent):
        raise NotAllowedError("not found")
    return consent
