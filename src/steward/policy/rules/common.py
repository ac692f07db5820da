"""What every rule receives (``Ask``), what it returns (``Allow`` / ``Deny``) and shared helpers.

All calendar arithmetic (today, the school year, ages) happens in the time zone of the student's
district: the district owns the record, so its calendar decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from steward.domain.datasets import ELEMENTS, Dataset, Sensitivity
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind, Role
from steward.domain.time import Interval, SchoolYear, local_date
from steward.policy.decision import Actor, Form, Obligation, ObligationKind
from steward.policy.facts import (
    BINDING_CONSENT_STATUSES,
    ConsentFact,
    FactLookup,
    OrgFact,
    RoleFact,
    StudentFact,
)
from steward.policy.tenant import TenantPolicy


@dataclass(frozen=True, slots=True)
class Ask:
    """One question with the facts to answer it."""

    facts: FactLookup
    actor: Actor
    student: StudentFact
    dataset: Dataset
    form: Form
    at: datetime
    purpose: str
    tenant: TenantPolicy
    today: date
    school_year: int

    @classmethod
    def make(
        cls,
        facts: FactLookup,
        actor: Actor,
        student: StudentFact,
        dataset: Dataset,
        form: Form,
        at: datetime,
        purpose: str = "",
    ) -> Ask:
        tenant = facts.tenant(student.district)
        return cls(
            facts=facts,
            actor=actor,
            student=student,
            dataset=dataset,
            form=form,
            at=at,
            purpose=purpose,
            tenant=tenant,
            today=local_date(at, tenant.timezone),
            school_year=SchoolYear.at(at, tenant.timezone).end_year,
        )

    @classmethod
    def for_district(
        cls,
        facts: FactLookup,
        actor: Actor,
        district: str,
        dataset: Dataset,
        form: Form,
        at: datetime,
        purpose: str = "",
    ) -> Ask:
        """A question about "any student of ``district``": the set evaluator uses it to run the
        principal-level checks (role, agreements, training, tenant) once per district, then compiles
        the student-level ones to SQL. Rules must not read student details from it."""
        placeholder = StudentFact(
            id="", code=f"any student of {district}", district=district, birth_date=date.min
        )
        return cls.make(facts, actor, placeholder, dataset, form, at, purpose)

    # -- labels for explanations ---------------------------------------------------------------

    @property
    def who(self) -> str:
        person = self.facts.person(self.actor.person)
        return person.code if person is not None else self.actor.person

    @property
    def pupil(self) -> str:
        return self.student.code

    def org_code(self, org_id: str | None) -> str:
        if org_id is None:
            return "?"
        org = self.facts.org(org_id)
        return org.code if org is not None else org_id

    @property
    def district_code(self) -> str:
        return self.org_code(self.student.district)

    @property
    def year_label(self) -> str:
        return SchoolYear(self.school_year).label()

    def day(self, instant: datetime) -> str:
        """The local date of ``instant`` in the student's district, ISO form."""
        return local_date(instant, self.tenant.timezone).isoformat()

    def ended(self, valid: Interval) -> str:
        """``expired on 2025-06-30`` / ``starts on 2025-09-01`` for an interval not containing ``at``."""
        if valid.start > self.at:
            return f"starts on {self.day(valid.start)}"
        assert valid.end is not None
        return f"expired on {self.day(valid.end)}"


