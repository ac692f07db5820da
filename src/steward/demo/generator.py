"""Synthetic region generator: one CEDARS drop per district, streamed student by student.

Everything is random but plausible and deterministic for a seed: district sizes, schools (elementary
PK-5, middle 6-8, high 9-12), courses, sections and their teachers, principals and counselors, and
per student a multi-year history (enrollment spells, programs, race, daily absences, rare
discipline, state test scores, high-school grades, guardians). More than a fifth of students move
between districts (when there are two or more): they appear in both drops with the same SSID and a
different district student ID. Names are random combinations of common names; no real record is
used. Memory stays flat: each student's rows go straight to the open ``DropWriter`` of each
district.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue as queue_module
import random
import re
import shutil
import tempfile
import traceback
from bisect import bisect_right
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from steward.demo import names
from steward.demo.catalog import (
    CUTS,
    ELEMENTARY_COURSES,
    ELEMENTARY_GRADES,
    HIGH_COURSES,
    HIGH_GRADES,
    LETTER_POINTS,
    MIDDLE_COURSES,
    MIDDLE_GRADES,
    SCHOOL_DAYS,
    TESTED_GRADES,
    CourseDef,
    performance_level,
    school_days,
)
from steward.domain import records as r
from steward.domain.time import SchoolYear
from steward.formats.cedars import codes
from steward.formats.cedars.layouts import FILES, build_file_name
from steward.formats.cedars.writer import DEFAULT_DELIMITER, DropWriter, FileWriter, check_delimiter

T = TypeVar("T")
D = SCHOOL_DAYS

# Shares the generator aims for (per student unless noted).
P_MOVE = 0.245  # moves to another district of the region during the window
P_SECOND_MOVE = 0.06
P_BETWEEN_YEARS = 0.7  # a move happens over the summer rather than mid-year
P_ARRIVE = 0.05  # arrives from outside the region after the window starts
P_LEAVE = 0.05  # leaves the region before the window ends
P_DROPOUT = 0.012  # per high-school year
P_PK = 0.3  # of a cohort enrolls in public pre-kindergarten
P_SPECIAL_ED = 0.14
P_504 = 0.035  # of students without an IEP
P_RESTRICTED = 0.015  # of students with two guardians: one guardian is legally restricted
CLASS_SIZE = 24
SECTION_SIZE = 28
SECTIONS_PER_TEACHER = 5
STAFF_TURNOVER = 0.1

#: Washington-like race/ethnicity mix (OSPI report card categories) and the race codes each reports.
RACE_MIX: tuple[tuple[str, float], ...] = (
    ("hispanic", 0.259),
    ("white", 0.484),
    ("asian", 0.084),
    ("black", 0.048),
    ("two_or_more", 0.094),
    ("pacific", 0.014),
    ("native", 0.012),
)
_RACE_ROWS: dict[str, tuple[tuple[tuple[str, ...], float], ...]] = {
    "hispanic": (
        (("WH",), 0.6),
        (("AI",), 0.1),
        (("WH", "AI"), 0.1),
        (("BL",), 0.05),
        (("WH", "BL"), 0.1),
        (("AS",), 0.05),
    ),
    "white": ((("WH",), 1.0),),
    "asian": ((("AS",), 1.0),),
    "black": ((("BL",), 1.0),),
    "pacific": ((("NH",), 1.0),),
    "native": ((("AI",), 1.0),),
    "two_or_more": (
        (("WH", "BL"), 0.3),
        (("WH", "AS"), 0.3),
        (("WH", "AI"), 0.2),
        (("AS", "NH"), 0.1),
        (("BL", "AI"), 0.1),
    ),
}
_SURNAME_GROUP: dict[str, tuple[tuple[str, float], ...]] = {
    "hispanic": (("hispanic", 0.85), ("general", 0.15)),
    "white": (("general", 1.0),),
    "asian": (("asian", 0.85), ("general", 0.15)),
    "black": (("african", 0.4), ("general", 0.6)),
    "pacific": (("pacific", 0.7), ("general", 0.3)),
    "native": (("native", 0.5), ("general", 0.5)),
    "two_or_more": (("general", 0.6), ("hispanic", 0.15), ("asian", 0.15), ("african", 0.1)),
}
_LOW_INCOME_SHIFT = {
    "hispanic": 0.2,
    "black": 0.15,
    "native": 0.2,
    "pacific": 0.15,
    "white": -0.1,
    "asian": -0.1,
    "two_or_more": 0.0,
}
_EL_RATE = {
    "hispanic": 0.25,
    "asian": 0.2,
    "pacific": 0.15,
    "white": 0.03,
    "black": 0.06,
    "native": 0.02,
    "two_or_more": 0.02,
}


class _Language(NamedTuple):
    name: str
    code: str  # B17/B18 code: a placeholder, not Appendix K
    countries: tuple[str, ...]  # B10 birth countries of immigrants speaking it (ISO alpha-3 stand-ins)


#: Home languages of English learners, by race/ethnicity group, with their weights.
_LANGUAGES: dict[str, tuple[tuple[_Language, float], ...]] = {
    "hispanic": ((_Language("Spanish", "201", ("MEX", "GTM", "HND", "SLV")), 1.0),),
    "asian": (
        (_Language("Vietnamese", "202", ("VNM",)), 0.3),
        (_Language("Chinese", "203", ("CHN",)), 0.25),
        (_Language("Korean", "204", ("KOR",)), 0.1),
        (_Language("Tagalog", "205", ("PHL",)), 0.15),
        (_Language("Hindi", "206", ("IND",)), 0.2),
    ),
    "pacific": (
        (_Language("Marshallese", "212", ("MHL",)), 0.6),
        (_Language("Samoan", "213", ("WSM",)), 0.4),
    ),
    "other": (
        (_Language("Russian", "207", ("RUS",)), 0.25),
        (_Language("Ukrainian", "208", ("UKR",)), 0.3),
        (_Language("Somali", "209", ("SOM",)), 0.2),
        (_Language("Amharic", "210", ("ETH",)), 0.1),
        (_Language("Arabic", "211", ("YEM", "SYR")), 0.15),
    ),
}
ENGLISH = "639"

#: B16 disability categories of students in special education, with their shares.
_DISABILITIES: tuple[tuple[str, float], ...] = (
    ("11", 0.33),
    ("12", 0.18),
    ("10", 0.15),
    ("2", 0.12),
    ("1", 0.07),
    ("7", 0.06),
    ("5", 0.05),
    ("8", 0.02),
    ("6", 0.01),
    ("9", 0.005),
    ("13", 0.003),
    ("14", 0.002),
    ("4", 0.001),
    ("3", 0.0005),
)
_BEHAVIORS: tuple[tuple[str, float], ...] = (
    ("FGT", 0.3),
    ("DEF", 0.25),
    ("HAR", 0.12),
    ("DRG", 0.1),
    ("TOB", 0.08),
    ("THR", 0.08),
    ("WPN", 0.04),
    ("THF", 0.03),
)
_ACTIONS: tuple[tuple[str, float], ...] = (("SS", 0.6), ("IS", 0.2), ("LS", 0.1), ("EE", 0.07), ("EX", 0.03))
_ACTION_DAYS = {"SS": (1, 5), "IS": (1, 3), "LS": (11, 30), "EE": (1, 10), "EX": (30, 90)}

# Withdrawal codes (Appendix M stand-ins, Steward's assumption).
EXIT_COMPLETED = "C1"  # completed the school year, expected to return
EXIT_GRADUATED = "G0"
EXIT_TRANSFER = "T1"  # to another district in the state
EXIT_LEFT_STATE = "T2"
EXIT_DROPOUT = "D0"

_SSID_STRIDE = 2654435761  # coprime with 9e9: idx -> SSID is a bijection
_TWO_PLACES = Decimal("0.01")
_HALF = Decimal("0.50")
_ZERO = Decimal("0.00")
_ONE = Decimal("1.00")
_HALF_DAY = Decimal("0.50")


def _el_grade_factor(first_grade: int) -> float:
    """English learners are more common among younger students."""
    return max(0.3, 1.45 - 0.07 * max(first_grade, 0))


def _district_deviation(d: _District) -> float:
    """The district's own low-income deviation (the group shifts average to zero within it)."""
    shares = dict(zip(d.race.items, _weights(d.race), strict=True))
    return sum(shares[c] * v for c, v in d.low_income.items())


