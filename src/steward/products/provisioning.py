"""Vendor provisioning: a vendor under a school-official contract receives a OneRoster 1.2 CSV package
for the contract's schools and datasets, bulk first and then deltas of what changed since its last
delivery (34 CFR 99.31(a)(1)(i)(B); P2: contracts forbid commercial use).

Who is in the feed is the decision engine's answer (the set evaluator, as the vendor's integration
person, on the school-official basis): students enrolled now at a school the contract covers, for
the datasets it names. A family's activity opt-out also takes the student out. Students who left
or opted out are sent as ``tobedeleted`` rows in the next delta. Steward remembers only a keyed
digest of each row the vendor holds (``provisioning_rows``), never the row.

Datasets and files: directory and enrollment make a student's user and roles (both are needed);
schedule adds classes, courses, sessions and enrollments; demographics adds ``demographics.csv`` and
the state ID in ``userIds``, and only when the contract names it and the engine allows it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from steward.delivery.packages import PackageRequest, release
from steward.domain import records as r
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind, Role
from steward.domain.time import DEFAULT_TIMEZONE, SchoolYear
from steward.formats import oneroster
from steward.formats.oneroster import Mode
from steward.formats.oneroster.writer import student_user
from steward.formats.report import ConversionReport, Severity
from steward.policy import Actor
from steward.policy.facts import BINDING_AGREEMENT_STATUSES, AgreementKind, Clause, OptOutKind
from steward.products.records import open_drop
from steward.store.base import now_utc
from steward.store.models import Organization, RoleAssignment, Student, TenantSettings
from steward.store.visibility import visible_among
from steward.workflow.models import Agreement, OptOut
from steward.workflow.provisioning.models import ProvisioningDelivery, ProvisioningFeed, ProvisioningRow
from steward.workflow.transfers.settings import source_directory

#: Opt-outs that take a student out of every vendor feed (the family opted out of the activity).
PROVISIONING_OPT_OUTS = frozenset({OptOutKind.ACTIVITY})
#: Datasets a feed can carry, in the order they are explained.
FEED_DATASETS = (Dataset.DIRECTORY, Dataset.ENROLLMENT, Dataset.SCHEDULE, Dataset.DEMOGRAPHICS)
#: Files whose rows are about one student, and the column naming that student's user.
STUDENT_COLUMN = {"users": "sourcedId", "demographics": "sourcedId", "roles": "userSourcedId"}
SCHEDULE_FILES = frozenset({"classes", "courses", "academicSessions", "enrollments"})
_CHUNK = 5000


class ProvisioningError(Exception):
    """A feed that cannot be made (not a vendor contract, no integration person, no key...)."""


@dataclass
class Result:
    """What one run delivered: ``mode``, the package (None: nothing to send) and row counts."""

    feed_id: int
    mode: Mode
    package_id: int | None
    counts: dict[str, Any] = field(default_factory=dict)
    students: int = 0

    def summary(self) -> str:
        if self.package_id is None:
            return f"{self.mode.value}: nothing to deliver ({self.counts.get('note', 'no change')})"
        parts = [f"{k} {v}" for k, v in sorted(self.counts.items()) if k in ("added", "changed", "deleted")]
        return f"{self.mode.value}: package {self.package_id}, {self.students} students, " + ", ".join(parts)


def _contract(db: Session, agreement_id: int, at: datetime) -> tuple[Agreement, Organization]:
    agreement = db.get(Agreement, agreement_id)
    if agreement is None or agreement.kind != AgreementKind.CONTRACT.value:
        raise ProvisioningError(f"agreement {agreement_id} is not a vendor contract")
    vendor = db.get(Organization, agreement.organization_id)
    if vendor is None or vendor.kind != OrgKind.VENDOR.value:
        raise ProvisioningError(f"contract {agreement.code} is not with a vendor")
    in_force = (
        agreement.status in {s.value for s in BINDING_AGREEMENT_STATUSES}
        and agreement.valid_from <= at
        and (agreement.valid_to is None or at < agreement.valid_to)
    )
    if not in_force:
        raise ProvisioningError(f"contract {agreement.code} is not in force ({agreement.status})")
    if Clause.NO_COMMERCIAL_USE.value not in (agreement.clauses or []):
        raise ProvisioningError(f"contract {agreement.code} lacks a no-commercial-use clause (P2)")
    return agreement, vendor


def _integration_person(db: Session, vendor: Organization, at: datetime) -> int:
    person = db.scalar(
        select(RoleAssignment.person_id)
        .where(
            RoleAssignment.organization_id == vendor.id,
            RoleAssignment.role == Role.VENDOR_INTEGRATION.value,
            RoleAssignment.valid_at(at),
        )
        .order_by(RoleAssignment.id)
        .limit(1)
    )
    if person is None:
        raise ProvisioningError(f"{vendor.name} has no vendor-integration person to receive the feed as")
    return int(person)


def feed_for(db: Session, agreement: Agreement) -> ProvisioningFeed:
    feed = db.scalar(select(ProvisioningFeed).where(ProvisioningFeed.agreement_id == agreement.id))
    if feed is None:
        feed = ProvisioningFeed(
            agreement_id=agreement.id,
            vendor_org_id=agreement.organization_id,
            district_id=agreement.district_id,
            digest_key=secrets.token_hex(32),
        )
        db.add(feed)
        db.flush()
    return feed


@dataclass
class _Source:
    records: list[r.Record]
    candidates: set[str]  # district student IDs with a spell this year at a covered school


def _read_source(directory: Path, district: Organization, year: int) -> dict[str, list[Any]]:
    """This year's roster records of the district, by file prefix."""
    drop = open_drop(directory, district.code)
    by_prefix: dict[str, list[Any]] = {}
    for prefix in ("A", "D", "F", "G", "B", "C", "E", "M"):
        if prefix not in drop.files:
            continue
        reader = drop.records(prefix, max_errors=1)
        rows = [x for x in reader if getattr(x, "school_year", year) == year]
        if reader.errors:
            e = reader.errors[0]
            raise ProvisioningError(f"{e.file}, line {e.line}, {e.element}: {e.message}")
        by_prefix[prefix] = rows
    return by_prefix


