"""Ed-Fi API JSON resources: canonical -> resources -> canonical, and bad files named precisely."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from steward.domain import records as r
from steward.formats.edfi import ResourceWriter, read_resources, to_canonical
from steward.formats.report import ConversionReport
from tests.formats.oneroster.strategies import dataset


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset(roster_only=False))
def test_every_canonical_record_survives_ed_fi_json(records: list[r.Record]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with ResourceWriter(Path(tmp)) as writer:
            writer.write_all(records)
        data, report = read_resources(Path(tmp))
        back = list(to_canonical(data, report))
    assert report.errors == []
    assert Counter(back) == Counter(records)


def test_resources_are_ed_fi_shaped(tmp_path: Path) -> None:
    from datetime import date

    with ResourceWriter(tmp_path) as writer:
        writer.write(
            r.DistrictStudent(
                2026,
                "17001",
                "17001",
                "S1",
                "1234567890",
                "Doe",
                "Ann",
                "",
                date(2012, 5, 1),
                "F",
                "7",
                date(2025, 9, 2),
            )
        )
        writer.write(r.StudentRace(2026, "17001", "S1", "1234567890", "AS"))
    seoa = json.loads((tmp_path / "studentEducationOrganizationAssociations.jsonl").read_text())
    assert seoa["sexDescriptor"] == "uri://ed-fi.org/SexDescriptor#Female"
    assert seoa["races"] == [{"raceDescriptor": "uri://ed-fi.org/RaceDescriptor#Asian"}]
    assert seoa["studentIdentificationCodes"][0]["identificationCode"] == "1234567890"
    student = json.loads((tmp_path / "students.jsonl").read_text())
    assert (student["studentUniqueId"], student["birthDate"]) == ("S1", "2012-05-01")


def test_bad_resource_lines_are_reported(tmp_path: Path) -> None:
    (tmp_path / "students.jsonl").write_text('{"studentUniqueId": "1"}\nnot json\n{"firstName": "x"}\n')
    (tmp_path / "grades.json").write_text("[]")
    report = ConversionReport()
    data, _ = read_resources(tmp_path, report)
    assert [d.id for d in data.students] == ["1"]
    assert [str(i) for i in report.issues] == [
        "grades.json: not read: not a resource Steward knows",
        "students.jsonl row 2: is not JSON: Expecting value",
        "students.jsonl row 3, field studentUniqueId: is required",
    ]
