"""A small one-district region for the aggregate reports, on DuckDB and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.sources import CedarsDropSource, PostgresSource, load_canonical
from tests.pg import PgCluster
from tests.sources.region import make_region, pg_database

#: The tables the reports read.
REPORT_TABLES = ("locations", "district_students", "school_students", "programs", "races", "absences")
REPORT_TABLES += ("discipline", "assessments")


@pytest.fixture(scope="session")
def small_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_region(tmp_path_factory.mktemp("agg"), students=150, districts=1, seed=5)[0]


@pytest.fixture(scope="session")
def duck_small(small_drop: Path) -> Iterator[CedarsDropSource]:
    source = CedarsDropSource(small_drop)
    yield source
    source.close()


@pytest.fixture(scope="session")
def pg_small(pg_cluster: PgCluster, duck_small: CedarsDropSource) -> Iterator[PostgresSource]:
    url = pg_database(pg_cluster)
    loader = PostgresSource.connect(url)
    load_canonical(duck_small, loader.con, tables=REPORT_TABLES)
    loader.close()
    source = PostgresSource.connect(url)
    yield source
    source.close()
