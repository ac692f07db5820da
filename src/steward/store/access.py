"""Decisions over the governance database: resolve the human codes people type, load the facts,
ask the pure evaluator; and "who could see this student at that instant, and why".

Nothing is cached: every call loads the facts in force in the database at the time of the call, so
a revocation committed a moment earlier is already seen.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, or_, select, union
from sqlalchemy.orm import Session

from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.domain.time import local_midnight, utc
from steward.policy import Actor, Decision, FactBase, Form, decide, decide_person
from steward.store.fact_loader import load_facts, load_tenants
from steward.store.models import (
    Guardianship,
    Organization,
    Person,
    RoleAssignment,
    SchoolEnrollment,
    SectionEnrollment,
    StaffAssignment,
    Student,
)
from steward.workflow.models import Agreement, Consent, Emergency, EnrollmentRequest, Grant, GrantStudent

Db = Session | Connection

FORMS_BY_STRENGTH = (Form.IDENTIFIABLE, Form.DEIDENTIFIED, Form.AGGREGATE)


class NotFoundError(LookupError):
    """A person, student or organization code that matches nothing."""


# -- codes people type ---------------------------------------------------------------------------


def resolve_person(db: Db, text: str) -> int:
    """A person by code (``17001-staff-42``), or by internal id given as digits."""
    text = text.strip()
    found = db.execute(select(Person.id).where(Person.code == text)).scalar()
    if found is None and text.isdigit():
        found = db.execute(select(Person.id).where(Person.id == int(text))).scalar()
    if found is None:
        raise NotFoundError(f"no person with code {text!r}")
    return int(found)


def resolve_org(db: Db, text: str) -> int:
    text = text.strip()
    found = db.execute(select(Organization.id).where(Organization.code == text)).scalar()
    if found is None and text.isdigit():
        found = db.execute(select(Organization.id).where(Organization.id == int(text))).scalar()
    if found is None:
        raise NotFoundError(f"no organization with code {text!r}")
    return int(found)


def resolve_student(db: Db, text: str) -> int:
    """A student as ``DISTRICTCODE:LOCALID`` (the district's own student ID), or by internal id."""
    text = text.strip()
    if ":" in text:
        district, _, local = text.partition(":")
        found = db.execute(
            select(Student.id)
            .join(Organization, Organization.id == Student.district_id)
            .where(Organization.code == district.strip(), Student.local_id == local.strip())
        ).scalar()
        if found is None:
            raise NotFoundError(f"no student {local.strip()!r} in district {district.strip()!r}")
        return int(found)
    if text.isdigit():
        found = db.execute(select(Student.id).where(Student.id == int(text))).scalar()
        if found is not None:
            return int(found)
    raise NotFoundError(f"no student {text!r} (give DISTRICTCODE:LOCALID or the internal id)")


def student_timezone(db: Db, student_id: int) -> str:
    district = db.execute(select(Student.district_id).where(Student.id == student_id)).scalar()
    tenants = load_tenants(db, [] if district is None else [int(district)])
    tenant = tenants.get(str(district))
    return tenant.timezone if tenant is not None else "America/Los_Angeles"


def parse_instant(text: str | None, tz: str) -> datetime:
    """``None``: now; a date: local midnight in ``tz``; a time without offset: local time in ``tz``."""
    if text is None or not text.strip():
        return utc(datetime.now(ZoneInfo("UTC")))
    value = text.strip()
    try:
        if len(value) == 10:
            return local_midnight(date.fromisoformat(value), tz)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a date or ISO instant: {text!r} (e.g. 2025-10-15 or 2025-10-15T10:00:00-07:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz))
    return utc(parsed)


# -- point decisions from the database -----------------------------------------------------------


