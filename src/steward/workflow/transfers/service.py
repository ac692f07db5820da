"""Records transfers, step by step: request -> identity match -> the engine's decision -> read from the
sending district's source -> translate -> encrypt and deliver -> ledger -> parent notice (99.34).

Everything happens in the caller's transaction. The records exist in plain form only inside a
working directory under the data directory, removed before the function returns; the encrypted
package waits in the receiving district's outbox until a registrar receives it, and Steward's own
key to it is shredded then (or after ``package_days``), so nothing of the records stays behind.

Reads take the principal and return nothing it may not see (routes answer 404).
"""

from __future__ import annotations

import csv
import io
import secrets
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import ColumnElement, func, insert, or_, select
from sqlalchemy.orm import Session

from steward.audit import EventSpec, Recipient, actor_of, append, append_many, record_disclosure
from steward.delivery.links import record_download
from steward.delivery.manifest import ManifestError
from steward.delivery.models import Package
from steward.delivery.packages import DeliveryError, PackageRequest, package_path, release, shred
from steward.delivery.recipients import RecipientKeyError
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.domain.time import DEFAULT_TIMEZONE, local_date
from steward.policy import Actor, Decision, ObligationKind
from steward.products.records import SourceRecordsError, read_students
from steward.products.transfer import ProductError, write_files
from steward.products.transfer import select as select_records
from steward.store.access import Question, decide_batch
from steward.store.base import now_utc
from steward.store.models import Guardianship, Organization, Person, SchoolEnrollment, Student, TenantSettings
from steward.workflow.models import EnrollmentRequest
from steward.workflow.notifications.models import Notification
from steward.workflow.transfers.matching import (
    Comparison,
    Identity,
    classify,
    normalize_id,
    state_id_variants,
)
from steward.workflow.transfers.models import MatchCandidate, TransferBatch, TransferRequest
from steward.workflow.transfers.settings import SettingsError, settings_for, source_directory

#: How long the "seeks or intends to enroll" fact a request creates stays in force.
ENROLLMENT_REQUEST_DAYS = 30
MAX_BULK_ROWS = 20_000
_LONG_AGO = datetime(1900, 1, 1, tzinfo=UTC)
_CHUNK = 2000


class Status(StrEnum):
    NEEDS_REVIEW = "needs_review"
    NO_MATCH = "no_match"
    REJECTED = "rejected"
    REFUSED = "refused"
    FAILED = "failed"
    DELIVERED = "delivered"
    RECEIVED = "received"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[Status, str] = {
    Status.NEEDS_REVIEW: "Waiting for an identity check by the sending district",
    Status.NO_MATCH: "No matching student in the region",
    Status.REJECTED: "No candidate confirmed by the sending district",
    Status.REFUSED: "Refused",
    Status.FAILED: "Could not be delivered",
    Status.DELIVERED: "Records ready to receive",
    Status.RECEIVED: "Records received",
    Status.EXPIRED: "Expired before it was received",
}


class TransferError(Exception):
    """A request that cannot be made (not a registrar, bad input); the message says why."""


@dataclass(frozen=True, slots=True)
class Ask:
    """What a registrar types: state ID, name and birth date of the incoming student."""

    state_id: str
    first_name: str
    last_name: str
    birth_date: date

    def identity(self) -> Identity:
        return Identity(self.state_id, self.first_name, self.last_name, self.birth_date)

    def check(self) -> None:
        problems = []
        if not normalize_id(self.state_id):
            problems.append("the state student ID is required (requests must carry it)")
        if not self.first_name.strip() or not self.last_name.strip():
            problems.append("first and last name are required")
        if self.birth_date > date.today() or self.birth_date.year < 1900:
            problems.append(f"birth date {self.birth_date.isoformat()} is not plausible")
        if problems:
            raise TransferError("; ".join(problems))


# --- who is asking ----------------------------------------------------------------------------


def receiving_district(db: Session, principal: Principal) -> Organization:
    """The registrar's district (their organization, or the district of their school)."""
    if principal.role is not Role.REGISTRAR:
        raise TransferError("only a registrar may request an incoming student's records")
    org = db.get(Organization, principal.organization_id)
    if org is not None and org.kind == OrgKind.SCHOOL.value and org.parent_id is not None:
        org = db.get(Organization, org.parent_id)
    if org is None or org.kind != OrgKind.DISTRICT.value:
        raise TransferError(f"{principal.organization_code} belongs to no district")
    return org


def _timezone(db: Session, district_id: int) -> str:
    settings = db.get(TenantSettings, district_id)
    return settings.timezone if settings is not None else DEFAULT_TIMEZONE


