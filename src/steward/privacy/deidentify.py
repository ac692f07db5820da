"""De-identification of student-year rows (pure): which columns an agreement's elements become, how
quasi-identifiers generalise, and the search for a generalisation that makes the release
k-anonymous and l-diverse (34 CFR 99.31(b), OSPI; DISCLOSURE.md "Microdata").

Direct identifiers never leave (names, birth date -> birth year, SSN, district and state IDs,
addresses, phones, emails, record identifiers); a random research ID replaces the student. Every
quasi-identifier has a generalisation hierarchy (level 0 = as recorded, last level = ``*``). The
search is full-domain generalisation, greedy from the most detailed levels: at each step it
generalises the quasi-identifier that leaves the fewest rows in failing classes, until at most
``max_suppression`` of the rows fall in classes smaller than k or with fewer than l distinct values
of a sensitive outcome; those rows are then withheld. If even the most general levels fail, the
extract is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.domain.datasets import ELEMENTS, Dataset, Sensitivity

STAR = "*"
IntArray = npt.NDArray[np.int64]


class Role(StrEnum):
    QUASI_IDENTIFIER = "quasi_identifier"  # generalised until k-anonymous
    SENSITIVE = "sensitive"  # an outcome that must be l-diverse in every class
    VALUE = "value"  # released as is


# -- generalisation hierarchies ---------------------------------------------------------------------


def _grade_band(g: str) -> str:
    bands = {"PK": "PK-K", "K": "PK-K", "1": "1-3", "2": "1-3", "3": "1-3", "4": "4-5", "5": "4-5"}
    bands |= {"6": "6-8", "7": "6-8", "8": "6-8", "9": "9-10", "10": "9-10", "11": "11-12", "12": "11-12"}
    return bands.get(g, STAR)


def _school_level(g: str) -> str:
    if g in ("PK", "K", "1", "2", "3", "4", "5"):
        return "PK-5"
    if g in ("6", "7", "8"):
        return "6-8"
    return "9-12" if g in ("9", "10", "11", "12") else STAR


def _year_band(width: int) -> Callable[[str], str]:
    def band(v: str) -> str:
        if not v.isdigit():
            return STAR
        start = int(v) - int(v) % width
        return f"{start}-{start + width - 1}"

    return band


def _race_coarse(v: str) -> str:
    return v if v in ("White", "Hispanic/Latino of any race(s)") else "Other or Multiple"


def _language(v: str) -> str:
    return "English" if v == "639" else "Not reported" if v == "" else "Other"


def _zip3(v: str) -> str:
    return v[:3] + "**" if len(v) >= 5 else STAR


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """Generalisation steps of one quasi-identifier: level 0 is the value itself, the last ``*``."""

    steps: tuple[Callable[[str], str], ...] = ()
    descriptions: tuple[str, ...] = ()

    @property
    def levels(self) -> int:
        return len(self.steps) + 2  # value, each step, star

    def label(self, value: str, level: int) -> str:
        if level <= 0:
            return value
        if level > len(self.steps):
            return STAR
        return self.steps[level - 1](value)

    def describe(self, level: int) -> str:
        if level <= 0:
            return "as recorded"
        if level > len(self.steps):
            return "withheld (*)"
        return self.descriptions[level - 1]


FLAT = Hierarchy()
GRADE = Hierarchy((_grade_band, _school_level), ("grade band", "school level (PK-5, 6-8, 9-12)"))
YEARS = Hierarchy((_year_band(2), _year_band(4)), ("2-year band", "4-year band"))
RACE = Hierarchy((_race_coarse,), ("White, Hispanic/Latino, other or multiple",))
LANGUAGE = Hierarchy((_language,), ("English, other, not reported",))
ZIP = Hierarchy((_zip3,), ("3-digit ZIP prefix",))
MONTH = Hierarchy((lambda v: v[:4] if v else v,), ("calendar year",))
FIXED = Hierarchy((), ())  # school year: never generalised (its own release unit)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an extract, the student-year value it comes from and how it is protected."""

    name: str
    source: str  # student-year column
    role: Role
    hierarchy: Hierarchy = FLAT
    kind: str = "text"  # text, flag, int, float, month
    description: str = ""


@dataclass(frozen=True, slots=True)
class Omitted:
    """An element that does not become a column, and why."""

    reason: str


