"""CEDARS -> OneRoster conversion speed (target: at least 50,000 records/s), as JSON.

Generates one district's CEDARS drop with the demo generator (``steward.demo.generator``), then
times ``steward.formats.convert.convert`` from that drop to a OneRoster 1.2 package twice: with the
OneRoster conformance check (``verify=True``, what ``steward convert`` runs) and without it; then the
CEDARS reading alone (the floor) and the conformance check of the package alone. Records are the
canonical records read; CPU seconds include the conversion's second process.

    .venv/bin/python bench/convert.py [--students 20000] [--years 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from steward.formats.convert import Source, Target, convert, read_records
from steward.formats.oneroster import check_directory
from steward.formats.report import ConversionReport

T = TypeVar("T")


def _drop(folder: Path, students: int, years: int) -> Path:
    from steward.demo.generator import generate

    summary = generate(folder, districts=1, students=students, years=years, seed=7, workers=1)
    return folder / summary.districts[0]


def _cpu() -> float:
    """CPU seconds of this process and its joined children (the parallel conversion's second half)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(work: Callable[[], T]) -> tuple[T, float, float]:
    started, cpu = time.perf_counter(), _cpu()
    result = work()
    return result, time.perf_counter() - started, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=1)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-convert-"))
    try:
        drop, generated, _ = _timed(lambda: _drop(tmp / "drop", args.students, args.years))
        read_only, reading, reading_cpu = _timed(
            lambda: sum(1 for _ in read_records(Source.CEDARS, drop, ConversionReport()))
        )
        report, seconds, cpu = _timed(
            lambda: convert(Source.CEDARS, drop, Target.ONEROSTER, tmp / "oneroster", verify=False)
        )
        checked_report, checked_seconds, checked_cpu = _timed(
            lambda: convert(Source.CEDARS, drop, Target.ONEROSTER, tmp / "oneroster-checked")
        )
        problems, checking, checking_cpu = _timed(lambda: check_directory(tmp / "oneroster"))
        records = sum(report.read.values())
        assert sum(checked_report.read.values()) == records
        rows = sum(report.written.values())
        print(
            json.dumps(
                {
                    "benchmark": "convert cedars -> oneroster",
                    "students": args.students,
                    "years": args.years,
                    "records_read": records,
                    "oneroster_rows_written": rows,
                    "target_records_per_second": 50_000,
                    "note": (
                        "cpu counts this process and its children (the parallel conversion uses two "
                        "processes); 'checked' is what `steward convert` runs (verify=True)"
                    ),
                    "checked_seconds": round(checked_seconds, 3),
                    "checked_cpu_seconds": round(checked_cpu, 3),
                    "checked_records_per_second": round(records / checked_seconds),
                    "checked_records_per_cpu_second": round(records / checked_cpu),
                    "unchecked_seconds": round(seconds, 3),
                    "unchecked_cpu_seconds": round(cpu, 3),
                    "unchecked_records_per_second": round(records / seconds),
                    "unchecked_records_per_cpu_second": round(records / cpu),
                    "conformance_seconds": round(checking, 3),
                    "conformance_cpu_seconds": round(checking_cpu, 3),
                    "conformance_problems": len(problems),
                    "cedars_read_only_records_per_second": round(read_only / reading),
                    "cedars_read_only_records_per_cpu_second": round(read_only / reading_cpu),
                    "generate_seconds": round(generated, 3),
                    "cpus": os.cpu_count(),
                    "load_average_1min_start": round(load_start, 2),
                    "load_average_1min_end": round(os.getloadavg()[0], 2),
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
