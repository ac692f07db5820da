"""The public transparency page: agreements in force and nothing else, their records, term and
destruction date; request statistics per school year; never a student."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import Engine

from steward.domain.datasets import Dataset
from steward.domain.time import SchoolYear
from steward.family import transparency
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Organization, Student
from steward.workflow.agreements import service as agreements
from steward.workflow.requests.models import DataRequest
from tests.family.conftest import Family


def test_agreements_in_force_with_records_term_and_destruction(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    with transaction(sqlite_engine) as db:
        district = db.get_one(Organization, fam.world.district)
        agreements.create(
            db,
            fam.officer,
            kind="dsa",
            organization_id=fam.world.research,
            district_id=fam.world.district,
            valid_from=now_utc(),
            title="a draft nobody signed",
            purpose="draft",
            datasets=["grades"],
        )
        page = transparency.page(db, district)
        assert [o.name for o in page.organizations] == ["Tutoring Partners"]
        listed = page.organizations[0].agreements[0]
        assert listed.code == fam.dsa_code
        assert [e.dataset for e in listed.datasets] == [
            Dataset.ENROLLMENT,
            Dataset.ATTENDANCE,
            Dataset.ASSESSMENT,
            Dataset.GRADES,
        ]
        assert "share of enrolled days attended" in listed.datasets[1].elements
        assert listed.ends is not None
        assert listed.ends.month == 6
        assert listed.ends.day == 30
        assert listed.destroy_by is not None
        assert listed.destroy_by > listed.ends
        # No student data anywhere in what the page shows.
        names = {s.first_name for s in db.query(Student)} | {s.local_id for s in db.query(Student)}
        shown = repr(dataclasses.asdict(page))
        assert not any(name in shown for name in names if len(name) > 2)


def test_request_statistics_per_school_year(sqlite_engine: Engine, sqlite_family: Family) -> None:
    fam = sqlite_family
    now = now_utc()
    with transaction(sqlite_engine) as db:
        for n, (days_ago, took) in enumerate(((20, 2.0), (15, 4.0), (10, 9.0), (3, None))):
            submitted = now - timedelta(days=days_ago)
            db.add(
                DataRequest(
                    code=f"DR-T{n}",
                    district_id=fam.world.district,
                    requester_person_id=fam.partner.person_id,
                    organization_id=fam.world.partner,
                    requester_role="partner_staff",
                    requester_kind="partner",
                    status="delivered" if took is not None else "review",
                    submitted_at=submitted,
                    delivered_at=None if took is None else submitted + timedelta(days=took),
                )
            )
        db.flush()
        stats = transparency.request_stats(db, fam.world.district, "America/Los_Angeles", now)
        assert len(stats) == 3
        this_year = stats[0]
        if all(
            SchoolYear.at(now - timedelta(days=d), "America/Los_Angeles").end_year == this_year.school_year
            for d in (20, 15, 10, 3)
        ):
            assert (this_year.received, this_year.filled, this_year.median_days) == (4, 3, 4.0)
        assert sum(s.received for s in stats) == 4
        assert sum(s.filled for s in stats) == 3
