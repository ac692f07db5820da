"""Research IDs: drawn at random (128 bits) per (agreement, student), looked up on later deliveries.

No ID is derived from any student data, so the same student gets unrelated IDs under different
agreements (unlinkable unless a district approves linkage) and the ID reveals nothing by itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from steward.products.extract.models import ResearchId
from steward.store.base import now_utc

_INSERT_CHUNK = 5000


def new_rid() -> str:
    """128 random bits as 32 lowercase hex characters."""
    return secrets.token_hex(16)


class Crosswalk:
    """The agreement's research IDs, loaded once; new ones are written with ``flush`` in the
    caller's transaction (so a failed extract leaves no trace)."""

    def __init__(self, db: Session, agreement_id: int) -> None:
        self.db = db
        self.agreement_id = agreement_id
        rows = db.execute(
            select(ResearchId.student_key, ResearchId.rid).where(ResearchId.agreement_id == agreement_id)
        )
        self._rids: dict[str, str] = {str(key): str(rid) for key, rid in rows}
        self.existing = len(self._rids)
        self._pending: list[dict[str, object]] = []

    def __len__(self) -> int:
        return len(self._rids)

    @property
    def created(self) -> int:
        return len(self._rids) - self.existing

    def rids(self, keys: Sequence[str]) -> list[str]:
        """The research ID of each student key, drawing new ones where needed."""
        known = self._rids
        out: list[str] = []
        for key in keys:
            rid = known.get(key)
            if rid is None:
                rid = new_rid()
                known[key] = rid
                self._pending.append({"student_key": key, "rid": rid})
            out.append(rid)
        if len(self._pending) >= _INSERT_CHUNK:
            self.flush()
        return out

    def flush(self) -> None:
        if not self._pending:
            return
        now = now_utc()
        rows = [{"agreement_id": self.agreement_id, "created_at": now, **row} for row in self._pending]
        self.db.execute(insert(ResearchId), rows)
        self._pending.clear()


def destroy_research_ids(db: Session, agreement_id: int) -> int:
    """Delete the agreement's crosswalk (when the agreement ends or is destroyed); rows deleted."""
    result = db.execute(delete(ResearchId).where(ResearchId.agreement_id == agreement_id))
    return int(getattr(result, "rowcount", 0) or 0)
