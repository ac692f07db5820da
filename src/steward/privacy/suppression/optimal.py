"""Optimal secondary suppression (Fischetti-Salazar): an ILP over "suppress cell j" with the
attacker's LP cuts added lazily (Benders), solved with scipy's HiGHS. For small tables and
sub-tables: every round solves two LPs per primary (and per singleton who could subtract).

Protection asked of every primary: the attacker's max is at least value + 1 and, for a non-zero
cell, the min at most value - 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from steward.privacy.suppression.audit import Attacker, SolverError
from steward.privacy.suppression.certificate import check_by_attacker
from steward.privacy.suppression.circuits import Circuit, CircuitSearch
from steward.privacy.suppression.model import BoolArray, FloatArray, Problem
from steward.privacy.suppression.primary import knowers

_TOL = 1e-6


class _AttackerLP:
    """max/min of one cell with the suppression pattern entering only through variable bounds:
    for published cell j, ``x_j . y - t_j = a_j`` with ``-a_j s_j <= t_j <= M s_j``."""

    def __init__(self, problem: Problem) -> None:
        x = problem.cells
        m, n = x.shape
        self.m, self.n = m, n
        self.a = problem.values.astype(np.float64)
        self.big = float(max(1, int(problem.values.max(initial=1))))
        self.a_eq = sp.hstack([x, -sp.identity(m, format="csr")], format="csr")
        ineq = problem.inequalities
        self.a_ub: Any = None
        self.b_ub: Any = None
        if ineq.count:
            blocks, rhs = [], []
            up = np.isfinite(ineq.upper)
            if up.any():
                blocks.append(sp.hstack([ineq.rows[np.flatnonzero(up)], sp.csr_matrix((int(up.sum()), m))]))
                rhs.append(ineq.upper[up])
            dn = np.isfinite(ineq.lower)
            if dn.any():
                blocks.append(sp.hstack([-ineq.rows[np.flatnonzero(dn)], sp.csr_matrix((int(dn.sum()), m))]))
                rhs.append(-ineq.lower[dn])
            self.a_ub = sp.vstack(blocks, format="csr")
            self.b_ub = np.concatenate(rhs)
        self.x = x

    def solve(
        self, target: int, pattern: FloatArray, sense: int, knowing: int | None
    ) -> tuple[float, FloatArray]:
        """Optimal value of ``sense * x_target . y`` (minimised) and the cut weights per cell:
        ``d value / d pattern_j`` from the bound marginals."""
        m, n = self.m, self.n
        lo_t = -self.a * pattern
        hi_t = self.big * pattern
        if knowing is not None:
            lo_t = lo_t.copy()
            hi_t = hi_t.copy()
            lo_t[knowing] = hi_t[knowing] = 0.0
        bounds = np.column_stack(
            [np.concatenate([np.zeros(n), lo_t]), np.concatenate([np.full(n, np.inf), hi_t])]
        )
        c = np.concatenate([sense * np.asarray(self.x[target].todense()).ravel(), np.zeros(m)])
        res = linprog(
            c,
            A_ub=self.a_ub,
            b_ub=self.b_ub,
            A_eq=self.a_eq,
            b_eq=self.a,
            bounds=bounds,
            method="highs",
        )
        if res.status != 0:
            raise SolverError(f"attacker LP failed: {res.message}")
        mu_lo = res.lower.marginals[n:]
        mu_hi = res.upper.marginals[n:]
        # value(s') >= value(s) + sum_j (mu_hi_j * M - mu_lo_j * a_j) (s'_j - s_j)   (convexity)
        weights = mu_hi * self.big - mu_lo * self.a
        if knowing is not None:
            weights[knowing] = 0.0
        return float(res.fun), weights


def optimal(
    problem: Problem,
    primary: BoolArray,
    singleton: BoolArray,
    *,
    max_rounds: int = 200,
) -> tuple[BoolArray, dict[int, Circuit]]:
    """Minimum-cost suppression pattern protecting every primary (LP attacker), then verified by
    the integer attacker; patterns that fail it are cut off and the ILP solved again."""
    m = problem.n_cells
    lp = _AttackerLP(problem)
    cost = problem.cost
    prim = np.flatnonzero(primary)
    cuts_a: list[FloatArray] = []
    cuts_lo: list[float] = []
    lb = primary.astype(np.float64)
    pattern = primary.astype(np.float64)
    for _ in range(max_rounds):
        added = 0
        search = CircuitSearch(problem, pattern > 0.5, singleton)
        for p in prim.tolist():
            if _two_sided(search, p):
                continue  # a witness moves it both ways: no cut can come from it
            value = float(problem.values[p])
            who_knows: list[int | None] = [None]
            who_knows += [int(s) for s in knowers(problem, singleton, p).tolist()]
            for who in who_knows:
                # upper protection: max >= value + 1   <=>   min(-x_p . y) <= -(value + 1)
                f, w = lp.solve(p, pattern, -1, who)
                if -f < value + 1 - _TOL:
                    # -f(s') <= -f(s) - w.(s' - s) must reach value + 1
                    cuts_a.append(-w)
                    cuts_lo.append(value + 1 + f - float(w @ pattern))
                    added += 1
                if value >= 1:
                    f, w = lp.solve(p, pattern, 1, who)
                    if f > value - 1 + _TOL:
                        # f(s') >= f(s) + w.(s' - s) must come down to value - 1
                        cuts_a.append(-w)
                        cuts_lo.append(-(value - 1) + f - float(w @ pattern))
                        added += 1
        if not added:
            suppressed = pattern > 0.5
            attacker = Attacker(problem, suppressed, singleton)
            bad = [p for p in prim.tolist() if check_by_attacker(attacker, p, singleton, 1)[1]]
            if not bad:
                return suppressed, _witnesses(problem, suppressed, primary, singleton)
            # the integer attacker is sharper than the LP: forbid this pattern
            row = np.where(suppressed, 0.0, 1.0)
            cuts_a.append(row)
            cuts_lo.append(1.0)
        cons = [LinearConstraint(np.vstack(cuts_a), np.asarray(cuts_lo), np.inf)] if cuts_a else []
        res = milp(cost, constraints=cons, integrality=np.ones(m), bounds=Bounds(lb, np.ones(m)))
        if res.status != 0:
            raise SolverError(f"master ILP failed: {res.message}")
        pattern = np.round(res.x)
    raise SolverError("optimal suppression did not converge; use method='fast'")


def _two_sided(search: CircuitSearch, p: int) -> bool:
    """A circuit of the current pattern that moves ``p`` up, and down when it is not zero, for
    the outsider and every singleton attacker (it keeps their cells): the LP cuts are met."""
    w = search.find(p)
    if w is None:
        return False
    y = search.y
    idx = np.fromiter((i for i, _ in w.cells), dtype=np.int64)
    sgn = np.fromiter((s for _, s in w.cells), dtype=np.int64)
    coef = np.asarray(search.problem.cells[p, idx].todense()).ravel()
    up = int(coef @ sgn) > 0
    ineq = search.problem.inequalities
    change = np.asarray(ineq.rows[:, idx] @ sgn).ravel() if ineq.count else np.zeros(0)
    base = np.asarray(ineq.rows @ y, dtype=np.float64).ravel() if ineq.count else np.zeros(0)

    def fits(sign: int) -> bool:
        new = base + sign * change
        return bool(
            np.all(y[idx] + sign * sgn >= 0) and np.all(new >= ineq.lower) and np.all(new <= ineq.upper)
        )

    forward, backward = fits(1), fits(-1)
    can_up = forward if up else backward
    can_down = backward if up else forward
    return can_up and (can_down or int(search.problem.values[p]) == 0)


def _witnesses(
    problem: Problem, suppressed: BoolArray, primary: BoolArray, singleton: BoolArray
) -> dict[int, Circuit]:
    search = CircuitSearch(problem, suppressed, singleton)
    out: dict[int, Circuit] = {}
    for p in np.flatnonzero(primary).tolist():
        w = search.find(p)
        if w is not None:
            out[p] = w
    return out
