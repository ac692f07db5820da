"""The Ed-Fi entities Steward reads, as plain values: what the XML and JSON readers both produce.

Descriptors are kept as code values (``Male``, ``Ninth grade``); school years as the ending year.
``where`` is ``(file, line)`` for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

Where = tuple[str, int | None]


@dataclass(frozen=True, slots=True)
class SectionKey:
    section_id: str
    local_course_code: str
    school_id: str
    school_year: int
    session_name: str


@dataclass(frozen=True, slots=True)
class EdOrg:
    kind: str  # school | lea | sea | esc
    id: str
    name: str
    parent: str | None = None  # a school's LEA id; resolved from an XML ref when needed
    parent_ref: str | None = None  # XML id of the parent element, before resolution
    xml_id: str | None = None
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Session:
    school_id: str
    school_year: int
    name: str
    begin: date
    end: date
    term: str  # TermDescriptor code value


@dataclass(frozen=True, slots=True)
class CalendarDay:
    school_id: str
    school_year: int
    day: date
    events: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Course:
    edorg_id: str
    code: str
    title: str
    subject: str = ""
    state_code: str = ""
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class CourseOffering:
    local_code: str
    school_id: str
    school_year: int
    session_name: str
    course_code: str
    course_edorg_id: str
    title: str = ""
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Section:
    key: SectionKey
    room: str = ""
    periods: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class Student:
    id: str
    first_name: str
    middle_name: str
    last_name: str
    birth_date: date | None
    where: Where
    sex: str = ""  # 2.x carries demographics on the student
    races: tuple[str, ...] = ()
    hispanic: bool | None = None
    state_id: str = ""
    birth_country: str = ""
    xml_id: str | None = None
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class StudentSchool:
    student: str
    school_id: str
    entry: date
    exit: date | None
    grade: str
    primary: bool | None
    school_year: int | None
    where: Where
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class StudentEdOrg:
    student: str
    edorg_id: str
    sex: str
    races: tuple[str, ...]
    hispanic: bool | None
    state_id: str = ""
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class StudentSection:
    student: str
    key: SectionKey
    begin: date | None
    end: date | None
    where: Where
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Staff:
    id: str
    first_name: str
    middle_name: str
    last_name: str
    email: str
    xml_id: str | None = None
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class StaffSchool:
    staff: str
    school_id: str


@dataclass(frozen=True, slots=True)
class StaffAssignment:
    staff: str
    edorg_id: str
    classification: str
    begin: date | None
    end: date | None
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class StaffSection:
    staff: str
    key: SectionKey
    position: str
    begin: date | None
    end: date | None
    where: Where
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    first_name: str
    last_name: str
    email: str
    xml_id: str | None = None
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class StudentContact:
    student: str
    contact: str | None
    contact_ref: str | None
    relation: str
    restricted: bool
    where: Where
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class ProgramAssociation:
    student: str
    kind: str  # element / resource name, e.g. StudentSpecialEducationProgramAssociation
    program_name: str
    program_type: str
    edorg_id: str
    begin: date
    end: date | None
    exit_reason: str
    where: Where
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class AttendanceEvent:
    student: str
    school_id: str
    day: date
    category: str
    duration: Decimal | None
    where: Where
    section: bool = False
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class DisciplineIncident:
    incident_id: str
    school_id: str
    day: date
    behaviors: tuple[str, ...]
    xml_id: str | None = None
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class IncidentBehavior:
    student: str
    incident_id: str | None
    school_id: str | None
    incident_ref: str | None
    behavior: str
    weapons: tuple[str, ...]
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class DisciplineAction:
    action_id: str
    student: str
    day: date
    disciplines: tuple[str, ...]
    length: Decimal | None
    actual_length: Decimal | None
    school_id: str
    incidents: tuple[tuple[str, str, str], ...]  # (incident id, school id, behavior)
    where: Where
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    identifier: str
    namespace: str
    title: str
    subjects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StudentAssessment:
    student: str
    assessment_id: str
    namespace: str
    day: date
    grade: str
    scores: tuple[tuple[str, str], ...]  # (reporting method, result)
    performance_levels: tuple[str, ...]
    school_id: str
    where: Where
    ext: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    """A course transcript line (Ed-Fi CourseTranscript)."""

    student: str
    edorg_id: str
    school_year: int
    term: str
    course_code: str
    course_title: str
    letter_grade: str
    attempted: Decimal | None
    earned: Decimal | None
    ext: dict[str, object] | None = None


@dataclass(slots=True)
class EdFiData:
    """Everything read from one source (a directory of interchanges or of API resources)."""

    edorgs: list[EdOrg] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    calendar: list[CalendarDay] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    offerings: list[CourseOffering] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    students: list[Student] = field(default_factory=list)
    student_schools: list[StudentSchool] = field(default_factory=list)
    student_edorgs: list[StudentEdOrg] = field(default_factory=list)
    student_sections: list[StudentSection] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    staff_schools: list[StaffSchool] = field(default_factory=list)
    staff_assignments: list[StaffAssignment] = field(default_factory=list)
    staff_sections: list[StaffSection] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    student_contacts: list[StudentContact] = field(default_factory=list)
    programs: list[ProgramAssociation] = field(default_factory=list)
    attendance: list[AttendanceEvent] = field(default_factory=list)
    incidents: list[DisciplineIncident] = field(default_factory=list)
    behaviors: list[IncidentBehavior] = field(default_factory=list)
    actions: list[DisciplineAction] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)
    student_assessments: list[StudentAssessment] = field(default_factory=list)
    transcripts: list[Transcript] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in self.__dataclass_fields__}
