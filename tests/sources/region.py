"""A small generated region (synthetic, deterministic) shared by the source and product tests."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import text

from steward.demo.generator import generate
from steward.store.db import make_engine
from tests.pg import PgCluster

END_YEAR = 2026
YEARS = (2025, 2026)


def make_region(out: Path, *, students: int = 300, districts: int = 2, seed: int = 11) -> list[Path]:
    """Generate drops for ``districts`` districts into ``out``; returns the drop directories."""
    generate(out, districts, students, len(YEARS), seed, end_year=END_YEAR)
    return sorted(p for p in out.iterdir() if p.is_dir())


def pg_database(cluster: PgCluster) -> str:
    """URL of a new empty database on the test cluster."""
    name = f"src_{uuid.uuid4().hex[:12]}"
    admin = make_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return cluster.url(name)
