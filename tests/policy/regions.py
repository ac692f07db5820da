"""Hypothesis strategies: small random regions as in-memory facts, with validity intervals drawn
from a few dates so that boundaries (an interval ending exactly at the instant asked, a student
turning 18 that day, two time zones) come up often."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from steward.domain.datasets import Dataset
from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.domain.time import Interval, local_midnight
from steward.policy.facts import (
    AgreementFact,
    AgreementKind,
    AgreementStatus,
    ConsentFact,
    ConsentStatus,
    DependencyFact,
    EmergencyFact,
    EnrollmentFact,
    EnrollmentRequestFact,
    FactBase,
    GrantFact,
    GuardianshipFact,
    OptOutFact,
    OptOutKind,
    OrgFact,
    PersonFact,
    RoleFact,
    SectionEnrollmentFact,
    SectionFact,
    StaffFact,
    StudentFact,
    TrainingFact,
)
from steward.policy.tenant import TenantPolicy

LA = "America/Los_Angeles"
NY = "America/New_York"

DATES = [
    date(2024, 7, 1),
    date(2024, 9, 3),
    date(2025, 1, 1),
    date(2025, 7, 1),
    date(2025, 9, 2),
    date(2025, 10, 15),
    date(2026, 2, 28),
    date(2026, 3, 1),
    date(2026, 6, 19),
    date(2026, 7, 1),
]
#: Instants the property tests ask about: local midnights in both zones and mid-day.
INSTANTS: list[datetime] = sorted(
    {local_midnight(d, LA) for d in DATES}
    | {local_midnight(d, NY) for d in DATES}
    | {local_midnight(d, LA) + timedelta(hours=12) for d in DATES}
)
BIRTHS = [
    date(2007, 5, 1),
    date(2007, 10, 15),
    date(2008, 2, 29),
    date(2008, 3, 1),
    date(2012, 6, 1),
    date(2014, 3, 2),
]
ELEMENTS = [
    "demographics.state_id",
    "demographics.sex",
    "attendance.attendance_rate",
    "assessment.scale_score",
    "directory.last_name",
    "grades",
]

DISTRICTS = [
    OrgFact("d1", "d1", OrgKind.DISTRICT, "WA", "r1"),
    OrgFact("d2", "d2", OrgKind.DISTRICT, "WA", "r1"),
    OrgFact("d3", "d3", OrgKind.DISTRICT, "OR", "r2"),
]
SCHOOLS = [
    OrgFact("s1", "s1", OrgKind.SCHOOL, "WA", "r1", "d1"),
    OrgFact("s2", "s2", OrgKind.SCHOOL, "WA", "r1", "d1"),
    OrgFact("s3", "s3", OrgKind.SCHOOL, "WA", "r1", "d2"),
    OrgFact("s4", "s4", OrgKind.SCHOOL, "OR", "r2", "d3"),
]
OUTSIDE = ["cbo1", "uni1", "ven1", "ag1", "news1"]
PEOPLE = [f"p{i}" for i in range(7)]
STUDENTS = [f"st{i}" for i in range(5)]
ROLE_CHOICES: list[tuple[Role, str]] = [
    *[(Role.TEACHER, s.id) for s in SCHOOLS[:3]],
    (Role.PRINCIPAL, "s1"),
    (Role.PRINCIPAL, "s3"),
    (Role.COUNSELOR, "s2"),
    (Role.REGISTRAR, "d2"),
    (Role.REGISTRAR, "s3"),
    (Role.REGISTRAR, "d3"),
    (Role.DISTRICT_DATA_OFFICER, "d1"),
    (Role.PARTNER_STAFF, "cbo1"),
    (Role.RESEARCHER, "uni1"),
    (Role.VENDOR_INTEGRATION, "ven1"),
    (Role.AGENCY_ANALYST, "ag1"),
    (Role.MEDIA, "news1"),
    (Role.REVIEW_PANEL_MEMBER, "d1"),
    (Role.PARENT, "d1"),
    (Role.PUBLIC, "d1"),
]


LONG = [
    Interval.of_dates(date(2024, 7, 1), None, LA),
    Interval.of_dates(date(2024, 7, 1), date(2026, 7, 1), LA),
]


#: The instant most checks ask about (inside school year 2025-26).
NOW = local_midnight(date(2025, 10, 15), LA) + timedelta(hours=10)
#: Half the time the usual instant, otherwise any boundary.
instants = st.one_of(st.just(NOW), st.sampled_from(INSTANTS))


def interval(draw: st.DrawFn, tz: str = LA) -> Interval:
    if draw(st.integers(0, 9)) < 7:
        return draw(st.sampled_from(LONG))
    i = draw(st.integers(0, len(DATES) - 1))
    if draw(st.booleans()):
        return Interval.of_dates(DATES[i], None, tz)
    j = draw(st.integers(i, len(DATES) - 1))
    return Interval.of_dates(DATES[i], DATES[j], tz)


def subset(draw: st.DrawFn, items: list[str] | list[Dataset], min_size: int = 0) -> frozenset:  # type: ignore[type-arg]
    return frozenset(
        draw(st.lists(st.sampled_from(items), min_size=min_size, max_size=len(items), unique=True))
    )


@st.composite
def regions(draw: st.DrawFn, focus: str | None = None) -> FactBase:
    """A random small region: three districts (two time zones, one out of state), four schools,
    five outside organizations, seven people and five students, and random paperwork."""
    datasets = list(Dataset)
    cbo = OrgFact(
        "cbo1",
        "cbo1",
        OrgKind.PARTNER,
        "WA",
        registration=draw(
            st.sampled_from([RegistrationStatus.REGISTERED] * 7 + [RegistrationStatus.PENDING])
        ),
        flags=frozenset(draw(st.sampled_from([[]] * 9 + [["marketing"]]))),
    )
    orgs = [
        *DISTRICTS,
        *SCHOOLS,
        cbo,
        OrgFact("uni1", "uni1", OrgKind.RESEARCH_ORG, "WA", registration=RegistrationStatus.REGISTERED),
        OrgFact("ven1", "ven1", OrgKind.VENDOR, "WA"),
        OrgFact("ag1", "ag1", OrgKind.AGENCY, "WA"),
        OrgFact("news1", "news1", OrgKind.MEDIA, "WA"),
    ]
    people = [PersonFact(p, p) for p in PEOPLE]
    roles = []
    for n, person in enumerate(PEOPLE):
        for k, (role, org) in enumerate(
            draw(st.lists(st.sampled_from(ROLE_CHOICES), max_size=2, unique=True))
        ):
            roles.append(RoleFact(f"{n}.{k}", person, role, org, interval(draw)))
    students = [
        StudentFact(
            s,
            s,
            draw(st.sampled_from(["d1", "d1", "d2", "d3"])),
            draw(st.sampled_from(BIRTHS)),
            person=draw(st.sampled_from([None, None, *PEOPLE])),
            legal_restriction=draw(st.sampled_from([False] * 5 + [True])),
        )
        for s in STUDENTS
    ]
    enrollments: dict[tuple[str, str, datetime], EnrollmentFact] = {}
    for n in range(draw(st.integers(0, 7))):
        valid = interval(draw)
        e = EnrollmentFact(
            f"e{n}",
            draw(st.sampled_from(STUDENTS)),
            draw(st.sampled_from([s.id for s in SCHOOLS])),
            "5",
            draw(st.sampled_from([2025, 2026, 2013])),
            valid,
        )
        enrollments.setdefault((e.student, e.school, valid.start), e)
    sections, members, staff = [], {}, {}
    for n in range(draw(st.integers(0, 3))):
        sec = SectionFact(
            f"sec{n}",
            f"sec{n}",
            draw(st.sampled_from([s.id for s in SCHOOLS])),
            draw(st.sampled_from([2025, 2026])),
        )
        sections.append(sec)
        for student in draw(st.lists(st.sampled_from(STUDENTS), max_size=3, unique=True)):
            valid = interval(draw)
            members.setdefault(
                (sec.id, student, valid.start),
                SectionEnrollmentFact(f"m{n}{student}", sec.id, student, valid),
            )
        for teacher in draw(st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True)):
            valid = interval(draw)
            staff.setdefault(
                (sec.id, teacher, valid.start), StaffFact(f"t{n}{teacher}", teacher, sec.id, valid)
            )
    guardianships: dict[tuple[str, str, datetime], GuardianshipFact] = {}
    for n in range(draw(st.integers(0, 5))):
        valid = interval(draw)
        g = GuardianshipFact(
            f"g{n}",
            draw(st.sampled_from(PEOPLE)),
            draw(st.sampled_from(STUDENTS)),
            valid,
            draw(st.sampled_from([False] * 4 + [True])),
        )
        guardianships.setdefault((g.parent, g.student, valid.start), g)
    dependencies = [
        DependencyFact(
            f"dep{n}", draw(st.sampled_from(PEOPLE)), draw(st.sampled_from(STUDENTS)), interval(draw)
        )
        for n in range(draw(st.integers(0, 2)))
    ]
    agreements = []
    for n in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(list(AgreementKind)))
        agreements.append(
            AgreementFact(
                f"a{n}",
                f"A-{n}",
                kind,
                draw(st.sampled_from(OUTSIDE)),
                draw(st.sampled_from(["d1", "d1", "d2", "d3"])),
                draw(
                    st.sampled_from(
                        [AgreementStatus.EXECUTED] * 3 + [AgreementStatus.APPROVED, AgreementStatus.DRAFT]
                    )
                ),
                interval(draw),
                subset(draw, datasets, 1),
                None if draw(st.booleans()) else subset(draw, ELEMENTS),
                draw(st.sampled_from([None, 2026, 2025])),
                subset(draw, [2008, 2012, 2025, 2026]),  # type: ignore[arg-type]
                subset(draw, [s.id for s in SCHOOLS]),
                frozenset(draw(st.sampled_from([["no_commercial_use"], ["no_commercial_use"], []]))),
            )
        )
    consents = []
    for n in range(draw(st.integers(0, 5))):
        signed_on = draw(st.sampled_from([*DATES, date(2025, 5, 1)]))
        consents.append(
            ConsentFact(
                f"c{n}",
                f"C-{n}",
                draw(st.sampled_from(STUDENTS)),
                draw(st.sampled_from(["cbo1", "cbo1", "uni1"])),
                subset(draw, datasets, 1),
                draw(st.sampled_from(PEOPLE)),
                signed_on,
                local_midnight(signed_on, LA),
                interval(draw),
                status=draw(
                    st.sampled_from(
                        [ConsentStatus.VERIFIED] * 3 + [ConsentStatus.REVOKED, ConsentStatus.PENDING]
                    )
                ),
                school_year=draw(st.sampled_from([None, None, 2026])),
            )
        )
    grants = [
        GrantFact(
            f"gr{n}",
            f"G-{n}",
            draw(st.sampled_from(["d1", "d2"])),
            draw(st.sampled_from(["cbo1", "uni1"])),
            subset(draw, STUDENTS, 1),
            subset(draw, datasets, 1),
            interval(draw),
            draw(st.sampled_from([None, None, "s1", "s3"])),
        )
        for n in range(draw(st.integers(0, 3)))
    ]
    trainings = [
        TrainingFact(
            f"tr{n}", draw(st.sampled_from(PEOPLE)), interval(draw), draw(st.sampled_from([None, 2026]))
        )
        for n in range(draw(st.integers(0, 3)))
    ]
    opt_outs = [
        OptOutFact(
            f"o{n}", draw(st.sampled_from(STUDENTS)), draw(st.sampled_from(list(OptOutKind))), interval(draw)
        )
        for n in range(draw(st.integers(0, 2)))
    ]
    requests = [
        EnrollmentRequestFact(
            f"r{n}",
            draw(st.sampled_from(STUDENTS)),
            draw(st.sampled_from(["d1", "d2", "d3"])),
            interval(draw),
            draw(st.sampled_from([None, None, *PEOPLE])),
        )
        for n in range(draw(st.integers(0, 2)))
    ]
    emergencies = []
    for n in range(draw(st.integers(0, 2))):
        start = draw(st.sampled_from(INSTANTS))
        emergencies.append(
            EmergencyFact(
                f"em{n}",
                draw(st.sampled_from(PEOPLE)),
                draw(st.sampled_from(STUDENTS)),
                draw(st.sampled_from(["threat to safety", "", "threat"])),
                Interval(start, start + timedelta(hours=draw(st.sampled_from([1, 24, 72])))),
            )
        )
    facts = {
        "roles": roles,
        "enrollments": enrollments,
        "sections": sections,
        "members": members,
        "staff": staff,
        "guardianships": guardianships,
        "dependencies": dependencies,
        "agreements": agreements,
        "consents": consents,
        "grants": grants,
        "trainings": trainings,
        "requests": requests,
        "emergencies": emergencies,
    }
    if focus is not None:
        for n in range(draw(st.integers(1, 2))):
            BUNDLES[focus](draw, 100 + n, students, facts)
    for n in range(draw(st.integers(1, 4))):
        draw(st.sampled_from(list(BUNDLES.values())))(draw, n, students, facts)
    from steward.domain.orgs import OrgKind as K

    tenants = {
        "d1": TenantPolicy(
            "d1",
            floor_year=draw(st.sampled_from([2010, 2013])),
            kind_datasets=draw(
                st.sampled_from(
                    [
                        {},
                        {K.PARTNER: frozenset({Dataset.ATTENDANCE, Dataset.GRADES})},
                        {K.VENDOR: frozenset()},
                    ]
                )
            ),
            research_identifiable_requires_consent=draw(st.booleans()),
            annual_notice_forwards_records=draw(st.booleans()),
        ),
        "d2": TenantPolicy("d2", timezone=NY),
    }
    return FactBase(
        orgs=orgs,
        people=people,
        roles=roles,
        students=students,
        enrollments=list(enrollments.values()),
        sections=sections,
        section_enrollments=list(members.values()),
        staff=list(staff.values()),
        guardianships=list(guardianships.values()),
        dependencies=dependencies,
        agreements=agreements,
        consents=consents,
        grants=grants,
        trainings=trainings,
        opt_outs=opt_outs,
        requests=requests,
        emergencies=emergencies,
        tenants=tenants,
    )


def good(draw: st.DrawFn, value: object, *others: object) -> object:
    """Mostly the coherent value, sometimes one of the others (the deny paths)."""
    return value if draw(st.integers(0, 7)) > 0 or not others else draw(st.sampled_from(others))


SCHOOL_DISTRICT = {s.id: s.parent for s in SCHOOLS}


def _student_in(draw: st.DrawFn, students: list[StudentFact], district: str) -> str:
    mine = [s.id for s in students if s.district == district]
    return draw(st.sampled_from(mine)) if mine else draw(st.sampled_from(STUDENTS))


def _role(draw: st.DrawFn, n: int, facts: dict, role: Role, org: str) -> str:  # type: ignore[type-arg]
    person = draw(st.sampled_from(PEOPLE))
    facts["roles"].append(RoleFact(f"b{n}.{role.value}", person, role, org, interval(draw)))
    return person


def _enroll(draw: st.DrawFn, n: int, facts: dict, student: str, school: str, year: int = 2026) -> None:  # type: ignore[type-arg]
    valid = interval(draw)
    facts["enrollments"].setdefault(
        (student, school, valid.start), EnrollmentFact(f"be{n}{student}", student, school, "5", year, valid)
    )


def _guardian(draw: st.DrawFn, n: int, facts: dict, student: str) -> str:  # type: ignore[type-arg]
    parent = draw(st.sampled_from(PEOPLE))
    valid = interval(draw)
    facts["guardianships"].setdefault(
        (parent, student, valid.start),
        GuardianshipFact(f"bg{n}{parent}", parent, student, valid, bool(good(draw, False, True))),
    )
    return parent


def b_teacher(draw: st.DrawFn, n: int, students: list[StudentFact], facts: dict) -> None:  # type: ignore[type-arg]
    school = draw(st.sampled_from(["s1", "s2", "s3"]))
    teacher = _role(draw, n, facts, Role.TEACHER, school)
    student = _student_in(draw, students, str(SCHOOL_DISTRICT[school]))
    sec = SectionFact(f"bsec{n}", f"bsec{n}", school, int(good(draw, 2026, 2025)))  # type: ignore[call-overload]
    facts["sections"].append(sec)
    valid = interval(draw)
    facts["members"].setdefault(
        (sec.id, student, valid.start), SectionEnrollmentFact(f"bm{n}", sec.id, student, valid)
    )
    valid = interval(draw)
    facts["staff"].setdefault((sec.id, teacher, valid.start), StaffFact(f"bs{n}", teacher, sec.id, valid))


def _agreement(
    draw: st.DrawFn, code: str, kind: AgreementKind, org: str, district: str, **kw: object
) -> AgreementFact:
    args: dict[str, object] = {
        "datasets": subset(draw, list(Dataset), 1),
        "school_year": good(draw, 2026, None, 2025),
        "clauses": frozenset(good(draw, ["no_commercial_use"], []) or []),  # type: ignore[call-overload]
    }
    args.update(kw)
    return AgreementFact(
        code,
        code,
        kind,
        org,
        district,
        good(draw, AgreementStatus.EXECUTED, AgreementStatus.DRAFT, AgreementStatus.TERMINATED),  # type: ignore[arg-type]
        interval(draw),
        **args,  # type: ignore[arg-type]
    )


def b_partner(draw: st.DrawFn, n: int, students: list[StudentFact], facts: dict) -> None:  # type: ignore[type-arg]
    district = draw(st.sampled_from(["d1", "d2"]))
    person = _role(draw, n, facts, Role.PARTNER_STAFF, "cbo1")
    student = _student_in(draw, students, district)
    facts["agreements"].append(_agreement(draw, f"BDSA{n}", AgreementKind.DSA, "cbo1", district))
    if draw(st.booleans()):
        facts["agreements"].append(
            _agreement(draw, f"BIS{n}", AgreementKind.IS_DESIGNATION, "cbo1", district)
        )
        school = draw(st.sampled_from(["s1", "s3"]))
        _enroll(draw, n, facts, student, school)
        facts["grants"].append(
            GrantFact(
                f"bl{n}",
                f"BL-{n}",
                district,
                "cbo1",
                frozenset({student}),
                subset(draw, list(Dataset), 1),
                interval(draw),
                school,
            )
        )
    facts["trainings"].append(
        TrainingFact(
            f"btr{n}", str(good(draw, person, *PEOPLE)), interval(draw), draw(st.sampled_from([None, 2026]))
        )
    )
    parent = _guardian(draw, n, facts, student)
    signed_on = draw(
        st.sampled_from([date(2024, 8, 1), date(2025, 8, 20), date(2025, 10, 15), date(2026, 3, 1)])
    )
    facts["consents"].append(
        ConsentFact(
            f"bc{n}",
            f"BC-{n}",
            student,
            "cbo1",
            subset(draw, list(Dataset), 1),
            str(good(draw, parent, *PEOPLE)),
            signed_on,
            local_midnight(signed_on, LA),
            interval(draw),
            status=good(draw, ConsentStatus.VERIFIED, ConsentStatus.PENDING, ConsentStatus.REVOKED),  # type: ignore[arg-type]
        )
    )
    facts["grants"].append(
        GrantFact(
            f"bgr{n}",
            f"BG-{n}",
            district,
            "cbo1",
            frozenset({student}),
            subset(draw, list(Dataset), 1),
            interval(draw),
        )
    )


def b_research(draw: st.DrawFn, n: int, students: list[StudentFact], facts: dict) -> None:  # type: ignore[type-arg]
    district = draw(st.sampled_from(["d1", "d2"]))
    person = _role(draw, n, facts, Role.RESEARCHER, "uni1")
    student = _student_in(draw, students, district)
    _enroll(
        draw, n, facts, student, "s1" if district == "d1" else "s3", draw(st.sampled_from([2012, 2025, 2026]))
    )
    facts["agreements"].append(
        _agreement(draw, f"BRA{n}", AgreementKind.RESEARCH_APPROVAL, "uni1", district, school_year=None)
    )
    facts["agreements"].append(
        _agreement(
            draw,
            f"BST{n}",
            draw(
                st.sampled_from(
                    [AgreementKind.STUDIES, AgreementKind.STUDIES, AgreementKind.NDA, AgreementKind.DSA]
                )
            ),
            "uni1",
            district,
            school_year=None,
            elements=draw(
                st.sampled_from([None, frozenset({"demographics.state_id", "attendance.attendance_rate"})])
                | st.just(subset(draw, ELEMENTS, 1))
            ),
            school_years=subset(draw, [2008, 2012, 2025, 2026], 1),  # type: ignore[arg-type]
        )
    )
    if draw(st.booleans()):
        parent = _guardian(draw, n, facts, student)
        facts["consents"].append(
            ConsentFact(
                f"brc{n}",
                f"BRC-{n}",
                student,
                "uni1",
                subset(draw, list(Dataset), 1),
                parent,
                date(2025, 8, 20),
                local_midnight(date(2025, 8, 20), LA),
                interval(draw),
            )
        )
    del person


def b_vendor(draw: st.DrawFn, n: int, students: list[StudentFact], facts: dict) -> None:  # type: ignore[type-arg]
    _role(draw, n, facts, Role.VENDOR_INTEGRATION, "ven1")
    student = _student_in(draw, students, "d1")
    _enroll(draw, n, facts, student, draw(st.sampled_from(["s1", "s2"])))
    facts["agreements"].append(
        _agreement(
            draw,
            f"BK{n}",
            AgreementKind.CONTRACT,
            "ven1",
            "d1",
            school_year=None,
            schools=subset(draw, ["s1", "s2"]),
            datasets=subset(
                draw, [Dataset.DIRECTORY, Dataset.ENROLLMENT, Dataset.SCHEDULE, Dataset.GRADES], 1
            ),
        )
    )


def b_agency(draw: st.DrawFn, n: int, students: list[StudentFact], facts: dict) -> None:  # type: ignore[type-arg]
    _role(draw, n, facts, Role.AGENCY_ANALYST, "ag1")
    facts["agreements"].append(
        _agreement(
            draw,
            f"BM{n}",
            draw(st.sampled_from([AgreementKind.MOU, AgreementKind.CONTRACT])),
            "ag1",
            "d1",
            school_year=None,
        )
    )


def b_registrar(draw: st.DrawFn, n: int, students: list[StudentFact], facts: dict) -> None:  # type: ignore[type-arg]
    org = draw(st.sampled_from(["d2", "s3", "d3"]))
    person = _role(draw, n, facts, Role.REGISTRAR, org)
    student = _student_in(draw, students, "d1")
    receiving = "d2" if org in ("d2", "s3") else "d3"
    facts["requests"].append(
        EnrollmentRequestFact(
            f"brq{n}",
            student,
            str(good(draw, receiving, "d1")),
            interval(draw),
            good(draw, None, person, "p0"),
        )  # type: ignore[arg-type]
    )


def b_emergency(draw: st.DrawFn, n: int, students: list[StudentFact], facts: dict) -> None:  # type: ignore[type-arg]
    person = _role(draw, n, facts, Role.DISTRICT_DATA_OFFICER, "d1")
    student = _student_in(draw, students, "d1")
    start = draw(st.sampled_from([NOW - timedelta(hours=1), NOW - timedelta(hours=1), NOW, *INSTANTS]))
    facts["emergencies"].append(
        EmergencyFact(
            f"bem{n}",
            person,
            student,
            str(good(draw, "articulable threat", "  ")),
            Interval(start, start + timedelta(hours=draw(st.sampled_from([1, 24])))),
        )
    )


def b_dependency(draw: st.DrawFn, n: int, students: list[StudentFact], facts: dict) -> None:  # type: ignore[type-arg]
    student = draw(st.sampled_from(STUDENTS))
    parent = _guardian(draw, n, facts, student)
    facts["dependencies"].append(
        DependencyFact(f"bdep{n}", str(good(draw, parent, *PEOPLE)), student, interval(draw))
    )


BUNDLES = {
    "teacher": b_teacher,
    "partner": b_partner,
    "research": b_research,
    "vendor": b_vendor,
    "agency": b_agency,
    "registrar": b_registrar,
    "emergency": b_emergency,
    "dependency": b_dependency,
}

__all__ = ["BUNDLES", "INSTANTS", "NOW", "ZoneInfo", "instants", "regions"]
