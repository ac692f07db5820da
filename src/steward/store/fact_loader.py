"""Load the facts about some people and some students from the database into a ``FactBase``, so the
pure point evaluator can decide. One query per fact table, whatever the number of students (a batch
of decisions costs the same round trips as one). Nothing is cached: a revocation committed before
the load is seen by it.

Fact ids are database ids as strings; codes are what people read (person and organization codes,
``DISTRICT:LOCALID`` for students).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import Session

from steward.domain.datasets import Dataset
from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.domain.time import Interval
from steward.policy.facts import (
    AgreementFact,
    AgreementKind,
    AgreementStatus,
    ConsentFact,
    ConsentStatus,
    DependencyFact,
    EmergencyFact,
    EnrollmentFact,
    EnrollmentRequestFact,
    FactBase,
    GrantFact,
    GuardianshipFact,
    OptOutFact,
    OptOutKind,
    OrgFact,
    PersonFact,
    RoleFact,
    SectionEnrollmentFact,
    SectionFact,
    StaffFact,
    StudentFact,
    TrainingFact,
)
from steward.policy.tenant import TenantPolicy
from steward.store.models import (
    Guardianship,
    Organization,
    Person,
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

Db = Session | Connection
CHUNK = 5000
ROLE_VALUES = frozenset(r.value for r in Role)


def _rows(db: Db, stmt: Select[Any]) -> Sequence[Any]:
    return db.execute(stmt).all()


def _chunked(db: Db, make: Any, ids: Collection[int]) -> list[Any]:
    """Run ``make(chunk)`` over id chunks (keeps IN lists within every backend's limits)."""
    out: list[Any] = []
    items = sorted(set(ids))
    if not items:
        return out
    for start in range(0, len(items), CHUNK):
        out.extend(_rows(db, make(items[start : start + CHUNK])))
    return out


def _valid(row: Any) -> Interval:
    return Interval(row.valid_from, row.valid_to)


def tenant_of(row: Any, district_id: int) -> TenantPolicy:
    """The typed tenant policy from a ``tenant_settings`` row (None: the defaults)."""
    if row is None:
        return TenantPolicy(district=str(district_id))
    return TenantPolicy.from_settings(
        str(district_id),
        timezone=row.timezone,
        floor_year=row.floor_year,
        directory_elements=row.directory_elements,
        suppression_threshold=row.suppression_threshold,
        k_anonymity=row.k_anonymity,
        extra=row.extra,
    )


def load_tenants(db: Db, district_ids: Iterable[int] | None = None) -> dict[str, TenantPolicy]:
    """Tenant policies by district id (as string); every district, or only ``district_ids``."""
    d = Organization.__table__
    t = TenantSettings.__table__
    stmt = select(d.c.id, t).select_from(d.outerjoin(t, t.c.district_id == d.c.id))
    stmt = stmt.where(d.c.kind == OrgKind.DISTRICT.value)
    if district_ids is not None:
        wanted = sorted(set(district_ids))
        if not wanted:
            return {}
        stmt = stmt.where(d.c.id.in_(wanted))
    out: dict[str, TenantPolicy] = {}
    for row in _rows(db, stmt):
        out[str(row.id)] = tenant_of(row if row.district_id is not None else None, row.id)
    return out


def load_districts(db: Db) -> tuple[list[OrgFact], dict[str, TenantPolicy]]:
    """Every district with its tenant policy, in one query."""
    d = Organization.__table__
    t = TenantSettings.__table__
    stmt = (
        select(d, t.c.timezone, t.c.floor_year, t.c.directory_elements, t.c.suppression_threshold)
        .add_columns(t.c.k_anonymity, t.c.extra, t.c.district_id)
        .select_from(d.outerjoin(t, t.c.district_id == d.c.id))
        .where(d.c.kind == OrgKind.DISTRICT.value)
        .order_by(d.c.id)
    )
    orgs: list[OrgFact] = []
    tenants: dict[str, TenantPolicy] = {}
    for row in _rows(db, stmt):
        orgs.append(org_fact(row))
        tenants[str(row.id)] = tenant_of(row if row.district_id is not None else None, row.id)
    return orgs, tenants


def org_fact(row: Any) -> OrgFact:
    return OrgFact(
        str(row.id),
        row.code,
        OrgKind(row.kind),
        row.state,
        None if row.region_id is None else str(row.region_id),
        None if row.parent_id is None else str(row.parent_id),
        RegistrationStatus(row.registration_status),
        frozenset(row.flags or ()),
        row.name,
    )


def load_orgs(db: Db, org_ids: Collection[int]) -> list[OrgFact]:
    """The organizations and their parents (a school's district)."""
    o = Organization.__table__
    found: dict[int, Any] = {}
    wanted = set(org_ids)
    while wanted:
        rows = _chunked(db, lambda chunk: select(o).where(o.c.id.in_(chunk)), wanted)
        found.update({row.id: row for row in rows})
        wanted = {row.parent_id for row in rows if row.parent_id is not None} - set(found)
    return [org_fact(row) for row in found.values()]


def load_facts(
    db: Db,
    person_ids: Collection[int] = (),
    student_ids: Collection[int] = (),
    org_ids: Collection[int] = (),
) -> FactBase:
    """Every fact the point evaluator may ask about these people and students (of any validity)."""
    people_t = Person.__table__
    people = [
        PersonFact(str(r.id), r.code, f"{r.given_name} {r.family_name}".strip())
        for r in _chunked(db, lambda c: select(people_t).where(people_t.c.id.in_(c)), person_ids)
    ]
    ra = RoleAssignment.__table__
    role_rows = _chunked(db, lambda c: select(ra).where(ra.c.person_id.in_(c)), person_ids)
    roles = [
        RoleFact(str(r.id), str(r.person_id), Role(r.role), str(r.organization_id), _valid(r))
        for r in role_rows
        if r.role in ROLE_VALUES
    ]
    role_orgs = {r.organization_id for r in role_rows} | set(org_ids)

    st = Student.__table__
    d = Organization.__table__
    student_rows = _chunked(
        db,
        lambda c: (
            select(st, d.c.code.label("district_code"))
            .join(d, d.c.id == st.c.district_id)
            .where(st.c.id.in_(c))
        ),
        student_ids,
    )
    students = [
        StudentFact(
            str(r.id),
            f"{r.district_code}:{r.local_id}",
            str(r.district_id),
            r.birth_date,
            r.state_id,
            bool(r.legal_restriction),
            None if r.person_id is None else str(r.person_id),
        )
        for r in student_rows
    ]
    ids = [r.id for r in student_rows]

    se = SchoolEnrollment.__table__
    enrollment_rows = _chunked(db, lambda c: select(se).where(se.c.student_id.in_(c)), ids)
    enrollments = [
        EnrollmentFact(str(r.id), str(r.student_id), str(r.school_id), r.grade, r.school_year, _valid(r))
        for r in enrollment_rows
    ]
    sm = SectionEnrollment.__table__
    member_rows = _chunked(db, lambda c: select(sm).where(sm.c.student_id.in_(c)), ids)
    members = [
        SectionEnrollmentFact(str(r.id), str(r.section_id), str(r.student_id), _valid(r)) for r in member_rows
    ]
    sec = Section.__table__
    section_rows = _chunked(
        db, lambda c: select(sec).where(sec.c.id.in_(c)), {r.section_id for r in member_rows}
    )
    sections = [SectionFact(str(r.id), r.local_id, str(r.school_id), r.school_year) for r in section_rows]
    sa = StaffAssignment.__table__
    staff = (
        [
            StaffFact(str(r.id), str(r.person_id), str(r.section_id), _valid(r))
            for r in _chunked(
                db,
                lambda c: select(sa).where(
                    sa.c.section_id.in_(c), sa.c.person_id.in_(sorted(set(person_ids)))
                ),
                {r.id for r in section_rows},
            )
        ]
        if person_ids
        else []
    )

    g = Guardianship.__table__
    guardianships = [
        GuardianshipFact(str(r.id), str(r.person_id), str(r.student_id), _valid(r), bool(r.restricted))
        for r in _chunked(db, lambda c: select(g).where(g.c.student_id.in_(c)), ids)
    ]
    dep = DependencyRecord.__table__
    dependencies = [
        DependencyFact(str(r.id), str(r.parent_person_id), str(r.student_id), _valid(r))
        for r in _chunked(db, lambda c: select(dep).where(dep.c.student_id.in_(c)), ids)
    ]

    ct = Consent.__table__
    consent_rows = _chunked(db, lambda c: select(ct).where(ct.c.student_id.in_(c)), ids)
    cd = ConsentDataset.__table__
    consent_sets: dict[int, set[Dataset]] = {}
    for r in _chunked(db, lambda c: select(cd).where(cd.c.consent_id.in_(c)), {r.id for r in consent_rows}):
        consent_sets.setdefault(r.consent_id, set()).add(Dataset(r.dataset))
    consents = [
        ConsentFact(
            str(r.id),
            r.code,
            str(r.student_id),
            str(r.organization_id),
            frozenset(consent_sets.get(r.id, ())),
            str(r.signed_by_person_id),
            r.signed_on,
            r.signed_at,
            _valid(r),
            r.purpose,
            ConsentStatus(r.status),
            r.school_year,
        )
        for r in consent_rows
    ]

    oo = OptOut.__table__
    opt_outs = [
        OptOutFact(str(r.id), str(r.student_id), OptOutKind(r.kind), _valid(r))
        for r in _chunked(db, lambda c: select(oo).where(oo.c.student_id.in_(c)), ids)
    ]
    rq = EnrollmentRequest.__table__
    requests = [
        EnrollmentRequestFact(
            str(r.id),
            str(r.student_id),
            str(r.district_id),
            _valid(r),
            None if r.registrar_person_id is None else str(r.registrar_person_id),
        )
        for r in _chunked(db, lambda c: select(rq).where(rq.c.student_id.in_(c)), ids)
    ]
    em = Emergency.__table__
    emergencies = [
        EmergencyFact(str(r.id), str(r.person_id), str(r.student_id), r.threat, _valid(r))
        for r in _chunked(db, lambda c: select(em).where(em.c.student_id.in_(c)), ids)
    ]
    tr = Training.__table__
    trainings = [
        TrainingFact(str(r.id), str(r.person_id), _valid(r), r.school_year)
        for r in _chunked(db, lambda c: select(tr).where(tr.c.person_id.in_(c)), person_ids)
    ]

    ag = Agreement.__table__
    agreement_rows = _chunked(db, lambda c: select(ag).where(ag.c.organization_id.in_(c)), role_orgs)
    agreements = [agreement_fact(r) for r in agreement_rows]
    grants = _grants(db, role_orgs, ids)

    org_ids_needed = (
        role_orgs
        | {r.district_id for r in student_rows}
        | {r.school_id for r in enrollment_rows}
        | {r.school_id for r in section_rows}
        | {r.district_id for r in agreement_rows}
        | {s for r in agreement_rows for s in r.schools}
        | {int(gr.district) for gr in grants}
        | {int(gr.school) for gr in grants if gr.school is not None}
        | {r.organization_id for r in consent_rows}
        | {int(r.district) for r in requests}
    )
    orgs = load_orgs(db, org_ids_needed)
    districts = {int(o.id) for o in orgs if o.kind is OrgKind.DISTRICT}
    return FactBase(
        orgs=orgs,
        people=people,
        roles=roles,
        students=students,
        enrollments=enrollments,
        sections=sections,
        section_enrollments=members,
        staff=staff,
        guardianships=guardianships,
        dependencies=dependencies,
        agreements=agreements,
        consents=consents,
        grants=grants,
        trainings=trainings,
        opt_outs=opt_outs,
        requests=requests,
        emergencies=emergencies,
        tenants=load_tenants(db, districts),
    )


def agreement_fact(r: Any) -> AgreementFact:
    return AgreementFact(
        str(r.id),
        r.code,
        AgreementKind(r.kind),
        str(r.organization_id),
        str(r.district_id),
        AgreementStatus(r.status),
        _valid(r),
        frozenset(Dataset(x) for x in r.datasets or ()),
        None if r.elements is None else frozenset(r.elements),
        r.school_year,
        frozenset(int(y) for y in r.school_years or ()),
        frozenset(str(s) for s in r.schools or ()),
        frozenset(r.clauses or ()),
        r.purpose,
        r.destroy_by,
    )


def _grants(db: Db, org_ids: Collection[int], student_ids: Collection[int]) -> list[GrantFact]:
    """Grants of these organizations naming any of these students (each with only those students)."""
    if not org_ids or not student_ids:
        return []
    gt, gs, gd = Grant.__table__, GrantStudent.__table__, GrantDataset.__table__
    orgs = sorted(set(org_ids))
    links = _chunked(
        db,
        lambda c: (
            select(gs.c.grant_id, gs.c.student_id)
            .join(gt, gt.c.id == gs.c.grant_id)
            .where(gs.c.student_id.in_(c), gt.c.organization_id.in_(orgs))
        ),
        student_ids,
    )
    named: dict[int, set[str]] = {}
    for link in links:
        named.setdefault(link.grant_id, set()).add(str(link.student_id))
    if not named:
        return []
    rows = _chunked(db, lambda c: select(gt).where(gt.c.id.in_(c)), named)
    datasets: dict[int, set[Dataset]] = {}
    for r in _chunked(db, lambda c: select(gd).where(gd.c.grant_id.in_(c)), named):
        datasets.setdefault(r.grant_id, set()).add(Dataset(r.dataset))
    return [
        GrantFact(
            str(r.id),
            r.code,
            str(r.district_id),
            str(r.organization_id),
            frozenset(named[r.id]),
            frozenset(datasets.get(r.id, ())),
            _valid(r),
            None if r.school_id is None else str(r.school_id),
            None if r.granted_by_person_id is None else str(r.granted_by_person_id),
        )
        for r in rows
    ]
