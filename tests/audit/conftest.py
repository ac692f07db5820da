"""Helpers for audit tests: a district with students, and tampering that bypasses the triggers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, text

APPEND_ONLY = ("audit_events", "audit_checkpoints", "audit_signing_keys", "disclosure_ledger")


def _tamper(engine: Engine, *statements: str | tuple[str, dict[str, Any]]) -> None:
    """Run ``statements`` as a privileged attacker would: around the append-only triggers."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # superuser only
        else:
            for table in APPEND_ONLY:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, {})
            conn.execute(text(sql), params)


@pytest.fixture
def tamper(engine: Engine) -> Callable[..., None]:
    """``tamper(sql, ...)`` on the test's database, bypassing the append-only triggers."""
    return functools.partial(_tamper, engine)
