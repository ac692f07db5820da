"""Courses, school calendars and assessment scales of the synthetic region.

State course codes follow the NCES SCED numbering and the scale-score cuts follow the published
Smarter Balanced achievement levels; both are Steward's stand-ins, good enough for a demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

SCHOOL_DAYS = 180


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 = last) given weekday of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


@cache
def school_days(end_year: int) -> tuple[date, ...]:
    """The 180 school days of the school year ending in ``end_year`` (the same in every district).

    School starts the day after Labor Day and skips Veterans Day, Thanksgiving (Wed-Fri), the winter
    break, MLK and Presidents days, a spring break week in April and Memorial Day.
    """
    fall, spring = end_year - 1, end_year
    labor_day = _nth_weekday(fall, 9, 0, 1)
    thanksgiving = _nth_weekday(fall, 11, 3, 4)
    spring_break = _nth_weekday(spring, 4, 0, 1)
    closed = {
        date(fall, 11, 11),
        thanksgiving - timedelta(days=1),
        thanksgiving,
        thanksgiving + timedelta(days=1),
        _nth_weekday(spring, 1, 0, 3),
        _nth_weekday(spring, 2, 0, 3),
        _nth_weekday(spring, 5, 0, -1),
    }
    closed.update(date(fall, 12, 22) + timedelta(days=i) for i in range(12))
    closed.update(spring_break + timedelta(days=i) for i in range(5))
    days: list[date] = []
    day = labor_day + timedelta(days=1)
    while len(days) < SCHOOL_DAYS:
        if day.weekday() < 5 and day not in closed:
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


@dataclass(frozen=True, slots=True)
class CourseDef:
    """A course the region's schools offer; ``grades`` are the grades that take it."""

    course_id: str
    title: str
    subject: str  # teacher pool: ela, math, sci, ss, pe, elective, homeroom
    content_area: str
    state_course_code: str
    grades: tuple[int, ...]
    elective: bool = False


def _grade_code(grade: int) -> str:
    return "PK" if grade == -1 else "K" if grade == 0 else str(grade)


ELEMENTARY_GRADES: tuple[int, ...] = (-1, 0, 1, 2, 3, 4, 5)
MIDDLE_GRADES: tuple[int, ...] = (6, 7, 8)
HIGH_GRADES: tuple[int, ...] = (9, 10, 11, 12)

ELEMENTARY_COURSES: tuple[CourseDef, ...] = tuple(
    CourseDef(
        f"HR{_grade_code(g)}",
        f"Grade {_grade_code(g)} Homeroom" if g >= 0 else "Pre-Kindergarten",
        "homeroom",
        "ELM",
        "",
        (g,),
    )
    for g in ELEMENTARY_GRADES
)

MIDDLE_COURSES: tuple[CourseDef, ...] = (
    *(
        CourseDef(f"ELA{g}", f"English Language Arts {g}", "ela", "ENG", f"5103{g - 5}", (g,))
        for g in (6, 7, 8)
    ),
    *(CourseDef(f"MTH{g}", f"Mathematics {g}", "math", "MTH", f"5206{g - 5}", (g,)) for g in (6, 7, 8)),
    *(CourseDef(f"SCI{g}", f"Science {g}", "sci", "SCI", f"5305{g - 5}", (g,)) for g in (6, 7, 8)),
    CourseDef("SS6", "World Geography", "ss", "SOC", "54051", (6,)),
    CourseDef("SS7", "Washington State History", "ss", "SOC", "54052", (7,)),
    CourseDef("SS8", "U.S. History to 1877", "ss", "SOC", "54053", (8,)),
    *(CourseDef(f"PE{g}", f"Physical Education {g}", "pe", "PE", f"5800{g - 5}", (g,)) for g in (6, 7, 8)),
    CourseDef("MART", "Art", "elective", "ART", "55151", (6, 7, 8), True),
    CourseDef("MBND", "Band", "elective", "ART", "55101", (6, 7, 8), True),
    CourseDef("MCHR", "Choir", "elective", "ART", "55102", (6, 7, 8), True),
    CourseDef("MSPN", "Exploring Spanish", "elective", "WL", "56101", (6, 7, 8), True),
    CourseDef("MTEC", "Computer Science Discoveries", "elective", "CTE", "60011", (6, 7, 8), True),
)

