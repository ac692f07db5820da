"""Canonical encoding of audit events and the SHA-256 chain over them (pure, no I/O).

An event is stored as one canonical JSON text (``body``: sorted keys, no spaces, UTF-8, no NaN).
That text is the authority: the database derives its query columns from it (generated columns), and
the chain hashes it verbatim, ``hash_n = sha256(hash_{n-1} || body_n)`` with ``hash_0`` a per-chain
genesis value. Verifying therefore needs no re-encoding and no JSON parsing, only one hash per event.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

FORMAT_VERSION = 1
GENESIS_PREFIX = "steward-audit/v1 genesis "
CHECKPOINT_PREFIX = "steward-audit-checkpoint/v1"
GLOBAL_CHAIN = "global"

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.:/@+-]*$")


class EncodingError(ValueError):
    """An event that cannot be encoded canonically (bad action name, non-JSON detail...)."""


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)
    raise EncodingError(f"audit details cannot hold a {type(value).__name__}: {value!r}")


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_jsonable
)


def canonical_json(value: object) -> str:
    """Deterministic JSON text: sorted keys, no whitespace, UTF-8, dates as ISO strings."""
    try:
        return _ENCODER.encode(value)
    except ValueError as exc:  # NaN / infinity
        raise EncodingError(f"audit details must be finite JSON values: {exc}") from exc


def format_instant(instant: datetime) -> str:
    """Fixed-width UTC text (``2026-11-22T10:32:45.910920Z``), so text order is time order."""
    if instant.tzinfo is None:
        raise EncodingError(f"naive datetime {instant!r} given where a UTC instant is required")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def genesis_hash(chain_key: str) -> str:
    """The hash an empty chain starts from; chain-specific, so events cannot be spliced across chains."""
    return hashlib.sha256((GENESIS_PREFIX + chain_key).encode()).hexdigest()


def chain_hash(prev_hash: str, body: str) -> str:
    """``sha256(prev_hash_hex || body)`` as lowercase hex."""
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def district_chain_key(district_id: int | None) -> str:
    """Events about one district's data go to that district's chain; the rest to the global chain."""
    return GLOBAL_CHAIN if district_id is None else f"district:{district_id}"


@dataclass(frozen=True, slots=True)
class EventActor:
    """Who acted: a person in a role at an organization, or the system itself (all None)."""

    person_id: int | None = None
    role: str | None = None
    org_id: int | None = None


SYSTEM = EventActor()


@dataclass(frozen=True, slots=True)
class EventSpec:
    """What a caller appends; the log adds chain, sequence number, time and hash."""

    action: str
    district_id: int | None = None
    actor: EventActor = SYSTEM
    subject_type: str | None = None
    subjects: Sequence[str | int] = ()
    basis: str | None = None
    citation: str | None = None
    evidence: Sequence[str] = ()
    request_id: str | None = None
    outcome: str = "ok"
    details: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None

    def validate(self) -> None:
        if not _ACTION.match(self.action) or len(self.action) > 64:
            raise EncodingError(f"audit action {self.action!r} must be dotted lower-case words (<= 64)")
        for name, value in (
            ("outcome", self.outcome),
            ("subject_type", self.subject_type),
            ("basis", self.basis),
            ("actor role", self.actor.role),
            ("request id", self.request_id),
        ):
            if value is not None and (len(value) > 64 or not _TOKEN.match(value)):
                raise EncodingError(f"audit {name} {value!r} must be a short token without spaces")


def encode_body(spec: EventSpec, chain_key: str, seq: int, at: datetime) -> str:
    """The canonical body of one event (the text that is stored and hashed).

    Absent facts (None, empty lists, empty details) are left out, which keeps bodies short and so
    verification fast; readers treat a missing key as null.
    """
    spec.validate()
    fields = {
        "v": FORMAT_VERSION,
        "chain": chain_key,
        "seq": seq,
        "at": format_instant(at),
        "action": spec.action,
        "district": spec.district_id,
        "actor_person": spec.actor.person_id,
        "actor_role": spec.actor.role,
        "actor_org": spec.actor.org_id,
        "subject_type": spec.subject_type,
        "subjects": [str(s) for s in spec.subjects],
        "basis": spec.basis,
        "citation": spec.citation,
        "evidence": list(spec.evidence),
        "request": spec.request_id,
        "outcome": spec.outcome,
        "details": dict(spec.details),
    }
    return canonical_json({k: v for k, v in fields.items() if v is not None and v != [] and v != {}})


def checkpoint_message(chain_key: str, seq: int, event_hash: str, signed_at: str) -> bytes:
    """The exact bytes an Ed25519 checkpoint signature covers."""
    return f"{CHECKPOINT_PREFIX}\n{chain_key}\n{seq}\n{event_hash}\n{signed_at}\n".encode()
