"""What a conversion found and did: problems per file/row/field, lenient repairs, dropped data.

Shared by the Ed-Fi and OneRoster readers and writers and by ``steward convert``. ``row`` is the
row as a spreadsheet shows it (a CSV header is row 1, the first data row is row 2); for XML it is
the line of the element; for JSON lines the line number.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # the input breaks the format; strict reading rejects it
    WARNING = "warning"  # legal but suspicious, or information lost on the way


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem, located as precisely as the format allows."""

    file: str
    row: int | None
    field: str | None
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Repair:
    """A change lenient reading made to the input because only one reading was possible."""

    file: str
    row: int | None
    field: str | None
    before: str
    after: str
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.before!r} -> {self.after!r} ({self.reason})"


@dataclass(slots=True)
class Dropped:
    """Data of one kind that the target cannot carry, with why and how often it was met."""

    entity: str  # record type or source entity, e.g. "Absence" or "DistrictStudent"
    field: str | None  # None: whole records of ``entity`` were dropped
    reason: str
    count: int = 0


@dataclass(slots=True)
class ConversionReport:
    """Counts in and out per entity, dropped data with reasons, problems and repairs."""

    read: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    dropped: dict[tuple[str, str | None], Dropped] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)

    def drop(self, entity: str, field_name: str | None, reason: str, count: int = 1) -> None:
        """Note that ``count`` values of ``entity.field_name`` (or whole records) were dropped."""
        key = (entity, field_name)
        entry = self.dropped.get(key)
        if entry is None:
            self.dropped[key] = Dropped(entity, field_name, reason, count)
        else:
            entry.count += count

    def issue(
        self,
        file: str,
        row: int | None,
        field_name: str | None,
        message: str,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.issues.append(Issue(file, row, field_name, message, severity))

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def merge(self, other: ConversionReport) -> None:
        self.read.update(other.read)
        self.written.update(other.written)
        for d in other.dropped.values():
            self.drop(d.entity, d.field, d.reason, d.count)
        self.issues.extend(other.issues)
        self.repairs.extend(other.repairs)
