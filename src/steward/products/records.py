"""Read chosen students' canonical records from a district's CEDARS drop, at the moment of asking.

Only the lines about those students are parsed: each student-level file is searched as bytes for
the students' district IDs (one or a few students), or split to its student-ID column and looked up
in a set (many students); the matching lines go through the CEDARS reader's own row parser and row
rules, so a transfer never carries a value the reader would reject. The small reference files
(locations, courses, staff, staff schedules) are read whole. Nothing is written anywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.domain import records as r
from steward.formats.cedars import DEFAULT_DELIMITER, Drop, FileSpec
from steward.formats.cedars.codec import element_codecs, row_rules
from steward.formats.cedars.reader import row_parser

#: Element prefixes of the files read whole (they hold no student's records).
REFERENCE_PREFIXES = ("A", "D", "F", "G")
#: Up to this many students, files are searched as bytes; beyond, split line by line.
SEARCH_LIMIT = 32


class SourceRecordsError(Exception):
    """The source cannot be read, or a line about a chosen student is invalid (file, line, element)."""

    def __init__(self, file: str, line: int | None, element: str | None, message: str) -> None:
        self.file, self.line, self.element, self.message = file, line, element, message
        where = file + (f", line {line}" if line is not None else "") + (f", {element}" if element else "")
        super().__init__(f"{where}: {message}")


@dataclass
class StudentRecords:
    """The chosen students' records (file order) and the drop's reference rows."""

    district_code: str
    records: list[r.Record] = field(default_factory=list)
    locations: list[r.Location] = field(default_factory=list)
    courses: list[r.Course] = field(default_factory=list)
    staff: list[r.Staff] = field(default_factory=list)
    staff_schedules: list[r.StaffSchedule] = field(default_factory=list)

    @property
    def found(self) -> set[str]:
        """District student IDs that have a district enrollment row in the drop."""
        return {x.student_id for x in self.records if isinstance(x, r.DistrictStudent)}


def _student_column(spec: FileSpec) -> int | None:
    attrs = [e.attribute for e in spec.elements]
    return attrs.index("student_id") if "student_id" in attrs else None


class _Parser:
    """Parses one line of one file the way the CEDARS reader does, raising on the first problem."""

    def __init__(self, spec: FileSpec, name: str, district: str, delimiter: bytes) -> None:
        self.spec, self.name, self.district = spec, name, district
        self.delimiter = delimiter.decode()
        self.parse_row = row_parser(spec)
        self.rules = row_rules(spec)
        self.codecs = element_codecs(spec)
        self.count = len(self.codecs)

    def __call__(self, raw: bytes, line: int) -> Any:
        try:
            text = raw.rstrip(b"\r").decode("utf-8")
        except UnicodeDecodeError as e:
            raise SourceRecordsError(
                self.name, line, None, f"is not UTF-8 text (byte {e.start + 1})"
            ) from None
        fields = text.split(self.delimiter)
        if len(fields) != self.count:
            raise SourceRecordsError(
                self.name, line, None, f"has {len(fields)} elements, expected {self.count}"
            )
        try:
            record = self.parse_row(fields)
        except (ValueError, TypeError):
            for codec, value in zip(self.codecs, fields, strict=True):
                try:
                    codec.parse(value.strip(" "))
                except ValueError as e:
                    raise SourceRecordsError(self.name, line, codec.spec.label, str(e)) from None
            raise SourceRecordsError(self.name, line, None, "cannot be read") from None
        for rule in self.rules:
            broken = rule(record)
            if broken is not None:
                raise SourceRecordsError(self.name, line, broken[0].label, broken[1])
        if record.district_code != self.district:
            raise SourceRecordsError(
                self.name, line, None, f"belongs to district {record.district_code}, not {self.district}"
            )
        return record


def _search(
    data: bytes, ids: Collection[bytes], column: int, delimiter: bytes
) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of each line whose student column holds one of ``ids``, in file order."""
    starts: set[int] = set()
    for ident in ids:
        at = data.find(ident)
        while at != -1:
            end = at + len(ident)
            before = data[at - 1 : at] if at > 0 else b"\n"
            after = data[end : end + 1] or b"\n"
            if before in (delimiter, b"\n", b" ") and after in (delimiter, b"\n", b"\r", b" "):
                starts.add(data.rfind(b"\n", 0, at) + 1)
            at = data.find(ident, end)
    number, counted = 1, 0
    for start in sorted(starts):
        number += data.count(b"\n", counted, start)
        counted = start
        stop = data.find(b"\n", start)
        line = data[start : stop if stop != -1 else len(data)]
        fields = line.split(delimiter)
        if len(fields) > column and fields[column].strip(b" \r") in ids:
            yield number, line


def _scan(data: bytes, ids: Collection[bytes], column: int, delimiter: bytes) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        fields = line.split(delimiter, column + 1)
        if len(fields) > column and fields[column].strip(b" \r") in ids:
            yield number, line


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SourceRecordsError(path.name, None, None, f"cannot be read: {e.strerror or e}") from None
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def open_drop(directory: Path, district_code: str, delimiter: str = DEFAULT_DELIMITER) -> Drop:
    """The district's drop; refuses a missing directory, files of another district and duplicates."""
    drop = Drop.open(Path(directory), delimiter=delimiter, district_code=district_code)
    for problem in drop.problems:
        if not problem.message.startswith("unknown file"):
            raise SourceRecordsError(problem.file, problem.line, problem.element, problem.message)
    if "B" not in drop.files:
        raise SourceRecordsError(
            str(directory), None, None, f"holds no DistrictStudent file of {district_code}"
        )
    return drop


def read_students(
    directory: Path,
    district_code: str,
    student_ids: Collection[str],
    *,
    delimiter: str = DEFAULT_DELIMITER,
    prefixes: Collection[str] | None = None,
) -> StudentRecords:
    """Every record of the given district student IDs in the drop (of ``prefixes`` only, when
    given), plus the reference rows; raises ``SourceRecordsError`` naming file, line and element."""
    drop = open_drop(directory, district_code, delimiter)
    out = StudentRecords(district_code)
    wanted = {s.strip().encode() for s in student_ids if s.strip()}
    delim = delimiter.encode()
    for prefix, file in drop.files.items():
        if prefixes is not None and prefix not in prefixes and prefix not in REFERENCE_PREFIXES:
            continue
        spec = file.spec
        column = _student_column(spec)
        if column is None:
            if prefix in REFERENCE_PREFIXES:
                _read_reference(drop, prefix, out)
            continue
        if not wanted:
            continue
        data = _read(file.path)
        parse = _Parser(spec, file.path.name, district_code, delim)
        lines = (_search if len(wanted) <= SEARCH_LIMIT else _scan)(data, wanted, column, delim)
        for number, line in lines:
            if line.strip(b" \r"):
                out.records.append(parse(line, number))
    return out


def _read_reference(drop: Drop, prefix: str, out: StudentRecords) -> None:
    reader = drop.records(prefix, max_errors=1)
    rows = list(reader)
    if reader.errors:
        e = reader.errors[0]
        raise SourceRecordsError(e.file, e.line, e.element, e.message)
    target: dict[str, list[Any]] = {
        "A": out.locations,
        "D": out.courses,
        "F": out.staff,
        "G": out.staff_schedules,
    }
    target[prefix].extend(rows)
