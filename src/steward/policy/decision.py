"""What a decision says: allowed or not, on which legal basis, from which facts, with which duties."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.principal import Principal


class Form(StrEnum):
    """How much of the record leaves: the full record, de-identified rows, or suppressed counts."""

    IDENTIFIABLE = "identifiable"
    DEIDENTIFIED = "deidentified"
    AGGREGATE = "aggregate"


class ObligationKind(StrEnum):
    RECORD_DISCLOSURE = "record_disclosure"
    REDISCLOSURE_NOTICE = "redisclosure_notice"
    SUPPRESS_SMALL_GROUPS = "suppress_small_groups"
    DEIDENTIFY = "deidentify"
    ENCRYPT = "encrypt"
    DESTROY_BY = "destroy_by"
    NOTIFY_PARENT = "notify_parent"
    LIMIT_ELEMENTS = "limit_elements"
    LIMIT_SCHOOL_YEARS = "limit_school_years"
    ACCESS_ENDS = "access_ends"


@dataclass(frozen=True, slots=True)
class Obligation:
    """A duty that comes with an allow; ``text`` says it in plain words, ``value`` is machine-usable."""

    kind: ObligationKind
    text: str
    value: str | int | tuple[str, ...] | tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"kind": self.kind.value, "text": self.text, "value": value}


@dataclass(frozen=True, slots=True)
class Actor:
    """The principal as the engine sees it: a person acting in one role at one organization.

    Ids are the fact ids of ``steward.policy.facts`` (strings). ``org`` is None for roles that hold
    no organization (parent, student, public).
    """

    person: str
    role: Role
    org: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The engine's view of an authenticated principal (database ids as strings)."""
        return cls(str(principal.person_id), principal.role, str(principal.organization_id))

    def describe(self) -> str:
        return f"{self.person} as {self.role.value}" + (f" at {self.org}" if self.org else "")


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one question, with its reasons.

    ``evidence`` are ids of the facts used (``enrollment:123``, ``consent:c1``); ``missing`` lists
    every unmet requirement in plain words when denied. ``elements``/``school_years`` narrow what
    may be shown (None: the whole dataset, every year).
    """

    allowed: bool
    student: str
    dataset: Dataset
    form: Form
    at: datetime
    actor: Actor | None = None
    basis: LegalBasis | None = None
    evidence: tuple[str, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    missing: tuple[str, ...] = ()
    elements: tuple[str, ...] | None = None
    school_years: tuple[int, ...] | None = None
    rule: str = ""

    @property
    def citation(self) -> str | None:
        return None if self.basis is None else self.basis.citation

    def explain(self) -> str:
        """A few lines a district officer can read."""
        verdict = "ALLOW" if self.allowed else "DENY"
        head = f"{verdict} {self.dataset.value} ({self.form.value}) of {self.student}"
        if self.actor is not None:
            head += f" to {self.actor.describe()}"
        lines = [head]
        if self.allowed and self.basis is not None:
            lines.append(f"  basis: {self.basis.display()}")
            if self.evidence:
                lines.append(f"  evidence: {', '.join(self.evidence)}")
            if self.elements is not None:
                lines.append(f"  elements: {', '.join(self.elements)}")
            lines.extend(f"  obligation: {o.text}" for o in self.obligations)
        else:
            lines.extend(f"  missing: {m}" for m in self.missing)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "student": self.student,
            "dataset": self.dataset.value,
            "form": self.form.value,
            "at": self.at.isoformat(),
            "person": None if self.actor is None else self.actor.person,
            "role": None if self.actor is None else self.actor.role.value,
            "org": None if self.actor is None else self.actor.org,
            "basis": None if self.basis is None else self.basis.value,
            "citation": self.citation,
            "evidence": list(self.evidence),
            "obligations": [o.to_dict() for o in self.obligations],
            "missing": list(self.missing),
            "elements": None if self.elements is None else list(self.elements),
            "school_years": None if self.school_years is None else list(self.school_years),
            "rule": self.rule,
        }


#: When several rules allow, the first basis in this order is reported (both evaluators use it).
BASIS_PRIORITY: tuple[LegalBasis, ...] = (
    LegalBasis.PARENT_OR_ELIGIBLE_STUDENT,
    LegalBasis.DEPENDENT_STUDENT_PARENT,
    LegalBasis.SCHOOL_OFFICIAL,
    LegalBasis.TRANSFER,
    LegalBasis.HEALTH_SAFETY_EMERGENCY,
    LegalBasis.STUDIES,
    LegalBasis.CONSENT,
    LegalBasis.AUDIT_EVALUATION,
    LegalBasis.DEIDENTIFIED,
    LegalBasis.DIRECTORY_INFORMATION,
)
BASIS_RANK: dict[LegalBasis, int] = {b: i for i, b in enumerate(BASIS_PRIORITY)}
