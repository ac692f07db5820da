from __future__ import annotations

import pytest

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.policy import decide, decide_person
from steward.policy.evaluator import actors_of
from steward.policy.facts import GuardianshipFact, RoleFact
from tests.policy.scenario import ALL_TIME, NOW, actor, days, facts


def test_unknown_student_is_denied() -> None:
    d = decide(facts(), actor("t1", Role.TEACHER, "s1"), "nobody", Dataset.GRADES, at=NOW)
    assert not d.allowed
    assert d.missing == ("no student nobody is known",)


def test_decide_needs_an_instant() -> None:
    with pytest.raises(ValueError, match="instant"):
        decide(facts(), actor("t1", Role.TEACHER, "s1"), "st1", Dataset.GRADES)


def test_person_in_several_capacities_gets_the_best_basis() -> None:
    # t1 also is the parent of st1: the parent basis ranks first.
    f = facts(add_guardianships=[GuardianshipFact("g9", "t1", "st1", days("2014-03-02"))])
    d = decide_person(f, "t1", "st1", Dataset.GRADES, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.PARENT_OR_ELIGIBLE_STUDENT
    only_teacher = decide_person(f, "t1", "st1", Dataset.GRADES, at=NOW, role=Role.TEACHER)
    assert only_teacher.basis is LegalBasis.SCHOOL_OFFICIAL


def test_person_denied_lists_every_capacity() -> None:
    f = facts(add_roles=[RoleFact("99", "t1", Role.PRINCIPAL, "s3", ALL_TIME)])
    d = decide_person(f, "t1", "st3", Dataset.GRADES, at=NOW)
    assert not d.allowed
    assert d.missing == (
        "t1 teaches no section at s1 with student d1:st3 on 2025-10-15 (school year 2025-26)",
        "student d1:st3 is not enrolled at s3 on 2025-10-15",
    )
    assert d.actor is None  # several capacities were tried


def test_nobody_gets_directory_as_public_only() -> None:
    d = decide_person(facts(), "x1", "st1", Dataset.DIRECTORY, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.DIRECTORY_INFORMATION
    denied = decide_person(facts(), "x1", "st1", Dataset.GRADES, at=NOW)
    assert denied.missing[0].startswith("no legal basis lets x1 see grades of d1:st1: no role")


def test_media_person_cannot_escape_as_public() -> None:
    assert [a.role for a in actors_of(facts(), "m1", "st1")] == [Role.MEDIA]
    assert not decide_person(facts(), "m1", "st1", Dataset.DIRECTORY, at=NOW).allowed


def test_decision_explains_itself() -> None:
    d = decide(facts(), actor("w1", Role.PARTNER_STAFF, "cbo1"), "st1", Dataset.ATTENDANCE, at=NOW)
    text = d.explain()
    assert text.startswith("ALLOW attendance (identifiable) of d1:st1 to w1 as partner_staff at cbo1")
    assert "basis: consent (34 CFR 99.30)" in text
    data = d.to_dict()
    assert data["basis"] == "consent"
    assert data["citation"] == "34 CFR 99.30"
    assert "consent:c1" in data["evidence"]
    denied = decide(facts(), actor("w1", Role.PARTNER_STAFF, "cbo1"), "st1", Dataset.DISCIPLINE, at=NOW)
    assert "missing: no consent" in denied.explain()
