"""A small generated region on disk (the demo's layout, DATA_DIR/demo/region/CODE) imported into a
fresh database with the demo's personas and the demo partner's paperwork, and partners whose grants
leave out one dataset each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.demo.generator import generate
from steward.demo.seed import ensure_region, seed_personas
from steward.domain.datasets import Dataset
from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.domain.principal import Principal
from steward.products.portal import lines
from steward.store.base import now_utc
from steward.store.cedars_drop import import_cedars_drop
from steward.store.db import make_engine, migrate, transaction
from steward.store.models import Account, Guardianship, Organization, Person, RoleAssignment, Student
from steward.workflow.consents import service as consents
from steward.workflow.grants import service as grants
from steward.workflow.models import Grant, GrantStudent
from steward.workflow.training import service as training

REGION = "puget-sound"


@pytest.fixture(scope="session")
def portal_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DATA_DIR with a two-district region of 300 students over two school years."""
    data = tmp_path_factory.mktemp("portal") / "data"
    region = data / "demo" / "region"
    region.mkdir(parents=True)
    generate(region, districts=2, students=300, years=2, seed=5)
    return data


@dataclass
class World:
    engine: Engine
    data_dir: Path

    def principal(self, db: Session, username: str) -> Principal:
        return principal_of(db, username)

    def drop(self, db: Session, district_id: int) -> Path:
        code = db.get_one(Organization, district_id).code
        return self.data_dir / "demo" / "region" / code


def principal_of(db: Session, username: str) -> Principal:
    account = db.scalar(select(Account).where(Account.username == username))
    assert account is not None, username
    person = db.get_one(Person, account.person_id)
    role = db.scalars(
        select(RoleAssignment).where(RoleAssignment.person_id == person.id).order_by(RoleAssignment.id)
    ).first()
    assert role is not None
    org = db.get_one(Organization, role.organization_id)
    return Principal(
        person.id, person.code, Role(role.role), org.id, org.code, OrgKind(org.kind), person.display_name
    )


def load(engine: Engine, data_dir: Path) -> World:
    lines.clear_caches()
    with transaction(engine) as db:
        ensure_region(db, REGION)
    drops = sorted(p for p in (data_dir / "demo" / "region").iterdir() if p.is_dir())
    for drop in drops:
        import_cedars_drop(engine, drop, drop.name, region_code=REGION)
    with transaction(engine) as db:
        orgs = list(
            db.scalars(
                select(Organization)
                .where(Organization.code.in_([d.name for d in drops]))
                .order_by(Organization.code)
            )
        )
        seed_personas(db, orgs)
    return World(engine, data_dir)


@pytest.fixture
def world(engine: Engine, portal_data: Path) -> World:
    """The region in a fresh database of each backend."""
    return load(engine, portal_data)


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory, portal_data: Path) -> Iterator[World]:
    """The region in one SQLite database shared by a module's tests (they only add ledger lines)."""
    path = tmp_path_factory.mktemp("portal-db") / "steward.db"
    url = f"sqlite:///{path}"
    migrate(url)
    engine = make_engine(url)
    try:
        yield load(engine, portal_data)
    finally:
        engine.dispose()


def add_partner(db: Session, code: str, datasets: list[Dataset], students: int = 6) -> Principal:
    """A registered partner with its own staff member, trained, and the demo partner's DSA terms:
    consents and a grant covering ``datasets`` for the first students the demo partner has."""
    from steward.demo.partner import DSA_DATASETS, PARTNER
    from steward.policy.facts import AgreementStatus
    from steward.workflow.agreements import service as agreements

    demo = db.scalar(select(Organization).where(Organization.code == PARTNER))
    assert demo is not None
    template = db.scalars(select(Grant).where(Grant.organization_id == demo.id)).first()
    assert template is not None
    district = db.get_one(Organization, template.district_id)
    officer = principal_of(db, "officer")
    org = Organization(
        code=code,
        kind=OrgKind.PARTNER.value,
        name=code.replace("-", " ").title(),
        state="WA",
        registration_status=RegistrationStatus.REGISTERED.value,
        flags=[],
    )
    person = Person(code=f"{code}-staff", given_name="Staff", family_name=code)
    db.add_all([org, person])
    db.flush()
    db.add(
        RoleAssignment(
            person_id=person.id,
            role=Role.PARTNER_STAFF.value,
            organization_id=org.id,
            valid_from=now_utc() - timedelta(days=30),
        )
    )
    now = now_utc()
    dsa = agreements.create(
        db,
        officer,
        kind="dsa",
        organization_id=org.id,
        district_id=district.id,
        valid_from=now - timedelta(days=20),
        status=AgreementStatus.EXECUTED,
        title="test DSA",
        purpose="tutoring",
        datasets=[*DSA_DATASETS, "programs"],
        annual=True,
    )
    assert dsa.id
    from steward.domain.time import local_date

    training.record(
        db,
        officer,
        person_id=person.id,
        completed_on=local_date(now) - timedelta(days=3),
        organization_id=org.id,
    )
    ids = sorted(db.scalars(select(GrantStudent.student_id).where(GrantStudent.grant_id == template.id)))[
        :students
    ]
    from steward.workflow.models import Consent

    for sid in ids:
        source = db.scalars(
            select(Consent).where(Consent.student_id == sid, Consent.organization_id == demo.id)
        ).first()
        assert source is not None
        consent = consents.record(
            db,
            officer,
            student_id=sid,
            organization_id=org.id,
            signed_by_person_id=source.signed_by_person_id,
            guardian_name="guardian",
            signed_on=source.signed_on,
            school_year=source.school_year or 0,
            datasets=[d.value for d in datasets],
            purpose="tutoring",
        )
        consents.verify(db, officer, consent)
    grants.grant(
        db,
        officer,
        organization_id=org.id,
        student_ids=ids,
        datasets=[d.value for d in datasets],
        at=now - timedelta(minutes=1),
    )
    db.flush()
    return Principal(person.id, person.code, Role.PARTNER_STAFF, org.id, org.code, OrgKind.PARTNER, "Staff")


def guardian_child(db: Session, username: str = "parent") -> int:
    principal = principal_of(db, username)
    found = db.scalar(
        select(Student.id)
        .join(Guardianship, Guardianship.student_id == Student.id)
        .where(Guardianship.person_id == principal.person_id)
        .order_by(Student.id)
    )
    assert found is not None
    return int(found)
