"""The datasets Steward can disclose, their elements and how sensitive each element is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Dataset(StrEnum):
    DIRECTORY = "directory"
    DEMOGRAPHICS = "demographics"
    ENROLLMENT = "enrollment"
    ATTENDANCE = "attendance"
    DISCIPLINE = "discipline"
    ASSESSMENT = "assessment"
    GRADES = "grades"
    PROGRAMS = "programs"
    SCHEDULE = "schedule"


class Sensitivity(StrEnum):
    """How an element is treated by de-identification and by display.

    ``identifier``: a direct identifier, always removed from de-identified data.
    ``quasi_identifier``: identifying in combination; generalised and checked for k-anonymity.
    ``sensitive``: a sensitive outcome or status (l-diversity; shown only when granted).
    ``standard``: ordinary education record content.
    """

    IDENTIFIER = "identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SENSITIVE = "sensitive"
    STANDARD = "standard"


@dataclass(frozen=True, slots=True)
class Element:
    name: str
    sensitivity: Sensitivity
    description: str


def _e(name: str, sensitivity: Sensitivity, description: str) -> Element:
    return Element(name, sensitivity, description)


ID, Q, S, N = (
    Sensitivity.IDENTIFIER,
    Sensitivity.QUASI_IDENTIFIER,
    Sensitivity.SENSITIVE,
    Sensitivity.STANDARD,
)

ELEMENTS: dict[Dataset, tuple[Element, ...]] = {
    Dataset.DIRECTORY: (
        _e("first_name", ID, "legal first name"),
        _e("middle_name", ID, "legal middle name"),
        _e("last_name", ID, "legal last name"),
        _e("age", Q, "age in whole years"),
        _e("grade_level", Q, "current grade level"),
        _e("enrollment_dates", Q, "dates of attendance"),
        _e("school_name", Q, "school attended"),
    ),
    Dataset.DEMOGRAPHICS: (
        _e("student_id", ID, "district student ID"),
        _e("state_id", ID, "state student ID (SSID)"),
        _e("birth_date", ID, "date of birth"),
        _e("sex", Q, "sex / gender code"),
        _e("race_ethnicity", Q, "federal race and ethnicity categories"),
        _e("hispanic", Q, "Hispanic or Latino ethnicity"),
        _e("primary_language", Q, "primary language code"),
        _e("home_language", Q, "language spoken at home"),
        _e("zip_code", Q, "residence ZIP code"),
        _e("ssn", ID, "social security number (never disclosed)"),
        _e("birth_country", Q, "country of birth"),
        _e("homeless", S, "McKinney-Vento homeless status"),
        _e("foster_care", S, "in foster care"),
    ),
    Dataset.ENROLLMENT: (
        _e("school_code", Q, "school of enrollment"),
        _e("grade_level", Q, "grade level of the spell"),
        _e("entry_date", Q, "school entry date"),
        _e("exit_date", Q, "school exit date"),
        _e("exit_code", N, "withdrawal code"),
        _e("resident_district", Q, "district of residence"),
    ),
    Dataset.ATTENDANCE: (
        _e("absence_date", N, "date of absence"),
        _e("absence_type", N, "excused or unexcused"),
        _e("absence_amount", N, "full or part day"),
        _e("days_enrolled", N, "days enrolled in the year"),
        _e("attendance_rate", N, "share of enrolled days attended"),
        _e("chronically_absent", N, "absent 10% or more of enrolled days"),
    ),
    Dataset.DISCIPLINE: (
        _e("incident_id", N, "incident identifier"),
        _e("incident_date", N, "incident date"),
        _e("behavior_code", S, "behavior category"),
        _e("action_code", S, "disciplinary action (suspension, expulsion)"),
        _e("action_days", S, "length of exclusion in school days"),
    ),
    Dataset.ASSESSMENT: (
        _e("assessment", N, "assessment name"),
        _e("subject", N, "content area"),
        _e("test_date", N, "administration date"),
        _e("scale_score", N, "scale score"),
        _e("performance_level", N, "performance level 1-4"),
        _e("proficient", N, "met standard"),
    ),
    Dataset.GRADES: (
        _e("course_id", N, "course identifier"),
        _e("course_title", N, "course title"),
        _e("term", N, "term"),
        _e("letter_grade", N, "final grade"),
        _e("credits_attempted", N, "credits attempted"),
        _e("credits_earned", N, "credits earned"),
        _e("gpa", N, "cumulative grade point average"),
    ),
    Dataset.PROGRAMS: (
        _e("special_education", S, "served under IDEA"),
        _e("disability_code", S, "primary disability category"),
        _e("section_504", S, "Section 504 plan"),
        _e("english_learner", S, "English learner program"),
        _e("low_income", S, "free or reduced-price meal eligibility"),
        _e("program_dates", S, "program start and exit"),
    ),
    Dataset.SCHEDULE: (
        _e("course_id", N, "course identifier"),
        _e("course_title", N, "course title"),
        _e("section_id", N, "section identifier"),
        _e("term", N, "term"),
        _e("teacher", N, "teacher of record"),
    ),
}

#: Directory elements by default (ODA-03): name, age, grade level, dates of enrollment.
DEFAULT_DIRECTORY_ELEMENTS: tuple[str, ...] = ("name", "age", "grade_level", "enrollment_dates")

#: Datasets that carry sensitive status and need explicit grants (programs, discipline).
SENSITIVE_DATASETS = frozenset({Dataset.PROGRAMS, Dataset.DISCIPLINE})

#: The roster data a school-official vendor may receive for provisioning.
PROVISIONING_DATASETS = frozenset({Dataset.DIRECTORY, Dataset.ENROLLMENT, Dataset.SCHEDULE})


def element_names(dataset: Dataset) -> tuple[str, ...]:
    return tuple(e.name for e in ELEMENTS[dataset])


def element(dataset: Dataset, name: str) -> Element:
    """Look up one element of a dataset by name; KeyError names both."""
    for e in ELEMENTS[dataset]:
        if e.name == name:
            return e
    raise KeyError(f"dataset {dataset.value} has no element {name!r}")
