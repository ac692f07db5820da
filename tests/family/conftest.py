"""A small district for the family features: the workflow test world, an executed data sharing
agreement and training for the partner, parent logins for every guardian, and helpers to publish and
approve a consent request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from steward.domain.datasets import ELEMENTS, Dataset
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.family import requests
from steward.family.models import ConsentRequest
from steward.store.db import transaction
from steward.store.models import Organization, Person, RoleAssignment, Student
from steward.workflow.training import service as training
from tests import factories as f
from tests.workflow.conftest import World, build_world
from tests.workflow.helpers import executed_dsa, today

DATASETS = ["attendance", "enrollment", "assessment"]


@dataclass
class Family:
    world: World
    parents: dict[int, Principal]
    dsa_code: str

    @property
    def officer(self) -> Principal:
        return self.world.p("officer")

    @property
    def partner(self) -> Principal:
        return self.world.p("partner")

    def parent_of(self, student_id: int) -> Principal:
        return self.parents[student_id]


def family_principal(db: Session, person_id: int, district_id: int, role: Role = Role.PARENT) -> Principal:
    """A parent (or a student) acting at the district."""
    person = db.get_one(Person, person_id)
    district = db.get_one(Organization, district_id)
    return Principal(
        person.id, person.code, role, district.id, district.code, OrgKind.DISTRICT, person.display_name
    )


def build_family(db: Session, root: Path) -> Family:
    w = build_world(db, root)
    elements = [f"{d.value}.{e.name}" for d in map(Dataset, [*DATASETS, "grades"]) for e in ELEMENTS[d]]
    dsa = executed_dsa(db, w, datasets=[*DATASETS, "grades"], elements=elements)
    training.record(
        db, w.p("officer"), person_id=w.p("partner").person_id, completed_on=today() - timedelta(days=1)
    )
    parents: dict[int, Principal] = {}
    for student_id, guardian in w.guardians.items():
        db.add(
            RoleAssignment(
                person_id=guardian, role=Role.PARENT.value, organization_id=w.district, valid_from=f.EPOCH
            )
        )
        parents[student_id] = family_principal(db, guardian, w.district)
    db.flush()
    return Family(w, parents, dsa.code)


@pytest.fixture
def family(engine: Engine, tmp_path: Path) -> Family:
    with transaction(engine) as db:
        return build_family(db, tmp_path)


@pytest.fixture
def sqlite_family(sqlite_engine: Engine, tmp_path: Path) -> Family:
    with transaction(sqlite_engine) as db:
        return build_family(db, tmp_path)


def publish(
    db: Session, fam: Family, students: list[int], datasets: list[str] = DATASETS, **extra: object
) -> ConsentRequest:
    refs = [db.get_one(Student, s).local_id for s in students]
    return requests.publish(
        db,
        fam.partner,
        requests.RequestInput(
            district_id=fam.world.district,
            title=str(extra.get("title", "After-school tutoring")),
            purpose=str(
                extra.get("purpose", "Follow the attendance and test results of the students we tutor")
            ),
            description=str(extra.get("description", "We tutor students after school in south Seattle.")),
            datasets=datasets,
            student_refs=refs,
            translations=extra.get("translations"),  # type: ignore[arg-type]
        ),
    )


def approved(
    db: Session, fam: Family, students: list[int], at: datetime | None = None, **extra: object
) -> ConsentRequest:
    row = publish(db, fam, students, **extra)
    return requests.approve(db, fam.officer, row, at=at, base_url="https://steward.example")
