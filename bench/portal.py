"""Benchmark: the report package and Student-at-a-Glance on the demo region; prints JSON figures.

Generates the demo region (default 150,000 students, the demo's 2 districts and 3 school years)
with ``steward.demo.generator``, imports it into SQLite, seeds the demo personas, and adds a partner
with 2,000 consented and granted students of the larger district (executed DSA, trained staff
member, verified consents, one grant). Then measures:

- building the drop's byte-offset index (cold: the first request after a new drop);
- the package for that partner (set evaluation, reading the 2,000 students' records from the
  drop, the twelve reports, the XLSX workbook, the ledger lines), cold and warm, and its parts;
- the CSV zip and the SFTP delivery (age-encrypted, one package);
- ``GET /portal/students/{id}`` (Student-at-a-Glance, in process through the ASGI app, including
  the decision, the read, the charts, the template and the audit/ledger writes) for the partner,
  a teacher and a principal: p50/p99 over many students, the heap collected and frozen once the
  app is built, as ``steward serve`` does (``--no-gc-freeze``: without; a full collection over
  this process's leftovers then lands in one page);
- the time from a parent's electronic signature to the partner seeing the student, and from a
  revocation to losing it (bench/consent_latency.py's service path on its own 3,000-student
  region, so the cached database above is not changed; ``--no-consent`` skips it).

Each measured making runs in a transaction that is rolled back, so runs do not accumulate ledger
lines. The region and the database are cached under ``bench/out/portal/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from steward.domain.orgs import OrgKind, Role  # noqa: E402
from steward.domain.principal import Principal  # noqa: E402
from steward.store.db import make_engine, migrate, transaction  # noqa: E402

REGION = "puget-sound"
CBO = "bench-portal-cbo"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def stats(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": ms(ordered[len(ordered) // 2]),
        "p99_ms": ms(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]),
        "max_ms": ms(ordered[-1]),
        "mean_ms": ms(statistics.fmean(ordered)),
    }


def ensure_region(data: Path, students: int, districts: int, years: int, seed: int) -> float:
    region = data / "demo" / "region"
    done = data / ".generated"
    if done.exists():
        return float(done.read_text())
    from steward.demo.generator import generate

    region.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    generate(region, districts=districts, students=students, years=years, seed=seed)
    elapsed = time.perf_counter() - started
    done.write_text(f"{elapsed:.1f}\n")
    return elapsed


def ensure_database(data: Path, consented: int) -> tuple[str, dict[str, Any]]:
    url = f"sqlite:///{data / 'demo' / 'steward.db'}"
    marker = data / ".imported"
    if marker.exists():
        return url, json.loads(marker.read_text())
    from steward.demo.seed import ensure_region as ensure_region_row
    from steward.demo.seed import seed_personas
    from steward.store.cedars_drop import import_cedars_drop
    from steward.store.models import Organization

    db_path = data / "demo" / "steward.db"
    for p in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        p.unlink(missing_ok=True)
    migrate(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with transaction(engine) as db:
        ensure_region_row(db, REGION)
    drops = sorted(p for p in (data / "demo" / "region").iterdir() if p.is_dir())
    for drop in drops:
        import_cedars_drop(engine, drop, drop.name, region_code=REGION)
    figures: dict[str, Any] = {"import_seconds": round(time.perf_counter() - started, 1)}
    with transaction(engine) as db:
        orgs = list(
            db.scalars(
                select(Organization)
                .where(Organization.code.in_([d.name for d in drops]))
                .order_by(Organization.code)
            )
        )
        seed_personas(db, orgs)
    started = time.perf_counter()
    figures["bench_partner"] = add_partner(engine, consented)
    figures["paperwork_seconds"] = round(time.perf_counter() - started, 1)
    engine.dispose()
    marker.write_text(json.dumps(figures))
    return url, figures


def add_partner(engine: Engine, consented: int) -> dict[str, Any]:
    """A registered partner, its trained staff member, an executed DSA with the larger district,
    ``consented`` verified consents and one grant (workflow services for the agreement, training
    and grant; the consents as rows, in bulk)."""
    import uuid

    from sqlalchemy import insert
    from tests.products.portal.conftest import principal_of

    from steward.domain.time import SchoolYear, local_date, local_midnight
    from steward.policy.facts import AgreementStatus, ConsentStatus
    from steward.store.base import now_utc
    from steward.store.models import (
        Guardianship,
        Organization,
        Person,
        RoleAssignment,
        SchoolEnrollment,
        Student,
    )
    from steward.workflow.agreements import service as agreements
    from steward.workflow.consents.service import consent_window
    from steward.workflow.grants import service as grants
    from steward.workflow.models import Consent, ConsentDataset
    from steward.workflow.training import service as training

    now = now_utc()
    with transaction(engine) as db:
        district = db.scalar(
            select(Organization)
            .where(Organization.kind == "district")
            .order_by(
                select(func.count(Student.id))
                .where(Student.district_id == Organization.id)
                .scalar_subquery()
                .desc()
            )
            .limit(1)
        )
        assert district is not None
        officer = principal_of(db, "officer")
        officer = Principal(
            officer.person_id,
            officer.person_code,
            Role.DISTRICT_DATA_OFFICER,
            district.id,
            district.code,
            OrgKind.DISTRICT,
        )
        if (
            db.scalar(
                select(RoleAssignment.id).where(
                    RoleAssignment.person_id == officer.person_id,
                    RoleAssignment.organization_id == district.id,
                )
            )
            is None
        ):
            db.add(
                RoleAssignment(
                    person_id=officer.person_id,
                    role=Role.DISTRICT_DATA_OFFICER.value,
                    organization_id=district.id,
                    valid_from=now - timedelta(days=400),
                )
            )
        cbo = Organization(
            code=CBO,
            kind="partner",
            name="Bench Youth Programs",
            state="WA",
            registration_status="registered",
            flags=[],
        )
        person = Person(code="bench-portal-staff", given_name="Bench", family_name="Steward")
        db.add_all([cbo, person])
        db.flush()
        db.add(
            RoleAssignment(
                person_id=person.id,
                role="partner_staff",
                organization_id=cbo.id,
                valid_from=now - timedelta(days=60),
            )
        )
        tz = "America/Los_Angeles"
        year = SchoolYear.at(now, tz)
        agreements.create(
            db,
            officer,
            kind="dsa",
            organization_id=cbo.id,
            district_id=district.id,
            valid_from=local_midnight(year.first_day, tz),
            status=AgreementStatus.EXECUTED,
            title="bench DSA",
            purpose="youth programs",
            datasets=[
                "directory",
                "demographics",
                "enrollment",
                "attendance",
                "discipline",
                "assessment",
                "grades",
                "schedule",
                "programs",
            ],
            annual=True,
        )
        today = local_date(now, tz)
        training.record(
            db,
            officer,
            person_id=person.id,
            completed_on=max(year.first_day, today - timedelta(days=10)),
            organization_id=cbo.id,
        )
        signed_on = max(year.first_day, today - timedelta(days=7))
        signed_at = local_midnight(signed_on, tz)
        adult = signed_on.replace(year=signed_on.year - 18, day=min(signed_on.day, 28))
        rows = db.execute(
            select(Student.id, func.min(Guardianship.person_id))
            .join(SchoolEnrollment, SchoolEnrollment.student_id == Student.id)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .where(
                Student.district_id == district.id,
                Student.birth_date > adult,
                Student.legal_restriction.is_(False),
                SchoolEnrollment.valid_at(now),
                Guardianship.valid_at(signed_at),
                Guardianship.valid_at(now),
                Guardianship.restricted.is_(False),
            )
            .group_by(Student.id)
            .order_by(Student.id)
        ).all()
        rng = random.Random(5)
        chosen = sorted(rng.sample(rows, consented))
        start, end = consent_window(year.end_year, tz)
        consent_rows = [
            {
                "code": f"C-B{uuid.uuid4().hex[:10].upper()}",
                "student_id": sid,
                "organization_id": cbo.id,
                "signed_by_person_id": guardian,
                "signed_on": signed_on,
                "signed_at": signed_at,
                "purpose": "youth programs",
                "status": ConsentStatus.VERIFIED.value,
                "school_year": year.end_year,
                "valid_from": signed_at,
                "valid_to": end,
                "guardian_name": "guardian",
                "reviewed_by_person_id": officer.person_id,
                "reviewed_at": now,
            }
            for sid, guardian in chosen
        ]
        db.execute(insert(Consent), consent_rows)
        ids = dict(
            db.execute(select(Consent.student_id, Consent.id).where(Consent.organization_id == cbo.id)).all()
        )
        every = ["directory", "demographics", "enrollment", "attendance", "assessment", "grades", "schedule"]
        db.execute(
            insert(ConsentDataset),
            [
                {"consent_id": cid, "dataset": d}
                for n, cid in enumerate(ids.values())
                for d in (every + (["discipline", "programs"] if n % 3 == 0 else []))
            ],
        )
        grants.grant(
            db,
            officer,
            organization_id=cbo.id,
            student_ids=[s for s, _ in chosen],
            datasets=[*every, "discipline", "programs"],
            at=now - timedelta(minutes=5),
        )
        return {
            "district": district.code,
            "students": len(chosen),
            "candidates": len(rows),
            "start": start.isoformat(),
        }


def principal(db: Session, code: str, role: Role) -> Principal:
    from steward.store.models import Organization, Person, RoleAssignment

    person = db.scalar(select(Person).where(Person.code == code))
    assert person is not None, code
    ra = db.scalar(
        select(RoleAssignment).where(RoleAssignment.person_id == person.id, RoleAssignment.role == role.value)
    )
    assert ra is not None
    org = db.get_one(Organization, ra.organization_id)
    return Principal(person.id, person.code, role, org.id, org.code, OrgKind(org.kind), person.display_name)


def persona(db: Session, username: str) -> Principal:
    from tests.products.portal.conftest import principal_of

    return principal_of(db, username)


CPU: list[float] = []


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds and result; the CPU seconds of the call are appended to ``CPU`` (the machine
    is shared, so CPU time is the steadier figure)."""
    cpu = time.process_time()
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    CPU.append(time.process_time() - cpu)
    return elapsed, result


