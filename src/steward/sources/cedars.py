"""CEDARS file drops read in place by DuckDB's built-in CSV reader (the embedded default source).

Each drop file is read as tab-delimited text without header or quoting; its element columns are
mapped to the canonical columns and types (dates MM/DD/YYYY, decimals, Y/N flags, code aliases
such as ``01`` -> ``1``). Several drops (districts) read as one source. DuckDB never downloads an
extension here: only ``read_csv`` is used. A value DuckDB cannot convert is reported with the file,
line and element.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import typing
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from types import UnionType
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa  # type: ignore[import-untyped]

from steward.formats.cedars.layouts import ElementSpec, FileSpec, parse_file_name, spec_for
from steward.formats.cedars.reader import Drop, validate_drop
from steward.formats.cedars.writer import DEFAULT_DELIMITER
from steward.sources.base import Source, SourceError, conform
from steward.sources.canonical import TABLES, check_table, column_type, schema

_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMN = re.compile(r'converting column "([A-Z]+\d+)"')
_VALUE = re.compile(r'Could not convert string "(.*?)" to \'?([A-Z0-9(), ]+)\'?')
_FILE = re.compile(r"^\s*file = (.+)$", re.MULTILINE)


def _read_type(spec: FileSpec, element: ElementSpec) -> str:
    """The DuckDB type the CSV reader converts an element to (text when Python must map it)."""
    assert element.attribute is not None
    target = column_type(spec.record_type, element.attribute)
    if target.is_date():
        return "DATE"
    if target.is_decimal():
        assert isinstance(target, dt.Decimal)
        return f"DECIMAL({target.precision},{target.scale})"
    if target.is_integer():
        return "BIGINT"
    return "VARCHAR"


def _column(spec: FileSpec, element: ElementSpec, raw: ir.Column) -> ir.Value:
    """The canonical value of one element column."""
    assert element.attribute is not None
    target = column_type(spec.record_type, element.attribute)
    if not (target.is_string() or target.is_boolean()):
        return raw
    text = raw.cast("string").strip()
    blank = text.isnull() | (text == "")
    if target.is_boolean():
        return blank.ifelse(ibis.null("boolean"), text == element.true_false[0])
    if element.codes:
        aliases = {k: v for k, v in element.codes.items() if k != v}
        if aliases:
            text = text.substitute(aliases)
    # Records keep "" for an absent text value unless the attribute is optional (then None).
    return blank.ifelse(ibis.null("string") if _optional(spec, element) else ibis.literal(""), text)


def _optional(spec: FileSpec, element: ElementSpec) -> bool:
    assert element.attribute is not None
    hint = typing.get_type_hints(spec.record_type)[element.attribute]
    return isinstance(hint, UnionType) and type(None) in typing.get_args(hint)


class CedarsDropSource(Source):
    """One or more CEDARS drops (one directory per district) as canonical tables in DuckDB."""

    kind = "cedars"

    def __init__(
        self,
        directories: Path | Sequence[Path],
        *,
        delimiter: str = DEFAULT_DELIMITER,
        memory_limit: str = "1GB",
        threads: int = 2,
        temp_directory: Path | None = None,
        validate: bool = False,
    ) -> None:
        dirs = [Path(directories)] if isinstance(directories, str | Path) else [Path(d) for d in directories]
        if not dirs:
            raise SourceError("CEDARS source", None, None, "no drop directory given")
        self.delimiter = delimiter
        self.drops: list[Drop] = []
        for directory in dirs:
            if validate:
                report = validate_drop(directory, delimiter=delimiter)
                if not report.ok:
                    first = report.errors[0]
                    raise SourceError(
                        f"{directory.name}/{first.file}",
                        first.line,
                        first.element,
                        f"{first.message} ({report.error_count} error(s) in the drop)",
                    )
            drop = Drop.open(directory, delimiter=delimiter)
            if drop.problems:
                first = drop.problems[0]
                raise SourceError(f"{directory}/{first.file}", first.line, first.element, first.message)
            self.drops.append(drop)
        # Spill to a private temporary directory rather than fail when a query outgrows the memory
        # limit; row order is never relied on (results are grouped, sorted or shuffled).
        self._spill = Path(tempfile.mkdtemp(prefix="steward-duckdb-", dir=temp_directory))
        config: dict[str, Any] = {
            "memory_limit": memory_limit,
            "threads": threads,
            "temp_directory": str(self._spill),
            "preserve_insertion_order": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        self.con = ibis.duckdb.connect(**config)
        self._tables: dict[str, ir.Table] = {}

    @property
    def district_codes(self) -> tuple[str, ...]:
        return tuple(d.district_code for d in self.drops)

    @property
    def as_of(self) -> date | None:
        days = [d.as_of for d in self.drops if d.as_of is not None]
        return max(days) if days else None

    def describe(self) -> str:
        names = ", ".join(d.directory.name for d in self.drops)
        return f"CEDARS drops ({names})"

    def files(self, name: str) -> list[Path]:
        """The drop files behind canonical table ``name``."""
        check_table(name)
        prefix = spec_for(TABLES[name]).prefix
        return [d.files[prefix].path for d in self.drops if prefix in d.files]

    def table(self, name: str) -> ir.Table:
        check_table(name)
        cached = self._tables.get(name)
        if cached is not None:
            return cached
        spec = spec_for(TABLES[name])
        paths = self.files(name)
        if not paths:
            expr = self.con.create_table(f"empty_{name}", schema=schema(name), temp=True, overwrite=True)
        else:
            read = {e.code: (_read_type(spec, e) if e.attribute else "VARCHAR") for e in spec.elements}
            raw = self.con.read_csv(
                [str(p) for p in paths],
                table_name=f"cedars_{spec.prefix.lower()}",
                columns=read,
                delim=self.delimiter,
                header=False,
                quote="",
                escape="",
                dateformat="%m/%d/%Y",
                auto_detect=False,
                strict_mode=True,
                null_padding=False,
            )
            mapped = {
                e.attribute: _column(spec, e, raw[e.code]) for e in spec.elements if e.attribute is not None
            }
            expr = conform(raw.select(**mapped), name)
        self._tables[name] = expr
        return expr

    def _batches(self, expr: ir.Table, size: int) -> Iterator[pa.RecordBatch]:
        sql = self.con.compile(expr)
        try:
            reader = self.con.con.sql(sql).to_arrow_reader(size)
            yield from reader
        except duckdb.Error as exc:
            raise self._error(exc) from None

    def _error(self, exc: duckdb.Error) -> SourceError:
        text = str(exc)
        file_match = _FILE.search(text)
        where = Path(file_match.group(1).strip()).name if file_match else self.describe()
        line_match = _LINE.search(text)
        column_match = _COLUMN.search(text)
        element = None
        if column_match is not None and where:
            code = column_match.group(1)
            try:
                element = spec_for(parse_file_name(where).file_name).element(code).label
            except (KeyError, ValueError):
                element = code
        value_match = _VALUE.search(text)
        if value_match is not None:
            message = f"{value_match.group(1)!r} is not a valid {value_match.group(2).lower()}"
            if "DATE" in value_match.group(2):
                message = f"{value_match.group(1)!r} is not a date (MM/DD/YYYY)"
        else:
            message = text.splitlines()[0] if text else type(exc).__name__
        return SourceError(where, int(line_match.group(1)) if line_match else None, element, message)

    def districts(self) -> tuple[str, ...]:
        return self.district_codes

    def close(self) -> None:
        self.con.disconnect()
        shutil.rmtree(self._spill, ignore_errors=True)
