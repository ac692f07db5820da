"""Build a de-identified student-year extract from a source, streaming, in bounded memory.

Pass 1 reads only the quasi-identifiers and sensitive outcomes (as small integer codes) and searches
the generalisation (``steward.privacy.deidentify``). Pass 2 streams every row again, generalises,
withholds rows of failing classes, swaps the student for its research ID and scatters the rows into
shuffle buckets; the buckets are then written out in random order. The package holds the extract,
a data dictionary, the re-identification risk report and a manifest with SHA-256 digests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from steward.domain.datasets import Dataset
from steward.exports import neutralise_row, neutralise_text
from steward.privacy import deidentify as di
from steward.products.extract.crosswalk import Crosswalk
from steward.products.extract.shuffle import Shuffler
from steward.products.student_year import PROFICIENT_LEVEL, Scope, student_years
from steward.sources.base import Source, SourceError

EXTRACT_FILE = "extract.csv"
DICTIONARY_FILE = "data_dictionary.csv"
RISK_JSON = "risk_report.json"
RISK_TEXT = "risk_report.md"
MANIFEST = "manifest.json"
DEFAULT_MAX_SUPPRESSION = 0.05
#: ``ExtractSpec.district_code`` for every district of the source (a state extract).
ALL_DISTRICTS = "*"

#: Student-year part each source column needs (columns of the base rows need none).
PART_OF: dict[str, str] = {
    "school_code": "school",
    "withdrawal_code": "school",
    "days_enrolled": "attendance",
    "days_absent": "attendance",
    "days_absent_excused": "attendance",
    "attendance_rate": "attendance",
    "chronically_absent": "attendance",
    "race_ethnicity": "race",
    "discipline_action": "discipline",
    "discipline_actions": "discipline",
    "discipline_days": "discipline",
    **dict.fromkeys(("low_income", "english_learner", "special_education", "section_504"), "programs"),
    **{f"{s}_{m}": "assessment" for s in ("ela", "math", "sci") for m in ("level", "score", "proficient")},
}


@dataclass(frozen=True, slots=True)
class ExtractSpec:
    """What to extract: one district's student-years, the agreement's elements, the protection."""

    district_code: str
    years: tuple[int, ...]
    elements: Mapping[Dataset, tuple[str, ...]]
    k: int = 10
    l_diversity: int = 2
    max_suppression: float = DEFAULT_MAX_SUPPRESSION
    agreement_code: str = ""
    as_of: Any = None


@dataclass(slots=True)
class ExtractSummary:
    plan: di.Plan
    outcome: di.Outcome
    rows: int
    students: int
    rids_created: int
    rids_reused: int
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256
    seconds: float = 0.0
    risk: dict[str, Any] = field(default_factory=dict)


def extract_table(source: Source, scope: Scope, plan: di.Plan, only: Sequence[str] | None = None) -> ir.Table:
    """The student-year rows with the student key and every column the plan needs (ibis);
    ``only``: just these source columns (and only the parts they need)."""
    wanted = set(plan.sources if only is None else only)
    parts = {PART_OF[c] for c in wanted if c in PART_OF}
    t = student_years(source, scope, parts)
    derived: dict[str, ir.Value] = {
        "age": t.school_year
        - 1
        - t.birth_year
        - ((t.birth_date.month() > 9) | ((t.birth_date.month() == 9) & (t.birth_date.day() > 1))).ifelse(
            1, 0
        ),
        "entry_month": t.entry_date,
        "exit_month": t.exit_date,
        "zip5": t.zip_code.substr(0, 5),
        "hispanic": t.ethnicity_code == "1",
    }
    for subject in ("ela", "math", "sci"):
        if f"{subject}_proficient" in wanted:
            level = t[f"{subject}_level"]
            derived[f"{subject}_proficient"] = level.isnull().ifelse(
                ibis.null("boolean"), level >= PROFICIENT_LEVEL
            )
    columns: dict[str, ir.Value] = {"district_code": t.district_code, "student_id": t.student_id}
    for name in plan.sources:
        if name in wanted:
            columns[name] = derived[name] if name in derived else t[name]
    return t.select(**columns)


def texts(array: pa.Array | pa.ChunkedArray, kind: str) -> pa.Array:
    """One column's values as the text written to the extract (empty for missing)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if kind == "flag":
        out = pc.if_else(array.cast(pa.bool_()), "Y", "N")
    elif kind == "float":
        out = pc.round(array.cast(pa.float64()), 4).cast(pa.string())
    elif kind == "month":
        out = pc.strftime(array.cast(pa.timestamp("s")), format="%Y-%m")
    else:
        out = array.cast(pa.string())
    return pc.fill_null(out, "")


