"""Chosen students' records from a district's CEDARS drop, read at the moment of asking through a
byte-offset index of each file.

The index says where each student's lines lie in a file (sorted student keys and byte ranges); it
is built once per file version (path, size, modification time) with vectorised scans of the memory
mapped file and kept in memory, so that a page about one student, or a package about two thousand,
reads only their lines. It holds positions, never values: the records themselves are read from the
source on every request and parsed by the CEDARS reader's own row parser and row rules, so nothing
the reader would refuse is ever shown. A line that cannot be read raises ``SourceRecordsError``
naming the file, line and element.
"""

from __future__ import annotations

import mmap
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.formats.cedars import DEFAULT_DELIMITER, FileSpec
from steward.formats.cedars.codec import element_codecs, row_rules
from steward.formats.cedars.reader import row_parser
from steward.products.portal.rows import Reference
from steward.products.records import REFERENCE_PREFIXES, SourceRecordsError, StudentRecords, open_drop

#: Bytes scanned at once while building an index (bounds the transient memory of a build).
CHUNK = 32 << 20
#: Longest student key the index stores (DistrictStudentCode is VARCHAR(50)).
MAX_KEY = 50
#: File versions whose index is kept (a region of seven districts has about 80 student files).
MAX_INDEXES = 128
_BOM = b"\xef\xbb\xbf"

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class LineIndex:
    """Sorted student keys of one file with the byte range ``[start, end)`` of each run of lines."""

    keys: npt.NDArray[np.bytes_]
    starts: IntArray
    ends: IntArray
    lines: int

    def ranges(self, ids: Collection[bytes]) -> list[tuple[int, int]]:
        """The byte ranges holding the lines of ``ids``, in file order."""
        width = self.keys.dtype.itemsize
        wanted = sorted({i for i in ids if 0 < len(i) <= width})
        if not wanted or not len(self.keys):
            return []
        query = np.array(wanted, dtype=self.keys.dtype)
        lo = np.searchsorted(self.keys, query, side="left")
        hi = np.searchsorted(self.keys, query, side="right")
        picks = [np.arange(a, b) for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a]
        if not picks:
            return []
        chosen = np.concatenate(picks)
        order = np.argsort(self.starts[chosen], kind="stable")
        chosen = chosen[order]
        return list(zip(self.starts[chosen].tolist(), self.ends[chosen].tolist(), strict=True))

    @property
    def students(self) -> int:
        return len(np.unique(self.keys)) if len(self.keys) else 0


def _runs(
    keys: npt.NDArray[np.bytes_], starts: IntArray, ends: IntArray
) -> tuple[npt.NDArray[np.bytes_], IntArray, IntArray]:
    """Collapse consecutive lines of the same key into one byte range each."""
    if not len(keys):
        return keys, starts, ends
    change = np.empty(len(keys), dtype=bool)
    change[0] = True
    np.not_equal(keys[1:], keys[:-1], out=change[1:])
    first = np.flatnonzero(change)
    last = np.append(first[1:] - 1, len(keys) - 1)
    return keys[first], starts[first], ends[last]


def _slow_chunk(
    data: bytes, offset: int, delimiter: bytes, column: int
) -> tuple[list[bytes], list[int], list[int]]:
    """Line by line (lines that do not have the file's element count, or keys with spaces)."""
    keys: list[bytes] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for line in data.split(b"\n"):
        begin = position
        position += len(line) + 1
        if not line.strip(b" \r"):
            continue
        fields = line.split(delimiter, column + 1)
        key = fields[column].strip(b" \r") if len(fields) > column else b""
        keys.append(key[:MAX_KEY])
        starts.append(offset + begin)
        ends.append(offset + begin + len(line))
    return keys, starts, ends


def _fast_chunk(
    buf: npt.NDArray[np.uint8], offset: int, delimiter: int, column: int, fields: int
) -> tuple[npt.NDArray[np.bytes_], IntArray, IntArray] | None:
    """Vectorised: every non-blank line has exactly ``fields - 1`` delimiters (else None)."""
    size = len(buf)
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [size])).astype(np.int64)
    keep = ends > starts
    if keep.any():
        lone_cr = (ends - starts == 1) & (buf[np.minimum(starts, size - 1)] == 13)
        keep &= ~lone_cr
    starts, ends = starts[keep], ends[keep]
    if not len(starts):
        return np.array([], dtype="S1"), starts, ends
    tabs = np.flatnonzero(buf == delimiter)
    per_line = fields - 1
    if per_line == 0 or tabs.size != len(starts) * per_line:
        return None
    grid = tabs.reshape(len(starts), per_line)
    if not (np.all(grid[:, 0] >= starts) and np.all(grid[:, -1] < ends)):
        return None  # some line has more or fewer elements than the layout
    key_start = starts if column == 0 else grid[:, column - 1] + 1
    key_end = grid[:, column] if column < per_line else ends
    width = int(min(MAX_KEY, max(1, int((key_end - key_start).max()))))
    index = key_start[:, None] + np.arange(width)
    inside = index < key_end[:, None]
    matrix = np.where(inside, buf[np.minimum(index, size - 1)], 0).astype(np.uint8)
    if (matrix == 32).any() or (matrix == 13).any():
        return None  # padded keys: the slow path strips them as the reader does
    keys = np.ascontiguousarray(matrix).view(f"S{width}").ravel()
    return keys, starts + offset, ends + offset


