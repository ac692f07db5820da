"""Hypothesis strategies that build valid canonical records for any CEDARS file spec."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from steward.formats.cedars.codec import element_codecs
from steward.formats.cedars.layouts import ElementSpec, ElementType, FileSpec

#: Delimiters the round-trip tests use; generated text never contains them.
DELIMITERS = ("\t", "|", ",", ";")

TEXT_CHARS = st.characters(
    blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
    blacklist_characters="".join(DELIMITERS) + "\u2028\u2029",
)


def _text(el: ElementSpec, min_size: int) -> st.SearchStrategy[str]:
    return st.text(TEXT_CHARS, min_size=min_size, max_size=el.length).filter(
        lambda s: not s.startswith(" ") and not s.endswith(" ")
    )


def value_strategy(el: ElementSpec, kind: type) -> st.SearchStrategy[Any]:
    """Valid non-empty values of one element, of the record attribute's kind."""
    canonical = sorted(set(el.codes.values())) if el.codes is not None else None
    if el.type is ElementType.DATE:
        return st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
    if el.type is ElementType.FLAG:
        return st.booleans()
    if el.type is ElementType.NUMERIC:
        top = Decimal(10) ** (el.length - el.scale) - Decimal(1).scaleb(-el.scale)
        if el.max_value is not None:
            top = min(top, el.max_value)
        return st.decimals(min_value=0, max_value=top, places=el.scale, allow_nan=False, allow_infinity=False)
    if kind is int:
        if canonical is not None:
            return st.sampled_from([int(c) for c in canonical])
        if el.type is ElementType.INT:
            return st.integers(0, 10**el.length - 1)
        return st.integers(1000, 9999)  # 4-digit years
    if canonical is not None:
        return st.sampled_from(canonical)
    if el.pattern is not None:
        return st.from_regex(el.pattern, fullmatch=True)
    if el.type is ElementType.INT:
        return st.from_regex(rf"\d{{1,{el.length}}}", fullmatch=True)
    return _text(el, 1)


def record_strategy(spec: FileSpec, **fixed: Any) -> st.SearchStrategy[Any]:
    """Valid records of ``spec`` (row rules satisfied); ``fixed`` pins attributes."""
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for codec in element_codecs(spec):
        el = codec.spec
        if el.attribute is None:
            continue
        if el.attribute in fixed:
            fields[el.attribute] = st.just(fixed[el.attribute])
            continue
        values = value_strategy(el, codec.kind)
        if not el.required:
            values = (st.none() if codec.optional else st.just("")) | values
        fields[el.attribute] = values
    return st.fixed_dictionaries(fields).map(lambda kw: _fix(spec, spec.record_type(**kw)))


def _fix(spec: FileSpec, record: Any) -> Any:
    """Repair row rules: swap dates out of order, fill elements required by another."""
    for first_code, later_code in spec.date_order:
        a, b = spec.element(first_code).attribute, spec.element(later_code).attribute
        assert a is not None
        assert b is not None
        start, end = getattr(record, a), getattr(record, b)
        if start is not None and end is not None and end < start:
            record = dataclasses.replace(record, **{a: end, b: start})
    for code, trigger in spec.required_with:
        a, t = spec.element(code).attribute, spec.element(trigger).attribute
        assert a is not None
        assert t is not None
        if getattr(record, t) not in (None, "") and getattr(record, a) in (None, ""):
            record = dataclasses.replace(record, **{a: "T0"})
    if spec.prefix == "B" and record.grade_level in {"9", "10", "11", "12"}:
        record = dataclasses.replace(
            record,
            grad_requirements_year=record.grad_requirements_year or "2030",
            expected_grad_year=record.expected_grad_year or "2030",
        )
    return record
