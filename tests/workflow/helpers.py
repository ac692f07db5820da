"""Builders for workflow tests: executed agreements, verified consents, grants, training, and a
request form with sensible values."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from steward.domain.time import local_date
from steward.store.base import now_utc
from steward.workflow.agreements import service as agreements
from steward.workflow.consents import service as consents
from steward.workflow.grants import service as grants
from steward.workflow.models import Agreement
from steward.workflow.requests.intake import RequestInput
from steward.workflow.training import service as training
from tests.workflow.conftest import TZ, YEAR, World

PDF = b"%PDF-1.4\n% signed\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DATASETS = ["attendance", "enrollment"]
ELEMENTS = ["attendance.attendance_rate", "enrollment.school_code"]


def today() -> date:
    return local_date(now_utc(), TZ)


def executed_dsa(db: Session, w: World, datasets: list[str] = DATASETS, **terms: object) -> Agreement:
    """An annual DSA for this school year, signed by the partner and executed by the officer."""
    values: dict[str, object] = {
        "title": "Tutoring data sharing",
        "purpose": "monitor tutoring outcomes",
        "datasets": datasets,
        "elements": ELEMENTS,
        "population": "students in the tutoring program",
        "annual": True,
        "school_year": YEAR,
    }
    values.update(terms)
    start = now_utc() - timedelta(days=1)
    dsa = agreements.create(
        db,
        w.p("officer"),
        kind="dsa",
        organization_id=w.partner,
        district_id=w.district,
        valid_from=start,
        **values,
    )
    agreements.sign(
        db,
        w.p("partner"),
        dsa,
        signer_name="Marcus Bell",
        signer_title="Director",
        signed_on=today(),
        content=PDF,
        filename="dsa-signed.pdf",
        data_dir=w.data_dir,
    )
    agreements.execute(db, w.p("officer"), dsa)
    return dsa


def partner_paperwork(db: Session, w: World, students: list[int], datasets: list[str] = DATASETS) -> None:
    """Training for the partner's staff member, verified consents and a grant for ``students``."""
    training.record(
        db, w.p("officer"), person_id=w.p("partner").person_id, completed_on=today() - timedelta(days=1)
    )
    signed = today() - timedelta(days=2)
    for student_id in students:
        consent = consents.record(
            db,
            w.p("officer"),
            student_id=student_id,
            organization_id=w.partner,
            signed_by_person_id=w.guardians[student_id],
            guardian_name="guardian",
            signed_on=signed,
            school_year=YEAR,
            datasets=datasets,
            purpose="tutoring",
        )
        consents.verify(db, w.p("officer"), consent)
    grants.grant(db, w.p("officer"), organization_id=w.partner, student_ids=students, datasets=datasets)


def form(w: World, **changes: object) -> RequestInput:
    values: dict[str, object] = {
        "district_id": w.district,
        "title": "Attendance of tutored students",
        "purpose": "monitor the attendance of students in our tutoring program",
        "audience": "program staff",
        "summary": "attendance rate and school for the students we tutor",
        "level": "identifiable",
        "datasets": list(DATASETS),
        "elements": list(ELEMENTS),
        "school_years": [YEAR],
        "population": "students in the tutoring program",
        "names_students": True,
        "student_refs": [],
        "timeline": "this term",
        "security_plan": "encrypted laptops, two named staff",
        "access_list": ["Marcus Bell", "Jo Park"],
        "destruction_method": "wipe at the end of the year",
    }
    values.update(changes)
    return RequestInput(**values)  # type: ignore[arg-type]


def data_file(root: Path, name: str = "attendance.csv") -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_text("student_id,attendance_rate\n100,0.95\n101,0.91\n")
    return {name: path}


def instant(days: float) -> datetime:
    return now_utc() + timedelta(days=days)
