"""The catalog: twelve reports, one dataset each, keyed columns; docs/reports.md documents every
column of every report with the same description."""

from __future__ import annotations

from pathlib import Path

from steward.domain.datasets import Dataset
from steward.products.portal import catalog as c

DOCS = Path(__file__).resolve().parents[3] / "docs" / "reports.md"


def test_twelve_reports_each_of_one_dataset_with_unique_columns() -> None:
    assert [r.number for r in c.REPORTS] == list(range(1, 13))
    assert {r.dataset for r in c.REPORTS} == set(Dataset)
    for spec in (*c.REPORTS, c.INDEX):
        assert spec.header[:2] == ("district_code", "student_id")
        assert len(set(spec.header)) == len(spec.header)
        assert len(spec.sheet) <= 31
    assert len({r.sheet for r in c.REPORTS}) == 12
    assert "ssn" not in {col.name for r in c.REPORTS for col in r.columns}


def test_docs_describe_every_column() -> None:
    text = DOCS.read_text()
    for spec in c.REPORTS:
        assert f"### {spec.number}. {spec.title} (`{spec.file_name}`, dataset `{spec.dataset.value}`)" in text
        for col in spec.columns:
            assert f"| `{col.name}` | {col.description} |" in text, (spec.key, col.name)
    for col in c.INDEX.columns:
        assert f"| `{col.name}` | {col.description} |" in text


def test_prefixes_cover_what_each_report_reads() -> None:
    assert c.prefixes_for({Dataset.ATTENDANCE}) == {"C", "N"}
    assert c.prefixes_for({Dataset.PROGRAMS}) == {"B", "I"}
    assert c.reports_for({Dataset.DISCIPLINE}) == (c.DISCIPLINE_INCIDENTS, c.DISCIPLINE_SUMMARY)
