"""Benchmark: data products over a generated state (default 1,000,000 students); prints JSON figures.

Uses the drops in ``bench/out/state-1m`` (git-ignored), generating them with ``steward generate``
when absent. Each product runs in a child process so that its peak resident memory is measured
alone (``ru_maxrss`` of the child itself, DuckDB's threads included):

* ``extract``: a de-identified state extract (every district, the demo agreement's elements,
  all school years) with the crosswalk in a temporary SQLite database: rows/s and peak memory;
* ``counts``: the inner cells of every aggregate report for every district, counted at the source.

The goal is a state extract under 2 GB of memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out" / "state-1m"

EXTRACT = r"""
import json, resource, sys, tempfile, time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from steward.demo.research import DEMO_ELEMENTS
from steward.domain.datasets import Dataset
from steward.products.extract.build import ALL_DISTRICTS, ExtractSpec, build_extract
from steward.products.extract.crosswalk import Crosswalk
from steward.sources import open_source
from steward.store.db import make_engine, migrate, transaction
from steward.store.models import Organization
from steward.workflow.models import Agreement

drops, years = Path(sys.argv[1]), tuple(int(y) for y in sys.argv[2].split(","))
work = Path(tempfile.mkdtemp(prefix="steward-bench-products-"))
url = f"sqlite:///{work / 'steward.db'}"
migrate(url)
engine = make_engine(url)
now = datetime.now(UTC)
with transaction(engine) as db:
    state = Organization(code="state", kind="state_agency", name="State", flags=[])
    research = Organization(code="research", kind="research_org", name="Research", flags=[])
    db.add_all([state, research])
    db.flush()
    agreement = Agreement(code="BENCH-1", kind="dsa", organization_id=research.id, district_id=state.id,
                          status="executed", valid_from=now - timedelta(days=1))
    db.add(agreement)
    db.flush()
    agreement_id = agreement.id
elements = defaultdict(list)
for item in DEMO_ELEMENTS:
    dataset, _, name = item.partition(".")
    elements[Dataset(dataset)].append(name)
spec = ExtractSpec(ALL_DISTRICTS, years, {d: tuple(v) for d, v in elements.items()}, k=10)
started = time.perf_counter()
with open_source(drops) as source, transaction(engine) as db:
    summary = build_extract(source, spec, Crosswalk(db, agreement_id), work / "package")
seconds = time.perf_counter() - started
size = (work / "package" / "extract.csv").stat().st_size
print(json.dumps({
    "rows": summary.rows, "students": summary.students, "withheld": summary.outcome.withheld,
    "k": summary.outcome.k, "levels": dict(zip([c.name for c in summary.plan.quasi_identifiers],
                                               summary.outcome.levels)),
    "seconds": round(seconds, 1), "rows_per_s": round(summary.rows / seconds),
    "extract_mb": round(size / 2**20, 1),
    "self_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
"""

COUNTS = r"""
import json, resource, sys, time
from pathlib import Path
from steward.products.aggregate.reports import REPORTS, inner_cells
from steward.products.student_year import Scope
from steward.sources import open_source

drops, years = Path(sys.argv[1]), tuple(int(y) for y in sys.argv[2].split(","))
figures = {}
with open_source(drops) as source:
    districts = [d.district_code for d in source.drops]
    started = time.perf_counter()
    cells = 0
    for district in districts:
        scope = Scope(years, (district,))
        for name, spec in REPORTS.items():
            for release in spec.releases(source, scope):
                table = source.to_arrow(inner_cells(release.units, release.rate is not None, release.sums))
                cells += table.num_rows
    seconds = time.perf_counter() - started
print(json.dumps({
    "districts": len(districts), "reports": len(REPORTS), "inner_cells": cells,
    "seconds": round(seconds, 1),
    "self_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
"""


def _child(code: str, *args: str) -> dict[str, object]:
    """Run one product in a fresh interpreter; its own peak RSS is the memory figure."""
    started = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if child.returncode != 0:
        raise SystemExit(child.stderr[-4000:])
    # The child's progress bar shares stdout (carriage returns, no newline before the figures).
    text = child.stdout.replace("\r", "\n")
    lines = [line[line.index('{"') :] for line in text.splitlines() if '{"' in line]
    if not lines:
        raise SystemExit(
            f"no figures (exit {child.returncode}):\n{child.stdout[-2000:]}\n{child.stderr[-2000:]}"
        )
    figures: dict[str, object] = json.loads(lines[-1])
    figures["wall_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--drops", type=Path, default=DEFAULT_OUT, help="folder of district drops")
    parser.add_argument("--students", type=int, default=1_000_000, help="when generating")
    parser.add_argument("--years", default="2024,2025,2026", help="school years to extract")
    parser.add_argument("--only", choices=("extract", "counts"), help="run one product")
    args = parser.parse_args()
    if not args.drops.is_dir():
        subprocess.run(
            [str(Path(sys.executable).with_name("steward")), "generate", str(args.drops), "--districts", "7",
             "--students", str(args.students), "--years", "3", "--seed", "1", "--end-year", "2026"],
            check=True,
        )  # fmt: skip
    out: dict[str, object] = {"drops": str(args.drops.name), "years": args.years}
    if args.only in (None, "extract"):
        out["extract"] = _child(EXTRACT, str(args.drops), args.years)
    if args.only in (None, "counts"):
        out["counts"] = _child(COUNTS, str(args.drops), args.years)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
