"""Ed-Fi entities -> canonical records.

- ``Location``: a school per school year of its sessions; the district is its LEA; first and last
  day are the first and last instructional days of its calendar (CalendarDate events the
  edfi-oneroster crosswalk counts as school days), when it has one.
- ``DistrictStudent``: Ed-Fi has no district enrollment, so a student's district spells are their
  StudentSchoolAssociations at the LEA's schools, overlapping or adjacent ones merged; sex, race
  and ethnicity are the union over all StudentEducationOrganizationAssociations (as in the
  edfi-oneroster demographics view), else the 2.x Student; grade is the latest association's.
  A student with no school association has no spell and becomes no record (reported).
- ``SchoolStudent`` per StudentSchoolAssociation; ``ScheduleEntry`` per StudentSectionAssociation;
  ``Course`` per course offering (school, year, course code); the term is the session's
  TermDescriptor code (``descriptors.TERM``), else the session name.
- ``Staff`` per staff member and school (school-level assignment, else school association);
  ``StaffSchedule`` per StaffSectionAssociation; LEA-level staff have no school and are reported.
- ``Guardian`` per StudentContactAssociation; ``ProgramParticipation``, ``Absence``
  (daily excused/unexcused events), ``DisciplineAction`` (exclusionary actions) and
  ``AssessmentResult`` (with a scale score and performance level) through the descriptor tables.

Canonical records written by Steward's own Ed-Fi JSON writer carry the fields Ed-Fi has no home
for in ``_ext.steward``; when present they are used as is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from steward.domain import records as r
from steward.formats.edfi import descriptors as d
from steward.formats.edfi import model as m
from steward.formats.report import ConversionReport, Severity


def _ext(entity: Any) -> dict[str, Any]:
    ext = getattr(entity, "ext", None)
    return ext if isinstance(ext, dict) else {}


def _d(text: Any) -> date | None:
    return date.fromisoformat(text) if isinstance(text, str) and text else None


class _Context:
    def __init__(self, data: m.EdFiData, report: ConversionReport, school_year: int | None) -> None:
        self.data = data
        self.report = report
        by_xml = {o.xml_id: o for o in data.edorgs if o.xml_id}
        self.edorgs: dict[str, m.EdOrg] = {}
        for o in data.edorgs:
            parent = o.parent
            if parent is None and o.parent_ref and o.parent_ref in by_xml:
                parent = by_xml[o.parent_ref].id
            self.edorgs[o.id] = m.EdOrg(o.kind, o.id, o.name, parent, ext=o.ext)
        self.sessions: dict[tuple[str, int, str], m.Session] = {
            (s.school_id, s.school_year, s.name): s for s in data.sessions
        }
        self.years_of_school: dict[str, set[int]] = defaultdict(set)
        self.year_range: dict[int, tuple[date, date]] = {}
        for s in data.sessions:
            self.years_of_school[s.school_id].add(s.school_year)
            lo, hi = self.year_range.get(s.school_year, (s.begin, s.end))
            self.year_range[s.school_year] = (min(lo, s.begin), max(hi, s.end))
        for a in data.student_schools:
            if a.school_year is not None:
                self.years_of_school[a.school_id].add(a.school_year)
        self.sessions_of: dict[str | None, list[m.Session]] = defaultdict(list)
        for s in data.sessions:
            self.sessions_of[s.school_id].append(s)
            self.sessions_of[None].append(s)
        self.schools_of_student: dict[str, list[m.StudentSchool]] = defaultdict(list)
        for a in data.student_schools:
            self.schools_of_student[a.student].append(a)
        all_years = {y for ys in self.years_of_school.values() for y in ys}
        self.default_year = (
            school_year if school_year is not None else (max(all_years) if all_years else None)
        )

    def lea_of(self, edorg_id: str) -> m.EdOrg | None:
        org = self.edorgs.get(edorg_id)
        if org is None:
            return None
        if org.kind == "lea":
            return org
        if org.kind == "school" and org.parent:
            return self.edorgs.get(org.parent) or m.EdOrg("lea", org.parent, org.parent)
        return None

    def year_of(self, day: date | None, school: str | None = None) -> int | None:
        if day is not None:
            for s in self.sessions_of.get(school, ()):
                if s.begin <= day <= s.end:
                    return s.school_year
            for year, (lo, hi) in sorted(self.year_range.items()):
                if lo - timedelta(days=60) <= day <= hi + timedelta(days=60):
                    return year
            if self.default_year is None:
                return day.year + 1 if day.month >= 7 else day.year
        return self.default_year

    def term_of(self, key: m.SectionKey) -> str:
        session = self.sessions.get((key.school_id, key.school_year, key.session_name))
        if session is not None and session.term in d.TERM:
            return d.TERM[session.term]
        if session is None and key.session_name in d.TERM_TO_EDFI:
            return key.session_name
        return key.session_name


def to_canonical(
    data: m.EdFiData, report: ConversionReport | None = None, *, school_year: int | None = None
) -> Iterator[r.Record]:
    """Canonical records of ``data``; what cannot be carried is counted in ``report``."""
    report = report if report is not None else ConversionReport()
    cx = _Context(data, report, school_year)
    yield from _locations(cx)
    students = {s.id: s for s in data.students}
    student_district: dict[str, tuple[str, str | None]] = {}
    yield from _students(cx, students, student_district)
    yield from _courses(cx)
    yield from _schedules(cx, student_district)
    yield from _staff(cx)
    yield from _guardians(cx, student_district)
    yield from _programs(cx, student_district)
    yield from _attendance(cx, student_district)
    yield from _discipline(cx, student_district)
    yield from _assessments(cx, student_district)
    yield from _transcripts(cx, student_district)


def _locations(cx: _Context) -> Iterator[r.Location]:
    school_days: dict[tuple[str, int], list[date]] = defaultdict(list)
    for day in cx.data.calendar:
        if any(ev in d.INSTRUCTIONAL_EVENTS for ev in day.events):
            school_days[(day.school_id, day.school_year)].append(day.day)
    for org in cx.edorgs.values():
        if org.kind != "school":
            continue
        lea = cx.lea_of(org.id)
        if lea is None:
            cx.report.issue(
                "EducationOrganization", None, "SchoolId", f"school {org.id} has no LEA; left out"
            )
            continue
        years = cx.years_of_school.get(org.id) or ({cx.default_year} if cx.default_year else set())
        if not years:
            cx.report.issue(
                "EducationOrganization", None, "SchoolId", f"no school year known for school {org.id}"
            )
        codes = {x["schoolYear"]: x.get("schoolCode", org.id) for x in _ext(org).get("locations", [])}
        if codes:
            years = set(codes)
        for year in sorted(years):
            days = school_days.get((org.id, year))
            yield r.Location(
                year,
                lea.id,
                lea.name,
                org.id,
                codes.get(year, org.id),
                org.name,
                min(days) if days else None,
                max(days) if days else None,
            )


def _merge(spells: list[tuple[date, date | None]]) -> list[tuple[date, date | None]]:
    """Overlapping or adjacent [entry, exit] spells (exit inclusive, None = open) merged."""
    out: list[tuple[date, date | None]] = []
    for entry, exit_ in sorted(spells, key=lambda s: s[0]):
        if out:
            last_entry, last_exit = out[-1]
            if last_exit is None or entry <= last_exit + timedelta(days=1):
                merged_exit = None if last_exit is None or exit_ is None else max(last_exit, exit_)
                out[-1] = (last_entry, merged_exit)
                continue
        out.append((entry, exit_))
    return out


def _students(
    cx: _Context, students: dict[str, m.Student], student_district: dict[str, tuple[str, str | None]]
) -> Iterator[r.Record]:
    by_student: dict[str, list[m.StudentSchool]] = defaultdict(list)
    for a in cx.data.student_schools:
        by_student[a.student].append(a)
    seoa: dict[str, list[m.StudentEdOrg]] = defaultdict(list)
    for s in cx.data.student_edorgs:
        seoa[s.student].append(s)
    no_enrolment = 0
    for sid, st in students.items():
        ext = _ext(st)
        if ext.get("districtEnrollments"):
            yield from _students_from_ext(st, ext, student_district)
            for a in by_student.get(sid, []):
                yield _school_student(cx, a, student_district[sid])
            continue
        assocs = by_student.get(sid, [])
        if not assocs:
            no_enrolment += 1
            continue
        if st.birth_date is None:
            cx.report.issue(
                st.where[0], st.where[1], "BirthDate", f"student {sid} has no birth date; left out"
            )
            continue
        records = seoa.get(sid, [])
        sexes = [x.sex for x in records if x.sex] or ([st.sex] if st.sex else [])
        races = sorted({race for x in records for race in x.races} | set(st.races))
        hispanic_values = [x.hispanic for x in records if x.hispanic is not None]
        hispanic = any(hispanic_values) if hispanic_values else st.hispanic
        state_id = next((x.state_id for x in records if x.state_id), st.state_id) or None
        sex = d.SEX.get(sexes[0], "") if sexes else ""
        if sexes and not sex:
            cx.report.drop("Student", "Sex", f"{sexes[0]!r} has no canonical code")
        latest = max(assocs, key=lambda a: a.entry)
        grade = d.GRADE_LEVEL.get(latest.grade, "")
        if latest.grade and not grade:
            cx.report.drop(
                "StudentSchoolAssociation", "EntryGradeLevel", f"{latest.grade!r} has no canonical code"
            )
        by_lea: dict[str, list[m.StudentSchool]] = defaultdict(list)
        for a in assocs:
            lea = cx.lea_of(a.school_id)
            if lea is None:
                cx.report.issue(
                    a.where[0], a.where[1], "SchoolId", f"school {a.school_id} is not known; left out"
                )
                continue
            by_lea[lea.id].append(a)
        first_year: int | None = None
        for lea_id, items in sorted(by_lea.items()):
            student_district.setdefault(sid, (lea_id, state_id))
            for entry, exit_ in _merge([(a.entry, a.exit) for a in items]):
                year = next((a.school_year for a in items if a.entry == entry and a.school_year), None)
                year = year or cx.year_of(entry)
                if year is None:
                    continue
                first_year = first_year or year
                yield r.DistrictStudent(
                    school_year=year,
                    district_code=lea_id,
                    resident_district_code=lea_id,
                    student_id=sid,
                    state_id=state_id,
                    last_name=st.last_name,
                    first_name=st.first_name,
                    middle_name=st.middle_name,
                    birth_date=st.birth_date,
                    sex=sex,
                    grade_level=grade,
                    entry_date=entry,
                    exit_date=exit_,
                    birth_country=st.birth_country,
                    ethnicity_code="" if hispanic is None else ("1" if hispanic else "2"),
                )
            for a in items:
                yield _school_student(cx, a, (lea_id, state_id))
        for race in races:
            code = d.RACE.get(race)
            if code is None:
                cx.report.drop("Student", "Race", f"{race!r} has no canonical code")
                continue
            if first_year is not None and sid in student_district:
                yield r.StudentRace(first_year, student_district[sid][0], sid, state_id, code)
    if no_enrolment:
        cx.report.drop(
            "Student",
            None,
            "no StudentSchoolAssociation: a canonical student record is an enrollment spell",
            no_enrolment,
        )


def _school_student(cx: _Context, a: m.StudentSchool, district: tuple[str, str | None]) -> r.SchoolStudent:
    ext = _ext(a)
    year = a.school_year or cx.year_of(a.entry, a.school_id) or a.entry.year
    return r.SchoolStudent(
        year,
        ext.get("districtCode", district[0]),
        a.student,
        ext.get("stateId", district[1]),
        a.school_id,
        a.entry,
        a.exit,
        ext.get("withdrawalCode", ""),
        True if a.primary is None else a.primary,
        ext.get("schoolChoiceCode", ""),
    )


def _students_from_ext(
    st: m.Student, ext: dict[str, Any], student_district: dict[str, tuple[str, str | None]]
) -> Iterator[r.Record]:
    for spell in ext["districtEnrollments"]:
        student_district.setdefault(st.id, (spell["districtCode"], spell.get("stateId")))
        yield r.DistrictStudent(
            school_year=spell["schoolYear"],
            district_code=spell["districtCode"],
            resident_district_code=spell.get("residentDistrictCode", spell["districtCode"]),
            student_id=st.id,
            state_id=spell.get("stateId"),
            last_name=st.last_name,
            first_name=st.first_name,
            middle_name=st.middle_name,
            birth_date=st.birth_date or date.min,
            sex=spell.get("sex", ""),
            grade_level=spell.get("gradeLevel", ""),
            entry_date=_d(spell["entryDate"]) or date.min,
            exit_date=_d(spell.get("exitDate")),
            birth_country=st.birth_country,
            ethnicity_code=spell.get("ethnicityCode", ""),
            disability_code=spell.get("disabilityCode", "0"),
            primary_language=spell.get("primaryLanguage", "639"),
            home_language=spell.get("homeLanguage", ""),
            ssn=spell.get("ssn", ""),
            zip_code=spell.get("zipCode", ""),
            homeless=spell.get("homeless", False),
            private_school_part_time=spell.get("privateSchoolPartTime", False),
            home_based_part_time=spell.get("homeBasedPartTime", False),
            f1_visa=spell.get("f1Visa", False),
            foster_care=spell.get("fosterCare"),
            grad_requirements_year=spell.get("gradRequirementsYear", ""),
            expected_grad_year=spell.get("expectedGradYear", ""),
            gpa=_dec(spell.get("gpa")),
            credits_attempted=_dec(spell.get("creditsAttempted")),
            credits_earned=_dec(spell.get("creditsEarned")),
        )
    for race in ext.get("races", []):
        yield r.StudentRace(
            race["schoolYear"],
            race["districtCode"],
            st.id,
            race.get("stateId"),
            race["raceCode"],
            race["method"],
        )


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _courses(cx: _Context) -> Iterator[r.Course]:
    courses = {(c.edorg_id, c.code): c for c in cx.data.courses}
    seen: set[tuple[int, str, str, str]] = set()
    for c in cx.data.courses:
        years = _ext(c).get("years")
        if years is None:
            continue
        for y in years:
            seen.add((y["schoolYear"], y["districtCode"], c.edorg_id, c.code))
            yield r.Course(
                y["schoolYear"],
                y["districtCode"],
                c.edorg_id,
                c.code,
                c.title,
                y.get("contentArea", ""),
                y.get("designation", ""),
                c.state_code,
                y.get("apIb", ""),
            )
    steward_courses = {(c.edorg_id, c.code) for c in cx.data.courses if "years" in _ext(c)}
    for o in cx.data.offerings:
        if (o.course_edorg_id, o.course_code) in steward_courses:
            continue
        lea = cx.lea_of(o.school_id)
        if lea is None:
            continue
        key = (o.school_year, lea.id, o.school_id, o.course_code)
        if key in seen:
            continue
        seen.add(key)
        course = courses.get((o.course_edorg_id, o.course_code))
        title = o.title or (course.title if course else o.course_code)
        yield r.Course(
            o.school_year,
            lea.id,
            o.school_id,
            o.course_code,
            title,
            state_course_code=course.state_code if course else "",
        )
    offered = {(o.course_edorg_id, o.course_code) for o in cx.data.offerings}
    for c in cx.data.courses:
        if (c.edorg_id, c.code) in offered or (c.edorg_id, c.code) in steward_courses:
            continue
        org = cx.edorgs.get(c.edorg_id)
        lea = cx.lea_of(c.edorg_id)
        if org is None or org.kind != "school" or lea is None:
            cx.report.drop(
                "Course", None, "a course above school level with no offering has no canonical school"
            )
            continue
        for year in sorted(
            cx.years_of_school.get(c.edorg_id) or ({cx.default_year} if cx.default_year else ())
        ):
            if (year, lea.id, c.edorg_id, c.code) not in seen:
                seen.add((year, lea.id, c.edorg_id, c.code))
                yield r.Course(year, lea.id, c.edorg_id, c.code, c.title, state_course_code=c.state_code)


def _offering_course(cx: _Context) -> dict[tuple[str, str, int, str], str]:
    return {
        (o.local_code, o.school_id, o.school_year, o.session_name): o.course_code for o in cx.data.offerings
    }


def _schedules(cx: _Context, student_district: dict[str, tuple[str, str | None]]) -> Iterator[r.Record]:
    course_of = _offering_course(cx)

    def course(key: m.SectionKey) -> str:
        return course_of.get(
            (key.local_course_code, key.school_id, key.school_year, key.session_name), key.local_course_code
        )

    for a in cx.data.student_sections:
        if a.student not in student_district:
            cx.report.drop("StudentSectionAssociation", None, "the student has no canonical student record")
            continue
        lea = cx.lea_of(a.key.school_id)
        session = cx.sessions.get((a.key.school_id, a.key.school_year, a.key.session_name))
        begin = a.begin or (session.begin if session else None)
        if lea is None or begin is None:
            cx.report.issue(
                a.where[0], a.where[1], "BeginDate", "no school or begin date for this section association"
            )
            continue
        yield r.ScheduleEntry(
            a.key.school_year,
            lea.id,
            a.student,
            student_district[a.student][1],
            a.key.school_id,
            course(a.key),
            a.key.section_id,
            cx.term_of(a.key),
            begin,
            a.end,
        )
    for s in cx.data.staff_sections:
        lea = cx.lea_of(s.key.school_id)
        session = cx.sessions.get((s.key.school_id, s.key.school_year, s.key.session_name))
        begin = s.begin or (session.begin if session else None)
        if lea is None or begin is None:
            cx.report.issue(
                s.where[0], s.where[1], "BeginDate", "no school or begin date for this section association"
            )
            continue
        role = d.CLASSROOM_POSITION.get(s.position)
        if role is None:
            cx.report.drop(
                "StaffSectionAssociation", "ClassroomPosition", f"{s.position!r}: read as co_teacher"
            )
            role = "co_teacher"
        yield r.StaffSchedule(
            s.key.school_year,
            lea.id,
            s.key.school_id,
            course(s.key),
            s.key.section_id,
            cx.term_of(s.key),
            s.staff,
            role,
            begin,
            s.end,
        )


def _staff(cx: _Context) -> Iterator[r.Staff]:
    people = {s.id: s for s in cx.data.staff}
    teaches: set[tuple[str, str]] = {(s.staff, s.key.school_id) for s in cx.data.staff_sections}
    teach_years: dict[tuple[str, str], set[int]] = defaultdict(set)
    for sec in cx.data.staff_sections:
        teach_years[(sec.staff, sec.key.school_id)].add(sec.key.school_year)
    assignments: dict[tuple[str, str], list[m.StaffAssignment]] = defaultdict(list)
    lea_level: dict[str, m.StaffAssignment] = {}
    for a in cx.data.staff_assignments:
        org = cx.edorgs.get(a.edorg_id)
        if org is not None and org.kind == "school":
            assignments[(a.staff, a.edorg_id)].append(a)
        else:
            lea_level.setdefault(a.staff, a)
    pairs = set(assignments) | {(s.staff, s.school_id) for s in cx.data.staff_schools} | teaches
    without_school = set(lea_level) - {p[0] for p in pairs}
    if without_school:
        cx.report.drop(
            "Staff",
            None,
            "assigned above school level only: canonical staff serve at a school",
            len(without_school),
        )
    for staff_id, school_id in sorted(pairs):
        person = people.get(staff_id)
        lea = cx.lea_of(school_id)
        if person is None or lea is None:
            cx.report.drop("StaffSchoolAssociation", None, "the staff member or school is not in the data")
            continue
        items: list[m.StaffAssignment | None] = list(assignments.get((staff_id, school_id), [])) or [None]
        for asg in items:
            classification = (
                asg.classification
                if asg
                else (lea_level[staff_id].classification if staff_id in lea_level else "")
            )
            role = d.STAFF_CLASSIFICATION.get(classification)
            if role is None:
                role = "teacher" if (staff_id, school_id) in teaches else "other"
                if classification:
                    cx.report.drop("Staff", "StaffClassification", f"{classification!r}: read as {role}")
            ext = _ext(asg) if asg else {}
            known = cx.years_of_school.get(school_id) or ({cx.default_year} if cx.default_year else set())
            # the years the assignment overlaps, and any year the person teaches a section there
            years = ext.get("schoolYears") or sorted(
                {y for y in known if _overlaps(cx, y, asg)} | teach_years.get((staff_id, school_id), set())
            )
            if not years:
                cx.report.drop("Staff", None, "assignment dated outside every school year of the data")
            for year in years:
                yield r.Staff(
                    year,
                    lea.id,
                    staff_id,
                    str(ext.get("certificationNumber", "")),
                    person.last_name,
                    person.first_name,
                    person.middle_name,
                    school_id,
                    ext.get("role", role),
                    person.email,
                    asg.begin if asg else None,
                    asg.end if asg else None,
                )


def _overlaps(cx: _Context, year: int, a: m.StaffAssignment | None) -> bool:
    if a is None or year not in cx.year_range:
        return True
    lo, hi = cx.year_range[year]
    return (a.begin is None or a.begin <= hi) and (a.end is None or a.end >= lo)


def _guardians(cx: _Context, student_district: dict[str, tuple[str, str | None]]) -> Iterator[r.Guardian]:
    by_xml = {c.xml_id: c for c in cx.data.contacts if c.xml_id}
    by_id = {c.id: c for c in cx.data.contacts}
    leas = {o.id for o in cx.edorgs.values() if o.kind == "lea"}
    for link in cx.data.student_contacts:
        contact = by_id.get(link.contact or "") or by_xml.get(link.contact_ref or "")
        if contact is None:
            cx.report.issue(
                link.where[0], link.where[1], "ContactReference", "refers to a contact not in the data"
            )
            continue
        ext = _ext(link)
        district = (ext["districtCode"], ext.get("stateId")) if "districtCode" in ext else None
        district = district or student_district.get(link.student)
        if district is None:
            if len(leas) != 1:
                cx.report.drop("StudentContactAssociation", None, "the student's district is not known")
                continue
            district = (next(iter(leas)), None)
        relationship = d.RELATION.get(link.relation)
        if relationship is None:
            cx.report.drop("StudentContactAssociation", "Relation", f"{link.relation!r}: read as other")
            relationship = "other"
        yield r.Guardian(
            district[0],
            link.student,
            district[1],
            contact.id,
            contact.last_name,
            contact.first_name,
            ext.get("relationship", relationship),
            contact.email,
            _d(ext.get("startDate")),
            _d(ext.get("endDate")),
            link.restricted,
        )


def _school_at(cx: _Context, student: str, day: date) -> str | None:
    best: m.StudentSchool | None = None
    for a in cx.schools_of_student.get(student, ()):
        active = a.entry <= day and (a.exit is None or day <= a.exit)
        if active and (best is None or (a.primary or False) > (best.primary or False)):
            best = a
    return best.school_id if best else None


def _district_for(
    cx: _Context,
    student: str,
    edorg: str,
    student_district: dict[str, tuple[str, str | None]],
    ext: dict[str, Any] | None = None,
) -> tuple[str, str | None] | None:
    if ext and "districtCode" in ext:
        return (ext["districtCode"], ext.get("stateId"))
    if student in student_district:
        return student_district[student]
    lea = cx.lea_of(edorg)
    return (lea.id, None) if lea else None


def _programs(
    cx: _Context, student_district: dict[str, tuple[str, str | None]]
) -> Iterator[r.ProgramParticipation]:
    for p in cx.data.programs:
        ext = _ext(p)
        code = (
            ext.get("programCode") or d.PROGRAM_ASSOCIATION.get(p.kind) or d.PROGRAM_TYPE.get(p.program_type)
        )
        if code is None:
            cx.report.drop(p.kind, None, f"program type {p.program_type!r} has no CEDARS program code")
            continue
        district = _district_for(cx, p.student, p.edorg_id, student_district, ext)
        if district is None:
            cx.report.drop(p.kind, None, "the program's organization is not known")
            continue
        location = ext.get("locationId") or _school_at(cx, p.student, p.begin) or p.edorg_id
        year = ext.get("schoolYear") or cx.year_of(p.begin)
        if year is None:
            continue
        yield r.ProgramParticipation(
            year,
            district[0],
            p.student,
            district[1],
            location,
            code,
            p.begin,
            p.end,
            ext.get("exitReason", ""),
            ext.get("qualificationCode", ""),
        )


def _attendance(cx: _Context, student_district: dict[str, tuple[str, str | None]]) -> Iterator[r.Absence]:
    for ev in cx.data.attendance:
        if ev.section:
            cx.report.drop(
                "StudentSectionAttendanceEvent", None, "canonical absences are daily (school) events"
            )
            continue
        excused = d.ABSENCE_CATEGORY.get(ev.category)
        if excused is None:
            cx.report.drop("StudentSchoolAttendanceEvent", None, f"{ev.category!r} is not an absence")
            continue
        ext = _ext(ev)
        district = _district_for(cx, ev.student, ev.school_id, student_district, ext)
        year = ext.get("schoolYear") or cx.year_of(ev.day, ev.school_id)
        if district is None or year is None:
            cx.report.issue(
                ev.where[0], ev.where[1], "SchoolReference", "the school of this event is not known"
            )
            continue
        yield r.Absence(
            year,
            district[0],
            ev.student,
            district[1],
            ev.school_id,
            ev.day,
            excused,
            ev.duration or Decimal("1.0"),
        )


def _discipline(
    cx: _Context, student_district: dict[str, tuple[str, str | None]]
) -> Iterator[r.DisciplineAction]:
    incidents = {(i.incident_id, i.school_id): i for i in cx.data.incidents}
    by_xml = {i.xml_id: i for i in cx.data.incidents if i.xml_id}
    weapons: dict[tuple[str, str, str], tuple[str, ...]] = {}
    behaviour_of: dict[tuple[str, str, str], str] = {}
    for b in cx.data.behaviors:
        incident = incidents.get((b.incident_id or "", b.school_id or "")) or by_xml.get(b.incident_ref or "")
        if incident is None:
            continue
        weapons[(b.student, incident.incident_id, incident.school_id)] = b.weapons
        behaviour_of[(b.student, incident.incident_id, incident.school_id)] = b.behavior
    for a in cx.data.actions:
        ext = _ext(a)
        code = ext.get("actionCode")
        discipline = next((x for x in a.disciplines if x in d.DISCIPLINE), None)
        if code is None and discipline is None:
            cx.report.drop("DisciplineAction", None, f"{', '.join(a.disciplines)!r} is not exclusionary")
            continue
        days = a.actual_length if a.actual_length is not None else (a.length or Decimal(0))
        if code is None:
            assert discipline is not None
            code = d.DISCIPLINE[discipline]
            if code == "SS" and days > d.LONG_TERM_DAYS:
                code = "LS"
        refs = a.incidents or ((ext.get("incidentId", ""), a.school_id, ""),)
        incident_id, school, behavior = refs[0]
        incident = incidents.get((incident_id, school))
        behavior = (
            behavior
            or behaviour_of.get((a.student, incident_id, school), "")
            or (incident.behaviors[0] if incident and incident.behaviors else "")
        )
        behavior_code = ext.get("behaviorCode") or d.BEHAVIOR.get(behavior, "")
        if behavior and not behavior_code:
            cx.report.drop("DisciplineAction", "Behavior", f"{behavior!r} has no canonical code")
        weapon = next(
            (d.WEAPON[w] for w in weapons.get((a.student, incident_id, school), ()) if w in d.WEAPON), ""
        )
        district = _district_for(cx, a.student, a.school_id, student_district, ext)
        year = ext.get("schoolYear") or cx.year_of(a.day, a.school_id)
        if district is None or year is None:
            cx.report.issue(
                a.where[0], a.where[1], "ResponsibilitySchoolReference", "the school is not known"
            )
            continue
        yield r.DisciplineAction(
            year,
            district[0],
            a.student,
            district[1],
            a.school_id,
            incident_id or a.action_id,
            _d(ext.get("incidentDate")) or (incident.day if incident else a.day),
            behavior_code,
            code,
            a.day,
            days,
            ext.get("weaponCode", weapon),
        )


def _assessments(
    cx: _Context, student_district: dict[str, tuple[str, str | None]]
) -> Iterator[r.AssessmentResult]:
    subjects = {(x.identifier, x.namespace): x.subjects for x in cx.data.assessments}
    dropped: Counter[str] = Counter()
    for sa in cx.data.student_assessments:
        ext = _ext(sa)
        subject = ext.get("subject") or next(
            (d.SUBJECT[s] for s in subjects.get((sa.assessment_id, sa.namespace), ()) if s in d.SUBJECT), None
        )
        scores = dict(sa.scores)
        scale = next((scores[m_] for m_ in d.SCALE_SCORE_METHODS if m_ in scores), None)
        level = next(
            (d.PERFORMANCE_LEVEL[p] for p in sa.performance_levels if p in d.PERFORMANCE_LEVEL), None
        )
        if subject is None:
            dropped["no subject Steward reports (ELA, math, science)"] += 1
            continue
        if scale is None or not scale.lstrip("-").isdigit():
            dropped["no integer scale score"] += 1
            continue
        if level is None:
            dropped["no performance level with a canonical code"] += 1
            continue
        school = sa.school_id or _school_at(cx, sa.student, sa.day)
        district = _district_for(cx, sa.student, school or "", student_district, ext)
        if district is None:
            leas = [o.id for o in cx.edorgs.values() if o.kind == "lea"]
            district = (leas[0], None) if len(leas) == 1 else None
        year = ext.get("schoolYear") or cx.year_of(sa.day)
        if district is None or year is None:
            dropped["no district or school year"] += 1
            continue
        yield r.AssessmentResult(
            year,
            district[0],
            sa.student,
            district[1],
            school or district[0],
            sa.assessment_id,
            subject,
            ext.get("gradeTested", d.GRADE_LEVEL.get(sa.grade, "")),
            sa.day,
            int(scale),
            level,
        )
    for reason, count in dropped.items():
        cx.report.drop("StudentAssessment", None, reason, count)


def _transcripts(
    cx: _Context, student_district: dict[str, tuple[str, str | None]]
) -> Iterator[r.GradeHistory]:
    for t in cx.data.transcripts:
        ext = _ext(t)
        district = _district_for(cx, t.student, t.edorg_id, student_district, ext)
        if district is None or t.attempted is None or t.earned is None:
            cx.report.drop("CourseTranscript", None, "no district or no credits")
            continue
        yield r.GradeHistory(
            t.school_year,
            district[0],
            t.student,
            district[1],
            t.edorg_id,
            t.course_code,
            t.course_title,
            ext.get("term") or d.TERM.get(t.term, t.term),
            t.letter_grade,
            t.attempted,
            t.earned,
            ext.get("stateCourseCode", ""),
            ext.get("gradeLevel", ""),
        )


__all__ = ["Severity", "to_canonical"]
