"""Sign-in, second factor, single sign-on, invitation links, sign-out and role choice pages.

Every failure to sign in shows one message, whatever the reason (unknown user, wrong password,
paused or suspended account), so the page never tells which usernames exist.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from starlette.responses import Response

from steward.accounts.lifecycle import LifecycleError, NotInScopeError, accept_invitation, open_invitation
from steward.accounts.mfa import (
    has_confirmed_totp,
    new_recovery_codes,
    start_enrolment,
    use_recovery_code,
    verify_totp,
)
from steward.accounts.models import OidcProvider, WebSession
from steward.accounts.oidc import OidcClient, PendingLogin, SsoError, account_for, provider_mfa
from steward.accounts.service import (
    SessionStage,
    audit_account,
    authenticate,
    clear_failures,
    complete_session,
    current_roles,
    is_locked,
    is_usable,
    mfa_required,
    open_session,
    principal_of,
    record_failure,
    revoke_session,
)
from steward.family.common import preference
from steward.store.base import now_utc
from steward.store.models import Account, Organization
from steward.web import language
from steward.web.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfChecked,
    CurrentWebSession,
    Db,
    settings_of,
)
from steward.web.security import Limiter, client_address, retry_after
from steward.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("steward.web.auth")

GENERIC_FAILURE = "That username and password do not match an active account."
SSO_FAILURE = (
    "Single sign-on did not work for this account. Ask your district data officer, or sign in below."
)
MFA_FAILURE = (
    "That code did not work. Enter the current code from your authenticator app, or a recovery code."
)
SSO_COOKIE = "steward_sso"
SSO_MAX_AGE = 600


def _safe_next(path: str) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirects)."""
    parts = urlsplit(path)
    if (
        parts.scheme
        or parts.netloc
        or not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or any(ord(c) < 32 for c in path)
    ):
        return "/"
    return path


def _cookie_secure(request: Request) -> bool:
    return settings_of(request).cookie_secure or request.url.scheme == "https"


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = settings_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=_cookie_secure(request),
        samesite="lax",
        max_age=settings.session_absolute_hours * 3600,
        path="/",
    )


def _form_csrf(request: Request, web_session: WebSession | None) -> tuple[str, bool]:
    """The CSRF token a pre-login form carries: the session's, or a fresh one for a cookie."""
    if web_session is not None:
        return web_session.csrf_token, False
    return secrets.token_urlsafe(32), True


def _with_login_cookie(request: Request, response: Response, token: str, fresh: bool) -> Response:
    if fresh:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=_cookie_secure(request),
            path="/",
        )
    return response


def _providers(db: Db) -> list[OidcProvider]:
    return list(
        db.scalars(select(OidcProvider).where(OidcProvider.active).order_by(OidcProvider.display_name))
    )


def _login_page(
    request: Request,
    db: Db,
    web_session: WebSession | None,
    next_path: str,
    *,
    error: str | None = None,
    error_args: dict[str, str] | None = None,
    username: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token, fresh = _form_csrf(request, web_session)
    response = render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "next_path": next_path,
            "error": error,
            "error_args": error_args,
            "username": username,
            "providers": _providers(db),
            "next_query": quote(next_path, safe=""),
        },
        status_code=status_code,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return _with_login_cookie(request, response, token, fresh)


@router.get("/login")
def login_form(request: Request, db: Db, web_session: CurrentWebSession, next: str = "/") -> Response:
    return _login_page(request, db, web_session, _safe_next(next))


