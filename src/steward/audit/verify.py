"""Recompute the hash chains, check the signed checkpoints and the disclosure ledger.

Reads the database through the driver (no ORM) inside one read snapshot, one hash per event, so a
log of millions of events verifies in seconds. Each chain reports its first broken event: a changed
event (hash mismatch), a missing one (sequence gap or truncated tail), rows out of order (ids not
increasing with the sequence), a checkpoint that no longer matches, or a ledger line that disagrees
with its audit event.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit.encoding import checkpoint_message, format_instant, genesis_hash
from steward.audit.keys import load_public_pem, verify_signature
from steward.audit.models import AuditEvent, AuditSigningKey, DisclosureEntry

BATCH = 20_000


@dataclass(frozen=True, slots=True)
class Problem:
    chain: str
    kind: str
    message: str
    event_id: int | None = None
    seq: int | None = None

    def describe(self) -> str:
        where = f"event {self.event_id}" if self.event_id is not None else "chain"
        if self.seq is not None:
            where += f" (seq {self.seq})"
        return f"{self.chain}: {where}: {self.message}"


@dataclass(slots=True)
class ChainResult:
    chain: str
    events: int = 0
    last_seq: int = 0
    checkpoints: int = 0
    problem: Problem | None = None


@dataclass(slots=True)
class Report:
    chains: list[ChainResult] = field(default_factory=list)
    ledger_entries: int = 0
    ledger_problem: Problem | None = None
    seconds: float = 0.0

    @property
    def problems(self) -> list[Problem]:
        found = [c.problem for c in self.chains if c.problem is not None]
        if self.ledger_problem is not None:
            found.append(self.ledger_problem)
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def events(self) -> int:
        return sum(c.events for c in self.chains)


class _Reader:
    """Driver-level access inside one read-only snapshot, for SQLite and PostgreSQL alike."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect.name
        self._proxy = engine.raw_connection()
        conn = self._proxy.driver_connection
        assert conn is not None
        self.conn: Any = conn
        if self.dialect == "postgresql":
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            self.conn.execute("BEGIN")

    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.dialect == "postgresql" else text

    def all(self, text: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(self.sql(text), params)
            return list(cur.fetchall())
        finally:
            cur.close()

    def stream(self, text: str, params: tuple[Any, ...] = ()) -> Iterator[list[tuple[Any, ...]]]:
        if self.dialect == "postgresql":
            cur = self.conn.cursor(name="steward_audit_verify")
            cur.itersize = BATCH
        else:
            cur = self.conn.cursor()
        try:
            cur.execute(self.sql(text), params)
            while rows := cur.fetchmany(BATCH):
                yield rows
        finally:
            cur.close()

    def close(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self._proxy.close()


@contextmanager
def _reader(engine: Engine) -> Iterator[_Reader]:
    reader = _Reader(engine)
    try:
        yield reader
    finally:
        reader.close()


def verify(
    engine: Engine,
    from_id: int | None = None,
    keys: Mapping[str, Ed25519PublicKey] | None = None,
    ledger: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check every chain (from event ``from_id`` on, if given) and, optionally, the ledger.

    ``keys`` are trusted public keys by fingerprint (an auditor's exported copies); by default the
    keys registered in the database are used.
    """
    started = time.perf_counter()
    report = Report()
    if keys is None:
        with Session(engine) as db:
            keys = {
                r.fingerprint: load_public_pem(r.public_key_pem) for r in db.scalars(select(AuditSigningKey))
            }
    with _reader(engine) as reader:
        chains = reader.all("SELECT id, key, head_seq, head_hash FROM audit_chains ORDER BY key")
        for chain_id, key, head_seq, head_hash in chains:
            result = _verify_chain(
                reader, int(chain_id), str(key), int(head_seq), str(head_hash), from_id, keys, progress
            )
            report.chains.append(result)
        if ledger:
            report.ledger_entries, report.ledger_problem = _verify_ledger(reader, engine, from_id)
    report.seconds = time.perf_counter() - started
    return report


def _verify_chain(
    reader: _Reader,
    chain_id: int,
    key: str,
    head_seq: int,
    head_hash: str,
    from_id: int | None,
    keys: Mapping[str, Ed25519PublicKey],
    progress: Callable[[int], None] | None,
) -> ChainResult:
    result = ChainResult(key)
    start_seq = 1
    prev = genesis_hash(key)
    if from_id is not None:
        first = reader.all(
            "SELECT min(seq) FROM audit_events WHERE chain_id = ? AND id >= ?", (chain_id, from_id)
        )
        if first[0][0] is None:
            return result
        start_seq = int(first[0][0])
        if start_seq > 1:
            before = reader.all(
                "SELECT hash FROM audit_events WHERE chain_id = ? AND seq = ?", (chain_id, start_seq - 1)
            )
            if not before:
                result.problem = Problem(
                    key,
                    "missing",
                    f"event seq {start_seq - 1}, just before --from, is missing",
                    seq=start_seq,
                )
                return result
            prev = str(before[0][0])

    checkpoints: dict[int, tuple[str, str, str, str]] = {}
    for seq, event_hash, signed_at, fp, signature in reader.all(
        "SELECT seq, event_hash, signed_at, key_fingerprint, signature FROM audit_checkpoints "
        "WHERE chain_id = ? AND seq >= ? ORDER BY seq",
        (chain_id, start_seq),
    ):
        public_key = keys.get(str(fp))
        message = checkpoint_message(key, int(seq), str(event_hash), str(signed_at))
        if public_key is None or not verify_signature(public_key, str(signature), message):
            why = "signed with an unknown key" if public_key is None else "has a bad signature"
            result.problem = Problem(key, "checkpoint", f"the checkpoint at seq {seq} {why}", seq=int(seq))
            return result
        checkpoints[int(seq)] = (str(event_hash), str(signed_at), str(fp), str(signature))

    sha256 = hashlib.sha256
    expected = start_seq
    last_id = -1
    problem: Problem | None = None
    for rows in reader.stream(
        "SELECT id, seq, body, hash FROM audit_events WHERE chain_id = ? AND seq >= ? ORDER BY seq",
        (chain_id, start_seq),
    ):
        for event_id, seq, body, digest in rows:
            if seq != expected:
                problem = Problem(
                    key,
                    "missing",
                    f"events seq {expected}..{seq - 1} are missing (deleted?)"
                    if seq > expected
                    else f"sequence number {seq} repeats",
                    event_id,
                    seq,
                )
                break
            if event_id <= last_id:
                problem = Problem(
                    key,
                    "out_of_order",
                    f"rows are out of order: its id is above that of the next event, {event_id} (seq {seq})",
                    last_id,
                    seq - 1,
                )
                break
            if sha256((prev + body).encode()).hexdigest() != digest:
                problem = Problem(
                    key,
                    "changed",
                    "hash does not match: the event or the one before it was changed",
                    event_id,
                    seq,
                )
                break
            if seq in checkpoints and checkpoints[seq][0] != digest:
                problem = Problem(
                    key,
                    "checkpoint",
                    "does not match the signed checkpoint (chain rewritten?)",
                    event_id,
                    seq,
                )
                break
            prev = digest
            last_id = event_id
            expected += 1
        result.events = expected - start_seq
        if progress is not None:
            progress(len(rows))
        if problem is not None:
            break
    result.last_seq = expected - 1
    result.checkpoints = sum(1 for s in checkpoints if s <= result.last_seq)
    if problem is None:
        beyond = [s for s in checkpoints if s > result.last_seq]
        if beyond:
            problem = Problem(
                key,
                "missing",
                f"the signed checkpoint at seq {min(beyond)} refers to a missing event (log truncated?)",
                seq=min(beyond),
            )
        elif result.last_seq != head_seq or (result.last_seq >= start_seq and prev != head_hash):
            problem = Problem(
                key,
                "missing",
                f"the chain head says seq {head_seq} but the last event is seq {result.last_seq} "
                "(events deleted?)",
                seq=result.last_seq + 1,
            )
    result.problem = problem
    return result


_LEDGER_FIELDS = (
    "kind",
    "recipient_org",
    "recipient_person",
    "recipient_name",
    "recipient_org_name",
    "recipient_role",
    "purpose",
    "datasets",
    "agreement",
    "request_ref",
    "delivery",
    "channel",
    "record_required",
)


def ledger_view(entry: DisclosureEntry) -> dict[str, Any]:
    """A ledger line's fields as its audit event states them (see ``ledger.record_disclosure``)."""
    return {
        "kind": entry.kind,
        "recipient_org": entry.recipient_org_id,
        "recipient_person": entry.recipient_person_id,
        "recipient_name": entry.recipient_name,
        "recipient_org_name": entry.recipient_org_name,
        "recipient_role": entry.recipient_role,
        "purpose": entry.purpose,
        "datasets": list(entry.datasets),
        "agreement": entry.agreement_id,
        "request_ref": entry.request_ref,
        "delivery": entry.delivery_id,
        "channel": entry.channel,
        "record_required": entry.record_required,
    }


def _verify_ledger(reader: _Reader, engine: Engine, from_id: int | None) -> tuple[int, Problem | None]:
    """Every ledger line matches its disclosure event, and every disclosed student has a line."""
    lower = from_id or 0
    # The ledger is read in its own session: bound it by the snapshot's last event.
    upper = int(reader.all("SELECT coalesce(max(id), 0) FROM audit_events")[0][0])
    events: dict[int, dict[str, Any]] = {}
    for rows in reader.stream(
        "SELECT id, body FROM audit_events WHERE action IN ('disclosure', 'disclosure.request') "
        "AND id >= ? AND id <= ? ORDER BY id",
        (lower, upper),
    ):
        for event_id, body in rows:
            events[int(event_id)] = json.loads(body)
    seen: dict[int, set[str]] = {}
    count = 0
    with Session(engine) as db:
        for entry in db.scalars(
            select(DisclosureEntry)
            .where(DisclosureEntry.event_id >= lower, DisclosureEntry.event_id <= upper)
            .order_by(DisclosureEntry.id)
            .execution_options(yield_per=BATCH)
        ):
            count += 1
            event = events.get(entry.event_id)
            if event is None:
                # Committed after the snapshot was taken (ids are not commit-ordered): read it now.
                late = db.get(AuditEvent, entry.event_id)
                if late is not None and late.action in ("disclosure", "disclosure.request"):
                    event = events[entry.event_id] = json.loads(late.body)
            label = f"ledger entry {entry.id} (student {entry.student_id})"
            if event is None:
                return count, Problem("ledger", "ledger", f"{label} has no disclosure event {entry.event_id}")
            details = event["details"]
            mismatched = [name for name in _LEDGER_FIELDS if details.get(name) != ledger_view(entry)[name]]
            if event["basis"] != entry.basis:
                mismatched.append("basis")
            if event["citation"] != entry.citation:
                mismatched.append("citation")
            if event["district"] != entry.district_id:
                mismatched.append("district")
            if event["at"] != format_instant(entry.disclosed_at):
                mismatched.append("date")
            if str(entry.student_id) not in event["subjects"]:
                mismatched.append("student")
            if mismatched:
                return count, Problem(
                    "ledger",
                    "ledger",
                    f"{label} disagrees with its audit event on {', '.join(sorted(set(mismatched)))}",
                    entry.event_id,
                )
            seen.setdefault(entry.event_id, set()).add(str(entry.student_id))
    for event_id, event in events.items():
        missing = set(event["subjects"]) - seen.get(event_id, set())
        if missing:
            return count, Problem(
                "ledger",
                "ledger",
                f"students {', '.join(sorted(missing))} were disclosed but their ledger entries are missing",
                event_id,
            )
    return count, None
