"""School officials with a legitimate educational interest (99.31(a)(1), ODA-03).

Teachers: students in their sections this school year. Principals and counselors: students enrolled
in their school on that day.
"""

from __future__ import annotations

from steward.domain.legal import LegalBasis
from steward.domain.time import SchoolYear
from steward.policy.rules.common import Ask, Deny, Outcome, allow, no_role, valid_role


def teacher(ask: Ask) -> Outcome:
    role = valid_role(ask)
    if role is None:
        return no_role(ask)
    facts = ask.facts
    for member in sorted(facts.section_enrollments_of(ask.student.id), key=lambda m: m.id):
        if not member.valid.contains(ask.at):
            continue
        section = facts.section(member.section)
        if section is None or section.school != role.org or section.school_year != ask.school_year:
            continue
        for staff in sorted(facts.staff_of_section(section.id), key=lambda s: s.id):
            if staff.person == ask.actor.person and staff.valid.contains(ask.at):
                return allow(
                    ask,
                    LegalBasis.SCHOOL_OFFICIAL,
                    "teacher",
                    (role.ref, section.ref, member.ref, staff.ref),
                )
    return Deny(
        "teacher",
        (
            f"{ask.who} teaches no section at {ask.org_code(role.org)} with student {ask.pupil} "
            f"on {ask.today} (school year {SchoolYear(ask.school_year).label()})",
        ),
    )


def school_leader(ask: Ask) -> Outcome:
    """Principals and counselors: students enrolled in their school on the day."""
    role = valid_role(ask)
    if role is None:
        return no_role(ask)
    for enrollment in sorted(ask.facts.enrollments_of(ask.student.id), key=lambda e: e.id):
        if enrollment.school == role.org and enrollment.valid.contains(ask.at):
            return allow(ask, LegalBasis.SCHOOL_OFFICIAL, ask.actor.role.value, (role.ref, enrollment.ref))
    return Deny(
        ask.actor.role.value,
        (f"student {ask.pupil} is not enrolled at {ask.org_code(role.org)} on {ask.today}",),
    )
