"""The committed catalogs are current: every family-facing string extracted, every .mo compiled from
its .po, Spanish complete, placeholders kept, and a catalog for every offered language."""

from __future__ import annotations

import io
from typing import BinaryIO

from babel.messages import checkers
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from steward import i18n
from steward.i18n import catalog


def _ids(cat: object) -> set[object]:
    return {m.id for m in cat if m.id}  # type: ignore[attr-defined]


def _messages(handle: BinaryIO) -> dict[object, object]:
    def frozen(value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    return {frozen(m.id): frozen(m.string) for m in read_mo(handle) if m.id}


def test_the_template_holds_every_string_of_the_sources() -> None:
    with catalog.pot_path().open("rb") as handle:
        committed = read_po(handle)
    assert _ids(catalog.extract()) == _ids(committed), "run: python scripts/i18n.py"


def test_every_language_has_a_current_catalog() -> None:
    wanted = _ids(catalog.extract())
    for lang in catalog.translated_languages():
        assert catalog.po_path(lang).exists(), lang
        assert _ids(catalog.read(lang)) == wanted, f"{lang}.po is stale: run python scripts/i18n.py"
        with catalog.mo_path(lang).open("rb") as handle:
            on_disk = _messages(handle)
        assert on_disk == _messages(io.BytesIO(catalog.compiled(lang))), (
            f"{lang}.mo is stale: run python scripts/i18n.py compile"
        )


def test_spanish_is_complete_and_keeps_every_placeholder() -> None:
    es = catalog.read("es")
    for message in es:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {message.id!r}"
        assert not message.fuzzy, message.id
        checkers.python_format(es, message)  # raises TranslationError on a lost or foreign placeholder


def test_loaded_translations_are_used_and_missing_ones_fall_back() -> None:
    with i18n.use("es"):
        assert i18n.gettext("Family portal") == "Portal para familias"
        assert (
            i18n.ngettext(
                "%(count)s request waits for your answer", "%(count)s requests wait for your answer", 2
            )
            == "%(count)s solicitudes esperan su respuesta"
        )
    for lang in ("so", "vi", "zh", "am"):
        with i18n.use(lang):
            assert i18n.gettext("Family portal") == "Family portal"
