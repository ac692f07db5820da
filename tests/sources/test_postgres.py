"""The same canonical tables on PostgreSQL (loaded through ibis) read back equal to DuckDB's."""

from __future__ import annotations

import pytest

from steward.products.student_year import Scope, student_years
from steward.sources import CedarsDropSource, PostgresSource
from steward.sources.canonical import TABLES, columns, schema
from tests.sources.region import YEARS


def _sorted(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return sorted((tuple(r.values()) for r in rows), key=repr)


@pytest.mark.parametrize("name", list(TABLES))
def test_tables_equal(duck: CedarsDropSource, pg: PostgresSource, name: str) -> None:
    assert pg.table(name).schema() == schema(name)
    ours = duck.to_arrow(duck.table(name)).select(list(columns(name))).to_pylist()
    theirs = pg.to_arrow(pg.table(name)).to_pylist()
    assert _sorted(theirs) == _sorted(ours)


def test_student_years_equal(duck: CedarsDropSource, pg: PostgresSource) -> None:
    scope = Scope(YEARS, as_of=duck.as_of)
    ours = duck.to_arrow(student_years(duck, scope)).to_pylist()
    theirs = pg.to_arrow(student_years(pg, scope)).to_pylist()
    assert ours
    assert _sorted(theirs) == _sorted(ours)


def test_batches_stream_in_pieces(pg: PostgresSource) -> None:
    expr = pg.table("absences")
    sizes = [b.num_rows for b in pg.batches(expr, 1000)]
    assert len(sizes) > 1
    assert max(sizes) <= 1000
    assert sum(sizes) == pg.to_arrow(expr.count().as_table()).column(0)[0].as_py()
