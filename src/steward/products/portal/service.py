"""Making the package for a person, on demand or at night: a streamed download from the portal, or
an encrypted delivery into the organization's SFTP directory. Every making that includes students
is a disclosure in the ledger for each of them (with exactly the datasets shared), written in the
caller's transaction, and a ``portal_generations`` row.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from steward.audit import EventSpec, Recipient, append, record_disclosure
from steward.audit.encoding import SYSTEM, EventActor
from steward.audit.ledger import actor_of
from steward.delivery import packages as delivery
from steward.delivery.models import Package, PackageKey
from steward.delivery.recipients import RecipientKeyError
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.domain.time import utc
from steward.policy.decision import BASIS_RANK
from steward.policy.facts import BINDING_AGREEMENT_STATUSES, AgreementKind
from steward.products.portal import catalog as c
from steward.products.portal.models import PortalGeneration
from steward.products.portal.package import (
    PURPOSE,
    Member,
    ReportPackage,
    build,
    csv_files,
    csv_zip,
    members_of,
    report_csv,
    write_xlsx,
    xlsx_bytes,
)
from steward.store.base import now_utc
from steward.store.models import Organization
from steward.workflow.models import Agreement

#: Roles that may make the package (parents see their child's page and ledger instead).
PACKAGE_ROLES = frozenset({Role.PARTNER_STAFF, Role.TEACHER, Role.PRINCIPAL, Role.COUNSELOR})
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


class NotVisibleError(LookupError):
    """Nothing the viewer may see (no such report for them, no student): the routes answer 404."""


class PortalError(ValueError):
    """A making that cannot proceed, in words for the person who asked."""


@dataclass(frozen=True, slots=True)
class Download:
    content: bytes
    filename: str
    media_type: str
    generation: PortalGeneration


def _groups(members: Iterable[Member]) -> dict[tuple[LegalBasis, tuple[Dataset, ...]], list[int]]:
    """Students by (basis, datasets shared on that basis): one ledger disclosure per group."""
    out: dict[tuple[LegalBasis, tuple[Dataset, ...]], list[int]] = defaultdict(list)
    for m in members:
        by_basis: dict[LegalBasis, list[Dataset]] = defaultdict(list)
        for dataset, basis in m.datasets.items():
            by_basis[basis].append(dataset)
        for basis, datasets in by_basis.items():
            out[(basis, tuple(sorted(datasets, key=lambda d: d.value)))].append(m.id)
    return dict(sorted(out.items(), key=lambda kv: (BASIS_RANK.get(kv[0][0], 99), kv[0][1])))


def record(
    db: Session,
    package: ReportPackage,
    principal: Principal,
    *,
    channel: str,
    actor: Principal | EventActor | None = None,
    recipient: Recipient | None = None,
    delivery_id: int | None = None,
    agreement_id: int | None = None,
) -> int:
    """The disclosure of the package's contents, one ledger line per student; returns the lines."""
    lines = 0
    for (basis, datasets), ids in _groups(package.members).items():
        record_disclosure(
            db,
            recipient or principal,
            ids,
            datasets,
            basis,
            actor=actor if actor is not None else principal,
            purpose=PURPOSE,
            channel=channel,
            delivery_id=delivery_id,
            agreement_id=agreement_id,
            at=package.generated_at,
        )
        lines += len(ids)
    return lines


def _generation(
    db: Session,
    principal: Principal,
    package: ReportPackage | None,
    *,
    kind: str,
    channel: str,
    fmt: str,
    at: datetime,
    status: str,
    note: str = "",
    sha256: str = "",
    packages: Sequence[int] = (),
    nightly_key: str | None = None,
) -> PortalGeneration:
    row = PortalGeneration(
        uuid=uuid.uuid4().hex,
        organization_id=principal.organization_id,
        person_id=principal.person_id,
        role=principal.role.value,
        kind=kind,
        channel=channel,
        format=fmt,
        decided_at=utc(at),
        created_at=now_utc(),
        status=status,
        note=note,
        student_count=len(package.members) if package is not None else 0,
        datasets=sorted(d.value for d in package.datasets) if package is not None else [],
        reports=package.counts() if package is not None else {},
        packages=[str(p) for p in packages],
        sha256=sha256,
        nightly_key=nightly_key,
    )
    db.add(row)
    db.flush()
    return row


def check_role(principal: Principal) -> None:
    if principal.role not in PACKAGE_ROLES:
        raise NotVisibleError("the package is made for partners and school staff")


