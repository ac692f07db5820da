"""The translation catalog: which sources hold family-facing strings, extracting them to
``steward.pot``, merging into each language's ``.po`` and compiling the ``.mo`` files the app loads.

``scripts/i18n.py`` runs these; the tests check that the committed catalogs are current (every
string extracted, every ``.mo`` compiled from its ``.po``, Spanish complete).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from steward.i18n import DEFAULT, DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE_DIR = LOCALE_DIR.parents[1]
JINJA = "jinja2.ext:babel_extract"
#: Family-facing sources, relative to the ``steward`` package.
METHOD_MAP: list[tuple[str, str]] = [
    ("family/**.py", "python"),
    ("web/ui/family.py", "python"),
    ("web/ui/templates/base.html", JINJA),
    ("web/ui/templates/family/layout.html", JINJA),
    ("web/ui/templates/family/home.html", JINJA),
    ("web/ui/templates/family/child.html", JINJA),
    ("web/ui/templates/family/request.html", JINJA),
    ("web/ui/templates/family/transparency.html", JINJA),
    # Shared pages a family member also uses (sign-in, account, ledger, Student-at-a-Glance).
    ("web/language.py", "python"),
    ("workflow/notifications/mailer.py", "python"),
    ("web/ui/templates/_languages.html", JINJA),
    ("web/ui/templates/home.html", JINJA),
    ("web/ui/templates/login.html", JINJA),
    ("web/ui/templates/error.html", JINJA),
    ("web/ui/templates/invitation.html", JINJA),
    ("web/ui/templates/mfa.html", JINJA),
    ("web/ui/templates/mfa_setup.html", JINJA),
    ("web/ui/templates/recovery_codes.html", JINJA),
    ("web/ui/templates/choose_role.html", JINJA),
    ("web/ui/templates/account.html", JINJA),
    ("web/ui/templates/ledger_children.html", JINJA),
    ("web/ui/templates/ledger_student.html", JINJA),
    ("web/ui/templates/portal/students.html", JINJA),
    ("web/ui/templates/portal/glance.html", JINJA),
]
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true", "newstyle_gettext": "true"}
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
HEADER = "Steward: family-facing pages and e-mails"
#: Header dates stay put, so that regenerating unchanged catalogs changes no file.
FIXED = datetime(2026, 1, 1, tzinfo=UTC)


def pot_path() -> Path:
    return LOCALE_DIR / f"{DOMAIN}.pot"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def translated_languages() -> list[str]:
    return [lang for lang in LANGUAGES if lang != DEFAULT]


def extract() -> Catalog:
    """Every translatable string of the family-facing sources (no locations: stable diffs)."""
    catalog = Catalog(
        project="steward",
        header_comment=f"# {HEADER}.",
        fuzzy=False,
        creation_date=FIXED,
        revision_date=FIXED,
    )
    options = {pattern: JINJA_OPTIONS for pattern, method in METHOD_MAP if method == JINJA}
    for _, _, message, comments, context in extract_from_dir(
        str(PACKAGE_DIR),
        method_map=METHOD_MAP,
        options_map=options,
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, auto_comments=comments, context=context)
    return catalog


def _write_po(path: Path, catalog: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=True, no_location=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def read(lang: str) -> Catalog:
    with po_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def update(languages: Iterable[str] | None = None) -> None:
    """Write ``steward.pot`` and merge it into each language's ``.po`` (new strings untranslated,
    vanished ones dropped; no fuzzy guesses)."""
    template = extract()
    _write_po(pot_path(), template)
    for lang in languages or translated_languages():
        path = po_path(lang)
        if path.exists():
            catalog = read(lang)
        else:
            catalog = Catalog(
                locale=lang,
                domain=DOMAIN,
                project="steward",
                header_comment=f"# {HEADER}.",
                creation_date=FIXED,
                revision_date=FIXED,
            )
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        _write_po(path, catalog)


def compiled(lang: str) -> bytes:
    """The ``.mo`` bytes of a language's ``.po`` (fuzzy entries left out)."""
    buffer = io.BytesIO()
    write_mo(buffer, read(lang), use_fuzzy=False)
    return buffer.getvalue()


def compile_all(languages: Iterable[str] | None = None) -> None:
    for lang in languages or translated_languages():
        mo_path(lang).write_bytes(compiled(lang))