def _start_session(
    request: Request, db: Db, account: Account, next_path: str, method: str, mfa_done: bool = False
) -> Response:
    """Open a session (rotating the token: a cookie set before sign-in is never kept)."""
    settings = settings_of(request)
    revoke_session(db, request.cookies.get(SESSION_COOKIE))
    roles = current_roles(db, account.person_id)
    chosen = roles[0].id if len(roles) == 1 else None
    if mfa_done:
        stage = SessionStage.COMPLETE
    elif has_confirmed_totp(db, account.id):
        stage = SessionStage.MFA
    elif mfa_required(db, account, settings):
        stage = SessionStage.ENROL
    else:
        stage = SessionStage.COMPLETE
    opened = open_session(db, account, settings, chosen, stage=stage, auth_method=method)
    audit_account(db, "auth.login", account, method=method, stage=stage.value)
    if stage is SessionStage.MFA:
        target = f"/mfa?next={quote(next_path, safe='')}"
    elif stage is SessionStage.ENROL:
        target = f"/mfa/setup?next={quote(next_path, safe='')}"
    else:
        target = next_path if chosen is not None else "/role"
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    _set_session_cookie(request, response, opened.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    remembered = preference(db, account.person_id)
    if remembered:  # the family's language follows the account to this browser
        language.set_cookie(request, response, remembered)
    return response


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    db: Db,
    web_session: CurrentWebSession,
    username: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(min_length=1, max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    started = time.perf_counter()
    next_path = _safe_next(next)
    limiter: Limiter = request.app.state.login_limiter
    wait = limiter.hit("login", client_address(request), username.strip().lower())
    if wait:
        return _login_page(
            request,
            db,
            web_session,
            next_path,
            error="Too many sign-in attempts. Wait %(seconds)s seconds and try again.",
            error_args={"seconds": retry_after(wait)},
            username=username,
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": retry_after(wait)},
        )
    result = authenticate(db, username, password, settings_of(request))
    if not result.ok or result.account is None:
        audit_account(
            db, "auth.login", result.account, outcome="denied", method="password", reason=result.outcome.value
        )
        _pad(started, settings_of(request).login_failure_floor_ms)
        return _login_page(
            request,
            db,
            web_session,
            next_path,
            error=GENERIC_FAILURE,
            username=username,
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    return _start_session(request, db, result.account, next_path, "password")


def _pad(started: float, floor_ms: int) -> None:
    """Hold a failure until ``floor_ms`` have passed (unknown user, wrong password and paused account
    then take the same time; the extra bookkeeping of a known account is not visible)."""
    left = floor_ms / 1000 - (time.perf_counter() - started)
    if left > 0:
        time.sleep(left)


def _pending(db: Db, web_session: WebSession | None, stage: SessionStage) -> Account | None:
    if web_session is None or web_session.stage != stage:
        return None
    account = db.get(Account, web_session.account_id)
    return account if account is not None and is_usable(db, account) else None


def _after_second_factor(request: Request, db: Db, web_session: WebSession, next_path: str) -> Response:
    opened = complete_session(db, web_session, settings_of(request))
    target = next_path if opened.record.role_assignment_id is not None else "/role"
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    _set_session_cookie(request, response, opened.token)
    return response


@router.get("/mfa")
def mfa_form(request: Request, db: Db, web_session: CurrentWebSession, next: str = "/") -> Response:
    if _pending(db, web_session, SessionStage.MFA) is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    return render(request, "mfa.html", {"next_path": _safe_next(next)})


@router.post("/mfa", dependencies=[CsrfChecked])
def mfa_check(
    request: Request,
    db: Db,
    web_session: CurrentWebSession,
    code: Annotated[str, Form(min_length=1, max_length=64)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    account = _pending(db, web_session, SessionStage.MFA)
    if account is None or web_session is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    settings = settings_of(request)
    next_path = _safe_next(next)
    limiter: Limiter = request.app.state.login_limiter
    wait = limiter.hit("mfa", str(account.id))
    if wait:
        response = render(
            request,
            "mfa.html",
            {
                "next_path": next_path,
                "error": "Too many attempts. Wait %(seconds)s seconds.",
                "error_args": {"seconds": retry_after(wait)},
            },
            status.HTTP_429_TOO_MANY_REQUESTS,
        )
        response.headers["Retry-After"] = retry_after(wait)
        return response
    started = time.perf_counter()
    ok = False
    used = "totp"
    if not is_locked(db, account):
        ok = verify_totp(db, account, settings, code)
        if not ok and ("-" in code or len(code.replace(" ", "")) > 8):
            ok = use_recovery_code(db, account, settings, code)
            used = "recovery_code"
    if not ok:
        record_failure(db, account, settings)
        audit_account(db, "auth.mfa", account, outcome="denied")
        _pad(started, settings.login_failure_floor_ms)
        if is_locked(db, account):
            web_session.revoked_at = now_utc()
            response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        return render(request, "mfa.html", {"next_path": next_path, "error": MFA_FAILURE}, 401)
    clear_failures(db, account)
    audit_account(db, "auth.mfa", account, factor=used)
    return _after_second_factor(request, db, web_session, next_path)


@router.get("/mfa/setup")
def mfa_setup_form(request: Request, db: Db, web_session: CurrentWebSession, next: str = "/") -> Response:
    account = _enrolling(db, web_session)
    if account is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    enrolment = start_enrolment(db, account, settings_of(request))
    required = web_session is not None and web_session.stage == SessionStage.ENROL
    return render(
        request,
        "mfa_setup.html",
        {"enrolment": enrolment, "next_path": _safe_next(next), "required": required},
    )


def _enrolling(db: Db, web_session: WebSession | None) -> Account | None:
    """The account setting up a factor: a session that must enrol, or a full one without a factor."""
    if web_session is None or web_session.revoked_at is not None:
        return None
    account = db.get(Account, web_session.account_id)
    if account is None or not is_usable(db, account):
        return None
    if web_session.stage == SessionStage.ENROL:
        return account
    if web_session.stage == SessionStage.COMPLETE and not has_confirmed_totp(db, account.id):
        return account
    return None


@router.post("/mfa/setup", dependencies=[CsrfChecked])
def mfa_setup(
    request: Request,
    db: Db,
    web_session: CurrentWebSession,
    code: Annotated[str, Form(min_length=1, max_length=64)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    account = _enrolling(db, web_session)
    if account is None or web_session is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    settings = settings_of(request)
    next_path = _safe_next(next)
    limiter: Limiter = request.app.state.login_limiter
    if limiter.hit("mfa", str(account.id)) or not verify_totp(db, account, settings, code):
        enrolment = start_enrolment(db, account, settings)
        return render(
            request,
            "mfa_setup.html",
            {
                "enrolment": enrolment,
                "next_path": next_path,
                "required": web_session.stage == SessionStage.ENROL,
                "error": "That code did not match. Check the time on your phone and enter the newest code.",
            },
            400,
        )
    codes = new_recovery_codes(db, account, settings)
    audit_account(db, "mfa.enrol", account, factor="totp")
    context: dict[str, Any] = {"codes": codes, "next_path": next_path}
    if web_session.stage == SessionStage.ENROL:
        opened = complete_session(db, web_session, settings)
        request.state.web_session = opened.record
        context["next_path"] = next_path if opened.record.role_assignment_id is not None else "/role"
        response = render(request, "recovery_codes.html", context)
        _set_session_cookie(request, response, opened.token)
        return response
    return render(request, "recovery_codes.html", context)


# --- single sign-on -----------------------------------------------------------------------------


def _sso_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings_of(request).session_secret(), salt="steward-sso")


def _oidc(request: Request) -> OidcClient:
    client: OidcClient = request.app.state.oidc
    return client


def _redirect_uri(request: Request, slug: str) -> str:
    base = settings_of(request).public_url
    path = f"/sso/{slug}/callback"
    return f"{base.rstrip('/')}{path}" if base else str(request.url_for("sso_callback", slug=slug))


def _provider(db: Db, slug: str) -> OidcProvider:
    provider = db.scalar(select(OidcProvider).where(OidcProvider.slug == slug, OidcProvider.active))
    if provider is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
    return provider


@router.get("/sso/{slug}")
def sso_start(request: Request, db: Db, slug: str, next: str = "/") -> Response:
    provider = _provider(db, slug)
    try:
        url, pending = _oidc(request).begin(provider, _redirect_uri(request, slug), _safe_next(next))
    except SsoError:
        log.exception("single sign-on with %s could not start", slug)
        return _login_page(request, db, None, _safe_next(next), error=SSO_FAILURE, status_code=502)
    response = RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SSO_COOKIE,
        _sso_serializer(request).dumps(pending.as_dict()),
        max_age=SSO_MAX_AGE,
        httponly=True,
        secure=_cookie_secure(request),
        samesite="lax",
        path="/sso",
    )
    return response


@router.get("/sso/{slug}/callback", name="sso_callback")
def sso_callback(
    request: Request,
    db: Db,
    web_session: CurrentWebSession,
    slug: str,
    code: str = "",
    state: str = "",
) -> Response:
    provider = _provider(db, slug)

    def fail(reason: str) -> Response:
        audit_account(db, "auth.login", None, outcome="denied", method="sso", reason=reason)
        response = _login_page(request, db, web_session, "/", error=SSO_FAILURE, status_code=401)
        response.delete_cookie(SSO_COOKIE, path="/sso")
        return response

    try:
        data = _sso_serializer(request).loads(request.cookies.get(SSO_COOKIE, ""), max_age=SSO_MAX_AGE)
        pending = PendingLogin.from_dict(data)
    except (BadSignature, KeyError, TypeError):
        return fail("no_pending_login")
    if pending.provider != provider.slug or not state or not hmac.compare_digest(pending.state, state):
        return fail("state_mismatch")
    if not code or len(code) > 2000:
        return fail("no_code")
    try:
        claims = _oidc(request).finish(
            provider, settings_of(request), _redirect_uri(request, slug), code, pending
        )
    except SsoError:
        log.exception("single sign-on with %s failed", slug)
        return fail("provider_answer_refused")
    account = account_for(db, provider, claims)
    if account is None or not is_usable(db, account) or is_locked(db, account):
        return fail("no_usable_account")
    response = _start_session(
        request, db, account, pending.next_path, "sso", mfa_done=provider_mfa(provider, claims)
    )
    response.delete_cookie(SSO_COOKIE, path="/sso")
    return response


# --- invitations ---------------------------------------------------------------------------------


@router.get("/invite/{token}")
def invitation_form(request: Request, db: Db, web_session: CurrentWebSession, token: str) -> Response:
    invitation = open_invitation(db, token)
    if invitation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This invitation link is not valid any more.")
    account = db.get(Account, invitation.account_id)
    csrf, fresh = _form_csrf(request, web_session)
    response = render(
        request,
        "invitation.html",
        {"login_csrf": csrf, "username": account.username if account else "", "token": token},
    )
    return _with_login_cookie(request, response, csrf, fresh)


@router.post("/invite/{token}", dependencies=[CsrfChecked])
def invitation_accept(
    request: Request,
    db: Db,
    web_session: CurrentWebSession,
    token: str,
    password: Annotated[str, Form(min_length=1, max_length=1000)],
    confirm: Annotated[str, Form(min_length=1, max_length=1000)],
) -> Response:
    invitation = open_invitation(db, token)
    if invitation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This invitation link is not valid any more.")
    account = db.get(Account, invitation.account_id)
    error = None
    if password != confirm:
        error = "The two passwords differ."
    else:
        try:
            accept_invitation(db, token, password)
        except LifecycleError as exc:
            error = str(exc)
        except NotInScopeError as exc:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, "This invitation link is not valid any more."
            ) from exc
    if error is not None:
        csrf, fresh = _form_csrf(request, web_session)
        response = render(
            request,
            "invitation.html",
            {
                "login_csrf": csrf,
                "username": account.username if account else "",
                "token": token,
                "error": error,
            },
            400,
        )
        return _with_login_cookie(request, response, csrf, fresh)
    return RedirectResponse("/login?welcome=1", status_code=status.HTTP_303_SEE_OTHER)


# --- role choice and sign-out --------------------------------------------------------------------


def _complete(web_session: WebSession | None) -> bool:
    return web_session is not None and web_session.stage == SessionStage.COMPLETE


@router.get("/role")
def choose_role_form(request: Request, db: Db, web_session: CurrentWebSession) -> Response:
    if not _complete(web_session) or web_session is None:
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
    if not _complete(web_session) or web_session is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    account = db.get(Account, web_session.account_id)
    assert account is not None
    if role_assignment_id not in {r.id for r in current_roles(db, account.person_id)}:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "that role is not yours")
    web_session.role_assignment_id = role_assignment_id
    return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, db: Db, web_session: CurrentWebSession) -> Response:
    if web_session is not None:
        account = db.get(Account, web_session.account_id)
        audit_account(db, "auth.logout", account)
    revoke_session(db, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
