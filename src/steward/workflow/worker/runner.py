"""The one worker: APScheduler runs the sweeps on an interval and sends mail, in exactly one process.

APScheduler fires jobs in every process that starts a scheduler, so the worker first takes a lease
(a row in ``worker_leases``) and renews it every ``RENEW`` seconds; a second ``steward worker``
finds the lease held and exits (or waits with ``--wait``). If the holder dies, its lease lapses
after ``LEASE`` seconds and another worker may take over. The web processes never start a
scheduler. The sweeps are idempotent, so even an overlap during a take-over changes nothing twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine, delete, update

from steward.config import Settings
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.upsert import upsert
from steward.workflow.worker import sweeps
from steward.workflow.worker.models import WorkerLease

log = logging.getLogger("steward.worker")
NAME = "scheduler"
LEASE = 90
RENEW = 30


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(engine: Engine, holder: str, now: datetime | None = None, seconds: int = LEASE) -> bool:
    """Take or renew the lease; False when another live worker holds it."""
    when = now or now_utc()
    with transaction(engine) as db:
        upsert(
            db,
            WorkerLease,
            [
                {
                    "name": NAME,
                    "holder": holder,
                    "acquired_at": when,
                    "expires_at": when - timedelta(seconds=1),
                }
            ],
            conflict=["name"],
        )
        result = db.execute(
            update(WorkerLease)
            .where(
                WorkerLease.name == NAME,
                (WorkerLease.holder == holder) | (WorkerLease.expires_at < when),
            )
            .values(holder=holder, expires_at=when + timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


def release(engine: Engine, holder: str) -> None:
    with transaction(engine) as db:
        db.execute(delete(WorkerLease).where(WorkerLease.name == NAME, WorkerLease.holder == holder))


def run_once(engine: Engine, settings: Settings, now: datetime | None = None) -> list[sweeps.SweepResult]:
    """Every sweep once (cron-friendly; also what each scheduled run does)."""
    return sweeps.run(engine, settings, now)


def build(
    engine: Engine,
    settings: Settings,
    holder: str,
    *,
    interval: int = 300,
    mail_interval: int = 30,
    on_lost: Callable[[], None] | None = None,
) -> BlockingScheduler:
    """The scheduler with its three jobs: sweeps, mail, lease renewal (one instance each)."""
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})

    def sweep_job() -> None:
        for result in sweeps.run(engine, settings):
            if result.count:
                log.info("%s: %s", result.name, ", ".join(result.changed[:20]))

    def mail_job() -> None:
        sweeps.send_mail(engine, settings)

    def renew_job() -> None:
        if not acquire(engine, holder):
            log.error("the worker lease was taken over; stopping this scheduler")
            if on_lost is not None:
                on_lost()
            scheduler.shutdown(wait=False)

    scheduler.add_job(sweep_job, "interval", seconds=interval, id="sweeps", next_run_time=now_utc())
    scheduler.add_job(mail_job, "interval", seconds=mail_interval, id="mail")
    scheduler.add_job(renew_job, "interval", seconds=RENEW, id="lease")
    return scheduler


def serve(
    engine: Engine,
    settings: Settings,
    *,
    interval: int = 300,
    mail_interval: int = 30,
    wait: bool = False,
    say: Callable[[str], None] = print,
) -> int:
    """Run the scheduler until interrupted; exit code 3 when another worker holds the lease."""
    holder = holder_id()
    while not acquire(engine, holder):
        if not wait:
            say(
                "another steward worker holds the scheduler lease; exactly one may run "
                "(use --wait to stand by)"
            )
            return 3
        time.sleep(RENEW)
    say(f"steward worker {holder}: sweeps every {interval}s, mail every {mail_interval}s")
    scheduler = build(engine, settings, holder, interval=interval, mail_interval=mail_interval)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        release(engine, holder)
    return 0
