"""A district, a partner with registered keys, an agreement and CSV files to send."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import asyncssh
import pytest
from pyrage import x25519
from sqlalchemy import Engine

from steward.delivery.packages import PackageRequest
from steward.delivery.recipients import register_key
from steward.domain.legal import LegalBasis
from steward.domain.time import local_midnight
from steward.store.db import transaction
from steward.workflow.models import Agreement
from tests import factories as f

#: Local midnight (Pacific) about half a year ahead, so packages may still be sent under it.
AGREEMENT_END = local_midnight(date.today() + timedelta(days=180))


@dataclass
class World:
    district: int
    partner: int
    students: list[int]
    agreement: int
    age_identity: Path
    ssh_identity: Path
    ssh_key: asyncssh.SSHKey
    files: dict[str, Path]
    data_dir: Path

    def request(self, **changes: object) -> PackageRequest:
        values: dict[str, object] = {
            "district_id": self.district,
            "recipient_org_id": self.partner,
            "basis": LegalBasis.STUDIES,
            "datasets": ["attendance", "grades"],
            "student_ids": self.students,
            "files": self.files,
            "purpose": "evaluation of the after-school program",
            "agreement_id": self.agreement,
            "request_ref": "DR-42",
        }
        values.update(changes)
        return PackageRequest(**values)  # type: ignore[arg-type]


def make_world(engine: Engine, root: Path) -> World:
    root.mkdir(parents=True, exist_ok=True)
    age_identity = x25519.Identity.generate()
    age_path = root / "partner-age.txt"
    age_path.write_text(str(age_identity) + "\n")
    ssh_key = asyncssh.generate_private_key("ssh-ed25519")
    ssh_path = root / "partner_ed25519"
    ssh_key.write_private_key(str(ssh_path))
    ssh_path.chmod(0o600)
    files = {"students.csv": root / "students.csv", "attendance.csv": root / "attendance.csv"}
    files["students.csv"].write_text('student_id,name\n100,"Ana, Q."\n101,Ben\n102,"Multi\nline"\n')
    files["attendance.csv"].write_text("student_id,rate\n100,0.95\n101,0.88\n")
    with transaction(engine) as db:
        district = f.org(db, "lakeside", "district", "Lakeside District")
        partner = f.org(db, "tutors", "partner", "Tutoring Partners")
        students = [f.student(db, district, str(n)).id for n in (100, 101, 102)]
        agreement = Agreement(
            code="DSA-1",
            kind="dsa",
            organization_id=partner.id,
            district_id=district.id,
            status="executed",
            purpose="evaluation",
            valid_from=f.EPOCH,
            valid_to=AGREEMENT_END,
        )
        db.add(agreement)
        db.flush()
        register_key(db, partner.id, str(age_identity.to_public()), "data team")
        register_key(db, partner.id, ssh_key.export_public_key().decode(), "sftp")
        return World(
            district.id, partner.id, students, agreement.id, age_path, ssh_path, ssh_key, files, root / "var"
        )


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return make_world(engine, tmp_path)


def untar(data: bytes) -> dict[str, bytes]:
    """Member name (without the package folder) -> content."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        out = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None
            out[member.name.split("/", 1)[1]] = handle.read()
        return out
