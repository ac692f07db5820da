"""Packages: signed manifest, age encryption readable by Debian's `age`, all-or-nothing release."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from steward.audit.keys import export_public_key, load_exported_keys
from steward.audit.models import AuditEvent, DisclosureEntry
from steward.audit.verify import verify
from steward.delivery.manifest import ManifestError, verify_manifest
from steward.delivery.models import Package, PackageKey
from steward.delivery.packages import DeliveryError, Layout, open_own_copy, recover, release, shred
from steward.delivery.recipients import RecipientKeyError
from steward.domain.time import local_date
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.workflow.models import Agreement
from tests import factories as f
from tests.delivery.conftest import AGREEMENT_END, World, untar

AGE = "/usr/bin/age"


def _release(engine: Engine, world: World) -> Package:
    with transaction(engine) as db:
        return release(db, world.data_dir, world.request())


def _outbox(world: World) -> list[Path]:
    return sorted(Layout.of(world.data_dir).outbox.rglob("*.age"))


def _staging(world: World) -> list[str]:
    staging = Layout.of(world.data_dir).staging
    return sorted(p.name for p in staging.iterdir()) if staging.exists() else []


def _counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as db:
        return (
            db.scalar(select(func.count()).select_from(Package)) or 0,
            db.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            db.scalar(select(func.count()).select_from(DisclosureEntry)) or 0,
        )


@pytest.mark.parametrize("identity", ["age", "ssh"])
def test_recipient_decrypts_with_the_age_cli_and_checks_the_manifest(
    engine: Engine, world: World, identity: str
) -> None:
    package = _release(engine, world)
    [path] = _outbox(world)
    assert path.parent.name == "tutors"
    assert path.name == package.file_name
    key = world.age_identity if identity == "age" else world.ssh_identity
    plain = subprocess.run(
        [AGE, "--decrypt", "-i", str(key), str(path)], capture_output=True, check=True
    ).stdout
    members = untar(plain)
    assert set(members) == {
        "manifest.json",
        "manifest.json.sig",
        "README.txt",
        "data/students.csv",
        "data/attendance.csv",
    }
    manifest = json.loads(members["manifest.json"])
    files = {entry["path"]: entry for entry in manifest["files"]}
    assert files["data/students.csv"]["rows"] == 3  # a quoted newline is not a row
    assert files["data/attendance.csv"]["rows"] == 2
    for name, entry in files.items():
        assert hashlib.sha256(members[name]).hexdigest() == entry["sha256"]
        assert len(members[name]) == entry["bytes"]
    assert manifest["legal_basis"] == {"code": "studies", "citation": "34 CFR 99.31(a)(6)"}
    assert manifest["agreement"]["code"] == "DSA-1"
    deadline = local_date(AGREEMENT_END) + timedelta(days=45)  # agreement end + 45 days
    assert manifest["destruction"]["deadline"] == deadline.isoformat()
    assert "99.33" in manifest["redisclosure_notice"]
    assert "99.33" in members["README.txt"].decode()
    with transaction(engine) as db:
        exported = export_public_key(db, world.data_dir, world.district)
    [public_key] = load_exported_keys(exported).values()
    assert verify_manifest(members["manifest.json"], members["manifest.json.sig"], public_key)
    assert not verify_manifest(members["manifest.json"] + b" ", members["manifest.json.sig"], public_key)
    with Session(engine) as db:
        lines = list(db.scalars(select(DisclosureEntry)))
        assert {line.student_id for line in lines} == set(world.students)
        assert {line.delivery_id for line in lines} == {package.id}
    assert verify(engine).ok
    assert _staging(world) == []


def test_a_rolled_back_transaction_leaves_nothing(engine: Engine, world: World) -> None:
    def failing() -> None:
        with transaction(engine) as db:
            release(db, world.data_dir, world.request())
            raise RuntimeError("the caller's action failed after the release")

    with pytest.raises(RuntimeError):
        failing()
    assert _outbox(world) == []
    assert _staging(world) == []
    assert _counts(engine) == (0, 0, 0)


CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from steward.store.db import make_engine, transaction
    from steward.delivery import packages
    from steward.domain.legal import LegalBasis

    url, data_dir, point, spec = sys.argv[1], Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "before-record":
        packages._record = die
    else:
        packages.Staged.finalize = die
    request = packages.PackageRequest(
        district_id=spec["district"], recipient_org_id=spec["partner"], basis=LegalBasis.STUDIES,
        datasets=["grades"], student_ids=spec["students"],
        files={k: Path(v) for k, v in spec["files"].items()}, agreement_id=spec["agreement"],
    )
    engine = make_engine(url)
    with transaction(engine) as db:
        packages.release(db, data_dir, request)
    print("not killed")
    """
)


