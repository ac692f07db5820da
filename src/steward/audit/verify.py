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
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from steward.audit.encoding import checkpoint_message, format_instant, genesis_hash
from steward.audit.keys import load_public_pem, verify_signature
from steward.audit.models import AuditEvent, AuditSigningKey, DisclosureEntry
from steward.store.db import make_engine

BATCH = 20_000
#: Rows per fetch of the hash scan: small batches stay in the CPU cache (20,000 rows of ~400-byte
#: bodies do not), which made the scan about 15% faster than fetching 20,000 rows at a time.
SCAN_BATCH = 1_000


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

    def stream(
        self, text: str, params: tuple[Any, ...] = (), batch: int = BATCH, binary: bool = False
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in lists of ``batch``; ``binary`` (PostgreSQL) asks for binary results (bytea as bytes)."""
        if self.dialect == "postgresql":
            cur = self.conn.cursor(name="steward_audit_verify", binary=binary)
            cur.itersize = batch
        else:
            cur = self.conn.cursor()
        try:
            cur.execute(self.sql(text), params)
            while rows := cur.fetchmany(batch):
                yield rows
        finally:
            cur.close()

    def utf8_body(self) -> str:
        """SQL for ``body`` as its UTF-8 bytes, so the scan hashes it without decoding and re-encoding."""
        if self.dialect == "postgresql":
            return "convert_to(body, 'UTF8')"
        encoding = self.all("PRAGMA encoding")[0][0]
        return "CAST(body AS BLOB)" if str(encoding).upper() == "UTF-8" else "body"

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
    jobs: int | None = None,
    min_per_job: int = 100_000,
    in_database: bool = False,
) -> Report:
    """Check every chain (from event ``from_id`` on, if given) and, optionally, the ledger.

    ``keys`` are trusted public keys by fingerprint (an auditor's exported copies); by default the
    keys registered in the database are used. Chains longer than ``2 * min_per_job`` events are
    split over ``jobs`` worker processes (default: the CPU count, at most 4). ``in_database``
    (PostgreSQL only) lets the server recompute the hashes with its own SHA-256 in one pass, and
    falls back to the scan here to name the first broken event; it trusts the database server.
    """
    started = time.perf_counter()
    report = Report()
    if keys is None:
        with Session(engine) as db:
            keys = {
                r.fingerprint: load_public_pem(r.public_key_pem) for r in db.scalars(select(AuditSigningKey))
            }
    jobs = jobs if jobs is not None else min(os.cpu_count() or 1, 4)
    url = engine.url.render_as_string(hide_password=False)
    pool = _Pool(url, jobs, min_per_job) if jobs > 1 and ":memory:" not in url else None
    try:
        with _reader(engine) as reader:
            chains = reader.all("SELECT id, key, head_seq, head_hash FROM audit_chains ORDER BY key")
            for chain_id, key, head_seq, head_hash in chains:
                result = _verify_chain(
                    reader,
                    int(chain_id),
                    str(key),
                    int(head_seq),
                    str(head_hash),
                    from_id,
                    keys,
                    progress,
                    pool,
                    in_database and reader.dialect == "postgresql",
                )
                report.chains.append(result)
            if ledger:
                report.ledger_entries, report.ledger_problem = _verify_ledger(reader, engine, from_id)
    finally:
        if pool is not None:
            pool.close()
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
    pool: _Pool | None,
    in_database: bool = False,
) -> ChainResult:
    result = ChainResult(key)
    start_seq = 1
    if from_id is not None:
        first = reader.all(
            "SELECT min(seq) FROM audit_events WHERE chain_id = ? AND id >= ?", (chain_id, from_id)
        )
        if first[0][0] is None:
            return result
        start_seq = int(first[0][0])

    checkpoints: dict[int, str] = {}
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
        checkpoints[int(seq)] = str(event_hash)

    segments = _split(chain_id, key, start_seq, head_seq, checkpoints, None if in_database else pool)
    if len(segments) == 1:
        fast = _scan_in_database(reader, segments[0]) if in_database else None
        if fast is not None and progress is not None:
            progress(fast.events)
        scans = [fast if fast is not None else _scan(reader, segments[0], progress)]
    else:
        assert pool is not None
        scans = pool.run(segments, progress)
        beyond = reader.all(
            "SELECT min(seq) FROM audit_events WHERE chain_id = ? AND seq > ?", (chain_id, head_seq)
        )[0][0]
        if beyond is not None and scans[-1].problem is None:
            scans[-1].last_seq = int(beyond)  # reported below as lying beyond the head
    result.events = sum(s.events for s in scans)
    problems = [s.problem for s in scans if s.problem is not None]
    problem = min(problems, key=lambda p: p.seq if p.seq is not None else 1 << 62) if problems else None
    last = scans[-1]
    result.last_seq = last.last_seq if problem is None else (problem.seq or 1) - 1
    result.checkpoints = sum(1 for s in checkpoints if s <= result.last_seq)
    if problem is None:
        beyond_cp = [s for s in checkpoints if s > last.last_seq]
        if beyond_cp:
            problem = Problem(
                key,
                "missing",
                f"the signed checkpoint at seq {min(beyond_cp)} refers to a missing event (log truncated?)",
                seq=min(beyond_cp),
            )
        elif last.last_seq > head_seq:
            problem = Problem(
                key,
                "missing",
                f"event seq {head_seq + 1} lies beyond the chain head {head_seq}",
                seq=head_seq + 1,
            )
        elif last.last_seq < head_seq:
            problem = Problem(
                key,
                "missing",
                f"the chain head says seq {head_seq} but the last event is seq {last.last_seq} "
                "(events deleted?)",
                seq=last.last_seq + 1,
            )
        elif last.last_seq >= start_seq and last.last_hash != head_hash:
            problem = Problem(
                key, "changed", "the chain head's hash differs from the last event's", seq=last.last_seq
            )
    result.problem = problem
    return result


@dataclass(frozen=True, slots=True)
class _Segment:
    """Events ``lo..hi`` (inclusive; ``hi`` None: to the end) of one chain, with its checkpoints."""

    chain_id: int
    key: str
    lo: int
    hi: int | None
    checkpoints: dict[int, str]


@dataclass(slots=True)
class _Scan:
    events: int
    last_seq: int
    last_hash: str
    problem: Problem | None


def _split(
    chain_id: int, key: str, lo: int, head_seq: int, checkpoints: dict[int, str], pool: _Pool | None
) -> list[_Segment]:
    total = head_seq - lo + 1
    if pool is None or total < 2 * pool.min_per_job:
        return [_Segment(chain_id, key, lo, None, checkpoints)]
    parts = min(pool.jobs, total // pool.min_per_job)
    size = -(-total // parts)
    segments = []
    for start in range(lo, head_seq + 1, size):
        hi = min(start + size - 1, head_seq)
        segments.append(
            _Segment(chain_id, key, start, hi, {s: h for s, h in checkpoints.items() if start <= s <= hi})
        )
    return segments


def _scan(reader: _Reader, segment: _Segment, progress: Callable[[int], None] | None) -> _Scan:
    """Recompute one segment: contiguous sequence, increasing ids, hashes and checkpoints."""
    key, lo = segment.key, segment.lo
    if lo == 1:
        prev, last_id = genesis_hash(key), -1
    else:
        before = reader.all(
            "SELECT id, hash FROM audit_events WHERE chain_id = ? AND seq = ?", (segment.chain_id, lo - 1)
        )
        if not before:
            return _Scan(0, lo - 1, "", _missing(reader, segment, lo - 1))
        last_id, prev = int(before[0][0]), str(before[0][1])
    if reader.dialect == "sqlite":
        fast = _scan_in_row_order(reader, segment, prev, last_id, progress)
        if fast is not None:
            return fast
        progress = None  # the fast pass has counted its events; this pass names the problem
    checkpoints = segment.checkpoints
    sha256 = hashlib.sha256
    expected = lo
    problem: Problem | None = None
    # The body comes as its UTF-8 bytes and the previous hash as ASCII bytes: one concatenation and
    # one SHA-256 per event, the same bytes as ``encoding.chain_hash``.
    body_sql = reader.utf8_body()
    query = f"SELECT id, seq, {body_sql}, hash FROM audit_events WHERE chain_id = ? AND seq >= ?"
    params: tuple[int, ...] = (segment.chain_id, lo)
    if segment.hi is not None:
        query += " AND seq <= ?"
        params += (segment.hi,)
    batches = reader.stream(query + " ORDER BY seq", params, batch=SCAN_BATCH, binary=True)
    if body_sql == "body":  # an SQLite database in UTF-16: encode here
        batches = ([(i, s, b.encode(), h) for i, s, b, h in rows] for rows in batches)
    prev_bytes = prev.encode()
    for rows in batches:
        for event_id, seq, body, digest in rows:
            if seq != expected:
                problem = (
                    _missing(reader, segment, expected)
                    if seq > expected
                    else Problem(key, "missing", f"sequence number {seq} repeats", event_id, seq)
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
            if sha256(prev_bytes + body).hexdigest() != digest:
                problem = Problem(
                    key,
                    "changed",
                    "hash does not match: the event or the one before it was changed",
                    event_id,
                    seq,
                )
                break
            if seq in checkpoints and checkpoints[seq] != digest:
                problem = Problem(
                    key,
                    "checkpoint",
                    "does not match the signed checkpoint (chain rewritten?)",
                    event_id,
                    seq,
                )
                break
            prev = digest
            prev_bytes = digest.encode()
            last_id = event_id
            expected += 1
        if progress is not None:
            progress(len(rows))
        if problem is not None:
            break
    if problem is None and segment.hi is not None and expected <= segment.hi:
        problem = _missing(reader, segment, expected)
    return _Scan(expected - lo, expected - 1, prev, problem)


#: Below this share of the segment's row-id range holding its own events (other chains interleave),
#: walking the range costs more than following the (chain, seq) index.
MIN_ROW_ORDER_DENSITY = 0.5


def _scan_in_row_order(
    reader: _Reader, segment: _Segment, prev: str, last_id: int, progress: Callable[[int], None] | None
) -> _Scan | None:
    """SQLite: check a sound segment walking its row-id range; None when anything is off.

    Rows in id order whose sequence numbers run exactly ``lo``, ``lo + 1``, ... to the segment's
    last event, each hash matching, are what ``_scan`` accepts (ids rising with the sequence, no
    gap, no repeat), read without the index lookups and without fetching the id. Any deviation
    returns None, and ``_scan`` then walks the index to name the first broken event.
    """
    chain_id, lo = segment.chain_id, segment.lo
    body_sql = reader.utf8_body()
    if body_sql == "body":
        return None
    first = reader.all("SELECT id FROM audit_events WHERE chain_id = ? AND seq = ?", (chain_id, lo))
    last = reader.all(
        "SELECT id, seq FROM audit_events WHERE chain_id = ? AND seq >= ? AND seq <= ? "
        "ORDER BY seq DESC LIMIT 1",
        (chain_id, lo, segment.hi if segment.hi is not None else 1 << 62),
    )
    if not first or not last:
        return None
    first_id, (last_id_in_range, last_seq) = int(first[0][0]), (int(last[0][0]), int(last[0][1]))
    span = last_id_in_range - first_id + 1
    if first_id <= last_id or span < 1 or (last_seq - lo + 1) < MIN_ROW_ORDER_DENSITY * span:
        return None
    if segment.hi is not None and last_seq != segment.hi:
        return None
    checkpoints = segment.checkpoints
    sha256 = hashlib.sha256
    prev_bytes = prev.encode()
    expected = lo
    for rows in reader.stream(
        f"SELECT seq, {body_sql}, hash FROM audit_events NOT INDEXED "
        "WHERE id >= ? AND id <= ? AND chain_id = ? ORDER BY id",
        (first_id, last_id_in_range, chain_id),
        batch=SCAN_BATCH,
    ):
        for seq, body, digest in rows:
            if seq != expected or sha256(prev_bytes + body).hexdigest() != digest:
                return None
            if seq in checkpoints and checkpoints[seq] != digest:
                return None
            prev = digest
            prev_bytes = digest.encode()
            expected += 1
        if progress is not None:
            progress(len(rows))
    if expected - 1 != last_seq:
        return None
    return _Scan(expected - lo, last_seq, prev, None)


def _missing(reader: _Reader, segment: _Segment, first: int) -> Problem:
    """Events from seq ``first`` are missing: name the range and the next event still present."""
    after = reader.all(
        "SELECT id, seq FROM audit_events WHERE chain_id = ? AND seq > ? ORDER BY seq LIMIT 1",
        (segment.chain_id, first),
    )
    if not after:
        return Problem(
            segment.key, "missing", f"events from seq {first} on are missing (deleted?)", seq=first
        )
    event_id, seq = int(after[0][0]), int(after[0][1])
    return Problem(
        segment.key, "missing", f"events seq {first}..{seq - 1} are missing (deleted?)", event_id, first
    )


_IN_DATABASE = """
SELECT count(*), min(seq), max(seq), coalesce(sum(CASE WHEN ok THEN 0 ELSE 1 END), 0) FROM (
    SELECT seq,
           encode(sha256(convert_to(coalesce(lag(hash) OVER w, %s) || body, 'UTF8')), 'hex') = hash
           AND coalesce(lag(id) OVER w, %s) < id
           AND seq - coalesce(lag(seq) OVER w, %s) = 1 AS ok
    FROM audit_events WHERE chain_id = %s AND seq >= %s
    WINDOW w AS (ORDER BY seq)
) AS checked
"""


def _scan_in_database(reader: _Reader, segment: _Segment) -> _Scan | None:
    """PostgreSQL recomputes the segment's chain in one statement; None when anything is off."""
    lo = segment.lo
    if lo == 1:
        prev, last_id = genesis_hash(segment.key), -1
    else:
        before = reader.all(
            "SELECT id, hash FROM audit_events WHERE chain_id = ? AND seq = ?", (segment.chain_id, lo - 1)
        )
        if not before:
            return None
        last_id, prev = int(before[0][0]), str(before[0][1])
    count, first, last, bad = reader.all(_IN_DATABASE, (prev, last_id, lo - 1, segment.chain_id, lo))[0]
    if bad or (count and first != lo):
        return None
    if not count:
        return _Scan(0, lo - 1, prev, None)
    wanted = [*sorted(segment.checkpoints), int(last)]
    stored = dict(
        iter(
            reader.all(
                "SELECT seq, hash FROM audit_events WHERE chain_id = %s AND seq = ANY(%s)",
                (segment.chain_id, wanted),
            )
        )
    )
    if any(stored.get(seq) != digest for seq, digest in segment.checkpoints.items()):
        return None
    return _Scan(int(count), int(last), str(stored[int(last)]), None)


def _scan_in_worker(url: str, segment: _Segment) -> _Scan:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with _reader(engine) as reader:
            return _scan(reader, segment, None)
    finally:
        engine.dispose()


class _Pool:
    """Worker processes for long chains: segments are anchored on the stored hash before them."""

    def __init__(self, url: str, jobs: int, min_per_job: int) -> None:
        self.url = url
        self.jobs = jobs
        self.min_per_job = min_per_job
        self._executor: ProcessPoolExecutor | None = None

    def run(self, segments: list[_Segment], progress: Callable[[int], None] | None) -> list[_Scan]:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"))
        futures = [self._executor.submit(_scan_in_worker, self.url, s) for s in segments]
        scans = []
        for future in futures:
            scan = future.result()
            if progress is not None:
                progress(scan.events)
            scans.append(scan)
        return scans

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()


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
    """Every ledger line matches its disclosure event, and every disclosed student has a line.

    A merge of the disclosure events and the ledger lines, both in event order, so memory stays
    flat however long the ledger is.
    """
    lower = from_id or 0
    # The ledger is read in its own session: bound it by the snapshot's last event.
    upper = int(reader.all("SELECT coalesce(max(id), 0) FROM audit_events")[0][0])

    def disclosure_events() -> Iterator[tuple[int, dict[str, Any]]]:
        for rows in reader.stream(
            "SELECT id, body FROM audit_events WHERE action IN ('disclosure', 'disclosure.request') "
            "AND id >= ? AND id <= ? ORDER BY id",
            (lower, upper),
        ):
            for event_id, body in rows:
                yield int(event_id), json.loads(body)

    def unrecorded(event_id: int, event: dict[str, Any], seen: set[str]) -> Problem | None:
        missing = set(event.get("subjects", [])) - seen
        if not missing:
            return None
        return Problem(
            "ledger",
            "ledger",
            f"students {', '.join(sorted(missing))} were disclosed but their ledger entries are missing",
            event_id,
        )

    events = disclosure_events()
    current: tuple[int, dict[str, Any]] | None = next(events, None)
    seen: set[str] = set()
    count = 0
    with Session(engine) as db:
        for entry in db.scalars(
            select(DisclosureEntry)
            .where(DisclosureEntry.event_id >= lower, DisclosureEntry.event_id <= upper)
            .order_by(DisclosureEntry.event_id, DisclosureEntry.id)
            .execution_options(yield_per=BATCH)
        ):
            count += 1
            while current is not None and current[0] < entry.event_id:
                problem = unrecorded(current[0], current[1], seen)
                if problem is not None:
                    return count, problem
                current, seen = next(events, None), set()
            event: dict[str, Any] | None = None
            if current is not None and current[0] == entry.event_id:
                event = current[1]
                seen.add(str(entry.student_id))
            else:
                # Committed after the snapshot was taken (ids are not commit-ordered): read it now.
                late = db.get(AuditEvent, entry.event_id)
                if late is not None and late.action in ("disclosure", "disclosure.request"):
                    event = json.loads(late.body)
            label = f"ledger entry {entry.id} (student {entry.student_id})"
            if event is None:
                return count, Problem("ledger", "ledger", f"{label} has no disclosure event {entry.event_id}")
            mismatched = _ledger_mismatches(entry, event)
            if mismatched:
                return count, Problem(
                    "ledger",
                    "ledger",
                    f"{label} disagrees with its audit event on {', '.join(mismatched)}",
                    entry.event_id,
                )
    while current is not None:
        problem = unrecorded(current[0], current[1], seen)
        if problem is not None:
            return count, problem
        current, seen = next(events, None), set()
    return count, None


def _ledger_mismatches(entry: DisclosureEntry, event: dict[str, Any]) -> list[str]:
    details = event.get("details", {})
    view = ledger_view(entry)
    mismatched = {name for name in _LEDGER_FIELDS if details.get(name) != view[name]}
    if event.get("basis") != entry.basis:
        mismatched.add("basis")
    if event.get("citation") != entry.citation:
        mismatched.add("citation")
    if event.get("district") != entry.district_id:
        mismatched.add("district")
    if event["at"] != format_instant(entry.disclosed_at):
        mismatched.add("date")
    if str(entry.student_id) not in event.get("subjects", []):
        mismatched.add("student")
    return sorted(mismatched)
