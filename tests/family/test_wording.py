"""The consent text a family reads: plain, in their language, exactly reproducible (its hash is what
a signature covers)."""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from steward import i18n
from steward.family.wording import Reader, Wording, plain_text, sections, text_sha256, title_of

WORDING = Wording(
    request="CR-1",
    organization="Rainier Youth Tutoring",
    district="Lakeside District",
    agreement="DSA-2026-00001",
    title="After-school tutoring",
    purpose="Follow attendance and test results of the students we tutor",
    description="We tutor students after school.",
    datasets=("attendance", "assessment"),
    school_year=2027,
    last_day=date(2027, 6, 30),
    destroy_by=date(2027, 8, 15),
    translations={"es": {"purpose": "Seguir la asistencia y los resultados de los estudiantes"}},
)
PARENT = Reader("Ana Diaz", "100", "parent")
STUDENT = Reader("Ana Diaz", "100", "student")


def test_english_text_names_everything_a_consent_must() -> None:
    text = plain_text(WORDING, PARENT)
    # 99.30(b): the records, the purpose, the recipient; SPS: annual; and the right to revoke.
    for needed in (
        "Rainier Youth Tutoring",
        "Attendance: days present and absent",
        "Test results",
        "Follow attendance and test results",
        "June 30, 2027",
        "take back your permission at any time",
        "August 15, 2027",
        "parent or guardian of Ana Diaz (student ID 100)",
    ):
        assert needed in text
    assert text.endswith("\n")
    assert "\n\n\n" not in text


def test_spanish_text_uses_the_catalog_and_the_organizations_own_translation() -> None:
    with i18n.use("es"):
        text = plain_text(WORDING, PARENT)
        title = title_of(WORDING, PARENT)
    assert title == "Permiso para compartir los expedientes escolares de Ana Diaz con Rainier Youth Tutoring"
    assert "Seguir la asistencia y los resultados de los estudiantes" in text
    assert "30 de junio de 2027" in text
    assert "Asistencia: días de asistencia y de ausencia" in text
    # The description has no Spanish version: shown in English, and said so.
    assert "We tutor students after school. (escrito por Rainier Youth Tutoring en inglés)" in text
    assert text_sha256(text) != text_sha256(plain_text(WORDING, PARENT))


def test_untranslated_languages_fall_back_to_english_with_local_dates() -> None:
    with i18n.use("vi"):
        text = plain_text(WORDING, PARENT)
    assert "Who is asking" in text
    assert "(written by Rainier Youth Tutoring in English)" in text


def test_an_eligible_student_reads_about_their_own_records() -> None:
    text = plain_text(WORDING, STUDENT)
    assert "some of your school records" in text
    assert "By signing, I, Ana Diaz (student ID 100)" in text
    assert "parent or guardian" not in text


def test_the_wording_round_trips_and_its_hash_is_stable() -> None:
    again = Wording.from_json(WORDING.to_json())
    assert again == WORDING
    assert again.sha256() == WORDING.sha256()
    changed = Wording.from_json({**WORDING.to_json(), "purpose": "something else"})
    assert changed.sha256() != WORDING.sha256()


names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(org=names, purpose=names, child=names, lang=st.sampled_from(sorted(i18n.LANGUAGES)))
def test_the_text_is_deterministic_normalised_and_names_the_organization(
    org: str, purpose: str, child: str, lang: str
) -> None:
    wording = Wording.from_json({**WORDING.to_json(), "organization": org, "purpose": purpose})
    reader = Reader(child, "7", "parent")
    with i18n.use(lang):
        first = plain_text(wording, reader)
        second = plain_text(wording, reader)
        parts = sections(wording, reader)
    assert first == second
    assert unicodedata.is_normalized("NFC", first)
    assert " ".join(unicodedata.normalize("NFC", org).split()) in first
    assert all(s.heading and (s.paragraphs or s.items) for s in parts)
