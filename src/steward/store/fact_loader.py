"""Load the facts about some people and some students from the database into a ``FactBase``, so the
pure point evaluator can decide. One query per kind of fact, whatever the number of students (a
batch of decisions costs the same round trips as one); the queries are built once, at import.
Nothing is cached: a revocation committed before the load is seen by it.

Fact ids are database ids as strings; codes are what people read (person and organization codes,
``DISTRICT:LOCALID`` for students).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select
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


def _in(column: Any, name: str = "ids") -> Any:
    return column.in_(bindparam(name, expanding=True))


def _static(db: Db, stmt: Any, ids: Collection[int]) -> list[Any]:
    """Rows of a statement built once at import (``:ids`` expanding), over chunks of ``ids``: the
    statement is neither rebuilt nor re-keyed per call, only its IN list is expanded."""
    out: list[Any] = []
    items = sorted(set(ids))
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        out.extend(db.execute(stmt, {"ids": chunk, "ids2": chunk}).all())
    return out


_people_t = Person.__table__
_ra_t = RoleAssignment.__table__
_st_t = Student.__table__
_org_t = Organization.__table__
_se_t = SchoolEnrollment.__table__
_sm_t = SectionEnrollment.__table__
_sec_t = Section.__table__
_sa_t = StaffAssignment.__table__
_g_t = Guardianship.__table__
_dep_t = DependencyRecord.__table__
_ct_t = Consent.__table__
_cd_t = ConsentDataset.__table__
_oo_t = OptOut.__table__
_rq_t = EnrollmentRequest.__table__
_em_t = Emergency.__table__
_tr_t = Training.__table__
_ag_t = Agreement.__table__
_gt_t, _gs_t, _gd_t = Grant.__table__, GrantStudent.__table__, GrantDataset.__table__
_ts_t = TenantSettings.__table__
_parent_t = Organization.__table__.alias("parent_of")

#: The point evaluator's queries, built once (a batch runs each at most once, over all its ids).
_PEOPLE = select(_people_t).where(_in(_people_t.c.id))
_ROLES = select(_ra_t).where(_in(_ra_t.c.person_id))
_STUDENTS = (
    select(_st_t, _org_t.c.code.label("district_code"))
    .join(_org_t, _org_t.c.id == _st_t.c.district_id)
    .where(_in(_st_t.c.id))
)
_ENROLLMENTS = select(_se_t).where(_in(_se_t.c.student_id))
#: Section memberships with their sections (a membership whose section is gone has no section).
_MEMBERS = (
    select(
        _sm_t,
        _sec_t.c.id.label("sec_id"),
        _sec_t.c.local_id.label("sec_local_id"),
        _sec_t.c.school_id.label("sec_school_id"),
        _sec_t.c.school_year.label("sec_school_year"),
    )
    .select_from(_sm_t.outerjoin(_sec_t, _sec_t.c.id == _sm_t.c.section_id))
    .where(_in(_sm_t.c.student_id))
)
_STAFF = select(_sa_t).where(_in(_sa_t.c.section_id), _in(_sa_t.c.person_id, "people"))
_GUARDIANSHIPS = select(_g_t).where(_in(_g_t.c.student_id))
_DEPENDENCIES = select(_dep_t).where(_in(_dep_t.c.student_id))
#: Consents with their datasets (one row per dataset; a consent without datasets once, with None).
_CONSENTS = (
    select(_ct_t, _cd_t.c.dataset.label("consent_dataset"))
    .select_from(_ct_t.outerjoin(_cd_t, _cd_t.c.consent_id == _ct_t.c.id))
    .where(_in(_ct_t.c.student_id))
)
_OPT_OUTS = select(_oo_t).where(_in(_oo_t.c.student_id))
_REQUESTS = select(_rq_t).where(_in(_rq_t.c.student_id))
_EMERGENCIES = select(_em_t).where(_in(_em_t.c.student_id))
_TRAININGS = select(_tr_t).where(_in(_tr_t.c.person_id))
_AGREEMENTS = select(_ag_t).where(_in(_ag_t.c.organization_id))
#: The organizations and their parents (one level up) in one query, districts with their settings.
_ORGS = (
    select(
        _org_t,
        _ts_t.c.timezone,
        _ts_t.c.floor_year,
        _ts_t.c.directory_elements,
        _ts_t.c.suppression_threshold,
        _ts_t.c.k_anonymity,
        _ts_t.c.extra,
        _ts_t.c.district_id,
    )
    .select_from(_org_t.outerjoin(_ts_t, _ts_t.c.district_id == _org_t.c.id))
    .where(
        _in(_org_t.c.id) | _org_t.c.id.in_(select(_parent_t.c.parent_id).where(_in(_parent_t.c.id, "ids2")))
    )
)


def load_facts(
    db: Db,
    person_ids: Collection[int] = (),
    student_ids: Collection[int] = (),
    org_ids: Collection[int] = (),
) -> FactBase:
    """Every fact the point evaluator may ask about these people and students (of any validity).

    One query per kind of fact whatever the number of students (memberships come with their
    sections, consents with their datasets, grants with their students and datasets, organizations
    with their parents and the districts' settings); each list is in id order."""
    people = [
        PersonFact(str(r.id), r.code, f"{r.given_name} {r.family_name}".strip())
        for r in _static(db, _PEOPLE, person_ids)
    ]
    role_rows = _by_id(_static(db, _ROLES, person_ids))
    roles = [
        RoleFact(str(r.id), str(r.person_id), Role(r.role), str(r.organization_id), _valid(r))
        for r in role_rows
        if r.role in ROLE_VALUES
    ]
    role_orgs = {r.organization_id for r in role_rows} | set(org_ids)

    student_rows = _static(db, _STUDENTS, student_ids)
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

    enrollment_rows = _by_id(_static(db, _ENROLLMENTS, ids))
    enrollments = [
        EnrollmentFact(str(r.id), str(r.student_id), str(r.school_id), r.grade, r.school_year, _valid(r))
        for r in enrollment_rows
    ]
    member_rows = _by_id(_static(db, _MEMBERS, ids))
    members = [
        SectionEnrollmentFact(str(r.id), str(r.section_id), str(r.student_id), _valid(r)) for r in member_rows
    ]
    section_rows = {r.sec_id: r for r in member_rows if r.sec_id is not None}
    sections = [
        SectionFact(str(r.sec_id), r.sec_local_id, str(r.sec_school_id), r.sec_school_year)
        for _, r in sorted(section_rows.items())
    ]
    people_ids = sorted(set(person_ids))
    staff = (
        [
            StaffFact(str(r.id), str(r.person_id), str(r.section_id), _valid(r))
            for r in _by_id(_staff_rows(db, section_rows, people_ids))
        ]
        if people_ids
        else []
    )

    guardianships = [
        GuardianshipFact(str(r.id), str(r.person_id), str(r.student_id), _valid(r), bool(r.restricted))
        for r in _by_id(_static(db, _GUARDIANSHIPS, ids))
    ]
    dependencies = [
        DependencyFact(str(r.id), str(r.parent_person_id), str(r.student_id), _valid(r))
        for r in _by_id(_static(db, _DEPENDENCIES, ids))
    ]

    consent_rows: dict[int, Any] = {}
    consent_sets: dict[int, set[Dataset]] = {}
    for r in _static(db, _CONSENTS, ids):
        consent_rows.setdefault(r.id, r)
        if r.consent_dataset is not None:
            consent_sets.setdefault(r.id, set()).add(Dataset(r.consent_dataset))
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
        for _, r in sorted(consent_rows.items())
    ]

    opt_outs = [
        OptOutFact(str(r.id), str(r.student_id), OptOutKind(r.kind), _valid(r))
        for r in _by_id(_static(db, _OPT_OUTS, ids))
    ]
    requests = [
        EnrollmentRequestFact(
            str(r.id),
            str(r.student_id),
            str(r.district_id),
            _valid(r),
            None if r.registrar_person_id is None else str(r.registrar_person_id),
        )
        for r in _by_id(_static(db, _REQUESTS, ids))
    ]
    emergencies = [
        EmergencyFact(str(r.id), str(r.person_id), str(r.student_id), r.threat, _valid(r))
        for r in _by_id(_static(db, _EMERGENCIES, ids))
    ]
    trainings = [
        TrainingFact(str(r.id), str(r.person_id), _valid(r), r.school_year)
        for r in _by_id(_static(db, _TRAININGS, person_ids))
    ]

    agreement_rows = _by_id(_static(db, _AGREEMENTS, role_orgs))
    agreements = [agreement_fact(r) for r in agreement_rows]
    grants = _grants(db, role_orgs, ids)

    org_ids_needed = (
        role_orgs
        | {r.district_id for r in student_rows}
        | {r.school_id for r in enrollment_rows}
        | {r.sec_school_id for r in section_rows.values()}
        | {r.district_id for r in agreement_rows}
        | {s for r in agreement_rows for s in r.schools}
        | {int(gr.district) for gr in grants}
        | {int(gr.school) for gr in grants if gr.school is not None}
        | {r.organization_id for r in consent_rows.values()}
        | {int(r.district) for r in requests}
    )
    orgs, tenants = _orgs_and_tenants(db, org_ids_needed)
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
        tenants=tenants,
    )


