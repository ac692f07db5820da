"""Batched INSERT ... ON CONFLICT for SQLite and PostgreSQL through one call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from steward.store.base import Base

BATCH = 5000


def upsert(
    db: Session,
    model: type[Base],
    rows: Iterable[Mapping[str, Any]],
    conflict: Sequence[str],
    update: Sequence[str] = (),
    batch: int = BATCH,
) -> int:
    """Insert ``rows``; on a conflict over ``conflict`` columns update ``update`` (or do nothing).

    Returns the number of rows sent. Rows are streamed in batches, so the caller may pass a generator.
    """
    table = cast(Table, model.__table__)
    dialect = db.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    iterator = iter(rows)
    sent = 0
    while chunk := list(islice(iterator, batch)):
        stmt = insert_fn(table)
        if update:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(conflict), set_={name: stmt.excluded[name] for name in update}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        db.execute(stmt, chunk)
        sent += len(chunk)
    return sent
