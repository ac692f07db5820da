"""In-app notifications, each also an e-mail in an outbox (sent after the transaction commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_email_status", "email_status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    #: ``request.submitted``, ``request.question``, ``agreement.to_sign``, ``destruction.due``...
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: A path in Steward (``/requests/DR-...``).
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    read_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    email_to: Mapped[str] = mapped_column(String(254), default="")
    #: ``pending``, ``sent``, ``failed`` (gave up), ``skipped`` (no address or no SMTP server).
    email_status: Mapped[str] = mapped_column(String(16), default="pending")
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    emailed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    email_error: Mapped[str] = mapped_column(Text, default="")
    #: Sweeps notify once per fact: a second notice with the same key is not created.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
