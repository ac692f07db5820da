"""Choosing a family's language, formatting for it, and Jinja bound to it without changing other
pages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward import i18n
from steward.web.templating import templates


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("fr-FR, vi;q=0.5, en;q=0.4", "vi"),
        ("en;q=0.2, so;q=0.9", "so"),
        ("zh-Hant-TW", "zh"),
        ("am-ET;q=1.0", "am"),
        ("fr, de", None),
        ("es;q=0", None),
        ("es;q=abc", None),
        ("", None),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


def test_asked_beats_cookie_beats_preference_beats_browser() -> None:
    assert i18n.choose(asked="es", cookie="vi", preference="so", accept_language="am") == "es"
    assert i18n.choose(asked="xx", cookie="vi", preference="so", accept_language="am") == "vi"
    assert i18n.choose(cookie=None, preference="so", accept_language="am") == "so"
    assert i18n.choose(accept_language="am,en;q=0.5") == "am"
    assert i18n.choose() == "en"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_header_gives_a_supported_language_or_none(header: str) -> None:
    found = i18n.from_accept_language(header)
    assert found is None or found in i18n.LANGUAGES


def test_dates_and_numbers_follow_the_language() -> None:
    day = date(2025, 10, 15)
    instant = datetime(2025, 10, 15, 17, 30, tzinfo=UTC)
    assert i18n.format_date(day) == "October 15, 2025"
    assert i18n.format_number(1234.5) == "1,234.5"
    with i18n.use("es"):
        assert i18n.format_date(day) == "15 de octubre de 2025"
        assert i18n.format_number(1234.5) == "1234,5" or i18n.format_number(1234.5) == "1.234,5"
        assert i18n.format_number(12345.5) == "12.345,5"
        assert "10:30" in i18n.format_datetime(instant, "America/Los_Angeles")
    assert i18n.current() == "en"


def test_use_restores_the_previous_language() -> None:
    with i18n.use("es"):
        with i18n.use("vi"):
            assert i18n.current() == "vi"
        assert i18n.current() == "es"
    with i18n.use("klingon"):
        assert i18n.current() == "en"


def test_jinja_translates_in_the_current_language_and_falls_back_to_english() -> None:
    template = templates.env.from_string(
        "{% trans n=n %}Not in any catalog {{ n }}{% endtrans %}|{{ _('Sign out') }}|{{ x | fnumber }}"
    )
    assert template.render(n=3, x=1234.5) == "Not in any catalog 3|Sign out|1,234.5"
    with i18n.use("es"):
        text = template.render(n=3, x=12345.5)
    assert text.startswith("Not in any catalog 3|")
    assert text.endswith("|12.345,5")


def test_trans_escapes_its_variables() -> None:
    template = templates.env.from_string("{% trans name=name %}Hello {{ name }}{% endtrans %}")
    assert template.render(name="<b>x</b>") == "Hello &lt;b&gt;x&lt;/b&gt;"
