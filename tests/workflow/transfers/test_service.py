"""Records transfers end to end on both backends: match, decide, read, translate, deliver, record,
notify, receive, and nothing of the records left behind."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pyrage
import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session

from steward.audit.models import DisclosureEntry
from steward.delivery.models import Package, PackageKey
from steward.delivery.packages import Layout
from steward.domain.orgs import Role
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Guardianship, Organization, Student, TenantSettings
from steward.workflow.models import EnrollmentRequest
from steward.workflow.notifications.models import Notification
from steward.workflow.transfers.models import MatchCandidate, TransferRequest
from steward.workflow.transfers.service import (
    Ask,
    Status,
    TransferError,
    confirm_candidate,
    parse_incoming,
    receive,
    registrar_requests,
    reject_candidates,
    request_bulk,
    request_records,
    review_queue,
    sweep,
    transfer_log,
    visible_request,
)
from steward.workflow.transfers.settings import set_settings
from tests.delivery.conftest import untar
from tests.workflow.transfers.region import (
    World,
    ask_for,
    home_student,
    outside_district,
    principal,
    student_with,
)


def _request(engine: Engine, world: World, ask: Ask) -> TransferRequest:
    with transaction(engine) as db:
        return request_records(db, world.data_dir, world.registrar, ask)


def _receive(engine: Engine, world: World, request_id: int) -> dict[str, bytes]:
    with transaction(engine) as db:
        data, name = receive(db, world.data_dir, world.registrar, request_id)
    assert name.endswith(".tar.age")
    return untar(pyrage.decrypt(data, [world.identity]))


def test_exact_match_is_delivered_recorded_and_the_parents_notified(engine: Engine, world: World) -> None:
    student = home_student(engine, world)
    request = _request(engine, world, ask_for(student))
    assert request.status == Status.DELIVERED, request.reason
    assert request.match_kind == "exact"
    assert request.sending_district_id == world.home
    assert set(request.datasets) >= {"directory", "demographics", "enrollment", "attendance"}
    with Session(engine) as db:
        lines = db.scalars(
            select(DisclosureEntry)
            .where(DisclosureEntry.student_id == student.id)
            .order_by(DisclosureEntry.id)
        ).all()
        assert [(e.kind, e.basis, e.record_required) for e in lines] == [
            ("request", "transfer", True),
            ("disclosure", "transfer", True),
        ]
        assert lines[1].recipient_org_id == world.other
        assert lines[1].delivery_id == request.package_id
        assert lines[0].recipient_name.startswith("Reg-b")
        intent = db.get(EnrollmentRequest, request.enrollment_request_id)
        assert intent is not None
        assert (intent.student_id, intent.district_id) == (student.id, world.other)
        guardians = set(
            db.scalars(
                select(Guardianship.person_id).where(
                    Guardianship.student_id == student.id, Guardianship.restricted.is_(False)
                )
            )
        )
        notices = db.scalars(select(Notification).where(Notification.kind == "transfer.forwarded")).all()
        assert guardians
        assert {n.person_id for n in notices} == guardians
        assert all("99.34" in n.body and request.code in n.body for n in notices)
    members = _receive(engine, world, request.id)
    manifest = json.loads(members["manifest.json"])
    assert manifest["legal_basis"]["code"] == "transfer"
    assert manifest["request"] == request.code
    assert "99.33" in manifest["redisclosure_notice"]
    students_file = next(v for k, v in members.items() if "DistrictStudent" in k)
    assert f"\t{student.local_id}\t{student.state_id}\t".encode() in students_file
    assert b"\t\t" in students_file  # the SSN column is empty


def test_annual_notice_with_a_forwarding_clause_needs_no_parent_notice(
    sqlite_engine: Engine, sqlite_world: World
) -> None:
    engine, world = sqlite_engine, sqlite_world
    with transaction(engine) as db:
        settings = db.get(TenantSettings, world.home)
        assert settings is not None
        settings.extra = {**settings.extra, "annual_notice_forwards_records": True}
    request = _request(engine, world, ask_for(home_student(engine, world)))
    assert request.status == Status.DELIVERED
    with Session(engine) as db:
        assert db.scalar(select(func.count()).select_from(Notification)) == 0


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"last_name": "TYPO"}, "name"),
        ("swap", "birth date: day and month swapped"),
        ("wrong_sid", "state ID: one digit differs or two are swapped"),
        ("name_and_birth_only", "state ID: different"),
    ],
)
def test_near_matches_wait_for_the_sending_district(
    sqlite_engine: Engine, sqlite_world: World, change: object, why: str
) -> None:
    engine, world = sqlite_engine, sqlite_world
    student = next(
        s
        for i in range(40)
        if (s := home_student(engine, world, index=i)).birth_date.day <= 12
        and s.birth_date.day != s.birth_date.month
    )
    if change == "swap":
        born = student.birth_date
        ask = ask_for(student, birth_date=date(born.year, born.day, born.month))
    elif change == "wrong_sid":
        sid = student.state_id or ""
        ask = ask_for(student, state_id=sid[:-1] + str((int(sid[-1]) + 1) % 10))
    elif change == "name_and_birth_only":
        ask = ask_for(student, state_id="1234567890")
    else:
        assert isinstance(change, dict)
        typo = student.last_name[:-1] + ("x" if student.last_name[-1] != "x" else "y")
        ask = ask_for(student, last_name=typo)
    request = _request(engine, world, ask)
    assert request.status == Status.NEEDS_REVIEW
    assert request.package_id is None
    with Session(engine) as db:
        candidates = db.scalars(select(MatchCandidate).where(MatchCandidate.request_id == request.id)).all()
        assert student.id in {c.student_id for c in candidates}
        mine = next(c for c in candidates if c.student_id == student.id)
        assert any(why in reason for reason in mine.reasons)
        assert db.scalar(select(func.count()).select_from(DisclosureEntry)) == 0
        # The registrar sees the status, never the candidates; the sending officer reviews.
        assert review_queue(db, world.registrar) == []
        [item] = review_queue(db, world.officer_home)
        assert item.request.id == request.id
    with transaction(engine) as db:
        done = confirm_candidate(db, world.data_dir, world.officer_home, request.id, mine.id)
        assert done.status == Status.DELIVERED
        assert done.match_kind == "confirmed"
        assert done.matched_by_person_id == world.officer_home.person_id


def test_a_reviewer_can_reject_and_only_their_own_candidates(
    sqlite_engine: Engine, sqlite_world: World
) -> None:
    engine, world = sqlite_engine, sqlite_world
    student = home_student(engine, world)
    request = _request(engine, world, ask_for(student, first_name=student.first_name + "a"))
    assert request.status == Status.NEEDS_REVIEW
    with transaction(engine) as db, pytest.raises(TransferError):
        reject_candidates(db, world.officer_other, request.id)
    with transaction(engine) as db:
        candidate = db.scalar(select(MatchCandidate).where(MatchCandidate.request_id == request.id))
        assert candidate is not None
        with pytest.raises(TransferError):
            confirm_candidate(db, world.data_dir, world.officer_other, request.id, candidate.id)
    with transaction(engine) as db:
        assert reject_candidates(db, world.officer_home, request.id).status == Status.REJECTED


def test_a_name_alone_never_matches(sqlite_engine: Engine, sqlite_world: World) -> None:
    engine, world = sqlite_engine, sqlite_world
    student = home_student(engine, world)
    request = _request(engine, world, ask_for(student, state_id="1111111111", birth_date=date(2001, 1, 1)))
    assert request.status == Status.NO_MATCH
    assert "No student" in request.reason


@pytest.mark.parametrize(
    ("state", "in_region", "reason"),
    [
        ("OR", True, "never transferred to an organization in another state (WA to OR)"),
        ("WA", False, "are not districts of the same region"),
    ],
)
def test_out_of_state_and_out_of_region_registrars_are_refused_with_the_reason(
    sqlite_engine: Engine, sqlite_world: World, state: str, in_region: bool, reason: str
) -> None:
    engine, world = sqlite_engine, sqlite_world
    with transaction(engine) as db:
        district = outside_district(db, "far-away", state=state, in_region=in_region)
        registrar = principal(db, "reg-far", Role.REGISTRAR, district)
    student = home_student(engine, world)
    with transaction(engine) as db:
        request = request_records(db, world.data_dir, registrar, ask_for(student))
    assert request.status == Status.REFUSED
    assert reason in request.reason
    assert student.local_id not in request.reason
    with Session(engine) as db:
        kinds = db.scalars(select(DisclosureEntry.kind).where(DisclosureEntry.student_id == student.id)).all()
        assert kinds == ["request"]
        assert db.scalar(select(func.count()).select_from(Package)) == 0


def test_only_registrars_request(sqlite_engine: Engine, sqlite_world: World) -> None:
    student = home_student(sqlite_engine, sqlite_world)
    with transaction(sqlite_engine) as db, pytest.raises(TransferError, match="only a registrar"):
        request_records(db, sqlite_world.data_dir, sqlite_world.officer_other, ask_for(student))
    with pytest.raises(TransferError, match="state student ID is required"):
        ask_for(student, state_id="").check()


@pytest.mark.parametrize(("fmt", "expect"), [("oneroster", "users.csv"), ("edfi-json", "students.jsonl")])
def test_records_arrive_in_the_receiving_districts_format(
    sqlite_engine: Engine, sqlite_world: World, fmt: str, expect: str
) -> None:
    engine, world = sqlite_engine, sqlite_world
    with transaction(engine) as db:
        set_settings(db, world.other, receive_format=fmt)
    student = home_student(engine, world)
    request = _request(engine, world, ask_for(student))
    assert request.status == Status.DELIVERED, request.reason
    assert request.format == fmt
    members = _receive(engine, world, request.id)
    assert student.local_id.encode() in members[f"data/{expect}"]


def test_a_missing_source_or_key_fails_with_a_clear_reason(
    sqlite_engine: Engine, sqlite_world: World
) -> None:
    engine, world = sqlite_engine, sqlite_world
    student = home_student(engine, world)
    with transaction(engine) as db:
        set_settings(db, world.home, source_path=world.data_dir.parent)  # a directory without a drop
    request = _request(engine, world, ask_for(student))
    assert request.status == Status.FAILED
    assert "source could not be read" in request.reason
    with Session(engine) as db:
        assert db.scalar(select(func.count()).select_from(Package)) == 0


def test_receiving_shreds_stewards_copy_and_nothing_of_the_records_stays(
    engine: Engine, world: World
) -> None:
    student = student_with(engine, world, "GradeHistory")
    sentinel = "ZQXSENTINEL Astronomy"
    [grades] = world.drop(world.home_code).glob("*GradeHistory*")
    lines = grades.read_text().splitlines()
    marked = []
    for line in lines:
        fields = line.split("\t")
        if fields[2] == student.local_id:
            fields[6] = sentinel
        marked.append("\t".join(fields))
    grades.write_text("\n".join(marked) + "\n")
    request = _request(engine, world, ask_for(student))
    assert request.status == Status.DELIVERED, request.reason
    assert "grades" in request.datasets
    members = _receive(engine, world, request.id)
    assert sentinel.encode() in next(v for k, v in members.items() if "GradeHistory" in k)
    with Session(engine) as db:
        package = db.get(Package, request.package_id)
        assert package is not None
        assert package.status == "shredded"
        assert db.get(PackageKey, package.id) is None
        assert db.get(TransferRequest, request.id).status == Status.RECEIVED  # type: ignore[union-attr]
    assert not list(Layout.of(world.data_dir).outbox.rglob("*.age"))
    for path in world.data_dir.rglob("*"):
        if path.is_file():
            assert sentinel.encode() not in path.read_bytes(), path
    assert not list((world.data_dir / "transfers" / "work").iterdir())
    with Session(engine) as db:
        for table in inspect(engine).get_table_names():
            for row in db.execute(text(f'SELECT * FROM "{table}"')):
                assert sentinel not in repr(tuple(row)), table


def test_visibility_of_requests(sqlite_engine: Engine, sqlite_world: World) -> None:
    engine, world = sqlite_engine, sqlite_world
    request = _request(engine, world, ask_for(home_student(engine, world)))
    with Session(engine) as db:
        assert visible_request(db, world.registrar, request.id) is not None
        assert visible_request(db, world.officer_home, request.id) is not None
        assert [r.id for r in registrar_requests(db, world.registrar)] == [request.id]
        assert [r.id for r in transfer_log(db, world.officer_home)] == [request.id]
        assert transfer_log(db, world.officer_other) == []
        home = db.get(Organization, world.home)
        assert home is not None
        teacher = principal(db, "tea", Role.TEACHER, home)
        assert visible_request(db, teacher, request.id) is None
        db.rollback()
    with transaction(engine) as db, pytest.raises(TransferError):
        receive(db, world.data_dir, world.officer_other, request.id)


def test_unreceived_packages_expire(sqlite_engine: Engine, sqlite_world: World) -> None:
    engine, world = sqlite_engine, sqlite_world
    request = _request(engine, world, ask_for(home_student(engine, world)))
    with transaction(engine) as db:
        assert sweep(db, world.data_dir, now_utc() + timedelta(days=1)) == []
        assert sweep(db, world.data_dir, now_utc() + timedelta(days=15)) == [request.code]
    with Session(engine) as db:
        assert db.get(TransferRequest, request.id).status == Status.EXPIRED  # type: ignore[union-attr]
        assert db.get(Package, request.package_id).status == "shredded"  # type: ignore[union-attr]


def test_bulk_list_one_package_per_sending_district(engine: Engine, world: World) -> None:
    students = [home_student(engine, world, index=i) for i in range(6)]
    rows = ["state_id,first_name,last_name,birth_date"]
    rows += [f"{s.state_id},{s.first_name},{s.last_name},{s.birth_date.isoformat()}" for s in students[:4]]
    typo = students[4]
    rows.append(f"{typo.state_id},{typo.first_name},{typo.last_name}zz,{typo.birth_date:%m/%d/%Y}")
    rows.append("9999999999,Nobody,Atall,2015-05-05")
    asks = parse_incoming("\n".join(rows), "incoming.csv")
    with transaction(engine) as db:
        batch = request_bulk(db, world.data_dir, world.registrar, asks, "incoming.csv")
        assert batch.counts == {"delivered": 4, "needs_review": 1, "no_match": 1}
    with Session(engine) as db:
        requests = db.scalars(select(TransferRequest).where(TransferRequest.batch_id == batch.id)).all()
        packages = {r.package_id for r in requests if r.package_id is not None}
        assert len(packages) == 1
        package = db.get(Package, packages.pop())
        assert package is not None
        assert package.student_count == 4
    first = next(r for r in requests if r.status == Status.DELIVERED)
    members = _receive(engine, world, first.id)
    district_file = next(v for k, v in members.items() if "DistrictStudent" in k)
    assert all(s.local_id.encode() in district_file for s in students[:4])
    with Session(engine) as db:
        statuses = {
            r.status for r in db.scalars(select(TransferRequest).where(TransferRequest.batch_id == batch.id))
        }
        assert Status.RECEIVED in statuses
        assert Status.DELIVERED not in statuses


def test_bulk_list_errors_name_the_row_and_column() -> None:
    text_ = "state_id,first_name,last_name,birth_date\n123,Ana,Diaz,2015-13-01\n,Ben,Li,2014-01-01\n"
    with pytest.raises(TransferError) as caught:
        parse_incoming(text_, "list.csv")
    message = str(caught.value)
    assert "list.csv, row 2, birth_date" in message
    assert "list.csv, row 3: the state student ID is required" in message
    with pytest.raises(TransferError, match="header lacks birth_date"):
        parse_incoming("state_id,first_name,last_name\n", "list.csv")


def test_the_student_already_in_the_receiving_district_is_not_a_candidate(
    sqlite_engine: Engine, sqlite_world: World
) -> None:
    engine, world = sqlite_engine, sqlite_world
    mover = home_student(engine, world, mover=True)
    request = _request(engine, world, ask_for(mover))
    with Session(engine) as db:
        own = db.scalar(
            select(Student).where(Student.district_id == world.other, Student.state_id == mover.state_id)
        )
        assert own is not None
    assert request.student_id == mover.id
    assert request.status in (Status.DELIVERED, Status.NEEDS_REVIEW)
