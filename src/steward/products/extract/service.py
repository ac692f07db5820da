"""De-identified extract for a research agreement: check the agreement with the decision engine's own
rules and facts, build the package, keep the crosswalk, write the audit event, all or nothing.

The agreement must be a research agreement (DSA, NDA or studies) in force and within the research
term, with an approved research proposal of the same organization in force; the extract holds only
the agreement's datasets (those the district shares with the organization's kind), elements and
school years from the district's floor year on (``steward.policy.rules.research``). Extracts are
always de-identified (99.31(b)): they are logged in the audit log, not in the 99.32 ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit import EventActor, EventSpec, append
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind
from steward.domain.time import SchoolYear, local_date
from steward.policy.facts import HARD_DENY_FLAGS, AgreementFact, AgreementKind
from steward.policy.rules.research import (
    RESEARCH_AGREEMENTS,
    agreement_elements,
    agreement_years,
    names_identifiers,
    term_end,
)
from steward.policy.tenant import TenantPolicy
from steward.privacy.deidentify import RefusedError, plan
from steward.products.extract.build import (
    DEFAULT_MAX_SUPPRESSION,
    DICTIONARY_FILE,
    EXTRACT_FILE,
    MANIFEST,
    RISK_JSON,
    RISK_TEXT,
    ExtractSpec,
    ExtractSummary,
    build_extract,
    sha256_file,
)
from steward.products.extract.crosswalk import Crosswalk
from steward.store.db import transaction
from steward.store.fact_loader import agreement_fact, load_tenants
from steward.store.models import Organization
from steward.workflow.models import Agreement

NOTICE_99_33 = (
    "These records are de-identified under 34 CFR 99.31(b). The recipient may use them only for the "
    "purposes of the agreement, must not attempt to re-identify any student or link them with other "
    "data except as the agreement allows, and must destroy them as the agreement requires."
)


class ExtractRefusedError(Exception):
    """The agreement does not allow an extract now, or no safe generalisation exists."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@dataclass(slots=True)
class AgreementScope:
    """What an agreement lets an extract hold, decided from its facts."""

    agreement: Agreement
    fact: AgreementFact
    approval: AgreementFact
    district: Organization
    organization: Organization
    tenant: TenantPolicy
    years: tuple[int, ...]
    elements: dict[Dataset, tuple[str, ...]]
    notes: list[str] = field(default_factory=list)


def _label(fact: AgreementFact) -> str:
    return f"{fact.kind.label} {fact.code}"


def check_agreement(db: Session, code: str, at: datetime) -> AgreementScope:
    """The agreement's extract scope at ``at``, or ``ExtractRefusedError`` naming every problem."""
    row = db.scalar(select(Agreement).where(Agreement.code == code))
    if row is None:
        raise ExtractRefusedError([f"no agreement with code {code!r}"])
    fact = agreement_fact(row)
    district = db.get(Organization, row.district_id)
    org = db.get(Organization, row.organization_id)
    assert district is not None
    assert org is not None
    tenant = load_tenants(db, [row.district_id]).get(str(row.district_id)) or TenantPolicy(
        str(row.district_id)
    )
    day = local_date(at, tenant.timezone)
    problems: list[str] = []
    label = _label(fact)
    if fact.kind not in RESEARCH_AGREEMENTS:
        problems.append(
            f"{label} is not a research agreement (a data sharing, non-disclosure or studies agreement)"
        )
    if not fact.binding():
        problems.append(f"{label} is not executed (status: {fact.status.value})")
    elif not fact.valid.contains(at):
        problems.append(f"{label} is not in force on {day}")
    elif at >= term_end(fact, tenant):
        problems.append(
            f"{label} reached its {tenant.max_research_years}-year research limit on "
            f"{local_date(term_end(fact, tenant), tenant.timezone)}"
        )
    blocked = sorted(HARD_DENY_FLAGS[f] for f in org.flags or [] if f in HARD_DENY_FLAGS)
    if blocked:
        problems.append(
            f"{org.code} is flagged for {', '.join(blocked)}: no student data, even de-identified"
        )
    approvals = [
        agreement_fact(a)
        for a in db.scalars(
            select(Agreement).where(
                Agreement.organization_id == row.organization_id,
                Agreement.district_id == row.district_id,
                Agreement.kind == AgreementKind.RESEARCH_APPROVAL.value,
            )
        )
    ]
    approval = next(
        (a for a in sorted(approvals, key=lambda a: a.code) if a.in_force(at) and at < term_end(a, tenant)),
        None,
    )
    if approval is None:
        problems.append(
            f"no approved research proposal between {org.code} and {district.code} in force on {day}"
        )
    shared = tenant.datasets_for(OrgKind(org.kind)) if org.kind in OrgKind._value2member_map_ else frozenset()
    notes: list[str] = []
    elements: dict[Dataset, tuple[str, ...]] = {}
    for dataset in sorted(fact.datasets, key=lambda d: list(Dataset).index(d)):
        if dataset not in shared:
            notes.append(f"{district.code} does not share {dataset.value} with {org.kind} organizations")
            continue
        chosen = agreement_elements(fact, dataset)
        if chosen:
            elements[dataset] = chosen
    if not elements:
        problems.append(f"{label} names no dataset element the district shares with {org.code}")
    elif not plan(elements).released:
        problems.append(f"{label} names no element a de-identified student-year extract can hold")
    years = agreement_years(fact, tenant)
    below = sorted(y for y in fact.school_years if y < tenant.floor_year)
    if below:
        left_out = ", ".join(SchoolYear(y).label() for y in below)
        floor = SchoolYear(tenant.floor_year).label()
        notes.append(f"school years before the floor year {floor} are left out: {left_out}")
    if not years:
        problems.append(f"{label} covers no school year from {SchoolYear(tenant.floor_year).label()} on")
    if names_identifiers(fact):
        notes.append(f"{label} names identifiable elements; this extract is de-identified all the same")
    if problems:
        raise ExtractRefusedError(problems)
    assert approval is not None
    return AgreementScope(row, fact, approval, district, org, tenant, years, elements, notes)


