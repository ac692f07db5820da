"""CEDARS -> OneRoster conversion speed (target: at least 50,000 records/s), as JSON.

Generates one district's CEDARS drop with the demo generator (``steward.demo.generator``), then
times ``steward.formats.convert.convert`` from that drop to a OneRoster 1.2 package, the CEDARS
reading alone (the floor), and the conformance check of the package separately. Records are the
canonical records read.

    .venv/bin/python bench/convert.py [--students 20000] [--years 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from steward.formats.convert import Source, Target, convert, read_records
from steward.formats.oneroster import check_directory
from steward.formats.report import ConversionReport


def _drop(folder: Path, students: int, years: int) -> Path:
    from steward.demo.generator import generate

    summary = generate(folder, districts=1, students=students, years=years, seed=7, workers=1)
    return folder / summary.districts[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=1)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-convert-"))
    try:
        started = time.perf_counter()
        drop = _drop(tmp / "drop", args.students, args.years)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        read_only = sum(1 for _ in read_records(Source.CEDARS, drop, ConversionReport()))
        reading = time.perf_counter() - started
        started = time.perf_counter()
        report = convert(Source.CEDARS, drop, Target.ONEROSTER, tmp / "oneroster", verify=False)
        seconds = time.perf_counter() - started
        records = sum(report.read.values())
        started = time.perf_counter()
        problems = check_directory(tmp / "oneroster")
        checked = time.perf_counter() - started
        rows = sum(report.written.values())
        print(
            json.dumps(
                {
                    "benchmark": "convert cedars -> oneroster",
                    "students": args.students,
                    "years": args.years,
                    "records_read": records,
                    "oneroster_rows_written": rows,
                    "seconds": round(seconds, 3),
                    "records_per_second": round(records / seconds),
                    "target_records_per_second": 50_000,
                    "cedars_read_only_records_per_second": round(read_only / reading),
                    "conformance_seconds": round(checked, 3),
                    "conformance_problems": len(problems),
                    "generate_seconds": round(generated, 3),
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
