"""Business days across federal and Washington holidays and district closure days."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from steward.workflow.sla.calendar import BusinessCalendar, calendar_for, public_holidays

CAL = calendar_for([2025, 2026, 2027], closures=[date(2026, 12, 28), date(2026, 12, 29)])


def test_federal_and_state_holidays_are_not_business_days() -> None:
    days = public_holidays([2026])
    assert date(2026, 11, 26) in days  # Thanksgiving (federal)
    assert date(2026, 11, 27) in days  # Native American Heritage Day (Washington)
    assert date(2026, 6, 19) in days  # Juneteenth
    assert date(2026, 7, 3) in days  # Independence Day observed (July 4 is a Saturday)
    assert date(2026, 10, 12) in days  # Columbus Day stays a federal holiday
    assert not CAL.is_business_day(date(2026, 11, 27))
    assert not CAL.is_business_day(date(2026, 11, 28))  # Saturday
    assert CAL.is_business_day(date(2026, 11, 25))


def test_adding_business_days_skips_thanksgiving_and_closures() -> None:
    # Friday 2026-11-20 + 5 business days: Mon-Wed, (Thanksgiving, Heritage Day), Mon, Tue.
    assert CAL.add(date(2026, 11, 20), 5) == date(2026, 12, 1)
    # Christmas Friday and two closure days: Wed 23 + 2 -> Thu 24, Wed 30.
    assert CAL.add(date(2026, 12, 23), 2) == date(2026, 12, 30)
    # A start on a weekend moves to Monday first.
    assert CAL.add(date(2026, 11, 21), 0) == date(2026, 11, 23)
    assert CAL.between(date(2026, 11, 20), date(2026, 12, 1)) == 5


def test_a_district_without_state_holidays_works_on_heritage_day() -> None:
    federal = calendar_for([2026], subdivision=None)
    assert federal.is_business_day(date(2026, 11, 27))


@settings(max_examples=60, deadline=None)
@given(st.dates(date(2025, 8, 1), date(2026, 12, 1)), st.integers(0, 60))
def test_add_and_between_agree(start: date, days: int) -> None:
    end = CAL.add(start, days)
    first = CAL.add(start, 0)
    assert CAL.between(first, end) == days
    assert CAL.is_business_day(end)


def test_empty_calendar_is_monday_to_friday() -> None:
    plain = BusinessCalendar()
    monday = date(2026, 1, 5)
    assert [plain.is_business_day(monday + timedelta(days=i)) for i in range(7)] == [True] * 5 + [False] * 2
