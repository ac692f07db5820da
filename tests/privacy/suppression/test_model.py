"""Model builders: hierarchies, linked tables, coded inequalities."""

from __future__ import annotations

import numpy as np
import pytest

from steward.privacy.suppression import Dim, cross_table, cross_tables, inequalities, suppress
from steward.privacy.suppression.engine import PUBLISHED


def test_hierarchy_publishes_district_levels() -> None:
    school = Dim("school", ("s1", "s2", "s3"), parent={"s1": "D1", "s2": "D1", "s3": "D2"})
    grade = Dim("grade", ("1", "2"))
    p = cross_table([school, grade], [[1, 2], [3, 4], [5, 6]])
    value = dict(zip(p.labels, p.values.tolist(), strict=True))
    assert value[("D1", "1")] == 4
    assert value[("D1", "Total")] == 10
    assert value[("D2", "2")] == 6
    assert value[("Total", "Total")] == 21
    assert len(p.labels) == (3 + 2 + 1) * 3
    total = p.labels.index(("Total", "Total"))
    parts = {tuple(sorted(p.labels[j] for j in part)) for part in p.partitions[total]}
    assert (("D1", "Total"), ("D2", "Total")) in parts  # Total = D1 + D2, not the schools
    assert (("Total", "1"), ("Total", "2")) in parts


def test_bad_hierarchy_is_rejected() -> None:
    with pytest.raises(ValueError, match="total label"):
        cross_table([Dim("a", ("x", "Total")), Dim("b", ("y",))], [[1], [2]])


def test_linked_tables_share_cells() -> None:
    dims = [Dim("school", ("s1", "s2")), Dim("grade", ("1", "2")), Dim("sex", ("F", "M"))]
    counts = np.arange(1, 9).reshape(2, 2, 2) * 3
    p = cross_tables(dims, counts, tables=[["school", "grade"], ["school", "sex"]])
    assert len(set(p.labels)) == len(p.labels)
    assert ("s1", "1", "Total") in p.labels
    assert ("s1", "Total", "F") in p.labels
    assert ("s1", "1", "F") not in p.labels  # the finest cells are not published
    assert p.values[p.labels.index(("Total", "Total", "Total"))] == counts.sum()
    result = suppress(p, threshold=10)
    small = (p.values > 0) & (p.values < 10)
    assert not np.any(small & (result.status == PUBLISHED))


def test_hierarchical_release_is_certified() -> None:
    rng = np.random.default_rng(7)
    schools = tuple(f"s{i}" for i in range(6))
    parent = {s: ("D1" if i < 3 else "D2") for i, s in enumerate(schools)}
    counts = rng.integers(0, 25, size=(6, 3, 2))
    p = cross_table(
        [Dim("school", schools, parent), Dim("grade", ("1", "2", "3")), Dim("g", ("a", "b"))], counts
    )
    result = suppress(p)
    assert len(result.certificate.entries) == int(((p.values > 0) & (p.values < 10)).sum())
    assert all(e.proof in {"circuit", "ilp"} for e in result.certificate.entries)


def test_inequalities_builder() -> None:
    ineq = inequalities(3, [{0: 1, 2: -1}], [-np.inf], [0])
    assert ineq.count == 1
    assert ineq.rows.toarray().tolist() == [[1, 0, -1]]
