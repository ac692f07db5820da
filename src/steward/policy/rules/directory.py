"""Directory information (99.31(a)(11), 99.37): anyone may receive the district's directory
elements, unless the student opted out (the opt-out outlives enrollment) or a legal restriction is
on file."""

from __future__ import annotations

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.policy.facts import OptOutKind
from steward.policy.rules.common import Ask, Deny, Outcome, allow


def directory_information(ask: Ask) -> Outcome | None:
    if ask.dataset is not Dataset.DIRECTORY:
        return None
    student = ask.student
    if student.legal_restriction:
        return Deny(
            "directory",
            (f"a legal restriction on {ask.pupil}'s records is on file: no directory information",),
        )
    for opt_out in sorted(ask.facts.opt_outs_of(student.id), key=lambda o: o.id):
        if opt_out.kind is OptOutKind.DIRECTORY and opt_out.valid.contains(ask.at):
            return Deny(
                "directory",
                (
                    f"student {ask.pupil} opted out of directory information "
                    f"on {ask.day(opt_out.valid.start)} ({opt_out.ref})",
                ),
            )
    return allow(
        ask,
        LegalBasis.DIRECTORY_INFORMATION,
        "directory",
        (f"tenant:{ask.district_code}",),
        elements=ask.tenant.directory_dataset_elements(),
    )
