"""Benchmark: intake-to-delivery time of a pre-approved partner request on the demo region.

Builds the demo region (``steward demo``'s generator and import, SQLite), puts a partner's paperwork
on file (an executed data sharing agreement for this school year, stewardship training, a bulk
consent upload for ``--named`` students, verified, and a district grant), then times the request
itself through the services, each step in its own transaction as the web app would run it:
submit (intake checks, ID matching) -> triage (path: partner) -> approval (the agreement on file
moves it on) -> delivery (the decision engine checks every student and dataset, the roster extract
is written, the package is encrypted, recorded in the ledger and released). Prints JSON figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from pyrage import x25519
from sqlalchemy import Engine, select

from steward.cli.demo import build_demo
from steward.delivery.recipients import register_key
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear, local_date
from steward.store.base import now_utc
from steward.store.db import make_engine, transaction
from steward.store.models import Guardianship, Organization, Person, RoleAssignment, SchoolEnrollment, Student
from steward.workflow.agreements import service as agreements
from steward.workflow.common import timezone_of
from steward.workflow.consents import bulk
from steward.workflow.consents import service as consents
from steward.workflow.exports import csv_bytes
from steward.workflow.grants import service as grants
from steward.workflow.models import Consent
from steward.workflow.requests import service as requests
from steward.workflow.requests.intake import RequestInput
from steward.workflow.requests.triage import Path as TriagePath
from steward.workflow.training import service as training

PDF = b"%PDF-1.4\n% signed in the benchmark\n%%EOF\n"
DATASETS = ["directory", "enrollment"]
ELEMENTS = ["directory.first_name", "directory.last_name", "directory.grade_level", "enrollment.school_code"]


def principal(db: Any, username_role: Role, org_code: str | None = None) -> Principal:
    """The demo persona holding ``username_role`` (at ``org_code`` when given)."""
    query = (
        select(RoleAssignment, Person, Organization)
        .join(Person, Person.id == RoleAssignment.person_id)
        .join(Organization, Organization.id == RoleAssignment.organization_id)
        .where(RoleAssignment.role == username_role.value, Person.code.like("demo-%"))
    )
    if org_code:
        query = query.where(Organization.code == org_code)
    assignment, person, org = db.execute(query.limit(1)).one()
    del assignment
    return Principal(
        person.id, person.code, username_role, org.id, org.code, OrgKind(org.kind), person.display_name
    )


def paperwork(
    engine: Engine, data_dir: Path, named: int
) -> tuple[Principal, Principal, list[str], dict[str, float]]:
    """Everything the partner needs on file; returns the officer, the partner and the named IDs."""
    figures: dict[str, float] = {}
    identity = x25519.Identity.generate()
    with transaction(engine) as db:
        officer = principal(db, Role.DISTRICT_DATA_OFFICER)
        partner = principal(db, Role.PARTNER_STAFF)
        register_key(db, partner.organization_id, str(identity.to_public()), "benchmark")
        tz = timezone_of(db, officer.organization_id)
        now = now_utc()
        year = SchoolYear.at(now, tz).end_year
        dsa = agreements.create(
            db,
            officer,
            kind="dsa",
            organization_id=partner.organization_id,
            district_id=officer.organization_id,
            valid_from=now - timedelta(days=1),
            title="Tutoring data sharing",
            purpose="monitor tutoring",
            datasets=DATASETS,
            elements=ELEMENTS,
            population="tutored students",
            annual=True,
            school_year=year,
        )
        agreements.sign(
            db,
            partner,
            dsa,
            signer_name="Partner Director",
            signer_title="Director",
            signed_on=local_date(now, tz),
            content=PDF,
            filename="dsa.pdf",
            data_dir=data_dir,
        )
        agreements.execute(db, officer, dsa)
        training.record(
            db, officer, person_id=partner.person_id, completed_on=local_date(now, tz) - timedelta(days=1)
        )
        rows = db.execute(
            select(Student, Person)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .join(Person, Person.id == Guardianship.person_id)
            .join(SchoolEnrollment, SchoolEnrollment.student_id == Student.id)
            .where(
                Student.district_id == officer.organization_id,
                Guardianship.valid_at(now),
                Guardianship.restricted.is_(False),
                SchoolEnrollment.valid_at(now),
            )
            .order_by(Student.id)
        ).all()
        chosen: dict[int, tuple[Student, Person]] = {}
        for student, guardian in rows:
            if student.id not in chosen and local_date(now, tz).year - student.birth_date.year < 17:
                chosen[student.id] = (student, guardian)
            if len(chosen) == named:
                break
        signed = (local_date(now, tz) - timedelta(days=3)).isoformat()
        listing = csv_bytes(
            bulk.COLUMNS,
            [
                [
                    s.local_id,
                    s.first_name,
                    s.last_name,
                    s.birth_date.isoformat(),
                    "",
                    g.display_name,
                    signed,
                    "",
                ]
                for s, g in chosen.values()
            ],
        )
    started = time.perf_counter()
    with transaction(engine) as db:
        result = bulk.upload(
            db,
            partner,
            district_id=officer.organization_id,
            list_name="students.csv",
            list_content=listing,
            scans=[("forms.pdf", PDF)],
            school_year=year,
            datasets=DATASETS,
            purpose="tutoring",
            data_dir=data_dir,
        )
        figures["consent_upload_seconds"] = round(time.perf_counter() - started, 3)
        figures["consent_upload_rows_per_second"] = round(
            len(result.created) / figures["consent_upload_seconds"], 1
        )
    started = time.perf_counter()
    with transaction(engine) as db:
        for consent in db.scalars(select(Consent).where(Consent.upload_id == result.upload.id)):
            consents.verify(db, officer, consent)
        grants.grant(
            db,
            officer,
            organization_id=partner.organization_id,
            student_ids=list(chosen),
            datasets=DATASETS,
        )
    figures["consent_review_and_grant_seconds"] = round(time.perf_counter() - started, 3)
    return officer, partner, [s.local_id for s, _ in chosen.values()], figures


def one_request(
    engine: Engine, data_dir: Path, officer: Principal, partner: Principal, refs: list[str], year: int
) -> dict[str, float]:
    steps: dict[str, float] = {}
    started, cpu = time.perf_counter(), time.process_time()
    with transaction(engine) as db:
        submitted = requests.create_and_submit(
            db,
            partner,
            RequestInput(
                district_id=officer.organization_id,
                title="Tutored students' roster",
                purpose="monitor tutoring",
                audience="program staff",
                summary="grade and school of our students",
                level="identifiable",
                datasets=DATASETS,
                elements=ELEMENTS,
                school_years=[year],
                population="tutored students",
                names_students=True,
                student_refs=refs,
                security_plan="encrypted laptops",
                access_list=["Partner Director"],
                destruction_method="wipe",
            ),
        )
        code = submitted.code
    steps["submit"] = time.perf_counter() - started
    mark = time.perf_counter()
    with transaction(engine) as db:
        req = requests.visible(db, officer, code)
        assert req is not None
        requests.decide_path(db, officer, req, TriagePath.PARTNER)
    steps["triage"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with transaction(engine) as db:
        req = requests.visible(db, officer, code)
        assert req is not None
        requests.decide(db, officer, req, "approve")
        assert req.status == "agreement_executed", req.status
    steps["approve"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with transaction(engine) as db:
        from steward.workflow.requests import fulfilment

        req = requests.visible(db, officer, code)
        assert req is not None
        checked = fulfilment.gate(db, req, now_utc())
        assert not checked.problems, checked.problems[:3]
        staging = Path(tempfile.mkdtemp(prefix="steward-bench-"))
        extract = fulfilment.roster_extract(db, req, checked.students, staging / "roster.csv", now_utc())
        delivered = requests.deliver(db, officer, req, {"roster.csv": extract}, data_dir)
        steps["package_bytes"] = delivered.package.size
        steps["students_delivered"] = delivered.package.student_count
    extract.unlink()
    staging.rmdir()
    steps["deliver"] = time.perf_counter() - mark
    steps["total"] = time.perf_counter() - started
    steps["total_cpu"] = time.process_time() - cpu
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=3000, help="students in the demo region")
    parser.add_argument("--named", type=int, default=200, help="students the partner's request names")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="steward-bench-workflow-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # progress bars stay off the JSON output
            url, _ = build_demo(root / "demo", districts=2, students=args.students, years=2, seed=args.seed)
        build_seconds = time.perf_counter() - started
        engine = make_engine(url)
        data_dir = root / "var"
        officer, partner, refs, figures = paperwork(engine, data_dir, args.named)
        with transaction(engine) as db:
            year = SchoolYear.at(now_utc(), timezone_of(db, officer.organization_id)).end_year
        runs = [one_request(engine, data_dir, officer, partner, refs, year) for _ in range(args.repeat)]
        engine.dispose()
    totals = [r["total"] for r in runs]
    print(
        json.dumps(
            {
                "benchmark": "workflow intake to delivery: pre-approved partner request, demo region",
                "students_in_region": args.students,
                "named_students": len(refs),
                "demo_build_seconds": round(build_seconds, 1),
                **figures,
                "intake_to_delivery_seconds_median": round(statistics.median(totals), 3),
                "intake_to_delivery_seconds": [round(t, 3) for t in totals],
                "intake_to_delivery_cpu_seconds_median": round(
                    statistics.median(r["total_cpu"] for r in runs), 3
                ),
                "steps_seconds_last_run": {
                    k: round(v, 3)
                    for k, v in runs[-1].items()
                    if k not in ("package_bytes", "students_delivered", "total", "total_cpu")
                },
                "students_delivered": int(runs[-1]["students_delivered"]),
                "package_bytes": int(runs[-1]["package_bytes"]),
                "cpus": os.cpu_count(),
                "load_average_1min_start": round(load_start, 2),
                "load_average_1min_end": round(os.getloadavg()[0], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
