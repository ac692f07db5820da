"""Aggregate reports: notation and legend, suppression through the engine, equal on both backends."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from steward.products.aggregate.reports import REPORTS, Measure, Release, inner_cells
from steward.products.aggregate.service import (
    CROSS_GROUP,
    TOP_BOTTOM,
    ReportError,
    ReportResult,
    protect_release,
    run_report,
)
from steward.products.student_year import Scope
from steward.sources import CedarsDropSource, PostgresSource

YEAR = 2026
RATE = Measure("rate", "a rate", "rate")
FLAGS = {
    "race_ethnicity": "White",
    "sex": "Female",
    "english_learner": "Non-English Language Learners",
    "special_education": "Students without Disabilities",
    "section_504": "Non Section 504",
}


def _cells(*rows: tuple[str, str, str, int, int]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"school_year": YEAR, "school": s, "grade": g, "low_income": li, "n": n, "met": met, **FLAGS}
            for s, g, li, n, met in rows
        ]
    )


def _protect(cells: pa.Table, top_bottom: bool = True) -> ReportResult:
    result = ReportResult("t", "test", "students", (YEAR,), "90001", 10)
    release = Release("t", None, RATE, (RATE,))  # type: ignore[arg-type]
    protect_release(
        YEAR, "90001", {"0001": "A", "0002": "B"}, release, cells, 10, top_bottom, "fast", "card", result
    )
    return result


def _row(result: ReportResult, school: str, group: str) -> tuple[object, ...]:
    row = next(
        r
        for r in result.rows
        if r.school_code == school and r.student_group == group and r.grade == "All Grades"
    )
    return (row.n, row.count, row.percent, row.suppression)


def test_small_group_and_its_complement_are_suppressed() -> None:
    result = _protect(
        _cells(
            ("0001", "5", "Low Income", 30, 6),
            ("0001", "5", "Non Low Income", 30, 12),
            ("0002", "5", "Low Income", 4, 1),
            ("0002", "5", "Non Low Income", 25, 5),
            ("0002", "6", "Non Low Income", 12, 3),
        ),
        top_bottom=False,
    )
    assert _row(result, "0002", "Low Income") == (None, None, None, "N<10")
    # 41 students, 4 of them low income: publishing the complement would give the 4 away.
    _n, count, percent, note = _row(result, "0002", "Non Low Income")
    assert note == CROSS_GROUP
    assert count is None
    assert percent is None
    assert result.primaries > 0
    assert result.secondaries > 0
    assert result.certificates


def test_extreme_rates_are_top_bottom_coded_by_band() -> None:
    result = _protect(
        _cells(
            ("0001", "5", "Low Income", 40, 1),
            ("0001", "5", "Non Low Income", 60, 20),
            ("0002", "5", "Low Income", 30, 30),
            ("0002", "5", "Non Low Income", 30, 10),
        )
    )
    coded = [r for r in result.rows if r.suppression == TOP_BOTTOM]
    assert coded
    for row in coded:
        assert row.count is None
        assert row.percent in ("≤5%", "≥95%", "≤2%", "≥98%", "≤10%", "≥90%")
    assert _row(result, "0002", "Low Income") == (30, None, "≥95%", TOP_BOTTOM)
    # Low income at 0001 is 1 of 40; All Students minus Non Low Income would give it away exactly.
    assert _row(result, "0001", "Low Income")[1] is None
    others = [_row(result, "0001", g) for g in ("All Students", "Non Low Income")]
    assert any(count is None for _, count, _, _ in others)


def test_enrollment_notation_and_legend(duck_small: CedarsDropSource) -> None:
    result = run_report(duck_small, "enrollment", Scope((YEAR,), ("90001",), duck_small.as_of))
    notes = {r.suppression for r in result.rows}
    assert notes <= {"", "N<10", CROSS_GROUP}
    assert "N<10" in notes
    for row in result.rows:
        if row.suppression == "N<10":
            assert (row.n, row.count, row.percent) == (None, None, None)
        if row.n is not None:
            assert row.n == 0 or row.n >= 10
    legend = dict(result.legend())
    assert {"N<10", CROSS_GROUP, TOP_BOTTOM} <= set(legend)
    assert "10" in legend["N<10"]
    district = next(
        r for r in result.rows if r.school_name == "All Schools" and r.student_group == "All Students"
    )
    assert district.grade == "All Grades"
    assert district.n
    assert district.n > 100


def test_reports_equal_on_duckdb_and_postgresql(
    duck_small: CedarsDropSource, pg_small: PostgresSource
) -> None:
    scope = Scope((2025, YEAR), ("90001",), duck_small.as_of)
    for name, spec in REPORTS.items():
        found = 0
        for mine, theirs in zip(
            spec.releases(duck_small, scope), spec.releases(pg_small, scope), strict=True
        ):
            expr_a = inner_cells(mine.units, mine.rate is not None, mine.sums)
            expr_b = inner_cells(theirs.units, theirs.rate is not None, theirs.sums)
            a = sorted(map(repr, duck_small.to_arrow(expr_a).to_pylist()))
            b = sorted(map(repr, pg_small.to_arrow(expr_b).to_pylist()))
            assert a == b, name
            found += len(a)
        assert found, name
    one = Scope((YEAR,), ("90001",), duck_small.as_of)
    ours = run_report(duck_small, "enrollment", one)
    theirs = run_report(pg_small, "enrollment", one)
    assert [r.values() for r in ours.rows] == [r.values() for r in theirs.rows]


def test_report_errors(duck_small: CedarsDropSource) -> None:
    with pytest.raises(ReportError, match="unknown report"):
        run_report(duck_small, "grades", Scope((YEAR,), ("90001",)))
    with pytest.raises(ReportError, match="exactly one district"):
        run_report(duck_small, "enrollment", Scope((YEAR,)))
    with pytest.raises(ReportError, match="no enrollment data"):
        run_report(duck_small, "enrollment", Scope((2011,), ("90001",), date(2011, 6, 1)))
