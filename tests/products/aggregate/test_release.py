"""The release model of a report (pure): published cells, numerators, partitions, coded bounds."""

from __future__ import annotations

import numpy as np
import pytest

from steward.products.aggregate import release as rel

DIMS = ("school", "grade", "group")
TABLES = (("school", "grade"), ("school", "group"))
KEYS = [("s1", "5", "a"), ("s1", "5", "b"), ("s1", "6", "a"), ("s2", "5", "b")]
COUNTS = [12, 30, 4, 25]
MET = [1, 0, 4, 24]


def test_published_cells_sum_their_inner_cells() -> None:
    built = rel.build(DIMS, TABLES, KEYS, COUNTS, MET)
    value = {label: built.value(j) for label, j in built.groups.items()}
    assert value[("*", "*", "*")] == 71
    assert value[("s1", "*", "*")] == 46
    assert value[("s1", "5", "*")] == 42
    assert value[("s1", "*", "a")] == 16
    assert value[("*", "*", "b")] == 55
    assert ("s1", "5", "a") not in built.groups  # school x grade x group is not a table
    met = {label: built.value(j) for label, j in built.numerators.items()}
    assert met[("*", "*", "*")] == 29
    assert met[("s1", "*", "a")] == 5
    p = built.problem
    for label, j in built.numerators.items():
        assert p.denominator[j] == built.groups[label]
    assert all(p.denominator[j] == -1 for j in built.groups.values())


def test_partitions_add_up() -> None:
    p = rel.build(DIMS, TABLES, KEYS, COUNTS, MET).problem
    dense = p.cells.toarray()
    checked = 0
    for j, parts in enumerate(p.partitions):
        for members in parts:
            assert np.array_equal(dense[members].sum(axis=0), dense[j])
            checked += 1
    assert checked > 0


def test_count_release_has_no_numerators() -> None:
    built = rel.build(DIMS, TABLES, KEYS, COUNTS)
    assert not built.numerators
    assert built.problem.n_inner == len(KEYS)


@pytest.mark.parametrize(("n", "bound"), [(9, None), (10, 10), (19, 10), (20, 5), (49, 5), (50, 2), (100, 1)])
def test_bands(n: int, bound: int | None) -> None:
    assert rel.band(n) == bound


def test_every_band_leaves_two_possible_counts() -> None:
    """A coded bound never pins the count (that would reveal it through N)."""
    for n in range(10, 2000):
        bound = rel.band(n)
        assert bound is not None
        assert bound * n // 100 >= 1


def test_coded_inequalities_hold_for_the_true_table() -> None:
    built = rel.build(DIMS, TABLES, KEYS, COUNTS, MET, top_bottom=True)
    assert set(built.coded.values()) == {"top", "bottom"}
    ineq = built.problem.inequalities
    values = np.asarray(ineq.rows @ built.problem.inner).ravel()
    assert np.all(values >= ineq.lower)
    assert np.all(values <= ineq.upper)
    assert rel.coding(1, 25) == "bottom"
    assert rel.coding(24, 25) == "top"
    assert rel.coded_label("bottom", 25) == "≤5%"
    assert rel.coded_label("top", 25) == "≥95%"


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of"):
        rel.build(DIMS, (("school", "nope"),), KEYS, COUNTS)
    with pytest.raises(ValueError, match="between 0 and the count"):
        rel.build(DIMS, TABLES, KEYS, COUNTS, [13, 0, 0, 0])
