"""The public transparency page (no sign-in): every organization with an agreement in force with a
district, its purpose, the datasets and elements it receives, its term and destruction date; and
the district's data request statistics (received, filled, median days to fill). Only agreements
and counts: no student data, no names of people."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from steward.domain.datasets import ELEMENTS, Dataset, Sensitivity
from steward.domain.time import SchoolYear, local_date
from steward.policy.facts import AgreementKind, AgreementStatus
from steward.store.base import now_utc
from steward.store.models import Organization
from steward.workflow.agreements.rules import destroy_by
from steward.workflow.agreements.service import terms_of
from steward.workflow.common import timezone_of
from steward.workflow.models import Agreement
from steward.workflow.requests.models import DataRequest

#: Kinds of agreement that let data leave the district (network-use agreements do not).
LISTED_KINDS = frozenset(k.value for k in AgreementKind) - {AgreementKind.NETWORK_USE.value}
_TICK = timedelta(microseconds=1)
ORG_KINDS_LISTED = ("partner", "research_org", "vendor", "agency", "state_agency")


@dataclass(frozen=True, slots=True)
class Elements:
    dataset: Dataset
    #: Element descriptions the organization receives (all but direct identifiers when the
    #: agreement names none; with identifiers when it names them).
    elements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Listed:
    kind: str
    code: str
    purpose: str
    datasets: tuple[Elements, ...]
    starts: date
    ends: date | None
    destroy_by: date | None


@dataclass
class OrgEntry:
    name: str
    kind: str
    agreements: list[Listed] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class YearStats:
    school_year: int
    received: int
    filled: int
    median_days: float | None


@dataclass
class DistrictPage:
    code: str
    name: str
    tz: str
    at: datetime
    organizations: list[OrgEntry] = field(default_factory=list)
    stats: list[YearStats] = field(default_factory=list)


def districts(db: Session) -> list[Organization]:
    return list(
        db.scalars(select(Organization).where(Organization.kind == "district").order_by(Organization.name))
    )


def _elements(agreement: Agreement) -> tuple[Elements, ...]:
    named = set(agreement.elements) if agreement.elements is not None else None
    out = []
    known = {d.value for d in Dataset}
    for dataset in sorted(
        (Dataset(v) for v in agreement.datasets or () if v in known), key=list(Dataset).index
    ):
        if named is None:
            chosen = [e for e in ELEMENTS[dataset] if e.sensitivity is not Sensitivity.IDENTIFIER]
        else:
            chosen = [e for e in ELEMENTS[dataset] if f"{dataset.value}.{e.name}" in named or e.name in named]
        out.append(Elements(dataset, tuple(e.description for e in chosen if e.name != "ssn")))
    return tuple(out)


def page(db: Session, district: Organization, at: datetime | None = None) -> DistrictPage:
    at = at or now_utc()
    tz = timezone_of(db, district.id)
    result = DistrictPage(district.code, district.name, tz, at)
    in_force = or_(
        Agreement.status == AgreementStatus.EXECUTED.value,
        and_(
            Agreement.kind == AgreementKind.RESEARCH_APPROVAL.value,
            Agreement.status == AgreementStatus.APPROVED.value,
        ),
    )
    rows = db.execute(
        select(Agreement, Organization)
        .join(Organization, Organization.id == Agreement.organization_id)
        .where(
            Agreement.district_id == district.id,
            Agreement.kind.in_(sorted(LISTED_KINDS)),
            in_force,
            Agreement.valid_at(at),
            Organization.kind.in_(ORG_KINDS_LISTED),
        )
        .order_by(Organization.name, Agreement.code)
    ).all()
    by_org: dict[int, OrgEntry] = {}
    for agreement, org in rows:
        entry = by_org.setdefault(org.id, OrgEntry(org.name, org.kind))
        entry.agreements.append(
            Listed(
                kind=agreement.kind,
                code=agreement.code,
                purpose=agreement.purpose or agreement.title or "",
                datasets=_elements(agreement),
                starts=local_date(agreement.valid_from, tz),
                # The last day in force (the validity ends at midnight, exclusive).
                ends=None if agreement.valid_to is None else local_date(agreement.valid_to - _TICK, tz),
                destroy_by=destroy_by(terms_of(db, agreement), tz),
            )
        )
    result.organizations = list(by_org.values())
    result.stats = request_stats(db, district.id, tz, at)
    return result


def request_stats(db: Session, district_id: int, tz: str, at: datetime, years: int = 3) -> list[YearStats]:
    """Per school year (newest first, the last ``years``): requests received (submitted), filled
    (delivered) and the median calendar days from submission to delivery of the filled ones."""
    current = SchoolYear.at(at, tz).end_year
    received: dict[int, int] = defaultdict(int)
    days: dict[int, list[float]] = defaultdict(list)
    for submitted, delivered in db.execute(
        select(DataRequest.submitted_at, DataRequest.delivered_at).where(
            DataRequest.district_id == district_id, DataRequest.submitted_at.is_not(None)
        )
    ).all():
        if submitted is None:
            continue
        year = SchoolYear.at(submitted, tz).end_year
        received[year] += 1
        if delivered is not None:
            days[year].append((delivered - submitted).total_seconds() / 86400)
    return [
        YearStats(
            year,
            received.get(year, 0),
            len(days.get(year, [])),
            round(statistics.median(days[year]), 1) if days.get(year) else None,
        )
        for year in range(current, current - years, -1)
    ]