def _flag(name: str, description: str, role: Role = Role.QUASI_IDENTIFIER) -> Column:
    return Column(name, name, role, FLAT, "flag", description)


_REMOVED = Omitted("direct identifier: removed (99.31(b)); the research ID replaces the student")
_EVENT = Omitted("event-level detail: the extract has one row per student and school year")
_COURSE = Omitted("course-level data: not part of a student-year extract")

Mapped = tuple[Column, ...] | Omitted

#: What each element of the agreement becomes in a student-year extract.
ELEMENT_COLUMNS: dict[tuple[Dataset, str], Mapped] = {
    (Dataset.DIRECTORY, "first_name"): _REMOVED,
    (Dataset.DIRECTORY, "middle_name"): _REMOVED,
    (Dataset.DIRECTORY, "last_name"): _REMOVED,
    (Dataset.DIRECTORY, "age"): (
        Column("age", "age", Role.QUASI_IDENTIFIER, YEARS, "int", "age in years on September 1"),
    ),
    (Dataset.DIRECTORY, "grade_level"): (
        Column("grade_level", "grade_level", Role.QUASI_IDENTIFIER, GRADE, "text", "grade level"),
    ),
    (Dataset.DIRECTORY, "enrollment_dates"): (
        Column("entry_month", "entry_month", Role.QUASI_IDENTIFIER, MONTH, "month", "district entry month"),
        Column("exit_month", "exit_month", Role.QUASI_IDENTIFIER, MONTH, "month", "district exit month"),
    ),
    (Dataset.DIRECTORY, "school_name"): (
        Column("school_code", "school_code", Role.QUASI_IDENTIFIER, FLAT, "text", "school (OSPI code)"),
    ),
    (Dataset.DEMOGRAPHICS, "student_id"): _REMOVED,
    (Dataset.DEMOGRAPHICS, "state_id"): _REMOVED,
    (Dataset.DEMOGRAPHICS, "ssn"): _REMOVED,
    (Dataset.DEMOGRAPHICS, "birth_date"): (
        Column(
            "birth_year", "birth_year", Role.QUASI_IDENTIFIER, YEARS, "int", "year of birth (date removed)"
        ),
    ),
    (Dataset.DEMOGRAPHICS, "sex"): (
        Column("sex", "sex", Role.QUASI_IDENTIFIER, FLAT, "text", "sex (F, M, X)"),
    ),
    (Dataset.DEMOGRAPHICS, "race_ethnicity"): (
        Column(
            "race_ethnicity", "race_ethnicity", Role.QUASI_IDENTIFIER, RACE, "text", "OSPI race/ethnicity"
        ),
    ),
    (Dataset.DEMOGRAPHICS, "hispanic"): (_flag("hispanic", "Hispanic or Latino ethnicity"),),
    (Dataset.DEMOGRAPHICS, "primary_language"): (
        Column(
            "primary_language", "primary_language", Role.QUASI_IDENTIFIER, LANGUAGE, "text", "language code"
        ),
    ),
    (Dataset.DEMOGRAPHICS, "home_language"): (
        Column("home_language", "home_language", Role.QUASI_IDENTIFIER, LANGUAGE, "text", "language at home"),
    ),
    (Dataset.DEMOGRAPHICS, "zip_code"): (
        Column("zip_code", "zip5", Role.QUASI_IDENTIFIER, ZIP, "text", "5-digit residence ZIP code"),
    ),
    (Dataset.DEMOGRAPHICS, "birth_country"): (
        Column("birth_country", "birth_country", Role.QUASI_IDENTIFIER, FLAT, "text", "country of birth"),
    ),
    (Dataset.DEMOGRAPHICS, "homeless"): (_flag("homeless", "McKinney-Vento homeless"),),
    (Dataset.DEMOGRAPHICS, "foster_care"): (_flag("foster_care", "in foster care"),),
    (Dataset.ENROLLMENT, "school_code"): (
        Column("school_code", "school_code", Role.QUASI_IDENTIFIER, FLAT, "text", "school (OSPI code)"),
    ),
    (Dataset.ENROLLMENT, "grade_level"): (
        Column("grade_level", "grade_level", Role.QUASI_IDENTIFIER, GRADE, "text", "grade level"),
    ),
    (Dataset.ENROLLMENT, "entry_date"): (
        Column("entry_month", "entry_month", Role.QUASI_IDENTIFIER, MONTH, "month", "district entry month"),
    ),
    (Dataset.ENROLLMENT, "exit_date"): (
        Column("exit_month", "exit_month", Role.QUASI_IDENTIFIER, MONTH, "month", "district exit month"),
    ),
    (Dataset.ENROLLMENT, "exit_code"): (
        Column("withdrawal_code", "withdrawal_code", Role.VALUE, FLAT, "text", "school withdrawal code"),
    ),
    (Dataset.ENROLLMENT, "resident_district"): (
        Column(
            "resident_district",
            "resident_district_code",
            Role.QUASI_IDENTIFIER,
            FLAT,
            "text",
            "district of residence",
        ),
    ),
    (Dataset.ATTENDANCE, "absence_date"): (
        Column("days_absent", "days_absent", Role.VALUE, FLAT, "float", "days absent in the year"),
    ),
    (Dataset.ATTENDANCE, "absence_type"): (
        Column("days_absent_excused", "days_absent_excused", Role.VALUE, FLAT, "float", "of which excused"),
    ),
    (Dataset.ATTENDANCE, "absence_amount"): (
        Column("days_absent", "days_absent", Role.VALUE, FLAT, "float", "days absent in the year"),
    ),
    (Dataset.ATTENDANCE, "days_enrolled"): (
        Column("days_enrolled", "days_enrolled", Role.VALUE, FLAT, "int", "weekdays enrolled"),
    ),
    (Dataset.ATTENDANCE, "attendance_rate"): (
        Column("attendance_rate", "attendance_rate", Role.VALUE, FLAT, "float", "share of days attended"),
    ),
    (Dataset.ATTENDANCE, "chronically_absent"): (
        Column("chronically_absent", "chronically_absent", Role.VALUE, FLAT, "flag", "absent 10%+ of days"),
    ),
    (Dataset.DISCIPLINE, "incident_id"): Omitted("record identifier: removed"),
    (Dataset.DISCIPLINE, "incident_date"): _EVENT,
    (Dataset.DISCIPLINE, "behavior_code"): _EVENT,
    (Dataset.DISCIPLINE, "action_code"): (
        Column(
            "discipline_action",
            "discipline_action",
            Role.SENSITIVE,
            FLAT,
            "text",
            "most severe exclusionary action (none if none)",
        ),
        Column("discipline_actions", "discipline_actions", Role.VALUE, FLAT, "int", "exclusionary actions"),
    ),
    (Dataset.DISCIPLINE, "action_days"): (
        Column("discipline_days", "discipline_days", Role.VALUE, FLAT, "float", "days excluded"),
    ),
    (Dataset.ASSESSMENT, "assessment"): Omitted("one state assessment: implied by the columns"),
    (Dataset.ASSESSMENT, "subject"): Omitted("subjects are the assessment columns' prefixes"),
    (Dataset.ASSESSMENT, "test_date"): _EVENT,
    (Dataset.ASSESSMENT, "scale_score"): tuple(
        Column(f"{s}_score", f"{s}_score", Role.VALUE, FLAT, "int", f"{s.upper()} scale score")
        for s in ("ela", "math", "sci")
    ),
    (Dataset.ASSESSMENT, "performance_level"): tuple(
        Column(f"{s}_level", f"{s}_level", Role.VALUE, FLAT, "int", f"{s.upper()} performance level 1-4")
        for s in ("ela", "math", "sci")
    ),
    (Dataset.ASSESSMENT, "proficient"): tuple(
        Column(f"{s}_proficient", f"{s}_proficient", Role.VALUE, FLAT, "flag", f"{s.upper()} met standard")
        for s in ("ela", "math", "sci")
    ),
    (Dataset.GRADES, "gpa"): (Column("gpa", "gpa", Role.VALUE, FLAT, "float", "cumulative GPA"),),
    (Dataset.GRADES, "credits_attempted"): (
        Column("credits_attempted", "credits_attempted", Role.VALUE, FLAT, "float", "credits attempted"),
    ),
    (Dataset.GRADES, "credits_earned"): (
        Column("credits_earned", "credits_earned", Role.VALUE, FLAT, "float", "credits earned"),
    ),
    (Dataset.GRADES, "course_id"): _COURSE,
    (Dataset.GRADES, "course_title"): _COURSE,
    (Dataset.GRADES, "term"): _COURSE,
    (Dataset.GRADES, "letter_grade"): _COURSE,
    (Dataset.PROGRAMS, "special_education"): (_flag("special_education", "served under IDEA"),),
    (Dataset.PROGRAMS, "disability_code"): (
        Column(
            "disability_code", "disability_code", Role.SENSITIVE, FLAT, "text", "primary disability (0 none)"
        ),
    ),
    (Dataset.PROGRAMS, "section_504"): (_flag("section_504", "Section 504 plan"),),
    (Dataset.PROGRAMS, "english_learner"): (_flag("english_learner", "English learner program"),),
    (Dataset.PROGRAMS, "low_income"): (_flag("low_income", "free or reduced-price meals"),),
    (Dataset.PROGRAMS, "program_dates"): _EVENT,
    **{(Dataset.SCHEDULE, e.name): _COURSE for e in ELEMENTS[Dataset.SCHEDULE]},
}

