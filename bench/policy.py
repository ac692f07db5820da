"""Benchmark: the decision engine on a generated region; prints JSON figures.

Generates a region with ``steward.demo.generator`` (default 1,000,000 students in 7 districts),
imports it with the CEDARS importer into SQLite (and, for PostgreSQL, into a throw-away cluster
started as ``tests/pg.py`` does), adds paperwork (a partner with 500 consented and granted
students), then measures:

- point decisions in process (pure ``decide`` over loaded facts), p50/p99;
- point decisions from the database (load the facts, then decide), p50/p99, per backend;
- the visible set (SQL) of a teacher, of a partner with 500 consented students and of the
  principal of the school closest to 2,000 students, per backend;
- who-can-see latency, per backend;
- ``POST /api/v1/decisions`` throughput with batching (uvicorn, 2 workers, SQLite).

The generated region and the SQLite database are cached under ``bench/out/policy/`` (git-ignored).
``--postgresql-load copy`` fills PostgreSQL from that SQLite database with COPY instead of running
the importer again (a few minutes instead of ~40 at 1,000,000 students; same rows, same schema).

Before timing, the process's objects are collected and frozen (``gc.freeze()``), as a long-running
server does after start-up: a full collection walks every object of the process (here including
what the import left), and one such pause of 100-250 ms otherwise lands in the p99 of whichever
figure it interrupts. ``--no-gc-freeze`` measures without it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.pg: the same throw-away PostgreSQL cluster as the tests

from sqlalchemy import Engine, func, select, text  # noqa: E402

from steward.domain.datasets import Dataset  # noqa: E402
from steward.domain.orgs import Role  # noqa: E402
from steward.domain.time import local_date, local_midnight  # noqa: E402
from steward.policy import Actor, decide  # noqa: E402
from steward.store.db import make_engine, migrate, transaction  # noqa: E402

AT = datetime(2025, 10, 15, 17, 0, tzinfo=UTC)  # 10:00 in Seattle, school year 2025-26
END_YEAR = 2026
REGION = "bench-region"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def stats(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": ms(ordered[len(ordered) // 2]),
        "p99_ms": ms(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]),
        "mean_ms": ms(statistics.fmean(ordered)),
    }


def timed(fn: Callable[[], Any], repeat: int) -> tuple[dict[str, float], Any]:
    result = fn()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return stats(samples), result


# -- region ------------------------------------------------------------------------------------------


def ensure_region(out: Path, students: int, districts: int, years: int, seed: int) -> Path:
    region = out / f"region-{students}-{districts}-{years}-{seed}"
    done = region / ".complete"
    if not done.exists():
        from steward.demo.generator import generate

        if region.exists():
            import shutil

            shutil.rmtree(region)
        region.mkdir(parents=True)
        started = time.perf_counter()
        generate(region, districts, students, years, seed, end_year=END_YEAR)
        done.write_text(f"{time.perf_counter() - started:.1f}\n")
    return region


def import_region(engine: Engine, region: Path) -> float:
    from steward.demo.seed import ensure_region as ensure_region_row
    from steward.store.cedars_drop import import_cedars_drop

    started = time.perf_counter()
    with transaction(engine) as db:
        ensure_region_row(db, REGION)
    for drop in sorted(p for p in region.iterdir() if p.is_dir()):
        import_cedars_drop(engine, drop, drop.name, region_code=REGION)
    return time.perf_counter() - started


def add_paperwork(engine: Engine, consented: int) -> dict[str, Any]:
    """A registered partner with an executed DSA, a trained staff member, and ``consented``
    students of the first district with a guardian's consent and a district grant."""
    from steward.accounts.service import create_account
    from steward.store.models import (
        Guardianship,
        Organization,
        Person,
        RoleAssignment,
        SchoolEnrollment,
        Student,
    )
    from steward.workflow.models import (
        Agreement,
        Consent,
        ConsentDataset,
        Grant,
        GrantDataset,
        GrantStudent,
        Training,
    )

    year_start = local_midnight(date(2025, 7, 1))
    year_end = local_midnight(date(2026, 7, 1))
    with transaction(engine) as db:
        existing = db.scalar(select(Organization.id).where(Organization.code == "bench-cbo"))
        if existing is not None:
            partner_person = db.scalar(select(Person.id).where(Person.code == "bench-partner"))
            have = db.scalar(
                select(func.count()).select_from(Consent).where(Consent.organization_id == existing)
            )
            if have and have >= consented:
                return {"partner_person": partner_person, "consented": have}
            _remove_paperwork(db, existing, partner_person)
        district = db.scalar(
            select(Organization).where(Organization.kind == "district").order_by(Organization.id).limit(1)
        )
        assert district is not None
        cbo = Organization(
            code="bench-cbo",
            kind="partner",
            name="Bench Tutoring",
            state="WA",
            registration_status="registered",
        )
        db.add(cbo)
        person = Person(code="bench-partner", given_name="Bench", family_name="Partner")
        db.add(person)
        db.flush()
        db.add(
            RoleAssignment(
                person_id=person.id, role="partner_staff", organization_id=cbo.id, valid_from=year_start
            )
        )
        db.add(Training(person_id=person.id, valid_from=year_start, valid_to=year_end, school_year=END_YEAR))
        db.add(
            Agreement(
                code="DSA-BENCH",
                kind="dsa",
                organization_id=cbo.id,
                district_id=district.id,
                status="executed",
                school_year=END_YEAR,
                datasets=["attendance", "assessment", "grades"],
                valid_from=year_start,
                valid_to=year_end,
            )
        )
        rows = db.execute(
            select(Student.id, Guardianship.person_id, Guardianship.valid_from)
            .join(SchoolEnrollment, SchoolEnrollment.student_id == Student.id)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .where(
                Student.district_id == district.id,
                SchoolEnrollment.valid_from <= AT,
                (SchoolEnrollment.valid_to.is_(None)) | (SchoolEnrollment.valid_to > AT),
                Guardianship.valid_from <= AT,
                (Guardianship.valid_to.is_(None)) | (Guardianship.valid_to > AT),
                Guardianship.restricted.is_(False),
                Student.birth_date > date(2008, 1, 1),
            )
            .order_by(Student.id)
            .limit(consented * 3)
        ).all()
        chosen: dict[int, tuple[int, date]] = {}
        for student_id, guardian, since in rows:
            # signed on 2025-08-20, or once the guardianship began (a guardian signs, 99.30)
            signed_on = max(date(2025, 8, 20), local_date(since))
            chosen.setdefault(student_id, (guardian, signed_on))
            if len(chosen) == consented:
                break
        grant = Grant(code="G-BENCH", district_id=district.id, organization_id=cbo.id, valid_from=year_start)
        db.add(grant)
        db.flush()
        for n, (student_id, (guardian, signed_on)) in enumerate(sorted(chosen.items())):
            consent = Consent(
                code=f"C-BENCH-{n}",
                student_id=student_id,
                organization_id=cbo.id,
                signed_by_person_id=guardian,
                signed_on=signed_on,
                signed_at=local_midnight(signed_on),
                purpose="tutoring",
                status="verified",
                valid_from=local_midnight(signed_on),
                valid_to=year_end,
            )
            db.add(consent)
            db.flush()
            db.add_all([ConsentDataset(consent_id=consent.id, dataset=d) for d in ("attendance", "grades")])
            db.add(GrantStudent(grant_id=grant.id, student_id=student_id))
        db.add_all(
            [GrantDataset(grant_id=grant.id, dataset=d) for d in ("attendance", "grades", "assessment")]
        )
        # A teacher account for the HTTP benchmark.
        # (the generated roles ended with the last school year: the account needs one in force now
        # to sign in; it changes nothing on the benchmark's instant, where a teacher role holds)
        from steward.store.models import Account, StaffAssignment

        if db.scalar(select(Account.id).where(Account.username == "bench-teacher")) is None:
            teacher = pick_teacher(db)
            school = db.scalar(
                select(StaffAssignment.organization_id).where(StaffAssignment.person_id == teacher)
            )
            db.add(
                RoleAssignment(
                    person_id=teacher, role="teacher", organization_id=school, valid_from=year_start
                )
            )
            create_account(db, db.get_one(Person, teacher), "bench-teacher", "bench teacher password")
        return {"partner_person": person.id, "consented": len(chosen)}