def check(
    db: Db,
    person_id: int,
    student_id: int,
    dataset: Dataset,
    at: datetime,
    form: Form = Form.IDENTIFIABLE,
    purpose: str = "",
    *,
    role: Role | None = None,
    org: int | None = None,
) -> Decision:
    """May the person (in any capacity, or only ``role``/``org``) see this? Loaded fresh."""
    facts = load_facts(db, [person_id], [student_id])
    return decide_person(
        facts,
        str(person_id),
        str(student_id),
        dataset,
        form,
        at,
        purpose,
        role=role,
        org=None if org is None else str(org),
    )


@dataclass(frozen=True, slots=True)
class Question:
    student_id: int
    dataset: Dataset
    form: Form = Form.IDENTIFIABLE
    purpose: str = ""


def decide_batch(db: Db, actor: Actor, questions: Sequence[Question], at: datetime) -> list[Decision]:
    """Many questions of one principal, with one load of facts for all their students."""
    facts = load_facts(
        db, [int(actor.person)], {q.student_id for q in questions}, [int(actor.org)] if actor.org else []
    )
    return [decide(facts, actor, str(q.student_id), q.dataset, q.form, at, q.purpose) for q in questions]


# -- who can see ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Access:
    """One person who may see one dataset of the student, in the strongest form allowed."""

    person_id: int
    person_code: str
    person_name: str
    role: str
    org_code: str | None
    dataset: Dataset
    decision: Decision

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        return {
            "person": self.person_code,
            "name": self.person_name,
            "role": self.role,
            "organization": self.org_code,
            "dataset": self.dataset.value,
            "form": d.form.value,
            "basis": None if d.basis is None else d.basis.value,
            "citation": d.citation,
            "evidence": list(d.evidence),
            "obligations": [o.text for o in d.obligations],
        }


@dataclass
class WhoCanSee:
    student_id: int
    student_code: str
    at: datetime
    accesses: list[Access] = field(default_factory=list)
    #: Directory information for anyone (None: opted out or restricted, see ``directory_missing``).
    directory: Decision | None = None
    directory_missing: tuple[str, ...] = ()

    def by_person(self) -> list[dict[str, Any]]:
        """One row per person, capacity, form and basis, with the datasets it covers (for pages)."""
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        for a in self.accesses:
            d = a.decision
            key = (a.person_code, a.role, a.org_code, d.form.value, d.basis)
            row = rows.setdefault(
                key,
                {
                    "person_code": a.person_code,
                    "person_name": a.person_name,
                    "role": a.role,
                    "org_code": a.org_code,
                    "form": d.form.value,
                    "basis": d.basis,
                    "citation": d.citation,
                    "datasets": [],
                    "evidence": [],
                },
            )
            row["datasets"].append(a.dataset.value)
            row["evidence"].extend(e for e in d.evidence if e not in row["evidence"])
        return sorted(rows.values(), key=lambda r: (r["org_code"] or "", r["role"], r["person_code"]))

    def organizations(self) -> list[str]:
        return sorted({a.org_code for a in self.accesses if a.org_code})

    def to_dict(self) -> dict[str, Any]:
        return {
            "student": self.student_code,
            "at": self.at.isoformat(),
            "anyone": None
            if self.directory is None
            else {
                "dataset": "directory",
                "basis": "directory_information",
                "citation": self.directory.citation,
                "elements": list(self.directory.elements or ()),
            },
            "anyone_denied": list(self.directory_missing),
            "organizations": self.organizations(),
            "access": [a.to_dict() for a in self.accesses],
        }


