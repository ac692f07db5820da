"""Read a OneRoster 1.1/1.2 CSV package (a directory) into checked tables, file by file.

Every problem is an ``Issue(file, row, field, message)``; ``row`` counts the header as row 1.
Strict reading reports; ``lenient=True`` also repairs what has exactly one possible reading and
records each repair (``Package.report.repairs``):

- enumerated values and booleans in the wrong case (``Scheduled`` -> ``scheduled``, ``TRUE``);
- dates written day/month/year or month/day/year where the day is above 12 (``15/06/2023``);
  ``1/05/2023`` stays an error (January 5 or May 1);
- a date alone where a date-time belongs (read as the start of that day, UTC);
- one-digit grades (``9`` -> ``09``) and ``K`` -> ``KG``;
- header typos with a single close defined name (``prefferedGivenName``), OneRoster 1.0 column
  names (``userSourcedId`` in demographics), defined columns out of order, empty trailing header
  cells with no data, optional columns left out (added blank);
- a file listed ``bulk``/``delta`` with only a header (read as absent), a manifest entry left blank
  for a file that is not there (absent), a file name in the wrong case.

Cross-file checks (references, roles) are in :mod:`steward.formats.oneroster.conformance`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from steward.formats.oneroster.spec import (
    COLUMN_ALIASES,
    DATE_RE,
    DATETIME_RE,
    GRADES,
    MANIFEST_FILES,
    MANIFEST_HEADER,
    OPTIONAL_COLUMNS,
    USER_ID_RE,
    YEAR_RE,
    Column,
    FileSpec,
    Kind,
    Mode,
    Version,
    files_for,
)
from steward.formats.report import ConversionReport, Repair, Severity

Row = dict[str, str]

_SLASHED = re.compile(r"(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})")
_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")
#: Lines not in UTF-8 reported one by one per file; the rest are counted in one more issue.
MAX_ENCODING_ISSUES = 20


@dataclass(slots=True)
class Table:
    """One CSV file of a package: rows as dicts keyed by defined column name, with row numbers."""

    spec: FileSpec
    file: str
    mode: Mode
    rows: list[Row] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    extensions: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[tuple[int, Row]]:
        return iter(zip(self.row_numbers, self.rows, strict=True))

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(slots=True)
class Package:
    directory: Path
    version: Version
    manifest: dict[str, str]
    modes: dict[str, Mode]
    tables: dict[str, Table]
    report: ConversionReport
    lenient: bool = False

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)

    def rows(self, name: str) -> Iterator[tuple[int, Row]]:
        t = self.tables.get(name)
        return iter(()) if t is None else iter(t)

    @property
    def ok(self) -> bool:
        return self.report.ok


class _Ctx:
    """Reporting helpers for one package read."""

    def __init__(self, report: ConversionReport, lenient: bool) -> None:
        self.report = report
        self.lenient = lenient

    def error(self, file: str, row: int | None, col: str | None, msg: str) -> None:
        self.report.issue(file, row, col, msg)

    def warn(self, file: str, row: int | None, col: str | None, msg: str) -> None:
        self.report.issue(file, row, col, msg, Severity.WARNING)

    def repaired(
        self, file: str, row: int | None, col: str | None, before: str, after: str, why: str
    ) -> None:
        self.report.repairs.append(Repair(file, row, col, before, after, why))

    def fix_or_error(
        self,
        file: str,
        row: int | None,
        col: str | None,
        before: str,
        after: str | None,
        problem: str,
        why: str,
    ) -> str | None:
        """Repair to ``after`` when lenient and a repair exists, else report ``problem``."""
        if self.lenient and after is not None:
            self.repaired(file, row, col, before, after, why)
            return after
        hint = f" (lenient reading would make it {after!r})" if after is not None else ""
        self.error(file, row, col, problem + hint)
        return None


def read_package(directory: Path, *, lenient: bool = False) -> Package:
    """Read and check every file of the package in ``directory``; never raises on bad input."""
    directory = Path(directory)
    report = ConversionReport()
    ctx = _Ctx(report, lenient)
    if not directory.is_dir():
        ctx.error(str(directory), None, None, "is not a directory")
        return Package(directory, Version.V1_2, {}, {}, {}, report, lenient)
    on_disk = {p.name: p for p in sorted(directory.iterdir()) if p.is_file() and p.suffix.lower() == ".csv"}
    manifest_path = on_disk.pop("manifest.csv", None)
    if manifest_path is None:
        ctx.error("manifest.csv", None, None, "missing: a OneRoster package must have manifest.csv")
        return Package(directory, Version.V1_2, {}, {}, {}, report, lenient)
    manifest = _read_manifest(manifest_path, ctx)
    version = _version(manifest, ctx)
    specs = files_for(version)
    known = {f"{n}.csv": n for n in MANIFEST_FILES[version]}
    present: dict[str, Path] = {}
    for name, path in on_disk.items():
        if name in known:
            present[known[name]] = path
            continue
        matches = [k for k in known if k.lower() == name.lower() and known[k] not in present]
        if len(matches) == 1 and f"{known[matches[0]]}.csv" not in on_disk:
            if ctx.fix_or_error(
                name,
                None,
                None,
                name,
                matches[0],
                "unknown file (file names are case-sensitive)",
                "file name case",
            ):
                present[known[matches[0]]] = path
            continue
        ctx.error(name, None, None, f"unknown file for OneRoster {version.value}")
    modes: dict[str, Mode] = {}
    for name in MANIFEST_FILES[version]:
        prop = f"file.{name}"
        raw = manifest.get(prop)
        if raw is None:
            if name in present:
                ctx.error("manifest.csv", None, prop, f"{name}.csv is in the package but not in the manifest")
            continue
        mode = _mode(raw, name, name in present, ctx)
        if mode is None:
            continue
        modes[name] = mode
        if mode is Mode.ABSENT and name in present:
            ctx.error(
                present[name].name, None, None, f"is in the package but the manifest says {prop} is absent"
            )
        elif mode is not Mode.ABSENT and name not in present:
            ctx.error("manifest.csv", None, prop, f"says {mode.value} but {name}.csv is not in the package")
    tables: dict[str, Table] = {}
    for name, path in present.items():
        mode = modes.get(name)
        if mode is None or mode is Mode.ABSENT:
            continue
        spec = specs.get(name)
        if spec is None:
            ctx.warn(path.name, None, None, "not read: Steward reads rostering and demographics files only")
            continue
        table = _read_table(path, spec, mode, version, ctx)
        if table is None:
            continue
        if not table.rows:
            if ctx.fix_or_error(
                path.name,
                None,
                None,
                mode.value,
                Mode.ABSENT.value,
                "has no data rows (an empty file must be marked absent in the manifest)",
                "an empty file means absent",
            ):
                modes[name] = Mode.ABSENT
            continue
        tables[name] = table
    return Package(directory, version, manifest, modes, tables, report, lenient)


def _read_manifest(path: Path, ctx: _Ctx) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = _Lines(path, ctx, keyed=True)
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if lines.header_unreadable:
            return out
        if header is None or tuple(h.strip() for h in header) != MANIFEST_HEADER:
            ctx.error(path.name, 1, None, f"header must be {','.join(MANIFEST_HEADER)}, not {header}")
        for cells in reader:
            number = lines.number
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != 2:
                ctx.error(path.name, number, None, f"has {len(cells)} fields, a manifest row has 2")
                if len(cells) < 2:
                    continue
            prop, value = cells[0].strip(), cells[1].strip()
            if prop in out:
                ctx.error(path.name, number, prop, "listed twice")
            out[prop] = value
    except OSError as e:
        ctx.error(path.name, None, None, f"cannot be read: {e.strerror or e}")
    except csv.Error as e:
        ctx.error(path.name, lines.number, None, f"cannot be parsed: {e}")
    if out.get("manifest.version", "1.0") != "1.0":
        ctx.error(path.name, None, "manifest.version", f"is {out['manifest.version']!r}, must be '1.0'")
    return out


class _Lines:
    """The lines of a CSV file decoded as UTF-8 (a leading BOM dropped), for ``csv.reader``.

    A line that is not UTF-8 is reported with its line number and the field holding the first bad
    byte, and skipped; ``number`` is the line number of the last line handed out. A header that is
    not UTF-8 ends the file (``header_unreadable``): no row could be read against it. ``ctx=None``
    reads silently (second passes over a file already reported).
    """

    def __init__(self, path: Path, ctx: _Ctx | None, *, keyed: bool = False) -> None:
        self.path = path
        self.ctx = ctx
        self.keyed = keyed  # a manifest: name the field by the row's property name
        self.number = 0
        self.header: list[str] | None = None
        self.header_unreadable = False
        self.bad_lines = 0

    def __iter__(self) -> Iterator[str]:
        with self.path.open("rb") as fh:
            data = fh.read()
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            yield from self._by_line(data)
            return
        # The usual case, decoded at once: the same lines (ended by LF, CRLF or a lone CR) as below.
        for self.number, line in enumerate(io.StringIO(text, newline=""), start=1):
            yield line

    def _by_line(self, data: bytes) -> Iterator[str]:
        """Decode line by line, so that each line that is not UTF-8 is reported and skipped."""
        for raw_line in io.BytesIO(data):
            for raw in _LONE_CR.split(raw_line):
                if not raw:
                    continue
                self.number += 1
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    self._not_utf8(raw, e.start)
                    if self.number == 1:
                        self.header_unreadable = True
                        return
                    continue
                if self.header is None:
                    self.header = next(csv.reader([text]), [])
                yield text
        if self.ctx is not None and self.bad_lines > MAX_ENCODING_ISSUES:
            more = self.bad_lines - MAX_ENCODING_ISSUES
            self.ctx.error(self.path.name, None, None, f"{more} more lines are not UTF-8 either")

    def _not_utf8(self, raw: bytes, start: int) -> None:
        self.bad_lines += 1
        if self.ctx is None or self.bad_lines > MAX_ENCODING_ISSUES:
            return
        prefix = raw[:start].decode("utf-8", errors="replace")
        cells = next(csv.reader([prefix]), []) if prefix else []
        position = max(len(cells) - 1, 0)
        if self.number == 1 or self.header is None:
            field_name = f"column {position + 1}"
        elif self.keyed:
            field_name = cells[0].strip() if position >= 1 and cells[0].strip() else MANIFEST_HEADER[0]
        elif position < len(self.header) and self.header[position].strip():
            field_name = self.header[position].strip()
        else:
            field_name = f"column {position + 1}"
        what = "the header is" if self.number == 1 else "the line is"
        self.ctx.error(
            self.path.name,
            self.number,
            field_name,
            f"{what} not UTF-8 text (byte 0x{raw[start]:02X}); save the file as UTF-8",
        )


def _version(manifest: dict[str, str], ctx: _Ctx) -> Version:
    raw = manifest.get("oneroster.version")
    if raw is None:
        ctx.error("manifest.csv", None, "oneroster.version", "missing; read as 1.2")
        return Version.V1_2
    try:
        return Version(raw)
    except ValueError:
        ctx.error(
            "manifest.csv", None, "oneroster.version", f"{raw!r} is not supported (1.1 or 1.2); read as 1.2"
        )
        return Version.V1_2


def _mode(raw: str, name: str, present: bool, ctx: _Ctx) -> Mode | None:
    prop = f"file.{name}"
    values = {m.value for m in Mode}
    if raw in values:
        return Mode(raw)
    if raw == "":
        after = None if present else Mode.ABSENT.value
        problem = "value is blank (must be absent, bulk or delta)"
        fixed = ctx.fix_or_error("manifest.csv", None, prop, raw, after, problem, "the file is not there")
    else:
        after = raw.lower() if raw.lower() in values else None
        problem = f"{raw!r} is not one of absent, bulk, delta"
        fixed = ctx.fix_or_error("manifest.csv", None, prop, raw, after, problem, "wrong case")
    return Mode(fixed) if fixed else None


def _resolve_header(
    header: list[str], spec: FileSpec, file: str, ctx: _Ctx, used_blank: set[int]
) -> tuple[list[str | None], tuple[str, ...]]:
    """Map each CSV column position to a defined column name (None: ignored); or None if unusable."""
    names: list[str | None] = []
    defined = set(spec.header)
    seen: set[str] = set()
    extensions: list[str] = []
    blank_positions: list[int] = []
    for pos, raw in enumerate(header):
        name = raw.strip()
        if name == "":
            blank_positions.append(pos)
            names.append(None)
            continue
        if name.startswith("metadata."):
            extensions.append(name)
            names.append(None)
            continue
        if name in defined:
            target: str | None = name
        elif name in COLUMN_ALIASES and COLUMN_ALIASES[name] in defined:
            target = COLUMN_ALIASES[name]
            ctx.fix_or_error(file, 1, name, name, target, "is a OneRoster 1.0 column name", "1.0 column name")
        else:
            unused = [c for c in spec.header if c not in header]
            close = difflib.get_close_matches(name, unused, n=2, cutoff=0.8)
            by_case = [c for c in unused if c.lower() == name.lower()]
            target = by_case[0] if len(by_case) == 1 else (close[0] if len(close) == 1 else None)
            if target is None:
                ctx.fix_or_error(
                    file,
                    1,
                    name,
                    name,
                    "(ignored)",
                    f"unknown column (defined: {', '.join(spec.header)}; extensions start with metadata.)",
                    "not a defined column: read as an extension",
                )
                extensions.append(name)
            else:
                problem = f"unknown column, did you mean {target!r}?"
                ctx.fix_or_error(file, 1, name, name, target, problem, "header typo")
        if target is not None and target in seen:
            ctx.error(file, 1, name, "column appears twice")
            target = None
        if target is not None:
            seen.add(target)
        names.append(target)
    for pos in blank_positions:
        after = None if pos in used_blank else "(column dropped)"
        ctx.fix_or_error(file, 1, f"column {pos + 1}", "", after, "header cell is blank", "no data under it")
    last_defined = max((i for i, n in enumerate(names) if n is not None), default=-1)
    first_ext = min(
        (i for i, h in enumerate(header) if h.strip().startswith("metadata.")), default=len(header)
    )
    if first_ext < last_defined:
        ctx.fix_or_error(
            file,
            1,
            header[first_ext],
            header[first_ext],
            "(ignored)",
            "extension columns must follow all defined columns",
            "extension column ignored where it stands",
        )
    missing = [c for c in spec.columns if c.name not in seen]
    for col in missing:
        optional_variant = col.name in OPTIONAL_COLUMNS.get(spec.name, frozenset())
        if optional_variant:
            ctx.warn(file, 1, col.name, "column left out (tolerated: a common 1.2 producer variant)")
        elif col.required:
            ctx.error(file, 1, col.name, "required column missing")
        else:
            ctx.fix_or_error(file, 1, col.name, "", col.name, "column missing", "optional column added blank")
    order = [n for n in names if n is not None]
    expected = [c for c in spec.header if c in seen]
    if order != expected:
        ctx.fix_or_error(
            file,
            1,
            None,
            ",".join(order),
            ",".join(expected),
            f"columns out of order; the spec's order is {','.join(spec.header)}",
            "columns reordered by name",
        )
    return names, tuple(extensions)


def _read_table(path: Path, spec: FileSpec, mode: Mode, version: Version, ctx: _Ctx) -> Table | None:
    file = path.name
    lines = _Lines(path, ctx)
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
    except OSError as e:
        ctx.error(file, None, None, f"cannot be read: {e.strerror or e}")
        return None
    except csv.Error as e:
        ctx.error(file, 1, None, f"is not a readable CSV header: {e}")
        return None
    if lines.header_unreadable:
        return None
    if header is None:
        ctx.error(file, None, None, "is empty (no header row)")
        return None
    if not _has_data(path):
        try:
            for _ in reader:  # reports the lines that are not UTF-8
                pass
        except csv.Error as e:
            ctx.error(file, lines.number, None, f"cannot be parsed: {e}")
        return Table(spec, file, mode)
    blank_cols = {i for i, h in enumerate(header) if h.strip() == ""}
    used_blank = {i for i in blank_cols if _column_used(path, i)} if blank_cols else set()
    names, extensions = _resolve_header(header, spec, file, ctx, used_blank)
    table = Table(spec, file, mode, extensions=extensions)
    # A header of exactly the defined columns maps a full row by position.
    keys = spec.header if tuple(names) == spec.header else None
    width = len(header)
    clean = _RowCheck(spec, mode, version)
    rows, row_numbers = table.rows, table.row_numbers
    try:
        for cells in reader:
            number = lines.number
            if not "".join(cells).strip():  # a blank line
                continue
            row: Row | None
            if keys is not None and len(cells) == width:
                row = dict(zip(keys, cells, strict=True))
            else:
                row = _row(cells, names, header, blank_cols, spec, file, number, ctx)
                if row is None:
                    continue
            if not clean(row):
                _check_row(row, spec, mode, version, file, number, ctx)
            rows.append(row)
            row_numbers.append(number)
    except OSError as e:
        ctx.error(file, None, None, f"cannot be read: {e.strerror or e}")
    except csv.Error as e:
        ctx.error(file, lines.number, None, f"cannot be parsed: {e}")
    _check_unique(table, ctx)
    return table


def _has_data(path: Path) -> bool:
    reader = csv.reader(_Lines(path, None))
    try:
        next(reader, None)
        return any(any(c.strip() for c in cells) for cells in reader)
    except csv.Error:
        return True  # the reading pass reports it


def _column_used(path: Path, position: int) -> bool:
    reader = csv.reader(_Lines(path, None))
    try:
        next(reader, None)
        return any(len(cells) > position and cells[position].strip() for cells in reader)
    except csv.Error:
        return True


def _row(
    cells: list[str],
    names: list[str | None],
    header: list[str],
    blank_cols: set[int],
    spec: FileSpec,
    file: str,
    number: int,
    ctx: _Ctx,
) -> Row | None:
    width = len(header)
    if len(cells) > width:
        if any(c.strip() for c in cells[width:]):
            ctx.error(file, number, None, f"has {len(cells)} fields, the header has {width}")
            return None
        cells = cells[:width]
    if len(cells) < width:
        gap = range(len(cells), width)
        defined = [names[i] for i in gap if names[i] is not None]
        if any(_required(spec, n) for n in defined):
            ctx.error(file, number, None, f"has {len(cells)} fields, the header has {width}")
            return None
        if defined and (
            ctx.fix_or_error(
                file,
                number,
                None,
                f"{len(cells)} fields",
                f"{width} fields",
                f"has {len(cells)} fields, the header has {width}",
                f"missing trailing optional fields {', '.join(n for n in defined if n)} read as blank",
            )
            is None
        ):
            return None
        cells = cells + [""] * (width - len(cells))
    row: Row = dict.fromkeys(spec.header, "")
    for name, value in zip(names, cells, strict=True):
        if name is not None:
            row[name] = value
    return row


def _required(spec: FileSpec, name: str | None) -> bool:
    return name is not None and spec.by_name[name].required


_PLAIN = (Kind.TEXT, Kind.LIST)
_GRADE_SET = frozenset(GRADES)


def _clean_value(col: Column) -> Callable[[str], bool]:
    """Whether a non-blank value of ``col`` passes ``_check_row`` untouched (nothing reported or
    repaired); mirrors ``_check_row`` and ``_check_value`` for values that need no repair."""
    kind = col.kind
    if kind in _PLAIN:
        return lambda value: True
    if kind in (Kind.ENUM, Kind.BOOL):
        vocab = frozenset(col.vocab)
        return vocab.__contains__
    if kind is Kind.DATE:
        return lambda v: v == v.strip() and DATE_RE.fullmatch(v) is not None and _valid_date(v)
    if kind is Kind.DATETIME:
        return lambda v: v == v.strip() and DATETIME_RE.fullmatch(v) is not None and _valid_date(v[:10])
    if kind is Kind.YEAR:
        return lambda v: v == v.strip() and YEAR_RE.fullmatch(v) is not None
    if kind is Kind.GRADES:
        return lambda v: all(part in _GRADE_SET for part in v.split(","))
    if kind is Kind.USER_IDS:
        return lambda v: v == v.strip() and all(USER_ID_RE.fullmatch(p) for p in _split_user_ids(v))
    if kind is Kind.IDS:
        return lambda v: v == v.strip() and all(p.strip() for p in v.split(","))
    return lambda v: v == v.strip()  # Kind.ID


class _Known(dict[str, bool]):
    """Values of one column already found clean; a new value is checked once and remembered."""

    __slots__ = ("_clean",)
    LIMIT = 1 << 16  # distinct values remembered per column (sourcedIds rarely repeat)

    def __init__(self, clean: Callable[[str], bool]) -> None:
        super().__init__()
        self._clean = clean

    def __missing__(self, value: str) -> bool:
        ok = self._clean(value)
        if ok and len(self) < self.LIMIT:
            self[value] = True
        return ok


class _RowCheck:
    """A fast test that ``_check_row`` would report and change nothing in a row (the usual case);
    rows that fail it go through ``_check_row``, so what is reported is exactly what it reports.

    Required text and sourcedId columns are tested for blanks and sourcedIds for spaces at once;
    the other checked columns remember the values seen clean (enumerations, dates and references
    repeat), so a typical row costs a few lookups made in C instead of a Python loop over its fields.
    A check is made per table read: what it remembers belongs to that read.
    """

    __slots__ = ("_ids", "_known", "_required", "_values")

    def __init__(self, spec: FileSpec, mode: Mode, version: Version) -> None:
        required: list[str] = []
        ids: list[str] = []
        names: list[str] = []
        known: list[_Known] = []
        for col in spec.columns:
            if col.kind is Kind.ID:
                ids.append(col.name)
            if col.kind is Kind.ID or col.kind in _PLAIN:
                if col.required:
                    required.append(col.name)
                continue
            clean = _clean_value(col)
            if col.name == "status":
                clean = _status_clean(clean, mode, version)
            values = _Known(clean)
            delta_required = mode is Mode.DELTA and col.name in ("status", "dateLastModified")
            if not col.required and not delta_required:
                values[""] = True
            names.append(col.name)
            known.append(values)
        if mode is Mode.DELTA and not {"status", "dateLastModified"} <= set(names):
            raise ValueError(f"{spec.name}: a delta check needs status and dateLastModified")
        self._required = _getter(required)
        self._ids = _getter(ids)
        self._values = _getter(names)
        self._known = tuple(known)

    def __call__(self, row: Row) -> bool:
        if "" in self._required(row):
            return False
        ids = self._ids(row)
        if tuple(map(str.strip, ids)) != ids:
            return False
        return all(map(operator.getitem, self._known, self._values(row)))


def _status_clean(clean: Callable[[str], bool], mode: Mode, version: Version) -> Callable[[str], bool]:
    """``_check_row``'s status rules: no deletions in bulk, ``inactive`` deprecated in 1.1."""

    def status(value: str) -> bool:
        if mode is not Mode.DELTA and value == "tobedeleted":
            return False
        if version is Version.V1_1 and value == "inactive":
            return False
        return clean(value)

    return status


