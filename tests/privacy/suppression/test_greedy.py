"""The fast method's cleanup: repeated while a pass publishes cells again."""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np

from steward.privacy.suppression import Dim, cross_table, greedy, suppress
from steward.privacy.suppression.engine import PRIMARY


def _table() -> Any:
    """8 schools x 5 grades x 3 groups, mixed small and medium counts (a seed where a second
    cleanup pass publishes cells the first could not)."""
    rng = np.random.default_rng(9)
    counts = rng.poisson(rng.choice([2.0, 12.0], size=(8, 5, 3)))
    dims = [
        Dim("school", tuple(f"s{i}" for i in range(8))),
        Dim("grade", tuple("12345")),
        Dim("group", ("a", "b", "c")),
    ]
    return cross_table(dims, counts)


def test_cleanup_repeats_while_it_publishes_cells() -> None:
    problem = _table()
    real = greedy._cleanup
    calls: list[int] = []

    def counting(*args: Any) -> int:
        n = real(*args)
        calls.append(n)
        return n

    with mock.patch.object(greedy, "_cleanup", counting):
        result = suppress(problem)
    assert len(calls) >= 2, calls
    assert calls[1] > 0, calls
    assert all(n > 0 for n in calls[:-1])
    assert calls[-1] == 0 or len(calls) == greedy._CLEANUP_PASSES
    with mock.patch.object(greedy, "_CLEANUP_PASSES", 1):
        once = suppress(problem)
    assert result.n_secondary < once.n_secondary
    # the certificate still proves every primary (suppress raises otherwise), by a circuit here
    proofs = {e.proof for e in result.certificate.entries}
    assert proofs == {"circuit"}
    assert len(result.certificate.entries) == int(np.count_nonzero(result.status == PRIMARY))