def measure_package(engine: Engine, data: Path, who: Principal, repeat: int) -> dict[str, Any]:
    from steward.products.portal import lines, service
    from steward.products.portal import package as pk
    from steward.store.base import now_utc

    out: dict[str, Any] = {}
    lines.clear_caches()
    with Session(engine) as db:
        members = pk.members_of(db, who, now_utc())
        out["students"] = len(members)
    # cold: the first making after a new drop (indexes built on the way)
    with Session(engine) as db:
        seconds, made = timed(lambda: service.download(db, data, who, "xlsx"))
        db.rollback()
    out["cold_xlsx_seconds"] = round(seconds, 2)
    out["cold_xlsx_cpu_seconds"] = round(CPU[-1], 2)
    out["workbook_bytes"] = len(made.content)
    out["rows"] = made.generation.reports
    warm: list[float] = []
    warm_cpu: list[float] = []
    parts: dict[str, list[float]] = {"set_evaluation": [], "read_and_rows": [], "xlsx": [], "ledger": []}
    parts_cpu: dict[str, list[float]] = {k: [] for k in parts}
    for _ in range(repeat):
        with Session(engine) as db:
            seconds, _ = timed(lambda: service.download(db, data, who, "xlsx"))
            warm.append(seconds)
            warm_cpu.append(CPU[-1])
            db.rollback()
        with Session(engine) as db:
            at = now_utc()
            t, chosen = timed(lambda db=db, at=at: pk.members_of(db, who, at))
            parts["set_evaluation"].append(t)
            parts_cpu["set_evaluation"].append(CPU[-1])
            t, package = timed(lambda db=db, at=at, m=chosen: pk.build(db, data, who, at, members=m))
            parts["read_and_rows"].append(t)
            parts_cpu["read_and_rows"].append(CPU[-1])
            t, _ = timed(lambda package=package: pk.xlsx_bytes(package))
            parts["xlsx"].append(t)
            parts_cpu["xlsx"].append(CPU[-1])
            t, _ = timed(lambda db=db, package=package: service.record(db, package, who, channel="download"))
            parts["ledger"].append(t)
            parts_cpu["ledger"].append(CPU[-1])
            db.rollback()
    out["warm_xlsx"] = stats(warm)
    out["warm_xlsx_cpu"] = stats(warm_cpu)
    out["parts_p50_ms"] = {k: stats(v)["p50_ms"] for k, v in parts.items()}
    out["parts_cpu_p50_ms"] = {k: stats(v)["p50_ms"] for k, v in parts_cpu.items()}
    with Session(engine) as db:
        seconds, made = timed(lambda: service.download(db, data, who, "zip"))
        db.rollback()
    out["warm_csv_zip_seconds"] = round(seconds, 2)
    out["warm_csv_zip_cpu_seconds"] = round(CPU[-1], 2)
    from pyrage import x25519

    from steward.delivery.recipients import register_key

    with Session(engine) as db:
        register_key(db, who.organization_id, str(x25519.Identity.generate().to_public()))
        seconds, generation = timed(lambda: service.deliver(db, data, who))
        db.rollback()
    out["warm_sftp_delivery_seconds"] = round(seconds, 2)
    out["warm_sftp_delivery_cpu_seconds"] = round(CPU[-1], 2)
    out["sftp_packages"] = len(generation.packages)
    return out


