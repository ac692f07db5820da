"""Facts written to the database and loaded back decide exactly as the in-memory facts do."""

from __future__ import annotations

from sqlalchemy import Engine, event

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


STUDENT_LOOKUPS = (
    "enrollments_of",
    "section_enrollments_of",
    "guardianships_of",
    "dependencies_of",
    "consents_of",
    "opt_outs_of",
    "requests_of",
    "emergencies_of",
)


def test_a_batch_loads_for_each_student_what_it_loads_alone(engine: Engine) -> None:
    """Batched set queries (memberships with sections, consents with datasets, grants with students
    and datasets, organizations with parents and settings) give each student the facts of a load
    of that student alone, in id order."""
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    people = list(ids.people.values())
    checked = 0
    with engine.connect() as conn:
        batch = load_facts(conn, people, ids.students.values())
        for sid in ids.students.values():
            alone = load_facts(conn, people, [sid])
            s = str(sid)
            assert batch.student(s) == alone.student(s)
            for lookup in STUDENT_LOOKUPS:
                got, want = list(getattr(batch, lookup)(s)), list(getattr(alone, lookup)(s))
                assert got == want, lookup
                assert [f.id for f in got] == sorted((f.id for f in got), key=int), lookup
                checked += len(want)
            for m in alone.section_enrollments_of(s):
                assert batch.section(m.section) == alone.section(m.section) is not None
                assert batch.staff_of_section(m.section) == alone.staff_of_section(m.section)
            for g in alone.grants:
                (same,) = [b for b in batch.grants if b.id == g.id]
                assert s in same.students
                assert (same.datasets, same.valid, same.district, same.org) == (
                    g.datasets,
                    g.valid,
                    g.district,
                    g.org,
                )
                checked += 1
            assert {g.id for g in batch.grants if s in g.students} == {g.id for g in alone.grants}
            for o in alone.orgs:
                assert batch.org(o.id) == o
                assert batch.tenant(o.id) == alone.tenant(o.id)
    assert checked > 10


def test_a_batch_costs_the_queries_of_one_student(engine: Engine) -> None:
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    people = list(ids.people.values())
    counted: list[str] = []

    def count(*args: object) -> None:
        counted.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.connect() as conn:
            load_facts(conn, people, [ids.students["st1"]])
            one = len(counted)
            counted.clear()
            load_facts(conn, people, ids.students.values())
            many = len(counted)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert many == one <= 16
