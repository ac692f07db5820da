"""Property: on random small tables with margins, every primary's attacker interval has width
>= 1, checked by an LP written here from the labels (independent of the engine's audit)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from steward.privacy.suppression import PRIMARY, PUBLISHED, Dim, cross_table, suppress


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Dim], np.ndarray]:
    n_dims = draw(st.integers(2, 3))
    sizes = [draw(st.integers(2, 4)) for _ in range(n_dims)]
    if n_dims == 3:
        sizes = [min(s, 3) for s in sizes]
    cells = int(np.prod(sizes))
    small = st.integers(0, 12)
    big = st.integers(10, 40)
    values = draw(st.lists(st.one_of(small, small, big), min_size=cells, max_size=cells))
    dims = [Dim(f"d{k}", tuple(f"c{i}" for i in range(s))) for k, s in enumerate(sizes)]
    return dims, np.asarray(values, dtype=np.int64).reshape(sizes)


def independent_interval(
    dims: list[Dim], counts: np.ndarray, labels: list[tuple[str, ...]], published: list[bool], target: int
) -> tuple[float, float]:
    """min/max of the target over y >= 0 agreeing with every published cell."""
    inner = list(itertools.product(*[d.codes for d in dims]))
    y = counts.reshape(-1)

    def member(label: tuple[str, ...]) -> np.ndarray:
        return np.asarray(
            [all(c == "Total" or c == code for c, code in zip(label, key, strict=True)) for key in inner],
            dtype=np.float64,
        )

    rows = [member(lab) for lab, pub in zip(labels, published, strict=True) if pub]
    a_eq = np.vstack(rows) if rows else None
    b_eq = a_eq @ y if a_eq is not None else None
    c = member(labels[target])
    lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    assert lo.status == 0
    upper = np.inf if hi.status == 3 else -hi.fun
    return lo.fun, upper


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["publish", "protect"]))
def test_every_primary_has_width_at_least_one(table: tuple[list[Dim], np.ndarray], zeros: str) -> None:
    dims, counts = table
    problem = cross_table(dims, counts)
    result = suppress(problem, threshold=10, zeros="protect" if zeros == "protect" else "publish")
    labels = list(problem.labels)
    published = [bool(s == PUBLISHED) for s in result.status]
    for j in np.flatnonzero(result.status == PRIMARY).tolist():
        lo, hi = independent_interval(dims, counts, labels, published, j)
        assert hi - lo >= 1 - 1e-6, (labels[j], lo, hi)
        assert lo - 1e-6 <= problem.values[j] <= hi + 1e-6