def measure_glance(
    engine: Engine, data: Path, who: Principal, count: int, rng: random.Random, freeze: bool = True
) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from steward.config import Settings
    from steward.products.portal.lists import student_list
    from steward.store.base import now_utc
    from steward.web.app import create_app
    from steward.web.deps import optional_principal

    with Session(engine) as db:
        ids = [r.id for r in student_list(db, who, now_utc(), size=100_000).rows]
    chosen = rng.sample(ids, min(count, len(ids)))
    app = create_app(Settings(database_url=str(engine.url), secret_key="bench", data_dir=data), engine)
    app.dependency_overrides[optional_principal] = lambda: who
    if freeze:  # as ``steward serve`` does once the app is built
        gc.collect()
        gc.freeze()
    samples: list[float] = []
    cpu: list[float] = []
    with TestClient(app) as client:
        first, response = timed(lambda: client.get(f"/portal/students/{chosen[0]}"))
        assert response.status_code == 200, response.text[:500]
        for sid in chosen:
            seconds, response = timed(lambda sid=sid: client.get(f"/portal/students/{sid}"))
            assert response.status_code == 200
            samples.append(seconds)
            cpu.append(CPU[-1])
        listing, _ = timed(lambda: client.get("/portal/students?sort=name"))
    if freeze:
        gc.unfreeze()
    return {
        "visible": len(ids),
        "gc_freeze": freeze,
        "first_ms": ms(first),
        "glance": stats(samples),
        "glance_cpu": stats(cpu),
        "list_page_ms": ms(listing),
    }