def download(
    db: Session,
    data_dir: Path,
    principal: Principal,
    fmt: str,
    *,
    report: str | None = None,
    at: datetime | None = None,
) -> Download:
    """The package (``xlsx`` workbook or ``zip`` of CSV files), or one report as CSV, made now for
    the principal and recorded; ``NotVisibleError`` when there is nothing they may see."""
    check_role(principal)
    when = utc(at or now_utc())
    members = members_of(db, principal, when)
    spec: c.ReportSpec | None = None
    if report is not None:
        spec = c.BY_KEY.get(report)
        if spec is None:
            raise NotVisibleError(f"no report {report!r}")
        members = [
            Member(m.id, m.district_id, m.district_code, m.local_id, {spec.dataset: m.datasets[spec.dataset]})
            for m in members
            if spec.dataset in m.datasets
        ]
    if not members:
        raise NotVisibleError("no student the viewer may see")
    package = build(db, data_dir, principal, when, members=members, generated_at=now_utc())
    org = db.get(Organization, principal.organization_id)
    code = org.code if org is not None else str(principal.organization_id)
    stamp = f"{package.today:%Y%m%d}"
    if spec is not None:
        built = package.report(spec.key)
        assert built is not None
        content = report_csv(built)
        name, media, fmt = f"steward-{code}-{stamp}-{spec.file_name}", "text/csv", "csv"
    elif fmt == "zip":
        content, name, media = csv_zip(package), f"steward-adr-{code}-{stamp}.zip", FORMATS["zip"]
    elif fmt == "xlsx":
        content, name, media = xlsx_bytes(package), f"steward-adr-{code}-{stamp}.xlsx", FORMATS["xlsx"]
    else:
        raise NotVisibleError(f"no format {fmt!r}")
    record(db, package, principal, channel="download")
    generation = _generation(
        db,
        principal,
        package,
        kind="on_demand",
        channel="download",
        fmt=fmt if spec is None else f"csv:{spec.key}",
        at=when,
        status="delivered",
        sha256=hashlib.sha256(content).hexdigest(),
    )
    return Download(content, name, media, generation)


# -- SFTP deliveries -----------------------------------------------------------------------------------


def _agreement(db: Session, org_id: int, district_id: int, at: datetime) -> Agreement | None:
    """The partner's data sharing agreement with the district in force at ``at`` (for the
    manifest, the destruction date and the ledger)."""
    rows = db.scalars(
        select(Agreement)
        .where(
            Agreement.organization_id == org_id,
            Agreement.district_id == district_id,
            Agreement.kind == AgreementKind.DSA.value,
            Agreement.status.in_(sorted(s.value for s in BINDING_AGREEMENT_STATUSES)),
            Agreement.valid_from <= at,
        )
        .order_by(Agreement.valid_from.desc(), Agreement.id.desc())
    ).all()
    return next((a for a in rows if a.valid_to is None or a.valid_to > at), None)


def _release(
    db: Session,
    data_dir: Path,
    package: ReportPackage,
    principal: Principal,
    district_id: int,
    basis: LegalBasis,
    actor: Principal | None,
) -> Package:
    """One encrypted delivery of ``package`` (one district, one basis) into the recipient's SFTP
    directory, with ledger lines per student and exactly their datasets.

    An adapter over ``steward.delivery.packages.build``: its own ``release`` records one dataset
    list for every student, where the package shares different datasets with different students.
    """
    agreement = (
        _agreement(db, principal.organization_id, district_id, package.at)
        if principal.organization_kind is OrgKind.PARTNER
        else None
    )
    layout = delivery.Layout.of(data_dir)
    layout.ensure()
    source = layout.staging / f"portal-{uuid.uuid4().hex}"
    source.mkdir(mode=0o700)
    try:
        files: dict[str, Path] = {}
        for name, data in csv_files(package).items():
            path = source / name
            path.write_bytes(data)
            files[name] = path
        workbook = source / "package.xlsx"
        write_xlsx(package, workbook)
        files["package.xlsx"] = workbook
        request = delivery.PackageRequest(
            district_id=district_id,
            recipient_org_id=principal.organization_id,
            basis=basis,
            datasets=sorted(d.value for d in package.datasets),
            student_ids=package.student_ids,
            files=files,
            purpose=PURPOSE,
            agreement_id=agreement.id if agreement is not None else None,
            actor=actor,
        )
        staged = delivery.build(db, data_dir, request)
    finally:
        shutil.rmtree(source, ignore_errors=True)
    try:
        row = Package(
            uuid=staged.uuid,
            name=staged.name,
            district_id=district_id,
            recipient_org_id=principal.organization_id,
            agreement_id=request.agreement_id,
            basis=basis.value,
            purpose=PURPOSE,
            datasets=staged.datasets,
            file_name=staged.target.name,
            size=staged.size,
            sha256=staged.sha256,
            manifest_sha256=staged.manifest_sha256,
            student_count=len(package.members),
            row_count=staged.row_count,
            destroy_by=staged.destroy_by,
            created_by_person_id=actor.person_id if actor is not None else None,
        )
        db.add(row)
        db.flush()
        db.add(PackageKey(package_id=row.id, identity=staged.identity))
        released_by = actor_of(actor) if actor is not None else SYSTEM
        append(
            db,
            EventSpec(
                action="delivery.release",
                district_id=district_id,
                actor=released_by,
                subject_type="package",
                subjects=[row.id],
                basis=basis.value,
                citation=basis.citation,
                details={
                    "package": staged.uuid,
                    "name": staged.name,
                    "recipient_org": principal.organization_id,
                    "agreement": request.agreement_id,
                    "sha256": staged.sha256,
                    "size": staged.size,
                    "manifest_sha256": staged.manifest_sha256,
                    "destroy_by": staged.destroy_by,
                    "source": "portal",
                },
            ),
        )
        record(
            db,
            package,
            principal,
            channel="package",
            actor=released_by,
            recipient=Recipient.organization(db, principal.organization_id),
            delivery_id=row.id,
            agreement_id=request.agreement_id,
        )
        db.flush()
    except BaseException:
        staged.abort()
        raise
    event.listen(db, "after_commit", lambda _s: staged.finalize(), once=True)
    event.listen(db, "after_rollback", lambda _s: staged.abort(), once=True)
    return row


