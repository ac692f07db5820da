"""The SLA clock in business days: due dates across holidays, a pause while waiting on the
requester, and the dashboard states (on track, at risk, overdue, paused, met, missed)."""

from __future__ import annotations

from datetime import date

from steward.workflow.sla.calendar import calendar_for
from steward.workflow.sla.clock import Pause, SlaState, status

CAL = calendar_for([2026, 2027])
SUBMITTED = date(2026, 11, 16)  # a Monday


def test_fifteen_business_days_across_thanksgiving() -> None:
    # Nov 16 + 15 business days, skipping Thanksgiving and Native American Heritage Day (Nov 26-27).
    clock = status(CAL, SUBMITTED, 15, [], date(2026, 11, 17))
    assert clock.due == date(2026, 12, 9)
    assert clock.state is SlaState.ON_TRACK
    assert clock.remaining == CAL.between(date(2026, 11, 17), date(2026, 12, 9))


def test_a_pause_moves_the_due_date_by_its_business_days() -> None:
    # Waiting on the requester from Mon Nov 23 to Mon Nov 30: Mon, Tue, Wed (holidays Thu, Fri) = 3.
    pauses = [Pause(date(2026, 11, 23), date(2026, 11, 30))]
    clock = status(CAL, SUBMITTED, 15, pauses, date(2026, 12, 1))
    assert clock.paused_days == 3
    assert clock.due == CAL.add(date(2026, 12, 9), 3) == date(2026, 12, 14)


def test_an_open_pause_counts_up_to_today_and_shows_paused() -> None:
    clock = status(CAL, SUBMITTED, 15, [Pause(date(2026, 11, 23))], date(2026, 11, 25))
    assert clock.state is SlaState.PAUSED
    assert clock.paused_days == 2
    assert clock.due == date(2026, 12, 11)


def test_at_risk_overdue_met_and_missed() -> None:
    due = date(2026, 12, 9)
    assert status(CAL, SUBMITTED, 15, [], date(2026, 12, 4), at_risk_days=3).state is SlaState.AT_RISK
    assert status(CAL, SUBMITTED, 15, [], date(2026, 12, 3), at_risk_days=3).state is SlaState.ON_TRACK
    assert status(CAL, SUBMITTED, 15, [], due).state is SlaState.AT_RISK
    late = status(CAL, SUBMITTED, 15, [], date(2026, 12, 10))
    assert late.state is SlaState.OVERDUE
    assert late.remaining == -1
    assert (
        status(CAL, SUBMITTED, 15, [], date(2027, 1, 5), stopped_on=due, delivered=True).state is SlaState.MET
    )
    missed = status(CAL, SUBMITTED, 15, [], date(2027, 1, 5), stopped_on=date(2026, 12, 11), delivered=True)
    assert missed.state is SlaState.MISSED
    assert status(CAL, SUBMITTED, 15, [], date(2027, 1, 5), stopped_on=due).state is SlaState.STOPPED


def test_research_target_over_winter_holidays_and_closures() -> None:
    closed = calendar_for([2026, 2027], closures=[date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30)])
    # Dec 1 + 25 business days: Christmas, three closure days and New Year's Day are skipped.
    clock = status(closed, date(2026, 12, 1), 25, [], date(2026, 12, 2))
    assert clock.due == date(2027, 1, 12)
    assert status(CAL, date(2026, 12, 1), 25, [], date(2026, 12, 2)).due == date(2027, 1, 7)
