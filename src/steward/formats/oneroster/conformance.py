"""OneRoster CSV conformance: everything the reader checks per file, plus the cross-file rules.

Written from the CSV binding: header names and order, required columns and values, vocabularies,
date and date-time formats, unique sourcedIds (all in the reader), and here: every reference
resolves (to an org of the right type where the spec says so), end dates follow begin dates, an
enrollment's school is its class's school, and (1.2) every user has a role, with at most one
primary role per organization. In a delta package a reference may point to a record delivered
before, so unresolved references are warnings there and errors in bulk.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from steward.formats.oneroster.reader import Package, read_package
from steward.formats.oneroster.spec import Kind, Mode, Version
from steward.formats.report import ConversionReport, Issue, Severity


def check_directory(directory: Path) -> list[Issue]:
    """Every conformance problem of the package in ``directory`` (strict reading)."""
    package = read_package(directory, lenient=False)
    check_package(package)
    return list(package.report.issues)


def check_package(package: Package) -> None:
    """Add the cross-file problems of ``package`` to its report."""
    report = package.report
    ids: dict[str, set[str]] = {
        name: {row["sourcedId"] for row in t.rows} for name, t in package.tables.items()
    }
    org_types = {row["sourcedId"]: row["type"] for _, row in package.rows("orgs")}
    for table in package.tables.values():
        delta = table.mode is Mode.DELTA
        for col in table.spec.columns:
            if not col.ref:
                continue
            # One set of every sourcedId a value may name, so each reference costs one lookup.
            targets = col.ref
            known = (
                ids.get(targets[0], set())
                if len(targets) == 1
                else set().union(*(ids.get(t, ()) for t in targets))
            )
            org_type = col.ref_org_type
            name, many = col.name, col.kind is Kind.IDS
            # Values repeat: when every distinct one resolves, no row has a problem to report.
            if all(
                _resolves(value, known, many, org_type, org_types)
                for value in {row[name] for row in table.rows}
            ):
                continue
            for number, row in zip(table.row_numbers, table.rows, strict=True):
                value = row[name]
                if not value:
                    continue
                for ref in [r.strip() for r in value.split(",")] if many else (value.strip(),):
                    if ref not in known:
                        where = " or ".join(f"{t}.csv" for t in targets)
                        if any(t not in package.tables for t in targets) and all(
                            package.modes.get(t, Mode.ABSENT) is Mode.ABSENT for t in targets
                        ):
                            msg = f"{ref!r} refers to {where}, which the package does not have"
                        else:
                            msg = f"{ref!r} is not a sourcedId in {where}"
                        _ref_issue(report, table.file, number, name, msg, delta)
                    elif org_type and org_types.get(ref, org_type) != org_type:
                        msg = f"{ref!r} is an org of type {org_types[ref]}, not {org_type}"
                        report.issue(table.file, number, name, msg)
    _date_order(package, report)
    _enrollment_schools(package, report)
    if package.version is Version.V1_2 and "users" in package.tables:
        _roles(package, report)


def _resolves(
    value: str, known: set[str], many: bool, org_type: str | None, org_types: dict[str, str]
) -> bool:
    """Whether the row loop of ``check_package`` reports nothing for this value."""
    if not value:
        return True
    for ref in [r.strip() for r in value.split(",")] if many else (value.strip(),):
        if ref not in known or (org_type and org_types.get(ref, org_type) != org_type):
            return False
    return True


def _ref_issue(report: ConversionReport, file: str, row: int, col: str, msg: str, delta: bool) -> None:
    if delta:
        report.issue(file, row, col, msg + " (a delta may refer to earlier deliveries)", Severity.WARNING)
    else:
        report.issue(file, row, col, msg)


def _date_order(package: Package, report: ConversionReport) -> None:
    pairs = {"academicSessions": ("startDate", "endDate"), "enrollments": ("beginDate", "endDate")}
    if package.version is Version.V1_2:
        pairs["roles"] = ("beginDate", "endDate")
    for name, (first, last) in pairs.items():
        table = package.tables.get(name)
        if table is None:
            continue
        for number, row in table:
            begin, end = row[first], row[last]
            if begin and end and len(begin) == len(end) == 10 and end < begin:
                report.issue(table.file, number, last, f"{end} is before {first} {begin}")


def _enrollment_schools(package: Package, report: ConversionReport) -> None:
    class_school = {row["sourcedId"]: row["schoolSourcedId"] for _, row in package.rows("classes")}
    table = package.tables.get("enrollments")
    if table is None:
        return
    for number, row in table:
        school = class_school.get(row["classSourcedId"])
        if school and row["schoolSourcedId"] and school != row["schoolSourcedId"]:
            msg = (
                f"{row['schoolSourcedId']!r} is not the school of class {row['classSourcedId']!r}: {school!r}"
            )
            report.issue(table.file, number, "schoolSourcedId", msg)


def _roles(package: Package, report: ConversionReport) -> None:
    users = package.tables["users"]
    roles = package.tables.get("roles")
    with_role: set[str] = set()
    primaries: Counter[tuple[str, str]] = Counter()
    first_primary: dict[tuple[str, str], int] = {}
    if roles is not None:
        for number, row in roles:
            with_role.add(row["userSourcedId"])
            if row["roleType"] == "primary" and row["status"] != "tobedeleted":
                key = (row["userSourcedId"], row["orgSourcedId"])
                primaries[key] += 1
                if primaries[key] == 2:
                    first = first_primary[key]
                    msg = f"user {key[0]!r} has a second primary role at org {key[1]!r} (first: row {first})"
                    report.issue(roles.file, number, "roleType", msg)
                first_primary.setdefault(key, number)
    if users.mode is Mode.BULK:
        for number, row in users:
            if row["sourcedId"] not in with_role and row["status"] != "tobedeleted":
                report.issue(
                    users.file, number, "sourcedId", "user has no role in roles.csv (1.2 users need one)"
                )
