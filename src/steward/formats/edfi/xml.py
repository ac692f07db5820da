"""Ed-Fi Data Standard XML interchanges (5.x; 2.x where the shape allows) -> Ed-Fi entities.

Parsing is streaming (lxml ``iterparse``, each top-level element freed once read) and hardened:
a document that declares a DOCTYPE (the only place entities can be declared) is refused before
anything else is read, entities are never substituted, the network is never used, and huge-tree
mode stays off. Optional XSD validation uses the interchange schemas of the Data Standard
(``Interchange-<Name>.xsd`` in a schema directory), loaded from local files only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from defusedxml import DTDForbidden, EntitiesForbidden
from lxml import etree

from steward.formats.edfi import model as m
from steward.formats.edfi.descriptors import code_value
from steward.formats.report import ConversionReport, Severity

_PROLOG_LIMIT = 1 << 16
_DECL = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlRefusedError(ValueError):
    """The document uses a feature Steward never accepts from outside (DTDs, entities)."""


def check_prolog(path: Path) -> None:
    """Refuse a document whose prolog declares a DOCTYPE or entities (XXE, entity expansion)."""
    with path.open("rb") as fh:
        head = fh.read(_PROLOG_LIMIT)
    # the prolog ends where the first element starts ("<" followed by a name character)
    start = re.search(rb"<[A-Za-z_]", head)
    prolog = head if start is None else head[: start.start()]
    found = _DECL.search(prolog)
    if found is not None:
        kind = found.group(1).decode().upper()
        error: Exception = (
            DTDForbidden(None, None, None)
            if kind == "DOCTYPE"
            else EntitiesForbidden(None, None, None, None, None, None)
        )
        raise XmlRefusedError(f"declares a {kind}; DTDs and entities are refused (XXE protection)") from error


def _parser_options() -> dict[str, Any]:
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
        "remove_comments": True,
        "remove_pis": True,
    }


def safe_parse(path: Path) -> Any:
    """The whole document as an lxml tree (for validation), refused if it declares a DTD."""
    check_prolog(path)
    parser = etree.XMLParser(**_parser_options())
    tree = etree.parse(str(path), parser)
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlRefusedError("declares a DOCTYPE; DTDs and entities are refused (XXE protection)")
    return tree


def iter_top(path: Path) -> Iterator[tuple[str, Any]]:
    """(namespace, element) for each child of the root, freed after use; refuses DTDs first."""
    check_prolog(path)
    context = etree.iterparse(str(path), events=("start", "end"), **_parser_options())
    depth = 0
    root: Any = None
    for event, el in context:
        if event == "start":
            if depth == 0:
                root = el
                info = el.getroottree().docinfo
                if info.doctype or info.internalDTD is not None:
                    raise XmlRefusedError(
                        "declares a DOCTYPE; DTDs and entities are refused (XXE protection)"
                    )
            depth += 1
            continue
        depth -= 1
        if depth == 1 and isinstance(el.tag, str):
            ns = el.tag[: el.tag.index("}") + 1] if el.tag.startswith("{") else ""
            yield ns, el
            el.clear()
            if root is not None:
                while el.getprevious() is not None:
                    del root[0]


@lru_cache(maxsize=4096)
def _path(ns: str, path: str) -> str:
    return "/".join(p if p in (".", "..", "") or p.startswith("*") else f"{ns}{p}" for p in path.split("/"))


class _El:
    """Namespace-free lookups on one element."""

    __slots__ = ("el", "ns")

    def __init__(self, el: Any, ns: str) -> None:
        self.el = el
        self.ns = ns

    def text(self, path: str) -> str:
        found = self.el.find(_path(self.ns, path))
        if found is None:
            return ""
        code = found.find(f"{self.ns}CodeValue")
        if code is not None:
            return (code.text or "").strip()
        return (found.text or "").strip()

    def desc(self, path: str) -> str:
        return code_value(self.text(path))

    def all(self, path: str) -> list[_El]:
        return [_El(e, self.ns) for e in self.el.findall(_path(self.ns, path))]

    def descs(self, path: str) -> tuple[str, ...]:
        out = []
        for e in self.el.findall(_path(self.ns, path)):
            code = e.find(f"{self.ns}CodeValue")
            out.append(code_value((code.text if code is not None else e.text) or ""))
        return tuple(v for v in out if v)

    def find(self, path: str) -> _El | None:
        found = self.el.find(_path(self.ns, path))
        return None if found is None else _El(found, self.ns)

    def attr(self, path: str, name: str) -> str | None:
        found = self.el.find(_path(self.ns, path)) if path else self.el
        return None if found is None else found.get(name)

    @property
    def line(self) -> int | None:
        line = self.el.sourceline
        return int(line) if line is not None else None


class _BadValueError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _date(e: _El, path: str, *, required: bool = True) -> date | None:
    text = e.text(path)
    if not text:
        if required:
            raise _BadValueError(path, "is required")
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise _BadValueError(path, f"{text!r} is not a date") from None


def _req_date(e: _El, path: str) -> date:
    day = _date(e, path)
    if day is None:
        raise _BadValueError(path, "is required")
    return day


def _decimal(e: _El, path: str) -> Decimal | None:
    text = e.text(path)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise _BadValueError(path, f"{text!r} is not a number") from None


def school_year(text: str) -> int:
    """``2021-2022`` or ``2022`` -> 2022 (the ending year)."""
    text = text.strip()
    if "-" in text:
        text = text.rsplit("-", 1)[1]
    return int(text)


def _year(e: _El, path: str) -> int:
    text = e.text(path)
    if not text:
        raise _BadValueError(path, "is required")
    try:
        return school_year(text)
    except ValueError:
        raise _BadValueError(path, f"{text!r} is not a school year") from None


def _bool(text: str) -> bool | None:
    t = text.strip().lower()
    if t in ("1", "true"):
        return True
    if t in ("0", "false"):
        return False
    return None


def _student_id(e: _El) -> str:
    sid = e.text("StudentReference/StudentIdentity/StudentUniqueId") or e.text(
        "StudentReference//StudentUniqueId"
    )
    if not sid:
        raise _BadValueError("StudentReference", "names no StudentUniqueId")
    return sid


def _school_of(e: _El, path: str) -> str:
    return e.text(f"{path}/SchoolIdentity/SchoolId") or e.text(f"{path}//SchoolId")


def _section_key(e: _El, path: str = "SectionReference") -> m.SectionKey:
    base = f"{path}/SectionIdentity"
    section_id = e.text(f"{base}/SectionIdentifier") or e.text(f"{base}/UniqueSectionCode")
    local = e.text(f"{base}//LocalCourseCode")
    school = e.text(f"{base}//SchoolId")
    year_text = e.text(f"{base}//SchoolYear")
    session = e.text(f"{base}//SessionName") or code_value(e.text(f"{base}//Term"))
    if not (section_id and school and year_text):
        raise _BadValueError(path, "does not identify a section (SectionIdentifier, SchoolId, SchoolYear)")
    return m.SectionKey(section_id, local, school, school_year(year_text), session)


def _where(file: str, e: _El) -> m.Where:
    return (file, e.line)


Handler = Callable[[_El, str, m.EdFiData], None]


def _edorg(kind: str, id_path: str) -> Handler:
    def handle(e: _El, file: str, data: m.EdFiData) -> None:
        parent = parent_ref = None
        if kind == "school":
            parent = e.text("LocalEducationAgencyReference//LocalEducationAgencyId") or None
            parent_ref = e.attr("LocalEducationAgencyReference", "ref")
        elif kind == "lea":
            parent = (
                e.text("StateEducationAgencyReference//StateEducationAgencyId")
                or e.text("EducationServiceCenterReference//EducationServiceCenterId")
                or None
            )
            parent_ref = e.attr("StateEducationAgencyReference", "ref") or e.attr(
                "EducationServiceCenterReference", "ref"
            )
        data.edorgs.append(
            m.EdOrg(kind, e.text(id_path), e.text("NameOfInstitution"), parent, parent_ref, e.attr("", "id"))
        )

    return handle


def _session(e: _El, file: str, data: m.EdFiData) -> None:
    begin, end = _req_date(e, "BeginDate"), _req_date(e, "EndDate")
    name = e.text("SessionName") or e.desc("Term")
    data.sessions.append(
        m.Session(_school_of(e, "SchoolReference"), _year(e, "SchoolYear"), name, begin, end, e.desc("Term"))
    )


def _calendar_date(e: _El, file: str, data: m.EdFiData) -> None:
    day = _req_date(e, "Date")
    school = e.text("CalendarReference//SchoolId") or e.text(".//SchoolId")
    year_text = e.text("CalendarReference/CalendarIdentity/SchoolYear") or e.text(".//SchoolYear")
    if not school or not year_text:
        data_year = day.year + 1 if day.month >= 7 else day.year
        year = data_year
    else:
        year = school_year(year_text)
    data.calendar.append(m.CalendarDay(school, year, day, e.descs("CalendarEvent")))


def _course(e: _El, file: str, data: m.EdFiData) -> None:
    state_code = ""
    for code in e.all("CourseIdentificationCode"):
        if code.desc("CourseIdentificationSystem") == "State course code":
            state_code = code.text("IdentificationCode")
    data.courses.append(
        m.Course(
            e.text("EducationOrganizationReference//EducationOrganizationId"),
            e.text("CourseCode"),
            e.text("CourseTitle"),
            e.desc("AcademicSubject"),
            state_code,
        )
    )


def _offering(e: _El, file: str, data: m.EdFiData) -> None:
    data.offerings.append(
        m.CourseOffering(
            e.text("LocalCourseCode"),
            _school_of(e, "SchoolReference"),
            _year(e, "SessionReference//SchoolYear"),
            e.text("SessionReference//SessionName"),
            e.text("CourseReference//CourseCode"),
            e.text("CourseReference//EducationOrganizationId"),
            e.text("LocalCourseTitle"),
        )
    )


def _section(e: _El, file: str, data: m.EdFiData) -> None:
    base = "CourseOfferingReference/CourseOfferingIdentity"
    key = m.SectionKey(
        e.text("SectionIdentifier") or e.text("UniqueSectionCode"),
        e.text(f"{base}/LocalCourseCode"),
        e.text(f"{base}//SchoolId"),
        _year(e, f"{base}//SchoolYear"),
        e.text(f"{base}//SessionName"),
    )
    periods = tuple(p.text("ClassPeriodIdentity/ClassPeriodName") for p in e.all("ClassPeriodReference"))
    data.sections.append(
        m.Section(
            key, e.text("LocationReference//ClassroomIdentificationCode"), periods, e.text("SectionName")
        )
    )


def _state_id(e: _El) -> str:
    for code in e.all("StudentIdentificationCode"):
        if code.desc("StudentIdentificationSystem") == "State":
            return code.text("IdentificationCode")
    return ""


def _student(e: _El, file: str, data: m.EdFiData) -> None:
    races = e.descs("Race") or e.descs("Race/RacialCategory")
    data.students.append(
        m.Student(
            e.text("StudentUniqueId"),
            e.text("Name/FirstName"),
            e.text("Name/MiddleName"),
            e.text("Name/LastSurname"),
            _date(e, "BirthData/BirthDate", required=False) or _date(e, "BirthDate", required=False),
            _where(file, e),
            e.desc("Sex") or e.desc("BirthSex"),
            races,
            _bool(e.text("HispanicLatinoEthnicity")),
            _state_id(e),
            e.desc("BirthData/BirthCountry"),
            e.attr("", "id"),
        )
    )


def _student_school(e: _El, file: str, data: m.EdFiData) -> None:
    entry = _req_date(e, "EntryDate")
    year_text = e.text("SchoolYear") or e.text("SchoolYearTypeReference//SchoolYear")
    data.student_schools.append(
        m.StudentSchool(
            _student_id(e),
            _school_of(e, "SchoolReference"),
            entry,
            _date(e, "ExitWithdrawDate", required=False),
            e.desc("EntryGradeLevel"),
            _bool(e.text("PrimarySchool")),
            school_year(year_text) if year_text else None,
            _where(file, e),
        )
    )


def _student_edorg(e: _El, file: str, data: m.EdFiData) -> None:
    races = e.descs("StudentEducationOrganizationAssociationRace/Race") or e.descs("Race")
    data.student_edorgs.append(
        m.StudentEdOrg(
            _student_id(e),
            e.text("EducationOrganizationReference//EducationOrganizationId"),
            e.desc("Sex"),
            races,
            _bool(e.text("HispanicLatinoEthnicity")),
            _state_id(e),
        )
    )


def _student_section(e: _El, file: str, data: m.EdFiData) -> None:
    data.student_sections.append(
        m.StudentSection(
            _student_id(e),
            _section_key(e),
            _date(e, "BeginDate", required=False),
            _date(e, "EndDate", required=False),
            _where(file, e),
        )
    )


def _email(e: _El, prefer: tuple[str, ...]) -> str:
    mails = [
        (m_.desc("ElectronicMailType"), m_.text("ElectronicMailAddress")) for m_ in e.all("ElectronicMail")
    ]
    for kind in prefer:
        for t, addr in mails:
            if t == kind and addr:
                return addr
    return next((addr for _, addr in mails if addr), "")


def _staff(e: _El, file: str, data: m.EdFiData) -> None:
    data.staff.append(
        m.Staff(
            e.text("StaffUniqueId"),
            e.text("Name/FirstName"),
            e.text("Name/MiddleName"),
            e.text("Name/LastSurname"),
            _email(e, ("Work",)),
            e.attr("", "id"),
        )
    )


def _staff_id(e: _El) -> str:
    sid = e.text("StaffReference//StaffUniqueId")
    if not sid:
        raise _BadValueError("StaffReference", "names no StaffUniqueId")
    return sid


def _staff_school(e: _El, file: str, data: m.EdFiData) -> None:
    data.staff_schools.append(m.StaffSchool(_staff_id(e), _school_of(e, "SchoolReference")))


def _staff_assignment(e: _El, file: str, data: m.EdFiData) -> None:
    data.staff_assignments.append(
        m.StaffAssignment(
            _staff_id(e),
            e.text("EducationOrganizationReference//EducationOrganizationId"),
            e.desc("StaffClassification"),
            _date(e, "BeginDate", required=False),
            _date(e, "EndDate", required=False),
        )
    )


def _staff_section(e: _El, file: str, data: m.EdFiData) -> None:
    data.staff_sections.append(
        m.StaffSection(
            _staff_id(e),
            _section_key(e),
            e.desc("ClassroomPosition"),
            _date(e, "BeginDate", required=False),
            _date(e, "EndDate", required=False),
            _where(file, e),
        )
    )


def _contact(e: _El, file: str, data: m.EdFiData) -> None:
    data.contacts.append(
        m.Contact(
            e.text("ContactUniqueId") or e.text("ParentUniqueId"),
            e.text("Name/FirstName"),
            e.text("Name/LastSurname"),
            _email(e, ("Home/Personal", "Other", "Work")),
            e.attr("", "id"),
        )
    )


def _student_contact(e: _El, file: str, data: m.EdFiData) -> None:
    ref_path = "ContactReference" if e.find("ContactReference") is not None else "ParentReference"
    contact = e.text(f"{ref_path}//ContactUniqueId") or e.text(f"{ref_path}//ParentUniqueId") or None
    data.student_contacts.append(
        m.StudentContact(
            _student_id(e),
            contact,
            e.attr(ref_path, "ref"),
            e.desc("Relation"),
            bool(e.text("ContactRestrictions")),
            _where(file, e),
        )
    )


def _program(e: _El, file: str, data: m.EdFiData) -> None:
    begin = _req_date(e, "BeginDate")
    kind = etree.QName(e.el).localname
    data.programs.append(
        m.ProgramAssociation(
            _student_id(e),
            kind,
            e.text("ProgramReference//ProgramName"),
            e.desc("ProgramReference//ProgramType"),
            e.text("EducationOrganizationReference//EducationOrganizationId")
            or e.text("ProgramReference//EducationOrganizationId"),
            begin,
            _date(e, "EndDate", required=False),
            e.desc("ReasonExited"),
            _where(file, e),
        )
    )


def _attendance(section: bool) -> Handler:
    def handle(e: _El, file: str, data: m.EdFiData) -> None:
        day = _date(e, "AttendanceEvent/EventDate", required=False) or _req_date(e, "EventDate")
        school = _school_of(e, "SchoolReference") or e.text("SectionReference//SchoolId")
        category = e.desc("AttendanceEvent/AttendanceEventCategory") or e.desc("AttendanceEventCategory")
        duration = _decimal(e, "AttendanceEvent/EventDuration")
        data.attendance.append(
            m.AttendanceEvent(_student_id(e), school, day, category, duration, _where(file, e), section)
        )

    return handle


def _incident(e: _El, file: str, data: m.EdFiData) -> None:
    day = _req_date(e, "IncidentDate")
    data.incidents.append(
        m.DisciplineIncident(
            e.text("IncidentIdentifier"),
            _school_of(e, "SchoolReference"),
            day,
            e.descs("Behavior/Behavior"),
            e.attr("", "id"),
        )
    )


def _incident_behavior(e: _El, file: str, data: m.EdFiData) -> None:
    data.behaviors.append(
        m.IncidentBehavior(
            _student_id(e),
            e.text("DisciplineIncidentReference//IncidentIdentifier") or None,
            e.text("DisciplineIncidentReference//SchoolId") or None,
            e.attr("DisciplineIncidentReference", "ref"),
            e.desc("Behavior") or e.desc("StudentDisciplineIncidentBehavior/Behavior"),
            e.descs("Weapon") or e.descs("Weapons/Weapon"),
        )
    )


def _action(e: _El, file: str, data: m.EdFiData) -> None:
    day = _req_date(e, "DisciplineDate")
    incidents = []
    for ref in e.all("StudentDisciplineIncidentBehaviorAssociationReference"):
        incidents.append(
            (ref.text(".//IncidentIdentifier"), ref.text(".//SchoolId"), code_value(ref.text(".//Behavior")))
        )
    for ref in e.all("StudentDisciplineIncidentAssociationReference"):
        incidents.append((ref.text(".//IncidentIdentifier"), ref.text(".//SchoolId"), ""))
    data.actions.append(
        m.DisciplineAction(
            e.text("DisciplineActionIdentifier"),
            _student_id(e),
            day,
            e.descs("Discipline") or e.descs("Discipline/Discipline"),
            _decimal(e, "DisciplineActionLength"),
            _decimal(e, "ActualDisciplineActionLength"),
            _school_of(e, "ResponsibilitySchoolReference"),
            tuple(incidents),
            _where(file, e),
        )
    )


def _assessment(e: _El, file: str, data: m.EdFiData) -> None:
    data.assessments.append(
        m.Assessment(
            e.text("AssessmentIdentifier"),
            e.text("Namespace"),
            e.text("AssessmentTitle"),
            e.descs("AcademicSubject"),
        )
    )


def _student_assessment(e: _El, file: str, data: m.EdFiData) -> None:
    day = _req_date(e, "AdministrationDate")
    scores = tuple((s.desc("AssessmentReportingMethod"), s.text("Result")) for s in e.all("ScoreResult"))
    levels = tuple(p.desc("PerformanceLevel") for p in e.all("PerformanceLevel"))
    data.student_assessments.append(
        m.StudentAssessment(
            _student_id(e),
            e.text("AssessmentReference//AssessmentIdentifier"),
            e.text("AssessmentReference//Namespace"),
            day,
            e.desc("WhenAssessedGradeLevel"),
            scores,
            levels,
            _school_of(e, "ReportedSchoolReference"),
            _where(file, e),
        )
    )


HANDLERS: dict[str, Handler] = {
    "School": _edorg("school", "SchoolId"),
    "LocalEducationAgency": _edorg("lea", "LocalEducationAgencyId"),
    "StateEducationAgency": _edorg("sea", "StateEducationAgencyId"),
    "EducationServiceCenter": _edorg("esc", "EducationServiceCenterId"),
    "Session": _session,
    "CalendarDate": _calendar_date,
    "Course": _course,
    "CourseOffering": _offering,
    "Section": _section,
    "Student": _student,
    "StudentSchoolAssociation": _student_school,
    "StudentEducationOrganizationAssociation": _student_edorg,
    "StudentSectionAssociation": _student_section,
    "Staff": _staff,
    "StaffSchoolAssociation": _staff_school,
    "StaffEducationOrganizationAssignmentAssociation": _staff_assignment,
    "StaffSectionAssociation": _staff_section,
    "Contact": _contact,
    "Parent": _contact,
    "StudentContactAssociation": _student_contact,
    "StudentParentAssociation": _student_contact,
    "StudentSchoolAttendanceEvent": _attendance(False),
    "StudentSectionAttendanceEvent": _attendance(True),
    "DisciplineIncident": _incident,
    "StudentDisciplineIncidentBehaviorAssociation": _incident_behavior,
    "StudentDisciplineIncidentAssociation": _incident_behavior,
    "DisciplineAction": _action,
    "Assessment": _assessment,
    "StudentAssessment": _student_assessment,
}


def read_file(path: Path, data: m.EdFiData, report: ConversionReport) -> None:
    """Add the entities of one interchange file to ``data``; problems go to ``report``."""
    file = path.name
    try:
        for ns, el in iter_top(path):
            name = etree.QName(el).localname
            handler = HANDLERS.get(name)
            if handler is None and name.startswith("Student") and name.endswith("ProgramAssociation"):
                handler = _program
            if handler is None:
                report.drop(f"Ed-Fi {name}", None, "not read: no canonical record holds it")
                continue
            report.read[f"Ed-Fi {name}"] += 1
            try:
                handler(_El(el, ns), file, data)
            except _BadValueError as bad:
                report.issue(file, el.sourceline, bad.field, f"{name}: {bad}")
    except XmlRefusedError as refused:
        report.issue(file, None, None, f"refused: {refused}")
    except etree.XMLSyntaxError as e:
        report.issue(file, e.lineno, None, f"is not well-formed XML: {e.msg}")


def read_directory(
    paths: Path | list[Path], report: ConversionReport | None = None
) -> tuple[m.EdFiData, ConversionReport]:
    """Read every ``*.xml`` interchange in the given directories (or files), sorted by name."""
    report = report if report is not None else ConversionReport()
    data = m.EdFiData()
    items = paths if isinstance(paths, list) else [paths]
    for item in items:
        files = sorted(Path(item).glob("*.xml")) if Path(item).is_dir() else [Path(item)]
        if Path(item).is_dir() and not files:
            report.issue(str(item), None, None, "holds no .xml interchange files")
        for path in files:
            read_file(path, data, report)
    return data, report


# ------------------------------------------------------------------------------ XSD validation

_INTERCHANGE = re.compile(r"Interchange([A-Za-z]+)$")


@lru_cache(maxsize=32)
def _schema(path: str) -> Any:
    parser = etree.XMLParser(**_parser_options())
    return etree.XMLSchema(etree.parse(path, parser))


def schema_for(root_name: str, schema_dir: Path) -> Path | None:
    """``InterchangeStudent`` -> ``<schema_dir>/Interchange-Student.xsd`` if it exists."""
    match = _INTERCHANGE.fullmatch(root_name)
    if match is None:
        return None
    candidate = Path(schema_dir) / f"Interchange-{match.group(1)}.xsd"
    return candidate if candidate.exists() else None


def validate(path: Path, schema_dir: Path, report: ConversionReport, *, max_errors: int = 50) -> bool:
    """Validate one interchange against its XSD; each violation is an issue with its line."""
    try:
        tree = safe_parse(path)
    except XmlRefusedError as refused:
        report.issue(path.name, None, None, f"refused: {refused}")
        return False
    except etree.XMLSyntaxError as e:
        report.issue(path.name, e.lineno, None, f"is not well-formed XML: {e.msg}")
        return False
    root = etree.QName(tree.getroot()).localname
    xsd = schema_for(root, schema_dir)
    if xsd is None:
        report.issue(path.name, None, None, f"no schema for {root} in {schema_dir.name}", Severity.WARNING)
        return True
    schema = _schema(str(xsd))
    if schema.validate(tree):
        return True
    for err in list(schema.error_log)[:max_errors]:
        report.issue(path.name, err.line, None, f"does not match {xsd.name}: {err.message}")
    return False
