"""Defective OneRoster fixtures: rejected precisely, repaired leniently where unambiguous."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.formats.oneroster import Mode, Version, check_package, read_package
from steward.formats.report import Issue, Severity

CATALYST = "oneroster-csv/catalyst-moodle-enrol_oneroster"
OAT = "oneroster-csv/oat-sa-oneroster-import/OneRosterv1p1BaseCSV"


def _where(issues: list[Issue]) -> set[tuple[str, int | None, str | None]]:
    return {(i.file, i.row, i.field) for i in issues if i.severity is Severity.ERROR}


def _find(issues: list[Issue], file: str, row: int | None, field: str | None) -> Issue:
    for i in issues:
        if (i.file, i.row, i.field) == (file, row, field):
            return i
    raise AssertionError(f"no issue at {file} row {row} field {field}: {[str(i) for i in issues]}")


def test_v1p2_full_dataset_is_rejected_with_file_row_field(shared_data: Path) -> None:
    package = read_package(shared_data / CATALYST / "v1p2_full_dataset")
    issues = package.report.issues
    assert package.version is Version.V1_2
    assert not package.ok
    # d/m/y dates: one unambiguous (15/06/2023), four ambiguous (1/05/2023)
    assert "2023-06-15T00:00:00.000Z" in str(_find(issues, "users.csv", 7, "dateLastModified"))
    ambiguous = _find(issues, "users.csv", 2, "dateLastModified")
    assert "ambiguous" in ambiguous.message
    assert "2023-01-05" in ambiguous.message
    assert "2023-05-01" in ambiguous.message
    # wrong-case enumerations
    assert "wrong case" in _find(issues, "classes.csv", 2, "classType").message
    assert "'TRUE'" in _find(issues, "users.csv", 3, "enabledUser").message
    # header typos name the column and the defined name
    typo = _find(issues, "users.csv", 1, "prefferedGivenName")
    assert "did you mean 'preferredGivenName'" in typo.message
    assert "did you mean 'dateLastModified'" in _find(issues, "roles.csv", 1, "dataLastModified").message
    assert "blank" in _find(issues, "roles.csv", 1, "column 10").message
    # 1.2 vocabulary and bulk rules
    assert (
        "'inactive' is not one of active, tobedeleted"
        in _find(issues, "academicSessions.csv", 4, "status").message
    )
    assert "bulk" in _find(issues, "academicSessions.csv", 2, "status").message
    # manifest and file names
    assert "blank" in _find(issues, "manifest.csv", None, "file.scoreScales").message
    assert "case-sensitive" in _find(issues, "userprofiles.csv", None, None).message
    # a 1.2 producer variant is tolerated with a warning, not an error
    variant = _find(issues, "users.csv", 1, "resourceSourcedIds")
    assert variant.severity is Severity.WARNING


def test_v1p2_full_dataset_lenient_repairs_only_the_unambiguous(shared_data: Path) -> None:
    package = read_package(shared_data / CATALYST / "v1p2_full_dataset", lenient=True)
    repairs = {(x.file, x.row, x.field): (x.before, x.after) for x in package.report.repairs}
    assert repairs[("users.csv", 7, "dateLastModified")] == ("15/06/2023", "2023-06-15T00:00:00.000Z")
    assert repairs[("classes.csv", 2, "classType")] == ("Scheduled", "scheduled")
    assert repairs[("users.csv", 1, "prefferedGivenName")] == ("prefferedGivenName", "preferredGivenName")
    assert repairs[("roles.csv", 1, "dataLastModified")] == ("dataLastModified", "dateLastModified")
    assert repairs[("userprofiles.csv", None, None)] == ("userprofiles.csv", "userProfiles.csv")
    assert repairs[("manifest.csv", None, "file.scoreScales")] == ("", "absent")
    # repaired values are what the tables hold
    users = {row["sourcedId"]: row for _, row in package.rows("users")}
    assert users["usr-222-567891"]["dateLastModified"] == "2023-06-15T00:00:00.000Z"
    assert users["usr-222-123456"]["enabledUser"] == "true"
    assert users["usr-222-66778899"]["preferredGivenName"] == "MJ"
    assert {row["classType"] for _, row in package.rows("classes")} == {"scheduled", "homeroom"}
    # what has two readings, or no repair, stays an error
    left = _where(package.report.issues)
    assert ("users.csv", 2, "dateLastModified") in left  # 1/05/2023
    assert ("academicSessions.csv", 4, "status") in left  # inactive in 1.2
    assert ("academicSessions.csv", 2, "status") in left  # tobedeleted in bulk
    assert ("manifest.csv", None, "file.userProfiles") in left  # blank, and a file of that name exists
    assert not package.ok


@pytest.mark.parametrize("lenient", [False, True])
def test_test_full_data_set_v1_1(shared_data: Path, lenient: bool) -> None:
    package = read_package(shared_data / CATALYST / "Test_full_data_set", lenient=lenient)
    check_package(package)
    assert package.version is Version.V1_1
    where = _where(package.report.issues)
    # references that do not resolve (bulk: errors), wrong org type
    assert ("classes.csv", 2, "courseSourcedId") in where
    assert ("orgs.csv", 2, "parentSourcedId") in where
    assert ("academicSessions.csv", 3, "parentSourcedId") in where
    msg = _find(package.report.issues, "classes.csv", 2, "schoolSourcedId").message
    assert "department, not school" in msg
    if lenient:
        assert ("classes.csv", 2, "classType") not in where
        assert ("users.csv", 2, "dateLastModified") not in where
    else:
        assert ("classes.csv", 2, "classType") in where
        assert ("users.csv", 2, "dateLastModified") in where


def test_minimal_data_set_needs_only_case_repairs_per_file(shared_data: Path) -> None:
    strict = read_package(shared_data / CATALYST / "Test_minimal_data_set")
    assert _where(strict.report.issues) == {("classes.csv", 2, "classType")} | {
        ("users.csv", n, "enabledUser") for n in range(2, 8)
    }
    lenient = read_package(shared_data / CATALYST / "Test_minimal_data_set", lenient=True)
    assert lenient.ok
    assert len(lenient.report.repairs) == 7
    check_package(lenient)  # dangling course references remain: no courses.csv
    assert ("classes.csv", 2, "courseSourcedId") in _where(lenient.report.issues)


def test_oneroster_test_data_delta_is_clean_after_case_repair(shared_data: Path) -> None:
    package = read_package(shared_data / CATALYST / "oneroster_test_data", lenient=True)
    check_package(package)
    assert package.modes["users"] is Mode.DELTA
    assert package.ok, [str(i) for i in package.report.errors]
    assert [(r.file, r.row, r.field) for r in package.report.repairs] == [("users.csv", 2, "enabledUser")]


def test_oat_v1_1_base_csv(shared_data: Path) -> None:
    strict = read_package(shared_data / OAT)
    issues = strict.report.issues
    assert "no data rows" in _find(issues, "academicSessions.csv", None, None).message
    assert "1.0 column name" in _find(issues, "classes.csv", 1, "grade").message
    assert "no data rows" in _find(issues, "demographics.csv", None, None).message
    assert "out of order" in _find(issues, "enrollments.csv", 1, None).message
    assert "unknown column" in _find(issues, "users.csv", 1, "ext_tao_userMotherName").message
    assert "not a date" in _find(issues, "orgs.csv", 2, "dateLastModified").message
    lenient = read_package(shared_data / OAT, lenient=True)
    repaired = {(x.file, x.row, x.field) for x in lenient.report.repairs}
    assert ("enrollments.csv", 1, None) in repaired  # reordered by name
    assert ("demographics.csv", None, None) in repaired  # empty file read as absent
    assert ("classes.csv", 2, "grades") in repaired  # '2' -> '02'
    enrollments = lenient.tables["enrollments"]
    assert enrollments.rows[0]["status"] == "active"
    assert enrollments.rows[0]["role"] == "student"
    left = _where(lenient.report.issues)
    assert ("orgs.csv", 2, "dateLastModified") in left  # no time zone: not repaired
    assert ("classes.csv", 2, "courseSourcedId") in left  # required and blank
    assert ("users.csv", 2, "userIds") in left  # 'abc' is no {type:id}


def test_missing_directory_and_manifest(tmp_path: Path) -> None:
    missing = read_package(tmp_path / "nope")
    assert [str(i) for i in missing.report.errors] == [f"{tmp_path / 'nope'}: is not a directory"]
    (tmp_path / "users.csv").write_text("sourcedId\n1\n")
    no_manifest = read_package(tmp_path)
    assert _where(no_manifest.report.issues) == {("manifest.csv", None, None)}


def test_not_utf8_and_short_rows_are_reported(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text(
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.orgs,bulk\n"
    )
    (tmp_path / "orgs.csv").write_bytes(
        b"sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\no1,,,Sch\xe9ol,school,1,\n"
    )
    package = read_package(tmp_path)
    assert any(i.file == "orgs.csv" and "UTF-8" in i.message for i in package.report.errors)
    (tmp_path / "orgs.csv").write_text(
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\no1,,,School\n"
    )
    short = read_package(tmp_path)
    assert _find(short.report.issues, "orgs.csv", 2, None).message == "has 4 fields, the header has 7"


def _package(tmp_path: Path, orgs: bytes, manifest: bytes | None = None) -> Path:
    (tmp_path / "manifest.csv").write_bytes(
        manifest or b"propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.orgs,bulk\n"
    )
    (tmp_path / "orgs.csv").write_bytes(orgs)
    return tmp_path


ORGS_HEADER = b"sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"


def test_manifest_not_utf8_names_file_line_and_property(tmp_path: Path) -> None:
    manifest = b"propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\xe5\nfile.orgs,bulk\n"
    package = read_package(_package(tmp_path, ORGS_HEADER + b"o1,,,School,school,1,\n", manifest))
    issue = _find(package.report.issues, "manifest.csv", 3, "oneroster.version")
    assert "not UTF-8" in issue.message
    assert "0xE5" in issue.message
    assert package.tables["orgs"].rows[0]["name"] == "School"  # the other lines were read


def test_table_not_utf8_past_the_first_block_names_line_and_field(tmp_path: Path) -> None:
    rows = b"".join(b"o%d,,,School %d,school,%d,\n" % (i, i, i) for i in range(1, 400))
    latin1 = "o400,,,Sch\u00e9ol,school,400,\n".encode("latin-1")
    package = read_package(_package(tmp_path, ORGS_HEADER + rows + latin1 + b"o401,,,Last,school,401,\n"))
    assert len(ORGS_HEADER + rows) > 8192  # beyond the first block a text reader decodes
    issue = _find(package.report.issues, "orgs.csv", 401, "name")
    assert "not UTF-8" in issue.message
    assert [str(i) for i in package.report.errors] == [str(issue)]
    assert package.tables["orgs"].row_numbers[-1] == 402  # the line after it keeps its number


def test_header_not_utf8_ends_the_file_and_many_bad_lines_are_summed_up(tmp_path: Path) -> None:
    header = ORGS_HEADER.replace(b"name", b"n\xe4me")
    package = read_package(_package(tmp_path, header + b"o1,,,School,school,1,\n"))
    assert [(i.file, i.row, i.field) for i in package.report.errors] == [("orgs.csv", 1, "column 4")]
    assert "orgs" not in package.tables
    bad = b"".join(b"o%d,,,Sch\xe9ol,school,%d,\n" % (i, i) for i in range(1, 31))
    many = read_package(_package(tmp_path, ORGS_HEADER + bad + b"o99,,,School,school,99,\n"))
    located = [i for i in many.report.errors if i.field == "name"]
    assert [i.row for i in located] == list(range(2, 22))
    assert any("10 more lines are not UTF-8" in i.message for i in many.report.errors)
