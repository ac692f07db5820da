"""Report rows from canonical records (pure): one function per report, fed one student at a time.

``Bundle`` holds one student's records by type; ``Reference`` the drop's reference rows (schools
and their calendars, courses, teachers of record). Values are ready for CSV and XLSX: text, numbers,
dates, and ``Y``/``N`` for flags.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from steward.domain import records as r
from steward.formats.cedars import codes
from steward.products.portal import catalog as c

Row = tuple[Any, ...]

#: Absent 10% or more of enrolled days is chronic absence, measured from 20 days enrolled.
CHRONIC_SHARE = 0.1
MIN_MEASURED_DAYS = 20
#: Exclusionary actions from most to least severe.
ACTION_SEVERITY: tuple[str, ...] = ("EX", "EE", "LS", "SS", "IS")
HISPANIC = "Hispanic/Latino of any race(s)"
TWO_OR_MORE = "Two or More Races"
NOT_PROVIDED = "Not Provided"


def flag(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


@dataclass
class Reference:
    """The drop's reference rows, keyed for lookups."""

    schools: dict[tuple[int, str], r.Location] = field(default_factory=dict)
    courses: dict[tuple[int, str, str], r.Course] = field(default_factory=dict)
    teachers: dict[tuple[int, str, str, str, str], str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        locations: Iterable[r.Location],
        courses: Iterable[r.Course] = (),
        staff: Iterable[r.Staff] = (),
        staff_schedules: Iterable[r.StaffSchedule] = (),
    ) -> Reference:
        names = {(s.school_year, s.staff_id): f"{s.first_name} {s.last_name}".strip() for s in staff}
        teachers: dict[tuple[int, str, str, str, str], str] = {}
        for g in staff_schedules:
            key = (g.school_year, g.location_id, g.course_id, g.section_id, g.term)
            if g.role == "teacher_of_record" or key not in teachers:
                teachers[key] = names.get((g.school_year, g.staff_id), g.staff_id)
        return cls(
            schools={(x.school_year, x.location_id): x for x in locations},
            courses={(x.school_year, x.location_id, x.course_id): x for x in courses},
            teachers=teachers,
        )

    def school_name(self, year: int, location: str) -> str:
        found = self.schools.get((year, location))
        if found is None:  # a school missing from one year's location file: any year's name
            found = next((v for (_, loc), v in self.schools.items() if loc == location), None)
        return found.school_name if found is not None else ""

    def calendar(self, year: int, location: str) -> tuple[date | None, date | None]:
        found = self.schools.get((year, location))
        return (found.first_day, found.last_day) if found is not None else (None, None)


@dataclass
class Bundle:
    """One student's records, by type, in file order."""

    district_code: str
    student_id: str
    by_type: dict[type, list[Any]] = field(default_factory=lambda: defaultdict(list))

    def of(self, kind: type) -> list[Any]:
        return self.by_type.get(kind, [])

    @property
    def key(self) -> tuple[str, str]:
        return (self.district_code, self.student_id)

    def latest_district_row(self) -> r.DistrictStudent | None:
        rows: list[r.DistrictStudent] = self.of(r.DistrictStudent)
        return max(rows, key=lambda x: (x.school_year, x.entry_date), default=None)

    def current_school(self) -> r.SchoolStudent | None:
        """The latest primary school spell (any spell when none is primary)."""
        rows: list[r.SchoolStudent] = self.of(r.SchoolStudent)
        primary = [x for x in rows if x.primary_school] or rows
        return max(primary, key=lambda x: (x.school_year, x.entry_date), default=None)


def bundles(district_code: str, records: Iterable[Any]) -> dict[str, Bundle]:
    """Records grouped per district student ID (guardian and reference rows are left out)."""
    out: dict[str, Bundle] = {}
    for record in records:
        sid = getattr(record, "student_id", None)
        if sid is None or isinstance(record, r.Guardian):
            continue
        bundle = out.get(sid)
        if bundle is None:
            bundle = out[sid] = Bundle(district_code, sid)
        bundle.by_type[type(record)].append(record)
    return out


@dataclass(frozen=True, slots=True)
class Context:
    """What a report needs besides the student: the reference rows, the day the package describes."""

    reference: Reference
    today: date
    #: The last day the data describes (the drop's file date, never after ``today``).
    as_of: date


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# -- the reports ------------------------------------------------------------------------------------


def roster(b: Bundle, ctx: Context) -> Iterator[Row]:
    d = b.latest_district_row()
    s = b.current_school()
    if d is None and s is None:
        return
    school = s.location_id if s is not None else ""
    year = s.school_year if s is not None else (d.school_year if d is not None else 0)
    yield (
        b.district_code,
        b.student_id,
        d.last_name if d else "",
        d.first_name if d else "",
        d.middle_name if d else "",
        d.grade_level if d else "",
        school,
        ctx.reference.school_name(year, school) if school else "",
        s.entry_date if s else (d.entry_date if d else None),
        s.exit_date if s else (d.exit_date if d else None),
        _age(d.birth_date, ctx.today) if d else None,
    )