def _by_id(rows: Sequence[Any]) -> list[Any]:
    """Rows in id order (a fact's place in its list never depends on the query plan)."""
    return sorted(rows, key=lambda r: r.id)


def _staff_rows(db: Db, sections: Collection[int], people: Sequence[int]) -> list[Any]:
    items = sorted(sections)
    out: list[Any] = []
    for start in range(0, len(items), CHUNK):
        out.extend(db.execute(_STAFF, {"ids": items[start : start + CHUNK], "people": people}).all())
    return out


def _orgs_and_tenants(db: Db, org_ids: Collection[int]) -> tuple[list[OrgFact], dict[str, TenantPolicy]]:
    """The organizations, their parents (to the top) and the tenant policy of every district among
    them (as ``load_orgs`` and ``load_tenants``, in one query unless parents have parents)."""
    found: dict[int, Any] = {}
    wanted = set(org_ids)
    while wanted:
        rows = _static(db, _ORGS, wanted)
        found.update({row.id: row for row in rows})
        wanted = {row.parent_id for row in rows if row.parent_id is not None} - set(found)
    orgs = [org_fact(row) for _, row in sorted(found.items())]
    tenants = {
        str(row.id): tenant_of(row if row.district_id is not None else None, row.id)
        for _, row in sorted(found.items())
        if row.kind == OrgKind.DISTRICT.value
    }
    return orgs, tenants


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


