"""A small region for account tests: two districts, a school, a partner under an agreement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from steward.store.base import now_utc
from steward.store.models import Organization, Person
from steward.workflow.models import Agreement
from tests import factories as f


@dataclass
class World:
    district: Organization
    school: Organization
    other_district: Organization
    partner: Organization
    agreement: Agreement
    other_agreement: Agreement
    officer: Person
    other_officer: Person
    teacher: Person
    parent: Person


def build(db: Session) -> World:
    district = f.org(db, "d1", "district", "Lakeside District")
    school = f.org(db, "s1", "school", "Cedar Elementary", parent=district)
    other = f.org(db, "d2", "district", "Hillview District")
    partner = f.org(db, "p1", "partner", "Tutoring Partners", registration_status="registered")
    agreement = Agreement(
        code="DSA-1",
        kind="dsa",
        organization_id=partner.id,
        district_id=district.id,
        status="executed",
        valid_from=f.EPOCH,
        valid_to=now_utc() + timedelta(days=30),
    )
    other_agreement = Agreement(
        code="DSA-2",
        kind="dsa",
        organization_id=partner.id,
        district_id=other.id,
        status="executed",
        valid_from=f.EPOCH,
    )
    db.add_all([agreement, other_agreement])
    db.flush()
    return World(
        district=district,
        school=school,
        other_district=other,
        partner=partner,
        agreement=agreement,
        other_agreement=other_agreement,
        officer=f.person(db, "olga", "district_data_officer", district, password="officer pass 1"),
        other_officer=f.person(db, "otto", "district_data_officer", other, password="officer pass 2"),
        teacher=f.person(db, "tina", "teacher", school, password="teacher pass 1"),
        parent=f.person(db, "pam", "parent", district, password="parent pass 1"),
    )
