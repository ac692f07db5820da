"""Signed checkpoints: the district's Ed25519 signature over "chain C reached seq N with hash H".

A checkpoint is signed only after the events since the previous checkpoint verify, so a signature
never blesses a tampered chain. A rewritten chain (every hash recomputed) still breaks at the first
checkpoint after the change, and a truncated log breaks at a checkpoint that names a missing event.
Run it periodically (``steward audit checkpoint``, or ``checkpoint_all`` from the scheduler).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from steward.audit.encoding import checkpoint_message, format_instant
from steward.audit.keys import public_keys, signer_for
from steward.audit.models import AuditChain, AuditCheckpoint, AuditEvent
from steward.audit.verify import Problem, verify
from steward.store.base import now_utc
from steward.store.db import transaction


class ChainBrokenError(Exception):
    """Refusing to sign a checkpoint over a chain that does not verify."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.describe())
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Signed:
    chain: str
    seq: int
    event_hash: str
    key_fingerprint: str


def checkpoint_all(engine: Engine, data_dir: Path) -> list[Signed]:
    """Verify what is new in every chain and sign a checkpoint at each chain's last event."""
    signed: list[Signed] = []
    with Session(engine) as db:
        chains = list(db.scalars(select(AuditChain).order_by(AuditChain.key)))
        last: dict[int, int] = dict(
            iter(  # a Result has .keys(), so dict() would take it for a mapping
                db.execute(
                    select(AuditCheckpoint.chain_id, func.max(AuditCheckpoint.seq)).group_by(
                        AuditCheckpoint.chain_id
                    )
                )
            )
        )
        first_new = {
            chain.id: db.scalar(
                select(AuditEvent.id).where(
                    AuditEvent.chain_id == chain.id, AuditEvent.seq == last.get(chain.id, 0) + 1
                )
            )
            for chain in chains
        }
        keys = public_keys(db)
    starts = [i for i in first_new.values() if i is not None]
    if not starts:
        return signed
    # One process: checkpoints may be signed from inside a server, where forking is unsafe.
    report = verify(engine, from_id=min(starts), keys=keys, ledger=False, jobs=1)
    broken = {p.chain: p for p in report.problems}
    for chain in chains:
        if first_new[chain.id] is None:
            continue
        if chain.key in broken:
            raise ChainBrokenError(broken[chain.key])
        result = next(r for r in report.chains if r.chain == chain.key)
        with transaction(engine) as db:
            made = _sign(db, data_dir, chain, result.last_seq)
        if made is not None:
            signed.append(made)
    return signed


def _sign(db: Session, data_dir: Path, chain: AuditChain, seq: int) -> Signed | None:
    event_hash = db.scalar(
        select(AuditEvent.hash).where(AuditEvent.chain_id == chain.id, AuditEvent.seq == seq)
    )
    if event_hash is None or db.scalar(
        select(AuditCheckpoint.id).where(AuditCheckpoint.chain_id == chain.id, AuditCheckpoint.seq == seq)
    ):
        return None
    signer = signer_for(db, data_dir, chain.district_id)
    signed_at = format_instant(now_utc())
    signature = signer.sign(checkpoint_message(chain.key, seq, event_hash, signed_at))
    db.add(
        AuditCheckpoint(
            chain_id=chain.id,
            seq=seq,
            event_hash=event_hash,
            signed_at=signed_at,
            key_fingerprint=signer.fingerprint,
            signature=signature,
        )
    )
    return Signed(chain.key, seq, event_hash, signer.fingerprint)