#: Grants of some organizations naming some students, with those students and the grant's datasets.
_GRANTS = (
    select(
        _gt_t,
        _gs_t.c.student_id.label("named_student"),
        _gd_t.c.dataset.label("grant_dataset"),
    )
    .select_from(
        _gs_t.join(_gt_t, _gt_t.c.id == _gs_t.c.grant_id).outerjoin(_gd_t, _gd_t.c.grant_id == _gt_t.c.id)
    )
    .where(_in(_gs_t.c.student_id), _in(_gt_t.c.organization_id, "orgs"))
)


def _grants(db: Db, org_ids: Collection[int], student_ids: Collection[int]) -> list[GrantFact]:
    """Grants of these organizations naming any of these students (each with only those students)."""
    if not org_ids or not student_ids:
        return []
    orgs = sorted(set(org_ids))
    items = sorted(set(student_ids))
    rows: dict[int, Any] = {}
    named: dict[int, set[str]] = {}
    datasets: dict[int, set[Dataset]] = {}
    for start in range(0, len(items), CHUNK):
        for r in db.execute(_GRANTS, {"ids": items[start : start + CHUNK], "orgs": orgs}):
            rows.setdefault(r.id, r)
            named.setdefault(r.id, set()).add(str(r.named_student))
            if r.grant_dataset is not None:
                datasets.setdefault(r.id, set()).add(Dataset(r.grant_dataset))
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
        for _, r in sorted(rows.items())
    ]
