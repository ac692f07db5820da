"""A person's own security page: second factor, recovery codes and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from steward.accounts.mfa import has_confirmed_totp, new_recovery_codes, remove_totp, unused_recovery_codes
from steward.accounts.models import ApiToken
from steward.accounts.service import audit_account, mfa_required
from steward.accounts.tokens import TokenError, create_token, revoke_token, token_state, tokens_of
from steward.audit import actor_of
from steward.domain.principal import Principal
from steward.store.models import Account, Organization, RoleAssignment
from steward.web.deps import CsrfChecked, CurrentWebSession, Db, PagePrincipal, settings_of
from steward.web.templating import render

router = APIRouter(include_in_schema=False)


def _account(db: Db, web_session: CurrentWebSession) -> Account:
    if web_session is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Please sign in")
    account = db.get(Account, web_session.account_id)
    assert account is not None
    return account


def _page(
    request: Request,
    db: Db,
    principal: Principal,
    account: Account,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    org = db.get(Organization, principal.organization_id)
    tokens = [
        {
            "id": t.id,
            "name": t.name,
            "scopes": ", ".join(t.scopes),
            "expires": t.expires_at.strftime("%Y-%m-%d"),
            "state": token_state(t),
            "last_used": t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never",
        }
        for t in tokens_of(db, account.id)
    ]
    context = {
        "principal": principal,
        "org_name": org.name if org else principal.organization_code,
        "has_totp": has_confirmed_totp(db, account.id),
        "mfa_required": mfa_required(db, account, settings_of(request)),
        "recovery_left": unused_recovery_codes(db, account.id),
        "tokens": tokens,
        "max_days": settings_of(request).api_token_max_days,
    }
    context.update(extra)
    return render(request, "account.html", context, status_code, db=db)


@router.get("/account")
def account_page(
    request: Request, db: Db, principal: PagePrincipal, web_session: CurrentWebSession
) -> Response:
    return _page(request, db, principal, _account(db, web_session))


@router.post("/account/recovery-codes", dependencies=[CsrfChecked])
def regenerate_codes(
    request: Request, db: Db, principal: PagePrincipal, web_session: CurrentWebSession
) -> Response:
    account = _account(db, web_session)
    if not has_confirmed_totp(db, account.id):
        return RedirectResponse("/mfa/setup?next=/account", status_code=status.HTTP_303_SEE_OTHER)
    codes = new_recovery_codes(db, account, settings_of(request))
    audit_account(db, "mfa.recovery_codes", account, actor=actor_of(principal))
    return render(request, "recovery_codes.html", {"codes": codes, "next_path": "/account"})


@router.post("/account/mfa/reset", dependencies=[CsrfChecked])
def reset_factor(db: Db, principal: PagePrincipal, web_session: CurrentWebSession) -> Response:
    """Replace the authenticator: the old seed and recovery codes go, a new enrolment starts."""
    account = _account(db, web_session)
    remove_totp(db, account.id)
    audit_account(db, "mfa.reset", account, actor=actor_of(principal))
    return RedirectResponse("/mfa/setup?next=/account", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/account/tokens", dependencies=[CsrfChecked])
def new_token(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    web_session: CurrentWebSession,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    days: Annotated[int, Form(ge=1, le=3650)] = 90,
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """A token acting in the role of this session (shown once)."""
    account = _account(db, web_session)
    assert web_session is not None
    assert web_session.role_assignment_id is not None
    assignment = db.get(RoleAssignment, web_session.role_assignment_id)
    assert assignment is not None
    try:
        issued = create_token(
            db,
            account,
            assignment,
            settings_of(request),
            name=name,
            scopes=scopes or ["read"],
            days=days,
            actor=actor_of(principal),
            created_by_person_id=principal.person_id,
        )
    except TokenError as exc:
        return _page(request, db, principal, account, 400, token_error=str(exc))
    return _page(request, db, principal, account, new_token=issued.text, new_token_name=issued.record.name)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
def drop_token(db: Db, principal: PagePrincipal, web_session: CurrentWebSession, token_id: int) -> Response:
    account = _account(db, web_session)
    record = db.get(ApiToken, token_id)
    if record is None or record.account_id != account.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
    revoke_token(db, token_id, actor=actor_of(principal))
    return RedirectResponse("/account", status_code=status.HTTP_303_SEE_OTHER)
