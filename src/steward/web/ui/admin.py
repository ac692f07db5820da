"""People and accounts of a district, run by its data officer: invite, suspend, reactivate, remove,
grant and end roles. Reads go through ``managed_account``; anything else answers 404."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from steward.accounts import lifecycle as lc
from steward.accounts.mfa import has_confirmed_totp
from steward.accounts.models import RoleAssignmentTerms
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.store.base import now_utc
from steward.store.models import Account, Organization, Person
from steward.web.deps import CsrfChecked, Db, OfficerPrincipal, settings_of
from steward.web.templating import render
from steward.workflow.models import Agreement

router = APIRouter(prefix="/admin", include_in_schema=False)


def _date(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise lc.LifecycleError(f"{field}: write the date as YYYY-MM-DD.") from exc


def _org_choices(db: Db, district: int) -> list[dict[str, Any]]:
    orgs = lc.district_orgs(db, district) + lc.outside_orgs(db, district)
    return [{"id": o.id, "label": f"{o.name} ({o.kind.replace('_', ' ')})"} for o in orgs]


def _agreements(db: Db, district: int) -> list[Agreement]:
    return list(
        db.scalars(select(Agreement).where(Agreement.district_id == district).order_by(Agreement.code))
    )


def _base(db: Db, principal: Principal) -> dict[str, Any]:
    district = lc.officer_district(principal)
    org = db.get(Organization, district)
    return {
        "principal": principal,
        "org_name": org.name if org else principal.organization_code,
        "roles": sorted({r.value for roles in lc.GRANTABLE.values() for r in roles}),
        "orgs": _org_choices(db, district),
        "agreements": _agreements(db, district),
    }


def _scope_or_404(principal: Principal) -> int:
    try:
        return lc.officer_district(principal)
    except lc.NotInScopeError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found") from exc


@router.get("/accounts")
def accounts(request: Request, db: Db, principal: OfficerPrincipal) -> Response:
    district = _scope_or_404(principal)
    rows = []
    now = now_utc()
    for account in lc.managed_accounts(db, district):
        person = db.get(Person, account.person_id)
        held = lc.roles_in_scope(db, district, account.person_id)
        rows.append(
            {
                "id": account.id,
                "username": account.username,
                "name": person.display_name if person else "",
                "status": lc.status_of(db, account),
                "roles": ", ".join(
                    Role(r.role).label
                    for r in held
                    if r.valid_from <= now and (r.valid_to is None or r.valid_to > now)
                )
                or "none now",
            }
        )
    return render(request, "admin_accounts.html", {**_base(db, principal), "accounts": rows})


@router.get("/invite")
def invite_form(request: Request, db: Db, principal: OfficerPrincipal) -> Response:
    _scope_or_404(principal)
    return render(request, "admin_invite.html", {**_base(db, principal), "form": {}})


@router.post("/invite", dependencies=[CsrfChecked])
def invite(
    request: Request,
    db: Db,
    principal: OfficerPrincipal,
    username: Annotated[str, Form(min_length=1, max_length=100)],
    role: Annotated[str, Form(min_length=1, max_length=40)],
    organization_id: Annotated[int, Form()],
    given_name: Annotated[str, Form(max_length=100)] = "",
    family_name: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    person_code: Annotated[str, Form(max_length=100)] = "",
    valid_from: Annotated[str, Form(max_length=10)] = "",
    valid_to: Annotated[str, Form(max_length=10)] = "",
    agreement_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    _scope_or_404(principal)
    form = {
        "username": username, "given_name": given_name, "family_name": family_name, "email": email,
        "person_code": person_code, "role": role, "organization_id": organization_id,
        "valid_from": valid_from, "valid_to": valid_to, "agreement_id": agreement_id,
    }  # fmt: skip
    try:
        request_ = lc.InviteRequest(
            username=username,
            given_name=given_name,
            family_name=family_name,
            email=email,
            person_code=person_code.strip() or None,
            role=lc.RoleRequest(
                role=role,
                organization_id=organization_id,
                valid_from=_date(valid_from, "Starts"),
                valid_to=_date(valid_to, "Ends"),
                agreement_id=int(agreement_id) if agreement_id.strip().isdigit() else None,
            ),
        )
        with db.begin_nested():
            issued = lc.invite(db, principal, request_, settings_of(request))
    except lc.LifecycleError as exc:
        return render(
            request, "admin_invite.html", {**_base(db, principal), "form": form, "error": str(exc)}, 400
        )
    link = str(request.url_for("invitation_form", token=issued.token))
    base = settings_of(request).public_url
    if base:
        link = f"{base.rstrip('/')}/invite/{issued.token}"
    return render(
        request,
        "admin_invited.html",
        {
            **_base(db, principal),
            "link": link,
            "username": issued.account.username,
            "account_id": issued.account.id,
            "expires": issued.invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        },
    )


def _managed(db: Db, principal: Principal, account_id: int) -> Account:
    try:
        return lc.managed_account(db, principal, account_id)
    except lc.NotInScopeError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found") from exc


def _detail(
    request: Request,
    db: Db,
    principal: Principal,
    account: Account,
    error: str | None = None,
    code: int = 200,
) -> Response:
    district = lc.officer_district(principal)
    person = db.get(Person, account.person_id)
    now = now_utc()
    roles = []
    for r in lc.roles_in_scope(db, district, account.person_id):
        org = db.get(Organization, r.organization_id)
        terms = db.get(RoleAssignmentTerms, r.id)
        agreement = db.get(Agreement, terms.agreement_id) if terms and terms.agreement_id else None
        roles.append(
            {
                "id": r.id,
                "label": f"{Role(r.role).label} at {org.name if org else '?'}",
                "from": r.valid_from.strftime("%Y-%m-%d"),
                "to": r.valid_to.strftime("%Y-%m-%d") if r.valid_to else "open",
                "agreement": agreement.code if agreement else "",
                "current": r.valid_from <= now and (r.valid_to is None or r.valid_to > now),
            }
        )
    context = {
        **_base(db, principal),
        "account": account,
        "person": person,
        "status": lc.status_of(db, account),
        "has_totp": has_confirmed_totp(db, account.id),
        "held_roles": roles,
        "error": error,
        "is_self": account.person_id == principal.person_id,
    }
    return render(request, "admin_account.html", context, code)


@router.get("/accounts/{account_id}")
def account_detail(request: Request, db: Db, principal: OfficerPrincipal, account_id: int) -> Response:
    return _detail(request, db, principal, _managed(db, principal, account_id))


def _act(request: Request, db: Db, principal: Principal, account_id: int, action: str) -> Response:
    account = _managed(db, principal, account_id)
    try:
        with db.begin_nested():
            if action == "suspend":
                lc.suspend(db, principal, account)
            elif action == "reactivate":
                lc.reactivate(db, principal, account)
            elif action == "remove":
                lc.remove(db, principal, account)
            else:
                issued = lc.reissue_invitation(db, principal, account, settings_of(request))
                return render(
                    request,
                    "admin_invited.html",
                    {
                        **_base(db, principal),
                        "link": str(request.url_for("invitation_form", token=issued.token)),
                        "username": account.username,
                        "account_id": account.id,
                        "expires": issued.invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
                    },
                )
    except lc.LifecycleError as exc:
        return _detail(request, db, principal, account, str(exc), 409)
    return RedirectResponse(f"/admin/accounts/{account.id}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/accounts/{account_id}/suspend", dependencies=[CsrfChecked])
def suspend(request: Request, db: Db, principal: OfficerPrincipal, account_id: int) -> Response:
    return _act(request, db, principal, account_id, "suspend")


@router.post("/accounts/{account_id}/reactivate", dependencies=[CsrfChecked])
def reactivate(request: Request, db: Db, principal: OfficerPrincipal, account_id: int) -> Response:
    return _act(request, db, principal, account_id, "reactivate")


@router.post("/accounts/{account_id}/remove", dependencies=[CsrfChecked])
def remove(request: Request, db: Db, principal: OfficerPrincipal, account_id: int) -> Response:
    return _act(request, db, principal, account_id, "remove")


@router.post("/accounts/{account_id}/reinvite", dependencies=[CsrfChecked])
def reinvite(request: Request, db: Db, principal: OfficerPrincipal, account_id: int) -> Response:
    return _act(request, db, principal, account_id, "reinvite")


@router.post("/accounts/{account_id}/roles", dependencies=[CsrfChecked])
def add_role(
    request: Request,
    db: Db,
    principal: OfficerPrincipal,
    account_id: int,
    role: Annotated[str, Form(min_length=1, max_length=40)],
    organization_id: Annotated[int, Form()],
    valid_from: Annotated[str, Form(max_length=10)] = "",
    valid_to: Annotated[str, Form(max_length=10)] = "",
    agreement_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    account = _managed(db, principal, account_id)
    person = db.get(Person, account.person_id)
    assert person is not None
    try:
        with db.begin_nested():
            lc.assign_role(
                db,
                principal,
                person,
                lc.RoleRequest(
                    role=role,
                    organization_id=organization_id,
                    valid_from=_date(valid_from, "Starts"),
                    valid_to=_date(valid_to, "Ends"),
                    agreement_id=int(agreement_id) if agreement_id.strip().isdigit() else None,
                ),
            )
    except lc.LifecycleError as exc:
        return _detail(request, db, principal, account, str(exc), 400)
    return RedirectResponse(f"/admin/accounts/{account.id}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/roles/{role_assignment_id}/end", dependencies=[CsrfChecked])
def end_role(
    request: Request,
    db: Db,
    principal: OfficerPrincipal,
    role_assignment_id: int,
    on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    _scope_or_404(principal)
    try:
        ends = _date(on, "Ends on")
        assignment = lc.end_role(db, principal, role_assignment_id, ends)
    except lc.NotInScopeError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found") from exc
    except lc.LifecycleError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    account = db.scalar(select(Account).where(Account.person_id == assignment.person_id))
    target = f"/admin/accounts/{account.id}" if account is not None else "/admin/accounts"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