def _covered(by_prefix: dict[str, list[Any]], schools: set[str] | None) -> _Source:
    """The records of the covered schools (``schools`` = location IDs; None: every school)."""
    if schools is None:
        schools = {x.location_id for x in by_prefix.get("A", [])}

    def covered(x: Any) -> bool:
        return bool(x.location_id in schools)

    candidates = {x.student_id for x in by_prefix.get("C", []) if covered(x)}
    staffing = [x for x in by_prefix.get("G", []) if covered(x)]
    teachers = {x.staff_id for x in staffing}
    records: list[r.Record] = [x for x in by_prefix.get("A", []) if covered(x)]
    records += [x for x in by_prefix.get("D", []) if covered(x)]
    records += [x for x in by_prefix.get("F", []) if x.staff_id in teachers and covered(x)]
    records += staffing
    records += [x for x in by_prefix.get("B", []) if x.student_id in candidates]
    records += [x for x in by_prefix.get("C", []) if covered(x)]
    records += [x for x in by_prefix.get("E", []) if covered(x) and x.student_id in candidates]
    records += [x for x in by_prefix.get("M", []) if x.student_id in candidates]
    return _Source(records, candidates)


def _location_ids(
    db: Session, district: Organization, school_ids: Iterable[int], locations: list[r.Location]
) -> set[str]:
    """Contract schools (organization ids) as the drop's location IDs (org code DISTRICT-SCHOOLCODE)."""
    codes = {
        o.code.removeprefix(f"{district.code}-")
        for o in db.scalars(select(Organization).where(Organization.id.in_(list(school_ids))))
    }
    return {x.location_id for x in locations if x.school_code in codes} | codes


def _digest(key: bytes, file: str, row: Mapping[str, str], header: tuple[str, ...]) -> str:
    text = "\x1f".join([file, *(row.get(h, "") for h in header if h not in ("status", "dateLastModified"))])
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def _opted_out(db: Session, student_ids: list[int], at: datetime) -> set[int]:
    out: set[int] = set()
    kinds = [k.value for k in PROVISIONING_OPT_OUTS]
    for start in range(0, len(student_ids), _CHUNK):
        chunk = student_ids[start : start + _CHUNK]
        out.update(
            db.scalars(
                select(OptOut.student_id).where(
                    OptOut.student_id.in_(chunk), OptOut.kind.in_(kinds), OptOut.valid_at(at)
                )
            )
        )
    return out


