"""The point evaluator: one principal (or one person in all their roles), one student, one dataset.

Order: hard denies first (nothing overrides them), then the rule of the actor's role and the
directory-information rule; when several allow, the basis earliest in ``BASIS_PRIORITY`` is
reported; when none does, every unmet requirement is listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.domain.time import utc
from steward.policy.decision import BASIS_RANK, Actor, Decision, Form
from steward.policy.facts import FactLookup
from steward.policy.rules import ROLE_RULES
from steward.policy.rules.common import Allow, Ask, Deny, Outcome
from steward.policy.rules.directory import directory_information
from steward.policy.rules.hard_deny import hard_deny

#: Roles whose organization does not matter: the relationship itself (guardianship, being the
#: student) is the evidence. (A ``public`` role keeps its organization: a media employee acting as
#: the public is still refused.)
ORGLESS_ROLES = frozenset({Role.PARENT, Role.STUDENT})


def _outcomes(facts: FactLookup, ask: Ask) -> list[Outcome]:
    blocked = hard_deny(ask)
    if blocked is not None:
        return [blocked]
    outcomes: list[Outcome] = []
    rule = ROLE_RULES.get(ask.actor.role)
    if rule is not None:
        outcomes.append(rule(ask))
    directory = directory_information(ask)
    if directory is not None:
        outcomes.append(directory)
    return outcomes


def _best(allows: Iterable[tuple[Actor, Allow]]) -> tuple[Actor, Allow] | None:
    ranked = sorted(enumerate(allows), key=lambda item: (BASIS_RANK[item[1][1].basis], item[0]))
    return ranked[0][1] if ranked else None


def _dedup(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _unknown_student(
    student_id: str, dataset: Dataset, form: Form, at: datetime, actor: Actor | None
) -> Decision:
    return Decision(
        allowed=False,
        student=student_id,
        dataset=dataset,
        form=form,
        at=at,
        actor=actor,
        missing=(f"no student {student_id} is known",),
        rule="unknown_student",
    )


def _decision(
    student_code: str,
    dataset: Dataset,
    form: Form,
    at: datetime,
    results: Sequence[tuple[Actor, Outcome]],
    fallback_actor: Actor | None,
    no_basis: str,
) -> Decision:
    best = _best((actor, o) for actor, o in results if isinstance(o, Allow))
    if best is not None:
        actor, chosen = best
        return Decision(
            allowed=True,
            student=student_code,
            dataset=dataset,
            form=form,
            at=at,
            actor=actor,
            basis=chosen.basis,
            evidence=chosen.evidence,
            obligations=chosen.obligations,
            elements=chosen.elements,
            school_years=chosen.school_years,
            rule=chosen.rule,
        )
    missing = _dedup(m for _, o in results if isinstance(o, Deny) for m in o.missing)
    rules = _dedup(o.rule for _, o in results)
    return Decision(
        allowed=False,
        student=student_code,
        dataset=dataset,
        form=form,
        at=at,
        actor=fallback_actor,
        missing=missing or (no_basis,),
        rule=",".join(rules),
    )


def decide(
    facts: FactLookup,
    actor: Actor,
    student_id: str,
    dataset: Dataset,
    form: Form = Form.IDENTIFIABLE,
    at: datetime | None = None,
    purpose: str = "",
) -> Decision:
    """May ``actor`` (one role at one organization) see ``dataset`` of the student, in ``form``, at
    the instant ``at``? Deny by default; every answer explains itself."""
    if at is None:
        raise ValueError("decide needs the instant `at`")
    at = utc(at)
    student = facts.student(student_id)
    if student is None:
        return _unknown_student(student_id, dataset, form, at, actor)
    ask = Ask.make(facts, actor, student, dataset, form, at, purpose)
    results = [(actor, o) for o in _outcomes(facts, ask)]
    return _decision(
        student.code,
        dataset,
        form,
        at,
        results,
        actor,
        f"no legal basis lets a {actor.role.value.replace('_', ' ')} see {dataset.value} of {student.code}",
    )


def actors_of(
    facts: FactLookup, person_id: str, student_id: str | None = None, *, role: Role | None = None
) -> list[Actor]:
    """Every capacity in which a person may act: each role assignment they ever held (the rules
    check validity at the instant), as parent or as the student themself; the public otherwise."""
    actors: dict[tuple[Role, str | None], Actor] = {}
    for assignment in sorted(facts.roles_of(person_id), key=lambda r: r.id):
        org = None if assignment.role in ORGLESS_ROLES else assignment.org
        actors.setdefault((assignment.role, org), Actor(person_id, assignment.role, org))
    if student_id is not None:
        student = facts.student(student_id)
        if any(g.parent == person_id for g in facts.guardianships_of(student_id)):
            actors.setdefault((Role.PARENT, None), Actor(person_id, Role.PARENT))
        if student is not None and student.person == person_id:
            actors.setdefault((Role.STUDENT, None), Actor(person_id, Role.STUDENT))
    if not actors:
        # Only someone with no other capacity asks as the public: a media or marketing employee
        # must not escape the hard denies of their organization this way.
        actors[(Role.PUBLIC, None)] = Actor(person_id, Role.PUBLIC)
    found = list(actors.values())
    return [a for a in found if role is None or a.role is role]


def decide_person(
    facts: FactLookup,
    person_id: str,
    student_id: str,
    dataset: Dataset,
    form: Form = Form.IDENTIFIABLE,
    at: datetime | None = None,
    purpose: str = "",
    *,
    role: Role | None = None,
    org: str | None = None,
) -> Decision:
    """Like ``decide`` for a person in any of their capacities (or only ``role``/``org``): allowed
    when one of them allows; otherwise the unmet requirements of all of them."""
    if at is None:
        raise ValueError("decide_person needs the instant `at`")
    at = utc(at)
    student = facts.student(student_id)
    if student is None:
        return _unknown_student(student_id, dataset, form, at, None)
    actors = [a for a in actors_of(facts, person_id, student_id, role=role) if org is None or a.org == org]
    results: list[tuple[Actor, Outcome]] = []
    for actor in actors:
        ask = Ask.make(facts, actor, student, dataset, form, at, purpose)
        results.extend((actor, o) for o in _outcomes(facts, ask))
    person = facts.person(person_id)
    who = person.code if person is not None else person_id
    fallback = actors[0] if len(actors) == 1 else None
    return _decision(
        student.code,
        dataset,
        form,
        at,
        results,
        fallback,
        f"no legal basis lets {who} see {dataset.value} of {student.code}: no role, guardianship "
        "or other relationship of theirs gives access",
    )
