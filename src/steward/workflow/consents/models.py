"""A partner's bulk consent upload: one accepted student list (the consents it created point here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class ConsentUpload(Base):
    """An accepted upload; the same file from the same organization is recognised by its SHA-256."""

    __tablename__ = "consent_uploads"
    __table_args__ = (UniqueConstraint("organization_id", "district_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    uploaded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    school_year: Mapped[int] = mapped_column(Integer)
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text, default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    already_on_file: Mapped[int] = mapped_column(Integer, default=0)
    #: The scanned forms: ``[{"name": ..., "sha256": ..., "stored": ...}]``.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
