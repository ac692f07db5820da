"""Shared checks on the paperwork facts: agreements in force, training, grants, and their
plain-word explanations when missing."""

from __future__ import annotations

from collections.abc import Collection

from steward.domain.time import SchoolYear
from steward.policy.facts import AgreementFact, AgreementKind, GrantFact, TrainingFact
from steward.policy.rules.common import Ask


def agreement_problem(ask: Ask, agreement: AgreementFact, *, annual: bool) -> str | None:
    """Why ``agreement`` does not bind at ``at`` (None when it does); ``annual``: it must be for
    the current school year."""
    label = f"{agreement.kind.label} {agreement.code}"
    if not agreement.binding():
        return f"{label} is not executed (status: {agreement.status.value})"
    if not agreement.valid.contains(ask.at):
        return f"{label} {ask.ended(agreement.valid)}"
    if annual and agreement.school_year is not None and agreement.school_year != ask.school_year:
        return f"{label} is for {SchoolYear(agreement.school_year).label()}, not {ask.year_label}"
    return None


def binding_agreements(
    ask: Ask, org_id: str, kinds: Collection[AgreementKind], *, annual: bool
) -> tuple[list[AgreementFact], list[str]]:
    """Agreements of ``kinds`` between the organization and the student's district that bind at
    ``at``, sorted by code; and the problems of those that do not."""
    good: list[AgreementFact] = []
    problems: list[str] = []
    for agreement in sorted(ask.facts.agreements_of(org_id), key=lambda a: a.code):
        if agreement.kind not in kinds or agreement.district != ask.student.district:
            continue
        problem = agreement_problem(ask, agreement, annual=annual)
        if problem is None:
            good.append(agreement)
        else:
            problems.append(problem)
    return good, problems


def none_in_force(ask: Ask, what: str, org_id: str, problems: list[str]) -> str:
    head = f"no {what} between {ask.org_code(org_id)} and {ask.district_code} in force on {ask.today}"
    return head + (f" ({'; '.join(problems)})" if problems else "")


def covering(ask: Ask, agreements: list[AgreementFact], label: str) -> tuple[list[AgreementFact], list[str]]:
    """The agreements that cover the asked dataset, or a note per agreement that does not."""
    good = [a for a in agreements if ask.dataset in a.datasets]
    if good:
        return good, []
    return [], [f"{label} {a.code} does not cover {ask.dataset.value}" for a in agreements]


def training_for(ask: Ask) -> tuple[TrainingFact | None, str | None]:
    """The acting person's stewardship training valid at ``at`` for this school year."""
    trainings = sorted(ask.facts.trainings_of(ask.actor.person), key=lambda t: t.id)
    for training in trainings:
        if training.valid.contains(ask.at) and training.school_year in (None, ask.school_year):
            return training, None
    note = ""
    if trainings:
        last = max(trainings, key=lambda t: t.valid.start)
        note = f" (the last one {ask.ended(last.valid)})" if not last.valid.contains(ask.at) else ""
    return None, f"{ask.who} has no stewardship training for {ask.year_label} valid on {ask.today}{note}"


def grant_for(ask: Ask, org_id: str, *, school_list: bool = False) -> tuple[GrantFact | None, str]:
    """A district grant naming the student and the dataset for the organization, valid at ``at``.

    ``school_list``: only principal-submitted lists (a school named) whose school the student
    attends on the day count (Institutional Service partners).
    """
    notes: list[str] = []
    for grant in sorted(ask.facts.grants_of(org_id), key=lambda g: g.code):
        if grant.district != ask.student.district or ask.student.id not in grant.students:
            continue
        if school_list and grant.school is None:
            continue
        if not grant.valid.contains(ask.at):
            notes.append(f"grant {grant.code} {ask.ended(grant.valid)}")
        elif ask.dataset not in grant.datasets:
            notes.append(f"grant {grant.code} does not name {ask.dataset.value}")
        elif school_list and not any(
            e.school == grant.school and e.valid.contains(ask.at)
            for e in ask.facts.enrollments_of(ask.student.id)
        ):
            notes.append(f"student {ask.pupil} is no longer enrolled at {ask.org_code(grant.school)}")
        else:
            return grant, ""
    what = "principal-submitted list" if school_list else "district grant"
    head = (
        f"no {what} naming student {ask.pupil} and {ask.dataset.value} for {ask.org_code(org_id)} "
        f"valid on {ask.today}"
    )
    return None, head + (f" ({'; '.join(notes)})" if notes else "")
