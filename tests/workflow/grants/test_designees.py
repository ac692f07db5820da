"""A principal's designee grants for the school's Institutional Service partners while the designation
is in force and they still work at the school; who may name one, and the end of a designation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Organization, Person, RoleAssignment
from steward.workflow.agreements import service as agreements
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.grants import service as grants
from steward.workflow.grants.models import GrantDesignee
from steward.workflow.history import history_of
from steward.workflow.models import Grant
from tests import factories as f
from tests.workflow.conftest import World, principal


def _staff(db: Session, w: World, code: str, role: Role, org_id: int) -> Principal:
    person = Person(code=code, given_name=code.capitalize(), family_name="Staff", email=f"{code}@example.org")
    db.add(person)
    db.flush()
    db.add(RoleAssignment(person_id=person.id, role=role.value, organization_id=org_id, valid_from=f.EPOCH))
    db.flush()
    return principal(db, person, role, db.get_one(Organization, org_id))


def _is_partner(db: Session, w: World) -> None:
    designation = agreements.create(
        db,
        w.p("officer"),
        kind="is_designation",
        organization_id=w.partner,
        district_id=w.district,
        purpose="in-school tutoring",
        annual=True,
    )
    agreements.execute(db, w.p("officer"), designation)


def _grant(db: Session, actor: Principal, w: World, **changes: object) -> Grant:
    values: dict[str, object] = {
        "organization_id": w.partner,
        "student_ids": w.students[:2],
        "datasets": ["grades"],
    }
    values.update(changes)
    return grants.grant(db, actor, **values)  # type: ignore[arg-type]


def test_a_designee_grants_and_revokes_for_the_school_while_designated(engine: Engine, world: World) -> None:
    w = world
    with transaction(engine) as db:
        _is_partner(db, w)
        teacher = _staff(db, w, "teacher", Role.TEACHER, w.school)
        with pytest.raises(NotAllowedError, match="principal or their designee"):
            _grant(db, teacher, w)
        designee = grants.designate(
            db, w.p("principal"), person_id=teacher.person_id, reason="office manager away"
        )
        assert designee.school_id == w.school
        assert designee.designated_by_person_id == w.p("principal").person_id
        assert designee.valid_to is not None  # the end of the school year by default
        [entry] = history_of(db, "grant_designee", designee.id)
        assert (entry.action, entry.actor_person_id, entry.reason) == (
            "designated",
            w.p("principal").person_id,
            "office manager away",
        )
        row = _grant(db, teacher, w)
        assert row.school_id == w.school
        assert row.district_id == w.district
        assert row.granted_by_person_id == teacher.person_id
        granted = history_of(db, "grant", row.id)[0]
        assert granted.changes["designation"] == [None, designee.code]
        assert granted.actor_role == "teacher"
        with pytest.raises(NotAllowedError, match="Institutional Service"):
            _grant(db, teacher, w, organization_id=w.research)
        grants.revoke(db, teacher, row, "list corrected")
        assert row.status == "revoked"
        kept = _grant(db, teacher, w, student_ids=w.students[:1])
        code, designee_id, teacher_id = designee.code, designee.id, teacher.person_id
    ended_at = now_utc()
    with transaction(engine) as db:
        ending = db.scalar(select(GrantDesignee).where(GrantDesignee.code == code))
        assert ending is not None
        grants.end_designation(db, w.p("principal"), ending, "back from leave", at=ended_at)
        assert ending.valid_to == ended_at
        assert ending.ended_by_person_id == w.p("principal").person_id
        with pytest.raises(WorkflowError, match="already ended"):
            grants.end_designation(db, w.p("principal"), ending)
    with transaction(engine) as db:
        teacher = principal(
            db, db.get_one(Person, teacher_id), Role.TEACHER, db.get_one(Organization, w.school)
        )
        assert grants.designees(db, w.school) == []
        assert grants.designation_of(db, teacher, ended_at - timedelta(microseconds=1)) is not None  # replay
        with pytest.raises(NotAllowedError):
            _grant(db, teacher, w)
        kept_row = db.get_one(Grant, kept.id)
        assert kept_row.status == "active"  # the designee's grants outlive the designation
        with pytest.raises(NotAllowedError):
            grants.revoke(db, teacher, kept_row, "no longer designee")
        assert [h.action for h in history_of(db, "grant_designee", designee_id)] == ["designated", "ended"]


def test_who_may_name_a_designee(engine: Engine, world: World) -> None:
    w = world
    with transaction(engine) as db:
        teacher = _staff(db, w, "teacher", Role.TEACHER, w.school)
        other_school = f.org(
            db, "birch", "school", "Birch Middle", parent=db.get_one(Organization, w.district)
        )
        elsewhere = _staff(db, w, "counselor", Role.COUNSELOR, other_school.id)
        far = f.org(db, "hilltop", "district", "Hilltop District")
        far_officer = _staff(db, w, "farofficer", Role.DISTRICT_DATA_OFFICER, far.id)
        with pytest.raises(NotAllowedError, match="principal or the district data office"):
            grants.designate(db, w.p("partner"), person_id=teacher.person_id)
        with pytest.raises(NotAllowedError, match="principal or the district data office"):
            grants.designate(db, teacher, person_id=teacher.person_id)
        with pytest.raises(NotAllowedError, match="own school"):
            grants.designate(db, w.p("principal"), person_id=elsewhere.person_id, school_id=other_school.id)
        with pytest.raises(WorkflowError, match="holds no staff role"):
            grants.designate(db, w.p("principal"), person_id=elsewhere.person_id)
        with pytest.raises(WorkflowError, match="holds no staff role"):
            grants.designate(db, w.p("principal"), person_id=w.p("partner").person_id)
        with pytest.raises(WorkflowError, match="grants already"):
            grants.designate(db, w.p("principal"), person_id=w.p("principal").person_id)
        with pytest.raises(WorkflowError, match="end before it starts"):
            grants.designate(
                db, w.p("principal"), person_id=teacher.person_id, valid_to=now_utc() - timedelta(days=1)
            )
        with pytest.raises(WorkflowError, match="choose the school"):
            grants.designate(db, w.p("officer"), person_id=elsewhere.person_id)
        with pytest.raises(NotAllowedError, match="not in your district"):
            grants.designate(db, far_officer, person_id=elsewhere.person_id, school_id=other_school.id)
        by_officer = grants.designate(
            db, w.p("officer"), person_id=elsewhere.person_id, school_id=other_school.id
        )
        assert by_officer.school_id == other_school.id
        grants.designate(db, w.p("principal"), person_id=teacher.person_id)
        with pytest.raises(WorkflowError, match="already a designee"):
            grants.designate(db, w.p("principal"), person_id=teacher.person_id)
        assert [d.person_id for d in grants.designees(db, w.school)] == [teacher.person_id]
        with pytest.raises(NotAllowedError, match="own school"):  # the principal of cedar, not birch
            grants.end_designation(db, w.p("principal"), by_officer)


def test_the_designation_ends_at_valid_to_and_with_the_persons_role(engine: Engine, world: World) -> None:
    w = world
    end = (now_utc() + timedelta(hours=2)).replace(microsecond=0)
    with transaction(engine) as db:
        _is_partner(db, w)
        teacher = _staff(db, w, "teacher", Role.TEACHER, w.school)
        counselor = _staff(db, w, "counselor", Role.COUNSELOR, w.school)
        grants.designate(db, w.p("principal"), person_id=teacher.person_id, valid_to=end)
        grants.designate(
            db, w.p("principal"), person_id=counselor.person_id, at=now_utc() - timedelta(hours=1)
        )
        assert _grant(db, teacher, w, at=end - timedelta(microseconds=1)).school_id == w.school
        with pytest.raises(NotAllowedError):
            _grant(db, teacher, w, at=end)
        # The counselor leaves the school: the designation alone no longer lets them grant.
        assignment = db.scalar(select(RoleAssignment).where(RoleAssignment.person_id == counselor.person_id))
        assert assignment is not None
        left = now_utc()
        assignment.valid_to = left
        db.flush()
        assert grants.designation_of(db, counselor, left - timedelta(seconds=1)) is not None
        assert grants.designation_of(db, counselor, left) is None
        with pytest.raises(NotAllowedError):
            _grant(db, counselor, w, at=left + timedelta(seconds=1))