def _new_request(
    db: Session,
    principal: Principal,
    receiving: Organization,
    ask: Ask,
    batch: TransferBatch | None,
    at: datetime,
) -> TransferRequest:
    request = TransferRequest(
        code=f"TR-{secrets.token_hex(5).upper()}",
        receiving_district_id=receiving.id,
        registrar_person_id=principal.person_id,
        registrar_org_id=principal.organization_id,
        batch_id=None if batch is None else batch.id,
        requested_state_id=normalize_id(ask.state_id),
        requested_first_name=ask.first_name.strip(),
        requested_last_name=ask.last_name.strip(),
        requested_birth_date=ask.birth_date,
        status=Status.NEEDS_REVIEW.value,
        created_at=at,
        updated_at=at,
    )
    db.add(request)
    return request


def _set(request: TransferRequest, status: Status, reason: str, at: datetime) -> None:
    request.status = status.value
    request.reason = reason
    request.updated_at = at


def _event(
    db: Session, request: TransferRequest, action: str, principal: Principal | None, at: datetime
) -> None:
    append(
        db,
        EventSpec(
            action=action,
            district_id=request.receiving_district_id,
            actor=actor_of(principal),
            subject_type="transfer",
            subjects=[request.id],
            request_id=request.code,
            details={"status": request.status, "sending_district": request.sending_district_id},
            occurred_at=at,
        ),
    )


class _Events:
    """Transfer events collected while a request (or a list) is handled, appended at once: one event
    per action and receiving district, naming every request it concerns."""

    def __init__(self, principal: Principal | None, at: datetime) -> None:
        self.principal, self.at = principal, at
        self.by_action: dict[tuple[str, int], list[TransferRequest]] = defaultdict(list)

    def add(self, request: TransferRequest, action: str) -> None:
        self.by_action[(action, request.receiving_district_id)].append(request)

    def flush(self, db: Session) -> None:
        specs = [
            EventSpec(
                action=action,
                district_id=district,
                actor=actor_of(self.principal),
                subject_type="transfer",
                subjects=[r.id for r in requests],
                request_id=requests[0].code if len(requests) == 1 else None,
                details={
                    "requests": [r.code for r in requests],
                    "sending_districts": sorted(
                        {r.sending_district_id for r in requests if r.sending_district_id}
                    ),
                },
                occurred_at=self.at,
            )
            for (action, district), requests in sorted(self.by_action.items())
        ]
        if specs:
            append_many(db, specs)
        self.by_action.clear()


# --- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Known:
    student_id: int
    district_id: int
    identity: Identity


def _known_rows(db: Session, condition: ColumnElement[bool], exclude_district: int) -> list[_Known]:
    rows = db.execute(
        select(
            Student.id,
            Student.district_id,
            Student.state_id,
            Student.first_name,
            Student.last_name,
            Student.birth_date,
        )
        .join(Organization, Organization.id == Student.district_id)
        .where(
            condition, Organization.kind == OrgKind.DISTRICT.value, Student.district_id != exclude_district
        )
    )
    return [_Known(r[0], r[1], Identity(r[2] or "", r[3], r[4], r[5])) for r in rows]


def _latest_enrollment(db: Session, student_ids: Sequence[int]) -> dict[int, datetime]:
    rows = db.execute(
        select(SchoolEnrollment.student_id, func.max(SchoolEnrollment.valid_from))
        .where(SchoolEnrollment.student_id.in_(student_ids))
        .group_by(SchoolEnrollment.student_id)
    )
    return {int(sid): started for sid, started in rows}


@dataclass
class _Outcome:
    exact: _Known | None = None
    near: list[tuple[_Known, Comparison]] = field(default_factory=list)


def _decide_match(db: Session, ask: Ask, known: Sequence[_Known]) -> _Outcome:
    by_id = {k.student_id: k for k in known}
    found = classify(ask.identity(), ((k.student_id, k.identity) for k in known))
    if len(found.exact) == 1:
        return _Outcome(exact=by_id[found.exact[0]])
    if len(found.exact) > 1:
        # The same student in several districts: the one attended most recently sends.
        latest = _latest_enrollment(db, found.exact)
        ranked = sorted(
            found.exact, key=lambda s: latest.get(s, datetime.min.replace(tzinfo=None)).isoformat()
        )
        top = latest.get(ranked[-1])
        if top is not None and sum(1 for s in found.exact if latest.get(s) == top) == 1:
            return _Outcome(exact=by_id[ranked[-1]])
        from steward.workflow.transfers.matching import compare

        return _Outcome(near=[(by_id[s], compare(ask.identity(), by_id[s].identity)) for s in found.exact])
    return _Outcome(near=[(by_id[s], c) for s, c in found.near])


