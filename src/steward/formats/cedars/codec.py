"""Text <-> value conversion of CEDARS elements, shared by the reader and the writer.

The writer formats a value and then runs the reader's own text check on the result, so it can never
write a value the reader rejects. Each element compiles once to a pair of closures; errors are
``ValueError`` carrying only the message (the caller adds file, line and element).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from steward.formats.cedars.layouts import ElementSpec, ElementType, FileSpec

#: Characters no value may contain: C0/C1 controls (tab, CR, LF included) and Unicode line breaks.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_NUMBER = re.compile(r"(\d*)(?:\.(\d*))?")
_DIGITS = re.compile(r"\d+")

Parse = Callable[[str], Any]
Format = Callable[[Any], str]

_KINDS = (str, int, date, Decimal, bool)


def format_date(day: date) -> str:
    """MM/DD/YYYY with leading zeros."""
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def parse_date(text: str) -> date:
    """MM/DD/YYYY, leading zeros optional; ValueError names the expected form."""
    m = _DATE.fullmatch(text)
    if m is not None:
        try:
            return date(int(m[3]), int(m[1]), int(m[2]))
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date (MM/DD/YYYY)")


@dataclass(frozen=True, slots=True)
class ElementCodec:
    """One element's compiled conversions. ``parse`` takes text already stripped of spaces.

    ``format_memo`` holds values of exactly type ``kind`` already formatted and ``parse_memo`` texts
    already parsed (see ``_memo``); generated row formatters and parsers look them up inline before
    calling ``format`` or ``parse``.
    """

    spec: ElementSpec
    kind: type
    optional: bool  # the record attribute accepts None
    parse: Parse
    format: Format
    format_memo: dict[Any, str] = field(default_factory=dict)
    parse_memo: dict[str, Any] = field(default_factory=dict)


def _attribute_kind(record_type: type, attribute: str) -> tuple[type, bool]:
    hints = typing.get_type_hints(record_type)
    hint = hints[attribute]
    optional = False
    if isinstance(hint, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1 or len(typing.get_args(hint)) != 2:
            raise TypeError(f"{record_type.__name__}.{attribute}: unsupported type {hint}")
        hint, optional = args[0], True
    if hint not in _KINDS:
        raise TypeError(f"{record_type.__name__}.{attribute}: unsupported type {hint}")
    return hint, optional


def _text_checker(el: ElementSpec) -> Callable[[str], str]:
    """Validate non-empty text for a text/int/flag element; return its canonical spelling."""
    length = el.length
    regex = el.regex
    hint = el.pattern_hint or f"does not match {el.pattern}"
    codes = el.codes
    known = ", ".join(dict.fromkeys(codes.values())) if codes is not None else ""
    digits_only = el.type is ElementType.INT
    search_control = CONTROL.search

    def check(text: str) -> str:
        if search_control(text):
            raise ValueError(f"{text!r} contains a control character or line break")
        if digits_only:
            if not _DIGITS.fullmatch(text):
                raise ValueError(f"{text!r} is not a whole number")
            if len(text) > length:
                raise ValueError(f"{text!r} has more than {length} digits")
        elif len(text) > length:
            raise ValueError(f"{text!r} is longer than {length} characters")
        if regex is not None and not regex.fullmatch(text):
            raise ValueError(f"{text!r} {hint}")
        if codes is not None:
            canonical = codes.get(text)
            if canonical is None:
                raise ValueError(f"{text!r} is not a known code ({known})")
            return canonical
        return text

    return check


def _numeric_checker(el: ElementSpec) -> Callable[[str], Decimal]:
    whole_digits = el.length - el.scale
    scale = el.scale
    max_value = el.max_value

    def check(text: str) -> Decimal:
        m = _NUMBER.fullmatch(text)
        if m is None or not (m[1] or m[2]):
            raise ValueError(f"{text!r} is not a number (numeric({el.length},{scale}))")
        whole, frac = m[1].lstrip("0"), m[2] or ""
        if len(whole) > whole_digits or len(frac) > scale:
            raise ValueError(f"{text!r} does not fit numeric({el.length},{scale})")
        value = Decimal(text)
        if max_value is not None and value > max_value:
            raise ValueError(f"{text!r} is more than {max_value}")
        return value

    return check


def _compile(el: ElementSpec, kind: type, optional: bool) -> tuple[Parse, Format]:
    required = el.required
    empty: Any = None if optional else ""
    if not required and not optional and kind is not str:
        raise TypeError(f"{el.label}: optional element needs an optional attribute, not {kind.__name__}")

    def missing() -> Any:
        if required:
            raise ValueError("is required but empty")
        return empty

    t = el.type
    if t is ElementType.DATE:
        if kind is not date:
            raise TypeError(f"{el.label}: a date element needs a date attribute")

        def parse(text: str) -> Any:
            return parse_date(text) if text else missing()

        def fmt(value: Any) -> str:
            if value is None:
                missing()
                return ""
            if not isinstance(value, date) or isinstance(value, datetime):
                raise ValueError(f"{value!r} is not a date")
            return format_date(value)

        return parse, fmt

    if t is ElementType.NUMERIC:
        if kind is not Decimal:
            raise TypeError(f"{el.label}: a numeric element needs a Decimal attribute")
        check_number = _numeric_checker(el)
        quantum = Decimal(1).scaleb(-el.scale)

        def parse(text: str) -> Any:
            return check_number(text) if text else missing()

        def fmt(value: Any) -> str:
            if value is None:
                missing()
                return ""
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValueError(f"{value!r} is not a finite Decimal")
            try:
                q = value.quantize(quantum)
            except InvalidOperation:
                raise ValueError(f"{value} does not fit numeric({el.length},{el.scale})") from None
            if q != value:
                raise ValueError(f"{value} has more than {el.scale} decimal places")
            if q.is_signed():
                if q != 0:
                    raise ValueError(f"{value} is negative")
                q = abs(q)
            text = f"{q:f}"
            check_number(text)
            return text

        return parse, fmt

    if t is ElementType.FLAG:
        if kind is not bool:
            raise TypeError(f"{el.label}: a flag element needs a bool attribute")
        true_code, false_code = el.true_false
        table = {true_code: True, false_code: False}
        codes_text = f"{true_code} or {false_code}"

        def parse(text: str) -> Any:
            if not text:
                return missing()
            value = table.get(text.upper())
            if value is None:
                raise ValueError(f"{text!r} is not {codes_text}")
            return value

        def fmt(value: Any) -> str:
            if value is None:
                missing()
                return ""
            if value is True:
                return true_code
            if value is False:
                return false_code
            raise ValueError(f"{value!r} is not True or False")

        return parse, fmt

    # char, varchar, int: text checked, then converted to the attribute's kind.
    check = _text_checker(el)
    if kind is str:

        def parse(text: str) -> Any:
            return check(text) if text else missing()

        def fmt(value: Any) -> str:
            if value is None or value == "":
                missing()
                return ""
            if not isinstance(value, str):
                raise ValueError(f"{value!r} is not text")
            if value[0] == " " or value[-1] == " ":
                raise ValueError(f"{value!r} has leading or trailing spaces")
            return check(value)

        return parse, fmt

    if kind is int:

        def parse(text: str) -> Any:
            if not text:
                return missing()
            canonical = check(text)
            try:
                return int(canonical)
            except ValueError:
                raise ValueError(f"{text!r} is not a whole number") from None

        def fmt(value: Any) -> str:
            if value is None:
                missing()
                return ""
            if type(value) is not int or value < 0:
                raise ValueError(f"{value!r} is not a non-negative whole number")
            return check(str(value))

        return parse, fmt

    raise TypeError(f"{el.label}: a {t.value} element cannot fill a {kind.__name__} attribute")


def _unmapped(el: ElementSpec) -> tuple[Parse, Format]:
    """An element Steward does not carry: validated as text on read, always written empty."""
    check = _text_checker(el)

    def parse(text: str) -> Any:
        if text:
            check(text)
        elif el.required:
            raise ValueError("is required but empty")
        return None

    def fmt(value: Any) -> str:
        return ""

    return parse, fmt


MEMO_LIMIT = 8192


def _memo(
    convert: Callable[[Any], Any], exact: type, limit: int = MEMO_LIMIT
) -> tuple[Callable[[Any], Any], dict[Any, Any]]:
    """Remember the results of ``convert`` for the last up to ``limit`` inputs of type ``exact``.

    Codes, names, dates and amounts repeat millions of times in a large drop, and a student's IDs
    repeat on all of the student's rows; only successful conversions are kept (errors are raised
    every time), only for the exact type so that ``True`` never hits the entry of ``1``, and the
    table starts afresh when full. Returns the memoised function and its table.
    """
    memo: dict[Any, Any] = {}
    get = memo.get

    def cached(value: Any) -> Any:
        if type(value) is not exact:
            return convert(value)
        try:
            hit = get(value)
        except TypeError:  # unhashable, e.g. Decimal("sNaN")
            return convert(value)
        if hit is None:
            hit = convert(value)
            if len(memo) >= limit:
                memo.clear()
            memo[value] = hit
        return hit

    return cached, memo


@cache
def element_codecs(spec: FileSpec) -> tuple[ElementCodec, ...]:
    """The compiled codec of every element of ``spec``, in file order (memoised conversions)."""
    out = []
    for el in spec.elements:
        if el.attribute is None:
            parse, fmt = _unmapped(el)
            out.append(ElementCodec(el, str, True, parse, fmt))
            continue
        kind, optional = _attribute_kind(spec.record_type, el.attribute)
        parse, fmt = _compile(el, kind, optional)
        cached_parse, parse_memo = _memo(parse, str)
        cached_format, format_memo = _memo(fmt, kind)
        out.append(ElementCodec(el, kind, optional, cached_parse, cached_format, format_memo, parse_memo))
    return tuple(out)


RowRule = Callable[[Any], tuple[ElementSpec, str] | None]


@cache
def row_rules(spec: FileSpec) -> tuple[RowRule, ...]:
    """Checks that span elements of one row (later date >= earlier date, required-when)."""
    rules: list[RowRule] = []
    for first_code, later_code in spec.date_order:
        first, later = spec.element(first_code), spec.element(later_code)
        rules.append(_date_order_rule(first, later))
    for code, trigger_code in spec.required_with:
        rules.append(_required_with_rule(spec.element(code), spec.element(trigger_code)))
    if spec.record_type.__name__ == "DistrictStudent":
        rules.append(_high_school_rule(spec))
    return tuple(rules)


def _date_order_rule(first: ElementSpec, later: ElementSpec) -> RowRule:
    a, b = first.attribute, later.attribute
    assert a is not None
    assert b is not None

    def rule(record: Any) -> tuple[ElementSpec, str] | None:
        start, end = getattr(record, a), getattr(record, b)
        if start is not None and end is not None and end < start:
            return later, f"{format_date(end)} is before {first.label} {format_date(start)}"
        return None

    return rule


def _required_with_rule(el: ElementSpec, trigger: ElementSpec) -> RowRule:
    a, t = el.attribute, trigger.attribute
    assert a is not None
    assert t is not None

    def rule(record: Any) -> tuple[ElementSpec, str] | None:
        if getattr(record, t) not in (None, "") and getattr(record, a) in (None, ""):
            return el, f"is required when {trigger.label} is set"
        return None

    return rule


_HIGH_SCHOOL = frozenset({"9", "10", "11", "12"})


def _high_school_rule(spec: FileSpec) -> RowRule:
    grad_req, expected = spec.element("B26"), spec.element("B27")

    def rule(record: Any) -> tuple[ElementSpec, str] | None:
        if record.grade_level in _HIGH_SCHOOL:
            if not record.grad_requirements_year:
                return grad_req, "is required for grades 9-12"
            if not record.expected_grad_year:
                return expected, "is required for grades 9-12"
        return None

    return rule


def attribute_names(spec: FileSpec) -> Mapping[str, str]:
    """Element code -> record attribute, for mapped elements."""
    return {el.code: el.attribute for el in spec.elements if el.attribute is not None}
