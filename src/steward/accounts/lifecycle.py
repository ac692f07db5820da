"""Account lifecycle run by a district data officer: invite, suspend, reactivate, remove, assign and
end roles. Every change is an audit event on the officer's district chain, in the same transaction.

An officer manages the people who hold (or held) a role in their district: at the district, at one
of its schools, or at an outside organization under one of the district's agreements. A person who
also holds a current role elsewhere cannot be suspended or removed by one district; the officer ends
the roles held here instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from steward.accounts.crypto import token_hash
from steward.accounts.mfa import remove_totp
from steward.accounts.models import AccountSecurity, Invitation, RoleAssignmentTerms
from steward.accounts.passwords import hash_password
from steward.accounts.service import (
    AccountStatus,
    audit_account,
    current_roles,
    normalise_username,
    revoke_all_sessions,
    security_of,
    set_password,
)
from steward.accounts.tokens import revoke_all_tokens
from steward.audit import actor_of
from steward.config import Settings
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.domain.time import local_midnight
from steward.policy.facts import BINDING_APPROVAL_STATUSES
from steward.store.base import now_utc
from steward.store.models import Account, Organization, Person, RoleAssignment, TenantSettings
from steward.workflow.models import Agreement

MIN_PASSWORD = 12
MAX_PASSWORD = 1000

#: Roles an officer may grant, by the kind of organization they are held at.
GRANTABLE: dict[OrgKind, frozenset[Role]] = {
    OrgKind.DISTRICT: frozenset(
        {
            Role.DISTRICT_DATA_OFFICER,
            Role.REVIEW_PANEL_MEMBER,
            Role.REGISTRAR,
            Role.PARENT,
            Role.STUDENT,
        }
    ),
    OrgKind.SCHOOL: frozenset({Role.TEACHER, Role.PRINCIPAL, Role.COUNSELOR, Role.REGISTRAR}),
    OrgKind.PARTNER: frozenset({Role.PARTNER_STAFF}),
    OrgKind.RESEARCH_ORG: frozenset({Role.RESEARCHER}),
    OrgKind.VENDOR: frozenset({Role.VENDOR_INTEGRATION}),
    OrgKind.AGENCY: frozenset({Role.AGENCY_ANALYST}),
    OrgKind.STATE_AGENCY: frozenset({Role.AGENCY_ANALYST}),
}
#: Outside organizations: a role there must rest on an agreement of the district (and ends with it).
OUTSIDE = frozenset(
    {OrgKind.PARTNER, OrgKind.RESEARCH_ORG, OrgKind.VENDOR, OrgKind.AGENCY, OrgKind.STATE_AGENCY}
)


class LifecycleError(ValueError):
    """A request the officer can fix (the message says how)."""


class NotInScopeError(LookupError):
    """The object is not the officer's to manage (shown as 404, so ids reveal nothing)."""


def officer_district(principal: Principal) -> int:
    """The district a data officer manages; anyone else manages nothing."""
    if (
        principal.role is not Role.DISTRICT_DATA_OFFICER
        or principal.organization_kind is not OrgKind.DISTRICT
    ):
        raise NotInScopeError("only a district data officer manages accounts")
    return principal.organization_id


def district_orgs(db: Session, district_id: int) -> list[Organization]:
    """The district and its schools."""
    return list(
        db.scalars(
            select(Organization)
            .where(or_(Organization.id == district_id, Organization.parent_id == district_id))
            .order_by(Organization.kind, Organization.name)
        )
    )


def outside_orgs(db: Session, district_id: int) -> list[Organization]:
    """Outside organizations holding an agreement with the district."""
    ids = select(Agreement.organization_id).where(Agreement.district_id == district_id)
    return list(
        db.scalars(
            select(Organization)
            .where(Organization.id.in_(ids), Organization.kind.in_([k.value for k in OUTSIDE]))
            .order_by(Organization.name)
        )
    )


def _in_scope(db: Session, district_id: int, assignment: RoleAssignment) -> bool:
    org = db.get(Organization, assignment.organization_id)
    if org is None:
        return False
    if org.id == district_id or org.parent_id == district_id:
        return True
    terms = db.get(RoleAssignmentTerms, assignment.id)
    if terms is None or terms.agreement_id is None:
        return False
    agreement = db.get(Agreement, terms.agreement_id)
    return agreement is not None and agreement.district_id == district_id