def _codes(encoder: di.Encoder, values: pa.Array) -> npt.NDArray[np.int64]:
    encoded = pc.dictionary_encode(values)
    lut = encoder.encode(encoded.dictionary.to_pylist())
    indices: npt.NDArray[np.int64] = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return lut[indices] if lut.size else indices


class _Packer:
    """Generalised code tuples -> one int64 each (mixed radix), to test membership fast."""

    def __init__(self, radices: Sequence[int]) -> None:
        self.mult: list[int] = []
        total = 1
        for r in reversed(radices):
            self.mult.insert(0, total)
            total *= max(1, r)
        self.fits = total < 2**62

    def pack(self, matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        out = np.zeros(matrix.shape[0], dtype=np.int64)
        for q, m in enumerate(self.mult):
            out += matrix[:, q] * m
        return out


def _pass_one(
    source: Source,
    scopes: Sequence[Scope],
    plan: di.Plan,
    batch: int,
    progress: Callable[[int], None] | None,
) -> tuple[di.Microdata, list[di.Encoder]]:
    qis, sas = plan.quasi_identifiers, plan.sensitive
    encoders = [di.Encoder(c.hierarchy) for c in qis]
    sa_encoders = [di.Encoder(di.FLAT) for _ in sas]
    qi_parts: list[npt.NDArray[np.int32]] = []
    sa_parts: list[npt.NDArray[np.int32]] = []
    seen = 0
    needed = [c.source for c in (*qis, *sas)]
    chunks = (
        chunk
        for scope in scopes
        for chunk in source.batches(extract_table(source, scope, plan, needed), batch)
    )
    for chunk in chunks:
        n = chunk.num_rows
        if n == 0:
            continue
        qi_parts.append(
            np.column_stack(
                [_codes(e, texts(chunk[c.source], c.kind)) for e, c in zip(encoders, qis, strict=True)]
            ).astype(np.int32)
        )
        sa_parts.append(
            np.column_stack(
                [_codes(e, texts(chunk[c.source], c.kind)) for e, c in zip(sa_encoders, sas, strict=True)]
            ).astype(np.int32)
            if sas
            else np.zeros((n, 0), dtype=np.int32)
        )
        seen += n
        if progress is not None:
            progress(seen)
    qi = np.concatenate(qi_parts) if qi_parts else np.zeros((0, len(qis)), dtype=np.int32)
    sa = np.concatenate(sa_parts) if sa_parts else np.zeros((0, len(sas)), dtype=np.int32)
    micro = di.Microdata.compress(qi, sa, encoders)
    return micro, encoders


def _csv_lines(columns: list[list[str]]) -> list[str]:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(zip(*columns, strict=True))
    return buffer.getvalue().splitlines(keepends=True)


def build_extract(
    source: Source,
    spec: ExtractSpec,
    crosswalk: Crosswalk,
    out_dir: Path,
    *,
    batch: int = 65_536,
    progress: Callable[[str, int], None] | None = None,
) -> ExtractSummary:
    """Write the package into ``out_dir`` (created; must be empty). Raises ``RefusedError`` when no
    generalisation meets k and l within the budget (nothing is written then)."""
    started = time.perf_counter()
    plan = di.plan(spec.elements)
    # A state extract runs district by district: smaller queries, the same rows.
    districts = source.districts() if spec.district_code == ALL_DISTRICTS else (spec.district_code,)
    scopes = [Scope(spec.years, (d,), spec.as_of) for d in districts]
    qis = plan.quasi_identifiers

    micro, encoders = _pass_one(
        source, scopes, plan, batch, (lambda n: progress("scan", n)) if progress else None
    )
    if micro.rows == 0:
        raise di.RefusedError(
            f"no student of district {spec.district_code} in "
            f"{', '.join(str(y) for y in spec.years)} at {source.describe()}"
        )
    fixed = [c.name == di.SCHOOL_YEAR.name for c in qis]
    outcome = di.search(micro, [c.name for c in qis], spec.k, spec.l_diversity, spec.max_suppression, fixed)

    level_maps = []
    labels: list[npt.NDArray[np.object_]] = []
    for encoder, level in zip(encoders, outcome.levels, strict=True):
        mapping, names = encoder.level_map(level)
        level_maps.append(mapping)
        # Labels are source values (or built from them): written spreadsheet-safe, like text values.
        labels.append(np.asarray([neutralise_text(n) for n in names], dtype=object))
    packer = _Packer([len(x) for x in labels])
    bad_tuples = np.asarray(sorted(outcome.bad_keys), dtype=np.int64).reshape(-1, len(qis))
    bad_packed = packer.pack(bad_tuples) if packer.fits else None
    bad_set = outcome.bad_keys

    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty: an extract is written into a new directory")
    header = [di.RESEARCH_ID, *(c.name for c in plan.columns)]
    by_name = {c.name: q for q, c in enumerate(qis)}
    written = 0
    # The first 64 bits of each research ID released, to count students without keeping strings.
    released: list[npt.NDArray[np.uint64]] = []
    estimate = max(1, micro.rows // 100_000)
    with Shuffler(out_dir, buckets=min(256, estimate * 4)) as shuffler:
        chunks = (
            chunk for scope in scopes for chunk in source.batches(extract_table(source, scope, plan), batch)
        )
        for chunk in chunks:
            n = chunk.num_rows
            if n == 0:
                continue
            generalised = np.empty((n, len(qis)), dtype=np.int64)
            for q, (encoder, column) in enumerate(zip(encoders, qis, strict=True)):
                codes = _codes(encoder, texts(chunk[column.source], column.kind))
                if codes.size and int(codes.max()) >= level_maps[q].size:
                    raise SourceError(
                        source.describe(), None, column.name, "the data changed during the extract"
                    )
                generalised[:, q] = level_maps[q][codes]
            if bad_packed is not None:
                keep = ~np.isin(packer.pack(generalised), bad_packed)
            else:
                keep = np.asarray([tuple(int(x) for x in row) not in bad_set for row in generalised])
            if not keep.any():
                continue
            index = pa.array(np.flatnonzero(keep))
            kept = chunk.take(index)
            keys = pc.binary_join_element_wise(kept["district_code"], kept["student_id"], ":").to_pylist()
            rids = crosswalk.rids(keys)
            released.append(np.asarray([int(r[:16], 16) for r in rids], dtype=np.uint64))
            columns: list[list[str]] = [rids]
            for column in plan.columns:
                position = by_name.get(column.name)
                if position is not None:
                    columns.append(labels[position][generalised[keep, position]].tolist())
                else:
                    values = texts(kept[column.source], column.kind).to_pylist()
                    columns.append([neutralise_text(v) for v in values] if column.kind == "text" else values)
            shuffler.add_many(_csv_lines(columns))
            written += len(rids)
            if progress is not None:
                progress("write", written)
        crosswalk.flush()
        path = out_dir / EXTRACT_FILE
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerow(neutralise_row(header))
            for line in shuffler.drain():
                handle.write(line)
    students = int(np.unique(np.concatenate(released)).size) if released else 0
    summary = ExtractSummary(
        plan, outcome, written, students, crosswalk.created, students - min(students, crosswalk.created)
    )
    summary.risk = risk_report(spec, plan, outcome, written, students)
    _write_dictionary(out_dir / DICTIONARY_FILE, plan, outcome)
    (out_dir / RISK_JSON).write_text(
        json.dumps(summary.risk, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out_dir / RISK_TEXT).write_text(risk_text(summary.risk), encoding="utf-8")
    summary.seconds = time.perf_counter() - started
    return summary


def _write_dictionary(path: Path, plan: di.Plan, outcome: di.Outcome) -> None:
    level = {c.name: outcome.levels[i] for i, c in enumerate(plan.quasi_identifiers)}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("column", "role", "description", "generalisation"))
        writer.writerow(
            (di.RESEARCH_ID, "research_id", "random 128-bit ID of the student for this agreement", "")
        )
        for column in plan.columns:
            how = column.hierarchy.describe(level[column.name]) if column.name in level else ""
            writer.writerow(neutralise_row((column.name, column.role.value, column.description, how)))


def risk_report(
    spec: ExtractSpec, plan: di.Plan, outcome: di.Outcome, rows: int, students: int
) -> dict[str, Any]:
    """The re-identification risk report shipped in the package (machine-readable)."""
    qis = plan.quasi_identifiers
    return {
        "agreement": spec.agreement_code,
        "district": spec.district_code,
        "school_years": list(spec.years),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "grain": "one row per student and school year",
        "rows_released": rows,
        "students_released": students,
        "rows_withheld": outcome.withheld,
        "withheld_share": round(outcome.withheld_share, 4),
        "max_withheld_share": spec.max_suppression,
        "k_required": spec.k,
        "k_achieved": outcome.k,
        "l_required": spec.l_diversity if plan.sensitive else None,
        "l_achieved": {c.name: outcome.l_values[i] for i, c in enumerate(plan.sensitive)},
        "equivalence_classes": outcome.classes,
        "quasi_identifiers": {c.name: c.hierarchy.describe(outcome.levels[i]) for i, c in enumerate(qis)},
        "sensitive_outcomes": [c.name for c in plan.sensitive],
        "risk_prosecutor": di.risk_summary(outcome.class_sizes),
        "identifiers_removed": list(di.identifier_elements()),
        "elements_released": {k: list(v) for k, v in plan.released.items()},
        "elements_omitted": dict(plan.omitted),
        "research_id": "random 128 bits per (agreement, student), kept in the district's crosswalk; "
        "never derived from student data; other agreements get unrelated IDs",
        "row_order": "shuffled (uniform random permutation)",
        "caveats": [
            "k-anonymity and l-diversity are per school year; linking a student's rows across years "
            "through the research ID combines their quasi-identifiers (longitudinal risk).",
            "Released values (scores, days, rates) are not generalised; rare extreme values can stand out.",
            "l-diversity is distinct l-diversity: a class may still be dominated by one value.",
        ],
    }


def risk_text(risk: Mapping[str, Any]) -> str:
    """The risk report in plain words (Markdown)."""
    lines = [
        f"# Re-identification risk report: {risk['agreement'] or 'extract'}",
        "",
        f"District {risk['district']}, school years {', '.join(str(y) for y in risk['school_years'])}; "
        f"{risk['grain']}.",
        "",
        f"- Rows released: {risk['rows_released']:,} ({risk['students_released']:,} students); "
        f"withheld: {risk['rows_withheld']:,} ({risk['withheld_share']:.1%}, at most "
        f"{risk['max_withheld_share']:.0%} allowed).",
        f"- k-anonymity: required {risk['k_required']}, achieved {risk['k_achieved']} over "
        f"{risk['equivalence_classes']:,} classes.",
    ]
    if risk["l_required"]:
        achieved = ", ".join(f"{k} {v}" for k, v in risk["l_achieved"].items())
        lines.append(f"- l-diversity: required {risk['l_required']}, achieved {achieved}.")
    r = risk["risk_prosecutor"]
    lines += [
        f"- Prosecutor risk: highest {r['max_risk']:.3f}, average {r['average_risk']:.4f}; "
        f"records in classes smaller than 20: {r['records_at_risk_over_0.05']:.1%}.",
        "",
        "## Quasi-identifiers and their generalisation",
        "",
        *(f"- `{k}`: {v}" for k, v in risk["quasi_identifiers"].items()),
        "",
        "## Removed and omitted",
        "",
        f"- Direct identifiers removed: {', '.join(risk['identifiers_removed'])}.",
        *(f"- `{k}`: {v}" for k, v in risk["elements_omitted"].items()),
        "",
        "## Research ID and row order",
        "",
        f"- {risk['research_id']}.",
        f"- Rows are {risk['row_order']}.",
        "",
        "## Caveats",
        "",
        *(f"- {c}" for c in risk["caveats"]),
        "",
    ]
    return "\n".join(lines)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
