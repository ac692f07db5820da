"""The policy test file format: strict, with the line of every problem."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.policy.decision import Form
from steward.policy.testfile import PolicyFileError, parse_policy_file

HEAD = """\
now: 2025-10-15T10:00:00-07:00
tenant: {district: d1}
facts:
  organizations: [{id: d1, kind: district, state: WA, region: r1}, {id: s1, kind: school, district: d1}]
  people: [{id: t1, roles: [{role: teacher, org: s1}]}]
  students: [{id: st1, district: d1, birth_date: 2014-03-02}]
"""


def test_minimal_file() -> None:
    parsed = parse_policy_file(HEAD + "checks:\n  - {as: t1, student: st1, dataset: grades, expect: deny}\n")
    assert parsed.now == datetime(2025, 10, 15, 17, 0, tzinfo=UTC)
    (check,) = parsed.checks
    assert check.line == 8
    assert check.dataset is Dataset.GRADES
    assert check.form is Form.IDENTIFIABLE
    assert check.at == parsed.now
    assert not check.expect_allow


def test_dates_are_local_midnight_and_times_keep_their_offset() -> None:
    text = HEAD + (
        "checks:\n"
        "  - {as: t1, student: st1, dataset: grades, expect: deny, at: 2026-07-01}\n"
        "  - {as: t1, student: st1, dataset: grades, expect: deny, at: 2026-07-01T09:30:00}\n"
        "  - {as: t1, student: st1, dataset: grades, expect: deny, at: 2026-07-01T09:30:00Z}\n"
    )
    a, b, c = parse_policy_file(text).checks
    assert a.at == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert b.at == datetime(2026, 7, 1, 16, 30, tzinfo=UTC)
    assert c.at == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


def test_added_keys() -> None:
    text = HEAD + (
        "checks:\n"
        "  - {as: t1, student: st1, dataset: grades, expect: allow, basis: school_official, role: teacher,\n"
        "     org: s1, form: aggregate, purpose: instruction, evidence_contains: [section], name: n,\n"
        "     obligations_contains: suppress_small_groups, missing_contains: [a, b]}\n"
    )
    (check,) = parse_policy_file(text).checks
    assert check.basis is LegalBasis.SCHOOL_OFFICIAL
    assert check.org == "s1"
    assert check.missing_contains == ("a", "b")
    assert check.obligations_contains == ("suppress_small_groups",)


@pytest.mark.parametrize(
    ("tail", "line", "message"),
    [
        (
            "checks:\n  - {as: t1, student: st9, dataset: grades, expect: deny}\n",
            8,
            "'st9' is not a declared student",
        ),
        (
            "checks:\n  - {as: t1, student: st1, dataset: gossip, expect: deny}\n",
            8,
            "dataset 'gossip' is not one of",
        ),
        (
            "checks:\n  - {as: t1, student: st1, dataset: grades, expect: maybe}\n",
            8,
            "expect must be allow or deny",
        ),
        (
            "checks:\n  - {as: t1, student: st1, dataset: grades, expect: deny, wat: 1}\n",
            8,
            "unknown key 'wat'",
        ),
        (
            "checks:\n  - {as: t1, student: st1, dataset: grades, expect: deny, at: 2025-13-45}\n",
            8,
            "not a valid date",
        ),
        (
            "checks:\n  - {as: t1, student: st1, dataset: grades, expect: deny, basis: school_official}\n",
            8,
            "basis only",
        ),
        ("checks:\n  - {as: t1, student: st1, dataset: grades\n", 9, "not valid YAML"),
        ("checks: []\n", 7, "at least one check"),
        ("", 1, "checks is required"),
    ],
)
def test_errors_name_the_line(tail: str, line: int, message: str) -> None:
    with pytest.raises(PolicyFileError) as info:
        parse_policy_file(HEAD + tail, "f.yaml")
    assert info.value.line == line, str(info.value)
    assert message in info.value.message
    assert str(info.value).startswith(f"f.yaml:{line}: ")


CONSENT = (
    "  consents: [{{id: c1, student: st1, org: s1, datasets: {datasets}, signed_by: p1,"
    " {signed} from: 2025-01-01}}]\n"
)
GRANT = "{id: g, district: d1, org: s1, students: [st1], datasets: [grades], from: 2025-01-01}"
AGREEMENT = "  agreements: [{id: a, kind: dsa, org: s1, district: d1, status: signed, from: 2025-01-01}]\n"


@pytest.mark.parametrize(
    ("facts", "line", "message"),
    [
        (
            "  enrollments: [{student: st1, school: s9, from: 2025-09-02}]\n",
            7,
            "'s9' is not a declared organization",
        ),
        ("  enrollments: [{student: st1, school: d1, from: 2025-09-02}]\n", 7, "is a district, not a school"),
        ("  enrollments: [{student: st1, school: s1}]\n", 7, "from is required"),
        (
            "  enrollments: [{student: st1, school: s1, from: 2025-09-02, to: 2025-01-01}]\n",
            7,
            "to is before from",
        ),
        (CONSENT.format(datasets="[x]", signed="signed_on: 2025-01-01,"), 7, "datasets 'x'"),
        (CONSENT.format(datasets="[grades]", signed=""), 7, "signed_on is required"),
        (AGREEMENT, 7, "status 'signed'"),
        (f"  grants: [{GRANT},\n           {GRANT}]\n", 8, "used twice"),
        ("  opt_outs: [{student: st1, kind: directory, from: yesterday}]\n", 7, "must be a date"),
        ("  nonsense: []\n", 7, "unknown key 'nonsense'"),
    ],
)
def test_fact_errors_name_the_line(facts: str, line: int, message: str) -> None:
    text = HEAD + facts + "checks:\n  - {as: t1, student: st1, dataset: grades, expect: deny}\n"
    with pytest.raises(PolicyFileError) as info:
        parse_policy_file(text, "f.yaml")
    assert info.value.line == line, str(info.value)
    assert message in info.value.message, info.value.message


def test_tenant_cannot_loosen() -> None:
    text = HEAD.replace("tenant: {district: d1}", "tenant: {district: d1, suppression_threshold: 3}")
    with pytest.raises(PolicyFileError, match="below 10") as info:
        parse_policy_file(text + "checks:\n  - {as: t1, student: st1, dataset: grades, expect: deny}\n")
    assert info.value.line == 2


def test_emergency_window_comes_from_the_tenant() -> None:
    text = HEAD.replace("tenant: {district: d1}", "tenant: {district: d1, emergency_window_hours: 6}") + (
        "  emergencies: [{person: o1, student: st1, threat: x, at: 2025-10-15T09:00:00-07:00}]\n"
        "checks:\n  - {as: o1, student: st1, dataset: grades, expect: deny}\n"
    )
    (emergency,) = parse_policy_file(text).facts.emergencies
    assert emergency.valid.end is not None
    assert (emergency.valid.end - emergency.valid.start).total_seconds() == 6 * 3600