def roles_in_scope(db: Session, district_id: int, person_id: int) -> list[RoleAssignment]:
    rows = db.scalars(
        select(RoleAssignment).where(RoleAssignment.person_id == person_id).order_by(RoleAssignment.id)
    )
    return [r for r in rows if _in_scope(db, district_id, r)]


def managed_accounts(db: Session, district_id: int) -> list[Account]:
    """Accounts of people holding or having held a role in the district (or invited by it)."""
    orgs = [o.id for o in district_orgs(db, district_id)]
    by_org = select(RoleAssignment.person_id).where(RoleAssignment.organization_id.in_(orgs))
    by_agreement = (
        select(RoleAssignment.person_id)
        .join(RoleAssignmentTerms, RoleAssignmentTerms.role_assignment_id == RoleAssignment.id)
        .join(Agreement, Agreement.id == RoleAssignmentTerms.agreement_id)
        .where(Agreement.district_id == district_id)
    )
    invited = select(Invitation.account_id).where(Invitation.district_id == district_id)
    return list(
        db.scalars(
            select(Account)
            .where(
                or_(
                    Account.person_id.in_(by_org),
                    Account.person_id.in_(by_agreement),
                    Account.id.in_(invited),
                )
            )
            .order_by(Account.username)
        )
    )


def managed_account(db: Session, principal: Principal, account_id: int) -> Account:
    """The account if the officer manages it, else NotInScopeError (404)."""
    district = officer_district(principal)
    account = db.get(Account, account_id)
    if account is None:
        raise NotInScopeError("not found")
    invited = db.scalar(
        select(Invitation.id).where(Invitation.account_id == account.id, Invitation.district_id == district)
    )
    if invited is None and not roles_in_scope(db, district, account.person_id):
        raise NotInScopeError("not found")
    return account


def _tz(db: Session, district_id: int) -> str:
    settings = db.get(TenantSettings, district_id)
    return settings.timezone if settings is not None else "America/Los_Angeles"


def check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise LifecycleError(f"Choose a password of at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise LifecycleError(f"A password has at most {MAX_PASSWORD} characters.")
    if password.strip().lower() == username.strip().lower():
        raise LifecycleError("The password must differ from the username.")


@dataclass(frozen=True, slots=True)
class RoleRequest:
    role: str
    organization_id: int
    valid_from: date | None = None
    valid_to: date | None = None
    agreement_id: int | None = None
    note: str = ""


def assign_role(db: Session, principal: Principal, person: Person, request: RoleRequest) -> RoleAssignment:
    """Grant a role at an organization of the district, or at an outside one under an agreement."""
    district = officer_district(principal)
    org = db.get(Organization, request.organization_id)
    if org is None:
        raise LifecycleError("Choose an organization of your district or one with an agreement.")
    try:
        role = Role(request.role)
        kind = OrgKind(org.kind)
    except ValueError as exc:
        raise LifecycleError("Choose one of the roles offered.") from exc
    inside = org.id == district or org.parent_id == district
    agreement = db.get(Agreement, request.agreement_id) if request.agreement_id is not None else None
    if request.agreement_id is not None and (agreement is None or agreement.district_id != district):
        raise LifecycleError("That agreement is not one of your district's.")
    if not inside:
        if kind not in OUTSIDE:
            raise LifecycleError("Choose an organization of your district or one with an agreement.")
        if agreement is None or agreement.organization_id != org.id:
            raise LifecycleError(
                f"A role at {org.name} needs one of your district's agreements with {org.name}; "
                "the role ends when the agreement does."
            )
        if agreement.status not in {s.value for s in BINDING_APPROVAL_STATUSES}:
            raise LifecycleError(f"Agreement {agreement.code} is not in force ({agreement.status}).")
    if role not in GRANTABLE.get(kind, frozenset()):
        raise LifecycleError(
            f"A {role.label.lower()} role cannot be held at a {kind.value.replace('_', ' ')}."
        )
    tz = _tz(db, district)
    start = local_midnight(request.valid_from, tz) if request.valid_from else now_utc()
    end = local_midnight(request.valid_to, tz) if request.valid_to else None
    if end is not None and end <= start:
        raise LifecycleError("The role must end after it starts.")
    assignment = RoleAssignment(
        person_id=person.id, role=role.value, organization_id=org.id, valid_from=start, valid_to=end
    )
    db.add(assignment)
    db.flush()
    db.add(
        RoleAssignmentTerms(
            role_assignment_id=assignment.id,
            agreement_id=agreement.id if agreement is not None else None,
            granted_by_person_id=principal.person_id,
            granted_at=now_utc(),
            note=request.note[:200],
        )
    )
    account = db.scalar(select(Account).where(Account.person_id == person.id))
    audit_account(
        db,
        "role.assign",
        account,
        actor=actor_of(principal),
        district_id=district,
        role_assignment=assignment.id,
        role=role.value,
        organization=org.id,
        valid_from=start,
        valid_to=end,
        agreement=agreement.id if agreement is not None else None,
    )
    return assignment


def end_role(db: Session, principal: Principal, assignment_id: int, on: date | None = None) -> RoleAssignment:
    """End a role now (or at local midnight of ``on``); an earlier end already set is kept."""
    district = officer_district(principal)
    assignment = db.get(RoleAssignment, assignment_id)
    if assignment is None or not _in_scope(db, district, assignment):
        raise NotInScopeError("not found")
    end = local_midnight(on, _tz(db, district)) if on is not None else now_utc()
    end = max(end, assignment.valid_from)
    if assignment.valid_to is None or end < assignment.valid_to:
        assignment.valid_to = end
    account = db.scalar(select(Account).where(Account.person_id == assignment.person_id))
    audit_account(
        db,
        "role.end",
        account,
        actor=actor_of(principal),
        district_id=district,
        role_assignment=assignment.id,
        valid_to=assignment.valid_to,
    )
    return assignment


@dataclass(frozen=True, slots=True)
class InviteRequest:
    username: str
    given_name: str
    family_name: str
    email: str
    role: RoleRequest
    person_code: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """The link token is shown to the officer once; only its hash is kept."""

    token: str
    account: Account
    invitation: Invitation


def _issue(db: Session, account: Account, district: int, by: int, settings: Settings) -> IssuedInvitation:
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=token_hash(token),
        account_id=account.id,
        district_id=district,
        invited_by_person_id=by,
        created_at=now_utc(),
        expires_at=now_utc() + timedelta(days=settings.invitation_days),
    )
    db.add(invitation)
    db.flush()
    return IssuedInvitation(token, account, invitation)


