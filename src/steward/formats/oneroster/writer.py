"""Write canonical records as a OneRoster 1.2 CSV package (bulk), with the mapping made explicit.

What maps to what (docs/formats.md has the full table):

- ``Location`` -> a ``school`` org under its ``district`` org (identifier = location id /
  district code); the school year -> a ``schoolYear`` academic session per district, dated from
  the locations' first and last days (else from the records' dates).
- ``Course`` -> courses; sections (``ScheduleEntry``/``StaffSchedule`` course + section + term) ->
  classes (classCode = section id) with one academic session per school, year and term, dated by
  the enrollments in it.
- ``DistrictStudent`` (+ ``StudentRace``) -> a student user, demographics and a ``secondary``
  student role at the district org per district spell; ``SchoolStudent`` -> a student role at
  the school (``primary`` for the primary school).
- ``Staff`` -> a user with a role per school assignment; ``Guardian`` -> a parent/guardian/
  relative user linked both ways through ``agentSourcedIds`` (restricted guardians are left out).
- ``ScheduleEntry``/``StaffSchedule`` -> enrollments (``primary`` = teacher of record).
- Grades, programs, attendance, discipline and assessments have no OneRoster rostering file and are
  dropped; so are the canonical fields listed in ``DROPPED_FIELDS``. Every drop is counted in the
  report with its reason.

Records may arrive in any order; the package is written on ``close`` (tables are kept in memory,
a few hundred bytes per row). Sourced IDs are readable and deterministic (``stu-<district>-<id>``).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from steward.domain import records as r
from steward.formats.oneroster import codes
from steward.formats.oneroster.spec import FILES, MANIFEST_FILES, MANIFEST_HEADER, Mode, Version
from steward.formats.report import ConversionReport, Severity


def _tuple_getter(*names: str) -> Callable[[Any], tuple[Any, ...]]:
    """``operator.attrgetter`` that always returns a tuple (even for one name)."""
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return operator.attrgetter(*names)


_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.~_")


@functools.lru_cache(maxsize=1 << 16)
def part(value: object) -> str:
    """One component of a sourcedId: percent-encodes anything but letters, digits and ``._~``."""
    text = str(value)
    if (text.isascii() and text.isalnum()) or all(ch in _SAFE for ch in text):
        return text
    return "".join(ch if ch in _SAFE else "".join(f"%{b:02X}" for b in ch.encode()) for ch in text)


def sid(prefix: str, *parts: object) -> str:
    return "-".join((prefix, *(part(p) for p in parts)))


def digest_id(prefix: str, *parts: object) -> str:
    """A short deterministic sourcedId for rows keyed by other sourcedIds (roles, enrollments)."""
    text = "\x1f".join(map(str, parts))
    return f"{prefix}-{hashlib.blake2b(text.encode(), digest_size=12).hexdigest()}"


def district_org(district: str) -> str:
    return f"dst-{part(district)}"


def school_org(district: str, location: str) -> str:
    return f"sch-{part(district)}-{part(location)}"


def year_session(district: str, year: int) -> str:
    return f"sy-{part(district)}-{year}"


def term_session(district: str, location: str, year: int, term: str) -> str:
    return f"term-{part(district)}-{part(location)}-{year}-{part(term)}"


def course_id(district: str, location: str, year: int, course: str) -> str:
    return f"crs-{part(district)}-{part(location)}-{year}-{part(course)}"


@functools.lru_cache(maxsize=1 << 16)
def class_id(district: str, location: str, year: int, course: str, section: str, term: str) -> str:
    return f"cls-{part(district)}-{part(location)}-{year}-{part(course)}-{part(section)}-{part(term)}"


def student_user(district: str, student: str) -> str:
    return f"stu-{part(district)}-{part(student)}"


def staff_user(district: str, staff: str) -> str:
    return f"stf-{part(district)}-{part(staff)}"


def guardian_user(district: str, guardian: str) -> str:
    return f"gdn-{part(district)}-{part(guardian)}"


#: Canonical fields OneRoster cannot carry (field -> reason); counted when they hold a value.
DROPPED_FIELDS: dict[type, dict[str, str]] = {
    r.DistrictStudent: {
        "resident_district_code": "OneRoster has no resident district",
        "disability_code": "OneRoster has no disability (special education is not rostering data)",
        "primary_language": "OneRoster demographics have no language",
        "home_language": "OneRoster demographics have no language",
        "ssn": "never sent in a roster",
        "zip_code": "OneRoster users have no address",
        "homeless": "OneRoster has no program flags",
        "private_school_part_time": "OneRoster has no program flags",
        "home_based_part_time": "OneRoster has no program flags",
        "f1_visa": "OneRoster has no visa status",
        "foster_care": "OneRoster has no program flags",
        "grad_requirements_year": "OneRoster has no graduation data",
        "expected_grad_year": "OneRoster has no graduation data",
        "gpa": "OneRoster rostering has no transcript data",
        "credits_attempted": "OneRoster rostering has no transcript data",
        "credits_earned": "OneRoster rostering has no transcript data",
    },
    r.SchoolStudent: {
        "withdrawal_code": "OneRoster roles have no withdrawal reason",
        "school_choice_code": "OneRoster has no school choice",
    },
    r.Course: {
        "content_area": "OneRoster subjects are free text; the CEDARS content area is not sent",
        "designation": "OneRoster has no course designation",
        "state_course_code": "OneRoster subjectCodes are SCED codes; the state course code is not sent",
        "ap_ib": "OneRoster has no AP/IB flag",
    },
    r.Location: {"school_code": "orgs carry one identifier: the location id"},
    r.Staff: {},
    r.Guardian: {"restricted": "restricted guardians are left out of the package"},
}

#: Record types with no OneRoster rostering file.
DROPPED_RECORDS: dict[type, str] = {
    r.GradeHistory: "OneRoster rostering has no transcript (gradebook results are not final marks)",
    r.ProgramParticipation: "OneRoster has no program participation",
    r.Absence: "OneRoster has no attendance",
    r.DisciplineAction: "OneRoster has no discipline",
    r.AssessmentResult: "OneRoster rostering has no assessment results",
}

_DEFAULTS: dict[type, dict[str, Any]] = {
    t: {f.name: f.default for f in t.__dataclass_fields__.values() if f.name in fields}  # type: ignore[attr-defined]
    for t, fields in DROPPED_FIELDS.items()
}


_CHECKS: dict[type, tuple[tuple[str, Any, str], ...]] = {
    t: tuple((name, _DEFAULTS[t].get(name), reason) for name, reason in fields.items())
    for t, fields in DROPPED_FIELDS.items()
}
#: Fields a check compares with (a school code equal to the location id is no loss, nor a resident
#: district equal to the district).
_EXTRA_FIELDS: dict[type, tuple[str, ...]] = {
    r.Location: ("location_id",),
    r.DistrictStudent: ("district_code",),
}
_FIELD_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    t: _tuple_getter(*(name for name, _, _ in checks), *_EXTRA_FIELDS.get(t, ()))
    for t, checks in _CHECKS.items()
    if checks
}


@dataclass(slots=True)
class _Spell:
    begin: date | None
    end: date | None


@dataclass(slots=True)
class _Buffers:
    locations: dict[tuple[str, str], r.Location] = field(default_factory=dict)
    location_years: list[r.Location] = field(default_factory=list)
    years: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    district_names: dict[str, str] = field(default_factory=dict)
    students: dict[tuple[str, str], r.DistrictStudent] = field(default_factory=dict)
    district_spells: list[r.DistrictStudent] = field(default_factory=list)
    school_spells: list[r.SchoolStudent] = field(default_factory=list)
    races: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    courses: dict[tuple[str, str, int, str], r.Course] = field(default_factory=dict)
    schedule: list[r.ScheduleEntry] = field(default_factory=list)
    staff_schedule: list[r.StaffSchedule] = field(default_factory=list)
    staff: dict[tuple[str, str], list[r.Staff]] = field(default_factory=lambda: defaultdict(list))
    guardians: dict[tuple[str, str], list[r.Guardian]] = field(default_factory=lambda: defaultdict(list))


#: The two halves of ``build``: the roster (orgs, people and their roles) and the schedule
#: (sessions, courses, classes, enrollments). A large conversion builds them in two processes.
ROSTER_FILES = frozenset({"orgs", "users", "roles", "demographics"})
SCHEDULE_FILES = frozenset({"academicSessions", "courses", "classes", "enrollments"})


class PackageWriter:
    """Collects canonical records and writes a bulk OneRoster 1.2 package into ``directory``.

    ``files`` limits what ``build`` makes and ``close`` writes (default: every file); ``counted``
    limits the record kinds whose reading is counted in the report (default: all), so that two
    writers sharing the input count each record once; ``add_schools`` registers schools that
    another writer referred to, so that ``orgs.csv`` lists them.
    """

    def __init__(
        self,
        directory: Path,
        *,
        report: ConversionReport | None = None,
        source_name: str = "Steward",
        files: Collection[str] | None = None,
        counted: Collection[type] | None = None,
    ):
        self.directory = Path(directory)
        self.report = report if report is not None else ConversionReport()
        self.source_name = source_name
        self._b = _Buffers()
        self._counts: dict[type, int] = {}
        self._files = None if files is None else frozenset(files)
        self._counted = None if counted is None else frozenset(counted)
        self._extra_schools: set[tuple[str, str]] = set()
        self._field_values: dict[type, dict[tuple[Any, ...], int]] = defaultdict(dict)
        self.tables: dict[str, list[dict[str, str]]] = {}
        #: (district, location) of every school the built tables refer to.
        self.schools: set[tuple[str, str]] = set()

    def _wants(self, *names: str) -> bool:
        return self._files is None or any(n in self._files for n in names)

    def add_schools(self, keys: Iterable[tuple[str, str]]) -> None:
        self._extra_schools.update(keys)

    def __enter__(self) -> PackageWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()

    def write_all(self, records: Iterable[r.Record]) -> None:
        for record in records:
            self.write(record)

    def write(self, record: r.Record) -> None:
        b = self._b
        kind = type(record)
        counted = self._counted is None or kind in self._counted
        if counted:
            self._counts[kind] = self._counts.get(kind, 0) + 1
        dropped = DROPPED_RECORDS.get(kind)
        if dropped is not None:
            if counted:
                self.report.drop(kind.__name__, None, dropped)
            return
        if counted:
            self._count_dropped_fields(record)
        if isinstance(record, r.Location):
            key = (record.district_code, record.location_id)
            if key not in b.locations or record.school_year >= b.locations[key].school_year:
                b.locations[key] = record
            b.location_years.append(record)
            b.years[record.district_code].add(record.school_year)
            b.district_names.setdefault(record.district_code, record.district_name)
        elif isinstance(record, r.DistrictStudent):
            key = (record.district_code, record.student_id)
            current = b.students.get(key)
            if current is None or (record.school_year, record.entry_date) >= (
                current.school_year,
                current.entry_date,
            ):
                b.students[key] = record
            b.district_spells.append(record)
            b.years[record.district_code].add(record.school_year)
        elif isinstance(record, r.SchoolStudent):
            b.school_spells.append(record)
            b.years[record.district_code].add(record.school_year)
        elif isinstance(record, r.StudentRace):
            b.races[(record.district_code, record.student_id)].add(record.race_code)
        elif isinstance(record, r.Course):
            b.courses[(record.district_code, record.location_id, record.school_year, record.course_id)] = (
                record
            )
            b.years[record.district_code].add(record.school_year)
        elif isinstance(record, r.ScheduleEntry):
            b.schedule.append(record)
            b.years[record.district_code].add(record.school_year)
        elif isinstance(record, r.StaffSchedule):
            b.staff_schedule.append(record)
            b.years[record.district_code].add(record.school_year)
        elif isinstance(record, r.Staff):
            b.staff[(record.district_code, record.staff_id)].append(record)
            b.years[record.district_code].add(record.school_year)
        elif isinstance(record, r.Guardian):
            if record.restricted:
                self.report.drop("Guardian", None, "restricted guardian (no access to the student's records)")
                return
            b.guardians[(record.district_code, record.guardian_id)].append(record)

    def _count_dropped_fields(self, record: r.Record) -> None:
        """Remember the record's values of the fields OneRoster cannot carry (counted in ``build``:
        records repeat the same values, so each distinct combination is checked once)."""
        getter = _FIELD_GETTERS.get(type(record))
        if getter is not None:
            seen = self._field_values[type(record)]
            values = getter(record)
            seen[values] = seen.get(values, 0) + 1

    def _report_dropped_fields(self) -> None:
        for kind, seen in self._field_values.items():
            checks = _CHECKS[kind]
            extra = _EXTRA_FIELDS.get(kind, ())
            counts: dict[str, int] = {}
            for values, n in seen.items():
                other = dict(zip(extra, values[len(checks) :], strict=True)) if extra else {}
                for (name, default, _), value in zip(checks, values, strict=False):
                    if value != default and value != "" and value is not None:
                        if kind is r.Location and name == "school_code" and value == other["location_id"]:
                            continue
                        if (
                            kind is r.DistrictStudent
                            and name == "resident_district_code"
                            and value == other["district_code"]
                        ):
                            continue
                        counts[name] = counts.get(name, 0) + n
            for name, _, reason in checks:
                if name in counts:
                    self.report.drop(kind.__name__, name, reason, counts[name])
        self._field_values.clear()

    # ---------------------------------------------------------------- building the tables

    def build(self) -> dict[str, list[dict[str, str]]]:
        """The package's tables (file name -> rows), ready to write."""
        b = self._b
        for kind, n in self._counts.items():
            self.report.read[kind.__name__] += n
        self._counts = {}
        self._report_dropped_fields()
        t: dict[str, list[dict[str, str]]] = {
            n: []
            for n in ("orgs", "academicSessions", "courses", "classes", "users", "roles", "demographics")
        }
        t["enrollments"] = []
        schools: dict[tuple[str, str], str] = {}  # (district, location) -> org id
        districts: set[str] = set(b.years)

        def school(district: str, location: str, what: str) -> str:
            key = (district, location)
            if key not in schools:
                schools[key] = school_org(district, location)
                if key not in b.locations:
                    self.report.issue(
                        "orgs.csv",
                        None,
                        "name",
                        f"location {location} of district {district} has no Location record ({what}); "
                        "its org is named by its id",
                        Severity.WARNING,
                    )
            return schools[key]

        for key in b.locations:
            school(*key, what="")
        if self._wants("academicSessions"):
            # school-year sessions
            first_days: dict[tuple[str, int], list[date]] = defaultdict(list)
            last_days: dict[tuple[str, int], list[date]] = defaultdict(list)
            for loc in b.location_years:
                if loc.first_day is not None:
                    first_days[(loc.district_code, loc.school_year)].append(loc.first_day)
                if loc.last_day is not None:
                    last_days[(loc.district_code, loc.school_year)].append(loc.last_day)
            data_bounds: dict[tuple[str, int], list[date]] = defaultdict(list)
            spells: list[r.DistrictStudent | r.SchoolStudent] = [*b.district_spells, *b.school_spells]
            for sp in spells:
                data_bounds[(sp.district_code, sp.school_year)].append(sp.entry_date)
                if sp.exit_date is not None:
                    data_bounds[(sp.district_code, sp.school_year)].append(sp.exit_date)
            term_dates: dict[tuple[str, str, int, str], list[date]] = defaultdict(list)
            term_open: set[tuple[str, str, int, str]] = set()
            for e in b.schedule:
                k = (e.district_code, e.location_id, e.school_year, e.term)
                term_dates[k].append(e.entry_date)
                if e.exit_date is None:
                    term_open.add(k)
                else:
                    term_dates[k].append(e.exit_date)
            for s in b.staff_schedule:
                k = (s.district_code, s.location_id, s.school_year, s.term)
                term_dates[k].append(s.start_date)
                if s.end_date is None:
                    term_open.add(k)
                else:
                    term_dates[k].append(s.end_date)
            for k, days in term_dates.items():
                data_bounds[(k[0], k[2])].extend(days)
            year_range: dict[tuple[str, int], tuple[date, date]] = {}
            for district in sorted(districts):
                for year in sorted(b.years[district]):
                    firsts = first_days.get((district, year))
                    lasts = last_days.get((district, year))
                    days = data_bounds.get((district, year)) or []
                    if firsts and lasts:
                        start, end = _mode(firsts), _mode(lasts)
                    elif days:
                        start, end = min(days), max(days)
                    else:
                        start, end = date(year - 1, 9, 1), date(year, 8, 31)
                        self.report.issue(
                            "academicSessions.csv",
                            None,
                            "startDate",
                            f"school year {year} of district {district} has no dates; "
                            f"assumed {start.isoformat()} to {end.isoformat()}",
                            Severity.WARNING,
                        )
                    year_range[(district, year)] = (start, end)
                    t["academicSessions"].append(
                        _row(
                            "academicSessions",
                            sourcedId=year_session(district, year),
                            title=f"{year - 1}-{year}",
                            type="schoolYear",
                            startDate=start.isoformat(),
                            endDate=end.isoformat(),
                            schoolYear=str(year),
                        )
                    )
            for k in sorted(term_dates):
                district, location, year, term = k
                days = term_dates[k]
                end = max(days)
                if k in term_open:
                    end = max(end, year_range[(district, year)][1])
                t["academicSessions"].append(
                    _row(
                        "academicSessions",
                        sourcedId=term_session(*k),
                        title=term,
                        type=codes.TERM_TYPES.get(term, "term"),
                        startDate=min(days).isoformat(),
                        endDate=end.isoformat(),
                        parentSourcedId=year_session(district, year),
                        schoolYear=str(year),
                    )
                )
        if self._wants("courses", "classes"):
            # courses and classes
            course_rows: dict[str, dict[str, str]] = {}
            for (district, location, year, code), c in sorted(b.courses.items()):
                cid = course_id(district, location, year, code)
                course_rows[cid] = _row(
                    "courses",
                    sourcedId=cid,
                    schoolYearSourcedId=year_session(district, year),
                    title=c.title,
                    courseCode=code,
                    orgSourcedId=school(district, location, "course"),
                )
            classes: dict[str, dict[str, str]] = {}
            sections = [
                (e.district_code, e.location_id, e.school_year, e.course_id, e.section_id, e.term)
                for e in b.schedule
            ] + [
                (s.district_code, s.location_id, s.school_year, s.course_id, s.section_id, s.term)
                for s in b.staff_schedule
            ]
            for district, location, year, code, section, term in sections:
                cls = class_id(district, location, year, code, section, term)
                if cls in classes:
                    continue
                cid = course_id(district, location, year, code)
                course = b.courses.get((district, location, year, code))
                if cid not in course_rows:
                    self.report.issue(
                        "courses.csv",
                        None,
                        "title",
                        f"course {code} (section {section}) has no Course record; its title is its code",
                        Severity.WARNING,
                    )
                    course_rows[cid] = _row(
                        "courses",
                        sourcedId=cid,
                        schoolYearSourcedId=year_session(district, year),
                        title=code,
                        courseCode=code,
                        orgSourcedId=school(district, location, "section"),
                    )
                classes[cls] = _row(
                    "classes",
                    sourcedId=cls,
                    title=course.title if course is not None else code,
                    courseSourcedId=cid,
                    classCode=section,
                    classType="scheduled",
                    schoolSourcedId=school(district, location, "section"),
                    termSourcedIds=term_session(district, location, year, term),
                )
            t["courses"] = list(course_rows.values())
            t["classes"] = list(classes.values())
        if self._wants("users", "roles", "demographics"):
            # students
            primary_org: dict[str, str] = {}
            latest_primary: dict[str, tuple[date, str]] = {}
            student_orgs: dict[str, list[str]] = defaultdict(list)
            roles: dict[str, dict[str, str]] = {}
            for sp in sorted(b.school_spells, key=lambda s: (s.entry_date, s.location_id)):
                user = student_user(sp.district_code, sp.student_id)
                if (sp.district_code, sp.student_id) not in b.students:
                    self.report.drop(
                        "SchoolStudent", None, "student has no DistrictStudent record (no name to roster)"
                    )
                    continue
                org = school(sp.district_code, sp.location_id, "enrollment")
                rid = digest_id("rol", user, org, sp.entry_date.isoformat())
                roles[rid] = _row(
                    "roles",
                    sourcedId=rid,
                    userSourcedId=user,
                    roleType="primary" if sp.primary_school else "secondary",
                    role="student",
                    beginDate=sp.entry_date.isoformat(),
                    endDate=_iso(sp.exit_date),
                    orgSourcedId=org,
                )
                student_orgs[user].append(org)
                if sp.primary_school:
                    previous = latest_primary.get(user + "|" + org)
                    if previous is not None:
                        roles[previous[1]]["roleType"] = "secondary"
                        self.report.drop(
                            "SchoolStudent",
                            "primary_school",
                            "an earlier spell at the same school is sent as secondary "
                            "(one primary role per org)",
                        )
                    latest_primary[user + "|" + org] = (sp.entry_date, rid)
                    primary_org[user] = org
            for ds in b.district_spells:
                user = student_user(ds.district_code, ds.student_id)
                org = district_org(ds.district_code)
                rid = digest_id("rol", user, org, ds.entry_date.isoformat())
                roles[rid] = _row(
                    "roles",
                    sourcedId=rid,
                    userSourcedId=user,
                    roleType="secondary",
                    role="student",
                    beginDate=ds.entry_date.isoformat(),
                    endDate=_iso(ds.exit_date),
                    orgSourcedId=org,
                )
            guardians_of: dict[str, list[str]] = defaultdict(list)
            guardian_rows: list[tuple[str, r.Guardian, list[str]]] = []
            for (district, gid), links in sorted(b.guardians.items()):
                user = guardian_user(district, gid)
                students = [
                    student_user(district, g.student_id)
                    for g in links
                    if (district, g.student_id) in b.students
                ]
                if not students:
                    self.report.drop("Guardian", None, "none of the guardian's students is in the package")
                    continue
                for g in links:
                    if (district, g.student_id) in b.students:
                        guardians_of[student_user(district, g.student_id)].append(user)
                guardian_rows.append((user, links[0], sorted(set(students))))
            for (district, student), ds in sorted(b.students.items()):
                user = student_user(district, student)
                races = b.races.get((district, student), set())
                t["users"].append(
                    _row(
                        "users",
                        sourcedId=user,
                        enabledUser="true",
                        userIds=f"{{SSID:{ds.state_id}}}" if ds.state_id else "",
                        givenName=ds.first_name,
                        familyName=ds.last_name,
                        middleName=ds.middle_name,
                        identifier=student,
                        agentSourcedIds=",".join(sorted(set(guardians_of.get(user, ())))),
                        grades=codes.GRADE_TO_OR.get(ds.grade_level, ""),
                        primaryOrgSourcedId=primary_org.get(user, ""),
                    )
                )
                if ds.grade_level not in codes.GRADE_TO_OR:
                    self.report.drop("DistrictStudent", "grade_level", "no CEDS grade for this grade level")
                demo = _row(
                    "demographics",
                    sourcedId=user,
                    birthDate=ds.birth_date.isoformat(),
                    sex=codes.SEX_TO_OR.get(ds.sex, ""),
                    hispanicOrLatinoEthnicity=codes.ETHNICITY_TO_OR.get(ds.ethnicity_code, ""),
                    countryOfBirthCode=ds.birth_country,
                )
                if ds.sex and ds.sex not in codes.SEX_TO_OR:
                    self.report.drop("DistrictStudent", "sex", "no OneRoster sex for this code")
                if races:
                    for code, column in codes.RACE_COLUMNS.items():
                        demo[column] = "true" if code in races else "false"
                    demo["demographicRaceTwoOrMoreRaces"] = "true" if len(races) > 1 else "false"
                    unknown = races - set(codes.RACE_COLUMNS)
                    if unknown:
                        self.report.drop("StudentRace", "race_code", "no OneRoster race column for this code")
                t["demographics"].append(demo)
            for user, g, students in guardian_rows:
                role = codes.GUARDIAN_ROLE_TO_OR.get(g.relationship, "relative")
                orgs = sorted(
                    {primary_org.get(s) or (student_orgs.get(s) or [""])[-1] for s in students} - {""}
                )
                if not orgs:
                    orgs = [district_org(g.district_code)]
                t["users"].append(
                    _row(
                        "users",
                        sourcedId=user,
                        enabledUser="true",
                        givenName=g.first_name,
                        familyName=g.last_name,
                        identifier=g.guardian_id,
                        username=g.email,
                        email=g.email,
                        agentSourcedIds=",".join(students),
                        primaryOrgSourcedId=orgs[0],
                    )
                )
                for org in orgs:
                    rid = digest_id("rol", user, org)
                    roles[rid] = _row(
                        "roles",
                        sourcedId=rid,
                        userSourcedId=user,
                        roleType="primary",
                        role=role,
                        beginDate=_iso(g.start_date),
                        endDate=_iso(g.end_date),
                        orgSourcedId=org,
                    )
            # staff
            for (district, staff_id), assignments in sorted(b.staff.items()):
                user = staff_user(district, staff_id)
                first = assignments[0]
                orgs_seen: list[str] = []
                for a in assignments:
                    org = school(district, a.location_id, "staff assignment")
                    rid = digest_id("rol", user, org, _iso(a.assignment_start) or a.school_year)
                    roles[rid] = _row(
                        "roles",
                        sourcedId=rid,
                        userSourcedId=user,
                        roleType="primary" if org not in orgs_seen else "secondary",
                        role=codes.STAFF_ROLE_TO_OR.get(a.role, "teacher"),
                        beginDate=_iso(a.assignment_start),
                        endDate=_iso(a.assignment_end),
                        orgSourcedId=org,
                    )
                    orgs_seen.append(org)
                t["users"].append(
                    _row(
                        "users",
                        sourcedId=user,
                        enabledUser="true",
                        userIds=f"{{certification:{first.certification_number}}}"
                        if first.certification_number
                        else "",
                        givenName=first.first_name,
                        familyName=first.last_name,
                        middleName=first.middle_name,
                        identifier=staff_id,
                        username=first.email,
                        email=first.email,
                        primaryOrgSourcedId=orgs_seen[0],
                    )
                )
            t["roles"] = list(roles.values())
        staff_users = {staff_user(district, staff_id) for district, staff_id in b.staff}
        if self._wants("enrollments"):
            # enrollments
            for e in b.schedule:
                user = student_user(e.district_code, e.student_id)
                if (e.district_code, e.student_id) not in b.students:
                    self.report.drop(
                        "ScheduleEntry", None, "student has no DistrictStudent record (no name to roster)"
                    )
                    continue
                cls = class_id(
                    e.district_code, e.location_id, e.school_year, e.course_id, e.section_id, e.term
                )
                t["enrollments"].append(
                    _row(
                        "enrollments",
                        sourcedId=digest_id("enr", cls, user, e.entry_date.isoformat()),
                        classSourcedId=cls,
                        schoolSourcedId=school(e.district_code, e.location_id, "section"),
                        userSourcedId=user,
                        role="student",
                        primary="false",
                        beginDate=e.entry_date.isoformat(),
                        endDate=_iso(e.exit_date),
                    )
                )
            for s in b.staff_schedule:
                user = staff_user(s.district_code, s.staff_id)
                if user not in staff_users:
                    self.report.drop(
                        "StaffSchedule", None, "staff member has no Staff record (no name to roster)"
                    )
                    continue
                cls = class_id(
                    s.district_code, s.location_id, s.school_year, s.course_id, s.section_id, s.term
                )
                t["enrollments"].append(
                    _row(
                        "enrollments",
                        sourcedId=digest_id("enr", cls, user, s.start_date.isoformat()),
                        classSourcedId=cls,
                        schoolSourcedId=school(s.district_code, s.location_id, "section"),
                        userSourcedId=user,
                        role="teacher",
                        primary="true" if s.role == codes.TEACHER_OF_RECORD else "false",
                        beginDate=s.start_date.isoformat(),
                        endDate=_iso(s.end_date),
                    )
                )
                if s.role not in (codes.TEACHER_OF_RECORD, codes.CO_TEACHER):
                    self.report.drop("StaffSchedule", "role", codes.LOSSY["section role"])
            _dedupe(t["enrollments"], self.report, "enrollments.csv")
        if self._wants("orgs"):
            for key in sorted(self._extra_schools):
                schools.setdefault(key, school_org(*key))
            # orgs last: every school referenced above is known now
            for district in sorted(districts | {d for d, _ in schools}):
                t["orgs"].append(
                    _row(
                        "orgs",
                        sourcedId=district_org(district),
                        name=b.district_names.get(district) or district,
                        type="district",
                        identifier=district,
                    )
                )
            for (district, location), org in sorted(schools.items()):
                found = b.locations.get((district, location))
                t["orgs"].append(
                    _row(
                        "orgs",
                        sourcedId=org,
                        name=found.school_name if found is not None else location,
                        type="school",
                        identifier=location,
                        parentSourcedId=district_org(district),
                    )
                )
        self.schools = set(schools)
        self.tables = t
        return t

    def close(self) -> None:
        tables = self.build()
        write_tables(self.directory, tables, source_name=self.source_name)
        for name, rows in tables.items():
            self.report.written[f"{name}.csv"] += len(rows)


