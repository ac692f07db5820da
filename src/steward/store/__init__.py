"""Imperative shell: SQLAlchemy models, engine/session handling and Alembic migrations."""