def _getter(names: list[str]) -> Callable[[Row], tuple[str, ...]]:
    """``operator.itemgetter`` that always returns a tuple."""
    if not names:
        return lambda row: ()
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return operator.itemgetter(*names)


def _check_row(
    row: Row, spec: FileSpec, mode: Mode, version: Version, file: str, number: int, ctx: _Ctx
) -> None:
    for col in spec.columns:
        value = row[col.name]
        if value == "":
            if col.required:
                ctx.error(file, number, col.name, "is required")
            continue
        kind = col.kind
        if kind in _PLAIN:
            continue
        if kind is Kind.ID and value == value.strip():
            continue
        if (kind is Kind.ENUM or kind is Kind.BOOL) and value in col.vocab:
            continue
        if value != value.strip():
            fixed = ctx.fix_or_error(
                file,
                number,
                col.name,
                value,
                value.strip(),
                "has leading or trailing spaces",
                "spaces removed",
            )
            if fixed is None:
                continue
            value = row[col.name] = fixed
            if value == "":
                if col.required:
                    ctx.error(file, number, col.name, "is required")
                continue
        checked = _check_value(col, value, file, number, ctx)
        if checked is not None:
            row[col.name] = checked
    status = row["status"]
    if mode is Mode.DELTA:
        if status == "":
            ctx.error(file, number, "status", "is required in a delta file")
        if row["dateLastModified"] == "":
            ctx.error(file, number, "dateLastModified", "is required in a delta file")
    elif status == "tobedeleted":
        ctx.error(file, number, "status", "tobedeleted in a bulk file (a bulk file holds no deletions)")
    if status == "inactive" and version is Version.V1_1:
        ctx.warn(file, number, "status", "inactive is deprecated in OneRoster 1.1")


