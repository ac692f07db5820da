"""Who changed what and when: one history row per change of any workflow record, written in the
caller's transaction together with its audit event (the hash-chained log keeps it tamper-evident;
this table keeps it queryable per record)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from steward.audit import EventSpec, append
from steward.audit.ledger import actor_of
from steward.domain.principal import Principal
from steward.store.base import Base, Instant, now_utc


class HistoryEntry(Base):
    """One change of one workflow record: the action, the status before and after, the fields that
    changed (old and new values) and the actor (NULL person: the system's sweeps)."""

    __tablename__ = "workflow_history"
    __table_args__ = (Index("ix_workflow_history_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    actor_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def diff(obj: Any, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set ``values`` on ``obj`` and return ``{field: [old, new]}`` for those that changed."""
    changed: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if _plain(old) != _plain(new):
            changed[name] = [_plain(old), _plain(new)]
            setattr(obj, name, new)
    return changed


def record(
    db: Session,
    entity: str,
    entity_id: int,
    action: str,
    *,
    district_id: int | None,
    actor: Principal | None,
    from_status: str | None = None,
    to_status: str | None = None,
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
    at: datetime | None = None,
    subjects: Sequence[str | int] = (),
    request_ref: str | None = None,
) -> HistoryEntry:
    """Write the history row and the audit event ``workflow.<entity>.<action>`` in ``db``."""
    when = at or now_utc()
    entry = HistoryEntry(
        entity=entity,
        entity_id=entity_id,
        district_id=district_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        changes=_plain(dict(changes or {})),
        reason=reason,
        actor_person_id=actor.person_id if actor else None,
        actor_role=actor.role.value if actor else None,
        actor_org_id=actor.organization_id if actor else None,
        at=when,
    )
    db.add(entry)
    details: dict[str, Any] = {"entity_id": entity_id}
    if from_status is not None or to_status is not None:
        details["from"] = from_status
        details["to"] = to_status
    if changes:
        details["changed"] = sorted(changes)
    if reason:
        details["reason"] = reason[:500]
    if at is not None:
        details["effective_at"] = at
    append(
        db,
        EventSpec(
            action=f"workflow.{entity}.{action}",
            district_id=district_id,
            actor=actor_of(actor),
            subject_type=entity,
            subjects=[entity_id, *subjects],
            request_id=request_ref,
            details=details,
        ),
    )
    return entry


def history_of(db: Session, entity: str, entity_id: int) -> list[HistoryEntry]:
    """Every change of one record, oldest first."""
    return list(
        db.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.entity == entity, HistoryEntry.entity_id == entity_id)
            .order_by(HistoryEntry.at, HistoryEntry.id)
        )
    )
