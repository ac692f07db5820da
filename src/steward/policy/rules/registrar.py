"""Registrars: records of a student who seeks or intends to enroll in their district, from another
district of the same region, never across a state line (99.31(a)(2), 99.34, P2)."""

from __future__ import annotations

from steward.domain.legal import LegalBasis
from steward.policy.decision import Obligation, ObligationKind
from steward.policy.rules.common import Ask, Deny, Outcome, allow, district_of, no_role, valid_role


def registrar(ask: Ask) -> Outcome:
    role = valid_role(ask)
    if role is None:
        return no_role(ask)
    facts = ask.facts
    receiving = district_of(facts, role.org)
    receiving_org = None if receiving is None else facts.org(receiving)
    sending_org = facts.org(ask.student.district)
    if receiving_org is None or sending_org is None:
        return Deny("registrar", (f"{ask.org_code(role.org)} belongs to no district",))
    if receiving_org.state != sending_org.state:
        return Deny(
            "registrar",
            (
                f"records are never transferred to an organization in another state "
                f"({sending_org.state} to {receiving_org.state})",
            ),
        )
    if receiving_org.id == sending_org.id:
        return Deny(
            "registrar",
            (
                f"student {ask.pupil} already belongs to {receiving_org.code}; "
                "a transfer needs another district",
            ),
        )
    if sending_org.region is None or sending_org.region != receiving_org.region:
        return Deny(
            "registrar",
            (f"{sending_org.code} and {receiving_org.code} are not districts of the same region",),
        )
    for request in sorted(facts.requests_of(ask.student.id), key=lambda r: r.id):
        if (
            request.district == receiving_org.id
            and request.valid.contains(ask.at)
            and (request.registrar is None or request.registrar == ask.actor.person)
        ):
            extra = []
            if not ask.tenant.annual_notice_forwards_records:
                extra.append(
                    Obligation(
                        ObligationKind.NOTIFY_PARENT,
                        f"notify the parent: {sending_org.code}'s annual notice does not say records are "
                        "forwarded (99.34(a)(1))",
                    )
                )
            return allow(ask, LegalBasis.TRANSFER, "registrar", (role.ref, request.ref), extra=extra)
    return Deny(
        "registrar",
        (
            f"no request on file for student {ask.pupil} to enroll in {receiving_org.code} "
            f"valid on {ask.today}",
        ),
    )
