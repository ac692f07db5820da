"""Data requests and what hangs off them: the students a request names, questions and answers,
the agreements it leads to, the review panel's cycles and votes, and the SLA clock's pauses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class ReviewCycle(Base):
    """One meeting of the district's data request review panel (default March, July, November)."""

    __tablename__ = "review_cycles"
    __table_args__ = (UniqueConstraint("district_id", "meets_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    meets_on: Mapped[date] = mapped_column(Date)
    #: ``open`` (taking requests and votes) or ``closed`` (decided).
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class DataRequest(Base):
    """A request for student data, from draft to destruction (``steward.workflow.requests.machine``)."""

    __tablename__ = "data_requests"
    __table_args__ = (Index("ix_data_requests_district_status", "district_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    requester_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: The role the requester acted in (partner_staff, researcher, agency_analyst, ...).
    requester_role: Mapped[str] = mapped_column(String(40))
    #: ``partner``, ``research``, ``agency``, ``media``, ``public_records``, ``vendor``, ``other``.
    requester_kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="draft")
    #: Triage's answer (``steward.workflow.requests.triage.Path``) and its message to the requester.
    path: Mapped[str | None] = mapped_column(String(32), nullable=True)
    path_note: Mapped[str] = mapped_column(Text, default="")

    title: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    #: ``aggregate``, ``deidentified`` or ``identifiable``.
    level: Mapped[str] = mapped_column(String(20), default="aggregate")
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``dataset.element`` names.
    elements: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Justification per sensitive element, keyed by ``dataset.element``.
    justifications: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    school_years: Mapped[list[int]] = mapped_column(JSON, default=list)
    population: Mapped[str] = mapped_column(Text, default="")
    names_students: Mapped[bool] = mapped_column(Boolean, default=False)
    #: District or state student IDs as the requester gave them.
    student_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    timeline: Mapped[str] = mapped_column(Text, default="")
    needed_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    security_plan: Mapped[str] = mapped_column(Text, default="")
    #: Everyone who will have access, one entry per person.
    access_list: Mapped[list[str]] = mapped_column(JSON, default=list)
    destruction_method: Mapped[str] = mapped_column(Text, default="")

    #: ``panel`` (the next cycle) or ``analyst`` (routine partner requests).
    review_route: Mapped[str | None] = mapped_column(String(16), nullable=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("review_cycles.id"), nullable=True, index=True)
    assignee_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    decision_reasons: Mapped[str] = mapped_column(Text, default="")

    #: Fee estimate (tenant schedule: base + per hour + per thousand rows); ``fee_status`` is
    #: ``none``, ``estimated``, ``accepted``, ``declined`` or ``waived``.
    fee_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    fee_rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee_status: Mapped[str] = mapped_column(String(16), default="none")
    fee_accepted_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    fee_accepted_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)

    sla_target_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    #: The delivery package and destruction task (``steward.delivery``) of the fulfilment.
    package_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    destruction_task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class RequestStudent(Base):
    """A student the request names, matched from the IDs the requester gave."""

    __tablename__ = "request_students"
    request_id: Mapped[int] = mapped_column(
        ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), primary_key=True)


class RequestMessage(Base):
    """A question from the district, the requester's answer, or a comment."""

    __tablename__ = "request_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    #: ``question``, ``answer``, ``comment`` or ``decision``.
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class RequestAgreement(Base):
    """An agreement a request relies on or led to (research approval, NDA/DSA)."""

    __tablename__ = "request_agreements"
    request_id: Mapped[int] = mapped_column(
        ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True
    )
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), primary_key=True, index=True)


class ReviewVote(Base):
    """A panel member's vote and comment on a request in one cycle (a new vote replaces the old one;
    the history keeps both)."""

    __tablename__ = "review_votes"
    __table_args__ = (UniqueConstraint("request_id", "cycle_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("review_cycles.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    #: ``approve``, ``changes``, ``deny`` or ``abstain``.
    vote: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class SlaPause(Base):
    """An interval during which the SLA clock stood still (waiting on the requester or the panel)."""

    __tablename__ = "sla_pauses"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(Instant())
    ended_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    reason: Mapped[str] = mapped_column(String(64), default="")
