"""What the family portal shows: the children of a parent (or the eligible student themself), and for
each child who can see which records and why (the decision engine's who-can-see, now), the latest
lines of the record of disclosures, the consents (paper and electronic), opt-outs, and the consent
requests waiting for an answer. Every read starts from ``standing``: anything else is not found."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit.ledger import student_entries
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import local_date
from steward.family import optouts, requests, signing
from steward.family.common import Capacity, Standing, standing
from steward.family.models import ConsentRequest, ConsentSignature
from steward.policy.facts import ConsentStatus
from steward.store.access import who_can_see
from steward.store.base import now_utc
from steward.store.models import Guardianship, Organization, Person, Student
from steward.workflow.consents.service import datasets_of
from steward.workflow.models import Consent

RECENT_LEDGER_LINES = 5
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Child:
    student: Student
    capacity: Capacity
    rights_pass_on: date
    waiting: int
    tz: str


def children(db: Session, principal: Principal, at: datetime | None = None) -> list[Child]:
    """The parent's children of record (or the signed-in student), each with the capacity the
    engine gives now; guardians of an adult student without a dependency record see only that the
    rights passed."""
    at = at or now_utc()
    if principal.role is Role.STUDENT:
        ids = list(db.scalars(select(Student.id).where(Student.person_id == principal.person_id)))
    elif principal.role is Role.PARENT:
        ids = sorted(
            set(
                db.scalars(
                    select(Guardianship.student_id).where(
                        Guardianship.person_id == principal.person_id,
                        Guardianship.restricted.is_(False),
                        Guardianship.valid_at(at),
                    )
                )
            )
        )
    else:
        return []
    out: list[Child] = []
    for student_id in ids:
        found = standing(db, principal, student_id, at)
        if found is None:
            continue
        waiting = len(unanswered(db, found, at)) if found.capacity.holds_rights else 0
        out.append(Child(found.student, found.capacity, found.rights_pass_on, waiting, found.tz))
    return sorted(out, key=lambda c: (c.student.first_name, c.student.last_name, c.student.id))


def unanswered(db: Session, found: Standing, at: datetime) -> list[ConsentRequest]:
    """Open consent requests for the child nobody has answered yet (or whose signature was revoked
    and which are still open: they can be signed again)."""
    out = []
    for row in requests.offers_for(db, found.student.id, at):
        if not signing.answers(db, row.id, found.student.id):
            out.append(row)
    return out


@dataclass(frozen=True, slots=True)
class Seer:
    """One person who may see some of the child's records now."""

    name: str
    role: str
    organization: str
    datasets: tuple[Dataset, ...]
    basis: LegalBasis | None
    citation: str
    is_viewer: bool
    consent: str | None


@dataclass(frozen=True, slots=True)
class ConsentLine:
    consent: Consent
    organization: str
    datasets: tuple[Dataset, ...]
    in_force: bool
    electronic: ConsentSignature | None
    revocable: bool
    #: The last local day it counts (its validity ends at midnight, exclusive).
    last_day: date | None = None


@dataclass(frozen=True, slots=True)
class Offer:
    request: ConsentRequest
    organization: str
    title: str
    last: ConsentSignature | None


@dataclass
class ChildView:
    child: Child
    at: datetime
    seers: list[Seer] = field(default_factory=list)
    directory_open: bool = False
    directory_elements: tuple[str, ...] = ()
    consents: list[ConsentLine] = field(default_factory=list)
    opt_outs: list[optouts.Current] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    ledger: list[Any] = field(default_factory=list)
    ledger_total: int = 0

    @property
    def organizations(self) -> list[str]:
        return sorted({s.organization for s in self.seers if s.organization})


