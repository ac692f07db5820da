"""The record of disclosures (34 CFR 99.32): one line per student per disclosure, with its audit event.

Other modules call ``record_disclosure`` in the same transaction that lets the data go. Every
identifiable disclosure gets a line; lines whose basis 99.32(d) exempts (parent, school official,
consent, directory information) carry ``record_required = False`` and are shown labelled as such.
Reads go through ``visible_student`` / ``district_scope`` so that a route can only answer 404 for a
student or recipient the viewer may not see.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, Select, Table, insert, select
from sqlalchemy.orm import Session

from steward.audit.encoding import EventActor, EventSpec
from steward.audit.log import COPY_THRESHOLD, Appended, append_many
from steward.audit.models import DisclosureEntry
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import DEFAULT_TIMEZONE
from steward.store.base import now_utc
from steward.store.models import Guardianship, Organization, Student, TenantSettings
from steward.workflow.models import Agreement

_LEDGER = cast(Table, DisclosureEntry.__table__)
_CHUNK = 5000

#: Plain words for a parent reading the ledger (the citation is shown next to them).
BASIS_WORDS: dict[LegalBasis, str] = {
    LegalBasis.CONSENT: "With your written consent",
    LegalBasis.PARENT_OR_ELIGIBLE_STUDENT: "You (the parent) or the student",
    LegalBasis.SCHOOL_OFFICIAL: "School official with a legitimate educational interest",
    LegalBasis.TRANSFER: "A school where the student seeks or intends to enroll",
    LegalBasis.AUDIT_EVALUATION: "Audit or evaluation of education programs",
    LegalBasis.STUDIES: "A study for or on behalf of the district, under a written agreement",
    LegalBasis.HEALTH_SAFETY_EMERGENCY: "A health or safety emergency",
    LegalBasis.DIRECTORY_INFORMATION: "Directory information",
    LegalBasis.DEIDENTIFIED: "De-identified data",
    LegalBasis.JUDICIAL_ORDER: "A court order or lawfully issued subpoena",
    LegalBasis.FINANCIAL_AID: "Financial aid the student applied for",
    LegalBasis.JUVENILE_JUSTICE: "State or local juvenile justice officials",
    LegalBasis.ACCREDITATION: "An accrediting organization",
    LegalBasis.DEPENDENT_STUDENT_PARENT: "Parents of a dependent student",
    LegalBasis.POSTSECONDARY: "Postsecondary institution information",
}

RECORD_LABEL = "Recorded under 34 CFR 99.32"
EXEMPT_LABEL = "No 99.32 record required (34 CFR 99.32(d)); kept in Steward's audit log"


class LedgerError(ValueError):
    """A disclosure that cannot be recorded (unknown students, no datasets...)."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who received the data: an organization, optionally one person there, as named at the time."""

    org_id: int | None
    person_id: int | None = None
    name: str = ""
    org_name: str = ""
    role: str = ""

    @classmethod
    def of(cls, db: Session, principal: Principal) -> Recipient:
        org = db.get(Organization, principal.organization_id)
        return cls(
            org_id=principal.organization_id,
            person_id=principal.person_id,
            name=principal.display_name or principal.person_code,
            org_name=org.name if org is not None else principal.organization_code,
            role=principal.role.value,
        )

    @classmethod
    def organization(cls, db: Session, org_id: int, role: str = "") -> Recipient:
        org = db.get(Organization, org_id)
        if org is None:
            raise LedgerError(f"no organization with id {org_id}")
        return cls(org_id=org.id, org_name=org.name, role=role or org.kind)


def actor_of(principal: Principal | None) -> EventActor:
    if principal is None:
        return EventActor()
    return EventActor(principal.person_id, principal.role.value, principal.organization_id)