HIGH_COURSES: tuple[CourseDef, ...] = (
    CourseDef("ENG9", "English 9", "ela", "ENG", "01001", (9,)),
    CourseDef("ENG10", "English 10", "ela", "ENG", "01002", (10,)),
    CourseDef("ENG11", "American Literature", "ela", "ENG", "01003", (11,)),
    CourseDef("ENG12", "English 12", "ela", "ENG", "01004", (12,)),
    CourseDef("ALG1", "Algebra I", "math", "MTH", "02052", (9,)),
    CourseDef("GEOM", "Geometry", "math", "MTH", "02072", (10,)),
    CourseDef("ALG2", "Algebra II", "math", "MTH", "02056", (11,)),
    CourseDef("PREC", "Precalculus", "math", "MTH", "02110", (12,)),
    CourseDef("BIO", "Biology", "sci", "SCI", "03051", (9,)),
    CourseDef("CHEM", "Chemistry", "sci", "SCI", "03101", (10,)),
    CourseDef("PHYS", "Physics", "sci", "SCI", "03151", (11,)),
    CourseDef("ENVS", "Environmental Science", "sci", "SCI", "03003", (12,)),
    CourseDef("WHIS", "World History", "ss", "SOC", "04051", (9, 10)),
    CourseDef("USHIS", "U.S. History", "ss", "SOC", "04101", (11,)),
    CourseDef("CIV", "Civics and Economics", "ss", "SOC", "04151", (12,)),
    CourseDef("PE9", "Physical Education and Health", "pe", "PE", "08001", (9,)),
    CourseDef("SPN1", "Spanish I", "elective", "WL", "06101", (10, 11, 12), True),
    CourseDef("SPN2", "Spanish II", "elective", "WL", "06102", (10, 11, 12), True),
    CourseDef("ART1", "Drawing and Painting", "elective", "ART", "05154", (10, 11, 12), True),
    CourseDef("BAND", "Concert Band", "elective", "ART", "05101", (9, 10, 11, 12), True),
    CourseDef("CHOR", "Choir", "elective", "ART", "05110", (9, 10, 11, 12), True),
    CourseDef("CSP", "AP Computer Science Principles", "elective", "CTE", "10019", (10, 11, 12), True),
    CourseDef("HSCI", "Health Sciences", "elective", "CTE", "14051", (10, 11, 12), True),
    CourseDef("DRAM", "Drama", "elective", "ART", "05051", (9, 10, 11, 12), True),
)

#: Letter grades with their grade points, best first, and the latent-score thresholds for each.
LETTER_POINTS: tuple[tuple[str, float, float], ...] = (
    ("A", 4.0, 1.2),
    ("A-", 3.7, 0.85),
    ("B+", 3.3, 0.5),
    ("B", 3.0, 0.2),
    ("B-", 2.7, -0.1),
    ("C+", 2.3, -0.4),
    ("C", 2.0, -0.7),
    ("C-", 1.7, -1.0),
    ("D+", 1.3, -1.3),
    ("D", 1.0, -1.65),
    ("F", 0.0, float("-inf")),
)

TESTED_GRADES: frozenset[int] = frozenset({3, 4, 5, 6, 7, 8, 10})

#: Smarter Balanced cut scores for levels 2, 3 and 4 by grade tested (grade 10 uses the HS scale).
CUTS: dict[str, dict[int, tuple[int, int, int]]] = {
    "ELA": {
        3: (2367, 2432, 2490),
        4: (2416, 2473, 2533),
        5: (2442, 2502, 2582),
        6: (2457, 2531, 2618),
        7: (2479, 2552, 2649),
        8: (2487, 2567, 2668),
        10: (2493, 2583, 2682),
    },
    "MATH": {
        3: (2381, 2436, 2501),
        4: (2411, 2485, 2549),
        5: (2455, 2528, 2579),
        6: (2473, 2552, 2610),
        7: (2484, 2567, 2635),
        8: (2504, 2586, 2653),
        10: (2543, 2628, 2718),
    },
}


def performance_level(subject: str, grade: int, score: int) -> int:
    """Level 1-4 of a scale score from the cut scores."""
    level2, level3, level4 = CUTS[subject][grade]
    return 4 if score >= level4 else 3 if score >= level3 else 2 if score >= level2 else 1
