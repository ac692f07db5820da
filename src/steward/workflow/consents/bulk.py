"""Bulk consent intake: a partner uploads its student list (CSV or XLSX, see
docs/workflow/consent-upload.md) with the scanned forms; every row is matched to a student by
district student ID, name and birth date, and to a guardian of record. Any row that cannot be
matched is reported with its reason and nothing is stored (all or nothing per upload); otherwise
the consents are queued, pending, for the district's review. Uploading the same file again changes
nothing. Uploads are read with openpyxl in read-only mode and never evaluated.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from steward.domain.datasets import Dataset
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear, local_date, local_midnight
from steward.policy.facts import ConsentStatus
from steward.store.base import now_utc
from steward.store.models import Guardianship, Organization, Person, SchoolEnrollment, Student
from steward.workflow import files, history
from steward.workflow.common import NotAllowedError, WorkflowError, people_in_role, timezone_of
from steward.workflow.consents.models import ConsentUpload
from steward.workflow.consents.service import check_dates, consent_window
from steward.workflow.exports import csv_bytes, is_formula, xlsx_bytes
from steward.workflow.history import HistoryEntry
from steward.workflow.models import Consent, ConsentDataset
from steward.workflow.notifications.service import Message, notify

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 50_000
COLUMNS = (
    "student_id",
    "first_name",
    "last_name",
    "birth_date",
    "school",
    "guardian_name",
    "signed_on",
    "form_file",
)
REQUIRED = ("student_id", "first_name", "last_name", "birth_date", "guardian_name", "signed_on")
DESCRIPTIONS = {
    "student_id": "the district student ID (required)",
    "first_name": "the student's legal first name (required)",
    "last_name": "the student's legal last name (required)",
    "birth_date": "the student's birth date, YYYY-MM-DD (required)",
    "school": "the school code or name (optional; checked when given)",
    "guardian_name": "the full name of the parent or guardian who signed (required)",
    "signed_on": "the date on the signed form, YYYY-MM-DD (required)",
    "form_file": "the file name of this student's scanned form, when forms are uploaded one per student",
}
SCAN_TYPES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


class UploadError(WorkflowError):
    """The file as a whole cannot be read (size, type, columns)."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    student_id: str
    reason: str

    def __str__(self) -> str:
        who = f" (student ID {self.student_id})" if self.student_id else ""
        return f"row {self.row}{who}: {self.reason}"


class UploadRejectedError(WorkflowError):
    """Rows that could not be matched; nothing was stored."""

    def __init__(self, problems: Sequence[RowProblem], rows: int) -> None:
        self.rows = rows
        self.row_problems = list(problems)
        super().__init__([str(p) for p in problems])


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    values: dict[str, str]


@dataclass
class UploadResult:
    upload: ConsentUpload
    created: list[Consent] = field(default_factory=list)
    already_on_file: int = 0
    repeated: bool = False


# -- reading -------------------------------------------------------------------------------------


def _header(name: object) -> str:
    return str(name or "").strip().lower().replace(" ", "_").replace("-", "_")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_rows(content: bytes, filename: str) -> Iterable[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(f"{filename}: not UTF-8 text (byte {exc.start}); save the CSV as UTF-8") from exc
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise UploadError(f"{filename}: not a readable CSV file ({exc})") from exc


#: What openpyxl raises on a damaged workbook, while opening it or while streaming its sheet: a
#: broken ZIP or deflate stream, a missing part, malformed XML (lxml's and ElementTree's errors
#: are SyntaxErrors), values it cannot convert.
_DAMAGED: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    OSError,
    SyntaxError,
)


