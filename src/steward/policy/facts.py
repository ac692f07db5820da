"""The facts a decision reads, as plain typed values, and the protocol for looking them up.

Ids are strings: the policy-test files use their own ids (``t1``, ``st1``), the database loader uses
the row ids as strings. ``code`` is what people read in explanations (person code, organization
code, ``DISTRICT:LOCALID`` for students, agreement and consent codes).
Every relationship is valid on a half-open interval (``steward.domain.time.Interval``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from steward.domain.datasets import Dataset
from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.domain.time import Interval
from steward.policy.tenant import TenantPolicy


class AgreementKind(StrEnum):
    DSA = "dsa"  # data sharing agreement (partners, researchers)
    NDA = "nda"  # non-disclosure agreement (de-identified research data, BPS)
    MOU = "mou"  # memorandum of understanding (agencies)
    CONTRACT = "contract"  # vendor contract as school official
    RESEARCH_APPROVAL = "research_approval"  # approved research proposal
    STUDIES = "studies"  # 99.31(a)(6) study for or on behalf of the district
    NETWORK_USE = "network_use"
    IS_DESIGNATION = "is_designation"  # Institutional Service partner designation (SPS)

    @property
    def label(self) -> str:
        return {
            "dsa": "data sharing agreement",
            "nda": "non-disclosure agreement",
            "mou": "memorandum of understanding",
            "contract": "contract",
            "research_approval": "research approval",
            "studies": "studies agreement",
            "network_use": "network-use agreement",
            "is_designation": "Institutional Service designation",
        }[self.value]


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    EXECUTED = "executed"
    EXPIRED = "expired"
    TERMINATED = "terminated"
    REJECTED = "rejected"


#: Statuses under which an agreement binds during its validity (expiry and termination end the
#: interval, so replaying a past instant still finds it in force then).
BINDING_AGREEMENT_STATUSES = frozenset(
    {AgreementStatus.EXECUTED, AgreementStatus.EXPIRED, AgreementStatus.TERMINATED}
)
#: A research proposal counts once approved.
BINDING_APPROVAL_STATUSES = BINDING_AGREEMENT_STATUSES | {AgreementStatus.APPROVED}


class ConsentStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    REVOKED = "revoked"


#: A revoked consent counted until its revocation (its ``valid_to``); pending and rejected never do.
BINDING_CONSENT_STATUSES = frozenset({ConsentStatus.VERIFIED, ConsentStatus.REVOKED})


class Clause(StrEnum):
    NO_COMMERCIAL_USE = "no_commercial_use"
    CONFIDENTIALITY = "confidentiality"
    REDISCLOSURE = "redisclosure"
    DESTRUCTION = "destruction"
    RESULTS_REVIEW = "results_review"


#: Organization flags and request purposes that no consent or agreement can overcome (P2, SPS).
HARD_DENY_FLAGS: dict[str, str] = {
    "marketing": "marketing",
    "resells_data": "reselling student data",
    "employer": "employment decisions",
    "commercial_use": "commercial use",
    "data_mining": "data mining",
}
HARD_DENY_PURPOSES: dict[str, str] = {
    "marketing": "marketing",
    "advertising": "marketing",
    "resale": "reselling student data",
    "employment": "employment decisions",
    "commercial": "commercial use",
    "data_mining": "data mining",
}


@dataclass(frozen=True, slots=True)
class OrgFact:
    id: str
    code: str
    kind: OrgKind
    state: str = "WA"
    region: str | None = None
    parent: str | None = None
    registration: RegistrationStatus = RegistrationStatus.UNREGISTERED
    flags: frozenset[str] = frozenset()
    name: str = ""


@dataclass(frozen=True, slots=True)
class PersonFact:
    id: str
    code: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class RoleFact:
    id: str
    person: str
    role: Role
    org: str
    valid: Interval

    @property
    def ref(self) -> str:
        return f"role:{self.id}"


@dataclass(frozen=True, slots=True)
class StudentFact:
    id: str
    code: str
    district: str
    birth_date: date
    state_id: str | None = None
    legal_restriction: bool = False
    person: str | None = None


@dataclass(frozen=True, slots=True)
class EnrollmentFact:
    id: str
    student: str
    school: str
    grade: str
    school_year: int
    valid: Interval

    @property
    def ref(self) -> str:
        return f"enrollment:{self.id}"


@dataclass(frozen=True, slots=True)
class SectionFact:
    id: str
    code: str
    school: str
    school_year: int

    @property
    def ref(self) -> str:
        return f"section:{self.id}"


@dataclass(frozen=True, slots=True)
class SectionEnrollmentFact:
    id: str
    section: str
    student: str
    valid: Interval

    @property
    def ref(self) -> str:
        return f"section_enrollment:{self.id}"


@dataclass(frozen=True, slots=True)
class StaffFact:
    """A teacher (or other staff) assigned to one section."""

    id: str
    person: str
    section: str
    valid: Interval

    @property
    def ref(self) -> str:
        return f"staff_assignment:{self.id}"


@dataclass(frozen=True, slots=True)
class GuardianshipFact:
    id: str
    parent: str
    student: str
    valid: Interval
    restricted: bool = False

    @property
    def ref(self) -> str:
        return f"guardianship:{self.id}"


@dataclass(frozen=True, slots=True)
class DependencyFact:
    """The student is the parent's tax dependent (IRC 152), so 99.31(a)(8) lets the parent see."""

    id: str
    parent: str
    student: str
    valid: Interval

    @property
    def ref(self) -> str:
        return f"dependency:{self.id}"