#: Columns every extract has first.
RESEARCH_ID = "research_id"
SCHOOL_YEAR = Column(
    "school_year", "school_year", Role.QUASI_IDENTIFIER, FIXED, "int", "school year (ending)"
)


@dataclass(frozen=True, slots=True)
class Plan:
    """The columns of an extract and what happened to every requested element."""

    columns: tuple[Column, ...]
    #: ``dataset.element`` -> the output columns it became.
    released: Mapping[str, tuple[str, ...]]
    #: ``dataset.element`` -> why it is not a column.
    omitted: Mapping[str, str]

    @property
    def quasi_identifiers(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.role is Role.QUASI_IDENTIFIER)

    @property
    def sensitive(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.role is Role.SENSITIVE)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.source for c in self.columns))


def plan(elements: Mapping[Dataset, Iterable[str]]) -> Plan:
    """The extract's columns for the elements an agreement names, per dataset.

    Identifiers never become columns (except birth date, as a year). When the disability code is
    released it is the sensitive outcome and special education (implied by it) is no longer a
    quasi-identifier.
    """
    columns: dict[str, Column] = {SCHOOL_YEAR.name: SCHOOL_YEAR}
    released: dict[str, tuple[str, ...]] = {}
    omitted: dict[str, str] = {}
    for dataset in Dataset:
        for name in elements.get(dataset, ()):
            key = f"{dataset.value}.{name}"
            mapped = ELEMENT_COLUMNS.get((dataset, name))
            if mapped is None:
                omitted[key] = "not available in a student-year extract"
                continue
            if isinstance(mapped, Omitted):
                omitted[key] = mapped.reason
                continue
            for column in mapped:
                columns.setdefault(column.name, column)
            released[key] = tuple(c.name for c in mapped)
    if "disability_code" in columns and "special_education" in columns:
        sped = columns["special_education"]
        columns["special_education"] = Column(
            sped.name, sped.source, Role.VALUE, FLAT, sped.kind, sped.description + " (implied by disability)"
        )
    return Plan(tuple(columns.values()), released, omitted)