def race_group(hispanic: bool, races: Iterable[str]) -> str:
    distinct = sorted(set(races))
    if hispanic:
        return HISPANIC
    if len(distinct) > 1:
        return TWO_OR_MORE
    if distinct:
        return codes.RACE_NAMES.get(distinct[0], distinct[0])
    return NOT_PROVIDED


def demographics(b: Bundle, ctx: Context) -> Iterator[Row]:
    d = b.latest_district_row()
    if d is None:
        return
    race_rows: list[r.StudentRace] = b.of(r.StudentRace)
    latest = max((x.school_year for x in race_rows), default=None)
    races = sorted({x.race_code for x in race_rows if x.school_year == latest})
    hispanic = d.ethnicity_code == "1"
    yield (
        b.district_code,
        b.student_id,
        d.state_id or "",
        d.birth_date,
        d.sex,
        race_group(hispanic, races),
        ";".join(races),
        flag(hispanic) if d.ethnicity_code else "",
        d.primary_language,
        d.home_language,
        d.birth_country,
        d.zip_code,
        flag(d.homeless),
        flag(d.foster_care),
    )


def _district_rows_by_year(b: Bundle) -> dict[int, r.DistrictStudent]:
    out: dict[int, r.DistrictStudent] = {}
    for d in sorted(b.of(r.DistrictStudent), key=lambda x: x.entry_date):
        out[d.school_year] = d
    return out


def enrollment(b: Bundle, ctx: Context) -> Iterator[Row]:
    years = _district_rows_by_year(b)
    for s in sorted(b.of(r.SchoolStudent), key=lambda x: (x.school_year, x.entry_date)):
        d = years.get(s.school_year)
        yield (
            b.district_code,
            b.student_id,
            s.school_year,
            s.location_id,
            ctx.reference.school_name(s.school_year, s.location_id),
            d.grade_level if d else "",
            s.entry_date,
            s.exit_date,
            s.withdrawal_code,
            flag(s.primary_school),
            d.resident_district_code if d else "",
        )


def daily_attendance(b: Bundle, ctx: Context) -> Iterator[Row]:
    for a in sorted(b.of(r.Absence), key=lambda x: x.absence_date):
        yield (
            b.district_code,
            b.student_id,
            a.school_year,
            a.location_id,
            a.absence_date,
            "excused" if a.excused else "unexcused",
            a.amount,
        )


def _weekdays(first: date, last: date) -> int:
    """Weekdays in ``[first, last]`` (holidays are not subtracted)."""
    if last < first:
        return 0
    return int(np.busday_count(first, last + timedelta(days=1)))


def enrolled_days(b: Bundle, ctx: Context, year: int, months: bool = False) -> dict[int, int]:
    """Days enrolled in ``year`` (primary school spells inside the school's calendar, up to
    ``as_of``); by calendar month (``YYYYMM``) when ``months``, else under key 0."""
    out: dict[int, int] = defaultdict(int)
    spells = [s for s in b.of(r.SchoolStudent) if s.school_year == year]
    primary = [s for s in spells if s.primary_school] or spells
    for s in primary:
        first_day, last_day = ctx.reference.calendar(year, s.location_id)
        start = max(s.entry_date, first_day) if first_day else s.entry_date
        end = s.exit_date or last_day or ctx.as_of
        if last_day is not None:
            end = min(end, last_day)
        end = min(end, ctx.as_of)
        if end < start:
            continue
        if not months:
            out[0] += _weekdays(start, end)
            continue
        cursor = start
        while cursor <= end:
            month_end = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            stop = min(month_end, end)
            out[cursor.year * 100 + cursor.month] += _weekdays(cursor, stop)
            cursor = stop + timedelta(days=1)
    return dict(out)


@dataclass(frozen=True, slots=True)
class YearAttendance:
    school_year: int
    days_enrolled: int
    excused: Decimal
    unexcused: Decimal

    @property
    def absent(self) -> Decimal:
        return self.excused + self.unexcused

    @property
    def rate(self) -> float | None:
        if self.days_enrolled <= 0:
            return None
        return round(max(0.0, 1 - float(self.absent) / self.days_enrolled), 4)

    @property
    def chronic(self) -> bool | None:
        if self.days_enrolled < MIN_MEASURED_DAYS:
            return None
        return float(self.absent) >= CHRONIC_SHARE * self.days_enrolled


def attendance_years(b: Bundle, ctx: Context) -> list[YearAttendance]:
    absences: list[r.Absence] = b.of(r.Absence)
    years = sorted({s.school_year for s in b.of(r.SchoolStudent)} | {a.school_year for a in absences})
    out = []
    for year in years:
        excused = sum((a.amount for a in absences if a.school_year == year and a.excused), Decimal(0))
        unexcused = sum((a.amount for a in absences if a.school_year == year and not a.excused), Decimal(0))
        days = enrolled_days(b, ctx, year).get(0, 0)
        out.append(YearAttendance(year, days, excused, unexcused))
    return out


def attendance_summary(b: Bundle, ctx: Context) -> Iterator[Row]:
    for y in attendance_years(b, ctx):
        yield (
            b.district_code,
            b.student_id,
            y.school_year,
            y.days_enrolled,
            y.absent,
            y.excused,
            y.unexcused,
            y.rate,
            flag(y.chronic),
        )


