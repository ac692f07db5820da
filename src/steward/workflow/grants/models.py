"""A principal's designee for grants (SPS: "principals or designees submit the student lists" of an
Institutional Service partner): a staff member of the same school, named by the principal for a
period, who may then grant and revoke that school's IS grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc
from steward.store.models import ValidityMixin


class GrantDesignee(ValidityMixin, Base):
    """``person_id`` may grant for ``school_id`` on ``[valid_from, valid_to)`` (ended early when the
    designation is withdrawn); the person must also still hold a role at the school."""

    __tablename__ = "grant_designees"
    __table_args__ = (Index("ix_grant_designees_school_person", "school_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    designated_by_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    ended_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    ended_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
