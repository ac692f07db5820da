"""Convert a directory of one format into another through canonical records (``steward convert``).

Sources: ``cedars`` (a district's drop), ``edfi-xml`` (Data Standard interchanges), ``edfi-json``
(API resources as files), ``oneroster`` (a CSV package). Targets: ``cedars``, ``edfi-json``,
``oneroster``. Reading streams where the source allows (CEDARS rows, XML elements); the Ed-Fi
and OneRoster writers need all records before they can write (references and derived sessions).

All or nothing: the output is written into a temporary directory next to ``out`` and renamed when
everything succeeded; with any input error (after lenient repairs, for OneRoster) nothing is
written. The report counts records per entity, what was dropped and why, repairs and problems.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from steward.domain import records as r
from steward.formats import edfi, oneroster
from steward.formats.report import ConversionReport, Severity


class Source(StrEnum):
    CEDARS = "cedars"
    EDFI_XML = "edfi-xml"
    EDFI_JSON = "edfi-json"
    ONEROSTER = "oneroster"


class Target(StrEnum):
    CEDARS = "cedars"
    EDFI_JSON = "edfi-json"
    ONEROSTER = "oneroster"


class ConversionError(Exception):
    """The conversion could not be done; the report says why."""

    def __init__(self, report: ConversionReport, message: str) -> None:
        super().__init__(message)
        self.report = report


def read_records(
    source: Source,
    src: Path,
    report: ConversionReport,
    *,
    lenient: bool = False,
    schema_dir: Path | None = None,
    school_year: int | None = None,
) -> Iterator[r.Record]:
    """Canonical records of ``src``; problems are added to ``report`` as they are met."""
    src = Path(src)
    if source is Source.CEDARS:
        yield from _read_cedars(src, report)
    elif source is Source.EDFI_XML:
        if schema_dir is not None:
            for path in sorted(src.glob("*.xml")) if src.is_dir() else [src]:
                edfi.validate(path, Path(schema_dir), report)
        data, _ = edfi.read_xml(src, report)
        yield from edfi.to_canonical(data, report, school_year=school_year)
    elif source is Source.EDFI_JSON:
        data, _ = edfi.read_resources(src, report)
        yield from edfi.to_canonical(data, report, school_year=school_year)
    else:
        package = oneroster.read_package(src, lenient=lenient)
        oneroster.check_package(package)
        report.merge(package.report)
        if report.errors:
            return
        for name, table in package.tables.items():
            report.read[f"{name}.csv"] += len(table)
        yield from oneroster.to_canonical(package, report=report, school_year=school_year)


def _read_cedars(src: Path, report: ConversionReport) -> Iterator[r.Record]:
    from steward.formats.cedars import Drop

    drop = Drop.open(src)
    for problem in drop.problems:
        report.issue(problem.file, problem.line, problem.element, problem.message)
    for prefix in sorted(drop.files):
        reader = drop.records(prefix)
        yield from reader
        for err in reader.errors:
            report.issue(err.file, err.line, err.element, err.message)
        if reader.error_count > len(reader.errors):
            report.issue(reader.name, None, None, f"{reader.error_count - len(reader.errors)} more errors")


def _cedars_sink(
    out: Path, report: ConversionReport, as_of: date
) -> tuple[Callable[[r.Record], None], Callable[[], None]]:
    from steward.formats.cedars import CedarsWriteError, DropWriter

    writers: dict[str, Any] = {}

    def write(record: r.Record) -> None:
        district = record.district_code
        writer = writers.get(district)
        if writer is None:
            target = out / district
            writer = writers[district] = DropWriter(target, district, as_of)
            writer.__enter__()
        try:
            writer.write(record)
        except CedarsWriteError as e:
            err = e.error
            report.issue(
                err.file, None, err.element, f"{type(record).__name__} {_key(record)}: {err.message}"
            )
        report.written[type(record).__name__] += 1

    def close() -> None:
        for writer in writers.values():
            if report.errors:
                writer.abort()
            else:
                writer.close()

    return write, close


def _key(record: r.Record) -> str:
    for attr in ("student_id", "staff_id", "guardian_id", "course_id", "location_id"):
        value = getattr(record, attr, None)
        if value:
            return f"{attr}={value}"
    return ""


def convert(
    source: Source,
    src: Path,
    target: Target,
    out: Path,
    *,
    lenient: bool = False,
    schema_dir: Path | None = None,
    school_year: int | None = None,
    as_of: date | None = None,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 5000,
    verify: bool = True,
) -> ConversionReport:
    """Convert ``src`` (a ``source`` directory) into ``out`` (a new ``target`` directory).

    ``verify`` runs the OneRoster conformance checker on the package before it is kept.
    """
    report = ConversionReport()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        report.issue(str(out), None, None, "exists and is not empty; choose a new output directory")
        raise ConversionError(report, f"{out} is not empty")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        records = read_records(
            source, src, report, lenient=lenient, schema_dir=schema_dir, school_year=school_year
        )
        count = 0
        if target is Target.CEDARS:
            write, close = _cedars_sink(work, report, as_of or date.today())
        elif target is Target.EDFI_JSON:
            writer: Any = edfi.ResourceWriter(work, report=report)
            write, close = writer.write, writer.close
        else:
            writer = oneroster.PackageWriter(work, report=report)
            write, close = writer.write, writer.close
        for record in records:
            write(record)
            count += 1
            if progress is not None and count % progress_every == 0:
                progress(count)
        if progress is not None:
            progress(count)
        if report.errors:
            if target is Target.CEDARS:
                close()
            raise ConversionError(report, f"{len(report.errors)} errors; nothing written")
        close()
        if report.errors:
            raise ConversionError(report, f"{len(report.errors)} errors; nothing written")
        if target is Target.ONEROSTER and verify:
            for problem in oneroster.check_directory(work):
                if problem.severity is Severity.ERROR:
                    report.issue("output " + problem.file, problem.row, problem.field, problem.message)
            if report.errors:
                raise ConversionError(report, "the OneRoster output does not conform; nothing written")
        if out.exists():
            out.rmdir()
        work.rename(out)
        return report
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
