"""The twelve reports of the package (Seattle's Automated Data Report), their columns and datasets.

Each report belongs to exactly one dataset: a viewer who may not see that dataset for a student
gets no row about the student in it, and a viewer who may see it for no student gets no such report
at all (no file, no sheet, no empty column). docs/reports.md documents the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from steward.domain.datasets import Dataset


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class ReportSpec:
    number: int
    key: str
    title: str
    dataset: Dataset
    description: str
    columns: tuple[Column, ...]

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def file_name(self) -> str:
        return f"{self.number:02d}_{self.key}.csv"

    @property
    def sheet(self) -> str:
        """The XLSX sheet name (at most 31 characters)."""
        return f"{self.number:02d} {self.title}"[:31]


def _c(name: str, description: str) -> Column:
    return Column(name, description)


#: The columns that key every row: which district's record, which student.
KEY = (
    _c("district_code", "county-district code of the district that holds the record"),
    _c(
        "student_id",
        "the district's student ID (the key you gave with the consent list; joins the reports)",
    ),
)
YEAR = _c("school_year", "school year, named by the year it ends (2027 = 2026-27)")
SCHOOL_CODE = _c("school_code", "the district's location ID of the school")

ROSTER = ReportSpec(
    1,
    "roster",
    "Roster and directory",
    Dataset.DIRECTORY,
    "One row per student: name, grade and current (or last) school.",
    (
        *KEY,
        _c("last_name", "legal last name"),
        _c("first_name", "legal first name"),
        _c("middle_name", "legal middle name"),
        _c("grade_level", "current grade level (PK, K, 1-12)"),
        SCHOOL_CODE,
        _c("school_name", "name of the school"),
        _c("entry_date", "first day of the current (or last) school enrollment"),
        _c("exit_date", "last day of that enrollment (blank: still enrolled)"),
        _c("age", "age in whole years on the day the package was made"),
    ),
)
DEMOGRAPHICS = ReportSpec(
    2,
    "demographics",
    "Demographics",
    Dataset.DEMOGRAPHICS,
    "One row per student, from the latest school year of the record.",
    (
        *KEY,
        _c("state_id", "state student ID (SSID)"),
        _c("birth_date", "date of birth"),
        _c("sex", "sex / gender code (F, M, X)"),
        _c(
            "race_ethnicity", "OSPI race/ethnicity group (Hispanic/Latino of any race, one race, two or more)"
        ),
        _c("race_codes", "federal race codes reported, separated by ';'"),
        _c("hispanic", "Hispanic or Latino ethnicity (Y/N)"),
        _c("primary_language", "primary language code"),
        _c("home_language", "language spoken at home"),
        _c("birth_country", "country of birth"),
        _c("zip_code", "residence ZIP code"),
        _c("homeless", "McKinney-Vento homeless status (Y/N)"),
        _c("foster_care", "in foster care (Y/N, blank: not reported)"),
    ),
)
ENROLLMENT = ReportSpec(
    3,
    "enrollment_history",
    "Enrollment history",
    Dataset.ENROLLMENT,
    "One row per school enrollment spell, every school year in the record.",
    (
        *KEY,
        YEAR,
        SCHOOL_CODE,
        _c("school_name", "name of the school"),
        _c("grade_level", "grade level in that school year"),
        _c("entry_date", "school entry date"),
        _c("exit_date", "school exit date, the last day enrolled (blank: still enrolled)"),
        _c("exit_code", "withdrawal code"),
        _c("primary_school", "the student's primary school for the spell (Y/N)"),
        _c("resident_district", "district of residence"),
    ),
)
DAILY_ATTENDANCE = ReportSpec(
    4,
    "daily_attendance",
    "Daily attendance",
    Dataset.ATTENDANCE,
    "One row per absence (full or part day).",
    (
        *KEY,
        YEAR,
        SCHOOL_CODE,
        _c("absence_date", "date of the absence"),
        _c("absence_type", "excused or unexcused"),
        _c("absence_amount", "share of the day absent (1.00 full day, 0.50 half day)"),
    ),
)
ATTENDANCE_SUMMARY = ReportSpec(
    5,
    "attendance_summary",
    "Attendance summary",
    Dataset.ATTENDANCE,
    "One row per student and school year: days enrolled, days absent, rate, chronic absence.",
    (
        *KEY,
        YEAR,
        _c(
            "days_enrolled",
            "school days enrolled (weekdays of each spell in the school calendar, to the file date)",
        ),
        _c("days_absent", "days absent (part days add their share)"),
        _c("excused_days", "days absent with an excuse"),
        _c("unexcused_days", "days absent without an excuse"),
        _c("attendance_rate", "share of enrolled days attended (0-1)"),
        _c(
            "chronically_absent",
            "Y when absent 10% or more of enrolled days (measured from 20 days enrolled; blank before)",
        ),
    ),
)
DISCIPLINE_INCIDENTS = ReportSpec(
    6,
    "discipline_incidents",
    "Discipline incidents",
    Dataset.DISCIPLINE,
    "One row per disciplinary action of an incident.",
    (
        *KEY,
        YEAR,
        SCHOOL_CODE,
        _c("incident_id", "incident identifier"),
        _c("incident_date", "date of the incident"),
        _c("behavior_code", "behavior category"),
        _c("action_code", "disciplinary action code"),
        _c("action_name", "disciplinary action"),
        _c("action_date", "first day of the action"),
        _c("action_days", "length of the exclusion in school days"),
        _c("weapon_code", "weapon involved (blank: none)"),
    ),
)
DISCIPLINE_SUMMARY = ReportSpec(
    7,
    "discipline_summary",
    "Discipline summary",
    Dataset.DISCIPLINE,
    "One row per student and school year with any disciplinary action.",
    (
        *KEY,
        YEAR,
        _c("incidents", "distinct incidents"),
        _c("actions", "disciplinary actions"),
        _c("days_excluded", "school days excluded in total"),
        _c(
            "most_severe_action",
            "most severe action (expulsion, emergency expulsion, long-, short-term, in-school)",
        ),
    ),
)
_ASSESSMENT_COLUMNS = (
    *KEY,
    YEAR,
    SCHOOL_CODE,
    _c("assessment", "assessment name"),
    _c("subject", "content area (ELA, MATH, SCI)"),
    _c("grade_tested", "grade level tested"),
    _c("test_date", "administration date"),
    _c("scale_score", "scale score"),
    _c("performance_level", "performance level 1-4"),
    _c("met_standard", "Y when the level is 3 or 4"),
)
STATE_ASSESSMENTS = ReportSpec(
    8,
    "state_assessments",
    "State assessment results",
    Dataset.ASSESSMENT,
    "One row per state test result (Smarter Balanced, WCAS, WA-AIM).",
    _ASSESSMENT_COLUMNS,
)
INTERIM_ASSESSMENTS = ReportSpec(
    9,
    "interim_assessments",
    "Interim assessment results",
    Dataset.ASSESSMENT,
    "One row per interim or district test result (every assessment that is not a state test).",
    _ASSESSMENT_COLUMNS,
)
SCHEDULE = ReportSpec(
    10,
    "course_schedule",
    "Course schedule",
    Dataset.SCHEDULE,
    "One row per course section the student was scheduled in.",
    (
        *KEY,
        YEAR,
        SCHOOL_CODE,
        _c("course_id", "course identifier"),
        _c("course_title", "course title"),
        _c("section_id", "section identifier"),
        _c("term", "term"),
        _c("teacher", "teacher of record"),
        _c("entry_date", "first day in the section"),
        _c("exit_date", "last day in the section (blank: still scheduled)"),
    ),
)
MARKS = ReportSpec(
    11,
    "course_marks",
    "Course marks and credits",
    Dataset.GRADES,
    "One row per final mark on the transcript.",
    (
        *KEY,
        YEAR,
        SCHOOL_CODE,
        _c("course_id", "course identifier"),
        _c("course_title", "course title"),
        _c("term", "term"),
        _c("grade_level", "grade level when the course was taken"),
        _c("letter_grade", "final mark"),
        _c("credits_attempted", "credits attempted"),
        _c("credits_earned", "credits earned"),
    ),
)
PROGRAMS = ReportSpec(
    12,
    "programs",
    "Program participation",
    Dataset.PROGRAMS,
    "One row per program spell: special education, Section 504, English learner, meal status and others.",
    (
        *KEY,
        YEAR,
        SCHOOL_CODE,
        _c("program_code", "program code"),
        _c("program_name", "program"),
        _c("start_date", "first day in the program"),
        _c("exit_date", "exit date (blank: still served)"),
        _c("exit_reason", "exit reason code"),
        _c("qualification_code", "qualification code"),
        _c("disability_category", "primary disability category (special education rows only)"),
    ),
)

REPORTS: tuple[ReportSpec, ...] = (
    ROSTER,
    DEMOGRAPHICS,
    ENROLLMENT,
    DAILY_ATTENDANCE,
    ATTENDANCE_SUMMARY,
    DISCIPLINE_INCIDENTS,
    DISCIPLINE_SUMMARY,
    STATE_ASSESSMENTS,
    INTERIM_ASSESSMENTS,
    SCHEDULE,
    MARKS,
    PROGRAMS,
)
BY_KEY: dict[str, ReportSpec] = {r.key: r for r in REPORTS}

#: The package's index of students: who is in it, with which datasets, on which legal basis.
INDEX = ReportSpec(
    0,
    "students",
    "Students in this package",
    Dataset.DIRECTORY,  # not used to filter: the index lists every student of the package
    "One row per student in the package: the datasets shared and the legal basis of each.",
    (
        *KEY,
        _c("datasets", "datasets shared about the student in this package, separated by ';'"),
        _c("legal_basis", "legal basis of the disclosure (34 CFR Part 99)"),
        _c("citation", "the regulation"),
    ),
)

#: State assessments (every other assessment name is an interim or district test).
STATE_TESTS = frozenset({"SBA", "SBAC", "WCAS", "WA-AIM", "ELPA21", "MSP", "HSPE", "EOC"})

#: Record types (CEDARS file prefixes) each dataset's reports read, besides the reference files.
DATASET_PREFIXES: dict[Dataset, tuple[str, ...]] = {
    Dataset.DIRECTORY: ("B", "C"),
    Dataset.DEMOGRAPHICS: ("B", "M"),
    Dataset.ENROLLMENT: ("B", "C"),
    Dataset.ATTENDANCE: ("C", "N"),
    Dataset.DISCIPLINE: ("R",),
    Dataset.ASSESSMENT: ("XA",),
    Dataset.SCHEDULE: ("E",),
    Dataset.GRADES: ("H",),
    Dataset.PROGRAMS: ("B", "I"),
}


def reports_for(datasets: set[Dataset] | frozenset[Dataset]) -> tuple[ReportSpec, ...]:
    """The reports of the datasets a viewer may see for at least one student, in order."""
    return tuple(r for r in REPORTS if r.dataset in datasets)


def prefixes_for(datasets: set[Dataset] | frozenset[Dataset]) -> frozenset[str]:
    return frozenset(p for d in datasets for p in DATASET_PREFIXES.get(d, ()))
