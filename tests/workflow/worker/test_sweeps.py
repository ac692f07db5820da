"""Expiry sweeps at the boundary instant: the decision engine allows up to ``valid_to`` and denies
from it; the sweep marks what ended, opens destruction, and changes nothing when run again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from steward.delivery.models import DestructionTask
from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.policy import Actor, Form, decide
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.fact_loader import load_facts
from steward.workflow.history import HistoryEntry
from steward.workflow.models import Agreement, Consent, Grant, Training
from steward.workflow.notifications.models import Notification
from steward.workflow.worker import sweeps
from tests.workflow.conftest import YEAR, World
from tests.workflow.helpers import executed_dsa, partner_paperwork


def allowed(db: Session, w: World, student: int, at: object) -> tuple[bool, tuple[str, ...]]:
    partner = w.p("partner")
    facts = load_facts(db, [partner.person_id], [student], [w.partner])
    decision = decide(
        facts,
        Actor(str(partner.person_id), Role.PARTNER_STAFF, str(w.partner)),
        str(student),
        Dataset.ATTENDANCE,
        Form.IDENTIFIABLE,
        at,  # type: ignore[arg-type]
    )
    return decision.allowed, decision.missing


def test_the_engine_flips_at_valid_to_and_the_sweep_is_idempotent(engine: Engine, world: World) -> None:
    w = world
    student = w.students[0]
    end = (now_utc() + timedelta(hours=2)).replace(microsecond=0)
    with transaction(engine) as db:
        dsa = executed_dsa(db, w, annual=False, school_year=None, valid_to=end)
        partner_paperwork(db, w, [student])
        code = dsa.code
    just_before = end - timedelta(microseconds=1)
    with transaction(engine) as db:
        assert allowed(db, w, student, just_before)[0]
        assert sweeps.expire_agreements(db, just_before, w.data_dir).changed == []
    with transaction(engine) as db:
        assert sweeps.expire_agreements(db, end, w.data_dir).changed == [code]
    with transaction(engine) as db:
        agreement = db.scalar(select(Agreement).where(Agreement.code == code))
        assert agreement is not None
        assert agreement.status == "expired"
        assert agreement.valid_to == end
        ok, missing = allowed(db, w, student, end)
        assert not ok
        assert any(code in m and "expired on" in m for m in missing)
        assert allowed(db, w, student, just_before)[0]  # the past replays unchanged
        tasks = db.scalars(select(DestructionTask).where(DestructionTask.agreement_id == agreement.id)).all()
        assert [t.recipient_org_id for t in tasks] == [w.partner]
        notes = db.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == "agreement.expired")
        )
        history = db.scalar(select(func.count()).select_from(HistoryEntry))
    with transaction(engine) as db:
        assert sweeps.expire_agreements(db, end + timedelta(days=1), w.data_dir).changed == []
        assert (
            db.scalar(
                select(func.count()).select_from(Notification).where(Notification.kind == "agreement.expired")
            )
            == notes
        )
        assert db.scalar(select(func.count()).select_from(HistoryEntry)) == history
        assert db.scalar(select(func.count()).select_from(DestructionTask)) == len(tasks)


def test_consents_grants_and_training_expire_at_the_end_of_the_year(
    sqlite_engine: Engine, sqlite_world: World
) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        executed_dsa(db, w)
        partner_paperwork(db, w, w.students[:2])
        consent_end = db.scalar(select(Consent.valid_to).limit(1))
        assert consent_end is not None
        before = consent_end - timedelta(microseconds=1)
        assert allowed(db, w, w.students[0], before)[0]
        assert not allowed(db, w, w.students[0], consent_end)[0]
        assert sweeps.expire_consents(db, before).changed == []
        assert len(sweeps.expire_consents(db, consent_end).changed) == 2
        assert len(sweeps.expire_grants(db, consent_end).changed) == 1
        assert len(sweeps.expire_training(db, consent_end).changed) == 1
        assert sweeps.expire_consents(db, consent_end).changed == []
        assert sweeps.expire_grants(db, consent_end).changed == []
        assert db.scalar(select(Grant.status)) == "expired"
        assert db.scalar(select(Training.expired_at)) is not None
        assert {c.status for c in db.scalars(select(Consent))} == {
            "verified"
        }  # the engine reads the interval


def test_renewal_reminders_before_june_first_once(sqlite_engine: Engine, sqlite_world: World) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        dsa = executed_dsa(db, w)
        may = now_utc().replace(year=YEAR, month=5, day=15, hour=17)
        april = may.replace(month=4, day=1)
        assert sweeps.renewal_reminders(db, april).changed == []
        assert sweeps.renewal_reminders(db, may).changed == [dsa.code]
        assert sweeps.renewal_reminders(db, may + timedelta(days=1)).changed == []
        kinds = db.scalars(
            select(Notification.person_id).where(Notification.kind == "agreement.renewal")
        ).all()
        assert w.p("partner").person_id in kinds
        assert w.p("officer").person_id in kinds
