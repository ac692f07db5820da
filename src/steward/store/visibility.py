"""The set evaluator: every student (and dataset) a principal may see at an instant, in SQL.

The same rules as the point evaluator (``steward.policy``), split in two: what depends only on the
principal and a district (role in force, hard denies, agreements, training, tenant settings, the
grants in force) is decided in Python by the very functions the point evaluator uses, once per
district; what depends on each student (sections, enrollments, guardianships, consents, the
students a grant names, opt-outs, requests) is compiled to one SQL query over the roster index and
the fact tables (SQLAlchemy Core, the same on SQLite and PostgreSQL). Results are paged with a
keyset cursor on the student id and never truncated silently: a page says whether more follow.
Property tests keep both evaluators equal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    Table,
    and_,
    bindparam,
    exists,
    extract,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from steward.domain.datasets import PROVISIONING_DATASETS, Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import RegistrationStatus, Role
from steward.domain.time import DEFAULT_TIMEZONE, Interval, SchoolYear, local_date, utc
from steward.policy.decision import BASIS_RANK, Actor, Form
from steward.policy.evaluator import ORGLESS_ROLES
from steward.policy.facts import (
    BINDING_CONSENT_STATUSES,
    AgreementFact,
    AgreementKind,
    Clause,
    FactBase,
    OptOutKind,
    OrgFact,
    RoleFact,
    TrainingFact,
)
from steward.policy.rules.agency import AGENCY_AGREEMENTS
from steward.policy.rules.common import Ask, adult_cutoff, district_of, valid_role
from steward.policy.rules.hard_deny import hard_deny
from steward.policy.rules.officer import OFFICER_DATASETS
from steward.policy.rules.paperwork import binding_agreements, training_for
from steward.policy.rules.research import (
    RESEARCH_AGREEMENTS,
    agreement_elements,
    agreement_years,
    in_term,
    names_identifiers,
)
from steward.policy.tenant import TenantPolicy
from steward.store.base import Instant
from steward.store.fact_loader import ROLE_VALUES, agreement_fact, load_districts, org_fact
from steward.store.models import (
    Guardianship,
    Organization,
    RoleAssignment,
    SchoolEnrollment,
    Section,
    SectionEnrollment,
    StaffAssignment,
    Student,
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

S: Table = Student.__table__  # type: ignore[assignment]
E: Table = SchoolEnrollment.__table__  # type: ignore[assignment]
SEC: Table = Section.__table__  # type: ignore[assignment]
SM: Table = SectionEnrollment.__table__  # type: ignore[assignment]
SA: Table = StaffAssignment.__table__  # type: ignore[assignment]
G: Table = Guardianship.__table__  # type: ignore[assignment]
DEP: Table = DependencyRecord.__table__  # type: ignore[assignment]
C: Table = Consent.__table__  # type: ignore[assignment]
CD: Table = ConsentDataset.__table__  # type: ignore[assignment]
GR: Table = Grant.__table__  # type: ignore[assignment]
GS: Table = GrantStudent.__table__  # type: ignore[assignment]
GD: Table = GrantDataset.__table__  # type: ignore[assignment]
OO: Table = OptOut.__table__  # type: ignore[assignment]
RQ: Table = EnrollmentRequest.__table__  # type: ignore[assignment]
EM: Table = Emergency.__table__  # type: ignore[assignment]
ORG: Table = Organization.__table__  # type: ignore[assignment]
RA: Table = RoleAssignment.__table__  # type: ignore[assignment]

ALL = "*"
_CONSTANT = re.compile(r"[a-z_]+|\*")
DEFAULT_PAGE = 500
MAX_PAGE = 5000

StudentFilter = Callable[[ColumnElement[Any]], ColumnElement[bool]]


def _const(value: str) -> ColumnElement[str]:
    """An inline SQL string constant (only ever enum values, never user text)."""
    if not _CONSTANT.fullmatch(value):
        raise ValueError(f"not an SQL-safe constant: {value!r}")
    return literal_column(f"'{value}'", String)


#: The instant asked, bound once per query.
AT = bindparam("at", type_=Instant())


def _valid(table: Table) -> ColumnElement[bool]:
    """In force at the instant bound as ``:at``."""
    return and_(table.c.valid_from <= AT, or_(table.c.valid_to.is_(None), table.c.valid_to > AT))


def _ymd(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A date as the integer YYYYMMDD (ages compare as ``ymd(day) - ymd(birth) >= 180000``)."""
    return extract("year", column) * 10000 + extract("month", column) * 100 + extract("day", column)


