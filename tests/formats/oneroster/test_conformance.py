"""The cross-file conformance rules, each broken on purpose in a small bulk 1.2 package."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from steward.formats.oneroster import check_directory
from steward.formats.report import Severity

SOURCE = "oneroster-csv/catalyst-moodle-enrol_oneroster/oneroster_test_data"
T = "2023-10-02T00:00:00.000Z"


@pytest.fixture
def package(shared_data: Path, tmp_path: Path) -> Path:
    """A clean bulk copy of the sample delta package (one school, class, user, enrollment)."""
    folder = tmp_path / "package"
    shutil.copytree(shared_data / SOURCE, folder)
    manifest = folder / "manifest.csv"
    manifest.write_text(manifest.read_text().replace(",delta\n", ",bulk\n"))
    users = folder / "users.csv"
    users.write_text(users.read_text().replace(",TRUE,", ",true,"))
    return folder


def _append(folder: Path, name: str, *lines: str) -> None:
    with (folder / name).open("a") as fh:
        fh.writelines(line + "\n" for line in lines)


def _errors(folder: Path) -> list[str]:
    return [str(i) for i in check_directory(folder) if i.severity is Severity.ERROR]


def test_the_clean_package_conforms(package: Path) -> None:
    assert _errors(package) == []


def test_unresolved_references_name_file_row_and_field(package: Path) -> None:
    _append(package, "enrollments.csv", f"ENROLLMENT_002,active,{T},CLASS_404,ORG_1,USER_0,student,,,")
    _append(package, "users.csv", f'USER_1,active,{T},true,robin,,Dick,Grayson,,,,,,"USER_0,GHOST",,,,,,,,')
    _append(package, "roles.csv", f"ROLE_9,active,{T},USER_1,primary,student,,,ORG_1,")
    assert _errors(package) == [
        "enrollments.csv row 3, field classSourcedId: 'CLASS_404' is not a sourcedId in classes.csv",
        "users.csv row 3, field agentSourcedIds: 'GHOST' is not a sourcedId in users.csv",
    ]


def test_a_delta_may_refer_to_earlier_deliveries(package: Path) -> None:
    manifest = package / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("file.enrollments,bulk", "file.enrollments,delta"))
    _append(package, "enrollments.csv", f"ENROLLMENT_002,active,{T},CLASS_404,ORG_1,USER_0,student,,,")
    issues = check_directory(package)
    assert _errors(package) == []
    assert [(i.severity, i.field) for i in issues if "CLASS_404" in i.message] == [
        (Severity.WARNING, "classSourcedId")
    ]


def test_a_school_reference_must_name_a_school(package: Path) -> None:
    _append(package, "orgs.csv", f"ORG_2,active,{T},Gotham District,district,,")
    _append(package, "enrollments.csv", f"ENROLLMENT_002,active,{T},CLASS_001,ORG_2,USER_0,student,,,")
    assert _errors(package) == [
        "enrollments.csv row 3, field schoolSourcedId: 'ORG_2' is an org of type district, not school",
        "enrollments.csv row 3, field schoolSourcedId: "
        "'ORG_2' is not the school of class 'CLASS_001': 'ORG_1'",
    ]


def test_a_missing_file_dates_out_of_order_and_roles(package: Path) -> None:
    (package / "courses.csv").unlink()
    manifest = package / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("file.courses,bulk", "file.courses,absent"))
    _append(
        package, "academicSessions.csv", f"ACAD_SESS_2,active,{T},Late,semester,2024-05-01,2024-01-01,,2024"
    )
    _append(package, "users.csv", f"USER_1,active,{T},true,robin,,Dick,Grayson,,,,,,,,,,,,,,")
    _append(package, "roles.csv", f"ROLE_9,active,{T},USER_0,primary,teacher,,,ORG_1,")
    assert _errors(package) == [
        "classes.csv row 2, field courseSourcedId: "
        "'COURSE_001' refers to courses.csv, which the package does not have",
        "academicSessions.csv row 3, field endDate: 2024-01-01 is before startDate 2024-05-01",
        "roles.csv row 3, field roleType: "
        "user 'USER_0' has a second primary role at org 'ORG_1' (first: row 2)",
        "users.csv row 3, field sourcedId: user has no role in roles.csv (1.2 users need one)",
    ]
