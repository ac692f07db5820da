from __future__ import annotations

from datetime import date

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.policy import Form, TenantPolicy, decide
from steward.policy.facts import AgreementFact, AgreementKind, AgreementStatus, ConsentFact, GrantFact
from tests.policy.scenario import NOW, actor, at, days, facts

RS1 = actor("rs1", Role.RESEARCHER, "uni1")


def approval(**kw: object) -> AgreementFact:
    args: dict[str, object] = {
        "id": "ra1",
        "code": "RA-1",
        "kind": AgreementKind.RESEARCH_APPROVAL,
        "org": "uni1",
        "district": "d1",
        "status": AgreementStatus.APPROVED,
        "valid": days("2025-01-01", "2027-01-01"),
    }
    args.update(kw)
    return AgreementFact(**args)  # type: ignore[arg-type]


def nda(**kw: object) -> AgreementFact:
    args: dict[str, object] = {
        "id": "n1",
        "code": "NDA-1",
        "kind": AgreementKind.NDA,
        "org": "uni1",
        "district": "d1",
        "status": AgreementStatus.EXECUTED,
        "valid": days("2025-01-01", "2027-01-01"),
        "datasets": frozenset({Dataset.ATTENDANCE, Dataset.ASSESSMENT}),
        "school_years": frozenset({2009, 2025, 2026}),
    }
    args.update(kw)
    return AgreementFact(**args)  # type: ignore[arg-type]


def research(*agreements: AgreementFact, **more: object) -> object:
    return facts(agreements=list(agreements), **more)  # type: ignore[arg-type]


def test_deidentified_allowed_with_approval_and_agreement() -> None:
    f = research(approval(), nda())
    d = decide(f, RS1, "st1", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW)  # type: ignore[arg-type]
    assert d.allowed, d.missing
    assert d.basis is LegalBasis.DEIDENTIFIED
    assert d.school_years == (2025, 2026)  # 2009 is before the floor year 2010
    assert {"agreement:RA-1", "agreement:NDA-1"} <= set(d.evidence)
    kinds = {o.kind.value for o in d.obligations}
    assert {"deidentify", "destroy_by", "limit_school_years", "encrypt"} <= kinds
    destroy = next(o for o in d.obligations if o.kind.value == "destroy_by")
    assert destroy.value == "2027-02-15"  # 45 days after the end


def test_identifiable_needs_a_studies_agreement_naming_identifiers() -> None:
    d = decide(research(approval(), nda()), RS1, "st1", Dataset.ATTENDANCE, at=NOW)  # type: ignore[arg-type]
    assert not d.allowed
    assert any("de-identified data only" in m for m in d.missing)


def test_identifiable_with_studies_agreement_and_consent() -> None:
    studies = nda(
        id="s1",
        code="ST-1",
        kind=AgreementKind.STUDIES,
        elements=frozenset({"demographics.state_id", "attendance.attendance_rate"}),
    )
    consent = ConsentFact(
        "c9",
        "c9",
        "st1",
        "uni1",
        frozenset({Dataset.ATTENDANCE}),
        "p1",
        date(2025, 8, 20),
        at("2025-08-20"),
        days("2025-08-20", "2026-06-30"),
    )
    without = research(approval(), studies)
    d = decide(without, RS1, "st1", Dataset.ATTENDANCE, at=NOW)  # type: ignore[arg-type]
    assert not d.allowed
    assert d.missing[0].startswith("no consent from a guardian of student d1:st1 for attendance to uni1")
    d = decide(research(approval(), studies, add_consents=[consent]), RS1, "st1", Dataset.ATTENDANCE, at=NOW)  # type: ignore[arg-type]
    assert d.allowed
    assert d.basis is LegalBasis.STUDIES
    assert d.elements == ("attendance_rate",)
    assert "record_disclosure" in {o.kind.value for o in d.obligations}
    relaxed = {"d1": TenantPolicy("d1", research_identifiable_requires_consent=False)}
    d = decide(research(approval(), studies, tenants=relaxed), RS1, "st1", Dataset.ATTENDANCE, at=NOW)  # type: ignore[arg-type]
    assert d.allowed


def test_no_approval_is_explained() -> None:
    d = decide(research(nda()), RS1, "st1", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW)  # type: ignore[arg-type]
    assert d.missing == ("no approved research proposal between uni1 and d1 in force on 2025-10-15",)


def test_three_year_limit() -> None:
    long_ = {"valid": days("2022-01-01", "2030-01-01")}
    f = research(approval(**long_), nda(**long_))
    assert decide(f, RS1, "st1", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=at("2024-12-31")).allowed  # type: ignore[arg-type]
    d = decide(f, RS1, "st1", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW)  # type: ignore[arg-type]
    assert not d.allowed
    assert any("3-year limit on 2025-01-01" in m for m in d.missing)


def test_only_agreement_datasets_elements_and_years() -> None:
    f = research(approval(), nda())
    d = decide(f, RS1, "st1", Dataset.DISCIPLINE, Form.DEIDENTIFIED, at=NOW)  # type: ignore[arg-type]
    assert d.missing == ("non-disclosure agreement NDA-1 does not cover discipline",)
    old_only = research(approval(), nda(school_years=frozenset({2008, 2009})))
    d = decide(old_only, RS1, "st1", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW)  # type: ignore[arg-type]
    assert "covers no school year from 2009-10 on" in d.missing[0]
    narrow = research(approval(), nda(elements=frozenset({"assessment.scale_score"})))
    d = decide(narrow, RS1, "st1", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW)  # type: ignore[arg-type]
    assert d.missing == ("non-disclosure agreement NDA-1 names no attendance elements",)


def test_students_outside_the_agreement_years_are_not_in_the_study() -> None:
    f = research(approval(), nda(school_years=frozenset({2024})))
    d = decide(f, RS1, "st3", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW)  # type: ignore[arg-type]
    assert "was not enrolled in d1" in d.missing[0]
    assert decide(f, RS1, "st3", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW).allowed is False  # type: ignore[arg-type]
    f2 = research(approval(), nda(school_years=frozenset({2025})))
    assert decide(f2, RS1, "st1", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW).allowed  # type: ignore[arg-type]


def test_grants_do_not_matter_to_researchers() -> None:
    g = GrantFact("gx", "gx", "d1", "uni1", frozenset({"st1"}), frozenset(Dataset), days("2025-01-01"))
    d = decide(research(nda(), add_grants=[g]), RS1, "st1", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW)  # type: ignore[arg-type]
    assert not d.allowed