@dataclass(frozen=True, slots=True)
class VisibleStudent:
    """One student of a page, with the datasets the principal may see and the basis of each."""

    student_id: int
    datasets: dict[Dataset, LegalBasis]


@dataclass(frozen=True, slots=True)
class Page:
    students: list[VisibleStudent]
    #: Pass back as ``cursor`` for the next page; None: this was the last page.
    next_cursor: str | None

    @property
    def ids(self) -> list[int]:
        return [s.student_id for s in self.students]


class CursorError(ValueError):
    """A cursor that this evaluator did not hand out."""


def _cursor_value(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.startswith("s") or not cursor[1:].isdigit():
        raise CursorError(f"invalid cursor {cursor!r}")
    return int(cursor[1:])


@dataclass
class _Scope:
    """Principal-level facts for compiling: the person's facts, every district, every tenant."""

    facts: FactBase
    districts: list[OrgFact]
    at: datetime
    form: Form
    purpose: str
    #: Grants in force at ``at`` of each partner organization the person acts for:
    #: (grant id, district id, dataset) rows.
    grants: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)
    tz_groups: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for d in self.districts:
            self.tz_groups.setdefault(self.facts.tenant(d.id).timezone, []).append(int(d.id))

    def ask(self, actor: Actor, district: str, dataset: Dataset = Dataset.DIRECTORY) -> Ask:
        return Ask.for_district(self.facts, actor, district, dataset, self.form, self.at, self.purpose)

    def tenant(self, district: str) -> TenantPolicy:
        return self.facts.tenant(district)

    def school_year(self, tz: str) -> int:
        return SchoolYear.at(self.at, tz).end_year

    def today(self, tz: str) -> date:
        return local_date(self.at, tz)

    def by_tz(
        self, district_col: ColumnElement[Any], make: Callable[[str], ColumnElement[bool]]
    ) -> ColumnElement[bool]:
        """``make(tz)`` for each student's district time zone (one condition when all agree)."""
        zones = set(self.tz_groups) | {DEFAULT_TIMEZONE}
        if len(zones) == 1:
            return make(next(iter(zones)))
        known = [i for ids in self.tz_groups.values() for i in ids]
        parts = [and_(district_col.in_(ids), make(tz)) for tz, ids in self.tz_groups.items()]
        parts.append(and_(district_col.notin_(known), make(DEFAULT_TIMEZONE)))
        return or_(*parts)


def _row(
    student: ColumnElement[Any], dataset: ColumnElement[Any], basis: LegalBasis
) -> list[ColumnElement[Any]]:
    return [student.label("student_id"), dataset.label("dataset"), _const(basis.value).label("basis")]


