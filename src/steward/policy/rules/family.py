"""Parents (through a guardianship, without a legal restriction) and eligible students (99.10).

At 18 the rights pass to the student; a parent then needs a dependency record (99.31(a)(8)).
"""

from __future__ import annotations

from steward.domain.legal import LegalBasis
from steward.policy.rules.common import Ask, Deny, Outcome, allow, eighteenth_birthday, is_adult


def parent(ask: Ask) -> Outcome:
    student = ask.student
    mine = [g for g in ask.facts.guardianships_of(student.id) if g.parent == ask.actor.person]
    current = sorted((g for g in mine if g.valid.contains(ask.at)), key=lambda g: g.id)
    if not current:
        note = ""
        if mine:
            last = max(mine, key=lambda g: g.valid.start)
            note = f" (guardianship {last.id} {ask.ended(last.valid)})"
        return Deny("parent", (f"{ask.who} is not a guardian of student {ask.pupil} on {ask.today}{note}",))
    unrestricted = [g for g in current if not g.restricted]
    if not unrestricted:
        return Deny(
            "parent", (f"a legal restriction on {ask.who}'s access to {ask.pupil}'s records is on file",)
        )
    if student.legal_restriction:
        return Deny(
            "parent", (f"a legal restriction on parental access to {ask.pupil}'s records is on file",)
        )
    guardianship = unrestricted[0]
    if not is_adult(student.birth_date, ask.today):
        return allow(ask, LegalBasis.PARENT_OR_ELIGIBLE_STUDENT, "parent", (guardianship.ref,))
    for dependency in sorted(ask.facts.dependencies_of(student.id), key=lambda d: d.id):
        if dependency.parent == ask.actor.person and dependency.valid.contains(ask.at):
            return allow(
                ask, LegalBasis.DEPENDENT_STUDENT_PARENT, "parent", (guardianship.ref, dependency.ref)
            )
    return Deny(
        "parent",
        (
            f"student {ask.pupil} turned 18 on {eighteenth_birthday(student.birth_date)}: the rights passed "
            f"to the student, and no dependency record (34 CFR 99.31(a)(8)) for {ask.who} is valid on "
            f"{ask.today}",
        ),
    )


def eligible_student(ask: Ask) -> Outcome:
    student = ask.student
    if student.person is None or student.person != ask.actor.person:
        return Deny("student", (f"{ask.who} is not student {ask.pupil}",))
    if not is_adult(student.birth_date, ask.today):
        return Deny(
            "student",
            (
                f"{ask.pupil} is under 18 on {ask.today}; the rights belong to the parents until "
                f"{eighteenth_birthday(student.birth_date)}",
            ),
        )
    return allow(ask, LegalBasis.PARENT_OR_ELIGIBLE_STUDENT, "student", (f"student:{student.id}",))
