"""Identity matching: exact only when all three parts agree; near matches for typos and swaps; a
name alone never matches."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.workflow.transfers.matching import (
    Identity,
    classify,
    compare,
    edit_distance,
    normalize_name,
    state_id_variants,
)

ANA = Identity("1234567890", "Ana", "García-López", date(2014, 3, 9))


def test_exact_after_normalising_case_accents_and_punctuation() -> None:
    asked = Identity("123-456-7890", "ANA", "garcia lopez", date(2014, 3, 9))
    result = compare(asked, ANA)
    assert result.exact
    assert not result.near
    assert normalize_name("O'Brien-Núñez") == "obriennunez"


@pytest.mark.parametrize(
    ("asked", "reason"),
    [
        (Identity("1234567890", "Ana", "Garcai-Lopez", date(2014, 3, 9)), "name: 1 letter differ"),
        (Identity("1234567890", "García-López", "Ana", date(2014, 3, 9)), "first and last name swapped"),
        (Identity("1234567890", "Ana", "Garcia", date(2014, 3, 9)), "compound last name"),
        (Identity("1234567890", "Ana", "Garcia-Lopez", date(2014, 9, 3)), "day and month swapped"),
        (Identity("1234567890", "Ana", "Garcia-Lopez", date(2015, 3, 9)), "one digit differs"),
        (Identity("1234567809", "Ana", "Garcia-Lopez", date(2014, 3, 9)), "two are swapped"),
        (Identity("1234567891", "Ana", "Garcia-Lopez", date(2014, 3, 9)), "one digit differs"),
        (Identity("9999999999", "Ana", "Garcia-Lopez", date(2014, 3, 9)), "state ID: different"),
        (Identity("", "Ana", "Garcia-Lopez", date(2014, 3, 9)), "state ID: not given"),
    ],
)
def test_near_matches_need_a_person(asked: Identity, reason: str) -> None:
    result = compare(asked, ANA)
    assert not result.exact
    assert result.near
    assert any(reason in r for r in result.reasons), result.reasons


@pytest.mark.parametrize(
    "asked",
    [
        Identity("9999999999", "Ana", "Garcia-Lopez", date(2001, 1, 1)),  # name alone
        Identity("1234567890", "Bob", "Smith", date(2001, 1, 1)),  # state ID alone
        Identity("1234567891", "Bob", "Smith", date(2014, 3, 9)),  # near ID, other name
        Identity("9999999999", "Ana", "Smith", date(2014, 3, 9)),  # birth date and first name
    ],
)
def test_no_match(asked: Identity) -> None:
    result = compare(asked, ANA)
    assert not result.exact
    assert not result.near


def test_classify_orders_near_matches_best_first() -> None:
    found = classify(
        Identity("1234567890", "Ana", "Garcia-Lopez", date(2014, 9, 3)),
        [(3, ANA), (1, Identity("1234567890", "Anna", "Garcia", date(2014, 9, 3))), (2, ANA)],
    )
    assert found.exact == ()
    assert [key for key, _ in found.near] == [2, 3, 1]


def test_state_id_variants_cover_one_edit() -> None:
    variants = set(state_id_variants("123"))
    assert {"124", "213", "12", "1234", "0123"} <= variants
    assert "123" not in variants
    assert all(edit_distance(v, "123") == 1 for v in variants)


names = st.text(alphabet="abcdefghij", min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(names, names)
def test_edit_distance_is_a_symmetric_capped_metric(a: str, b: str) -> None:
    d = edit_distance(a, b, 3)
    assert d == edit_distance(b, a, 3)
    assert (d == 0) == (a == b)
    assert 0 <= d <= 3


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[0-9]{10}", fullmatch=True),
    names,
    names,
    st.dates(min_value=date(2000, 1, 1), max_value=date(2020, 12, 31)),
)
def test_identity_is_always_an_exact_match_and_never_near(
    sid: str, first: str, last: str, born: date
) -> None:
    who = Identity(sid, first, last, born)
    result = compare(who, who)
    assert result.exact
    assert result.score == 6
    assert not result.near
    assert compare(Identity("", first, last, born), who).exact is False
