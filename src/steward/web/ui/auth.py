"""Sign-in, sign-out and role choice pages."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from steward.accounts.service import (
    authenticate,
    current_roles,
    open_session,
    principal_of,
    revoke_session,
)
from steward.store.models import Account, Organization
from steward.web.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfChecked,
    CurrentWebSession,
    Db,
    settings_of,
)
from steward.web.templating import render

router = APIRouter(include_in_schema=False)

GENERIC_FAILURE = "That username and password do not match an active account."


def _safe_next(path: str) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirects)."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return "/"
    return path


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = settings_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        max_age=settings.session_absolute_hours * 3600,
        path="/",
    )


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", {"login_csrf": token, "next_path": _safe_next(next)})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    db: Db,
    username: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(min_length=1, max_length=1000)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    account = authenticate(db, username, password)
    if account is None:
        token = secrets.token_urlsafe(32)
        response = render(
            request,
            "login.html",
            {
                "error": GENERIC_FAILURE,
                "login_csrf": token,
                "next_path": _safe_next(next),
                "username": username,
            },
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
        return response
    revoke_session(db, request.cookies.get(SESSION_COOKIE))
    roles = current_roles(db, account.person_id)
    chosen = roles[0].id if len(roles) == 1 else None
    opened = open_session(db, account, settings_of(request), chosen)
    target = _safe_next(next) if chosen is not None else "/role"
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    _set_session_cookie(request, response, opened.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.get("/role")
def choose_role_form(request: Request, db: Db, web_session: CurrentWebSession) -> Response:
    if web_session is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    account = db.get(Account, web_session.account_id)
    assert account is not None
    roles = []
    for assignment in current_roles(db, account.person_id):
        org = db.get(Organization, assignment.organization_id)
        principal = principal_of(db, assignment)
        roles.append({"id": assignment.id, "label": f"{principal.role.label} at {org.name if org else '?'}"})
    return render(request, "choose_role.html", {"roles": roles})


@router.post("/role", dependencies=[CsrfChecked])
def choose_role(
    db: Db, web_session: CurrentWebSession, role_assignment_id: Annotated[int, Form()]
) -> Response:
    if web_session is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    account = db.get(Account, web_session.account_id)
    assert account is not None
    if role_assignment_id not in {r.id for r in current_roles(db, account.person_id)}:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "that role is not yours")
    web_session.role_assignment_id = role_assignment_id
    return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, db: Db) -> Response:
    revoke_session(db, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
