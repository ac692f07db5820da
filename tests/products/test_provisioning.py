"""Vendor provisioning: bulk first, then deltas; students who leave or opt out are deleted in the next
delta; every delivery is in the ledger as a school-official disclosure (no 99.32 line required)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pyrage
import pytest
from pyrage import x25519
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from steward.audit.models import DisclosureEntry
from steward.delivery.models import Package
from steward.delivery.packages import package_path
from steward.delivery.recipients import register_key
from steward.products.provisioning import ProvisioningError, contracts_of, provision
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Organization, SchoolEnrollment, Student
from steward.workflow.models import Agreement, OptOut
from steward.workflow.provisioning.models import ProvisioningRow
from tests import factories as f
from tests.delivery.conftest import untar
from tests.workflow.transfers.region import World, generate_region, make_world


@pytest.fixture(scope="module")
def region_drops(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str]]:
    return generate_region(tmp_path_factory.mktemp("region"))


def _vendor(
    engine: Engine, world: World, datasets: list[str], clauses: list[str] | None = None
) -> tuple[int, int, x25519.Identity]:
    identity = x25519.Identity.generate()
    with transaction(engine) as db:
        vendor = f.org(db, "apps", "vendor", "Evergreen Apps")
        f.person(db, "apps-bot", "vendor_integration", vendor)
        school = db.scalars(
            select(Organization).where(Organization.parent_id == world.home).order_by(Organization.id)
        ).first()
        assert school is not None
        contract = Agreement(
            code="C-1",
            kind="contract",
            organization_id=vendor.id,
            district_id=world.home,
            status="executed",
            datasets=datasets,
            clauses=["no_commercial_use"] if clauses is None else clauses,
            schools=[school.id],
            valid_from=f.EPOCH,
        )
        db.add(contract)
        db.flush()
        register_key(db, vendor.id, str(identity.to_public()), "provisioning")
        return contract.id, school.id, identity


def _tables(
    engine: Engine, world: World, package_id: int, identity: x25519.Identity
) -> dict[str, list[dict[str, str]]]:
    with Session(engine) as db:
        package = db.get(Package, package_id)
        assert package is not None
        plain = pyrage.decrypt(package_path(db, world.data_dir, package).read_bytes(), [identity])
    members = untar(plain)
    return {
        name.removeprefix("data/").removesuffix(".csv"): list(csv.DictReader(io.StringIO(data.decode())))
        for name, data in members.items()
        if name.startswith("data/")
    }


@pytest.fixture
def world(engine: Engine, tmp_path: Path, region_drops: tuple[Path, tuple[str, str]]) -> World:
    return make_world(engine, tmp_path, *region_drops)


def test_bulk_then_deltas_with_leavers_and_opt_outs(engine: Engine, world: World) -> None:
    contract, school_id, identity = _vendor(engine, world, ["directory", "enrollment", "schedule"])
    with transaction(engine) as db:
        first = provision(db, world.data_dir, contract)
    assert first.mode.value == "bulk"
    assert first.package_id is not None
    assert first.students > 0
    tables = _tables(engine, world, first.package_id, identity)
    manifest = tables["manifest"]
    assert {r["propertyName"]: r["value"] for r in manifest}["file.users"] == "bulk"
    assert "demographics" not in tables
    students = [u for u in tables["users"] if u["sourcedId"].startswith("stu-")]
    assert len(students) == first.students
    assert all(u["userIds"] == "" and u["identifier"] == "" for u in students)
    assert tables["enrollments"]
    with Session(engine) as db:
        lines = db.scalars(
            select(DisclosureEntry).where(DisclosureEntry.delivery_id == first.package_id)
        ).all()
        assert len(lines) == first.students
        assert {(e.basis, e.record_required, e.agreement_id) for e in lines} == {
            ("school_official", False, contract)
        }

    with transaction(engine) as db:
        quiet = provision(db, world.data_dir, contract)
    assert quiet.mode.value == "delta"
    assert quiet.package_id is None

    with transaction(engine) as db:
        ids = [
            s.id
            for s in db.scalars(
                select(Student)
                .join(SchoolEnrollment, SchoolEnrollment.student_id == Student.id)
                .where(SchoolEnrollment.school_id == school_id, SchoolEnrollment.valid_at(now_utc()))
                .order_by(Student.id)
            )
        ]
        leaver, opted = db.get(Student, ids[0]), db.get(Student, ids[1])
        assert leaver is not None
        assert opted is not None
        for spell in db.scalars(select(SchoolEnrollment).where(SchoolEnrollment.student_id == leaver.id)):
            if spell.valid_to is None or spell.valid_to > now_utc():
                spell.valid_to = now_utc() - timedelta(minutes=5)
        db.add(OptOut(student_id=opted.id, kind="activity", valid_from=now_utc() - timedelta(minutes=5)))
    with transaction(engine) as db:
        delta = provision(db, world.data_dir, contract)
    assert delta.mode.value == "delta"
    assert delta.package_id is not None
    assert delta.counts["deleted"] > 0
    assert delta.students == 2
    tables = _tables(engine, world, delta.package_id, identity)
    assert {r["propertyName"]: r["value"] for r in tables["manifest"]}["file.users"] == "delta"
    gone = {u["sourcedId"] for u in tables["users"] if u["status"] == "tobedeleted"}
    assert gone == {f"stu-{world.home_code}-{leaver.local_id}", f"stu-{world.home_code}-{opted.local_id}"}
    assert all(r["status"] == "tobedeleted" for r in tables["roles"] if r["userSourcedId"] in gone)
    with Session(engine) as db:
        held = set(db.scalars(select(ProvisioningRow.sourced_id).where(ProvisioningRow.file == "users")))
        assert not gone & held
        assert (
            db.scalar(
                select(func.count())
                .select_from(DisclosureEntry)
                .where(DisclosureEntry.delivery_id == delta.package_id)
            )
            == 2
        )
    with transaction(engine) as db:
        again = provision(db, world.data_dir, contract, force_bulk=True)
    assert again.mode.value == "bulk"
    assert again.package_id is not None
    assert again.students == first.students - 2
    with Session(engine) as db:
        users = set(db.scalars(select(ProvisioningRow.sourced_id).where(ProvisioningRow.file == "users")))
        assert not gone & users
        assert len([u for u in users if u.startswith("stu-")]) == again.students


def test_demographics_only_when_the_contract_and_the_engine_allow(
    sqlite_engine: Engine, tmp_path: Path, region_drops: tuple[Path, tuple[str, str]]
) -> None:
    engine = sqlite_engine
    world = make_world(engine, tmp_path, *region_drops)
    contract, _, identity = _vendor(engine, world, ["directory", "enrollment", "demographics"])
    with transaction(engine) as db:
        result = provision(db, world.data_dir, contract)
    assert result.package_id is not None
    tables = _tables(engine, world, result.package_id, identity)
    # Vendors receive provisioning data only (the engine's ceiling): no demographics, no schedule.
    assert "demographics" not in tables
    assert "enrollments" not in tables
    assert all(u["userIds"] == "" for u in tables["users"] if u["sourcedId"].startswith("stu-"))


def test_contracts_without_the_clause_or_datasets_are_refused(
    sqlite_engine: Engine, tmp_path: Path, region_drops: tuple[Path, tuple[str, str]]
) -> None:
    world = make_world(sqlite_engine, tmp_path, *region_drops)
    contract, _, _ = _vendor(sqlite_engine, world, ["directory", "enrollment"], clauses=[])
    with transaction(sqlite_engine) as db, pytest.raises(ProvisioningError, match="no-commercial-use"):
        provision(db, world.data_dir, contract)
    with transaction(sqlite_engine) as db:
        agreement = db.get(Agreement, contract)
        assert agreement is not None
        agreement.clauses = ["no_commercial_use"]
        agreement.datasets = ["directory"]
    with transaction(sqlite_engine) as db, pytest.raises(ProvisioningError, match="directory and enrollment"):
        provision(db, world.data_dir, contract)
    with Session(sqlite_engine) as db:
        assert [a.code for a in contracts_of(db, "apps")] == ["C-1"]
        with pytest.raises(ProvisioningError, match="no vendor"):
            contracts_of(db, "nobody")
