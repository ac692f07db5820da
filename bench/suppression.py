"""Suppression benchmark: Steward's engine against tau-Argus (pytauargus MOD and OPT).

For each table (fixed seed, realistic small counts) prints, per method: secondary suppressions,
suppressed total, wall time, and how many primaries our audit finds exactly disclosed in the
method's output. Run with ``.venv/bin/python bench/suppression.py [--quick]``; needs the ``bench``
extra (``pytauargus``) for the tau-Argus rows.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from steward.privacy.suppression.audit import Attacker
from steward.privacy.suppression.certificate import check_by_attacker, verify_circuits
from steward.privacy.suppression.circuits import Circuit, CircuitSearch
from steward.privacy.suppression.engine import PRIMARY, SECONDARY, Result, suppress
from steward.privacy.suppression.hypercube import Hypercubes, best_cycle
from steward.privacy.suppression.model import Dim, Problem, cross_table
from steward.privacy.suppression.primary import primaries, singletons

GRADES = ("K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
SEX = (("Female", 0.493), ("Male", 0.497), ("Gender X", 0.010))
RACE6 = (
    ("White", 0.50),
    ("Hispanic", 0.25),
    ("Two or More", 0.09),
    ("Asian", 0.08),
    ("Black", 0.05),
    ("AI/AN or NH/PI", 0.03),
)
RACE8 = (
    ("White", 0.49),
    ("Hispanic", 0.25),
    ("Two or More", 0.09),
    ("Asian", 0.08),
    ("Black", 0.05),
    ("AI/AN", 0.015),
    ("NH/PI", 0.015),
    ("Not Provided", 0.01),
)
SCHOOL_TYPES = (  # grades offered, share of schools, median students per grade
    (range(0, 6), 0.55, 65.0),
    (range(6, 9), 0.20, 180.0),
    (range(9, 13), 0.18, 260.0),
    (range(0, 9), 0.04, 35.0),
    (range(0, 13), 0.03, 12.0),
)


@dataclass(frozen=True)
class Table:
    name: str
    dims: tuple[Dim, ...]
    counts: np.ndarray  # shape (schools, grades, groups)


def make_table(
    name: str, schools: int, groups: tuple[tuple[str, float], ...], districts: int, seed: int
) -> Table:
    """Enrollment by school x grade x group with realistic small counts (fixed seed)."""
    rng = np.random.default_rng(seed)
    shares = np.asarray([g[1] for g in groups])
    counts = np.zeros((schools, len(GRADES), len(groups)), dtype=np.int64)
    kinds = rng.choice(len(SCHOOL_TYPES), size=schools, p=[t[1] for t in SCHOOL_TYPES])
    for s in range(schools):
        offered, _, median = SCHOOL_TYPES[kinds[s]]
        size = median * math.exp(rng.normal(0.0, 0.45))
        mix = rng.dirichlet(shares * 40.0)
        for g in offered:
            n = rng.poisson(size * math.exp(rng.normal(0.0, 0.1)))
            counts[s, g] = rng.multinomial(n, mix)
    school_codes = tuple(f"S{s:04d}" for s in range(schools))
    parent = {}
    if districts > 1:
        owner = np.sort(rng.integers(0, districts, size=schools))
        parent = {code: f"D{owner[s]:03d}" for s, code in enumerate(school_codes)}
    dims = (
        Dim("school", school_codes, parent),
        Dim("grade", GRADES),
        Dim("group", tuple(g[0] for g in groups)),
    )
    return Table(name, dims, counts)


def tables(quick: bool) -> list[Table]:
    out = [
        make_table("30x13x3", 30, SEX, 1, 1),
        make_table("200x13x6", 200, RACE6, 1, 2),
    ]
    if not quick:
        out.append(make_table("25 districts > 1000x13x8", 1000, RACE8, 25, 3))
    return out


# ---------------------------------------------------------------- our audit of any pattern

#: CPU seconds per audit for the exact attacker (``--audit-cpu``).
AUDIT_BUDGET = [math.inf]


def disclosed(
    problem: Problem,
    suppressed: np.ndarray,
    primary: np.ndarray,
    witnesses: Mapping[int, Circuit] | None = None,
    budget: float = math.inf,
) -> dict[str, Any]:
    """Primaries that the bound-aware audit finds exactly determined by anyone (width 0), pinned
    to less than 1, or determined by a singleton student. Witness circuits first (the method's
    own, re-checked by ``verify_circuits``; hypercubes and cycles among the suppressed cells; the
    general search), the exact attacker for the rest until ``budget`` CPU seconds are spent (the
    primaries left after that are counted as ``not_audited``)."""
    cpu0 = time.process_time()
    single = singletons(problem, primary)
    left = [p for p in np.flatnonzero(primary).tolist() if suppressed[p]]
    exact = int(np.count_nonzero(primary & ~suppressed))
    if witnesses:
        ok = verify_circuits(problem, suppressed, single, witnesses)
        left = [p for p in left if p not in ok]
    if problem.grid is not None:
        hc = Hypercubes(problem, suppressed, single)
        cells = problem.n_cells <= 25_000

        def witnessed(p: int) -> bool:
            if hc.best(p, only_free=True) is not None:
                return True
            found = best_cycle(hc, p) if cells else None
            return found is not None and found.cost == 0.0

        left = [p for p in left if not witnessed(p)]
    if left:
        search = CircuitSearch(problem, suppressed, single)
        left = [p for p in left if search.find(p, budget=2000) is None]
    attacker = Attacker(problem, suppressed, single) if left else None
    narrow = by_singleton = audited = 0
    for p in left:
        assert attacker is not None
        if time.process_time() - cpu0 > budget:
            break
        audited += 1
        iv = attacker.interval(p, integer="auto")
        if iv.width < 1e-7:
            exact += 1
        elif iv.width < 1:
            narrow += 1
        elif check_by_attacker(attacker, p, single, 1)[1] is not None:
            by_singleton += 1
    return {
        "exactly_disclosed": exact,
        "width_below_1": narrow,
        "disclosed_to_a_singleton": by_singleton,
        "needed_lp": len(left),
        "not_audited": len(left) - audited,
        "audit_cpu_seconds": round(time.process_time() - cpu0, 2),
    }


# ---------------------------------------------------------------- tau-Argus


def tau_argus(table: Table, problem: Problem, method: str, max_minutes: int) -> dict[str, Any]:
    """Run tau-Argus (tabular input, FREQ(10,0)) and map its pattern onto our cells."""
    from pytauargus.engine import run_batch

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dims = table.dims
        lines = []
        shape = table.counts.shape
        for s in range(shape[0]):
            for g in range(shape[1]):
                for k in range(shape[2]):
                    v = int(table.counts[s, g, k])
                    if v:
                        lines.append(f"{dims[0].codes[s]};{dims[1].codes[g]};{dims[2].codes[k]};{v};{v}")
        (work / "t.tab").write_text("\n".join(lines) + "\n", encoding="utf-8")
        rda = ['<SEPARATOR> ";"']
        for d in dims:
            rda += [f'"{d.name}" "" ""', "<RECODEABLE>", '<TOTCODE> "Total"']
            if d.parent:
                rda += ["<HIERARCHICAL>", f'<HIERCODELIST> "{d.name}.hrc"', '<HIERLEADSTRING> "@"']
                tree: dict[str, list[str]] = {}
                for code in d.codes:
                    tree.setdefault(d.parent[code], []).append(code)
                hrc = []
                for top in sorted(tree):
                    hrc.append(top)
                    hrc += ["@" + c for c in tree[top]]
                (work / f"{d.name}.hrc").write_text("\n".join(hrc) + "\n", encoding="utf-8")
        rda += ['"n" "" ""', "<NUMERIC>", '"freq" "" ""', "<FREQUENCY>"]
        (work / "t.rda").write_text("\n".join(rda) + "\n", encoding="utf-8")
        names = "".join(f'"{d.name}"' for d in dims)
        spec = f"MOD(1,{max_minutes},1,1,1)" if method == "MOD" else f"OPT(1,{max_minutes})"
        arb = [
            '<OPENTABLEDATA> "t.tab"',
            '<OPENMETADATA> "t.rda"',
            f'<SPECIFYTABLE> {names}|"n"||',
            "<SAFETYRULE> FREQ(10,0)",
            "<READTABLE> 1",
            f"<SUPPRESS> {spec}",
            '<WRITETABLE> (1,5,AS+,"out.tab")',
        ]
        (work / "t.arb").write_text("\n".join(arb) + "\n", encoding="utf-8")
        start, cpu = time.perf_counter(), time.process_time()
        run_batch(str(work / "t.arb"))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        status: dict[tuple[str, ...], str] = {}
        for line in (work / "out.tab").read_text(encoding="utf-8").splitlines():
            f = [x.strip().strip('"').strip() for x in line.split(";")]
            status[tuple(f[:3])] = f[-3]
    index = {label: j for j, label in enumerate(problem.labels)}
    suppressed = np.zeros(problem.n_cells, dtype=np.bool_)
    tau_primary = np.zeros(problem.n_cells, dtype=np.bool_)
    for label, st in status.items():
        j = index.get(label)
        if j is None:
            continue
        suppressed[j] = st in ("U", "M")
        tau_primary[j] = st == "U"
    ours = primaries(problem)
    return {
        "method": f"tau-Argus {method}",
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "suppressed": suppressed,
        "primary": tau_primary,
        "primaries_match_ours": bool(np.array_equal(tau_primary, ours)),
    }


def _tau_child(queue: Any, table: Table, problem: Problem, method: str, minutes: int) -> None:
    try:
        queue.put(tau_argus(table, problem, method, minutes))
    except Exception as exc:  # reported by the parent
        queue.put({"error": str(exc)})


def tau_argus_limited(
    table: Table, problem: Problem, method: str, minutes: int, wall: float
) -> dict[str, Any]:
    """tau-Argus in a child process, stopped after ``wall`` seconds (its own limits are per
    sub-table, so a whole run can take far longer); a child that dies is reported as such."""
    import multiprocessing as mp
    import queue as queues

    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_tau_child, args=(queue, table, problem, method, minutes))
    start = time.perf_counter()
    proc.start()
    pid = proc.pid
    cpu = 0.0
    while True:
        try:
            out: dict[str, Any] = queue.get(timeout=2)
        except queues.Empty:
            cpu = _cpu_of(pid, cpu)
            elapsed = time.perf_counter() - start
            if proc.is_alive() and elapsed < wall:
                continue
            why = f"did not finish within {wall:.0f} s (stopped)"
            if not proc.is_alive():
                why = f"the tau-Argus process ended without a result (exit code {proc.exitcode})"
            proc.kill()
            proc.join()
            return {
                "method": f"tau-Argus {method}",
                "error": why,
                "seconds": round(elapsed, 1),
                "cpu_seconds": round(cpu, 1),
            }
        proc.join()
        return out


def _cpu_of(pid: int | None, last: float) -> float:
    """User + system CPU seconds of a running child (Linux ``/proc``), else ``last``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return last


