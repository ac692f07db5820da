"""De-identified extracts: pycanon agrees with the risk report, no identifier leaks, research IDs
are stable per agreement and unlinkable across agreements, only the agreement's elements and years."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from steward.audit.models import AuditEvent
from steward.policy.facts import AgreementStatus
from steward.products.extract.crosswalk import destroy_research_ids
from steward.products.extract.models import ResearchId
from steward.products.extract.service import ExtractRefusedError, run_extract
from steward.sources import CedarsDropSource
from steward.store.db import transaction
from tests.products.extract.governance import NOW, Governance

ORACLE = Path(__file__).resolve().parents[3] / ".venv" / "oracle"


def _pycanon() -> Any:
    if not ORACLE.is_dir():
        pytest.skip(
            f"pycanon oracle missing at {ORACLE}: .venv/bin/pip install --no-deps --target .venv/oracle "
            "pycanon==1.3.6 beartype==0.22.2 tabulate==0.8.10"
        )
    sys.path.insert(0, str(ORACLE))
    try:
        from pycanon import anonymity
    finally:
        sys.path.remove(str(ORACLE))
    return anonymity


def _read(out: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (out / "extract.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _extract(gov: Governance, code: str, out: Path, **kw: Any) -> Any:
    return run_extract(gov.engine, code, gov.source, out, **kw)


def test_extract_passes_the_pycanon_oracle(gov: Governance, tmp_path: Path) -> None:
    anonymity = _pycanon()
    import pandas as pd

    gov.agreement("STUDY-1")
    out = tmp_path / "pkg"
    result = _extract(gov, "STUDY-1", out)
    risk = json.loads((out / "risk_report.json").read_text())
    frame = pd.read_csv(out / "extract.csv", dtype=str, keep_default_na=False)
    qis = list(risk["quasi_identifiers"])
    sensitive = risk["sensitive_outcomes"]
    assert "school_year" in qis
    assert "birth_year" in qis
    assert sensitive == ["disability_code"]
    assert len(frame) == risk["rows_released"] == result.summary.rows > 0
    k = anonymity.k_anonymity(frame, qis)
    assert k == risk["k_achieved"]
    assert k >= 10
    l_value = anonymity.l_diversity(frame, qis, sensitive)
    assert l_value == risk["l_achieved"]["disability_code"]
    assert l_value >= 2
    assert risk["withheld_share"] <= 0.05
    assert {"extract.csv", "data_dictionary.csv", "risk_report.json", "risk_report.md", "manifest.json"} <= {
        p.name for p in out.iterdir()
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["extract.csv"] == hashlib.sha256((out / "extract.csv").read_bytes()).hexdigest()
    assert "99.31(b)" in manifest["citation"]
    with gov.engine.connect() as conn:
        events = (
            conn.execute(select(AuditEvent.body).where(AuditEvent.action == "extract.deidentified"))
            .scalars()
            .all()
        )
    assert len(events) == 1
    assert '"rows":' in events[0]
    assert "STUDY-1" in events[0]


def _identifiers(drop: Path) -> set[str]:
    """Every direct identifier in the drop, in the forms it might take, and their hashes."""
    with CedarsDropSource(drop) as source:
        students = source.to_arrow(source.table("district_students")).to_pylist()
        guardians = source.to_arrow(source.table("guardians")).to_pylist()
    plain: set[str] = set()
    for s in students:
        plain |= {s["student_id"], s["state_id"] or "", s["ssn"]}
        born = s["birth_date"]
        plain |= {born.isoformat(), born.strftime("%m/%d/%Y"), born.strftime("%Y%m%d")}
        plain |= {f"{s['first_name']} {s['last_name']}", f"{s['last_name']}, {s['first_name']}"}
        plain.add(f"{s['district_code']}:{s['student_id']}")
    for g in guardians:
        plain |= {g["guardian_id"], g["email"], f"{g['first_name']} {g['last_name']}"}
    plain.discard("")
    forms = set(plain)
    for value in plain:
        for algorithm in ("md5", "sha1", "sha256"):
            digest = hashlib.new(algorithm, value.encode()).digest()
            forms |= {digest.hex(), digest.hex().upper()}
            for encoded in (base64.b64encode(digest), base64.urlsafe_b64encode(digest)):
                text = encoded.decode()
                forms |= {text, text.rstrip("=")}
    return forms


def test_no_column_equals_or_hashes_an_identifier(gov: Governance, tmp_path: Path) -> None:
    gov.agreement("STUDY-1")
    out = tmp_path / "pkg"
    _extract(gov, "STUDY-1", out)
    header, rows = _read(out)
    forms = _identifiers(gov.drop)
    assert len(forms) > 1000
    for column in header:
        values = {r[column] for r in rows}
        assert not values & forms, column
    assert not {"student_id", "state_id", "ssn", "birth_date", "first_name", "last_name"} & set(header)
    assert all(len(r["research_id"]) == 32 for r in rows)


def test_research_ids_stable_shuffled_unlinkable_destroyed(gov: Governance, tmp_path: Path) -> None:
    first_id = gov.agreement("STUDY-1")
    gov.agreement("STUDY-2")
    _extract(gov, "STUDY-1", tmp_path / "a")
    _extract(gov, "STUDY-1", tmp_path / "b")
    _extract(gov, "STUDY-2", tmp_path / "c")
    a, b, c = (_read(tmp_path / x)[1] for x in "abc")
    key = ("school_year", "research_id")
    assert sorted(tuple(r[k] for k in key) for r in a) == sorted(tuple(r[k] for k in key) for r in b)
    assert [r["research_id"] for r in a] != [r["research_id"] for r in b]  # rows shuffled each time
    ids_a, ids_c = {r["research_id"] for r in a}, {r["research_id"] for r in c}
    assert ids_a
    assert ids_c
    assert not ids_a & ids_c
    with gov.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ResearchId)) == len(ids_a) + len(ids_c)
    with transaction(gov.engine) as db:
        assert destroy_research_ids(db, first_id) == len(ids_a)
    _extract(gov, "STUDY-1", tmp_path / "d")
    ids_d = {r["research_id"] for r in _read(tmp_path / "d")[1]}
    assert ids_d
    assert not ids_d & ids_a


def test_only_the_agreements_elements_and_years_from_the_floor(gov: Governance, tmp_path: Path) -> None:
    gov.tenant(floor_year=2026)
    gov.agreement(
        "STUDY-1",
        datasets=["demographics", "enrollment", "discipline"],
        elements=[
            "demographics.sex",
            "enrollment.grade_level",
            "discipline.incident_id",
            "programs.low_income",
        ],
        school_years=[2025, 2026],
    )
    out = tmp_path / "pkg"
    result = _extract(gov, "STUDY-1", out)
    header, rows = _read(out)
    assert header == ["research_id", "school_year", "sex", "grade_level"]
    assert {r["school_year"] for r in rows} == {"2026"}
    assert result.scope.years == (2026,)
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("floor year 2025-26" in n and "2024-25" in n for n in manifest["notes"])
    risk = json.loads((out / "risk_report.json").read_text())
    assert risk["elements_omitted"] == {"discipline.incident_id": "record identifier: removed"}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": AgreementStatus.DRAFT.value}, "is not executed (status: draft)"),
        ({"valid_to": NOW - timedelta(days=1)}, "is not in force on"),
        ({"kind": "contract"}, "is not a research agreement"),
        ({"school_years": [2008]}, "covers no school year from 2009-10 on"),
        ({"datasets": ["schedule"], "elements": ["schedule.course_id"]}, "names no element a de-identified"),
        ({"datasets": ["schedule"], "elements": ["demographics.sex"]}, "names no dataset element"),
    ],
)
def test_agreement_refusals(gov: Governance, tmp_path: Path, changes: dict[str, Any], reason: str) -> None:
    gov.agreement("STUDY-1", **changes)
    out = tmp_path / "pkg"
    with pytest.raises(ExtractRefusedError) as caught:
        _extract(gov, "STUDY-1", out)
    assert any(reason in r for r in caught.value.reasons), caught.value.reasons
    assert not out.exists()


def test_without_an_approved_proposal(gov: Governance, tmp_path: Path) -> None:
    with transaction(gov.engine) as db:
        from steward.workflow.models import Agreement

        approval = db.scalar(select(Agreement).where(Agreement.code == "APPROVAL-1"))
        assert approval is not None
        approval.status = AgreementStatus.REJECTED.value
    gov.agreement("STUDY-1")
    with pytest.raises(ExtractRefusedError, match="no approved research proposal"):
        _extract(gov, "STUDY-1", tmp_path / "pkg")
    with pytest.raises(ExtractRefusedError, match="no agreement with code"):
        _extract(gov, "NOPE", tmp_path / "pkg")


def test_unreachable_anonymity_is_refused_with_the_reason(gov: Governance, tmp_path: Path) -> None:
    """Even with every quasi-identifier withheld, a school year of this district has fewer
    students than the district's k."""
    gov.tenant(k_anonymity=5000)
    gov.agreement(
        "STUDY-1",
        datasets=["demographics", "discipline"],
        elements=["demographics.zip_code", "demographics.birth_date", "discipline.action_code"],
    )
    out = tmp_path / "pkg"
    with pytest.raises(ExtractRefusedError) as caught:
        _extract(gov, "STUDY-1", out)
    message = str(caught.value)
    assert "k-anonymity 5000 and l-diversity 2" in message
    assert "(school_year, birth_year, zip_code)" in message
    assert not out.exists()
    with gov.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ResearchId)) == 0
        refused = conn.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "extract.refused")
        )
    assert refused == 1
