"""Streaming CEDARS writers: one file from records, or a whole district drop (``DropWriter``).

A writer refuses (``CedarsWriteError``, naming file, row and element) any value the reader would
reject: wrong type, too long, unknown code, a date order broken inside the row, a delimiter, control
character or line break inside a value. Cross-row rules (non-overlapping enrollment spells) are the
producer's job; ``validate_drop`` checks them. Files are written under a ``.partial`` name and
renamed when closed cleanly, so a failed write never leaves a plausible-looking file behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from steward.domain.records import Record
from steward.formats.cedars.codec import element_codecs, row_rules
from steward.formats.cedars.errors import CedarsError, CedarsWriteError
from steward.formats.cedars.layouts import FILES, FileSpec, build_file_name, spec_for

DEFAULT_DELIMITER = "\t"
_FORBIDDEN_DELIMITERS = frozenset("\r\n /.-_'\"")


def check_delimiter(delimiter: str) -> str:
    """Return ``delimiter`` if it can separate CEDARS values unambiguously, else raise ValueError.

    It must be one character that no date, number or code contains (tab, ``|``, ``,``, ``;``, ``^``, ...).
    """
    if (
        len(delimiter) != 1
        or delimiter in _FORBIDDEN_DELIMITERS
        or delimiter.isalnum()
        or (delimiter.isspace() and delimiter != "\t")
    ):
        raise ValueError(
            f"{delimiter!r} cannot be a CEDARS delimiter: use one character such as a tab, '|' or ','"
        )
    return delimiter


@cache
def row_formatter(spec: FileSpec) -> Callable[[Any], tuple[str, ...]]:
    """A function from a record to its element texts, generated for ``spec`` (the writer's hot path).

    Per element it looks the value up in the element's memo of formatted values and calls the
    element's ``format`` only on a miss, so the checks run once per distinct value. Raises what
    ``format`` raises; the caller locates the element.
    """
    namespace: dict[str, Any] = {}
    body = ["def format_row(rec):"]
    items = []
    for i, codec in enumerate(element_codecs(spec)):
        attribute = codec.spec.attribute
        if attribute is None:
            items.append('""')
            continue
        if not attribute.isidentifier():  # pragma: no cover - specs are ours
            raise ValueError(f"bad attribute name {attribute!r}")
        namespace[f"get{i}"] = codec.format_memo.get
        namespace[f"fmt{i}"] = codec.format
        namespace[f"kind{i}"] = codec.kind
        body += [
            f"    v = rec.{attribute}",
            f"    t{i} = get{i}(v) if v.__class__ is kind{i} else None",
            f"    if t{i} is None:",
            f"        t{i} = fmt{i}(v)",
        ]
        items.append(f"t{i}")
    body.append(f"    return ({', '.join(items)},)")
    exec("\n".join(body), namespace)  # noqa: S102 - source built above from our own attribute names
    formatter: Callable[[Any], tuple[str, ...]] = namespace["format_row"]
    return formatter


class FileWriter:
    """Writes one CEDARS file, one record per line, no header row, UTF-8, ``\\n`` line ends.

    Use as a context manager; ``district_code`` (when given) must match every record's district.
    """

    def __init__(
        self,
        path: Path,
        file: str | type | FileSpec,
        *,
        delimiter: str = DEFAULT_DELIMITER,
        district_code: str | None = None,
        buffering: int = 1 << 16,
    ) -> None:
        self.spec = spec_for(file)
        self.path = Path(path)
        self.delimiter = check_delimiter(delimiter)
        self.district_code = district_code
        self.rows = 0
        self._buffering = buffering
        self._out: IO[str] | None = None
        self._finished = False
        codecs = element_codecs(self.spec)
        self._codecs = codecs
        self._format_row = row_formatter(self.spec)
        self._rules = row_rules(self.spec)
        self._n_delimiters = len(codecs) - 1
        self._record_type = self.spec.record_type
        self._district_pos = next(i for i, c in enumerate(codecs) if c.spec.attribute == "district_code")

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def _partial(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")

    def open(self) -> FileWriter:
        if self._finished:
            raise ValueError(f"{self.name} is already closed")
        if self._out is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = self._partial.open("w", encoding="utf-8", newline="\n", buffering=self._buffering)
        return self

    def __enter__(self) -> FileWriter:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def close(self) -> None:
        """Finish the file and publish it under its real name (no-op once closed or aborted)."""
        if self._finished:
            return
        self.open()
        assert self._out is not None
        self._out.close()
        self._out = None
        self._finished = True
        self._partial.replace(self.path)

    def abort(self) -> None:
        """Discard the partial file; nothing is published."""
        if self._out is not None:
            self._out.close()
            self._out = None
        if not self._finished:
            self._partial.unlink(missing_ok=True)
        self._finished = True

    def _fail(self, element: str | None, message: str) -> CedarsWriteError:
        return CedarsWriteError(CedarsError(self.name, self.rows + 1, element, message))

    def format(self, record: Any) -> str:
        """The line (without line end) for ``record``; CedarsWriteError if it cannot be written."""
        if type(record) is not self._record_type:
            raise self._fail(
                None,
                f"a {type(record).__name__} cannot go in {self.spec.file_name} "
                f"({self._record_type.__name__} records)",
            )
        try:
            texts = self._format_row(record)
        except (ValueError, TypeError):
            raise self._locate(record) from None
        if self._rules:
            for rule in self._rules:
                broken = rule(record)
                if broken is not None:
                    raise self._fail(broken[0].label, broken[1])
        if self.district_code is not None and texts[self._district_pos] != self.district_code:
            raise self._fail(
                self._codecs[self._district_pos].spec.label,
                f"{texts[self._district_pos]!r} does not match the drop's district {self.district_code}",
            )
        line = self.delimiter.join(texts)
        if line.count(self.delimiter) != self._n_delimiters:
            for codec, text in zip(self._codecs, texts, strict=True):
                if self.delimiter in text:
                    raise self._fail(codec.spec.label, f"{text!r} contains the delimiter {self.delimiter!r}")
        return line

    def _locate(self, record: Any) -> CedarsWriteError:
        """The error of the first element of ``record`` that cannot be formatted."""
        for codec in self._codecs:
            if codec.spec.attribute is None:
                continue
            try:
                codec.format(getattr(record, codec.spec.attribute))
            except (ValueError, TypeError) as e:
                return self._fail(codec.spec.label, str(e))
        return self._fail(None, "cannot be formatted")  # pragma: no cover - some element failed above

    def write(self, record: Any) -> None:
        """Write one record (of this file's record type)."""
        if self._out is None:
            self.open()
        assert self._out is not None
        self._out.write(self.format(record) + "\n")
        self.rows += 1

    def write_all(self, records: Iterable[Any]) -> int:
        for record in records:
            self.write(record)
        return self.rows


def write_file(
    path: Path,
    records: Iterable[Record],
    *,
    file: str | type | FileSpec | None = None,
    delimiter: str = DEFAULT_DELIMITER,
    district_code: str | None = None,
) -> int:
    """Write ``records`` (all of one type) to ``path``; returns the number of rows.

    ``file`` (prefix, CEDARS file name, record type or spec) defaults to the first record's type.
    """
    iterator = iter(records)
    first: Any = None
    if file is None:
        first = next(iterator, None)
        if first is None:
            raise ValueError("cannot tell which CEDARS file to write from no records: pass file=")
        file = type(first)
    with FileWriter(path, file, delimiter=delimiter, district_code=district_code) as writer:
        if first is not None:
            writer.write(first)
        writer.write_all(iterator)
        return writer.rows


class DropWriter:
    """Writes one district's drop: every file of ``files`` (default all) in ``directory``.

    Take records of any type with ``write``; each goes to its file. Files are named
    ``{district}_0000_{FileName}_{as_of:%Y%m%d}.txt``; files no record went to are still written
    (empty). On an exception inside the ``with`` block every file of the drop is discarded.
    """

    def __init__(
        self,
        directory: Path,
        district_code: str,
        as_of: date,
        *,
        delimiter: str = DEFAULT_DELIMITER,
        files: Iterable[str | type | FileSpec] | None = None,
        buffering: int = 1 << 18,
    ) -> None:
        self.directory = Path(directory)
        self.district_code = district_code
        self.as_of = as_of
        specs = [spec_for(f) for f in files] if files is not None else list(FILES)
        self.writers: dict[str, FileWriter] = {
            s.prefix: FileWriter(
                self.directory / build_file_name(district_code, s, as_of),
                s,
                delimiter=delimiter,
                district_code=district_code,
                buffering=buffering,
            )
            for s in specs
        }
        self._by_type: dict[type, FileWriter] = {w.spec.record_type: w for w in self.writers.values()}

    def __enter__(self) -> DropWriter:
        self.directory.mkdir(parents=True, exist_ok=True)
        for w in self.writers.values():
            w.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, record: Record) -> None:
        """Write one record to the file that carries its type."""
        writer = self._by_type.get(type(record))
        if writer is None:
            raise TypeError(f"this drop has no file for {type(record).__name__} records")
        writer.write(record)

    def write_all(self, records: Iterable[Record]) -> None:
        for record in records:
            self.write(record)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()

    def abort(self) -> None:
        for w in self.writers.values():
            w.abort()

    @property
    def counts(self) -> dict[str, int]:
        """Rows written, by file prefix."""
        return {p: w.rows for p, w in self.writers.items()}

    @property
    def paths(self) -> dict[str, Path]:
        return {p: w.path for p, w in self.writers.items()}
