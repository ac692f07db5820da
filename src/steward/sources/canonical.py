"""The canonical tables every source exposes: one per canonical record type, same names and types.

Column names are the record attributes of ``steward.domain.records``; types follow the attribute
types (decimal precision from the CEDARS layouts, the reference layout). A connector maps its own
storage to these tables, so products are written once against them.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType, UnionType

import ibis
import ibis.expr.datatypes as dt
from ibis.expr.schema import Schema

from steward.domain import records as r
from steward.formats.cedars.layouts import FILES_BY_RECORD

#: Canonical table name -> record type.
TABLES: Mapping[str, type] = MappingProxyType(
    {
        "locations": r.Location,
        "district_students": r.DistrictStudent,
        "school_students": r.SchoolStudent,
        "courses": r.Course,
        "schedules": r.ScheduleEntry,
        "staff": r.Staff,
        "staff_schedules": r.StaffSchedule,
        "grades": r.GradeHistory,
        "programs": r.ProgramParticipation,
        "races": r.StudentRace,
        "absences": r.Absence,
        "discipline": r.DisciplineAction,
        "assessments": r.AssessmentResult,
        "guardians": r.Guardian,
    }
)
TABLE_OF_RECORD: Mapping[type, str] = MappingProxyType({t: name for name, t in TABLES.items()})

_DEFAULT_DECIMAL = dt.Decimal(9, 2)


def _decimal_type(record_type: type, attribute: str) -> dt.DataType:
    spec = FILES_BY_RECORD.get(record_type)
    if spec is not None:
        for element in spec.elements:
            if element.attribute == attribute:
                return dt.Decimal(element.length, element.scale)
    return _DEFAULT_DECIMAL


def column_type(record_type: type, attribute: str) -> dt.DataType:
    """The ibis type of one canonical column (every column is nullable)."""
    hint = typing.get_type_hints(record_type)[attribute]
    if isinstance(hint, UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is str:
        return dt.string
    if hint is int:
        return dt.int64
    if hint is bool:
        return dt.boolean
    if hint is date:
        return dt.date
    if hint is Decimal:
        return _decimal_type(record_type, attribute)
    raise TypeError(f"{record_type.__name__}.{attribute}: no canonical type for {hint}")


def columns(name: str) -> tuple[str, ...]:
    """The column names of canonical table ``name``, in record field order."""
    return tuple(f.name for f in dataclasses.fields(TABLES[name]))


def schema(name: str) -> Schema:
    """The ibis schema of canonical table ``name``."""
    record_type = TABLES[name]
    return ibis.schema({c: column_type(record_type, c) for c in columns(name)})


def check_table(name: str) -> None:
    """KeyError naming the known tables when ``name`` is not one of them."""
    if name not in TABLES:
        raise KeyError(f"unknown canonical table {name!r} (known: {', '.join(TABLES)})")
