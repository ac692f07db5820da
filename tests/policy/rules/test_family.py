from __future__ import annotations

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.policy import decide
from steward.policy.facts import DependencyFact, GuardianshipFact
from tests.policy.scenario import NOW, actor, at, base, days, facts, replace

P1 = actor("p1", Role.PARENT)


def test_parent_sees_own_child() -> None:
    d = decide(facts(), P1, "st1", Dataset.GRADES, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.PARENT_OR_ELIGIBLE_STUDENT
    assert d.evidence == ("guardianship:g1",)
    assert not d.obligations


def test_parent_denied_other_children() -> None:
    d = decide(facts(), P1, "st3", Dataset.GRADES, at=NOW)
    assert not d.allowed
    assert d.missing == ("p1 is not a guardian of student d1:st3 on 2025-10-15",)


def test_restricted_guardianship_denies() -> None:
    g = [GuardianshipFact("g1", "p1", "st1", days("2014-03-02"), restricted=True)]
    d = decide(facts(guardianships=g), P1, "st1", Dataset.GRADES, at=NOW)
    assert not d.allowed
    assert "legal restriction" in d.missing[0]


def test_student_level_legal_restriction_denies_parents() -> None:
    kwargs = base()
    kwargs["students"] = [
        replace(s, legal_restriction=True) if s.id == "st1" else s for s in kwargs["students"]
    ]
    from steward.policy import FactBase

    assert not decide(FactBase(**kwargs), P1, "st1", Dataset.GRADES, at=NOW).allowed


def test_ended_guardianship_is_explained() -> None:
    g = [GuardianshipFact("g1", "p1", "st1", days("2014-03-02", "2025-01-01"))]
    d = decide(facts(guardianships=g), P1, "st1", Dataset.GRADES, at=NOW)
    assert "guardianship g1 expired on 2025-01-01" in d.missing[0]


def test_at_18_the_rights_pass_to_the_student() -> None:
    p2 = actor("p2", Role.PARENT)
    assert decide(facts(), p2, "st2", Dataset.GRADES, at=at("2025-04-30T23:00")).allowed
    d = decide(facts(), p2, "st2", Dataset.GRADES, at=at("2025-05-01"))
    assert not d.allowed
    assert "turned 18 on 2025-05-01" in d.missing[0]
    assert "99.31(a)(8)" in d.missing[0]


def test_dependency_record_lets_the_parent_of_an_adult_see() -> None:
    dep = [DependencyFact("dep1", "p2", "st2", days("2025-01-01", "2026-01-01"))]
    d = decide(facts(dependencies=dep), actor("p2", Role.PARENT), "st2", Dataset.GRADES, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.DEPENDENT_STUDENT_PARENT
    assert "dependency:dep1" in d.evidence


def test_eligible_student_sees_own_records_minor_does_not() -> None:
    assert decide(facts(), actor("u2", Role.STUDENT), "st2", Dataset.GRADES, at=NOW).basis is (
        LegalBasis.PARENT_OR_ELIGIBLE_STUDENT
    )
    d = decide(facts(), actor("u2", Role.STUDENT), "st2", Dataset.GRADES, at=at("2025-01-01"))
    assert not d.allowed
    assert "under 18" in d.missing[0]
    other = decide(facts(), actor("u2", Role.STUDENT), "st1", Dataset.GRADES, at=NOW)
    assert other.missing == ("u2 is not student d1:st1",)
