"""Fulfilment: the decision engine checks every student and dataset before anything leaves, then the
delivery module packages, encrypts, records and hands over (``steward.delivery.packages.release``).

Products are not built here: the analyst's prepared files are packaged as they are, or, for
identifiable partner requests, ``roster_extract`` writes what the roster index itself holds
(directory and enrollment) for the students the engine allows. All or nothing: one denied student
stops the delivery with the engine's reasons.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.delivery.models import Package
from steward.delivery.packages import DeliveryError, PackageRequest, release
from steward.delivery.recipients import RecipientKeyError
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear
from steward.policy import Actor, Form, decide
from steward.policy.facts import AgreementKind, AgreementStatus
from steward.store.fact_loader import load_facts
from steward.store.models import Organization, SchoolEnrollment, Student
from steward.store.visibility import visible_students
from steward.workflow.common import WorkflowError, timezone_of, words
from steward.workflow.exports import neutralise
from steward.workflow.models import Agreement
from steward.workflow.requests.models import DataRequest, RequestAgreement, RequestStudent

FORMS = {"identifiable": Form.IDENTIFIABLE, "deidentified": Form.DEIDENTIFIED, "aggregate": Form.AGGREGATE}
#: Agreements a delivery is made under, most specific first.
DATA_AGREEMENTS = (
    AgreementKind.DSA,
    AgreementKind.NDA,
    AgreementKind.STUDIES,
    AgreementKind.MOU,
    AgreementKind.CONTRACT,
)


class FulfilmentError(WorkflowError):
    """The engine does not allow the delivery (with its reasons), or delivery refused it."""


@dataclass
class Gate:
    """What the engine allows for the request right now."""

    students: list[int] = field(default_factory=list)
    basis: LegalBasis | None = None
    problems: list[str] = field(default_factory=list)
    agreement_id: int | None = None


def requester_actor(req: DataRequest) -> Actor:
    return Actor(str(req.requester_person_id), Role(req.requester_role), str(req.organization_id))


def data_agreement(db: Session, req: DataRequest, at: datetime) -> Agreement | None:
    """The executed agreement in force that the delivery is made under (linked to the request first)."""
    linked = set(
        db.scalars(select(RequestAgreement.agreement_id).where(RequestAgreement.request_id == req.id))
    )
    rows = db.scalars(
        select(Agreement).where(
            Agreement.organization_id == req.organization_id,
            Agreement.district_id == req.district_id,
            Agreement.status == AgreementStatus.EXECUTED.value,
            Agreement.kind.in_([k.value for k in DATA_AGREEMENTS]),
            Agreement.valid_at(at),
        )
    ).all()
    covering = [a for a in rows if set(req.datasets) <= set(a.datasets or [])]
    order = {k.value: i for i, k in enumerate(DATA_AGREEMENTS)}
    covering.sort(key=lambda a: (a.id not in linked, order.get(a.kind, 99), a.id))
    return covering[0] if covering else None


def gate(db: Session, req: DataRequest, at: datetime) -> Gate:
    """Ask the decision engine about every named student and dataset (or, for population requests,
    which students of the district the requester may receive)."""
    actor = requester_actor(req)
    form = FORMS[req.level]
    datasets = [Dataset(d) for d in req.datasets]
    result = Gate()
    agreement = data_agreement(db, req, at)
    result.agreement_id = agreement.id if agreement is not None else None
    if req.names_students:
        ids = list(db.scalars(select(RequestStudent.student_id).where(RequestStudent.request_id == req.id)))
        if not ids:
            result.problems.append("the request names no student matched in the roster index")
            return result
        facts = load_facts(db, [req.requester_person_id], ids, [req.organization_id])
        for student_id in sorted(ids):
            reasons: list[str] = []
            for dataset in datasets:
                decision = decide(facts, actor, str(student_id), dataset, form, at, req.purpose)
                if decision.allowed:
                    result.basis = result.basis or decision.basis
                else:
                    reasons.extend(decision.missing)
            if reasons:
                code = facts.student(str(student_id))
                label = code.code if code is not None else str(student_id)
                result.problems.append(f"{label}: {'; '.join(dict.fromkeys(reasons))}")
            else:
                result.students.append(student_id)
        return result
    cursor: str | None = None
    while True:
        page = visible_students(
            db,
            req.requester_person_id,
            at,
            actor=actor,
            form=form,
            datasets=datasets,
            directory_information=False,
            purpose=req.purpose,
            cursor=cursor,
            limit=1000,
        )
        for seen in page.students:
            if all(d in seen.datasets for d in datasets):
                result.students.append(seen.student_id)
                result.basis = result.basis or seen.datasets[datasets[0]]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    if not result.students:
        sample = db.scalar(select(Student.id).where(Student.district_id == req.district_id).limit(1))
        reasons = []
        if sample is not None:
            facts = load_facts(db, [req.requester_person_id], [sample], [req.organization_id])
            for dataset in datasets:
                reasons.extend(decide(facts, actor, str(sample), dataset, form, at, req.purpose).missing)
        result.problems.append(
            "the decision engine allows no student of the district for this request"
            + (f": {'; '.join(dict.fromkeys(reasons))}" if reasons else "")
        )
    return result


def roster_extract(db: Session, req: DataRequest, students: list[int], target: Path, at: datetime) -> Path:
    """A CSV of what the roster index holds for the students (directory and enrollment columns,
    as far as the request names those datasets); cells are neutralised against formula injection."""
    tz = timezone_of(db, req.district_id)
    year = SchoolYear.at(at, tz).end_year
    header = ["student_id"]
    directory = "directory" in req.datasets
    enrollment = "enrollment" in req.datasets
    if directory:
        header += ["first_name", "last_name", "grade_level", "school_name"]
    if enrollment:
        header += ["school_code", "grade_level_spell", "entry_date", "exit_date"]
    rows = db.execute(
        select(Student, SchoolEnrollment, Organization)
        .join(SchoolEnrollment, SchoolEnrollment.student_id == Student.id, isouter=True)
        .join(Organization, Organization.id == SchoolEnrollment.school_id, isouter=True)
        .where(Student.id.in_(sorted(students)))
        .order_by(Student.id, SchoolEnrollment.valid_from)
    ).all()
    latest: dict[int, tuple[Student, SchoolEnrollment | None, Organization | None]] = {}
    for row in rows:
        found: Student = row[0]
        spell_row: SchoolEnrollment | None = row[1]
        if spell_row is None or spell_row.school_year <= year:
            latest[found.id] = (found, spell_row, row[2])
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for student_id in sorted(latest):
            student, spell, school = latest[student_id]
            line = [student.local_id]
            if directory:
                line += [
                    student.first_name,
                    student.last_name,
                    spell.grade if spell else "",
                    school.name if school else "",
                ]
            if enrollment:
                line += [
                    school.code if school else "",
                    spell.grade if spell else "",
                    spell.valid_from.date().isoformat() if spell else "",
                    spell.valid_to.date().isoformat() if spell and spell.valid_to else "",
                ]
            writer.writerow([neutralise(v) for v in line])
    return target


def deliver(
    db: Session,
    actor: Principal,
    req: DataRequest,
    files: dict[str, Path],
    data_dir: Path,
    at: datetime,
) -> Package:
    """Check with the engine, then release the package in ``db``'s transaction."""
    checked = gate(db, req, at)
    if checked.problems:
        raise FulfilmentError(
            [
                f"the decision engine does not allow this delivery ({len(checked.problems)} problem(s))",
                *checked.problems[:50],
            ]
        )
    if checked.basis is None:
        raise FulfilmentError("no legal basis was found for the delivery")
    if not files:
        raise FulfilmentError("add at least one file to deliver")
    agreement = db.get(Agreement, checked.agreement_id) if checked.agreement_id else None
    try:
        return release(
            db,
            data_dir,
            PackageRequest(
                district_id=req.district_id,
                recipient_org_id=req.organization_id,
                basis=checked.basis,
                datasets=req.datasets,
                student_ids=checked.students,
                files=files,
                purpose=req.purpose[:500],
                agreement_id=agreement.id if agreement is not None else None,
                request_ref=req.code,
                actor=actor,
            ),
        )
    except (DeliveryError, RecipientKeyError) as exc:
        raise FulfilmentError(str(exc)) from exc


def describe(gate_result: Gate) -> str:
    if gate_result.problems:
        return words(gate_result.problems, 5)
    return f"{len(gate_result.students)} student(s) allowed"