def _remove_paperwork(db: Any, cbo: int, person: int | None) -> None:
    """Drop an earlier, incomplete benchmark partner (so a cached database can be repaired)."""
    from sqlalchemy import delete

    from steward.store.models import Organization, Person, RoleAssignment
    from steward.workflow.models import (
        Agreement,
        Consent,
        ConsentDataset,
        Grant,
        GrantDataset,
        GrantStudent,
        Training,
    )

    consents = select(Consent.id).where(Consent.organization_id == cbo)
    grants = select(Grant.id).where(Grant.organization_id == cbo)
    db.execute(delete(ConsentDataset).where(ConsentDataset.consent_id.in_(consents)))
    db.execute(delete(Consent).where(Consent.organization_id == cbo))
    db.execute(delete(GrantStudent).where(GrantStudent.grant_id.in_(grants)))
    db.execute(delete(GrantDataset).where(GrantDataset.grant_id.in_(grants)))
    db.execute(delete(Grant).where(Grant.organization_id == cbo))
    db.execute(delete(Agreement).where(Agreement.organization_id == cbo))
    if person is not None:
        db.execute(delete(Training).where(Training.person_id == person))
        db.execute(delete(RoleAssignment).where(RoleAssignment.person_id == person))
        db.execute(delete(Person).where(Person.id == person))
    db.execute(delete(Organization).where(Organization.id == cbo))
    db.flush()


