"""The paperwork facts the decision engine reads: agreements, consents, grants, trainings, opt-outs,
enrollment requests, emergencies and dependency records.

Each row is valid on ``[valid_from, valid_to)`` (UTC instants; NULL end: open-ended). A revocation,
termination or expiry ends the interval at that instant, so a past decision replays unchanged and a
new one is denied immediately. Datasets and students that the set evaluator joins on live in child
tables (``consent_datasets``, ``grant_students``, ``grant_datasets``); the lists an agreement names
are read in Python and stay JSON. The paperwork workflow (issue 4) extends these tables.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc
from steward.store.models import ValidityMixin


class Agreement(ValidityMixin, Base):
    """A DSA, NDA, MOU/contract, research approval, studies agreement, network-use agreement or IS
    designation between an organization and a district."""

    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_org_district", "organization_id", "district_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: The school year an annual agreement is for (ending year, 2026 = 2025-26); NULL: any.
    school_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    purpose: Mapped[str] = mapped_column(Text, default="")
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``dataset.element`` names; NULL: every element except direct identifiers.
    elements: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    #: School years of data covered (research), ending years.
    school_years: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: Schools covered (vendor contracts), organization ids; empty: the whole district.
    schools: Mapped[list[int]] = mapped_column(JSON, default=list)
    clauses: Mapped[list[str]] = mapped_column(JSON, default=list)
    destroy_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    # -- the paperwork workflow (issue 4) ------------------------------------------------------
    title: Mapped[str] = mapped_column(String(200), default="")
    #: The parties as written on the agreement (names and roles), beyond the two organizations.
    parties: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Who the data are about, in words (grades, schools, programs).
    population: Mapped[str] = mapped_column(Text, default="")
    #: Annual agreements end at the end of their school year (SPS: re-established every year).
    annual: Mapped[bool] = mapped_column(Boolean, default=False)
    redisclosure_terms: Mapped[str] = mapped_column(Text, default="")
    penalties: Mapped[str] = mapped_column(Text, default="")
    destruction_method: Mapped[str] = mapped_column(Text, default="")
    #: Days after the end by which the recipient destroys the data (default 45, OSPI).
    destruction_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    renewed_from_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), nullable=True)
    executed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    executed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    #: When the expiry sweep or a termination closed the agreement (destruction tasks opened).
    ended_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True, default=now_utc)


class Consent(ValidityMixin, Base):
    """A written consent (99.30): who signed, when, for which recipient, records and purpose."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_org_student", "organization_id", "student_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    signed_by_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    #: The local calendar date on the form, and the instant it stands for (local midnight).
    signed_on: Mapped[date] = mapped_column(Date)
    signed_at: Mapped[datetime] = mapped_column(Instant())
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    school_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    # -- the paperwork workflow (issue 4) ------------------------------------------------------
    #: The guardian's name as written on the form.
    guardian_name: Mapped[str] = mapped_column(String(200), default="")
    #: The scanned form: stored file name under the data directory and its SHA-256.
    evidence_file: Mapped[str | None] = mapped_column(String(300), nullable=True)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Why it was rejected or revoked.
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The bulk upload it came from (``consent_uploads.id``; no foreign key, so these fact tables
    #: stand alone for the engine's loaders).
    upload_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    reviewed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    #: When the expiry sweep noticed the end of its validity.
    expired_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class ConsentDataset(Base):
    __tablename__ = "consent_datasets"
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id", ondelete="CASCADE"), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(20), primary_key=True)


class Grant(ValidityMixin, Base):
    """A district's explicit right-to-view for an organization; ``school_id`` set: a principal's
    list for an Institutional Service partner."""

    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    granted_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    # -- the paperwork workflow (issue 4) ------------------------------------------------------
    #: ``active``, ``revoked`` or ``expired`` (the validity interval is what the engine reads).
    status: Mapped[str] = mapped_column(String(20), default="active")
    reason: Mapped[str] = mapped_column(Text, default="")
    school_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    expired_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class GrantStudent(Base):
    __tablename__ = "grant_students"
    __table_args__ = (Index("ix_grant_students_student", "student_id"),)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), primary_key=True)


class GrantDataset(Base):
    __tablename__ = "grant_datasets"
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(20), primary_key=True)


class Training(ValidityMixin, Base):
    """A completed stewardship training, valid for a school year."""

    __tablename__ = "trainings"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    course: Mapped[str] = mapped_column(String(100), default="stewardship")
    school_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # -- the paperwork workflow (issue 4) ------------------------------------------------------
    completed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    recorded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True, default=now_utc)
    expired_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class OptOut(ValidityMixin, Base):
    """A family's opt-out (directory information, assessment, activity); it survives leaving."""

    __tablename__ = "opt_outs"
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # -- the paperwork workflow (issue 4) ------------------------------------------------------
    #: How the district learned of it (letter, form, email).
    source: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True, default=now_utc)


class EnrollmentRequest(ValidityMixin, Base):
    """The student seeks or intends to enroll in ``district_id`` (99.31(a)(2))."""

    __tablename__ = "enrollment_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    registrar_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)


class Emergency(ValidityMixin, Base):
    """A break-glass record by a district officer: the articulable threat and its time box (99.36)."""

    __tablename__ = "emergencies"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    #: Stored stripped; an empty threat never opens anything.
    threat: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[str] = mapped_column(Text, default="")


class DependencyRecord(ValidityMixin, Base):
    """The student is the parent's tax dependent, so 99.31(a)(8) lets the parent see after 18."""

    __tablename__ = "dependency_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    tax_year: Mapped[int | None] = mapped_column(Integer, nullable=True)


__all__ = [
    "Agreement",
    "Consent",
    "ConsentDataset",
    "DependencyRecord",
    "Emergency",
    "EnrollmentRequest",
    "Grant",
    "GrantDataset",
    "GrantStudent",
    "OptOut",
    "Training",
]
