"""The aggregate reports: what each counts, expressed as ibis "unit" tables over the student-years.

A unit is one student in one group of a report (a student-year; a tested student-subject for
assessments). Every unit carries the report dimensions (school, grade and the student-group
variables) and, for rate reports, ``met`` (the outcome) plus any pooled sums. The source groups the
units into inner cells; only those counts travel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import ibis.expr.types as ir

from steward.formats.cedars.codes import GRADE_ORDER
from steward.products.student_year import (
    MIN_MEASURED_DAYS,
    PROFICIENT_LEVEL,
    SUBJECTS,
    Scope,
    student_years,
)
from steward.sources.base import Source

#: Student-group variables: dimension -> (group type as published, label when true, label when false).
FLAG_GROUPS: dict[str, tuple[str, str, str]] = {
    "low_income": ("Low Income", "Low Income", "Non Low Income"),
    "english_learner": ("English Learner", "English Language Learners", "Non-English Language Learners"),
    "special_education": ("Special Education", "Students with Disabilities", "Students without Disabilities"),
    "section_504": ("Section 504", "Section 504", "Non Section 504"),
}
GROUP_TYPES: dict[str, str] = {
    "race_ethnicity": "Race/Ethnicity",
    "sex": "Gender",
    **{flag: spec[0] for flag, spec in FLAG_GROUPS.items()},
}
GROUP_DIMS: tuple[str, ...] = tuple(GROUP_TYPES)
DIMS: tuple[str, ...] = ("school", "grade", *GROUP_DIMS)
#: Tables released together. ``card`` (the state report card's layout): school x grade for all
#: students and school x one student-group variable for all grades (district rows are the
#: margins). ``full``: school x grade x one student-group variable each.
LAYOUTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "card": (("school", "grade"), *(("school", g) for g in GROUP_DIMS)),
    "full": tuple(("school", "grade", g) for g in GROUP_DIMS),
}
TABLES = LAYOUTS["card"]
GRADE_RANK: dict[str, int] = {g: i for i, g in enumerate(GRADE_ORDER)}


@dataclass(frozen=True, slots=True)
class Measure:
    """One published statistic of a report."""

    name: str
    title: str
    #: "share": group count as a share of the school-grade's students; "rate": met of N;
    #: "pooled": a non-count rate computed from pooled sums (published only with its N).
    kind: str
    #: For pooled rates: 1 - numerator / denominator of these summed unit columns.
    pooled: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """One suppression problem of a report: a measure family over one population."""

    key: str  # part of the report released on its own (e.g. a subject)
    units: ir.Table
    rate: Measure | None
    measures: tuple[Measure, ...]
    sums: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportSpec:
    name: str
    title: str
    describe: str
    releases: Callable[[Source, Scope], list[Release]] = field(repr=False)


def _dims(table: ir.Table, school: ir.StringValue, grade: ir.StringValue) -> Mapping[str, ir.Value]:
    out: dict[str, ir.Value] = {
        "school_year": table.school_year,
        "school": school,
        "grade": grade,
        "race_ethnicity": table.race_ethnicity,
        "sex": table.sex_group,
    }
    for flag, (_, yes, no) in FLAG_GROUPS.items():
        out[flag] = table[flag].ifelse(yes, no)
    return out


def _years(source: Source, scope: Scope, *parts: str) -> ir.Table:
    table = student_years(source, scope, ("school", "programs", "race", *parts))
    return table.filter(table.school_code.notnull())


def enrollment(source: Source, scope: Scope) -> list[Release]:
    t = _years(source, scope)
    units = t.select(**_dims(t, t.school_code, t.grade_level))
    return [
        Release(
            "enrollment",
            units,
            None,
            (Measure("enrollment", "Students enrolled (share of the school-grade's students)", "share"),),
        )
    ]


def attendance(source: Source, scope: Scope) -> list[Release]:
    t = _years(source, scope, "attendance")
    t = t.filter(t.days_enrolled >= MIN_MEASURED_DAYS)
    units = t.select(
        **_dims(t, t.school_code, t.grade_level),
        met=t.chronically_absent.ifelse(1, 0),
        days_absent=t.days_absent,
        days_enrolled=t.days_enrolled.cast("float64"),
    )
    chronic = Measure("chronic_absence", "Chronically absent (10% or more of enrolled days)", "rate")
    rate = Measure(
        "attendance_rate",
        "Attendance rate (days attended of days enrolled, pooled)",
        "pooled",
        ("days_absent", "days_enrolled"),
    )
    return [Release("attendance", units, chronic, (rate, chronic), ("days_absent", "days_enrolled"))]


def discipline(source: Source, scope: Scope) -> list[Release]:
    t = _years(source, scope, "discipline")
    units = t.select(**_dims(t, t.school_code, t.grade_level), met=(t.discipline_actions > 0).ifelse(1, 0))
    excluded = Measure("exclusionary_discipline", "Students with an exclusionary discipline action", "rate")
    return [Release("discipline", units, excluded, (excluded,))]


def assessment(source: Source, scope: Scope) -> list[Release]:
    groups = _years(source, scope)
    results = scope.filter(source.table("assessments"))
    locations = scope.filter(source.table("locations"))
    results = results.left_join(locations, ["school_year", "district_code", "location_id"])
    releases: list[Release] = []
    for subject in SUBJECTS:
        mine = results.filter(results.subject == subject)
        best = mine.group_by(["school_year", "district_code", "student_id"]).aggregate(
            level=mine.performance_level.max(),
            grade_tested=mine.grade_tested.max(),
            school_tested=mine.school_code.fill_null(mine.location_id).max(),
        )
        joined = best.inner_join(groups, ["school_year", "district_code", "student_id"])
        units = joined.select(
            **_dims(joined, joined.school_tested, joined.grade_tested),
            met=(joined.level >= PROFICIENT_LEVEL).ifelse(1, 0),
        )
        measure = Measure(
            f"proficiency_{subject.lower()}",
            f"{subject}: met standard (level 3 or 4) of students tested",
            "rate",
        )
        releases.append(Release(subject.lower(), units, measure, (measure,)))
    return releases


REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec(
            "enrollment", "Enrollment", "students enrolled during the year, at their last school", enrollment
        ),
        ReportSpec(
            "attendance",
            "Attendance and chronic absence",
            f"students enrolled at least {MIN_MEASURED_DAYS} days",
            attendance,
        ),
        ReportSpec("discipline", "Exclusionary discipline", "students enrolled during the year", discipline),
        ReportSpec("assessment", "Assessment proficiency", "students tested, per subject", assessment),
    )
}


def report_spec(name: str) -> ReportSpec:
    try:
        return REPORTS[name]
    except KeyError:
        raise KeyError(f"unknown report {name!r} (known: {', '.join(REPORTS)})") from None


def inner_cells(units: ir.Table, rate: bool, sums: tuple[str, ...]) -> ir.Table:
    """The units grouped into inner cells: counts (and met, sums) per year and dimension values."""
    aggregates: dict[str, ir.Value] = {"n": units.count()}
    if rate:
        aggregates["met"] = units.met.sum().cast("int64")
    for name in sums:
        aggregates[f"{name}_met"] = (
            (units.met == 1).ifelse(units[name], 0.0).sum() if rate else units[name].sum()
        )
        if rate:
            aggregates[f"{name}_other"] = (units.met == 0).ifelse(units[name], 0.0).sum()
    return units.group_by(["school_year", *DIMS]).aggregate(**aggregates)


def school_names(source: Source, scope: Scope) -> ir.Table:
    loc = scope.filter(source.table("locations"))
    return loc.group_by(["school_year", "school_code"]).aggregate(school_name=loc.school_name.max())


__all__ = ["DIMS", "GROUP_TYPES", "LAYOUTS", "REPORTS", "TABLES", "Measure", "Release", "ReportSpec"]