def _student_ids(db: Session, district_id: int, local_ids: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(local_ids))
    out: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        for local, sid in db.execute(
            select(Student.local_id, Student.id).where(
                Student.district_id == district_id, Student.local_id.in_(wanted[start : start + _CHUNK])
            )
        ):
            out[local] = sid
    return out


def _scrub(file: str, row: dict[str, str], datasets: frozenset[Dataset]) -> dict[str, str]:
    if file == "users" and Dataset.DEMOGRAPHICS not in datasets:
        return {**row, "userIds": "", "identifier": ""}
    return row


def provision(
    db: Session,
    data_dir: Path,
    agreement_id: int,
    *,
    at: datetime | None = None,
    force_bulk: bool = False,
) -> Result:
    """Deliver the contract's feed (bulk the first time, then a delta) in ``db``'s transaction."""
    at = at or now_utc()
    agreement, vendor = _contract(db, agreement_id, at)
    district = db.get(Organization, agreement.district_id)
    assert district is not None
    settings = db.get(TenantSettings, district.id)
    tz = settings.timezone if settings is not None else DEFAULT_TIMEZONE
    year = SchoolYear.at(at, tz).end_year
    person_id = _integration_person(db, vendor, at)
    feed = feed_for(db, agreement)
    wanted = [d for d in FEED_DATASETS if d.value in (agreement.datasets or [])]
    if Dataset.DIRECTORY not in wanted or Dataset.ENROLLMENT not in wanted:
        raise ProvisioningError(
            f"contract {agreement.code} must cover directory and enrollment to provision accounts"
        )

    by_prefix = _read_source(source_directory(db, data_dir, district.id), district, year)
    schools = (
        _location_ids(db, district, agreement.schools, by_prefix.get("A", [])) if agreement.schools else None
    )
    source = _covered(by_prefix, schools)
    ids = _student_ids(db, district.id, source.candidates)
    actor = Actor(str(person_id), Role.VENDOR_INTEGRATION, str(vendor.id))
    every = sorted(ids.values())
    visible: dict[int, dict[Dataset, LegalBasis]] = {}
    for start in range(0, len(every), _CHUNK):
        visible.update(
            visible_among(
                db,
                person_id,
                at,
                every[start : start + _CHUNK],
                actor=actor,
                datasets=wanted,
                directory_information=False,
            )
        )
    opted_out = _opted_out(db, list(ids.values()), at)
    allowed: dict[str, frozenset[Dataset]] = {}
    for local, sid in ids.items():
        granted = frozenset(
            d for d, basis in visible.get(sid, {}).items() if basis is LegalBasis.SCHOOL_OFFICIAL
        )
        if Dataset.DIRECTORY in granted and Dataset.ENROLLMENT in granted and sid not in opted_out:
            allowed[local] = granted

    report = ConversionReport()
    writer = oneroster.PackageWriter(Path("unused"), report=report, source_name="Steward")
    writer.write_all(source.records)
    tables = writer.build()
    user_of = {student_user(district.code, local): local for local in source.candidates}

    def student_of(file: str, row: Mapping[str, str]) -> str | None:
        column = STUDENT_COLUMN.get(file) or ("userSourcedId" if file == "enrollments" else None)
        return None if column is None else user_of.get(row[column])

    key = bytes.fromhex(feed.digest_key)
    specs = oneroster.FILES[oneroster.Version.V1_2]
    current: dict[tuple[str, str], tuple[str, dict[str, str], str | None]] = {}
    departed: dict[tuple[str, str], dict[str, str]] = {}
    for file, rows in tables.items():
        for built in rows:
            who = student_of(file, built)
            if who is not None and who not in allowed:
                departed[(file, built["sourcedId"])] = _scrub(file, built, frozenset())
                continue
            if who is not None:
                granted = allowed[who]
                if file == "demographics" and Dataset.DEMOGRAPHICS not in granted:
                    continue
                if file == "enrollments" and Dataset.SCHEDULE not in granted:
                    continue
                built = _scrub(file, built, granted)
            elif file in SCHEDULE_FILES and Dataset.SCHEDULE not in wanted:
                continue
            current[(file, built["sourcedId"])] = (_digest(key, file, built, specs[file].header), built, who)

    known = {
        (x.file, x.sourced_id): x
        for x in db.scalars(select(ProvisioningRow).where(ProvisioningRow.feed_id == feed.id))
    }
    previous = db.scalar(
        select(ProvisioningDelivery.id).where(ProvisioningDelivery.feed_id == feed.id).limit(1)
    )
    mode = Mode.BULK if previous is None or force_bulk else Mode.DELTA
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    counts: dict[str, Any] = {"added": 0, "changed": 0, "deleted": 0, "unreproducible": 0}
    sent_students: set[str] = set()
    for (file, sourced), (digest, fresh, owner) in current.items():
        held = known.get((file, sourced))
        if mode is Mode.DELTA and held is not None and held.digest == digest:
            continue
        counts["added" if held is None else "changed"] += 1
        out[file].append(dict(fresh, status="active") if mode is Mode.DELTA else fresh)
        if owner is not None:
            sent_students.add(owner)
    deleted: list[tuple[str, str]] = []
    if mode is Mode.DELTA:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for ident in sorted(known):
            if ident in current:
                continue
            deleted.append(ident)
            gone = departed.get(ident)
            if gone is None:
                counts["unreproducible"] += 1
                continue
            out[ident[0]].append(dict(gone, status="tobedeleted", dateLastModified=stamp))
            counts["deleted"] += 1
            leaver = student_of(ident[0], gone)
            if leaver is not None:
                sent_students.add(leaver)
    students = sorted({ids[s] for s in sent_students if s in ids})
    result = Result(feed.id, mode, None, counts, len(students))
    if not students:
        counts["note"] = "no student's row changed" if out else "no change"
        db.add(ProvisioningDelivery(feed_id=feed.id, mode=mode.value, counts=dict(counts), created_at=at))
        db.flush()
        return result

    work = data_dir / "provisioning" / "work" / uuid.uuid4().hex
    work.mkdir(parents=True, mode=0o700)
    try:
        oneroster.write_tables(work, dict(out), mode=mode, source_name="Steward", modified=at)
        problems = [p for p in oneroster.check_directory(work) if p.severity is Severity.ERROR]
        if problems:
            raise ProvisioningError(f"the OneRoster package does not conform: {problems[0]}")
        files = {p.name: p for p in sorted(work.iterdir()) if p.is_file()}
        datasets = sorted({d for granted in allowed.values() for d in granted}, key=lambda d: d.value)
        package = release(
            db,
            data_dir,
            PackageRequest(
                district_id=district.id,
                recipient_org_id=vendor.id,
                basis=LegalBasis.SCHOOL_OFFICIAL,
                datasets=datasets,
                student_ids=students,
                files=files,
                purpose=(
                    f"account provisioning ({mode.value}) under contract {agreement.code}; no commercial use"
                ),
                agreement_id=agreement.id,
                request_ref=f"feed-{feed.id}",
            ),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    for ident in deleted:
        held = known.pop(ident)
        db.delete(held)
    if mode is Mode.BULK:
        db.execute(delete(ProvisioningRow).where(ProvisioningRow.feed_id == feed.id))
        known = {}
    for file, rows in out.items():
        for sent in rows:
            ident = (file, sent["sourcedId"])
            if ident not in current:
                continue
            digest, _, owner = current[ident]
            held = known.get(ident)
            if held is None:
                db.add(
                    ProvisioningRow(
                        feed_id=feed.id,
                        file=file,
                        sourced_id=sent["sourcedId"],
                        digest=digest,
                        student_id=None if owner is None else ids.get(owner),
                    )
                )
            else:
                held.digest = digest
    feed.last_delivery_at = at
    db.add(
        ProvisioningDelivery(
            feed_id=feed.id, mode=mode.value, package_id=package.id, counts=dict(counts), created_at=at
        )
    )
    db.flush()
    result.package_id = package.id
    return result


def contracts_of(db: Session, vendor_code: str, at: datetime | None = None) -> list[Agreement]:
    """The vendor's contracts in force (any district)."""
    at = at or now_utc()
    vendor = db.scalar(select(Organization).where(Organization.code == vendor_code))
    if vendor is None or vendor.kind != OrgKind.VENDOR.value:
        raise ProvisioningError(f"no vendor with code {vendor_code!r}")
    return [
        a
        for a in db.scalars(
            select(Agreement)
            .where(
                Agreement.organization_id == vendor.id,
                Agreement.kind == AgreementKind.CONTRACT.value,
                Agreement.valid_at(at),
            )
            .order_by(Agreement.id)
        )
        if a.status in {s.value for s in BINDING_AGREEMENT_STATUSES}
    ]
