"""``steward convert`` end to end: CEDARS -> OneRoster -> Ed-Fi JSON -> CEDARS, errors and --lenient."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from steward.cli import app
from steward.domain import records as r
from steward.formats.cedars import Drop, DropWriter
from steward.formats.oneroster import check_directory

DISTRICT = "17001"
FIRST, LAST = date(2025, 9, 3), date(2026, 6, 16)
RECORDS: list[r.Record] = [
    r.Location(2026, DISTRICT, "Cascade SD", "1234", "1234", "Cascade High", FIRST, LAST),
    r.DistrictStudent(
        2026,
        DISTRICT,
        DISTRICT,
        "S1",
        "1234567890",
        "Doe",
        "Jane",
        "Q",
        date(2012, 1, 2),
        "F",
        "7",
        FIRST,
        ethnicity_code="2",
    ),
    r.SchoolStudent(2026, DISTRICT, "S1", "1234567890", "1234", FIRST),
    r.StudentRace(2026, DISTRICT, "S1", "1234567890", "AS"),
    r.Course(2026, DISTRICT, "1234", "MATH1", "Algebra I"),
    r.ScheduleEntry(
        2026, DISTRICT, "S1", "1234567890", "1234", "MATH1", "01", "S1", FIRST, date(2026, 1, 23)
    ),
    r.Staff(2026, DISTRICT, "T9", "C123456", "Smith", "Ann", "", "1234", "teacher", "ann@example.org", FIRST),
    r.StaffSchedule(
        2026, DISTRICT, "1234", "MATH1", "01", "S1", "T9", "teacher_of_record", FIRST, date(2026, 1, 23)
    ),
    r.Guardian(DISTRICT, "S1", "1234567890", "G1", "Doe", "Pat", "mother", "pat@example.org"),
    r.Absence(2026, DISTRICT, "S1", "1234567890", "1234", date(2025, 10, 1), True, Decimal("1.0")),
]

runner = CliRunner()


def _drop(folder: Path) -> Path:
    with DropWriter(folder, DISTRICT, date(2026, 1, 31)) as writer:
        writer.write_all(RECORDS)
    return folder


def test_cedars_to_oneroster_to_edfi_json_to_cedars(tmp_path: Path) -> None:
    drop = _drop(tmp_path / "drop")
    result = runner.invoke(
        app, ["convert", "--from", "cedars", str(drop), "--to", "oneroster", str(tmp_path / "or")]
    )
    assert result.exit_code == 0, result.output
    assert "converted" in result.output
    assert "OneRoster has no attendance" in result.output  # the summary names what was dropped
    assert check_directory(tmp_path / "or") == []
    result = runner.invoke(
        app,
        ["convert", "--from", "oneroster", str(tmp_path / "or"), "--to", "edfi-json", str(tmp_path / "json")],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "json" / "students.jsonl").exists()
    result = runner.invoke(
        app,
        [
            "convert",
            "--from",
            "edfi-json",
            str(tmp_path / "json"),
            "--to",
            "cedars",
            str(tmp_path / "back"),
            "--as-of",
            "2026-01-31",
        ],
    )
    assert result.exit_code == 0, result.output
    back = Drop.open(tmp_path / "back" / DISTRICT)
    assert back.problems == []
    records = [rec for prefix in sorted(back.files) for rec in back.records(prefix)]
    kept = [x for x in RECORDS if not isinstance(x, r.Absence)]
    # OneRoster keeps names, codes and spells; the guardian's 'mother' reads back as 'parent'
    by_type = {type(x): x for x in records}
    assert by_type[r.DistrictStudent] == RECORDS[1]
    assert by_type[r.ScheduleEntry] == RECORDS[5]
    assert by_type[r.StaffSchedule] == RECORDS[7]
    assert by_type[r.Guardian].relationship == "parent"
    assert r.Absence not in by_type
    assert len(records) == len(kept)


def test_defective_input_fails_with_file_row_field_and_writes_nothing(
    shared_data: Path, tmp_path: Path
) -> None:
    package = shared_data / "oneroster-csv/catalyst-moodle-enrol_oneroster/v1p2_full_dataset"
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["convert", "--from", "oneroster", str(package), "--to", "edfi-json", str(out)]
    )
    assert result.exit_code == 1
    assert "users.csv row 7, field dateLastModified: '15/06/2023'" in result.output
    assert "not converted" in result.output
    assert not out.exists()


def test_lenient_repairs_and_converts(tmp_path: Path) -> None:
    drop = _drop(tmp_path / "drop")
    assert (
        runner.invoke(
            app, ["convert", "--from", "cedars", str(drop), "--to", "oneroster", str(tmp_path / "or")]
        ).exit_code
        == 0
    )
    users = tmp_path / "or" / "users.csv"
    users.write_text(users.read_text().replace(",true,", ",TRUE,"))
    strict = runner.invoke(
        app,
        ["convert", "--from", "oneroster", str(tmp_path / "or"), "--to", "edfi-json", str(tmp_path / "a")],
    )
    assert strict.exit_code == 1
    assert "users.csv row 2, field enabledUser: 'TRUE' is in the wrong case" in strict.output
    lenient = runner.invoke(
        app,
        [
            "convert",
            "--from",
            "oneroster",
            str(tmp_path / "or"),
            "--to",
            "edfi-json",
            str(tmp_path / "b"),
            "--lenient",
        ],
    )
    assert lenient.exit_code == 0, lenient.output
    assert "repairs (--lenient)" in lenient.output
    assert "'TRUE' -> 'true'" in lenient.output


def test_output_directory_must_be_new(tmp_path: Path) -> None:
    drop = _drop(tmp_path / "drop")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    result = runner.invoke(
        app, ["convert", "--from", "cedars", str(drop), "--to", "oneroster", str(tmp_path / "busy")]
    )
    assert result.exit_code == 1
    assert "exists and is not empty" in result.output.replace("\n", " ")
