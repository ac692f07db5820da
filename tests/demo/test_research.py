"""The demo's research agreement: seeded once, and the extract checks accept it."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from steward.demo.research import DEMO_APPROVAL_CODE, DEMO_RESEARCH_CODE, RESEARCH_ORG, seed_research
from steward.domain.orgs import OrgKind
from steward.domain.time import SchoolYear
from steward.products.extract.service import check_agreement
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Organization
from steward.workflow.models import Agreement


def test_seeded_agreement_allows_an_extract(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        district = Organization(code="90001", kind=OrgKind.DISTRICT.value, name="Clearwater", flags=[])
        research = Organization(code=RESEARCH_ORG, kind=OrgKind.RESEARCH_ORG.value, name="Cascade", flags=[])
        db.add_all([district, research])
        db.flush()
        first = seed_research(db, district)
        again = seed_research(db, district)
        assert first.id == again.id
    with transaction(sqlite_engine) as db:
        codes = set(db.scalars(select(Agreement.code)))
        assert codes == {DEMO_RESEARCH_CODE, DEMO_APPROVAL_CODE}
        assert db.scalar(select(func.count()).select_from(Agreement)) == 2
        scope = check_agreement(db, DEMO_RESEARCH_CODE, now_utc())
    year = SchoolYear.at(now_utc()).end_year
    assert scope.years == (year - 1, year)
    assert {d.value for d in scope.elements} == {
        "demographics",
        "enrollment",
        "attendance",
        "assessment",
        "programs",
    }
    assert scope.elements[next(d for d in scope.elements if d.value == "programs")] == (
        "english_learner",
        "low_income",
    )
