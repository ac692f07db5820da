"""Canonical education records: the format-neutral rows every reader produces and every writer takes.

Their grain follows state reporting (one row per enrollment spell, per course section, per absence),
so CEDARS, Ed-Fi and OneRoster all translate to and from them without loss of what they share.
Dates are calendar dates in the district's time zone; ``school_year`` is the ending year (2026 =
2025-26). Codes are kept as the source's code strings; code sets live in the formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from steward.domain.datasets import Dataset


@dataclass(frozen=True, slots=True)
class Location:
    """A school of a district in one school year."""

    school_year: int
    district_code: str
    district_name: str
    location_id: str
    school_code: str
    school_name: str
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True, slots=True)
class DistrictStudent:
    """One district enrollment spell of a student, with the demographics reported for it."""

    school_year: int
    district_code: str
    resident_district_code: str
    student_id: str
    state_id: str | None
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date
    sex: str
    grade_level: str
    entry_date: date
    exit_date: date | None = None
    birth_country: str = ""
    ethnicity_code: str = ""
    disability_code: str = "0"
    primary_language: str = "639"
    home_language: str = ""
    ssn: str = ""
    zip_code: str = ""
    homeless: bool = False
    private_school_part_time: bool = False
    home_based_part_time: bool = False
    f1_visa: bool = False
    foster_care: bool | None = None
    grad_requirements_year: str = ""
    expected_grad_year: str = ""
    gpa: Decimal | None = None
    credits_attempted: Decimal | None = None
    credits_earned: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SchoolStudent:
    """One school enrollment spell."""

    school_year: int
    district_code: str
    student_id: str
    state_id: str | None
    location_id: str
    entry_date: date
    exit_date: date | None = None
    withdrawal_code: str = ""
    primary_school: bool = True
    school_choice_code: str = ""


@dataclass(frozen=True, slots=True)
class Course:
    """A course offered at a school in one year."""

    school_year: int
    district_code: str
    location_id: str
    course_id: str
    title: str
    content_area: str = ""
    designation: str = ""
    state_course_code: str = ""
    ap_ib: str = ""


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """A student's enrollment in one course section."""

    school_year: int
    district_code: str
    student_id: str
    state_id: str | None
    location_id: str
    course_id: str
    section_id: str
    term: str
    entry_date: date
    exit_date: date | None = None


@dataclass(frozen=True, slots=True)
class Staff:
    """A staff member who teaches or serves at a school."""

    school_year: int
    district_code: str
    staff_id: str
    certification_number: str
    last_name: str
    first_name: str
    middle_name: str
    location_id: str
    role: str
    email: str = ""
    assignment_start: date | None = None
    assignment_end: date | None = None


@dataclass(frozen=True, slots=True)
class StaffSchedule:
    """A staff member's assignment to a course section."""

    school_year: int
    district_code: str
    location_id: str
    course_id: str
    section_id: str
    term: str
    staff_id: str
    role: str
    start_date: date
    end_date: date | None = None


@dataclass(frozen=True, slots=True)
class GradeHistory:
    """A final course mark on the transcript."""

    school_year: int
    district_code: str
    student_id: str
    state_id: str | None
    location_id: str
    course_id: str
    course_title: str
    term: str
    letter_grade: str
    credits_attempted: Decimal
    credits_earned: Decimal
    state_course_code: str = ""
    grade_level: str = ""


@dataclass(frozen=True, slots=True)
class ProgramParticipation:
    """Participation in a program (special education, 504, English learner, meals, ...)."""

    school_year: int
    district_code: str
    student_id: str
    state_id: str | None
    location_id: str
    program_code: str
    start_date: date
    exit_date: date | None = None
    exit_reason: str = ""
    qualification_code: str = ""


@dataclass(frozen=True, slots=True)
class StudentRace:
    """One race a student identifies with (one record per race)."""

    school_year: int
    district_code: str
    student_id: str
    state_id: str | None
    race_code: str
    collection_method: str = "1"


@dataclass(frozen=True, slots=True)
class Absence:
    """One day (or part of a day) a student was absent."""

    school_year: int
    district_code: str
    student_id: str
    state_id: str | None
    location_id: str
    absence_date: date
    excused: bool
    amount: Decimal = Decimal("1.0")


@dataclass(frozen=True, slots=True)
class DisciplineAction:
    """An exclusionary disciplinary action taken after an incident."""

    school_year: int
    district_code: str
    student_id: str
    state_id: str | None
    location_id: str
    incident_id: str
    incident_date: date
    behavior_code: str
    action_code: str
    action_date: date
    action_days: Decimal
    weapon_code: str = ""


@dataclass(frozen=True, slots=True)
class AssessmentResult:
    """A student's result on a state or interim assessment."""

    school_year: int
    district_code: str
    student_id: str
    state_id: str | None
    location_id: str
    assessment: str
    subject: str
    grade_tested: str
    test_date: date
    scale_score: int
    performance_level: int


@dataclass(frozen=True, slots=True)
class Guardian:
    """A parent or guardian of a student, valid over an interval."""

    district_code: str
    student_id: str
    state_id: str | None
    guardian_id: str
    last_name: str
    first_name: str
    relationship: str
    email: str = ""
    start_date: date | None = None
    end_date: date | None = None
    restricted: bool = False


Record = (
    Location
    | DistrictStudent
    | SchoolStudent
    | Course
    | ScheduleEntry
    | Staff
    | StaffSchedule
    | GradeHistory
    | ProgramParticipation
    | StudentRace
    | Absence
    | DisciplineAction
    | AssessmentResult
    | Guardian
)

#: Which dataset each student-level record feeds (roster and staff records feed none directly).
RECORD_DATASET: dict[type, Dataset] = {
    DistrictStudent: Dataset.DEMOGRAPHICS,
    SchoolStudent: Dataset.ENROLLMENT,
    ScheduleEntry: Dataset.SCHEDULE,
    GradeHistory: Dataset.GRADES,
    ProgramParticipation: Dataset.PROGRAMS,
    StudentRace: Dataset.DEMOGRAPHICS,
    Absence: Dataset.ATTENDANCE,
    DisciplineAction: Dataset.DISCIPLINE,
    AssessmentResult: Dataset.ASSESSMENT,
}
