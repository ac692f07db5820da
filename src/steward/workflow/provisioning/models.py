"""Tables of vendor provisioning: one feed per school-official contract, its deliveries, and the
watermark of what the vendor last received (a keyed digest per OneRoster row, never the row).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class ProvisioningFeed(Base):
    """A vendor's OneRoster feed under one contract (``agreements`` row of kind ``contract``)."""

    __tablename__ = "provisioning_feeds"
    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), unique=True)
    vendor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    #: HMAC key of the row digests (hex); digests without it say nothing about the rows.
    digest_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    last_delivery_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class ProvisioningDelivery(Base):
    """One bulk or delta delivery of a feed (``package_id`` NULL: nothing had changed)."""

    __tablename__ = "provisioning_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("provisioning_feeds.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_packages.id"), nullable=True)
    #: Rows added, changed and deleted per OneRoster file, and students included.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class ProvisioningRow(Base):
    """The digest of one OneRoster row as the vendor last received it."""

    __tablename__ = "provisioning_rows"
    feed_id: Mapped[int] = mapped_column(
        ForeignKey("provisioning_feeds.id", ondelete="CASCADE"), primary_key=True
    )
    file: Mapped[str] = mapped_column(String(32), primary_key=True)
    sourced_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))
    #: The student the row is about (NULL for orgs, sessions, courses, classes, staff).
    student_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


__all__ = ["ProvisioningDelivery", "ProvisioningFeed", "ProvisioningRow"]
