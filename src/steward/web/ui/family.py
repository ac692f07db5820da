"""The family portal: a parent's children (or the eligible student's own record), who can see what
and why, consents and opt-outs, consent requests to read and answer, in the family's language.

Every page is for the rights holder or a parent the engine still lets see; anything else answers
the same 404 as a page that does not exist. Every state change is a CSRF-checked form post whose
effect is committed before the redirect (the engine denies from the instant of a revocation).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward import i18n
from steward.accounts.lifecycle import LifecycleError
from steward.accounts.mfa import has_confirmed_totp
from steward.accounts.models import WebSession
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import DEFAULT_TIMEZONE
from steward.family import eligible, optouts, portal, signing
from steward.family.common import FAMILY_ROLES, preference, remember
from steward.family.wording import Section, basis_name, dataset_meaning, dataset_name, role_name, sections
from steward.store.base import now_utc
from steward.store.models import Organization
from steward.web.deps import CsrfChecked, Db, PagePrincipal, optional_principal, settings_of
from steward.web.security import client_address
from steward.web.templating import render
from steward.web.ui.workflow.common import after_change
from steward.workflow.common import NotAllowedError, WorkflowError, district_of, timezone_of
from steward.workflow.models import Consent

router = APIRouter(include_in_schema=False)

ONE_YEAR = 365 * 24 * 3600
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def safe_next(path: str) -> str:
    """Only same-site relative paths (no open redirect)."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    if any(ord(c) < 32 for c in path):
        return "/"
    return path


def language_for(request: Request, db: Session, principal: Principal | None) -> str:
    return i18n.choose(
        asked=request.query_params.get("lang"),
        cookie=request.cookies.get(i18n.COOKIE),
        preference=preference(db, principal.person_id) if principal is not None else None,
        accept_language=request.headers.get("accept-language"),
    )


def here(request: Request) -> str:
    """This page's path and query without ``lang`` (for the language links)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "done", "error")]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def family_page(
    request: Request,
    db: Session,
    principal: Principal | None,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    *,
    translated: bool = True,
) -> Response:
    """Render a family-facing page in the family's language (remembered in a cookie when asked);
    ``translated=False``: a staff page, always English."""
    lang = language_for(request, db, principal) if translated else i18n.DEFAULT
    org_name = ""
    if principal is not None:
        org = db.get(Organization, principal.organization_id)
        org_name = org.name if org is not None else principal.organization_code
    ctx: dict[str, Any] = {
        "principal": principal,
        "org_name": org_name,
        "lang": lang,
        "here": here(request),
        "done": request.query_params.get("done", "")[:40],
        "error": request.query_params.get("error", "")[:300],
        "dataset_name": dataset_name,
        "dataset_meaning": dataset_meaning,
        "basis_name": basis_name,
        "role_name": role_name,
    }
    ctx.update(context or {})
    with i18n.use(lang):
        response = render(request, name, ctx, status_code)
    if translated and i18n.normalise(request.query_params.get("lang")) is not None:
        # Picked on purpose: remembered on this browser and, signed in, for the account (e-mails too).
        remember_cookie(request, response, lang)
        if principal is not None:
            remember(db, principal.person_id, lang)
    return response


def remember_cookie(request: Request, response: Response, lang: str) -> None:
    response.set_cookie(
        i18n.COOKIE,
        lang,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=settings_of(request).cookie_secure or request.url.scheme == "https",
        path="/",
    )


def not_found(request: Request, db: Session, principal: Principal | None) -> Response:
    lang = language_for(request, db, principal)
    with i18n.use(lang):
        title = i18n.gettext("Not found")
    return family_page(request, db, principal, "error.html", {"title": title, "message": title}, 404)


def _family(principal: Principal) -> bool:
    return principal.role in FAMILY_ROLES


def _back(path: str, **params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(path + (f"?{query}" if query else ""), status_code=303)


# -- language --------------------------------------------------------------------------------------


@router.get("/language")
def choose_language(
    request: Request,
    db: Db,
    principal: OptionalPrincipal,
    lang: Annotated[str, Query(max_length=20)] = "en",
    next: Annotated[str, Query(max_length=2000)] = "/family",
) -> Response:
    """Switch language: remembered in a cookie, and as the account's preference (e-mails too)."""
    chosen = i18n.normalise(lang) or i18n.DEFAULT
    if principal is not None:
        remember(db, principal.person_id, chosen)
    response = RedirectResponse(safe_next(next), status_code=303)
    remember_cookie(request, response, chosen)
    return response


# -- the portal ----------------------------------------------------------------------------------


