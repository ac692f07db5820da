"""The ``fast`` method: a witness circuit per primary, cheapest first, then cleanup.

On a cross-classified release (``Problem.grid``) every primary gets its cheapest hypercube
(``hypercube.py``), hardest primaries first; the cells that circuit moves become secondary
suppressions and the circuit witnesses every other primary it moves. Primaries left without a
hypercube, and releases without a grid, go through the general path: depth-first circuit search,
then an LP repair on the primary's neighbourhood, then the exact attacker. Cleanup publishes
secondaries again, most valuable first, when every primary whose witness used the cell finds
another witness among the suppressed cells.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from steward.privacy.suppression.audit import Attacker, neighbourhood, repair_direction
from steward.privacy.suppression.certificate import check_by_attacker
from steward.privacy.suppression.circuits import Circuit, CircuitSearch
from steward.privacy.suppression.cleanup import cleanup
from steward.privacy.suppression.hypercube import Found, Hypercubes, best_cycle
from steward.privacy.suppression.model import BoolArray, IntArray, Problem
from steward.privacy.suppression.primary import overlapping

_DEEP_CLEANUP_CELLS = 5_000
#: Up to this many published cells, cleanup also tries general (non-hypercube) circuits.
_GENERAL_CLEANUP_CELLS = 25_000

Witnesses = dict[int, Circuit]
#: Up to this many published cells, witnesses may also be cycles (Dijkstra in a plane) where
#: hypercubes cost more: fewer suppressions, several times the time.
_CYCLE_CELLS = 25_000
#: Best-response rounds after the greedy pass.
_ROUNDS = 2
#: Cleanup passes at most (up to ``_DEEP_CLEANUP_CELLS`` published cells; one pass above).
_CLEANUP_PASSES = 3
#: Up to this many published cells every candidate is evaluated; above, per dimension the free
#: choices and the ``_KEEP`` cheapest others (by the cell they move next to the primary).
_KEEP_ALL_CELLS = 5_000
_KEEP = 12


def fast(
    problem: Problem, primary: BoolArray, singleton: BoolArray, budget: int
) -> tuple[BoolArray, Witnesses]:
    """The suppression pattern and a witness circuit per primary (where one was found)."""
    if problem.grid is None:
        return _general(problem, primary, singleton, budget)
    return _structured(problem, primary, singleton, budget)


# ---------------------------------------------------------------------- structured (grid)


class _Book:
    """Witnesses, per published cell the primaries whose witness moves it, and how many."""

    def __init__(self, primary: BoolArray, singleton: BoolArray, hc: Hypercubes | None = None) -> None:
        self.primary = primary
        self.singleton = singleton
        self.hc = hc
        self.search: CircuitSearch | None = None  # kept in step with ``hc`` once set
        self.witnesses: Witnesses = {}
        self.rows: dict[int, IntArray] = {}
        self.dep: dict[int, set[int]] = defaultdict(set)
        self.usage = np.zeros(primary.size, dtype=np.int64)

    def give(self, p: int, circuit: Circuit, rows: IntArray, *, share: bool) -> None:
        self._set(p, circuit, rows)
        if not share:
            return
        moved_single = rows[self.singleton[rows]]
        for q in rows[self.primary[rows]].tolist():
            if q in self.witnesses or np.any(moved_single != q):
                continue
            self._set(q, circuit, rows)

    def drop(self, p: int) -> None:
        """Forget ``p``'s witness; cells no witness moves any more are published again."""
        old = self.rows.pop(p, None)
        self.witnesses.pop(p, None)
        if old is None:
            return
        for r in old.tolist():
            self.dep[r].discard(p)
        self.usage[old] -= 1
        if self.hc is not None:
            free = old[(self.usage[old] == 0) & ~self.primary[old]]
            for r in free.tolist():
                self.hc.publish(r)
                if self.search is not None:
                    self.search.publish(r)

    def _set(self, p: int, circuit: Circuit, rows: IntArray) -> None:
        self.drop(p)
        self.witnesses[p] = circuit
        self.rows[p] = rows
        for r in rows.tolist():
            self.dep[r].add(p)
        self.usage[rows] += 1
        if self.hc is not None:
            if self.search is not None:
                for r in rows[~self.hc.suppressed[rows]].tolist():
                    self.search.suppress(r)
            self.hc.suppress(rows)


def _structured(
    problem: Problem, primary: BoolArray, singleton: BoolArray, budget: int
) -> tuple[BoolArray, Witnesses]:
    hc = Hypercubes(problem, primary, singleton)
    book = _Book(primary, singleton, hc)
    prim = np.flatnonzero(primary)
    feasible = np.zeros(prim.size, dtype=np.int64)
    cheapest = np.full(prim.size, np.inf)
    keep = _KEEP if problem.n_cells > _KEEP_ALL_CELLS else 0
    for n, p in enumerate(prim.tolist()):
        found = hc.best(p, keep=keep)
        if found is not None:
            feasible[n] = found.feasible
            cheapest[n] = found.cost
    # hardest first: most expensive cheapest candidate, then fewest candidates
    order = prim[np.lexsort((prim, feasible, -cheapest))]
    left: list[int] = []
    for p in order.tolist():
        if p in book.witnesses:
            continue
        found = _choose(hc, p, cycles=hc.problem.n_cells <= _CYCLE_CELLS)
        if found is None:
            left.append(p)
            continue
        book.give(p, found.circuit, found.rows, share=True)
    _improve(hc, book, order, rounds=_ROUNDS)

    search: CircuitSearch | None = None
    if left or problem.n_cells <= _GENERAL_CLEANUP_CELLS:
        search = CircuitSearch(problem, hc.suppressed, singleton)
        book.search = search
    if left:
        assert search is not None
        _repair(problem, search, left, primary, singleton, budget, book)
        extra = np.flatnonzero(search.suppressed & ~hc.suppressed)
        hc.suppress(extra)
        book.usage[extra] += 1  # kept for the primaries the repair protects

    before = hc.suppressed.copy()
    # re-witnessing frees cells a cell tried earlier needed: repeat while that publishes any
    for _ in range(_CLEANUP_PASSES if problem.n_cells <= _DEEP_CLEANUP_CELLS else 1):
        if not _cleanup(hc, search, book):
            break
    lp_only = [p for p in prim.tolist() if p not in book.witnesses]
    if lp_only:
        attacker = Attacker(problem, hc.suppressed, singleton)
        if any(check_by_attacker(attacker, p, singleton, 1)[1] for p in lp_only):
            return before, book.witnesses
    return hc.suppressed.copy(), book.witnesses


