"""Connectors behind one interface: canonical records as ibis tables, computed where they live.

``CedarsDropSource`` reads CEDARS file drops in place with DuckDB (the embedded default);
``PostgresSource`` reads a schema of canonical tables on a PostgreSQL server. ``open_source``
picks one from a path or a URL.
"""

from __future__ import annotations

from pathlib import Path

from steward.sources.base import Source, SourceError
from steward.sources.canonical import TABLES
from steward.sources.cedars import CedarsDropSource
from steward.sources.postgres import DEFAULT_SCHEMA, PostgresSource, load_canonical


def open_source(location: str | Path, *, schema_name: str = DEFAULT_SCHEMA) -> Source:
    """A PostgreSQL URL (``postgresql://...``, schema ``schema_name``) or a drop directory."""
    text = str(location)
    if text.startswith(("postgresql:", "postgresql+", "postgres:")):
        return PostgresSource.connect(text.replace("postgres:", "postgresql:", 1), schema_name)
    path = Path(text)
    if not path.is_dir():
        raise SourceError(text, None, None, "is neither a drop directory nor a PostgreSQL URL")
    subdirs = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    has_files = any(p.is_file() and p.suffix == ".txt" for p in path.iterdir())
    return CedarsDropSource(path if has_files or not subdirs else subdirs)


__all__ = [
    "DEFAULT_SCHEMA",
    "TABLES",
    "CedarsDropSource",
    "PostgresSource",
    "Source",
    "SourceError",
    "load_canonical",
    "open_source",
]
