"""The same migrations build the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

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
