"""`steward transfer request | bulk | settings | sweep` and `steward provision VENDOR --out DIR`."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest
from pyrage import x25519
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from steward.cli import app
from steward.delivery.recipients import register_key
from steward.store.db import transaction
from steward.store.models import Organization
from steward.workflow.models import Agreement
from tests import factories as f
from tests.delivery.conftest import untar
from tests.workflow.transfers.region import World, generate_region, home_student, make_world

runner = CliRunner()


@pytest.fixture(scope="module")
def region_drops(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str]]:
    return generate_region(tmp_path_factory.mktemp("region"))


@pytest.fixture
def world(sqlite_engine: Engine, tmp_path: Path, region_drops: tuple[Path, tuple[str, str]]) -> World:
    return make_world(sqlite_engine, tmp_path, *region_drops)


def _args(engine: Engine, world: World) -> list[str]:
    return ["--database-url", str(engine.url), "--data-dir", str(world.data_dir)]


def test_request_receive_and_bulk(sqlite_engine: Engine, world: World, tmp_path: Path) -> None:
    student = home_student(sqlite_engine, world)
    out = tmp_path / "received"
    done = runner.invoke(
        app,
        [
            "transfer",
            "request",
            "--registrar",
            "reg-b",
            "--state-id",
            student.state_id or "",
            "--first-name",
            student.first_name,
            "--last-name",
            student.last_name,
            "--birth-date",
            student.birth_date.isoformat(),
            "--out",
            str(out),
            *_args(sqlite_engine, world),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "Records ready to receive" in done.output
    [package] = out.glob("*.tar.age")
    members = untar(pyrage.decrypt(package.read_bytes(), [world.identity]))
    assert any(student.local_id.encode() in v for k, v in members.items() if "DistrictStudent" in k)

    others = [home_student(sqlite_engine, world, index=i) for i in (1, 2)]
    listing = tmp_path / "incoming.csv"
    listing.write_text(
        "state_id,first_name,last_name,birth_date\n"
        + "".join(f"{s.state_id},{s.first_name},{s.last_name},{s.birth_date.isoformat()}\n" for s in others)
        + "1111111111,No,Body,2015-01-01\n"
    )
    bulk = runner.invoke(
        app,
        [
            "transfer",
            "bulk",
            str(listing),
            "--registrar",
            "reg-b",
            "--out",
            str(out),
            *_args(sqlite_engine, world),
        ],
    )
    assert bulk.exit_code == 0, bulk.output
    assert "Records ready to receive" in bulk.output
    assert "No matching student" in bulk.output
    assert len(list(out.glob("*.tar.age"))) == 2

    bad = tmp_path / "bad.csv"
    bad.write_text("state_id,first_name,last_name,birth_date\n1,A,B,31/31/2015\n")
    refused = runner.invoke(
        app, ["transfer", "bulk", str(bad), "--registrar", "reg-b", *_args(sqlite_engine, world)]
    )
    assert refused.exit_code == 2
    assert "bad.csv, row 2, birth_date" in refused.output
    nobody = runner.invoke(
        app,
        [
            *("transfer", "request", "--registrar", "officer-a", "--state-id", "1", "--first-name", "A"),
            *("--last-name", "B", "--birth-date", "2015-01-01", *_args(sqlite_engine, world)),
        ],
    )
    assert nobody.exit_code == 2
    assert "holds no registrar role" in nobody.output
    swept = runner.invoke(app, ["transfer", "sweep", *_args(sqlite_engine, world)])
    assert swept.output.strip() == "expired 0"


def test_settings(sqlite_engine: Engine, world: World) -> None:
    url = ["--database-url", str(sqlite_engine.url)]
    shown = runner.invoke(app, ["transfer", "settings", world.other_code, *url])
    assert shown.exit_code == 0, shown.output
    assert "receives in:   cedars" in shown.output
    changed = runner.invoke(
        app,
        [
            "transfer",
            "settings",
            world.other_code,
            "--format",
            "oneroster",
            "--datasets",
            "directory,enrollment",
            *url,
        ],
    )
    assert "receives in:   oneroster" in changed.output
    assert "sends:         directory, enrollment" in changed.output
    wrong = runner.invoke(app, ["transfer", "settings", world.other_code, "--format", "pdf", *url])
    assert wrong.exit_code == 2
    assert "unknown format 'pdf'" in wrong.output


def test_provision_writes_the_encrypted_package(sqlite_engine: Engine, world: World, tmp_path: Path) -> None:
    identity = x25519.Identity.generate()
    with transaction(sqlite_engine) as db:
        vendor = f.org(db, "apps", "vendor", "Evergreen Apps")
        f.person(db, "apps-bot", "vendor_integration", vendor)
        school = db.scalars(select(Organization).where(Organization.parent_id == world.home)).first()
        assert school is not None
        db.add(
            Agreement(
                code="C-9",
                kind="contract",
                organization_id=vendor.id,
                district_id=world.home,
                status="executed",
                datasets=["directory", "enrollment", "schedule"],
                clauses=["no_commercial_use"],
                schools=[school.id],
                valid_from=f.EPOCH,
            )
        )
        register_key(db, vendor.id, str(identity.to_public()))
    out = tmp_path / "feed"
    first = runner.invoke(app, ["provision", "apps", "--out", str(out), *_args(sqlite_engine, world)])
    assert first.exit_code == 0, first.output
    assert "contract C-9: bulk: package" in first.output
    [package] = out.glob("*.tar.age")
    members = untar(pyrage.decrypt(package.read_bytes(), [identity]))
    assert "data/users.csv" in members
    again = runner.invoke(app, ["provision", "apps", "--out", str(out), *_args(sqlite_engine, world)])
    assert "delta: nothing to deliver" in again.output
    unknown = runner.invoke(app, ["provision", "nobody", "--out", str(out), *_args(sqlite_engine, world)])
    assert unknown.exit_code == 2
    assert "no vendor with code 'nobody'" in unknown.output
