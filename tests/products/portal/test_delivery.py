"""SFTP deliveries of the package, on demand and nightly: encrypted to the partner's key, in its
directory, with ledger lines per student; once a night; nothing without a registered key."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pyrage
import pytest
from pyrage import x25519
from sqlalchemy import select

from steward.audit.models import DisclosureEntry
from steward.delivery.models import Package
from steward.delivery.packages import Layout
from steward.delivery.recipients import register_key
from steward.products.portal import catalog as c
from steward.products.portal import package as pk
from steward.products.portal import service
from steward.products.portal.models import PortalGeneration
from steward.products.portal.nightly import data_steward, run_nightly
from steward.store.base import now_utc
from steward.store.db import transaction
from tests.delivery.conftest import untar
from tests.products.portal.conftest import World, principal_of

#: 03:00 in Seattle tomorrow (after NIGHTLY_HOUR), and 01:00 (before it).
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date()
NIGHT = datetime(TOMORROW.year, TOMORROW.month, TOMORROW.day, 11, 0, tzinfo=UTC)
TOO_EARLY = datetime(TOMORROW.year, TOMORROW.month, TOMORROW.day, 9, 0, tzinfo=UTC)


def _key(world: World, tmp_path: Path) -> x25519.Identity:
    identity = x25519.Identity.generate()
    with transaction(world.engine) as db:
        partner = principal_of(db, "partner")
        register_key(db, partner.organization_id, str(identity.to_public()), "test key")
    return identity


def test_without_a_key_on_demand_says_so(sqlite_world: World) -> None:
    """(Runs before the night's test registers a key in the shared database.)"""
    with transaction(sqlite_world.engine) as db:
        partner = principal_of(db, "partner")
        with pytest.raises(service.PortalError, match="no registered age or SSH public key"):
            service.deliver(db, sqlite_world.data_dir, partner)


def test_the_night_runs_once_and_not_before_two(sqlite_world: World, tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    (data_dir / "demo").mkdir(parents=True)
    (data_dir / "demo" / "region").symlink_to(sqlite_world.data_dir / "demo" / "region")
    assert run_nightly(sqlite_world.engine, data_dir, TOO_EARLY).changed == []
    first = run_nightly(sqlite_world.engine, data_dir, NIGHT)
    assert any(line.startswith("rainier-youth-tutoring: skipped") for line in first.changed)  # no key yet
    assert run_nightly(sqlite_world.engine, data_dir, NIGHT + timedelta(hours=2)).changed == []
    identity = x25519.Identity.generate()
    with transaction(sqlite_world.engine) as db:
        partner = principal_of(db, "partner")
        register_key(db, partner.organization_id, str(identity.to_public()))
    night = run_nightly(sqlite_world.engine, data_dir, NIGHT + timedelta(days=1))
    assert any(line.startswith("rainier-youth-tutoring: delivered") for line in night.changed)
    with transaction(sqlite_world.engine) as db:
        rows = db.scalars(
            select(PortalGeneration)
            .where(
                PortalGeneration.organization_id == partner.organization_id,
                PortalGeneration.kind == "nightly",
            )
            .order_by(PortalGeneration.id)
        ).all()
        assert [r.status for r in rows] == ["skipped", "delivered"]
        assert rows[1].nightly_key
        assert rows[1].nightly_key.endswith((TOMORROW + timedelta(days=1)).isoformat())
        package = db.get_one(Package, int(rows[1].packages[0]))
        assert package.created_by_person_id is None  # made by the system, for the data steward
        assert data_steward(db, partner.organization_id, now_utc()) is not None


def test_the_data_steward_is_the_trained_staff_member(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        partner = principal_of(db, "partner")
        steward = data_steward(db, partner.organization_id, now_utc())
        assert steward is not None
        assert steward.person_id == partner.person_id
        assert data_steward(db, partner.organization_id, datetime(2000, 1, 1, tzinfo=UTC)) is None


def test_on_demand_delivery_reaches_the_sftp_directory(sqlite_world: World, tmp_path: Path) -> None:
    """(Runs after the night's test: the partner then has two keys; the package opens with either.)"""
    world = sqlite_world
    data_dir = tmp_path / "var"
    (data_dir / "demo").mkdir(parents=True)
    (data_dir / "demo" / "region").symlink_to(world.data_dir / "demo" / "region")
    identity = _key(world, tmp_path)
    with transaction(world.engine) as db:
        partner = principal_of(db, "partner")
        generation = service.deliver(db, data_dir, partner)
        members = pk.members_of(db, partner, generation.decided_at)
        org_code = partner.organization_code
    assert generation.status == "delivered"
    assert len(generation.packages) == 1  # one district, one basis (consent)
    with transaction(world.engine) as db:
        package = db.get_one(Package, int(generation.packages[0]))
        path = Layout.of(data_dir).recipient_dir(org_code) / package.file_name
        assert path.exists()
        files = untar(pyrage.decrypt(path.read_bytes(), [identity]))
        names = {n for n in files if n.startswith("data/")}
        assert names == {
            f"data/{c.INDEX.file_name}",
            "data/package.xlsx",
            *(
                f"data/{s.spec.file_name}"
                for s in pk.build(db, data_dir, partner, generation.decided_at).reports
            ),
        }
        book = openpyxl.load_workbook(io.BytesIO(files["data/package.xlsx"]), read_only=True)
        assert book.sheetnames[0] == "README"
        assert "manifest.json" in files
        lines = db.scalars(select(DisclosureEntry).where(DisclosureEntry.delivery_id == package.id)).all()
        assert {line.student_id for line in lines} == {m.id for m in members}
        for line in lines:
            assert line.channel == "package"
            assert line.recipient_org_id == partner.organization_id
        by_id = {m.id: m for m in members}
        assert all(set(line.datasets) == {d.value for d in by_id[line.student_id].datasets} for line in lines)
