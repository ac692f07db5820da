"""A governance database with a district, a research organization and its research approval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from steward.domain.orgs import OrgKind, RegistrationStatus
from steward.policy.facts import AgreementKind, AgreementStatus
from steward.sources import CedarsDropSource, Source
from steward.store.db import transaction
from steward.store.models import Organization, TenantSettings
from steward.workflow.models import Agreement

NOW = datetime.now(UTC)
ELEMENTS = [
    "demographics.sex",
    "demographics.race_ethnicity",
    "demographics.birth_date",
    "demographics.student_id",
    "demographics.state_id",
    "enrollment.school_code",
    "enrollment.grade_level",
    "attendance.attendance_rate",
    "attendance.chronically_absent",
    "assessment.scale_score",
    "assessment.performance_level",
    "programs.low_income",
    "programs.disability_code",
]


@dataclass
class Governance:
    engine: Engine
    district_id: int
    org_id: int
    drop: Path

    def source(self, district_code: str) -> Source:
        assert district_code == self.drop.name
        return CedarsDropSource(self.drop)

    def agreement(self, code: str, **values: Any) -> int:
        """A research agreement between the organization and the district (executed by default)."""
        fields: dict[str, Any] = {
            "kind": AgreementKind.DSA.value,
            "status": AgreementStatus.EXECUTED.value,
            "datasets": sorted({e.split(".")[0] for e in ELEMENTS}),
            "elements": list(ELEMENTS),
            "school_years": [2025, 2026],
            "valid_from": NOW - timedelta(days=10),
            "valid_to": NOW + timedelta(days=300),
        }
        fields.update(values)
        with transaction(self.engine) as db:
            row = Agreement(code=code, organization_id=self.org_id, district_id=self.district_id, **fields)
            db.add(row)
            db.flush()
            return row.id

    def tenant(self, **values: Any) -> None:
        with transaction(self.engine) as db:
            settings = db.get(TenantSettings, self.district_id)
            assert settings is not None
            for key, value in values.items():
                setattr(settings, key, value)


def setup_governance(engine: Engine, drop: Path) -> Governance:
    """The district of ``drop``, its default tenant settings, the research organization and an
    approved research proposal in force."""
    with transaction(engine) as db:
        district = Organization(code=drop.name, kind=OrgKind.DISTRICT.value, name="Clearwater", flags=[])
        research = Organization(
            code="cascade-research",
            kind=OrgKind.RESEARCH_ORG.value,
            name="Cascade Education Research Institute",
            registration_status=RegistrationStatus.REGISTERED.value,
            flags=[],
        )
        db.add_all([district, research])
        db.flush()
        db.add(TenantSettings(district_id=district.id))
        ids = (district.id, research.id)
    found = Governance(engine, ids[0], ids[1], drop)
    found.agreement(
        "APPROVAL-1", kind=AgreementKind.RESEARCH_APPROVAL.value, status=AgreementStatus.APPROVED.value
    )
    return found
