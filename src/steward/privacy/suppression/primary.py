"""Primary suppression: which published cells are sensitive in themselves."""

from __future__ import annotations

from typing import Literal

import numpy as np

from steward.privacy.suppression.model import BoolArray, IntArray, Problem

Zeros = Literal["publish", "protect"]


def primaries(
    problem: Problem,
    threshold: int = 10,
    zeros: Zeros = "publish",
    forced: BoolArray | None = None,
) -> BoolArray:
    """Groups with ``0 < N < threshold`` and every numerator of such a group.

    With ``zeros="protect"`` empty groups (N = 0) are primary too. ``forced`` marks cells that
    policy protects whatever their size (top/bottom coded values).
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if zeros not in ("publish", "protect"):
        raise ValueError(f"zeros must be 'publish' or 'protect', not {zeros!r}")
    values = problem.values
    group = problem.denominator < 0
    low = 0 if zeros == "protect" else 1
    small = group & (values >= low) & (values < threshold)
    numerator = ~group
    parent = np.where(numerator, problem.denominator, 0)
    small = small | (numerator & small[parent])
    if forced is not None:
        small = small | forced
    return np.asarray(small, dtype=np.bool_)


def singletons(problem: Problem, primary: BoolArray) -> BoolArray:
    """Primary cells of a single student: that student knows the value and can subtract it."""
    return np.asarray(primary & (problem.values == 1), dtype=np.bool_)


def knowers(problem: Problem, singleton: BoolArray, target: int) -> IntArray:
    """Singleton cells whose student is an attacker for ``target``: those sharing no inner cell
    with it (a student in the target's own cells knows only themselves there)."""
    cells = problem.cells
    t = cells.indices[cells.indptr[target] : cells.indptr[target + 1]]
    by_inner = problem.cells_by_inner
    touching = (
        np.unique(np.concatenate([by_inner.indices[by_inner.indptr[i] : by_inner.indptr[i + 1]] for i in t]))
        if t.size
        else np.zeros(0, dtype=np.int64)
    )
    mask = singleton.copy()
    mask[touching] = False
    mask[target] = False
    return np.flatnonzero(mask)


def overlapping(problem: Problem, singleton: BoolArray, target: int) -> set[int]:
    """Singleton cells sharing an inner cell with ``target`` (not attackers for it)."""
    cells = problem.cells
    t = cells.indices[cells.indptr[target] : cells.indptr[target + 1]]
    by_inner = problem.cells_by_inner
    out: set[int] = set()
    for i in t.tolist():
        for r in by_inner.indices[by_inner.indptr[i] : by_inner.indptr[i + 1]].tolist():
            if singleton[r]:
                out.add(r)
    return out