def summarise(
    problem: Problem,
    row: dict[str, Any],
    suppressed: np.ndarray,
    primary: np.ndarray,
    witnesses: Mapping[int, Circuit] | None = None,
) -> dict[str, Any]:
    secondary = suppressed & ~primary
    row = {k: v for k, v in row.items() if k not in ("suppressed", "primary")}
    row["primaries"] = int(primary.sum())
    row["secondary"] = int(secondary.sum())
    row["suppressed_total"] = int(problem.values[secondary].sum())
    print(json.dumps({"before_audit": row}), file=sys.stderr, flush=True)
    row.update(disclosed(problem, suppressed, primary, witnesses, AUDIT_BUDGET[0]))
    return row


def own_witnesses(result: Result) -> dict[int, Circuit]:
    """The witness circuits of a certificate (checked again by the audit, not trusted)."""
    return {
        e.cell: Circuit(e.circuit, frozenset(), 0.0)
        for e in result.certificate.entries
        if e.circuit is not None
    }


def like_tau(problem: Problem) -> dict[str, Any]:
    """Steward fast under tau-Argus's attacker model (no singleton student subtracts their own
    cell), for a like-for-like count; audited under ours like every other row."""
    from unittest import mock

    from steward.privacy.suppression import engine

    start, cpu = time.perf_counter(), time.process_time()
    with mock.patch.object(engine, "singletons", lambda problem, primary: np.zeros_like(primary)):
        result = engine.suppress(problem)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    row = {
        "method": "steward fast, no singleton attackers (tau-Argus's model)",
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
    }
    return summarise(problem, row, result.suppressed, result.status == PRIMARY, own_witnesses(result))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="skip the 100k-cell table")
    ap.add_argument("--no-tau", action="store_true", help="skip tau-Argus")
    ap.add_argument("--tau-minutes", type=int, default=15, help="tau-Argus limit per sub-table")
    ap.add_argument("--tau-wall", type=float, default=900, help="seconds before a tau-Argus run is stopped")
    ap.add_argument("--no-like", action="store_true", help="skip the run under tau-Argus's attacker model")
    ap.add_argument("--only", help="run only the table whose name starts with this")
    ap.add_argument("--tau-methods", default="MOD,OPT", help="tau-Argus methods to run, comma-separated")
    ap.add_argument(
        "--no-steward",
        action="store_true",
        help="skip the run of Steward fast (with --no-like too: tau-Argus only)",
    )
    ap.add_argument(
        "--audit-cpu", type=float, default=math.inf, help="CPU seconds per audit for the exact attacker"
    )
    args = ap.parse_args()
    AUDIT_BUDGET[0] = args.audit_cpu
    try:
        import pytauargus  # noqa: F401

        have_tau = not args.no_tau
    except ImportError:
        have_tau = False
    report = []
    for table in tables(args.quick):
        if args.only and not table.name.startswith(args.only):
            continue
        problem = cross_table(table.dims, table.counts)
        entry: dict[str, Any] = {
            "table": table.name,
            "inner_cells": problem.n_inner,
            "published_cells": problem.n_cells,
            "results": [],
        }
        if not args.no_steward:
            start, cpu = time.perf_counter(), time.process_time()
            result = suppress(problem)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            row = {"method": "steward fast", "seconds": round(elapsed, 2), "cpu_seconds": round(cpu, 2)}
            print(json.dumps({"table": table.name, **row}), file=sys.stderr, flush=True)
            entry["results"].append(
                summarise(problem, row, result.suppressed, result.status == PRIMARY, own_witnesses(result))
            )
            assert int((result.status == SECONDARY).sum()) == entry["results"][0]["secondary"]
        if not args.no_like:
            entry["results"].append(like_tau(problem))
        if have_tau:
            for method in args.tau_methods.split(","):
                tau = tau_argus_limited(table, problem, method, args.tau_minutes, args.tau_wall)
                if "error" in tau:  # the peer failing is a result, not a crash
                    entry["results"].append(tau)
                    continue
                entry["results"].append(summarise(problem, tau, tau["suppressed"], tau["primary"]))
        report.append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
