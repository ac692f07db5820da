"""A district's workflow settings: SLA targets, panel cycle months, holiday calendar, fee schedule,
where media and public records requests go. Defaults come from the seed procedures (BPS: 15 and 25
business days, clarifying questions in 3-5; OSPI: panel in March, July and November)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from steward.domain.time import DEFAULT_TIMEZONE
from steward.store.base import Base
from steward.store.models import TenantSettings


class WorkflowSettings(Base):
    """One row per district that changed a default (missing row: every default)."""

    __tablename__ = "workflow_settings"
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    partner_target_days: Mapped[int] = mapped_column(Integer, default=15)
    research_target_days: Mapped[int] = mapped_column(Integer, default=25)
    other_target_days: Mapped[int] = mapped_column(Integer, default=15)
    clarify_min_days: Mapped[int] = mapped_column(Integer, default=3)
    clarify_max_days: Mapped[int] = mapped_column(Integer, default=5)
    at_risk_days: Mapped[int] = mapped_column(Integer, default=3)
    panel_months: Mapped[list[int]] = mapped_column(JSON, default=lambda: [3, 7, 11])
    panel_day: Mapped[int] = mapped_column(Integer, default=15)
    holiday_country: Mapped[str] = mapped_column(String(2), default="US")
    holiday_subdivision: Mapped[str] = mapped_column(String(8), default="WA")
    fee_base_cents: Mapped[int] = mapped_column(Integer, default=0)
    fee_per_hour_cents: Mapped[int] = mapped_column(Integer, default=0)
    fee_per_thousand_rows_cents: Mapped[int] = mapped_column(Integer, default=0)
    renewal_reminder_days: Mapped[int] = mapped_column(Integer, default=30)
    communications_contact: Mapped[str] = mapped_column(Text, default="")
    public_records_url: Mapped[str] = mapped_column(String(300), default="")
    public_reports_url: Mapped[str] = mapped_column(String(300), default="")


class ClosureDay(Base):
    """A day the district office is closed (winter break, snow day): not a business day."""

    __tablename__ = "closure_days"
    __table_args__ = (UniqueConstraint("district_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200), default="")


@dataclass(frozen=True, slots=True)
class WorkflowConfig:
    """The settings as one typed value (the defaults when the district changed nothing)."""

    district_id: int
    timezone: str = DEFAULT_TIMEZONE
    partner_target_days: int = 15
    research_target_days: int = 25
    other_target_days: int = 15
    clarify_min_days: int = 3
    clarify_max_days: int = 5
    at_risk_days: int = 3
    panel_months: tuple[int, ...] = (3, 7, 11)
    panel_day: int = 15
    holiday_country: str = "US"
    holiday_subdivision: str = "WA"
    fee_base_cents: int = 0
    fee_per_hour_cents: int = 0
    fee_per_thousand_rows_cents: int = 0
    renewal_reminder_days: int = 30
    communications_contact: str = "the district's communications office"
    public_records_url: str = ""
    public_reports_url: str = ""
    closures: frozenset[date] = field(default_factory=frozenset)


_COPIED = tuple(
    f.name for f in fields(WorkflowConfig) if f.name not in ("district_id", "timezone", "closures")
)


def config_for(db: Session, district_id: int) -> WorkflowConfig:
    """The district's workflow settings, time zone and closure days."""
    tenant = db.get(TenantSettings, district_id)
    timezone = tenant.timezone if tenant is not None else DEFAULT_TIMEZONE
    closures = frozenset(db.scalars(select(ClosureDay.day).where(ClosureDay.district_id == district_id)))
    row = db.get(WorkflowSettings, district_id)
    if row is None:
        return WorkflowConfig(district_id=district_id, timezone=timezone, closures=closures)
    values = {name: getattr(row, name) for name in _COPIED}
    values["panel_months"] = tuple(sorted(int(m) for m in row.panel_months or ()))
    if not values["communications_contact"]:
        values.pop("communications_contact")
    return WorkflowConfig(district_id=district_id, timezone=timezone, closures=closures, **values)
