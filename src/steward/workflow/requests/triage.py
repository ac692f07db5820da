"""Triage: which path a request takes, what the requester is told, and the checklist of paperwork
that is still missing (ODA-03's table of requesters; SPS's partner steps; OSPI's research steps)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.domain.time import SchoolYear
from steward.policy.facts import (
    BINDING_AGREEMENT_STATUSES,
    BINDING_APPROVAL_STATUSES,
    BINDING_CONSENT_STATUSES,
    AgreementKind,
)
from steward.store.models import Organization
from steward.workflow.common import timezone_of
from steward.workflow.models import (
    Agreement,
    Consent,
    ConsentDataset,
    Grant,
    GrantDataset,
    GrantStudent,
    Training,
)
from steward.workflow.requests.models import DataRequest, RequestStudent
from steward.workflow.settings import WorkflowConfig


class Path(StrEnum):
    MEDIA = "media"
    PUBLIC_RECORDS = "public_records"
    PUBLIC_REPORT = "public_report"
    AGENCY = "agency"
    RESEARCH = "research"
    PARTNER = "partner"
    VENDOR = "vendor"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "media": "Media: communications office",
            "public_records": "Public records: the city's process",
            "public_report": "Already in public reports",
            "agency": "Outside agency: aggregate data only",
            "research": "Research: proposal and agreement",
            "partner": "Community partner",
            "vendor": "Vendor under contract",
            "other": "Other",
        }[self.value]

    @property
    def closes(self) -> bool:
        """Triage answers these itself; no data is prepared."""
        return self in (Path.MEDIA, Path.PUBLIC_RECORDS, Path.PUBLIC_REPORT)

    @property
    def route(self) -> str:
        """Who reviews: the panel's next cycle (research) or an analyst (everything routine)."""
        return "panel" if self is Path.RESEARCH else "analyst"


def suggest(requester_kind: str) -> Path:
    try:
        return Path(requester_kind)
    except ValueError:
        return Path.OTHER