@router.get("/family")
def home(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """My children (or my own record), with requests waiting for an answer."""
    if not _family(principal):
        return not_found(request, db, principal)
    at = now_utc()
    kids = portal.children(db, principal, at)
    return family_page(request, db, principal, "family/home.html", {"children": kids, "at": at})


@router.get("/family/children/{student_id}")
def child(request: Request, db: Db, principal: PagePrincipal, student_id: int) -> Response:
    """Who can see the child's records and why, consents, opt-outs, requests, recent ledger lines."""
    if not _family(principal):
        return not_found(request, db, principal)
    view = portal.child_view(db, principal, student_id)
    if view is None:
        return not_found(request, db, principal)
    return family_page(
        request,
        db,
        principal,
        "family/child.html",
        {"v": view, "kinds": optouts.KINDS, "tz": view.child.tz},
    )


def _how(request: Request, db: Session, principal: Principal, channel: str) -> signing.How:
    web_session: WebSession | None = getattr(request.state, "web_session", None)
    second = False
    if web_session is not None:
        second = has_confirmed_totp(db, web_session.account_id) or web_session.auth_method == "sso"
    return signing.How(
        channel="email_link" if channel == "email" else "portal",
        auth_method=web_session.auth_method if web_session is not None else "password",
        second_factor=second,
        web_session_id=web_session.id if web_session is not None else None,
        client_address=client_address(request),
        user_agent=request.headers.get("user-agent", "")[:300],
    )


def _request_page(
    request: Request,
    db: Session,
    principal: Principal,
    code: str,
    student_id: int,
    via: str,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    lang = language_for(request, db, principal)
    try:
        seen = signing.shown(db, principal, code, student_id, lang)
    except NotAllowedError:
        return not_found(request, db, principal)
    with i18n.use(lang):
        parts = _sections(seen)
    history = signing.answers(db, seen.request.id, student_id)
    standing = signing.standing_signature(db, seen.request.id, student_id)
    return family_page(
        request,
        db,
        principal,
        "family/request.html",
        {
            "seen": seen,
            "sections": parts,
            "history": history,
            "standing": standing,
            "via": via,
            "errors": errors or [],
            "open": seen.request.status == "approved"
            and (seen.request.closes_at is None or seen.request.closes_at > now_utc()),
            "tz": timezone_of(db, seen.student.district_id),
            # The language links lead back to the request, also from a refused answer's page.
            "here": f"/family/requests/{seen.request.code}?{urlencode({'student': student_id, 'via': via})}",
        },
        status_code,
    )


def _sections(seen: signing.Shown) -> list[Section]:
    return sections(seen.wording, seen.reader)


@router.get("/family/requests/{code}")
def read_request(
    request: Request,
    db: Db,
    principal: PagePrincipal,
    code: str,
    student: Annotated[int, Query(ge=1, le=2**31 - 1)],
    via: Annotated[str, Query(max_length=10)] = "portal",
) -> Response:
    """A consent request in plain words, with the form to sign or decline."""
    if not _family(principal):
        return not_found(request, db, principal)
    return _request_page(request, db, principal, code[:40], student, via)


@router.post("/family/requests/{code}/answer", dependencies=[CsrfChecked])
async def answer_request(
    request: Request, db: Db, principal: PagePrincipal, code: str, background: BackgroundTasks
) -> Response:
    """Sign or decline exactly the text shown (its hash travels with the form)."""
    if not _family(principal):
        return not_found(request, db, principal)
    form = await request.form()
    try:
        student_id = int(str(form.get("student", "0")))
    except ValueError:
        return not_found(request, db, principal)
    decision = str(form.get("decision", ""))[:10]
    via = str(form.get("via", "portal"))[:10]
    lang = i18n.normalise(str(form.get("language", ""))) or language_for(request, db, principal)
    typed = str(form.get("typed_name", ""))[:200]
    errors: list[str] = []
    with i18n.use(lang):
        if decision == "signed" and form.get("agree") != "yes":
            errors.append(i18n.gettext("Tick the box to confirm you read the text and agree."))
        if not errors:
            try:
                signing.answer(
                    db,
                    principal,
                    code[:40],
                    student_id,
                    decision=decision,
                    language=lang,
                    shown_sha256=str(form.get("text_sha256", ""))[:64],
                    typed_name=typed,
                    how=_how(request, db, principal, via),
                )
            except NotAllowedError:
                return not_found(request, db, principal)
            except WorkflowError as exc:
                errors.extend(exc.problems)
    if errors:
        return _request_page(request, db, principal, code[:40], student_id, via, errors, 400)
    after_change(background, request)
    return _back(f"/family/children/{student_id}", done=decision)


@router.post("/family/consents/{consent_id}/revoke", dependencies=[CsrfChecked])
def revoke_consent(
    request: Request, db: Db, principal: PagePrincipal, consent_id: int, background: BackgroundTasks
) -> Response:
    """Take a consent back now (paper or electronic)."""
    if not _family(principal):
        return not_found(request, db, principal)
    with i18n.use(language_for(request, db, principal)):
        try:
            consent = signing.revoke(db, principal, consent_id)
        except NotAllowedError:
            return not_found(request, db, principal)
        except WorkflowError as exc:
            row = db.get(Consent, consent_id)
            target = f"/family/children/{row.student_id}" if row is not None else "/family"
            return _back(target, error="; ".join(exc.problems))
    after_change(background, request)
    return _back(f"/family/children/{consent.student_id}", done="revoked")


@router.post("/family/children/{student_id}/opt-outs", dependencies=[CsrfChecked])
async def add_opt_out(
    request: Request, db: Db, principal: PagePrincipal, student_id: int, background: BackgroundTasks
) -> Response:
    if not _family(principal):
        return not_found(request, db, principal)
    form = await request.form()
    lang = language_for(request, db, principal)
    with i18n.use(lang):
        try:
            optouts.opt_out(
                db,
                principal,
                student_id,
                str(form.get("kind", ""))[:20],
                letter=str(form.get("letter", ""))[: optouts.MAX_LETTER + 1],
                language=lang,
            )
        except NotAllowedError:
            return not_found(request, db, principal)
        except WorkflowError as exc:
            return _back(f"/family/children/{student_id}", error="; ".join(exc.problems))
    after_change(background, request)
    return _back(f"/family/children/{student_id}", done="opted_out")


@router.post("/family/opt-outs/{request_id}/lift", dependencies=[CsrfChecked])
def lift_opt_out(request: Request, db: Db, principal: PagePrincipal, request_id: int) -> Response:
    if not _family(principal):
        return not_found(request, db, principal)
    with i18n.use(language_for(request, db, principal)):
        try:
            row = optouts.lift(db, principal, request_id)
        except NotAllowedError:
            return not_found(request, db, principal)
        except WorkflowError as exc:
            return _back("/family", error="; ".join(exc.problems))
    return _back(f"/family/children/{row.student_id}", done="lifted")


# -- the school's and the district's side ---------------------------------------------------------


@router.get("/family/school/opt-outs")
def school_letters(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """Written assessment opt-out requests the school received (principals, counselors, officers)."""
    try:
        rows = optouts.letters(db, principal)
    except NotAllowedError:
        return not_found(request, db, principal)
    district = district_of(db, principal.organization_id)
    tz = timezone_of(db, district.id) if district is not None else DEFAULT_TIMEZONE
    return family_page(
        request, db, principal, "family/school_letters.html", {"rows": rows, "tz": tz}, translated=False
    )


@router.post("/family/school/opt-outs/{request_id}/acknowledge", dependencies=[CsrfChecked])
def acknowledge_letter(
    request: Request, db: Db, principal: PagePrincipal, request_id: int, background: BackgroundTasks
) -> Response:
    try:
        optouts.acknowledge(db, principal, request_id)
    except NotAllowedError:
        return not_found(request, db, principal)
    after_change(background, request)
    return _back("/family/school/opt-outs", done="acknowledged")


@router.get("/family/eligible")
def eligible_students(request: Request, db: Db, principal: PagePrincipal) -> Response:
    """Officers: students who are (or soon turn) 18, to open the portal for them."""
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        return not_found(request, db, principal)
    rows = eligible.candidates(db, principal)
    return family_page(request, db, principal, "family/eligible.html", {"rows": rows}, translated=False)


@router.post("/family/eligible/{student_id}/invite", dependencies=[CsrfChecked])
async def invite_student(request: Request, db: Db, principal: PagePrincipal, student_id: int) -> Response:
    if principal.role is not Role.DISTRICT_DATA_OFFICER:
        return not_found(request, db, principal)
    form = await request.form()
    try:
        issued = eligible.open_portal(
            db,
            principal,
            student_id,
            username=str(form.get("username", ""))[:100],
            email=str(form.get("email", ""))[:254],
            settings=settings_of(request),
        )
    except NotAllowedError:
        return not_found(request, db, principal)
    except (WorkflowError, LifecycleError) as exc:
        problems = exc.problems if isinstance(exc, WorkflowError) else [str(exc)]
        return family_page(
            request,
            db,
            principal,
            "family/eligible.html",
            {"rows": eligible.candidates(db, principal), "errors": problems},
            400,
            translated=False,
        )
    link = f"/invite/{quote(issued.token)}"
    return family_page(
        request,
        db,
        principal,
        "family/eligible.html",
        {"rows": eligible.candidates(db, principal), "invited": issued.account.username, "link": link},
        translated=False,
    )
