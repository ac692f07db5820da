"""A research request through a panel cycle: votes, the officer's decision, the research approval
record, the NDA prepared from the request, signed and executed, delivery of de-identified data,
results review, termination and the certificate of destruction."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from steward.store.base import now_utc
from steward.store.db import transaction
from steward.workflow.agreements import service as agreements
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.requests import cycles
from steward.workflow.requests import service as requests
from steward.workflow.requests.models import DataRequest, ReviewCycle
from steward.workflow.requests.triage import Path as TriagePath
from steward.workflow.settings import config_for
from tests.workflow.conftest import YEAR, World
from tests.workflow.helpers import PDF, data_file, form, today


def test_research_request_through_the_panel_to_destruction(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    w = world
    research_form = form(
        w,
        level="deidentified",
        names_students=False,
        datasets=["attendance"],
        elements=["attendance.attendance_rate"],
        school_years=[YEAR],
        title="Attendance and tutoring",
    )
    with transaction(engine) as db:
        req = requests.create_and_submit(db, w.p("researcher"), research_form)
        requests.decide_path(db, w.p("officer"), req, TriagePath.RESEARCH)
        assert req.review_route == "panel"
        cycle = db.get_one(ReviewCycle, req.cycle_id)
        assert cycle.meets_on.month in config_for(db, w.district).panel_months
        assert cycle.meets_on > today()
        assert req.sla_target_days == 25
        code = req.code
    with transaction(engine) as db:
        req = db.scalar(select(DataRequest).where(DataRequest.code == code))
        assert req is not None
        assert [r.code for r in cycles.agenda(db, cycle)] == [code]
        with pytest.raises(WorkflowError, match="say why"):
            cycles.vote(db, w.p("panel"), req, "changes")
        with pytest.raises(NotAllowedError):
            cycles.vote(db, w.p("officer"), req, "approve")
        cycles.vote(db, w.p("panel"), req, "deny", "too broad")
        cycles.vote(db, w.p("panel"), req, "approve", "fine after the call")
        assert cycles.tally(db, req)["approve"] == 1
        assert cycles.tally(db, req)["deny"] == 0
        requests.decide(db, w.p("officer"), req, "approve")
        assert req.status == "approved"
        linked = requests.linked_agreements(db, req)
        assert [(a.kind, a.status) for a in linked] == [("research_approval", "approved")]
        nda = requests.prepare_agreement(db, w.p("officer"), req)
        assert req.status == "agreement_pending"
        assert nda.kind == "nda"
        assert nda.purpose == req.purpose
        assert nda.datasets == ["attendance"]
        assert "results_review" in nda.clauses
        agreements.sign(
            db,
            w.p("researcher"),
            nda,
            signer_name="Lena Park",
            signer_title="PI",
            signed_on=today(),
            content=PDF,
            filename="nda-signed.pdf",
            data_dir=w.data_dir,
        )
        agreements.execute(db, w.p("officer"), nda)
        assert req.status == "agreement_executed"
        delivered = requests.deliver(
            db, w.p("officer"), req, data_file(tmp_path / "out", "deid.csv"), w.data_dir
        )
        assert delivered.package.student_count == len(w.students)
        assert delivered.package.basis == "deidentified"
        assert req.status == "results_review"
        requests.close(db, w.p("officer"), req, "results reviewed")
        cycles.close_cycle(db, w.p("officer"), cycle)
        agreements.terminate(db, w.p("officer"), nda, w.data_dir, "study finished", at=now_utc())
        assert req.status == "destruction_due"
        assert req.destruction_task_id is not None
        requests.certify_destruction(
            db,
            w.p("researcher"),
            req,
            content=b"certificate of destruction\nsigned Lena Park\n",
            filename="certificate.txt",
            signer_name="Lena Park",
            signer_title="PI",
            destroyed_on=today() - timedelta(days=0),
            data_dir=w.data_dir,
        )
        assert req.status == "destroyed"
