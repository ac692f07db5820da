"""Tables of the audit log and the 99.32 disclosure ledger.

``audit_events.body`` (canonical JSON, see ``steward.audit.encoding``) is the only authority of an
event: every other event column except ``chain_id`` is a generated column the database derives from
the body, so no query column can be changed without changing the hashed text. Events, checkpoints
and ledger entries are append-only (database triggers, migration 0003).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import TypeEngine

from steward.store.base import Base, Instant, now_utc

#: 64-bit ids on PostgreSQL; SQLite needs INTEGER for its rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class BodyField(ColumnElement[Any]):
    """SQL that reads one top-level key of ``body`` (a generated-column expression per dialect)."""

    inherit_cache = True

    def __init__(self, key: str, sql_type: TypeEngine[Any], pg_cast: str | None = None) -> None:
        self.json_key = key
        self.type = sql_type
        self.pg_cast = pg_cast


@compiles(BodyField, "sqlite")
def _body_field_sqlite(element: BodyField, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract(body, '$.{element.json_key}')"


@compiles(BodyField, "postgresql")
def _body_field_pg(element: BodyField, compiler: SQLCompiler, **kw: Any) -> str:
    text = f"(body::json ->> '{element.json_key}')"
    return f"{text}::{element.pg_cast}" if element.pg_cast else text


def _generated(key: str, sql_type: TypeEngine[Any], pg_cast: str | None = None) -> Computed:
    return Computed(BodyField(key, sql_type, pg_cast), persisted=True)


class AuditChain(Base):
    """The head of one hash chain (one per district, plus ``global``); locked while appending."""

    __tablename__ = "audit_chains"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    head_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class AuditEvent(Base):
    """One event; ``hash = sha256(previous hash || body)``."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain_id", "seq"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_action", "action"),
        Index("ix_audit_events_actor_person_id", "actor_person_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chain_id: Mapped[int] = mapped_column(ForeignKey("audit_chains.id"))
    body: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger, _generated("seq", BigInteger(), "bigint"))
    occurred_at: Mapped[str] = mapped_column(String(27), _generated("at", String(27)))
    action: Mapped[str] = mapped_column(String(64), _generated("action", String(64)))
    actor_person_id: Mapped[int | None] = mapped_column(
        Integer, _generated("actor_person", Integer(), "integer")
    )
    actor_org_id: Mapped[int | None] = mapped_column(Integer, _generated("actor_org", Integer(), "integer"))
    outcome: Mapped[str] = mapped_column(String(64), _generated("outcome", String(64)))


class AuditSigningKey(Base):
    """A district's (or the hub's) Ed25519 public key; the private key lives in the data directory."""

    __tablename__ = "audit_signing_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True, index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class AuditCheckpoint(Base):
    """A signed statement "chain C had event seq N with hash H" (see ``encoding.checkpoint_message``)."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (UniqueConstraint("chain_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(ForeignKey("audit_chains.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    event_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(27))
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


class DisclosureEntry(Base):
    """One student's line in the record of disclosures (34 CFR 99.32), tied to its audit event.

    ``record_required`` is False for the bases 99.32(d) exempts (parent, school official, consent,
    directory information, de-identified); those lines are kept and shown, labelled as such.
    ``agreement_id``, ``request_ref`` and ``delivery_id`` point into the workflow and delivery
    modules by value (no foreign key) so that the ledger outlives any of them.
    """

    __tablename__ = "disclosure_ledger"
    __table_args__ = (
        Index("ix_disclosure_ledger_student", "student_id", "disclosed_at"),
        Index("ix_disclosure_ledger_recipient", "recipient_org_id", "disclosed_at"),
        Index("ix_disclosure_ledger_agreement", "agreement_id"),
        Index("ix_disclosure_ledger_district", "district_id", "disclosed_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("audit_events.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    kind: Mapped[str] = mapped_column(String(16), default="disclosure")
    disclosed_at: Mapped[datetime] = mapped_column(Instant())
    recipient_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    recipient_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    recipient_name: Mapped[str] = mapped_column(String(250), default="")
    recipient_org_name: Mapped[str] = mapped_column(String(250), default="")
    recipient_role: Mapped[str] = mapped_column(String(40), default="")
    basis: Mapped[str] = mapped_column(String(40))
    citation: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str] = mapped_column(String(500), default="")
    datasets: Mapped[list[str]] = mapped_column(default=list)
    request_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agreement_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delivery_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel: Mapped[str] = mapped_column(String(16), default="view")
    record_required: Mapped[bool] = mapped_column(Boolean)
