"""Benchmark: the synthetic region generator at scale; prints JSON figures.

Runs ``steward.demo.generator.generate`` in a child process (default 1,000,000 students, 7 districts,
3 school years) and measures wall time and peak resident memory with ``resource.getrusage`` of
children. ``peak_rss_mb`` is the largest single process (the child or one of its workers);
``total_rss_mb_bound`` adds the child and every worker at that peak, an upper bound of the sum.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys
from pathlib import Path
from steward.demo.generator import generate
out, districts, students, years, seed, end_year, workers = sys.argv[1:8]
summary = generate(Path(out), int(districts), int(students), int(years), int(seed), end_year=int(end_year),
                   workers=None if workers == "auto" else int(workers))
print(json.dumps({
    "rows": summary.total_rows,
    "rows_by_file": summary.rows_by_file(),
    "movers_share": round(summary.movers_share, 4),
    "shares": {k: round(v, 4) for k, v in summary.shares.items()},
    "self_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--districts", type=int, default=7)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end-year", type=int, default=2026)
    parser.add_argument("--workers", default="auto", help="processes, or 'auto' (one per CPU)")
    parser.add_argument("--out", type=Path, help="keep the drops here (default: a temporary directory)")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="steward-bench-generate-"))
    try:
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(out), str(args.districts), str(args.students), str(args.years),
             str(args.seed), str(args.end_year), str(args.workers)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            sys.exit(f"generator failed:\n{child.stderr}")
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        size = sum(p.stat().st_size for p in out.rglob("*.txt"))
        workers = os.cpu_count() if args.workers == "auto" else int(args.workers)
        print(
            json.dumps(
                {
                    "students": args.students,
                    "districts": args.districts,
                    "years": args.years,
                    "workers": workers,
                    "rows": figures["rows"],
                    "bytes": size,
                    "seconds": round(seconds, 1),
                    "students_per_s": round(args.students / seconds),
                    "rows_per_s": round(figures["rows"] / seconds),
                    "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
                    "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                    "total_rss_mb_bound": round(
                        figures["self_rss_mb"] + workers * figures["worker_rss_mb"], 1
                    ),
                    "movers_share": figures["movers_share"],
                    "shares": figures["shares"],
                    "rows_by_file": figures["rows_by_file"],
                },
                indent=2,
            )
        )
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
