"""The 99.32 record of disclosures: writing, reading with visibility, CSV, and tamper evidence."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from steward.audit import Recipient, record_disclosure
from steward.audit.ledger import (
    LedgerError,
    csv_cell,
    csv_rows,
    entries_query,
    own_children,
    page,
    student_entries,
    visible_student,
)
from steward.audit.models import AuditEvent, DisclosureEntry
from steward.audit.verify import verify
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Guardianship, Organization, Person, Student
from tests import factories as f


def principal(person: Person, role: Role, org: Organization) -> Principal:
    return Principal(person.id, person.code, role, org.id, org.code, OrgKind(org.kind), person.display_name)


@pytest.fixture
def world(engine: Engine) -> dict[str, int]:
    with transaction(engine) as db:
        d1 = f.org(db, "d1", "district", "Lakeside")
        d2 = f.org(db, "d2", "district", "Hillview")
        partner = f.org(db, "p1", "partner", "Boys & Girls Club")
        s1, s2 = f.student(db, d1, "100"), f.student(db, d1, "101")
        s3 = f.student(db, d2, "200")
        parent = f.person(db, "pam")
        db.add(Guardianship(person_id=parent.id, student_id=s1.id, valid_from=f.EPOCH))
        db.add(
            Guardianship(
                person_id=parent.id,
                student_id=s2.id,
                valid_from=f.EPOCH,
                valid_to=now_utc() - timedelta(days=1),
            )
        )
        officer = f.person(db, "olga")
        staff = f.person(db, "sam")
        db.flush()
        return {
            "d1": d1.id, "d2": d2.id, "partner": partner.id, "s1": s1.id, "s2": s2.id, "s3": s3.id,
            "parent": parent.id, "officer": officer.id, "staff": staff.id,
        }  # fmt: skip


def _disclose(
    engine: Engine, w: dict[str, int], basis: LegalBasis = LegalBasis.STUDIES, **kw: object
) -> None:
    with transaction(engine) as db:
        recipient = Recipient.organization(db, w["partner"])
        record_disclosure(
            db,
            recipient,
            [w["s1"], w["s3"], w["s2"]],
            [Dataset.ATTENDANCE, "grades"],
            basis,
            purpose="after-school tutoring evaluation",
            agreement_id=7,
            request_ref="DR-12",
            delivery_id=3,
            channel="package",
            **kw,  # type: ignore[arg-type]
        )


def test_one_line_per_student_and_one_event_per_district(engine: Engine, world: dict[str, int]) -> None:
    _disclose(engine, world)
    with Session(engine) as db:
        entries = list(db.scalars(select(DisclosureEntry).order_by(DisclosureEntry.student_id)))
        assert [e.student_id for e in entries] == sorted([world["s1"], world["s2"], world["s3"]])
        assert {e.district_id for e in entries} == {world["d1"], world["d2"]}
        assert all(e.record_required for e in entries)
        assert entries[0].datasets == ["attendance", "grades"]
        assert entries[0].citation == "34 CFR 99.31(a)(6)"
        assert entries[0].recipient_org_name == "Boys & Girls Club"
        events = db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "disclosure")
        )
        assert events == 2
    report = verify(engine)
    assert report.ok, report.problems
    assert report.ledger_entries == 3


def test_exempt_bases_are_kept_and_labelled(engine: Engine, world: dict[str, int]) -> None:
    _disclose(engine, world, LegalBasis.SCHOOL_OFFICIAL)
    with Session(engine) as db:
        assert not any(db.scalars(select(DisclosureEntry.record_required)))


def test_unknown_students_and_empty_datasets_are_refused(engine: Engine, world: dict[str, int]) -> None:
    with transaction(engine) as db:
        recipient = Recipient.organization(db, world["partner"])
        with pytest.raises(LedgerError, match="unknown student ids: 999"):
            record_disclosure(db, recipient, [999], [Dataset.GRADES], LegalBasis.STUDIES)
        with pytest.raises(LedgerError, match="at least one dataset"):
            record_disclosure(db, recipient, [world["s1"]], [], LegalBasis.STUDIES)


def test_ledger_rows_are_append_only_and_tampering_is_detected(
    engine: Engine, world: dict[str, int], tamper: Callable[..., None]
) -> None:
    _disclose(engine, world)
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(DisclosureEntry.__table__.delete())  # type: ignore[attr-defined]
    tamper(f"UPDATE disclosure_ledger SET basis = 'consent' WHERE student_id = {world['s2']}")
    problem = verify(engine).ledger_problem
    assert problem is not None
    assert "disagrees with its audit event on basis" in problem.message
    tamper(
        "UPDATE disclosure_ledger SET basis = 'studies'",
        f"DELETE FROM disclosure_ledger WHERE student_id = {world['s1']}",
    )
    problem = verify(engine).ledger_problem
    assert problem is not None
    assert f"students {world['s1']} were disclosed but their ledger entries are missing" in problem.message


def test_who_may_read_a_students_ledger(engine: Engine, world: dict[str, int]) -> None:
    with Session(engine) as db:
        d1, d2 = db.get(Organization, world["d1"]), db.get(Organization, world["d2"])
        parent, officer = db.get(Person, world["parent"]), db.get(Person, world["officer"])
        staff = db.get(Person, world["staff"])
        assert d1 is not None
        assert d2 is not None
        assert parent is not None
        assert officer is not None
        assert staff is not None
        as_parent = principal(parent, Role.PARENT, d1)
        assert visible_student(db, as_parent, world["s1"]) is not None
        assert visible_student(db, as_parent, world["s2"]) is None  # guardianship ended yesterday
        assert visible_student(db, as_parent, world["s3"]) is None  # not their child
        assert [s.id for s in own_children(db, as_parent)] == [world["s1"]]
        as_officer = principal(officer, Role.DISTRICT_DATA_OFFICER, d1)
        assert visible_student(db, as_officer, world["s2"]) is not None
        assert visible_student(db, as_officer, world["s3"]) is None  # another district
        assert visible_student(db, principal(staff, Role.TEACHER, d1), world["s1"]) is None
        assert visible_student(db, as_officer, 12345) is None


def test_paging_and_csv(engine: Engine, world: dict[str, int]) -> None:
    for _ in range(3):
        _disclose(engine, world)
    with Session(engine) as db:
        query = entries_query(world["d1"], recipient_org_id=world["partner"])
        first = page(db, query, None, 4)
        second = page(db, query, first.next_cursor, 4)
        assert len(first.entries) == 4
        assert len(second.entries) == 2
        assert second.next_cursor is None
        assert {e.id for e in first.entries}.isdisjoint(e.id for e in second.entries)
        student = db.get(Student, world["s1"])
        assert student is not None
        assert len(student_entries(db, student)) == 3
        text = "".join(csv_rows(db, entries_query(world["d1"], agreement_id=7)))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["entry_id", "disclosed_at_utc", "kind"]
    assert len(rows) == 7
    assert {r[4] for r in rows[1:]} == {"100", "101"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_csv_cells_never_start_a_formula(value: str) -> None:
    cell = csv_cell(value)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell.removeprefix("'") == value or cell == value


def test_a_large_disclosure_writes_every_line(engine: Engine, world: dict[str, int]) -> None:
    with transaction(engine) as db:
        district = db.get(Organization, world["d1"])
        assert district is not None
        students = [f.student(db, district, f"bulk-{n}").id for n in range(120)]
        record_disclosure(
            db, Recipient.organization(db, world["partner"]), students, [Dataset.GRADES], LegalBasis.STUDIES
        )
    with Session(engine) as db:
        lines = list(db.scalars(select(DisclosureEntry).order_by(DisclosureEntry.student_id)))
        assert [line.student_id for line in lines] == students
        assert lines[0].datasets == ["grades"]
        assert lines[0].disclosed_at.tzinfo is not None
    assert verify(engine).ok  # every line matches its event, dates included
