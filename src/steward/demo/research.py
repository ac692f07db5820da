"""The demo's research agreement: Cascade Education Research Institute studies attendance and
achievement in the home district, de-identified (``steward extract --agreement DEMO-RESEARCH-1``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.domain.time import SchoolYear, local_date
from steward.policy.facts import AgreementKind, AgreementStatus, Clause
from steward.store.base import now_utc
from steward.store.models import Organization
from steward.workflow.models import Agreement

DEMO_RESEARCH_CODE = "DEMO-RESEARCH-1"
DEMO_APPROVAL_CODE = "DEMO-RESEARCH-APPROVAL-1"
RESEARCH_ORG = "cascade-research"

#: What the demo agreement covers (``dataset.element``).
DEMO_ELEMENTS: tuple[str, ...] = (
    "demographics.sex",
    "demographics.race_ethnicity",
    "demographics.birth_date",
    "enrollment.school_code",
    "enrollment.grade_level",
    "attendance.days_enrolled",
    "attendance.attendance_rate",
    "attendance.chronically_absent",
    "assessment.scale_score",
    "assessment.performance_level",
    "assessment.proficient",
    "programs.low_income",
    "programs.english_learner",
)
PURPOSE = "How chronic absence relates to state test results, by school level and student group"


def seed_research(db: Session, district: Organization) -> Agreement:
    """An approved research proposal and an executed de-identified data sharing agreement between
    the demo research organization and ``district``, covering the last two school years."""
    research = db.scalar(select(Organization).where(Organization.code == RESEARCH_ORG))
    if research is None:
        raise RuntimeError(f"the demo research organization {RESEARCH_ORG} is missing")
    existing = db.scalar(select(Agreement).where(Agreement.code == DEMO_RESEARCH_CODE))
    if existing is not None:
        return existing
    now = now_utc()
    since = now - timedelta(days=30)
    until = now + timedelta(days=2 * 365)
    year = SchoolYear.at(now).end_year
    common = {
        "organization_id": research.id,
        "district_id": district.id,
        "purpose": PURPOSE,
        "valid_from": since,
        "valid_to": until,
    }
    db.add(
        Agreement(
            code=DEMO_APPROVAL_CODE,
            kind=AgreementKind.RESEARCH_APPROVAL.value,
            status=AgreementStatus.APPROVED.value,
            title="Research proposal: chronic absence and achievement",
            **common,
        )
    )
    agreement = Agreement(
        code=DEMO_RESEARCH_CODE,
        kind=AgreementKind.DSA.value,
        status=AgreementStatus.EXECUTED.value,
        title="De-identified data sharing agreement: chronic absence and achievement",
        datasets=sorted({e.split(".")[0] for e in DEMO_ELEMENTS}),
        elements=list(DEMO_ELEMENTS),
        school_years=[year - 1, year],
        clauses=[c.value for c in Clause],
        destroy_by=local_date(until) + timedelta(days=45),
        population="all students of the district",
        executed_at=since,
        **common,
    )
    db.add(agreement)
    db.flush()
    return agreement
