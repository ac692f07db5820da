"""Vendors as school officials under contract (99.31(a)(1)(i)(B), P2): a contract in force with a
no-commercial-use clause, provisioning datasets only, students of the schools it covers."""

from __future__ import annotations

from steward.domain.datasets import PROVISIONING_DATASETS
from steward.domain.legal import LegalBasis
from steward.policy.facts import AgreementKind, Clause
from steward.policy.rules.common import Ask, Deny, Outcome, actor_org, allow, no_role, valid_role
from steward.policy.rules.paperwork import binding_agreements, none_in_force


def vendor_integration(ask: Ask) -> Outcome:
    role = valid_role(ask)
    if role is None:
        return no_role(ask)
    org = actor_org(ask)
    assert org is not None
    allowed = PROVISIONING_DATASETS & ask.tenant.datasets_for(org.kind)
    if ask.dataset not in allowed:
        names = ", ".join(sorted(d.value for d in allowed)) or "nothing"
        return Deny("vendor", (f"vendors receive provisioning data only ({names}), not {ask.dataset.value}",))
    contracts, problems = binding_agreements(ask, org.id, {AgreementKind.CONTRACT}, annual=False)
    if not contracts:
        return Deny("vendor", (none_in_force(ask, "contract", org.id, problems),))
    notes: list[str] = []
    enrollments = sorted(
        (e for e in ask.facts.enrollments_of(ask.student.id) if e.valid.contains(ask.at)), key=lambda e: e.id
    )
    for contract in contracts:
        if Clause.NO_COMMERCIAL_USE not in contract.clauses:
            notes.append(f"contract {contract.code} lacks a no-commercial-use clause")
            continue
        if ask.dataset not in contract.datasets:
            notes.append(f"contract {contract.code} does not cover {ask.dataset.value}")
            continue
        covered = [e for e in enrollments if not contract.schools or e.school in contract.schools]
        if not covered:
            notes.append(
                f"student {ask.pupil} is not enrolled at a school covered by {contract.code} on {ask.today}"
            )
            continue
        return allow(
            ask, LegalBasis.SCHOOL_OFFICIAL, "vendor", (role.ref, contract.ref, covered[0].ref), external=True
        )
    return Deny("vendor", tuple(notes))
