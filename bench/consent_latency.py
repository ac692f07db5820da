"""Benchmark: time from a parent's electronic signature to the partner seeing the student (goal under
1 s), and from a revocation to the partner losing the student.

Builds the demo region (generator, import, personas and the demo partner's paperwork) on SQLite and,
with ``--backends sqlite,postgresql``, on a throw-away PostgreSQL cluster (as ``tests/pg.py`` starts
it). A consent request of the demo partner naming ``--families`` students is published and approved;
then, for each family in turn, as the web app would run it:

* service path: the signature (text rendered, checked, consent + grant written) in one transaction,
  then the partner's student list (the set evaluator behind /portal/students and /api/v1/students)
  is asked in fresh transactions until the student is in it;
* HTTP path (SQLite): the parent's form post to /family/requests/CODE/answer through the app, then
  the partner's GET /api/v1/students until the student is listed;
* revocation: the parent's revocation, then the partner's list until the student is gone.

Prints JSON figures (milliseconds: median, p95, max per path, and whether the goal is met).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.pg: the same throw-away PostgreSQL cluster as the tests

from steward.accounts.service import create_account  # noqa: E402
from steward.cli.demo import REGION  # noqa: E402
from steward.demo.generator import generate  # noqa: E402
from steward.demo.seed import DEMO_PASSWORD, ensure_region, seed_personas  # noqa: E402
from steward.domain.orgs import OrgKind, Role  # noqa: E402
from steward.domain.principal import Principal  # noqa: E402
from steward.family import requests, signing  # noqa: E402
from steward.policy.rules.common import adult_cutoff  # noqa: E402
from steward.store.base import now_utc  # noqa: E402
from steward.store.cedars_drop import import_cedars_drop  # noqa: E402
from steward.store.db import make_engine, migrate, transaction  # noqa: E402
from steward.store.models import (  # noqa: E402
    Account,
    Guardianship,
    Organization,
    Person,
    RoleAssignment,
    SchoolEnrollment,
    Student,
)
from steward.store.visibility import visible_among  # noqa: E402

GOAL_MS = 1000.0
PASSWORD = "consent latency bench"


def build_region(url: str, directory: Path, students: int, seed: int) -> Engine:
    """The demo region in the database at ``url`` (what ``steward demo`` builds, any backend)."""
    region_dir = directory / "region"
    region_dir.mkdir(parents=True, exist_ok=True)
    generate(region_dir, districts=2, students=students, years=2, seed=seed)
    migrate(url)
    engine = make_engine(url)
    with transaction(engine) as db:
        ensure_region(db, REGION)
    drops = sorted(p for p in region_dir.iterdir() if p.is_dir())
    for drop in drops:
        import_cedars_drop(engine, drop, drop.name, region_code=REGION)
    with transaction(engine) as db:
        orgs = list(
            db.scalars(
                select(Organization)
                .where(Organization.code.in_([d.name for d in drops]))
                .order_by(Organization.code)
            )
        )
        seed_personas(db, orgs)
    return engine


def _principal(db: Any, username: str, role: Role) -> Principal:
    account = db.scalar(select(Account).where(Account.username == username))
    person = db.get(Person, account.person_id)
    org = db.get(
        Organization,
        db.scalar(
            select(RoleAssignment.organization_id).where(
                RoleAssignment.person_id == person.id, RoleAssignment.role == role.value
            )
        ),
    )
    return Principal(person.id, person.code, role, org.id, org.code, OrgKind(org.kind), person.display_name)


def _families(
    db: Any, district: int, partner: Principal, count: int, prefix: str
) -> list[tuple[int, Principal, str]]:
    """Minors enrolled now whom the partner cannot see, each with one guardian given a parent login."""
    at = now_utc()
    rows = db.execute(
        select(Student.id, Guardianship.person_id)
        .join(Guardianship, Guardianship.student_id == Student.id)
        .join(SchoolEnrollment, SchoolEnrollment.student_id == Student.id)
        .where(
            Student.district_id == district,
            Student.legal_restriction.is_(False),
            Student.birth_date > adult_cutoff(date.today()),
            Guardianship.restricted.is_(False),
            Guardianship.valid_at(at),
            SchoolEnrollment.valid_at(at),
            Guardianship.person_id.not_in(select(Account.person_id)),
        )
        .order_by(Student.id)
    ).all()
    visible = visible_among(db, partner.person_id, at, [r[0] for r in rows], directory_information=False)
    chosen: dict[int, int] = {}
    guardians: set[int] = set()
    for student_id, guardian in rows:
        if student_id in visible or student_id in chosen or guardian in guardians:
            continue
        chosen[student_id] = guardian
        guardians.add(guardian)
        if len(chosen) == count:
            break
    district_org = db.get(Organization, district)
    out = []
    for n, (student_id, guardian) in enumerate(chosen.items()):
        person = db.get(Person, guardian)
        db.add(
            RoleAssignment(
                person_id=guardian, role=Role.PARENT.value, organization_id=district, valid_from=at
            )
        )
        create_account(db, person, f"{prefix}-{n}", PASSWORD)
        out.append(
            (
                student_id,
                Principal(
                    person.id,
                    person.code,
                    Role.PARENT,
                    district,
                    district_org.code,
                    OrgKind.DISTRICT,
                    person.display_name,
                ),
                f"{prefix}-{n}",
            )
        )
    db.flush()
    return out


def _sees(engine: Engine, partner: Principal, student: int) -> bool:
    with transaction(engine) as db:
        return student in visible_among(
            db, partner.person_id, now_utc(), [student], role=Role.PARTNER_STAFF, directory_information=False
        )


def _until(check: Callable[[], bool], want: bool, limit: float = 10.0) -> float:
    """Seconds until ``check()`` returns ``want`` (asked back to back)."""
    start = time.perf_counter()
    while check() is not want:
        if time.perf_counter() - start > limit:
            raise RuntimeError("the partner's list did not change within 10 s")
    return time.perf_counter() - start


def _stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"median_ms": round(statistics.median(ms), 1), "p95_ms": round(p95, 1), "max_ms": round(ms[-1], 1)}


def measure_services(engine: Engine, families: int) -> dict[str, Any]:
    with transaction(engine) as db:
        partner = _principal(db, "partner", Role.PARTNER_STAFF)
        officer = _principal(db, "officer", Role.DISTRICT_DATA_OFFICER)
        district = officer.organization_id
        chosen = _families(db, district, partner, families, "bench-service")
        row = requests.publish(
            db,
            partner,
            requests.RequestInput(
                district,
                "After-school tutoring",
                "Follow attendance and grades of the students we tutor",
                "We tutor students after school.",
                ["directory", "attendance", "grades"],
                [db.get(Student, s).local_id for s, _, _ in chosen],
            ),
        )
        requests.approve(db, officer, row)
        code = row.code
    sign, seen, gone = [], [], []
    consent_ids: list[tuple[Principal, int, int]] = []
    for student, parent, _ in chosen:
        start = time.perf_counter()
        with transaction(engine) as db:
            shown = signing.shown(db, parent, code, student, "es")
            sig = signing.answer(
                db,
                parent,
                code,
                student,
                decision="signed",
                language="es",
                shown_sha256=shown.sha256,
                typed_name="P",
            )
            consent_id = sig.consent_id
        committed = time.perf_counter()
        _until(lambda s=student: _sees(engine, partner, s), True)  # type: ignore[misc]
        sign.append(committed - start)
        seen.append(time.perf_counter() - start)
        assert consent_id is not None
        consent_ids.append((parent, student, consent_id))
    for parent, student, consent_id in consent_ids:
        start = time.perf_counter()
        with transaction(engine) as db:
            signing.revoke(db, parent, consent_id)
        _until(lambda s=student: _sees(engine, partner, s), False)  # type: ignore[misc]
        gone.append(time.perf_counter() - start)
    return {
        "families": len(chosen),
        "signature_transaction": _stats(sign),
        "signature_to_partner_sees": _stats(seen),
        "revocation_to_partner_loses": _stats(gone),
        "goal_met": max(seen) * 1000 < GOAL_MS and max(gone) * 1000 < GOAL_MS,
    }


def measure_http(engine: Engine, directory: Path, families: int) -> dict[str, Any]:
    """The same path through the app's pages and API (TestClient: no network, real routes)."""
    from fastapi.testclient import TestClient

    from steward.config import Settings
    from steward.web.app import create_app

    with transaction(engine) as db:
        partner = _principal(db, "partner", Role.PARTNER_STAFF)
        officer = _principal(db, "officer", Role.DISTRICT_DATA_OFFICER)
        chosen = _families(db, officer.organization_id, partner, families, "bench-http")
        row = requests.publish(
            db,
            partner,
            requests.RequestInput(
                officer.organization_id,
                "Homework club",
                "See attendance to plan the homework club",
                "We run a homework club.",
                ["attendance"],
                [db.get(Student, s).local_id for s, _, _ in chosen],
            ),
        )
        requests.approve(db, officer, row)
        code = row.code
    settings = Settings(
        database_url=str(engine.url), secret_key="bench", data_dir=directory, mfa_required_roles=[]
    )
    app = create_app(settings, engine)
    samples: list[float] = []
    with TestClient(app) as family_client, TestClient(app) as partner_client:
        _login(partner_client, "partner", DEMO_PASSWORD)
        for student, _, username in chosen:
            _login(family_client, username, PASSWORD)
            page = family_client.get(f"/family/requests/{code}", params={"student": student})
            sha = re.search(r'name="text_sha256" value="([0-9a-f]{64})"', page.text)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert sha, page.text[:300]
            assert token, page.text[:300]
            start = time.perf_counter()
            answer = family_client.post(
                f"/family/requests/{code}/answer",
                data={
                    "csrf_token": token.group(1),
                    "student": str(student),
                    "language": "en",
                    "text_sha256": sha.group(1),
                    "decision": "signed",
                    "agree": "yes",
                    "typed_name": "P",
                },
                follow_redirects=False,
            )
            assert answer.status_code == 303, answer.text[:300]

            def listed(s: int = student) -> bool:
                return any(x["id"] == s for x in partner_client.get("/api/v1/students").json()["students"])

            _until(listed, True)
            samples.append(time.perf_counter() - start)
    return {
        "families": len(samples),
        "form_post_to_partner_api_lists": _stats(samples),
        "goal_met": max(samples) * 1000 < GOAL_MS,
    }


def _login(client: Any, username: str, password: str) -> None:
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:300]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--families", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    figures: dict[str, Any] = {"students": args.students, "goal_ms": GOAL_MS}
    with tempfile.TemporaryDirectory(prefix="steward-consent-bench-") as tmp:
        root = Path(tmp)
        if "sqlite" in backends:
            engine = build_region(
                f"sqlite:///{root / 'steward.db'}", root / "sqlite", args.students, args.seed
            )
            figures["sqlite"] = measure_services(engine, args.families)
            figures["sqlite_http"] = measure_http(engine, root / "var", args.families)
            engine.dispose()
        if "postgresql" in backends:
            from sqlalchemy import text
            from tests.pg import start_cluster

            cluster = start_cluster()
            try:
                admin = make_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text("CREATE DATABASE consent_bench"))
                admin.dispose()
                engine = build_region(cluster.url("consent_bench"), root / "pg", args.students, args.seed)
                figures["postgresql"] = measure_services(engine, args.families)
                engine.dispose()
            finally:
                cluster.stop()
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
