"""Tables of delivery: recipients' public keys, packages and their shreddable keys, download links,
and destruction tasks with their certificates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class RecipientKey(Base):
    """A recipient organization's public key: ``age`` (X25519, encryption only) or ``ssh``
    (ssh-ed25519 or ssh-rsa: encryption with age, and SFTP login)."""

    __tablename__ = "delivery_recipient_keys"
    __table_args__ = (UniqueConstraint("organization_id", "fingerprint"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    public_key: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    revoked_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class Package(Base):
    """An age-encrypted package for one recipient; ``status`` is ``available`` or ``shredded``."""

    __tablename__ = "delivery_packages"
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), nullable=True, index=True)
    request_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    basis: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(500), default="")
    datasets: Mapped[list[str]] = mapped_column(default=list)
    file_name: Mapped[str] = mapped_column(String(220))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    student_count: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(BigInteger)
    destroy_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="available")
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    shredded_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    last_downloaded_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class PackageKey(Base):
    """Steward's own age identity for one package; deleting it crypto-shreds Steward's copies."""

    __tablename__ = "delivery_package_keys"
    package_id: Mapped[int] = mapped_column(ForeignKey("delivery_packages.id"), primary_key=True)
    identity: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class DownloadLink(Base):
    """An expiring, revocable, single-use link; only the SHA-256 of its token is stored."""

    __tablename__ = "delivery_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("delivery_packages.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(Instant())
    used_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)


class DestructionTask(Base):
    """The recipient's duty to destroy what it received under an agreement, by ``due_at``."""

    __tablename__ = "delivery_destruction_tasks"
    __table_args__ = (UniqueConstraint("agreement_id", "recipient_org_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    opened_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    due_at: Mapped[datetime] = mapped_column(Instant())
    status: Mapped[str] = mapped_column(String(16), default="open")
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    last_escalated_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    certified_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    certificate_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    certificate_file: Mapped[str | None] = mapped_column(String(300), nullable=True)
    certificate_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signer_title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    destroyed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    certified_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
