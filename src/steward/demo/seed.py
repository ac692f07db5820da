"""Demo personas: one login per role, chosen so their worlds overlap (the teacher teaches the
parent's child; the principal leads the teacher's school)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyrage
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.accounts.service import create_account
from steward.delivery.recipients import register_key
from steward.demo.partner import seed_partner
from steward.demo.research import seed_research
from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.domain.time import SchoolYear
from steward.store.base import now_utc
from steward.store.models import (
    Guardianship,
    Organization,
    Person,
    Region,
    RoleAssignment,
    Section,
    SectionEnrollment,
    StaffAssignment,
)

DEMO_PASSWORD = "steward-demo"  # noqa: S105  (a documented demo login, bound to 127.0.0.1)


@dataclass(frozen=True, slots=True)
class Persona:
    username: str
    role: Role
    person: str
    organization: str


def ensure_region(
    db: Session, code: str = "puget-sound", name: str = "Puget Sound Road Map Region"
) -> Region:
    region = db.scalar(select(Region).where(Region.code == code))
    if region is None:
        region = Region(code=code, name=name, state="WA")
        db.add(region)
        db.flush()
    return region


def _org(db: Session, code: str, kind: OrgKind, name: str, region: Region | None = None) -> Organization:
    org = db.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        org = Organization(
            code=code,
            kind=kind.value,
            name=name,
            state="WA",
            region_id=region.id if region else None,
            registration_status=RegistrationStatus.REGISTERED.value,
            flags=[],
        )
        db.add(org)
        db.flush()
    return org


def _login(
    db: Session,
    username: str,
    person: Person,
    role: Role,
    org: Organization,
    since: datetime,
) -> Persona:
    create_account(db, person, username, DEMO_PASSWORD)
    has_role = db.scalar(
        select(RoleAssignment).where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.role == role.value,
            RoleAssignment.organization_id == org.id,
        )
    )
    if has_role is None:
        db.add(RoleAssignment(person_id=person.id, role=role.value, organization_id=org.id, valid_from=since))
    db.flush()
    return Persona(username, role, person.display_name, org.name)


def _new_person(db: Session, code: str, given: str, family: str) -> Person:
    person = Person(code=code, given_name=given, family_name=family, email=f"{code}@demo.invalid")
    db.add(person)
    db.flush()
    return person


def _busiest_teacher(db: Session, district: Organization, year: int, at: datetime) -> tuple[Person, int]:
    """The district's teacher with the most current section students, and their school."""
    stmt = (
        select(StaffAssignment.person_id, StaffAssignment.organization_id, func.count(SectionEnrollment.id))
        .join(Section, Section.id == StaffAssignment.section_id)
        .join(SectionEnrollment, SectionEnrollment.section_id == Section.id)
        .join(Organization, Organization.id == StaffAssignment.organization_id)
        .where(
            Organization.parent_id == district.id,
            Section.school_year == year,
            StaffAssignment.valid_at(at),
            SectionEnrollment.valid_at(at),
        )
        .group_by(StaffAssignment.person_id, StaffAssignment.organization_id)
        .order_by(func.count(SectionEnrollment.id).desc(), StaffAssignment.person_id)
        .limit(1)
    )
    row = db.execute(stmt).first()
    if row is None:
        raise RuntimeError(f"no teacher with current sections in district {district.code}")
    person = db.get(Person, row[0])
    assert person is not None
    return person, int(row[1])


def _principal_of(db: Session, school_id: int, at: datetime) -> Person:
    person_id = db.scalar(
        select(RoleAssignment.person_id)
        .where(
            RoleAssignment.organization_id == school_id,
            RoleAssignment.role == Role.PRINCIPAL.value,
            RoleAssignment.valid_at(at),
        )
        .order_by(RoleAssignment.person_id)
        .limit(1)
    )
    if person_id is None:
        raise RuntimeError("the teacher's school has no principal in the drop")
    person = db.get(Person, person_id)
    assert person is not None
    return person


