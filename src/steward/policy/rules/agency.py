"""Outside agencies: aggregate, de-identified data only, small groups suppressed (ODA-03), under an
agreement with the district covering the dataset."""

from __future__ import annotations

from steward.domain.legal import LegalBasis
from steward.policy.decision import Form
from steward.policy.facts import AgreementKind
from steward.policy.rules.common import Ask, Deny, Outcome, actor_org, allow, no_role, valid_role
from steward.policy.rules.paperwork import binding_agreements, covering, none_in_force

AGENCY_AGREEMENTS = frozenset({AgreementKind.MOU, AgreementKind.DSA, AgreementKind.NDA})


def agency_analyst(ask: Ask) -> Outcome:
    role = valid_role(ask)
    if role is None:
        return no_role(ask)
    if ask.form is not Form.AGGREGATE:
        return Deny("agency", (f"outside agencies receive aggregate data only, not {ask.form.value} data",))
    org = actor_org(ask)
    assert org is not None
    if ask.dataset not in ask.tenant.datasets_for(org.kind):
        return Deny(
            "agency",
            (f"{ask.district_code} does not share {ask.dataset.value} with {org.kind.value} organizations",),
        )
    agreements, problems = binding_agreements(ask, org.id, AGENCY_AGREEMENTS, annual=False)
    if not agreements:
        return Deny("agency", (none_in_force(ask, "agreement", org.id, problems),))
    covered, notes = covering(ask, agreements, "agreement")
    if not covered:
        return Deny("agency", tuple(notes))
    return allow(ask, LegalBasis.DEIDENTIFIED, "agency", (role.ref, covered[0].ref), external=True)
