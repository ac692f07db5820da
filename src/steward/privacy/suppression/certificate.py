"""The global certificate: per primary, proof that the attacker cannot pin it down.

A primary passes with a verified integer circuit (width >= 1 by construction) or, failing that,
with the integer attacker's min and max (ILP) for the outsider and for every singleton student in
its component. A release whose certificate fails is never returned: ``CertificateError`` names the
cell and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from steward.privacy.suppression.audit import Attacker, Interval
from steward.privacy.suppression.circuits import Circuit
from steward.privacy.suppression.gauss import linearly_determined
from steward.privacy.suppression.model import BoolArray, Problem
from steward.privacy.suppression.primary import knowers, overlapping


class CertificateError(RuntimeError):
    """A primary cell would be disclosed by the release."""

    def __init__(self, problem: Problem, cell: int, reason: str) -> None:
        self.cell = cell
        self.label = problem.labels[cell]
        self.reason = reason
        super().__init__(f"cell [{problem.describe(cell)}] is not protected: {reason}")


@dataclass(frozen=True)
class Entry:
    """One primary: how it was proven safe and, when computed, the attacker's interval."""

    cell: int
    label: tuple[str, ...]
    proof: str
    lower: float | None = None
    upper: float | None = None
    bounds: str | None = None
    circuit_size: int | None = None
    #: The witness (inner cell, +1/-1) when ``proof == "circuit"``. Kept out of CERT.json: the
    #: cells it lowers are known to be at least 1, which is not public.
    circuit: tuple[tuple[int, int], ...] | None = None


