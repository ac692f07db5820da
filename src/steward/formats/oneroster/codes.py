"""Explicit tables between canonical codes (CEDARS code sets) and OneRoster vocabularies.

Where OneRoster has fewer values than the canonical set the mapping is many-to-one; the reverse
table then names the canonical code a OneRoster value reads back as, and ``LOSSY`` says which
canonical codes do not survive a round trip.
"""

from __future__ import annotations

from types import MappingProxyType

SEX_TO_OR = MappingProxyType({"M": "male", "F": "female", "X": "other"})
SEX_FROM_OR = MappingProxyType({"male": "M", "female": "F", "other": "X"})  # unspecified: no code

GRADE_TO_OR = MappingProxyType({"PK": "PK", "K": "KG", **{str(g): f"{g:02d}" for g in range(1, 13)}})
GRADE_FROM_OR = MappingProxyType({v: k for k, v in GRADE_TO_OR.items()})

#: Canonical race code -> OneRoster demographics column.
RACE_COLUMNS = MappingProxyType(
    {
        "AI": "americanIndianOrAlaskaNative",
        "AS": "asian",
        "BL": "blackOrAfricanAmerican",
        "NH": "nativeHawaiianOrOtherPacificIslander",
        "WH": "white",
    }
)

#: Canonical ethnicity code -> hispanicOrLatinoEthnicity.
ETHNICITY_TO_OR = MappingProxyType({"1": "true", "2": "false"})
ETHNICITY_FROM_OR = MappingProxyType({"true": "1", "false": "2"})

#: Canonical staff role -> OneRoster 1.2 role.
STAFF_ROLE_TO_OR = MappingProxyType(
    {
        "teacher": "teacher",
        "principal": "principal",
        "assistant_principal": "principal",
        "counselor": "counselor",
        "specialist": "teacher",
        "paraeducator": "aide",
        "other": "siteAdministrator",
    }
)
STAFF_ROLE_FROM_OR = MappingProxyType(
    {
        "teacher": "teacher",
        "principal": "principal",
        "counselor": "counselor",
        "aide": "paraeducator",
        "siteAdministrator": "other",
        "districtAdministrator": "other",
        "systemAdministrator": "other",
        "proctor": "other",
        "administrator": "other",  # 1.1
    }
)

#: Canonical guardian relationship -> OneRoster 1.2 role.
GUARDIAN_ROLE_TO_OR = MappingProxyType(
    {
        "mother": "parent",
        "father": "parent",
        "parent": "parent",
        "stepparent": "parent",
        "guardian": "guardian",
        "foster_parent": "guardian",
        "grandparent": "relative",
        "other": "relative",
    }
)
GUARDIAN_ROLE_FROM_OR = MappingProxyType({"parent": "parent", "guardian": "guardian", "relative": "other"})

STUDENT_ROLES = frozenset({"student"})
STAFF_ROLES = frozenset(STAFF_ROLE_FROM_OR)
GUARDIAN_ROLES = frozenset(GUARDIAN_ROLE_FROM_OR)

#: Canonical section role -> enrollments.primary.
TEACHER_OF_RECORD = "teacher_of_record"
CO_TEACHER = "co_teacher"

#: Term code -> academicSessions.type (anything else is a ``term``).
TERM_TYPES = MappingProxyType(
    {
        "S1": "semester",
        "S2": "semester",
        "S3": "semester",
        "SS": "semester",
        "YR": "schoolYear",
    }
)

LOSSY: MappingProxyType[str, str] = MappingProxyType(
    {
        "sex": "unspecified has no canonical code",
        "grade_level": "TK, IT, PR, PS, UG, 13 and Other have no canonical code",
        "staff role": "assistant_principal reads back as principal, specialist as teacher, other as other",
        "section role": "co_teacher and support are both primary=false and read back as co_teacher",
        "guardian relationship": "mother/father/stepparent read back as parent, foster_parent as guardian, "
        "grandparent as other",
    }
)