class _Compiler:
    """Builds the SELECT branches (student_id, dataset, basis) for one actor."""

    def __init__(self, scope: _Scope, wanted: frozenset[Dataset], only: StudentFilter) -> None:
        self.scope = scope
        self.wanted = wanted
        self.only = only

    @property
    def at(self) -> datetime:
        return self.scope.at

    def datasets(self, datasets: Iterable[Dataset]) -> list[Dataset]:
        return sorted((d for d in datasets if d in self.wanted), key=lambda d: d.value)

    def dataset_in(self, column: ColumnElement[Any], datasets: Iterable[Dataset]) -> ColumnElement[bool]:
        values = [d.value for d in self.datasets(datasets)]
        return column.in_(values) if values else false()

    # -- one actor ---------------------------------------------------------------------------------

    def blocked(self, actor: Actor) -> bool:
        """A hard deny (media, marketing, a forbidden purpose) closes every door of this capacity."""
        return hard_deny(self.scope.ask(actor, "")) is not None

    def branches(self, actor: Actor) -> list[Select[Any]]:
        """The role rule of one capacity (directory information is compiled separately)."""
        if self.blocked(actor):
            return []
        rule = {
            Role.TEACHER: self.teacher,
            Role.PRINCIPAL: self.school_leader,
            Role.COUNSELOR: self.school_leader,
            Role.REGISTRAR: self.registrar,
            Role.DISTRICT_DATA_OFFICER: self.officer,
            Role.PARTNER_STAFF: self.partner,
            Role.RESEARCHER: self.researcher,
            Role.VENDOR_INTEGRATION: self.vendor,
            Role.AGENCY_ANALYST: self.agency,
            Role.PARENT: self.parent,
            Role.STUDENT: self.eligible_student,
        }.get(actor.role)
        if rule is None:
            return []
        if actor.role not in ORGLESS_ROLES and valid_role(self.scope.ask(actor, "")) is None:
            return []
        return rule(actor)

    def directory(self, scope: ColumnElement[bool] | None) -> Select[Any]:
        """Directory information: every student without a directory opt-out or legal restriction
        (``scope`` narrows it to some students for the parent/self capacities)."""
        opted_out = exists().where(
            OO.c.student_id == S.c.id, OO.c.kind == OptOutKind.DIRECTORY.value, _valid(OO)
        )
        return select(*_row(S.c.id, _const(Dataset.DIRECTORY.value), LegalBasis.DIRECTORY_INFORMATION)).where(
            S.c.legal_restriction == false(),
            not_(opted_out),
            scope if scope is not None else true(),
            self.only(S.c.id),
        )

    def all_datasets(self, student: ColumnElement[Any], basis: LegalBasis) -> list[ColumnElement[Any]]:
        return _row(student, _const(ALL), basis)

    # -- school officials -------------------------------------------------------------------------

    def teacher(self, actor: Actor) -> list[Select[Any]]:
        assert actor.org is not None
        this_year = self.scope.by_tz(
            S.c.district_id, lambda tz: SEC.c.school_year == self.scope.school_year(tz)
        )
        stmt = (
            select(*self.all_datasets(SM.c.student_id, LegalBasis.SCHOOL_OFFICIAL))
            .select_from(
                SA.join(SEC, SEC.c.id == SA.c.section_id)
                .join(SM, SM.c.section_id == SEC.c.id)
                .join(S, S.c.id == SM.c.student_id)
            )
            .where(
                SA.c.person_id == int(actor.person),
                _valid(SA),
                _valid(SM),
                SEC.c.school_id == int(actor.org),
                this_year,
                self.only(SM.c.student_id),
            )
        )
        return [stmt]

    def school_leader(self, actor: Actor) -> list[Select[Any]]:
        assert actor.org is not None
        stmt = select(*self.all_datasets(E.c.student_id, LegalBasis.SCHOOL_OFFICIAL)).where(
            E.c.school_id == int(actor.org), _valid(E), self.only(E.c.student_id)
        )
        return [stmt]

    def officer(self, actor: Actor) -> list[Select[Any]]:
        assert actor.org is not None
        district = int(actor.org)
        out: list[Select[Any]] = [
            select(*_row(S.c.id, _const(d.value), LegalBasis.SCHOOL_OFFICIAL)).where(
                S.c.district_id == district, self.only(S.c.id)
            )
            for d in self.datasets(OFFICER_DATASETS)
        ]
        out.append(
            select(*self.all_datasets(EM.c.student_id, LegalBasis.HEALTH_SAFETY_EMERGENCY))
            .select_from(EM.join(S, S.c.id == EM.c.student_id))
            .where(
                EM.c.person_id == int(actor.person),
                _valid(EM),
                func.trim(EM.c.threat) != "",
                S.c.district_id == district,
                self.only(EM.c.student_id),
            )
        )
        return out

    def registrar(self, actor: Actor) -> list[Select[Any]]:
        receiving_id = district_of(self.scope.facts, actor.org)
        receiving = None if receiving_id is None else self.scope.facts.org(receiving_id)
        if receiving is None:
            return []
        sending = [
            int(d.id)
            for d in self.scope.districts
            if d.state == receiving.state
            and d.id != receiving.id
            and d.region is not None
            and d.region == receiving.region
        ]
        if not sending:
            return []
        stmt = (
            select(*self.all_datasets(RQ.c.student_id, LegalBasis.TRANSFER))
            .select_from(RQ.join(S, S.c.id == RQ.c.student_id))
            .where(
                RQ.c.district_id == int(receiving.id),
                _valid(RQ),
                or_(RQ.c.registrar_person_id.is_(None), RQ.c.registrar_person_id == int(actor.person)),
                S.c.district_id.in_(sending),
                self.only(RQ.c.student_id),
            )
        )
        return [stmt]

    # -- family -------------------------------------------------------------------------------------

    def parent(self, actor: Actor) -> list[Select[Any]]:
        person = int(actor.person)
        base = (
            select(*self.all_datasets(G.c.student_id, LegalBasis.PARENT_OR_ELIGIBLE_STUDENT))
            .select_from(G.join(S, S.c.id == G.c.student_id))
            .where(
                G.c.person_id == person,
                _valid(G),
                G.c.restricted == false(),
                S.c.legal_restriction == false(),
                self.only(G.c.student_id),
            )
        )
        minor = base.where(self.scope.by_tz(S.c.district_id, lambda tz: S.c.birth_date > self._cutoff(tz)))
        dependent = exists().where(
            DEP.c.parent_person_id == person, DEP.c.student_id == G.c.student_id, _valid(DEP)
        )
        adult = (
            select(*self.all_datasets(G.c.student_id, LegalBasis.DEPENDENT_STUDENT_PARENT))
            .select_from(G.join(S, S.c.id == G.c.student_id))
            .where(
                G.c.person_id == person,
                _valid(G),
                G.c.restricted == false(),
                S.c.legal_restriction == false(),
                self.scope.by_tz(S.c.district_id, lambda tz: S.c.birth_date <= self._cutoff(tz)),
                dependent,
                self.only(G.c.student_id),
            )
        )
        return [minor, adult]

    def _cutoff(self, tz: str) -> date:
        return adult_cutoff(self.scope.today(tz))

    def eligible_student(self, actor: Actor) -> list[Select[Any]]:
        stmt = select(*self.all_datasets(S.c.id, LegalBasis.PARENT_OR_ELIGIBLE_STUDENT)).where(
            S.c.person_id == int(actor.person),
            self.scope.by_tz(S.c.district_id, lambda tz: S.c.birth_date <= self._cutoff(tz)),
            self.only(S.c.id),
        )
        return [stmt]

    # -- outside organizations ----------------------------------------------------------------------

    def _consents(
        self, org: int, per_district: list[tuple[str, Collection[Dataset]]]
    ) -> tuple[Any, ColumnElement[bool]]:
        """FROM and WHERE for consents in force of ``org`` (99.30 signer rule included), restricted
        to each district's datasets and school year."""
        g2 = G.alias("signer")
        adult_at_signing = (_ymd(C.c.signed_on) - _ymd(S.c.birth_date)) >= 180000
        guardian_signed = exists().where(
            g2.c.student_id == C.c.student_id,
            g2.c.person_id == C.c.signed_by_person_id,
            g2.c.restricted == false(),
            g2.c.valid_from <= C.c.signed_at,
            or_(g2.c.valid_to.is_(None), g2.c.valid_to > C.c.signed_at),
        )
        signer = or_(
            and_(adult_at_signing, S.c.person_id == C.c.signed_by_person_id),
            and_(not_(adult_at_signing), guardian_signed),
        )
        districts = or_(
            *[
                and_(
                    S.c.district_id == int(d),
                    self.dataset_in(CD.c.dataset, datasets),
                    or_(
                        C.c.school_year.is_(None),
                        C.c.school_year == self.scope.school_year(self.scope.tenant(d).timezone),
                    ),
                )
                for d, datasets in per_district
            ]
        )
        from_ = C.join(CD, CD.c.consent_id == C.c.id).join(S, S.c.id == C.c.student_id)
        where = and_(
            C.c.organization_id == org,
            C.c.status.in_(sorted(s.value for s in BINDING_CONSENT_STATUSES)),
            _valid(C),
            signer,
            districts,
            self.only(C.c.student_id),
        )
        return from_, where

    def _granted(
        self, org: int, per_district: list[tuple[str, Collection[Dataset]]]
    ) -> ColumnElement[bool] | None:
        """The consent's student named in a grant of ``org`` in force for the student's district
        and the consent's dataset (None: no grant opens anything). The grants were read with the
        principal, so the query joins only ``grant_students``: joining ``grants`` and
        ``grant_datasets`` too cost PostgreSQL 25 ms of planning per call."""
        by_grant: dict[tuple[int, int], set[str]] = {}
        for grant, district, dataset in self.scope.grants.get(org, []):
            by_grant.setdefault((district, grant), set()).add(dataset)
        groups: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        for d, datasets in per_district:
            names = [x.value for x in self.datasets(datasets)]
            for (district, grant), granted in sorted(by_grant.items()):
                shared = tuple(n for n in names if n in granted)
                if district == int(d) and shared:
                    groups.setdefault((district, shared), []).append(grant)
        if not groups:
            return None
        return or_(
            *[
                and_(S.c.district_id == district, GS.c.grant_id.in_(grants), CD.c.dataset.in_(shared))
                for (district, shared), grants in groups.items()
            ]
        )

    def partner(self, actor: Actor) -> list[Select[Any]]:
        assert actor.org is not None
        org = self.scope.facts.org(actor.org)
        if org is None or org.registration is not RegistrationStatus.REGISTERED:
            return []
        consent_route: list[tuple[str, Collection[Dataset]]] = []
        is_route: list[tuple[str, Collection[Dataset]]] = []
        for district in self.scope.districts:
            ask = self.scope.ask(actor, district.id)
            training, _ = training_for(ask)
            if training is None:
                continue
            dsas, _ = binding_agreements(ask, org.id, {AgreementKind.DSA}, annual=True)
            allowed = {
                d
                for d in self.scope.tenant(district.id).datasets_for(org.kind)
                if any(d in a.datasets for a in dsas)
            }
            if not allowed & self.wanted:
                continue
            consent_route.append((district.id, allowed))
            designations, _ = binding_agreements(ask, org.id, {AgreementKind.IS_DESIGNATION}, annual=True)
            if designations:
                is_route.append((district.id, allowed))
        out: list[Select[Any]] = []
        org_id = int(org.id)
        granted = self._granted(org_id, consent_route)
        if granted is not None:
            from_, where = self._consents(org_id, consent_route)
            out.append(
                select(*_row(C.c.student_id, CD.c.dataset, LegalBasis.CONSENT))
                .select_from(from_.join(GS, GS.c.student_id == C.c.student_id))
                .where(where, granted)
            )
        if is_route:
            enrolled = exists().where(
                E.c.student_id == GS.c.student_id, E.c.school_id == GR.c.school_id, _valid(E)
            )
            out.append(
                select(*_row(GS.c.student_id, GD.c.dataset, LegalBasis.SCHOOL_OFFICIAL))
                .select_from(
                    GR.join(GS, GS.c.grant_id == GR.c.id)
                    .join(GD, GD.c.grant_id == GR.c.id)
                    .join(S, S.c.id == GS.c.student_id)
                )
                .where(
                    GR.c.organization_id == org_id,
                    GR.c.school_id.is_not(None),
                    _valid(GR),
                    GR.c.district_id == S.c.district_id,
                    enrolled,
                    or_(
                        *[
                            and_(S.c.district_id == int(d), self.dataset_in(GD.c.dataset, datasets))
                            for d, datasets in is_route
                        ]
                    ),
                    self.only(GS.c.student_id),
                )
            )
        return out

    def researcher(self, actor: Actor) -> list[Select[Any]]:
        assert actor.org is not None
        org = self.scope.facts.org(actor.org)
        if org is None:
            return []
        out: list[Select[Any]] = []
        for district in self.scope.districts:
            ask = self.scope.ask(actor, district.id)
            tenant = self.scope.tenant(district.id)
            approvals, _ = binding_agreements(ask, org.id, {AgreementKind.RESEARCH_APPROVAL}, annual=False)
            if not any(in_term(ask, a) for a in approvals):
                continue
            agreements, _ = binding_agreements(ask, org.id, RESEARCH_AGREEMENTS, annual=False)
            allowed = tenant.datasets_for(org.kind)
            for agreement in agreements:
                if not in_term(ask, agreement):
                    continue
                years = agreement_years(agreement, tenant)
                if not years:
                    continue
                for dataset in self.datasets(agreement.datasets & allowed):
                    if not agreement_elements(agreement, dataset):
                        continue
                    out.extend(self._study(actor, agreement, dataset, years, tenant, int(district.id)))
        return out

    def _study(
        self,
        actor: Actor,
        agreement: AgreementFact,
        dataset: Dataset,
        years: Sequence[int],
        tenant: TenantPolicy,
        district: int,
    ) -> list[Select[Any]]:
        enrolled = exists().where(E.c.student_id == S.c.id, E.c.school_year.in_(list(years)))
        if self.scope.form is not Form.IDENTIFIABLE:
            return [
                select(*_row(S.c.id, _const(dataset.value), LegalBasis.DEIDENTIFIED)).where(
                    S.c.district_id == district, enrolled, self.only(S.c.id)
                )
            ]
        if not names_identifiers(agreement):
            return []
        if not tenant.research_identifiable_requires_consent:
            return [
                select(*_row(S.c.id, _const(dataset.value), LegalBasis.STUDIES)).where(
                    S.c.district_id == district, enrolled, self.only(S.c.id)
                )
            ]
        from_, where = self._consents(int(agreement.org), [(str(district), {dataset})])
        return [
            select(*_row(S.c.id, _const(dataset.value), LegalBasis.STUDIES))
            .select_from(from_)
            .where(where, enrolled)
        ]

    def vendor(self, actor: Actor) -> list[Select[Any]]:
        assert actor.org is not None
        org = self.scope.facts.org(actor.org)
        if org is None:
            return []
        out: list[Select[Any]] = []
        for district in self.scope.districts:
            ask = self.scope.ask(actor, district.id)
            allowed = PROVISIONING_DATASETS & self.scope.tenant(district.id).datasets_for(org.kind)
            contracts, _ = binding_agreements(ask, org.id, {AgreementKind.CONTRACT}, annual=False)
            for contract in contracts:
                if Clause.NO_COMMERCIAL_USE not in contract.clauses:
                    continue
                schools = sorted(int(s) for s in contract.schools)
                for dataset in self.datasets(contract.datasets & allowed):
                    out.append(
                        select(*_row(E.c.student_id, _const(dataset.value), LegalBasis.SCHOOL_OFFICIAL))
                        .select_from(E.join(S, S.c.id == E.c.student_id))
                        .where(
                            _valid(E),
                            S.c.district_id == int(district.id),
                            E.c.school_id.in_(schools) if schools else true(),
                            self.only(E.c.student_id),
                        )
                    )
        return out

    def agency(self, actor: Actor) -> list[Select[Any]]:
        assert actor.org is not None
        org = self.scope.facts.org(actor.org)
        if org is None or self.scope.form is not Form.AGGREGATE:
            return []
        out: list[Select[Any]] = []
        for district in self.scope.districts:
            ask = self.scope.ask(actor, district.id)
            agreements, _ = binding_agreements(ask, org.id, AGENCY_AGREEMENTS, annual=False)
            allowed = {
                d
                for d in self.scope.tenant(district.id).datasets_for(org.kind)
                if any(d in a.datasets for a in agreements)
            }
            for dataset in self.datasets(allowed):
                out.append(
                    select(*_row(S.c.id, _const(dataset.value), LegalBasis.DEIDENTIFIED)).where(
                        S.c.district_id == int(district.id), self.only(S.c.id)
                    )
                )
        return out


