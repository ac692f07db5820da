"""A generated two-district region imported into a test database, with a registrar in the second
district, data officers in both, and an age key for the second district (it receives records)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pyrage import x25519
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.delivery.recipients import register_key
from steward.demo.generator import generate
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.store.cedars_drop import import_cedars_drop
from steward.store.db import transaction
from steward.store.models import Organization, Region, Student
from steward.workflow.transfers.service import Ask
from steward.workflow.transfers.settings import set_settings
from tests import factories as f

REGION = "r1"


def generate_region(root: Path, students: int = 80, seed: int = 5) -> tuple[Path, tuple[str, str]]:
    summary = generate(root, districts=2, students=students, years=2, seed=seed)
    a, b = summary.districts
    return root, (a, b)


@dataclass
class World:
    data_dir: Path
    drops: Path
    home: int  # district A (sends)
    other: int  # district B (receives)
    home_code: str
    other_code: str
    registrar: Principal
    officer_home: Principal
    officer_other: Principal
    identity: x25519.Identity
    extra: dict[str, int] = field(default_factory=dict)

    def drop(self, code: str) -> Path:
        return self.drops / code


def principal(db: Session, code: str, role: Role, org: Organization) -> Principal:
    person = f.person(db, code, role.value, org)
    return Principal(
        person.id, person.code, role, org.id, org.code, OrgKind(org.kind), f"{person.given_name} Tester"
    )


def make_world(engine: Engine, tmp_path: Path, drops: Path, codes: tuple[str, str]) -> World:
    local = tmp_path / "region"
    shutil.copytree(drops, local)
    for code in codes:
        import_cedars_drop(engine, local / code, code, region_code=REGION)
    identity = x25519.Identity.generate()
    with transaction(engine) as db:
        home = db.scalar(select(Organization).where(Organization.code == codes[0]))
        other = db.scalar(select(Organization).where(Organization.code == codes[1]))
        assert home is not None
        assert other is not None
        world = World(
            data_dir=tmp_path / "var",
            drops=local,
            home=home.id,
            other=other.id,
            home_code=home.code,
            other_code=other.code,
            registrar=principal(db, "reg-b", Role.REGISTRAR, other),
            officer_home=principal(db, "officer-a", Role.DISTRICT_DATA_OFFICER, home),
            officer_other=principal(db, "officer-b", Role.DISTRICT_DATA_OFFICER, other),
            identity=identity,
        )
        register_key(db, other.id, str(identity.to_public()), "registrar office")
        set_settings(db, home.id, source_path=local / home.code)
        set_settings(db, other.id, source_path=local / other.code)
    return world


def home_student(engine: Engine, world: World, *, mover: bool = False, index: int = 0) -> Student:
    """A student of district A (by default one who is not also in district B)."""
    with Session(engine) as db:
        other_ids = set(db.scalars(select(Student.state_id).where(Student.district_id == world.other)))
        rows = db.scalars(select(Student).where(Student.district_id == world.home).order_by(Student.id)).all()
        chosen = [s for s in rows if (s.state_id in other_ids) == mover]
        return chosen[index]


def student_with(engine: Engine, world: World, file: str) -> Student:
    """A student of district A who has rows in the drop file named ``file``."""
    [path] = world.drop(world.home_code).glob(f"*_{file}_*")
    ids = {line.split("\t")[2] for line in path.read_text().splitlines() if line}
    with Session(engine) as db:
        rows = db.scalars(select(Student).where(Student.district_id == world.home).order_by(Student.id)).all()
        return next(s for s in rows if s.local_id in ids)


def ask_for(student: Student, **changes: object) -> Ask:
    values: dict[str, object] = {
        "state_id": student.state_id or "",
        "first_name": student.first_name,
        "last_name": student.last_name,
        "birth_date": student.birth_date,
    }
    values.update(changes)
    return Ask(**values)  # type: ignore[arg-type]


def outside_district(db: Session, code: str, *, state: str = "WA", in_region: bool = True) -> Organization:
    region = db.scalar(select(Region).where(Region.code == REGION))
    return f.org(
        db,
        code,
        "district",
        f"District {code}",
        region_id=region.id if in_region and region else None,
        state=state,
    )
