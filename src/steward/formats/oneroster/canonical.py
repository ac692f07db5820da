"""OneRoster package -> canonical records (the reverse of :mod:`steward.formats.oneroster.writer`).

Keys come from the fields a producer fills, not from parsing sourcedIds: a school's location id
and a district's code are the orgs' ``identifier`` (else the sourcedId), a student's or staff
member's id is the user's ``identifier`` (else the sourcedId), a course id is ``courseCode``, a
section id is the class's ``classCode`` and a term is its academic session's ``title``. The
school year of a record is the ``schoolYear`` of its session, or of the school-year session whose
dates hold the record's begin date.

OneRoster has no place for some things canonical records must have. When a roster gives no date a
person joined, the start of the school year is taken and reported (a roster lists who is enrolled
now); a student with no birth date cannot be a canonical ``DistrictStudent`` and is reported and
left out, with everything that refers to them. Rows marked ``tobedeleted`` are not records.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from steward.domain import records as r
from steward.formats.oneroster import codes
from steward.formats.oneroster.reader import Package, Row
from steward.formats.oneroster.spec import Version
from steward.formats.report import ConversionReport, Severity

_USER_ID = re.compile(r"\{([^{}:]+):([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class _Role:
    role: str
    org: str
    primary: bool
    begin: date | None
    end: date | None
    file: str
    row: int


def _day(text: str) -> date | None:
    if len(text) >= 10:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    return None


def _user_ids(text: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, v in _USER_ID.findall(text)}


class _Reader:
    def __init__(self, package: Package, report: ConversionReport, school_year: int | None) -> None:
        self.p = package
        self.report = report
        self.default_year = school_year
        self.orgs: dict[str, Row] = {}
        self.org_rows: dict[str, int] = {}
        for number, row in package.rows("orgs"):
            if self._live("orgs", row):
                self.orgs[row["sourcedId"]] = row
                self.org_rows[row["sourcedId"]] = number
        self.sessions: dict[str, Row] = {row["sourcedId"]: row for _, row in package.rows("academicSessions")}
        self.year_sessions = self._year_sessions()

    def _year_sessions(self) -> list[tuple[date, date, int]]:
        out = []
        for row in self.sessions.values():
            d0, d1 = _day(row["startDate"]), _day(row["endDate"])
            if row["type"] == "schoolYear" and d0 and d1 and row["schoolYear"].isdigit():
                out.append((d0, d1, int(row["schoolYear"])))
        return sorted(out)

    def _live(self, file: str, row: Row) -> bool:
        if row.get("status") == "tobedeleted":
            self.report.drop(file, None, "tobedeleted rows are deletions, not records")
            return False
        return True

    # ------------------------------------------------------------------ org and year lookups

    def district_of(self, org_id: str) -> tuple[str, str] | None:
        """(district code, district name) of an org: the nearest district at or above it."""
        seen: set[str] = set()
        current = org_id
        while current and current not in seen:
            seen.add(current)
            row = self.orgs.get(current)
            if row is None:
                return None
            if row["type"] == "district":
                return (row["identifier"] or row["sourcedId"], row["name"])
            current = row["parentSourcedId"]
        return None

    def location_of(self, org_id: str) -> str:
        row = self.orgs.get(org_id)
        return (row["identifier"] or row["sourcedId"]) if row is not None else org_id

    def year_of(self, day: date | None) -> int | None:
        if day is not None:
            for d0, d1, year in self.year_sessions:
                if d0 <= day <= d1:
                    return year
        years = {y for _, _, y in self.year_sessions}
        if len(years) == 1:
            return years.pop()
        if self.default_year is not None:
            return self.default_year
        if day is not None:
            return day.year + 1 if day.month >= 7 else day.year
        return None

    def year_start(self, year: int) -> date | None:
        starts = [d0 for d0, _, y in self.year_sessions if y == year]
        return min(starts) if starts else None

    def year_bounds(self, year: int) -> tuple[date | None, date | None]:
        rows = [(d0, d1) for d0, d1, y in self.year_sessions if y == year]
        if not rows:
            return None, None
        return min(d for d, _ in rows), max(d for _, d in rows)


def to_canonical(
    package: Package, *, report: ConversionReport | None = None, school_year: int | None = None
) -> Iterator[r.Record]:
    """Canonical records of ``package``; problems go to ``report`` (default: the package's)."""
    report = report if report is not None else package.report
    rd = _Reader(package, report, school_year)
    users: dict[str, tuple[int, Row]] = {}
    for number, row in package.rows("users"):
        if rd._live("users", row):
            users[row["sourcedId"]] = (number, row)
    roles: dict[str, list[_Role]] = defaultdict(list)
    if package.version is Version.V1_2:
        for number, row in package.rows("roles"):
            if rd._live("roles", row):
                roles[row["userSourcedId"]].append(
                    _Role(
                        row["role"],
                        row["orgSourcedId"],
                        row["roleType"] == "primary",
                        _day(row["beginDate"]),
                        _day(row["endDate"]),
                        "roles.csv",
                        number,
                    )
                )
    else:
        for uid, (number, row) in users.items():
            for i, org in enumerate(o.strip() for o in row["orgSourcedIds"].split(",") if o.strip()):
                roles[uid].append(_Role(row["role"], org, i == 0, None, None, "users.csv", number))
    demographics = {row["sourcedId"]: (n, row) for n, row in package.rows("demographics")}
    classes = {row["sourcedId"]: row for _, row in package.rows("classes") if rd._live("classes", row)}
    courses = {row["sourcedId"]: row for _, row in package.rows("courses") if rd._live("courses", row)}
    enrollments = [(n, row) for n, row in package.rows("enrollments") if rd._live("enrollments", row)]
    enrolled_from: dict[tuple[str, str], date] = {}
    for _, row in enrollments:
        begin = _day(row["beginDate"])
        key = (row["userSourcedId"], row["schoolSourcedId"])
        if begin is not None and (key not in enrolled_from or begin < enrolled_from[key]):
            enrolled_from[key] = begin

    def term_of(cls: Row) -> list[Row]:
        return [rd.sessions[t.strip()] for t in cls["termSourcedIds"].split(",") if t.strip() in rd.sessions]

    # years each school is used in
    school_years: dict[str, set[int]] = defaultdict(set)
    for cls in classes.values():
        for term in term_of(cls):
            if term["schoolYear"].isdigit():
                school_years[cls["schoolSourcedId"]].add(int(term["schoolYear"]))
    for user_roles in roles.values():
        for role in user_roles:
            if role.org in rd.orgs and rd.orgs[role.org]["type"] == "school":
                year = rd.year_of(role.begin)
                if year is not None:
                    school_years[role.org].add(year)
    # locations
    for org_id, row in rd.orgs.items():
        if row["type"] != "school":
            continue
        district = rd.district_of(org_id)
        if district is None:
            report.issue(
                "orgs.csv",
                rd.org_rows[org_id],
                "parentSourcedId",
                f"school {org_id!r} has no district above it; its records are left out",
            )
            continue
        years = school_years.get(org_id) or ({y} if (y := rd.year_of(None)) is not None else set())
        if not years:
            report.issue("orgs.csv", rd.org_rows[org_id], None, "no school year can be told for this school")
        for year in sorted(years):
            first, last = rd.year_bounds(year)
            location = rd.location_of(org_id)
            yield r.Location(year, district[0], district[1], location, location, row["name"], first, last)
    # people
    known_students: dict[str, tuple[str, str, str | None]] = {}  # user -> (district, student id, state id)
    staff_ids: dict[str, tuple[str, str]] = {}
    student_users = [u for u in users if any(x.role == "student" for x in roles.get(u, ()))]
    for uid in student_users:
        number, row = users[uid]
        out = list(_student(uid, number, row, roles[uid], demographics.get(uid), rd, enrolled_from, report))
        if out:
            ds = out[0]
            assert isinstance(ds, r.DistrictStudent)
            known_students[uid] = (ds.district_code, ds.student_id, ds.state_id)
            yield from out
    for uid, (_, row) in users.items():
        staff_roles = [x for x in roles.get(uid, ()) if x.role in codes.STAFF_ROLES]
        if not staff_roles:
            continue
        ids = _user_ids(row["userIds"])
        for role in staff_roles:
            org_row = rd.orgs.get(role.org)
            staff_district = rd.district_of(role.org)
            if org_row is None or org_row["type"] != "school" or staff_district is None:
                report.drop(
                    "users (staff)", "role", "a staff role above school level has no canonical record"
                )
                continue
            year = rd.year_of(role.begin)
            if year is None:
                report.issue(
                    role.file, role.row, "beginDate", "no school year can be told for this staff role"
                )
                continue
            staff_id = row["identifier"] or uid
            staff_ids[uid] = (staff_district[0], staff_id)
            yield r.Staff(
                year,
                staff_district[0],
                staff_id,
                ids.get("certification", ""),
                row["familyName"],
                row["givenName"],
                row["middleName"],
                rd.location_of(role.org),
                codes.STAFF_ROLE_FROM_OR.get(role.role, "other"),
                row["email"],
                role.begin,
                role.end,
            )
    for uid, (_, row) in users.items():
        guardian_roles = [x for x in roles.get(uid, ()) if x.role in codes.GUARDIAN_ROLES]
        if not guardian_roles:
            continue
        agents = {a.strip() for a in row["agentSourcedIds"].split(",") if a.strip()}
        agents |= {s for s in known_students if uid in users[s][1]["agentSourcedIds"].split(",")}
        first_role = guardian_roles[0]
        for student in sorted(agents):
            if student not in known_students:
                report.drop(
                    "users (guardian)", "agentSourcedIds", "the guardian's student is not a canonical student"
                )
                continue
            g_district, student_id, state_id = known_students[student]
            yield r.Guardian(
                g_district,
                student_id,
                state_id,
                row["identifier"] or uid,
                row["familyName"],
                row["givenName"],
                codes.GUARDIAN_ROLE_FROM_OR[first_role.role],
                row["email"],
                first_role.begin,
                first_role.end,
            )
    # courses
    course_years: dict[str, set[int]] = defaultdict(set)
    course_schools: dict[str, set[str]] = defaultdict(set)
    for cls in classes.values():
        course_schools[cls["courseSourcedId"]].add(cls["schoolSourcedId"])
        for term in term_of(cls):
            if term["schoolYear"].isdigit():
                course_years[cls["courseSourcedId"]].add(int(term["schoolYear"]))
    for cid, row in courses.items():
        year_row = rd.sessions.get(row["schoolYearSourcedId"])
        years = (
            {int(year_row["schoolYear"])}
            if year_row and year_row["schoolYear"].isdigit()
            else course_years[cid]
        )
        owner = rd.orgs.get(row["orgSourcedId"])
        schools = (
            {row["orgSourcedId"]} if owner is not None and owner["type"] == "school" else course_schools[cid]
        )
        for school in sorted(schools):
            c_district = rd.district_of(school)
            if c_district is None:
                continue
            for year in sorted(years):
                yield r.Course(
                    year, c_district[0], rd.location_of(school), row["courseCode"] or cid, row["title"]
                )
    # schedules
    for number, row in enrollments:
        found = classes.get(row["classSourcedId"])
        if found is None:
            report.drop("enrollments", None, "the class is not in the package")
            continue
        cls = found
        course_row = courses.get(cls["courseSourcedId"])
        course_code = (
            (course_row["courseCode"] or course_row["sourcedId"]) if course_row else cls["courseSourcedId"]
        )
        e_district = rd.district_of(cls["schoolSourcedId"])
        if e_district is None:
            continue
        location = rd.location_of(cls["schoolSourcedId"])
        section = cls["classCode"] or cls["sourcedId"]
        begin, end = _day(row["beginDate"]), _day(row["endDate"])
        terms: list[Row] = term_of(cls) or [{"title": "", "schoolYear": "", "startDate": ""}]
        for term in terms:
            year = int(term["schoolYear"]) if term["schoolYear"].isdigit() else rd.year_of(begin)
            start = begin or _day(term["startDate"]) or (rd.year_start(year) if year else None)
            if year is None or start is None:
                report.issue(
                    "enrollments.csv", number, "beginDate", "no begin date or school year can be told"
                )
                continue
            if begin is None:
                report.drop("enrollments", "beginDate", "missing; the term's start date is used")
            uid = row["userSourcedId"]
            if row["role"] == "student":
                if uid not in known_students:
                    report.drop("enrollments", None, "the student is not a canonical student")
                    continue
                _, student_id, state_id = known_students[uid]
                yield r.ScheduleEntry(
                    year,
                    e_district[0],
                    student_id,
                    state_id,
                    location,
                    course_code,
                    section,
                    term["title"],
                    start,
                    end,
                )
            elif row["role"] == "teacher":
                if uid not in staff_ids:
                    report.drop("enrollments", None, "the teacher is not a canonical staff member")
                    continue
                section_role = codes.TEACHER_OF_RECORD if row["primary"] == "true" else codes.CO_TEACHER
                yield r.StaffSchedule(
                    year,
                    e_district[0],
                    location,
                    course_code,
                    section,
                    term["title"],
                    staff_ids[uid][1],
                    section_role,
                    start,
                    end,
                )
            else:
                report.drop("enrollments", "role", f"{row['role']} enrollments have no canonical record")


def _student(
    uid: str,
    number: int,
    row: Row,
    user_roles: list[_Role],
    demo: tuple[int, Row] | None,
    rd: _Reader,
    enrolled_from: dict[tuple[str, str], date],
    report: ConversionReport,
) -> Iterator[r.Record]:
    student_roles = [x for x in user_roles if x.role == "student"]
    district_roles = [x for x in student_roles if rd.orgs.get(x.org, {}).get("type") == "district"]
    school_roles = [x for x in student_roles if rd.orgs.get(x.org, {}).get("type") == "school"]
    district = next((d for x in student_roles if (d := rd.district_of(x.org)) is not None), None)
    if district is None:
        report.issue("users.csv", number, "sourcedId", "student belongs to no district org; left out")
        return
    if demo is None or not _day(demo[1]["birthDate"]):
        report.issue(
            "demographics.csv" if demo else "users.csv",
            demo[0] if demo else number,
            "birthDate",
            f"student {uid!r} has no birth date; canonical student records need one: the student is left out",
        )
        return
    demo_row = demo[1]
    birth = _day(demo_row["birthDate"])
    assert birth is not None
    sex = codes.SEX_FROM_OR.get(demo_row["sex"], "")
    if demo_row["sex"] and not sex:
        report.drop("demographics", "sex", codes.LOSSY["sex"])
    grades = [g for g in row["grades"].split(",") if g]
    grade = codes.GRADE_FROM_OR.get(grades[0], "") if grades else ""
    if grades and not grade:
        report.drop("users", "grades", codes.LOSSY["grade_level"])
    ids = _user_ids(row["userIds"])
    state_id = ids.get("SSID") or ids.get("state") or None
    student_id = row["identifier"] or uid
    # district spells: district roles when the producer sent them (Steward does), else one spell
    # from the earliest school role
    spells = district_roles or sorted(school_roles or student_roles, key=lambda x: x.begin or date.max)[:1]
    years: list[int] = []
    for role in sorted(spells, key=lambda x: (x.begin or date.min, x.org)):
        begin = role.begin or enrolled_from.get((uid, role.org))
        year = rd.year_of(begin)
        if year is None:
            report.issue(role.file, role.row, "beginDate", "no school year can be told for this student")
            continue
        if begin is None:
            begin = rd.year_start(year)
            if begin is None:
                report.issue(role.file, role.row, "beginDate", "no entry date can be told for this student")
                continue
            report.issue(
                role.file,
                role.row,
                "beginDate",
                "no begin date: the student is taken as enrolled from the start of the school year",
                Severity.WARNING,
            )
        years.append(year)
        yield r.DistrictStudent(
            school_year=year,
            district_code=district[0],
            resident_district_code=district[0],
            student_id=student_id,
            state_id=state_id,
            last_name=row["familyName"],
            first_name=row["givenName"],
            middle_name=row["middleName"],
            birth_date=birth,
            sex=sex,
            grade_level=grade,
            entry_date=begin,
            exit_date=role.end if district_roles else None,
            birth_country=demo_row["countryOfBirthCode"],
            ethnicity_code=codes.ETHNICITY_FROM_OR.get(demo_row["hispanicOrLatinoEthnicity"], ""),
        )
    if not years:
        return
    for role in school_roles:
        begin = role.begin or enrolled_from.get((uid, role.org))
        year = rd.year_of(begin)
        if year is None:
            continue
        begin = begin or rd.year_start(year)
        if begin is None:
            continue
        yield r.SchoolStudent(
            year,
            district[0],
            student_id,
            state_id,
            rd.location_of(role.org),
            begin,
            role.end,
            "",
            role.primary,
        )
    for code, column in codes.RACE_COLUMNS.items():
        if demo_row[column] == "true":
            yield r.StudentRace(years[0], district[0], student_id, state_id, code)
