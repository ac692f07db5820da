"""Student-year facts computed at the source: one row per student, district and school year.

Everything here is an ibis expression over the canonical tables, so DuckDB or PostgreSQL does the
work; aggregate reports and de-identified extracts both start from it. Parts are optional so that a
report only joins what it needs:

* ``school``: the school of the year (latest primary school spell) and days enrolled (weekdays of
  every school spell of the year inside the school's calendar and not after ``as_of``; holidays and
  closures are not subtracted, so rates are slightly optimistic);
* ``attendance``: days absent (excused, unexcused), attendance rate, chronic absence (absent 10% or
  more of days enrolled, measured for students enrolled at least 20 days);
* ``programs``: low income, English learner, special education, Section 504 in the year;
* ``race``: OSPI race/ethnicity (Hispanic of any race, one race, two or more, not provided);
* ``discipline``: exclusionary actions, days excluded, most severe action;
* ``assessment``: per subject (ELA, MATH, SCI) the best performance level and scale score.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from steward.formats.cedars import codes
from steward.sources.base import OPEN_END, Source, first_row_per

KEYS = ["school_year", "district_code", "student_id"]
PARTS = frozenset({"school", "attendance", "programs", "race", "discipline", "assessment"})

#: OSPI report card race/ethnicity labels.
HISPANIC = "Hispanic/Latino of any race(s)"
TWO_OR_MORE = "Two or More Races"
NOT_PROVIDED = "Not Provided"
RACE_GROUPS: dict[str, str] = {
    "AI": "American Indian/Alaskan Native",
    "AS": "Asian",
    "BL": "Black/African American",
    "NH": "Native Hawaiian/Other Pacific Islander",
    "WH": "White",
}
RACE_ORDER: tuple[str, ...] = (*sorted(RACE_GROUPS.values()), HISPANIC, TWO_OR_MORE, NOT_PROVIDED)
SEX_GROUPS: dict[str, str] = {"F": "Female", "M": "Male", "X": "Gender X"}

#: Program codes of the flags (I06).
PROGRAM_FLAGS: dict[str, str] = {
    "low_income": codes.PROGRAM_LOW_INCOME,
    "english_learner": codes.PROGRAM_ENGLISH_LEARNER,
    "special_education": codes.PROGRAM_SPECIAL_EDUCATION,
    "section_504": codes.PROGRAM_SECTION_504,
}
SUBJECTS: tuple[str, ...] = ("ELA", "MATH", "SCI")
#: Performance levels 3 and 4 meet standard.
PROFICIENT_LEVEL = 3
MIN_MEASURED_DAYS = 20
CHRONIC_SHARE = 0.1
#: Exclusionary actions from most to least severe.
ACTION_SEVERITY: tuple[str, ...] = ("EX", "EE", "LS", "SS", "IS")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which student-years: school years (ending years), optionally some districts only."""

    years: tuple[int, ...]
    districts: tuple[str, ...] | None = None
    as_of: date | None = None

    def __post_init__(self) -> None:
        if not self.years:
            raise ValueError("at least one school year is needed")

    def filter(self, table: ir.Table) -> ir.Table:
        """Rows of ``table`` (with school_year and district_code) inside the scope."""
        out = table.filter(table.school_year.isin(list(self.years)))
        if self.districts is not None:
            out = out.filter(out.district_code.isin(list(self.districts)))
        return out

    def cutoff(self, source: Source) -> date:
        return self.as_of or source.as_of or date.today()


def _attach(left: ir.Table, right: ir.Table) -> ir.Table:
    """Left join on the student-year keys, keeping the left keys only."""
    joined = left.left_join(right, KEYS)
    return joined.drop(*(f"{k}_right" for k in KEYS if f"{k}_right" in joined.columns))


