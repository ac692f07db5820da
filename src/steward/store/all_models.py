"""Imports every module that defines tables, so the metadata (and Alembic) sees all of them."""

from steward.store import models  # noqa: F401
