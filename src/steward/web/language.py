"""The family's language on the shared pages a parent or eligible student also uses outside /family:
sign-in, second factor, account, invitation, errors, the disclosure ledger and Student-at-a-Glance.

The choice is the /family one (``?lang=``, the remembered cookie, the account's preference, the
browser's ``Accept-Language``); staff viewers keep English. Strings that code outside the family
sources produces (error titles, ledger labels, glance section titles) are marked here with ``N_`` so
that the catalog holds them, and the ``t`` filter translates such a plain string at render time.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward import i18n
from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.i18n import N_

#: Shared templates a family member may see; rendered in the family's language.
TRANSLATED_PAGES = frozenset(
    {
        "home.html",
        "login.html",
        "error.html",
        "invitation.html",
        "mfa.html",
        "mfa_setup.html",
        "recovery_codes.html",
        "choose_role.html",
        "account.html",
        "ledger_children.html",
        "ledger_student.html",
        "portal/students.html",
        "portal/glance.html",
    }
)
FAMILY_ROLES = frozenset({Role.PARENT, Role.STUDENT})
ONE_YEAR = 365 * 24 * 3600

#: Strings made outside the family sources that a family member may read on these pages.
MARKED = (
    # error pages (web/app.py, web/ui/*.py)
    N_("Not found"),
    N_("Something went wrong"),
    N_("Please try again."),
    N_("Not for your role"),
    N_("Records unavailable"),
    N_("Forbidden"),
    N_("Too many requests"),
    # sign-in and invitation messages (web/ui/auth.py)
    N_("That username and password do not match an active account."),
    N_("Too many sign-in attempts. Wait %(seconds)s seconds and try again."),
    N_("Too many attempts. Wait %(seconds)s seconds."),
    N_("The two passwords differ."),
    N_("That code did not match. Check the time on your phone and enter the newest code."),
    N_("That code did not work. Enter the current code from your authenticator app, or a recovery code."),
    N_("Single sign-on did not work for this account. Ask your district data officer, or sign in below."),
    # the home page after sign-in (web/ui/home.py)
    N_("You see your own children's records and who else has seen them."),
    N_("You see your own records and who else has seen them."),
    N_("Children linked to your account"),
    N_("See your children"),
    N_("Their records, who can see them, and every disclosure."),
    N_("Family portal: consents and opt-outs"),
    N_("Give, decline or revoke consent; opt out of directory information; who can see what and why."),
    # the ledger (audit/ledger.py, web/ui/ledger.py)
    N_("Recorded under 34 CFR 99.32"),
    N_("No 99.32 record required (34 CFR 99.32(d)); kept in Steward's audit log"),
    N_("Viewed in Steward"),
    N_("Sent as an encrypted package"),
    N_("Downloaded"),
    N_("Through the API"),
    N_("Records transfer"),
    N_("Request for access"),
    # Student-at-a-Glance (products/portal/glance.py, web/ui/portal.py)
    N_("Name and school"),
    N_("Attendance"),
    N_("Discipline"),
    N_("Assessments"),
    N_("Courses and marks"),
    N_("Programs"),
    N_("Enrollment history"),
    N_("Demographics"),
    N_("English language arts"),
    N_("Mathematics"),
    N_("Science"),
    N_("Your children."),
    N_("your role assignment"),
    N_("enrollment record"),
    N_("guardianship on record"),
    N_("tax dependency record"),
    N_("signed consent"),
    N_("agreement"),
    N_("district grant"),
)


def page_language(request: Request, db: Session | None, principal: Principal | None) -> str:
    """The language of a shared page: English for staff, else the family's choice."""
    if principal is not None and principal.role not in FAMILY_ROLES:
        return i18n.DEFAULT
    remembered = None
    if db is not None and principal is not None:
        from steward.family.common import preference  # the family package imports the web layer's peers

        remembered = preference(db, principal.person_id)
    return i18n.choose(
        asked=request.query_params.get("lang"),
        cookie=request.cookies.get(i18n.COOKIE),
        preference=remembered,
        accept_language=request.headers.get("accept-language"),
    )


def remember_choice(
    request: Request, response: Response, lang: str, db: Session | None, principal: Principal | None
) -> None:
    """A language picked on purpose (``?lang=``): kept in a cookie and, signed in, for the account."""
    set_cookie(request, response, lang)
    if db is not None and principal is not None and principal.role in FAMILY_ROLES:
        from steward.family.common import remember

        remember(db, principal.person_id, lang)


def set_cookie(request: Request, response: Response, lang: str) -> None:
    """Remember ``lang`` on this browser (also at sign-in, from the account's preference)."""
    secure = bool(getattr(getattr(request.app.state, "settings", None), "cookie_secure", False))
    response.set_cookie(
        i18n.COOKIE,
        lang,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=secure or request.url.scheme == "https",
        path="/",
    )


def fill_in(ctx: dict[str, Any], *, translate: bool) -> None:
    """The page's ``title``, ``message`` and ``error`` in the current language (when ``translate``),
    with their ``<key>_args`` figures put in after translating (``%(seconds)s``)."""
    for key in ("title", "message", "error"):
        text = ctx.get(key)
        if not isinstance(text, str):
            continue
        if translate:
            text = translate_text(text)
        args = ctx.get(f"{key}_args")
        if isinstance(args, dict):
            text = text % args
        ctx[key] = text


def translate_text(text: Any) -> str:
    """A plain string in the current language (escaped on output, unlike Jinja's ``_()`` Markup)."""
    return i18n.gettext(str(text)) if text else ""


def dataset_words(names: Any) -> str:
    """``attendance, grades`` as the datasets' plain names in the current language."""
    from steward.family.wording import dataset_name

    items = [n.strip() for n in (names.split(",") if isinstance(names, str) else names)]
    out = []
    for item in items:
        value = getattr(item, "value", item)
        try:
            out.append(dataset_name(Dataset(value)))
        except (ValueError, KeyError):
            out.append(str(value))
    return ", ".join(out)


def role_words(role: Any) -> str:
    """A role (``partner staff`` or ``partner_staff``) in the current language."""
    from steward.family.wording import role_name

    value = str(getattr(role, "value", role)).replace(" ", "_")
    try:
        return role_name(Role(value))
    except (ValueError, KeyError):
        return str(role)


def basis_words(code: Any) -> str:
    """A legal basis code in plain words of the current language."""
    from steward.family.wording import basis_name

    try:
        return basis_name(str(getattr(code, "value", code)))
    except (ValueError, KeyError):
        return str(code)


def evidence_words(ref: str) -> str:
    """``consent:C-1A2B`` in the current language (the kind translated, the reference kept)."""
    from steward.products.portal.glance import evidence_label

    kind, _, value = ref.partition(":")
    label = evidence_label(f"{kind}:")
    words = i18n.gettext(label) if label else kind
    return f"{words} {value}".strip()