def _match_one(db: Session, ask: Ask, exclude_district: int) -> _Outcome:
    sid = normalize_id(ask.state_id)
    ids = [sid, *state_id_variants(sid)] if sid else []
    condition = or_(Student.birth_date == ask.birth_date, Student.state_id.in_(ids))
    return _decide_match(db, ask, _known_rows(db, condition, exclude_district))


def _queue(
    db: Session, request: TransferRequest, near: Sequence[tuple[_Known, Comparison]], at: datetime
) -> None:
    for known, comparison in near:
        db.add(
            MatchCandidate(
                request_id=request.id,
                student_id=known.student_id,
                district_id=known.district_id,
                score=comparison.score,
                reasons=list(comparison.reasons),
            )
        )
    _set(
        request,
        Status.NEEDS_REVIEW,
        "No exact match: the sending district checks the closest students on file before anything is sent.",
        at,
    )


# --- the decision and the delivery --------------------------------------------------------------


@dataclass
class _Matched:
    request: TransferRequest
    student: Student


def _actor(request: TransferRequest) -> Actor:
    return Actor(str(request.registrar_person_id), Role.REGISTRAR, str(request.registrar_org_id))


def _registrar_recipient(db: Session, request: TransferRequest) -> Recipient:
    person = db.get(Person, request.registrar_person_id)
    district = db.get(Organization, request.receiving_district_id)
    return Recipient(
        org_id=request.receiving_district_id,
        person_id=request.registrar_person_id,
        name=person.display_name if person is not None else "",
        org_name=district.name if district is not None else "",
        role=Role.REGISTRAR.value,
    )


def _refusal(decisions: Iterable[Decision], student: Student) -> str:
    code = f"{student.district.code}:{student.local_id}" if student.district is not None else ""
    reasons = dict.fromkeys(
        m.replace(f"student {code}", "this student").replace(code, "this student")
        for d in decisions
        for m in d.missing
    )
    return "; ".join(reasons) or "no legal basis allows it"


@dataclass(frozen=True, slots=True)
class _Notice:
    request: TransferRequest
    student: Student
    datasets: tuple[Dataset, ...]


