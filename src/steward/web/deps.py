"""Request-scoped dependencies: database session, web session, current principal, CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from steward.accounts.models import WebSession
from steward.accounts.service import principal_for, resolve_session
from steward.config import Settings
from steward.domain.principal import Principal

SESSION_COOKIE = "steward_session"
LOGIN_CSRF_COOKIE = "steward_login_csrf"


class LoginRequiredError(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


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
    request.state.web_session = record
    return record


CurrentWebSession = Annotated[WebSession | None, Depends(get_web_session)]


def optional_principal(db: Db, web_session: CurrentWebSession) -> Principal | None:
    if web_session is None:
        return None
    return principal_for(db, web_session)


def api_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    """The caller of a JSON endpoint; 401 when not signed in."""
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
    return principal


def page_principal(
    request: Request, principal: Annotated[Principal | None, Depends(optional_principal)]
) -> Principal:
    """The viewer of a page; redirects to sign-in when not signed in."""
    if principal is None:
        raise LoginRequiredError(request.url.path)
    return principal


ApiPrincipal = Annotated[Principal, Depends(api_principal)]
PagePrincipal = Annotated[Principal, Depends(page_principal)]


async def verify_csrf(request: Request, web_session: CurrentWebSession) -> None:
    """State-changing form posts must echo the session's CSRF token (or the pre-login one)."""
    form = await request.form()
    sent = str(form.get("csrf_token", ""))
    expected = (
        web_session.csrf_token if web_session is not None else request.cookies.get(LOGIN_CSRF_COOKIE, "")
    )
    if not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form has expired; reload the page and try again")


CsrfChecked = Depends(verify_csrf)
