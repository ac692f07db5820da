"""Records-transfer speed on a generated region, as JSON (targets: one student end to end < 2 s, a
bulk list of 5,000 students < 60 s, `steward convert` CEDARS -> OneRoster >= 50,000 records/s).

Generates a two-district region (``steward.demo.generator``), imports both drops into a fresh SQLite
governance database, registers an age key for the receiving district, then times:

- ``one_student``: a registrar's request for one student of the other district, from the request to
  the committed, encrypted, recorded package (match, decide, read the source, translate, encrypt,
  ledger, parent notices), several students, median and worst;
- ``bulk``: a list of incoming students of the other district in one request;
- ``convert``: the conversion of the sending district's drop from CEDARS to OneRoster (two
  processes for a large drop; records/s by the wall clock, and as two free cores would give it:
  records / the busier process's CPU time, since a busy machine stretches the wall clock), without
  the conformance check; ``convert_checked``: with it (``verify=True``), which is what
  ``steward convert`` runs.

Wall-clock figures depend on what else runs on the machine: each is given with its CPU time.

    .venv/bin/python bench/transfer.py [--students 24000] [--bulk 5000] [--years 1] [--format cedars]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pyrage import x25519
from sqlalchemy import select

from steward.delivery.recipients import register_key
from steward.demo.generator import generate
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.formats.convert import Source, Target, convert, parallel_possible
from steward.store.cedars_drop import import_cedars_drop
from steward.store.db import make_engine, migrate, transaction
from steward.store.models import Organization, Person, RoleAssignment, Student
from steward.workflow.transfers.service import Ask, request_bulk, request_records
from steward.workflow.transfers.settings import set_settings


def _registrar(engine: object, district: Organization) -> Principal:
    with transaction(engine) as db:  # type: ignore[arg-type]
        person = Person(code="bench-registrar", given_name="Bench", family_name="Registrar")
        db.add(person)
        db.flush()
        db.add(
            RoleAssignment(
                person_id=person.id,
                role=Role.REGISTRAR.value,
                organization_id=district.id,
                valid_from=district.created_at,
            )
        )
        return Principal(person.id, person.code, Role.REGISTRAR, district.id, district.code, OrgKind.DISTRICT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=24_000, help="students in the region")
    parser.add_argument("--bulk", type=int, default=5_000, help="students in the bulk list")
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--singles", type=int, default=7, help="single-student requests to time")
    parser.add_argument("--format", default="cedars", choices=["cedars", "edfi-json", "oneroster"])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-transfer-"))
    try:
        started = time.perf_counter()
        summary = generate(tmp / "region", districts=2, students=args.students, years=args.years, seed=7)
        generated = time.perf_counter() - started
        url = f"sqlite:///{tmp / 'steward.db'}"
        migrate(url)
        engine = make_engine(url)
        started = time.perf_counter()
        for code in summary.districts:
            import_cedars_drop(engine, tmp / "region" / code, code, region_code="bench")
        imported = time.perf_counter() - started
        sending_code, receiving_code = summary.districts
        identity = x25519.Identity.generate()
        with transaction(engine) as db:
            sending = db.scalar(select(Organization).where(Organization.code == sending_code))
            receiving = db.scalar(select(Organization).where(Organization.code == receiving_code))
            assert sending is not None
            assert receiving is not None
            register_key(db, receiving.id, str(identity.to_public()))
            set_settings(db, sending.id, source_path=tmp / "region" / sending_code)
            set_settings(db, receiving.id, receive_format=args.format)
            own = set(db.scalars(select(Student.state_id).where(Student.district_id == receiving.id)))
            pool = [
                Ask(s.state_id or "", s.first_name, s.last_name, s.birth_date)
                for s in db.scalars(
                    select(Student).where(Student.district_id == sending.id).order_by(Student.id)
                )
                if s.state_id not in own
            ]
        registrar = _registrar(engine, receiving)
        data_dir = tmp / "var"

        singles: list[float] = []
        single_cpu: list[float] = []
        statuses: list[str] = []
        for ask in pool[: args.singles]:
            started, cpu = time.perf_counter(), time.process_time()
            with transaction(engine) as db:
                request = request_records(db, data_dir, registrar, ask)
                statuses.append(request.status)
            singles.append(time.perf_counter() - started)
            single_cpu.append(time.process_time() - cpu)

        listed = pool[args.singles : args.singles + args.bulk]
        started, cpu = time.perf_counter(), time.process_time()
        with transaction(engine) as db:
            batch = request_bulk(db, data_dir, registrar, listed, "bench.csv")
            counts = dict(batch.counts)
        bulk = time.perf_counter() - started
        bulk_cpu = time.process_time() - cpu
        engine.dispose()

        drop = tmp / "region" / sending_code
        before, started = os.times(), time.perf_counter()
        report = convert(Source.CEDARS, drop, Target.ONEROSTER, tmp / "oneroster", verify=False)
        converting = time.perf_counter() - started
        after = os.times()
        records = sum(report.read.values())
        parent_cpu = after.user - before.user + after.system - before.system
        child_cpu = (
            after.children_user - before.children_user + after.children_system - before.children_system
        )
        before = os.times()
        convert(Source.CEDARS, drop, Target.ONEROSTER, tmp / "oneroster-1", verify=False, parallel=False)
        after = os.times()
        one_process_cpu = after.user - before.user + after.system - before.system
        # What `steward convert` runs: the same conversion plus the OneRoster conformance check.
        before, started = os.times(), time.perf_counter()
        convert(Source.CEDARS, drop, Target.ONEROSTER, tmp / "oneroster-checked", verify=True)
        checked = time.perf_counter() - started
        after = os.times()
        checked_cpu = sum(after[:4]) - sum(before[:4])
        print(
            json.dumps(
                {
                    "benchmark": "records transfer",
                    "students_in_region": args.students,
                    "years": args.years,
                    "receiving_format": args.format,
                    "one_student_seconds_median": round(statistics.median(singles), 3),
                    "one_student_cpu_seconds_median": round(statistics.median(single_cpu), 3),
                    "one_student_seconds_worst": round(max(singles), 3),
                    "one_student_statuses": sorted(set(statuses)),
                    "one_student_target_seconds": 2,
                    "bulk_students": len(listed),
                    "bulk_seconds": round(bulk, 2),
                    "bulk_cpu_seconds": round(bulk_cpu, 2),
                    "bulk_counts": counts,
                    "bulk_target_seconds": 60,
                    "convert_records": records,
                    "convert_parallel": parallel_possible(drop),
                    "convert_seconds": round(converting, 3),
                    "convert_records_per_second": round(records / converting),
                    "convert_cpu_seconds_main_process": round(parent_cpu, 3),
                    "convert_cpu_seconds_second_process": round(child_cpu, 3),
                    "convert_records_per_second_two_free_cores": round(records / max(parent_cpu, child_cpu)),
                    "convert_records_per_second_one_process_cpu": round(records / one_process_cpu),
                    "convert_checked_seconds": round(checked, 3),
                    "convert_checked_cpu_seconds": round(checked_cpu, 3),
                    "convert_checked_records_per_second": round(records / checked),
                    "convert_checked_records_per_cpu_second": round(records / checked_cpu),
                    "convert_target_records_per_second": 50_000,
                    "load_average_1min": round(os.getloadavg()[0], 1),
                    "generate_seconds": round(generated, 1),
                    "import_seconds": round(imported, 1),
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
