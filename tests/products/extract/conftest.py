"""Fixtures: a small generated drop and a governance database with its research paperwork."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.products.extract.governance import Governance, setup_governance
from tests.sources.region import make_region


@pytest.fixture(scope="session")
def extract_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_region(tmp_path_factory.mktemp("extract"), students=700, districts=1, seed=21)[0]


@pytest.fixture
def gov(sqlite_engine: Engine, extract_drop: Path) -> Governance:
    return setup_governance(sqlite_engine, extract_drop)