def deliver(
    db: Session,
    data_dir: Path,
    principal: Principal,
    *,
    kind: str = "on_demand",
    at: datetime | None = None,
    nightly_key: str | None = None,
) -> PortalGeneration:
    """Make the package for the principal and place it, encrypted, in the organization's SFTP
    directory: one delivery per district and legal basis. A recipient without a registered key,
    or nobody to include, gives a generation row saying so (``status`` skipped or empty)."""
    check_role(principal)
    when = utc(at or now_utc())
    acting = principal if kind == "on_demand" else None
    members = members_of(db, principal, when)
    if not members:
        return _generation(
            db,
            principal,
            None,
            kind=kind,
            channel="sftp",
            fmt="xlsx+csv",
            at=when,
            status="empty",
            note="no student may be included at this time",
            nightly_key=nightly_key,
        )
    package = build(db, data_dir, principal, when, members=members, generated_at=now_utc())
    selections: dict[tuple[int, LegalBasis], dict[int, list[Dataset]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for m in package.members:
        for dataset, basis in m.datasets.items():
            selections[(m.district_id, basis)][m.id].append(dataset)
    released: list[int] = []
    try:
        for (district_id, basis), selection in sorted(
            selections.items(), key=lambda kv: (kv[0][0], kv[0][1].value)
        ):
            part = package.subset(selection)
            released.append(_release(db, data_dir, part, principal, district_id, basis, acting).id)
    except RecipientKeyError as exc:
        if kind == "on_demand":
            raise PortalError(str(exc)) from exc
        return _generation(
            db,
            principal,
            package,
            kind=kind,
            channel="sftp",
            fmt="xlsx+csv",
            at=when,
            status="skipped",
            note=str(exc),
            nightly_key=nightly_key,
        )
    except delivery.DeliveryError as exc:
        raise PortalError(str(exc)) from exc
    return _generation(
        db,
        principal,
        package,
        kind=kind,
        channel="sftp",
        fmt="xlsx+csv",
        at=when,
        status="delivered",
        packages=released,
        nightly_key=nightly_key,
    )


def failed(
    db: Session, principal: Principal, at: datetime, note: str, *, nightly_key: str | None = None
) -> PortalGeneration:
    """A making that failed (the source could not be read...), so the night is not retried."""
    return _generation(
        db,
        principal,
        None,
        kind="nightly" if nightly_key else "on_demand",
        channel="sftp",
        fmt="xlsx+csv",
        at=at,
        status="failed",
        note=note[:1000],
        nightly_key=nightly_key,
    )


def history(db: Session, organization_id: int, limit: int = 30) -> list[PortalGeneration]:
    """The organization's latest makings (newest first)."""
    return list(
        db.scalars(
            select(PortalGeneration)
            .where(PortalGeneration.organization_id == organization_id)
            .order_by(PortalGeneration.created_at.desc(), PortalGeneration.id.desc())
            .limit(limit)
        )
    )
