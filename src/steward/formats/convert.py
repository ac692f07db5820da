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

import multiprocessing
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from steward.domain import records as r
from steward.formats import edfi, oneroster
from steward.formats.cedars.layouts import FILES
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


#: A CEDARS drop at least this large is converted to OneRoster by two processes.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
#: CEDARS files (element prefixes) of the two halves of a parallel CEDARS -> OneRoster conversion:
#: the schedule half reads courses, schedules and staff schedules, checks the files OneRoster
#: drops (attendance, grades, programs, discipline, assessments), and reads the shared files it
#: needs (locations, district and school enrollments, staff); the roster half reads the rest.
_DROPPED_KINDS = frozenset(oneroster.DROPPED_RECORDS)
_SCHEDULE_KINDS = frozenset({r.Course, r.ScheduleEntry, r.StaffSchedule}) | _DROPPED_KINDS
_SCHEDULE_ONLY = frozenset({"D", "E", "G"}) | frozenset(
    spec.prefix for spec in FILES if spec.record_type in _DROPPED_KINDS
)
_SHARED = frozenset({"A", "B", "C", "F"})


def parallel_possible(src: Path) -> bool:
    """Two cores, ``fork``, no other thread in this process, and a drop worth the fork."""
    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return False
    if threading.active_count() > 1:  # forking a threaded process can deadlock the child
        return False
    try:
        size = sum(p.stat().st_size for p in Path(src).iterdir() if p.is_file())
    except OSError:
        return False
    return size >= PARALLEL_MIN_BYTES


def _read_prefixes(
    src: Path, prefixes: Collection[str], report: ConversionReport, reported: Collection[str]
) -> Iterator[r.Record]:
    """Records of some files of a drop; problems are reported only for ``reported`` files."""
    from steward.formats.cedars import Drop

    drop = Drop.open(src)
    for prefix in sorted(drop.files):
        if prefix not in prefixes:
            continue
        reader = drop.records(prefix)
        yield from reader
        if prefix in reported:
            for err in reader.errors:
                report.issue(err.file, err.line, err.element, err.message)
            if reader.error_count > len(reader.errors):
                report.issue(
                    reader.name, None, None, f"{reader.error_count - len(reader.errors)} more errors"
                )


def _schedule_half(src: Path, work: Path, conn: Any) -> None:
    """The child of a parallel conversion: sessions, courses, classes and enrollments."""
    try:
        report = ConversionReport()
        writer = oneroster.PackageWriter(
            work, report=report, files=oneroster.SCHEDULE_FILES, counted=_SCHEDULE_KINDS
        )
        for record in _read_prefixes(src, _SCHEDULE_ONLY | _SHARED, report, _SCHEDULE_ONLY):
            writer.write(record)
        tables = writer.build()
        wanted = {n: tables[n] for n in oneroster.SCHEDULE_FILES}
        written: list[str] = []
        if not report.errors:
            written = oneroster.write_tables(work, wanted, manifest=False)
        for name, rows in wanted.items():
            report.written[f"{name}.csv"] += len(rows)
        conn.send(("ok", report, sorted(writer.schools), written))
    except BaseException as exc:  # the parent reports it
        conn.send(("error", f"{type(exc).__name__}: {exc}", None, None))
    finally:
        conn.close()
        os._exit(0)


def _convert_parallel(
    src: Path,
    work: Path,
    report: ConversionReport,
    progress: Callable[[int], None] | None,
    progress_every: int,
) -> int:
    """CEDARS -> OneRoster in two processes (fork): this one reads the roster files and writes orgs,
    users, roles and demographics; the child reads the schedule files and writes the rest. The
    files, the manifest and the report are those of the one-process conversion."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_schedule_half, args=(src, work, send), daemon=True)
    child.start()
    send.close()
    try:
        from steward.formats.cedars import Drop

        drop = Drop.open(src)
        for problem in drop.problems:
            report.issue(problem.file, problem.line, problem.element, problem.message)
        roster = set(drop.files) - _SCHEDULE_ONLY
        writer = oneroster.PackageWriter(work, report=report, files=oneroster.ROSTER_FILES)
        count = 0
        for record in _read_prefixes(src, roster, report, roster):
            writer.write(record)
            count += 1
            if progress is not None and count % progress_every == 0:
                progress(count)
        try:
            status, child_report, schools, written = receive.recv()
        except EOFError:
            status, child_report, schools, written = "error", "the schedule process ended early", None, None
    finally:
        receive.close()
        child.join()
    if status != "ok":
        raise RuntimeError(f"parallel conversion failed: {child_report}")
    report.merge(child_report)
    if report.errors:
        return count
    writer.add_schools(schools)
    tables = writer.build()
    mine = {n: tables[n] for n in oneroster.ROSTER_FILES}
    oneroster.write_tables(work, mine, source_name=writer.source_name, present=written)
    for name, rows in mine.items():
        report.written[f"{name}.csv"] += len(rows)
    return count


def _key(record: r.Record) -> str:
    for attr in ("student_id", "staff_id", "guardian_id", "course_id", "location_id"):
        value = getattr(record, attr, None)
        if value:
            return f"{attr}={value}"
    return ""


def _finish(work: Path, out: Path, report: ConversionReport, verify: bool) -> ConversionReport:
    """Check the OneRoster package when asked, then move the finished output into place."""
    if verify:
        for problem in oneroster.check_directory(work):
            if problem.severity is Severity.ERROR:
                report.issue("output " + problem.file, problem.row, problem.field, problem.message)
        if report.errors:
            raise ConversionError(report, "the OneRoster output does not conform; nothing written")
    if out.exists():
        out.rmdir()
    work.rename(out)
    return report


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
    parallel: bool | None = None,
) -> ConversionReport:
    """Convert ``src`` (a ``source`` directory) into ``out`` (a new ``target`` directory).

    ``verify`` runs the OneRoster conformance checker on the package before it is kept.
    ``parallel`` (CEDARS -> OneRoster only; default: when ``parallel_possible``) uses two processes.
    """
    report = ConversionReport()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        report.issue(str(out), None, None, "exists and is not empty; choose a new output directory")
        raise ConversionError(report, f"{out} is not empty")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if parallel is None:
            parallel = source is Source.CEDARS and target is Target.ONEROSTER and parallel_possible(src)
        if parallel and source is Source.CEDARS and target is Target.ONEROSTER:
            count = _convert_parallel(Path(src), work, report, progress, progress_every)
            if progress is not None:
                progress(count)
            if report.errors:
                raise ConversionError(report, f"{len(report.errors)} errors; nothing written")
            return _finish(work, out, report, verify)
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
        return _finish(work, out, report, verify and target is Target.ONEROSTER)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
