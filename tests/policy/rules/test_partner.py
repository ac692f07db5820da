from __future__ import annotations

from datetime import date

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.policy import TenantPolicy, decide
from steward.policy.facts import (
    AgreementFact,
    AgreementKind,
    AgreementStatus,
    ConsentFact,
    ConsentStatus,
    GrantFact,
    OrgFact,
    TrainingFact,
)
from tests.policy.scenario import NOW, actor, at, base, days, facts

W1 = actor("w1", Role.PARTNER_STAFF, "cbo1")


def _orgs_with(cbo1: OrgFact) -> list[OrgFact]:
    return [cbo1 if o.id == "cbo1" else o for o in base()["orgs"]]


def test_partner_allowed_with_all_paperwork() -> None:
    d = decide(facts(), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert d.allowed, d.missing
    assert d.basis is LegalBasis.CONSENT
    assert {"agreement:dsa1", "consent:c1", "grant:g1", "training:tr1"} <= set(d.evidence)
    kinds = {o.kind.value for o in d.obligations}
    assert {"redisclosure_notice", "encrypt"} <= kinds
    assert "record_disclosure" not in kinds  # 99.32(d)(3): consent disclosures need no record


def test_datasets_are_dsa_and_consent_and_grant() -> None:
    d = decide(facts(), W1, "st1", Dataset.DISCIPLINE, at=NOW)  # DSA + grant, no consent
    assert not d.allowed
    assert len(d.missing) == 1
    assert d.missing[0].startswith("no consent from a guardian of student d1:st1 for discipline to cbo1")
    assert "consent c1 covers attendance, not discipline" in d.missing[0]


def test_unregistered_partner_is_denied() -> None:
    cbo = OrgFact("cbo1", "cbo1", OrgKind.PARTNER, "WA", registration=RegistrationStatus.PENDING)
    d = decide(facts(orgs=_orgs_with(cbo)), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert d.missing == ("organization cbo1 is not registered (status: pending)",)


def test_expired_dsa_is_explained() -> None:
    later = at("2026-06-30T12:00")
    d = decide(facts(), W1, "st1", Dataset.ATTENDANCE, at=later)
    assert not d.allowed
    assert any("data sharing agreement dsa1 expired on 2026-06-30" in m for m in d.missing)


def test_draft_dsa_and_wrong_school_year_are_explained() -> None:
    draft = AgreementFact(
        "a1",
        "dsa1",
        AgreementKind.DSA,
        "cbo1",
        "d1",
        AgreementStatus.DRAFT,
        days("2025-07-01", "2026-06-30"),
        datasets=frozenset({Dataset.ATTENDANCE}),
    )
    d = decide(facts(agreements=[draft]), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert any("dsa1 is not executed (status: draft)" in m for m in d.missing)
    last_year = AgreementFact(
        "a1",
        "dsa1",
        AgreementKind.DSA,
        "cbo1",
        "d1",
        AgreementStatus.EXECUTED,
        days("2024-07-01", "2026-06-30"),
        datasets=frozenset({Dataset.ATTENDANCE}),
        school_year=2025,
    )
    d = decide(facts(agreements=[last_year]), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert any("dsa1 is for 2024-25, not 2025-26" in m for m in d.missing)


def test_untrained_person_is_denied() -> None:
    old = [TrainingFact("tr1", "w1", days("2024-08-01", "2025-07-31"))]
    d = decide(facts(trainings=old), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert d.missing == (
        "w1 has no stewardship training for 2025-26 valid on 2025-10-15 (the last one expired on 2025-07-31)",
    )


def test_missing_grant_is_explained() -> None:
    d = decide(facts(grants=[]), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert d.missing == (
        "no district grant naming student d1:st1 and attendance for cbo1 valid on 2025-10-15",
    )


def test_revoked_consent_counts_until_revocation_only() -> None:
    revoked = ConsentFact(
        "c1",
        "c1",
        "st1",
        "cbo1",
        frozenset({Dataset.ATTENDANCE}),
        "p1",
        date(2025, 8, 20),
        at("2025-08-20"),
        days("2025-08-20", "2025-10-01"),
        status=ConsentStatus.REVOKED,
    )
    assert decide(facts(consents=[revoked]), W1, "st1", Dataset.ATTENDANCE, at=at("2025-09-30")).allowed
    d = decide(facts(consents=[revoked]), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert not d.allowed
    assert "consent c1 expired on 2025-10-01" in d.missing[0]


def test_pending_consent_does_not_count() -> None:
    pending = ConsentFact(
        "c1",
        "c1",
        "st1",
        "cbo1",
        frozenset({Dataset.ATTENDANCE}),
        "p1",
        date(2025, 8, 20),
        at("2025-08-20"),
        days("2025-08-20", "2026-06-30"),
        status=ConsentStatus.PENDING,
    )
    d = decide(facts(consents=[pending]), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert "consent c1 is pending, not verified" in d.missing[0]


def test_consent_signed_by_someone_who_is_not_a_guardian() -> None:
    stranger = ConsentFact(
        "c1",
        "c1",
        "st1",
        "cbo1",
        frozenset({Dataset.ATTENDANCE}),
        "p2",
        date(2025, 8, 20),
        at("2025-08-20"),
        days("2025-08-20", "2026-06-30"),
    )
    d = decide(facts(consents=[stranger]), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert "was not signed by a guardian of d1:st1" in d.missing[0]


def test_adult_student_signs_own_consent_parent_cannot() -> None:
    kwargs = {
        "add_grants": [
            GrantFact(
                "g2",
                "g2",
                "d1",
                "cbo1",
                frozenset({"st2"}),
                frozenset({Dataset.ATTENDANCE}),
                days("2025-09-01", "2026-06-30"),
            )
        ]
    }
    by_student = ConsentFact(
        "c2",
        "c2",
        "st2",
        "cbo1",
        frozenset({Dataset.ATTENDANCE}),
        "u2",
        date(2025, 9, 1),
        at("2025-09-01"),
        days("2025-09-01", "2026-06-30"),
    )
    by_parent = ConsentFact(
        "c3",
        "c3",
        "st2",
        "cbo1",
        frozenset({Dataset.ATTENDANCE}),
        "p2",
        date(2025, 9, 1),
        at("2025-09-01"),
        days("2025-09-01", "2026-06-30"),
    )
    assert decide(facts(add_consents=[by_student], **kwargs), W1, "st2", Dataset.ATTENDANCE, at=NOW).allowed
    assert not decide(
        facts(add_consents=[by_parent], **kwargs), W1, "st2", Dataset.ATTENDANCE, at=NOW
    ).allowed


def test_tenant_may_withhold_a_dataset_from_partners() -> None:
    tenant = TenantPolicy("d1", kind_datasets={OrgKind.PARTNER: frozenset({Dataset.GRADES})})
    d = decide(facts(tenants={"d1": tenant}), W1, "st1", Dataset.ATTENDANCE, at=NOW)
    assert "d1 does not share attendance with partner organizations" in d.missing


def test_institutional_service_partner_uses_a_principal_list_instead_of_consent() -> None:
    designation = AgreementFact(
        "a2",
        "is1",
        AgreementKind.IS_DESIGNATION,
        "cbo1",
        "d1",
        AgreementStatus.EXECUTED,
        days("2025-07-01", "2026-06-30"),
        school_year=2026,
    )
    listed = GrantFact(
        "g9",
        "list1",
        "d1",
        "cbo1",
        frozenset({"st1"}),
        frozenset({Dataset.DISCIPLINE}),
        days("2025-09-01", "2026-06-30"),
        school="s1",
        granted_by="pr1",
    )
    d = decide(facts(add_agreements=[designation], grants=[listed]), W1, "st1", Dataset.DISCIPLINE, at=NOW)
    assert d.allowed, d.missing
    assert d.basis is LegalBasis.SCHOOL_OFFICIAL
    assert "grant:list1" in d.evidence
    # A district grant without a school is not a principal's list: the consent route applies.
    plain = GrantFact(
        "g9",
        "list1",
        "d1",
        "cbo1",
        frozenset({"st1"}),
        frozenset({Dataset.DISCIPLINE}),
        days("2025-09-01", "2026-06-30"),
    )
    d = decide(facts(add_agreements=[designation], grants=[plain]), W1, "st1", Dataset.DISCIPLINE, at=NOW)
    assert not d.allowed
    assert any(m.startswith("no principal-submitted list") for m in d.missing)


def test_marketing_partner_is_never_allowed_even_with_paperwork() -> None:
    w2 = actor("w2", Role.PARTNER_STAFF, "mkt1")
    d = decide(facts(), w2, "st1", Dataset.DIRECTORY, at=NOW)
    assert not d.allowed
    assert "flagged for marketing" in d.missing[0]
