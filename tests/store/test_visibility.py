"""The set evaluator (SQL) agrees with the point evaluator on the example region, pages with a
keyset cursor and never truncates silently."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.policy import FactBase, Form, decide_person
from steward.policy.facts import ConsentFact, GrantFact, GuardianshipFact
from steward.store.db import transaction
from steward.store.fact_writer import FactIds, write_facts
from steward.store.visibility import CursorError, all_visible, visible_among, visible_students
from tests.policy.scenario import NOW, at, days, facts


def disagreements(engine: Engine, base: FactBase, ids: FactIds, when: datetime, form: Form) -> list[str]:
    """Every (person, student, dataset) on which the two evaluators differ."""
    student_of = ids.student_fact()
    problems: list[str] = []
    with engine.connect() as conn:
        for person, pid in ids.people.items():
            seen = all_visible(conn, pid, when, form=form)
            for sid, student in student_of.items():
                for dataset in Dataset:
                    point = decide_person(base, person, student, dataset, form, when)
                    got = seen.get(sid, {}).get(dataset)
                    want = point.basis if point.allowed else None
                    if got != want:
                        problems.append(f"{person} {student} {dataset.value} {form.value}: {got} vs {want}")
    return problems


@pytest.mark.parametrize("when", ["2025-10-15T10:00", "2025-03-01", "2026-07-01", "2031-01-01"])
def test_set_and_point_agree_on_the_example_region(engine: Engine, when: str) -> None:
    base = facts()
    with transaction(engine) as db:
        ids = write_facts(db, base)
    for form in Form:
        assert disagreements(engine, base, ids, at(when), form) == []


def test_teacher_set(engine: Engine) -> None:
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    with engine.connect() as conn:
        page = visible_students(conn, ids.people["t1"], NOW, directory_information=False)
        assert page.ids == [ids.students["st1"]]
        assert page.next_cursor is None
        assert page.students[0].datasets[Dataset.GRADES] is LegalBasis.SCHOOL_OFFICIAL
        only_attendance = visible_students(
            conn, ids.people["w1"], NOW, datasets=[Dataset.ATTENDANCE], directory_information=False
        )
        assert only_attendance.students[0].datasets == {Dataset.ATTENDANCE: LegalBasis.CONSENT}
        t1 = ids.people["t1"]
        as_role = visible_students(conn, t1, NOW, role=Role.TEACHER, directory_information=False)
        assert as_role.ids == [ids.students["st1"]]


def test_pages_cover_everything_once(engine: Engine) -> None:
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    with engine.connect() as conn:
        everyone = all_visible(conn, ids.people["x1"], NOW)
        assert set(everyone) == set(ids.students.values())  # directory information of all three
        seen: list[int] = []
        cursor = None
        pages = 0
        while True:
            page = visible_students(conn, ids.people["x1"], NOW, cursor=cursor, limit=1)
            seen.extend(page.ids)
            pages += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == sorted(everyone)
        assert pages == len(everyone)
        with pytest.raises(CursorError):
            visible_students(conn, ids.people["x1"], NOW, cursor="bogus")


def test_visible_among_known_students(engine: Engine) -> None:
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    with engine.connect() as conn:
        asked = [ids.students["st1"], ids.students["st3"]]
        got = visible_among(conn, ids.people["pr1"], NOW, asked, directory_information=False)
    assert set(got) == {ids.students["st1"]}


def test_partner_datasets_come_from_the_grant_in_force_for_the_students_district(engine: Engine) -> None:
    """A consent opens only the datasets that a grant in force, of the student's district, names for
    that student; grants read with the principal pair each with its own datasets."""
    base = facts(
        add_guardianships=[GuardianshipFact("g3", "p1", "st3", days("2012-01-09"))],
        add_consents=[
            ConsentFact(
                "c3",
                "c3",
                "st3",
                "cbo1",
                frozenset({Dataset.ATTENDANCE, Dataset.DISCIPLINE}),
                "p1",
                date(2025, 8, 20),
                at("2025-08-20"),
                days("2025-08-20", "2026-06-30"),
                purpose="tutoring",
            )
        ],
        add_grants=[
            GrantFact(
                "g2",
                "g2",
                "d1",
                "cbo1",
                frozenset({"st3"}),
                frozenset({Dataset.DISCIPLINE}),
                days("2025-09-01"),
            ),
            GrantFact(  # ended before the instant asked
                "g3",
                "g3",
                "d1",
                "cbo1",
                frozenset({"st3"}),
                frozenset({Dataset.ATTENDANCE}),
                days("2025-09-01", "2025-10-01"),
            ),
            GrantFact(  # another district than the student's
                "g4",
                "g4",
                "d2",
                "cbo1",
                frozenset({"st3"}),
                frozenset({Dataset.ATTENDANCE}),
                days("2025-09-01"),
            ),
        ],
    )
    with transaction(engine) as db:
        ids = write_facts(db, base)
    with engine.connect() as conn:
        got = all_visible(conn, ids.people["w1"], NOW, directory_information=False)
    assert got == {
        ids.students["st1"]: {Dataset.ATTENDANCE: LegalBasis.CONSENT},
        ids.students["st3"]: {Dataset.DISCIPLINE: LegalBasis.CONSENT},
    }
    for when in ("2025-09-15", "2025-10-15T10:00"):
        assert disagreements(engine, base, ids, at(when), Form.IDENTIFIABLE) == []


def test_repeated_pages_keep_the_answer_and_the_session_setting(engine: Engine) -> None:
    """Past psycopg's prepare threshold the answer stays the same (PostgreSQL plans the set query
    for its parameters each time) and the transaction's plan setting is left as it was."""
    with transaction(engine) as db:
        ids = write_facts(db, facts())
    with engine.connect() as conn:
        answers = {
            tuple(visible_students(conn, ids.people["w1"], NOW, directory_information=False).ids)
            for _ in range(12)
        }
        assert answers == {(ids.students["st1"],)}
        if conn.dialect.name == "postgresql":
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar_one() == "auto"