@dataclass(frozen=True, slots=True)
class AgreementFact:
    id: str
    code: str
    kind: AgreementKind
    org: str
    district: str
    status: AgreementStatus
    valid: Interval
    datasets: frozenset[Dataset] = frozenset()
    #: Element names the agreement names (``dataset.element`` or a bare name); None: all elements.
    elements: frozenset[str] | None = None
    school_year: int | None = None
    school_years: frozenset[int] = frozenset()
    schools: frozenset[str] = frozenset()
    clauses: frozenset[str] = frozenset()
    purpose: str = ""
    destroy_by: date | None = None

    @property
    def ref(self) -> str:
        return f"agreement:{self.code}"

    def binding(self) -> bool:
        allowed = (
            BINDING_APPROVAL_STATUSES
            if self.kind is AgreementKind.RESEARCH_APPROVAL
            else BINDING_AGREEMENT_STATUSES
        )
        return self.status in allowed

    def in_force(self, at: datetime) -> bool:
        return self.binding() and self.valid.contains(at)


@dataclass(frozen=True, slots=True)
class ConsentFact:
    id: str
    code: str
    student: str
    org: str
    datasets: frozenset[Dataset]
    signed_by: str
    signed_on: date
    #: The instant of signature (local midnight of ``signed_on`` when only a date is known).
    signed_at: datetime
    valid: Interval
    purpose: str = ""
    status: ConsentStatus = ConsentStatus.VERIFIED
    school_year: int | None = None

    @property
    def ref(self) -> str:
        return f"consent:{self.code}"


@dataclass(frozen=True, slots=True)
class GrantFact:
    """A district's explicit right-to-view for an organization, naming students and datasets.

    ``school`` set: a principal-submitted list for an Institutional Service partner (SPS).
    """

    id: str
    code: str
    district: str
    org: str
    students: frozenset[str]
    datasets: frozenset[Dataset]
    valid: Interval
    school: str | None = None
    granted_by: str | None = None

    @property
    def ref(self) -> str:
        return f"grant:{self.code}"


@dataclass(frozen=True, slots=True)
class TrainingFact:
    id: str
    person: str
    valid: Interval
    school_year: int | None = None

    @property
    def ref(self) -> str:
        return f"training:{self.id}"


class OptOutKind(StrEnum):
    DIRECTORY = "directory"
    ASSESSMENT = "assessment"
    ACTIVITY = "activity"


@dataclass(frozen=True, slots=True)
class OptOutFact:
    id: str
    student: str
    kind: OptOutKind
    valid: Interval

    @property
    def ref(self) -> str:
        return f"opt_out:{self.id}"


@dataclass(frozen=True, slots=True)
class EnrollmentRequestFact:
    """The student seeks or intends to enroll in ``district`` (99.31(a)(2))."""

    id: str
    student: str
    district: str
    valid: Interval
    registrar: str | None = None

    @property
    def ref(self) -> str:
        return f"request:{self.id}"


@dataclass(frozen=True, slots=True)
class EmergencyFact:
    """A break-glass record: the officer, the student, the articulable threat, the time box."""

    id: str
    person: str
    student: str
    threat: str
    valid: Interval

    @property
    def ref(self) -> str:
        return f"emergency:{self.id}"


class FactLookup(Protocol):
    """What the point evaluator may ask. Every answer includes facts of any validity (the rules
    filter by instant, and explain what expired)."""

    def person(self, person_id: str) -> PersonFact | None: ...
    def org(self, org_id: str) -> OrgFact | None: ...
    def student(self, student_id: str) -> StudentFact | None: ...
    def tenant(self, district_id: str) -> TenantPolicy: ...
    def roles_of(self, person_id: str) -> Sequence[RoleFact]: ...
    def enrollments_of(self, student_id: str) -> Sequence[EnrollmentFact]: ...
    def section(self, section_id: str) -> SectionFact | None: ...
    def section_enrollments_of(self, student_id: str) -> Sequence[SectionEnrollmentFact]: ...
    def staff_of_section(self, section_id: str) -> Sequence[StaffFact]: ...
    def guardianships_of(self, student_id: str) -> Sequence[GuardianshipFact]: ...
    def dependencies_of(self, student_id: str) -> Sequence[DependencyFact]: ...
    def agreements_of(self, org_id: str) -> Sequence[AgreementFact]: ...
    def consents_of(self, student_id: str) -> Sequence[ConsentFact]: ...
    def grants_of(self, org_id: str) -> Sequence[GrantFact]: ...
    def trainings_of(self, person_id: str) -> Sequence[TrainingFact]: ...
    def opt_outs_of(self, student_id: str) -> Sequence[OptOutFact]: ...
    def requests_of(self, student_id: str) -> Sequence[EnrollmentRequestFact]: ...
    def emergencies_of(self, student_id: str) -> Sequence[EmergencyFact]: ...


