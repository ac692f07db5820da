"""The hash-chained log on SQLite and PostgreSQL: appends, atomicity, concurrency, tamper evidence."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from steward.audit import EventActor, EventSpec, append, append_many
from steward.audit.models import AuditChain, AuditEvent
from steward.audit.verify import verify
from steward.store.db import transaction
from tests import factories as f


def _district(engine: Engine, code: str = "d1") -> int:
    with transaction(engine) as db:
        return f.org(db, code, "district").id


def _events(engine: Engine, district_id: int | None, count: int) -> list[int]:
    with transaction(engine) as db:
        return [
            a.id
            for a in append_many(
                db,
                [
                    EventSpec(
                        action="record.view",
                        district_id=district_id,
                        actor=EventActor(1, "teacher", 2),
                        subject_type="student",
                        subjects=[i],
                        details={"n": i},
                    )
                    for i in range(count)
                ],
            )
        ]


def test_appends_chain_per_district_and_verify(engine: Engine) -> None:
    d1, d2 = _district(engine, "d1"), _district(engine, "d2")
    with transaction(engine) as db:
        first = append(db, EventSpec(action="login", outcome="ok"))
        mixed = append_many(
            db,
            [
                EventSpec(action="a.one", district_id=d1),
                EventSpec(action="a.two", district_id=d2),
                EventSpec(action="a.three", district_id=d1),
            ],
        )
    assert first.chain_key == "global"
    assert first.seq == 1
    assert [(m.chain_key, m.seq) for m in mixed] == [
        (f"district:{d1}", 1),
        (f"district:{d2}", 1),
        (f"district:{d1}", 2),
    ]
    with Session(engine) as db:
        row = db.get(AuditEvent, mixed[2].id)
        assert row is not None
        assert (row.action, row.seq, row.outcome) == ("a.three", 2, "ok")  # generated from the body
        head = db.scalar(select(AuditChain).where(AuditChain.key == f"district:{d1}"))
        assert head is not None
        assert (head.head_seq, head.head_hash) == (2, mixed[2].hash)
    report = verify(engine)
    assert report.ok, report.problems
    assert report.events == 4


def test_event_rolls_back_with_the_action(engine: Engine) -> None:
    district = _district(engine)

    def failing_export() -> None:
        with transaction(engine) as db:
            append(db, EventSpec(action="export", district_id=district))
            raise RuntimeError("the export failed")

    with pytest.raises(RuntimeError):
        failing_export()
    with Session(engine) as db:
        assert db.scalar(select(AuditEvent.id)) is None
    assert _events(engine, district, 1)
    assert verify(engine).ok


def test_concurrent_appends_never_fork_the_chain(engine: Engine) -> None:
    district = _district(engine)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(15):
                _events(engine, district, 2)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with Session(engine) as db:
        seqs = list(db.scalars(select(AuditEvent.seq).order_by(AuditEvent.id)))
    assert seqs == list(range(1, 121))
    assert verify(engine).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET hash = 'x'",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_changes(engine: Engine, statement: str) -> None:
    _events(engine, _district(engine), 2)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))


def test_generated_columns_cannot_be_set_apart_from_the_body(
    engine: Engine, tamper: Callable[..., None]
) -> None:
    _events(engine, _district(engine), 2)
    with pytest.raises(DatabaseError):
        tamper("UPDATE audit_events SET action = 'nothing.here' WHERE seq = 1")


def test_modified_row_is_named(engine: Engine, tamper: Callable[..., None]) -> None:
    district = _district(engine)
    ids = _events(engine, district, 10)
    tamper(f"UPDATE audit_events SET body = replace(body, 'teacher', 'nobody') WHERE id = {ids[4]}")
    report = verify(engine)
    assert not report.ok
    problem = report.problems[0]
    assert (problem.kind, problem.event_id, problem.seq) == ("changed", ids[4], 5)
    assert f"event {ids[4]} (seq 5)" in problem.describe()


def test_deleted_row_is_named(engine: Engine, tamper: Callable[..., None]) -> None:
    ids = _events(engine, _district(engine), 10)
    tamper(f"DELETE FROM audit_events WHERE id = {ids[3]}")
    problem = verify(engine).problems[0]
    assert problem.kind == "missing"
    assert (problem.event_id, problem.seq) == (ids[4], 4)  # seq 4 is missing; event ids[4] follows
    assert "4..4 are missing" in problem.message


def test_reordered_rows_are_named(engine: Engine, tamper: Callable[..., None]) -> None:
    ids = _events(engine, _district(engine), 10)
    a, b = ids[2], ids[6]
    # Swap two whole events between their row ids (bodies and hashes move together).
    tamper(
        f"UPDATE audit_events SET id = -1 WHERE id = {a}",
        f"UPDATE audit_events SET id = {a} WHERE id = {b}",
        f"UPDATE audit_events SET id = {b} WHERE id = -1",
    )
    problem = verify(engine).problems[0]
    assert problem.kind == "out_of_order"
    assert (problem.event_id, problem.seq) == (b, 3)  # seq 3 now sits at the later row id


def test_deleted_tail_is_detected_by_the_chain_head(engine: Engine, tamper: Callable[..., None]) -> None:
    ids = _events(engine, _district(engine), 5)
    tamper(f"DELETE FROM audit_events WHERE id = {ids[-1]}")
    problem = verify(engine).problems[0]
    assert problem.kind == "missing"
    assert "chain head says seq 5" in problem.message


def test_verify_from_an_event_id(engine: Engine, tamper: Callable[..., None]) -> None:
    ids = _events(engine, _district(engine), 10)
    report = verify(engine, from_id=ids[6])
    assert report.ok
    assert report.events == 4
    tamper(f"UPDATE audit_events SET body = body || ' ' WHERE id = {ids[2]}")
    assert verify(engine, from_id=ids[6]).ok  # the change lies before --from
    assert verify(engine).problems[0].event_id == ids[2]


@pytest.mark.parametrize("damage", ["none", "change", "delete", "head", "reorder"])
def test_parallel_verification_finds_the_same_first_break(
    engine: Engine, tamper: Callable[..., None], damage: str
) -> None:
    ids = _events(engine, _district(engine), 40)
    if damage == "change":
        tamper(f"UPDATE audit_events SET body = body || ' ' WHERE id = {ids[25]}")
    elif damage == "delete":
        tamper(f"DELETE FROM audit_events WHERE id = {ids[9]}")  # the last event of a segment
    elif damage == "head":
        tamper("UPDATE audit_chains SET head_seq = 39 WHERE key LIKE 'district:%'")
    elif damage == "reorder":
        tamper(
            f"UPDATE audit_events SET id = -1 WHERE id = {ids[5]}",
            f"UPDATE audit_events SET id = {ids[5]} WHERE id = {ids[30]}",
            f"UPDATE audit_events SET id = {ids[30]} WHERE id = -1",
        )
    serial = verify(engine, jobs=1)
    parallel = verify(engine, jobs=4, min_per_job=10)
    in_database = verify(engine, in_database=True)  # PostgreSQL hashes; falls back to name the break
    expected = [(p.kind, p.event_id, p.seq) for p in serial.problems]
    assert [(p.kind, p.event_id, p.seq) for p in parallel.problems] == expected
    assert [(p.kind, p.event_id, p.seq) for p in in_database.problems] == expected
    assert parallel.ok is (damage == "none")
    assert in_database.events == serial.events


def test_a_large_batch_keeps_ids_in_sequence_order(engine: Engine) -> None:
    district = _district(engine)
    ids = _events(engine, district, 150)  # above the COPY threshold on PostgreSQL
    with Session(engine) as db:
        rows = list(db.execute(select(AuditEvent.id, AuditEvent.seq).order_by(AuditEvent.seq)))
    assert [r.id for r in rows] == ids
    assert [r.seq for r in rows] == list(range(1, 151))
    assert verify(engine).ok


def test_non_ascii_bodies_verify_and_a_changed_character_is_named(
    engine: Engine, tamper: Callable[..., None]
) -> None:
    """The scan hashes the stored UTF-8 bytes; they must equal what ``chain_hash`` hashed on append."""
    district = _district(engine)
    names = ["Zoë Ñúñez", "Łukasz Wiśniewski", "王小明", "Ana 😀 María"]
    with transaction(engine) as db:
        ids = [
            a.id
            for a in append_many(
                db,
                [EventSpec(action="record.view", district_id=district, details={"name": n}) for n in names],
            )
        ]
    report = verify(engine)
    assert report.ok
    assert report.events == len(names)
    tamper(f"UPDATE audit_events SET body = replace(body, '王', '玉') WHERE id = {ids[2]}")
    problem = verify(engine).problems[0]
    assert (problem.kind, problem.event_id, problem.seq) == ("changed", ids[2], 3)


@pytest.mark.parametrize("chains", [1, 2, 3])  # SQLite walks row ids when dense (1, 2), else the index
def test_interleaved_chains_verify_and_name_the_changed_event(
    engine: Engine, tamper: Callable[..., None], chains: int
) -> None:
    districts = [_district(engine, f"d{n}") for n in range(chains)]
    with transaction(engine) as db:
        appended = append_many(
            db,
            [
                EventSpec(action="record.view", district_id=districts[i % chains], details={"n": i})
                for i in range(12 * chains)
            ],
        )
    first_chain = [a for a in appended if a.chain_key == f"district:{districts[0]}"]
    report = verify(engine)
    assert report.ok
    assert [c.events for c in report.chains] == [12] * chains
    assert verify(engine, from_id=first_chain[5].id).ok
    tamper(f"UPDATE audit_events SET body = body || ' ' WHERE id = {first_chain[7].id}")
    for found in (verify(engine), verify(engine, from_id=first_chain[5].id)):
        assert [(p.kind, p.event_id, p.seq) for p in found.problems] == [("changed", first_chain[7].id, 8)]