def _weights(picker: _Picker[Any]) -> list[float]:
    return [b - a for a, b in zip([0.0, *picker.cum[:-1]], picker.cum, strict=True)]


def state_id(index: int, seed: int) -> str:
    """A unique 10-digit SSID not starting with 0 for student ``index`` (a bijection for a seed)."""
    return str(1_000_000_000 + (index * _SSID_STRIDE + seed * 7919) % 9_000_000_000)


def grade_code(grade: int) -> str:
    return "PK" if grade == -1 else "K" if grade == 0 else str(grade)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


class _Picker(Generic[T]):
    """Weighted choice by bisecting cumulative weights (faster than random.choices for one item)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [p[0] for p in pairs]
        self.cum = _cumulative([p[1] for p in pairs])
        self.total = self.cum[-1]

    def __call__(self, rand: Callable[[], float]) -> T:
        return self.items[bisect_right(self.cum, rand() * self.total)]


@dataclass(slots=True)
class _Person:
    staff_id: str
    certification: str
    first: str
    middle: str
    last: str
    email: str


@dataclass(slots=True)
class _Section:
    course: CourseDef
    section_id: str
    slot: int


@dataclass(slots=True)
class _School:
    location_id: str
    school_code: str
    name: str
    level: str
    grades: tuple[int, ...]
    expected: int
    courses: tuple[CourseDef, ...]
    sections: dict[str, list[_Section]] = field(default_factory=dict)
    slots: list[str] = field(default_factory=list)  # subject of each teacher slot
    teachers: list[list[_Person]] = field(default_factory=list)  # by year, by slot
    leaders: list[tuple[_Person, _Person]] = field(default_factory=list)  # by year: principal, counselor
    electives: dict[int, list[CourseDef]] = field(default_factory=dict)  # by grade


@dataclass(slots=True)
class _District:
    index: int
    code: str
    name: str
    slug: str
    weight: float
    race: _Picker[str]
    low_income: dict[str, float]  # by race/ethnicity group, averaging 45% over the district
    el_scale: float  # makes the district's expected English-learner share 10%
    zips: tuple[str, ...]
    schools: dict[str, list[_School]] = field(default_factory=dict)
    staff: int = 0
    files: dict[str, FileWriter] = field(default_factory=dict)

    def student_id(self, idx: int) -> str:
        """District student ID of student ``idx``: unique in the district, different in each district."""
        return f"{self.index + 1}{idx + 1:07d}"


@dataclass(frozen=True, slots=True)
class GenerationSummary:
    """What ``generate`` wrote."""

    out: Path
    districts: tuple[str, ...]
    school_years: tuple[int, ...]
    as_of: date
    students: int
    movers: int
    student_years: int
    rows: dict[str, dict[str, int]]  # district code -> file prefix -> rows
    shares: dict[str, float]  # special_education, english_learner, low_income, section_504, ...

    @property
    def movers_share(self) -> float:
        return self.movers / self.students if self.students else 0.0

    @property
    def total_rows(self) -> int:
        return sum(sum(v.values()) for v in self.rows.values())

    def rows_by_file(self) -> dict[str, int]:
        """Rows per file prefix over all districts."""
        out: dict[str, int] = {}
        for per_file in self.rows.values():
            for prefix, n in per_file.items():
                out[prefix] = out.get(prefix, 0) + n
        return out


@dataclass(slots=True)
class _Segment:
    """A stretch of enrollment in one district within one school year (global school-day indexes)."""

    t: int
    district: _District
    start: int
    end: int  # inclusive
    exit_code: str  # "" = still enrolled (open spell)


@dataclass(slots=True)
class _Counts:
    special_ed: int = 0
    english_learner: int = 0
    low_income: int = 0
    section_504: int = 0
    discipline: int = 0
    movers: int = 0
    student_years: int = 0
    chronic_years: int = 0
    measured_years: int = 0


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


class _Region:
    def __init__(
        self, districts: int, students: int, years: int, seed: int, end_year: int, as_of: date
    ) -> None:
        self.rng = random.Random(seed)  # region structure
        self.srng = random.Random()  # re-seeded for every student: any worker can make any student
        self.seed = seed
        self.n_students = students
        self.years = tuple(range(end_year - years + 1, end_year + 1))
        self.calendars = [school_days(y) for y in self.years]
        self.as_of = as_of
        # last global school-day index on or before as_of (-1: none yet)
        last = -1
        for t, days in enumerate(self.calendars):
            k = bisect_right(days, as_of)
            if k:
                last = t * D + k - 1
        self.g_asof = last
        # Grade in the first year: cohorts a little smaller in the upper grades.
        self.first_grade = _Picker([(g, 1.0 - 0.012 * max(0, g - 5)) for g in range(-(years - 1), 13)])
        self.districts = self._plan_districts(districts)
        self.district_picker = _Picker([(d, d.weight) for d in self.districts])
        self.counts = _Counts()
        self._plan_schools()

    # -- region structure ----------------------------------------------------------------------

    def _plan_districts(self, n: int) -> list[_District]:
        rng = self.rng
        weights = [rng.lognormvariate(0.0, 0.5) for _ in range(n)]
        total = sum(weights)
        out: list[_District] = []
        used: set[str] = set()
        base = [w for _, w in RACE_MIX]
        for i in range(n):
            while True:
                word = rng.choice(names.PLACE_WORDS)
                name = f"{word} {rng.choice(names.DISTRICT_SUFFIXES)} School District"
                if name not in used:
                    used.add(name)
                    break
            mix = [max(0.002, b * rng.lognormvariate(0.0, 0.35)) for b in base]
            total_mix = sum(mix)
            shares = {cat: m / total_mix for (cat, _), m in zip(RACE_MIX, mix, strict=True)}
            race = _Picker(list(shares.items()))
            zips = tuple(f"98{rng.randrange(0, 1000):03d}" for _ in range(4))
            deviation = rng.gauss(0.0, 0.07)
            # Low income: the district's own level, shifted by group around the district's mean.
            mean_shift = sum(shares[c] * _LOW_INCOME_SHIFT[c] for c in shares)
            low_income = {c: deviation + _LOW_INCOME_SHIFT[c] - mean_shift for c in shares}
            el_expected = sum(shares[c] * _EL_RATE[c] for c in shares) * self._mean_grade_factor()
            out.append(
                _District(
                    i,
                    f"9{i + 1:04d}",
                    name,
                    _slug(name.split(" School")[0]),
                    weights[i] / total,
                    race,
                    low_income,
                    0.10 / el_expected,
                    zips,
                )
            )
        # Centre the district deviations so that the region averages 45% low income.
        mean_deviation = sum(d.weight * _district_deviation(d) for d in out)
        for d in out:
            d.low_income = {
                c: min(0.95, max(0.02, 0.45 + v - mean_deviation)) for c, v in d.low_income.items()
            }
        return out

    def _mean_grade_factor(self) -> float:
        """Average of the English-learner grade factor over the first-grade distribution."""
        picker = self.first_grade
        weights = _weights(picker)
        return sum(w * _el_grade_factor(g) for g, w in zip(picker.items, weights, strict=True)) / sum(weights)

    def _plan_schools(self) -> None:
        """Schools per district and level, sized from the expected yearly enrollment."""
        years = len(self.years)
        per_year = self.n_students * 13 / (13 + years - 1)
        for d in self.districts:
            expected = per_year * d.weight
            serial = 0
            for level, grades, courses, target, word in (
                ("elementary", ELEMENTARY_GRADES, ELEMENTARY_COURSES, 480, "Elementary"),
                ("middle", MIDDLE_GRADES, MIDDLE_COURSES, 800, "Middle School"),
                ("high", HIGH_GRADES, HIGH_COURSES, 1300, "High School"),
            ):
                cohorts = len([g for g in grades if g >= 0]) + (P_PK if grades[0] == -1 else 0)
                level_students = expected * cohorts / 13
                n = max(1, round(level_students / target))
                schools = []
                used: set[str] = set()
                for _ in range(n):
                    serial += 1
                    label = f"{self.rng.choice(names.PLACE_WORDS)} {word}"
                    if label in used:
                        label = f"{label} No. {serial}"
                    used.add(label)
                    school = _School(
                        location_id=f"{serial:03d}" if serial < 1000 else f"{serial}",
                        school_code=f"{(d.index * 3000 + serial) % 10000:04d}",
                        name=label,
                        level=level,
                        grades=grades,
                        expected=max(1, round(level_students / n)),
                        courses=courses,
                    )
                    self._plan_sections(d, school)
                    schools.append(school)
                d.schools[level] = schools

    def _plan_sections(self, d: _District, school: _School) -> None:
        per_grade = school.expected / len([g for g in school.grades if g >= 0] or [1])
        takers: dict[str, float] = {}
        for course in school.courses:
            if school.level == "elementary":
                takers[course.course_id] = per_grade * (P_PK if course.grades == (-1,) else 1.0)
            elif not course.elective:
                share = 0.5 if course.course_id == "WHIS" else 1.0  # World History: grade 9 or 10
                takers[course.course_id] = per_grade * len(course.grades) * share
        for g in school.grades:
            electives = [c for c in school.courses if c.elective and g in c.grades]
            school.electives[g] = electives
        if school.level != "elementary":
            for course in school.courses:
                if not course.elective:
                    continue
                demand = 0.0
                for g in course.grades:
                    slots = self._elective_count(school.level, g)
                    demand += per_grade * slots / max(1, len(school.electives[g]))
                takers[course.course_id] = demand
        subject_sections: dict[str, list[_Section]] = {}
        for course in school.courses:
            size = CLASS_SIZE if school.level == "elementary" else SECTION_SIZE
            n = max(1, math.ceil(takers[course.course_id] / size))
            sections = [_Section(course, f"{course.course_id}-{k + 1:02d}", -1) for k in range(n)]
            school.sections[course.course_id] = sections
            subject_sections.setdefault(course.subject, []).extend(sections)
        for subject, sections in subject_sections.items():
            per_teacher = 1 if subject == "homeroom" else SECTIONS_PER_TEACHER
            for i, section in enumerate(sections):
                if i % per_teacher == 0:
                    school.slots.append(subject)
                section.slot = len(school.slots) - 1
        # The same people year after year, but for a share replaced each year.
        teachers = [self._staff(d) for _ in school.slots]
        leaders = (self._staff(d), self._staff(d))
        for t in range(len(self.years)):
            if t:
                teachers = [self._staff(d) if self.rng.random() < STAFF_TURNOVER else p for p in teachers]
                leaders = (
                    self._staff(d) if self.rng.random() < STAFF_TURNOVER else leaders[0],
                    self._staff(d) if self.rng.random() < STAFF_TURNOVER else leaders[1],
                )
            school.teachers.append(teachers)
            school.leaders.append(leaders)

    @staticmethod
    def _elective_count(level: str, grade: int) -> int:
        if level == "middle":
            return 1
        return 1 if grade == 9 else 2

    def _staff(self, d: _District) -> _Person:
        rng = self.rng
        d.staff += 1
        female = rng.random() < 0.7
        first = rng.choice(names.FEMALE_FIRST if female else names.MALE_FIRST)
        middle = rng.choice(names.FEMALE_FIRST if female else names.MALE_FIRST) if rng.random() < 0.6 else ""
        group = rng.choice(("general", "general", "general", "hispanic", "asian", "african"))
        last = rng.choice(names.SURNAMES[group])
        email = f"{_slug(first)}.{_slug(last)}{d.staff}@{d.slug}.k12.example"
        return _Person(
            f"E{d.index + 1}{d.staff:05d}", f"{rng.randrange(100000, 999999)}", first, middle, last, email
        )

    def _date(self, g: int) -> date:
        return self.calendars[g // D][g % D]

    def write_structure(self) -> None:
        """Locations, course catalogs, staff and staff schedules of every school and year."""
        last_t = len(self.years) - 1
        for d in self.districts:
            f = d.files
            for t, year in enumerate(self.years):
                first_day, last_day = self.calendars[t][0], self.calendars[t][-1]
                end = None if t == last_t else last_day
                for schools in d.schools.values():
                    for s in schools:
                        f["A"].write(
                            r.Location(
                                year,
                                d.code,
                                d.name,
                                s.location_id,
                                s.school_code,
                                s.name,
                                first_day,
                                last_day,
                            )
                        )
                        for c in s.courses:
                            f["D"].write(
                                r.Course(
                                    year,
                                    d.code,
                                    s.location_id,
                                    c.course_id,
                                    c.title,
                                    c.content_area,
                                    "",
                                    c.state_course_code,
                                    "",
                                )
                            )
                        principal, counselor = s.leaders[t]
                        people = [(principal, "principal"), (counselor, "counselor")]
                        people += [(p, "teacher") for p in s.teachers[t]]
                        for p, role in people:
                            f["F"].write(
                                r.Staff(
                                    year,
                                    d.code,
                                    p.staff_id,
                                    p.certification,
                                    p.last,
                                    p.first,
                                    p.middle,
                                    s.location_id,
                                    role,
                                    p.email,
                                    first_day,
                                    end,
                                )
                            )
                        for sections in s.sections.values():
                            for sec in sections:
                                teacher = s.teachers[t][sec.slot]
                                f["G"].write(
                                    r.StaffSchedule(
                                        year,
                                        d.code,
                                        s.location_id,
                                        sec.course.course_id,
                                        sec.section_id,
                                        "YR",
                                        teacher.staff_id,
                                        "teacher_of_record",
                                        first_day,
                                        end,
                                    )
                                )

    # -- students ------------------------------------------------------------------------------

    def bind(self, writers: dict[str, dict[str, FileWriter]]) -> None:
        """Send each district's rows to its writers (district code -> prefix -> writer)."""
        for d in self.districts:
            d.files = writers[d.code]

    def student(self, idx: int) -> None:
        """Generate student ``idx`` and write all of the student's rows (its own random stream)."""
        rng = self.srng
        rng.seed(self.seed * 0x9E3779B97F4A7C15 + idx)
        rand = rng.random
        randint = rng.randint
        n_years = len(self.years)
        g_asof = self.g_asof
        counts = self.counts

        # Who the student is.
        home = self.district_picker(rand)
        race = home.race(rand)
        x = rand()
        sex = "F" if x < 0.485 else "M" if x < 0.995 else "X"
        g0 = self.first_grade(rand)  # grade in the window's first year (-1 = PK)
        has_pk = rand() < P_PK
        first_t = next(t for t in range(n_years) if g0 + t >= 0 or (g0 + t == -1 and has_pk))
        last_t = min(n_years - 1, 12 - g0)
        older = 1 if rand() < 0.03 else 0
        kinder_year = self.years[0] - g0  # end year of the kindergarten year
        birth_start = date(kinder_year - 7 - older, 9, 1).toordinal()
        birth_date = date.fromordinal(birth_start + randint(0, 364))

        surname_group = _SURNAME_PICKERS[race](rand)
        first_names = names.FEMALE_FIRST if sex == "F" or (sex == "X" and rand() < 0.5) else names.MALE_FIRST
        first = rng.choice(first_names)
        middle = rng.choice(first_names) if rand() < 0.7 else ""
        last = rng.choice(names.SURNAMES[surname_group])

        low_income = rand() < home.low_income[race]
        english_learner = rand() < min(0.9, _EL_RATE[race] * _el_grade_factor(g0) * home.el_scale)
        special_ed = rand() < (P_SPECIAL_ED * (1.3 if sex == "M" else 0.7) * (1.15 if low_income else 0.88))
        section_504 = not special_ed and rand() < P_504
        homeless = rand() < (0.07 if low_income else 0.008)
        foster = rand() < 0.005
        language, home_language, birth_country, immigrant = ENGLISH, "", "", False
        if english_learner:
            spoken = _LANGUAGE_PICKERS.get(race, _LANGUAGE_PICKERS["other"])(rand)
            language = home_language = spoken.code
            if rand() < 0.2:
                immigrant = True
                birth_country = rng.choice(spoken.countries)
        elif race in ("hispanic", "asian") and rand() < 0.25:
            home_language = _LANGUAGES[race][0][0].code
        disability = "0"
        if special_ed:
            disability = _DISABILITY_PICKER(rand)
            if disability == "1" and g0 + n_years - 1 > 3:  # developmental delay: under 9 only
                disability = "11"
        ability = rng.gauss(0.0, 1.0) - 0.3 * low_income - 0.6 * special_ed - 0.4 * english_learner
        at_risk = rand() < (0.2 if low_income else 0.1) + (0.04 if special_ed else 0.0)
        absence_rate = rng.betavariate(3, 17) if at_risk else rng.betavariate(1.5, 34)
        behavior = rng.lognormvariate(0.0, 0.8) * (1.6 if at_risk else 1.0) * (1.3 if sex == "M" else 0.7)
        race_rows = _RACE_ROW_PICKERS[race](rand)
        ssid = state_id(idx, self.seed)

        # When and where the student is enrolled (global school-day indexes, inclusive).
        start = first_t * D
        end = last_t * D + D - 1
        final_code = EXIT_GRADUATED if g0 + last_t == 12 and last_t < n_years - 1 else ""
        horizon = min(end, g_asof)
        if rand() < P_ARRIVE and horizon > start + 1:
            start = randint(start + 1, horizon)
        if rand() < P_LEAVE and min(end - 1, g_asof) > start + 1:
            end, final_code = randint(start + 1, min(end - 1, g_asof)), EXIT_LEFT_STATE
        for t in range(first_t, last_t + 1):
            if 9 <= g0 + t <= 12 and rand() < P_DROPOUT:
                lo, hi = max(start + 1, t * D), min(end - 1, t * D + D - 1, g_asof)
                if hi > lo:
                    end, final_code = randint(lo, hi), EXIT_DROPOUT
                    break
        runs: list[tuple[int, int, _District]] = [(start, end, home)]
        if len(self.districts) > 1 and rand() < P_MOVE:
            moves = 2 if rand() < P_SECOND_MOVE else 1
            for _ in range(moves):
                self._move(runs, rand, randint)

        # Split runs into per-year segments.
        segments: list[_Segment] = []
        for i, (a, b, district) in enumerate(runs):
            last_run = i == len(runs) - 1
            for t in range(a // D, b // D + 1):
                s0, s1 = max(a, t * D), min(b, t * D + D - 1)
                year_end = s1 == t * D + D - 1
                if s1 < b:
                    code = EXIT_COMPLETED
                elif not last_run:
                    code = EXIT_TRANSFER
                elif final_code:
                    code = final_code
                elif year_end and t == n_years - 1:
                    code = ""
                else:
                    code = EXIT_COMPLETED
                segments.append(_Segment(t, district, s0, s1, code))

        # Counters for the summary.
        counts.special_ed += special_ed
        counts.english_learner += english_learner
        counts.low_income += low_income
        counts.section_504 += section_504
        if len({id(s.district) for s in segments}) > 1:
            counts.movers += 1

        # School and courses of each segment, then the transcript (the B rows' GPA needs it).
        u = rand()  # neighbourhood: picks the school within each level
        plan: list[tuple[_Segment, _School, list[CourseDef]]] = []
        for seg in segments:
            grade = g0 + seg.t
            level = "elementary" if grade <= 5 else "middle" if grade <= 8 else "high"
            schools = seg.district.schools[level]
            school = schools[min(len(schools) - 1, int(u * len(schools)))]
            plan.append((seg, school, self._schedule(school, grade, rng)))
        terms = self._terms(plan, g0, ability, rng)

        ids: dict[int, str] = {}
        races_written: set[tuple[int, int]] = set()
        year_absent: dict[int, list[float]] = {}
        disciplined = False
        for seg, school, courses in plan:
            d = seg.district
            f = d.files
            t = seg.t
            year = self.years[t]
            grade = g0 + t
            gcode = grade_code(grade)
            sid = ids.get(d.index)
            if sid is None:
                sid = ids[d.index] = d.student_id(idx)
                self._guardians(d, idx, sid, ssid, last, foster, self._date(seg.start), rng)
            entry = self._date(seg.start)
            exit_ = self._date(seg.end) if seg.exit_code else None
            loc = school.location_id
            upto = min(seg.end, g_asof)

            hs = grade >= 9
            gpa = attempted = earned = None
            if hs:
                done = [tm for tm in terms if tm[0] <= upto]
                if done:
                    attempted = sum((tm[2] for tm in done), _ZERO)
                    earned = sum((tm[3] for tm in done), _ZERO)
                    points = sum(tm[1] for tm in done)
                    gpa = Decimal(points / float(attempted)).quantize(Decimal("0.001"))
            grad = str(year + 12 - grade) if hs else ""
            resident = d.code
            if len(self.districts) > 1 and (idx + d.index) % 33 == 0:
                resident = self.districts[(d.index + 1) % len(self.districts)].code
            f["B"].write(
                r.DistrictStudent(
                    year,
                    d.code,
                    resident,
                    sid,
                    ssid,
                    last,
                    first,
                    middle,
                    birth_date,
                    sex,
                    gcode,
                    entry,
                    exit_,
                    birth_country,
                    "1" if race == "hispanic" else "2",
                    disability,
                    language,
                    home_language,
                    "",
                    d.zips[int(u * len(d.zips))],
                    homeless,
                    False,
                    False,
                    False,
                    foster,
                    grad,
                    grad,
                    gpa,
                    attempted,
                    earned,
                )
            )
            f["C"].write(r.SchoolStudent(year, d.code, sid, ssid, loc, entry, exit_, seg.exit_code, True, ""))
            for course in courses:
                section = rng.choice(school.sections[course.course_id])
                f["E"].write(
                    r.ScheduleEntry(
                        year, d.code, sid, ssid, loc, course.course_id, section.section_id, "YR", entry, exit_
                    )
                )
            programs = []
            if special_ed:
                programs.append(codes.PROGRAM_SPECIAL_EDUCATION)
            if section_504:
                programs.append(codes.PROGRAM_SECTION_504)
            if english_learner:
                programs.append(codes.PROGRAM_ENGLISH_LEARNER)
                if immigrant:
                    programs.append(codes.PROGRAM_IMMIGRANT)
            if low_income:
                programs.append(codes.PROGRAM_LOW_INCOME)
            for code in programs:
                f["I"].write(r.ProgramParticipation(year, d.code, sid, ssid, loc, code, entry, exit_))
            if (d.index, t) not in races_written:
                races_written.add((d.index, t))
                for race_code in race_rows:
                    f["M"].write(r.StudentRace(year, d.code, sid, ssid, race_code, "1"))

            # Absences: one row per day absent.
            if upto >= seg.start:
                rate = min(0.6, absence_rate * rng.lognormvariate(0.0, 0.25) * (1.1 if hs else 1.0))
                absent = 0.0
                cal = self.calendars[t]
                base = t * D
                write_absence = f["N"].write
                # Each day is absent with probability ``rate``: jump from absence to absence by
                # geometric gaps instead of a draw per day (the same Bernoulli process).
                log_stay = math.log(1.0 - rate)
                g = seg.start - 1
                while True:
                    g += 1 + int(math.log(1.0 - rand()) / log_stay)
                    if g > upto:
                        break
                    half = rand() < 0.1
                    absent += 0.5 if half else 1.0
                    write_absence(
                        r.Absence(
                            year,
                            d.code,
                            sid,
                            ssid,
                            loc,
                            cal[g - base],
                            rand() < 0.55,
                            _HALF_DAY if half else _ONE,
                        )
                    )
                acc = year_absent.setdefault(t, [0.0, 0.0])
                acc[0] += absent
                acc[1] += upto - seg.start + 1

                # Exclusionary discipline: rare, mostly in secondary grades.
                p = (0.018 if grade >= 6 else 0.004) * behavior * (upto - seg.start + 1) / D
                while rand() < p:
                    disciplined = True
                    self._discipline(f, year, d.code, sid, ssid, loc, seg.start, upto, rng)
                    p *= 0.3

            # State tests in spring: ELA and math, grades 3-8 and 10.
            if grade in TESTED_GRADES:
                for subject in ("ELA", "MATH"):
                    g_test = t * D + randint(150, 168)
                    if seg.start <= g_test <= min(seg.end, g_asof) and rand() < 0.96:
                        level2, level3, level4 = CUTS[subject][grade]
                        mean = level3 - (0 if subject == "ELA" else 20)
                        score = round(mean + 95 * (0.85 * ability + 0.53 * rng.gauss(0.0, 1.0)))
                        score = max(level2 - 280, min(level4 + 200, score))
                        f["XA"].write(
                            r.AssessmentResult(
                                year,
                                d.code,
                                sid,
                                ssid,
                                loc,
                                "SBA",
                                subject,
                                gcode,
                                self._date(g_test),
                                score,
                                performance_level(subject, grade, score),
                            )
                        )

            # Transcript rows of the terms that ended in this segment.
            for term_end, _points, _att, _earned, term, marks in terms:
                if seg.start <= term_end <= seg.end:
                    for course, letter in marks:
                        f["H"].write(
                            r.GradeHistory(
                                year,
                                d.code,
                                sid,
                                ssid,
                                loc,
                                course.course_id,
                                course.title,
                                term,
                                letter,
                                _HALF,
                                _ZERO if letter == "F" else _HALF,
                                course.state_course_code,
                                gcode,
                            )
                        )

        counts.student_years += len(year_absent)
        counts.discipline += disciplined
        for absent, enrolled in year_absent.values():
            if enrolled >= 20:
                counts.measured_years += 1
                counts.chronic_years += absent >= 0.1 * enrolled

    def _move(
        self,
        runs: list[tuple[int, int, _District]],
        rand: Callable[[], float],
        randint: Callable[[int, int], int],
    ) -> None:
        """Split the last run: the student leaves for another district of the region."""
        a, b, district = runs[-1]
        hi = min(b, self.g_asof)
        if hi < a + 2:
            return
        boundaries = [t * D for t in range(a // D + 1, hi // D + 1) if a < t * D <= hi]
        if boundaries and rand() < P_BETWEEN_YEARS:
            leave_after, arrive = (g := boundaries[randint(0, len(boundaries) - 1)]) - 1, g
        else:
            g = randint(a + 1, hi)
            arrive = g + randint(0, 3)
            if arrive > hi:
                arrive = g
            leave_after = g - 1
        target = district
        while target is district:
            target = self.district_picker(rand)
        runs[-1] = (a, leave_after, district)
        runs.append((arrive, b, target))

    def _schedule(self, school: _School, grade: int, rng: random.Random) -> list[CourseDef]:
        """Courses a student of ``grade`` takes at ``school`` (homeroom, or six secondary courses)."""
        core = [c for c in school.courses if not c.elective and grade in c.grades]
        if school.level == "elementary":
            return core
        if school.level == "high" and grade in (9, 10):
            # World History is taken in grade 9 or 10, not both: grade 10 takes it when 9 did not.
            core = [c for c in core if c.course_id != "WHIS"] + (
                [c for c in core if c.course_id == "WHIS"] if rng.random() < 0.5 else []
            )
        electives = school.electives[grade]
        want = 6 - len(core)
        picked = rng.sample(electives, min(want, len(electives))) if want > 0 else []
        return core + picked

    def _terms(
        self,
        plan: list[tuple[_Segment, _School, list[CourseDef]]],
        g0: int,
        ability: float,
        rng: random.Random,
    ) -> list[tuple[int, float, Decimal, Decimal, str, list[tuple[CourseDef, str]]]]:
        """Semester marks of high-school years: (term end index, points, attempted, earned, term, marks)."""
        out: list[tuple[int, float, Decimal, Decimal, str, list[tuple[CourseDef, str]]]] = []
        gauss = rng.gauss
        for seg, _school, courses in plan:
            if g0 + seg.t < 9:
                continue
            for term, offset in (("S1", 89), ("S2", D - 1)):
                term_end = seg.t * D + offset
                if not (seg.start <= term_end <= seg.end and term_end <= self.g_asof):
                    continue
                marks = []
                points = 0.0
                for course in courses:
                    z = 0.75 * ability + 0.65 * gauss(0.0, 1.0) + 0.55
                    letter, value = next((ltr, pts) for ltr, pts, cut in LETTER_POINTS if z >= cut)
                    marks.append((course, letter))
                    points += value * 0.5
                attempted = _HALF * len(marks)
                earned = _HALF * sum(1 for _, letter in marks if letter != "F")
                out.append((term_end, points, attempted, earned, term, marks))
        return out

    def _discipline(
        self,
        f: dict[str, FileWriter],
        year: int,
        code: str,
        sid: str,
        ssid: str,
        loc: str,
        first: int,
        last: int,
        rng: random.Random,
    ) -> None:
        g = rng.randint(first, last)
        behavior = _BEHAVIOR_PICKER(rng.random)
        action = _ACTION_PICKER(rng.random)
        lo, hi = _ACTION_DAYS[action]
        days = Decimal(rng.randint(lo, hi)).quantize(_TWO_PLACES)
        incident = self._date(g)
        action_day = self._date(min(g + rng.randint(0, 1), last))
        f["R"].write(
            r.DisciplineAction(
                year,
                code,
                sid,
                ssid,
                loc,
                f"{code}-{year}-{rng.randrange(10**7):07d}",
                incident,
                behavior,
                action,
                action_day,
                days,
                "KN" if behavior == "WPN" else "",
            )
        )

    def _guardians(
        self,
        d: _District,
        idx: int,
        sid: str,
        ssid: str,
        student_last: str,
        foster: bool,
        start: date,
        rng: random.Random,
    ) -> None:
        rand = rng.random
        two = rand() < 0.65 and not foster
        if foster:
            people = [("foster_parent", rng.choice(names.SURNAMES["general"]))]
        elif two:
            x = rand()
            pair = (
                ("mother", "father")
                if x < 0.8
                else ("mother", "stepparent")
                if x < 0.9
                else ("parent", "parent")
            )
            people = [
                (pair[0], student_last),
                (pair[1], student_last if rand() < 0.85 else rng.choice(names.SURNAMES["general"])),
            ]
        else:
            x = rand()
            rel = "mother" if x < 0.7 else "father" if x < 0.85 else "grandparent" if x < 0.93 else "guardian"
            people = [(rel, student_last)]
        restricted_index = 1 if two and rand() < P_RESTRICTED / 0.65 else -1
        for i, (relationship, surname) in enumerate(people):
            female = relationship == "mother" or (relationship not in ("father",) and rand() < 0.6)
            first = rng.choice(names.FEMALE_FIRST if female else names.MALE_FIRST)
            gid = f"G{d.index + 1}{idx + 1:07d}{i + 1}"
            email = f"{_slug(first)}.{_slug(surname)}{gid[1:]}@mail.example" if rand() < 0.85 else ""
            d.files["XG"].write(
                r.Guardian(
                    d.code,
                    sid,
                    ssid,
                    gid,
                    surname,
                    first,
                    relationship,
                    email,
                    start,
                    None,
                    i == restricted_index,
                )
            )


_SURNAME_PICKERS = {race: _Picker(pairs) for race, pairs in _SURNAME_GROUP.items()}
_DISABILITY_PICKER = _Picker(_DISABILITIES)
_BEHAVIOR_PICKER = _Picker(_BEHAVIORS)
_ACTION_PICKER = _Picker(_ACTIONS)
_LANGUAGE_PICKERS = {group: _Picker(pairs) for group, pairs in _LANGUAGES.items()}
_RACE_ROW_PICKERS = {race: _Picker(pairs) for race, pairs in _RACE_ROWS.items()}


def generate(
    out: Path,
    districts: int,
    students: int,
    years: int,
    seed: int,
    *,
    end_year: int | None = None,
    as_of: date | None = None,
    delimiter: str = DEFAULT_DELIMITER,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 1000,
    workers: int | None = None,
) -> GenerationSummary:
    """Write one CEDARS drop per district into ``out/<CountyDistrictCode>/``.

    ``students`` counts distinct students over the whole window of ``years`` school years ending
    in ``end_year`` (default: the school year containing today, whose spells stay open).
    ``as_of`` (default: today, but never after the last school day of ``end_year``) dates the
    files; nothing after it happens (absences, tests, moves). ``progress(n)`` is called with the
    number of students done, about every ``progress_every`` students and at the end.

    ``workers`` processes (default: one per CPU for 20,000 students or more, else 1) each stream
    a contiguous range of students into part files that are joined in order at the end; every
    student has its own random stream, so the output is byte-identical for any worker count.
    """
    if districts < 1 or students < 0 or years < 1:
        raise ValueError("need at least one district and one year, and no negative student count")
    check_delimiter(delimiter)
    today = date.today()
    if end_year is None:
        end_year = SchoolYear.of(today).end_year
    if as_of is None:
        as_of = min(today, school_days(end_year)[-1])
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if students >= 20_000 else 1
    workers = max(1, min(workers, students // 200 or 1))
    params = _Params(districts, students, years, seed, end_year, as_of, delimiter)
    out = Path(out)
    if workers == 1:
        counts, rows = _generate_in_process(params, out, progress, progress_every)
    else:
        counts, rows = _generate_in_workers(params, out, workers, progress, progress_every)
    if progress is not None:
        progress(students)
    n = max(1, students)
    return GenerationSummary(
        out=out,
        districts=tuple(rows),
        school_years=tuple(range(end_year - years + 1, end_year + 1)),
        as_of=as_of,
        students=students,
        movers=counts.movers,
        student_years=counts.student_years,
        rows=rows,
        shares={
            "special_education": counts.special_ed / n,
            "english_learner": counts.english_learner / n,
            "low_income": counts.low_income / n,
            "section_504": counts.section_504 / n,
            "chronic_absence": counts.chronic_years / max(1, counts.measured_years),
            "exclusionary_discipline": counts.discipline / n,
        },
    )


@dataclass(frozen=True, slots=True)
class _Params:
    districts: int
    students: int
    years: int
    seed: int
    end_year: int
    as_of: date
    delimiter: str

    def region(self) -> _Region:
        return _Region(self.districts, self.students, self.years, self.seed, self.end_year, self.as_of)


_STRUCTURE = ("A", "D", "F", "G")
_STUDENT_FILES = tuple(s.prefix for s in FILES if s.prefix not in _STRUCTURE)


def _generate_in_process(
    params: _Params, out: Path, progress: Callable[[int], None] | None, every: int
) -> tuple[_Counts, dict[str, dict[str, int]]]:
    region = params.region()
    with ExitStack() as stack:
        drops = {
            d.code: stack.enter_context(
                DropWriter(out / d.code, d.code, params.as_of, delimiter=params.delimiter)
            )
            for d in region.districts
        }
        region.bind({code: drop.writers for code, drop in drops.items()})
        region.write_structure()
        for idx in range(params.students):
            region.student(idx)
            if progress is not None and (idx + 1) % every == 0:
                progress(idx + 1)
    return region.counts, {code: drop.counts for code, drop in drops.items()}


def _part_dir(parts: Path, part: str, district: str) -> Path:
    return parts / part / district


def _worker(params: _Params, parts: Path, part: int, lo: int, hi: int, queue: Any, parent: int) -> None:
    """Child process: students ``lo..hi-1`` into part files; reports progress and counts on ``queue``.

    Stops when its parent (pid ``parent``) has gone away.
    """
    try:
        region = params.region()
        with ExitStack() as stack:
            drops = {
                d.code: stack.enter_context(
                    DropWriter(
                        _part_dir(parts, str(part), d.code),
                        d.code,
                        params.as_of,
                        delimiter=params.delimiter,
                        files=_STUDENT_FILES,
                    )
                )
                for d in region.districts
            }
            region.bind({code: drop.writers for code, drop in drops.items()})
            done = 0
            for idx in range(lo, hi):
                region.student(idx)
                done += 1
                if done % 1000 == 0:
                    queue.put(("progress", part, 1000))
                    if os.getppid() != parent:
                        raise RuntimeError("the parent process is gone")
        queue.put(("done", part, done % 1000, region.counts, {c: drop.counts for c, drop in drops.items()}))
    except BaseException:  # reported to the parent, which raises it
        queue.put(("error", part, traceback.format_exc()))


def _generate_in_workers(
    params: _Params, out: Path, workers: int, progress: Callable[[int], None] | None, every: int
) -> tuple[_Counts, dict[str, dict[str, int]]]:
    out.mkdir(parents=True, exist_ok=True)
    parts = Path(tempfile.mkdtemp(prefix=".generate-", dir=out))
    try:
        region = params.region()
        with ExitStack() as stack:
            drops = {
                d.code: stack.enter_context(
                    DropWriter(
                        _part_dir(parts, "structure", d.code),
                        d.code,
                        params.as_of,
                        delimiter=params.delimiter,
                        files=_STRUCTURE,
                    )
                )
                for d in region.districts
            }
            region.bind({code: drop.writers for code, drop in drops.items()})
            region.write_structure()
        rows = {code: drop.counts for code, drop in drops.items()}
        counts = _Counts()
        bounds = [params.students * k // workers for k in range(workers + 1)]
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        procs = [
            ctx.Process(
                target=_worker,
                args=(params, parts, k, bounds[k], bounds[k + 1], queue, os.getpid()),
                daemon=True,
            )
            for k in range(workers)
        ]
        for proc in procs:
            proc.start()
        done_students, finished = 0, 0
        last_reported = 0
        try:
            while finished < workers:
                try:
                    message = queue.get(timeout=1.0)
                except queue_module.Empty:
                    dead = [p for p in procs if p.exitcode not in (None, 0)]
                    if dead:
                        raise RuntimeError(
                            f"a generator worker died (exit code {dead[0].exitcode})"
                        ) from None
                    continue
                kind, part = message[0], message[1]
                if kind == "error":
                    raise RuntimeError(f"generator worker {part} failed:\n{message[2]}")
                done_students += message[2]
                if kind == "done":
                    finished += 1
                    _add_counts(counts, message[3])
                    for code, per_file in message[4].items():
                        for prefix, n in per_file.items():
                            rows[code][prefix] = rows[code].get(prefix, 0) + n
                if progress is not None and done_students - last_reported >= every:
                    progress(done_students)
                    last_reported = done_students
        finally:
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()
                proc.join()
        order = ["structure", *(str(k) for k in range(workers))]
        for d in region.districts:
            final = out / d.code
            final.mkdir(parents=True, exist_ok=True)
            for spec in FILES:
                name = build_file_name(d.code, spec, params.as_of)
                sources = [_part_dir(parts, part, d.code) / name for part in order]
                _join([p for p in sources if p.exists()], final / name)
        return counts, rows
    finally:
        shutil.rmtree(parts, ignore_errors=True)


def _join(sources: list[Path], target: Path) -> None:
    """Concatenate part files into ``target``, published by rename when complete."""
    partial = target.with_name(target.name + ".partial")
    with partial.open("wb") as dst:
        for src in sources:
            with src.open("rb") as f:
                shutil.copyfileobj(f, dst, 1 << 20)
    partial.replace(target)


def _add_counts(total: _Counts, part: _Counts) -> None:
    for name in _Counts.__dataclass_fields__:
        setattr(total, name, getattr(total, name) + getattr(part, name))
