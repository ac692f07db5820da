"""What the family features keep: partners' consent requests with the wording the district
approved, the electronic signatures (and refusals) of parents and eligible students, online
opt-out requests, and each person's language.

An electronic signature leads to an ordinary ``consents`` row (status verified, evidence = the
signature record's hash): the decision engine reads consents only, so paper and electronic consents
are decided alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class ConsentRequest(Base):
    """A partner's request for parents' consent: published by the partner (under an executed data
    sharing agreement), its wording approved by the district, then offered to the families of the
    students it names until the end of its school year."""

    __tablename__ = "consent_requests"
    __table_args__ = (Index("ix_consent_requests_district_status", "district_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    #: The executed data sharing agreement the request rests on.
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    school_year: Mapped[int] = mapped_column(Integer)
    #: ``submitted``, ``approved``, ``returned`` (changes asked), ``withdrawn`` or ``closed``.
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    #: The organization describing itself to families.
    description: Mapped[str] = mapped_column(Text)
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The organization's own translations of title, purpose and description, by language.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: District or state student IDs as the partner gave them (its program's participants).
    student_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    submitted_by_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    reviewed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    #: The wording as approved (every field a family reads), frozen, and its SHA-256.
    wording: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    wording_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Families may answer until then (the end of the school year).
    closes_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class ConsentRequestStudent(Base):
    """A student the request is offered for (matched from the partner's IDs at approval)."""

    __tablename__ = "consent_request_students"
    __table_args__ = (Index("ix_consent_request_students_student", "student_id"),)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("consent_requests.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), primary_key=True)


class ConsentSignature(Base):
    """One answer of a parent (or eligible student) to a consent request for one student: who
    (the authenticated person), when, the exact text shown (and its SHA-256) and how (channel,
    sign-in method, second factor, address, browser). ``decision`` is ``signed`` or ``declined``."""

    __tablename__ = "consent_signatures"
    __table_args__ = (Index("ix_consent_signatures_request_student", "request_id", "student_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("consent_requests.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    #: ``parent`` or ``student`` (an eligible student, 18 or older).
    capacity: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(Instant())
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    typed_name: Mapped[str] = mapped_column(String(200), default="")
    #: ``portal`` or ``email_link``.
    channel: Mapped[str] = mapped_column(String(16))
    auth_method: Mapped[str] = mapped_column(String(16))
    second_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    web_session_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    client_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    #: SHA-256 of the canonical signature record (who, when, text hash, how): the consent's evidence.
    record_sha256: Mapped[str] = mapped_column(String(64))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"), nullable=True)
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grants.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    revoked_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)


class OptOutRequest(Base):
    """An opt-out a family made online (or lifted): the opt-out row the engine reads, who asked, in
    which language, and for an assessment opt-out the letter the school sees and acknowledges."""

    __tablename__ = "opt_out_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    opt_out_id: Mapped[int] = mapped_column(ForeignKey("opt_outs.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: The school the student attended when asking (it receives an assessment letter).
    school_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True, index=True)
    letter: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    lifted_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    acknowledged_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class LanguagePreference(Base):
    """The language a person chose for pages and e-mails."""

    __tablename__ = "language_preferences"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


__all__ = [
    "ConsentRequest",
    "ConsentRequestStudent",
    "ConsentSignature",
    "LanguagePreference",
    "OptOutRequest",
]