def _notify_parents(db: Session, notices: Sequence[_Notice], at: datetime) -> None:
    """99.34(a)(1): tell the parents (or the eligible student) what was sent, and to whom."""
    if not notices:
        return
    ids = sorted({n.student.id for n in notices})
    guardians: dict[int, list[Person]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        for student_id, person in db.execute(
            select(Guardianship.student_id, Person)
            .join(Person, Person.id == Guardianship.person_id)
            .where(
                Guardianship.student_id.in_(ids[start : start + _CHUNK]),
                Guardianship.restricted.is_(False),
                Guardianship.valid_at(at),
            )
            .order_by(Guardianship.student_id, Person.id)
        ):
            guardians[student_id].append(person)
    rows: list[dict[str, object]] = []
    notified: dict[int, list[int]] = defaultdict(list)
    orgs: dict[int, Organization] = {}
    days: dict[int, str] = {}
    with db.no_autoflush:
        for district_id in {n.student.district_id for n in notices} | {
            n.request.receiving_district_id for n in notices
        }:
            org = db.get(Organization, district_id)
            assert org is not None
            orgs[district_id] = org
            days[district_id] = local_date(at, _timezone(db, district_id)).isoformat()
    for notice in notices:
        student, request = notice.student, notice.request
        sending, receiving = orgs[student.district_id], orgs[request.receiving_district_id]
        people = guardians.get(student.id, [])
        if not people and student.person_id is not None:
            own = db.get(Person, student.person_id)
            people = [own] if own is not None else []
        day = days[sending.id]
        body = (
            f"On {day}, {sending.name} sent {student.first_name}'s education records "
            f"({', '.join(d.value for d in notice.datasets)}) to {receiving.name}, where "
            f"{student.first_name} seeks or intends to enroll (34 CFR 99.31(a)(2)). Under 34 CFR 99.34 "
            f"you may ask {sending.name} for a copy of the records that were sent, and for a hearing to "
            f"challenge their content. Reference {request.code}."
        )
        for person in people:
            rows.append(
                {
                    "person_id": person.id,
                    "district_id": sending.id,
                    "kind": "transfer.forwarded",
                    "subject": f"{student.first_name}'s records were sent to {receiving.name}",
                    "body": body,
                    "link": f"/ledger/students/{student.id}",
                    "created_at": at,
                    "email_to": person.email,
                    "email_status": "pending" if person.email else "skipped",
                    "dedupe_key": f"transfer:{request.code}:{person.id}",
                }
            )
        notified[student.district_id].append(student.id)
    if rows:
        db.execute(insert(Notification), rows)
    append_many(
        db,
        [
            EventSpec(
                action="transfer.parent_notice",
                district_id=district,
                subject_type="student",
                subjects=students,
                basis=LegalBasis.TRANSFER.value,
                details={"notices": len(rows), "citation": "34 CFR 99.34(a)(1)"},
                occurred_at=at,
            )
            for district, students in sorted(notified.items())
        ],
    )


def _work_dir(data_dir: Path) -> Path:
    root = data_dir / "transfers" / "work"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = root / uuid.uuid4().hex
    work.mkdir(mode=0o700)
    return work


def _friendly(exc: Exception, receiving: Organization) -> str:
    if isinstance(exc, RecipientKeyError):
        return (
            f"{receiving.name} has no registered public key to encrypt records to; its data officer "
            f"registers one with `steward delivery add-key {receiving.code} KEYFILE`"
        )
    if isinstance(exc, SourceRecordsError):
        return f"the sending district's source could not be read: {exc}"
    return str(exc)


def _deliver(
    db: Session,
    data_dir: Path,
    matched: Sequence[_Matched],
    principal: Principal | None,
    at: datetime,
) -> None:
    """Decide, read, translate, encrypt, deliver and record, for requests of one receiving district;
    one package per sending district."""
    if not matched:
        return
    receiving = db.get(Organization, matched[0].request.receiving_district_id)
    assert receiving is not None
    receive_format = settings_for(db, receiving.id).receive_format
    events = _Events(principal, at)
    # The "seeks or intends to enroll" fact each request stands for, then the engine.
    intents = [
        EnrollmentRequest(
            student_id=item.student.id,
            district_id=receiving.id,
            registrar_person_id=item.request.registrar_person_id,
            valid_from=at,
            valid_to=at + timedelta(days=ENROLLMENT_REQUEST_DAYS),
        )
        for item in matched
    ]
    db.add_all(intents)
    db.flush()
    for item, intent in zip(matched, intents, strict=True):
        item.request.enrollment_request_id = intent.id
        item.request.student_id = item.student.id
        item.request.sending_district_id = item.student.district_id
    by_actor: dict[tuple[int, int], list[_Matched]] = defaultdict(list)
    for item in matched:
        by_actor[(item.request.registrar_person_id, item.request.registrar_org_id)].append(item)
    decisions: dict[int, list[Decision]] = {}
    sends = {d: settings_for(db, d).datasets for d in {item.student.district_id for item in matched}}
    for group in by_actor.values():
        questions = [
            Question(item.student.id, dataset)
            for item in group
            for dataset in sends[item.student.district_id]
        ]
        answers = decide_batch(db, _actor(group[0].request), questions, at)
        for question, answer in zip(questions, answers, strict=True):
            decisions.setdefault(question.student_id, []).append(answer)
    # 99.32(a)(1): every request for access is recorded, allowed or not.
    for group in by_actor.values():
        by_datasets: dict[tuple[str, ...], list[_Matched]] = defaultdict(list)
        for item in group:
            by_datasets[tuple(d.dataset.value for d in decisions[item.student.id])].append(item)
        for names, items in by_datasets.items():
            record_disclosure(
                db,
                _registrar_recipient(db, items[0].request),
                [i.student.id for i in items],
                names,
                LegalBasis.TRANSFER,
                actor=principal,
                purpose=f"request for the records of a student who seeks to enroll in {receiving.name}",
                request_ref=items[0].request.code
                if len(items) == 1
                else f"batch-{items[0].request.batch_id}",
                channel="transfer",
                kind="request",
                at=at,
            )
    allowed: list[_Matched] = []
    for item in matched:
        granted = _granted(decisions[item.student.id])
        if not granted:
            _set(item.request, Status.REFUSED, _refusal(decisions[item.student.id], item.student), at)
            events.add(item.request, "transfer.refused")
            continue
        item.request.datasets = [d.dataset.value for d in granted]
        item.request.format = receive_format.value
        allowed.append(item)
    by_sender: dict[int, list[_Matched]] = defaultdict(list)
    for item in allowed:
        by_sender[item.student.district_id].append(item)
    for sender_id, items in sorted(by_sender.items()):
        _send(db, data_dir, receiving, sender_id, items, decisions, principal, at, events)
    events.flush(db)


def _send(
    db: Session,
    data_dir: Path,
    receiving: Organization,
    sender_id: int,
    items: Sequence[_Matched],
    decisions: dict[int, list[Decision]],
    principal: Principal | None,
    at: datetime,
    events: _Events,
) -> None:
    sending = db.get(Organization, sender_id)
    assert sending is not None
    fmt = settings_for(db, receiving.id).receive_format
    local = {item.student.local_id: item for item in items}
    work: Path | None = None
    try:
        source = read_students(source_directory(db, data_dir, sender_id), sending.code, list(local))
        missing = sorted(set(local) - source.found)
        present = [item for item in items if item.student.local_id not in missing]
        for item in (local[m] for m in missing):
            _set(
                item.request,
                Status.FAILED,
                f"{sending.name}'s source holds no records of this student right now; ask {sending.name}",
                at,
            )
            events.add(item.request, "transfer.failed")
        if not present:
            return
        allowed = {
            item.student.local_id: frozenset(d.dataset for d in _granted(decisions[item.student.id]))
            for item in present
        }
        years = {item.student.local_id: _years(decisions[item.student.id]) for item in present}
        records = select_records(source, allowed, years)
        work = _work_dir(data_dir)
        as_of = local_date(at, _timezone(db, sending.id))
        files = write_files(records, fmt, work / "out", sending.code, as_of)
        datasets = sorted({d for granted in allowed.values() for d in granted}, key=lambda d: d.value)
        package = release(
            db,
            data_dir,
            PackageRequest(
                district_id=sending.id,
                recipient_org_id=receiving.id,
                basis=LegalBasis.TRANSFER,
                datasets=datasets,
                student_ids=[item.student.id for item in present],
                files=files,
                purpose=f"records transfer: the student seeks or intends to enroll in {receiving.name}",
                request_ref=present[0].request.code
                if len(present) == 1
                else f"batch-{present[0].request.batch_id}",
                actor=principal,
            ),
        )
    except (
        SourceRecordsError,
        SettingsError,
        ProductError,
        DeliveryError,
        RecipientKeyError,
        ManifestError,
    ) as exc:
        for item in items:
            if item.request.status != Status.FAILED.value:
                _set(item.request, Status.FAILED, _friendly(exc, receiving), at)
                events.add(item.request, "transfer.failed")
        return
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    notices: list[_Notice] = []
    for item in present:
        request = item.request
        request.package_id = package.id
        request.delivered_at = at
        _set(request, Status.DELIVERED, "", at)
        events.add(request, "transfer.delivered")
        granted = _granted(decisions[item.student.id])
        if any(o.kind is ObligationKind.NOTIFY_PARENT for d in granted for o in d.obligations):
            notices.append(_Notice(request, item.student, tuple(d.dataset for d in granted)))
    _notify_parents(db, notices, at)


def _granted(decisions: Sequence[Decision]) -> list[Decision]:
    """Datasets the engine allows under the transfer basis (directory information alone is not a
    transfer: it would let anyone anywhere ask)."""
    return [d for d in decisions if d.allowed and d.basis is LegalBasis.TRANSFER]


def _years(decisions: Sequence[Decision]) -> frozenset[int] | None:
    limits = [set(d.school_years) for d in _granted(decisions) if d.school_years is not None]
    if not limits:
        return None
    return frozenset(set.intersection(*limits))


# --- entry points -------------------------------------------------------------------------------


def request_records(
    db: Session, data_dir: Path, principal: Principal, ask: Ask, at: datetime | None = None
) -> TransferRequest:
    """A registrar asks for one incoming student's records; returns the request in its new state."""
    at = at or now_utc()
    receiving = receiving_district(db, principal)
    ask.check()
    request = _new_request(db, principal, receiving, ask, None, at)
    db.flush()
    outcome = _match_one(db, ask, receiving.id)
    if outcome.exact is not None:
        student = db.get(Student, outcome.exact.student_id)
        assert student is not None
        request.match_kind = "exact"
        _deliver(db, data_dir, [_Matched(request, student)], principal, at)
    elif outcome.near:
        _queue(db, request, outcome.near, at)
        _event(db, request, "transfer.needs_review", principal, at)
    else:
        _set(
            request,
            Status.NO_MATCH,
            "No student of another district of the region has this state ID, name and birth date. "
            "Check the spelling and the date, or ask the family for the previous school.",
            at,
        )
        _event(db, request, "transfer.no_match", principal, at)
    db.flush()
    return request


def confirm_candidate(
    db: Session,
    data_dir: Path,
    principal: Principal,
    request_id: int,
    candidate_id: int,
    at: datetime | None = None,
) -> TransferRequest:
    """A data officer of the candidate's district confirms it is the student asked for."""
    at = at or now_utc()
    request = db.get(TransferRequest, request_id)
    candidate = db.get(MatchCandidate, candidate_id)
    if (
        request is None
        or candidate is None
        or candidate.request_id != request_id
        or not _reviews(principal, candidate)
        or request.status != Status.NEEDS_REVIEW.value
    ):
        raise TransferError("no such request waiting for your review")
    student = db.get(Student, candidate.student_id)
    assert student is not None
    for other in db.scalars(select(MatchCandidate).where(MatchCandidate.request_id == request_id)):
        db.delete(other)
    request.match_kind = "confirmed"
    request.matched_by_person_id = principal.person_id
    db.flush()
    _deliver(db, data_dir, [_Matched(request, student)], principal, at)
    db.flush()
    return request


def reject_candidates(
    db: Session, principal: Principal, request_id: int, at: datetime | None = None
) -> TransferRequest:
    """A data officer says none of their district's candidates is the student asked for."""
    at = at or now_utc()
    request = db.get(TransferRequest, request_id)
    if request is None or request.status != Status.NEEDS_REVIEW.value:
        raise TransferError("no such request waiting for your review")
    mine = [c for c in _candidates(db, request_id) if _reviews(principal, c)]
    if not mine:
        raise TransferError("no such request waiting for your review")
    for candidate in mine:
        db.delete(candidate)
    db.flush()
    if not _candidates(db, request_id):
        _set(
            request,
            Status.REJECTED,
            "The sending district found none of its students to be this student.",
            at,
        )
        _event(db, request, "transfer.rejected", principal, at)
    return request


def receive(
    db: Session, data_dir: Path, principal: Principal, request_id: int, at: datetime | None = None
) -> tuple[bytes, str]:
    """The registrar takes the encrypted package; Steward then shreds its own copy and key."""
    at = at or now_utc()
    request = visible_request(db, principal, request_id)
    if request is None or principal.role is not Role.REGISTRAR:
        raise TransferError("no such transfer")
    package = db.get(Package, request.package_id) if request.package_id is not None else None
    if request.status != Status.DELIVERED.value or package is None or package.status != "available":
        raise TransferError("these records are not waiting to be received")
    data = package_path(db, data_dir, package).read_bytes()
    record_download(db, package, "transfer", actor_of(principal), {"transfer": request.code})
    still_waiting = db.scalar(
        select(func.count())
        .select_from(TransferRequest)
        .where(
            TransferRequest.package_id == package.id,
            TransferRequest.status == Status.DELIVERED.value,
            TransferRequest.id != request.id,
        )
    )
    if not still_waiting:
        shred(db, data_dir, package, f"transfer {request.code} received by the registrar", principal)
    for same in db.scalars(select(TransferRequest).where(TransferRequest.package_id == package.id)):
        if same.status == Status.DELIVERED.value:
            same.received_at = at
            _set(same, Status.RECEIVED, "", at)
            _event(db, same, "transfer.received", principal, at)
    return data, package.file_name


def sweep(db: Session, data_dir: Path, at: datetime | None = None) -> list[str]:
    """Shred packages no registrar received within their district's ``package_days``."""
    at = at or now_utc()
    expired: list[str] = []
    for request in db.scalars(
        select(TransferRequest)
        .where(TransferRequest.status == Status.DELIVERED.value)
        .order_by(TransferRequest.id)
    ):
        days = settings_for(db, request.receiving_district_id).package_days
        if request.delivered_at is None or request.delivered_at + timedelta(days=days) > at:
            continue
        package = db.get(Package, request.package_id) if request.package_id is not None else None
        if package is not None:
            shred(db, data_dir, package, f"transfer {request.code} not received within {days} days")
        _set(request, Status.EXPIRED, f"Not received within {days} days; ask again if still needed.", at)
        _event(db, request, "transfer.expired", None, at)
        expired.append(request.code)
    return expired


# --- bulk ---------------------------------------------------------------------------------------

BULK_HEADER = ("state_id", "first_name", "last_name", "birth_date")


def _parse_date(text: str) -> date:
    value = text.strip()
    try:
        if "/" in value:
            month, day, year = value.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)") from None