def invite(db: Session, principal: Principal, request: InviteRequest, settings: Settings) -> IssuedInvitation:
    """Create the person (or take an existing one of the district without a login), an inactive
    account, the role and a one-time link that sets the password."""
    district = officer_district(principal)
    username = normalise_username(request.username)
    if not username or len(username) > 100 or not all(c.isalnum() or c in "._-@" for c in username):
        raise LifecycleError("A username has letters, digits and . _ - @ only (at most 100).")
    if db.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise LifecycleError(f"The username {username!r} is taken; choose another.")
    if request.person_code:
        person = db.scalar(select(Person).where(Person.code == request.person_code.strip()))
        if person is None or not _person_known_here(db, district, person.id):
            raise LifecycleError(f"No person {request.person_code!r} is known in your district.")
        if db.scalar(select(Account.id).where(Account.person_id == person.id)) is not None:
            raise LifecycleError(f"{person.display_name} already has a login.")
    else:
        if not request.given_name.strip() or not request.family_name.strip():
            raise LifecycleError("Give the person's given and family names.")
        person = Person(
            code=f"acct-{secrets.token_hex(8)}",
            given_name=request.given_name.strip()[:100],
            family_name=request.family_name.strip()[:100],
            email=request.email.strip()[:254],
        )
        db.add(person)
        db.flush()
    account = Account(
        person_id=person.id,
        username=username,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        active=False,
    )
    db.add(account)
    db.flush()
    security = security_of(db, account.id)
    security.status = AccountStatus.INVITED.value
    security.status_changed_at = now_utc()
    assign_role(db, principal, person, request.role)
    issued = _issue(db, account, district, principal.person_id, settings)
    audit_account(
        db,
        "account.invite",
        account,
        actor=actor_of(principal),
        district_id=district,
        invitation=issued.invitation.id,
        expires_at=issued.invitation.expires_at,
    )
    return issued


def _person_known_here(db: Session, district: int, person_id: int) -> bool:
    from steward.store.models import StaffAssignment

    orgs = [o.id for o in district_orgs(db, district)]
    staff = db.scalar(
        select(StaffAssignment.id).where(
            StaffAssignment.person_id == person_id, StaffAssignment.organization_id.in_(orgs)
        )
    )
    return staff is not None or bool(roles_in_scope(db, district, person_id))


