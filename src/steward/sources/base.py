"""The one interface every connector implements: canonical tables as ibis expressions.

Products build ibis expressions over ``Source.table(name)`` (never SQL strings); the source's
backend runs them, so computation happens where the data lives and only results travel back, as
Arrow tables or streamed record batches.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import date
from types import TracebackType
from typing import Any, Self

import ibis
import ibis.expr.types as ir
import pyarrow as pa  # type: ignore[import-untyped]

from steward.sources.canonical import check_table, schema

DEFAULT_BATCH = 65_536
#: Stands for an open exit date when ordering spells (NULL order differs between backends).
OPEN_END = date(9999, 12, 31)


class SourceError(Exception):
    """Bad source data or an unreachable source, named by file, line and element when known."""

    def __init__(self, where: str, line: int | None, element: str | None, message: str) -> None:
        self.where = where
        self.line = line
        self.element = element
        self.message = message
        super().__init__(where, line, element, message)

    def __str__(self) -> str:
        parts = [self.where]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.element:
            parts.append(self.element)
        return f"{', '.join(parts)}: {self.message}"


class Source(ABC):
    """Canonical tables of one or more districts, queried where they live."""

    #: Short name of the connector (``cedars``, ``postgres``).
    kind: str = ""

    @abstractmethod
    def table(self, name: str) -> ir.Table:
        """Canonical table ``name`` (see ``steward.sources.canonical.TABLES``)."""

    @abstractmethod
    def _batches(self, expr: ir.Table, size: int) -> Iterator[pa.RecordBatch]:
        """Run ``expr`` at the source and stream its rows back (the backend's own Arrow types)."""

    def batches(self, expr: ir.Table, size: int = DEFAULT_BATCH) -> Iterator[pa.RecordBatch]:
        """Run ``expr`` at the source and stream its rows back in record batches typed as the
        expression says (backends differ: DuckDB gives int32 years, PostgreSQL wide decimals)."""
        target = expr.schema().to_pyarrow()
        for batch in self._batches(expr, size):
            yield batch if batch.schema.equals(target) else batch.cast(target)

    @abstractmethod
    def describe(self) -> str:
        """Where the data comes from, for reports and errors (no secrets)."""

    @property
    def as_of(self) -> date | None:
        """The day the data describes (file date of a drop); None: today."""
        return None

    def student_years(self) -> ir.Table:
        """``district_students`` with one row per student, district and school year.

        A drop has one row per district enrollment spell with the demographics repeated (layout
        note of file B); the latest spell of the year is kept (its grade is the current one).
        """
        spells = self.table("district_students")
        return first_row_per(
            spells,
            ["school_year", "district_code", "student_id"],
            [spells.entry_date.desc(), spells.exit_date.fill_null(OPEN_END).desc()],
        )

    def districts(self) -> tuple[str, ...]:
        """The district codes the source holds (sorted)."""
        spells = self.table("district_students")
        found = self.to_arrow(spells.select("district_code").distinct())
        return tuple(sorted(str(d) for d in found.column("district_code").to_pylist()))

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` at the source and return the (small) result."""
        return pa.Table.from_batches(list(self.batches(expr)), schema=expr.schema().to_pyarrow())

    def empty(self, name: str) -> ir.Table:
        """An empty canonical table (a source that lacks a file or table)."""
        check_table(name)
        return ibis.memtable(pa.Table.from_pylist([], schema=schema(name).to_pyarrow()))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def conform(expr: ir.Table, name: str) -> ir.Table:
    """``expr`` with exactly the canonical columns of ``name``, cast to their canonical types."""
    target = schema(name)
    return expr.select(**{c: expr[c].cast(t) for c, t in target.items()})


def first_row_per(expr: ir.Table, keys: list[str], order: list[Any]) -> ir.Table:
    """One row per ``keys``: the first in ``order`` (ibis row numbers start at 0 on every backend)."""
    ranked = expr.mutate(_rank=ibis.row_number().over(group_by=keys, order_by=order))
    return ranked.filter(ranked._rank == 0).drop("_rank")
