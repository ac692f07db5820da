"""Break-glass: a district data officer records an emergency; the engine honours it for that officer,
for the district's window only; everyone else is refused with what is missing; every step is in the
audit log, and data seen under it is a 99.32 ledger line naming the threat."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit import SYSTEM
from steward.audit.models import AuditEvent, DisclosureEntry
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.policy.tenant import TenantPolicy
from steward.store.access import check
from steward.store.db import transaction
from steward.store.fact_writer import FactIds, write_facts
from steward.store.models import RoleAssignment
from steward.store.tenants import save_policy
from steward.workflow import emergency as service
from steward.workflow.common import InvalidError, NotAllowedError
from steward.workflow.models import Emergency
from tests.policy.scenario import facts

AT = datetime.fromisoformat("2025-10-15T17:00:00+00:00")
THREAT = "Caller threatened to harm the student at pickup today; police need the custody contacts."


def _world(engine: Engine) -> FactIds:
    with transaction(engine) as db:
        return write_facts(db, facts())


def _events(engine: Engine, action: str) -> list[dict[str, object]]:
    with Session(engine) as db:
        bodies = db.scalars(
            select(AuditEvent.body).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [json.loads(b) for b in bodies]


def test_recorded_emergency_opens_the_officers_access_for_the_window_only(engine: Engine) -> None:
    ids = _world(engine)
    officer, st1 = ids.people["o1"], ids.students["st1"]
    with Session(engine) as db:
        before = check(db, officer, st1, Dataset.DISCIPLINE, AT)
    assert not before.allowed
    assert any("health or safety emergency" in m for m in before.missing)

    with transaction(engine) as db:
        row = service.record_emergency(db, officer, st1, f"  {THREAT}  ", recipients="Lakeside police", at=AT)
        emergency_id = row.id
    with Session(engine) as db:
        stored = db.get_one(Emergency, emergency_id)
        assert stored.threat == THREAT
        assert stored.valid_to is not None
        assert stored.valid_to - stored.valid_from == timedelta(hours=24)  # the tenant's default window
        during = check(db, officer, st1, Dataset.DISCIPLINE, AT + timedelta(hours=3))
        assert during.allowed
        assert during.basis is LegalBasis.HEALTH_SAFETY_EMERGENCY
        assert f"emergency:{emergency_id}" in during.evidence
        after = check(db, officer, st1, Dataset.DISCIPLINE, AT + timedelta(hours=24))
        assert not after.allowed
        assert any(f"emergency {emergency_id}" in m for m in after.missing)
        # The record is the officer's evidence only: a partner gains nothing from it.
        assert not check(db, ids.people["w1"], st1, Dataset.DISCIPLINE, AT + timedelta(hours=3)).allowed

    (event,) = _events(engine, "break_glass")
    assert event["outcome"] == "ok"
    assert event["actor_person"] == officer
    assert event["actor_role"] == Role.DISTRICT_DATA_OFFICER.value
    assert event["district"] == ids.orgs["d1"]
    assert event["subjects"] == [str(st1)]
    assert event["basis"] == "health_safety_emergency"
    assert event["evidence"] == [f"emergency:{emergency_id}"]
    details = event["details"]
    assert isinstance(details, dict)
    assert details["threat"] == THREAT
    assert details["recipients"] == "Lakeside police"
    assert details["window_hours"] == 24


def test_the_window_follows_the_districts_setting(engine: Engine) -> None:
    ids = _world(engine)
    with transaction(engine) as db:
        policy = TenantPolicy(str(ids.orgs["d1"]), emergency_window_hours=6)
        save_policy(db, ids.orgs["d1"], policy, SYSTEM)
    with transaction(engine) as db:
        row = service.record_emergency(db, ids.people["o1"], ids.students["st1"], THREAT, at=AT)
        assert row.valid_to == AT + timedelta(hours=6)
    with Session(engine) as db:
        assert check(
            db, ids.people["o1"], ids.students["st1"], Dataset.GRADES, AT + timedelta(hours=5)
        ).allowed
        assert not check(
            db, ids.people["o1"], ids.students["st1"], Dataset.GRADES, AT + timedelta(hours=6)
        ).allowed


@pytest.mark.parametrize("person", ["t1", "pr1", "r2", "w1", "p1"])
def test_non_officers_are_refused_with_what_is_missing(engine: Engine, person: str) -> None:
    ids = _world(engine)
    with pytest.raises(NotAllowedError) as refused, transaction(engine) as db:
        service.record_emergency(db, ids.people[person], ids.students["st1"], THREAT, at=AT)
    message = str(refused.value)
    assert "not acting as a district data officer" in message
    assert "only a data officer of the student's district" in message
    with Session(engine) as db:
        assert db.scalars(select(Emergency)).all() == []


def test_an_officer_signed_in_in_another_role_or_district_is_refused(engine: Engine) -> None:
    ids = _world(engine)
    with transaction(engine) as db:
        # o1 also registers students at d2, and r2 becomes d2's data officer.
        db.add(
            RoleAssignment(
                person_id=ids.people["o1"],
                role="registrar",
                organization_id=ids.orgs["d2"],
                valid_from=AT - timedelta(days=1),
            )
        )
        db.add(
            RoleAssignment(
                person_id=ids.people["r2"],
                role=Role.DISTRICT_DATA_OFFICER.value,
                organization_id=ids.orgs["d2"],
                valid_from=AT - timedelta(days=1),
            )
        )
    as_registrar = Principal(ids.people["o1"], "o1", Role.REGISTRAR, ids.orgs["d2"], "d2", OrgKind.DISTRICT)
    with pytest.raises(NotAllowedError, match="registrar at d2"), transaction(engine) as db:
        service.record_emergency(db, as_registrar, ids.students["st1"], THREAT, at=AT)
    with pytest.raises(service.UnknownStudentError, match="no student"), transaction(engine) as db:
        service.record_emergency(db, ids.people["r2"], ids.students["st1"], THREAT, at=AT)
    with transaction(engine) as db:
        service.log_refusal(db, ids.people["r2"], ids.students["st1"], ["no student in your district"], at=AT)
    (refusal,) = _events(engine, "break_glass")
    assert refusal["outcome"] == "denied"
    assert refusal["district"] == ids.orgs["d1"]  # read by d1's officers only


def test_the_threat_is_required(engine: Engine) -> None:
    ids = _world(engine)
    with pytest.raises(InvalidError) as invalid, transaction(engine) as db:
        service.record_emergency(db, ids.people["o1"], ids.students["st1"], "   ", at=AT)
    assert [p.field for p in invalid.value.items] == ["threat"]
    assert _events(engine, "break_glass") == []


def test_ending_early_stops_access_and_is_logged(engine: Engine) -> None:
    ids = _world(engine)
    officer, st1 = ids.people["o1"], ids.students["st1"]
    with transaction(engine) as db:
        emergency_id = service.record_emergency(db, officer, st1, THREAT, at=AT).id
    with transaction(engine) as db:
        service.end_emergency(db, officer, emergency_id, at=AT + timedelta(hours=1))
    with Session(engine) as db:
        assert not check(db, officer, st1, Dataset.PROGRAMS, AT + timedelta(hours=2)).allowed
    (ended,) = _events(engine, "break_glass.end")
    assert ended["evidence"] == [f"emergency:{emergency_id}"]


def test_data_seen_under_it_is_a_ledger_line_with_the_threat(engine: Engine) -> None:
    ids = _world(engine)
    officer, st1 = ids.people["o1"], ids.students["st1"]
    principal = Principal(officer, "o1", Role.DISTRICT_DATA_OFFICER, ids.orgs["d1"], "d1", OrgKind.DISTRICT)
    with transaction(engine) as db:
        row = service.record_emergency(db, principal, st1, THREAT, recipients="Lakeside police", at=AT)
        service.disclose_under(
            db, principal, row, [Dataset.DISCIPLINE, Dataset.PROGRAMS], [f"emergency:{row.id}"], at=AT
        )
        emergency_id = row.id
    with Session(engine) as db:
        (line,) = db.scalars(select(DisclosureEntry)).all()
    assert line.student_id == st1
    assert line.basis == LegalBasis.HEALTH_SAFETY_EMERGENCY.value
    assert line.record_required is True
    assert line.recipient_person_id == officer
    assert sorted(line.datasets) == ["discipline", "programs"]
    assert line.request_ref == f"emergency:{emergency_id}"
    assert THREAT in line.purpose
    assert "Lakeside police" in line.purpose
