"""The transfer product: only the chosen students' lines are read, cut to the allowed datasets,
with their references, in each receiving format; bad source lines are named."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import pytest

from steward.domain import records as r
from steward.domain.datasets import Dataset
from steward.products.records import SEARCH_LIMIT, SourceRecordsError, read_students
from steward.products.transfer import CEDARS_DATASETS, TransferFormat, select, write_files
from tests.workflow.transfers.region import generate_region


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[str]]:
    root, (a, _) = generate_region(tmp_path_factory.mktemp("drops"), students=60)
    ids = [
        line.split("\t")[3] for line in next((root / a).glob("*_DistrictStudent_*")).read_text().splitlines()
    ]
    return root / a, a, sorted(set(ids))


def _full(directory: Path, district: str) -> list[r.Record]:
    from steward.formats.cedars import Drop

    out: list[r.Record] = []
    opened = Drop.open(directory)
    for prefix in opened.files:
        out.extend(opened.records(prefix))
    return out


def test_reads_exactly_the_records_of_the_chosen_students(drop: tuple[Path, str, list[str]]) -> None:
    directory, district, ids = drop
    everything = _full(directory, district)
    for chosen in (ids[:1], ids[: SEARCH_LIMIT + 5]):  # byte search, then line scan
        got = read_students(directory, district, chosen)
        expected = [x for x in everything if getattr(x, "student_id", None) in set(chosen)]
        assert sorted(map(repr, got.records)) == sorted(map(repr, expected))
        assert got.found == set(chosen)
        assert got.locations
        assert got.courses


def test_select_keeps_allowed_datasets_and_never_the_ssn(drop: tuple[Path, str, list[str]]) -> None:
    directory, district, ids = drop
    source = read_students(directory, district, ids[:3])
    source.records = [
        dataclasses.replace(x, ssn="123456789") if isinstance(x, r.DistrictStudent) else x
        for x in source.records
    ]
    everything = select(source, dict.fromkeys(ids[:3], frozenset(CEDARS_DATASETS)))
    assert all(x.ssn == "" for x in everything if isinstance(x, r.DistrictStudent))
    narrow = select(source, dict.fromkeys(ids[:3], frozenset({Dataset.ENROLLMENT})))
    kinds = {type(x) for x in narrow}
    assert r.Absence not in kinds
    assert r.StudentRace not in kinds
    assert r.SchoolStudent in kinds
    students = [x for x in narrow if isinstance(x, r.DistrictStudent)]
    assert students
    assert all(x.zip_code == "" and x.ethnicity_code == "" for x in students)
    only_one = [
        x
        for x in select(source, {ids[0]: frozenset({Dataset.ATTENDANCE})})
        if getattr(x, "student_id", ids[0]) != ids[0]
    ]
    assert not only_one


@pytest.mark.parametrize("fmt", list(TransferFormat))
def test_every_format_writes_readable_files(
    drop: tuple[Path, str, list[str]], tmp_path: Path, fmt: TransferFormat
) -> None:
    directory, district, ids = drop
    source = read_students(directory, district, ids[:2])
    records = select(source, dict.fromkeys(ids[:2], frozenset(CEDARS_DATASETS)))
    files = write_files(records, fmt, tmp_path / "out", district, date(2026, 11, 22))
    assert files
    assert ids[0].encode() in b"".join(p.read_bytes() for p in files.values())


def test_a_bad_line_of_a_chosen_student_is_named(drop: tuple[Path, str, list[str]], tmp_path: Path) -> None:
    directory, district, ids = drop
    copy = tmp_path / "drop"
    shutil.copytree(directory, copy)
    [path] = copy.glob("*_DistrictStudent_*")
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if line.split("\t")[3] == ids[0])
    fields = lines[number - 1].split("\t")
    fields[8] = "13/45/2015"
    lines[number - 1] = "\t".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceRecordsError) as caught:
        read_students(copy, district, [ids[0]])
    assert caught.value.line == number
    assert caught.value.element is not None
    assert caught.value.element.startswith("B09")
    assert path.name in str(caught.value)
    read_students(copy, district, [ids[1]])  # other students' lines are not even parsed
    with pytest.raises(SourceRecordsError, match="holds no CEDARS files"):
        read_students(tmp_path, district, [ids[0]])
