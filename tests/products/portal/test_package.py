"""The package holds exactly what the decision engine lets the partner see, read from the source
now; a dataset the partner is not granted never appears; every making is in the ledger."""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from steward.audit.models import DisclosureEntry
from steward.domain.datasets import Dataset
from steward.formats.cedars import Drop
from steward.policy import Actor
from steward.products import records as reference_reader
from steward.products.portal import catalog as c
from steward.products.portal import package as pk
from steward.products.portal import service
from steward.products.portal.rows import BUILDERS, Context, Reference, bundles
from steward.store.access import Question, decide_batch
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.visibility import all_visible
from tests.products.portal.conftest import World, add_partner


def test_package_matches_the_engine_set_exactly(world: World) -> None:
    """Index, reports and rows against the set evaluator, the point evaluator and a second reader;
    then the making's ledger lines, one per student with exactly the datasets shared."""
    at = now_utc()
    with transaction(world.engine) as db:
        partner = world.principal(db, "partner")
        package = pk.build(db, world.data_dir, partner, at)
        engine_set = {
            sid: ds
            for sid, ds in all_visible(
                db, partner.person_id, at, actor=Actor.of(partner), directory_information=False
            ).items()
            if ds
        }
        assert 40 <= len(engine_set) <= 80  # the demo partner's program
        assert {m.id: dict(m.datasets) for m in package.members} == engine_set
        questions = [Question(sid, d) for sid in engine_set for d in Dataset]
        decisions = decide_batch(db, Actor.of(partner), questions, at)
        point = {(q.student_id, q.dataset) for q, d in zip(questions, decisions, strict=True) if d.allowed}
        assert point == {(sid, d) for sid, ds in engine_set.items() for d in ds}

        # the index lists every member with exactly its datasets
        index = {(row[0], row[1]): set(row[2].split(";")) for row in package.index_rows()}
        assert index == {m.key: {d.value for d in m.datasets} for m in package.members}

        # a report exists iff some member has its dataset; its rows are of such members only
        seen = {d for ds in engine_set.values() for d in ds}
        assert {rep.spec.key for rep in package.reports} == {s.key for s in c.REPORTS if s.dataset in seen}
        by_member = {m.key: m for m in package.members}
        for rep in package.reports:
            for row in rep.rows:
                assert rep.spec.dataset in by_member[(row[0], row[1])].datasets, rep.spec.key
                assert len(row) == len(rep.spec.header)

        # the rows equal those built from the transfer reader's independent scan of the drop
        for district_id, (code, _) in package.districts.items():
            mine = [m for m in package.members if m.district_id == district_id]
            drop = world.drop(db, district_id)
            found = reference_reader.read_students(drop, code, [m.local_id for m in mine])
            as_of = min(package.today, Drop.open(drop).as_of or package.today)
            ref = Reference.of(found.locations, found.courses, found.staff, found.staff_schedules)
            ctx = Context(ref, package.today, as_of)
            grouped = bundles(code, found.records)
            expected: dict[str, list[tuple[object, ...]]] = defaultdict(list)
            for built in package.reports:
                for m in mine:
                    b = grouped.get(m.local_id)
                    if b is not None and built.spec.dataset in m.datasets:
                        expected[built.spec.key].extend(BUILDERS[built.spec.key](b, ctx))
            for built in package.reports:
                got = [row for row in built.rows if row[0] == code]
                assert got == expected[built.spec.key], built.spec.key
        assert sum(len(rep.rows) for rep in package.reports) > 100

    with transaction(world.engine) as db:
        made = service.download(db, world.data_dir, partner, "xlsx", at=at)
    with transaction(world.engine) as db:
        lines = db.scalars(
            select(DisclosureEntry).where(
                DisclosureEntry.recipient_person_id == partner.person_id,
                DisclosureEntry.channel == "download",
            )
        ).all()
        by_student = {line.student_id: line for line in lines}
        assert len(lines) == len(package.members) == len(by_student)
        for m in package.members:
            line = by_student[m.id]
            assert set(line.datasets) == {d.value for d in m.datasets}
            assert line.basis == "consent"
            assert line.record_required is False
        assert made.generation.student_count == len(package.members)
        assert made.generation.status == "delivered"
        assert made.generation.reports == package.counts()


@pytest.fixture(scope="module")
def narrowed(sqlite_world: World) -> dict[Dataset, object]:
    """One partner per dataset whose consents and grant cover every dataset but that one."""
    out: dict[Dataset, object] = {}
    with transaction(sqlite_world.engine) as db:
        for d in Dataset:
            out[d] = add_partner(db, f"without-{d.value}", [x for x in Dataset if x is not d])
        out["all"] = add_partner(db, "with-everything", list(Dataset))  # type: ignore[index]
    return out


