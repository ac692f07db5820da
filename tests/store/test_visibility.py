"""The set evaluator (SQL) agrees with the point evaluator on the example region, pages with a
keyset cursor and never truncates silently."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.policy import FactBase, Form, decide_person
from steward.store.db import transaction
from steward.store.fact_writer import FactIds, write_facts
from steward.store.visibility import CursorError, all_visible, visible_among, visible_students
from tests.policy.scenario import NOW, at, facts


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
