"""Fuzzing every reader of outside files with mutated valid inputs, each within a fixed time budget.

A reader may accept a file or report its problems (naming the file), but must never crash with an
unexpected exception, hang, or leak another file's content. The budget per reader is
``STEWARD_FUZZ_SECONDS`` (default 3 s); hypothesis stops generating once it is spent.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

BUDGET = float(os.environ.get("STEWARD_FUZZ_SECONDS", "3"))


def fuzz_settings(probe: Callable[[], None]) -> settings:
    """Settings whose example count fits the budget: one example costs about one ``probe`` run
    (the reader on its unmutated seed) plus generation. No shrinking: a failure is reported as found
    (shrinking has no time bound)."""
    started = time.monotonic()
    probe()
    each = time.monotonic() - started + 0.004
    return settings(
        max_examples=max(5, min(5000, int(BUDGET / each))),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        print_blob=True,
    )


# -- mutations -------------------------------------------------------------------------------------

_INTERESTING = [
    b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\r", b"\n", b"|", b",", b'"', b"\t", b"=", b"<", b">", b"&",
    b"]]>", b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>", b"&e;", b"9" * 40, b"-1",
    b"2026-02-30", b"\xc3\x28", "é".encode(), "\u202e".encode(), b"%s%n", b"../../", b"'", b";",
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` after a few random edits: flips, insertions (often of tricky tokens), cuts, repeats."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "truncate", "token"]))
        at = draw(st.integers(0, max(len(data), 1))) if data else 0
        if op == "flip" and data:
            index = min(at, len(data) - 1)
            data[index] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "token":
            data[at:at] = draw(st.sampled_from(_INTERESTING))
        elif op == "delete" and data:
            end = min(len(data), at + draw(st.integers(1, 64)))
            del data[at:end]
        elif op == "repeat" and data:
            end = min(len(data), at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end] * draw(st.integers(1, 4))
        elif op == "truncate":
            del data[at:]
    return bytes(data)


class Budget:
    """Lets examples run until the reader's time is spent, then turns them into no-ops.

    Call ``check`` after drawing every input (so replays draw the same data); once an example has
    failed, examples always run, so hypothesis can shrink the failure after the deadline.
    """

    def __init__(self, seconds: float = BUDGET) -> None:
        self.deadline = time.monotonic() + seconds * 1.5
        self.runs = 0
        self.failed = False

    def run(self, body: Callable[[], None]) -> None:
        if not self.failed and time.monotonic() > self.deadline:
            return
        self.runs += 1
        try:
            body()
        except BaseException:
            self.failed = True
            raise


def _fresh(directory: Path) -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


# -- CEDARS file drops -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cedars_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from steward.demo.generator import generate

    root = tmp_path_factory.mktemp("cedars-seed")
    generate(root, districts=1, students=6, years=1, seed=7)
    return next(p for p in root.iterdir() if p.is_dir())


CEDARS_FILES = ("DistrictStudent", "SchoolStudent", "StudentGuardian", "StudentSchedule", "Location")


def test_fuzz_cedars_drop(cedars_seed: Path, tmp_path: Path) -> None:
    from steward.formats.cedars.reader import Drop, validate_drop

    files = {p.name: p.read_bytes() for p in cedars_seed.iterdir()}
    targets = sorted(n for n in files if any(f"_{kind}_" in n for kind in CEDARS_FILES))

    def check(name: str, content: bytes) -> None:
        drop = _fresh(tmp_path / "drop")
        for other in targets:
            (drop / other).write_bytes(files[other])
        (drop / name).write_bytes(content)
        report = validate_drop(drop)
        for error in report.errors:
            assert str(error)
        opened = Drop.open(drop)
        for prefix in opened.files:
            for _ in opened.records(prefix):
                pass

    budget = Budget()

    @fuzz_settings(lambda: check(targets[0], files[targets[0]]))
    @given(st.sampled_from(targets), st.data())
    def run(name: str, data: st.DataObject) -> None:
        content = data.draw(mutated(files[name]))
        budget.run(lambda: check(name, content))

    run()
    assert budget.runs > 3


# -- Ed-Fi XML interchanges ------------------------------------------------------------------------

EDFI_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<InterchangeStudent xmlns="http://ed-fi.org/5.2.0">
  <Student>
    <StudentUniqueId>604821</StudentUniqueId>
    <Name><FirstName>Ana</FirstName><LastSurname>Diaz</LastSurname></Name>
    <BirthData><BirthDate>2014-11-13</BirthDate></BirthData>
  </Student>
  <Student>
    <StudentUniqueId>604822</StudentUniqueId>
    <Name><FirstName>Lee</FirstName><MiddleName>J</MiddleName><LastSurname>Woods</LastSurname></Name>
    <BirthData><BirthDate>2008-09-13</BirthDate></BirthData>
  </Student>
</InterchangeStudent>
"""
EDFI_ENROLLMENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<InterchangeStudentEnrollment xmlns="http://ed-fi.org/5.2.0">
  <StudentSchoolAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>604821</StudentUniqueId></StudentIdentity></StudentReference>
    <SchoolReference><SchoolIdentity><SchoolId>255901001</SchoolId></SchoolIdentity></SchoolReference>
    <EntryDate>2021-08-23</EntryDate>
    <EntryGradeLevelDescriptor>uri://ed-fi.org/GradeLevelDescriptor#Ninth grade</EntryGradeLevelDescriptor>
  </StudentSchoolAssociation>
