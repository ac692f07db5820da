"""Fee estimates from a district's schedule: a base fee, plus per hour of analyst time, plus per
thousand rows (BPS: "fees may apply and are estimated upfront"). Amounts are whole cents."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    base_cents: int = 0
    per_hour_cents: int = 0
    per_thousand_rows_cents: int = 0

    @property
    def free(self) -> bool:
        return self.base_cents == self.per_hour_cents == self.per_thousand_rows_cents == 0


def estimate(schedule: FeeSchedule, hours: float, rows: int) -> int:
    """The estimate in cents (rounded up to the cent); negative inputs are refused."""
    if hours < 0 or rows < 0:
        raise ValueError("hours and rows must not be negative")
    total = (
        schedule.base_cents + hours * schedule.per_hour_cents + rows / 1000 * schedule.per_thousand_rows_cents
    )
    return math.ceil(round(total, 6))


def dollars(cents: int | None) -> str:
    """``$1,234.50``; ``—`` for no estimate."""
    if cents is None:
        return "—"
    return f"${cents // 100:,}.{cents % 100:02d}"