def _dedupe(rows: list[dict[str, str]], report: ConversionReport, file: str) -> None:
    seen: set[str] = set()
    out = []
    for row in rows:
        if row["sourcedId"] in seen:
            report.drop("ScheduleEntry/StaffSchedule", None, "same person, section and begin date twice")
            continue
        seen.add(row["sourcedId"])
        out.append(row)
    rows[:] = out


def _mode(days: list[date]) -> date:
    """The most common day (ties: the earliest), as the edfi-oneroster school-year view does."""
    counts = Counter(days)
    top = max(counts.values())
    return min(d for d, n in counts.items() if n == top)


def _iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()


_BLANK = {name: dict.fromkeys(spec.header, "") for name, spec in FILES[Version.V1_2].items()}


def _row(file: str, **values: str) -> dict[str, str]:
    row = _BLANK[file].copy()
    row.update(values)
    return row


def write_tables(
    directory: Path,
    tables: dict[str, list[dict[str, str]]],
    *,
    mode: Mode = Mode.BULK,
    source_name: str = "Steward",
    modified: datetime | None = None,
    manifest: bool = True,
    present: Collection[str] = (),
) -> list[str]:
    """Write ``tables`` and the manifest; files with no rows are marked absent (not written).

    ``present`` names files another writer already put in ``directory`` (listed in the manifest);
    ``manifest=False`` leaves the manifest to that other writer. Returns the files written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    specs = FILES[Version.V1_2]
    stamp = (modified or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    written: dict[str, Mode] = {}
    for name, rows in tables.items():
        if not rows:
            continue
        spec = specs[name]
        path = directory / spec.file_name
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh, lineterminator="\r\n")
            out.writerow(spec.header)
            header = spec.header
            if mode is Mode.DELTA:
                for row in rows:
                    if not row.get("status"):
                        row["status"] = "active"
                    if not row.get("dateLastModified"):
                        row["dateLastModified"] = stamp
            out.writerows(map(operator.itemgetter(*header), rows))
        written[name] = mode
    if not manifest:
        return sorted(written)
    written.update(dict.fromkeys(present, mode))
    with (directory / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\r\n")
        out.writerow(MANIFEST_HEADER)
        out.writerow(("manifest.version", "1.0"))
        out.writerow(("oneroster.version", Version.V1_2.value))
        for name in MANIFEST_FILES[Version.V1_2]:
            out.writerow((f"file.{name}", written.get(name, Mode.ABSENT).value))
        out.writerow(("source.systemName", source_name))
        out.writerow(("source.systemCode", source_name))
    return sorted(written)
