"""Hypercube witnesses for cross-classified releases, evaluated all at once with numpy.

For a primary whose codes are leaves in the dimensions ``M`` and aggregates (district, total) in
the others, a candidate circuit picks a second leaf per dimension of ``M`` (a partner) and one
fixed leaf per other dimension: its ``2^|M|`` inner corners alternate in sign, so the primary
moves by one. A published cell moves exactly when, in every dimension of ``M``, its code
contains one of the two leaves but not the other, and in every other dimension its code contains
the fixed leaf; those cells must be suppressed. Every candidate of a primary is costed in one
broadcast gather over the grid of published cells (``Grid.cell_of``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from steward.privacy.suppression.circuits import Circuit
from steward.privacy.suppression.model import BoolArray, FloatArray, Grid, IntArray, Problem

_MAX_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class Found:
    """The cheapest candidate of one primary: its cost, the circuit and every cell it moves."""

    cost: float
    circuit: Circuit
    rows: IntArray
    feasible: int


class Hypercubes:
    """Candidate circuits over a mutable suppression pattern of a release with a ``Grid``.

    The cost of a candidate is the cost of the published cells it moves that are not suppressed
    yet; it is infinite when it moves another primary's singleton cell (its student knows it),
    lowers an inner cell below zero or breaks a coded bound.
    """

    def __init__(self, problem: Problem, suppressed: BoolArray, singleton: BoolArray) -> None:
        grid = problem.grid
        if grid is None:
            raise ValueError("the release has no cross-classified structure")
        self.problem = problem
        self.grid: Grid = grid
        self.k = len(grid.shape)
        self.y = problem.inner.reshape(grid.shape)
        self.suppressed = np.array(suppressed, dtype=np.bool_, copy=True)
        self.singleton = np.asarray(singleton, dtype=np.bool_)
        m = problem.n_cells
        self.cost_now: FloatArray = np.zeros(m + 1, dtype=np.float64)  # last entry: padding
        self.cost_now[:m] = np.where(self.suppressed, 0.0, problem.cost)
        self.cost_now[:m][self.singleton] = np.inf
        self.chain: list[IntArray] = []
        self.contains: list[BoolArray] = []
        self.leaf_parent: list[IntArray] = []
        for k in range(self.k):
            parent = grid.parent[k]
            n_codes = parent.size
            depth = np.zeros(n_codes, dtype=np.int64)
            for c in range(n_codes):
                d, x = 0, c
                while parent[x] >= 0:
                    x = int(parent[x])
                    d += 1
                depth[c] = d
            chain = np.full((n_codes + 1, int(depth.max()) + 1), n_codes, dtype=np.int64)
            for c in range(n_codes):
                x, i = c, 0
                while x >= 0:
                    chain[c, i] = x
                    x = int(parent[x])
                    i += 1
            self.chain.append(chain)
            inside = np.ones((n_codes + 1, grid.shape[k]), dtype=np.bool_)  # padding row: all
            inside[:n_codes] = grid.contains[k]
            self.contains.append(inside)
            self.leaf_parent.append(parent[: grid.shape[k]])
        self._cache: dict[
            tuple[int, bool], list[tuple[IntArray, IntArray, BoolArray, IntArray, IntArray]]
        ] = {}
        ineq = problem.inequalities
        self._g = ineq.rows.tocsc() if ineq.count else None
        self._g_base = np.asarray(ineq.rows @ problem.inner, dtype=np.float64).ravel()

    # ------------------------------------------------------------------ pattern

    def suppress(self, rows: IntArray) -> None:
        self.suppressed[rows] = True
        self.cost_now[rows] = np.where(self.singleton[rows], np.inf, 0.0)

    def publish(self, j: int) -> None:
        self.suppressed[j] = False
        self.cost_now[j] = np.inf if self.singleton[j] else float(self.problem.cost[j])

    # ------------------------------------------------------------------ candidates

    def _partners(self, k: int, a: int, wide: bool) -> IntArray:
        n = self.grid.shape[k]
        if wide or n <= 64:
            out = np.arange(n, dtype=np.int64)
        else:
            out = np.flatnonzero(self.leaf_parent[k] == self.leaf_parent[k][a])
            if out.size < 3:
                out = np.arange(n, dtype=np.int64)
        return np.asarray(out[out != a], dtype=np.int64)

    def _axes(
        self, target: int, wide: bool, keep: int = 0, only_free: bool = False
    ) -> tuple[list[IntArray], list[IntArray], list[BoolArray], list[IntArray]]:
        """Per dimension: the codes each choice moves (padded), the corner coordinates of each
        choice, which of them exist, and the corners' signs.

        A leaf dimension either varies (a partner leaf: corners at both) or stays fixed at the
        primary's leaf; an aggregate dimension stays fixed at one leaf under it.

        Every choice moves the cell that differs from the primary in that dimension only (its
        axis cell). With ``keep``, each dimension keeps its choices with free axis cells and
        the ``keep`` cheapest others; with ``only_free``, the free ones only.
        """
        raw = self._cache.get((target, wide))
        if raw is None:
            raw = self._cache[(target, wide)] = self._raw_axes(target, wide)
        moved, corners, exists, signs = [], [], [], []
        for both, coords, ex, axis_cells, sg in raw:
            sel = self._select(axis_cells, keep, only_free)
            if sel is None:
                moved.append(both)
                corners.append(coords)
                exists.append(ex)
            else:
                moved.append(both[sel])
                corners.append(coords[sel])
                exists.append(ex[sel])
            signs.append(sg)
        return moved, corners, exists, signs

    def _raw_axes(
        self, target: int, wide: bool
    ) -> list[tuple[IntArray, IntArray, BoolArray, IntArray, IntArray]]:
        codes = self.grid.codes[target]
        base = [int(c) for c in codes]
        out = []
        for k in range(self.k):
            c = base[k]
            chain = self.chain[k]
            pad = chain.shape[0] - 1
            at: list[IntArray | int] = list(base)
            if c < self.grid.shape[k]:  # a leaf: fixed, or a partner leaf
                b = self._partners(k, c, wide)
                inside = self.contains[k]
                side_a = np.broadcast_to(chain[c], (b.size, chain.shape[1]))
                side_a = np.where(inside[side_a, b[:, None]], pad, side_a)
                side_b = chain[b]
                side_b = np.where(inside[side_b, c], pad, side_b)
                both = np.concatenate([side_a, side_b], axis=1)
                fixed = np.full((1, both.shape[1]), pad, dtype=np.int64)
                fixed[0, : chain.shape[1]] = chain[c]
                both = np.concatenate([fixed, both], axis=0)
                both = both[:, np.any(both != pad, axis=0)]
                at[k] = np.concatenate([[max(int(self.grid.parent[k][c]), 0)], b])
                ex = np.ones((b.size + 1, 2), dtype=np.bool_)
                ex[0, 1] = False
                coords = np.column_stack([np.full(b.size + 1, c), np.concatenate([[c], b])])
                sg = np.asarray([1, -1], dtype=np.int64)
            else:  # an aggregate: one fixed leaf under it
                t = np.flatnonzero(self.contains[k][c])
                both = chain[t]
                both = both[:, np.any(both != pad, axis=0)]
                at[k] = t
                coords = t[:, None]
                ex = np.ones((t.size, 1), dtype=np.bool_)
                sg = np.ones(1, dtype=np.int64)
            out.append((both, coords, ex, self.grid.cell_of[tuple(at)], sg))
        return out

    def _select(self, axis_cells: IntArray, keep: int, only_free: bool) -> IntArray | None:
        """Which choices of a dimension to evaluate (see ``_axes``); None: all."""
        if not keep and not only_free:
            return None
        cost = self.cost_now[axis_cells]
        free = cost == 0.0
        if only_free:
            return np.flatnonzero(free)
        rest = np.flatnonzero(~free & np.isfinite(cost))
        if rest.size > keep:
            rest = rest[np.argpartition(cost[rest], keep)[:keep]]
        return np.sort(np.concatenate([np.flatnonzero(free)[: 4 * keep], rest]))

    def _evaluate(
        self,
        moved: list[IntArray],
        corners: list[IntArray],
        exists: list[BoolArray],
        signs: list[IntArray],
    ) -> tuple[FloatArray, BoolArray]:
        """Cost per candidate (inf when infeasible) and whether the '+' orientation is feasible."""
        k = self.k
        nx = [mv.shape[0] for mv in moved]
        idx = []
        for d, mv in enumerate(moved):
            shape = [1] * (2 * k)
            shape[d] = mv.shape[0]
            shape[k + d] = mv.shape[1]
            idx.append(mv.reshape(shape))
        cells = self.grid.cell_of[tuple(idx)]
        axes = tuple(range(k, 2 * k))
        total = self.cost_now[cells].sum(axis=axes)
        cidx = []
        real = np.ones([1] * (2 * k), dtype=np.bool_)
        sgn = np.ones([1] * (2 * k), dtype=np.int64)
        for d, cr in enumerate(corners):
            shape = [1] * (2 * k)
            shape[d] = cr.shape[0]
            shape[k + d] = cr.shape[1]
            cidx.append(cr.reshape(shape))
            real = real & exists[d].reshape(shape)
            sshape = [1] * (2 * k)
            sshape[k + d] = signs[d].size
            sgn = sgn * signs[d].reshape(sshape)
        vals = self.y[tuple(cidx)]
        ok = (vals >= 1) | ~real
        plus = np.all(ok | (sgn > 0), axis=axes)
        minus = np.all(ok | (sgn < 0), axis=axes)
        total = np.where(plus | minus, total, np.inf)
        return total.reshape(nx), plus.reshape(nx)

    def best(self, target: int, *, only_free: bool = False, keep: int = 0) -> Found | None:
        """The cheapest candidate of ``target`` (with ``only_free``: one that moves suppressed
        cells only), or None. Sibling partners first, every leaf when none of them works."""
        for wide in (False, True):
            found = self._best(target, wide, only_free, keep)
            if found is not None or not self._narrowed(target):
                return found
        return None

    def _narrowed(self, target: int) -> bool:
        codes = self.grid.codes[target]
        return any(int(codes[k]) < n and n > 64 for k, n in enumerate(self.grid.shape))

    def _best(self, target: int, wide: bool, only_free: bool, keep: int) -> Found | None:
        moved, corners, exists, signs = self._axes(target, wide, keep, only_free)
        if any(mv.shape[0] == 0 for mv in moved):
            return None
        saved = self.cost_now[target]
        self.cost_now[target] = 0.0
        try:
            # split along the longest axis when the gather would be large
            per = int(np.prod([mv.shape[1] for mv in moved])) * int(np.prod([mv.shape[0] for mv in moved]))
            axis = int(np.argmax([mv.shape[0] for mv in moved]))
            chunks = max(1, -(-per // _MAX_ELEMENTS))
            n_axis = moved[axis].shape[0]
            step = -(-n_axis // chunks)
            best_cost = np.inf
            best_at: tuple[int, ...] | None = None
            best_plus = True
            feasible = 0
            for start in range(0, n_axis, step):
                sl = slice(start, min(n_axis, start + step))
                mv, cr, ex = list(moved), list(corners), list(exists)
                mv[axis] = moved[axis][sl]
                cr[axis] = corners[axis][sl]
                ex[axis] = exists[axis][sl]
                total, plus = self._evaluate(mv, cr, ex, signs)
                if self._g is not None:
                    total = self._coded(total, plus, mv, cr, ex, signs)
                finite = np.isfinite(total)
                feasible += int(finite.sum())
                if only_free:
                    total = np.where(total == 0.0, 0.0, np.inf)
                flat = int(np.argmin(total))
                if total.flat[flat] < best_cost:
                    at = list(np.unravel_index(flat, total.shape))
                    at[axis] += start
                    best_cost = float(total.flat[flat])
                    best_at = tuple(int(x) for x in at)
                    best_plus = bool(plus.flat[flat])
                    if only_free:
                        break
            if best_at is None or not np.isfinite(best_cost):
                return None
            circuit, rows = self._circuit(best_at, best_plus, moved, corners, exists, signs, best_cost)
            return Found(best_cost, circuit, rows, feasible)
        finally:
            self.cost_now[target] = saved

    def _coded(
        self,
        total: FloatArray,
        plus: BoolArray,
        moved: list[IntArray],
        corners: list[IntArray],
        exists: list[BoolArray],
        signs: list[IntArray],
    ) -> FloatArray:
        """Rule out (cheapest first) candidates that push a coded value out of its bounds."""
        total = total.copy()
        order = np.argsort(total, axis=None, kind="stable")
        checked = 0
        for flat in order.tolist():
            if not np.isfinite(total.flat[flat]) or checked >= 64:
                break
            at = tuple(int(x) for x in np.unravel_index(flat, total.shape))
            circuit, _ = self._circuit(at, bool(plus.flat[flat]), moved, corners, exists, signs, 0.0)
            if self.coded_ok(circuit):
                return total
            total.flat[flat] = np.inf
            checked += 1
        if checked >= 64:
            total[:] = np.inf
        return total

    def coded_ok(self, circuit: Circuit) -> bool:
        if self._g is None:
            return True
        idx = np.fromiter((i for i, _ in circuit.cells), dtype=np.int64)
        sgn = np.fromiter((s for _, s in circuit.cells), dtype=np.int64)
        change = np.asarray(self._g[:, idx] @ sgn).ravel()
        new = self._g_base + change
        ineq = self.problem.inequalities
        return bool(np.all(new >= ineq.lower - 1e-9) and np.all(new <= ineq.upper + 1e-9))

    def _circuit(
        self,
        at: tuple[int, ...],
        plus: bool,
        moved: list[IntArray],
        corners: list[IntArray],
        exists: list[BoolArray],
        signs: list[IntArray],
        cost: float,
    ) -> tuple[Circuit, IntArray]:
        k = self.k
        coords, sg = [], []
        for d in range(k):
            keep = exists[d][at[d]]
            coords.append(corners[d][at[d]][keep])
            sg.append(signs[d][keep])
        grids = np.meshgrid(*coords, indexing="ij")
        sgrid = np.ones(grids[0].shape, dtype=np.int64)
        for sg_d in np.meshgrid(*sg, indexing="ij"):
            sgrid = sgrid * sg_d
        flat = np.ravel_multi_index(tuple(g.reshape(-1) for g in grids), self.grid.shape)
        sign = sgrid.reshape(-1) * (1 if plus else -1)
        cells = self.grid.cell_of[np.ix_(*[moved[d][at[d]] for d in range(k)])].reshape(-1)
        rows = np.unique(cells[cells >= 0])
        released = frozenset(int(r) for r in rows[~self.suppressed[rows]].tolist())
        pairs = tuple(sorted(zip(flat.tolist(), sign.tolist(), strict=True)))
        return Circuit(pairs, released, cost), rows


_EDGE = 0.01  # per plane cell of a cycle: among equal costs, shorter cycles (fewer cells) win


def best_cycle(hc: Hypercubes, target: int, *, combos: int = 4, keep: int = 0) -> Found | None:
    """The cheapest "cycle x hypercube" circuit of ``target``: an alternating cycle in the plane
    of two of its leaf dimensions (a shortest path, Dijkstra), times a partner or a fixed leaf
    in every other dimension. Rectangles are the hypercubes; longer cycles reuse suppressed cells.
    Cycles stay inside one parent in hierarchical dimensions, so parent subtotals cancel."""
    grid = hc.grid
    k = hc.k
    codes = grid.codes[target]
    leaf_dims = [d for d in range(k) if int(codes[d]) < grid.shape[d]]
    if len(leaf_dims) < 2:
        return None
    moved, corners, exists, signs = hc._axes(target, False, keep)
    saved = hc.cost_now[target]
    hc.cost_now[target] = 0.0
    best: tuple[float, list[tuple[int, ...]], list[int]] | None = None
    try:
        total, _ = hc._evaluate(moved, corners, exists, signs)
        for i1 in range(len(leaf_dims)):
            for i2 in range(i1 + 1, len(leaf_dims)):
                d1, d2 = leaf_dims[i1], leaf_dims[i2]
                others = [d for d in range(k) if d not in (d1, d2)]
                proxy = total.min(axis=(d1, d2)) if others else np.zeros(())
                flat = np.argsort(proxy, axis=None, kind="stable")[:combos] if others else [0]
                a0, b0 = int(codes[d1]), int(codes[d2])
                rows = _plane_nodes(hc, d1, a0)
                cols = _plane_nodes(hc, d2, b0)
                for f in np.atleast_1d(flat).tolist():
                    at_o = np.unravel_index(int(f), proxy.shape) if others else ()
                    choice = dict(zip(others, (int(x) for x in at_o), strict=True))
                    found = _cycle(hc, d1, d2, rows, cols, a0, b0, choice, moved, corners, exists, signs)
                    if found is not None and (best is None or found[0] < best[0]):
                        best = found
        if best is None or not np.isfinite(best[0]):
            return None
        _, corner_list, sign_list = best
        return _found(hc, corner_list, sign_list)
    finally:
        hc.cost_now[target] = saved


def _plane_nodes(hc: Hypercubes, d: int, a: int) -> IntArray:
    n = hc.grid.shape[d]
    if n <= 64 and not np.any(hc.leaf_parent[d] != hc.leaf_parent[d][0]):
        return np.arange(n, dtype=np.int64)
    return np.flatnonzero(hc.leaf_parent[d] == hc.leaf_parent[d][a])


def _cycle(
    hc: Hypercubes,
    d1: int,
    d2: int,
    rows: IntArray,
    cols: IntArray,
    a0: int,
    b0: int,
    choice: dict[int, int],
    moved: list[IntArray],
    corners: list[IntArray],
    exists: list[BoolArray],
    signs: list[IntArray],
) -> tuple[float, list[tuple[int, ...]], list[int]] | None:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    k = hc.k
    n1, n2 = rows.size, cols.size
    # cost of each plane cell: the published cells it moves (other dims' codes x the leaf pair)
    idx: list[IntArray] = []
    cidx: list[IntArray] = []
    real = np.ones([1] * (2 + (k - 2)), dtype=np.bool_)
    sgn = np.ones([1] * (2 + (k - 2)), dtype=np.int64)
    others = [d for d in range(k) if d not in (d1, d2)]
    nd = 2 + len(others)
    for d in range(k):
        shape = [1] * nd
        if d in (d1, d2):
            pos = 0 if d == d1 else 1
            shape[pos] = n1 if d == d1 else n2
            nodes = rows if d == d1 else cols
            idx.append(nodes.reshape(shape))
            cidx.append(nodes.reshape(shape))
        else:
            pos = 2 + others.index(d)
            mv = moved[d][choice[d]]
            shape_m = [1] * nd
            shape_m[pos] = mv.size
            idx.append(mv.reshape(shape_m))
            cr = corners[d][choice[d]]
            ex = exists[d][choice[d]]
            shape[pos] = cr.size
            cidx.append(cr.reshape(shape))
            real = real & ex.reshape(shape)
            sgn = sgn * signs[d].reshape(shape)
    cells = hc.grid.cell_of[tuple(idx)]
    axes = tuple(range(2, nd))
    w = hc.cost_now[cells].sum(axis=axes) if axes else hc.cost_now[cells]
    vals = hc.y[tuple(cidx)]
    ok = (vals >= 1) | ~real
    ia = int(np.flatnonzero(rows == a0)[0])
    ib = int(np.flatnonzero(cols == b0)[0])
    best: tuple[float, list[tuple[int, ...]], list[int]] | None = None
    for orient in (1, -1):
        # a plane cell with sign s moves corner o by s*sgn_o*orient: lowered corners need y >= 1
        up = np.all(ok | (sgn * orient > 0), axis=axes) if axes else ok | (orient > 0)
        down = np.all(ok | (sgn * orient < 0), axis=axes) if axes else ok | (orient < 0)
        if not up[ia, ib] or not np.isfinite(w[ia, ib]):
            continue
        fin = np.isfinite(w)
        wt = w + _EDGE
        # nodes: rows 0..n1-1, cols n1..n1+n2-1; row->col arcs carry sign +, col->row sign -
        ra, rb = np.nonzero(up & fin)
        ca, cb = np.nonzero(down & fin)
        keep_r = ~((ra == ia) & (rb == ib))
        keep_c = ~((ca == ia) & (cb == ib))
        ra, rb, ca, cb = ra[keep_r], rb[keep_r], ca[keep_c], cb[keep_c]
        src = np.concatenate([ra, n1 + cb])
        dst = np.concatenate([n1 + rb, ca])
        wts = np.concatenate([wt[ra, rb], wt[ca, cb]])
        graph = csr_matrix((wts, (src, dst)), shape=(n1 + n2, n1 + n2))
        dist, pred = dijkstra(graph, directed=True, indices=n1 + ib, return_predecessors=True)
        if not np.isfinite(dist[ia]):
            continue
        cost = float(w[ia, ib]) + float(dist[ia])  # the path's weights include _EDGE per cell
        if best is not None and cost >= best[0]:
            continue
        plane: list[tuple[int, int, int]] = [(ia, ib, 1)]
        node = ia
        while node != n1 + ib:
            prev = int(pred[node])
            if node < n1:  # prev is a column: arc col->row, sign -
                plane.append((node, prev - n1, -1))
            else:  # prev is a row: arc row->col, sign +
                plane.append((prev, node - n1, 1))
            node = prev
        corner_list: list[tuple[int, ...]] = []
        sign_list: list[int] = []
        other_coords = [corners[d][choice[d]][exists[d][choice[d]]] for d in others]
        other_signs = [signs[d][exists[d][choice[d]]] for d in others]
        import itertools

        for r, c, s in plane:
            for combo in itertools.product(*[range(len(x)) for x in other_coords]):
                coord = [0] * k
                coord[d1] = int(rows[r])
                coord[d2] = int(cols[c])
                sg = s * orient
                for pos, d in enumerate(others):
                    coord[d] = int(other_coords[pos][combo[pos]])
                    sg *= int(other_signs[pos][combo[pos]])
                corner_list.append(tuple(coord))
                sign_list.append(sg)
        best = (cost, corner_list, sign_list)
    return best


def _found(hc: Hypercubes, corner_list: list[tuple[int, ...]], sign_list: list[int]) -> Found | None:
    """The circuit at these corners, with the published cells it moves taken from the model."""
    flat = np.ravel_multi_index(tuple(np.asarray(c) for c in zip(*corner_list, strict=True)), hc.grid.shape)
    sgn = np.asarray(sign_list, dtype=np.int64)
    by_inner = hc.problem.cells_by_inner
    sub = by_inner[flat]
    change = np.asarray(sub.T @ sgn).ravel()
    rows = np.flatnonzero(change)
    released = frozenset(int(r) for r in rows[~hc.suppressed[rows]].tolist())
    pairs = tuple(sorted(zip(flat.tolist(), sgn.tolist(), strict=True)))
    cost = float(hc.cost_now[rows].sum())
    circuit = Circuit(pairs, released, cost)
    if not np.isfinite(cost) or not hc.coded_ok(circuit):
        return None
    return Found(cost, circuit, rows, 1)
