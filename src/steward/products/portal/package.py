"""The report package for one viewer at one instant: the decision engine's set, the records of
exactly those students read from each district's source, the twelve reports, CSV and XLSX.

A student is in the package when the set evaluator lets the viewer see at least one dataset of the
student (directory information alone does not count: it reaches everyone); a report is in it only
when the viewer may see its dataset for at least one student, and its rows are those of the
students for whom that is so. ``Members`` of the package are listed in its index with the datasets
and legal basis of each, so the package says exactly what the engine decided.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.delivery.manifest import redisclosure_notice
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.principal import Principal
from steward.domain.time import DEFAULT_TIMEZONE, local_date, utc
from steward.exports import neutralise_row, neutralise_text, write_xlsx_row
from steward.policy import Actor
from steward.policy.decision import BASIS_RANK
from steward.products.portal import catalog as c
from steward.products.portal import lines
from steward.products.portal.rows import BUILDERS, Bundle, Context, Reference, Row, bundles
from steward.store.fact_loader import load_tenants
from steward.store.models import Organization, Student
from steward.store.visibility import all_visible
from steward.workflow.transfers.settings import source_directory

TITLE = "Student data package (Automated Data Report)"
PURPOSE = "student data package (12 reports)"
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Member:
    """A student of the package with the datasets shared and the basis of each."""

    id: int
    district_id: int
    district_code: str
    local_id: str
    datasets: Mapping[Dataset, LegalBasis]

    @property
    def key(self) -> tuple[str, str]:
        return (self.district_code, self.local_id)

    @property
    def basis(self) -> LegalBasis:
        """The strongest basis among the datasets (for the index)."""
        return min(self.datasets.values(), key=lambda b: BASIS_RANK.get(b, 99))


@dataclass
class BuiltReport:
    spec: c.ReportSpec
    rows: list[Row]


@dataclass
class ReportPackage:
    """Everything one making of the package holds (in memory; written out by the writers below)."""

    recipient: str
    organization: str
    at: datetime
    generated_at: datetime
    today: date
    timezone: str
    members: list[Member]
    reports: list[BuiltReport]
    districts: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def datasets(self) -> frozenset[Dataset]:
        return frozenset(d for m in self.members for d in m.datasets)

    @property
    def student_ids(self) -> list[int]:
        return [m.id for m in self.members]

    def report(self, key: str) -> BuiltReport | None:
        return next((r for r in self.reports if r.spec.key == key), None)

    def counts(self) -> dict[str, int]:
        return {r.spec.key: len(r.rows) for r in self.reports}

    def index_rows(self) -> list[Row]:
        out: list[Row] = []
        for m in self.members:
            datasets = [d for d in Dataset if d in m.datasets]
            bases = sorted({m.datasets[d] for d in datasets}, key=lambda b: BASIS_RANK.get(b, 99))
            out.append(
                (
                    m.district_code,
                    m.local_id,
                    ";".join(d.value for d in datasets),
                    ";".join(b.value for b in bases),
                    ";".join(b.citation for b in bases),
                )
            )
        return out

    def bases(self) -> dict[LegalBasis, int]:
        """Students per legal basis (a student counts under every basis one of their datasets has)."""
        out: dict[LegalBasis, int] = defaultdict(int)
        for m in self.members:
            for basis in set(m.datasets.values()):
                out[basis] += 1
        return dict(sorted(out.items(), key=lambda kv: BASIS_RANK.get(kv[0], 99)))

    def subset(self, selection: Mapping[int, Iterable[Dataset]]) -> ReportPackage:
        """The same package narrowed to some members and, for each, some of their datasets."""
        chosen: list[Member] = []
        for m in self.members:
            wanted = set(selection.get(m.id, ())) & set(m.datasets)
            if wanted:
                chosen.append(
                    Member(
                        m.id,
                        m.district_id,
                        m.district_code,
                        m.local_id,
                        {d: m.datasets[d] for d in Dataset if d in wanted},
                    )
                )
        keys: dict[Dataset, set[tuple[str, str]]] = defaultdict(set)
        for m in chosen:
            for d in m.datasets:
                keys[d].add(m.key)
        reports = [
            BuiltReport(r.spec, [row for row in r.rows if (row[0], row[1]) in keys[r.spec.dataset]])
            for r in self.reports
            if keys[r.spec.dataset]
        ]
        districts = {k: v for k, v in self.districts.items() if any(m.district_id == k for m in chosen)}
        return ReportPackage(
            self.recipient,
            self.organization,
            self.at,
            self.generated_at,
            self.today,
            self.timezone,
            chosen,
            reports,
            districts,
        )


class PackageSourceError(Exception):
    """A district's source cannot be read (named: district, file, line, element)."""


