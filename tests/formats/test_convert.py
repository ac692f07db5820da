"""CEDARS -> OneRoster in two processes gives exactly the files and the report of one process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from steward.demo.generator import generate
from steward.formats.convert import (
    PARALLEL_MIN_BYTES,
    ConversionError,
    Source,
    Target,
    convert,
    parallel_possible,
)
from steward.formats.report import ConversionReport


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("drop")
    summary = generate(root, districts=1, students=700, years=2, seed=23, workers=1)
    return root / summary.districts[0]


def _report(report: ConversionReport) -> tuple[object, ...]:
    return (
        dict(report.read),
        dict(report.written),
        sorted((d.entity, d.field or "", d.reason, d.count) for d in report.dropped.values()),
        sorted(map(str, report.issues)),
    )


def test_parallel_conversion_equals_the_sequential_one(drop: Path, tmp_path: Path) -> None:
    one = convert(Source.CEDARS, drop, Target.ONEROSTER, tmp_path / "one", parallel=False)
    two = convert(Source.CEDARS, drop, Target.ONEROSTER, tmp_path / "two", parallel=True)
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "two").iterdir())
    assert "enrollments.csv" in names
    assert "users.csv" in names
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    assert _report(one) == _report(two)


def test_parallel_conversion_reports_errors_of_either_half(drop: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(drop, broken)
    for pattern, column in (("*_StudentSchedule_*", 8), ("*_StudentAbsence_*", 5), ("*_StudentRace_*", 4)):
        [path] = broken.glob(pattern)
        lines = path.read_text().splitlines()
        fields = lines[1].split("\t")
        fields[column] = "13/45/2020" if pattern != "*_StudentRace_*" else "Z"
        lines[1] = "\t".join(fields)
        path.write_text("\n".join(lines) + "\n")
    errors = []
    for parallel in (False, True):
        out = tmp_path / f"out-{parallel}"
        with pytest.raises(ConversionError) as caught:
            convert(Source.CEDARS, broken, Target.ONEROSTER, out, parallel=parallel)
        assert not out.exists()
        errors.append(sorted(map(str, caught.value.report.errors)))
    assert errors[0] == errors[1]
    assert len(errors[0]) == 3
    assert all("row 2" in e for e in errors[0])


def test_parallel_only_for_large_drops(drop: Path, tmp_path: Path) -> None:
    size = sum(p.stat().st_size for p in drop.iterdir())
    assert parallel_possible(drop) == (size >= PARALLEL_MIN_BYTES)
    assert not parallel_possible(tmp_path / "missing")