def discipline_incidents(b: Bundle, ctx: Context) -> Iterator[Row]:
    for x in sorted(b.of(r.DisciplineAction), key=lambda x: (x.incident_date, x.action_date)):
        yield (
            b.district_code,
            b.student_id,
            x.school_year,
            x.location_id,
            x.incident_id,
            x.incident_date,
            x.behavior_code,
            x.action_code,
            codes.DISCIPLINE_ACTION_NAMES.get(x.action_code, x.action_code),
            x.action_date,
            x.action_days,
            x.weapon_code,
        )


def most_severe(actions: Iterable[str]) -> str:
    found = set(actions)
    for code in ACTION_SEVERITY:
        if code in found:
            return codes.DISCIPLINE_ACTION_NAMES.get(code, code)
    return next(iter(sorted(found)), "")


def discipline_summary(b: Bundle, ctx: Context) -> Iterator[Row]:
    actions: list[r.DisciplineAction] = b.of(r.DisciplineAction)
    for year in sorted({x.school_year for x in actions}):
        mine = [x for x in actions if x.school_year == year]
        yield (
            b.district_code,
            b.student_id,
            year,
            len({x.incident_id for x in mine}),
            len(mine),
            sum((x.action_days for x in mine), Decimal(0)),
            most_severe(x.action_code for x in mine),
        )


def is_state_test(name: str) -> bool:
    return name.strip().upper() in c.STATE_TESTS


def _assessments(b: Bundle, state: bool) -> Iterator[Row]:
    rows: list[r.AssessmentResult] = b.of(r.AssessmentResult)
    for x in sorted(rows, key=lambda x: (x.test_date, x.subject)):
        if is_state_test(x.assessment) != state:
            continue
        yield (
            b.district_code,
            b.student_id,
            x.school_year,
            x.location_id,
            x.assessment,
            x.subject,
            x.grade_tested,
            x.test_date,
            x.scale_score,
            x.performance_level,
            flag(x.performance_level >= 3),
        )


def state_assessments(b: Bundle, ctx: Context) -> Iterator[Row]:
    return _assessments(b, True)


def interim_assessments(b: Bundle, ctx: Context) -> Iterator[Row]:
    return _assessments(b, False)


def schedule(b: Bundle, ctx: Context) -> Iterator[Row]:
    ref = ctx.reference
    for x in sorted(b.of(r.ScheduleEntry), key=lambda x: (x.school_year, x.term, x.course_id, x.entry_date)):
        course = ref.courses.get((x.school_year, x.location_id, x.course_id))
        yield (
            b.district_code,
            b.student_id,
            x.school_year,
            x.location_id,
            x.course_id,
            course.title if course is not None else "",
            x.section_id,
            x.term,
            ref.teachers.get((x.school_year, x.location_id, x.course_id, x.section_id, x.term), ""),
            x.entry_date,
            x.exit_date,
        )


def marks(b: Bundle, ctx: Context) -> Iterator[Row]:
    for x in sorted(b.of(r.GradeHistory), key=lambda x: (x.school_year, x.term, x.course_id)):
        yield (
            b.district_code,
            b.student_id,
            x.school_year,
            x.location_id,
            x.course_id,
            x.course_title,
            x.term,
            x.grade_level,
            x.letter_grade,
            x.credits_attempted,
            x.credits_earned,
        )


def programs(b: Bundle, ctx: Context) -> Iterator[Row]:
    years = _district_rows_by_year(b)
    for x in sorted(
        b.of(r.ProgramParticipation), key=lambda x: (x.school_year, x.start_date, x.program_code)
    ):
        disability = ""
        if x.program_code == codes.PROGRAM_SPECIAL_EDUCATION:
            d = years.get(x.school_year)
            if d is not None and d.disability_code not in ("", "0"):
                disability = codes.DISABILITY_NAMES.get(d.disability_code, d.disability_code)
        yield (
            b.district_code,
            b.student_id,
            x.school_year,
            x.location_id,
            x.program_code,
            codes.PROGRAM_NAMES.get(x.program_code, x.program_code),
            x.start_date,
            x.exit_date,
            x.exit_reason,
            x.qualification_code,
            disability,
        )


BUILDERS: dict[str, Callable[[Bundle, Context], Iterable[Row]]] = {
    c.ROSTER.key: roster,
    c.DEMOGRAPHICS.key: demographics,
    c.ENROLLMENT.key: enrollment,
    c.DAILY_ATTENDANCE.key: daily_attendance,
    c.ATTENDANCE_SUMMARY.key: attendance_summary,
    c.DISCIPLINE_INCIDENTS.key: discipline_incidents,
    c.DISCIPLINE_SUMMARY.key: discipline_summary,
    c.STATE_ASSESSMENTS.key: state_assessments,
    c.INTERIM_ASSESSMENTS.key: interim_assessments,
    c.SCHEDULE.key: schedule,
    c.MARKS.key: marks,
    c.PROGRAMS.key: programs,
}
