"""Intake checks (pure): IDs for named students, a justification per sensitive element, the
fields student-level requests need."""

from __future__ import annotations

from datetime import date

from steward.workflow.requests.intake import RequestInput, base_elements, check, sensitive_elements

TODAY = date(2026, 11, 20)


def good(**changes: object) -> RequestInput:
    values: dict[str, object] = {
        "district_id": 1,
        "title": "t",
        "purpose": "p",
        "audience": "a",
        "summary": "s",
        "level": "deidentified",
        "datasets": ["assessment"],
        "school_years": [2025, 2026],
        "population": "grade 5",
        "security_plan": "encrypted",
        "access_list": ["Lena Park"],
        "destruction_method": "wipe",
    }
    values.update(changes)
    return RequestInput(**values)  # type: ignore[arg-type]


def problems(form: RequestInput) -> dict[str, str]:
    return {p.field: p.message for p in check(form, today=TODAY, floor_year=2010, current_year=2027)}


def test_a_complete_form_passes() -> None:
    assert problems(good()) == {}


def test_named_students_need_their_ids() -> None:
    found = problems(good(names_students=True, student_refs=[" "]))
    assert "requests without ID numbers are not filled" in found["student_ids"]
    assert "student_ids" not in problems(good(names_students=True, student_refs=["100"]))


def test_each_sensitive_element_needs_a_justification() -> None:
    form = good(
        datasets=["programs", "discipline"],
        elements=["programs.special_education", "discipline.action_code", "discipline.incident_date"],
        justifications={"programs.special_education": "we study IEP outcomes"},
    )
    found = problems(form)
    assert "justification:discipline.action_code" in found
    assert "justification:programs.special_education" not in found
    assert "justification:discipline.incident_date" not in found
    assert sensitive_elements(form.elements) == ["programs.special_education", "discipline.action_code"]


def test_identifiers_only_in_identifiable_requests_and_never_ssn() -> None:
    found = problems(good(datasets=["demographics"], elements=["demographics.birth_date"]))
    assert "direct identifier" in found["elements"]
    found = problems(good(level="identifiable", datasets=["demographics"], elements=["demographics.ssn"]))
    assert "never disclosed" in found["elements"]


def test_years_student_level_fields_and_unknown_names() -> None:
    found = problems(
        good(
            school_years=[2009, 2028],
            security_plan="",
            access_list=[],
            destruction_method="",
            datasets=["attendance", "weather"],
            elements=["attendance.nothing"],
            needed_by=date(2026, 1, 1),
        )
    )
    for name in (
        "school_years",
        "security_plan",
        "access_list",
        "destruction_method",
        "datasets",
        "elements",
        "needed_by",
    ):
        assert name in found
    assert "aggregate" not in problems(good(level="aggregate", security_plan="", access_list=[]))


def test_base_file_has_no_identifiers_or_sensitive_elements() -> None:
    base = base_elements(["demographics", "programs"])
    assert "demographics.sex" in base
    assert "demographics.birth_date" not in base
    assert not [e for e in base if e.startswith("programs.")]