def _choose(hc: Hypercubes, p: int, *, cycles: bool, only_free: bool = False) -> Found | None:
    """The cheapest witness for ``p``: a hypercube, or a cycle when that is cheaper."""
    keep = _KEEP if hc.problem.n_cells > _KEEP_ALL_CELLS else 0
    found = hc.best(p, only_free=only_free, keep=keep)
    if not cycles or (found is not None and found.cost == 0.0):
        return found
    other = best_cycle(hc, p, combos=2, keep=keep)
    if other is None or (only_free and other.cost > 0.0):
        return found
    if found is None or (other.cost, other.rows.size) < (found.cost, found.rows.size):
        return other
    return found


def _improve(hc: Hypercubes, book: _Book, order: IntArray, rounds: int) -> None:
    """Best response: each primary in turn gives up its witness and takes the cheapest one given
    everybody else's; repeated while the pattern gets cheaper."""
    cost = hc.problem.cost
    for _ in range(rounds):
        changed = 0
        for p in order.tolist():
            old = book.witnesses.get(p)
            if old is None:
                continue
            rows = book.rows[p]
            alone = rows[(book.usage[rows] == 1) & ~book.primary[rows]]
            if alone.size == 0:
                continue  # it costs nothing already
            old_cost = float(cost[alone].sum())
            book.drop(p)
            found = _choose(hc, p, cycles=hc.problem.n_cells <= _CYCLE_CELLS)
            if found is not None and found.cost < old_cost - 1e-9:
                book.give(p, found.circuit, found.rows, share=False)
                changed += 1
            else:
                book.give(p, old, rows, share=False)
        if not changed:
            break


def _cleanup(hc: Hypercubes, search: CircuitSearch | None, book: _Book) -> int:
    """Publish secondaries again, most valuable first, while every primary keeps a witness."""
    cost = hc.problem.cost
    secondary = np.flatnonzero(hc.suppressed & ~book.primary)
    order = secondary[np.lexsort((secondary, -cost[secondary]))]
    restored = 0
    for j in order.tolist():
        affected = sorted(book.dep.get(j, ()))
        hc.publish(j)
        if search is not None:
            search.publish(j)
        found: dict[int, tuple[Circuit, IntArray]] = {}
        for p in affected:
            f = _choose(hc, p, cycles=hc.problem.n_cells <= _CYCLE_CELLS, only_free=True)
            if f is not None:
                found[p] = (f.circuit, f.rows)
                continue
            if search is not None:
                w = search.find(p, budget=200)
                if w is not None:
                    rows, _ = search.changes(w)
                    found[p] = (w, rows[rows < search.m])
                    continue
            break
        if len(found) < len(affected):
            hc.suppress(np.asarray([j], dtype=np.int64))
            if search is not None:
                search.suppress(j)
            continue
        restored += 1
        for p, (w, rows) in found.items():
            book.give(p, w, rows, share=False)
    return restored


# ---------------------------------------------------------------------- general


def _repair(
    problem: Problem,
    search: CircuitSearch,
    todo: list[int],
    primary: BoolArray,
    singleton: BoolArray,
    budget: int,
    book: _Book,
) -> None:
    """Primaries without a witness: circuit search, LP repair on the neighbourhood, then the
    exact attacker with repairs over the whole release (up to 8 rounds)."""

    def give(p: int, w: Circuit) -> None:
        rows, _ = search.changes(w)
        rows = rows[rows < search.m]
        book.give(p, w, rows, share=False)
        moved_single = {r for r in rows.tolist() if singleton[r]}
        for q in rows.tolist():
            if primary[q] and q not in book.witnesses:
                if moved_single and not moved_single <= overlapping(problem, singleton, q) | {q}:
                    continue
                book.give(q, w, rows, share=False)

    unresolved: list[int] = []
    for p in todo:
        if p in book.witnesses:
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
        give(p, w)

    for _round in range(8):
        pending = [p for p in unresolved if p not in book.witnesses]
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
                give(p, w)
        unresolved = still


def _general(
    problem: Problem, primary: BoolArray, singleton: BoolArray, budget: int
) -> tuple[BoolArray, Witnesses]:
    """Releases without a grid: primaries in decreasing value through ``_repair``, then the
    general cleanup (a deeper second pass on small releases)."""
    search = CircuitSearch(problem, primary, singleton)
    book = _Book(primary, singleton)
    prim = np.flatnonzero(primary)
    order = prim[np.lexsort((prim, -problem.values[prim]))]
    _repair(problem, search, order.tolist(), primary, singleton, budget, book)
    witnesses = book.witnesses
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