@dataclass(frozen=True, slots=True)
class Allow:
    basis: LegalBasis
    rule: str
    evidence: tuple[str, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    elements: tuple[str, ...] | None = None
    school_years: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Deny:
    rule: str
    missing: tuple[str, ...] = field(default=())


Outcome = Allow | Deny


def valid_role(ask: Ask) -> RoleFact | None:
    """The actor's role assignment in force at ``at`` (same person, role and organization)."""
    for role in ask.facts.roles_of(ask.actor.person):
        if role.role == ask.actor.role and role.org == ask.actor.org and role.valid.contains(ask.at):
            return role
    return None


def no_role(ask: Ask) -> Deny:
    return Deny(
        ask.actor.role.value,
        (f"{ask.who} holds no {ask.actor.role.value} role at {ask.org_code(ask.actor.org)} on {ask.today}",),
    )


def actor_org(ask: Ask) -> OrgFact | None:
    return None if ask.actor.org is None else ask.facts.org(ask.actor.org)


def district_of(facts: FactLookup, org_id: str | None) -> str | None:
    """The district an organization belongs to: itself for a district, its parent for a school."""
    if org_id is None:
        return None
    org = facts.org(org_id)
    if org is None:
        return None
    if org.kind is OrgKind.DISTRICT:
        return org.id
    if org.kind is OrgKind.SCHOOL:
        return org.parent
    return None


def adult_cutoff(today: date) -> date:
    """The latest birth date of someone who is 18 or older on ``today`` (Feb 29 maps to Feb 28)."""
    try:
        return today.replace(year=today.year - 18)
    except ValueError:
        return today.replace(year=today.year - 18, day=28)


def is_adult(birth_date: date, on: date) -> bool:
    """18 or older on ``on``: the same test as ``yyyymmdd(on) - yyyymmdd(birth) >= 180000`` in SQL."""
    return birth_date <= adult_cutoff(on)


def eighteenth_birthday(birth_date: date) -> date:
    try:
        return birth_date.replace(year=birth_date.year + 18)
    except ValueError:
        return date(birth_date.year + 18, 3, 1)


def add_years(instant: datetime, years: int) -> datetime:
    try:
        return instant.replace(year=instant.year + years)
    except ValueError:
        return instant.replace(year=instant.year + years, day=28)


def signer_ok(ask: Ask, consent: ConsentFact) -> bool:
    """99.30: signed by a parent while the student was a minor, or by the student at 18 or older."""
    student = ask.student
    if is_adult(student.birth_date, consent.signed_on):
        return student.person is not None and consent.signed_by == student.person
    return any(
        g.parent == consent.signed_by and not g.restricted and g.valid.contains(consent.signed_at)
        for g in ask.facts.guardianships_of(student.id)
    )


def consent_for(ask: Ask, org_id: str) -> tuple[ConsentFact | None, list[str]]:
    """A consent in force for the student, the organization and the dataset, or why there is none."""
    notes: list[str] = []
    for c in sorted(ask.facts.consents_of(ask.student.id), key=lambda c: c.code):
        if c.org != org_id:
            continue
        if c.status not in BINDING_CONSENT_STATUSES:
            notes.append(f"consent {c.code} is {c.status.value}, not verified")
        elif not c.valid.contains(ask.at):
            notes.append(f"consent {c.code} {ask.ended(c.valid)}")
        elif c.school_year is not None and c.school_year != ask.school_year:
            notes.append(f"consent {c.code} is for another school year")
        elif ask.dataset not in c.datasets:
            covered = ", ".join(sorted(d.value for d in c.datasets))
            notes.append(f"consent {c.code} covers {covered}, not {ask.dataset.value}")
        elif not signer_ok(ask, c):
            notes.append(
                f"consent {c.code} was not signed by a guardian of {ask.pupil} "
                f"(or by the student at 18 or older) on {c.signed_on}"
            )
        else:
            return c, []
    head = (
        f"no consent from a guardian of student {ask.pupil} for {ask.dataset.value} "
        f"to {ask.org_code(org_id)} valid on {ask.today}"
    )
    return None, [head + (f" ({'; '.join(notes)})" if notes else "")]


def identifier_free(dataset: Dataset, names: Iterable[str] | None) -> tuple[str, ...]:
    """The given element names of ``dataset`` (all when None) without direct identifiers."""
    chosen = None if names is None else set(names)
    return tuple(
        e.name
        for e in ELEMENTS[dataset]
        if e.sensitivity is not Sensitivity.IDENTIFIER and (chosen is None or e.name in chosen)
    )


#: Bases under which PII leaves the district to a third party: 99.33 notice, encryption in transit.
EXTERNAL_BASES = frozenset(
    {
        LegalBasis.CONSENT,
        LegalBasis.STUDIES,
        LegalBasis.TRANSFER,
        LegalBasis.HEALTH_SAFETY_EMERGENCY,
        LegalBasis.AUDIT_EVALUATION,
    }
)


def allow(
    ask: Ask,
    basis: LegalBasis,
    rule: str,
    evidence: Sequence[str],
    *,
    elements: Sequence[str] | None = None,
    school_years: Sequence[int] | None = None,
    external: bool = False,
    extra: Sequence[Obligation] = (),
) -> Allow:
    """An allow with the obligations its basis and form carry."""
    obligations: list[Obligation] = []
    shown = None if elements is None else tuple(elements)
    if ask.form is Form.IDENTIFIABLE:
        if basis.needs_disclosure_record:
            obligations.append(
                Obligation(
                    ObligationKind.RECORD_DISCLOSURE,
                    "record the disclosure in the student's 99.32 record of disclosures",
                    basis.value,
                )
            )
        if basis in EXTERNAL_BASES:
            obligations.append(
                Obligation(
                    ObligationKind.REDISCLOSURE_NOTICE,
                    "attach the 99.33 notice: no redisclosure without consent",
                )
            )
    elif ask.form is Form.DEIDENTIFIED:
        shown = identifier_free(ask.dataset, shown)
        obligations.append(
            Obligation(
                ObligationKind.DEIDENTIFY,
                "remove direct identifiers, coarsen dates and attach a research ID (99.31(b)(2))",
            )
        )
    else:
        obligations.append(
            Obligation(
                ObligationKind.SUPPRESS_SMALL_GROUPS,
                f"suppress groups of fewer than {ask.tenant.suppression_threshold} students",
                ask.tenant.suppression_threshold,
            )
        )
    if external or basis in EXTERNAL_BASES:
        obligations.append(
            Obligation(ObligationKind.ENCRYPT, "encrypt in transit and at rest (128-bit or more)")
        )
    if shown is not None:
        obligations.append(
            Obligation(ObligationKind.LIMIT_ELEMENTS, f"only these elements: {', '.join(shown)}", shown)
        )
    years = None if school_years is None else tuple(school_years)
    if years is not None:
        labels = ", ".join(SchoolYear(y).label() for y in years)
        obligations.append(
            Obligation(ObligationKind.LIMIT_SCHOOL_YEARS, f"only school years {labels}", years)
        )
    obligations.extend(extra)
    return Allow(basis, rule, tuple(evidence), tuple(obligations), shown, years)


def role_label(role: Role) -> str:
    return role.value.replace("_", " ")