def _crash(engine: Engine, world: World, point: str) -> None:
    spec = {
        "district": world.district,
        "partner": world.partner,
        "students": world.students,
        "files": {k: str(v) for k, v in world.files.items()},
        "agreement": world.agreement,
    }
    url = engine.url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(world.data_dir), point, json.dumps(spec)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
        timeout=120,
    )
    assert result.returncode == -9, result.stdout + result.stderr


def test_killed_between_building_and_recording_leaves_neither(engine: Engine, world: World) -> None:
    _crash(engine, world, "before-record")
    assert _counts(engine) == (0, 0, 0)  # nothing recorded...
    assert _outbox(world) == []  # ...nothing delivered
    assert any(name.endswith(".tar.age") for name in _staging(world))  # the half-made package
    result = recover(engine, world.data_dir)
    assert len(result.removed) == 1
    assert result.moved == []
    assert _staging(world) == []
    assert verify(engine).ok


def test_killed_after_the_commit_is_finished_by_recovery(engine: Engine, world: World) -> None:
    _crash(engine, world, "after-commit")
    assert _counts(engine)[0] == 1
    assert _outbox(world) == []
    result = recover(engine, world.data_dir)
    assert len(result.moved) == 1
    [path] = _outbox(world)
    with Session(engine) as db:
        package = db.scalar(select(Package))
        assert package is not None
        assert hashlib.sha256(path.read_bytes()).hexdigest() == package.sha256
    assert _staging(world) == []


def test_shredding_deletes_stewards_copy_and_key(engine: Engine, world: World) -> None:
    package = _release(engine, world)
    with Session(engine) as db:
        row = db.get(Package, package.id)
        assert row is not None
        assert "manifest.json" in untar(open_own_copy(db, world.data_dir, row))
    [path] = _outbox(world)
    copy = path.read_bytes()
    with transaction(engine) as db:
        row = db.get(Package, package.id)
        assert row is not None
        shred(db, world.data_dir, row, "test")
    assert _outbox(world) == []
    with Session(engine) as db:
        row = db.get(Package, package.id)
        assert row is not None
        assert row.status == "shredded"
        assert db.get(PackageKey, package.id) is None
        with pytest.raises(DeliveryError, match="shredded"):
            open_own_copy(db, world.data_dir, row)
    # A stray copy (a backup) is still readable by the recipient only.
    stray = world.data_dir / "backup.age"
    stray.write_bytes(copy)
    run = subprocess.run(
        [AGE, "-d", "-i", str(world.age_identity), str(stray)], capture_output=True, check=False
    )
    assert run.returncode == 0
    assert verify(engine).ok


def test_bad_requests_are_refused_clearly(engine: Engine, world: World) -> None:
    with transaction(engine) as db:
        with pytest.raises(ManifestError, match="plain file name"):
            release(db, world.data_dir, world.request(files={"../x.csv": world.files["students.csv"]}))
        loner = f.org(db, "loner", "partner")
        with pytest.raises(RecipientKeyError, match="loner has no registered age or SSH public key"):
            release(db, world.data_dir, world.request(recipient_org_id=loner.id, agreement_id=None))
        with pytest.raises(DeliveryError, match=r"agreement \d+ is not between"):
            release(db, world.data_dir, world.request(recipient_org_id=loner.id))
        agreement = db.get(Agreement, world.agreement)
        assert agreement is not None
        agreement.valid_to = now_utc() - timedelta(days=1)
        with pytest.raises(DeliveryError, match=r"agreement DSA-1 ended on \S+: nothing more may be sent"):
            release(db, world.data_dir, world.request())
    assert _staging(world) == []
