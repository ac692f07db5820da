"""Agreement execution rules, signatures with their hash, annual terms, renewal, termination."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from steward.delivery.models import DestructionTask
from steward.domain.time import SchoolYear
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.workflow.agreements import service as agreements
from steward.workflow.agreements.models import AgreementSignature
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.history import history_of
from tests.workflow.conftest import TZ, YEAR, World
from tests.workflow.helpers import PDF, executed_dsa, today


def test_an_incomplete_agreement_cannot_be_executed(sqlite_engine: Engine, sqlite_world: World) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        draft = agreements.create(
            db, w.p("officer"), kind="nda", organization_id=w.research, district_id=w.district
        )
        with pytest.raises(WorkflowError) as caught:
            agreements.execute(db, w.p("officer"), draft)
        text = str(caught.value)
        for missing in (
            "the purpose is missing",
            "name the datasets",
            "describe the student population",
            "the data elements are missing",
            "the duration is missing",
            "the recipient's signed copy is not on file",
        ):
            assert missing in text
        assert "destruction period" not in text  # 45 days by default
        agreements.update(db, w.p("officer"), draft, destruction_days=None)
        with pytest.raises(WorkflowError, match="the destruction period is missing"):
            agreements.execute(db, w.p("officer"), draft)
        assert draft.status == "draft"


def test_research_terms_last_at_most_three_years(sqlite_engine: Engine, sqlite_world: World) -> None:
    w = sqlite_world
    start = now_utc()
    with transaction(sqlite_engine) as db:
        nda = agreements.create(
            db,
            w.p("officer"),
            kind="nda",
            organization_id=w.research,
            district_id=w.district,
            valid_from=start,
            purpose="study",
            datasets=["assessment"],
            elements=["assessment.scale_score"],
            population="grade 5",
            valid_to=start + timedelta(days=3 * 365 + 5),
        )
        agreements.sign(
            db,
            w.p("researcher"),
            nda,
            signer_name="Lena Park",
            signer_title="PI",
            signed_on=today(),
            content=PDF,
            filename="nda.pdf",
            data_dir=w.data_dir,
        )
        with pytest.raises(WorkflowError, match="at most 3 years"):
            agreements.execute(db, w.p("officer"), nda)
        agreements.update(db, w.p("officer"), nda, valid_to=start + timedelta(days=2 * 365))
        agreements.execute(db, w.p("officer"), nda)
        assert nda.status == "executed"
        assert nda.destroy_by is not None
        assert nda.valid_to is not None
        assert (nda.destroy_by - nda.valid_to.date()).days in (44, 45)


def test_annual_agreement_ends_with_its_school_year_and_renewal_copies_terms(
    sqlite_engine: Engine, sqlite_world: World
) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        dsa = executed_dsa(db, w, penalties="loss of access")
        assert dsa.valid_to == SchoolYear(YEAR).interval(TZ).end
        renewal = agreements.renew(db, w.p("officer"), dsa)
        assert renewal.status == "draft"
        assert renewal.school_year == YEAR + 1
        assert renewal.valid_from == SchoolYear(YEAR + 1).interval(TZ).start
        assert renewal.valid_to == SchoolYear(YEAR + 1).interval(TZ).end
        for name in ("purpose", "datasets", "elements", "population", "penalties", "clauses"):
            assert getattr(renewal, name) == getattr(dsa, name)
        assert renewal.renewed_from_id == dsa.id
        assert agreements.renew(db, w.p("officer"), dsa).id == renewal.id  # idempotent
        with pytest.raises(WorkflowError, match="only drafts"):
            agreements.update(db, w.p("officer"), dsa, purpose="changed")


def test_signature_keeps_the_pdf_hash_and_history_names_who(engine: Engine, world: World) -> None:
    with transaction(engine) as db:
        dsa = executed_dsa(db, world)
        rows = db.scalars(select(AgreementSignature).where(AgreementSignature.agreement_id == dsa.id)).all()
        recipient = next(r for r in rows if r.party == "recipient")
        assert recipient.sha256 == hashlib.sha256(PDF).hexdigest()
        assert (world.data_dir / "workflow" / recipient.stored_file).read_bytes() == PDF  # type: ignore[operator]
        assert any(r.party == "district" for r in rows)
        actions = [(h.action, h.actor_person_id) for h in history_of(db, "agreement", dsa.id)]
        assert actions == [
            ("created", world.p("officer").person_id),
            ("signed", world.p("partner").person_id),
            ("executed", world.p("officer").person_id),
        ]
        draft = agreements.create(
            db, world.p("officer"), kind="dsa", organization_id=world.partner, district_id=world.district
        )
        with pytest.raises(WorkflowError, match="not a PDF"):
            agreements.sign(
                db,
                world.p("partner"),
                draft,
                signer_name="x",
                signer_title="",
                signed_on=today(),
                content=b"not a pdf",
                filename="x.pdf",
                data_dir=world.data_dir,
            )


def test_termination_ends_validity_and_opens_destruction(sqlite_engine: Engine, sqlite_world: World) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        dsa = executed_dsa(db, w)
        with pytest.raises(WorkflowError, match="say why"):
            agreements.terminate(db, w.p("officer"), dsa, w.data_dir, "")
        with pytest.raises(NotAllowedError):
            agreements.terminate(db, w.p("partner"), dsa, w.data_dir, "because")
        when = now_utc()
        tasks = agreements.terminate(db, w.p("officer"), dsa, w.data_dir, "program ended", at=when)
        assert dsa.status == "terminated"
        assert dsa.valid_to == when
        assert [t.recipient_org_id for t in tasks] == [w.partner]
        assert db.scalar(select(DestructionTask).where(DestructionTask.agreement_id == dsa.id)) is not None
