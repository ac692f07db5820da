"""Vendors, agencies, the media, registrars, district officers with emergencies, directory."""

from __future__ import annotations

from datetime import timedelta

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.time import Interval
from steward.policy import Form, TenantPolicy, decide
from steward.policy.facts import (
    AgreementFact,
    AgreementKind,
    AgreementStatus,
    EmergencyFact,
    EnrollmentRequestFact,
    OptOutFact,
    OptOutKind,
)
from tests.policy.scenario import NOW, actor, at, days, facts

V1 = actor("v1", Role.VENDOR_INTEGRATION, "ven1")
A1 = actor("a1", Role.AGENCY_ANALYST, "ag1")
O1 = actor("o1", Role.DISTRICT_DATA_OFFICER, "d1")


def contract(**kw: object) -> AgreementFact:
    args: dict[str, object] = {
        "id": "k1",
        "code": "K-1",
        "kind": AgreementKind.CONTRACT,
        "org": "ven1",
        "district": "d1",
        "status": AgreementStatus.EXECUTED,
        "valid": days("2025-07-01", "2026-07-01"),
        "datasets": frozenset({Dataset.DIRECTORY, Dataset.ENROLLMENT, Dataset.SCHEDULE}),
        "schools": frozenset({"s1"}),
        "clauses": frozenset({"no_commercial_use", "confidentiality"}),
    }
    args.update(kw)
    return AgreementFact(**args)  # type: ignore[arg-type]


