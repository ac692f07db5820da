"""Notify people in the app and by e-mail: rows are written in the caller's transaction (so a
rolled-back action notifies nobody) and e-mailed after the commit by ``mailer.send_pending``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from steward.store.base import now_utc
from steward.store.models import Person
from steward.workflow.notifications.models import Notification


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    subject: str
    body: str
    link: str = ""


def notify(
    db: Session,
    people: Iterable[int],
    message: Message,
    *,
    district_id: int | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """One notification per person (each once: ``dedupe_key`` makes repeated sweeps quiet)."""
    created: list[Notification] = []
    for person_id in sorted(set(people)):
        key = None if dedupe_key is None else f"{dedupe_key}:p{person_id}"[:200]
        if key is not None and db.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
            continue
        person = db.get(Person, person_id)
        if person is None:
            continue
        email = (person.email or "").strip()
        row = Notification(
            person_id=person_id,
            district_id=district_id,
            kind=message.kind,
            subject=message.subject[:200],
            body=message.body,
            link=message.link,
            email_to=email,
            email_status="pending" if email else "skipped",
            dedupe_key=key,
        )
        db.add(row)
        created.append(row)
    db.flush()
    return created


def inbox(db: Session, person_id: int, limit: int = 100) -> list[Notification]:
    return list(
        db.scalars(
            select(Notification)
            .where(Notification.person_id == person_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(db: Session, person_id: int) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.person_id == person_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(db: Session, person_id: int, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the person's notifications (all, or the given ones) read; returns how many changed."""
    stmt = update(Notification).where(Notification.person_id == person_id, Notification.read_at.is_(None))
    ids = None if notification_ids is None else sorted(set(notification_ids))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    result = db.execute(stmt.values(read_at=now_utc()).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
