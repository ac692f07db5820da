"""The bound-aware attacker: min and max of a suppressed cell over every table consistent with
the release (``y >= 0``, published sums, coded inequalities), per connected component.

Only suppressed inner cells are unknowns; a published sum implied by published parts is dropped;
the rest splits into independent components, so each LP is small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

from steward.privacy.suppression.model import BoolArray, IntArray, Problem
from steward.privacy.suppression.primary import knowers


class SolverError(RuntimeError):
    """The LP/ILP solver did not return an optimum (it should always: the true table is feasible)."""


@dataclass(frozen=True)
class Interval:
    """The attacker's feasibility interval of one cell; ``None`` bounds mean unbounded."""

    lower: float
    upper: float | None
    integer: bool

    @property
    def width(self) -> float:
        return np.inf if self.upper is None else self.upper - self.lower


@dataclass(frozen=True)
class _Sub:
    cols: IntArray
    a_eq: Any
    b_eq: Any
    a_ub: Any
    lo: Any
    hi: Any


class Attacker:
    """Everything an outsider knows from one suppression pattern, ready for interval queries."""

    def __init__(self, problem: Problem, suppressed: BoolArray, singleton: BoolArray) -> None:
        self.problem = problem
        self.suppressed = np.asarray(suppressed, dtype=np.bool_)
        x = problem.cells
        y = problem.inner
        n = problem.n_inner
        unit = problem.unit
        free = np.ones(n, dtype=np.bool_)
        has = unit >= 0
        free[has] = suppressed[unit[has]]
        self.free = free
        self.free_idx = np.flatnonzero(free)
        self.local = np.full(n, -1, dtype=np.int64)
        self.local[self.free_idx] = np.arange(self.free_idx.size)
        fixed_y = np.where(free, 0, y)
        self._const = np.asarray(x @ fixed_y, dtype=np.float64)

        published = ~np.asarray(suppressed, dtype=np.bool_)
        keep = published.copy()
        for j in np.flatnonzero(published).tolist():
            for part in problem.partitions[j] if problem.partitions else ():
                if published[part].all():
                    keep[j] = False
                    break
        xc = x.tocsc()
        xf = xc[:, self.free_idx].tocsr()
        rows = np.flatnonzero(keep & (np.diff(xf.indptr) > 0))
        self.a = xf[rows]
        self.b = problem.values[rows] - self._const[rows]
        ineq = problem.inequalities
        gf = ineq.rows.tocsc()[:, self.free_idx].tocsr()
        g_const = np.asarray(ineq.rows @ fixed_y, dtype=np.float64)
        grows = np.flatnonzero(np.diff(gf.indptr) > 0)
        self.g = gf[grows]
        self.glo = ineq.lower[grows] - g_const[grows]
        self.ghi = ineq.upper[grows] - g_const[grows]
        self.singleton_rows = np.flatnonzero(singleton & suppressed)
        self._single_rows = {
            int(r): (xf.indices[xf.indptr[r] : xf.indptr[r + 1]], xf.data[xf.indptr[r] : xf.indptr[r + 1]])
            for r in self.singleton_rows.tolist()
        }
        self.s = xf[self.singleton_rows]
        self.xf = xf

        stacked = sp.vstack([self.a, self.g, self.s], format="csr")
        nf = self.free_idx.size
        nr = stacked.shape[0]
        inc = sp.csr_matrix((np.ones(stacked.nnz), stacked.indices, stacked.indptr), shape=(nr, nf))
        graph = sp.bmat([[None, inc.T], [inc, None]], format="csr") if nr and nf else None
        if graph is None:
            self.comp = np.arange(nf)
        else:
            _, labels = connected_components(graph, directed=False)
            self.comp = labels[:nf]
        self._row_comp = self._comp_of_rows(self.a)
        self._g_comp = self._comp_of_rows(self.g)
        self._cache: dict[tuple[int, ...], _Sub] = {}

    def _comp_of_rows(self, mat: Any) -> IntArray:
        out = np.full(mat.shape[0], -1, dtype=np.int64)
        nz = np.diff(mat.indptr) > 0
        out[nz] = self.comp[mat.indices[mat.indptr[:-1][nz]]]
        return out

    def component_of(self, j: int) -> tuple[int, ...]:
        """The components touched by published cell ``j`` (empty: ``j`` is fully determined)."""
        row = self.xf[j]
        return tuple(sorted(set(self.comp[row.indices].tolist())))

    def _sub(self, comps: tuple[int, ...]) -> _Sub:
        hit = self._cache.get(comps)
        if hit is not None:
            return hit
        in_comp = np.isin(self.comp, comps)
        cols = np.flatnonzero(in_comp)
        rows = np.flatnonzero(np.isin(self._row_comp, comps))
        grows = np.flatnonzero(np.isin(self._g_comp, comps))
        sub = _Sub(
            cols=cols,
            a_eq=self.a[rows][:, cols],
            b_eq=self.b[rows].astype(np.float64),
            a_ub=self.g[grows][:, cols],
            lo=self.glo[grows],
            hi=self.ghi[grows],
        )
        self._cache[comps] = sub
        return sub

    def interval(
        self,
        target: int,
        *,
        integer: bool | Literal["auto"] = False,
        knowing: Sequence[int] = (),
    ) -> Interval:
        """Min and max of published cell ``target`` (LP, or integer with ``True``/``"auto"``);
        ``knowing`` lists singleton cells whose student joins the attacker."""
        return self.solve(target, integer=integer, knowing=knowing)[0]

    def solve(
        self,
        target: int,
        *,
        integer: bool | Literal["auto"] = False,
        knowing: Sequence[int] = (),
    ) -> tuple[Interval, dict[int, float] | None]:
        """The interval and, per singleton of the component, whether both optimal tables keep
        its value (``{s: 0.0}``) or move it (``{s: 1.0}``); ``None`` if not computed."""
        row = self.xf[target]
        const = float(self._const[target])
        if row.nnz == 0:
            return Interval(const, const, bool(integer)), None
        comps = self.component_of(target)
        sub = self._sub(comps)
        pos = np.searchsorted(sub.cols, row.indices)
        c = np.zeros(sub.cols.size)
        c[pos] = row.data
        a_eq, b_eq = sub.a_eq, sub.b_eq
        extra = []
        extra_b = []
        for s in knowing:
            srow = self.xf[s]
            if srow.nnz == 0 or s == target:
                continue
            keep = np.isin(self.comp[srow.indices], comps)
            if not keep.any():
                continue
            e = np.zeros(sub.cols.size)
            e[np.searchsorted(sub.cols, srow.indices[keep])] = srow.data[keep]
            extra.append(e)
            extra_b.append(float(self.problem.values[s] - self._const[s]))
        if extra:
            a_eq = sp.vstack([a_eq, sp.csr_matrix(np.vstack(extra))], format="csr")
            b_eq = np.concatenate([b_eq, np.asarray(extra_b)])
        lo, x_lo = self._bound(c, a_eq, b_eq, sub, integer)
        hi, x_hi = self._bound(-c, a_eq, b_eq, sub, integer)
        if lo is None:  # published cells are sums with y >= 0: bounded below
            raise SolverError("attacker minimum unbounded")
        moved: dict[int, float] | None = None
        if x_lo is not None and x_hi is not None:
            moved = {}
            for s, (s_idx, s_val) in self._single_rows.items():
                keep = np.isin(self.comp[s_idx], comps)
                if not keep.any():
                    continue
                at = np.searchsorted(sub.cols, s_idx[keep])
                want = float(self.problem.values[s] - self._const[s])
                a = float(s_val[keep] @ x_lo[at])
                b = float(s_val[keep] @ x_hi[at])
                moved[s] = 0.0 if abs(a - want) < 1e-7 and abs(b - want) < 1e-7 else 1.0
        return Interval(const + lo, None if hi is None else const - hi, bool(integer)), moved

    @classmethod
    def _bound(
        cls, c: Any, a_eq: Any, b_eq: Any, sub: _Sub, integer: bool | Literal["auto"]
    ) -> tuple[float | None, Any]:
        """LP, ILP, or ("auto") the LP when its optimal vertex is integral, else the ILP."""
        if integer == "auto":
            value, x = cls._solve(c, a_eq, b_eq, sub, False)
            if x is None or np.all(np.abs(x - np.round(x)) < 1e-7):
                return value, x
            return cls._solve(c, a_eq, b_eq, sub, True)
        return cls._solve(c, a_eq, b_eq, sub, bool(integer))

    @staticmethod
    def _solve(c: Any, a_eq: Any, b_eq: Any, sub: _Sub, integer: bool) -> tuple[float | None, Any]:
        """The minimum of ``c . y`` and its minimiser; ``None`` when unbounded below."""
        n = c.size
        if integer:
            cons = []
            if a_eq.shape[0]:
                cons.append(LinearConstraint(a_eq, b_eq, b_eq))
            if sub.a_ub.shape[0]:
                cons.append(LinearConstraint(sub.a_ub, sub.lo, sub.hi))
            res = milp(c, constraints=cons, integrality=np.ones(n), bounds=Bounds(0, np.inf))
            if res.status == 3 or (res.status != 0 and "unbounded" in str(res.message).lower()):
                return None, None
            if res.status != 0:
                raise SolverError(f"ILP failed: {res.message}")
            return float(round(res.fun)), res.x
        a_ub = b_ub = None
        if sub.a_ub.shape[0]:
            parts, rhs = [], []
            up = np.isfinite(sub.hi)
            if up.any():
                parts.append(sub.a_ub[np.flatnonzero(up)])
                rhs.append(sub.hi[up])
            dn = np.isfinite(sub.lo)
            if dn.any():
                parts.append(-sub.a_ub[np.flatnonzero(dn)])
                rhs.append(-sub.lo[dn])
            if parts:
                a_ub = sp.vstack(parts, format="csr")
                b_ub = np.concatenate(rhs)
        res = linprog(
            c,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq if a_eq.shape[0] else None,
            b_eq=b_eq if a_eq.shape[0] else None,
            bounds=(0, None),
            method="highs",
        )
        if res.status == 3:
            return None, None
        if res.status != 0:
            raise SolverError(f"LP failed: {res.message}")
        return float(res.fun), res.x


