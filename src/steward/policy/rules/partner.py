"""Community partners (P2, SPS, ODA-03): registered; an executed data sharing agreement for this
school year covering the dataset; the acting person trained this year; and either a guardian's
consent plus a district grant naming the student (consent, 99.30), or, for an Institutional Service
partner, a principal-submitted list (school official, 99.31(a)(1)). Datasets: DSA ∩ consent ∩ grant.
"""

from __future__ import annotations

from steward.domain.legal import LegalBasis
from steward.domain.orgs import RegistrationStatus
from steward.policy.decision import Obligation, ObligationKind
from steward.policy.facts import AgreementFact, AgreementKind
from steward.policy.rules.common import Ask, Deny, Outcome, actor_org, allow, consent_for, no_role, valid_role
from steward.policy.rules.paperwork import (
    binding_agreements,
    covering,
    grant_for,
    none_in_force,
    training_for,
)


def destruction(agreement: AgreementFact) -> list[Obligation]:
    if agreement.destroy_by is None:
        return []
    return [
        Obligation(
            ObligationKind.DESTROY_BY,
            f"destroy the data by {agreement.destroy_by} ({agreement.code})",
            agreement.destroy_by.isoformat(),
        )
    ]


def partner_staff(ask: Ask) -> Outcome:
    role = valid_role(ask)
    if role is None:
        return no_role(ask)
    org = actor_org(ask)
    assert org is not None
    missing: list[str] = []
    if org.registration is not RegistrationStatus.REGISTERED:
        missing.append(f"organization {org.code} is not registered (status: {org.registration.value})")
    if ask.dataset not in ask.tenant.datasets_for(org.kind):
        missing.append(
            f"{ask.district_code} does not share {ask.dataset.value} with {org.kind.value} organizations"
        )
    dsas, problems = binding_agreements(ask, org.id, {AgreementKind.DSA}, annual=True)
    dsa: AgreementFact | None = None
    if not dsas:
        missing.append(none_in_force(ask, "data sharing agreement", org.id, problems))
    else:
        covered, notes = covering(ask, dsas, "data sharing agreement")
        if covered:
            dsa = covered[0]
        else:
            missing.extend(notes)
    training, training_missing = training_for(ask)
    if training_missing:
        missing.append(training_missing)

    # Institutional Service partners: a principal-submitted list replaces the consent.
    designations, _ = binding_agreements(ask, org.id, {AgreementKind.IS_DESIGNATION}, annual=True)
    is_missing: list[str] = []
    if designations:
        listed, why = grant_for(ask, org.id, school_list=True)
        if listed is None:
            is_missing.append(why)
        elif not missing and dsa is not None and training is not None:
            return allow(
                ask,
                LegalBasis.SCHOOL_OFFICIAL,
                "partner_is",
                (role.ref, dsa.ref, designations[0].ref, training.ref, listed.ref),
                external=True,
                extra=destruction(dsa),
            )

    consent, consent_missing = consent_for(ask, org.id)
    grant, grant_missing = grant_for(ask, org.id)
    route_missing = [*consent_missing, *([] if grant is not None else [grant_missing])]
    if not missing and not route_missing and dsa is not None and training is not None:
        assert consent is not None
        assert grant is not None
        return allow(
            ask,
            LegalBasis.CONSENT,
            "partner",
            (role.ref, dsa.ref, training.ref, consent.ref, grant.ref),
            external=True,
            extra=destruction(dsa),
        )
    return Deny("partner", (*missing, *route_missing, *is_missing))
