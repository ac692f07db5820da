"""Tables of records transfers between districts (99.31(a)(2), 99.34): each district's transfer
settings, registrars' requests with their identity-match candidates, and bulk lists.

A request keeps what the registrar typed (state ID, name, birth date) and, once matched, the
sending district's student row; never the records themselves, which travel straight from the
source into an encrypted package (``steward.products.transfer``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class TransferSettings(Base):
    """One district's transfer settings: what it sends, in which format it receives, its source."""

    __tablename__ = "transfer_settings"
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    #: Datasets this district sends when another district's registrar asks (dataset values).
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Format this district receives records in: ``cedars``, ``edfi-json`` or ``oneroster``.
    receive_format: Mapped[str] = mapped_column(String(16), default="cedars")
    #: Where this district's records are read from (a CEDARS drop directory); NULL: the default.
    source_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Days a delivered package waits for the registrar before Steward shreds its copy.
    package_days: Mapped[int] = mapped_column(Integer, default=14)
    updated_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class TransferBatch(Base):
    """A registrar's list of incoming students (start of the year), one request per row."""

    __tablename__ = "transfer_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    receiving_district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    registrar_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    file_name: Mapped[str] = mapped_column(String(200), default="")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class TransferRequest(Base):
    """A registrar's request for an incoming student's records, and what became of it."""

    __tablename__ = "transfer_requests"
    __table_args__ = (
        Index("ix_transfer_requests_receiving", "receiving_district_id", "created_at"),
        Index("ix_transfer_requests_sending", "sending_district_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    receiving_district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    registrar_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    #: The role assignment the registrar acted in (their organization may be a school).
    registrar_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("transfer_batches.id"), nullable=True, index=True)
    requested_state_id: Mapped[str] = mapped_column(String(20), default="")
    requested_first_name: Mapped[str] = mapped_column(String(60), default="")
    requested_last_name: Mapped[str] = mapped_column(String(60), default="")
    requested_birth_date: Mapped[date] = mapped_column(Date)
    #: ``needs_review``, ``no_match``, ``rejected``, ``refused``, ``failed``, ``delivered``,
    #: ``received``, ``expired`` (see ``steward.workflow.transfers.service.Status``).
    status: Mapped[str] = mapped_column(String(16))
    #: Plain words for the registrar: why refused, why no match, what failed.
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The sending district's student row, once matched (exactly, or confirmed by a reviewer).
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), nullable=True, index=True)
    sending_district_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    #: ``exact`` or ``confirmed`` (a reviewer chose among near matches).
    match_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    matched_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    enrollment_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollment_requests.id"), nullable=True
    )
    #: Datasets sent (the engine allowed them) and the format they were sent in.
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    format: Mapped[str] = mapped_column(String(16), default="")
    package_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_packages.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    delivered_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class MatchCandidate(Base):
    """A near match waiting for a person of the candidate's district to confirm or reject it."""

    __tablename__ = "transfer_match_candidates"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("transfer_requests.id", ondelete="CASCADE"), index=True
    )
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    #: What agrees and what differs, in plain words (``state ID: same``, ``birth date: day and
    #: month swapped``).
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)


__all__ = ["MatchCandidate", "TransferBatch", "TransferRequest", "TransferSettings"]
