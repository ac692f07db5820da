"""Validity intervals, school years and local-date conversion.

Every fact in Steward is valid on a half-open interval ``[valid_from, valid_to)`` of UTC instants;
``valid_to = None`` means open-ended. Dates without a time mean local midnight in the district's
time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "America/Los_Angeles"


def utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime; naive values are taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def local_midnight(day: date, tz: str = DEFAULT_TIMEZONE) -> datetime:
    """The UTC instant of local midnight starting ``day`` in time zone ``tz``."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_date(instant: datetime, tz: str = DEFAULT_TIMEZONE) -> date:
    """The calendar date, in ``tz``, on which ``instant`` falls."""
    return utc(instant).astimezone(ZoneInfo(tz)).date()


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open validity interval of UTC instants; ``end`` None means open-ended."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        if self.end is not None:
            object.__setattr__(self, "end", utc(self.end))
            if self.end < self.start:
                raise ValueError(f"interval ends ({self.end}) before it starts ({self.start})")

    def contains(self, instant: datetime) -> bool:
        """True when ``instant`` lies in ``[start, end)``."""
        at = utc(instant)
        return self.start <= at and (self.end is None or at < self.end)

    def overlaps(self, other: Interval) -> bool:
        """True when the two half-open intervals share at least one instant."""
        a_end_after = other.end is None or self.start < other.end
        b_end_after = self.end is None or other.start < self.end
        return a_end_after and b_end_after

    @classmethod
    def of_dates(cls, start: date, end: date | None, tz: str = DEFAULT_TIMEZONE) -> Interval:
        """Interval from local midnight of ``start`` to local midnight of ``end`` (exclusive)."""
        return cls(local_midnight(start, tz), None if end is None else local_midnight(end, tz))


@dataclass(frozen=True, slots=True, order=True)
class SchoolYear:
    """A school year named by the calendar year in which it ends (CEDARS convention: 2026 = 2025-26).

    It runs from July 1 of the previous year to June 30 inclusive.
    """

    end_year: int

    @property
    def first_day(self) -> date:
        return date(self.end_year - 1, 7, 1)

    @property
    def last_day(self) -> date:
        return date(self.end_year, 6, 30)

    def interval(self, tz: str = DEFAULT_TIMEZONE) -> Interval:
        """The year as a validity interval, local midnight July 1 to local midnight July 1."""
        return Interval.of_dates(self.first_day, self.last_day + timedelta(days=1), tz)

    def label(self) -> str:
        """Display form, e.g. ``2025-26``."""
        return f"{self.end_year - 1}-{self.end_year % 100:02d}"

    @classmethod
    def of(cls, day: date) -> SchoolYear:
        """The school year containing ``day``."""
        return cls(day.year + 1 if day.month >= 7 else day.year)

    @classmethod
    def at(cls, instant: datetime, tz: str = DEFAULT_TIMEZONE) -> SchoolYear:
        """The school year containing ``instant`` in the district's time zone."""
        return cls.of(local_date(instant, tz))

    def __str__(self) -> str:
        return self.label()
