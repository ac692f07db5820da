"""Appending to the audit log inside the caller's transaction.

The event commits or rolls back with the action it records, because it is written through the
caller's ``Session``. Appends to one chain are serialized by first updating that chain's head row:
on PostgreSQL the UPDATE takes the row lock until commit; on SQLite it takes the database write
lock. The reserved sequence numbers are therefore contiguous and the chain never forks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, update
from sqlalchemy.orm import Session

from steward.audit.encoding import EventSpec, chain_hash, district_chain_key, encode_body, genesis_hash
from steward.audit.models import AuditChain, AuditEvent
from steward.store.base import now_utc
from steward.store.upsert import upsert

_EVENTS = cast(Table, AuditEvent.__table__)
COPY_THRESHOLD = 64


@dataclass(frozen=True, slots=True)
class Appended:
    """Where an event landed: its row id, chain, sequence number and hash."""

    id: int
    chain_key: str
    seq: int
    hash: str
    occurred_at: datetime


def append(db: Session, spec: EventSpec) -> Appended:
    """Append one event in ``db``'s transaction."""
    return append_many(db, [spec])[0]


def append_many(db: Session, specs: Sequence[EventSpec]) -> list[Appended]:
    """Append events in order, one round trip per chain; results are in the order given.

    Chains are locked in sorted key order, so two transactions touching the same chains cannot
    deadlock each other.
    """
    now = now_utc()
    by_chain: dict[str, list[int]] = {}
    for index, spec in enumerate(specs):
        by_chain.setdefault(district_chain_key(spec.district_id), []).append(index)
    results: list[Appended | None] = [None] * len(specs)
    for key in sorted(by_chain):
        indexes = by_chain[key]
        chain_id, first_seq, prev = _reserve(db, key, specs[indexes[0]].district_id, len(indexes), now)
        rows: list[dict[str, object]] = []
        placed: list[tuple[int, int, str, datetime]] = []
        for offset, index in enumerate(indexes):
            spec = specs[index]
            at = spec.occurred_at or now
            seq = first_seq + offset
            body = encode_body(spec, key, seq, at)
            prev = chain_hash(prev, body)
            rows.append({"chain_id": chain_id, "body": body, "hash": prev})
            placed.append((index, seq, prev, at))
        ids = _insert(db, chain_id, first_seq, rows)
        for (index, seq, digest, at), event_id in zip(placed, ids, strict=True):
            results[index] = Appended(event_id, key, seq, digest, at)
        db.execute(
            update(AuditChain)
            .where(AuditChain.id == chain_id)
            .values(head_hash=prev)
            .execution_options(synchronize_session=False)
        )
    return [r for r in results if r is not None]


def _insert(db: Session, chain_id: int, first_seq: int, rows: list[dict[str, object]]) -> list[int]:
    """Insert one chain's new events; their ids in sequence order.

    Large batches on PostgreSQL go through COPY (several times faster than a multi-row INSERT) in
    the session's own transaction; the ids are then read back by sequence number.
    """
    if len(rows) >= COPY_THRESHOLD and db.get_bind().dialect.name == "postgresql":
        driver = db.connection().connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            with cursor.copy("COPY audit_events (chain_id, body, hash) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((chain_id, row["body"], row["hash"]))
            cursor.execute(
                "SELECT id FROM audit_events WHERE chain_id = %s AND seq BETWEEN %s AND %s ORDER BY seq",
                (chain_id, first_seq, first_seq + len(rows) - 1),
            )
            return [int(r[0]) for r in cursor.fetchall()]
    return list(
        db.execute(insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True), rows).scalars()
    )


def _reserve(
    db: Session, key: str, district_id: int | None, count: int, now: datetime
) -> tuple[int, int, str]:
    """Lock the chain head and reserve ``count`` sequence numbers: (chain id, first seq, head hash)."""
    stmt = (
        update(AuditChain)
        .where(AuditChain.key == key)
        .values(head_seq=AuditChain.head_seq + count, updated_at=now)
        .returning(AuditChain.id, AuditChain.head_seq, AuditChain.head_hash)
        .execution_options(synchronize_session=False)
    )
    row = db.execute(stmt).one_or_none()
    if row is None:
        upsert(
            db,
            AuditChain,
            [
                {
                    "key": key,
                    "district_id": district_id,
                    "head_seq": 0,
                    "head_hash": genesis_hash(key),
                    "updated_at": now,
                }
            ],
            conflict=["key"],
        )
        row = db.execute(stmt).one()
    chain_id, head_seq, head_hash = row
    return int(chain_id), int(head_seq) - count + 1, str(head_hash)
