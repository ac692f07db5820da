"""Round trip for every file type: records -> write -> read -> the same records, any delimiter."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.formats.cedars import (
    FILES,
    CedarsError,
    CedarsWriteError,
    FileSpec,
    FileWriter,
    read_file,
    write_file,
)
from steward.formats.cedars.codec import element_codecs
from tests.formats.cedars.strategies import DELIMITERS, record_strategy

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _spell_key(spec: FileSpec, record: Any) -> tuple[Any, ...]:
    """Records of one key per list, so spells can never overlap."""
    if spec.spells is None:
        return (id(record),)
    return tuple(getattr(record, a) for a in spec.spells.key)


def _roundtrip(spec: FileSpec, records: list[Any], delimiter: str) -> list[Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drop.txt"
        assert write_file(path, records, file=spec, delimiter=delimiter) == len(records)
        reader = read_file(path, spec, delimiter=delimiter)
        back = list(reader)
        assert reader.errors == []
        return back


@pytest.mark.parametrize("spec", FILES, ids=lambda s: s.prefix)
def test_every_file_type_round_trips(spec: FileSpec) -> None:
    @SETTINGS
    @given(
        records=st.lists(record_strategy(spec), max_size=6, unique_by=lambda r: _spell_key(spec, r)),
        delimiter=st.sampled_from(DELIMITERS),
    )
    def check(records: list[Any], delimiter: str) -> None:
        assert _roundtrip(spec, records, delimiter) == records

    check()


# Arbitrary (often invalid) values: whatever the writer accepts, the reader must accept too.
_ANY_VALUE = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-5, 10**11),
    st.booleans(),
    st.dates(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(["01", "K", "PK", "13", "Y", "n", "1234567890", "0123456789", " x", "a\tb", "a|b"]),
)


@pytest.mark.parametrize("spec", FILES, ids=lambda s: s.prefix)
def test_writer_never_writes_what_the_reader_rejects(spec: FileSpec) -> None:
    attrs = [c.spec.attribute for c in element_codecs(spec) if c.spec.attribute is not None]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        base=record_strategy(spec),
        changes=st.dictionaries(st.sampled_from(attrs), _ANY_VALUE, max_size=3),
        delimiter=st.sampled_from(DELIMITERS),
    )
    def check(base: Any, changes: dict[str, Any], delimiter: str) -> None:
        record = dataclasses.replace(base, **changes)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "one.txt"
            refused: CedarsError | None = None
            with FileWriter(path, spec, delimiter=delimiter) as writer:
                try:
                    writer.write(record)
                except CedarsWriteError as e:
                    refused = e.error
            if refused is not None:
                assert (refused.file, refused.line) == ("one.txt", 1)
                assert refused.element is None or refused.element.startswith(spec.prefix)
                return
            reader = read_file(path, spec, delimiter=delimiter)
            assert len(list(reader)) == 1, [str(e) for e in reader.errors]

    check()


def test_padded_grade_levels_are_written_unpadded() -> None:
    from steward.domain.records import AssessmentResult

    rec = AssessmentResult(2026, "90001", "S1", None, "101", "SBA", "ELA", "03", date(2026, 4, 1), 2400, 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "xa.txt"
        write_file(path, [rec])
        assert path.read_text().split("\t")[7] == "3"
        assert next(iter(read_file(path, "XA"))).grade_tested == "3"


def test_numeric_values_are_written_at_their_scale() -> None:
    from steward.domain.records import Absence

    rec = Absence(2026, "90001", "S1", None, "101", date(2025, 9, 9), True, Decimal("0.5"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "n.txt"
        write_file(path, [rec], delimiter="|")
        assert path.read_text() == "2026|90001|S1||101|09/09/2025|E|0.50\n"
        assert list(read_file(path, "N", delimiter="|")) == [rec]
