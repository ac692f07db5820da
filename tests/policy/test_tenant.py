from __future__ import annotations

import pytest

from steward.domain.datasets import Dataset
from steward.domain.orgs import OrgKind
from steward.policy.tenant import TenantPolicy, TenantPolicyError


def test_defaults_follow_ferpa_and_the_seeds() -> None:
    t = TenantPolicy("d1")
    assert t.floor_year == 2010
    assert t.suppression_threshold == 10
    assert t.directory_dataset_elements() == (
        "first_name",
        "middle_name",
        "last_name",
        "age",
        "grade_level",
        "enrollment_dates",
    )
    assert t.datasets_for(OrgKind.VENDOR) == {Dataset.DIRECTORY, Dataset.ENROLLMENT, Dataset.SCHEDULE}
    assert t.datasets_for(OrgKind.MEDIA) == frozenset()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"floor_year": 2005}, "before the hub's floor"),
        ({"suppression_threshold": 5}, "below 10"),
        ({"directory_elements": ("name", "ssn")}, "not directory information"),
        ({"directory_elements": ("birth_date",)}, "not directory information"),
        ({"emergency_window_hours": 500}, "emergency_window_hours"),
        ({"max_research_years": 5}, "max_research_years"),
        ({"kind_datasets": {OrgKind.VENDOR: frozenset({Dataset.GRADES})}}, "may never receive"),
        ({"kind_datasets": {OrgKind.MEDIA: frozenset({Dataset.DIRECTORY})}}, "receive no student data"),
    ],
)
def test_a_tenant_cannot_loosen_below_the_floor(change: dict[str, object], message: str) -> None:
    with pytest.raises(TenantPolicyError, match=message):
        TenantPolicy("d1").with_changes(**change)


def test_tightening_is_allowed_and_round_trips() -> None:
    t = TenantPolicy(
        "d1",
        floor_year=2015,
        suppression_threshold=20,
        kind_datasets={OrgKind.PARTNER: frozenset({Dataset.ATTENDANCE})},
        emergency_window_hours=4,
    )
    again = TenantPolicy.from_settings("d1", floor_year=2015, suppression_threshold=20, extra=t.to_extra())
    assert again == t


def test_unknown_extra_settings_are_refused() -> None:
    with pytest.raises(TenantPolicyError, match="unknown tenant settings"):
        TenantPolicy.from_settings("d1", extra={"loosen_everything": True})
    with pytest.raises(TenantPolicyError, match="kind_datasets"):
        TenantPolicy.from_settings("d1", extra={"kind_datasets": {"partner": ["gossip"]}})
