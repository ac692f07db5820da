"""Request-scoped dependencies: database session, web session, current principal, CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from steward.accounts.models import WebSession
from steward.accounts.service import SessionStage, principal_for, resolve_session
from steward.accounts.tokens import allows, resolve_token
from steward.config import Settings
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.web.security import Limiter, client_address, retry_after

SESSION_COOKIE = "steward_session"
LOGIN_CSRF_COOKIE = "steward_login_csrf"


class LoginRequiredError(Exception):
    """Raised by page dependencies; the app turns it into a redirect (sign-in, or the second factor)."""

    def __init__(self, next_path: str, target: str = "/login") -> None:
        self.next_path = next_path
        self.target = target


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """One session per request: committed when the handler succeeds, rolled back otherwise.

    Used with ``scope="function"`` so the commit happens before the response is sent: a client that
    follows a redirect at once must see what the previous request wrote.
    """
    db: Session = request.app.state.sessionmaker()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


Db = Annotated[Session, Depends(get_db, scope="function")]


def get_web_session(request: Request, db: Db) -> WebSession | None:
    cached: WebSession | None = getattr(request.state, "web_session", None)
    if cached is not None:
        return cached
    record = resolve_session(db, request.cookies.get(SESSION_COOKIE), settings_of(request))
    if db.dirty:
        # The once-a-minute touch (or an expiry) commits now: holding SQLite's write lock for the
        # whole request would serialize every request that touches its session.
        db.commit()
    request.state.web_session = record
    # Kept as a plain string: error pages render after the request's session rolled back, when
    # the ORM object can no longer load its attributes.
    request.state.csrf_token = record.csrf_token if record is not None else None
    return record


CurrentWebSession = Annotated[WebSession | None, Depends(get_web_session)]


def optional_principal(db: Db, web_session: CurrentWebSession) -> Principal | None:
    if web_session is None:
        return None
    return principal_for(db, web_session)


def _limit(request: Request, *key: str) -> None:
    limiter: Limiter = request.app.state.api_limiter
    wait = limiter.hit(*key)
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, "too many requests", headers={"Retry-After": retry_after(wait)}
        )


def _same_origin(request: Request) -> bool:
    """A cookie-authenticated state change must not come from another site (Origin, else Referer)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source is None
    parts = urlsplit(source)
    return parts.netloc == request.url.netloc


def api_principal(
    request: Request, db: Db, principal: Annotated[Principal | None, Depends(optional_principal)]
) -> Principal:
    """The caller of a JSON endpoint: an API token (``Authorization: Bearer``) or the web session.

    401 when neither is valid, 403 when the token's scopes do not cover the call, 429 past the rate.
    """
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, credential = header.partition(" ")
        resolved = resolve_token(db, credential.strip()) if scheme.lower() == "bearer" else None
        if resolved is None:
            _limit(request, "api-auth-failure", client_address(request))
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "the API token is not valid",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if db.dirty:
            db.commit()  # last_used_at, written at most once a minute; see get_web_session
        _limit(request, "api-token", resolved.token.key)
        if not allows(list(resolved.token.scopes), request.method, request.url.path):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "the API token's scopes do not cover this call",
                headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )
        request.state.api_token_id = resolved.token.id
        return resolved.principal
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "sign in first", headers={"WWW-Authenticate": "Bearer"}
        )
    web_session: WebSession | None = getattr(request.state, "web_session", None)
    _limit(request, "api-session", str(web_session.id if web_session is not None else principal.person_id))
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")
    return principal


def page_principal(
    request: Request,
    web_session: CurrentWebSession,
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """The viewer of a page; redirects to sign-in (or to the pending second factor) otherwise."""
    if principal is None:
        if web_session is not None and web_session.stage == SessionStage.MFA:
            raise LoginRequiredError(request.url.path, "/mfa")
        if web_session is not None and web_session.stage == SessionStage.ENROL:
            raise LoginRequiredError(request.url.path, "/mfa/setup")
        if web_session is not None and web_session.role_assignment_id is None:
            raise LoginRequiredError(request.url.path, "/role")
        raise LoginRequiredError(request.url.path)
    return principal


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
PagePrincipal = Annotated[Principal, Depends(page_principal)]


def officer_principal(principal: PagePrincipal) -> Principal:
    """A page only a district data officer may use (403 for everyone else)."""
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only a district data officer may do this.")
    return principal


OfficerPrincipal = Annotated[Principal, Depends(officer_principal)]


async def verify_csrf(request: Request, web_session: CurrentWebSession) -> None:
    """State-changing form posts must echo the session's CSRF token (or the pre-login one)."""
    try:
        form = await request.form()
    except HTTPException:
        raise
    except Exception as exc:  # a malformed body is refused like a missing token
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the form could not be read") from exc
    sent = str(form.get("csrf_token", ""))
    expected = (
        web_session.csrf_token if web_session is not None else request.cookies.get(LOGIN_CSRF_COOKIE, "")
    )
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form has expired; reload the page and try again")


CsrfChecked = Depends(verify_csrf)
