"""Build, sign, encrypt and release packages; recover after a crash; crypto-shred.

A release is all or nothing. The encrypted package is built in ``delivery/staging`` under a lock
held by the building process; the package row, Steward's key and the disclosure (audit event and
ledger lines) are written in the caller's transaction; the file moves into the recipient's outbox
only after that transaction commits. If the process dies before the commit, the database holds
nothing and ``recover`` (run before each release, when ``steward sftp serve`` starts, and by
``steward delivery recover``) removes the staged file; if it dies after the commit, ``recover``
finishes the move.

Each package is encrypted to the recipient's keys and to a per-package age identity of Steward's,
kept in ``delivery_package_keys``. Deleting that identity at the agreement's end (``shred``) makes
every copy Steward still holds, backups included, unreadable by Steward.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import os
import tarfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pyrage
from pyrage import x25519
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from steward.audit import EventSpec, Recipient, append, record_disclosure
from steward.audit.encoding import EventActor
from steward.audit.keys import signer_for
from steward.audit.ledger import actor_of
from steward.delivery.manifest import (
    FileEntry,
    build_manifest,
    check_name,
    describe_file,
    manifest_bytes,
    readme,
    sign_manifest,
)
from steward.delivery.models import DownloadLink, Package, PackageKey
from steward.delivery.recipients import age_recipients
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.principal import Principal
from steward.domain.time import local_date
from steward.store.base import now_utc
from steward.store.models import Organization, TenantSettings
from steward.workflow.models import Agreement

log = logging.getLogger("steward.delivery")

DEFAULT_DESTRUCTION_DAYS = 45
GRACE_SECONDS = 60


class DeliveryError(Exception):
    """A package that cannot be released (no recipient key, unsafe file name, wrong district...)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where delivery keeps its files under the data directory."""

    root: Path

    @classmethod
    def of(cls, data_dir: Path) -> Layout:
        return cls(data_dir / "delivery")

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def certificates(self) -> Path:
        return self.root / "certificates"

    def recipient_dir(self, org_code: str) -> Path:
        return self.outbox / check_name(org_code)

    def ensure(self) -> None:
        for path in (self.root, self.staging, self.outbox, self.certificates):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)


@dataclass(frozen=True, slots=True)
class PackageRequest:
    """What to send, to whom, and why. ``files`` maps a member name to a file on disk."""

    district_id: int
    recipient_org_id: int
    basis: LegalBasis
    datasets: Sequence[Dataset | str]
    student_ids: Sequence[int]
    files: Mapping[str, Path]
    purpose: str = ""
    agreement_id: int | None = None
    request_ref: str | None = None
    destroy_by: date | None = None
    actor: Principal | None = None


@dataclass
class Staged:
    """An encrypted package waiting in staging for its transaction's outcome."""

    uuid: str
    name: str
    lock_fd: int
    layout: Layout
    target: Path
    size: int
    sha256: str
    manifest_sha256: str
    row_count: int
    identity: str
    destroy_by: date | None
    datasets: list[str]
    settled: bool = field(default=False)

    @property
    def staged_file(self) -> Path:
        return self.layout.staging / f"{self.uuid}.tar.age"

    def finalize(self) -> None:
        """Move the package into the recipient's outbox (after the commit)."""
        if self.settled:
            return
        self.settled = True
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(self.staged_file, self.target)
            _fsync_dir(self.target.parent)
        except OSError:  # recover() finishes the move later
            log.exception("package %s committed but not moved into the outbox yet", self.uuid)
        finally:
            _unlock(self.layout, self.uuid, self.lock_fd)

    def abort(self) -> None:
        """Remove the staged files (the transaction rolled back or recording failed)."""
        if self.settled:
            return
        self.settled = True
        for path in _staged_files(self.layout, self.uuid):
            path.unlink(missing_ok=True)
        _unlock(self.layout, self.uuid, self.lock_fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _staged_files(layout: Layout, package_uuid: str) -> list[Path]:
    return [
        layout.staging / f"{package_uuid}.tar",
        layout.staging / f"{package_uuid}.tar.age.part",
        layout.staging / f"{package_uuid}.tar.age",
    ]


def _lock(layout: Layout, package_uuid: str) -> int:
    fd = os.open(layout.staging / f"{package_uuid}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _unlock(layout: Layout, package_uuid: str, fd: int) -> None:
    (layout.staging / f"{package_uuid}.lock").unlink(missing_ok=True)
    os.close(fd)


def _destroy_by(db: Session, request: PackageRequest, agreement: Agreement | None, tz: str) -> date | None:
    if request.destroy_by is not None:
        return request.destroy_by
    if agreement is None:
        return None
    if agreement.destroy_by is not None:
        return agreement.destroy_by
    if agreement.valid_to is not None:
        return local_date(agreement.valid_to, tz) + timedelta(days=DEFAULT_DESTRUCTION_DAYS)
    return None


def build(db: Session, data_dir: Path, request: PackageRequest) -> Staged:
    """Write the signed, encrypted package into staging and return it, still locked."""
    layout = Layout.of(data_dir)
    layout.ensure()
    district = db.get(Organization, request.district_id)
    recipient = db.get(Organization, request.recipient_org_id)
    if district is None or district.kind != "district":
        raise DeliveryError(f"no district with id {request.district_id}")
    if recipient is None:
        raise DeliveryError(f"no recipient organization with id {request.recipient_org_id}")
    agreement = db.get(Agreement, request.agreement_id) if request.agreement_id is not None else None
    if request.agreement_id is not None and (
        agreement is None or agreement.district_id != district.id or agreement.organization_id != recipient.id
    ):
        raise DeliveryError(
            f"agreement {request.agreement_id} is not between {district.code} and {recipient.code}"
        )
    created = now_utc()
    if agreement is not None and agreement.valid_to is not None and agreement.valid_to <= created:
        raise DeliveryError(
            f"agreement {agreement.code} ended on {agreement.valid_to:%Y-%m-%d}: nothing more may be sent"
        )
    if not request.files:
        raise DeliveryError("a package holds at least one file")
    names = [check_name(name) for name in request.files]
    recipients = age_recipients(db, recipient.id)
    settings = db.get(TenantSettings, district.id)
    tz = settings.timezone if settings is not None else "America/Los_Angeles"
    signer = signer_for(db, data_dir, district.id)
    package_uuid = uuid.uuid4().hex
    name = f"steward-{district.code}-{local_date(created, tz):%Y%m%d}-{package_uuid[:8]}"
    check_name(name)
    destroy_by = _destroy_by(db, request, agreement, tz)
    datasets = sorted({Dataset(d).value for d in request.datasets})
    entries: list[FileEntry] = [describe_file(n, request.files[n]) for n in names]
    manifest = build_manifest(
        package_id=package_uuid,
        name=name,
        created_at=created,
        district=(district.code, district.name),
        recipient=(recipient.code, recipient.name),
        basis=request.basis,
        purpose=request.purpose,
        agreement=None if agreement is None else (agreement.id, agreement.code),
        request_ref=request.request_ref,
        datasets=datasets,
        student_count=len(set(request.student_ids)),
        files=entries,
        destroy_by=destroy_by,
        signer=signer,
    )
    manifest_data = manifest_bytes(manifest)
    identity = x25519.Identity.generate()

    fd = _lock(layout, package_uuid)
    plain, part, final = _staged_files(layout, package_uuid)
    try:
        _write_tar(
            plain, name, manifest_data, sign_manifest(manifest_data, signer), readme(manifest), request, names
        )
        pyrage.encrypt_file(str(plain), str(part), [*recipients, identity.to_public()])
        plain.unlink()
        digest = hashlib.sha256()
        with part.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
            os.fsync(handle.fileno())
        os.replace(part, final)
        _fsync_dir(layout.staging)
    except BaseException:
        for path in (plain, part, final):
            path.unlink(missing_ok=True)
        _unlock(layout, package_uuid, fd)
        raise
    return Staged(
        uuid=package_uuid,
        name=name,
        lock_fd=fd,
        layout=layout,
        target=layout.recipient_dir(recipient.code) / f"{name}.tar.age",
        size=final.stat().st_size,
        sha256=digest.hexdigest(),
        manifest_sha256=hashlib.sha256(manifest_data).hexdigest(),
        row_count=sum(e.rows or 0 for e in entries),
        identity=str(identity),
        destroy_by=destroy_by,
        datasets=datasets,
    )


def _write_tar(
    path: Path,
    name: str,
    manifest: bytes,
    signature: bytes,
    readme_text: str,
    request: PackageRequest,
    names: list[str],
) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def member(arcname: str, size: int) -> tarfile.TarInfo:
            info = tarfile.TarInfo(f"{name}/{arcname}")
            info.size = size
            info.mode = 0o600
            info.mtime = int(now_utc().timestamp())
            return info

        for arcname, data in (
            ("manifest.json", manifest),
            ("manifest.json.sig", signature),
            ("README.txt", readme_text.encode()),
        ):
            tar.addfile(member(arcname, len(data)), io.BytesIO(data))
        for file_name in names:
            source = request.files[file_name]
            with source.open("rb") as handle:
                tar.addfile(member(f"data/{file_name}", source.stat().st_size), handle)
        raw.flush()
        os.fsync(raw.fileno())


def _record(db: Session, staged: Staged, request: PackageRequest) -> Package:
    """The package row, Steward's key, and the disclosure itself, in ``db``'s transaction."""
    actor = actor_of(request.actor)
    package = Package(
        uuid=staged.uuid,
        name=staged.name,
        district_id=request.district_id,
        recipient_org_id=request.recipient_org_id,
        agreement_id=request.agreement_id,
        request_ref=request.request_ref,
        basis=request.basis.value,
        purpose=request.purpose,
        datasets=staged.datasets,
        file_name=staged.target.name,
        size=staged.size,
        sha256=staged.sha256,
        manifest_sha256=staged.manifest_sha256,
        student_count=len(set(request.student_ids)),
        row_count=staged.row_count,
        destroy_by=staged.destroy_by,
        created_by_person_id=request.actor.person_id if request.actor else None,
    )
    db.add(package)
    db.flush()
    db.add(PackageKey(package_id=package.id, identity=staged.identity))
    append(
        db,
        EventSpec(
            action="delivery.release",
            district_id=request.district_id,
            actor=actor,
            subject_type="package",
            subjects=[package.id],
            basis=request.basis.value,
            citation=request.basis.citation,
            request_id=request.request_ref,
            details={
                "package": staged.uuid,
                "name": staged.name,
                "recipient_org": request.recipient_org_id,
                "agreement": request.agreement_id,
                "sha256": staged.sha256,
                "size": staged.size,
                "manifest_sha256": staged.manifest_sha256,
                "destroy_by": staged.destroy_by,
            },
        ),
    )
    record_disclosure(
        db,
        Recipient.organization(db, request.recipient_org_id),
        request.student_ids,
        staged.datasets,
        request.basis,
        actor=actor,
        purpose=request.purpose,
        agreement_id=request.agreement_id,
        request_ref=request.request_ref,
        delivery_id=package.id,
        channel="package",
    )
    db.flush()
    return package


def _settle_with(db: Session, on_commit: object, on_rollback: object) -> None:
    event.listen(db, "after_commit", lambda _session: on_commit(), once=True)  # type: ignore[operator]
    event.listen(db, "after_rollback", lambda _session: on_rollback(), once=True)  # type: ignore[operator]


def release(db: Session, data_dir: Path, request: PackageRequest) -> Package:
    """Build and record a package in ``db``'s transaction; it reaches the outbox when that commits."""
    bind = db.get_bind()
    if isinstance(bind, Engine):
        recover(bind, data_dir)
    staged = build(db, data_dir, request)
    try:
        package = _record(db, staged, request)
    except BaseException:
        staged.abort()
        raise
    _settle_with(db, staged.finalize, staged.abort)
    return package


def package_path(db: Session, data_dir: Path, package: Package) -> Path:
    recipient = db.get(Organization, package.recipient_org_id)
    assert recipient is not None
    return Layout.of(data_dir).recipient_dir(recipient.code) / package.file_name


def open_own_copy(db: Session, data_dir: Path, package: Package) -> bytes:
    """Decrypt Steward's copy with its package key (the plain tar); fails once shredded."""
    key = db.get(PackageKey, package.id)
    if key is None or package.status != "available":
        raise DeliveryError(f"package {package.id} was shredded: Steward can no longer read it")
    return bytes(
        pyrage.decrypt(
            package_path(db, data_dir, package).read_bytes(), [x25519.Identity.from_str(key.identity)]
        )
    )


def shred(
    db: Session, data_dir: Path, package: Package, reason: str, actor: Principal | EventActor | None = None
) -> None:
    """Crypto-shred: delete Steward's key and (after the commit) its copy; revoke open links."""
    if package.status == "shredded":
        return
    key = db.get(PackageKey, package.id)
    if key is not None:
        db.delete(key)
    now = now_utc()
    package.status = "shredded"
    package.shredded_at = now
    db.execute(
        update(DownloadLink)
        .where(
            DownloadLink.package_id == package.id,
            DownloadLink.revoked_at.is_(None),
            DownloadLink.used_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    append(
        db,
        EventSpec(
            action="delivery.shred",
            district_id=package.district_id,
            actor=actor if isinstance(actor, EventActor) else actor_of(actor),
            subject_type="package",
            subjects=[package.id],
            details={"package": package.uuid, "reason": reason},
        ),
    )
    path = package_path(db, data_dir, package)
    _settle_with(db, lambda: path.unlink(missing_ok=True), lambda: None)


@dataclass(frozen=True, slots=True)
class Recovery:
    moved: list[str]
    removed: list[str]


def recover(engine: Engine, data_dir: Path) -> Recovery:
    """Settle packages left behind by a crash: finish committed ones, remove the rest."""
    layout = Layout.of(data_dir)
    moved: list[str] = []
    removed: list[str] = []
    if not layout.staging.exists():
        return Recovery(moved, removed)
    uuids: set[str] = set()
    for path in layout.staging.iterdir():
        uuids.add(path.name.split(".", 1)[0])
    now = now_utc().timestamp()
    with Session(engine) as db:
        for package_uuid in sorted(uuids):
            lock_path = layout.staging / f"{package_uuid}.lock"
            fd = None
            if lock_path.exists():
                fd = os.open(lock_path, os.O_RDWR)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue  # its builder is alive
            else:
                files = [p for p in _staged_files(layout, package_uuid) if p.exists()]
                if any(now - p.stat().st_mtime < GRACE_SECONDS for p in files):
                    continue  # a builder may be about to take the lock
            package = db.scalar(select(Package).where(Package.uuid == package_uuid))
            staged = layout.staging / f"{package_uuid}.tar.age"
            if package is not None and package.status == "available" and staged.exists():
                target = package_path(db, data_dir, package)
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.replace(staged, target)
                moved.append(package_uuid)
            for path in _staged_files(layout, package_uuid):
                if path.exists():
                    path.unlink()
                    if package_uuid not in moved and package_uuid not in removed:
                        removed.append(package_uuid)
            if fd is not None:
                lock_path.unlink(missing_ok=True)
                os.close(fd)
        for package in db.scalars(select(Package).where(Package.status == "shredded")):
            leftover = package_path(db, data_dir, package)
            if leftover.exists():
                leftover.unlink()
                removed.append(package.uuid)
    return Recovery(moved, removed)
