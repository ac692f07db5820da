"""Property: every witness circuit in the certificate is feasible, checked here from the labels
alone (published sums unchanged, non-negative, coded bounds kept, no other singleton moved)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.privacy.suppression import PRIMARY, CertificateError, Dim, cross_table, inequalities, suppress
from steward.privacy.suppression.certificate import verify_circuit, verify_circuits
from steward.privacy.suppression.circuits import Circuit
from steward.privacy.suppression.primary import singletons


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Dim], np.ndarray, dict[str, str]]:
    n_dims = draw(st.integers(2, 3))
    sizes = [draw(st.integers(2, 5 if n_dims == 2 else 4)) for _ in range(n_dims)]
    cells = int(np.prod(sizes))
    small = st.integers(0, 9)
    values = draw(st.lists(st.one_of(small, small, st.integers(8, 60)), min_size=cells, max_size=cells))
    parent: dict[str, str] = {}
    if draw(st.booleans()) and sizes[0] >= 3:
        parent = {f"c{i}": ("P" if i < sizes[0] // 2 else "Q") for i in range(sizes[0])}
    dims = [Dim("d0", tuple(f"c{i}" for i in range(sizes[0])), parent)]
    dims += [Dim(f"d{k}", tuple(f"c{i}" for i in range(s))) for k, s in enumerate(sizes) if k]
    return dims, np.asarray(values, dtype=np.int64).reshape(sizes), parent


def membership(dims: list[Dim], parent: dict[str, str], label: tuple[str, ...]) -> np.ndarray:
    """The 0/1 row of a published label over the inner cells, from the codes alone."""
    inner = list(itertools.product(*[d.codes for d in dims]))

    def inside(code: str, leaf: str, k: int) -> bool:
        return code in ("Total", leaf) or (k == 0 and parent.get(leaf) == code)

    return np.asarray(
        [
            all(inside(c, leaf, k) for k, (c, leaf) in enumerate(zip(label, key, strict=True)))
            for key in inner
        ],
        dtype=np.int64,
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.booleans(), st.data())
def test_every_witness_is_feasible(
    table: tuple[list[Dim], np.ndarray, dict[str, str]], coded: bool, data: st.DataObject
) -> None:
    dims, counts, parent = table
    problem = cross_table(dims, counts)
    y = counts.reshape(-1)
    if coded:  # a coded pair of inner cells: the attacker knows lower <= y_i - y_j <= upper
        i, j = data.draw(st.lists(st.integers(0, y.size - 1), min_size=2, max_size=2, unique=True))
        diff = int(y[i] - y[j])
        below, above = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
        problem = problem.with_inequalities(
            inequalities(y.size, [{i: 1, j: -1}], [diff - below], [diff + above])
        )
    try:
        result = suppress(problem, threshold=10)
    except CertificateError:
        assert coded, "without coded values a safe release always exists and must be found"
        return  # refusing is safe; what is released is what this test checks
    rows = np.vstack([membership(dims, parent, lab) for lab in problem.labels])
    assert np.array_equal(rows @ y, problem.values)
    published = result.status == 0
    single = np.flatnonzero((result.status == PRIMARY) & (problem.values == 1))
    ineq = problem.inequalities
    circuits = 0
    for entry in result.certificate.entries:
        if entry.proof != "circuit":
            continue
        circuits += 1
        assert entry.circuit is not None
        d = np.zeros(y.size, dtype=np.int64)
        for i, s in entry.circuit:
            assert s in (1, -1)
            d[i] += s
        change = rows @ d
        assert change[entry.cell] != 0, "the witness must move its primary"
        assert not np.any(change[published]), "a published sum would change"
        assert np.all(y + d >= 0), "the other table must be non-negative"
        if ineq.count:
            new = ineq.rows @ (y + d)
            assert np.all(new >= ineq.lower)
            assert np.all(new <= ineq.upper)
        for s in single.tolist():
            if s != entry.cell and change[s]:
                assert np.any(rows[s] & rows[entry.cell]), "moves a singleton its student knows"
    assert circuits >= len(result.certificate.entries) // 2 or not result.certificate.entries


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_batch_verification_agrees_with_one_by_one(
    table: tuple[list[Dim], np.ndarray, dict[str, str]],
) -> None:
    dims, counts, _ = table
    problem = cross_table(dims, counts)
    result = suppress(problem)
    primary = result.status == PRIMARY
    single = singletons(problem, primary)
    witnesses: dict[int, Circuit] = {}
    for entry in result.certificate.entries:
        if entry.circuit is not None:
            witnesses[entry.cell] = Circuit(entry.circuit, frozenset(), 0.0)
    batch = verify_circuits(problem, result.suppressed, single, witnesses)
    one = {p for p, w in witnesses.items() if verify_circuit(problem, result.suppressed, single, p, w)}
    assert batch == one == set(witnesses)
    published = np.flatnonzero(~result.suppressed)
    if witnesses and published.size:  # publishing a cell the witness moves breaks it
        p, w = next(iter(witnesses.items()))
        unsafe = result.suppressed.copy()
        moved = np.flatnonzero(
            np.asarray(problem.cells[:, [i for i, _ in w.cells]] @ [s for _, s in w.cells]).ravel()
        )
        unsafe[moved[moved != p][:1]] = False
        if moved.size > 1:
            assert p not in verify_circuits(problem, unsafe, single, {p: w})
