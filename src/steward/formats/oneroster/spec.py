"""OneRoster 1.1 and 1.2 CSV files: columns in their required order, types, vocabularies, references.

Written from the 1EdTech OneRoster CSV binding (1.1 "CSV Tables", 1.2 "CSV Binding"), rostering and
demographics only (no gradebook or resources files). Header names and enumerated values are
case-sensitive; extension columns (``metadata.*``) may follow the defined columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Version(StrEnum):
    V1_1 = "1.1"
    V1_2 = "1.2"


class Mode(StrEnum):
    """How a file of a package is processed (manifest ``file.<name>`` value)."""

    BULK = "bulk"
    DELTA = "delta"
    ABSENT = "absent"


class Kind(StrEnum):
    ID = "id"  # a sourcedId (GUID in the spec's words: any unique string)
    IDS = "ids"  # comma-separated sourcedIds
    TEXT = "text"
    ENUM = "enum"
    DATE = "date"  # YYYY-MM-DD
    DATETIME = "datetime"  # ISO 8601 UTC, e.g. 2023-05-01T18:25:43.511Z
    YEAR = "year"  # YYYY
    BOOL = "bool"  # true | false
    GRADES = "grades"  # comma-separated grade codes
    USER_IDS = "user_ids"  # comma-separated {type:identifier} pairs
    LIST = "list"  # comma-separated free text


#: Status of a record (1.1 also knew ``inactive``, deprecated; 1.2 dropped it).
STATUS = {Version.V1_1: ("active", "tobedeleted", "inactive"), Version.V1_2: ("active", "tobedeleted")}

SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")
CLASS_TYPES = ("homeroom", "scheduled")
ORG_TYPES = ("department", "district", "local", "national", "school", "state")
ENROLMENT_ROLES = ("administrator", "proctor", "student", "teacher")
ROLE_TYPES = ("primary", "secondary")
ROLES_1_2 = (
    "aide",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
)
ROLES_1_1 = ("administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher")
SEX = {Version.V1_1: ("male", "female"), Version.V1_2: ("male", "female", "unspecified", "other")}
BOOLEAN = ("true", "false")
#: CEDS grade levels (OneRoster's grade vocabulary).
GRADES = ("IT", "PR", "PK", "TK", "KG", *(f"{g:02d}" for g in range(1, 14)), "PS", "UG", "Other")
MANIFEST_MODES = tuple(m.value for m in Mode)

DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
YEAR_RE = re.compile(r"\d{4}")
USER_ID_RE = re.compile(r"\{[^{}:]+:[^{}]*\}")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT
    required: bool = False
    vocab: tuple[str, ...] = ()
    ref: tuple[str, ...] = ()  # files whose sourcedIds this column refers to
    ref_org_type: str | None = None  # the referenced org must have this type


@dataclass(frozen=True, slots=True)
class FileSpec:
    name: str  # without .csv
    columns: tuple[Column, ...]
    by_name: MappingProxyType[str, Column] = field(init=False, repr=False, compare=False)
    header: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", MappingProxyType({c.name: c for c in self.columns}))
        object.__setattr__(self, "header", tuple(c.name for c in self.columns))

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


def _c(name: str, kind: Kind = Kind.TEXT, *, req: bool = False, **kw: object) -> Column:
    return Column(name, kind, req, **kw)  # type: ignore[arg-type]


def _base(version: Version) -> tuple[Column, ...]:
    return (
        _c("sourcedId", Kind.ID, req=True),
        _c("status", Kind.ENUM, vocab=STATUS[version]),
        _c("dateLastModified", Kind.DATETIME),
    )


def _files(v: Version) -> dict[str, FileSpec]:
    base = _base(v)
    sessions = FileSpec(
        "academicSessions",
        (
            *base,
            _c("title", req=True),
            _c("type", Kind.ENUM, req=True, vocab=SESSION_TYPES),
            _c("startDate", Kind.DATE, req=True),
            _c("endDate", Kind.DATE, req=True),
            _c("parentSourcedId", Kind.ID, ref=("academicSessions",)),
            _c("schoolYear", Kind.YEAR, req=True),
        ),
    )
    classes = FileSpec(
        "classes",
        (
            *base,
            _c("title", req=True),
            _c("grades", Kind.GRADES),
            _c("courseSourcedId", Kind.ID, req=True, ref=("courses",)),
            _c("classCode"),
            _c("classType", Kind.ENUM, req=True, vocab=CLASS_TYPES),
            _c("location"),
            _c("schoolSourcedId", Kind.ID, req=True, ref=("orgs",), ref_org_type="school"),
            _c("termSourcedIds", Kind.IDS, req=True, ref=("academicSessions",)),
            _c("subjects", Kind.LIST),
            _c("subjectCodes", Kind.LIST),
            _c("periods", Kind.LIST),
        ),
    )
    courses = FileSpec(
        "courses",
        (
            *base,
            _c("schoolYearSourcedId", Kind.ID, ref=("academicSessions",)),
            _c("title", req=True),
            _c("courseCode"),
            _c("grades", Kind.GRADES),
            _c("orgSourcedId", Kind.ID, req=True, ref=("orgs",)),
            _c("subjects", Kind.LIST),
            _c("subjectCodes", Kind.LIST),
        ),
    )
    demographics = FileSpec(
        "demographics",
        (
            _c("sourcedId", Kind.ID, req=True, ref=("users",)),
            *base[1:],
            _c("birthDate", Kind.DATE),
            _c("sex", Kind.ENUM, vocab=SEX[v]),
            _c("americanIndianOrAlaskaNative", Kind.BOOL, vocab=BOOLEAN),
            _c("asian", Kind.BOOL, vocab=BOOLEAN),
            _c("blackOrAfricanAmerican", Kind.BOOL, vocab=BOOLEAN),
            _c("nativeHawaiianOrOtherPacificIslander", Kind.BOOL, vocab=BOOLEAN),
            _c("white", Kind.BOOL, vocab=BOOLEAN),
            _c("demographicRaceTwoOrMoreRaces", Kind.BOOL, vocab=BOOLEAN),
            _c("hispanicOrLatinoEthnicity", Kind.BOOL, vocab=BOOLEAN),
            _c("countryOfBirthCode"),
            _c("stateOfBirthAbbreviation"),
            _c("cityOfBirth"),
            _c("publicSchoolResidenceStatus"),
        ),
    )
    enrollments = FileSpec(
        "enrollments",
        (
            *base,
            _c("classSourcedId", Kind.ID, req=True, ref=("classes",)),
            _c("schoolSourcedId", Kind.ID, req=True, ref=("orgs",), ref_org_type="school"),
            _c("userSourcedId", Kind.ID, req=True, ref=("users",)),
            _c("role", Kind.ENUM, req=True, vocab=ENROLMENT_ROLES),
            _c("primary", Kind.BOOL, vocab=BOOLEAN),
            _c("beginDate", Kind.DATE),
            _c("endDate", Kind.DATE),
        ),
    )
    orgs = FileSpec(
        "orgs",
        (
            *base,
            _c("name", req=True),
            _c("type", Kind.ENUM, req=True, vocab=ORG_TYPES),
            _c("identifier"),
            _c("parentSourcedId", Kind.ID, ref=("orgs",)),
        ),
    )
    files = {f.name: f for f in (sessions, classes, courses, demographics, enrollments, orgs)}
    if v is Version.V1_1:
        files["users"] = FileSpec(
            "users",
            (
                *base,
                _c("enabledUser", Kind.BOOL, req=True, vocab=BOOLEAN),
                _c("orgSourcedIds", Kind.IDS, req=True, ref=("orgs",)),
                _c("role", Kind.ENUM, req=True, vocab=ROLES_1_1),
                _c("username", req=True),
                _c("userIds", Kind.USER_IDS),
                _c("givenName", req=True),
                _c("familyName", req=True),
                _c("middleName"),
                _c("identifier"),
                _c("email"),
                _c("sms"),
                _c("phone"),
                _c("agentSourcedIds", Kind.IDS, ref=("users",)),
                _c("grades", Kind.GRADES),
                _c("password"),
            ),
        )
    else:
        files["users"] = FileSpec(
            "users",
            (
                *base,
                _c("enabledUser", Kind.BOOL, req=True, vocab=BOOLEAN),
                _c("username"),
                _c("userIds", Kind.USER_IDS),
                _c("givenName", req=True),
                _c("familyName", req=True),
                _c("middleName"),
                _c("identifier"),
                _c("email"),
                _c("sms"),
                _c("phone"),
                _c("agentSourcedIds", Kind.IDS, ref=("users",)),
                _c("grades", Kind.GRADES),
                _c("password"),
                _c("userMasterIdentifier"),
                _c("resourceSourcedIds", Kind.IDS),
                _c("preferredGivenName"),
                _c("preferredMiddleName"),
                _c("preferredFamilyName"),
                _c("primaryOrgSourcedId", Kind.ID, ref=("orgs",)),
                _c("pronouns"),
            ),
        )
        files["roles"] = FileSpec(
            "roles",
            (
                *base,
                _c("userSourcedId", Kind.ID, req=True, ref=("users",)),
                _c("roleType", Kind.ENUM, req=True, vocab=ROLE_TYPES),
                _c("role", Kind.ENUM, req=True, vocab=ROLES_1_2),
                _c("beginDate", Kind.DATE),
                _c("endDate", Kind.DATE),
                _c("orgSourcedId", Kind.ID, req=True, ref=("orgs",)),
                _c("userProfileSourcedId", Kind.ID, ref=("userProfiles",)),
            ),
        )
        files["userProfiles"] = FileSpec(
            "userProfiles",
            (
                *base,
                _c("userSourcedId", Kind.ID, req=True, ref=("users",)),
                _c("profileType", req=True),
                _c("vendorId", req=True),
                _c("applicationId"),
                _c("description"),
                _c("credentialType", req=True),
                _c("username", req=True),
                _c("password"),
            ),
        )
    return files


FILES: dict[Version, dict[str, FileSpec]] = {v: _files(v) for v in Version}

#: Columns a 1.2 producer may leave out without a conformance error: widely deployed 1.2 exports
#: omit ``resourceSourcedIds`` (it duplicates userResources.csv); reported as a warning.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {"users": frozenset({"resourceSourcedIds"})}

#: Every file name a manifest may list, per version (rostering, resources and gradebook).
MANIFEST_FILES: dict[Version, tuple[str, ...]] = {
    Version.V1_1: (
        "academicSessions",
        "categories",
        "classes",
        "classResources",
        "courses",
        "courseResources",
        "demographics",
        "enrollments",
        "lineItems",
        "orgs",
        "resources",
        "results",
        "users",
    ),
    Version.V1_2: (
        "academicSessions",
        "categories",
        "classes",
        "classResources",
        "courses",
        "courseResources",
        "demographics",
        "enrollments",
        "lineItemLearningObjectiveIds",
        "lineItems",
        "lineItemScoreScales",
        "orgs",
        "resources",
        "resultLearningObjectiveIds",
        "results",
        "resultScoreScales",
        "roles",
        "scoreScales",
        "userProfiles",
        "userResources",
        "users",
    ),
}

MANIFEST_HEADER = ("propertyName", "value")

#: Column names of OneRoster 1.0 (and common misspellings of them) that mean a defined column.
COLUMN_ALIASES: dict[str, str] = {
    "userSourcedId": "sourcedId",  # demographics 1.0
    "birthdate": "birthDate",
    "grade": "grades",
    "userId": "userIds",
    "agents": "agentSourcedIds",
    "schoolYearId": "schoolYearSourcedId",
}

#: Dependency order: a file refers only to files before it (used by writers and checkers).
FILE_ORDER = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "userProfiles",
    "roles",
    "demographics",
    "enrollments",
)


def files_for(version: Version) -> dict[str, FileSpec]:
    return FILES[version]