def neighbourhood(
    problem: Problem, start: IntArray, *, max_cells: int = 1500, max_row: int = 400
) -> IntArray:
    """Inner cells reachable from ``start`` through published sums of at most ``max_row`` cells,
    breadth first, up to about ``max_cells``: where a cheap protecting direction usually lies."""
    x = problem.cells
    xt = problem.cells_by_inner
    lengths = np.diff(x.indptr)
    seen = np.zeros(problem.n_inner, dtype=np.bool_)
    seen[start] = True
    frontier = np.asarray(start, dtype=np.int64)
    total = frontier.size
    while frontier.size and total < max_cells:
        rows = np.unique(np.concatenate([xt.indices[xt.indptr[i] : xt.indptr[i + 1]] for i in frontier]))
        rows = rows[lengths[rows] <= max_row]
        if rows.size == 0:
            break
        cells = np.unique(np.concatenate([x.indices[x.indptr[r] : x.indptr[r + 1]] for r in rows]))
        cells = cells[~seen[cells]]
        if total + cells.size > max_cells:
            cells = cells[: max_cells - total]
        seen[cells] = True
        total += cells.size
        frontier = cells
    return np.flatnonzero(seen)


def repair_direction(
    problem: Problem,
    suppressed: BoolArray,
    singleton: BoolArray,
    target: int,
    cols: IntArray | None = None,
) -> IntArray:
    """Published cells to suppress so that ``target`` can move by one (LP relaxation).

    Minimises the cost of the published sums a direction ``d`` must break, with ``y + d >= 0``,
    coded bounds kept and other singletons fixed (a Fischetti-Salazar style single-cell cut).
    ``cols`` restricts ``d`` to those inner cells (a neighbourhood; any answer stays valid).
    """
    x_all = problem.cells
    m = x_all.shape[0]
    if cols is None:
        cols = np.arange(problem.n_inner)
    xc = problem.cells_by_inner[cols].T.tocsr()  # (m x len(cols))
    n = cols.size
    y = problem.inner[cols].astype(np.float64)
    published = ~np.asarray(suppressed, dtype=np.bool_)
    touched = np.diff(xc.indptr) > 0
    attackers = np.zeros(m, dtype=np.bool_)
    attackers[knowers(problem, singleton & suppressed, target)] = True
    fixed = touched & (published | attackers)
    rows = np.flatnonzero(fixed)
    xr = xc[rows]
    k = rows.size
    eye = sp.identity(k, format="csr")
    releasable = (published & ~singleton)[rows]
    a_eq = sp.vstack(
        [
            sp.hstack([xr, -xr, -eye, eye], format="csr"),
            sp.hstack([xc[[target]], -xc[[target]], sp.csr_matrix((1, 2 * k))], format="csr"),
        ],
        format="csr",
    )
    b_eq = np.concatenate([np.zeros(k), [1.0]])
    ineq = problem.inequalities
    a_ub = b_ub = None
    if ineq.count:
        g = ineq.rows.tocsc()[:, cols].tocsr()
        base = np.asarray(ineq.rows @ problem.inner, dtype=np.float64).ravel()
        blocks, rhs = [], []
        up = np.isfinite(ineq.upper)
        if up.any():
            gu = g[np.flatnonzero(up)]
            blocks.append(sp.hstack([gu, -gu, sp.csr_matrix((gu.shape[0], 2 * k))]))
            rhs.append(ineq.upper[up] - base[up])
        dn = np.isfinite(ineq.lower)
        if dn.any():
            gd = g[np.flatnonzero(dn)]
            blocks.append(sp.hstack([-gd, gd, sp.csr_matrix((gd.shape[0], 2 * k))]))
            rhs.append(base[dn] - ineq.lower[dn])
        a_ub = sp.vstack(blocks, format="csr")
        b_ub = np.concatenate(rhs)
    cost_rows = problem.cost[rows]
    c = np.concatenate([np.full(2 * n, 1e-3), cost_rows, cost_rows])
    big = np.where(releasable, np.inf, 0.0)
    units = problem.unit[cols]
    blocked = (units >= 0) & attackers[np.maximum(units, 0)]
    ub = np.concatenate([np.where(blocked, 0.0, np.inf), np.where(blocked, 0.0, y), big, big])
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=np.column_stack([np.zeros(ub.size), ub]),
        method="highs",
    )
    if res.status != 0:
        return np.zeros(0, dtype=np.int64)
    slack = res.x[2 * n : 2 * n + k] + res.x[2 * n + k :]
    return np.asarray(sorted(rows[slack > 1e-7].tolist()), dtype=np.int64)