def _xlsx_rows(content: bytes, filename: str) -> Iterable[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    damaged = (*_DAMAGED, InvalidFileException)
    try:
        # read_only streams the sheet; data_only=False shows a formula as its text (=...), which
        # is then refused instead of silently taking a cached value.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except damaged as exc:
        raise UploadError(f"{filename}: not a readable XLSX workbook ({exc.__class__.__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        out: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            out.append([_cell(v) for v in values])
            if len(out) > MAX_ROWS + 1:
                break
        return out
    except damaged as exc:
        raise UploadError(
            f"{filename}: the workbook is damaged and cannot be read ({exc.__class__.__name__}); "
            "save it again from the spreadsheet program, or upload the list as CSV"
        ) from exc
    finally:
        workbook.close()


def read(content: bytes, filename: str) -> tuple[list[str], list[Row]]:
    """The columns and non-empty rows of an upload (row numbers as a spreadsheet shows them)."""
    if len(content) > MAX_BYTES:
        raise UploadError(
            f"{filename}: the file is {len(content):,} bytes; the limit is 50 MB ({MAX_BYTES:,} bytes)"
        )
    if not content:
        raise UploadError(f"{filename}: the file is empty")
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        table = list(_csv_rows(content, filename))
    elif suffix == ".xlsx":
        table = list(_xlsx_rows(content, filename))
    else:
        raise UploadError(f"{filename}: upload the student list as .csv or .xlsx")
    if not table:
        raise UploadError(f"{filename}: the file has no header row")
    header = [_header(h) for h in table[0]]
    while header and header[-1] == "":
        header.pop()
    problems: list[str] = []
    duplicates = sorted({h for h in header if header.count(h) > 1 and h})
    if duplicates:
        problems.append(f"column(s) named twice: {', '.join(duplicates)}")
    unknown = [h or "(blank)" for h in header if h not in COLUMNS]
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if problems:
        raise UploadError(
            [f"{filename}, row 1 (header): {p}" for p in problems]
            + [f"expected columns: {', '.join(COLUMNS)} (see the template)"]
        )
    rows: list[Row] = []
    for number, values in enumerate(table[1:], start=2):
        cells = list(values)
        if not any(str(c).strip() for c in cells):
            continue
        extra = [c for c in cells[len(header) :] if str(c).strip()]
        record = {name: str(cells[i]).strip() if i < len(cells) else "" for i, name in enumerate(header)}
        if extra:
            record["__extra__"] = "1"
        rows.append(Row(number, record))
    if len(rows) > MAX_ROWS:
        raise UploadError(f"{filename}: more than {MAX_ROWS:,} rows; split the list")
    if not rows:
        raise UploadError(f"{filename}: the list has no student rows")
    return header, rows


def parse_date(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def fold(text: str) -> str:
    """Names compared without case, accents, punctuation or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in letters.casefold()).split())


# -- matching ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    row: int
    student_id: int
    guardian_person_id: int
    guardian_name: str
    signed_on: date
    form_file: str


def match(
    db: Session,
    district_id: int,
    organization_id: int,
    rows: Sequence[Row],
    school_year: int,
    scans: Collection[str],
    today: date,
) -> tuple[list[Match], list[RowProblem]]:
    """Match every row; the problems name the row, the student ID and the reason."""
    problems: list[RowProblem] = []
    ids = sorted({r.values.get("student_id", "") for r in rows if r.values.get("student_id", "")})
    students: dict[str, Student] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for found in db.scalars(
            select(Student).where(Student.district_id == district_id, Student.local_id.in_(chunk))
        ):
            students[found.local_id] = found
    student_ids = [s.id for s in students.values()]
    guardians: dict[int, list[tuple[Guardianship, Person]]] = {}
    schools: dict[int, set[str]] = {}
    year = SchoolYear(school_year)
    for start in range(0, len(student_ids), 1000):
        chunk_ids = student_ids[start : start + 1000]
        for link, person in db.execute(
            select(Guardianship, Person)
            .join(Person, Person.id == Guardianship.person_id)
            .where(Guardianship.student_id.in_(chunk_ids))
        ):
            guardians.setdefault(link.student_id, []).append((link, person))
        for student_id, code, name in db.execute(
            select(SchoolEnrollment.student_id, Organization.code, Organization.name)
            .join(Organization, Organization.id == SchoolEnrollment.school_id)
            .where(
                SchoolEnrollment.student_id.in_(chunk_ids),
                SchoolEnrollment.school_year.in_([year.end_year, year.end_year - 1]),
            )
        ):
            schools.setdefault(student_id, set()).update({fold(code), fold(name)})
    tz = timezone_of(db, district_id)
    seen: dict[str, int] = {}
    matches: list[Match] = []
    for row in rows:
        values = row.values
        ref = values.get("student_id", "")
        reasons: list[str] = []
        for column, value in values.items():
            if column != "__extra__" and is_formula(value):
                reasons.append(
                    f"{column} begins with {value[:1]!r}, which a spreadsheet runs as a formula; remove it"
                )
        if values.get("__extra__"):
            reasons.append("the row has more cells than the header has columns")
        for column in REQUIRED:
            if not values.get(column, "").strip():
                reasons.append(f"{column} is empty")
        if reasons:
            problems.append(RowProblem(row.number, ref, "; ".join(reasons)))
            continue
        if ref in seen:
            problems.append(
                RowProblem(row.number, ref, f"duplicate row: student ID {ref} is already on row {seen[ref]}")
            )
            continue
        seen[ref] = row.number
        born = parse_date(values["birth_date"])
        signed = parse_date(values["signed_on"])
        if born is None:
            reasons.append(f"birth_date {values['birth_date']!r} is not a date (write YYYY-MM-DD)")
        if signed is None:
            reasons.append(f"signed_on {values['signed_on']!r} is not a date (write YYYY-MM-DD)")
        student = students.get(ref)
        if student is None:
            reasons.append(f"no student with district ID {ref} in the district")
        if reasons or student is None or born is None or signed is None:
            problems.append(RowProblem(row.number, ref, "; ".join(reasons)))
            continue
        if (
            fold(values["first_name"]) != fold(student.first_name)
            or fold(values["last_name"]) != fold(student.last_name)
            or born != student.birth_date
        ):
            problems.append(
                RowProblem(
                    row.number,
                    ref,
                    "the name and birth date do not both match the district's record for this student ID",
                )
            )
            continue
        school = values.get("school", "").strip()
        if school and fold(school) not in schools.get(student.id, set()):
            problems.append(
                RowProblem(row.number, ref, f"the student is not enrolled at {school!r} in {year.label()}")
            )
            continue
        when = check_dates(signed, school_year, today)
        if when is not None:
            problems.append(RowProblem(row.number, ref, when))
            continue
        signed_at = local_midnight(signed, tz)
        wanted = fold(values["guardian_name"])
        guardian = next(
            (
                person
                for link, person in guardians.get(student.id, [])
                if fold(person.display_name) == wanted
                and not link.restricted
                and link.valid_from <= signed_at
                and (link.valid_to is None or link.valid_to > signed_at)
            ),
            None,
        )
        if guardian is None:
            adult = (
                signed.year
                - student.birth_date.year
                - ((signed.month, signed.day) < (student.birth_date.month, student.birth_date.day))
            )
            if adult >= 18 and student.person_id is not None and wanted == fold(student.display_name):
                guardian_id = student.person_id
            else:
                problems.append(
                    RowProblem(
                        row.number,
                        ref,
                        f"{values['guardian_name']!r} is not a guardian of record of the student on {signed}",
                    )
                )
                continue
        else:
            guardian_id = guardian.id
        form = values.get("form_file", "").strip()
        if form and files.safe_name(form) not in scans:
            problems.append(
                RowProblem(row.number, ref, f"the scanned form {form!r} was not uploaded with the list")
            )
            continue
        matches.append(
            Match(
                row.number,
                student.id,
                guardian_id,
                values["guardian_name"].strip(),
                signed,
                files.safe_name(form) if form else "",
            )
        )
    return matches, problems


# -- applying ------------------------------------------------------------------------------------


def may_upload(principal: Principal, organization_id: int) -> bool:
    return principal.organization_id == organization_id


def upload(
    db: Session,
    actor: Principal,
    *,
    district_id: int,
    list_name: str,
    list_content: bytes,
    scans: Sequence[tuple[str, bytes]],
    school_year: int,
    datasets: Sequence[str],
    purpose: str,
    data_dir: Path,
    at: datetime | None = None,
) -> UploadResult:
    """Match and queue the whole list, or store nothing and raise ``UploadRejectedError`` with every row's
    reason. The same file uploaded again returns the first upload unchanged."""
    when = at or now_utc()
    organization_id = actor.organization_id
    district = db.get(Organization, district_id)
    if district is None or district.kind != "district":
        raise WorkflowError("choose the district the students belong to")
    chosen = sorted(set(datasets))
    unknown = [d for d in chosen if d not in {x.value for x in Dataset}]
    if unknown or not chosen:
        raise WorkflowError(
            "choose the datasets the consent form names"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    if not purpose.strip():
        raise WorkflowError("state the purpose the consent form names")
    if len(list_content) > MAX_BYTES:
        raise UploadError(
            f"{list_name}: the file is {len(list_content):,} bytes; the limit is 50 MB ({MAX_BYTES:,} bytes)"
        )
    digest = hashlib.sha256(list_content).hexdigest()
    existing = db.scalar(
        select(ConsentUpload).where(
            ConsentUpload.organization_id == organization_id,
            ConsentUpload.district_id == district_id,
            ConsentUpload.sha256 == digest,
        )
    )
    if existing is not None:
        return UploadResult(existing, [], existing.already_on_file, repeated=True)
    _, rows = read(list_content, list_name)
    stored: dict[str, files.Stored] = {}
    for name, content in scans:
        try:
            kept = files.store(data_dir, "consents", content, name, SCAN_TYPES)
        except WorkflowError as exc:
            raise UploadError(str(exc)) from exc
        stored[kept.name] = kept
    tz = timezone_of(db, district_id)
    matches, problems = match(
        db, district_id, organization_id, rows, school_year, stored, local_date(when, tz)
    )
    if problems:
        raise UploadRejectedError(problems, len(rows))
    already = _already_on_file(db, organization_id, school_year, chosen, [m.student_id for m in matches])
    fresh = [m for m in matches if m.student_id not in already]
    record = ConsentUpload(
        code=f"CU-{uuid.uuid4().hex[:10].upper()}",
        district_id=district_id,
        organization_id=organization_id,
        uploaded_by_person_id=actor.person_id,
        file_name=files.safe_name(list_name),
        sha256=digest,
        school_year=school_year,
        datasets=chosen,
        purpose=purpose.strip(),
        rows=len(rows),
        created=len(fresh),
        already_on_file=len(matches) - len(fresh),
        evidence=[{"name": s.name, "sha256": s.sha256, "stored": s.stored} for s in stored.values()],
        created_at=when,
    )
    db.add(record)
    db.flush()
    consents = _create(db, actor, record, fresh, stored, tz, when)
    history.record(
        db,
        "consent_upload",
        record.id,
        "accepted",
        district_id=district_id,
        actor=actor,
        to_status="accepted",
        changes={"rows": [None, len(rows)], "created": [None, len(fresh)], "sha256": [None, digest]},
    )
    notify(
        db,
        people_in_role(db, _officer_role(), district_id),
        Message(
            "consents.uploaded",
            f"{len(fresh)} consents to review",
            f"{actor.display_name or actor.person_code} uploaded {record.file_name}: {len(fresh)} consents "
            f"wait for your review ({record.already_on_file} already on file).",
            "/office/consents",
        ),
        district_id=district_id,
    )
    return UploadResult(record, consents, record.already_on_file)


def _officer_role() -> Any:
    from steward.domain.orgs import Role

    return Role.DISTRICT_DATA_OFFICER


def _already_on_file(
    db: Session, organization_id: int, school_year: int, datasets: Sequence[str], student_ids: Sequence[int]
) -> set[int]:
    """Students with a pending or verified consent to the organization for the year covering the
    datasets (a second upload of the same students adds nothing)."""
    if not student_ids:
        return set()
    have: dict[int, set[str]] = {}
    for start in range(0, len(student_ids), 1000):
        chunk = list(student_ids[start : start + 1000])
        for student_id, dataset in db.execute(
            select(Consent.student_id, ConsentDataset.dataset)
            .join(ConsentDataset, ConsentDataset.consent_id == Consent.id)
            .where(
                Consent.organization_id == organization_id,
                Consent.school_year == school_year,
                Consent.student_id.in_(chunk),
                Consent.status.in_([ConsentStatus.PENDING.value, ConsentStatus.VERIFIED.value]),
            )
        ):
            have.setdefault(student_id, set()).add(dataset)
    return {s for s, sets in have.items() if set(datasets) <= sets}


def _create(
    db: Session,
    actor: Principal,
    record: ConsentUpload,
    matches: Sequence[Match],
    stored: dict[str, files.Stored],
    tz: str,
    when: datetime,
) -> list[Consent]:
    """The pending consents of an accepted upload, their datasets and history, in few statements."""
    if not matches:
        return []
    _, end = consent_window(record.school_year, tz)
    combined = next(iter(stored.values())) if len(stored) == 1 else None
    consents: list[Consent] = []
    for m in matches:
        scan = stored.get(m.form_file) if m.form_file else combined
        consents.append(
            Consent(
                code=f"{record.code}-{m.row:05d}",
                student_id=m.student_id,
                organization_id=record.organization_id,
                signed_by_person_id=m.guardian_person_id,
                signed_on=m.signed_on,
                signed_at=local_midnight(m.signed_on, tz),
                purpose=record.purpose,
                status=ConsentStatus.PENDING.value,
                school_year=record.school_year,
                valid_from=local_midnight(m.signed_on, tz),
                valid_to=end,
                guardian_name=m.guardian_name[:200],
                evidence_file=scan.stored if scan else None,
                evidence_sha256=scan.sha256 if scan else None,
                upload_id=record.id,
                created_at=when,
            )
        )
    db.add_all(consents)
    db.flush()
    db.execute(
        insert(ConsentDataset),
        [{"consent_id": c.id, "dataset": d} for c in consents for d in record.datasets],
    )
    db.execute(
        insert(HistoryEntry),
        [
            {
                "entity": "consent",
                "entity_id": c.id,
                "district_id": record.district_id,
                "action": "recorded",
                "from_status": None,
                "to_status": c.status,
                "changes": {"upload": [None, record.code]},
                "reason": "",
                "actor_person_id": actor.person_id,
                "actor_role": actor.role.value,
                "actor_org_id": actor.organization_id,
                "at": when,
            }
            for c in consents
        ],
    )
    return consents


# -- the template and the problem report ---------------------------------------------------------


def template_rows() -> list[list[str]]:
    return [
        [
            "100234",
            "Ana",
            "Diaz",
            "2014-03-02",
            "Cedar Elementary",
            "Maria Diaz",
            "2026-05-12",
            "diaz-ana.pdf",
        ]
    ]


def template_csv() -> bytes:
    return csv_bytes(COLUMNS, template_rows())


def template_xlsx() -> bytes:
    return xlsx_bytes(COLUMNS, template_rows(), sheet="students")


def problems_csv(problems: Sequence[RowProblem]) -> bytes:
    """The rows that could not be matched, for the partner to fix (cells neutralised)."""
    return csv_bytes(("row", "student_id", "reason"), [(p.row, p.student_id, p.reason) for p in problems])


def may_see_upload(principal: Principal, record: ConsentUpload) -> bool:
    return principal.organization_id in (record.organization_id, record.district_id)


def ensure_upload(principal: Principal, record: ConsentUpload | None) -> ConsentUpload:
    if record is None or not may_see_upload(principal, record):
        raise NotAllowedError("not found")
    return record