def members_of(
    db: Session, principal: Principal, at: datetime, *, districts: Iterable[int] | None = None
) -> list[Member]:
    """The decision engine's set for the principal at ``at``, as package members (sorted by
    district code and student ID)."""
    visible = all_visible(db, principal.person_id, at, actor=Actor.of(principal), directory_information=False)
    if districts is not None:
        wanted = set(districts)
    ids = sorted(visible)
    rows: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows.extend(
            db.execute(
                select(Student.id, Student.district_id, Student.local_id, Organization.code)
                .join(Organization, Organization.id == Student.district_id)
                .where(Student.id.in_(chunk))
            ).all()
        )
    members = [
        Member(sid, district_id, code, local_id, visible[sid])
        for sid, district_id, local_id, code in rows
        if visible[sid] and (districts is None or district_id in wanted)
    ]
    members.sort(key=lambda m: (m.district_code, m.local_id))
    return members


def build(
    db: Session,
    data_dir: Path,
    principal: Principal,
    at: datetime,
    *,
    members: list[Member] | None = None,
    generated_at: datetime | None = None,
) -> ReportPackage:
    """Make the package: members (the engine's set, unless given), their records read from each
    district's source now, and the reports of the datasets seen."""
    at = utc(at)
    chosen = members_of(db, principal, at) if members is None else members
    org = db.get(Organization, principal.organization_id)
    by_district: dict[int, list[Member]] = defaultdict(list)
    for m in chosen:
        by_district[m.district_id].append(m)
    tenants = load_tenants(db, list(by_district)) if by_district else {}
    zones = {tenants[str(d)].timezone for d in by_district if str(d) in tenants}
    tz = next(iter(zones)) if len(zones) == 1 else DEFAULT_TIMEZONE
    today = local_date(generated_at or at, tz)
    specs = c.reports_for(frozenset(d for m in chosen for d in m.datasets))
    bundle_of: dict[tuple[str, str], Bundle] = {}
    contexts: dict[str, Context] = {}
    districts: dict[int, tuple[str, str]] = {}
    for district_id, mine in sorted(by_district.items()):
        district = db.get(Organization, district_id)
        assert district is not None
        districts[district_id] = (district.code, district.name)
        datasets = {d for m in mine for d in m.datasets}
        references = ("A", "D", "F", "G") if Dataset.SCHEDULE in datasets else ("A",)
        try:
            directory = source_directory(db, data_dir, district_id)
            found = lines.read_students(
                directory,
                district.code,
                [m.local_id for m in mine],
                c.prefixes_for(datasets),
                references=references,
            )
        except Exception as exc:  # a settings or source problem, named for the person who asked
            raise PackageSourceError(f"{district.name} ({district.code}): {exc}") from exc
        as_of = min(today, _drop_date(directory) or today)
        contexts[district.code] = Context(
            Reference.of(found.locations, found.courses, found.staff, found.staff_schedules), today, as_of
        )
        bundle_of.update({(district.code, k): v for k, v in bundles(district.code, found.records).items()})
    reports: list[BuiltReport] = []
    for spec in specs:
        build_rows = BUILDERS[spec.key]
        out: list[Row] = []
        for m in chosen:
            if spec.dataset not in m.datasets:
                continue
            bundle = bundle_of.get(m.key)
            if bundle is not None:
                out.extend(build_rows(bundle, contexts[m.district_code]))
        reports.append(BuiltReport(spec, out))
    return ReportPackage(
        recipient=principal.display_name or principal.person_code,
        organization=org.name if org is not None else principal.organization_code,
        at=at,
        generated_at=utc(generated_at or at),
        today=today,
        timezone=tz,
        members=chosen,
        reports=reports,
        districts=districts,
    )


def _drop_date(directory: Path) -> date | None:
    from steward.formats.cedars import Drop

    return Drop.open(directory).as_of


# -- writers ------------------------------------------------------------------------------------------