def pick_teacher(db: Any) -> int:
    """A teacher whose sections this year hold about 150 students (the closest), among the
    teachers of the five schools with the most sections (secondary schools: an elementary teacher
    has one class of about 25; counting students over the whole region takes minutes)."""
    from steward.store.models import Section, SectionEnrollment, StaffAssignment

    schools = (
        select(Section.school_id)
        .where(Section.school_year == END_YEAR)
        .group_by(Section.school_id)
        .order_by(func.count(Section.id).desc(), Section.school_id)
        .limit(5)
    )
    counts = db.execute(
        select(StaffAssignment.person_id, func.count(func.distinct(SectionEnrollment.student_id)).label("n"))
        .join(Section, Section.id == StaffAssignment.section_id)
        .join(SectionEnrollment, SectionEnrollment.section_id == Section.id)
        .where(Section.school_year == END_YEAR, Section.school_id.in_(schools))
        .group_by(StaffAssignment.person_id)
    ).all()
    return int(min(counts, key=lambda r: (abs(r.n - 150), r.person_id)).person_id)


def pick_principal(db: Any) -> tuple[int, int, int]:
    """(person, school, enrolled) for the principal of the school closest to 2,000 students."""
    from steward.store.models import RoleAssignment, SchoolEnrollment

    sizes = db.execute(
        select(SchoolEnrollment.school_id, func.count(func.distinct(SchoolEnrollment.student_id)).label("n"))
        .where(
            SchoolEnrollment.valid_from <= AT,
            (SchoolEnrollment.valid_to.is_(None)) | (SchoolEnrollment.valid_to > AT),
        )
        .group_by(SchoolEnrollment.school_id)
    ).all()
    principals = {
        r.organization_id: r.person_id
        for r in db.execute(
            select(RoleAssignment.organization_id, RoleAssignment.person_id).where(
                RoleAssignment.role == "principal"
            )
        )
    }
    candidates = [s for s in sizes if s.school_id in principals]
    if not candidates:
        raise SystemExit("the generated region has no principal")
    best = min(candidates, key=lambda s: abs(s.n - 2000))
    return principals[best.school_id], best.school_id, best.n


