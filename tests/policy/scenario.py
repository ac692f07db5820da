"""A small region as in-memory facts for the rule unit tests (the issue's example, extended)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from steward.domain.datasets import Dataset
from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.domain.time import Interval
from steward.policy.decision import Actor
from steward.policy.facts import (
    AgreementFact,
    AgreementKind,
    AgreementStatus,
    ConsentFact,
    EnrollmentFact,
    EnrollmentRequestFact,
    FactBase,
    GrantFact,
    GuardianshipFact,
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

TZ = ZoneInfo("America/Los_Angeles")
NOW = datetime(2025, 10, 15, 10, 0, tzinfo=TZ)


def days(start: str, end: str | None = None) -> Interval:
    return Interval.of_dates(date.fromisoformat(start), None if end is None else date.fromisoformat(end))


def at(text: str) -> datetime:
    """A local wall-clock time in the district's zone (``2026-07-01`` or ``2026-07-01T09:00``)."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=TZ) if value.tzinfo is None else value


ALL_TIME = days("2000-01-01")


def base() -> dict[str, Any]:
    """Keyword arguments for ``FactBase``; tests change them with ``with_(...)``."""
    orgs = [
        OrgFact("d1", "d1", OrgKind.DISTRICT, "WA", "r1"),
        OrgFact("d2", "d2", OrgKind.DISTRICT, "WA", "r1"),
        OrgFact("d3", "d3", OrgKind.DISTRICT, "OR", "r2"),
        OrgFact("d4", "d4", OrgKind.DISTRICT, "WA", "r9"),
        OrgFact("s1", "s1", OrgKind.SCHOOL, "WA", "r1", parent="d1"),
        OrgFact("s2", "s2", OrgKind.SCHOOL, "WA", "r1", parent="d1"),
        OrgFact("s3", "s3", OrgKind.SCHOOL, "WA", "r1", parent="d2"),
        OrgFact("s4", "s4", OrgKind.SCHOOL, "OR", "r2", parent="d3"),
        OrgFact("cbo1", "cbo1", OrgKind.PARTNER, "WA", registration=RegistrationStatus.REGISTERED),
        OrgFact("uni1", "uni1", OrgKind.RESEARCH_ORG, "WA", registration=RegistrationStatus.REGISTERED),
        OrgFact("ven1", "ven1", OrgKind.VENDOR, "WA"),
        OrgFact("ag1", "ag1", OrgKind.AGENCY, "WA"),
        OrgFact("news1", "news1", OrgKind.MEDIA, "WA"),
        OrgFact(
            "mkt1",
            "mkt1",
            OrgKind.PARTNER,
            "WA",
            registration=RegistrationStatus.REGISTERED,
            flags=frozenset({"marketing"}),
        ),
    ]
    people = [
        PersonFact(p, p)
        for p in [
            "t1",
            "t2",
            "pr1",
            "co1",
            "r2",
            "r3",
            "r4",
            "o1",
            "w1",
            "w2",
            "rs1",
            "v1",
            "a1",
            "m1",
            "p1",
            "p2",
            "rp1",
            "x1",
            "u2",
        ]
    ]
    roles = [
        RoleFact("1", "t1", Role.TEACHER, "s1", ALL_TIME),
        RoleFact("2", "t2", Role.TEACHER, "s1", ALL_TIME),
        RoleFact("3", "pr1", Role.PRINCIPAL, "s1", ALL_TIME),
        RoleFact("4", "co1", Role.COUNSELOR, "s1", ALL_TIME),
        RoleFact("5", "r2", Role.REGISTRAR, "d2", ALL_TIME),
        RoleFact("6", "r3", Role.REGISTRAR, "d3", ALL_TIME),
        RoleFact("7", "o1", Role.DISTRICT_DATA_OFFICER, "d1", ALL_TIME),
        RoleFact("8", "w1", Role.PARTNER_STAFF, "cbo1", ALL_TIME),
        RoleFact("9", "rs1", Role.RESEARCHER, "uni1", ALL_TIME),
        RoleFact("10", "v1", Role.VENDOR_INTEGRATION, "ven1", ALL_TIME),
        RoleFact("11", "a1", Role.AGENCY_ANALYST, "ag1", ALL_TIME),
        RoleFact("12", "m1", Role.MEDIA, "news1", ALL_TIME),
        RoleFact("13", "rp1", Role.REVIEW_PANEL_MEMBER, "d1", ALL_TIME),
        RoleFact("14", "w2", Role.PARTNER_STAFF, "mkt1", ALL_TIME),
        RoleFact("15", "r4", Role.REGISTRAR, "d4", ALL_TIME),
    ]
    students = [
        StudentFact("st1", "d1:st1", "d1", date(2014, 3, 2), "WA1"),
        StudentFact("st2", "d1:st2", "d1", date(2007, 5, 1), "WA2", person="u2"),
        StudentFact("st3", "d1:st3", "d1", date(2012, 1, 9), "WA3"),
    ]
    enrollments = [
        EnrollmentFact("e1", "st1", "s1", "5", 2026, days("2025-09-02", "2026-06-19")),
        EnrollmentFact("e0", "st1", "s1", "4", 2025, days("2024-09-03", "2025-06-18")),
        EnrollmentFact("e2", "st2", "s2", "12", 2026, days("2025-09-02", "2026-06-19")),
        EnrollmentFact("e3", "st3", "s2", "8", 2026, days("2025-09-02", "2026-06-19")),
    ]
    sections = [
        SectionFact("sec1", "sec1", "s1", 2026),
        SectionFact("sec0", "sec0", "s1", 2025),
    ]
    section_enrollments = [
        SectionEnrollmentFact("se1", "sec1", "st1", days("2025-09-02", "2026-06-19")),
        SectionEnrollmentFact("se0", "sec0", "st1", days("2024-09-03", "2025-06-18")),
    ]
    staff = [
        StaffFact("sa1", "t1", "sec1", days("2025-09-02", "2026-06-19")),
        StaffFact("sa0", "t2", "sec0", days("2024-09-03", "2025-06-18")),
    ]
    guardianships = [
        GuardianshipFact("g1", "p1", "st1", days("2014-03-02")),
        GuardianshipFact("g2", "p2", "st2", days("2007-05-01")),
    ]
    agreements = [
        AgreementFact(
            "a1",
            "dsa1",
            AgreementKind.DSA,
            "cbo1",
            "d1",
            AgreementStatus.EXECUTED,
            days("2025-07-01", "2026-06-30"),
            datasets=frozenset({Dataset.ATTENDANCE, Dataset.DISCIPLINE}),
            school_year=2026,
        ),
    ]
    consents = [
        ConsentFact(
            "c1",
            "c1",
            "st1",
            "cbo1",
            frozenset({Dataset.ATTENDANCE}),
            "p1",
            date(2025, 8, 20),
            at("2025-08-20"),
            days("2025-08-20", "2026-06-30"),
            purpose="tutoring",
        )
    ]
    grants = [
        GrantFact(
            "g1",
            "g1",
            "d1",
            "cbo1",
            frozenset({"st1"}),
            frozenset({Dataset.ATTENDANCE, Dataset.DISCIPLINE}),
            days("2025-09-01", "2026-06-30"),
        )
    ]
    trainings = [TrainingFact("tr1", "w1", days("2025-08-01", "2026-07-31"))]
    requests = [EnrollmentRequestFact("rq1", "st1", "d2", days("2025-10-01"))]
    return {
        "orgs": orgs,
        "people": people,
        "roles": roles,
        "students": students,
        "enrollments": enrollments,
        "sections": sections,
        "section_enrollments": section_enrollments,
        "staff": staff,
        "guardianships": guardianships,
        "agreements": agreements,
        "consents": consents,
        "grants": grants,
        "trainings": trainings,
        "requests": requests,
        "tenants": {"d1": TenantPolicy("d1")},
    }


def facts(**changes: Any) -> FactBase:
    """The base region with some fact lists replaced or extended (``add_consents=[...]``)."""
    kwargs = base()
    for key, value in changes.items():
        if key.startswith("add_"):
            kwargs[key[4:]] = [*kwargs.get(key[4:], []), *value]
        else:
            kwargs[key] = value
    return FactBase(**kwargs)


def actor(person: str, role: Role, org: str | None = None) -> Actor:
    return Actor(person, role, org)


__all__ = ["ALL_TIME", "NOW", "actor", "at", "base", "days", "facts", "replace"]
