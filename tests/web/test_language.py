"""The helpers that put the shared pages in the family's language: messages with figures, dataset,
role, basis and evidence words, and English for staff viewers."""

from __future__ import annotations

from typing import Any

from steward import i18n
from steward.web import language


def test_messages_are_translated_before_their_figures_go_in() -> None:
    ctx: dict[str, Any] = {
        "error": "Too many sign-in attempts. Wait %(seconds)s seconds and try again.",
        "error_args": {"seconds": "30"},
        "title": "Not found",
    }
    with i18n.use("es"):
        language.fill_in(ctx, translate=True)
    assert (
        ctx["error"] == "Demasiados intentos de inicio de sesión. Espere 30 segundos y vuelva a intentarlo."
    )
    assert ctx["title"] == "No encontrado"
    english: dict[str, Any] = {
        "error": "Too many attempts. Wait %(seconds)s seconds.",
        "error_args": {"seconds": "5"},
    }
    language.fill_in(english, translate=False)
    assert english["error"] == "Too many attempts. Wait 5 seconds."
    plain: dict[str, Any] = {"error": "100% <b>not</b> a format"}
    language.fill_in(plain, translate=True)
    assert plain["error"] == "100% <b>not</b> a format"  # no args: left as written (escaped on output)


def test_words_for_datasets_roles_bases_and_evidence() -> None:
    with i18n.use("es"):
        assert language.dataset_words("attendance, grades") == "Asistencia, Calificaciones"
        assert language.dataset_words("attendance, not-a-dataset") == "Asistencia, not-a-dataset"
        assert language.role_words("partner staff") != "partner staff"
        assert language.role_words("nobody") == "nobody"
        assert language.evidence_words("guardianship:12") == "tutela registrada 12"
        assert language.basis_words("not-a-basis") == "not-a-basis"
    with i18n.use("en"):
        assert language.dataset_words(["attendance"]) == "Attendance"