def record_disclosure(
    db: Session,
    recipient: Principal | Recipient,
    student_ids: Iterable[int],
    datasets: Iterable[Dataset | str],
    basis: LegalBasis,
    *,
    actor: Principal | EventActor | None = None,
    purpose: str = "",
    agreement_id: int | None = None,
    request_ref: str | None = None,
    delivery_id: int | None = None,
    channel: str = "view",
    evidence: Sequence[str] = (),
    request_id: str | None = None,
    at: datetime | None = None,
    kind: str = "disclosure",
) -> list[Appended]:
    """Write the audit event(s) and one ledger line per student, in ``db``'s transaction.

    One event per district whose students are named. ``actor`` is who released the data (default:
    the recipient when it is a principal viewing, else the system). ``kind`` is ``disclosure`` or
    ``request`` (a request for access that 99.32(a) also records).
    """
    if kind not in ("disclosure", "request"):
        raise LedgerError(f"ledger kind must be 'disclosure' or 'request', not {kind!r}")
    who = Recipient.of(db, recipient) if isinstance(recipient, Principal) else recipient
    if isinstance(actor, Principal) or actor is None:
        released_by = actor_of(
            actor if actor is not None else (recipient if isinstance(recipient, Principal) else None)
        )
    else:
        released_by = actor
    names = sorted({Dataset(d).value for d in datasets})
    if not names:
        raise LedgerError("a disclosure names at least one dataset")
    ids = sorted(set(student_ids))
    if not ids:
        raise LedgerError("a disclosure names at least one student")
    district_of: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for sid, district_id in db.execute(
            select(Student.id, Student.district_id).where(Student.id.in_(chunk))
        ):
            district_of[sid] = district_id
    unknown = [i for i in ids if i not in district_of]
    if unknown:
        raise LedgerError(f"unknown student ids: {', '.join(map(str, unknown[:10]))}")
    by_district: dict[int, list[int]] = {}
    for sid in ids:
        by_district.setdefault(district_of[sid], []).append(sid)
    details: dict[str, Any] = {
        "kind": kind,
        "recipient_org": who.org_id,
        "recipient_person": who.person_id,
        "recipient_name": who.name,
        "recipient_org_name": who.org_name,
        "recipient_role": who.role,
        "purpose": purpose,
        "datasets": names,
        "agreement": agreement_id,
        "request_ref": request_ref,
        "delivery": delivery_id,
        "channel": channel,
        "record_required": basis.needs_disclosure_record,
    }
    when = at or now_utc()
    districts = sorted(by_district)
    specs = [
        EventSpec(
            action="disclosure" if kind == "disclosure" else "disclosure.request",
            district_id=district_id,
            actor=released_by,
            subject_type="student",
            subjects=by_district[district_id],
            basis=basis.value,
            citation=basis.citation,
            evidence=tuple(evidence),
            request_id=request_id,
            details=details,
            occurred_at=when,
        )
        for district_id in districts
    ]
    appended = append_many(db, specs)
    rows: list[dict[str, Any]] = []
    for district_id, event in zip(districts, appended, strict=True):
        for sid in by_district[district_id]:
            rows.append(
                {
                    "event_id": event.id,
                    "district_id": district_id,
                    "student_id": sid,
                    "kind": kind,
                    "disclosed_at": event.occurred_at,
                    "recipient_org_id": who.org_id,
                    "recipient_person_id": who.person_id,
                    "recipient_name": who.name,
                    "recipient_org_name": who.org_name,
                    "recipient_role": who.role,
                    "basis": basis.value,
                    "citation": basis.citation,
                    "purpose": purpose,
                    "datasets": names,
                    "request_ref": request_ref,
                    "agreement_id": agreement_id,
                    "delivery_id": delivery_id,
                    "channel": channel,
                    "record_required": basis.needs_disclosure_record,
                }
            )
            if len(rows) >= _CHUNK:
                _insert_lines(db, rows)
                rows = []
    if rows:
        _insert_lines(db, rows)
    return appended


def _insert_lines(db: Session, rows: list[dict[str, Any]]) -> None:
    """Ledger lines in bulk: COPY on PostgreSQL for large disclosures, a multi-row INSERT otherwise."""
    if len(rows) < COPY_THRESHOLD or db.get_bind().dialect.name != "postgresql":
        db.execute(insert(_LEDGER), rows)
        return
    columns = list(rows[0])
    driver = db.connection().connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY disclosure_ledger ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    json.dumps(v)
                    if name == "datasets"
                    else v.astimezone(UTC).replace(tzinfo=None)
                    if isinstance(v, datetime)
                    else v
                    for name, v in row.items()
                ]
            )


# --- reading -------------------------------------------------------------------------------------


def visible_student(
    db: Session, principal: Principal, student_id: int, at: datetime | None = None
) -> Student | None:
    """The student if ``principal`` may read their ledger now, else None (the route answers 404).

    A parent: a guardianship valid now and not legally restricted. A student: their own record. A
    district data officer: students of their district.
    """
    at = at or now_utc()
    student = db.get(Student, student_id)
    if student is None:
        return None
    if principal.role is Role.PARENT:
        return student if _parent_rights(db, principal, student_id, at) else None
    if principal.role is Role.STUDENT:
        return student if student.person_id == principal.person_id else None
    if principal.role is Role.DISTRICT_DATA_OFFICER:
        return student if student.district_id == principal.organization_id else None
    return None


def _parent_rights(db: Session, principal: Principal, student_id: int, at: datetime) -> bool:
    """The decision engine grants this parent the parent's own rights (99.10) over the student now.

    Guardianship alone is not enough: at 18 the rights pass to the student, and a dependency record
    (99.31(a)(8)) allows disclosures to the parent, not the parent's right to inspect the record of
    disclosures; legal restrictions are the engine's to apply as well.
    """
    from steward.domain.datasets import Dataset
    from steward.domain.legal import LegalBasis
    from steward.store.access import check

    decision = check(db, principal.person_id, student_id, Dataset.ENROLLMENT, at, role=Role.PARENT)
    return decision.allowed and decision.basis is LegalBasis.PARENT_OR_ELIGIBLE_STUDENT


