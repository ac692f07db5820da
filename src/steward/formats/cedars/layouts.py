"""CEDARS file layouts: which elements each file holds, their types and the record attribute each fills.

Element codes and names follow ``shared/data/wa-cedars/CEDARS_file_layouts.md`` where it gives
them; the rest (``steward_defined=True``) are plausible CEDARS-style elements to verify against the
current OSPI CEDARS Data Manual. ``XA`` and ``XG`` are Steward extension files with no CEDARS
equivalent. Files carry no header row; elements appear in the order listed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from steward.domain import records as r
from steward.formats.cedars import codes as c


class ElementType(StrEnum):
    """The declared CEDARS type of an element (drives parsing and the docs)."""

    CHAR = "char"  # text up to ``length`` characters (exact lengths are enforced by ``pattern``)
    VARCHAR = "varchar"  # text up to ``length`` characters
    DATE = "date"  # MM/DD/YYYY, leading zeros optional on read, always written
    NUMERIC = "numeric"  # decimal(precision=length, scale), non-negative
    INT = "int"  # non-negative whole number of at most ``length`` digits
    FLAG = "flag"  # one of two codes (Y/N unless ``true_false`` says otherwise)


class Requirement(StrEnum):
    REQUIRED = "Y"
    CONDITIONAL = "C"  # may be empty; some are enforced by row rules (see ``FileSpec.rules``)
    OPTIONAL = "N"


Y, C, N = Requirement.REQUIRED, Requirement.CONDITIONAL, Requirement.OPTIONAL


@dataclass(frozen=True, slots=True, eq=False)
class ElementSpec:
    """One element (column) of a CEDARS file."""

    code: str
    name: str
    attribute: str | None  # record attribute; None = not carried by Steward (written empty, ignored)
    type: ElementType
    length: int  # max characters (char/varchar), digits (int) or precision (numeric)
    requirement: Requirement
    codes: Mapping[str, str] | None = None  # accepted spelling -> canonical code
    scale: int = 0  # numeric only
    pattern: str | None = None  # full-match regex the text must satisfy
    pattern_hint: str = ""  # what the pattern means, for error messages
    max_value: Decimal | None = None  # numeric only
    true_false: tuple[str, str] = ("Y", "N")  # flag only: codes for True and False
    steward_defined: bool = False
    description: str = ""

    @property
    def label(self) -> str:
        """``B09 BirthDate``: how errors name the element."""
        return f"{self.code} {self.name}"

    @property
    def required(self) -> bool:
        return self.requirement is Requirement.REQUIRED

    @property
    def regex(self) -> re.Pattern[str] | None:
        return None if self.pattern is None else re.compile(self.pattern)

    def type_label(self) -> str:
        """The type as documented, e.g. ``numeric(6,2)``, ``varchar(50)``, ``date MM/DD/YYYY``."""
        if self.type is ElementType.DATE:
            return "date MM/DD/YYYY"
        if self.type is ElementType.NUMERIC:
            return f"numeric({self.length},{self.scale})"
        if self.type is ElementType.FLAG:
            return f"flag {'/'.join(self.true_false)}"
        return f"{self.type.value}({self.length})"


@dataclass(frozen=True, slots=True)
class SpellRule:
    """Enrollment spells of one key must not overlap (``[entry, exit)``, open exit = open-ended)."""

    key: tuple[str, ...]  # record attributes naming whose spells are compared
    entry: str
    exit: str
    what: str  # "district enrollment spell", for messages


@dataclass(frozen=True, slots=True, eq=False)
class FileSpec:
    """One CEDARS file: element prefix, file name, record type and ordered elements."""

    prefix: str
    file_name: str
    title: str
    record_type: type
    elements: tuple[ElementSpec, ...]
    extension: bool = False  # Steward extension file, no CEDARS equivalent
    date_order: tuple[tuple[str, str], ...] = ()  # (earlier, later) element codes: later >= earlier
    required_with: tuple[tuple[str, str], ...] = ()  # (element, trigger): element required if trigger set
    spells: SpellRule | None = None
    notes: str = ""
    by_code: Mapping[str, ElementSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_code", MappingProxyType({e.code: e for e in self.elements}))

    def element(self, code: str) -> ElementSpec:
        return self.by_code[code]


# Shared element builders ------------------------------------------------------------------------

_YEAR = r"\d{4}"
_DISTRICT = r"\d{5}"
_SSID = r"[1-9]\d{9}"


def _e(
    code: str,
    name: str,
    attribute: str | None,
    type_: ElementType,
    length: int,
    requirement: Requirement,
    **kw: object,
) -> ElementSpec:
    return ElementSpec(code, name, attribute, type_, length, requirement, **kw)  # type: ignore[arg-type]


T = ElementType


def _school_year(p: str, sd: bool = False) -> ElementSpec:
    return _e(
        f"{p}01",
        "SchoolYear",
        "school_year",
        T.CHAR,
        4,
        Y,
        pattern=_YEAR,
        pattern_hint="is not a 4-digit year",
        steward_defined=sd,
        description="4-digit year in which the school year ends",
    )


def _district(
    code: str, name: str = "ServingCountyDistrictCode", sd: bool = False, attribute: str = "district_code"
) -> ElementSpec:
    return _e(
        code,
        name,
        attribute,
        T.CHAR,
        5,
        Y,
        pattern=_DISTRICT,
        pattern_hint="is not a 5-digit county-district code",
        steward_defined=sd,
        description="2-digit county + 3-digit district, leading zeros kept",
    )


def _student_id(code: str, name: str = "DistrictStudentCode", sd: bool = False) -> ElementSpec:
    return _e(code, name, "student_id", T.VARCHAR, 50, Y, steward_defined=sd, description="district ID")


def _ssid(code: str, sd: bool = False) -> ElementSpec:
    return _e(
        code,
        "SSID",
        "state_id",
        T.CHAR,
        10,
        C,
        pattern=_SSID,
        pattern_hint="is not a 10-digit state student ID not starting with 0",
        steward_defined=sd,
        description="state student ID; blank asks OSPI to assign one",
    )


def _location(code: str, sd: bool = False) -> ElementSpec:
    return _e(code, "LocationID", "location_id", T.VARCHAR, 4, Y, steward_defined=sd)


def _student_key(p: str, sd: bool = False) -> tuple[ElementSpec, ...]:
    """The four student-key elements 01..04 (year, district, district student code, SSID)."""
    return (
        _school_year(p, sd),
        _district(f"{p}02", sd=sd),
        _student_id(f"{p}03", sd=sd),
        _ssid(f"{p}04", sd),
    )


def _flag(code: str, name: str, attribute: str, requirement: Requirement = Y, **kw: object) -> ElementSpec:
    return _e(code, name, attribute, T.FLAG, 1, requirement, codes=c.FLAG, **kw)


def _date(code: str, name: str, attribute: str | None, requirement: Requirement, **kw: object) -> ElementSpec:
    return _e(code, name, attribute, T.DATE, 10, requirement, **kw)


# The files -------------------------------------------------------------------------------------

LOCATION = FileSpec(
    "A",
    "Location",
    "Location",
    r.Location,
    (
        _school_year("A"),
        _district("A02", "CountyDistrictCode"),
        _e("A03", "DistrictName", "district_name", T.VARCHAR, 250, N, description="not stored by CEDARS"),
        _location("A04"),
        _e(
            "A05",
            "SchoolCode",
            "school_code",
            T.CHAR,
            4,
            Y,
            pattern=r"\d{4}",
            pattern_hint="is not a 4-digit OSPI school code",
        ),
        _e("A06", "SchoolName", "school_name", T.VARCHAR, 100, Y, steward_defined=True),
        _date("A07", "InitialSchoolStartDate", "first_day", N),
        _date("A08", "LastSchoolEndDate", "last_day", N),
    ),
    date_order=(("A07", "A08"),),
    notes="One row per school of the district with enrolled students, per school year.",
)

DISTRICT_STUDENT = FileSpec(
    "B",
    "DistrictStudent",
    "District Student",
    r.DistrictStudent,
    (
        _school_year("B"),
        _district("B02"),
        _district("B03", "ResidentCountyDistrictCode", attribute="resident_district_code"),
        _student_id("B04", "DistrictStudentID"),
        _ssid("B05"),
        _e("B06", "LastName", "last_name", T.VARCHAR, 60, Y),
        _e("B07", "FirstName", "first_name", T.VARCHAR, 60, C, description="blank only if none"),
        _e("B08", "MiddleName", "middle_name", T.VARCHAR, 60, C, description="blank only if none"),
        _date("B09", "BirthDate", "birth_date", Y),
        _e(
            "B10",
            "BirthCountry",
            "birth_country",
            T.CHAR,
            3,
            C,
            description="required for Title III Immigrant (I06 = 15); Appendix C",
        ),
        _e(
            "B11",
            "CSRSEthnicityCode",
            "ethnicity_code",
            T.INT,
            1,
            C,
            codes=c.ETHNICITY,
            description="Steward reads it as 1 = Hispanic or Latino, 2 = not",
        ),
        _e("B12", "Gender", "sex", T.CHAR, 1, Y, codes=c.GENDER),
        _e("B13", "GradeLevel", "grade_level", T.VARCHAR, 2, Y, codes=c.GRADE_LEVELS),
        _date("B14", "DistrictEnrollmentDate", "entry_date", Y),
        _date("B15", "DistrictExitDate", "exit_date", C),
        _e("B16", "DisabilityCode", "disability_code", T.INT, 2, Y, codes=c.DISABILITY),
        _e(
            "B17",
            "PrimaryLanguageCode",
            "primary_language",
            T.INT,
            3,
            Y,
            description="Appendix K; 639 English",
        ),
        _e("B18", "LanguageSpokenAtHome", "home_language", T.INT, 3, N, description="Appendix K"),
        _e(
            "B19",
            "SSN",
            "ssn",
            T.CHAR,
            9,
            N,
            pattern=r"\d{9}",
            pattern_hint="is not 9 digits",
            description="PII: never disclosed",
        ),
        _e(
            "B20",
            "ZipCode",
            "zip_code",
            T.VARCHAR,
            9,
            N,
            pattern=r"\d{5}(\d{4})?",
            pattern_hint="is not a 5- or 9-digit ZIP code",
        ),
        _flag("B21", "IsHomeless", "homeless"),
        _flag("B22", "IsApprovedPrivateSchoolStudentAttendingPartTime", "private_school_part_time"),
        _flag("B23", "IsHomeBasedStudentAttendingPartTime", "home_based_part_time"),
        _flag("B24", "IsF1VisaForeignExchangeStudent", "f1_visa"),
        _flag("B25", "IsStudentInFosterCare", "foster_care", N),
        _e(
            "B26",
            "GradRequirementsYear",
            "grad_requirements_year",
            T.CHAR,
            4,
            C,
            pattern=_YEAR,
            pattern_hint="is not a 4-digit year",
            description="required for grades 9-12",
        ),
        _e(
            "B27",
            "ExpectedGradYear",
            "expected_grad_year",
            T.CHAR,
            4,
            C,
            pattern=_YEAR,
            pattern_hint="is not a 4-digit year",
            description="required for grades 9-12",
        ),
        _e("B28", "GPA", "gpa", T.NUMERIC, 4, C, scale=3, max_value=Decimal("4.000")),
        _e("B29", "CreditsAttempted", "credits_attempted", T.NUMERIC, 6, C, scale=2),
        _e("B30", "CreditsEarned", "credits_earned", T.NUMERIC, 6, C, scale=2),
    ),
    date_order=(("B14", "B15"),),
    spells=SpellRule(("district_code", "student_id"), "entry_date", "exit_date", "district enrollment spell"),
    notes="One row per district enrollment spell; demographics repeat on every row.",
)

SCHOOL_STUDENT = FileSpec(
    "C",
    "SchoolStudent",
    "School Student",
    r.SchoolStudent,
    (
        *_student_key("C"),
        _location("C05"),
        _date("C06", "DateStudentEnrolledInSchool", "entry_date", Y),
        _e("C07", "NoLongerCollected", None, T.VARCHAR, 50, N, description="no longer collected; ignored"),
        _date("C08", "SchoolExitDate", "exit_date", C),
        _e(
            "C09",
            "SchoolWithdrawalCode",
            "withdrawal_code",
            T.VARCHAR,
            2,
            C,
            description="required when C08 is set; Appendix M",
        ),
        _flag("C10", "IsThisTheSchoolPrimarilyResponsibleForTheStudent", "primary_school"),
        _e("C11", "SchoolChoiceCode", "school_choice_code", T.VARCHAR, 2, C),
    ),
    date_order=(("C06", "C08"),),
    required_with=(("C09", "C08"),),
    spells=SpellRule(
        ("district_code", "student_id", "location_id"), "entry_date", "exit_date", "school enrollment spell"
    ),
    notes="One row per school enrollment spell.",
)

COURSE_CATALOG = FileSpec(
    "D",
    "CourseCatalog",
    "Course Catalog",
    r.Course,
    (
        _school_year("D"),
        _district("D02"),
        _location("D03"),
        _e("D04", "CourseID", "course_id", T.VARCHAR, 50, Y),
        _e("D05", "CourseTitle", "title", T.VARCHAR, 100, Y),
        _e("D06", "ContentAreaCode", "content_area", T.VARCHAR, 3, C),
        _e("D07", "CourseDesignationCode", "designation", T.VARCHAR, 10, C),
        _e("D08", "StateCourseCode", "state_course_code", T.VARCHAR, 5, C, description="Appendix V"),
        _e("D09", "APIBFlag", "ap_ib", T.VARCHAR, 2, C, description="AP/IB flag"),
    ),
    notes="One row per course per school offering it.",
)

STUDENT_SCHEDULE = FileSpec(
    "E",
    "StudentSchedule",
    "Student Schedule",
    r.ScheduleEntry,
    (
        *_student_key("E"),
        _location("E05"),
        _e("E06", "CourseID", "course_id", T.VARCHAR, 50, Y),
        _e("E07", "SectionID", "section_id", T.VARCHAR, 50, Y),
        _e("E08", "Term", "term", T.VARCHAR, 4, Y, description="Appendix P"),
        _e("E09", "ALECourseType", None, T.VARCHAR, 2, N, description="not carried by Steward"),
        _e("E10", "ApprovedOnlineProvider", None, T.VARCHAR, 10, N, description="not carried by Steward"),
        _e("E11", "ApprovedOnlineProgram", None, T.VARCHAR, 10, N, description="not carried by Steward"),
        _date("E12", "StudentCourseEntryDate", "entry_date", Y, steward_defined=True),
        _date("E13", "StudentCourseExitDate", "exit_date", C, steward_defined=True),
    ),
    date_order=(("E12", "E13"),),
    notes="One row per student course-section enrollment.",
)

_SD = True

STAFF = FileSpec(
    "F",
    "Staff",
    "Staff",
    r.Staff,
    (
        _school_year("F", _SD),
        _district("F02", sd=_SD),
        _e("F03", "StaffID", "staff_id", T.VARCHAR, 50, Y, steward_defined=_SD),
        _e("F04", "CertificationNumber", "certification_number", T.VARCHAR, 20, C, steward_defined=_SD),
        _e("F05", "LastName", "last_name", T.VARCHAR, 60, Y, steward_defined=_SD),
        _e("F06", "FirstName", "first_name", T.VARCHAR, 60, C, steward_defined=_SD),
        _e("F07", "MiddleName", "middle_name", T.VARCHAR, 60, C, steward_defined=_SD),
        _location("F08", _SD),
        _e("F09", "StaffRole", "role", T.VARCHAR, 20, Y, codes=c.STAFF_ROLE, steward_defined=_SD),
        _e("F10", "EmailAddress", "email", T.VARCHAR, 100, N, steward_defined=_SD),
        _date("F11", "AssignmentStartDate", "assignment_start", N, steward_defined=_SD),
        _date("F12", "AssignmentEndDate", "assignment_end", N, steward_defined=_SD),
    ),
    date_order=(("F11", "F12"),),
    notes="One row per staff member per school assignment and year (teachers, principals, counselors).",
)

STAFF_SCHEDULE = FileSpec(
    "G",
    "StaffSchedule",
    "Staff Schedule",
    r.StaffSchedule,
    (
        _school_year("G", _SD),
        _district("G02", sd=_SD),
        _location("G03", _SD),
        _e("G04", "CourseID", "course_id", T.VARCHAR, 50, Y, steward_defined=_SD),
        _e("G05", "SectionID", "section_id", T.VARCHAR, 50, Y, steward_defined=_SD),
        _e("G06", "Term", "term", T.VARCHAR, 4, Y, steward_defined=_SD),
        _e("G07", "StaffID", "staff_id", T.VARCHAR, 50, Y, steward_defined=_SD),
        _e("G08", "SectionRole", "role", T.VARCHAR, 20, Y, codes=c.SECTION_ROLE, steward_defined=_SD),
        _date("G09", "StartDate", "start_date", Y, steward_defined=_SD),
        _date("G10", "EndDate", "end_date", C, steward_defined=_SD),
    ),
    date_order=(("G09", "G10"),),
    notes="One row per staff member per course section (the teacher of record).",
)

GRADE_HISTORY = FileSpec(
    "H",
    "GradeHistory",
    "Student Grade History",
    r.GradeHistory,
    (
        *_student_key("H", _SD),
        _location("H05", _SD),
        _e("H06", "CourseID", "course_id", T.VARCHAR, 50, Y, steward_defined=_SD),
        _e("H07", "CourseTitle", "course_title", T.VARCHAR, 100, Y, steward_defined=_SD),
        _e("H08", "Term", "term", T.VARCHAR, 4, Y, steward_defined=_SD),
        _e("H09", "LetterGrade", "letter_grade", T.VARCHAR, 2, Y, codes=c.LETTER_GRADE, steward_defined=_SD),
        _e("H10", "CreditsAttempted", "credits_attempted", T.NUMERIC, 4, Y, scale=2, steward_defined=_SD),
        _e("H11", "CreditsEarned", "credits_earned", T.NUMERIC, 4, Y, scale=2, steward_defined=_SD),
        _e("H12", "StateCourseCode", "state_course_code", T.VARCHAR, 5, C, steward_defined=_SD),
        _e("H13", "GradeLevel", "grade_level", T.VARCHAR, 2, C, codes=c.GRADE_LEVELS, steward_defined=_SD),
    ),
    notes="One row per high-school-credit course attempt and term, with the final transcript grade.",
)

STUDENT_PROGRAMS = FileSpec(
    "I",
    "StudentPrograms",
    "Student Programs",
    r.ProgramParticipation,
    (
        *_student_key("I"),
        _location("I05"),
        _e("I06", "ProgramCode", "program_code", T.INT, 2, Y, codes=c.PROGRAM),
        _date("I07", "ProgramStartDate", "start_date", Y),
        _date("I08", "ProgramExitDate", "exit_date", C),
        _e("I09", "ExitReason", "exit_reason", T.VARCHAR, 2, C),
        _e("I10", "QualificationCode", "qualification_code", T.VARCHAR, 2, C),
    ),
    date_order=(("I07", "I08"),),
    notes="One row per program participation.",
)

STUDENT_RACE = FileSpec(
    "M",
    "StudentRace",
    "Student Race",
    r.StudentRace,
    (
        _school_year("M"),
        _district("M02", "ServingCountyDistrict"),
        _student_id("M03"),
        _ssid("M04"),
        _e("M05", "RaceCode", "race_code", T.VARCHAR, 4, Y, codes=c.RACE, description="Appendix Z"),
        _e("M06", "RaceCollectionMethod", "collection_method", T.INT, 1, Y, codes=c.RACE_COLLECTION),
    ),
    notes="One row per student per race.",
)

STUDENT_ABSENCE = FileSpec(
    "N",
    "StudentAbsence",
    "Student Absence",
    r.Absence,
    (
        *_student_key("N", _SD),
        _location("N05", _SD),
        _date("N06", "AbsenceDate", "absence_date", Y, steward_defined=_SD),
        _e(
            "N07",
            "AbsenceType",
            "excused",
            T.FLAG,
            1,
            Y,
            codes=c.ABSENCE_TYPE,
            true_false=(c.ABSENCE_EXCUSED, c.ABSENCE_UNEXCUSED),
            steward_defined=_SD,
            description="E excused, U unexcused",
        ),
        _e(
            "N08",
            "AbsenceAmount",
            "amount",
            T.NUMERIC,
            3,
            Y,
            scale=2,
            max_value=Decimal("1.00"),
            steward_defined=_SD,
            description="share of the school day: 1.00 full day",
        ),
    ),
    notes="One row per student per day absent.",
)

EXCLUSIONARY_DISCIPLINE = FileSpec(
    "R",
    "ExclusionaryDiscipline",
    "Exclusionary Discipline",
    r.DisciplineAction,
    (
        *_student_key("R", _SD),
        _location("R05", _SD),
        _e("R06", "IncidentID", "incident_id", T.VARCHAR, 50, Y, steward_defined=_SD),
        _date("R07", "IncidentDate", "incident_date", Y, steward_defined=_SD),
        _e("R08", "BehaviorCode", "behavior_code", T.VARCHAR, 3, Y, steward_defined=_SD),
        _e(
            "R09",
            "DisciplineActionCode",
            "action_code",
            T.VARCHAR,
            2,
            Y,
            codes=c.DISCIPLINE_ACTION,
            steward_defined=_SD,
        ),
        _date("R10", "DisciplineActionDate", "action_date", Y, steward_defined=_SD),
        _e("R11", "ActionDays", "action_days", T.NUMERIC, 5, Y, scale=2, steward_defined=_SD),
        _e("R12", "WeaponType", "weapon_code", T.VARCHAR, 2, C, steward_defined=_SD),
    ),
    date_order=(("R07", "R10"),),
    notes="One row per exclusionary disciplinary action.",
)

STUDENT_ASSESSMENT = FileSpec(
    "XA",
    "StudentAssessment",
    "Student Assessment (Steward extension)",
    r.AssessmentResult,
    (
        *_student_key("XA", _SD),
        _location("XA05", _SD),
        _e("XA06", "AssessmentName", "assessment", T.VARCHAR, 20, Y, steward_defined=_SD),
        _e("XA07", "Subject", "subject", T.VARCHAR, 4, Y, codes=c.ASSESSMENT_SUBJECT, steward_defined=_SD),
        _e("XA08", "GradeTested", "grade_tested", T.VARCHAR, 2, Y, codes=c.GRADE_LEVELS, steward_defined=_SD),
        _date("XA09", "TestDate", "test_date", Y, steward_defined=_SD),
        _e("XA10", "ScaleScore", "scale_score", T.INT, 4, Y, steward_defined=_SD),
        _e(
            "XA11",
            "PerformanceLevel",
            "performance_level",
            T.INT,
            1,
            Y,
            codes=c.PERFORMANCE_LEVEL,
            steward_defined=_SD,
        ),
    ),
    extension=True,
    notes="One row per student per assessment result (state tests: ELA and math, grades 3-8 and 10).",
)

STUDENT_GUARDIAN = FileSpec(
    "XG",
    "StudentGuardian",
    "Student Guardian (Steward extension)",
    r.Guardian,
    (
        _district("XG01", sd=_SD),
        _student_id("XG02", sd=_SD),
        _ssid("XG03", _SD),
        _e("XG04", "GuardianID", "guardian_id", T.VARCHAR, 50, Y, steward_defined=_SD),
        _e("XG05", "LastName", "last_name", T.VARCHAR, 60, Y, steward_defined=_SD),
        _e("XG06", "FirstName", "first_name", T.VARCHAR, 60, C, steward_defined=_SD),
        _e(
            "XG07",
            "Relationship",
            "relationship",
            T.VARCHAR,
            20,
            Y,
            codes=c.GUARDIAN_RELATIONSHIP,
            steward_defined=_SD,
        ),
        _e("XG08", "EmailAddress", "email", T.VARCHAR, 100, N, steward_defined=_SD),
        _date("XG09", "StartDate", "start_date", N, steward_defined=_SD),
        _date("XG10", "EndDate", "end_date", N, steward_defined=_SD),
        _flag(
            "XG11",
            "IsRestricted",
            "restricted",
            steward_defined=_SD,
            description="Y: a legal restriction bars this person from the student's records",
        ),
    ),
    extension=True,
    date_order=(("XG09", "XG10"),),
    notes="One row per guardian of a student in the district.",
)

#: All files in drop order (structure first, then students).
FILES: tuple[FileSpec, ...] = (
    LOCATION,
    DISTRICT_STUDENT,
    SCHOOL_STUDENT,
    COURSE_CATALOG,
    STUDENT_SCHEDULE,
    STAFF,
    STAFF_SCHEDULE,
    GRADE_HISTORY,
    STUDENT_PROGRAMS,
    STUDENT_RACE,
    STUDENT_ABSENCE,
    EXCLUSIONARY_DISCIPLINE,
    STUDENT_ASSESSMENT,
    STUDENT_GUARDIAN,
)
FILES_BY_PREFIX: Mapping[str, FileSpec] = MappingProxyType({f.prefix: f for f in FILES})
FILES_BY_NAME: Mapping[str, FileSpec] = MappingProxyType({f.file_name: f for f in FILES})
FILES_BY_RECORD: Mapping[type, FileSpec] = MappingProxyType({f.record_type: f for f in FILES})

#: Files a drop must contain to be imported.
REQUIRED_PREFIXES: tuple[str, ...] = ("A", "B", "C")


def spec_for(key: str | type | FileSpec) -> FileSpec:
    """The file spec for a prefix (``"B"``), a CEDARS file name (``"DistrictStudent"``) or a record type."""
    if isinstance(key, FileSpec):
        return key
    if isinstance(key, type):
        try:
            return FILES_BY_RECORD[key]
        except KeyError:
            raise KeyError(f"no CEDARS file carries {key.__name__} records") from None
    spec = FILES_BY_PREFIX.get(key) or FILES_BY_NAME.get(key)
    if spec is None:
        raise KeyError(f"unknown CEDARS file {key!r}")
    return spec


# File naming -----------------------------------------------------------------------------------

_NAME = re.compile(r"(?P<district>\d{5})_0000_(?P<file>[A-Za-z]+)_(?P<date>\d{8})\.txt")


@dataclass(frozen=True, slots=True, order=True)
class DropFileName:
    """A parsed ``{CountyDistrictCode}_0000_{FileName}_{YYYYMMDD}.txt`` name."""

    district_code: str
    file_name: str
    as_of: date

    def __str__(self) -> str:
        return f"{self.district_code}_0000_{self.file_name}_{self.as_of:%Y%m%d}.txt"


def build_file_name(district_code: str, file: str | type | FileSpec, as_of: date) -> str:
    """``12345_0000_DistrictStudent_20251001.txt`` for district 12345, file B, Oct 1 2025."""
    if not re.fullmatch(_DISTRICT, district_code):
        raise ValueError(f"{district_code!r} is not a 5-digit county-district code")
    return str(DropFileName(district_code, spec_for(file).file_name, as_of))


def parse_file_name(name: str) -> DropFileName:
    """Parse a drop file name; ValueError says what is wrong with it."""
    m = _NAME.fullmatch(name)
    if m is None:
        raise ValueError(
            f"{name!r} does not follow {{CountyDistrictCode}}_0000_{{FileName}}_{{YYYYMMDD}}.txt"
        )
    raw = m["date"]
    try:
        as_of = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise ValueError(f"{name!r}: {raw!r} is not a date (YYYYMMDD)") from None
    return DropFileName(m["district"], m["file"], as_of)


def _check_specs() -> None:
    """Element codes are unique, prefixed and numbered 01.. in order (import-time sanity check)."""
    for spec in FILES:
        for i, el in enumerate(spec.elements, start=1):
            if el.code != f"{spec.prefix}{i:02d}":
                raise AssertionError(f"{spec.file_name}: element {i} is {el.code}")


_check_specs()
