"""Consent requests: only under an executed data sharing agreement, only for records it covers; the
district approves the wording (then frozen) or returns it; the families are told in their language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from steward.family import requests
from steward.family.common import remember
from steward.family.models import ConsentRequestStudent
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.workflow.common import InvalidError, NotAllowedError, WorkflowError
from steward.workflow.models import Agreement
from steward.workflow.notifications.models import Notification
from tests.family.conftest import Family, approved, publish


def test_publishing_needs_an_executed_agreement_covering_the_records(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    with transaction(sqlite_engine) as db:
        with pytest.raises(InvalidError) as refused:
            publish(db, fam, fam.world.students[:1], datasets=["attendance", "discipline"])
        assert "not covered by data sharing agreement" in str(refused.value)
        with pytest.raises(NotAllowedError):
            requests.publish(
                db,
                fam.officer,
                requests.RequestInput(fam.world.district, "t", "p", "d", ["attendance"], ["100"]),
            )
        with pytest.raises(InvalidError) as empty:
            requests.publish(db, fam.partner, requests.RequestInput(fam.world.district, "", "", "", [], []))
        assert {p.field for p in empty.value.items} >= {
            "title",
            "purpose",
            "description",
            "datasets",
            "student_refs",
        }
        dsa = db.scalar(select(Agreement).where(Agreement.code == fam.dsa_code))
        assert dsa is not None
        dsa.valid_to = now_utc() - timedelta(seconds=1)
        db.flush()
        with pytest.raises(InvalidError) as ended:
            publish(db, fam, fam.world.students[:1])
        assert "no executed data sharing agreement" in str(ended.value)


def test_approval_freezes_the_wording_and_tells_each_family_in_its_language(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    named = fam.world.students[:2]
    with transaction(sqlite_engine) as db:
        remember(db, fam.parent_of(named[1]).person_id, "es")
        row = publish(db, fam, named, translations={"es": {"title": "Tutoría"}, "xx": {"title": "?"}})
        assert row.status == "submitted"
        assert row.translations == {"es": {"title": "Tutoría"}}
        officers = db.scalars(
            select(Notification.subject).where(Notification.kind == "family.consent_request.submitted")
        )
        assert any(row.code in s for s in officers)
        with pytest.raises(NotAllowedError):
            requests.approve(db, fam.partner, row)
        requests.approve(db, fam.officer, row, base_url="https://steward.example")
        assert row.status == "approved"
        assert row.wording is not None
        assert row.wording_sha256 == requests.wording_for(db, row).sha256()
        assert row.closes_at is not None
        offered = set(
            db.scalars(
                select(ConsentRequestStudent.student_id).where(ConsentRequestStudent.request_id == row.id)
            )
        )
        assert offered == set(named)
        notes = {
            n.person_id: n
            for n in db.scalars(select(Notification).where(Notification.kind == "family.consent_request"))
        }
        english = notes[fam.parent_of(named[0]).person_id]
        spanish = notes[fam.parent_of(named[1]).person_id]
        assert english.subject.startswith("Permission to share Stu0 Family0")
        assert spanish.subject.startswith("Permiso para compartir los expedientes escolares de Stu1 Family1")
        assert (
            f"https://steward.example/family/requests/{row.code}?student={named[1]}&via=email" in spanish.body
        )
        assert english.email_to
        assert english.email_status == "pending"
        # Frozen: later edits of the row do not change what families read.
        row.purpose = "something else entirely"
        assert requests.wording_for(db, row).purpose != "something else entirely"
        with pytest.raises(WorkflowError):
            requests.approve(db, fam.officer, row)


def test_unknown_ids_are_shown_to_the_district_only_and_a_list_of_strangers_is_refused(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    with transaction(sqlite_engine) as db:
        row = requests.publish(
            db,
            fam.partner,
            requests.RequestInput(fam.world.district, "t", "p", "d", ["attendance"], ["100", "nope-1"]),
        )
        assert requests.unknown_refs(db, row) == ["nope-1"]
        strangers = requests.publish(
            db,
            fam.partner,
            requests.RequestInput(fam.world.district, "t", "p", "d", ["attendance"], ["nope-2"]),
        )
        with pytest.raises(WorkflowError, match="none of the listed IDs"):
            requests.approve(db, fam.officer, strangers)


def test_return_withdraw_and_the_end_of_the_year(sqlite_engine: Engine, sqlite_family: Family) -> None:
    fam = sqlite_family
    with transaction(sqlite_engine) as db:
        row = publish(db, fam, fam.world.students[:1])
        with pytest.raises(WorkflowError):
            requests.return_for_changes(db, fam.officer, row, "  ")
        requests.return_for_changes(db, fam.officer, row, "shorter sentences please")
        assert row.status == "returned"
        assert [r.code for r in requests.listing(db, fam.partner)] == [row.code]
        requests.withdraw(db, fam.partner, row)
        assert row.status == "withdrawn"
        other = approved(db, fam, fam.world.students[:1])
        assert requests.is_open(other, now_utc())
        assert other.closes_at is not None
        assert requests.close_ended(db, other.closes_at - timedelta(seconds=1)) == 0
        assert requests.close_ended(db, other.closes_at) == 1
        assert other.status == "closed"
        assert not requests.is_open(other, other.closes_at)
        assert requests.close_ended(db, other.closes_at) == 0