# -- public API ---------------------------------------------------------------------------------------


#: Roles whose rules read agreements and trainings at the principal level.
_PAPERWORK_ROLES = frozenset(
    {
        Role.PARTNER_STAFF.value,
        Role.RESEARCHER.value,
        Role.VENDOR_INTEGRATION.value,
        Role.AGENCY_ANALYST.value,
    }
)


def _scope(db: Db, person_id: int, at: datetime, form: Form, purpose: str) -> _Scope:
    """The principal-level facts, loaded fresh (nothing cached: a revocation is seen at once):
    the person's roles and their organizations, every district with its tenant policy, and the
    agreements and trainings only when a role reads them."""
    ra, org, tr, ag = RA, ORG, Training.__table__, Agreement.__table__
    role_rows = db.execute(select(ra).where(ra.c.person_id == person_id)).all()
    roles = [
        RoleFact(
            str(r.id),
            str(r.person_id),
            Role(r.role),
            str(r.organization_id),
            Interval(r.valid_from, r.valid_to),
        )
        for r in role_rows
        if r.role in ROLE_VALUES
    ]
    districts, tenants = load_districts(db)
    known = {d.id for d in districts}
    org_ids = sorted({r.organization_id for r in role_rows if str(r.organization_id) not in known})
    orgs = [*districts]
    if org_ids:
        orgs += [org_fact(r) for r in db.execute(select(org).where(org.c.id.in_(org_ids)))]
    trainings: list[TrainingFact] = []
    agreements: list[AgreementFact] = []
    paper_orgs = sorted({r.organization_id for r in role_rows if r.role in _PAPERWORK_ROLES})
    if paper_orgs:
        trainings = [
            TrainingFact(str(r.id), str(r.person_id), Interval(r.valid_from, r.valid_to), r.school_year)
            for r in db.execute(select(tr).where(tr.c.person_id == person_id))
        ]
        agreements = [
            agreement_fact(r) for r in db.execute(select(ag).where(ag.c.organization_id.in_(paper_orgs)))
        ]
    grants: dict[int, list[tuple[int, int, str]]] = {}
    partner_orgs = sorted({r.organization_id for r in role_rows if r.role == Role.PARTNER_STAFF.value})
    if partner_orgs:
        in_force = (
            select(GR.c.organization_id, GR.c.id, GR.c.district_id, GD.c.dataset)
            .join(GD, GD.c.grant_id == GR.c.id)
            .where(GR.c.organization_id.in_(partner_orgs), _valid(GR))
        )
        for org_id, grant_id, district_id, dataset in db.execute(in_force, {"at": utc(at)}):
            grants.setdefault(int(org_id), []).append((int(grant_id), int(district_id), str(dataset)))
    facts = FactBase(orgs=orgs, roles=roles, trainings=trainings, agreements=agreements, tenants=tenants)
    return _Scope(facts, districts, utc(at), form, purpose, grants)


