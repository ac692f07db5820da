"""Signatures on agreements: who signed for which party, when, and the uploaded PDF's hash."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class AgreementSignature(Base):
    __tablename__ = "agreement_signatures"
    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    #: ``recipient`` (the organization) or ``district``.
    party: Mapped[str] = mapped_column(String(16))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_title: Mapped[str] = mapped_column(String(200), default="")
    signer_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    signed_on: Mapped[date] = mapped_column(Date)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    #: Stored under ``<data dir>/workflow/signatures``; NULL when the district signs in Steward.
    stored_file: Mapped[str | None] = mapped_column(String(300), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
