"""An officer invites, grants and ends roles, suspends and removes; scope ends at the district line;
every change is an audit event on the district's chain."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from steward.accounts import lifecycle as lc
from steward.accounts.service import SignInOutcome, authenticate, current_roles, principal_of
from steward.accounts.tokens import create_token, resolve_token
from steward.audit.models import AuditEvent
from steward.config import Settings
from steward.domain.principal import Principal
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Account, RoleAssignment
from tests import factories as f
from tests.accounts.world import World, build

SETTINGS = Settings(secret_key="t")


def _officer(db: object, person_id: int) -> Principal:
    role = db.scalar(select(RoleAssignment).where(RoleAssignment.person_id == person_id))  # type: ignore[attr-defined]
    return principal_of(db, role)  # type: ignore[arg-type]


def _invite(db: object, world: World, **role: object) -> lc.IssuedInvitation:
    request = lc.InviteRequest(
        username="nina",
        given_name="Nina",
        family_name="New",
        email="nina@example.org",
        role=lc.RoleRequest(**{"role": "teacher", "organization_id": world.school.id, **role}),  # type: ignore[arg-type]
    )
    return lc.invite(db, _officer(db, world.officer.id), request, SETTINGS)  # type: ignore[arg-type]


def test_invitation_sets_the_password_once(engine: Engine) -> None:
    with transaction(engine) as db:
        world = build(db)
        issued = _invite(db, world)
        token = issued.token
        assert authenticate(db, "nina", "anything", SETTINGS).outcome is SignInOutcome.INACTIVE
    with transaction(engine) as db, pytest.raises(lc.LifecycleError):
        lc.accept_invitation(db, token, "short")
    with transaction(engine) as db:
        lc.accept_invitation(db, token, "a long enough passphrase")
    with transaction(engine) as db:
        assert authenticate(db, "nina", "a long enough passphrase", SETTINGS).ok
        with pytest.raises(lc.NotInScopeError):
            lc.accept_invitation(db, token, "another long passphrase")  # used up
        actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["role.assign", "account.invite", "account.activate"]


def test_expired_invitation_is_refused(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        world = build(db)
        issued = _invite(db, world)
        issued.invitation.expires_at = now_utc() - timedelta(seconds=1)
        token = issued.token
    with transaction(sqlite_engine) as db:
        assert lc.open_invitation(db, token) is None


def test_role_at_a_partner_needs_the_districts_agreement(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        world = build(db)
        officer = _officer(db, world.officer.id)
        person = f.person(db, "pete", password="partner pass 1")
        for bad in (
            lc.RoleRequest("partner_staff", world.partner.id),  # no agreement
            lc.RoleRequest("partner_staff", world.partner.id, agreement_id=world.other_agreement.id),
            lc.RoleRequest("teacher", world.partner.id, agreement_id=world.agreement.id),  # wrong role
            lc.RoleRequest("district_data_officer", world.other_district.id),  # another district
            lc.RoleRequest(
                "teacher", world.school.id, valid_from=date(2030, 1, 2), valid_to=date(2030, 1, 1)
            ),
        ):
            with pytest.raises(lc.LifecycleError):
                lc.assign_role(db, officer, person, bad)
        role = lc.assign_role(
            db,
            officer,
            person,
            lc.RoleRequest("partner_staff", world.partner.id, agreement_id=world.agreement.id),
        )
        assert [r.id for r in current_roles(db, person.id)] == [role.id]
        after_agreement = world.agreement.valid_to + timedelta(seconds=1)  # type: ignore[operator]
        assert current_roles(db, person.id, after_agreement) == []


def test_end_role_and_scope(engine: Engine) -> None:
    with transaction(engine) as db:
        world = build(db)
        officer = _officer(db, world.officer.id)
        other_officer = _officer(db, world.other_officer.id)
        teacher_role = db.scalar(select(RoleAssignment).where(RoleAssignment.person_id == world.teacher.id))
        assert teacher_role is not None
        tina = db.scalar(select(Account).where(Account.username == "tina"))
        assert tina is not None
        with pytest.raises(lc.NotInScopeError):
            lc.end_role(db, other_officer, teacher_role.id)
        with pytest.raises(lc.NotInScopeError):
            lc.managed_account(db, other_officer, tina.id)
        assert {a.username for a in lc.managed_accounts(db, world.district.id)} == {"olga", "tina", "pam"}
        lc.end_role(db, officer, teacher_role.id, date(2031, 6, 30))
        assert teacher_role.valid_to is not None
        lc.end_role(db, officer, teacher_role.id)  # earlier end wins
        assert teacher_role.valid_to <= now_utc()
        assert current_roles(db, world.teacher.id) == []
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "role.end"))
        assert event is not None
        assert f'"district":{world.district.id},' in event.body
        assert event.actor_person_id == world.officer.id


def test_suspend_reactivate_and_remove(engine: Engine) -> None:
    with transaction(engine) as db:
        world = build(db)
        officer = _officer(db, world.officer.id)
        tina = db.scalar(select(Account).where(Account.username == "tina"))
        olga = db.scalar(select(Account).where(Account.username == "olga"))
        assert tina is not None
        assert olga is not None
        role = db.scalar(select(RoleAssignment).where(RoleAssignment.person_id == world.teacher.id))
        assert role is not None
        token = create_token(db, tina, role, SETTINGS, name="x", scopes=["read"], days=5).text
        with pytest.raises(lc.LifecycleError):
            lc.suspend(db, officer, olga)  # not yourself
        lc.suspend(db, officer, tina)
        assert authenticate(db, "tina", "teacher pass 1", SETTINGS).outcome is SignInOutcome.INACTIVE
        assert resolve_token(db, token) is None
        lc.reactivate(db, officer, tina)
        assert authenticate(db, "tina", "teacher pass 1", SETTINGS).ok
        assert resolve_token(db, token) is not None
        lc.remove(db, officer, tina)
        assert lc.status_of(db, tina) == "removed"
        assert current_roles(db, world.teacher.id) == []
        assert authenticate(db, "tina", "teacher pass 1", SETTINGS).outcome is SignInOutcome.INACTIVE
        with pytest.raises(lc.LifecycleError):
            lc.reactivate(db, officer, tina)
        actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == [
        "token.create", "account.suspend", "account.reactivate", "token.revoke", "account.remove",
    ]  # fmt: skip


def test_person_with_roles_elsewhere_is_not_suspended_by_one_district(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        world = build(db)
        db.add(
            RoleAssignment(
                person_id=world.teacher.id,
                role="teacher",
                organization_id=world.other_district.id,
                valid_from=f.EPOCH,
            )
        )
        db.flush()
        tina = db.scalar(select(Account).where(Account.username == "tina"))
        assert tina is not None
        with pytest.raises(lc.LifecycleError):
            lc.suspend(db, _officer(db, world.officer.id), tina)
        with pytest.raises(lc.LifecycleError):
            lc.remove(db, _officer(db, world.officer.id), tina)


def test_only_officers_manage(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        world = build(db)
        teacher = _officer(db, world.teacher.id)
        with pytest.raises(lc.NotInScopeError):
            lc.invite(
                db,
                teacher,
                lc.InviteRequest("x", "X", "Y", "", lc.RoleRequest("teacher", world.school.id)),
                SETTINGS,
            )