def message(path: Path, config: WorkflowConfig, note: str = "") -> str:
    """What the requester reads about the path (``note``: the officer's own words, e.g. a link)."""
    months = ", ".join(calendar.month_name[m] for m in config.panel_months)
    text = {
        Path.MEDIA: (
            f"All media requests go to {config.communications_contact}. No student data is shared "
            "with the media through Steward."
        ),
        Path.PUBLIC_RECORDS: (
            "Public records requests go to the city's public records process"
            + (f": {config.public_records_url}" if config.public_records_url else ".")
        ),
        Path.PUBLIC_REPORT: (
            "The data you asked for are already published"
            + (f": {config.public_reports_url}" if config.public_reports_url else ".")
        ),
        Path.AGENCY: (
            "Outside agencies receive aggregate, de-identified data only; groups of fewer than 10 "
            "students are suppressed. An agreement (MOU) with the district is needed."
        ),
        Path.RESEARCH: (
            f"Research requests need an approved research proposal (the review panel meets in {months}) "
            "and an executed agreement: an NDA for de-identified data; family consent as well for "
            "identifiable roster data."
        ),
        Path.PARTNER: (
            "Partner requests need: registration with the district, a data sharing agreement for this "
            "school year, stewardship training, a parent's consent and a district grant for each "
            "student, and any MOU or contract you hold with schools."
        ),
        Path.VENDOR: "Vendors receive provisioning data only, under a contract as school officials.",
        Path.OTHER: "An analyst will look at your request and tell you what is needed.",
    }[path]
    return f"{text} {note}".strip()


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the checklist: what is needed, whether it is on file, and why not."""

    label: str
    done: bool
    detail: str = ""
    required: bool = True


def _agreements(
    db: Session, req: DataRequest, kinds: set[AgreementKind], at: datetime, statuses: frozenset[str]
) -> list[Agreement]:
    rows = db.scalars(
        select(Agreement).where(
            Agreement.organization_id == req.organization_id,
            Agreement.district_id == req.district_id,
            Agreement.kind.in_(sorted(k.value for k in kinds)),
            Agreement.status.in_(sorted(statuses)),
            Agreement.valid_at(at),
        )
    )
    return list(rows)


def _covers(agreement: Agreement, req: DataRequest) -> bool:
    return set(req.datasets) <= set(agreement.datasets or [])


def checklist(db: Session, req: DataRequest, at: datetime) -> list[Item]:
    """The paperwork the request's path needs, and what is on file at ``at``."""
    path = Path(req.path) if req.path else suggest(req.requester_kind)
    tz = timezone_of(db, req.district_id)
    year = SchoolYear.at(at, tz)
    binding = frozenset(s.value for s in BINDING_AGREEMENT_STATUSES)
    items: list[Item] = []
    org = db.get(Organization, req.organization_id)
    students = list(db.scalars(select(RequestStudent.student_id).where(RequestStudent.request_id == req.id)))
    if req.names_students:
        items.append(
            Item(
                "Student ID numbers for the named students",
                bool(students) and len(students) >= len(set(req.student_refs)),
                f"{len(students)} of {len(set(req.student_refs))} matched",
            )
        )
    if path is Path.PARTNER:
        registered = org is not None and org.registration_status == "registered"
        items.append(
            Item(
                "Registration with the district",
                registered,
                "" if registered else f"status: {org.registration_status if org else 'unknown'}",
            )
        )
        dsas = [
            a
            for a in _agreements(db, req, {AgreementKind.DSA}, at, binding)
            if a.school_year in (None, year.end_year)
        ]
        covering = [a for a in dsas if _covers(a, req)]
        items.append(
            Item(
                f"Data sharing agreement for {year.label()} covering {', '.join(req.datasets)}",
                bool(covering),
                covering[0].code
                if covering
                else ("does not cover every dataset" if dsas else "none executed"),
            )
        )
        trained = db.scalar(
            select(func.count())
            .select_from(Training)
            .where(
                Training.person_id == req.requester_person_id,
                Training.valid_at(at),
                (Training.school_year.is_(None)) | (Training.school_year == year.end_year),
            )
        )
        items.append(Item(f"Stewardship training for {year.label()}", bool(trained)))
        if req.level == "identifiable":
            consented = _consented(db, req, students, at, year.end_year)
            granted = _granted(db, req, students, at)
            total = len(students)
            items.append(
                Item(
                    "A verified parent consent for each student",
                    total > 0 and consented == total,
                    f"{consented} of {total}",
                )
            )
            items.append(
                Item(
                    "A district grant naming each student and dataset",
                    total > 0 and granted == total,
                    f"{granted} of {total}",
                )
            )
        mous = _agreements(db, req, {AgreementKind.MOU, AgreementKind.CONTRACT}, at, binding)
        items.append(Item("MOU or contract with schools (if you hold one)", bool(mous), "", required=False))
    elif path is Path.RESEARCH:
        approvals = _agreements(
            db,
            req,
            {AgreementKind.RESEARCH_APPROVAL},
            at,
            frozenset(s.value for s in BINDING_APPROVAL_STATUSES),
        )
        items.append(Item("Approved research proposal (review panel)", bool(approvals)))
        kinds = {AgreementKind.NDA, AgreementKind.DSA, AgreementKind.STUDIES}
        research = [a for a in _agreements(db, req, kinds, at, binding) if _covers(a, req)]
        items.append(Item("Executed research agreement (NDA/DSA) covering the request", bool(research)))
        if req.level == "identifiable":
            consented = _consented(db, req, students, at, year.end_year)
            items.append(
                Item(
                    "Family consent for identifiable roster data",
                    bool(students) and consented == len(students),
                    f"{consented} of {len(students)}",
                )
            )
    elif path is Path.AGENCY:
        kinds = {AgreementKind.MOU, AgreementKind.DSA, AgreementKind.NDA}
        mous = [a for a in _agreements(db, req, kinds, at, binding) if _covers(a, req)]
        items.append(Item("Agreement (MOU) with the district covering the datasets", bool(mous)))
        items.append(Item("Aggregate level (agencies receive aggregate data only)", req.level == "aggregate"))
    elif path is Path.VENDOR:
        contracts = _agreements(db, req, {AgreementKind.CONTRACT}, at, binding)
        items.append(Item("Contract as school official", bool(contracts)))
    if req.fee_status == "estimated":
        items.append(Item("Accept the fee estimate", False))
    elif req.fee_status in ("accepted", "waived"):
        items.append(Item("Fee estimate", True, req.fee_status))
    return items


def _consented(db: Session, req: DataRequest, students: list[int], at: datetime, year: int) -> int:
    if not students:
        return 0
    wanted = set(req.datasets)
    rows = db.execute(
        select(Consent.student_id, ConsentDataset.dataset)
        .join(ConsentDataset, ConsentDataset.consent_id == Consent.id)
        .where(
            Consent.organization_id == req.organization_id,
            Consent.student_id.in_(students),
            Consent.status.in_(sorted(s.value for s in BINDING_CONSENT_STATUSES)),
            Consent.valid_at(at),
            (Consent.school_year.is_(None)) | (Consent.school_year == year),
        )
    ).all()
    have: dict[int, set[str]] = {}
    for student_id, dataset in rows:
        have.setdefault(student_id, set()).add(dataset)
    return sum(1 for s in students if wanted <= have.get(s, set()))


def _granted(db: Session, req: DataRequest, students: list[int], at: datetime) -> int:
    if not students:
        return 0
    wanted = set(req.datasets)
    rows = db.execute(
        select(GrantStudent.student_id, GrantDataset.dataset)
        .join(Grant, Grant.id == GrantStudent.grant_id)
        .join(GrantDataset, GrantDataset.grant_id == Grant.id)
        .where(
            Grant.organization_id == req.organization_id,
            Grant.district_id == req.district_id,
            GrantStudent.student_id.in_(students),
            Grant.valid_at(at),
        )
    ).all()
    have: dict[int, set[str]] = {}
    for student_id, dataset in rows:
        have.setdefault(student_id, set()).add(dataset)
    return sum(1 for s in students if wanted <= have.get(s, set()))


def missing(items: list[Item]) -> list[Item]:
    return [i for i in items if i.required and not i.done]
