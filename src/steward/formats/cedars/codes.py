"""Code sets the CEDARS reader validates and the generator draws from.

Sets marked *Steward's assumption* are not taken from the OSPI appendices (which Steward does not
have); they are plausible stand-ins to verify against the current CEDARS Data Manual before a
production exchange. Each set maps every accepted spelling to its canonical code, so padded grade
levels (``01``) read as unpadded (``1``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType


def code_set(codes: Iterable[str], aliases: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """An immutable accepted-spelling -> canonical-code mapping."""
    table = {c: c for c in codes}
    if aliases:
        for alias, canonical in aliases.items():
            if canonical not in table:
                raise ValueError(f"alias {alias!r} points to unknown code {canonical!r}")
            table[alias] = canonical
    return MappingProxyType(table)


def canonical_codes(codes: Mapping[str, str]) -> tuple[str, ...]:
    """The canonical codes of a set, in first-seen order."""
    return tuple(dict.fromkeys(codes.values()))


#: B12 Gender: M and F (2009 manual), X (gender X, added in later manuals).
GENDER = code_set(("M", "F", "X"))

#: Grade levels (Appendix E): PK, K, 1-12; ``01``..``09`` accepted and read as ``1``..``9``.
GRADE_LEVELS = code_set(
    ("PK", "K", *(str(g) for g in range(1, 13))),
    {f"{g:02d}": str(g) for g in range(1, 10)},
)

#: Grade levels in order, for arithmetic on grades (PK = -1, K = 0).
GRADE_ORDER: tuple[str, ...] = ("PK", "K", *(str(g) for g in range(1, 13)))

#: Y/N flags.
FLAG = code_set(("Y", "N"))

#: B11 CSRSEthnicityCode read as Hispanic/Latino ethnicity (Steward's assumption).
ETHNICITY = code_set(("1", "2"))
ETHNICITY_NAMES = {"1": "Hispanic or Latino", "2": "Not Hispanic or Latino"}

#: B16 DisabilityCode: 0 = none, 1..14 IDEA categories (numbering is Steward's assumption
#: beyond 1 = developmental delay and 14 = traumatic brain injury, which the layouts give).
DISABILITY_NAMES: dict[str, str] = {
    "0": "None",
    "1": "Developmental delay (under 9)",
    "2": "Autism",
    "3": "Deaf-blindness",
    "4": "Deafness",
    "5": "Emotional/behavioral disability",
    "6": "Hearing impairment",
    "7": "Intellectual disability",
    "8": "Multiple disabilities",
    "9": "Orthopedic impairment",
    "10": "Other health impairment",
    "11": "Specific learning disability",
    "12": "Speech or language impairment",
    "13": "Visual impairment",
    "14": "Traumatic brain injury",
}
DISABILITY = code_set(DISABILITY_NAMES, {f"{g:02d}": str(g) for g in range(10)})

#: M05 RaceCode (Steward's simplified stand-in for Appendix Z: the five federal race categories).
RACE_NAMES: dict[str, str] = {
    "AI": "American Indian or Alaska Native",
    "AS": "Asian",
    "BL": "Black or African American",
    "NH": "Native Hawaiian or Other Pacific Islander",
    "WH": "White",
}
RACE = code_set(RACE_NAMES)

#: M06 RaceCollectionMethod (from the layouts: 1 reported, 2 observed, 3 not resurveyed, 4 legacy).
RACE_COLLECTION = code_set(("1", "2", "3", "4"))

#: I06 ProgramCode. 15 and 36 are from the layouts; the others are Steward's assumption.
PROGRAM_NAMES: dict[str, str] = {
    "6": "Transitional Bilingual Instruction Program (English learner)",
    "15": "Title III Immigrant",
    "33": "Title I Part A",
    "36": "Student identified with a disability (special education)",
    "38": "Section 504",
    "41": "Free or reduced-price meals eligible (low income)",
    "42": "Highly Capable",
    "43": "Learning Assistance Program",
}
PROGRAM = code_set(PROGRAM_NAMES)
PROGRAM_ENGLISH_LEARNER = "6"
PROGRAM_IMMIGRANT = "15"
PROGRAM_SPECIAL_EDUCATION = "36"
PROGRAM_SECTION_504 = "38"
PROGRAM_LOW_INCOME = "41"

#: N07 AbsenceType (Steward's assumption): E excused, U unexcused.
ABSENCE_EXCUSED = "E"
ABSENCE_UNEXCUSED = "U"
ABSENCE_TYPE = code_set((ABSENCE_EXCUSED, ABSENCE_UNEXCUSED))

#: R09 DisciplineActionCode (Steward's assumption).
DISCIPLINE_ACTION_NAMES: dict[str, str] = {
    "SS": "Short-term suspension",
    "LS": "Long-term suspension",
    "IS": "In-school suspension",
    "EX": "Expulsion",
    "EE": "Emergency expulsion",
}
DISCIPLINE_ACTION = code_set(DISCIPLINE_ACTION_NAMES)

#: F09 StaffRole (Steward's assumption; words match the governance store's role names).
STAFF_ROLE = code_set(
    ("teacher", "principal", "assistant_principal", "counselor", "specialist", "paraeducator", "other")
)

#: G08 SectionRole (Steward's assumption).
SECTION_ROLE = code_set(("teacher_of_record", "co_teacher", "support"))

#: H09 LetterGrade (Steward's assumption: the common transcript marks).
LETTER_GRADE = code_set(("A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "F", "P", "NP", "I", "W"))

#: XA07 Subject (Steward extension).
ASSESSMENT_SUBJECT = code_set(("ELA", "MATH", "SCI"))

#: XA11 PerformanceLevel (Steward extension): 1..4, 3 and 4 meet standard.
PERFORMANCE_LEVEL = code_set(("1", "2", "3", "4"))

#: XG07 Relationship (Steward extension).
GUARDIAN_RELATIONSHIP = code_set(
    ("mother", "father", "parent", "stepparent", "grandparent", "guardian", "foster_parent", "other")
)
