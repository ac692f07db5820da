"""The model-matrix formulation of a release (DISCLOSURE.md): inner cells and published sums.

Inner cells ``y >= 0`` are the finest cross-classification. Every published number is ``x_j . y``
for a sparse coefficient row ``x_j``: margins, hierarchy levels (district > school), several tables
released together. Top/bottom coded values are inequalities ``L <= g . y <= U`` the attacker knows.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Inequalities:
    """Bounds ``lower <= rows . y <= upper`` known to everyone (top/bottom coding)."""

    rows: Any  # scipy.sparse.csr_matrix (k x n)
    lower: FloatArray
    upper: FloatArray

    @property
    def count(self) -> int:
        return int(self.rows.shape[0])

    @staticmethod
    def empty(n_inner: int) -> Inequalities:
        return Inequalities(sp.csr_matrix((0, n_inner), dtype=np.int64), np.zeros(0), np.zeros(0))


@dataclass(frozen=True, eq=False)
class Problem:
    """A release: inner cells, published cells as sparse sums, and the attacker's inequalities.

    ``cells`` is a CSR matrix (published cells x inner cells). ``denominator[j]`` is ``-1`` when
    published cell ``j`` counts a group (its own N) and otherwise the index of the group cell whose
    numerator it is. ``cost[j]`` is the information lost by suppressing ``j`` (publication
    priority: large cells and totals cost most). ``partitions[j]`` lists groups of published cells
    whose sums add up to ``j`` (used to drop implied equations from the audit).
    """

    inner: IntArray
    cells: Any  # scipy.sparse.csr_matrix (m x n)
    labels: tuple[tuple[str, ...], ...]
    fields: tuple[str, ...]
    cost: FloatArray
    denominator: IntArray
    inequalities: Inequalities
    partitions: tuple[tuple[IntArray, ...], ...] = ()
    grid: Grid | None = None
    values: IntArray = field(init=False)
    unit: IntArray = field(init=False)
    cells_by_inner: Any = field(init=False)  # CSR of the transpose: inner cell -> its sums

    def __post_init__(self) -> None:
        cells = sp.csr_matrix(self.cells, dtype=np.int64)
        cells.sort_indices()
        object.__setattr__(self, "cells", cells)
        m, n = cells.shape
        if self.inner.shape != (n,):
            raise ValueError(f"inner has shape {self.inner.shape}, expected ({n},)")
        if np.any(self.inner < 0):
            raise ValueError("inner cell values must be non-negative")
        if len(self.labels) != m or self.cost.shape != (m,) or self.denominator.shape != (m,):
            raise ValueError("labels, cost and denominator need one entry per published cell")
        if self.inequalities.rows.shape[1] != n:
            raise ValueError("inequalities must be over the inner cells")
        object.__setattr__(self, "values", np.asarray(cells @ self.inner, dtype=np.int64))
        unit = np.full(n, -1, dtype=np.int64)
        single = np.flatnonzero(np.diff(cells.indptr) == 1)
        starts = cells.indptr[single]
        ones = cells.data[starts] == 1
        unit[cells.indices[starts[ones]]] = single[ones]
        object.__setattr__(self, "unit", unit)
        by_inner = cells.T.tocsr()
        by_inner.sort_indices()
        object.__setattr__(self, "cells_by_inner", by_inner)

    @property
    def n_cells(self) -> int:
        return int(self.cells.shape[0])

    @property
    def n_inner(self) -> int:
        return int(self.cells.shape[1])

    def describe(self, j: int) -> str:
        """A human-readable name of published cell ``j`` (for errors and reports)."""
        return ", ".join(f"{f}={v}" for f, v in zip(self.fields, self.labels[j], strict=False))

    def with_inequalities(self, inequalities: Inequalities) -> Problem:
        """The same release with ``inequalities`` (coded values) known to the attacker."""
        return Problem(
            inner=self.inner,
            cells=self.cells,
            labels=self.labels,
            fields=self.fields,
            cost=self.cost,
            denominator=self.denominator,
            inequalities=inequalities,
            partitions=self.partitions,
            grid=self.grid,
        )


@dataclass(frozen=True, eq=False)
class Grid:
    """The cross-classified structure of a release built by ``cross_tables``.

    Per dimension, codes are numbered leaves first, then ancestors, the total last.
    ``parent[k][c]`` is the code above ``c`` (-1 for the total), ``contains[k][c, leaf]`` says
    whether code ``c`` sums that leaf, and ``cell_of`` maps a tuple of codes to its published
    cell (-1 when no table publishes it); its last index along every axis is padding (-1).
    Inner cells are the leaves' full grid in C order.
    """

    shape: tuple[int, ...]
    parent: tuple[IntArray, ...]
    contains: tuple[BoolArray, ...]
    cell_of: IntArray
    codes: IntArray = field(init=False)  # (published cells x dims): each cell's code tuple

    def __post_init__(self) -> None:
        m = int(self.cell_of.max(initial=-1)) + 1
        codes = np.zeros((m, len(self.shape)), dtype=np.int64)
        where = np.flatnonzero(self.cell_of.reshape(-1) >= 0)
        idx = np.unravel_index(where, self.cell_of.shape)
        codes[self.cell_of.reshape(-1)[where]] = np.column_stack(idx)
        object.__setattr__(self, "codes", codes)

    def n_codes(self, k: int) -> int:
        return int(self.parent[k].size)


@dataclass(frozen=True)
class Dim:
    """A classification variable: its finest codes and, optionally, a hierarchy above them.

    ``parent`` maps a code to the code one level up (school -> district); codes without a parent
    sit directly under the total.
    """

    name: str
    codes: tuple[str, ...]
    parent: Mapping[str, str] = field(default_factory=dict)

    def levels(self, total: str) -> tuple[list[str], list[list[int]], dict[str, list[str]]]:
        """All published codes (finest first, then ancestors, then the total), their leaf indices
        and the children of every aggregate code."""
        leaf_index = {c: i for i, c in enumerate(self.codes)}
        if len(leaf_index) != len(self.codes):
            raise ValueError(f"dimension {self.name} has duplicate codes")
        if total in leaf_index:
            raise ValueError(f"dimension {self.name} uses the total label {total!r} as a code")
        leaves: dict[str, list[int]] = {c: [i] for c, i in leaf_index.items()}
        children: dict[str, list[str]] = {}
        order: list[str] = list(self.codes)
        frontier = list(self.codes)
        while frontier:
            nxt: list[str] = []
            for c in frontier:
                p = self.parent.get(c)
                if p is None:
                    continue
                if p == total or p in leaf_index:
                    raise ValueError(f"dimension {self.name}: bad parent {p!r} of {c!r}")
                if p not in leaves:
                    leaves[p] = []
                    children[p] = []
                    order.append(p)
                    nxt.append(p)
                leaves[p].extend(leaves[c])
                children[p].append(c)
            frontier = nxt
        tops = [c for c in order if c not in self.parent]
        order.append(total)
        leaves[total] = [i for c in tops for i in leaves[c]]
        children[total] = tops
        return order, [sorted(leaves[c]) for c in order], children


def _code_matrix(leaf_sets: list[list[int]], n_leaves: int) -> Any:
    rows = np.repeat(np.arange(len(leaf_sets)), [len(s) for s in leaf_sets])
    cols = np.fromiter(itertools.chain.from_iterable(leaf_sets), dtype=np.int64)
    return sp.csr_matrix((np.ones(len(cols), dtype=np.int64), (rows, cols)), shape=(len(leaf_sets), n_leaves))


def default_cost(values: IntArray, aggregated: IntArray) -> FloatArray:
    """Publication priority: a cell costs its value plus one, doubled per summed-out dimension."""
    return (values.astype(np.float64) + 1.0) * np.power(2.0, aggregated)


def cross_tables(
    dims: Sequence[Dim],
    counts: npt.ArrayLike,
    *,
    tables: Sequence[Sequence[str]] | None = None,
    total: str = "Total",
) -> Problem:
    """Tables released together over the same inner cells (the full grid of ``dims``).

    ``counts`` has one entry per finest cell (C order over ``dims``). Each table, given by the
    names of its dimensions, publishes every combination of their codes, hierarchy levels and the
    total, summing over the other dimensions; ``None`` means one table over all dims with all
    margins. A cell published by several tables is one cell.
    """
    dims = list(dims)
    shape = tuple(len(d.codes) for d in dims)
    inner = np.asarray(counts, dtype=np.int64).reshape(-1)
    if inner.size != int(np.prod(shape)):
        raise ValueError(f"counts has {inner.size} entries, expected {int(np.prod(shape))}")
    names = [d.name for d in dims]
    specs = [list(names)] if tables is None else [list(t) for t in tables]
    for spec in specs:
        for name in spec:
            if name not in names:
                raise ValueError(f"table dimension {name!r} is not one of {names}")
    levels = [d.levels(total) for d in dims]

    labels: list[tuple[str, ...]] = []
    blocks = []
    seen: set[tuple[str, ...]] = set()
    for spec in specs:
        per_dim_codes: list[list[int]] = []
        for k, name in enumerate(names):
            order = levels[k][0]
            per_dim_codes.append(list(range(len(order))) if name in spec else [len(order) - 1])
        mats = [_code_matrix([levels[k][1][c] for c in per_dim_codes[k]], shape[k]) for k in range(len(dims))]
        block = mats[0]
        for mat in mats[1:]:
            block = sp.kron(block, mat, format="csr")
        keep: list[int] = []
        for r, combo in enumerate(itertools.product(*per_dim_codes)):
            label = tuple(levels[k][0][c] for k, c in enumerate(combo))
            if label in seen:
                continue
            seen.add(label)
            labels.append(label)
            keep.append(r)
        blocks.append(block[keep])
    cells = sp.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]

    index = {label: j for j, label in enumerate(labels)}
    is_leaf = [set(d.codes) for d in dims]
    partitions: list[tuple[IntArray, ...]] = []
    aggregated = np.zeros(len(labels), dtype=np.int64)
    for j, label in enumerate(labels):
        parts: list[IntArray] = []
        for k, code in enumerate(label):
            if code in is_leaf[k]:
                continue
            aggregated[j] += 1
            kids = levels[k][2].get(code, [])
            members = [index.get((*label[:k], kid, *label[k + 1 :])) for kid in kids]
            if kids and all(x is not None for x in members):
                parts.append(np.asarray(members, dtype=np.int64))
        partitions.append(tuple(parts))
    values = np.asarray(cells @ inner, dtype=np.int64)
    return Problem(
        inner=inner,
        cells=cells,
        labels=tuple(labels),
        fields=tuple(names),
        cost=default_cost(values, aggregated),
        denominator=np.full(len(labels), -1, dtype=np.int64),
        inequalities=Inequalities.empty(inner.size),
        partitions=tuple(partitions),
        grid=_grid(dims, levels, labels, shape),
    )


def _grid(
    dims: Sequence[Dim],
    levels: Sequence[tuple[list[str], list[list[int]], dict[str, list[str]]]],
    labels: Sequence[tuple[str, ...]],
    shape: tuple[int, ...],
) -> Grid:
    parents: list[IntArray] = []
    contains: list[BoolArray] = []
    code_index: list[dict[str, int]] = []
    for k, (order, leaf_sets, children) in enumerate(levels):
        index = {c: i for i, c in enumerate(order)}
        parent = np.full(len(order), -1, dtype=np.int64)
        for up, kids in children.items():
            for kid in kids:
                parent[index[kid]] = index[up]
        inside = np.zeros((len(order), shape[k]), dtype=np.bool_)
        for i, leaves in enumerate(leaf_sets):
            inside[i, leaves] = True
        parents.append(parent)
        contains.append(inside)
        code_index.append(index)
    cell_of = np.full(tuple(len(p) + 1 for p in parents), -1, dtype=np.int64)
    for j, label in enumerate(labels):
        cell_of[tuple(code_index[k][c] for k, c in enumerate(label))] = j
    return Grid(tuple(shape), tuple(parents), tuple(contains), cell_of)


def cross_table(dims: Sequence[Dim], counts: npt.ArrayLike, *, total: str = "Total") -> Problem:
    """One cross-classified table with all margins (and hierarchy levels)."""
    return cross_tables(dims, counts, total=total)


def from_sums(
    inner: Sequence[int],
    sums: Sequence[Sequence[int]],
    labels: Sequence[tuple[str, ...]],
    *,
    fields: Sequence[str] = ("cell",),
    denominator: Sequence[int] | None = None,
    cost: Sequence[float] | None = None,
) -> Problem:
    """A release given directly: each published cell lists the inner cells it adds up."""
    inner_arr = np.asarray(inner, dtype=np.int64)
    rows = np.repeat(np.arange(len(sums)), [len(s) for s in sums])
    cols = np.fromiter(itertools.chain.from_iterable(sums), dtype=np.int64)
    cells = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.int64), (rows, cols)), shape=(len(sums), inner_arr.size)
    )
    values = np.asarray(cells @ inner_arr, dtype=np.int64)
    sizes = np.asarray([len(s) for s in sums], dtype=np.int64)
    return Problem(
        inner=inner_arr,
        cells=cells,
        labels=tuple(tuple(x) for x in labels),
        fields=tuple(fields),
        cost=(
            np.asarray(cost, dtype=np.float64)
            if cost is not None
            else default_cost(values, (sizes > 1).astype(np.int64))
        ),
        denominator=(
            np.asarray(denominator, dtype=np.int64)
            if denominator is not None
            else np.full(len(sums), -1, dtype=np.int64)
        ),
        inequalities=Inequalities.empty(inner_arr.size),
    )


def inequalities(
    n_inner: int, rows: Sequence[Mapping[int, int]], lower: Sequence[float], upper: Sequence[float]
) -> Inequalities:
    """Inequalities ``lower[k] <= sum(coef * y[i] for i, coef in rows[k]) <= upper[k]``."""
    r = np.repeat(np.arange(len(rows)), [len(x) for x in rows])
    c = np.fromiter((i for x in rows for i in x), dtype=np.int64)
    v = np.fromiter((coef for x in rows for coef in x.values()), dtype=np.int64)
    mat = sp.csr_matrix((v, (r, c)), shape=(len(rows), n_inner), dtype=np.int64)
    return Inequalities(mat, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))