@dataclass(frozen=True)
class Certificate:
    requirement: int
    entries: tuple[Entry, ...]

    def to_json(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """The CERT.json document (see docs/suppression.md)."""
        return {
            "requirement": f"attacker interval width >= {self.requirement}",
            "primaries": len(self.entries),
            "cells": [
                {
                    "cell": dict(zip(fields, e.label, strict=True)),
                    "lower": _num(e.lower),
                    "upper": _num(e.upper),
                    "bounds": e.bounds,
                    "proof": e.proof,
                    **({"circuit_size": e.circuit_size} if e.circuit_size else {}),
                }
                for e in self.entries
            ],
        }


def _num(x: float | None) -> float | int | None:
    if x is None or not math.isfinite(x):
        return None
    return int(x) if float(x).is_integer() else x


def verify_circuit(
    problem: Problem, suppressed: BoolArray, singleton: BoolArray, target: int, circuit: Circuit
) -> bool:
    """Independently check a witness: non-negative, every published sum and coded bound kept,
    every other singleton unchanged, and the target moved."""
    idx = np.fromiter((i for i, _ in circuit.cells), dtype=np.int64)
    sgn = np.fromiter((s for _, s in circuit.cells), dtype=np.int64)
    if idx.size == 0 or np.any(problem.inner[idx] + sgn < 0):
        return False
    change = np.asarray(problem.cells[:, idx] @ sgn).ravel()
    moved = np.flatnonzero(change)
    if change[target] == 0:
        return False
    if np.any(~suppressed[moved]):
        return False
    moved_single = set(moved[singleton[moved]].tolist()) - {target}
    if moved_single and not moved_single <= overlapping(problem, singleton, target):
        return False
    ineq = problem.inequalities
    if ineq.count:
        g_rows = ineq.rows[:, idx] @ sgn
        touched = np.flatnonzero(g_rows)
        if touched.size:
            new = np.asarray(ineq.rows[touched] @ problem.inner).ravel() + g_rows[touched]
            if np.any(new < ineq.lower[touched]) or np.any(new > ineq.upper[touched]):
                return False
    return True


def verify_circuits(
    problem: Problem, suppressed: BoolArray, singleton: BoolArray, witnesses: Mapping[int, Circuit]
) -> set[int]:
    """The primaries whose witness passes ``verify_circuit``, checked all at once: one sparse
    product of the witnesses with the whole release (and the coded rows)."""
    circuits: list[Circuit] = []
    slot: dict[int, int] = {}
    owner: list[tuple[int, int]] = []
    for p, w in witnesses.items():
        if not w.cells:
            continue
        c = slot.setdefault(id(w), len(circuits))
        if c == len(circuits):
            circuits.append(w)
        owner.append((p, c))
    if not owner:
        return set()
    n = len(circuits)
    sizes = np.fromiter((len(w.cells) for w in circuits), dtype=np.int64, count=n)
    rows = np.repeat(np.arange(n), sizes)
    idx = np.fromiter((i for w in circuits for i, _ in w.cells), dtype=np.int64, count=int(sizes.sum()))
    sgn = np.fromiter((s for w in circuits for _, s in w.cells), dtype=np.int64, count=int(sizes.sum()))
    d = sp.csr_matrix((sgn, (rows, idx)), shape=(n, problem.n_inner), dtype=np.int64)
    d.sum_duplicates()
    d.eliminate_zeros()
    d_rows = np.repeat(np.arange(n), np.diff(d.indptr))
    ok = np.ones(n, dtype=np.bool_)
    ok[d_rows[problem.inner[d.indices] + d.data < 0]] = False
    ok[np.diff(d.indptr) == 0] = False
    change = (d @ problem.cells_by_inner).tocsr()
    change.eliminate_zeros()
    change.sort_indices()
    c_rows = np.repeat(np.arange(n), np.diff(change.indptr))
    ok[c_rows[~suppressed[change.indices]]] = False
    ineq = problem.inequalities
    if ineq.count:
        g = (d @ ineq.rows.T.tocsr()).tocsr()
        g.eliminate_zeros()
        g_rows = np.repeat(np.arange(n), np.diff(g.indptr))
        base = np.asarray(ineq.rows @ problem.inner, dtype=np.float64).ravel()
        new = base[g.indices] + g.data
        out = (new < ineq.lower[g.indices]) | (new > ineq.upper[g.indices])
        ok[g_rows[out]] = False
    single_moved = singleton[change.indices]
    passed: set[int] = set()
    for p, c in owner:
        if not ok[c]:
            continue
        lo, hi = change.indptr[c], change.indptr[c + 1]
        moved = change.indices[lo:hi]
        at = int(np.searchsorted(moved, p))
        if at >= moved.size or moved[at] != p:
            continue
        others = set(moved[single_moved[lo:hi]].tolist()) - {p}
        if others and not others <= overlapping(problem, singleton, p):
            continue
        passed.add(p)
    return passed


def explain(attacker: Attacker, target: int, interval: Interval, knowing: tuple[int, ...]) -> str:
    """Why a cell fails: a linear combination of published cells, or bounds/integrality."""
    who = f"the student in singleton cell [{attacker.problem.describe(knowing[0])}]" if knowing else "anyone"
    if interval.width == 0 and linearly_determined(attacker, target, knowing):
        how = "it is an exact linear combination of published cells"
    elif interval.width == 0:
        how = "non-negativity and the published bounds pin it to one value"
    else:
        how = f"its feasibility interval is narrower than 1 (width {interval.width:g})"
    return f"{who} can derive it: {how}"


def check_by_attacker(
    attacker: Attacker, target: int, singleton: BoolArray, requirement: int
) -> tuple[Interval, str | None]:
    """The integer attacker's interval for the outsider and each singleton in the component."""
    outsider, moved = attacker.solve(target, integer="auto")
    if outsider.width < requirement:
        return outsider, explain(attacker, target, outsider, ())
    comps = set(attacker.component_of(target))
    for s in knowers(attacker.problem, singleton & attacker.suppressed, target).tolist():
        if not comps.intersection(attacker.component_of(s)):
            continue
        if moved is not None and moved.get(s) == 0.0:
            continue  # both optimal tables already agree with what this student knows
        inside = attacker.interval(target, integer="auto", knowing=(s,))
        if inside.width < requirement:
            return inside, explain(attacker, target, inside, (s,))
    return outsider, None


def certify(
    problem: Problem,
    suppressed: BoolArray,
    primary: BoolArray,
    singleton: BoolArray,
    witnesses: Mapping[int, Circuit],
    *,
    intervals: bool = False,
    requirement: int = 1,
) -> Certificate:
    """Prove every primary safe or raise ``CertificateError``; with ``intervals`` also report the
    outsider's interval per primary (LP, tightened by ILP when narrow)."""
    if np.any(primary & ~suppressed):
        bad = int(np.flatnonzero(primary & ~suppressed)[0])
        raise CertificateError(problem, bad, "a primary cell is published")
    attacker: Attacker | None = None
    entries: list[Entry] = []
    verified = verify_circuits(problem, suppressed, singleton, witnesses)
    for p in np.flatnonzero(primary).tolist():
        w = witnesses.get(p)
        lower = upper = None
        bounds = None
        cells = None
        if w is not None and p in verified:
            proof, size, cells = "circuit", len(w.cells), w.cells
        else:
            if attacker is None:
                attacker = Attacker(problem, suppressed, singleton)
            iv, why = check_by_attacker(attacker, p, singleton, requirement)
            if why is not None:
                raise CertificateError(problem, p, why)
            proof, size = "ilp", None
            lower, upper, bounds = iv.lower, iv.upper, "ilp"
        if intervals and bounds is None:
            if attacker is None:
                attacker = Attacker(problem, suppressed, singleton)
            lp = attacker.interval(p)
            if lp.width < 2 * requirement:
                iv = attacker.interval(p, integer="auto")
                lower, upper, bounds = iv.lower, iv.upper, "ilp"
            else:
                lower = math.ceil(lp.lower - 1e-7)
                upper = None if lp.upper is None else math.floor(lp.upper + 1e-7)
                bounds = "lp"
        entries.append(Entry(p, problem.labels[p], proof, lower, upper, bounds, size, cells))
    return Certificate(requirement, tuple(entries))