def _org_names(db: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(
        db.execute(select(Organization.code, Organization.name).where(Organization.code.in_(codes))).all()
    )


def _seers(db: Session, principal: Principal, student_id: int, at: datetime) -> tuple[list[Seer], Any]:
    who = who_can_see(db, student_id, at)
    names = _org_names(db, {a.org_code for a in who.accesses if a.org_code})
    consent_codes: dict[str, str] = {}
    grouped: dict[tuple[int, str, str | None, LegalBasis | None], list[Any]] = defaultdict(list)
    for access in who.accesses:
        d = access.decision
        grouped[(access.person_id, access.role, access.org_code, d.basis)].append(access)
        for ref in d.evidence:
            if ref.startswith("consent:"):
                consent_codes[f"{access.person_id}:{d.basis}"] = ref.split(":", 1)[1]
    people: dict[int, str] = {}
    if grouped:
        ids = {k[0] for k in grouped}
        people = {
            pid: f"{given} {family}".strip()
            for pid, given, family in db.execute(
                select(Person.id, Person.given_name, Person.family_name).where(Person.id.in_(ids))
            ).all()
        }
    seers = []
    for (person_id, role, org_code, basis), accesses in grouped.items():
        first = accesses[0]
        seers.append(
            Seer(
                name=str(people.get(person_id) or first.person_name or first.person_code),
                role=role,
                organization=names.get(org_code or "", org_code or ""),
                datasets=tuple(sorted({a.dataset for a in accesses}, key=lambda x: list(Dataset).index(x))),
                basis=basis,
                citation=first.decision.citation,
                is_viewer=person_id == principal.person_id,
                consent=consent_codes.get(f"{person_id}:{basis}"),
            )
        )
    seers.sort(key=lambda s: (not s.is_viewer, s.organization, s.role, s.name))
    return seers, who


def child_view(
    db: Session, principal: Principal, student_id: int, at: datetime | None = None
) -> ChildView | None:
    """Everything the portal shows about one child, or None (the page answers 404)."""
    at = at or now_utc()
    found = standing(db, principal, student_id, at)
    if found is None or not found.capacity.sees_records:
        return None
    student = found.student
    waiting = len(unanswered(db, found, at)) if found.capacity.holds_rights else 0
    view = ChildView(Child(student, found.capacity, found.rights_pass_on, waiting, found.tz), at)
    view.seers, who = _seers(db, principal, student_id, at)
    view.directory_open = who.directory is not None
    view.directory_elements = tuple(who.directory.elements or ()) if who.directory is not None else ()
    orgs: dict[int, str] = {}
    signatures = {
        s.consent_id: s
        for s in db.scalars(
            select(ConsentSignature).where(
                ConsentSignature.student_id == student_id, ConsentSignature.consent_id.is_not(None)
            )
        )
    }
    for consent in db.scalars(
        select(Consent)
        .where(Consent.student_id == student_id)
        .order_by(Consent.signed_at.desc(), Consent.id.desc())
    ):
        if consent.organization_id not in orgs:
            org = db.get(Organization, consent.organization_id)
            orgs[consent.organization_id] = org.name if org else ""
        in_force = (
            consent.status == ConsentStatus.VERIFIED.value
            and consent.valid_from <= at
            and (consent.valid_to is None or consent.valid_to > at)
        )
        view.consents.append(
            ConsentLine(
                consent,
                orgs[consent.organization_id],
                tuple(sorted((Dataset(d) for d in datasets_of(db, consent.id)), key=list(Dataset).index)),
                in_force,
                signatures.get(consent.id),
                found.capacity.holds_rights
                and consent.status in (ConsentStatus.VERIFIED.value, ConsentStatus.PENDING.value)
                and (consent.valid_to is None or consent.valid_to > at),
                None if consent.valid_to is None else local_date(consent.valid_to - _TICK, found.tz),
            )
        )
    view.opt_outs = optouts.of_student(db, student_id, at)
    if found.capacity.holds_rights:
        for row in requests.offers_for(db, student_id, at):
            wording = requests.wording_for(db, row)
            history = signing.answers(db, row.id, student_id)
            view.offers.append(
                Offer(row, wording.organization, wording.own("title")[0], history[0] if history else None)
            )
    entries = student_entries(db, student)
    view.ledger_total = len(entries)
    view.ledger = entries[:RECENT_LEDGER_LINES]
    return view