@dataclass(slots=True)
class ExtractResult:
    scope: AgreementScope
    summary: ExtractSummary
    out_dir: Path
    event_id: int


def _event(
    scope: AgreementScope, action: str, outcome: str, details: dict[str, Any], actor: EventActor, at: datetime
) -> EventSpec:
    return EventSpec(
        action=action,
        district_id=int(scope.fact.district),
        actor=actor,
        subject_type="agreement",
        subjects=[scope.fact.code],
        basis=LegalBasis.DEIDENTIFIED.value,
        citation=LegalBasis.DEIDENTIFIED.citation,
        evidence=[scope.fact.ref, scope.approval.ref],
        outcome=outcome,
        details=details,
        occurred_at=at,
    )


def run_extract(
    engine: Engine,
    code: str,
    source_for: Callable[[str], Any],
    out_dir: Path,
    *,
    at: datetime | None = None,
    actor: EventActor | None = None,
    max_suppression: float = DEFAULT_MAX_SUPPRESSION,
    progress: Callable[[str, int], None] | None = None,
) -> ExtractResult:
    """Check agreement ``code``, build its extract in ``out_dir`` from ``source_for(district_code)``,
    record the crosswalk and the audit event in one transaction."""
    at = at or datetime.now(UTC)
    who = actor or EventActor()
    created = not out_dir.exists()
    scope: AgreementScope | None = None
    try:
        with transaction(engine) as db:
            scope = check_agreement(db, code, at)
            spec = ExtractSpec(
                scope.district.code,
                scope.years,
                scope.elements,
                k=scope.tenant.k_anonymity,
                max_suppression=max_suppression,
                agreement_code=scope.fact.code,
            )
            crosswalk = Crosswalk(db, scope.agreement.id)
            source = source_for(scope.district.code)
            try:
                summary = build_extract(source, spec, crosswalk, out_dir, progress=progress)
            finally:
                source.close()
            summary.files = _manifest(scope, summary, out_dir, at)
            details = {
                "rows": summary.rows,
                "students": summary.students,
                "rows_withheld": summary.outcome.withheld,
                "k": summary.outcome.k,
                "l": list(summary.outcome.l_values),
                "school_years": list(scope.years),
                "research_ids_created": summary.rids_created,
                "package": out_dir.name,
                "files": summary.files,
            }
            event = append(db, _event(scope, "extract.deidentified", "ok", details, who, at))
    except RefusedError as exc:
        _discard(out_dir, created)
        assert scope is not None
        with transaction(engine) as db:
            append(db, _event(scope, "extract.refused", "refused", {"reason": str(exc)}, who, at))
        raise ExtractRefusedError([str(exc)]) from None
    except BaseException:
        _discard(out_dir, created)
        raise
    return ExtractResult(scope, summary, out_dir, event.id)


def _manifest(scope: AgreementScope, summary: ExtractSummary, out_dir: Path, at: datetime) -> dict[str, str]:
    """Write manifest.json (what, for whom, basis, notice, file digests); returns every file's SHA-256."""
    files = {p.name: sha256_file(p) for p in sorted(out_dir.iterdir()) if p.is_file()}
    destroy = scope.fact.destroy_by
    manifest = {
        "agreement": scope.fact.code,
        "agreement_kind": scope.fact.kind.value,
        "recipient": scope.organization.name,
        "district": scope.district.code,
        "school_years": list(scope.years),
        "elements": {d.value: list(e) for d, e in scope.elements.items()},
        "basis": LegalBasis.DEIDENTIFIED.value,
        "citation": LegalBasis.DEIDENTIFIED.citation,
        "created_at": at.isoformat(timespec="seconds"),
        "destroy_by": destroy.isoformat() if destroy else None,
        "notice": NOTICE_99_33,
        "notes": scope.notes,
        "rows": summary.rows,
        "files": files,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return {**files, MANIFEST: sha256_file(out_dir / MANIFEST)}


def _discard(out_dir: Path, created: bool) -> None:
    """Remove a half-written package (nothing leaves unless it is recorded)."""
    for name in (EXTRACT_FILE, DICTIONARY_FILE, RISK_JSON, RISK_TEXT, MANIFEST):
        (out_dir / name).unlink(missing_ok=True)
    if created and out_dir.exists() and not any(out_dir.iterdir()):
        out_dir.rmdir()