@pytest.mark.parametrize("spec", c.REPORTS, ids=[s.key for s in c.REPORTS])
def test_a_dataset_not_granted_never_appears(
    sqlite_world: World, narrowed: dict[object, object], spec: c.ReportSpec
) -> None:
    with transaction(sqlite_world.engine) as db:
        without = narrowed[spec.dataset]
        package = pk.build(db, sqlite_world.data_dir, without, now_utc())  # type: ignore[arg-type]
        assert package.members
        assert spec.dataset not in package.datasets
        assert package.report(spec.key) is None
        files = pk.csv_files(package)
        assert spec.file_name not in files
        readme = pk.readme_text(package)
        assert spec.file_name not in readme
        own = (
            {col.name for col in spec.columns}
            - {col.name for s in package.reports for col in s.spec.columns}
            - {col.name for col in c.INDEX.columns}
        )
        for name, data in files.items():
            header = data.decode().splitlines()[0].split(",")
            assert not own & set(header), (name, own & set(header))
        book = openpyxl.load_workbook(io.BytesIO(pk.xlsx_bytes(package)), read_only=True)
        assert spec.sheet not in book.sheetnames
        assert all(spec.dataset.value not in row[2] for row in package.index_rows())
        # and with it granted, the report is there
        full = pk.build(db, sqlite_world.data_dir, narrowed["all"], now_utc())  # type: ignore[arg-type]
        assert full.report(spec.key) is not None
        assert (
            spec.sheet in openpyxl.load_workbook(io.BytesIO(pk.xlsx_bytes(full)), read_only=True).sheetnames
        )


def test_workbook_has_readme_sheet_and_one_sheet_per_report(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        partner = sqlite_world.principal(db, "partner")
        package = pk.build(db, sqlite_world.data_dir, partner, now_utc())
    book = openpyxl.load_workbook(io.BytesIO(pk.xlsx_bytes(package)), read_only=True)
    assert book.sheetnames == ["README", c.INDEX.sheet, *(rep.spec.sheet for rep in package.reports)]
    readme = [tuple(cell for cell in row) for row in book["README"].iter_rows(values_only=True)]
    text = "\n".join(" ".join(str(v) for v in row if v is not None) for row in readme)
    assert "Legal basis consent (34 CFR 99.30)" in text
    assert "Redisclosure notice (34 CFR 99.33)" in text
    assert "99.33(a)" in text
    assert "Generated" in text
    assert "Decided at" in text
    for rep in package.reports:
        for col in rep.spec.columns:
            assert f"{rep.spec.file_name} {col.name} {col.description}" in text
    sheet = book[package.reports[0].spec.sheet]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == package.reports[0].spec.header
    assert len(rows) - 1 == len(package.reports[0].rows)
    zipped = zipfile.ZipFile(io.BytesIO(pk.csv_zip(package)))
    assert set(zipped.namelist()) == {
        "README.txt",
        c.INDEX.file_name,
        *(rep.spec.file_name for rep in package.reports),
    }


def test_formula_like_text_is_written_as_text(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        partner = sqlite_world.principal(db, "partner")
        package = pk.build(db, sqlite_world.data_dir, partner, now_utc())
    roster = package.report(c.ROSTER.key)
    assert roster is not None
    first = roster.rows[0]
    roster.rows[0] = (first[0], first[1], '=HYPERLINK("http://x")', "+1", "@cmd", *first[5:])
    csv_text = pk.csv_files(package)[c.ROSTER.file_name].decode()
    assert "'=HYPERLINK" in csv_text
    assert "'+1" in csv_text
    assert "'@cmd" in csv_text
    book = openpyxl.load_workbook(io.BytesIO(pk.xlsx_bytes(package)))
    cells = [c_.value for c_ in book[c.ROSTER.sheet][2]]
    assert cells[2] == '\'=HYPERLINK("http://x")'
    assert book[c.ROSTER.sheet].cell(2, 3).data_type == "s"


def test_one_report_download_covers_only_its_students(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        partner = sqlite_world.principal(db, "partner")
        made = service.download(db, sqlite_world.data_dir, partner, "csv", report=c.DISCIPLINE_SUMMARY.key)
        members = pk.members_of(db, partner, now_utc())
        with_discipline = [m for m in members if Dataset.DISCIPLINE in m.datasets]
        assert 0 < len(with_discipline) < len(members)
        assert made.generation.student_count == len(with_discipline)
        assert made.content.decode().splitlines()[0] == ",".join(c.DISCIPLINE_SUMMARY.header)
        with pytest.raises(service.NotVisibleError):
            service.download(db, sqlite_world.data_dir, partner, "csv", report=c.PROGRAMS.key)
        with pytest.raises(service.NotVisibleError):
            service.download(db, sqlite_world.data_dir, partner, "csv", report="../../etc/passwd")


def test_a_revocation_applies_to_the_next_package(sqlite_world: World) -> None:
    from steward.workflow.grants import service as grants
    from steward.workflow.models import Grant
    from tests.products.portal.conftest import principal_of

    with transaction(sqlite_world.engine) as db:
        who = add_partner(db, "soon-revoked", [Dataset.DIRECTORY, Dataset.ATTENDANCE], students=3)
        assert len(pk.members_of(db, who, now_utc())) == 3
        grant = db.scalars(select(Grant).where(Grant.organization_id == who.organization_id)).one()
        grants.revoke(db, principal_of(db, "officer"), grant, "program ended")
    with transaction(sqlite_world.engine) as db:
        assert pk.members_of(db, who, now_utc()) == []
        with pytest.raises(service.NotVisibleError):
            service.download(db, sqlite_world.data_dir, who, "xlsx")
        # replaying an earlier instant still finds them
        assert len(pk.members_of(db, who, now_utc() - timedelta(seconds=30))) == 3


def test_records_read_are_the_students_own(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        partner = sqlite_world.principal(db, "partner")
        package = pk.build(db, sqlite_world.data_dir, partner, now_utc())
    keys = {m.key for m in package.members}
    for rep in package.reports:
        assert {(row[0], row[1]) for row in rep.rows} <= keys
