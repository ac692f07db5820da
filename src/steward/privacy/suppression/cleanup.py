"""Cleanup: publish secondary suppressions again, most valuable first, while every primary keeps a
witness circuit."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from steward.privacy.suppression.circuits import Circuit, CircuitSearch
from steward.privacy.suppression.model import BoolArray


def _depends(search: CircuitSearch, witnesses: dict[int, Circuit]) -> dict[int, set[int]]:
    dep: dict[int, set[int]] = defaultdict(set)
    for p, w in witnesses.items():
        rows, _ = search.changes(w)
        for r in rows.tolist():
            if r < search.m:
                dep[r].add(p)
    return dep


def cleanup(
    search: CircuitSearch,
    primary: BoolArray,
    witnesses: dict[int, Circuit],
    *,
    budget: int = 400,
) -> int:
    """Try each secondary cell, most valuable first; keep it published when all primaries whose
    witness moved it find another witness. Returns the number of cells published again."""
    dep = _depends(search, witnesses)
    secondary = np.flatnonzero(search.suppressed & ~primary)
    order = secondary[np.argsort(-search.cost[secondary], kind="stable")]
    restored = 0
    for j in order.tolist():
        affected = sorted(dep.get(j, ()))
        search.publish(j)
        found: dict[int, Circuit] = {}
        ok = True
        for p in affected:
            w = search.find(p, budget=budget)
            if w is None:
                ok = False
                break
            found[p] = w
        if not ok:
            search.suppress(j)
            continue
        restored += 1
        dep.pop(j, None)
        for p, w in found.items():
            old = witnesses[p]
            for r in search.changes(old)[0].tolist():
                if r < search.m:
                    dep[r].discard(p)
            witnesses[p] = w
            for r in search.changes(w)[0].tolist():
                if r < search.m:
                    dep[r].add(p)
    return restored