def test_vendor_gets_provisioning_data_of_covered_schools() -> None:
    f = facts(agreements=[contract()])
    d = decide(f, V1, "st1", Dataset.SCHEDULE, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.SCHOOL_OFFICIAL
    assert "agreement:K-1" in d.evidence
    assert decide(f, V1, "st3", Dataset.SCHEDULE, at=NOW).missing == (
        "student d1:st3 is not enrolled at a school covered by K-1 on 2025-10-15",
    )
    assert decide(f, V1, "st1", Dataset.GRADES, at=NOW).missing == (
        "vendors receive provisioning data only (directory, enrollment, schedule), not grades",
    )


def test_vendor_needs_the_no_commercial_use_clause() -> None:
    f = facts(agreements=[contract(clauses=frozenset())])
    assert decide(f, V1, "st1", Dataset.ENROLLMENT, at=NOW).missing == (
        "contract K-1 lacks a no-commercial-use clause",
    )


def test_vendor_without_contract() -> None:
    d = decide(facts(), V1, "st1", Dataset.ENROLLMENT, at=NOW)
    assert d.missing == ("no contract between ven1 and d1 in force on 2025-10-15",)


def test_agency_aggregate_only() -> None:
    mou = AgreementFact(
        "m1",
        "MOU-1",
        AgreementKind.MOU,
        "ag1",
        "d1",
        AgreementStatus.EXECUTED,
        days("2025-01-01"),
        datasets=frozenset({Dataset.ATTENDANCE}),
    )
    f = facts(agreements=[mou])
    d = decide(f, A1, "st1", Dataset.ATTENDANCE, Form.AGGREGATE, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.DEIDENTIFIED
    assert decide(f, A1, "st1", Dataset.ATTENDANCE, Form.DEIDENTIFIED, at=NOW).missing == (
        "outside agencies receive aggregate data only, not deidentified data",
    )
    assert decide(f, A1, "st1", Dataset.GRADES, Form.AGGREGATE, at=NOW).missing == (
        "agreement MOU-1 does not cover grades",
    )


def test_media_get_nothing_not_even_directory() -> None:
    d = decide(facts(), actor("m1", Role.MEDIA, "news1"), "st1", Dataset.DIRECTORY, at=NOW)
    assert not d.allowed
    assert "communications office" in d.missing[0]


def test_hard_deny_purposes() -> None:
    d = decide(facts(), actor("p1", Role.PARENT), "st1", Dataset.GRADES, at=NOW, purpose="marketing")
    assert not d.allowed
    assert d.missing == ("student data are never disclosed for marketing",)


def test_registrar_of_the_receiving_district() -> None:
    r2 = actor("r2", Role.REGISTRAR, "d2")
    d = decide(facts(), r2, "st1", Dataset.GRADES, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.TRANSFER
    kinds = {o.kind.value for o in d.obligations}
    assert {"record_disclosure", "redisclosure_notice", "notify_parent"} <= kinds
    assert not decide(facts(), r2, "st1", Dataset.GRADES, at=at("2025-09-30")).allowed
    no_notice = {"d1": TenantPolicy("d1", annual_notice_forwards_records=True)}
    d = decide(facts(tenants=no_notice), r2, "st1", Dataset.GRADES, at=NOW)
    assert "notify_parent" not in {o.kind.value for o in d.obligations}


def test_registrar_other_state_other_region_or_no_request() -> None:
    request3 = EnrollmentRequestFact("rq3", "st1", "d3", days("2025-10-01"))
    d = decide(
        facts(add_requests=[request3]), actor("r3", Role.REGISTRAR, "d3"), "st1", Dataset.GRADES, at=NOW
    )
    assert d.missing == ("records are never transferred to an organization in another state (WA to OR)",)
    request4 = EnrollmentRequestFact("rq4", "st1", "d4", days("2025-10-01"))
    d = decide(
        facts(add_requests=[request4]), actor("r4", Role.REGISTRAR, "d4"), "st1", Dataset.GRADES, at=NOW
    )
    assert d.missing == ("d1 and d4 are not districts of the same region",)
    d = decide(facts(requests=[]), actor("r2", Role.REGISTRAR, "d2"), "st1", Dataset.GRADES, at=NOW)
    assert d.missing == ("no request on file for student d1:st1 to enroll in d2 valid on 2025-10-15",)


def test_request_naming_another_registrar_does_not_count() -> None:
    named = EnrollmentRequestFact("rq1", "st1", "d2", days("2025-10-01"), registrar="someone_else")
    assert not decide(
        facts(requests=[named]), actor("r2", Role.REGISTRAR, "d2"), "st1", Dataset.GRADES, at=NOW
    ).allowed


def test_officer_sees_identification_data_and_breaks_glass_for_the_rest() -> None:
    assert decide(facts(), O1, "st1", Dataset.ENROLLMENT, at=NOW).allowed
    d = decide(facts(), O1, "st1", Dataset.PROGRAMS, at=NOW)
    assert not d.allowed
    assert "health or safety emergency" in d.missing[0]
    start = at("2025-10-15T09:00")
    emergency = EmergencyFact(
        "em1",
        "o1",
        "st1",
        "threat of self-harm reported by counselor",
        Interval(start, start + timedelta(hours=24)),
    )
    f = facts(emergencies=[emergency])
    d = decide(f, O1, "st1", Dataset.PROGRAMS, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.HEALTH_SAFETY_EMERGENCY
    assert {"record_disclosure", "access_ends"} <= {o.kind.value for o in d.obligations}
    assert not decide(f, O1, "st1", Dataset.PROGRAMS, at=at("2025-10-16T09:00")).allowed
    assert not decide(f, O1, "st1", Dataset.PROGRAMS, at=at("2025-10-15T08:59")).allowed


def test_emergency_without_threat_does_not_count() -> None:
    start = at("2025-10-15T09:00")
    emergency = EmergencyFact("em1", "o1", "st1", "  ", Interval(start, start + timedelta(hours=24)))
    d = decide(facts(emergencies=[emergency]), O1, "st1", Dataset.PROGRAMS, at=NOW)
    assert "records no articulable threat" in d.missing[0]


def test_officer_of_another_district() -> None:
    d = decide(facts(), actor("o1", Role.DISTRICT_DATA_OFFICER, "d2"), "st1", Dataset.ENROLLMENT, at=NOW)
    assert not d.allowed


def test_directory_for_anyone_with_tenant_elements() -> None:
    d = decide(facts(), actor("x1", Role.PUBLIC), "st1", Dataset.DIRECTORY, at=NOW)
    assert d.allowed
    assert d.basis is LegalBasis.DIRECTORY_INFORMATION
    assert d.elements == ("first_name", "middle_name", "last_name", "age", "grade_level", "enrollment_dates")
    narrow = {"d1": TenantPolicy("d1", directory_elements=("grade_level",))}
    assert decide(
        facts(tenants=narrow), actor("x1", Role.PUBLIC), "st1", Dataset.DIRECTORY, at=NOW
    ).elements == ("grade_level",)
    assert not decide(facts(), actor("x1", Role.PUBLIC), "st1", Dataset.ATTENDANCE, at=NOW).allowed


def test_directory_opt_out_applies_even_after_leaving() -> None:
    opt = OptOutFact("oo1", "st1", OptOutKind.DIRECTORY, days("2025-09-10"))
    f = facts(opt_outs=[opt])
    d = decide(f, actor("x1", Role.PUBLIC), "st1", Dataset.DIRECTORY, at=at("2031-01-01"))
    assert not d.allowed
    assert d.missing == ("student d1:st1 opted out of directory information on 2025-09-10 (opt_out:oo1)",)
    assert decide(f, actor("x1", Role.PUBLIC), "st1", Dataset.DIRECTORY, at=at("2025-09-09")).allowed
    # A teacher of the student still sees the directory dataset as a school official.
    assert decide(f, actor("t1", Role.TEACHER, "s1"), "st1", Dataset.DIRECTORY, at=NOW).basis is (
        LegalBasis.SCHOOL_OFFICIAL
    )


def test_review_panel_member_sees_directory_only() -> None:
    rp = actor("rp1", Role.REVIEW_PANEL_MEMBER, "d1")
    assert not decide(facts(), rp, "st1", Dataset.GRADES, at=NOW).allowed
    assert decide(facts(), rp, "st1", Dataset.DIRECTORY, at=NOW).allowed
