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
