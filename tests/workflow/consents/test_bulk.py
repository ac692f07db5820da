"""Bulk consent intake: CSV and XLSX lists matched by district ID, name and birth date; every row
that cannot be matched is reported with its reason; all or nothing; the same file twice is one
upload; formula cells refused; 50 MB cap."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from steward.audit.models import AuditEvent
from steward.store.db import transaction
from steward.store.models import Person, Student
from steward.workflow.consents import bulk
from steward.workflow.consents.bulk import UploadError, UploadRejectedError
from steward.workflow.consents.models import ConsentUpload
from steward.workflow.exports import csv_bytes
from steward.workflow.history import HistoryEntry
from steward.workflow.models import Consent, ConsentDataset
from tests.workflow.conftest import YEAR, World
from tests.workflow.helpers import PDF, today


def rows_for(db: Session, w: World, students: list[int]) -> list[list[str]]:
    signed = (today() - timedelta(days=3)).isoformat()
    out = []
    for student_id in students:
        s = db.get_one(Student, student_id)
        guardian = db.get_one(Person, w.guardians[student_id])
        out.append(
            [
                s.local_id,
                s.first_name,
                s.last_name,
                s.birth_date.isoformat(),
                "cedar",
                guardian.display_name,
                signed,
                "",
            ]
        )
    return out


def upload(
    db: Session, w: World, name: str, content: bytes, scans: list[tuple[str, bytes]] | None = None
) -> bulk.UploadResult:
    return bulk.upload(
        db,
        w.p("partner"),
        district_id=w.district,
        list_name=name,
        list_content=content,
        scans=scans if scans is not None else [("forms.pdf", PDF)],
        school_year=YEAR,
        datasets=["attendance", "enrollment"],
        purpose="tutoring program",
        data_dir=w.data_dir,
    )


def counts(db: Session) -> tuple[int, int, int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(Consent)) or 0,
        db.scalar(select(func.count()).select_from(ConsentDataset)) or 0,
        db.scalar(select(func.count()).select_from(ConsentUpload)) or 0,
        db.scalar(select(func.count()).select_from(HistoryEntry)) or 0,
        db.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    )


def test_a_csv_list_is_queued_and_the_same_file_again_changes_nothing(
    sqlite_engine: Engine, sqlite_world: World
) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        content = csv_bytes(bulk.COLUMNS, rows_for(db, w, w.students[:4]))
        result = upload(db, w, "students.csv", content)
        assert len(result.created) == 4
        assert not result.repeated
        assert {c.status for c in result.created} == {"pending"}
        assert all(c.evidence_sha256 for c in result.created)
        assert all(c.signed_by_person_id == w.guardians[c.student_id] for c in result.created)
        before = counts(db)
    with transaction(sqlite_engine) as db:
        again = upload(db, w, "students.csv", content)
        assert again.repeated
        assert again.upload.id == result.upload.id
        assert counts(db) == before
        # A different file naming the same students adds nothing either.
        other = upload(db, w, "students-copy.csv", content + b"\n")
        assert other.created == []
        assert other.already_on_file == 4


def test_an_xlsx_list_with_one_form_per_student(sqlite_engine: Engine, sqlite_world: World) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        rows = rows_for(db, w, w.students[:2])
    rows[0][7], rows[1][7] = "form-a.pdf", "form-b.pdf"
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, [c.upper() if i == 0 else c for i, c in enumerate(bulk.COLUMNS)])
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, row)
    book.close()
    with transaction(sqlite_engine) as db:
        result = upload(
            db, w, "students.xlsx", buffer.getvalue(), [("form-a.pdf", PDF), ("form-b.pdf", PDF + b"b")]
        )
        shas = {c.student_id: c.evidence_sha256 for c in result.created}
        assert len(set(shas.values())) == 2


def test_bad_uploads_give_row_reasons_and_change_nothing(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    w = world
    with transaction(engine) as db:
        good = rows_for(db, w, w.students[:3])
        before = counts(db)

    def rejected(name: str, content: bytes) -> list[str]:
        with pytest.raises((UploadRejectedError, UploadError)) as caught, transaction(engine) as db:
            upload(db, w, name, content)
        return caught.value.problems

    wrong = rejected("wrong.csv", csv_bytes(["id", "first_name", "last_name", "dob"], [["1", "a", "b", "c"]]))
    assert any("row 1 (header): unknown column(s): id, dob" in p for p in wrong)
    assert any("missing column(s): student_id, birth_date, guardian_name, signed_on" in p for p in wrong)

    unknown = [list(good[0]), list(good[1])]
    unknown[1][0] = "999999"
    unknown[0][1] = "Somebody"
    problems = rejected("unknown.csv", csv_bytes(bulk.COLUMNS, unknown))
    assert problems == [
        f"row 2 (student ID {good[0][0]}): the name and birth date do not both match the district's "
        "record for this student ID",
        "row 3 (student ID 999999): no student with district ID 999999 in the district",
    ]

    duplicated = rejected("dup.csv", csv_bytes(bulk.COLUMNS, [good[0], good[1], good[0]]))
    assert duplicated == [
        f"row 4 (student ID {good[0][0]}): duplicate row: student ID {good[0][0]} is already on row 2"
    ]

    formula = [list(good[0]), list(good[1])]
    formula[1][5] = '=HYPERLINK("http://evil.example","click")'
    import csv as csvlib

    buffer = io.StringIO()
    writer = csvlib.writer(buffer)
    writer.writerow(bulk.COLUMNS)
    writer.writerows(formula)  # written raw: the exporter would neutralise it
    raw = buffer.getvalue().encode()
    problems = rejected("formula.csv", raw)
    assert len(problems) == 1
    assert problems[0].startswith(f"row 3 (student ID {good[1][0]}): guardian_name begins with '='")

    guardian = [list(good[0])]
    guardian[0][5] = "Someone Else"
    problems = rejected("guardian.csv", csv_bytes(bulk.COLUMNS, guardian))
    assert "is not a guardian of record" in problems[0]

    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.write(",".join(bulk.COLUMNS).encode() + b"\n")
        handle.truncate(bulk.MAX_BYTES + 1)
    problems = rejected("huge.csv", huge.read_bytes())
    assert "the limit is 50 MB" in problems[0]

    with transaction(engine) as db:
        assert counts(db) == before


def test_problem_report_neutralises_formula_cells() -> None:
    report = bulk.problems_csv([bulk.RowProblem(2, "=1+1", "@bad")]).decode()
    assert "'=1+1" in report
    assert "'@bad" in report


def test_templates_have_the_documented_columns() -> None:
    assert bulk.template_csv().decode().splitlines()[0] == ",".join(bulk.COLUMNS)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(bulk.template_xlsx()), read_only=True).worksheets[0]
    assert list(next(sheet.iter_rows(values_only=True))) == list(bulk.COLUMNS)


def _damaged(xlsx: bytes) -> bytes:
    """The workbook with one byte of its compressed sheet changed (a download cut or altered)."""
    start = xlsx.index(b"xl/worksheets/sheet1.xml") + len(b"xl/worksheets/sheet1.xml") + 4
    return xlsx[:start] + bytes([xlsx[start] ^ 0xFF]) + xlsx[start + 1 :]


def test_a_damaged_xlsx_names_the_file_and_changes_nothing(engine: Engine, world: World) -> None:
    w = world
    with transaction(engine) as db:
        good = rows_for(db, w, w.students[:3])
        before = counts(db)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, bulk.COLUMNS)
    for r, row in enumerate(good, start=1):
        sheet.write_row(r, 0, row)
    book.close()
    for content in (_damaged(buffer.getvalue()), buffer.getvalue()[:-200]):
        with pytest.raises(UploadError) as caught, transaction(engine) as db:
            upload(db, w, "students.xlsx", content)
        assert caught.value.problems[0].startswith("students.xlsx: ")
        assert "XLSX" in caught.value.problems[0] or "workbook" in caught.value.problems[0]
    with transaction(engine) as db:
        assert counts(db) == before
    assert not (w.data_dir / "workflow" / "consents").exists()  # no scanned form kept either