def reissue_invitation(
    db: Session, principal: Principal, account: Account, settings: Settings
) -> IssuedInvitation:
    district = officer_district(principal)
    if security_of(db, account.id).status != AccountStatus.INVITED.value:
        raise LifecycleError("This person has already accepted their invitation.")
    for old in db.scalars(
        select(Invitation).where(Invitation.account_id == account.id, Invitation.revoked_at.is_(None))
    ):
        old.revoked_at = now_utc()
    issued = _issue(db, account, district, principal.person_id, settings)
    audit_account(
        db, "account.reinvite", account, actor=actor_of(principal), district_id=district,
        invitation=issued.invitation.id,
    )  # fmt: skip
    return issued


def open_invitation(db: Session, token: str, at: datetime | None = None) -> Invitation | None:
    """The pending invitation of a link token, if it is still good."""
    if not token or len(token) > 200:
        return None
    invitation = db.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    at = at or now_utc()
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= at
    ):
        return None
    return invitation


def accept_invitation(db: Session, token: str, password: str) -> Account:
    """Set the password from an invitation link and activate the account."""
    invitation = open_invitation(db, token)
    if invitation is None:
        raise NotInScopeError("this invitation link is not valid any more")
    account = db.get(Account, invitation.account_id)
    assert account is not None
    check_password(password, account.username)
    set_password(db, account, password)
    account.active = True
    security = security_of(db, account.id)
    security.status = AccountStatus.ACTIVE.value
    security.status_changed_at = now_utc()
    invitation.accepted_at = now_utc()
    audit_account(
        db, "account.activate", account, district_id=invitation.district_id, invitation=invitation.id
    )
    return account


def _whole_account_in_scope(db: Session, district: int, account: Account) -> None:
    elsewhere = [r for r in current_roles(db, account.person_id) if not _in_scope(db, district, r)]
    if elsewhere:
        raise LifecycleError(
            "This person also holds roles outside your district; end the roles they hold here instead."
        )


def suspend(db: Session, principal: Principal, account: Account) -> None:
    """Stop an account from signing in or acting (sessions end now; tokens stop working)."""
    district = officer_district(principal)
    if account.person_id == principal.person_id:
        raise LifecycleError("You cannot suspend your own account.")
    _whole_account_in_scope(db, district, account)
    security = security_of(db, account.id)
    if security.status == AccountStatus.REMOVED.value:
        raise LifecycleError("This account was removed.")
    account.active = False
    security.status = AccountStatus.SUSPENDED.value
    security.status_changed_at = now_utc()
    revoke_all_sessions(db, account.id)
    audit_account(db, "account.suspend", account, actor=actor_of(principal), district_id=district)


def reactivate(db: Session, principal: Principal, account: Account) -> None:
    district = officer_district(principal)
    _whole_account_in_scope(db, district, account)
    security = security_of(db, account.id)
    if security.status != AccountStatus.SUSPENDED.value:
        raise LifecycleError("Only a suspended account can be reactivated.")
    account.active = True
    security.status = AccountStatus.ACTIVE.value
    security.status_changed_at = now_utc()
    security.failed_logins = 0
    security.locked_until = None
    audit_account(db, "account.reactivate", account, actor=actor_of(principal), district_id=district)


def remove(db: Session, principal: Principal, account: Account) -> None:
    """End every role held here, and close the login: no password, factor, session or token left."""
    district = officer_district(principal)
    if account.person_id == principal.person_id:
        raise LifecycleError("You cannot remove your own account.")
    _whole_account_in_scope(db, district, account)
    now = now_utc()
    for assignment in roles_in_scope(db, district, account.person_id):
        if assignment.valid_to is None or assignment.valid_to > now:
            assignment.valid_to = max(now, assignment.valid_from)
    account.active = False
    account.password_hash = hash_password(secrets.token_urlsafe(32))
    security = security_of(db, account.id)
    security.status = AccountStatus.REMOVED.value
    security.status_changed_at = now
    for invitation in db.scalars(
        select(Invitation).where(Invitation.account_id == account.id, Invitation.revoked_at.is_(None))
    ):
        invitation.revoked_at = now
    revoke_all_sessions(db, account.id)
    revoke_all_tokens(db, account.id, actor=actor_of(principal))
    remove_totp(db, account.id)
    audit_account(db, "account.remove", account, actor=actor_of(principal), district_id=district)


def status_of(db: Session, account: Account) -> str:
    row = db.get(AccountSecurity, account.id)
    if row is None:
        return AccountStatus.ACTIVE.value if account.active else AccountStatus.SUSPENDED.value
    return row.status
