"""Families' languages: gettext catalogs (Babel), the language of the current request or e-mail,
and dates and numbers formatted for it.

English is the source language; a string without a translation shows in English. The language in
force is a context variable (``use(lang)``), so pages, e-mails and the consent wording all read the
same one; Jinja's ``{% trans %}`` and ``_()`` are bound to it by ``install``.
"""

from __future__ import annotations

import functools
import gettext as _gettext
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import Translations
from jinja2 import Environment, pass_context

#: Languages offered to families, each named in itself (shown in the language switcher).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "so": "Soomaali",
    "vi": "Tiếng Việt",
    "zh": "中文",
    "am": "አማርኛ",
}
DEFAULT = "en"
#: The cookie that remembers a visitor's choice.
COOKIE = "steward_lang"
DOMAIN = "steward"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current: ContextVar[str] = ContextVar("steward_language", default=DEFAULT)


def normalise(code: str | None) -> str | None:
    """A supported language for a tag such as ``es-MX``, ``zh_Hans_CN`` or ``EN``; None otherwise."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (``Accept-Language`` with q-values)."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:40]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        lang = normalise(tag)
        if lang is not None and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else None


def choose(
    *,
    asked: str | None = None,
    cookie: str | None = None,
    preference: str | None = None,
    accept_language: str | None = None,
) -> str:
    """The language of a page: asked for now (``?lang=``), else remembered in the cookie, else the
    account's preference, else the browser's, else English."""
    for candidate in (asked, cookie, preference):
        found = normalise(candidate)
        if found is not None:
            return found
    return from_accept_language(accept_language) or DEFAULT


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English and missing catalogs: no translation)."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return _gettext.NullTranslations()
    return Translations.load(str(LOCALE_DIR), [lang], DOMAIN)


def current() -> str:
    return _current.get()


@contextmanager
def use(lang: str) -> Iterator[str]:
    """Run the block in ``lang`` (pages, e-mails, consent wording); restores the previous one."""
    chosen = normalise(lang) or DEFAULT
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # noqa: N802  (the conventional gettext marker name)
    """Mark a string for the catalog without translating it now (module-level tables)."""
    return message


def format_date(day: date | datetime | None, style: str = "long", tz: str | None = None) -> str:
    """``October 15, 2025`` / ``15 de octubre de 2025``; an instant is first put in ``tz``."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = day.astimezone(ZoneInfo(tz)) if tz else day
        day = day.date()
    return str(babel_dates.format_date(day, format=style, locale=current()))


def format_datetime(instant: datetime | None, tz: str, style: str = "medium") -> str:
    """An instant in the district's time zone, formatted for the language."""
    if instant is None:
        return ""
    return str(babel_dates.format_datetime(instant, format=style, tzinfo=ZoneInfo(tz), locale=current()))


def format_number(value: int | float | Decimal | None, digits: int | None = None) -> str:
    """``1,234.5`` / ``1234,5`` (Spanish groups thousands only from five digits)."""
    if value is None:
        return ""
    if digits is not None:
        pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
        return str(babel_numbers.format_decimal(value, format=pattern, locale=current()))
    return str(babel_numbers.format_decimal(value, locale=current()))


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


def _per_render(func: Callable[..., str]) -> Callable[..., str]:
    """A filter Jinja may not fold at compile time (its output depends on the language)."""

    @pass_context
    def apply(_context: Any, *args: Any, **kwargs: Any) -> str:
        return func(*args, **kwargs)

    return apply


def install(env: Environment) -> None:
    """Give a Jinja environment ``{% trans %}``, ``_()``, ``gettext`` and ``ngettext`` bound to the
    current language, and the ``fdate``/``fdatetime``/``fnumber`` filters. Templates that use none of
    them render exactly as before (English)."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.policies["ext.i18n.trimmed"] = True
    for name, func in (("fdate", format_date), ("fdatetime", format_datetime), ("fnumber", format_number)):
        env.filters[name] = _per_render(func)
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["current_language"] = current


__all__ = [
    "COOKIE",
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "choose",
    "current",
    "format_date",
    "format_datetime",
    "format_number",
    "from_accept_language",
    "gettext",
    "install",
    "language_name",
    "ngettext",
    "normalise",
    "translations",
    "use",
]