def measure_consent_latency(seed: int, families: int = 20) -> dict[str, Any]:
    """Signature to visible and revocation to gone, through the services (bench/consent_latency.py)."""
    import importlib.util
    import tempfile

    spec = importlib.util.spec_from_file_location(
        "consent_latency", Path(__file__).with_name("consent_latency.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with tempfile.TemporaryDirectory(prefix="steward-portal-consent-") as tmp:
        root = Path(tmp)
        engine = module.build_region(f"sqlite:///{root / 'steward.db'}", root / "sqlite", 3000, seed)
        try:
            result: dict[str, Any] = module.measure_services(engine, families)
        finally:
            engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=150_000)
    parser.add_argument("--districts", type=int, default=2)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--consented", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="warm package makings")
    parser.add_argument("--pages", type=int, default=60, help="glance pages per persona")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "portal")
    parser.add_argument("--no-consent", action="store_true", help="skip the signature latency")
    parser.add_argument(
        "--no-gc-freeze", action="store_true", help="time the pages without freezing the heap first"
    )
    args = parser.parse_args()
    data = args.out / f"data-{args.students}-{args.districts}-{args.years}-{args.seed}"
    data.mkdir(parents=True, exist_ok=True)
    os.environ["STEWARD_MFA_REQUIRED_ROLES"] = "[]"
    figures: dict[str, Any] = {
        "students": args.students,
        "districts": args.districts,
        "years": args.years,
        "cpus": os.cpu_count(),
    }
    figures["generate_seconds"] = round(
        ensure_region(data, args.students, args.districts, args.years, args.seed), 1
    )
    url, setup = ensure_database(data, args.consented)
    figures.update(setup)
    engine = make_engine(url)
    from steward.formats.cedars import Drop
    from steward.products.portal import lines

    bench_district = data / "demo" / "region" / setup["bench_partner"]["district"]
    figures["drop_bytes"] = sum(f.path.stat().st_size for f in Drop.open(bench_district).files.values())
    lines.clear_caches()
    seconds, counts = timed(lambda: lines.warm(bench_district, bench_district.name))
    figures["index_build_seconds"] = round(seconds, 2)
    figures["indexed_lines"] = sum(counts.values())
    with Session(engine) as db:
        partner = principal(db, "bench-portal-staff", Role.PARTNER_STAFF)
        teacher = persona(db, "teacher")
        head = persona(db, "principal")
    figures["package"] = measure_package(engine, data, partner, args.repeat)
    rng = random.Random(args.seed)
    freeze = not args.no_gc_freeze
    figures["glance_partner"] = measure_glance(engine, data, partner, args.pages, rng, freeze)
    figures["glance_teacher"] = measure_glance(engine, data, teacher, args.pages, rng, freeze)
    figures["glance_principal"] = measure_glance(engine, data, head, args.pages, rng, freeze)
    if not args.no_consent:
        figures["signature_to_partner"] = measure_consent_latency(args.seed)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    engine.dispose()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
