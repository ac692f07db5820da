"""Property: on random small regions, the set evaluator (SQL) and the point evaluator (in memory,
and over facts loaded back from the database) give the same answer for every person, student,
dataset and form, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from steward.domain.datasets import Dataset
from steward.policy import FactBase, Form, decide_person
from steward.store.access import WhoCanSee, who_can_see
from steward.store.fact_loader import load_facts
from steward.store.fact_writer import FactIds, write_facts
from steward.store.visibility import all_visible
from tests.policy.regions import BUNDLES, instants, regions

PROPERTY = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@contextmanager
def written(engine: Engine, base: FactBase) -> Iterator[tuple[Session, FactIds]]:
    """The facts in the database for one example, rolled back afterwards."""
    with engine.connect() as conn:
        outer = conn.begin()
        db = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            ids = write_facts(db, base)
            db.flush()
            yield db, ids
        finally:
            db.close()
            outer.rollback()


def compare(db: Session, base: FactBase, ids: FactIds, at: datetime, form: Form) -> list[str]:
    student_of = ids.student_fact()
    loaded = load_facts(db, ids.people.values(), ids.students.values())
    problems = []
    for person, pid in ids.people.items():
        seen = all_visible(db, pid, at, form=form)
        for sid, student in student_of.items():
            for dataset in Dataset:
                point = decide_person(base, person, student, dataset, form, at)
                want = point.basis if point.allowed else None
                got = seen.get(sid, {}).get(dataset)
                again = decide_person(loaded, str(pid), str(sid), dataset, form, at)
                from_db = again.basis if again.allowed else None
                if not got == want == from_db:
                    problems.append(
                        f"{person} {student} {dataset.value} {form.value} at {at}: "
                        f"set={got} point={want} point(db)={from_db}\n{point.explain()}"
                    )
    return problems


@pytest.mark.parametrize("focus", sorted(BUNDLES))
def test_set_and_point_evaluators_agree(engine: Engine, focus: str) -> None:
    """Each run centres on one rule family (a coherent bundle of its facts, randomly perturbed)
    among random background facts, so every rule's allow and deny paths come up."""

    @PROPERTY
    @given(base=regions(focus), at=instants, form=st.sampled_from(list(Form)))
    def check(base: FactBase, at: datetime, form: Form) -> None:
        with written(engine, base) as (db, ids):
            assert compare(db, base, ids, at, form) == []

    check()


@pytest.mark.parametrize("focus", sorted(BUNDLES))
def test_who_can_see_finds_everyone(engine: Engine, focus: str) -> None:
    """The candidates of who-can-see include everyone who can see: asking every person of the
    region gives the same list."""

    @settings(PROPERTY, max_examples=4)
    @given(base=regions(focus), at=instants)
    def check(base: FactBase, at: datetime) -> None:
        with written(engine, base) as (db, ids):
            everyone = list(ids.people.values())
            for sid in ids.students.values():
                fast = who_can_see(db, sid, at)
                slow = who_can_see(db, sid, at, people=everyone)
                assert summary(fast) == summary(slow)

    check()


def summary(result: WhoCanSee) -> set[tuple[int, str, str, str]]:
    return {
        (a.person_id, a.dataset.value, a.decision.form.value, str(a.decision.basis)) for a in result.accesses
    }