K = TypeVar("K")
V = TypeVar("V")


def _index(items: Iterable[V], key: Callable[[V], K]) -> dict[K, list[V]]:
    out: dict[K, list[V]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return dict(out)


@dataclass
class FactBase:
    """An in-memory set of facts implementing ``FactLookup`` (policy tests, snapshots from the DB)."""

    orgs: Sequence[OrgFact] = ()
    people: Sequence[PersonFact] = ()
    roles: Sequence[RoleFact] = ()
    students: Sequence[StudentFact] = ()
    enrollments: Sequence[EnrollmentFact] = ()
    sections: Sequence[SectionFact] = ()
    section_enrollments: Sequence[SectionEnrollmentFact] = ()
    staff: Sequence[StaffFact] = ()
    guardianships: Sequence[GuardianshipFact] = ()
    dependencies: Sequence[DependencyFact] = ()
    agreements: Sequence[AgreementFact] = ()
    consents: Sequence[ConsentFact] = ()
    grants: Sequence[GrantFact] = ()
    trainings: Sequence[TrainingFact] = ()
    opt_outs: Sequence[OptOutFact] = ()
    requests: Sequence[EnrollmentRequestFact] = ()
    emergencies: Sequence[EmergencyFact] = ()
    tenants: Mapping[str, TenantPolicy] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._orgs = {o.id: o for o in self.orgs}
        self._people = {p.id: p for p in self.people}
        self._students = {s.id: s for s in self.students}
        self._sections = {s.id: s for s in self.sections}
        self._roles = _index(self.roles, lambda r: r.person)
        self._enrollments = _index(self.enrollments, lambda e: e.student)
        self._section_enrollments = _index(self.section_enrollments, lambda e: e.student)
        self._staff = _index(self.staff, lambda s: s.section)
        self._guardianships = _index(self.guardianships, lambda g: g.student)
        self._dependencies = _index(self.dependencies, lambda d: d.student)
        self._agreements = _index(self.agreements, lambda a: a.org)
        self._consents = _index(self.consents, lambda c: c.student)
        self._grants = _index(self.grants, lambda g: g.org)
        self._trainings = _index(self.trainings, lambda t: t.person)
        self._opt_outs = _index(self.opt_outs, lambda o: o.student)
        self._requests = _index(self.requests, lambda r: r.student)
        self._emergencies = _index(self.emergencies, lambda e: e.student)

    def person(self, person_id: str) -> PersonFact | None:
        return self._people.get(person_id)

    def org(self, org_id: str) -> OrgFact | None:
        return self._orgs.get(org_id)

    def student(self, student_id: str) -> StudentFact | None:
        return self._students.get(student_id)

    def tenant(self, district_id: str) -> TenantPolicy:
        found = self.tenants.get(district_id)
        return found if found is not None else TenantPolicy(district=district_id)

    def roles_of(self, person_id: str) -> Sequence[RoleFact]:
        return self._roles.get(person_id, ())

    def enrollments_of(self, student_id: str) -> Sequence[EnrollmentFact]:
        return self._enrollments.get(student_id, ())

    def section(self, section_id: str) -> SectionFact | None:
        return self._sections.get(section_id)

    def section_enrollments_of(self, student_id: str) -> Sequence[SectionEnrollmentFact]:
        return self._section_enrollments.get(student_id, ())

    def staff_of_section(self, section_id: str) -> Sequence[StaffFact]:
        return self._staff.get(section_id, ())

    def guardianships_of(self, student_id: str) -> Sequence[GuardianshipFact]:
        return self._guardianships.get(student_id, ())

    def dependencies_of(self, student_id: str) -> Sequence[DependencyFact]:
        return self._dependencies.get(student_id, ())

    def agreements_of(self, org_id: str) -> Sequence[AgreementFact]:
        return self._agreements.get(org_id, ())

    def consents_of(self, student_id: str) -> Sequence[ConsentFact]:
        return self._consents.get(student_id, ())

    def grants_of(self, org_id: str) -> Sequence[GrantFact]:
        return self._grants.get(org_id, ())

    def trainings_of(self, person_id: str) -> Sequence[TrainingFact]:
        return self._trainings.get(person_id, ())

    def opt_outs_of(self, student_id: str) -> Sequence[OptOutFact]:
        return self._opt_outs.get(student_id, ())

    def requests_of(self, student_id: str) -> Sequence[EnrollmentRequestFact]:
        return self._requests.get(student_id, ())

    def emergencies_of(self, student_id: str) -> Sequence[EmergencyFact]:
        return self._emergencies.get(student_id, ())
