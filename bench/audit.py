"""Audit log speed on SQLite and PostgreSQL, as JSON.

Targets: append at least 5,000 events/s (batched in one transaction per batch), verify at least
500,000 events/s, and a parent's ledger page for a student with 1,000 entries under 100 ms.
PostgreSQL runs in a throw-away cluster (``tests/pg.py``); skipped when its binaries are missing.

    .venv/bin/python bench/audit.py [--events 200000] [--batch 1000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import factories as f

from steward.audit import EventActor, EventSpec, Recipient, append_many, record_disclosure
from steward.audit.verify import verify
from steward.config import Settings
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.store.db import make_engine, migrate, transaction
from steward.store.models import Guardianship
from steward.web.app import create_app


def _append(engine: Engine, district: int, events: int, batch: int) -> tuple[float, float]:
    """Events per second of wall time and per second of this process's CPU time."""
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, events, batch):
        specs = [
            EventSpec(
                action="record.view",
                district_id=district,
                actor=EventActor(1000 + i % 50, "teacher", 17),
                subject_type="student",
                subjects=[str(i % 5000)],
                basis="school_official",
                citation="34 CFR 99.31(a)(1)",
                evidence=[f"section_enrollment:{i}"],
                request_id=f"req-{i}",
                details={"dataset": "grades", "form": "identifiable"},
            )
            for i in range(start, min(start + batch, events))
        ]
        with transaction(engine) as db:
            append_many(db, specs)
    return events / (time.perf_counter() - started), events / (time.process_time() - cpu)


def _ledger_page(engine: Engine, entries: int, tmp: Path) -> dict[str, float]:
    with transaction(engine) as db:
        district = f.org(db, "bench-d2", "district", "Ledger District")
        partners = [f.org(db, f"bench-p{i}", "partner", f"Partner {i}") for i in range(10)]
        student = f.student(db, district, "9001")
        parent = f.person(db, "bench-parent", "parent", district, password="bench pass")
        db.add(Guardianship(person_id=parent.id, student_id=student.id, valid_from=f.EPOCH))
        db.flush()
        student_id = student.id
        bases = [LegalBasis.STUDIES, LegalBasis.SCHOOL_OFFICIAL, LegalBasis.CONSENT, LegalBasis.TRANSFER]
        recipients = [Recipient.organization(db, p.id) for p in partners]
    for start in range(0, entries, 250):
        with transaction(engine) as db:
            for i in range(start, min(start + 250, entries)):
                record_disclosure(
                    db,
                    recipients[i % len(recipients)],
                    [student_id],
                    [Dataset.ATTENDANCE, Dataset.GRADES],
                    bases[i % len(bases)],
                    purpose="program evaluation",
                    agreement_id=i % 7,
                    channel="package",
                )
    settings = Settings(database_url=str(engine.url), secret_key="bench", data_dir=tmp / "var")
    timings, cpu_timings = [], []
    with TestClient(create_app(settings, engine)) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        login = {"username": "bench-parent", "password": "bench pass", "csrf_token": token}
        client.post("/login", data=login)
        for _ in range(25):
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(f"/ledger/students/{student_id}")
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200
            assert response.text.count('data-testid="ledger-line"') == entries
    return {
        "median_ms": round(statistics.median(timings[5:]), 1),
        "max_ms": round(max(timings[5:]), 1),
        "median_cpu_ms": round(statistics.median(cpu_timings[5:]), 1),
    }


def run(engine: Engine, events: int, batch: int, entries: int, tmp: Path) -> dict[str, Any]:
    with transaction(engine) as db:
        district = f.org(db, "bench-d1", "district").id
    append_rate, append_cpu = _append(engine, district, events, batch)
    serial_runs, parallel_runs = [], []
    for _ in range(3):  # medians of three: a shared machine's load comes and goes
        before = os.times()
        serial = verify(engine, ledger=False, jobs=1)
        after = os.times()
        assert serial.ok
        serial_runs.append((serial.seconds, sum(after[:4]) - sum(before[:4])))
        before = os.times()
        parallel = verify(engine, ledger=False, jobs=2, min_per_job=max(events // 4, 1))
        after = os.times()  # this process and its (joined) workers
        assert parallel.ok
        parallel_runs.append((parallel.seconds, sum(after[:4]) - sum(before[:4])))
    serial_seconds = statistics.median(r[0] for r in serial_runs)
    serial_cpu = statistics.median(r[1] for r in serial_runs)
    parallel_seconds = statistics.median(r[0] for r in parallel_runs)
    parallel_cpu = statistics.median(r[1] for r in parallel_runs)
    in_database = (
        verify(engine, ledger=False, in_database=True) if engine.dialect.name == "postgresql" else None
    )
    page = _ledger_page(engine, entries, tmp)
    return {
        "events": events,
        "append_events_per_s": round(append_rate),
        "append_events_per_cpu_s": round(append_cpu),
        "verify_events_per_s_1_process": round(events / serial_seconds),
        "verify_events_per_cpu_s_1_process": round(events / serial_cpu),
        "verify_events_per_s_2_processes": round(events / parallel_seconds),
        "verify_events_per_cpu_s_2_processes": round(events / parallel_cpu),
        "verify_seconds_1_process": [round(r[0], 3) for r in serial_runs],
        "verify_cpu_seconds_1_process": [round(r[1], 3) for r in serial_runs],
        "verify_seconds_2_processes": [round(r[0], 3) for r in parallel_runs],
        "verify_cpu_seconds_2_processes": [round(r[1], 3) for r in parallel_runs],
        "ledger_page_1000_entries": page,
        "load_average_after": round(os.getloadavg()[0], 2),
    } | (
        {"verify_events_per_s_in_database": round(in_database.events / in_database.seconds)}
        if in_database is not None
        else {}
    )


def main() -> None:
    os.environ.setdefault("STEWARD_MFA_REQUIRED_ROLES", "[]")  # the bench parent signs in with a password
    os.environ.setdefault("STEWARD_ARGON2_TIME_COST", "1")
    os.environ.setdefault("STEWARD_ARGON2_MEMORY_KIB", "1024")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "targets": {"append": 5000, "verify": 500_000, "ledger_page_ms": 100},
        "note": (
            "verify: medians of 3 runs; *_per_cpu_s count this process's CPU (2 processes: plus its "
            "workers'); on PostgreSQL the server's work is excluded. in_database: the server hashes "
            "(its CPU is not counted)."
        ),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        tmp = Path(folder)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{tmp / 'audit.db'}"
                migrate(url)
                engine = make_engine(url)
                try:
                    results["sqlite"] = run(engine, args.events, args.batch, args.entries, tmp / "sqlite")
                finally:
                    engine.dispose()
            elif backend == "postgresql":
                try:
                    from tests.pg import start_cluster

                    cluster = start_cluster()
                except (RuntimeError, OSError) as exc:
                    results["postgresql"] = {"skipped": str(exc)}
                    continue
                try:
                    admin = make_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
                    with admin.connect() as conn:
                        conn.execute(text("CREATE DATABASE bench"))
                    admin.dispose()
                    migrate(cluster.url("bench"))
                    engine = make_engine(cluster.url("bench"))
                    try:
                        results["postgresql"] = run(engine, args.events, args.batch, args.entries, tmp / "pg")
                    finally:
                        engine.dispose()
                finally:
                    cluster.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