</InterchangeStudentEnrollment>
"""


def test_fuzz_edfi_xml(tmp_path: Path) -> None:
    from steward.formats.edfi import read_xml, to_canonical

    def check(content: bytes) -> None:
        directory = _fresh(tmp_path / "xml")
        (directory / "Student.xml").write_bytes(content)
        parsed, report = read_xml(directory)
        list(to_canonical(parsed, report))
        assert "root:" not in repr(parsed)  # nothing of /etc/passwd ever comes through
        for issue in report.errors:
            assert "Student.xml" in str(issue)

    budget = Budget()

    @fuzz_settings(lambda: check(EDFI_XML))
    @given(st.sampled_from([EDFI_XML, EDFI_ENROLLMENT]), st.data())
    def run(seed: bytes, data: st.DataObject) -> None:
        content = data.draw(mutated(seed))
        budget.run(lambda: check(content))

    run()
    assert budget.runs > 3


# -- Ed-Fi API resources (JSON files) --------------------------------------------------------------

EDFI_JSON = (
    b'[{"studentUniqueId": "604821", "firstName": "Ana", "lastSurname": "Diaz", "birthDate": "2014-11-13"},'
    b' {"studentUniqueId": "604822", "firstName": "Lee", "lastSurname": "Woods", "birthDate": "2008-09-13"}]'
)


def test_fuzz_edfi_json(tmp_path: Path) -> None:
    from steward.formats.edfi import read_resources, to_canonical

    def check(content: bytes) -> None:
        directory = _fresh(tmp_path / "json")
        (directory / "students.json").write_bytes(content)
        parsed, report = read_resources(directory)
        list(to_canonical(parsed, report))

    budget = Budget()

    @fuzz_settings(lambda: check(EDFI_JSON))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        content = data.draw(mutated(EDFI_JSON))
        budget.run(lambda: check(content))

    run()
    assert budget.runs > 3


# -- OneRoster CSV packages ------------------------------------------------------------------------

ONEROSTER = "oneroster-csv/catalyst-moodle-enrol_oneroster/Test_minimal_data_set"


def test_fuzz_oneroster(shared_data: Path, tmp_path: Path) -> None:
    from steward.formats.oneroster.canonical import to_canonical
    from steward.formats.oneroster.reader import read_package

    files = {p.name: p.read_bytes() for p in (shared_data / ONEROSTER).iterdir() if p.suffix == ".csv"}

    def check(name: str, lenient: bool, content: bytes) -> None:
        package = _fresh(tmp_path / "or")
        for other, seed in files.items():
            (package / other).write_bytes(seed)
        (package / name).write_bytes(content)
        read = read_package(package, lenient=lenient)
        if not read.report.errors:
            list(to_canonical(read))

    budget = Budget()

    @fuzz_settings(lambda: check("users.csv", False, files["users.csv"]))
    @given(st.sampled_from(sorted(files)), st.booleans(), st.data())
    def run(name: str, lenient: bool, data: st.DataObject) -> None:
        content = data.draw(mutated(files[name]))
        budget.run(lambda: check(name, lenient, content))

    run()
    assert budget.runs > 3


def test_oneroster_manifest_not_utf8_is_reported(shared_data: Path, tmp_path: Path) -> None:
    from steward.formats.oneroster.reader import read_package

    for path in (shared_data / ONEROSTER).iterdir():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "manifest.csv").write_bytes(b"propertyName,value\r\nmanifest.version,1.0\xe5\r\n")
    report = read_package(tmp_path).report
    assert any((e.file, e.row, e.field) == ("manifest.csv", 2, "manifest.version") for e in report.errors)


# -- consent list uploads (CSV and XLSX) -----------------------------------------------------------


def _consent_reader() -> tuple[Callable[[bytes, str], object], type[Exception], bytes, bytes]:
    bulk = pytest.importorskip("steward.workflow.consents.bulk", reason="consent uploads not built yet")
    from steward.workflow.common import WorkflowError

    return bulk.read, WorkflowError, bulk.template_csv(), bulk.template_xlsx()


def _corrupt_deflate(xlsx: bytes) -> bytes:
    """The template workbook with one byte of a compressed member changed (a damaged download)."""
    start = xlsx.index(b"xl/worksheets/sheet1.xml") + len(b"xl/worksheets/sheet1.xml") + 4
    return xlsx[:start] + bytes([xlsx[start] ^ 0xFF]) + xlsx[start + 1 :]


def test_fuzz_consent_uploads() -> None:
    read, allowed, csv_seed, xlsx_seed = _consent_reader()

    def check(name: str, content: bytes) -> None:
        try:
            read(content, name)
        except allowed as exc:
            message = str(exc)
        else:
            return
        assert name in message

    budget = Budget()

    @fuzz_settings(lambda: check("list.xlsx", xlsx_seed))
    @given(st.sampled_from([("list.csv", csv_seed), ("list.xlsx", xlsx_seed)]), st.data())
    def run(seed: tuple[str, bytes], data: st.DataObject) -> None:
        name, original = seed
        content = data.draw(mutated(original))
        budget.run(lambda: check(name, content))

    run()
    assert budget.runs > 3


def test_consent_xlsx_with_damaged_compression_is_reported() -> None:
    read, allowed, _, xlsx_seed = _consent_reader()
    with pytest.raises(allowed, match=r"list\.xlsx"):
        read(_corrupt_deflate(xlsx_seed), "list.xlsx")
