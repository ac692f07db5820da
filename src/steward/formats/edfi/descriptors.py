"""Ed-Fi descriptors <-> canonical codes: explicit tables, one per descriptor type.

Ed-Fi 5.x writes a descriptor as a URI (``uri://ed-fi.org/SexDescriptor#Male``); 2.x writes the
code value alone or in a ``CodeValue`` element. Tables are keyed by the code value of the default
Ed-Fi namespace; a value a table does not know has no canonical code and is reported by the
caller. Codes marked *Steward's assumption* stand in for CEDARS appendices Steward does not have
(see the CEDARS code sets).
"""

from __future__ import annotations

from types import MappingProxyType

ED_FI = "uri://ed-fi.org"


def code_value(text: str | None) -> str:
    """``uri://ed-fi.org/SexDescriptor#Male`` -> ``Male``; a bare code value is returned as is."""
    if not text:
        return ""
    text = text.strip()
    return text.rsplit("#", 1)[1] if "#" in text else text


def uri(descriptor: str, value: str, namespace: str = ED_FI) -> str:
    """The 5.x descriptor URI of ``value``: ``uri(\"SexDescriptor\", \"Male\")``."""
    return f"{namespace}/{descriptor}#{value}"


def _reverse(table: MappingProxyType[str, str], preferred: dict[str, str] | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in table.items():
        out.setdefault(v, k)
    out.update(preferred or {})
    return out


SEX = MappingProxyType({"Male": "M", "Female": "F", "Non-binary": "X"})
SEX_TO_EDFI = _reverse(SEX)

GRADE_LEVEL = MappingProxyType(
    {
        "Preschool/Prekindergarten": "PK",
        "Kindergarten": "K",
        "First grade": "1",
        "Second grade": "2",
        "Third grade": "3",
        "Fourth grade": "4",
        "Fifth grade": "5",
        "Sixth grade": "6",
        "Seventh grade": "7",
        "Eighth grade": "8",
        "Ninth grade": "9",
        "Tenth grade": "10",
        "Eleventh grade": "11",
        "Twelfth grade": "12",
    }
)
GRADE_TO_EDFI = _reverse(GRADE_LEVEL)

#: RaceDescriptor (5.x names and the 2.x spellings) -> canonical race code.
RACE = MappingProxyType(
    {
        "American Indian or Alaska Native": "AI",
        "American Indian - Alaska Native": "AI",
        "American Indian - Alaskan Native": "AI",
        "Asian": "AS",
        "Black or African American": "BL",
        "Black - African American": "BL",
        "Native Hawaiian or Pacific Islander": "NH",
        "Native Hawaiian - Pacific Islander": "NH",
        "White": "WH",
    }
)
RACE_TO_EDFI = _reverse(RACE)

#: RelationDescriptor -> canonical guardian relationship.
RELATION = MappingProxyType(
    {
        "Mother": "mother",
        "Father": "father",
        "Parent": "parent",
        "Stepmother": "stepparent",
        "Stepfather": "stepparent",
        "Step Mother": "stepparent",
        "Step Father": "stepparent",
        "Guardian": "guardian",
        "Court appointed guardian": "guardian",
        "Foster parent": "foster_parent",
        "Foster Mother": "foster_parent",
        "Foster Father": "foster_parent",
        "Grandmother": "grandparent",
        "Grandfather": "grandparent",
        "Grandparent": "grandparent",
        "Other": "other",
    }
)
RELATION_TO_EDFI = _reverse(RELATION, {"stepparent": "Stepmother", "grandparent": "Grandparent"})

#: StaffClassificationDescriptor -> canonical staff role (CEDARS F09, Steward's assumption).
STAFF_CLASSIFICATION = MappingProxyType(
    {
        "Teacher": "teacher",
        "Pre-Kindergarten Teacher": "teacher",
        "Kindergarten Teacher": "teacher",
        "Elementary Teacher": "teacher",
        "Secondary Teacher": "teacher",
        "Ungraded Teacher": "teacher",
        "Substitute Teacher": "teacher",
        "Principal": "principal",
        "Assistant Principal": "assistant_principal",
        "Counselor": "counselor",
        "School Counselor": "counselor",
        "Elementary School Counselor": "counselor",
        "Secondary School Counselor": "counselor",
        "Instructional Aide": "paraeducator",
        "Paraprofessional/Instructional Aide": "paraeducator",
        "School Specialist": "specialist",
        "LEA Specialist": "specialist",
        "School Psychologist": "specialist",
        "Librarian/Media Specialist": "specialist",
    }
)
STAFF_CLASSIFICATION_TO_EDFI = _reverse(STAFF_CLASSIFICATION, {"other": "Other"})

#: ClassroomPositionDescriptor -> canonical section role (CEDARS G08, Steward's assumption).
CLASSROOM_POSITION = MappingProxyType(
    {
        "Teacher of Record": "teacher_of_record",
        "Assistant Teacher": "co_teacher",
        "Substitute Teacher": "co_teacher",
        "Support Teacher": "support",
    }
)
CLASSROOM_POSITION_TO_EDFI = _reverse(CLASSROOM_POSITION)

#: TermDescriptor -> canonical term code (CEDARS term, 4 characters; Steward's assumption).
TERM = MappingProxyType(
    {
        "Fall Semester": "S1",
        "Spring Semester": "S2",
        "Summer Semester": "SS",
        "Semester": "S",
        "First Quarter": "Q1",
        "Second Quarter": "Q2",
        "Third Quarter": "Q3",
        "Fourth Quarter": "Q4",
        "First Trimester": "T1",
        "Second Trimester": "T2",
        "Third Trimester": "T3",
        "Trimester": "T",
        "Quarter": "Q",
        "MiniTerm": "MT",
        "Year Round": "YR",
    }
)
TERM_TO_EDFI = _reverse(TERM)

#: CalendarEventDescriptor values that are school days (the edfi-oneroster crosswalk's TRUE rows).
INSTRUCTIONAL_EVENTS = frozenset({"Instructional day", "Make-up day", "Student late arrival/early dismissal"})

#: AttendanceEventCategoryDescriptor -> excused? (other categories are not absences).
ABSENCE_CATEGORY = MappingProxyType({"Excused Absence": True, "Unexcused Absence": False})

#: Program association element or ProgramTypeDescriptor -> CEDARS program code (I06).
PROGRAM_ASSOCIATION = MappingProxyType(
    {
        "StudentSpecialEducationProgramAssociation": "36",
        "StudentSection504ProgramAssociation": "38",
        "StudentSchoolFoodServiceProgramAssociation": "41",
        "StudentLanguageInstructionProgramAssociation": "6",
        "StudentTitleIPartAProgramAssociation": "33",
    }
)
PROGRAM_TYPE = MappingProxyType(
    {
        "Special Education": "36",
        "Section 504 Placement": "38",
        "Bilingual": "6",
        "English as a Second Language (ESL)": "6",
        "Title I Part A": "33",
        "Gifted and Talented": "42",
        "Immigrant Education": "15",
    }
)
PROGRAM_TO_EDFI = MappingProxyType(
    {
        "36": ("studentSpecialEducationProgramAssociations", "Special Education"),
        "38": ("studentSection504ProgramAssociations", "Section 504 Placement"),
        "41": (
            "studentSchoolFoodServiceProgramAssociations",
            "Compensatory Services for Disadvantaged Students",
        ),
        "6": ("studentLanguageInstructionProgramAssociations", "English as a Second Language (ESL)"),
        "33": ("studentTitleIPartAProgramAssociations", "Title I Part A"),
        "42": ("studentProgramAssociations", "Gifted and Talented"),
        "15": ("studentProgramAssociations", "Immigrant Education"),
    }
)

#: DisciplineDescriptor -> CEDARS exclusionary action (R09, Steward's assumption). Out-of-school
#: suspensions over 10 days are long-term (LS).
DISCIPLINE = MappingProxyType(
    {
        "In School Suspension": "IS",
        "Out of School Suspension": "SS",
        "Expulsion": "EX",
        "Expulsion with services": "EX",
        "Expulsion without services": "EX",
        "Emergency Expulsion": "EE",
    }
)
DISCIPLINE_TO_EDFI = MappingProxyType(
    {
        "IS": "In School Suspension",
        "SS": "Out of School Suspension",
        "LS": "Out of School Suspension",
        "EX": "Expulsion",
        "EE": "Emergency Expulsion",
    }
)
LONG_TERM_DAYS = 10

#: BehaviorDescriptor -> CEDARS behavior code (R08, 3 characters, Steward's assumption).
BEHAVIOR = MappingProxyType(
    {"State Offense": "SO", "School Code of Conduct": "CC", "School Violation": "SV", "Other": "OT"}
)
BEHAVIOR_TO_EDFI = _reverse(BEHAVIOR)

#: WeaponDescriptor -> CEDARS weapon code (R12, 2 characters, Steward's assumption).
WEAPON = MappingProxyType(
    {
        "Handgun": "HG",
        "Rifle": "RF",
        "Shotgun": "SG",
        "Firearm": "FA",
        "Knife": "KN",
        "Club": "CL",
        "Other": "OT",
        "Other object": "OT",
        "Other Firearm": "FA",
    }
)
WEAPON_TO_EDFI = _reverse(WEAPON, {"OT": "Other", "FA": "Firearm"})

#: AcademicSubjectDescriptor -> canonical assessment subject.
SUBJECT = MappingProxyType(
    {
        "Mathematics": "MATH",
        "English Language Arts": "ELA",
        "Reading": "ELA",
        "English": "ELA",
        "Science": "SCI",
    }
)
SUBJECT_TO_EDFI = _reverse(SUBJECT)

#: PerformanceLevelDescriptor -> canonical performance level (1..4; 3 and 4 meet standard).
PERFORMANCE_LEVEL = MappingProxyType(
    {
        "Well Below Basic": 1,
        "Did Not Meet Standard": 1,
        "Below Basic": 2,
        "Basic": 2,
        "Met Standard": 3,
        "Proficient": 3,
        "Advanced": 4,
        "Commended Performance": 4,
        "Pass": 3,
        "Fail": 1,
    }
)
PERFORMANCE_LEVEL_TO_EDFI = MappingProxyType(
    {1: "Well Below Basic", 2: "Below Basic", 3: "Met Standard", 4: "Advanced"}
)

#: AssessmentReportingMethodDescriptor values read as the scale score, in order of preference.
SCALE_SCORE_METHODS = ("Scale score", "Vertical score")

#: StudentIdentificationSystemDescriptor values read as the state student ID.
STATE_ID_SYSTEMS = frozenset({"State"})
