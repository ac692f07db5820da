"""The end of an agreement: crypto-shredding, destruction tasks, certificates and escalation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit.models import AuditEvent
from steward.audit.verify import verify
from steward.delivery.destruction import end_agreement, end_expired_agreements, submit_certificate, sweep
from steward.delivery.models import DestructionTask, Package
from steward.delivery.packages import DeliveryError, Layout, release
from steward.store.base import now_utc
from steward.store.db import transaction
from tests.delivery.conftest import AGREEMENT_END, World

YESTERDAY = date.today() - timedelta(days=1)


def _end(engine: Engine, world: World) -> DestructionTask:
    with transaction(engine) as db:
        release(db, world.data_dir, world.request())
    with transaction(engine) as db:
        [task] = end_agreement(db, world.data_dir, world.agreement)
        return task


def test_agreement_end_shreds_and_opens_a_task_due_in_45_days(engine: Engine, world: World) -> None:
    before = now_utc()
    task = _end(engine, world)  # ended by hand, before its term
    assert before + timedelta(days=45) <= task.due_at <= now_utc() + timedelta(days=45)
    assert task.recipient_org_id == world.partner
    assert list(Layout.of(world.data_dir).outbox.rglob("*.age")) == []
    with transaction(engine) as db:
        assert [t.id for t in end_agreement(db, world.data_dir, world.agreement)] == [task.id]  # idempotent
    with Session(engine) as db:
        package = db.scalar(select(Package))
        assert package is not None
        assert package.status == "shredded"
        actions = list(db.scalars(select(AuditEvent.action)))
        assert actions.count("destruction.opened") == 1
        assert actions.count("delivery.shred") == 1
    assert verify(engine).ok


def test_overdue_tasks_escalate_weekly_until_certified(engine: Engine, world: World) -> None:
    task = _end(engine, world)
    due = task.due_at
    with transaction(engine) as db:
        assert sweep(db, due - timedelta(seconds=1)) == []
        [first] = sweep(db, due + timedelta(days=1))
        assert (first.level, first.days_overdue) == (1, 1)
        assert sweep(db, due + timedelta(days=2)) == []  # same level: nothing new
        [second] = sweep(db, due + timedelta(days=8))
        assert second.level == 2
    with transaction(engine) as db:
        row = db.get(DestructionTask, task.id)
        assert row is not None
        assert row.status == "overdue"
        submit_certificate(
            db,
            world.data_dir,
            row,
            b"%PDF-1.4 signed",
            "certificate.pdf",
            "Dana Lee",
            "Director",
            YESTERDAY,
            None,
        )
    with transaction(engine) as db:
        assert sweep(db, due + timedelta(days=30)) == []
        row = db.get(DestructionTask, task.id)
        assert row is not None
        assert row.status == "certified"
        assert row.certificate_file is not None
        stored = Layout.of(world.data_dir).certificates / row.certificate_file
        assert stored.read_bytes() == b"%PDF-1.4 signed"
        assert oct(stored.stat().st_mode & 0o777) == "0o600"
        actions = list(db.scalars(select(AuditEvent.action)))
        assert actions.count("destruction.overdue") == 1
        assert actions.count("destruction.escalated") == 1
        assert actions.count("destruction.certified") == 1
    assert verify(engine).ok


@pytest.mark.parametrize(
    ("content", "name", "signer", "message"),
    [
        (b"", "c.pdf", "Dana", "empty"),
        (b"x", "c.exe", "Dana", "upload the signed certificate as PDF"),
        (b"x", "c.pdf", " ", "name the person"),
    ],
)
def test_bad_certificates_are_refused(
    engine: Engine, world: World, content: bytes, name: str, signer: str, message: str
) -> None:
    task = _end(engine, world)
    with transaction(engine) as db:
        row = db.get(DestructionTask, task.id)
        assert row is not None
        with pytest.raises(DeliveryError, match=message):
            submit_certificate(db, world.data_dir, row, content, name, signer, "", YESTERDAY, None)


def test_the_sweep_ends_agreements_that_have_ended(engine: Engine, world: World) -> None:
    with transaction(engine) as db:
        release(db, world.data_dir, world.request())
    with transaction(engine) as db:
        assert end_expired_agreements(db, world.data_dir, AGREEMENT_END - timedelta(days=1)) == []
        [task] = end_expired_agreements(db, world.data_dir, AGREEMENT_END + timedelta(hours=1))
        assert task.due_at == AGREEMENT_END + timedelta(days=45)
    with transaction(engine) as db:
        assert end_expired_agreements(db, world.data_dir, AGREEMENT_END + timedelta(days=2)) == []  # done
