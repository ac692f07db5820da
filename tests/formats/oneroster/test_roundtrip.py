"""canonical -> OneRoster 1.2 -> canonical, and every package written passes the conformance checker."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from steward.domain import records as r
from steward.formats.oneroster import PackageWriter, check_directory, read_package, to_canonical
from steward.formats.report import ConversionReport, Severity
from tests.formats.oneroster.strategies import dataset


def _roundtrip(records: list[r.Record]) -> tuple[list[r.Record], ConversionReport, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pkg"
        report = ConversionReport()
        with PackageWriter(out, report=report) as writer:
            writer.write_all(records)
        problems = [str(i) for i in check_directory(out) if i.severity is Severity.ERROR]
        package = read_package(out)
        back = list(to_canonical(package))
        return back, package.report, problems


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset())
def test_roster_records_survive_a_round_trip(records: list[r.Record]) -> None:
    back, report, problems = _roundtrip(records)
    assert problems == []
    assert report.errors == []
    assert Counter(back) == Counter(records)


def test_what_oneroster_cannot_carry_is_dropped_and_reported(tmp_path: Path) -> None:
    day = date(2025, 9, 2)
    records: list[r.Record] = [
        r.Location(2026, "17001", "D", "1", "1", "School", day, date(2026, 6, 1)),
        r.DistrictStudent(
            2026,
            "17001",
            "17002",
            "S",
            None,
            "L",
            "F",
            "",
            date(2012, 1, 1),
            "F",
            "7",
            day,
            disability_code="5",
        ),
        r.SchoolStudent(2026, "17001", "S", None, "1", day, withdrawal_code="G1"),
        r.Absence(2026, "17001", "S", None, "1", day, True),
        r.Absence(2026, "17001", "S", None, "1", date(2025, 9, 3), False),
        r.Guardian("17001", "S", None, "G", "L", "P", "father", restricted=True),
        r.Staff(2026, "17001", "T", "", "L", "F", "", "1", "assistant_principal"),
    ]
    report = ConversionReport()
    with PackageWriter(tmp_path, report=report) as writer:
        writer.write_all(records)
    dropped = {(d.entity, d.field): d.count for d in report.dropped.values()}
    assert dropped[("Absence", None)] == 2
    assert dropped[("DistrictStudent", "disability_code")] == 1
    assert dropped[("DistrictStudent", "resident_district_code")] == 1
    assert dropped[("SchoolStudent", "withdrawal_code")] == 1
    assert dropped[("Guardian", None)] == 1  # restricted: never rostered
    back = list(to_canonical(read_package(tmp_path)))
    staff = [x for x in back if isinstance(x, r.Staff)]
    assert [s.role for s in staff] == [
        "principal"
    ]  # many-to-one: assistant principal reads back as principal
    assert not [x for x in back if isinstance(x, r.Guardian)]
    assert check_directory(tmp_path) == []
