"""The six published test vectors of DISCLOSURE.md (TV1-TV6)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from steward.privacy.suppression import (
    Attacker,
    CertificateError,
    Dim,
    Problem,
    cross_table,
    from_sums,
    inequalities,
    suppress,
)
from steward.privacy.suppression.certificate import certify, check_by_attacker
from steward.privacy.suppression.engine import SECONDARY
from steward.privacy.suppression.gauss import linearly_determined
from steward.privacy.suppression.primary import primaries, singletons

NOBODY = np.zeros(0, dtype=np.bool_)


def mask(problem: Problem, *labels: tuple[str, ...]) -> np.ndarray:
    out = np.zeros(problem.n_cells, dtype=np.bool_)
    for label in labels:
        out[problem.labels.index(label)] = True
    return out


def attacker(problem: Problem, suppressed: np.ndarray) -> Attacker:
    return Attacker(problem, suppressed, np.zeros(problem.n_cells, dtype=np.bool_))


def test_tv1_interval_of_cell_1_1_is_3_to_6() -> None:
    p = cross_table([Dim("row", ("1", "2", "3")), Dim("col", ("1", "2"))], [4, 3, 2, 1, 3, 3])
    assert p.values[p.labels.index(("1", "Total"))] == 7
    assert p.values[p.labels.index(("Total", "1"))] == 9
    hidden = mask(p, ("1", "1"), ("1", "2"), ("2", "1"), ("2", "2"))
    a = attacker(p, hidden)
    cell = p.labels.index(("1", "1"))
    lp = a.interval(cell)
    ilp = a.interval(cell, integer=True)
    assert (lp.lower, lp.upper) == pytest.approx((3, 6))
    assert (ilp.lower, ilp.upper) == (3, 6)


TV2 = [30, 47, 64, 89, 90, 124, 5, 31, 92, 100, 59, 85, 800, 991, 651, 685]


def test_tv2_two_per_line_is_not_enough() -> None:
    p = cross_table([Dim("r", tuple("wxyz")), Dim("c", tuple("abcd"))], TV2)
    bad = [("w", "a"), ("w", "b"), ("w", "c"), ("x", "a"), ("x", "c"), ("y", "b"), ("y", "d")]
    bad += [("z", "b"), ("z", "d")]
    hidden = mask(p, *bad)
    wb = p.labels.index(("w", "b"))
    a = attacker(p, hidden)
    iv = a.interval(wb)
    assert (iv.lower, iv.upper) == pytest.approx((47, 47))
    assert linearly_determined(a, wb)
    _, why = check_by_attacker(a, wb, np.zeros(p.n_cells, dtype=np.bool_), 1)
    assert why is not None
    assert "linear combination" in why

    wider = attacker(p, hidden | mask(p, ("x", "d")))
    lp = wider.interval(wb)
    ilp = wider.interval(wb, integer=True)
    assert (lp.lower, lp.upper) == pytest.approx((0, 78))
    assert (ilp.lower, ilp.upper) == (0, 78)


def test_tv3_optimal_pattern_under_cost_frequency() -> None:
    p = cross_table(
        [Dim("region", tuple("ABCD")), Dim("sex", ("male", "female"))],
        [18, 2, 14, 19, 12, 10, 11, 14],
    )
    p = dataclasses.replace(p, cost=p.values.astype(np.float64))
    result = suppress(p, threshold=10, method="optimal")
    chosen = {p.labels[j] for j in np.flatnonzero(result.status == SECONDARY)}
    assert chosen == {("A", "male"), ("C", "male"), ("C", "female")}
    assert int(p.values[result.status == SECONDARY].sum()) == 40
    assert [e.label for e in result.certificate.entries] == [("A", "female")]


def test_tv3_fast_method_is_safe_too() -> None:
    p = cross_table(
        [Dim("region", tuple("ABCD")), Dim("sex", ("male", "female"))],
        [18, 2, 14, 19, 12, 10, 11, 14],
    )
    result = suppress(p, intervals=True)
    (entry,) = result.certificate.entries
    assert entry.lower is not None
    assert entry.upper is not None
    assert entry.upper - entry.lower >= 1


def tv4() -> Problem:
    return cross_table(
        [Dim("age", ("young", "old")), Dim("country", ("Iceland", "Portugal", "Spain"))],
        [0, 0, 5, 3, 4, 6],
    )


def test_tv4_zeros_problem_is_flagged_by_the_bound_aware_audit() -> None:
    p = tv4()
    hidden = mask(
        p,
        ("young", "Iceland"),
        ("young", "Portugal"),
        ("old", "Iceland"),
        ("old", "Portugal"),
    )
    a = attacker(p, hidden)
    for cell in (("young", "Iceland"), ("young", "Portugal")):
        j = p.labels.index(cell)
        assert not linearly_determined(a, j), "the Gauss (linear) view misses it"
        iv = a.interval(j)
        assert (iv.lower, iv.upper) == pytest.approx((0, 0))
    prim = hidden & (p.values < 10)
    with pytest.raises(CertificateError, match="non-negativity"):
        certify(p, hidden, prim, np.zeros_like(prim), {})


def test_tv4_engine_protects_zeros_when_asked() -> None:
    p = tv4()
    result = suppress(p, zeros="protect", intervals=True)
    young = {p.labels.index(("young", "Iceland")), p.labels.index(("young", "Portugal"))}
    assert young <= {e.cell for e in result.certificate.entries}
    for e in result.certificate.entries:
        assert e.upper is not None
        assert e.lower is not None
        assert e.upper - e.lower >= 1


def tv5() -> Problem:
    return cross_table(
        [Dim("row", ("r1", "r2", "r3")), Dim("col", ("c1", "c2", "c3"))],
        [1, 5, 20, 15, 12, 30, 25, 22, 40],
    )


def test_tv5_singleton_subtracts_itself() -> None:
    p = tv5()
    hidden = mask(p, ("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2"))
    single = mask(p, ("r1", "c1"))
    a = Attacker(p, hidden, single)
    other = p.labels.index(("r1", "c2"))
    assert a.interval(other, integer=True).width >= 1  # an outsider cannot pin it
    inside = a.interval(other, integer=True, knowing=[p.labels.index(("r1", "c1"))])
    assert (inside.lower, inside.upper) == (5, 5)
    _, why = check_by_attacker(a, other, single, 1)
    assert why is not None
    assert "singleton" in why


def test_tv5_engine_protects_against_the_singleton() -> None:
    p = tv5()
    result = suppress(p)
    prim = primaries(p)
    single = singletons(p, prim)
    assert single[p.labels.index(("r1", "c1"))]
    a = Attacker(p, result.suppressed, single)
    for j in np.flatnonzero(prim).tolist():
        assert check_by_attacker(a, j, single, 1)[1] is None


def tv6() -> Problem:
    # inner cells: (low income, graduated), (low income, not), (other, graduated), (other, not)
    return from_sums(
        [2, 9, 14, 3],
        [[0, 1], [2, 3], [0, 1, 2, 3], [0], [2], [0, 2]],
        [
            ("Low Income", "N"),
            ("Non Low Income", "N"),
            ("All Students", "N"),
            ("Low Income", "graduates"),
            ("Non Low Income", "graduates"),
            ("All Students", "graduates"),
        ],
        fields=("group", "measure"),
        denominator=[-1, -1, -1, 0, 1, 2],
    )


def test_tv6_coded_rate_with_complement_published_leaks() -> None:
    p = tv6()
    assert list(p.values) == [11, 17, 28, 2, 14, 16]
    # "<27.3%" of N=11 published: at most 3 graduates
    coded = p.with_inequalities(inequalities(4, [{0: 1}], [0], [3]))
    li = coded.labels.index(("Low Income", "graduates"))
    hidden = mask(coded, ("Low Income", "graduates"))
    iv = attacker(coded, hidden).interval(li)
    assert (iv.lower, iv.upper) == pytest.approx((2, 2))


def test_tv6_engine_suppresses_or_codes_the_complement() -> None:
    p = tv6().with_inequalities(inequalities(4, [{0: 1}], [0], [3]))
    li = p.labels.index(("Low Income", "graduates"))
    forced = np.zeros(p.n_cells, dtype=np.bool_)
    forced[li] = True
    result = suppress(p, forced=forced, intervals=True)
    assert result.suppressed[li]
    complement = {
        p.labels.index(("Non Low Income", "graduates")),
        p.labels.index(("All Students", "graduates")),
    }
    assert any(result.suppressed[j] for j in complement)
    (entry,) = result.certificate.entries
    assert entry.lower is not None
    assert entry.upper is not None
    assert entry.upper - entry.lower >= 1
    assert entry.upper <= 3