def _parent_in_class(db: Session, teacher: Person, year: int, at: datetime) -> tuple[Person, Guardianship]:
    """An unrestricted guardian of a student currently in one of the teacher's sections."""
    stmt = (
        select(Guardianship)
        .join(SectionEnrollment, SectionEnrollment.student_id == Guardianship.student_id)
        .join(Section, Section.id == SectionEnrollment.section_id)
        .join(StaffAssignment, StaffAssignment.section_id == Section.id)
        .where(
            StaffAssignment.person_id == teacher.id,
            Section.school_year == year,
            SectionEnrollment.valid_at(at),
            Guardianship.valid_at(at),
            Guardianship.restricted.is_(False),
        )
        .order_by(Guardianship.id)
        .limit(1)
    )
    link = db.scalar(stmt)
    if link is None:
        raise RuntimeError("no unrestricted guardian among the teacher's students")
    person = db.get(Person, link.person_id)
    assert person is not None
    return person, link


def seed_personas(db: Session, districts: list[Organization], key_dir: Path | None = None) -> list[Persona]:
    """Create the ten demo logins (password ``steward-demo``) over an imported region, the demo
    research agreement and partner paperwork, and (with ``key_dir``) the recipients' age keys."""
    if len(districts) < 2:
        raise ValueError("the demo needs two districts (the registrar belongs to the second)")
    home, other = districts[0], districts[1]
    region = ensure_region(db)
    at = now_utc()
    year = SchoolYear.at(at).end_year
    since = SchoolYear(year).interval().start
    teacher, school_id = _busiest_teacher(db, home, year, at)
    school = db.get(Organization, school_id)
    assert school is not None
    principal = _principal_of(db, school_id, at)
    parent, link = _parent_in_class(db, teacher, year, at)
    partner = _org(db, "rainier-youth-tutoring", OrgKind.PARTNER, "Rainier Youth Tutoring", region)
    research = _org(
        db, "cascade-research", OrgKind.RESEARCH_ORG, "Cascade Education Research Institute", region
    )
    vendor = _org(db, "evergreen-apps", OrgKind.VENDOR, "Evergreen Learning Apps", region)
    agency = _org(db, "state-research-office", OrgKind.AGENCY, "State Education Research Office", region)
    personas = [
        _login(
            db,
            "officer",
            _new_person(db, "demo-officer", "Dana", "Okafor"),
            Role.DISTRICT_DATA_OFFICER,
            home,
            since,
        ),
        _login(
            db,
            "panel",
            _new_person(db, "demo-panel", "Priya", "Nandakumar"),
            Role.REVIEW_PANEL_MEMBER,
            home,
            since,
        ),
        _login(db, "principal", principal, Role.PRINCIPAL, school, since),
        _login(db, "teacher", teacher, Role.TEACHER, school, since),
        _login(
            db,
            "registrar",
            _new_person(db, "demo-registrar", "Rosa", "Delgado"),
            Role.REGISTRAR,
            other,
            since,
        ),
        _login(
            db,
            "partner",
            _new_person(db, "demo-partner", "Marcus", "Bell"),
            Role.PARTNER_STAFF,
            partner,
            since,
        ),
        _login(
            db,
            "researcher",
            _new_person(db, "demo-researcher", "Lena", "Park"),
            Role.RESEARCHER,
            research,
            since,
        ),
        _login(db, "parent", parent, Role.PARENT, home, link.valid_from),
        _login(
            db,
            "vendor",
            _new_person(db, "demo-vendor", "Sam", "Whitfield"),
            Role.VENDOR_INTEGRATION,
            vendor,
            since,
        ),
        _login(
            db,
            "analyst",
            _new_person(db, "demo-analyst", "Ade", "Mensah"),
            Role.AGENCY_ANALYST,
            agency,
            since,
        ),
    ]
    seed_research(db, home)
    seed_partner(db, home)
    if key_dir is not None:
        seed_keys(db, [other, partner, research, vendor], key_dir)
    return personas


def seed_keys(db: Session, organizations: list[Organization], key_dir: Path) -> None:
    """An age key pair per receiving organization: the public key registered as its delivery key,
    the identity written (0600) to ``key_dir/<code>.age`` so the demo user can decrypt packages."""
    key_dir.mkdir(parents=True, exist_ok=True)
    for org in organizations:
        identity = pyrage.x25519.Identity.generate()
        path = key_dir / f"{org.code}.age"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{identity}\n")
        register_key(db, org.id, str(identity.to_public()), "demo key")
