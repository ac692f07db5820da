"""The SLA reminder sweep: the data office is told when a request's first response or fulfilment is
at risk and when it is overdue, once per state and due date; a paused or ended clock is quiet."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from steward.config import Settings
from steward.domain.time import local_date
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.workflow.notifications.models import Notification
from steward.workflow.requests import service as requests
from steward.workflow.requests.models import DataRequest
from steward.workflow.settings import WorkflowConfig, config_for
from steward.workflow.sla import service as sla
from steward.workflow.sla.calendar import BusinessCalendar
from steward.workflow.sla.clock import SlaState
from steward.workflow.worker import sweeps
from tests.workflow.conftest import TZ, SmtpSink, World
from tests.workflow.helpers import form


def _noon(day: date) -> datetime:
    """Midday in the district on ``day``, as the UTC instant the sweep is given."""
    return datetime.combine(day, time(12), ZoneInfo(TZ)).astimezone(UTC)


def _submit(db: Session, w: World, at: datetime) -> DataRequest:
    return requests.create_and_submit(
        db, w.p("analyst"), form(w, level="aggregate", names_students=False, student_refs=[]), at=at
    )


def _reminders(db: Session) -> list[tuple[int, str, str]]:
    rows = db.scalars(
        select(Notification).where(Notification.kind == "sla.reminder").order_by(Notification.id)
    )
    return [(n.person_id, n.subject, n.body) for n in rows]


def _get(db: Session, code: str) -> DataRequest:
    req = db.scalar(select(DataRequest).where(DataRequest.code == code))
    assert req is not None
    return req


def _calendar(engine: Engine, w: World, started: date) -> tuple[WorkflowConfig, BusinessCalendar]:
    with transaction(engine) as db:
        config = config_for(db, w.district)
    return config, sla.calendar(config, started)


def _clocks(engine: Engine, code: str, config: WorkflowConfig, at: datetime) -> sla.Clocks:
    with transaction(engine) as db:
        return sla.clocks(db, _get(db, code), config, at)


def test_first_response_at_risk_then_overdue_each_once(engine: Engine, world: World) -> None:
    w = world
    submitted = now_utc()
    with transaction(engine) as db:
        req = _submit(db, w, submitted)
        code = req.code
        gone = _submit(db, w, submitted)  # cancelled: an ended clock reminds nobody
        requests.cancel(db, w.p("analyst"), gone, "asked by mistake")
    started = local_date(submitted, TZ)
    config, cal = _calendar(engine, w, started)
    due = cal.add(started, config.clarify_max_days)

    with transaction(engine) as db:
        assert sweeps.sla_reminders(db, submitted).changed == []

    risky = _noon(cal.add(started, config.clarify_min_days))
    clocks = _clocks(engine, code, config, risky)
    assert clocks.first_response is not None
    assert clocks.first_response.state is SlaState.AT_RISK
    assert clocks.fulfilment is not None
    assert clocks.fulfilment.state is SlaState.ON_TRACK
    with transaction(engine) as db:
        assert sweeps.sla_reminders(db, risky).changed == [f"{code}:first response:at risk"]
    with transaction(engine) as db:
        assert sweeps.sla_reminders(db, risky + timedelta(hours=3)).changed == []
        [(person, subject, body)] = _reminders(db)
    assert person == w.p("officer").person_id
    assert subject == f"{code}: first response at risk"
    assert f"due {due}" in body

    late = _noon(cal.add(due, 1))
    assert _clocks(engine, code, config, late).first_response.state is SlaState.OVERDUE  # type: ignore[union-attr]
    with transaction(engine) as db:
        assert sweeps.sla_reminders(db, late).changed == [f"{code}:first response:overdue"]
    with transaction(engine) as db:
        assert sweeps.sla_reminders(db, late + timedelta(days=1)).changed == []
        assert [s for _, s, _ in _reminders(db)] == [
            f"{code}: first response at risk",
            f"{code}: first response overdue",
        ]

    with transaction(engine) as db:  # the office answers: the first-response clock is met, quiet
        req = _get(db, code)
        requests.take(db, w.p("officer"), req, at=submitted)
    with transaction(engine) as db:
        assert sweeps.sla_reminders(db, late + timedelta(days=1)).changed == []


def test_fulfilment_reminders_follow_the_due_date_a_pause_moves(engine: Engine, world: World) -> None:
    w = world
    submitted = now_utc()
    with transaction(engine) as db:
        req = _submit(db, w, submitted)
        requests.take(db, w.p("officer"), req, at=submitted)  # first response met at once
        code = req.code
        target = req.sla_target_days
    assert target == 15
    started = local_date(submitted, TZ)
    config, cal = _calendar(engine, w, started)
    due = cal.add(started, target)

    risky = _noon(cal.add(started, target - config.at_risk_days))
    assert _clocks(engine, code, config, risky).fulfilment.state is SlaState.AT_RISK  # type: ignore[union-attr]
    with transaction(engine) as db:
        assert sweeps.sla_reminders(db, risky).changed == [f"{code}:fulfilment:at risk"]
        assert sweeps.sla_reminders(db, risky).changed == []

    # A question at that moment pauses the clock: no overdue notice while the requester is asked.
    with transaction(engine) as db:
        req = _get(db, code)
        requests.ask(db, w.p("officer"), req, "Which grades?", at=risky)
    answered_on = cal.add(due, 5)
    with transaction(engine) as db:
        assert sweeps.sla_reminders(db, _noon(answered_on)).changed == []
    with transaction(engine) as db:
        req = _get(db, code)
        requests.answer(db, w.p("analyst"), req, "Grades 3 to 5", at=_noon(answered_on))
    paused = cal.between(local_date(risky, TZ), answered_on)
    moved = cal.add(started, target + paused)
    clock = _clocks(engine, code, config, _noon(answered_on)).fulfilment
    assert clock is not None
    assert (clock.due, clock.state) == (moved, SlaState.AT_RISK)
    with transaction(engine) as db:  # a new due date: one new reminder naming it
        assert sweeps.sla_reminders(db, _noon(answered_on)).changed == [f"{code}:fulfilment:at risk"]
        assert sweeps.sla_reminders(db, _noon(answered_on)).changed == []
        assert f"due {moved}" in _reminders(db)[-1][2]

    overdue = _noon(cal.add(moved, 1))
    with transaction(engine) as db:
        assert sweeps.sla_reminders(db, overdue).changed == [f"{code}:fulfilment:overdue"]
        assert sweeps.sla_reminders(db, overdue + timedelta(days=7)).changed == []
        subjects = [s for _, s, _ in _reminders(db)]
    assert subjects == [
        f"{code}: fulfilment at risk",
        f"{code}: fulfilment at risk",
        f"{code}: fulfilment overdue",
    ]


def test_the_worker_run_mails_each_reminder_once(
    sqlite_engine: Engine, sqlite_world: World, smtp: SmtpSink
) -> None:
    w = sqlite_world
    submitted = now_utc()
    with transaction(sqlite_engine) as db:
        code = _submit(db, w, submitted).code
    started = local_date(submitted, TZ)
    config, cal = _calendar(sqlite_engine, w, started)
    late = _noon(cal.add(started, config.clarify_max_days + 1))
    settings = Settings(database_url=str(sqlite_engine.url), smtp_host="127.0.0.1", smtp_port=smtp.port)
    for _ in range(2):
        results = sweeps.run(sqlite_engine, settings, late, ("sla_reminders",), with_engine_sweeps=False)
        assert [r.name for r in results] == ["sla_reminders", "send_mail"]
    reminders = [s for s in smtp.subjects() if "first response" in s]
    assert reminders == [f"[Steward] {code}: first response overdue"]  # the submission's mails aside
    officer = [str(m["Subject"]) for m in smtp.to("officer@example.org")]
    assert f"[Steward] {code}: first response overdue" in officer
    with transaction(sqlite_engine) as db:
        assert (
            db.scalar(
                select(func.count()).select_from(Notification).where(Notification.kind == "sla.reminder")
            )
            == 1
        )
