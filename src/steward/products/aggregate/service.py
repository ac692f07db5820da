"""Run an aggregate report: counts at the source, suppression here, rows with notation and a legend."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from steward.privacy.suppression import PRIMARY, PUBLISHED, SECONDARY, CertificateError, suppress
from steward.products.aggregate import release as rel
from steward.products.aggregate.reports import (
    DIMS,
    GRADE_RANK,
    GROUP_DIMS,
    GROUP_TYPES,
    LAYOUTS,
    Measure,
    Release,
    inner_cells,
    report_spec,
    school_names,
)
from steward.products.student_year import RACE_ORDER, SEX_GROUPS, Scope
from steward.sources.base import Source

Method = Literal["fast", "optimal"]
ALL_SCHOOLS = "All Schools"
ALL_GRADES = "All Grades"
ALL_STUDENTS = "All Students"
CROSS_GROUP = "Cross Student Group"
TOP_BOTTOM = "Top/Bottom"

COLUMNS: tuple[str, ...] = (
    "school_year",
    "district_code",
    "school_code",
    "school_name",
    "grade",
    "student_group_type",
    "student_group",
    "measure",
    "n",
    "count",
    "percent",
    "suppression",
)


class ReportError(RuntimeError):
    """A report that cannot be produced (unknown name, no data, a release that fails its audit)."""


@dataclass(frozen=True, slots=True)
class Row:
    school_year: int
    district_code: str
    school_code: str
    school_name: str
    grade: str
    student_group_type: str
    student_group: str
    measure: str
    n: int | None
    count: int | None
    percent: float | str | None
    suppression: str

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in COLUMNS)


@dataclass(slots=True)
class ReportResult:
    name: str
    title: str
    population: str
    years: tuple[int, ...]
    district_code: str
    threshold: int
    rows: list[Row] = field(default_factory=list)
    measures: dict[str, str] = field(default_factory=dict)
    #: Per release (year and part): the suppression certificate (CERT.json form).
    certificates: dict[str, dict[str, Any]] = field(default_factory=dict)
    primaries: int = 0
    secondaries: int = 0
    coded: int = 0

    def legend(self) -> list[tuple[str, str]]:
        t = self.threshold
        return [
            (
                f"N<{t}",
                f"Fewer than {t} students in the group: its N, count and percent are not shown "
                "(district threshold).",
            ),
            (
                CROSS_GROUP,
                f"Not shown because, together with the other published numbers, it would reveal a group "
                f"of fewer than {t} students (complementary suppression, checked by an exact audit).",
            ),
            (
                TOP_BOTTOM,
                "The percent is at an extreme and shown as a range (≤b% or ≥(100-b)%); b depends only on "
                "the size band of N (" + ", ".join(f"N≥{n}: {b}%" for n, b in rel.BANDS) + "), so the "
                "bound never reveals N; the count is not shown.",
            ),
            ("(blank percent)", "Not computable or not shown because its N or count is not shown."),
            (ALL_SCHOOLS, "The district as a whole."),
            (ALL_GRADES, "Every grade of the school or district."),
        ]


def _group_value(dim: str, value: str) -> str:
    return value


def _order_key(label: tuple[str, ...]) -> tuple[Any, ...]:
    school, grade, *groups = label
    school_key = (0, "") if school == rel.ALL else (1, school)
    grade_key = -1 if grade == rel.ALL else GRADE_RANK.get(grade, 99)
    kind = next((i for i, v in enumerate(groups) if v != rel.ALL), -1)
    value = groups[kind] if kind >= 0 else ""
    if kind >= 0 and GROUP_DIMS[kind] == "race_ethnicity":
        value_key: tuple[int, str] = (RACE_ORDER.index(value) if value in RACE_ORDER else 99, value)
    elif kind >= 0 and GROUP_DIMS[kind] == "sex":
        names = list(SEX_GROUPS.values())
        value_key = (names.index(value) if value in names else 99, value)
    else:
        value_key = (0, value)
    return (school_key, grade_key, kind, value_key)


def _is_report_label(label: tuple[str, ...]) -> bool:
    """Report rows show at most one student-group variable at a time."""
    return sum(v != rel.ALL for v in label[2:]) <= 1


def _percent(part: float, whole: float) -> float | None:
    return None if whole <= 0 else round(100.0 * part / whole, 1)


def protect_release(
    year: int,
    district: str,
    names: dict[str, str],
    spec_release: Release,
    cells: pa.Table,
    threshold: int,
    top_bottom: bool,
    method: Method,
    layout: str,
    result: ReportResult,
) -> None:
    """Suppress one release (a year and part of a report) from its inner cells and append its
    rows, with notation, to ``result``."""
    data = cells.to_pydict()
    keys = [tuple(str(data[d][i]) for d in DIMS) for i in range(cells.num_rows)]
    rate = spec_release.rate is not None
    built = rel.build(
        DIMS,
        LAYOUTS[layout],
        keys,
        data["n"],
        data["met"] if rate else None,
        top_bottom=top_bottom and rate,
    )
    problem = built.problem
    try:
        outcome = suppress(problem, threshold, method, forced=built.forced if built.coded else None)
    except CertificateError as exc:
        raise ReportError(
            f"{result.name} {year} ({spec_release.key}): no safe release was found: {exc}"
        ) from None
    status = outcome.status
    result.certificates[f"{year}:{spec_release.key}"] = outcome.certificate.to_json(problem.fields)
    result.primaries += int(np.count_nonzero(status == PRIMARY))
    result.secondaries += int(np.count_nonzero(status == SECONDARY))
    result.coded += len(built.coded)

    sums: dict[str, np.ndarray] = {}
    for name in spec_release.sums:
        if rate:
            inner = np.concatenate(
                [np.asarray(data[f"{name}_met"], dtype=float), np.asarray(data[f"{name}_other"], dtype=float)]
            )
        else:
            inner = np.asarray(data[f"{name}_met"], dtype=float)
        sums[name] = np.asarray(problem.cells @ inner, dtype=float)

    def published(j: int) -> bool:
        return bool(status[j] == PUBLISHED)

    for label in sorted((lab for lab in built.groups if _is_report_label(lab)), key=_order_key):
        g = built.groups[label]
        school, grade, *groups = label
        kind = next((i for i, v in enumerate(groups) if v != rel.ALL), -1)
        group_type = GROUP_TYPES[GROUP_DIMS[kind]] if kind >= 0 else ALL_STUDENTS
        group = _group_value(GROUP_DIMS[kind], groups[kind]) if kind >= 0 else ALL_STUDENTS
        base = {
            "school_year": year,
            "district_code": district,
            "school_code": "" if school == rel.ALL else school,
            "school_name": ALL_SCHOOLS if school == rel.ALL else names.get(school, ""),
            "grade": ALL_GRADES if grade == rel.ALL else grade,
            "student_group_type": group_type,
            "student_group": group,
        }
        n_value = built.value(g)
        group_note = (
            f"N<{threshold}" if status[g] == PRIMARY else CROSS_GROUP if status[g] == SECONDARY else ""
        )
        for measure in spec_release.measures:
            result.rows.append(_row(base, measure, built, label, g, n_value, group_note, published, sums))


def _row(
    base: dict[str, Any],
    measure: Measure,
    built: rel.Release,
    label: tuple[str, ...],
    g: int,
    n_value: int,
    group_note: str,
    published: Callable[[int], bool],
    sums: dict[str, np.ndarray],
) -> Row:
    n = n_value if published(g) else None
    count: int | None = None
    percent: float | str | None = None
    note = group_note
    if measure.kind == "share":
        whole_label = (label[0], label[1], *([rel.ALL] * len(GROUP_DIMS)))
        whole = built.groups.get(whole_label) if whole_label != label else None
        if n is not None and whole is not None and published(whole):
            percent = _percent(n_value, built.value(whole))
    elif measure.kind == "pooled":
        assert measure.pooled is not None
        numerator, denominator = (sums[measure.pooled[0]][g], sums[measure.pooled[1]][g])
        if n is not None and denominator > 0:
            percent = round(100.0 * (1.0 - numerator / denominator), 1)
    else:
        j = built.numerators[label]
        if not note:
            if j in built.coded:
                note = TOP_BOTTOM
                percent = rel.coded_label(built.coded[j], n_value)
            elif not published(j):
                note = CROSS_GROUP
        if published(j):
            count = built.value(j)
            if n is not None:
                percent = _percent(count, n_value)
    return Row(**base, measure=measure.name, n=n, count=count, percent=percent, suppression=note)


def run_report(
    source: Source,
    report: str,
    scope: Scope,
    *,
    threshold: int = 10,
    top_bottom: bool = False,
    method: Method = "fast",
    layout: str = "card",
    progress: Callable[[str], None] | None = None,
) -> ReportResult:
    """Compute ``report`` for the scope's district and years, suppressed with ``threshold``."""
    try:
        spec = report_spec(report)
    except KeyError as exc:
        raise ReportError(str(exc.args[0])) from None
    if layout not in LAYOUTS:
        raise ReportError(f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    if scope.districts is None or len(scope.districts) != 1:
        raise ReportError("an aggregate report is made for exactly one district")
    district = scope.districts[0]
    result = ReportResult(spec.name, spec.title, spec.describe, scope.years, district, threshold)
    names_table = source.to_arrow(school_names(source, scope)).to_pylist()
    names: dict[int, dict[str, str]] = {}
    for row in names_table:
        names.setdefault(int(row["school_year"]), {})[str(row["school_code"])] = str(row["school_name"] or "")
    for release in spec.releases(source, scope):
        for measure in release.measures:
            result.measures[measure.name] = measure.title
        cells = source.to_arrow(inner_cells(release.units, release.rate is not None, release.sums))
        for year in scope.years:
            if progress is not None:
                progress(f"{spec.name} {year} {release.key}")
            mine = cells.filter(pc.equal(cells["school_year"], year))
            if mine.num_rows == 0:
                continue
            protect_release(
                year,
                district,
                names.get(year, {}),
                release,
                mine,
                threshold,
                top_bottom,
                method,
                layout,
                result,
            )
    if not result.rows:
        years = ", ".join(str(y) for y in scope.years)
        raise ReportError(f"no {spec.name} data for district {district} in {years} at {source.describe()}")
    return result


def rows_of(result: ReportResult) -> Iterable[Sequence[Any]]:
    yield COLUMNS
    for row in result.rows:
        yield row.values()
