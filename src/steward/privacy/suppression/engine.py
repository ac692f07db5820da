"""The facade: primaries, secondary suppression (fast or optimal), cleanup, certificate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from steward.privacy.suppression.audit import Attacker, neighbourhood, repair_direction
from steward.privacy.suppression.certificate import (
    Certificate,
    certify,
    check_by_attacker,
)
from steward.privacy.suppression.circuits import Circuit, CircuitSearch
from steward.privacy.suppression.cleanup import cleanup
from steward.privacy.suppression.model import BoolArray, Problem
from steward.privacy.suppression.primary import Zeros, overlapping, primaries, singletons

Method = Literal["fast", "optimal"]

PUBLISHED, PRIMARY, SECONDARY = 0, 1, 2
_DEEP_CLEANUP_CELLS = 5_000
STATUS_NAMES = ("published", "primary", "secondary")


@dataclass(frozen=True, eq=False)
class Result:
    """Per published cell a status (``PUBLISHED``, ``PRIMARY``, ``SECONDARY``) and the proof."""

    problem: Problem
    status: npt.NDArray[np.int8]
    certificate: Certificate

    @property
    def suppressed(self) -> BoolArray:
        return np.asarray(self.status != PUBLISHED, dtype=np.bool_)

    def status_name(self, j: int) -> str:
        return STATUS_NAMES[int(self.status[j])]

    def published_value(self, j: int) -> int | None:
        return None if self.status[j] != PUBLISHED else int(self.problem.values[j])

    @property
    def n_secondary(self) -> int:
        return int(np.count_nonzero(self.status == SECONDARY))


def _assign(
    search: CircuitSearch,
    circuit: Circuit,
    target: int,
    primary: BoolArray,
    singleton: BoolArray,
    witnesses: dict[int, Circuit],
) -> None:
    """A circuit found for one primary also witnesses every other primary it moves, unless it
    moves a singleton whose student is an attacker for that primary."""
    witnesses[target] = circuit
    rows, _ = search.changes(circuit)
    rows = rows[rows < search.m]
    moved_single = {r for r in rows.tolist() if singleton[r]}
    for q in rows.tolist():
        if primary[q] and q not in witnesses:
            if moved_single and not moved_single <= overlapping(search.problem, singleton, q) | {q}:
                continue
            witnesses[q] = circuit


def _fast(
    problem: Problem, primary: BoolArray, singleton: BoolArray, budget: int
) -> tuple[BoolArray, dict[int, Circuit]]:
    """Greedy by value: each primary without a witness circuit gets the cheapest protecting
    direction of an LP on its neighbourhood; its broken sums become secondaries."""
    search = CircuitSearch(problem, primary, singleton)
    witnesses: dict[int, Circuit] = {}
    prim = np.flatnonzero(primary)
    order = prim[np.lexsort((prim, -problem.values[prim]))]
    unresolved: list[int] = []
    for p in order.tolist():
        if p in witnesses:
            continue
        w = search.find(p)
        if w is None:
            start = problem.cells.indices[problem.cells.indptr[p] : problem.cells.indptr[p + 1]]
            cols = neighbourhood(problem, start)
            for r in repair_direction(problem, search.suppressed, singleton, p, cols).tolist():
                search.suppress(r)
            w = search.find(p, budget=budget)
        if w is None:
            unresolved.append(p)
            continue
        _assign(search, w, p, primary, singleton, witnesses)

    for _round in range(8):
        pending = [p for p in unresolved if p not in witnesses]
        if not pending:
            break
        attacker = Attacker(problem, search.suppressed, singleton)
        still = [p for p in pending if check_by_attacker(attacker, p, singleton, 1)[1]]
        if not still:
            break
        for p in still:
            for r in repair_direction(problem, search.suppressed, singleton, p).tolist():
                search.suppress(r)
            w = search.find(p, budget=budget)
            if w is not None:
                _assign(search, w, p, primary, singleton, witnesses)
        unresolved = still

    before = search.suppressed.copy()
    cleanup(search, primary, witnesses)
    if problem.n_cells <= _DEEP_CLEANUP_CELLS:
        # a second, deeper pass: longer circuits may free cells the first pass had to keep
        search.max_cells *= 2
        cleanup(search, primary, witnesses, budget=budget)
        search.max_cells //= 2
    lp_only = [p for p in prim.tolist() if p not in witnesses]
    if lp_only:
        attacker = Attacker(problem, search.suppressed, singleton)
        if any(check_by_attacker(attacker, p, singleton, 1)[1] for p in lp_only):
            return before, witnesses
    return search.suppressed.copy(), witnesses


def suppress(
    problem: Problem,
    threshold: int = 10,
    method: Method = "fast",
    zeros: Zeros = "publish",
    *,
    forced: BoolArray | None = None,
    intervals: bool = False,
    budget: int = 2000,
) -> Result:
    """Protect ``problem``: every primary's attacker interval gets width >= 1.

    ``forced`` marks extra cells to protect (top/bottom coded values, whose bounds must be in
    ``problem.inequalities``). ``intervals`` adds each primary's attacker min and max to the
    certificate (LP per component; costs time on large tables). Raises ``CertificateError``
    rather than return a release that fails its certificate.
    """
    if method not in ("fast", "optimal"):
        raise ValueError(f"method must be 'fast' or 'optimal', not {method!r}")
    primary = primaries(problem, threshold, zeros, forced)
    singleton = singletons(problem, primary)
    if method == "optimal":
        from steward.privacy.suppression.optimal import optimal

        suppressed, witnesses = optimal(problem, primary, singleton)
    else:
        suppressed, witnesses = _fast(problem, primary, singleton, budget)
    cert = certify(problem, suppressed, primary, singleton, witnesses, intervals=intervals)
    status = np.where(primary, PRIMARY, np.where(suppressed, SECONDARY, PUBLISHED)).astype(np.int8)
    return Result(problem, status, cert)
