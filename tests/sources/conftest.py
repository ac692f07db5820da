"""Fixtures: a small generated region read by DuckDB, and the same data loaded into PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.sources import CedarsDropSource, PostgresSource, load_canonical
from tests.pg import PgCluster
from tests.sources.region import make_region, pg_database


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_region(tmp_path_factory.mktemp("region"))


@pytest.fixture(scope="session")
def duck(region: list[Path]) -> Iterator[CedarsDropSource]:
    source = CedarsDropSource(region[0])
    yield source
    source.close()


@pytest.fixture(scope="session")
def pg(pg_cluster: PgCluster, duck: CedarsDropSource) -> Iterator[PostgresSource]:
    """The first district's canonical tables copied into PostgreSQL through ibis."""
    url = pg_database(pg_cluster)
    loader = PostgresSource.connect(url)
    load_canonical(duck, loader.con)
    loader.close()
    source = PostgresSource.connect(url)
    yield source
    source.close()
