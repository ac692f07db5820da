"""Element conversions shared by reader and writer."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from steward.formats.cedars.codec import element_codecs, parse_date
from steward.formats.cedars.layouts import FILES_BY_PREFIX


def codec(code: str) -> object:
    prefix = code.rstrip("0123456789")
    return next(c for c in element_codecs(FILES_BY_PREFIX[prefix]) if c.spec.code == code)


@pytest.mark.parametrize(
    ("text", "day"),
    [("1/2/2003", date(2003, 1, 2)), ("01/02/2003", date(2003, 1, 2)), ("12/31/1999", date(1999, 12, 31))],
)
def test_dates_with_or_without_leading_zeros(text: str, day: date) -> None:
    assert parse_date(text) == day


@pytest.mark.parametrize("text", ["13/45/2010", "2010-01-02", "1/2/03", "02/30/2020", "1/2/2003 "])
def test_bad_dates(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a date \(MM/DD/YYYY\)"):
        parse_date(text)


def test_grade_levels_are_normalised() -> None:
    grade = codec("B13")
    assert grade.parse("01") == "1"  # type: ignore[attr-defined]
    assert grade.parse("K") == "K"  # type: ignore[attr-defined]
    assert grade.format("09") == "9"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="is not a known code"):
        grade.parse("13")  # type: ignore[attr-defined]


def test_numeric_precision_and_scale() -> None:
    gpa = codec("B28")
    assert gpa.parse("3.5") == Decimal("3.5")  # type: ignore[attr-defined]
    assert gpa.format(Decimal("3.5")) == "3.500"  # type: ignore[attr-defined]
    assert gpa.parse("") is None  # type: ignore[attr-defined]
    for bad in ("4.5", "3.5555", "-1", "abc", "."):
        with pytest.raises(ValueError, match=r"more than 4\.000|does not fit|is not a number"):
            gpa.parse(bad)  # type: ignore[attr-defined]
    for value in (Decimal("3.1415"), Decimal("-1"), Decimal("NaN"), 3.5):
        with pytest.raises(ValueError, match=r"decimal places|negative|finite Decimal"):
            gpa.format(value)  # type: ignore[attr-defined]
    assert gpa.format(Decimal("-0")) == "0.000"  # type: ignore[attr-defined]


def test_flags_and_required_values() -> None:
    homeless = codec("B21")
    assert homeless.parse("y") is True  # type: ignore[attr-defined]
    assert homeless.format(False) == "N"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="is required"):
        homeless.parse("")  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="is not Y or N"):
        homeless.parse("X")  # type: ignore[attr-defined]
    excused = codec("N07")
    assert excused.parse("E") is True  # type: ignore[attr-defined]
    assert excused.format(False) == "U"  # type: ignore[attr-defined]


def test_text_values() -> None:
    last = codec("B06")
    with pytest.raises(ValueError, match="longer than 60"):
        last.format("x" * 61)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="control character"):
        last.format("a\nb")  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="leading or trailing"):
        last.format("Doe ")  # type: ignore[attr-defined]
    ssid = codec("B05")
    assert ssid.parse("") is None  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="not starting with 0"):
        ssid.parse("0123456789")  # type: ignore[attr-defined]


def test_school_year_is_an_int_of_four_digits() -> None:
    year = codec("B01")
    assert year.parse("2026") == 2026  # type: ignore[attr-defined]
    assert year.format(2026) == "2026"  # type: ignore[attr-defined]
    for bad in (999, True, "2026", -1):
        with pytest.raises(ValueError, match=r"4-digit year|non-negative whole number"):
            year.format(bad)  # type: ignore[attr-defined]


def test_datetimes_are_not_dates() -> None:
    with pytest.raises(ValueError, match="is not a date"):
        codec("B09").format(datetime(2020, 1, 1))  # type: ignore[attr-defined]