def identifier_elements() -> tuple[str, ...]:
    """Every ``dataset.element`` classed as a direct identifier (never released as such)."""
    return tuple(
        f"{d.value}.{e.name}" for d in Dataset for e in ELEMENTS[d] if e.sensitivity is Sensitivity.IDENTIFIER
    )


# -- encoding ---------------------------------------------------------------------------------------


class Encoder:
    """Maps one column's texts to integer codes and each code to its code at every level."""

    def __init__(self, hierarchy: Hierarchy) -> None:
        self.hierarchy = hierarchy
        self.codes: dict[str, int] = {}
        self.values: list[str] = []

    def encode(self, texts: Sequence[str]) -> IntArray:
        codes = self.codes
        out = np.empty(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            code = codes.get(text)
            if code is None:
                code = len(self.values)
                codes[text] = code
                self.values.append(text)
            out[i] = code
        return out

    def level_map(self, level: int) -> tuple[IntArray, list[str]]:
        """Code -> generalised code at ``level``, and the generalised labels."""
        labels: dict[str, int] = {}
        mapping = np.empty(len(self.values), dtype=np.int64)
        for code, value in enumerate(self.values):
            mapping[code] = labels.setdefault(self.hierarchy.label(value, level), len(labels))
        return mapping, list(labels)


# -- the search -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """A feasible generalisation: levels per quasi-identifier and the failing classes to withhold."""

    levels: tuple[int, ...]
    rows: int
    withheld: int
    k: int
    l_values: tuple[int, ...]
    classes: int
    #: Generalised class keys (one int per quasi-identifier level code tuple) whose rows are withheld.
    bad_keys: frozenset[tuple[int, ...]] = field(default_factory=frozenset)
    #: Rows per released class.
    class_sizes: tuple[int, ...] = ()

    @property
    def withheld_share(self) -> float:
        return self.withheld / self.rows if self.rows else 0.0


class RefusedError(ValueError):
    """No generalisation meets k and l within the suppression budget."""


@dataclass(slots=True)
class Microdata:
    """Distinct quasi-identifier and sensitive-value tuples with their row counts (the search input)."""

    qi: IntArray  # distinct tuples x quasi-identifiers (level-0 codes)
    sa: IntArray  # distinct tuples x sensitive columns (codes)
    weight: IntArray  # rows per distinct tuple
    encoders: list[Encoder]

    @classmethod
    def compress(
        cls, qi: npt.NDArray[np.integer[Any]], sa: npt.NDArray[np.integer[Any]], encoders: list[Encoder]
    ) -> Microdata:
        both = np.concatenate([qi, sa], axis=1) if sa.size or qi.size else np.zeros((0, 0), dtype=np.int64)
        if both.shape[0] == 0:
            empty = np.zeros((0, qi.shape[1]), dtype=np.int64)
            return cls(
                empty, np.zeros((0, sa.shape[1]), dtype=np.int64), np.zeros(0, dtype=np.int64), encoders
            )
        unique, counts = np.unique(both, axis=0, return_counts=True)
        n_qi = qi.shape[1]
        unique = unique.astype(np.int64)
        return cls(unique[:, :n_qi], unique[:, n_qi:], counts.astype(np.int64), encoders)

    @property
    def rows(self) -> int:
        return int(self.weight.sum())


def _class_ids(generalised: IntArray) -> tuple[IntArray, IntArray]:
    """Class id per tuple and the distinct generalised keys (rows of ``generalised``).

    Rows are packed into one int64 each (mixed radix) when they fit, which sorts much faster
    than ``np.unique(axis=0)``."""
    if generalised.shape[1] == 0:
        return np.zeros(generalised.shape[0], dtype=np.int64), generalised[:1]
    if generalised.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), generalised
    radices = generalised.max(axis=0).astype(np.int64) + 1
    if float(np.prod(radices.astype(np.float64))) < 2**62:
        packed = np.zeros(generalised.shape[0], dtype=np.int64)
        for q in range(generalised.shape[1]):
            packed = packed * radices[q] + generalised[:, q]
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64), generalised[first]
    keys, inverse = np.unique(generalised, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), keys


