from __future__ import annotations

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.policy import Form, decide
from steward.policy.facts import RoleFact
from tests.policy.scenario import NOW, actor, at, days, facts

T1 = actor("t1", Role.TEACHER, "s1")


def test_teacher_sees_students_of_their_sections_this_year() -> None:
    d = decide(facts(), T1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.SCHOOL_OFFICIAL
    assert d.citation == "34 CFR 99.31(a)(1)"
    assert {"section:sec1", "section_enrollment:se1", "staff_assignment:sa1"} <= set(d.evidence)
    assert not d.missing


def test_teacher_denied_other_students_with_reason() -> None:
    d = decide(facts(), T1, "st3", Dataset.GRADES, at=NOW)
    assert not d.allowed
    assert d.missing == (
        "t1 teaches no section at s1 with student d1:st3 on 2025-10-15 (school year 2025-26)",
    )


def test_last_years_teacher_is_denied_this_year() -> None:
    t2 = actor("t2", Role.TEACHER, "s1")
    assert decide(facts(), t2, "st1", Dataset.GRADES, at=at("2025-03-01")).allowed
    assert not decide(facts(), t2, "st1", Dataset.GRADES, at=NOW).allowed


def test_teacher_access_ends_with_the_section_interval_end_exclusive() -> None:
    assert decide(facts(), T1, "st1", Dataset.ATTENDANCE, at=at("2026-06-18T23:59:59")).allowed
    assert not decide(facts(), T1, "st1", Dataset.ATTENDANCE, at=at("2026-06-19")).allowed


def test_teacher_without_a_valid_role_is_denied() -> None:
    roles = [RoleFact("1", "t1", Role.TEACHER, "s1", days("2020-01-01", "2025-10-01"))]
    d = decide(facts(roles=roles), T1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert not d.allowed
    assert "t1 holds no teacher role at s1 on 2025-10-15" in d.missing


def test_teacher_acting_at_another_school_is_denied() -> None:
    roles = [RoleFact("1", "t1", Role.TEACHER, "s2", days("2020-01-01"))]
    d = decide(facts(roles=roles), actor("t1", Role.TEACHER, "s2"), "st1", Dataset.ATTENDANCE, at=NOW)
    assert not d.allowed


def test_principal_sees_enrolled_students_of_own_school() -> None:
    pr1 = actor("pr1", Role.PRINCIPAL, "s1")
    d = decide(facts(), pr1, "st1", Dataset.DISCIPLINE, at=NOW)
    assert d.allowed
    assert "enrollment:e1" in d.evidence
    denied = decide(facts(), pr1, "st3", Dataset.DISCIPLINE, at=NOW)
    assert denied.missing == ("student d1:st3 is not enrolled at s1 on 2025-10-15",)


def test_principal_denied_in_summer_when_no_enrollment_is_in_force() -> None:
    pr1 = actor("pr1", Role.PRINCIPAL, "s1")
    assert not decide(facts(), pr1, "st1", Dataset.GRADES, at=at("2025-07-15")).allowed


def test_counselor_follows_the_school_rule() -> None:
    assert decide(facts(), actor("co1", Role.COUNSELOR, "s1"), "st1", Dataset.GRADES, at=NOW).allowed


def test_lesser_forms_carry_their_obligations() -> None:
    d = decide(facts(), T1, "st1", Dataset.DEMOGRAPHICS, Form.DEIDENTIFIED, at=NOW)
    assert d.allowed
    assert d.elements is not None
    assert "birth_date" not in d.elements
    assert "sex" in d.elements
    assert "deidentify" in {o.kind.value for o in d.obligations}
    agg = decide(facts(), T1, "st1", Dataset.ATTENDANCE, Form.AGGREGATE, at=NOW)
    assert [o.value for o in agg.obligations if o.kind.value == "suppress_small_groups"] == [10]


def test_school_officials_need_no_disclosure_record() -> None:
    d = decide(facts(), T1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert "record_disclosure" not in {o.kind.value for o in d.obligations}