def _check_value(col: Column, value: str, file: str, number: int, ctx: _Ctx) -> str | None:
    """The (possibly repaired) value, or None after reporting it."""
    kind = col.kind
    if kind in (Kind.ENUM, Kind.BOOL):
        if value in col.vocab:
            return value
        same = [v for v in col.vocab if v.lower() == value.lower()]
        if len(same) == 1:
            return ctx.fix_or_error(
                file, number, col.name, value, same[0], f"{value!r} is in the wrong case", "enumeration case"
            )
        ctx.error(file, number, col.name, f"{value!r} is not one of {', '.join(col.vocab)}")
        return None
    if kind is Kind.DATE:
        if DATE_RE.fullmatch(value) and _valid_date(value):
            return value
        return _repair_date(col, value, file, number, ctx, with_time=False)
    if kind is Kind.DATETIME:
        if DATETIME_RE.fullmatch(value) and _valid_date(value[:10]):
            return value
        if DATE_RE.fullmatch(value) and _valid_date(value):
            return ctx.fix_or_error(
                file,
                number,
                col.name,
                value,
                f"{value}T00:00:00.000Z",
                f"{value!r} is a date, not a date-time (YYYY-MM-DDThh:mm:ss.sssZ)",
                "a date alone is the start of that day, UTC",
            )
        return _repair_date(col, value, file, number, ctx, with_time=True)
    if kind is Kind.YEAR:
        if YEAR_RE.fullmatch(value):
            return value
        ctx.error(file, number, col.name, f"{value!r} is not a four-digit year")
        return None
    if kind is Kind.GRADES:
        out = []
        for part in value.split(","):
            grade = part.strip()
            if grade in GRADES:
                out.append(grade)
                continue
            fixed = _grade_repair(grade)
            result = ctx.fix_or_error(
                file, number, col.name, grade, fixed, f"{grade!r} is not a CEDS grade level", "grade code"
            )
            if result is None:
                return None
            out.append(result)
        return ",".join(out)
    if kind is Kind.USER_IDS:
        parts = _split_user_ids(value)
        bad = [p for p in parts if not USER_ID_RE.fullmatch(p)]
        if bad:
            ctx.error(file, number, col.name, f"{bad[0]!r} is not a {{type:identifier}} pair")
            return None
        return value
    if kind is Kind.IDS and any(p.strip() == "" for p in value.split(",")):
        ctx.error(file, number, col.name, "has an empty sourcedId in its list")
        return None
    return value


