"""The records-transfer product: a student's records from the sending district's source, cut to the
datasets the decision engine allowed, translated into the receiving district's format.

``select`` keeps, per student, only the record types of allowed datasets (the district enrollment
row anchors the rest; the SSN never leaves; demographic fields are blanked when demographics are
not allowed) and adds the reference rows the records point at (schools, courses, the teachers of
the student's sections). ``write_files`` writes them into a working directory that the caller
encrypts and removes at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from enum import StrEnum
from pathlib import Path

from steward.domain import records as r
from steward.domain.datasets import Dataset
from steward.formats import edfi, oneroster
from steward.formats.cedars import DropWriter
from steward.formats.report import ConversionReport, Severity
from steward.products.records import StudentRecords


class TransferFormat(StrEnum):
    """Formats a receiving district may take records in."""

    CEDARS = "cedars"
    EDFI_JSON = "edfi-json"
    ONEROSTER = "oneroster"


#: What a district sends by default: the CEDARS datasets (P2: "the first priority is transferring
#: the CEDARS datasets that are already defined by the state"), i.e. everything CEDARS carries.
CEDARS_DATASETS: tuple[Dataset, ...] = (
    Dataset.DIRECTORY,
    Dataset.DEMOGRAPHICS,
    Dataset.ENROLLMENT,
    Dataset.SCHEDULE,
    Dataset.GRADES,
    Dataset.PROGRAMS,
    Dataset.ATTENDANCE,
    Dataset.DISCIPLINE,
    Dataset.ASSESSMENT,
)

#: The dataset each student-level record type carries (guardians travel with demographics).
RECORD_DATASETS: dict[type, Dataset] = {
    r.SchoolStudent: Dataset.ENROLLMENT,
    r.ScheduleEntry: Dataset.SCHEDULE,
    r.GradeHistory: Dataset.GRADES,
    r.ProgramParticipation: Dataset.PROGRAMS,
    r.StudentRace: Dataset.DEMOGRAPHICS,
    r.Absence: Dataset.ATTENDANCE,
    r.DisciplineAction: Dataset.DISCIPLINE,
    r.AssessmentResult: Dataset.ASSESSMENT,
    r.Guardian: Dataset.DEMOGRAPHICS,
}
#: The district enrollment row is sent when any of these is allowed (it names the student).
ANCHOR_DATASETS = frozenset({Dataset.DIRECTORY, Dataset.DEMOGRAPHICS, Dataset.ENROLLMENT})

#: Demographic fields of the district enrollment row, blanked unless demographics are allowed.
_DEMOGRAPHIC_BLANKS = {
    "ethnicity_code": "",
    "birth_country": "",
    "home_language": "",
    "zip_code": "",
    "homeless": False,
    "foster_care": None,
    "f1_visa": False,
}


class ProductError(Exception):
    """The records could not be translated (the report says where)."""


def _school_year_ok(record: r.Record, years: Collection[int] | None) -> bool:
    if years is None:
        return True
    year = getattr(record, "school_year", None)
    return year is None or year in years


def select(
    source: StudentRecords,
    allowed: Mapping[str, frozenset[Dataset]],
    school_years: Mapping[str, Collection[int] | None] | None = None,
) -> list[r.Record]:
    """The records to send: per district student ID, the allowed datasets (and school years)."""
    years = school_years or {}
    chosen: list[r.Record] = []
    for record in source.records:
        student = getattr(record, "student_id", None)
        if student is None or student not in allowed:
            continue
        datasets = allowed[student]
        if not _school_year_ok(record, years.get(student)):
            continue
        if isinstance(record, r.DistrictStudent):
            if not datasets & ANCHOR_DATASETS:
                continue
            changes: dict[str, object] = {"ssn": ""}
            if Dataset.DEMOGRAPHICS not in datasets:
                changes.update(_DEMOGRAPHIC_BLANKS)
            chosen.append(dataclasses.replace(record, **changes))  # type: ignore[arg-type]
        elif RECORD_DATASETS.get(type(record)) in datasets:
            chosen.append(record)
    return [*references(source, chosen), *chosen]


def references(source: StudentRecords, chosen: Iterable[r.Record]) -> list[r.Record]:
    """The schools, courses, section staffing and teachers the chosen records point at."""
    locations: set[str] = set()
    courses: set[tuple[int, str, str]] = set()
    sections: set[tuple[int, str, str, str, str]] = set()
    for record in chosen:
        location = getattr(record, "location_id", None)
        if location:
            locations.add(location)
        if isinstance(record, r.ScheduleEntry):
            courses.add((record.school_year, record.location_id, record.course_id))
            sections.add(
                (record.school_year, record.location_id, record.course_id, record.section_id, record.term)
            )
    out: list[r.Record] = [x for x in source.locations if x.location_id in locations]
    out += [x for x in source.courses if (x.school_year, x.location_id, x.course_id) in courses]
    staffing = [
        x
        for x in source.staff_schedules
        if (x.school_year, x.location_id, x.course_id, x.section_id, x.term) in sections
    ]
    teachers = {(x.school_year, x.staff_id) for x in staffing}
    out += [x for x in source.staff if (x.school_year, x.staff_id) in teachers]
    out += staffing
    return out


def write_files(
    records: Iterable[r.Record], fmt: TransferFormat, work: Path, district_code: str, as_of: date
) -> dict[str, Path]:
    """Write the records in ``fmt`` into the empty directory ``work``; file name -> path."""
    report = ConversionReport()
    items = list(records)
    if fmt is TransferFormat.CEDARS:
        kinds = sorted({type(x) for x in items}, key=lambda t: t.__name__)
        with DropWriter(work, district_code, as_of, files=kinds) as writer:
            writer.write_all(items)
    elif fmt is TransferFormat.EDFI_JSON:
        with edfi.ResourceWriter(work, report=report) as resources:
            resources.write_all(items)
    else:
        with oneroster.PackageWriter(work, report=report, source_name="Steward") as package:
            package.write_all(items)
        for problem in oneroster.check_directory(work):
            if problem.severity is Severity.ERROR:
                report.issue(problem.file, problem.row, problem.field, problem.message)
    if report.errors:
        raise ProductError(f"the records do not translate to {fmt.value}: {report.errors[0]}")
    return {p.name: p for p in sorted(work.iterdir()) if p.is_file() and p.stat().st_size > 0}
