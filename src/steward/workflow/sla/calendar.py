"""Business days: weekdays that are neither a federal or state holiday nor a district closure day.

Pure: a ``BusinessCalendar`` is a set of non-working dates; ``numpy``'s business-day functions do
the counting. ``calendar_for`` builds one from the ``holidays`` package (US federal holidays plus
the state's, e.g. Washington's Native American Heritage Day) and the district's closure days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import holidays as holiday_data
import numpy as np


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Monday to Friday, minus ``closed`` (holidays and closure days)."""

    closed: frozenset[date] = frozenset()

    def _holidays(self) -> list[np.datetime64]:
        return [np.datetime64(d, "D") for d in sorted(self.closed)]

    def is_business_day(self, day: date) -> bool:
        return bool(np.is_busday(np.datetime64(day, "D"), holidays=self._holidays()))

    def add(self, start: date, days: int) -> date:
        """The ``days``-th business day after ``start`` (``start`` itself, when not a business day,
        first moves forward to the next one; ``days`` = 0 gives that day)."""
        result = np.busday_offset(np.datetime64(start, "D"), days, roll="forward", holidays=self._holidays())
        return date.fromisoformat(str(result))

    def between(self, start: date, end: date) -> int:
        """Business days in ``[start, end)`` (negative when ``end`` is before ``start``)."""
        return int(
            np.busday_count(np.datetime64(start, "D"), np.datetime64(end, "D"), holidays=self._holidays())
        )


def public_holidays(years: Iterable[int], country: str = "US", subdivision: str | None = "WA") -> set[date]:
    """Federal holidays and, with ``subdivision``, the state's own, for the given years."""
    wanted = sorted(set(years))
    days: set[date] = set(holiday_data.country_holidays(country, years=wanted).keys())
    if subdivision:
        days |= set(holiday_data.country_holidays(country, subdiv=subdivision, years=wanted).keys())
    return days


def calendar_for(
    years: Iterable[int],
    country: str = "US",
    subdivision: str | None = "WA",
    closures: Iterable[date] = (),
) -> BusinessCalendar:
    """The calendar of a district for ``years`` (include the years any computation may reach)."""
    return BusinessCalendar(frozenset(public_holidays(years, country, subdivision) | set(closures)))
