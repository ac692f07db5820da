"""Canonical encoding and chain hashing (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.audit.encoding import (
    EncodingError,
    EventActor,
    EventSpec,
    canonical_json,
    chain_hash,
    district_chain_key,
    encode_body,
    format_instant,
    genesis_hash,
    parse_instant,
)

AT = datetime(2026, 11, 22, 10, 32, 45, 910920, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_canonical_json_is_stable_under_key_order_and_round_trips(details: dict[str, object]) -> None:
    text = canonical_json(details)
    assert json.loads(text) == details
    assert canonical_json(dict(reversed(list(details.items())))) == text
    assert "\n" not in text


def test_body_names_every_field_and_is_deterministic() -> None:
    spec = EventSpec(
        action="disclosure",
        district_id=7,
        actor=EventActor(3, "teacher", 9),
        subject_type="student",
        subjects=[12, "13"],
        basis="school_official",
        citation="34 CFR 99.31(a)(1)",
        evidence=("enrollment:1",),
        request_id="req-1",
        details={"b": 1, "a": [AT]},
    )
    body = encode_body(spec, "district:7", 5, AT)
    assert body == encode_body(spec, "district:7", 5, AT)
    parsed = json.loads(body)
    assert parsed["seq"] == 5
    assert parsed["chain"] == "district:7"
    assert parsed["subjects"] == ["12", "13"]
    assert parsed["at"] == "2026-11-22T10:32:45.910920Z"
    assert parsed["details"] == {"a": ["2026-11-22T10:32:45.910920Z"], "b": 1}
    assert body.index('"action"') < body.index('"actor_org"')  # sorted keys


def test_chain_hash_depends_on_previous_hash_and_chain() -> None:
    assert genesis_hash("district:1") != genesis_hash("district:2")
    first = chain_hash(genesis_hash("global"), "{}")
    assert first != chain_hash(genesis_hash("district:1"), "{}")
    assert len(first) == 64
    assert district_chain_key(None) == "global"
    assert district_chain_key(4) == "district:4"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (EventSpec(action="Bad Action"), "dotted lower-case"),
        (EventSpec(action="ok", outcome="has space"), "short token"),
        (EventSpec(action="ok", details={"x": float("nan")}), "finite"),
        (EventSpec(action="ok", details={"x": object()}), "cannot hold"),
    ],
)
def test_bad_events_are_refused_with_a_clear_error(spec: EventSpec, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        encode_body(spec, "global", 1, AT)


def test_instants_are_fixed_width_utc_text() -> None:
    assert format_instant(AT) == "2026-11-22T10:32:45.910920Z"
    assert parse_instant(format_instant(AT)) == AT
    with pytest.raises(EncodingError):
        format_instant(datetime(2026, 1, 1))


def test_absent_facts_are_left_out_of_the_body() -> None:
    body = json.loads(encode_body(EventSpec(action="login"), "global", 1, AT))
    assert body == {
        "v": 1,
        "chain": "global",
        "seq": 1,
        "at": "2026-11-22T10:32:45.910920Z",
        "action": "login",
        "outcome": "ok",
    }