def person_actors(
    facts: FactBase, person_id: str, *, role: Role | None = None, org: str | None = None
) -> list[tuple[Actor, str]]:
    """The capacities of a person for the set evaluator, with the directory scope of each:
    ``all`` for role assignments (and the public when there are none), ``guardian``/``self`` for
    the parent and eligible-student capacities that exist only for some students (as in
    ``steward.policy.evaluator.actors_of``)."""
    found: dict[tuple[Role, str | None], tuple[Actor, str]] = {}
    for assignment in sorted(facts.roles_of(person_id), key=lambda r: r.id):
        key_org = None if assignment.role in ORGLESS_ROLES else assignment.org
        found.setdefault((assignment.role, key_org), (Actor(person_id, assignment.role, key_org), "all"))
    if not found:
        found[(Role.PUBLIC, None)] = (Actor(person_id, Role.PUBLIC), "all")
    found.setdefault((Role.PARENT, None), (Actor(person_id, Role.PARENT), "guardian"))
    found.setdefault((Role.STUDENT, None), (Actor(person_id, Role.STUDENT), "self"))
    out = list(found.values())
    if role is not None:
        out = [(a, s) for a, s in out if a.role is role]
    if org is not None:
        out = [(a, s) for a, s in out if a.org == org]
    return out