def _split_user_ids(value: str) -> list[str]:
    return [p.strip() for p in re.findall(r"\{[^}]*\}|[^,{}]+", value) if p.strip()]


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _repair_date(
    col: Column, value: str, file: str, number: int, ctx: _Ctx, *, with_time: bool
) -> str | None:
    want = "YYYY-MM-DDThh:mm:ss.sssZ" if with_time else "YYYY-MM-DD"
    m = _SLASHED.fullmatch(value)
    fixed: str | None = None
    problem = f"{value!r} is not a date ({want})"
    if m:
        a, b, c = (int(x) for x in m.groups())
        candidates: set[date] = set()
        if len(m.group(1)) == 4:
            candidates |= _dates(a, b, c)  # Y/M/D
        elif len(m.group(3)) == 4:
            candidates |= _dates(c, b, a)  # D/M/Y
            candidates |= _dates(c, a, b)  # M/D/Y
        if len(candidates) == 1:
            day = candidates.pop()
            fixed = day.isoformat() + ("T00:00:00.000Z" if with_time else "")
        elif len(candidates) > 1:
            options = " or ".join(sorted(d.isoformat() for d in candidates))
            problem = f"{value!r} is not a date ({want}) and is ambiguous: {options}"
    return ctx.fix_or_error(file, number, col.name, value, fixed, problem, "only one calendar reading")


def _dates(year: int, month: int, day: int) -> set[date]:
    try:
        return {date(year, month, day)}
    except ValueError:
        return set()


def _grade_repair(grade: str) -> str | None:
    if grade.isdigit() and 1 <= int(grade) <= 13:
        return f"{int(grade):02d}"
    upper = {g.upper(): g for g in GRADES}
    if grade.upper() in upper:
        return upper[grade.upper()]
    if grade.upper() in ("K", "KINDERGARTEN"):
        return "KG"
    return None


def _check_unique(table: Table, ctx: _Ctx) -> None:
    sids = [row["sourcedId"] for row in table.rows]
    if len(set(sids)) == len(sids):  # no repeats (the usual case): nothing to report
        return
    seen: dict[str, int] = {}
    for number, row in table:
        sid = row["sourcedId"]
        if not sid:
            continue
        if sid in seen:
            ctx.error(table.file, number, "sourcedId", f"{sid!r} repeats row {seen[sid]}")
        else:
            seen[sid] = number
