"""Write an in-memory ``FactBase`` into the governance database (policy-test files, property tests,
demo seeding). Returns the database ids of what it wrote, keyed by fact id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from steward.policy.facts import FactBase
from steward.store.models import (
    Guardianship,
    Organization,
    Person,
    Region,
    RoleAssignment,
    SchoolEnrollment,
    Section,
    SectionEnrollment,
    StaffAssignment,
    Student,
    TenantSettings,
)
from steward.workflow.models import (
    Agreement,
    Consent,
    ConsentDataset,
    DependencyRecord,
    Emergency,
    EnrollmentRequest,
    Grant,
    GrantDataset,
    GrantStudent,
    OptOut,
    Training,
)


@dataclass
class FactIds:
    """Database ids of the written facts, by fact id."""

    orgs: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    students: dict[str, int] = field(default_factory=dict)
    sections: dict[str, int] = field(default_factory=dict)

    def student_fact(self) -> dict[int, str]:
        return {v: k for k, v in self.students.items()}


def _validity(valid: Any) -> dict[str, Any]:
    return {"valid_from": valid.start, "valid_to": valid.end}


def _add(db: Session, obj: Any) -> int:
    db.add(obj)
    db.flush()
    return int(obj.id)


def write_facts(db: Session, facts: FactBase) -> FactIds:
    """Insert every fact of ``facts`` (ids are new database ids); the caller owns the transaction."""
    ids = FactIds()
    regions: dict[str, int] = {}
    for org in facts.orgs:
        if org.region is not None and org.region not in regions:
            regions[org.region] = _add(db, Region(code=org.region, name=org.region, state=org.state))
    for org in facts.orgs:
        ids.orgs[org.id] = _add(
            db,
            Organization(
                code=org.code,
                kind=org.kind.value,
                name=org.name or org.code,
                state=org.state,
                region_id=None if org.region is None else regions[org.region],
                registration_status=org.registration.value,
                flags=sorted(org.flags),
            ),
        )
    for org in facts.orgs:
        if org.parent is not None:
            db.get_one(Organization, ids.orgs[org.id]).parent_id = ids.orgs[org.parent]
    for person in facts.people:
        given, _, family = person.name.partition(" ")
        ids.people[person.id] = _add(db, Person(code=person.code, given_name=given, family_name=family))
    for district, tenant in facts.tenants.items():
        db.add(
            TenantSettings(
                district_id=ids.orgs[district],
                timezone=tenant.timezone,
                floor_year=tenant.floor_year,
                directory_elements=list(tenant.directory_elements),
                suppression_threshold=tenant.suppression_threshold,
                k_anonymity=tenant.k_anonymity,
                extra=tenant.to_extra(),
            )
        )
    rows: list[dict[str, Any]] = [
        {
            "person_id": ids.people[r.person],
            "role": r.role.value,
            "organization_id": ids.orgs[r.org],
            **_validity(r.valid),
        }
        for r in facts.roles
    ]
    _insert(db, RoleAssignment, rows)
    for s in facts.students:
        ids.students[s.id] = _add(
            db,
            Student(
                district_id=ids.orgs[s.district],
                local_id=s.id,
                state_id=s.state_id,
                birth_date=s.birth_date,
                legal_restriction=s.legal_restriction,
                person_id=None if s.person is None else ids.people[s.person],
            ),
        )
    _insert(
        db,
        SchoolEnrollment,
        [
            {
                "student_id": ids.students[e.student],
                "school_id": ids.orgs[e.school],
                "grade": e.grade,
                "school_year": e.school_year,
                **_validity(e.valid),
            }
            for e in facts.enrollments
        ],
    )
    for sec in facts.sections:
        ids.sections[sec.id] = _add(
            db, Section(school_id=ids.orgs[sec.school], school_year=sec.school_year, local_id=sec.code)
        )
    _insert(
        db,
        SectionEnrollment,
        [
            {
                "section_id": ids.sections[m.section],
                "student_id": ids.students[m.student],
                **_validity(m.valid),
            }
            for m in facts.section_enrollments
        ],
    )
    school_of = {sec.id: sec.school for sec in facts.sections}
    _insert(
        db,
        StaffAssignment,
        [
            {
                "person_id": ids.people[st.person],
                "organization_id": ids.orgs[school_of[st.section]],
                "section_id": ids.sections[st.section],
                "section_key": ids.sections[st.section],
                "role": "teacher",
                **_validity(st.valid),
            }
            for st in facts.staff
        ],
    )
    _insert(
        db,
        Guardianship,
        [
            {
                "person_id": ids.people[g.parent],
                "student_id": ids.students[g.student],
                "restricted": g.restricted,
                **_validity(g.valid),
            }
            for g in facts.guardianships
        ],
    )
    _insert(
        db,
        DependencyRecord,
        [
            {
                "parent_person_id": ids.people[d.parent],
                "student_id": ids.students[d.student],
                **_validity(d.valid),
            }
            for d in facts.dependencies
        ],
    )
    for a in facts.agreements:
        db.add(
            Agreement(
                code=a.code,
                kind=a.kind.value,
                organization_id=ids.orgs[a.org],
                district_id=ids.orgs[a.district],
                status=a.status.value,
                school_year=a.school_year,
                purpose=a.purpose,
                datasets=sorted(d.value for d in a.datasets),
                elements=None if a.elements is None else sorted(a.elements),
                school_years=sorted(a.school_years),
                schools=sorted(ids.orgs[s] for s in a.schools),
                clauses=sorted(a.clauses),
                destroy_by=a.destroy_by,
                **_validity(a.valid),
            )
        )
    for c in facts.consents:
        consent_id = _add(
            db,
            Consent(
                code=c.code,
                student_id=ids.students[c.student],
                organization_id=ids.orgs[c.org],
                signed_by_person_id=ids.people[c.signed_by],
                signed_on=c.signed_on,
                signed_at=c.signed_at,
                purpose=c.purpose,
                status=c.status.value,
                school_year=c.school_year,
                **_validity(c.valid),
            ),
        )
        _insert(db, ConsentDataset, [{"consent_id": consent_id, "dataset": d.value} for d in c.datasets])
    for g in facts.grants:
        grant_id = _add(
            db,
            Grant(
                code=g.code,
                district_id=ids.orgs[g.district],
                organization_id=ids.orgs[g.org],
                school_id=None if g.school is None else ids.orgs[g.school],
                granted_by_person_id=None if g.granted_by is None else ids.people[g.granted_by],
                **_validity(g.valid),
            ),
        )
        _insert(db, GrantStudent, [{"grant_id": grant_id, "student_id": ids.students[s]} for s in g.students])
        _insert(db, GrantDataset, [{"grant_id": grant_id, "dataset": d.value} for d in g.datasets])
    _insert(
        db,
        Training,
        [
            {
                "person_id": ids.people[t.person],
                "school_year": t.school_year,
                "course": "stewardship",
                **_validity(t.valid),
            }
            for t in facts.trainings
        ],
    )
    _insert(
        db,
        OptOut,
        [
            {"student_id": ids.students[o.student], "kind": o.kind.value, **_validity(o.valid)}
            for o in facts.opt_outs
        ],
    )
    _insert(
        db,
        EnrollmentRequest,
        [
            {
                "student_id": ids.students[r.student],
                "district_id": ids.orgs[r.district],
                "registrar_person_id": None if r.registrar is None else ids.people[r.registrar],
                **_validity(r.valid),
            }
            for r in facts.requests
        ],
    )
    _insert(
        db,
        Emergency,
        [
            {
                "person_id": ids.people[e.person],
                "student_id": ids.students[e.student],
                "threat": e.threat.strip(),
                "recipients": "",
                **_validity(e.valid),
            }
            for e in facts.emergencies
        ],
    )
    db.flush()
    return ids


def _insert(db: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.execute(insert(model), rows)
