"""Fee estimates from the tenant schedule (pure)."""

from __future__ import annotations

import pytest

from steward.workflow.requests.fees import FeeSchedule, dollars, estimate


def test_base_plus_hours_plus_rows_rounded_up_to_the_cent() -> None:
    schedule = FeeSchedule(base_cents=2500, per_hour_cents=4000, per_thousand_rows_cents=150)
    assert estimate(schedule, 2.5, 12_345) == 2500 + 10_000 + 1852
    assert dollars(estimate(schedule, 0, 0)) == "$25.00"
    assert dollars(123456) == "$1,234.56"
    assert dollars(None) == "—"
    assert FeeSchedule().free


def test_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        estimate(FeeSchedule(), -1, 0)
