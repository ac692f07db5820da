"""Streaming CEDARS readers: records of one file, a district's whole drop, and drop validation.

Typical use by an importer (all-or-nothing)::

    report = validate_drop(directory)            # first pass: every error, nothing kept in memory
    if not report.ok: show report.errors; stop
    drop = Drop.open(directory)
    for prefix in drop.files:                     # second pass: load
        reader = drop.records(prefix)
        for record in reader: ...                 # only valid records are yielded
        if reader.errors: roll back               # (cannot happen after a clean report)

Every problem is a ``CedarsError(file, line, element, message)``. Values are stripped of spaces;
blank lines are skipped; a UTF-8 byte order mark is accepted. An exit date is the last day enrolled
(docs/adr/0002), so spells are inclusive ``[entry, exit]``: a new spell may begin the day after the
previous one exits, not on its exit day.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from steward.formats.cedars.codec import element_codecs, format_date, row_rules
from steward.formats.cedars.errors import CedarsError
from steward.formats.cedars.layouts import (
    FILES,
    FILES_BY_NAME,
    REQUIRED_PREFIXES,
    DropFileName,
    FileSpec,
    SpellRule,
    parse_file_name,
    spec_for,
)
from steward.formats.cedars.writer import DEFAULT_DELIMITER, check_delimiter

DEFAULT_MAX_ERRORS = 1000

_SPELL = struct.Struct("<III")  # entry ordinal, day after exit ordinal (0xFFFFFFFF = open), line
_OPEN = 0xFFFFFFFF
_KEY_WORDS = {"student_id": "student", "location_id": "location"}


class SpellTracker:
    """Remembers every spell per key compactly (12 bytes a spell) to find overlaps in one pass.

    Spells are inclusive of both dates; an open exit means enrolled until further notice.
    """

    def __init__(self, rule: SpellRule) -> None:
        self.rule = rule
        self._spells: dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self._spells)

    def add(
        self, key: str, entry: date, exit_: date | None, line: int
    ) -> tuple[int, date, date | None] | None:
        """Record a spell; return (line, entry, exit) of an earlier spell it overlaps, if any."""
        start = entry.toordinal()
        end = _OPEN if exit_ is None else exit_.toordinal() + 1
        known = self._spells.get(key)
        if known is not None:
            for other_start, other_end, other_line in _SPELL.iter_unpack(known):
                if start < other_end and other_start < end:
                    return (
                        other_line,
                        date.fromordinal(other_start),
                        None if other_end == _OPEN else date.fromordinal(other_end - 1),
                    )
        packed = _SPELL.pack(start, end, line)
        self._spells[key] = packed if known is None else known + packed
        return None


@cache
def row_parser(spec: FileSpec) -> Callable[[list[str]], Any]:
    """A function from a row's element texts to its record, generated for ``spec`` (the hot path).

    Texts are stripped of spaces; each is looked up in the element's memo of parsed texts and
    parsed only on a miss. Raises what an element's ``parse`` raises; the caller then checks the
    elements one by one to report every error of the row.
    """
    namespace: dict[str, Any] = {"make": spec.record_type}
    body = ["def parse_row(fields):"]
    arguments = []
    for i, codec in enumerate(element_codecs(spec)):
        namespace[f"get{i}"] = codec.parse_memo.get
        namespace[f"parse{i}"] = codec.parse
        body += [
            f"    t = fields[{i}].strip(' ')",
            f"    v{i} = get{i}(t)",
            f"    if v{i} is None:",
            f"        v{i} = parse{i}(t)",
        ]
        attribute = codec.spec.attribute
        if attribute is not None:
            if not attribute.isidentifier():  # pragma: no cover - specs are ours
                raise ValueError(f"bad attribute name {attribute!r}")
            arguments.append(f"{attribute}=v{i}")
    body.append(f"    return make({', '.join(arguments)})")
    exec("\n".join(body), namespace)  # noqa: S102 - source built above from our own attribute names
    parser: Callable[[list[str]], Any] = namespace["parse_row"]
    return parser


def _span(entry: date, exit_: date | None) -> str:
    return f"{format_date(entry)}-{'open' if exit_ is None else format_date(exit_)}"


class FileReader:
    """Iterates the valid records of one CEDARS file; rows with errors are skipped and reported.

    ``errors`` keeps the first ``max_errors`` errors, ``error_count`` counts them all. The file spec
    comes from ``file`` or from the file name; ``district_code`` (default: the file name's) must
    match every row's district. Iterate once.
    """

    def __init__(
        self,
        path: Path,
        file: str | type | FileSpec | None = None,
        *,
        delimiter: str = DEFAULT_DELIMITER,
        district_code: str | None = None,
        max_errors: int = DEFAULT_MAX_ERRORS,
        check_spells: bool = True,
    ) -> None:
        self.path = Path(path)
        self.name = self.path.name
        parsed: DropFileName | None
        try:
            parsed = parse_file_name(self.name)
        except ValueError:
            parsed = None
        if file is None:
            if parsed is None or parsed.file_name not in FILES_BY_NAME:
                raise ValueError(f"{self.name}: cannot tell which CEDARS file this is; pass file=")
            file = parsed.file_name
        self.spec = spec_for(file)
        self.delimiter = check_delimiter(delimiter)
        self.district_code = district_code or (parsed.district_code if parsed else None)
        self.max_errors = max_errors
        self.errors: list[CedarsError] = []
        self.error_count = 0
        self.lines = 0  # non-blank lines read
        self.records = 0  # valid records yielded
        self._check_spells = check_spells
        self._started = False

    def _error(self, line: int | None, element: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(CedarsError(self.name, line, element, message))

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def __iter__(self) -> Iterator[Any]:
        if self._started:
            raise RuntimeError(f"{self.name} is already being read; open a new reader")
        self._started = True
        return self._rows()

    def _rows(self) -> Iterator[Any]:
        spec = self.spec
        codecs = element_codecs(spec)
        n = len(codecs)
        parsers = [c.parse for c in codecs]
        labels = [c.spec.label for c in codecs]
        attrs = [c.spec.attribute for c in codecs]
        parse_row = row_parser(spec)
        rules = row_rules(spec)
        delim = self.delimiter
        district = self.district_code
        district_pos = attrs.index("district_code")
        spells = SpellTracker(spec.spells) if (self._check_spells and spec.spells) else None
        spell_key = spec.spells.key if spec.spells else ()
        entry_label = spec.elements[0].label
        if spec.spells:
            entry_label = next(c.spec.label for c in codecs if c.spec.attribute == spec.spells.entry)
        expected = f"expected {n} ({spec.elements[0].code}..{spec.elements[-1].code})"

        try:
            handle = self.path.open("rb")
        except OSError as e:
            self._error(None, None, f"cannot be read: {e.strerror or e}")
            return
        with handle:
            for lineno, raw in enumerate(handle, start=1):
                raw = raw.rstrip(b"\n").rstrip(b"\r")
                if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    continue
                self.lines += 1
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    self._error(lineno, None, f"is not UTF-8 text (byte {e.start + 1})")
                    continue
                fields = text.split(delim)
                if len(fields) != n:
                    self._error(lineno, None, f"has {len(fields)} elements, {expected}")
                    continue
                try:
                    record = parse_row(fields)
                except (ValueError, TypeError):
                    for i, (parse, field_text) in enumerate(zip(parsers, fields, strict=True)):
                        try:
                            parse(field_text.strip(" "))
                        except ValueError as e:
                            self._error(lineno, labels[i], str(e))
                    continue
                bad = False
                for rule in rules:
                    broken = rule(record)
                    if broken is not None:
                        self._error(lineno, broken[0].label, broken[1])
                        bad = True
                if district is not None and record.district_code != district:
                    self._error(
                        lineno,
                        labels[district_pos],
                        f"{record.district_code!r} does not match the file name's district {district}",
                    )
                    bad = True
                if bad:
                    continue
                if spells is not None:
                    assert spec.spells is not None
                    entry = getattr(record, spec.spells.entry)
                    exit_ = getattr(record, spec.spells.exit)
                    key = "\x1f".join(getattr(record, a) for a in spell_key)
                    clash = spells.add(key, entry, exit_, lineno)
                    if clash is not None:
                        who = ", ".join(
                            f"{_KEY_WORDS[a]} {getattr(record, a)!r}" for a in spell_key if a in _KEY_WORDS
                        )
                        self._error(
                            lineno,
                            entry_label,
                            f"{spec.spells.what} {_span(entry, exit_)} of {who} overlaps the spell on "
                            f"line {clash[0]} ({_span(clash[1], clash[2])})",
                        )
                        continue
                self.records += 1
                yield record


def read_file(
    path: Path,
    file: str | type | FileSpec | None = None,
    *,
    delimiter: str = DEFAULT_DELIMITER,
    district_code: str | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> FileReader:
    """A reader over ``path``: iterate it for records, then look at ``.errors``."""
    return FileReader(path, file, delimiter=delimiter, district_code=district_code, max_errors=max_errors)


@dataclass(frozen=True, slots=True)
class DropFile:
    """One recognised file of a drop."""

    spec: FileSpec
    path: Path
    name: DropFileName


class Drop:
    """One district's CEDARS drop: the files found in a directory, by element prefix.

    ``problems`` lists file-level errors (unknown, duplicate, other-district files); files with a
    problem are not in ``files``. Records are read lazily with ``records(prefix)``.
    ``district_code`` is the files' district ("" when the directory holds no drop file).
    """

    def __init__(
        self,
        directory: Path,
        district_code: str,
        files: dict[str, DropFile],
        problems: list[CedarsError],
        delimiter: str = DEFAULT_DELIMITER,
    ) -> None:
        self.directory = directory
        self.district_code = district_code
        self.files = files
        self.problems = problems
        self.delimiter = check_delimiter(delimiter)

    @classmethod
    def open(
        cls, directory: Path, *, delimiter: str = DEFAULT_DELIMITER, district_code: str | None = None
    ) -> Drop:
        """Find the drop files in ``directory`` (hidden files and subdirectories are ignored)."""
        directory = Path(directory)
        problems: list[CedarsError] = []
        if not directory.is_dir():
            problems.append(CedarsError(str(directory), None, None, "is not a directory"))
            return cls(directory, district_code or "", {}, problems, delimiter)
        named: list[tuple[Path, DropFileName]] = []
        for path in sorted(directory.iterdir()):
            if path.name.startswith(".") or path.is_dir():
                continue
            try:
                parsed = parse_file_name(path.name)
            except ValueError as e:
                message = "is an interrupted write" if path.name.endswith(".partial") else str(e)
                problems.append(CedarsError(path.name, None, None, f"unknown file: {message}"))
                continue
            if parsed.file_name not in FILES_BY_NAME:
                known = ", ".join(s.file_name for s in FILES)
                problems.append(
                    CedarsError(path.name, None, None, f"unknown file {parsed.file_name!r} (known: {known})")
                )
                continue
            named.append((path, parsed))
        if district_code is None and named:
            district_code = Counter(p.district_code for _, p in named).most_common(1)[0][0]
        files: dict[str, DropFile] = {}
        for path, parsed in named:
            spec = FILES_BY_NAME[parsed.file_name]
            if parsed.district_code != district_code:
                problems.append(
                    CedarsError(
                        path.name,
                        None,
                        None,
                        f"belongs to district {parsed.district_code}, not {district_code}",
                    )
                )
                continue
            if spec.prefix in files:
                problems.append(
                    CedarsError(
                        path.name,
                        None,
                        None,
                        f"duplicate {spec.file_name} file (also {files[spec.prefix].path.name}); "
                        "a drop holds one file per kind",
                    )
                )
                continue
            files[spec.prefix] = DropFile(spec, path, parsed)
        if not named and not problems:
            problems.append(CedarsError(directory.name, None, None, "holds no CEDARS files"))
        return cls(directory, district_code or "", files, problems, delimiter)

    def __contains__(self, prefix: object) -> bool:
        return prefix in self.files

    @property
    def as_of(self) -> date | None:
        """The latest file date of the drop."""
        return max((f.name.as_of for f in self.files.values()), default=None)

    def missing(self, required: Collection[str] = REQUIRED_PREFIXES) -> list[CedarsError]:
        """An error for every required file the drop lacks."""
        out = []
        for prefix in required:
            if prefix not in self.files:
                spec = spec_for(prefix)
                example = f"{self.district_code or '12345'}_0000_{spec.file_name}_YYYYMMDD.txt"
                out.append(CedarsError(example, None, None, f"missing: the drop has no {spec.title} file"))
        return out

    def records(self, prefix: str, *, max_errors: int = DEFAULT_MAX_ERRORS) -> FileReader:
        """A streaming reader of the file with element prefix ``prefix`` (KeyError if absent)."""
        f = self.files[prefix]
        return FileReader(
            f.path, f.spec, delimiter=self.delimiter, district_code=self.district_code, max_errors=max_errors
        )


@dataclass(frozen=True, slots=True)
class FileReport:
    prefix: str
    file: str
    lines: int  # non-blank lines
    records: int  # valid records
    error_count: int


@dataclass(slots=True)
class DropReport:
    """What ``validate_drop`` found: per-file counts and the (capped) error list."""

    directory: Path
    district_code: str
    files: dict[str, FileReport] = field(default_factory=dict)
    errors: list[CedarsError] = field(default_factory=list)
    error_count: int = 0
    max_errors: int = DEFAULT_MAX_ERRORS

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def truncated(self) -> bool:
        """True when more errors were found than ``errors`` keeps."""
        return self.error_count > len(self.errors)

    def add(self, errors: list[CedarsError], count: int | None = None) -> None:
        self.error_count += len(errors) if count is None else count
        room = self.max_errors - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])


def validate_drop(
    directory: Path,
    *,
    delimiter: str = DEFAULT_DELIMITER,
    district_code: str | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
    required: Collection[str] = REQUIRED_PREFIXES,
) -> DropReport:
    """Check a whole drop: file names, every value and row rule, and non-overlapping spells.

    Reads each file once, streaming; memory grows only with the number of students (spell check).
    """
    drop = Drop.open(directory, delimiter=delimiter, district_code=district_code)
    report = DropReport(Path(directory), drop.district_code, max_errors=max_errors)
    report.add(drop.problems)
    report.add(drop.missing(required))
    for spec in FILES:
        if spec.prefix not in drop.files:
            continue
        reader = drop.records(spec.prefix, max_errors=max(0, max_errors - len(report.errors)))
        for _ in reader:
            pass
        report.add(reader.errors, reader.error_count)
        report.files[spec.prefix] = FileReport(
            spec.prefix, reader.name, reader.lines, reader.records, reader.error_count
        )
    return report
