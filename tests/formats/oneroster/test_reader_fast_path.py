"""The reader's fast paths report exactly what its field-by-field checks report.

``_RowCheck`` lets a row skip ``_check_row`` only when that would report and change nothing; the
whole-file decode hands ``csv`` the same lines, numbered the same, as the line-by-line decode.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from steward.formats.oneroster import Mode, Version, check_directory, check_package, read_package
from steward.formats.oneroster.reader import _check_row, _Ctx, _Lines, _RowCheck
from steward.formats.oneroster.spec import FILES, GRADES, STATUS, Column, Kind
from steward.formats.report import ConversionReport

#: Values that are clean for some column and defective for others (case, spaces, dates, lists).
VALUES = st.sampled_from(
    [
        "",
        " ",
        "x",
        " x",
        "x ",
        "a b",
        *STATUS[Version.V1_1],
        "Active",
        "tobedeleted ",
        "true",
        "TRUE",
        "false",
        "school",
        "School",
        "student",
        "teacher",
        "primary",
        "scheduled",
        "male",
        "2023-09-01",
        "2023-02-30",
        "2023-9-1",
        "15/06/2023",
        "1/05/2023",
        "2023-09-01T00:00:00.000Z",
        "2023-09-01T00:00:00Z",
        "2023-13-01T00:00:00.000Z",
        "2024",
        "24",
        *GRADES[:6],
        "09,10",
        "09, 10",
        "9",
        "K",
        "{SSID:1}",
        "{SSID:1},{x:2}",
        "{SSID}",
        "a,b",
        "a,,b",
        ",",
    ]
)
TABLES = [(version, spec) for version in Version for spec in FILES[version].values()]


def _slow(row: dict[str, str], spec_index: int, mode: Mode) -> tuple[ConversionReport, dict[str, str]]:
    version, spec = TABLES[spec_index]
    report = ConversionReport()
    checked = dict(row)
    _check_row(checked, spec, mode, version, spec.file_name, 2, _Ctx(report, lenient=False))
    lenient = ConversionReport()
    _check_row(dict(row), spec, mode, version, spec.file_name, 2, _Ctx(lenient, lenient=True))
    report.repairs.extend(lenient.repairs)
    report.issues.extend(lenient.issues)
    return report, checked


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec_index=st.integers(0, len(TABLES) - 1),
    mode=st.sampled_from([Mode.BULK, Mode.DELTA]),
    data=st.data(),
)
def test_a_row_passes_the_fast_check_only_when_the_full_check_is_silent(
    spec_index: int, mode: Mode, data: st.DataObject
) -> None:
    version, spec = TABLES[spec_index]
    # Mostly clean values, so that rows with one or two defects (and clean rows) are common.
    row = {
        c.name: data.draw(st.one_of(st.just(_clean(c)), st.just(_clean(c)), VALUES), label=c.name)
        for c in spec.columns
    }
    report, checked = _slow(row, spec_index, mode)
    silent = not report.issues and not report.repairs and checked == row
    event(f"silent={silent}")
    assert _RowCheck(spec, mode, version)(row) == silent


CLEAN = {
    Kind.ID: "id-1",
    Kind.IDS: "a,b",
    Kind.TEXT: "Text",
    Kind.DATE: "2023-09-01",
    Kind.DATETIME: "2023-09-01T00:00:00.000Z",
    Kind.YEAR: "2024",
    Kind.GRADES: "09,10",
    Kind.USER_IDS: "{SSID:1},{x:2}",
    Kind.LIST: "a,b",
}


def _clean(col: Column) -> str:
    return col.vocab[0] if col.vocab else CLEAN[col.kind]


def test_a_clean_row_of_every_kind_passes_the_fast_check() -> None:
    for version, spec in TABLES:
        for mode in (Mode.BULK, Mode.DELTA):
            row = {c.name: _clean(c) for c in spec.columns}
            check = _RowCheck(spec, mode, version)
            assert check(row), (version, spec.name, mode)
            assert check(row)  # remembered values stay clean
            assert not check({**row, "sourcedId": " id-1"})


def _lines(path: Path) -> list[tuple[int, str]]:
    lines = _Lines(path, None)
    return [(lines.number, line) for line in lines]


def _by_line(path: Path) -> list[tuple[int, str]]:
    lines = _Lines(path, None)
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    return [(lines.number, line) for line in lines._by_line(data)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from('a,"\r\n\x85\u2028\x0b\x0c\u00e9\ufeff'), max_size=40))
def test_whole_file_decoding_numbers_lines_like_line_by_line_decoding(tmp_path: Path, text: str) -> None:
    path = tmp_path / "t.csv"
    for data in (text.encode(), codecs.BOM_UTF8 + text.encode()):
        path.write_bytes(data)
        assert _lines(path) == _by_line(path)


def test_a_broken_package_reads_the_same_in_both_ways(tmp_path: Path) -> None:
    """A package with defects in every kind of column: same issues whether or not a line forces the
    line-by-line decode (an extra file that is not UTF-8 only adds its own issue)."""
    manifest = (
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.orgs,bulk\n"
        "file.academicSessions,bulk\n"
    )
    orgs = (
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\n"
        "d1,,,District,district,1,\r\n"
        "s1,,,School,School,2,d1\r\n"
        's1,active,2023-01-01,"Two\nlines",school,3,d9\r\n'
        "s2,tobedeleted,,,school,4, d1\r"
        ",,,,,,\r\n"
        "s3,active,2023-01-01T00:00:00.000Z,Three,school,5,s1\r\n"
    )
    sessions = (
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\n"
        "y1,,,Year,schoolYear,2023-09-01,2023-06-30,,2024\n"
        "t1,,,Term,term,15/06/2023,1/05/2023,y1,24\n"
    )
    (tmp_path / "manifest.csv").write_text(manifest)
    (tmp_path / "orgs.csv").write_text(orgs, newline="")
    (tmp_path / "academicSessions.csv").write_text(sessions)
    fast = [str(i) for i in check_directory(tmp_path)]
    assert len(fast) >= 9
    (tmp_path / "academicSessions.csv").write_bytes(sessions.encode() + b"t2,,,T\xe9rm,term,,,,\n")
    (tmp_path / "orgs.csv").write_bytes(orgs.encode() + b"s4,,,Sch\xe9ol,school,6,d1\r\n")
    slow = [str(i) for i in check_directory(tmp_path)]
    assert [i for i in slow if "not UTF-8" not in i] == fast
    lenient = read_package(tmp_path, lenient=True)
    check_package(lenient)
    assert lenient.report.repairs  # the wrong-case type and the d/m/y date are repaired