def _directory_scope(actor: Actor, scope: str) -> ColumnElement[bool] | None:
    if scope == "guardian":
        return exists().where(G.c.student_id == S.c.id, G.c.person_id == int(actor.person))
    if scope == "self":
        return S.c.person_id == int(actor.person)
    return None


def _union(
    scope: _Scope,
    capacities: Sequence[tuple[Actor, str]],
    wanted: frozenset[Dataset],
    directory_information: bool,
    only: StudentFilter,
) -> Select[Any] | None:
    """UNION ALL of every branch of every capacity: rows (student_id, dataset, basis)."""
    compiler = _Compiler(scope, wanted, only)
    branches: list[Select[Any]] = []
    for actor, _ in capacities:
        branches.extend(compiler.branches(actor))
    if directory_information and Dataset.DIRECTORY in wanted:
        open_ = [(a, s) for a, s in capacities if not compiler.blocked(a)]
        if any(s == "all" for _, s in open_):
            branches.append(compiler.directory(None))
        else:
            branches.extend(compiler.directory(_directory_scope(a, s)) for a, s in open_)
    if not branches:
        return None
    return select(union_all(*branches).subquery("visible"))


def _capacities(
    scope: _Scope, person_id: int, role: Role | None, org: int | None, actor: Actor | None
) -> list[tuple[Actor, str]]:
    if actor is not None:
        return [(actor, "all")]
    return person_actors(scope.facts, str(person_id), role=role, org=None if org is None else str(org))