def _when(instant: datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    t = utc(instant).astimezone(ZoneInfo(tz))
    return f"{t:%Y-%m-%d %H:%M} {t.tzname()}"


def readme_lines(package: ReportPackage) -> list[tuple[str, str]]:
    """The README: what, for whom, when, on which legal basis, the 99.33 notice, the reports."""
    names = ", ".join(name for _, name in package.districts.values()) or "the district"
    out: list[tuple[str, str]] = [
        ("Package", TITLE),
        ("Prepared for", f"{package.recipient}, {package.organization}"),
        ("Generated", _when(package.generated_at, package.timezone)),
        (
            "Decided at",
            f"{_when(package.at, package.timezone)} (who and what may be seen was decided at this instant)",
        ),
        ("From", names),
        ("Students", str(len(package.members))),
    ]
    for basis, count in package.bases().items():
        out.append(("Legal basis", f"{basis.value} ({basis.citation}): {count} student(s)"))
    for basis in package.bases():
        out.append(("Redisclosure notice (34 CFR 99.33)", redisclosure_notice(basis, names)))
    out.append(("Reports", ", ".join(r.spec.file_name for r in package.reports) or "none"))
    return out


def dictionary_rows(package: ReportPackage) -> list[Row]:
    """Report, file, column, description: the data dictionary of what the package holds."""
    out: list[Row] = []
    for spec in (c.INDEX, *(r.spec for r in package.reports)):
        for column in spec.columns:
            out.append((spec.title, spec.file_name, column.name, column.description))
    return out


def readme_text(package: ReportPackage) -> str:
    buffer = io.StringIO()
    for label, value in readme_lines(package):
        buffer.write(f"{label}: {value}\n")
    buffer.write("\nDATA DICTIONARY\n")
    for title, file_name, column, description in dictionary_rows(package):
        buffer.write(f"{file_name} ({title}) {column}: {description}\n")
    return buffer.getvalue()


def _csv_bytes(header: Iterable[str], rows: Iterable[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(neutralise_row(header))
    writer.writerows(neutralise_row(row) for row in rows)
    return buffer.getvalue().encode("utf-8")


def csv_files(package: ReportPackage) -> dict[str, bytes]:
    """File name -> CSV bytes: the index and every report of the package (neutralised cells)."""
    files = {c.INDEX.file_name: _csv_bytes(c.INDEX.header, package.index_rows())}
    for report in package.reports:
        files[report.spec.file_name] = _csv_bytes(report.spec.header, report.rows)
    return files


def report_csv(report: BuiltReport) -> bytes:
    return _csv_bytes(report.spec.header, report.rows)


def csv_zip(package: ReportPackage) -> bytes:
    """A ZIP of the CSV files and README.txt."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme_text(package))
        for name, data in csv_files(package).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write_xlsx(package: ReportPackage, target: IO[bytes] | Path | str) -> None:
    """One workbook: README (notice, basis, dictionary, generation time), the index, one sheet per
    report. Every string cell is written as text (xlsxwriter, neutralised)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target,
        {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True},
    )
    try:
        bold = workbook.add_format({"bold": True})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        readme = workbook.add_worksheet("README")
        readme.set_column(0, 0, 34)
        readme.set_column(1, 1, 100)
        row = 0
        for label, value in readme_lines(package):
            readme.write_string(row, 0, label, bold)
            readme.write_string(row, 1, neutralise_text(value), wrap)
            row += 1
        row += 1
        readme.write_string(row, 0, "Data dictionary", bold)
        row += 1
        for i, name in enumerate(("Report", "File", "Column", "Description")):
            readme.write_string(row, i, name, bold)
        row += 1
        for values in dictionary_rows(package):
            write_xlsx_row(readme, row, values)
            row += 1
        for spec, rows in ((c.INDEX, package.index_rows()), *((r.spec, r.rows) for r in package.reports)):
            sheet = workbook.add_worksheet(spec.sheet)
            for i, name in enumerate(spec.header):
                sheet.write_string(0, i, name, bold)
            sheet.freeze_panes(1, 0)
            _write_rows(sheet, rows)
    finally:
        workbook.close()


def _write_rows(sheet: Any, rows: Iterable[Row]) -> None:
    """Data rows from the second row on: text always as text (neutralised, memoised: reports
    repeat few distinct values), numbers as numbers, dates as ISO text, blanks left empty."""
    text: dict[Any, str] = {}
    write_string, write_number = sheet.write_string, sheet.write_number
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            kind = type(value)
            if kind is int or kind is float or kind is Decimal:
                write_number(r, col, float(value))
                continue
            cell = text.get(value)
            if cell is None:
                cell = text[value] = neutralise_text(value)
            write_string(r, col, cell)


def xlsx_bytes(package: ReportPackage) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(package, buffer)
    return buffer.getvalue()