def parse_incoming(text: str, name: str = "incoming.csv") -> list[Ask]:
    """The rows of an incoming-students CSV (``state_id,first_name,last_name,birth_date``); every
    problem is reported with its row and column."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [h for h in BULK_HEADER if h not in header]
    if missing:
        raise TransferError(
            f"{name}: the header lacks {', '.join(missing)} (expected {','.join(BULK_HEADER)})"
        )
    where = {h: header.index(h) for h in BULK_HEADER}
    asks: list[Ask] = []
    problems: list[str] = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            problems.append(f"{name}, row {number}: has {len(row)} columns, expected {len(header)}")
            continue
        values = {h: row[i].strip() for h, i in where.items()}
        try:
            born = _parse_date(values["birth_date"])
        except ValueError as e:
            problems.append(f"{name}, row {number}, birth_date: {e}")
            continue
        ask = Ask(values["state_id"], values["first_name"], values["last_name"], born)
        try:
            ask.check()
        except TransferError as e:
            problems.append(f"{name}, row {number}: {e}")
            continue
        asks.append(ask)
    if len(asks) > MAX_BULK_ROWS:
        problems.append(f"{name}: {len(asks)} rows; at most {MAX_BULK_ROWS} per list")
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise TransferError("\n".join(shown))
    if not asks:
        raise TransferError(f"{name}: no students listed")
    return asks


def request_bulk(
    db: Session,
    data_dir: Path,
    principal: Principal,
    asks: Sequence[Ask],
    file_name: str = "",
    at: datetime | None = None,
) -> TransferBatch:
    """A list of incoming students (start of the year): one request each, matched in bulk, one
    package per sending district."""
    at = at or now_utc()
    receiving = receiving_district(db, principal)
    batch = TransferBatch(
        receiving_district_id=receiving.id, registrar_person_id=principal.person_id, file_name=file_name[:200]
    )
    db.add(batch)
    db.flush()
    requests = [_new_request(db, principal, receiving, ask, batch, at) for ask in asks]
    db.flush()
    by_sid = _bulk_known(db, "sid", [normalize_id(a.state_id) for a in asks], receiving.id)
    outcomes = [_decide_match(db, ask, by_sid.get(normalize_id(ask.state_id), [])) for ask in asks]
    unmatched = [ask for ask, outcome in zip(asks, outcomes, strict=True) if outcome.exact is None]
    by_dob = _bulk_known(db, "dob", [a.birth_date for a in unmatched], receiving.id)
    matched: list[_Matched] = []
    students: dict[int, Student] = {}
    exact_ids: list[tuple[TransferRequest, int]] = []
    for request, ask, outcome in zip(requests, asks, outcomes, strict=True):
        sid = normalize_id(ask.state_id)
        if outcome.exact is None:
            pool = {k.student_id: k for k in by_sid.get(sid, [])}
            pool.update({k.student_id: k for k in by_dob.get(ask.birth_date, [])})
            outcome = _decide_match(db, ask, list(pool.values()))
        if outcome.exact is None and not outcome.near and sid:
            outcome = _match_one(db, ask, receiving.id)  # typos in the state ID: rare, one by one
        if outcome.exact is not None:
            request.match_kind = "exact"
            exact_ids.append((request, outcome.exact.student_id))
        elif outcome.near:
            _queue(db, request, outcome.near, at)
        else:
            _set(request, Status.NO_MATCH, "No student of another district of the region matches.", at)
    ids = sorted({s for _, s in exact_ids})
    for start in range(0, len(ids), _CHUNK):
        for student in db.scalars(select(Student).where(Student.id.in_(ids[start : start + _CHUNK]))):
            students[student.id] = student
    seen: set[int] = set()
    for request, student_id in exact_ids:
        if student_id in seen:
            _set(request, Status.REJECTED, "The same student is listed twice; see the first row.", at)
            continue
        seen.add(student_id)
        matched.append(_Matched(request, students[student_id]))
    _deliver(db, data_dir, matched, principal, at)
    counts: dict[str, int] = defaultdict(int)
    for request in requests:
        counts[request.status] += 1
    batch.counts = dict(counts)
    append(
        db,
        EventSpec(
            action="transfer.bulk",
            district_id=receiving.id,
            actor=actor_of(principal),
            subject_type="transfer_batch",
            subjects=[batch.id],
            details={"rows": len(requests), "counts": dict(counts)},
            occurred_at=at,
        ),
    )
    db.flush()
    return batch


def _bulk_known(
    db: Session, by: str, values: Sequence[object], exclude_district: int
) -> dict[object, list[_Known]]:
    """Candidates for a whole list in a few queries, by state ID (``sid``) or birth date (``dob``)."""
    out: dict[object, list[_Known]] = defaultdict(list)
    column = Student.state_id if by == "sid" else Student.birth_date
    wanted = sorted({v for v in values if v}, key=str)
    for start in range(0, len(wanted), _CHUNK):
        for k in _known_rows(db, column.in_(wanted[start : start + _CHUNK]), exclude_district):
            out[normalize_id(k.identity.state_id) if by == "sid" else k.identity.birth_date].append(k)
    return out


# --- reading, scoped to the viewer ----------------------------------------------------------------


def _reviews(principal: Principal, candidate: MatchCandidate) -> bool:
    return principal.role is Role.DISTRICT_DATA_OFFICER and principal.organization_id == candidate.district_id


def _candidates(db: Session, request_id: int) -> list[MatchCandidate]:
    return list(
        db.scalars(
            select(MatchCandidate)
            .where(MatchCandidate.request_id == request_id)
            .order_by(MatchCandidate.score.desc(), MatchCandidate.id)
        )
    )


def _registrar_district(db: Session, principal: Principal) -> int | None:
    try:
        return receiving_district(db, principal).id
    except TransferError:
        return None


def visible_request(db: Session, principal: Principal, request_id: int) -> TransferRequest | None:
    """The request if the viewer may see it: a registrar of the receiving district, a data officer
    of the receiving or sending district, or of a district with a candidate to review."""
    request = db.get(TransferRequest, request_id)
    if request is None:
        return None
    if principal.role is Role.REGISTRAR:
        return request if _registrar_district(db, principal) == request.receiving_district_id else None
    if principal.role is Role.DISTRICT_DATA_OFFICER:
        district = principal.organization_id
        if district in (request.receiving_district_id, request.sending_district_id):
            return request
        if any(c.district_id == district for c in _candidates(db, request_id)):
            return request
    return None


def registrar_requests(db: Session, principal: Principal, limit: int = 200) -> list[TransferRequest]:
    """The receiving district's requests, newest first."""
    district = _registrar_district(db, principal)
    if district is None:
        return []
    return list(
        db.scalars(
            select(TransferRequest)
            .where(TransferRequest.receiving_district_id == district)
            .order_by(TransferRequest.id.desc())
            .limit(limit)
        )
    )