#: Read the setting and plan per execution in one round trip (PostgreSQL).
_FORCE_CUSTOM = text(
    "SELECT current_setting('plan_cache_mode'), set_config('plan_cache_mode', 'force_custom_plan', true)"
)
_RESTORE = text("SELECT set_config('plan_cache_mode', :mode, true)")


@contextmanager
def _custom_plans(db: Db) -> Iterator[None]:
    """On PostgreSQL, plan the set query for its actual parameters every time.

    psycopg prepares a statement once it has run five times, and five runs later PostgreSQL may
    switch it to a generic plan whose estimate looks cheaper. Without the values of the district,
    school year and keyset cursor that estimate is wrong: at 1,000,000 students the partner query's
    generic plan joins every consent dataset to every consent (450 ms instead of 15 ms), from the
    eleventh call of a connection on. Planning each time costs a few milliseconds. The setting is
    local to the transaction and restored afterwards.
    """
    bind = db.get_bind() if isinstance(db, Session) else db
    if bind.dialect.name != "postgresql":
        yield
        return
    previous = db.execute(_FORCE_CUSTOM).scalar_one()
    yield
    db.execute(_RESTORE, {"mode": previous})


def _collect(
    db: Db,
    query: Select[Any],
    wanted: frozenset[Dataset],
    at: datetime,
    limit: int | None,
) -> tuple[list[VisibleStudent], bool]:
    """One row per student (``dataset:basis`` pairs aggregated), ordered by student id; at most
    ``limit`` students (more: True when another follows)."""
    sub = query.subquery("u")
    pairs = func.aggregate_strings(sub.c.dataset + ":" + sub.c.basis, ",")
    stmt = select(sub.c.student_id, pairs).group_by(sub.c.student_id).order_by(sub.c.student_id)
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    with _custom_plans(db):
        rows = db.execute(stmt, {"at": at}).all()
    more = limit is not None and len(rows) > limit
    order = [d for d in Dataset if d in wanted]
    fold = _Folder(order)
    students = [
        VisibleStudent(int(student_id), datasets)
        for student_id, pairs_text in (rows[:limit] if limit is not None else rows)
        if (datasets := fold(str(pairs_text)))
    ]
    return students, more


