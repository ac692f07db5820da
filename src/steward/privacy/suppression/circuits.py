"""Integer circuits: cheap proofs that a suppressed cell is not determined.

A circuit is a +1/-1 vector ``d`` over inner cells that leaves every published sum (and every
coded value's row) unchanged and changes the target cell. Where ``d`` is -1 the true value is at
least 1, so ``y + d`` is another non-negative integer table consistent with the release: the
attacker's interval for the target has width at least 1. The search is depth-first, always
balancing the most constrained unbalanced sum; in repair mode it may also use published cells,
paying their cost, and those cells become secondary suppressions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from steward.privacy.suppression.model import BoolArray, FloatArray, IntArray, Problem
from steward.privacy.suppression.primary import overlapping


@dataclass(frozen=True)
class Circuit:
    """A witness ``d`` (inner cell -> +1/-1) and the published cells it needs suppressed."""

    cells: tuple[tuple[int, int], ...]
    released: frozenset[int]
    cost: float


class _StopSearchError(Exception):
    pass


class CircuitSearch:
    """Circuit search over a mutable suppression pattern.

    Rows ``0..m-1`` are published cells (balanced unless suppressed); rows ``m..`` are the coded
    values' inequality rows, which a circuit may move within their bounds.
    Singleton primaries stay balanced for every other target: their student knows them. A
    published sum whose parts are all published is implied by them and not searched on.
    """

    def __init__(
        self, problem: Problem, suppressed: BoolArray, singleton: BoolArray, max_cells: int = 0
    ) -> None:
        self.problem = problem
        self.m = m = problem.n_cells
        rows = sp.vstack([problem.cells, problem.inequalities.rows], format="csr")
        rows.sort_indices()
        cols = rows.T.tocsr()
        cols.sort_indices()
        self._rp, self._ri, self._rv = rows.indptr, rows.indices, rows.data
        self._cp, self._ci, self._cv = cols.indptr, cols.indices, cols.data
        self.suppressed = np.array(suppressed, dtype=np.bool_, copy=True)
        self.singleton = np.asarray(singleton, dtype=np.bool_)
        self.y = problem.inner
        self.unit = problem.unit
        self.cost = problem.cost
        n_dims = max(2, min(4, len(problem.fields)))
        self.max_cells = max_cells or 2**n_dims
        self._in_d = np.zeros(problem.n_inner, dtype=np.bool_)
        self._parents: dict[int, list[int]] = {}
        for j, parts in enumerate(problem.partitions):
            for part in parts:
                for c in part.tolist():
                    self._parents.setdefault(c, []).append(j)
        self.implied = np.zeros(m, dtype=np.bool_)
        for j in range(len(problem.partitions)):
            self.implied[j] = self._is_implied(j)
        self.cell_cost = self._cell_costs()
        self._ccl: list[float] = self.cell_cost.tolist()
        self._yl: list[int] = self.y.tolist()
        self._row_lists: dict[int, tuple[list[int], list[int]]] = {}
        self.cons = ((~self.suppressed) & ~self.implied) | self.singleton
        ineq = problem.inequalities
        self._g_base = np.asarray(ineq.rows @ self.y, dtype=np.float64).ravel()
        self._g_lo = ineq.lower
        self._g_hi = ineq.upper

    def _is_implied(self, j: int) -> bool:
        if not self.problem.partitions:
            return False
        return any(not self.suppressed[part].any() for part in self.problem.partitions[j])

    def _cell_costs(self) -> FloatArray:
        """0 for a free inner cell, the cost of publishing it otherwise, inf when frozen."""
        out = np.zeros(self.problem.n_inner, dtype=np.float64)
        has = self.unit >= 0
        u = self.unit[has]
        out[has] = np.where(self.suppressed[u], 0.0, self.cost[u])
        out[has] = np.where(self.singleton[u], np.inf, out[has])
        return out

    def suppress(self, r: int) -> None:
        self.suppressed[r] = True
        self._sync(r)

    def publish(self, r: int) -> None:
        self.suppressed[r] = False
        self._sync(r)

    def _sync(self, r: int) -> None:
        for j in [r, *self._parents.get(r, ())]:
            self.implied[j] = self._is_implied(j)
            self.cons[j] = (not self.suppressed[j] and not self.implied[j]) or self.singleton[j]
        if r < self.m and self._rp[r + 1] - self._rp[r] == 1:
            i = int(self._ri[self._rp[r]])
            if self.unit[i] == r:
                if self.singleton[r]:
                    self.cell_cost[i] = np.inf
                else:
                    self.cell_cost[i] = 0.0 if self.suppressed[r] else float(self.cost[r])
                self._ccl[i] = float(self.cell_cost[i])

    def changes(self, circuit: Circuit) -> tuple[IntArray, IntArray]:
        """Rows (published cells and inequality rows) that ``circuit`` changes, and by how much."""
        acc: dict[int, int] = {}
        for i, s in circuit.cells:
            p0, p1 = self._cp[i], self._cp[i + 1]
            for r, c in zip(self._ci[p0:p1].tolist(), self._cv[p0:p1].tolist(), strict=True):
                acc[r] = acc.get(r, 0) + c * s
        rows = np.fromiter((r for r, v in acc.items() if v != 0), dtype=np.int64)
        vals = np.fromiter((v for v in acc.values() if v != 0), dtype=np.int64)
        return rows, vals

    def find(self, target: int, *, repair: bool = False, budget: int = 200) -> Circuit | None:
        """A circuit that changes published cell ``target``; cheapest found within ``budget``
        nodes when ``repair`` (may use published cells), else the first one found."""
        found = self._search(target, repair, budget, 1)
        return found[0] if found else None

    def find_many(self, target: int, keep: int, budget: int) -> list[Circuit]:
        """Up to ``keep`` cheapest distinct circuits for ``target`` (published cells allowed)."""
        return self._search(target, True, budget, keep)

    def _search(self, target: int, repair: bool, budget: int, keep: int) -> list[Circuit]:
        rp, ri, rv = self._rp, self._ri, self._rv
        cp, ci, cv = self._cp, self._ci, self._cv
        m = self.m
        y = self.y
        supp = self.suppressed
        single = self.singleton
        # implied sums stop being implied once the search releases one of their parts
        cons = self.cons if not repair else (~supp[:m] | single[:m])
        cell_cost = self.cell_cost
        unit = self.unit
        cost = self.cost
        in_d = self._in_d
        ccl = self._ccl
        yl = self._yl
        row_lists = self._row_lists
        inf = float("inf")
        g_base, g_lo, g_hi = self._g_base, self._g_lo, self._g_hi
        t_cells = ri[rp[target] : rp[target + 1]]
        t_coef = dict(zip(t_cells.tolist(), rv[rp[target] : rp[target + 1]].tolist(), strict=True))
        exempt = overlapping(self.problem, single, target) if single.any() else set()
        restore: list[tuple[int, float]] = []
        for r in exempt:
            if supp[r] and rp[r + 1] - rp[r] == 1 and unit[ri[rp[r]]] == r:
                i = int(ri[rp[r]])
                restore.append((i, float(cell_cost[i])))
                cell_cost[i] = 0.0
                ccl[i] = 0.0

        d: dict[int, int] = {}
        imb: dict[int, int] = {}
        released: set[int] = set()
        best: list[Circuit] = []
        seen: set[tuple[tuple[int, int], ...]] = set()
        best_cost = [np.inf]
        nodes = [0]

        def apply(i: int, s: int) -> None:
            d[i] = s
            in_d[i] = True
            skip = unit[i]
            p0, p1 = cp[i], cp[i + 1]
            for r, c in zip(ci[p0:p1].tolist(), cv[p0:p1].tolist(), strict=True):
                if r != skip:
                    imb[r] = imb.get(r, 0) + c * s

        def undo(i: int) -> None:
            s = d.pop(i)
            in_d[i] = False
            skip = unit[i]
            p0, p1 = cp[i], cp[i + 1]
            for r, c in zip(ci[p0:p1].tolist(), cv[p0:p1].tolist(), strict=True):
                if r != skip:
                    imb[r] -= c * s

        def usable(r: int, v: int) -> list[tuple[int, int, float]]:
            hit = row_lists.get(r)
            if hit is None:
                hit = row_lists[r] = (ri[rp[r] : rp[r + 1]].tolist(), rv[rp[r] : rp[r + 1]].tolist())
            out = []
            for i, c in zip(hit[0], hit[1], strict=True):
                if i in d:
                    continue
                cc = ccl[i]
                if cc != 0.0 and (not repair or cc == inf):
                    continue
                sg = -1 if c * v > 0 else 1
                if sg < 0 and yl[i] < 1:
                    continue
                out.append((i, sg, cc))
            return out

        def closing(i: int, s: int, unb: dict[int, int]) -> int:
            """How many unbalanced rows adding ``s`` at cell ``i`` moves toward balance."""
            p0, p1 = cp[i], cp[i + 1]
            k = 0
            for r, c in zip(ci[p0:p1].tolist(), cv[p0:p1].tolist(), strict=True):
                v = unb.get(r)
                if v is not None and v * c * s < 0:
                    k += 1
            return k

        def coded_ok() -> bool:
            """Coded values are inequalities: the circuit may move them within their bounds."""
            for r, v in imb.items():
                if v and r >= m:
                    new = g_base[r - m] + v
                    if new < g_lo[r - m] - 1e-9 or new > g_hi[r - m] + 1e-9:
                        return False
            return True

        def record(total: float) -> None:
            rel = set(released)
            for i in d:
                u = unit[i]
                if u >= 0 and not supp[u]:
                    rel.add(int(u))
            cells = tuple(sorted(d.items()))
            flip = cells[0][1]
            key = tuple((i, s * flip) for i, s in cells)
            if key in seen:
                return
            seen.add(key)
            best.append(Circuit(cells, frozenset(rel), total))
            if keep == 1:
                best[:] = best[-1:]
                best_cost[0] = total
                if not repair or total == 0.0:
                    raise _StopSearchError
            elif len(best) >= keep:
                best.sort(key=lambda c: c.cost)
                del best[keep:]
                best_cost[0] = best[-1].cost

        def search(total: float) -> None:
            nodes[0] += 1
            if nodes[0] > budget:
                raise _StopSearchError
            unb = {
                r: v
                for r, v in imb.items()
                if v
                and r < m
                and r != target
                and r not in released
                and cons[r]
                and not (r in exempt and supp[r])
            }
            if not unb:
                if sum(t_coef.get(i, 0) * s for i, s in d.items()) and coded_ok():
                    record(total)
                return
            if len(d) >= self.max_cells:
                return
            chosen: tuple[int, list[tuple[int, int, float]]] | None = None
            # short rows first; long sums are only scanned when nothing shorter is unbalanced
            by_len = sorted(unb, key=lambda r: rp[r + 1] - rp[r])
            short = [r for r in by_len if rp[r + 1] - rp[r] <= 64] or by_len
            for r in short:
                v = unb[r]
                cand = usable(r, v)
                if chosen is None or len(cand) < len(chosen[1]):
                    chosen = (r, cand)
                    if not cand and not (repair and r < m and not single[r]):
                        return
            assert chosen is not None
            r, cand = chosen
            options: list[tuple[float, int, int, int, int]] = []
            for i, sg, c in cand:
                options.append((c, -closing(i, sg, unb), -min(yl[i], 1), i, sg))
            if repair and r < m and not single[r] and not supp[r]:
                options.append((float(cost[r]), 0, 0, -1 - r, 0))
            options.sort()
            for inc, _, _, x, s in options:
                if total + inc >= best_cost[0]:
                    break
                if x >= 0:
                    apply(x, s)
                    search(total + inc)
                    undo(x)
                else:
                    released.add(-1 - x)
                    search(total + inc)
                    released.discard(-1 - x)

        starts: list[tuple[float, int, int, int]] = []
        for i, coef in t_coef.items():
            c = 0.0 if unit[i] == target or unit[i] in exempt else float(cell_cost[i])
            if not np.isfinite(c) or (c > 0 and not repair):
                continue
            starts.append((c, -min(int(y[i]), 1), i, 1 if coef > 0 else -1))
            if y[i] >= 1:
                starts.append((c, 0, i, -1 if coef > 0 else 1))
        starts.sort()
        try:
            for c, _, i, s in starts:
                if c >= best_cost[0]:
                    break
                apply(i, s)
                search(c)
                undo(i)
        except _StopSearchError:
            pass
        finally:
            in_d[list(d)] = False
            for i, c in restore:
                cell_cost[i] = c
                ccl[i] = c
        return sorted(best, key=lambda c: c.cost)
