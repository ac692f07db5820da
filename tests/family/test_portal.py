"""The portal's view of a family: children with the capacity the engine gives now (the 18th birthday
and dependency records included), who can see what and why, consents, offers and the ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from steward.audit.ledger import Recipient, record_disclosure
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.family import portal, signing
from steward.family.common import Capacity, standing
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Guardianship, Student
from steward.workflow.models import DependencyRecord
from tests import factories as f
from tests.family.conftest import Family, approved


def test_children_and_their_capacities(sqlite_engine: Engine, sqlite_family: Family) -> None:
    fam = sqlite_family
    minor, adult, dependent = fam.world.students[:3]
    parent = fam.parent_of(minor)
    with transaction(sqlite_engine) as db:
        # One parent of three children: a minor, an adult, an adult tax dependent.
        for other in (adult, dependent):
            db.add(Guardianship(person_id=parent.person_id, student_id=other, valid_from=f.EPOCH))
        for other in (adult, dependent):
            db.get_one(Student, other).birth_date = date(now_utc().year - 20, 2, 2)
        db.add(DependencyRecord(parent_person_id=parent.person_id, student_id=dependent, valid_from=f.EPOCH))
        db.flush()
        approved(db, fam, [minor, adult])
        kids = {c.student.id: c for c in portal.children(db, parent)}
        assert {k: c.capacity for k, c in kids.items()} == {
            minor: Capacity.PARENT,
            adult: Capacity.PASSED,
            dependent: Capacity.DEPENDENT,
        }
        assert kids[minor].waiting == 1
        assert kids[adult].waiting == 0
        assert kids[adult].rights_pass_on == date(now_utc().year - 2, 2, 2)
        assert portal.child_view(db, parent, adult) is None
        view = portal.child_view(db, parent, dependent)
        assert view is not None
        assert not view.child.capacity.holds_rights
        assert view.offers == []
        assert portal.child_view(db, fam.parent_of(adult), minor) is None
        assert portal.children(db, fam.partner) == []
        assert standing(db, fam.partner, minor) is None


def test_the_child_page_shows_who_can_see_and_why_consents_offers_and_ledger(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    student = fam.world.students[0]
    parent = fam.parent_of(student)
    with transaction(sqlite_engine) as db:
        row = approved(db, fam, [student])
        view = portal.child_view(db, parent, student)
        assert view is not None
        assert [o.request.code for o in view.offers] == [row.code]
        assert view.offers[0].last is None
        assert view.directory_open
        assert "Tutoring Partners" not in view.organizations
        viewer = view.seers[0]
        assert viewer.is_viewer
        assert viewer.basis is LegalBasis.PARENT_OR_ELIGIBLE_STUDENT
        assert {s.role for s in view.seers} >= {"parent", "principal", "district_data_officer"}
        shown = signing.shown(db, parent, row.code, student, "en")
        signing.answer(
            db,
            parent,
            row.code,
            student,
            decision="signed",
            language="en",
            shown_sha256=shown.sha256,
            typed_name="Pat",
        )
        record_disclosure(
            db,
            Recipient.of(db, fam.partner),
            [student],
            [Dataset.ATTENDANCE],
            LegalBasis.CONSENT,
            purpose="report download",
            channel="download",
        )
        view = portal.child_view(db, parent, student)
        assert view is not None
        partner = next(s for s in view.seers if s.role == Role.PARTNER_STAFF.value)
        assert partner.organization == "Tutoring Partners"
        assert partner.basis is LegalBasis.CONSENT
        assert partner.consent is not None
        assert partner.consent.startswith("E-")
        assert set(partner.datasets) == {Dataset.ATTENDANCE, Dataset.ENROLLMENT, Dataset.ASSESSMENT}
        assert [c.in_force and c.revocable and c.electronic is not None for c in view.consents] == [True]
        assert view.offers[0].last is not None
        assert view.ledger_total == 1
        assert view.ledger[0].recipient_org_name == "Tutoring Partners"
        assert portal.unanswered(db, standing(db, parent, student), now_utc()) == []  # type: ignore[arg-type]