def copy_from_sqlite(sqlite_path: Path, url: str) -> float:
    """Fill the (empty) PostgreSQL database at ``url`` with the rows of the benchmark's SQLite
    database: tables at the SQLite file's migration revision, COPY table by table, sequences moved
    past the ids, then upgraded to head."""
    import sqlite3

    from sqlalchemy import inspect

    from steward.store import all_models  # noqa: F401  (every table in the metadata)
    from steward.store.base import Base

    started = time.perf_counter()
    lite = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    (revision,) = lite.execute("SELECT version_num FROM alembic_version").fetchone()
    migrate(url, revision)
    engine = make_engine(url)
    columns = {
        t: {c["name"] for c in inspect(engine).get_columns(t)} for t in inspect(engine).get_table_names()
    }
    present = {r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        cursor.execute("SET session_replication_role = replica")  # rows arrive complete: no FK checks
        for table in Base.metadata.sorted_tables:
            if table.name not in present or table.name not in columns:
                continue
            names = [
                r[1]
                for r in lite.execute(f'PRAGMA table_info("{table.name}")')
                if r[1] in columns[table.name]
            ]
            quoted = ", ".join(f'"{n}"' for n in names)
            with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                for row in lite.execute(f'SELECT {quoted} FROM "{table.name}"'):
                    copy.write_row(row)
            if "id" in names:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f'(SELECT max(id) FROM "{table.name}"))'
                )
        driver.commit()
    finally:
        raw.close()
        engine.dispose()
        lite.close()
    migrate(url)
    return time.perf_counter() - started


# -- measurements -------------------------------------------------------------------------------------


def measure_backend(
    engine: Engine, repeat: int, rng: random.Random, *, freeze: bool = True
) -> dict[str, Any]:
    if freeze:
        gc.collect()
        gc.freeze()
    try:
        return _measure_backend(engine, repeat, rng)
    finally:
        if freeze:
            gc.unfreeze()