def build_index(path: Path, spec: FileSpec, delimiter: str = DEFAULT_DELIMITER) -> LineIndex:
    """Scan one drop file and index its lines by student key."""
    column = [e.attribute for e in spec.elements].index("student_id")
    fields = len(spec.elements)
    delim = delimiter.encode()
    parts: list[tuple[npt.NDArray[np.bytes_], IntArray, IntArray]] = []
    lines = 0
    with path.open("rb") as handle:
        size = path.stat().st_size
        if size == 0:
            return LineIndex(np.array([], dtype="S1"), np.array([], np.int64), np.array([], np.int64), 0)
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            position = 3 if mm[:3] == _BOM else 0
            while position < size:
                end = min(position + CHUNK, size)
                if end < size:
                    cut = mm.rfind(b"\n", position, end)
                    if cut == -1:
                        cut = mm.find(b"\n", end)
                    end = size if cut == -1 else cut + 1
                buf = np.frombuffer(mm, dtype=np.uint8, count=end - position, offset=position)
                fast = _fast_chunk(buf[:-1] if buf[-1] == 10 else buf, position, delim[0], column, fields)
                del buf
                if fast is None:
                    keys_l, starts_l, ends_l = _slow_chunk(mm[position:end], position, delim, column)
                    width = max((len(k) for k in keys_l), default=1) or 1
                    fast = (
                        np.array(keys_l, dtype=f"S{width}"),
                        np.array(starts_l, dtype=np.int64),
                        np.array(ends_l, dtype=np.int64),
                    )
                lines += len(fast[0])
                parts.append(_runs(*fast))
                position = end
    width = max((p[0].dtype.itemsize for p in parts), default=1)
    keys = np.concatenate([p[0].astype(f"S{width}") for p in parts]) if parts else np.array([], f"S{width}")
    starts = np.concatenate([p[1] for p in parts]) if parts else np.array([], np.int64)
    ends = np.concatenate([p[2] for p in parts]) if parts else np.array([], np.int64)
    order = np.argsort(keys, kind="stable")
    return LineIndex(keys[order], starts[order], ends[order], lines)


class _Cache:
    """File version -> value, least recently used evicted; one build per version at a time."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: OrderedDict[tuple[str, int, int, str], Any] = OrderedDict()
        self.lock = threading.Lock()
        self.building: dict[tuple[str, int, int, str], threading.Lock] = {}

    def get(self, path: Path, kind: str, make: Callable[[], Any]) -> Any:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, kind)
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
            guard = self.building.setdefault(key, threading.Lock())
        with guard:
            with self.lock:
                if key in self.items:
                    return self.items[key]
            value = make()
            with self.lock:
                self.items[key] = value
                self.building.pop(key, None)
                stale = [k for k in self.items if k[0] == key[0] and k != key]
                for k in stale:
                    del self.items[k]
                while len(self.items) > self.capacity:
                    self.items.popitem(last=False)
            return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_INDEXES = _Cache(MAX_INDEXES)
_REFERENCES = _Cache(MAX_INDEXES)
#: Reference rows keyed for lookups, by the versions of the files they come from.
_TABLES: OrderedDict[tuple[tuple[str, int, int], ...], Reference] = OrderedDict()
_TABLES_LOCK = threading.Lock()


def clear_caches() -> None:
    """Forget every index and reference table (tests; a data officer replacing files in place)."""
    _INDEXES.clear()
    _REFERENCES.clear()
    with _TABLES_LOCK:
        _TABLES.clear()


def index_of(path: Path, spec: FileSpec, delimiter: str = DEFAULT_DELIMITER) -> LineIndex:
    """The index of the file's current version (built on first use)."""
    index: LineIndex = _INDEXES.get(path, "index", lambda: build_index(path, spec, delimiter))
    return index


