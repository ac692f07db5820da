"""The byte-offset index finds exactly the lines the reference reader (a full scan) finds, for any
set of students; damaged lines are named by file, line and element; a changed file is re-indexed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.formats.cedars import Drop
from steward.products import records as reference
from steward.products.portal import lines
from steward.products.portal.rows import Reference
from steward.products.records import SourceRecordsError

STUDENT_FILES = ("B", "C", "E", "H", "I", "M", "N", "R", "XA")


def _district(portal_data: Path) -> Path:
    return sorted((portal_data / "demo" / "region").iterdir())[0]


def _ids(directory: Path) -> list[str]:
    drop = Drop.open(directory)
    return sorted({x.student_id for x in drop.records("B")})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_index_reads_what_a_full_scan_reads(portal_data: Path, data: st.DataObject) -> None:
    directory = _district(portal_data)
    code = directory.name
    everyone = _ids(directory)
    chosen = data.draw(st.lists(st.sampled_from(everyone), max_size=40, unique=True))
    chosen += data.draw(st.lists(st.sampled_from(["", "nobody", "1", everyone[0] + "9"]), max_size=2))
    got = lines.read_students(directory, code, chosen, STUDENT_FILES)
    want = reference.read_students(directory, code, chosen, prefixes=STUDENT_FILES)
    assert sorted(map(repr, got.records)) == sorted(map(repr, want.records))
    assert {x.student_id for x in got.records} <= set(chosen)


def test_every_student_of_a_file_is_indexed(portal_data: Path) -> None:
    directory = _district(portal_data)
    drop = Drop.open(directory)
    for prefix in STUDENT_FILES:
        file = drop.files[prefix]
        index = lines.index_of(file.path, file.spec)
        keys = {k.decode() for k in index.keys.tolist()}
        assert keys == {x.student_id for x in drop.records(prefix)}, prefix
        assert index.lines == sum(1 for _ in drop.records(prefix))


def _copy(portal_data: Path, tmp_path: Path) -> Path:
    target = tmp_path / _district(portal_data).name
    shutil.copytree(_district(portal_data), target)
    return target


def _file(directory: Path, prefix: str) -> Path:
    return Drop.open(directory).files[prefix].path


def test_unsorted_padded_and_crlf_files_are_read_like_the_reader(portal_data: Path, tmp_path: Path) -> None:
    directory = _copy(portal_data, tmp_path)
    path = _file(directory, "N")
    rows = path.read_bytes().split(b"\n")
    body = [r for r in rows if r]
    body.reverse()  # a drop not grouped by student
    body[0] = body[0].replace(b"\t", b" \t", 3)  # padded elements, as some exports write them
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(body) + b"\r\n\r\n")
    ids = _ids(directory)[:25]
    got = lines.read_students(directory, directory.name, ids, ("N",))
    want = reference.read_students(directory, directory.name, ids, prefixes=("N",))
    assert sorted(map(repr, got.records)) == sorted(map(repr, want.records))
    assert got.records


def test_a_damaged_line_is_named(portal_data: Path, tmp_path: Path) -> None:
    directory = _copy(portal_data, tmp_path)
    path = _file(directory, "XA")
    rows = path.read_text().split("\n")
    victim = rows[3].split("\t")
    victim[-1] = "7"  # performance level outside 1-4
    rows[3] = "\t".join(victim)
    path.write_text("\n".join(rows))
    with pytest.raises(SourceRecordsError) as caught:
        lines.read_students(directory, directory.name, [victim[2]], ("XA",))
    assert caught.value.file == path.name
    assert caught.value.line == 4
    assert caught.value.element


def test_a_changed_file_is_indexed_again(portal_data: Path, tmp_path: Path) -> None:
    directory = _copy(portal_data, tmp_path)
    path = _file(directory, "N")
    first = lines.read_students(directory, directory.name, _ids(directory), ("N",))
    kept = path.read_text().splitlines()[:1]
    path.write_text("\n".join(kept) + "\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = lines.read_students(directory, directory.name, _ids(directory), ("N",))
    assert len(first.records) > 1
    assert len(second.records) == 1


def test_only_the_asked_files_are_read(portal_data: Path, tmp_path: Path) -> None:
    directory = _copy(portal_data, tmp_path)
    ids = _ids(directory)[:5]
    _file(directory, "I").write_text(f"2026\t{directory.name}\t{ids[0]}\tbroken\n")
    found = lines.read_students(directory, directory.name, ids, ("N", "XA"))
    assert {type(x).__name__ for x in found.records} <= {"Absence", "AssessmentResult"}
    with pytest.raises(SourceRecordsError, match="elements, expected"):
        lines.read_students(directory, directory.name, ids, ("I",))


def test_reference_table_is_kept_per_file_version(portal_data: Path, tmp_path: Path) -> None:
    """The keyed reference rows equal those read with the students, are built once per version of
    the files, and again when a file changes."""
    directory = _copy(portal_data, tmp_path)
    prefixes = ("A", "D", "F", "G")
    found = lines.read_students(directory, directory.name, [], (), references=prefixes)
    want = Reference.of(found.locations, found.courses, found.staff, found.staff_schedules)
    first = lines.reference_table(directory, directory.name, prefixes)
    assert first == want
    assert first.schools
    assert first.courses
    assert first.teachers
    assert lines.reference_table(directory, directory.name, prefixes) is first
    assert lines.reference_table(directory, directory.name, ("A",)).courses == {}
    path = _file(directory, "A")
    kept = path.read_text().splitlines()[:1]
    path.write_text("\n".join(kept) + "\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = lines.reference_table(directory, directory.name, prefixes)
    assert len(again.schools) == 1 < len(first.schools)
    assert again.courses == first.courses
