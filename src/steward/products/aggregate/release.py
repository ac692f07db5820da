"""One aggregate release as a suppression problem (pure): inner cells, published cells, coded bounds.

Inner cells are the observed combinations of every dimension (school, grade, each student-group
variable) and, for rate reports, the outcome (met / not met). Several tables released together
(school x grade x race, school x grade x sex, ...) publish every combination of their dimensions
and the totals; a cell published by several tables is one cell, so "All Students" links them and
complement attacks (All minus Low Income = Non Low Income) are seen by the audit. Combinations
with no student are not published (the attacker is assumed to know they are empty, which is
conservative). Top/bottom coded rates become inequalities ``L <= x . y <= U`` whose bound depends
only on the band the group's N falls in, never on N itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import inf

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from steward.privacy.suppression import Inequalities, Problem

ALL = "*"
MET, ANY = "met", "all"

#: Top/bottom coding bands: (smallest N, bound in percent). A coded rate shows ``≤b%`` or ``≥(100-b)%``;
#: every band keeps ``b * N >= 100`` so the numerator keeps at least two possible values.
BANDS: tuple[tuple[int, int], ...] = ((100, 1), (50, 2), (20, 5), (10, 10))


def band(n: int) -> int | None:
    """The coding bound (percent) for a group of ``n`` students; None below the smallest band."""
    for smallest, bound in BANDS:
        if n >= smallest:
            return bound
    return None


def coding(count: int, n: int) -> str | None:
    """``"bottom"``/``"top"`` when ``count`` of ``n`` falls in the band's extreme range, else None."""
    bound = band(n)
    if bound is None or n <= 0:
        return None
    if 100 * count <= bound * n:
        return "bottom"
    if 100 * count >= (100 - bound) * n:
        return "top"
    return None


def coded_label(kind: str, n: int) -> str:
    bound = band(n)
    assert bound is not None
    return f"≤{bound}%" if kind == "bottom" else f"≥{100 - bound}%"


@dataclass(frozen=True, eq=False)
class Release:
    """The problem plus where each report cell sits in it."""

    problem: Problem
    dims: tuple[str, ...]
    #: Published label (one value or ``ALL`` per dim) -> group cell (N).
    groups: Mapping[tuple[str, ...], int]
    #: Published label -> numerator cell (rate reports only).
    numerators: Mapping[tuple[str, ...], int]
    #: Numerator cell -> "top"/"bottom" for coded rates.
    coded: Mapping[int, str]

    @property
    def forced(self) -> npt.NDArray[np.bool_]:
        mask = np.zeros(self.problem.n_cells, dtype=np.bool_)
        mask[list(self.coded)] = True
        return mask

    def value(self, cell: int) -> int:
        return int(self.problem.values[cell])


def _labels(
    keys: Sequence[tuple[str, ...]], dims: Sequence[str], tables: Sequence[Sequence[str]]
) -> dict[tuple[str, ...], list[int]]:
    """Published label -> the inner keys (indices) it sums."""
    position = {d: i for i, d in enumerate(dims)}
    out: dict[tuple[str, ...], list[int]] = {}
    table_positions = [[position[d] for d in table] for table in tables]
    for index, key in enumerate(keys):
        seen: set[tuple[str, ...]] = set()
        for positions in table_positions:
            for mask in itertools.product((False, True), repeat=len(positions)):
                label = [ALL] * len(dims)
                for keep, pos in zip(mask, positions, strict=True):
                    if keep:
                        label[pos] = key[pos]
                found = tuple(label)
                if found in seen:
                    continue
                seen.add(found)
                out.setdefault(found, []).append(index)
    return out