def candidate_people(db: Db, student_id: int) -> set[int]:
    """Everyone any rule could let see the student: a superset, the evaluator decides."""
    st = Student.__table__
    row = db.execute(select(st.c.district_id, st.c.person_id).where(st.c.id == student_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no student {student_id}")
    district, own = row
    ra, g = RoleAssignment.__table__, Guardianship.__table__
    sa, sm, e = StaffAssignment.__table__, SectionEnrollment.__table__, SchoolEnrollment.__table__
    rq, em, org = EnrollmentRequest.__table__, Emergency.__table__, Organization.__table__
    ct, gr, gs, ag = Consent.__table__, Grant.__table__, GrantStudent.__table__, Agreement.__table__
    schools = select(e.c.school_id).where(e.c.student_id == student_id)
    requested = select(rq.c.district_id).where(rq.c.student_id == student_id)
    requested_schools = select(org.c.id).where(org.c.parent_id.in_(requested))
    outside = union(
        select(ct.c.organization_id).where(ct.c.student_id == student_id),
        select(gr.c.organization_id).join(gs, gs.c.grant_id == gr.c.id).where(gs.c.student_id == student_id),
        select(ag.c.organization_id).where(ag.c.district_id == district),
    )
    queries = [
        select(g.c.person_id).where(g.c.student_id == student_id),
        select(sa.c.person_id)
        .join(sm, sm.c.section_id == sa.c.section_id)
        .where(sm.c.student_id == student_id),
        select(ra.c.person_id).where(
            ra.c.role.in_([Role.PRINCIPAL.value, Role.COUNSELOR.value]), ra.c.organization_id.in_(schools)
        ),
        select(ra.c.person_id).where(
            ra.c.role == Role.DISTRICT_DATA_OFFICER.value, ra.c.organization_id == district
        ),
        select(ra.c.person_id).where(
            ra.c.role == Role.REGISTRAR.value,
            or_(ra.c.organization_id.in_(requested), ra.c.organization_id.in_(requested_schools)),
        ),
        select(ra.c.person_id).where(
            ra.c.role.in_(
                [
                    Role.PARTNER_STAFF.value,
                    Role.RESEARCHER.value,
                    Role.VENDOR_INTEGRATION.value,
                    Role.AGENCY_ANALYST.value,
                ]
            ),
            ra.c.organization_id.in_(outside.subquery().select()),
        ),
        select(em.c.person_id).where(em.c.student_id == student_id),
    ]
    people = {int(p) for q in queries for p in db.execute(q).scalars()}
    if own is not None:
        people.add(int(own))
    return people


def who_can_see(db: Db, student_id: int, at: datetime, people: Collection[int] | None = None) -> WhoCanSee:
    """Every person (and so organization) who could see the student's data at ``at``, per dataset,
    in the strongest form allowed, with basis and evidence; and whether anyone may have the
    directory information."""
    at = utc(at)
    candidates = candidate_people(db, student_id) if people is None else set(people)
    facts = load_facts(db, candidates, [student_id])
    student = facts.student(str(student_id))
    if student is None:
        raise NotFoundError(f"no student {student_id}")
    result = WhoCanSee(student_id, student.code, at)
    for person_id in sorted(candidates):
        result.accesses.extend(_accesses(facts, person_id, student_id, at))
    result.accesses.sort(key=lambda a: (list(Dataset).index(a.dataset), a.person_code))
    anyone = decide(
        facts, Actor("anyone", Role.PUBLIC), str(student_id), Dataset.DIRECTORY, Form.IDENTIFIABLE, at
    )
    if anyone.allowed:
        result.directory = anyone
    else:
        result.directory_missing = anyone.missing
    return result


def _accesses(facts: FactBase, person_id: int, student_id: int, at: datetime) -> Iterable[Access]:
    person = facts.person(str(person_id))
    for dataset in Dataset:
        for form in FORMS_BY_STRENGTH:
            decision = decide_person(facts, str(person_id), str(student_id), dataset, form, at)
            if decision.allowed:
                if decision.rule == "directory":
                    break  # directory information for anyone is reported once, not per person
                actor = decision.actor
                org = None if actor is None or actor.org is None else facts.org(actor.org)
                yield Access(
                    person_id,
                    person.code if person else str(person_id),
                    person.name if person else "",
                    "" if actor is None else actor.role.value,
                    None if org is None else org.code,
                    dataset,
                    decision,
                )
                break
