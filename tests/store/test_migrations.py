"""The same migrations build the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect

from steward.store import all_models  # noqa: F401
from steward.store.base import Base


def test_every_model_table_exists(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_relationship_rows_have_validity(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in (
        "role_assignments",
        "school_enrollments",
        "section_enrollments",
        "staff_assignments",
        "guardianships",
    ):
        columns = {c["name"]: c for c in inspector.get_columns(table)}
        assert columns["valid_from"]["nullable"] is False, table
        assert columns["valid_to"]["nullable"] is True, table


def test_migrations_match_the_models(engine: Engine) -> None:
    """No model change is missing a migration (autogenerate finds nothing to do)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_one_linear_chain() -> None:
    """Revisions form one line from base to a single head (no branches, no merges)."""
    from alembic.script import ScriptDirectory

    from steward.store.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert all(not isinstance(r.down_revision, tuple) for r in revisions)
    assert [r.revision for r in reversed(revisions)] == [f"{n:04d}" for n in range(1, len(revisions) + 1)]


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    """Every migration's downgrade runs, and the chain upgrades again afterwards."""
    from alembic import command
    from sqlalchemy import create_engine

    from steward.store.db import alembic_config, migrate

    url = f"sqlite:///{tmp_path / 'round-trip.db'}"
    migrate(url)
    command.downgrade(alembic_config(url), "base")
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}
    migrate(url)
    assert set(Base.metadata.tables) <= set(inspect(create_engine(url)).get_table_names())