_BASES = {b.value: b for b in LegalBasis}


class _Folder:
    """``'*:school_official,directory:directory_information'`` to ``{dataset: best basis}``, in
    dataset order; memoised, as a page repeats few distinct combinations."""

    def __init__(self, order: list[Dataset]) -> None:
        self.order = order
        self.known = {d.value: d for d in order}
        self.memo: dict[str, dict[Dataset, LegalBasis]] = {}

    def __call__(self, text: str) -> dict[Dataset, LegalBasis]:
        found = self.memo.get(text)
        if found is None:
            best: dict[Dataset, LegalBasis] = {}
            for pair in text.split(","):
                name, _, code = pair.partition(":")
                basis = _BASES[code]
                targets = self.order if name == ALL else ([self.known[name]] if name in self.known else [])
                for d in targets:
                    held = best.get(d)
                    if held is None or BASIS_RANK[basis] < BASIS_RANK[held]:
                        best[d] = basis
            found = {d: best[d] for d in self.order if d in best}
            self.memo[text] = found
        return dict(found)


def visible_students(
    db: Db,
    person_id: int,
    at: datetime,
    *,
    role: Role | None = None,
    org: int | None = None,
    actor: Actor | None = None,
    form: Form = Form.IDENTIFIABLE,
    datasets: Collection[Dataset] | None = None,
    directory_information: bool = True,
    purpose: str = "",
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> Page:
    """One page of the students ``person_id`` may see at ``at``, with the datasets and basis of
    each: in every capacity of the person, or only ``role``/``org``, or exactly as ``actor``.

    ``directory_information=False`` leaves that basis out (it reaches every student who did not
    opt out). Pages are ordered by student id; pass ``next_cursor`` back for the next one.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    after = _cursor_value(cursor)
    scope = _scope(db, person_id, at, form, purpose)
    wanted = frozenset(Dataset if datasets is None else datasets)
    capacities = _capacities(scope, person_id, role, org, actor)
    query = _union(scope, capacities, wanted, directory_information, lambda col: col > after)
    if query is None:
        return Page([], None)
    students, more = _collect(db, query, wanted, scope.at, limit)
    return Page(students, f"s{students[-1].student_id}" if more and students else None)


def visible_among(
    db: Db,
    person_id: int,
    at: datetime,
    student_ids: Collection[int],
    *,
    role: Role | None = None,
    org: int | None = None,
    actor: Actor | None = None,
    form: Form = Form.IDENTIFIABLE,
    datasets: Collection[Dataset] | None = None,
    directory_information: bool = True,
    purpose: str = "",
) -> dict[int, dict[Dataset, LegalBasis]]:
    """The set evaluator restricted to known students (a batch check, an IDOR guard)."""
    ids = sorted(set(student_ids))
    if not ids:
        return {}
    scope = _scope(db, person_id, at, form, purpose)
    wanted = frozenset(Dataset if datasets is None else datasets)
    capacities = _capacities(scope, person_id, role, org, actor)
    query = _union(scope, capacities, wanted, directory_information, lambda col: col.in_(ids))
    if query is None:
        return {}
    students, _ = _collect(db, query, wanted, scope.at, None)
    return {s.student_id: s.datasets for s in students}


def all_visible(db: Db, person_id: int, at: datetime, **kwargs: Any) -> dict[int, dict[Dataset, LegalBasis]]:
    """Every page at once (tests and small regions)."""
    out: dict[int, dict[Dataset, LegalBasis]] = {}
    cursor: str | None = None
    while True:
        page = visible_students(db, person_id, at, cursor=cursor, limit=MAX_PAGE, **kwargs)
        out.update({s.student_id: s.datasets for s in page.students})
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


__all__ = [
    "CursorError",
    "Page",
    "VisibleStudent",
    "all_visible",
    "person_actors",
    "visible_among",
    "visible_students",
]