def weekdays(start: ir.DateValue, end: ir.DateValue) -> ir.IntegerValue:
    """Monday-to-Friday days in ``[start, end]`` (0 when ``end`` is before ``start``), portable SQL."""
    n = end.delta(start, unit="day") + 1
    first = start.day_of_week.index()  # Monday = 0
    rem = n % 7
    extra = ibis.greatest(0, ibis.least(first + rem, 5) - first) + ibis.greatest(
        0, ibis.least(first + rem - 7, 5)
    )
    return (n > 0).ifelse((n // 7) * 5 + extra, 0)


def school_part(source: Source, scope: Scope) -> ir.Table:
    """Per student-year: the school (latest primary spell), its code and name, days enrolled."""
    spells = scope.filter(source.table("school_students"))
    locations = scope.filter(source.table("locations"))
    cal = spells.left_join(locations, ["school_year", "district_code", "location_id"])
    cutoff = ibis.literal(scope.cutoff(source))
    last = cal.last_day.fill_null(cutoff)
    start = ibis.greatest(cal.entry_date, cal.first_day.fill_null(cal.entry_date))
    end = ibis.least(cal.exit_date.fill_null(last), last, cutoff)
    days = (
        cal.mutate(days=weekdays(start, end))
        .group_by(KEYS)
        .aggregate(days_enrolled=lambda t: t.days.sum().cast("int64"))
    )
    latest = first_row_per(
        cal,
        KEYS,
        [
            cal.primary_school.fill_null(False).ifelse(0, 1),
            cal.entry_date.desc(),
            cal.exit_date.fill_null(OPEN_END).desc(),
        ],
    ).select(
        *KEYS,
        "location_id",
        school_code=cal.school_code.fill_null(cal.location_id),
        school_name=cal.school_name.fill_null(""),
        withdrawal_code=cal.withdrawal_code,
        school_entry_date=cal.entry_date,
        school_exit_date=cal.exit_date,
    )
    return _attach(latest, days)


def attendance_part(source: Source, scope: Scope) -> ir.Table:
    absences = scope.filter(source.table("absences"))
    absences = absences.filter(absences.absence_date <= scope.cutoff(source))
    return absences.group_by(KEYS).aggregate(
        days_absent=absences.amount.sum(),
        days_absent_excused=absences.excused.ifelse(absences.amount, 0).sum(),
    )


def programs_part(source: Source, scope: Scope) -> ir.Table:
    programs = scope.filter(source.table("programs"))
    return programs.group_by(KEYS).aggregate(
        **{flag: (programs.program_code == code).ifelse(1, 0).max() for flag, code in PROGRAM_FLAGS.items()}
    )


def race_part(source: Source, scope: Scope) -> ir.Table:
    races = scope.filter(source.table("races"))
    return races.group_by(KEYS).aggregate(
        race_count=races.race_code.nunique(), race_first=races.race_code.min()
    )


def discipline_part(source: Source, scope: Scope) -> ir.Table:
    actions = scope.filter(source.table("discipline"))
    rank = actions.action_code.substitute(
        {code: i for i, code in enumerate(ACTION_SEVERITY)}, else_=len(ACTION_SEVERITY)
    )
    return actions.group_by(KEYS).aggregate(
        discipline_actions=actions.count(),
        discipline_days=actions.action_days.sum(),
        discipline_rank=rank.min(),
    )


def assessment_part(source: Source, scope: Scope) -> ir.Table:
    results = scope.filter(source.table("assessments"))
    aggregates: dict[str, ir.Value] = {}
    for subject in SUBJECTS:
        mine = results.subject == subject
        key = subject.lower()
        aggregates[f"{key}_level"] = mine.ifelse(results.performance_level, ibis.null("int64")).max()
        aggregates[f"{key}_score"] = mine.ifelse(results.scale_score, ibis.null("int64")).max()
    return results.group_by(KEYS).aggregate(**aggregates)


def race_ethnicity(ethnicity_code: ir.StringValue, count: ir.IntegerValue, first: ir.StringValue) -> ir.Value:
    """OSPI race/ethnicity from the ethnicity code and the student's race rows."""
    single = first.substitute(RACE_GROUPS, else_=NOT_PROVIDED)
    return ibis.cases(
        (ethnicity_code == "1", HISPANIC),
        (count.fill_null(0) > 1, TWO_OR_MORE),
        (count.fill_null(0) == 1, single),
        else_=NOT_PROVIDED,
    )


def student_years(source: Source, scope: Scope, parts: Iterable[str] = PARTS) -> ir.Table:
    """The student-year table with the demographics of the latest district spell and ``parts``."""
    wanted = frozenset(parts)
    unknown = wanted - PARTS
    if unknown:
        raise ValueError(f"unknown student-year parts {sorted(unknown)} (known: {sorted(PARTS)})")
    base = scope.filter(source.student_years())
    out = base.mutate(
        birth_year=base.birth_date.year(),
        sex_group=base.sex.substitute(SEX_GROUPS, else_=base.sex),
    )
    if wanted & {"school", "attendance"}:
        out = _attach(out, school_part(source, scope))
    if "attendance" in wanted:
        out = _attach(out, attendance_part(source, scope))
        enrolled = out.days_enrolled.fill_null(0)
        absent = out.days_absent.fill_null(0).cast("float64")
        measured = enrolled >= MIN_MEASURED_DAYS
        out = out.mutate(
            days_absent=absent,
            days_absent_excused=out.days_absent_excused.fill_null(0).cast("float64"),
            attendance_rate=(enrolled > 0).ifelse(
                1.0 - absent / enrolled.cast("float64"), ibis.null("float64")
            ),
            chronically_absent=measured.ifelse(
                absent >= enrolled.cast("float64") * CHRONIC_SHARE, ibis.null("boolean")
            ),
        )
    if "programs" in wanted:
        out = _attach(out, programs_part(source, scope))
        out = out.mutate(**{flag: out[flag].fill_null(0) == 1 for flag in PROGRAM_FLAGS})
    if "race" in wanted:
        out = _attach(out, race_part(source, scope))
        out = out.mutate(race_ethnicity=race_ethnicity(out.ethnicity_code, out.race_count, out.race_first))
        out = out.drop("race_count", "race_first")
    if "discipline" in wanted:
        out = _attach(out, discipline_part(source, scope))
        out = out.mutate(
            discipline_actions=out.discipline_actions.fill_null(0),
            discipline_days=out.discipline_days.fill_null(0).cast("float64"),
            discipline_action=out.discipline_rank.substitute(
                dict(enumerate(ACTION_SEVERITY)), else_=ibis.literal("", "string")
            ).fill_null(""),
        ).drop("discipline_rank")
    if "assessment" in wanted:
        out = _attach(out, assessment_part(source, scope))
    return out


def restrict(table: ir.Table, columns: Collection[str]) -> ir.Table:
    """Only ``columns`` (a product never carries more than it needs)."""
    return table.select(*[c for c in table.columns if c in columns])
