"""Canonical tables in a PostgreSQL schema, queried through ibis's own PostgreSQL backend.

A district (or a state) that keeps its records in PostgreSQL exposes one table per canonical record
type in one schema (``steward.sources.canonical``). ``load_canonical`` copies every canonical table
of another source into such a schema (tests, a warehouse refresh), streaming record batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from steward.sources.base import Source, SourceError, conform
from steward.sources.canonical import TABLES, check_table, schema

DEFAULT_SCHEMA = "steward_source"


def _connect(url: str) -> Any:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SourceError(url.split("@")[-1], None, None, "is not a PostgreSQL URL")
    try:
        return ibis.postgres.connect(
            host=parsed.host or "localhost",
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
        )
    except Exception as exc:
        raise SourceError(_public(url), None, None, f"cannot connect: {exc}") from None


def _public(url: str) -> str:
    """The URL without credentials."""
    return make_url(url).render_as_string(hide_password=True)


class PostgresSource(Source):
    """Canonical tables in schema ``schema`` of a PostgreSQL database."""

    kind = "postgres"

    def __init__(self, con: Any, schema_name: str = DEFAULT_SCHEMA, *, label: str = "PostgreSQL") -> None:
        self.con = con
        self.schema_name = schema_name
        self.label = label
        self._present = set(con.list_tables(database=schema_name))
        self._tables: dict[str, ir.Table] = {}

    @classmethod
    def connect(cls, url: str, schema_name: str = DEFAULT_SCHEMA) -> PostgresSource:
        """Open the canonical tables at ``url`` (``postgresql[+psycopg]://user@host:port/db``)."""
        con = _connect(url)
        try:
            return cls(con, schema_name, label=f"PostgreSQL {_public(url)} schema {schema_name}")
        except Exception as exc:
            con.disconnect()
            raise SourceError(_public(url), None, None, f"schema {schema_name}: {exc}") from None

    def describe(self) -> str:
        return self.label

    def table(self, name: str) -> ir.Table:
        check_table(name)
        cached = self._tables.get(name)
        if cached is not None:
            return cached
        if name not in self._present:
            expr = self.empty(name)
        else:
            expr = conform(self.con.table(name, database=self.schema_name), name)
        self._tables[name] = expr
        return expr

    def _batches(self, expr: ir.Table, size: int) -> Iterator[pa.RecordBatch]:
        try:
            yield from self.con.to_pyarrow_batches(expr, chunk_size=size)
        except Exception as exc:
            raise SourceError(self.label, None, None, str(exc).splitlines()[0]) from None

    def close(self) -> None:
        self.con.disconnect()


def load_canonical(
    source: Source,
    con: Any,
    schema_name: str = DEFAULT_SCHEMA,
    *,
    tables: Iterable[str] = TABLES,
    batch: int = 50_000,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Copy canonical tables of ``source`` (default: all) into ``schema_name``, replacing them;
    returns the rows copied per table."""
    con.create_database(schema_name, force=True)
    counts: dict[str, int] = {}
    for name in tables:
        check_table(name)
        target = schema(name)
        con.create_table(name, schema=target, database=schema_name, overwrite=True)
        rows = 0
        for chunk in source.batches(source.table(name), batch):
            if chunk.num_rows == 0:
                continue
            con.insert(name, pa.Table.from_batches([chunk]), database=schema_name)
            rows += chunk.num_rows
            if progress is not None:
                progress(name, rows)
        counts[name] = rows
    return counts
