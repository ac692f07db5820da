"""Researchers (99.31(a)(6), 99.31(b), ODA-03, OSPI): an approved research proposal and an executed
agreement, both within their term (at most three years). De-identified data only, unless a studies
agreement on behalf of the district names identifiable elements (and, by default, the family
consented too, ODA-03). Only the agreement's datasets, elements and school years, never before the
district's floor year; only students enrolled in the district in those years.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from steward.domain.datasets import ELEMENTS, Dataset, Sensitivity, element_names
from steward.domain.legal import LegalBasis
from steward.domain.time import SchoolYear, local_date
from steward.policy.decision import Form, Obligation, ObligationKind
from steward.policy.facts import AgreementFact, AgreementKind
from steward.policy.rules.common import (
    Allow,
    Ask,
    Deny,
    Outcome,
    actor_org,
    add_years,
    allow,
    consent_for,
    no_role,
    valid_role,
)
from steward.policy.rules.paperwork import binding_agreements, none_in_force
from steward.policy.tenant import TenantPolicy

RESEARCH_AGREEMENTS = frozenset({AgreementKind.DSA, AgreementKind.NDA, AgreementKind.STUDIES})


def term_end(agreement: AgreementFact, tenant: TenantPolicy) -> datetime:
    """The agreement's end, capped at the longest research term the district allows."""
    cap = add_years(agreement.valid.start, tenant.max_research_years)
    return cap if agreement.valid.end is None or agreement.valid.end > cap else agreement.valid.end


def agreement_elements(agreement: AgreementFact, dataset: Dataset) -> tuple[str, ...]:
    """Elements of ``dataset`` the agreement names; None in the agreement means every element
    except direct identifiers (identifiers must always be named)."""
    names = element_names(dataset)
    if agreement.elements is None:
        return tuple(e.name for e in ELEMENTS[dataset] if e.sensitivity is not Sensitivity.IDENTIFIER)
    chosen = set()
    for item in agreement.elements:
        ds, _, name = item.rpartition(".")
        if (ds == "" or ds == dataset.value) and name in names:
            chosen.add(name)
    return tuple(n for n in names if n in chosen)


def names_identifiers(agreement: AgreementFact) -> bool:
    """A studies agreement that names at least one direct identifier permits identifiable data."""
    if agreement.kind is not AgreementKind.STUDIES or agreement.elements is None:
        return False
    for dataset in Dataset:
        identifiers = {e.name for e in ELEMENTS[dataset] if e.sensitivity is Sensitivity.IDENTIFIER}
        if identifiers & set(agreement_elements(agreement, dataset)):
            return True
    return False


def agreement_years(agreement: AgreementFact, tenant: TenantPolicy) -> tuple[int, ...]:
    return tuple(sorted(y for y in agreement.school_years if y >= tenant.floor_year))


def in_term(ask: Ask, agreement: AgreementFact) -> bool:
    return ask.at < term_end(agreement, ask.tenant)


def researcher(ask: Ask) -> Outcome:
    role = valid_role(ask)
    if role is None:
        return no_role(ask)
    org = actor_org(ask)
    assert org is not None
    tenant = ask.tenant
    missing: list[str] = []
    if ask.dataset not in tenant.datasets_for(org.kind):
        missing.append(
            f"{ask.district_code} does not share {ask.dataset.value} with {org.kind.value} organizations"
        )
    approvals, problems = binding_agreements(ask, org.id, {AgreementKind.RESEARCH_APPROVAL}, annual=False)
    for candidate in approvals:
        if not in_term(ask, candidate):
            problems.append(
                f"research approval {candidate.code} reached its {tenant.max_research_years}-year limit "
                f"on {ask.day(term_end(candidate, tenant))}"
            )
    approval = next((a for a in approvals if in_term(ask, a)), None)
    if approval is None:
        missing.append(none_in_force(ask, "approved research proposal", org.id, problems))
    agreements, problems = binding_agreements(ask, org.id, RESEARCH_AGREEMENTS, annual=False)
    if not agreements:
        missing.append(none_in_force(ask, "executed research agreement", org.id, problems))
    allows: list[Allow] = []
    notes: list[str] = []
    for agreement in agreements:
        outcome = _under(ask, agreement)
        if isinstance(outcome, Allow):
            allows.append(outcome)
        else:
            notes.extend(outcome.missing)
    if missing or approval is None:
        return Deny("researcher", (*missing, *notes))
    if allows:
        best = allows[0]
        return Allow(
            best.basis,
            best.rule,
            (role.ref, approval.ref, *best.evidence),
            best.obligations,
            best.elements,
            best.school_years,
        )
    return Deny("researcher", tuple(notes))


def _under(ask: Ask, agreement: AgreementFact) -> Outcome:
    """What one research agreement allows for this question."""
    label = f"{agreement.kind.label} {agreement.code}"
    if not in_term(ask, agreement):
        return Deny(
            "researcher",
            (
                f"{label} reached its {ask.tenant.max_research_years}-year limit on "
                f"{ask.day(term_end(agreement, ask.tenant))}",
            ),
        )
    if ask.dataset not in agreement.datasets:
        return Deny("researcher", (f"{label} does not cover {ask.dataset.value}",))
    elements = agreement_elements(agreement, ask.dataset)
    if not elements:
        return Deny("researcher", (f"{label} names no {ask.dataset.value} elements",))
    years = agreement_years(agreement, ask.tenant)
    if not years:
        return Deny(
            "researcher",
            (
                f"{label} covers no school year from {SchoolYear(ask.tenant.floor_year).label()} "
                f"on (the district's floor year)",
            ),
        )
    enrolled = [e for e in ask.facts.enrollments_of(ask.student.id) if e.school_year in years]
    if not enrolled:
        labels = ", ".join(SchoolYear(y).label() for y in years)
        return Deny(
            "researcher",
            (
                f"student {ask.pupil} was not enrolled in {ask.district_code} "
                f"in {label}'s school years ({labels})",
            ),
        )
    enrollment = min(enrolled, key=lambda e: e.id)
    destroy = agreement.destroy_by or (
        None
        if agreement.valid.end is None
        else local_date(agreement.valid.end, ask.tenant.timezone)
        + timedelta(days=ask.tenant.destruction_days)
    )
    extra = (
        []
        if destroy is None
        else [
            Obligation(
                ObligationKind.DESTROY_BY,
                f"destroy the data by {destroy} ({agreement.code}) and sign a certificate of destruction",
                destroy.isoformat(),
            )
        ]
    )
    evidence = [agreement.ref, enrollment.ref]
    if ask.form is Form.IDENTIFIABLE:
        if not names_identifiers(agreement):
            return Deny(
                "researcher",
                (
                    f"researchers receive de-identified data only; {label} is not a studies agreement "
                    "naming identifiable elements",
                ),
            )
        if ask.tenant.research_identifiable_requires_consent:
            consent, why = consent_for(ask, agreement.org)
            if consent is None:
                return Deny("researcher", tuple(why))
            evidence.append(consent.ref)
        return allow(
            ask,
            LegalBasis.STUDIES,
            "researcher",
            evidence,
            elements=elements,
            school_years=years,
            extra=extra,
        )
    return allow(
        ask,
        LegalBasis.DEIDENTIFIED,
        "researcher",
        evidence,
        elements=elements,
        school_years=years,
        external=True,
        extra=extra,
    )
