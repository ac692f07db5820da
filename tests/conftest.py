"""Shared fixtures: a migrated database on SQLite and on a real PostgreSQL server, per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from steward.store.db import make_engine, migrate
from tests.pg import PgCluster, start_cluster

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("STEWARD_ARGON2_TIME_COST", "1")
    os.environ.setdefault("STEWARD_ARGON2_MEMORY_KIB", "1024")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public sample data next to the repository (never copied into it)."""
    if not SHARED_DATA.exists():
        pytest.skip(f"shared sample data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PgCluster) -> str:
    admin = make_engine(pg_cluster.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE steward_template"))
    admin.dispose()
    migrate(pg_cluster.url("steward_template"))
    return "steward_template"


def _fresh_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "steward.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    template_name: str = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = make_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    admin.dispose()
    return cluster.url(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a freshly migrated, empty database; the test runs once per backend."""
    return _fresh_database_url(request.param, request, tmp_path)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sqlite_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database only, for tests whose subject is not storage."""
    eng = make_engine(_fresh_database_url("sqlite", request, tmp_path))
    try:
        yield eng
    finally:
        eng.dispose()
