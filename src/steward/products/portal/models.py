"""Generations of the report package: who asked (or the night), for which organization, what went
out and where. The data itself is never kept here: a download is streamed, an SFTP delivery is a
``delivery_packages`` row whose file is encrypted to the recipient."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class PortalGeneration(Base):
    """One making of the package: ``kind`` on_demand or nightly, ``channel`` download or sftp,
    ``status`` delivered, empty (nobody to include) or skipped (with ``note``)."""

    __tablename__ = "portal_generations"
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(16), default="")
    #: The instant the decisions were taken at.
    decided_at: Mapped[datetime] = mapped_column(Instant())
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    student_count: Mapped[int] = mapped_column(Integer, default=0)
    datasets: Mapped[list[str]] = mapped_column(default=list)
    #: Rows per report key.
    reports: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: ``delivery_packages`` ids of an SFTP delivery.
    packages: Mapped[list[str]] = mapped_column(default=list)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    #: ``ORG:YYYY-MM-DD`` for the nightly run (one per organization and night), else NULL.
    nightly_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
