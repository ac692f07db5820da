"""Exactly one worker holds the scheduler lease; the scheduler has its three jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from steward.config import Settings
from steward.store.base import now_utc
from steward.workflow.worker import runner


def test_a_second_worker_is_refused_until_the_lease_lapses(sqlite_engine: Engine) -> None:
    now = now_utc()
    assert runner.acquire(sqlite_engine, "a", now)
    assert not runner.acquire(sqlite_engine, "b", now + timedelta(seconds=10))
    assert runner.acquire(sqlite_engine, "a", now + timedelta(seconds=30))  # renewal
    assert runner.acquire(sqlite_engine, "b", now + timedelta(seconds=30 + runner.LEASE + 1))  # take-over
    assert not runner.acquire(sqlite_engine, "a", now + timedelta(seconds=30 + runner.LEASE + 2))
    runner.release(sqlite_engine, "b")
    assert runner.acquire(sqlite_engine, "a", now + timedelta(seconds=200))


def test_serve_exits_when_the_lease_is_held(sqlite_engine: Engine, tmp_path: object) -> None:
    runner.acquire(sqlite_engine, "someone-else")
    said: list[str] = []
    settings = Settings(database_url=str(sqlite_engine.url))
    assert runner.serve(sqlite_engine, settings, say=said.append) == 3
    assert "exactly one may run" in said[0]


def test_scheduler_jobs(sqlite_engine: Engine) -> None:
    settings = Settings(database_url=str(sqlite_engine.url))
    scheduler = runner.build(sqlite_engine, settings, "me", interval=60, mail_interval=10)
    assert {job.id for job in scheduler.get_jobs()} == {"sweeps", "mail", "lease"}


def test_run_once_runs_every_sweep(sqlite_engine: Engine, tmp_path: object) -> None:
    settings = Settings(database_url=str(sqlite_engine.url), data_dir=tmp_path)  # type: ignore[arg-type]
    names = [r.name for r in runner.run_once(sqlite_engine, settings)]
    assert names == [*runner.sweeps.DB_SWEEPS, *runner.sweeps.ENGINE_SWEEPS, "send_mail"]
