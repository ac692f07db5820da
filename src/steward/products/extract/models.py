"""The research-ID crosswalk: one random 128-bit ID per (agreement, student), kept in the district.

The crosswalk never leaves the governance database: extracts carry only the research ID. Rows go
with their agreement (``ON DELETE CASCADE``) and are destroyed with it (``destroy_research_ids``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class ResearchId(Base):
    """Research ID of one district student under one agreement (``student_key`` is
    ``district_code:district_student_id``)."""

    __tablename__ = "research_ids"
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    student_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    rid: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


__all__ = ["ResearchId"]
