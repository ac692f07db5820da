"""Signed checkpoints and the district keys that sign them."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit import EventSpec, append_many
from steward.audit.checkpoints import ChainBrokenError, checkpoint_all
from steward.audit.encoding import chain_hash
from steward.audit.keys import (
    SigningKeyError,
    export_public_key,
    key_file,
    load_exported_keys,
    load_or_create_private_key,
)
from steward.audit.models import AuditCheckpoint, AuditEvent
from steward.audit.verify import verify
from steward.store.db import transaction
from tests import factories as f


def _setup(engine: Engine, count: int = 6) -> int:
    with transaction(engine) as db:
        district = f.org(db, "lakeside", "district").id
        append_many(
            db, [EventSpec(action="x.y", district_id=district, details={"i": i}) for i in range(count)]
        )
        append_many(db, [EventSpec(action="login")])
    return district


def test_checkpoints_are_signed_and_verified_with_the_exported_key(engine: Engine, tmp_path: Path) -> None:
    district = _setup(engine)
    signed = checkpoint_all(engine, tmp_path)
    assert sorted((s.chain, s.seq) for s in signed) == [(f"district:{district}", 6), ("global", 1)]
    assert checkpoint_all(engine, tmp_path) == []  # nothing new to sign
    path = key_file(tmp_path, "lakeside")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with transaction(engine) as db:
        exported = export_public_key(db, tmp_path, district) + export_public_key(db, tmp_path, None)
    keys = load_exported_keys(exported)
    report = verify(engine, keys=keys)
    assert report.ok, report.problems
    assert sum(c.checkpoints for c in report.chains) == 2
    # An auditor holding a different key sees the signature as unknown.
    other = load_exported_keys(export_public_key_for_other(tmp_path))
    assert verify(engine, keys=other).problems[0].kind == "checkpoint"


def export_public_key_for_other(tmp_path: Path) -> str:
    from steward.audit.keys import public_pem

    return public_pem(load_or_create_private_key(tmp_path / "other" / "x.pem").public_key())


def test_a_rewritten_chain_breaks_at_the_checkpoint(
    engine: Engine, tmp_path: Path, tamper: Callable[..., None]
) -> None:
    district = _setup(engine)
    checkpoint_all(engine, tmp_path)
    with Session(engine) as db:
        events = list(
            db.scalars(select(AuditEvent).where(AuditEvent.action == "x.y").order_by(AuditEvent.seq))
        )
    # The attacker changes event 2 and recomputes every later hash and the head: the chain is
    # self-consistent again, but the signed checkpoint at seq 6 no longer matches.
    prev = events[0].hash
    statements: list[object] = []
    for event in events[1:]:
        body = event.body.replace('"i":1', '"i":100') if event.seq == 2 else event.body
        prev = chain_hash(prev, body)
        statements.append(
            (
                "UPDATE audit_events SET body = :b, hash = :h WHERE id = :i",
                {"b": body, "h": prev, "i": event.id},
            )
        )
    statements.append(f"UPDATE audit_chains SET head_hash = '{prev}' WHERE key = 'district:{district}'")
    tamper(*statements)
    problem = verify(engine).problems[0]
    assert problem.kind == "checkpoint"
    assert problem.seq == 6
    assert verify(engine, in_database=True).problems[0] == problem


def test_truncation_behind_a_checkpoint_is_detected(
    engine: Engine, tmp_path: Path, tamper: Callable[..., None]
) -> None:
    district = _setup(engine)
    checkpoint_all(engine, tmp_path)
    tamper(
        "DELETE FROM audit_events WHERE seq > 3 AND action = 'x.y'",
        f"UPDATE audit_chains SET head_seq = 3, head_hash = "
        f"(SELECT hash FROM audit_events WHERE seq = 3 AND action = 'x.y') WHERE key = 'district:{district}'",
    )
    problem = verify(engine).problems[0]
    assert problem.kind == "missing"
    assert "checkpoint at seq 6" in problem.message


def test_no_checkpoint_is_signed_over_a_broken_chain(
    engine: Engine, tmp_path: Path, tamper: Callable[..., None]
) -> None:
    _setup(engine)
    tamper("UPDATE audit_events SET body = body || ' ' WHERE seq = 2 AND action = 'x.y'")
    with pytest.raises(ChainBrokenError, match="seq 2"):
        checkpoint_all(engine, tmp_path)
    with Session(engine) as db:
        assert (
            db.scalar(
                select(AuditCheckpoint.id)
                .join(AuditEvent, AuditEvent.chain_id == AuditCheckpoint.chain_id)
                .where(AuditEvent.action == "x.y")
            )
            is None
        )


def test_a_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.pem"
    load_or_create_private_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        load_or_create_private_key(path)
    with pytest.raises(SigningKeyError, match="cannot name a key file"):
        key_file(tmp_path, "../etc")