def own_children(db: Session, principal: Principal, at: datetime | None = None) -> list[Student]:
    """The students whose ledger this parent or student may read now."""
    at = at or now_utc()
    if principal.role is Role.PARENT:
        linked = list(
            db.scalars(
                select(Student)
                .join(Guardianship, Guardianship.student_id == Student.id)
                .where(
                    Guardianship.person_id == principal.person_id,
                    Guardianship.restricted.is_(False),
                    Guardianship.valid_at(at),
                )
                .order_by(Student.first_name, Student.last_name, Student.id)
                .distinct()
            )
        )
        return [child for child in linked if _parent_rights(db, principal, child.id, at)]
    if principal.role is Role.STUDENT:
        return list(db.scalars(select(Student).where(Student.person_id == principal.person_id)))
    return []


def visible_agreement(db: Session, principal: Principal, agreement_id: int) -> Agreement | None:
    """The agreement if ``principal`` may read the disclosures under it, else None (the route answers
    404, whether the agreement does not exist or belongs to another district): officers of its district."""
    district = district_scope(principal)
    if district is None:
        return None
    agreement = db.get(Agreement, agreement_id)
    return agreement if agreement is not None and agreement.district_id == district else None


def district_scope(principal: Principal) -> int | None:
    """The district whose whole ledger this principal may read (district data officers only)."""
    return principal.organization_id if principal.role is Role.DISTRICT_DATA_OFFICER else None


def district_timezone(db: Session, district_id: int) -> ZoneInfo:
    settings = db.get(TenantSettings, district_id)
    return ZoneInfo(settings.timezone if settings is not None else DEFAULT_TIMEZONE)


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[DisclosureEntry]
    next_cursor: int | None


def entries_query(
    district_id: int,
    student_id: int | None = None,
    recipient_org_id: int | None = None,
    agreement_id: int | None = None,
    required_only: bool = False,
) -> Select[DisclosureEntry]:
    """Ledger lines of one district, newest first (ties by id), optionally narrowed."""
    conditions: list[ColumnElement[bool]] = [DisclosureEntry.district_id == district_id]
    if student_id is not None:
        conditions.append(DisclosureEntry.student_id == student_id)
    if recipient_org_id is not None:
        conditions.append(DisclosureEntry.recipient_org_id == recipient_org_id)
    if agreement_id is not None:
        conditions.append(DisclosureEntry.agreement_id == agreement_id)
    if required_only:
        conditions.append(DisclosureEntry.record_required.is_(True))
    return select(DisclosureEntry).where(*conditions).order_by(DisclosureEntry.id.desc())


def page(db: Session, query: Select[DisclosureEntry], cursor: int | None, limit: int) -> Page:
    """One page by id cursor (ids only grow, so pages never skip or repeat a line)."""
    if cursor is not None:
        query = query.where(DisclosureEntry.id < cursor)
    rows = list(db.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)


def student_entries(db: Session, student: Student) -> list[Row[Any]]:
    """Every ledger line of one student, newest first, as plain rows (a parent's page shows them
    all; rows carry the same attribute names as ``DisclosureEntry``, without ORM overhead)."""
    return list(
        db.execute(
            select(_LEDGER)
            .where(_LEDGER.c.student_id == student.id)
            .order_by(_LEDGER.c.disclosed_at.desc(), _LEDGER.c.id.desc())
        )
    )


_WORDS_BY_CODE = {basis.value: words for basis, words in BASIS_WORDS.items()}


def basis_words(code: str) -> str:
    return _WORDS_BY_CODE.get(code, code)


def record_label(entry: DisclosureEntry) -> str:
    return RECORD_LABEL if entry.record_required else EXEMPT_LABEL


# --- CSV -----------------------------------------------------------------------------------------

CSV_HEADER = (
    "entry_id",
    "disclosed_at_utc",
    "kind",
    "student_id",
    "student_local_id",
    "recipient_organization",
    "recipient_person",
    "recipient_role",
    "legal_basis",
    "citation",
    "purpose",
    "datasets",
    "agreement_id",
    "request",
    "delivery_id",
    "channel",
    "record_required_99_32",
    "audit_event_id",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """Text for one CSV cell; a leading apostrophe neutralises a would-be spreadsheet formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_rows(db: Session, query: Select[DisclosureEntry]) -> Iterator[str]:
    """The ledger lines of ``query`` as CSV text chunks (header first), streamed in batches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    rows = db.execute(
        query.add_columns(Student.local_id)
        .join(Student, Student.id == DisclosureEntry.student_id)
        .execution_options(yield_per=1000)
    )
    for entry, local_id in rows:
        writer.writerow(
            [
                csv_cell(v)
                for v in (
                    entry.id,
                    entry.disclosed_at.isoformat(),
                    entry.kind,
                    entry.student_id,
                    local_id,
                    entry.recipient_org_name,
                    entry.recipient_name,
                    entry.recipient_role,
                    entry.basis,
                    entry.citation,
                    entry.purpose,
                    " ".join(entry.datasets),
                    entry.agreement_id,
                    entry.request_ref,
                    entry.delivery_id,
                    entry.channel,
                    "yes" if entry.record_required else "no (99.32(d))",
                    entry.event_id,
                )
            ]
        )
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