class _Parser:
    """One line to its record, exactly as the CEDARS reader would accept it, or a clear error."""

    def __init__(self, spec: FileSpec, path: Path, district: str, delimiter: str) -> None:
        self.spec, self.path, self.district, self.delimiter = spec, path, district, delimiter
        self.parse_row = row_parser(spec)
        self.rules = row_rules(spec)
        self.codecs = element_codecs(spec)

    def line_number(self, start: int) -> int:
        with self.path.open("rb") as handle:
            return handle.read(start).count(b"\n") + 1

    def __call__(self, raw: bytes, start: int) -> Any:
        name = self.path.name
        try:
            text = raw.rstrip(b"\r").decode("utf-8")
        except UnicodeDecodeError as e:
            raise SourceRecordsError(
                name, self.line_number(start), None, f"is not UTF-8 text (byte {e.start + 1})"
            ) from None
        fields = text.split(self.delimiter)
        if len(fields) != len(self.codecs):
            raise SourceRecordsError(
                name,
                self.line_number(start),
                None,
                f"has {len(fields)} elements, expected {len(self.codecs)}",
            )
        try:
            record = self.parse_row(fields)
        except (ValueError, TypeError):
            for codec, value in zip(self.codecs, fields, strict=True):
                try:
                    codec.parse(value.strip(" "))
                except ValueError as e:
                    raise SourceRecordsError(
                        name, self.line_number(start), codec.spec.label, str(e)
                    ) from None
            raise SourceRecordsError(name, self.line_number(start), None, "cannot be read") from None
        for rule in self.rules:
            broken = rule(record)
            if broken is not None:
                raise SourceRecordsError(name, self.line_number(start), broken[0].label, broken[1])
        if record.district_code != self.district:
            raise SourceRecordsError(
                name,
                self.line_number(start),
                None,
                f"belongs to district {record.district_code}, not {self.district}",
            )
        return record


def _read_lines(path: Path, ranges: list[tuple[int, int]]) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line) of every non-blank line in the ranges."""
    if not ranges:
        return
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for start, end in ranges:
            chunk = mm[start:end]
            position = start
            for line in chunk.split(b"\n"):
                begin = position
                position += len(line) + 1
                if line.strip(b" \r"):
                    yield begin, line


def read_students(
    directory: Path,
    district_code: str,
    student_ids: Collection[str],
    prefixes: Collection[str],
    *,
    references: Collection[str] = ("A",),
    delimiter: str = DEFAULT_DELIMITER,
) -> StudentRecords:
    """Every record of the given district student IDs in the files of ``prefixes`` (file order),
    plus the reference files named in ``references`` (``A`` locations, ``D`` courses, ``F`` staff,
    ``G`` staff schedules)."""
    drop = open_drop(directory, district_code, delimiter)
    out = StudentRecords(district_code)
    names = {s.strip() for s in student_ids if s.strip()}
    wanted = {s.encode() for s in names}
    for prefix, file in drop.files.items():
        if prefix in REFERENCE_PREFIXES:
            if prefix in references:
                _reference(file.path, file.spec, drop, prefix, out)
            continue
        if prefix not in prefixes or not wanted:
            continue
        if "student_id" not in [e.attribute for e in file.spec.elements]:
            continue
        index = index_of(file.path, file.spec, delimiter)
        parse = _Parser(file.spec, file.path, district_code, delimiter)
        for start, line in _read_lines(file.path, index.ranges(wanted)):
            record = parse(line, start)
            if record.student_id in names:
                out.records.append(record)
    return out


def _reference(path: Path, spec: FileSpec, drop: Any, prefix: str, out: StudentRecords) -> None:
    def load() -> list[Any]:
        reader = drop.records(prefix, max_errors=1)
        rows = list(reader)
        if reader.errors:
            e = reader.errors[0]
            raise SourceRecordsError(e.file, e.line, e.element, e.message)
        return rows

    rows: list[Any] = _REFERENCES.get(path, "reference", load)
    target: dict[str, list[Any]] = {
        "A": out.locations,
        "D": out.courses,
        "F": out.staff,
        "G": out.staff_schedules,
    }
    target[prefix].extend(rows)


def reference_table(
    directory: Path,
    district_code: str,
    references: Collection[str] = ("A",),
    delimiter: str = DEFAULT_DELIMITER,
) -> Reference:
    """The reference files named in ``references`` (as ``read_students``) keyed for lookups, built
    once per version of those files: a page about one student no longer re-keys the whole drop's
    schools, courses and teachers. Shared between requests, so callers only read it."""
    drop = open_drop(directory, district_code, delimiter)
    files = [(prefix, drop.files[prefix]) for prefix in sorted(set(references)) if prefix in drop.files]
    key = tuple((str(f.path.resolve()), (stat := f.path.stat()).st_size, stat.st_mtime_ns) for _, f in files)
    with _TABLES_LOCK:
        found = _TABLES.get(key)
        if found is not None:
            _TABLES.move_to_end(key)
            return found
    rows = StudentRecords(district_code)
    for prefix, file in files:
        _reference(file.path, file.spec, drop, prefix, rows)
    table = Reference.of(rows.locations, rows.courses, rows.staff, rows.staff_schedules)
    with _TABLES_LOCK:
        _TABLES[key] = table
        while len(_TABLES) > MAX_INDEXES:
            _TABLES.popitem(last=False)
    return table


def warm(directory: Path, district_code: str, delimiter: str = DEFAULT_DELIMITER) -> dict[str, int]:
    """Build the index of every student file of the drop now (the worker or a first request would
    otherwise); returns lines indexed per file prefix."""
    drop = open_drop(directory, district_code, delimiter)
    out: dict[str, int] = {}
    for prefix, file in drop.files.items():
        if prefix in REFERENCE_PREFIXES or "student_id" not in [e.attribute for e in file.spec.elements]:
            continue
        out[prefix] = index_of(file.path, file.spec, delimiter).lines
    return out