def build(
    dims: Sequence[str],
    tables: Sequence[Sequence[str]],
    keys: Sequence[tuple[str, ...]],
    counts: Sequence[int],
    met: Sequence[int] | None = None,
    *,
    top_bottom: bool = False,
) -> Release:
    """The release of ``tables`` over inner keys (one value per dim) with ``counts`` students each,
    ``met`` of whom meet the outcome (rate reports; None: a count report)."""
    dims = tuple(dims)
    for table in tables:
        for d in table:
            if d not in dims:
                raise ValueError(f"table dimension {d!r} is not one of {dims}")
    if len(set(keys)) != len(keys):
        raise ValueError("inner keys must be distinct")
    n_keys = len(keys)
    total = np.asarray(counts, dtype=np.int64)
    rate = met is not None
    if rate:
        yes = np.asarray(met, dtype=np.int64)
        if np.any(yes < 0) or np.any(yes > total):
            raise ValueError("met must be between 0 and the count of each inner cell")
        inner = np.concatenate([yes, total - yes])  # met cells, then not-met cells
    else:
        inner = total
    labels = _labels(keys, dims, tables)
    ordered = sorted(labels, key=lambda lab: (sum(v == ALL for v in lab), lab), reverse=False)

    rows: list[int] = []
    cols: list[int] = []
    cell_labels: list[tuple[str, ...]] = []
    groups: dict[tuple[str, ...], int] = {}
    numerators: dict[tuple[str, ...], int] = {}
    for label in ordered:
        members = labels[label]
        j = len(cell_labels)
        groups[label] = j
        cell_labels.append((*label, ANY) if rate else label)
        for i in members:
            rows.append(j)
            cols.append(i)
            if rate:
                rows.append(j)
                cols.append(i + n_keys)
    if rate:
        for label in ordered:
            j = len(cell_labels)
            numerators[label] = j
            cell_labels.append((*label, MET))
            for i in labels[label]:
                rows.append(j)
                cols.append(i)
    m = len(cell_labels)
    cells = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.int64), (np.asarray(rows), np.asarray(cols))), shape=(m, inner.size)
    )
    values = np.asarray(cells @ inner, dtype=np.int64)
    aggregated = np.asarray([sum(v == ALL for v in lab[: len(dims)]) for lab in cell_labels], dtype=np.int64)
    denominator = np.full(m, -1, dtype=np.int64)
    for label, j in numerators.items():
        denominator[j] = groups[label]

    coded: dict[int, str] = {}
    ineq = Inequalities.empty(inner.size)
    if rate and top_bottom:
        coded, ineq = _coding(groups, numerators, labels, values, n_keys, inner.size)
    problem = Problem(
        inner=inner,
        cells=cells,
        labels=tuple(cell_labels),
        fields=(*dims, "outcome") if rate else dims,
        cost=(values.astype(np.float64) + 1.0) * np.power(2.0, aggregated),
        denominator=denominator,
        inequalities=ineq,
        partitions=_partitions(dims, tables, groups, numerators, keys),
    )
    return Release(problem, dims, groups, numerators, coded)


def _coding(
    groups: Mapping[tuple[str, ...], int],
    numerators: Mapping[tuple[str, ...], int],
    labels: Mapping[tuple[str, ...], list[int]],
    values: npt.NDArray[np.int64],
    n_keys: int,
    n_inner: int,
) -> tuple[dict[int, str], Inequalities]:
    """Which numerators are coded, and the attacker's inequality for each.

    Bottom ``≤b%``: ``100 * met <= b * N``, i.e. ``(100 - b) * met_cells - b * other_cells <= 0``.
    Top ``≥(100-b)%``: ``b * met_cells - (100 - b) * other_cells >= 0``.
    """
    coded: dict[int, str] = {}
    rows: list[int] = []
    cols: list[int] = []
    data: list[int] = []
    lower: list[float] = []
    upper: list[float] = []
    for label, j in numerators.items():
        n = int(values[groups[label]])
        kind = coding(int(values[j]), n)
        if kind is None:
            continue
        bound = band(n)
        assert bound is not None
        k = len(lower)
        coded[j] = kind
        yes, no = (100 - bound, -bound) if kind == "bottom" else (bound, -(100 - bound))
        for i in labels[label]:
            rows += [k, k]
            cols += [i, i + n_keys]
            data += [yes, no]
        lower.append(-inf if kind == "bottom" else 0.0)
        upper.append(0.0 if kind == "bottom" else inf)
    mat = sp.csr_matrix(
        (
            np.asarray(data, dtype=np.int64),
            (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)),
        ),
        shape=(len(lower), n_inner),
        dtype=np.int64,
    )
    return coded, Inequalities(mat, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))


def _partitions(
    dims: Sequence[str],
    tables: Sequence[Sequence[str]],
    groups: Mapping[tuple[str, ...], int],
    numerators: Mapping[tuple[str, ...], int],
    keys: Sequence[tuple[str, ...]],
) -> tuple[tuple[npt.NDArray[np.int64], ...], ...]:
    """Per published cell, the sets of published cells that add up to it (one per summed-out dim
    that some table publishes together with the cell's other dims)."""
    codes = [sorted({k[i] for k in keys}) for i in range(len(dims))]
    table_sets = [frozenset(dims.index(d) for d in table) for table in tables]
    n = len(groups) + len(numerators)
    parts: list[tuple[npt.NDArray[np.int64], ...]] = [() for _ in range(n)]
    for index in (groups, numerators):
        for label, j in index.items():
            fixed = {i for i, v in enumerate(label) if v != ALL}
            found: list[npt.NDArray[np.int64]] = []
            for k, value in enumerate(label):
                if value != ALL or not any(fixed | {k} <= t for t in table_sets):
                    continue
                members = [index.get((*label[:k], c, *label[k + 1 :])) for c in codes[k]]
                present = [x for x in members if x is not None]
                if present:
                    found.append(np.asarray(present, dtype=np.int64))
            parts[j] = tuple(found)
    return tuple(parts)
