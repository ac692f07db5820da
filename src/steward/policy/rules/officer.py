"""District data officers: identification data of their district's students for the paperwork
(matching consents, grants and requests), and everything else only by break-glass during a recorded
health or safety emergency (99.36), time-boxed by the district's emergency window.
"""

from __future__ import annotations

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.policy.decision import Obligation, ObligationKind
from steward.policy.rules.common import Ask, Deny, Outcome, allow, no_role, valid_role

#: What an officer sees of their own district's students without an emergency.
OFFICER_DATASETS = frozenset({Dataset.DIRECTORY, Dataset.DEMOGRAPHICS, Dataset.ENROLLMENT})


def district_data_officer(ask: Ask) -> Outcome:
    role = valid_role(ask)
    if role is None:
        return no_role(ask)
    if ask.student.district != role.org:
        return Deny(
            "district_data_officer",
            (f"student {ask.pupil} is not a student of {ask.org_code(role.org)}",),
        )
    if ask.dataset in OFFICER_DATASETS:
        return allow(ask, LegalBasis.SCHOOL_OFFICIAL, "district_data_officer", (role.ref,))
    notes: list[str] = []
    for emergency in sorted(ask.facts.emergencies_of(ask.student.id), key=lambda e: e.id):
        if emergency.person != ask.actor.person:
            continue
        if not emergency.threat.strip():
            notes.append(f"emergency {emergency.id} records no articulable threat")
        elif not emergency.valid.contains(ask.at):
            notes.append(f"emergency {emergency.id} {ask.ended(emergency.valid)}")
        else:
            extra = []
            if emergency.valid.end is not None:
                extra.append(
                    Obligation(
                        ObligationKind.ACCESS_ENDS,
                        f"emergency access ends at {emergency.valid.end.isoformat()}",
                        emergency.valid.end.isoformat(),
                    )
                )
            return allow(
                ask,
                LegalBasis.HEALTH_SAFETY_EMERGENCY,
                "emergency",
                (role.ref, emergency.ref),
                extra=extra,
            )
    head = (
        f"a district data officer sees {ask.dataset.value} of {ask.pupil} only during a recorded "
        f"health or safety emergency, and none is in force on {ask.today}"
    )
    return Deny("emergency", (head + (f" ({'; '.join(notes)})" if notes else ""),))