def transfer_log(db: Session, principal: Principal, limit: int = 500) -> list[TransferRequest]:
    """A data officer's district: records it sent (and was asked for), newest first."""
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        return []
    return list(
        db.scalars(
            select(TransferRequest)
            .where(TransferRequest.sending_district_id == principal.organization_id)
            .order_by(TransferRequest.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True, slots=True)
class QueueItem:
    request: TransferRequest
    receiving: Organization
    candidates: list[tuple[MatchCandidate, Student]]


def review_queue(db: Session, principal: Principal) -> list[QueueItem]:
    """Requests waiting for this data officer's district to confirm or reject its candidates."""
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        return []
    rows = db.execute(
        select(MatchCandidate, Student, TransferRequest)
        .join(Student, Student.id == MatchCandidate.student_id)
        .join(TransferRequest, TransferRequest.id == MatchCandidate.request_id)
        .where(
            MatchCandidate.district_id == principal.organization_id,
            TransferRequest.status == Status.NEEDS_REVIEW.value,
        )
        .order_by(TransferRequest.id, MatchCandidate.score.desc(), MatchCandidate.id)
    ).all()
    items: dict[int, QueueItem] = {}
    for candidate, student, request in rows:
        item = items.get(request.id)
        if item is None:
            receiving = db.get(Organization, request.receiving_district_id)
            assert receiving is not None
            item = items[request.id] = QueueItem(request, receiving, [])
        item.candidates.append((candidate, student))
    return list(items.values())


def batch_requests(
    db: Session, principal: Principal, batch_id: int
) -> tuple[TransferBatch, list[TransferRequest]] | None:
    batch = db.get(TransferBatch, batch_id)
    if batch is None or _registrar_district(db, principal) != batch.receiving_district_id:
        return None
    rows = list(
        db.scalars(
            select(TransferRequest).where(TransferRequest.batch_id == batch_id).order_by(TransferRequest.id)
        )
    )
    return batch, rows


def request_counts(db: Session, district_id: int) -> dict[str, int]:
    rows = db.execute(
        select(TransferRequest.status, func.count())
        .where(TransferRequest.receiving_district_id == district_id)
        .group_by(TransferRequest.status)
    )
    return {str(status): int(n) for status, n in rows}


__all__ = [
    "BULK_HEADER",
    "Ask",
    "QueueItem",
    "Status",
    "TransferError",
    "batch_requests",
    "confirm_candidate",
    "parse_incoming",
    "receive",
    "receiving_district",
    "registrar_requests",
    "reject_candidates",
    "request_bulk",
    "request_counts",
    "request_records",
    "review_queue",
    "sweep",
    "transfer_log",
    "visible_request",
]
