"""The generated region, once per session; imported per test on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.workflow.transfers.region import World, generate_region, make_world


@pytest.fixture(scope="session")
def region_drops(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str]]:
    return generate_region(tmp_path_factory.mktemp("region"))


@pytest.fixture
def world(engine: Engine, tmp_path: Path, region_drops: tuple[Path, tuple[str, str]]) -> World:
    return make_world(engine, tmp_path, *region_drops)


@pytest.fixture
def sqlite_world(sqlite_engine: Engine, tmp_path: Path, region_drops: tuple[Path, tuple[str, str]]) -> World:
    return make_world(sqlite_engine, tmp_path, *region_drops)