def _measure_backend(engine: Engine, repeat: int, rng: random.Random) -> dict[str, Any]:
    from steward.store.access import check, who_can_see
    from steward.store.fact_loader import load_facts
    from steward.store.models import RoleAssignment, SectionEnrollment, StaffAssignment, Student
    from steward.store.visibility import visible_students

    out: dict[str, Any] = {}
    with engine.connect() as db:
        teacher = pick_teacher(db)
        principal, school, enrolled = pick_principal(db)
        partner = db.scalar(text("SELECT id FROM people WHERE code = 'bench-partner'"))
        teacher_role = db.execute(
            select(RoleAssignment).where(
                RoleAssignment.person_id == teacher, RoleAssignment.role == "teacher"
            )
        ).first()
        assert teacher_role is not None
        teacher_actor = Actor(str(teacher), Role.TEACHER, str(teacher_role.organization_id))
        principal_actor = Actor(str(principal), Role.PRINCIPAL, str(school))
        cbo = db.scalar(text("SELECT id FROM organizations WHERE code = 'bench-cbo'"))
        partner_actor = Actor(str(partner), Role.PARTNER_STAFF, str(cbo))

        def visible(actor: Actor) -> Callable[[], int]:
            def run() -> int:
                page = visible_students(
                    db, int(actor.person), AT, actor=actor, directory_information=False, limit=5000
                )
                return len(page.students)

            return run

        for name, actor in (
            ("teacher", teacher_actor),
            ("partner_500", partner_actor),
            ("principal", principal_actor),
        ):
            figures, count = timed(visible(actor), repeat)
            out[f"visible_set_{name}"] = {**figures, "students": count}
        out["visible_set_principal"]["school_enrolled"] = enrolled

        max_id = int(db.scalar(select(func.max(Student.id))) or 1)
        sample = [rng.randint(1, max_id) for _ in range(repeat)]
        section_students = [
            int(r[0])
            for r in db.execute(
                select(SectionEnrollment.student_id)
                .join(StaffAssignment, StaffAssignment.section_id == SectionEnrollment.section_id)
                .where(StaffAssignment.person_id == teacher)
                .limit(200)
            )
        ]
        samples = []
        for i in range(repeat):
            student = section_students[i % len(section_students)] if i % 2 else sample[i]
            dataset = list(Dataset)[i % len(Dataset)]
            started = time.perf_counter()
            check(db, teacher, student, dataset, AT)
            samples.append(time.perf_counter() - started)
        out["point_decision_from_db"] = stats(samples)

        samples = []
        who_samples = sample[: max(20, repeat // 5)]
        for student in who_samples:
            started = time.perf_counter()
            who_can_see(db, student, AT)
            samples.append(time.perf_counter() - started)
        out["who_can_see"] = stats(samples)

        # In process: facts of 2,000 students and the three principals loaded once, then decide.
        students = sorted(set(section_students) | set(sample[:1800]))
        facts = load_facts(db, [teacher, principal, int(partner)], students, [int(cbo)])
        actors = [teacher_actor, principal_actor, partner_actor]
        calls = [
            (actors[i % 3], str(students[i % len(students)]), list(Dataset)[i % len(Dataset)])
            for i in range(20000)
        ]
        samples = []
        for actor, student_key, dataset in calls:
            started = time.perf_counter()
            decide(facts, actor, student_key, dataset, at=AT)
            samples.append(time.perf_counter() - started)
        out["point_decision_in_process"] = stats(samples)
    return out


def measure_http(url: str, batch: int, requests: int, clients: int) -> dict[str, Any]:
    """``POST /api/v1/decisions`` throughput: uvicorn with 2 workers, ``clients`` concurrent
    clients each sending batches of ``batch`` checks for the teacher's students."""
    import httpx

    port = 8700 + os.getpid() % 200
    env = {**os.environ, "STEWARD_DATABASE_URL": url, "STEWARD_SECRET_KEY": "bench-secret"}
    env["STEWARD_MFA_REQUIRED_ROLES"] = "[]"  # the bench teacher signs in with a password only
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "steward.web.app:create_app", "--factory", "--workers", "2",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.3)
        engine = make_engine(url)
        with engine.connect() as db:
            from steward.store.models import Account, SectionEnrollment, StaffAssignment

            # the person behind the account that signs in (picked when the database was built)
            teacher = db.scalar(select(Account.person_id).where(Account.username == "bench-teacher"))

            students = [
                int(r[0])
                for r in db.execute(
                    select(SectionEnrollment.student_id)
                    .join(StaffAssignment, StaffAssignment.section_id == SectionEnrollment.section_id)
                    .where(StaffAssignment.person_id == teacher)
                )
            ]
        engine.dispose()
        checks = [
            {"student": students[i % len(students)], "dataset": list(Dataset)[i % len(Dataset)].value}
            for i in range(batch)
        ]
        payload = {"checks": checks, "at": AT.isoformat()}

        def session() -> httpx.Client:
            client = httpx.Client(base_url=base, timeout=120)
            login = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
            assert token, "no CSRF token on the sign-in page"
            form = {"username": "bench-teacher", "password": "bench teacher password"}
            answer = client.post("/login", data={**form, "csrf_token": token.group(1), "next": "/"})
            if answer.headers.get("location", "").startswith("/role"):
                page = client.get("/role")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
                choices = re.findall(r'value="(\d+)"[^>]*>\s*<label[^>]*>([^<]*)<', page.text)
                teaching = [value for value, label in choices if "teacher" in label.lower()]
                assert token, "no CSRF token on the role page"
                assert teaching, "no teacher role to choose"
                client.post("/role", data={"role_assignment_id": teaching[0], "csrf_token": token.group(1)})
            return client

        sessions = [session() for _ in range(clients)]
        warm = sessions[0].post("/api/v1/decisions", json=payload)
        if warm.status_code != 200:
            raise SystemExit(f"POST /api/v1/decisions: {warm.status_code} {warm.text[:300]}")
        allowed = sum(d["allowed"] for d in warm.json()["decisions"])
        done = [0]
        lock = threading.Lock()

        def worker(client: httpx.Client, n: int) -> None:
            for _ in range(n):
                response = client.post("/api/v1/decisions", json=payload)
                response.raise_for_status()
                with lock:
                    done[0] += len(response.json()["decisions"])

        per = max(1, requests // clients)
        threads = [threading.Thread(target=worker, args=(c, per)) for c in sessions]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
        return {
            "batch": batch,
            "requests": per * clients,
            "clients": clients,
            "workers": 2,
            "decisions": done[0],
            "seconds": round(seconds, 3),
            "decisions_per_second": round(done[0] / seconds, 1),
            "allowed_in_batch": allowed,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--districts", type=int, default=7)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=200, help="timed repetitions per figure")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP throughput figure")
    parser.add_argument(
        "--postgresql-load",
        choices=("import", "copy"),
        default="import",
        help="fill PostgreSQL with the CEDARS importer, or by COPY from the cached SQLite database",
    )
    parser.add_argument("--no-gc-freeze", action="store_true", help="time without freezing the heap first")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "policy")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {
        "students": args.students,
        "gc_freeze": not args.no_gc_freeze,
        "districts": args.districts,
        "years": args.years,
        "at": AT.isoformat(),
        "cpus": os.cpu_count(),
    }
    started = time.perf_counter()
    region = ensure_region(args.out, args.students, args.districts, args.years, args.seed)
    figures["generate_seconds"] = float((region / ".complete").read_text())
    sqlite_path = args.out / f"steward-{region.name}.db"
    sqlite_url = f"sqlite:///{sqlite_path}"
    marker = sqlite_path.with_suffix(".complete")
    if not marker.exists():
        for p in (sqlite_path, Path(f"{sqlite_path}-wal"), Path(f"{sqlite_path}-shm")):
            p.unlink(missing_ok=True)
        migrate(sqlite_url)
        engine = make_engine(sqlite_url)
        figures["import_seconds_sqlite"] = round(import_region(engine, region), 1)
        figures["paperwork"] = add_paperwork(engine, 500)
        engine.dispose()
        marker.write_text(json.dumps(figures))
    else:
        cached = json.loads(marker.read_text())
        figures["import_seconds_sqlite"] = cached.get("import_seconds_sqlite")
        migrate(sqlite_url)  # a database cached by an older checkout gets the newer tables
        engine = make_engine(sqlite_url)
        figures["paperwork"] = add_paperwork(engine, 500)
        engine.dispose()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "sqlite" in backends:
        engine = make_engine(sqlite_url)
        figures["sqlite"] = measure_backend(engine, args.repeat, rng, freeze=not args.no_gc_freeze)
        engine.dispose()
        if not args.no_http:
            try:
                figures["http_decisions"] = measure_http(sqlite_url, batch=500, requests=40, clients=4)
            except (Exception, SystemExit) as exc:  # a figure missing must not lose the others
                figures["http_decisions"] = {"error": str(exc)}
    if "postgresql" in backends:
        from tests.pg import start_cluster

        cluster = start_cluster()
        try:
            admin = make_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("CREATE DATABASE bench"))
            admin.dispose()
            url = cluster.url("bench")
            if args.postgresql_load == "copy":
                figures["copy_seconds_postgresql"] = round(copy_from_sqlite(sqlite_path, url), 1)
                engine = make_engine(url)
            else:
                migrate(url)
                engine = make_engine(url)
                figures["import_seconds_postgresql"] = round(import_region(engine, region), 1)
            add_paperwork(engine, 500)
            with engine.connect() as conn, conn.begin():
                conn.execute(text("ANALYZE"))
            figures["postgresql"] = measure_backend(engine, args.repeat, rng, freeze=not args.no_gc_freeze)
            engine.dispose()
        finally:
            cluster.stop()
    figures["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
