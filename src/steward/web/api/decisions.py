"""Decisions API: batch checks for the caller, the students the caller may see, and (district data
officers) who can see a student.

Every answer goes through the decision engine. A student the caller may not see at all is
indistinguishable from one that does not exist: 404 on the student routes, and a denied decision
with a generic reason in a batch (no existence oracle, no facts about strangers).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward.audit import EventSpec, actor_of, append, append_many
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.policy import Actor, Decision, FactBase, Form, decide
from steward.policy.rules.common import district_of
from steward.store.access import who_can_see
from steward.store.fact_loader import load_districts, load_facts
from steward.store.models import Organization, Student
from steward.store.visibility import CursorError, VisibleStudent, visible_among, visible_students
from steward.web.deps import ApiPrincipal, Db

router = APIRouter(prefix="/api/v1", tags=["decisions"])

NOT_VISIBLE = "you may not see any record of this student"
MAX_BATCH = 5000


class CheckIn(BaseModel):
    """One question: may I see this dataset of this student, in this form, at this instant?"""

    student: int | str = Field(description="internal id, or DISTRICTCODE:LOCALID")
    dataset: Dataset
    form: Form = Form.IDENTIFIABLE
    at: datetime | None = Field(None, description="instant asked (ISO 8601; without offset: UTC)")
    purpose: str = Field("", max_length=200)


class DecisionsIn(BaseModel):
    checks: list[CheckIn] = Field(min_length=1, max_length=MAX_BATCH)
    at: datetime | None = Field(None, description="default instant of the checks (default: now)")


class ObligationOut(BaseModel):
    kind: str
    text: str
    value: str | int | list[str] | list[int] | None


class DecisionOut(BaseModel):
    student: int | str
    dataset: Dataset
    form: Form
    at: datetime
    allowed: bool
    basis: LegalBasis | None
    citation: str | None
    evidence: list[str]
    obligations: list[ObligationOut]
    missing: list[str]
    elements: list[str] | None
    school_years: list[int] | None


class DecisionsOut(BaseModel):
    decisions: list[DecisionOut]


class StudentOut(BaseModel):
    id: int
    code: str
    name: str | None = Field(None, description="only when the caller may see the student's name")
    datasets: dict[Dataset, LegalBasis]


class StudentsPage(BaseModel):
    students: list[StudentOut]
    next_cursor: str | None


def _aware(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _resolve(db: Session, keys: Sequence[int | str]) -> dict[int | str, int]:
    """Internal ids and DISTRICTCODE:LOCALID codes to student ids. Codes unknown to the database are
    left out; internal ids are kept as asked (the fact load finds those that exist, see
    ``_existing``)."""
    codes = {k for k in keys if isinstance(k, str) and ":" in k}
    out: dict[int | str, int] = {}
    for k in keys:
        if isinstance(k, int):
            out[k] = k
        elif isinstance(k, str) and k.isdigit():
            out[k] = int(k)
    if codes:
        pairs = [tuple(c.split(":", 1)) for c in codes]
        rows = db.execute(
            select(Organization.code, Student.local_id, Student.id)
            .join(Organization, Organization.id == Student.district_id)
            .where(tuple_(Organization.code, Student.local_id).in_(pairs))
        ).all()
        by_pair = {(d, local): sid for d, local, sid in rows}
        for c in codes:
            district, local = c.split(":", 1)
            if (district, local) in by_pair:
                out[c] = by_pair[(district, local)]
    return out


def _existing(resolved: dict[int | str, int], facts: FactBase) -> dict[int | str, int]:
    """The resolved keys whose student exists (the fact load read every student that does)."""
    return {k: sid for k, sid in resolved.items() if facts.student(str(sid)) is not None}


def _out(key: int | str, decision: Decision) -> DecisionOut:
    return DecisionOut(
        student=key,
        dataset=decision.dataset,
        form=decision.form,
        at=decision.at,
        allowed=decision.allowed,
        basis=decision.basis,
        citation=decision.citation,
        evidence=list(decision.evidence),
        obligations=[ObligationOut(**o.to_dict()) for o in decision.obligations],
        missing=list(decision.missing),
        elements=None if decision.elements is None else list(decision.elements),
        school_years=None if decision.school_years is None else list(decision.school_years),
    )


def _stranger(key: int | str, dataset: Dataset, form: Form, at: datetime) -> DecisionOut:
    return DecisionOut(
        student=key,
        dataset=dataset,
        form=form,
        at=at,
        allowed=False,
        basis=None,
        citation=None,
        evidence=[],
        obligations=[],
        missing=[NOT_VISIBLE],
        elements=None,
        school_years=None,
    )


def _related(facts: FactBase, actor: Actor, student_id: str, cache: dict[str, bool]) -> bool:
    """Whether a fact names both the caller and the student (their section, school, child, own
    record, consent or grant, a request to their district, their emergency, their district): only
    then are the reasons of a denial the caller's business. Strangers learn nothing, not even
    whether the student exists."""
    if student_id in cache:
        return cache[student_id]
    student = facts.student(student_id)
    org = actor.org
    district = None if org is None else district_of(facts, org)
    related = student is not None and (
        student.person == actor.person
        or any(g.parent == actor.person for g in facts.guardianships_of(student_id))
        or any(e.school == org for e in facts.enrollments_of(student_id))
        or any(
            (section := facts.section(m.section)) is not None and section.school == org
            for m in facts.section_enrollments_of(student_id)
        )
        or any(c.org == org for c in facts.consents_of(student_id))
        or (org is not None and any(student_id in g.students for g in facts.grants_of(org)))
        or any(r.district == district for r in facts.requests_of(student_id) if district is not None)
        or any(e.person == actor.person for e in facts.emergencies_of(student_id))
        or student.district == org  # the district's own officers
    )
    cache[student_id] = related
    return related


@router.post("/decisions", response_model=DecisionsOut)
def decisions(body: DecisionsIn, db: Db, principal: ApiPrincipal) -> DecisionsOut:
    """Decide a batch of questions for the caller (one load of facts for the whole batch).

    Each answer has the legal basis, evidence and obligations, or every unmet requirement. About a
    student no fact ties the caller to (or that does not exist) a denial says only that."""
    actor = Actor.of(principal)
    default_at = _aware(body.at)
    resolved = _resolve(db, [c.student for c in body.checks])
    facts = load_facts(db, [principal.person_id], set(resolved.values()), [principal.organization_id])
    resolved = _existing(resolved, facts)
    related: dict[str, bool] = {}
    out: list[DecisionOut] = []
    made: list[tuple[int, Decision]] = []
    for check in body.checks:
        at = _aware(check.at) if check.at is not None else default_at
        student_id = resolved.get(check.student)
        if student_id is None:
            out.append(_stranger(check.student, check.dataset, check.form, at))
            continue
        decision = decide(facts, actor, str(student_id), check.dataset, check.form, at, check.purpose)
        made.append((student_id, decision))
        if decision.allowed or _related(facts, actor, str(student_id), related):
            out.append(_out(check.student, decision))
        else:
            out.append(_stranger(check.student, check.dataset, check.form, at))
    districts = {sid: int(_district(facts, sid)) for sid, _ in made}
    _audit_decisions(db, principal, made, len(body.checks) - len(made), districts)
    return DecisionsOut(decisions=out)


def _district(facts: FactBase, student_id: int) -> str:
    student = facts.student(str(student_id))
    assert student is not None  # only students the fact load found are decided
    return student.district


def _districts(db: Session, student_ids: Sequence[int]) -> dict[int, int]:
    ids = sorted(set(student_ids))
    if not ids:
        return {}
    return {
        int(sid): int(d)
        for sid, d in db.execute(select(Student.id, Student.district_id).where(Student.id.in_(ids)))
    }


def _audit_decisions(
    db: Session,
    principal: Principal,
    made: Sequence[tuple[int, Decision]],
    unknown: int,
    district_of: dict[int, int],
) -> None:
    """One ``access.decide`` event per district, outcome and basis, in the students' districts'
    chains (read by their officers only); unknown students are only counted, in the global chain.
    ``district_of`` maps each decided student to its district (from the facts already loaded)."""
    groups: dict[tuple[int, str, LegalBasis | None], dict[str, Any]] = {}
    for sid, decision in made:
        outcome = "allow" if decision.allowed else "deny"
        basis = decision.basis if decision.allowed else None
        group = groups.setdefault(
            (district_of[sid], outcome, basis),
            {"subjects": set(), "datasets": set(), "forms": set(), "evidence": {}, "checks": 0},
        )
        group["subjects"].add(sid)
        group["datasets"].add(decision.dataset.value)
        group["forms"].add(decision.form.value)
        group["evidence"].update(dict.fromkeys(decision.evidence))
        group["checks"] += 1
    specs = [
        EventSpec(
            action="access.decide",
            district_id=district,
            actor=actor_of(principal),
            subject_type="student",
            subjects=sorted(g["subjects"]),
            basis=None if basis is None else basis.value,
            citation=None if basis is None else basis.citation,
            evidence=list(g["evidence"]),
            outcome=outcome,
            details={"datasets": sorted(g["datasets"]), "forms": sorted(g["forms"]), "checks": g["checks"]},
        )
        for (district, outcome, basis), g in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1], "" if kv[0][2] is None else kv[0][2].value)
        )
    ]
    if unknown:
        specs.append(
            EventSpec(
                action="access.decide",
                actor=actor_of(principal),
                outcome="deny",
                details={"unknown_students": unknown},
            )
        )
    append_many(db, specs)


def _audit_view(
    db: Session, principal: Principal, action: str, visible: Sequence[VisibleStudent], details: dict[str, Any]
) -> None:
    """One event per district and legal basis, naming the students seen under that basis and the
    datasets; an empty answer is one event in the global chain (it names nobody)."""
    district_of = _districts(db, [v.student_id for v in visible])
    groups: dict[tuple[int, LegalBasis], tuple[set[int], set[str]]] = {}
    for v in visible:
        for dataset, basis in v.datasets.items():
            students, datasets = groups.setdefault((district_of[v.student_id], basis), (set(), set()))
            students.add(v.student_id)
            datasets.add(dataset.value)
    specs = [
        EventSpec(
            action=action,
            district_id=district,
            actor=actor_of(principal),
            subject_type="student",
            subjects=sorted(students),
            basis=basis.value,
            citation=basis.citation,
            outcome="allow",
            details={**details, "datasets": sorted(datasets)},
        )
        for (district, basis), (students, datasets) in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1].value)
        )
    ] or [
        EventSpec(
            action=action, actor=actor_of(principal), outcome="allow", details={**details, "students": 0}
        )
    ]
    append_many(db, specs)


def _students_out(db: Session, visible: Sequence[VisibleStudent]) -> list[StudentOut]:
    """Codes for the page, and names where the caller may see the name."""
    if not visible:
        return []
    rows = {
        r.id: r
        for r in db.execute(
            select(Student.id, Student.local_id, Student.first_name, Student.last_name, Student.district_id)
            .add_columns(Organization.code)
            .join(Organization, Organization.id == Student.district_id)
            .where(Student.id.in_([v.student_id for v in visible]))
        )
    }
    _, tenants = load_districts(db)
    out = []
    for v in visible:
        row = rows[v.student_id]
        basis = v.datasets.get(Dataset.DIRECTORY)
        name = None
        if basis is not None:
            tenant = tenants.get(str(row.district_id))
            shows = basis is not LegalBasis.DIRECTORY_INFORMATION or (
                tenant is not None and "last_name" in tenant.directory_dataset_elements()
            )
            name = f"{row.first_name} {row.last_name}".strip() if shows else None
        out.append(
            StudentOut(id=v.student_id, code=f"{row.code}:{row.local_id}", name=name, datasets=v.datasets)
        )
    return out


@router.get("/students", response_model=StudentsPage)
def students(
    db: Db,
    principal: ApiPrincipal,
    at: Annotated[datetime | None, Query(description="instant (default now)")] = None,
    dataset: Annotated[list[Dataset] | None, Query(description="only these datasets")] = None,
    directory: Annotated[
        bool, Query(description="also students seen only as directory information (every student)")
    ] = False,
    cursor: Annotated[
        str | None, Query(max_length=40, description="`next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> StudentsPage:
    """The students the caller may see (identifiable) at an instant, with each visible dataset and
    its legal basis; paged by a keyset cursor, never truncated silently."""
    try:
        page = visible_students(
            db,
            principal.person_id,
            _aware(at),
            actor=Actor.of(principal),
            datasets=dataset,
            directory_information=directory,
            cursor=cursor,
            limit=limit,
        )
    except CursorError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    _audit_view(
        db,
        principal,
        "api.students",
        page.students,
        {
            "at": _aware(at),
            "directory": directory,
            "filter": sorted(d.value for d in dataset or ()),
            "next_cursor": page.next_cursor,
        },
    )
    return StudentsPage(students=_students_out(db, page.students), next_cursor=page.next_cursor)


@router.get(
    "/students/{student_id}", response_model=StudentOut, responses={404: {"description": "no such student"}}
)
def student(
    student_id: int,
    db: Db,
    principal: ApiPrincipal,
    at: Annotated[datetime | None, Query(description="instant (default now)")] = None,
    directory: Annotated[bool, Query(description="count directory information as visible")] = False,
) -> StudentOut | Response:
    """What the caller may see of one student; 404 when nothing (or no such student). Both are
    audit events (the 404 answers rather than raises, so its event commits)."""
    when = _aware(at)
    seen = visible_among(
        db,
        principal.person_id,
        when,
        [student_id],
        actor=Actor.of(principal),
        directory_information=directory,
    )
    details = {"at": when, "directory": directory}
    if student_id not in seen:
        append(
            db,
            EventSpec(
                action="api.student",
                district_id=db.scalar(select(Student.district_id).where(Student.id == student_id)),
                actor=actor_of(principal),
                subject_type="student",
                subjects=[student_id],
                outcome="deny",
                details=details,
            ),
        )
        return JSONResponse({"detail": "no such student"}, status_code=status.HTTP_404_NOT_FOUND)
    visible = VisibleStudent(student_id, seen[student_id])
    _audit_view(db, principal, "api.student", [visible], details)
    (out,) = _students_out(db, [visible])
    return out


def officer_student(db: Session, principal: Principal, student_id: int) -> None:
    """Only a district data officer, only for a student of their district (else 403 / 404)."""
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only a district data officer may ask who can see a student"
        )
    district = db.scalar(select(Student.district_id).where(Student.id == student_id))
    if district is None or district != principal.organization_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such student in your district")


@router.get("/students/{student_id}/access")
def access(
    student_id: int,
    db: Db,
    principal: ApiPrincipal,
    at: Annotated[datetime | None, Query(description="instant (default now)")] = None,
) -> dict[str, Any]:
    """Who could see the student's data at ``at``: every person and organization per dataset,
    with basis and evidence (district data officers, for their district's students)."""
    officer_student(db, principal, student_id)
    result = who_can_see(db, student_id, _aware(at))
    append(
        db,
        EventSpec(
            action="access.who_can_see",
            district_id=principal.organization_id,
            actor=actor_of(principal),
            subject_type="student",
            subjects=[student_id],
            details={"at": result.at.isoformat()},
        ),
    )
    return result.to_dict()
