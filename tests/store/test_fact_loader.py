"""Facts written to the database and loaded back decide exactly as the in-memory facts do."""

from __future__ import annotations

from sqlalchemy import Engine

from steward.domain.datasets import Dataset
from steward.policy import Form, decide_person
from steward.store.db import transaction
from steward.store.fact_loader import load_facts
from steward.store.fact_writer import write_facts
from tests.policy.scenario import NOW, at, facts


def test_loaded_facts_decide_like_the_originals(engine: Engine) -> None:
    original = facts()
    with transaction(engine) as db:
        ids = write_facts(db, original)
    with engine.connect() as conn:
        loaded = load_facts(conn, ids.people.values(), ids.students.values())
    assert len(loaded.students) == len(original.students)
    compared = 0
    for when in (NOW, at("2025-03-01"), at("2026-07-01")):
        for person, pid in ids.people.items():
            for student, sid in ids.students.items():
                for dataset in Dataset:
                    for form in Form:
                        want = decide_person(original, person, student, dataset, form, when)
                        got = decide_person(loaded, str(pid), str(sid), dataset, form, when)
                        assert (got.allowed, got.basis) == (want.allowed, want.basis), (
                            person,
                            student,
                            dataset,
                            form,
                            when,
                            want.explain(),
                            got.explain(),
                        )
                        compared += 1
    assert compared > 1000


def test_loaded_student_codes_are_district_and_local_id(engine: Engine) -> None:
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    with engine.connect() as conn:
        loaded = load_facts(conn, [ids.people["t1"]], [ids.students["st1"]])
    student = loaded.student(str(ids.students["st1"]))
    assert student is not None
    assert student.code == "d1:st1"
    d = decide_person(loaded, str(ids.people["t1"]), student.id, Dataset.ATTENDANCE, at=NOW)
    assert d.allowed
    assert any(e.startswith("section_enrollment:") for e in d.evidence)