def evaluate(
    data: Microdata, maps: Sequence[IntArray], k: int, l_min: int
) -> tuple[int, IntArray, npt.NDArray[np.bool_], IntArray, list[IntArray]]:
    """Rows in failing classes for one generalisation; also per class sizes, failing mask, keys and
    distinct sensitive values per class."""
    generalised = np.column_stack([m[data.qi[:, q]] for q, m in enumerate(maps)]) if maps else data.qi
    ids, keys = _class_ids(generalised)
    n_classes = keys.shape[0]
    sizes = np.bincount(ids, weights=data.weight, minlength=n_classes).astype(np.int64)
    failing = sizes < k
    distinct: list[IntArray] = []
    for s in range(data.sa.shape[1]):
        values = data.sa[:, s].astype(np.int64)
        pairs = np.unique(ids * (int(values.max(initial=0)) + 1) + values)
        counts = np.bincount(pairs // (int(values.max(initial=0)) + 1), minlength=n_classes).astype(np.int64)
        distinct.append(counts)
        failing |= counts < l_min
    withheld = int(sizes[failing].sum())
    return withheld, sizes, failing, keys, distinct


def search(
    data: Microdata,
    names: Sequence[str],
    k: int,
    l_min: int = 2,
    max_suppression: float = 0.05,
    fixed: Sequence[bool] | None = None,
) -> Outcome:
    """The least general levels (greedy) whose failing classes hold at most ``max_suppression``."""
    n_qi = data.qi.shape[1]
    fixed = list(fixed) if fixed is not None else [False] * n_qi
    top = [1 if fixed[q] else data.encoders[q].hierarchy.levels for q in range(n_qi)]
    cache: dict[tuple[int, ...], IntArray] = {}

    def maps_for(levels: Sequence[int]) -> list[IntArray]:
        out = []
        for q, level in enumerate(levels):
            key = (q, level)
            if key not in cache:
                cache[key] = data.encoders[q].level_map(level)[0]
            out.append(cache[key])
        return out

    rows = data.rows
    budget = int(max_suppression * rows)

    def loss(levels: Sequence[int]) -> float:
        return sum(level / max(1, top[q] - 1) for q, level in enumerate(levels))

    levels = [0] * n_qi
    withheld = evaluate(data, maps_for(levels), k, l_min)[0] if rows else 0
    while withheld > budget:
        # The step that withholds fewest rows per unit of information lost; when no step helps
        # on its own, the cheapest step (a later one may then help).
        best: tuple[float, float, int, int] | None = None
        for q in range(n_qi):
            if levels[q] + 1 >= top[q]:
                continue
            trial = list(levels)
            trial[q] += 1
            w = evaluate(data, maps_for(trial), k, l_min)[0]
            cost = loss(trial) - loss(levels)
            gain = (withheld - w) / cost if cost > 0 else 0.0
            candidate = (-gain, cost, w, q)
            if best is None or candidate < best:
                best = candidate
        if best is None:
            raise RefusedError(_refusal(names, k, l_min, max_suppression, withheld, rows, data))
        _, _, withheld, q = best
        levels[q] += 1
    # Undo steps the greedy path no longer needs (most general first).
    improved = True
    while improved:
        improved = False
        for q in sorted(range(n_qi), key=lambda i: -levels[i]):
            if levels[q] == 0:
                continue
            trial = list(levels)
            trial[q] -= 1
            w = evaluate(data, maps_for(trial), k, l_min)[0]
            if w <= budget:
                levels, withheld, improved = trial, w, True
    w, sizes, failing, keys, distinct = evaluate(data, maps_for(levels), k, l_min)
    kept = ~failing
    k_achieved = int(sizes[kept].min()) if kept.any() else 0
    l_achieved = tuple(int(d[kept].min()) if kept.any() else 0 for d in distinct)
    bad = frozenset(tuple(int(x) for x in keys[i]) for i in np.flatnonzero(failing))
    sizes_kept = tuple(int(x) for x in sizes[kept])
    return Outcome(tuple(levels), rows, w, k_achieved, l_achieved, int(kept.sum()), bad, sizes_kept)


def _refusal(
    names: Sequence[str], k: int, l_min: int, share: float, withheld: int, rows: int, data: Microdata
) -> str:
    sensitive = data.sa.shape[1]
    what = f"k-anonymity {k}" + (f" and l-diversity {l_min} on the sensitive outcomes" if sensitive else "")
    return (
        f"no generalisation of the quasi-identifiers ({', '.join(names)}) reaches {what} while "
        f"withholding at most {share:.0%} of the rows: even the most general levels leave "
        f"{withheld:,} of {rows:,} rows ({withheld / max(1, rows):.1%}) in failing classes. Narrow the "
        "agreement's elements (fewer quasi-identifiers or sensitive outcomes) or add school years."
    )


def risk_summary(sizes: Sequence[int]) -> dict[str, float]:
    """Prosecutor-model re-identification risk of released classes of ``sizes`` rows each."""
    arr = np.asarray([s for s in sizes if s > 0], dtype=np.float64)
    if arr.size == 0:
        return {"max_risk": 0.0, "average_risk": 0.0, "records_at_risk_over_0.05": 0.0}
    records = float(arr.sum())
    return {
        "max_risk": float(1.0 / arr.min()),
        "average_risk": float(arr.size / records),
        "records_at_risk_over_0.05": float(arr[arr < 20].sum() / records),
    }
