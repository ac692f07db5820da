"""De-identification core: identifiers never become columns, hierarchies, and the k/l search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.domain.datasets import ELEMENTS, Dataset, Sensitivity
from steward.privacy import deidentify as di


def test_identifiers_never_become_columns() -> None:
    everything = {d: [e.name for e in ELEMENTS[d]] for d in Dataset}
    plan = di.plan(everything)
    names = {c.name for c in plan.columns}
    for dataset in Dataset:
        for element in ELEMENTS[dataset]:
            if element.sensitivity is Sensitivity.IDENTIFIER:
                key = f"{dataset.value}.{element.name}"
                if element.name == "birth_date":
                    assert plan.released[key] == ("birth_year",)
                else:
                    assert key in plan.omitted
                    assert "identifier" in plan.omitted[key]
    assert not names & {
        "student_id",
        "state_id",
        "ssn",
        "first_name",
        "last_name",
        "middle_name",
        "birth_date",
    }
    assert plan.columns[0] is di.SCHOOL_YEAR


def test_disability_code_is_the_sensitive_outcome() -> None:
    plan = di.plan({Dataset.PROGRAMS: ["special_education", "disability_code", "low_income"]})
    roles = {c.name: c.role for c in plan.columns}
    assert roles["disability_code"] is di.Role.SENSITIVE
    assert roles["special_education"] is di.Role.VALUE
    assert roles["low_income"] is di.Role.QUASI_IDENTIFIER
    alone = di.plan({Dataset.PROGRAMS: ["special_education"]})
    assert {c.name: c.role for c in alone.columns}["special_education"] is di.Role.QUASI_IDENTIFIER


@pytest.mark.parametrize(
    ("hierarchy", "value", "labels"),
    [
        (di.GRADE, "7", ["7", "6-8", "6-8", "*"]),
        (di.GRADE, "K", ["K", "PK-K", "PK-5", "*"]),
        (di.YEARS, "2015", ["2015", "2014-2015", "2012-2015", "*"]),
        (di.ZIP, "98115", ["98115", "981**", "*"]),
        (di.LANGUAGE, "639", ["639", "English", "*"]),
        (di.RACE, "Asian", ["Asian", "Other or Multiple", "*"]),
        (di.FLAT, "Y", ["Y", "*"]),
    ],
)
def test_hierarchies(hierarchy: di.Hierarchy, value: str, labels: list[str]) -> None:
    assert [hierarchy.label(value, level) for level in range(hierarchy.levels)] == labels
    assert hierarchy.describe(hierarchy.levels - 1) == "withheld (*)"


def _microdata(rows: list[tuple[int, int, int, int]]) -> di.Microdata:
    hierarchies = [di.FIXED, di.YEARS, di.FLAT]
    encoders = [di.Encoder(h) for h in hierarchies]
    qi = np.column_stack([encoders[q].encode([str(r[q]) for r in rows]) for q in range(3)])
    sa_encoder = di.Encoder(di.FLAT)
    sa = sa_encoder.encode([str(r[3]) for r in rows]).reshape(-1, 1)
    return di.Microdata.compress(qi, sa, encoders)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([2025, 2026]),
            st.integers(2008, 2016),
            st.integers(0, 3),
            st.integers(0, 2),
        ),
        min_size=30,
        max_size=300,
    ),
    st.integers(2, 12),
)
def test_search_meets_k_and_l_or_refuses(rows: list[tuple[int, int, int, int]], k: int) -> None:
    data = _microdata(rows)
    names = ["school_year", "birth_year", "flag"]
    try:
        outcome = di.search(data, names, k, 2, 0.1, fixed=[True, False, False])
    except di.RefusedError as exc:
        message = str(exc)
        outcome = None
    if outcome is None:
        assert "reaches k-anonymity" in message
        return
    assert outcome.withheld <= 0.1 * len(rows)
    maps = [data.encoders[q].level_map(level)[0] for q, level in enumerate(outcome.levels)]
    classes: dict[tuple[int, ...], list[int]] = {}
    for row, sa, weight in zip(data.qi, data.sa[:, 0], data.weight, strict=True):
        key = tuple(int(maps[q][row[q]]) for q in range(3))
        classes.setdefault(key, []).extend([int(sa)] * int(weight))
    released = {key: values for key, values in classes.items() if key not in outcome.bad_keys}
    assert sum(len(v) for v in released.values()) == len(rows) - outcome.withheld
    for values in released.values():
        assert len(values) >= k
        assert len(set(values)) >= 2
    if released:
        assert outcome.k == min(len(v) for v in released.values())
    assert outcome.levels[0] == 0


def test_refusal_names_the_quasi_identifiers() -> None:
    data = _microdata([(2026, 2010 + i, i % 2, 0) for i in range(8)])
    with pytest.raises(di.RefusedError, match=r"\(school_year, birth_year, flag\) reaches k-anonymity 10"):
        di.search(data, ["school_year", "birth_year", "flag"], 10, 2, 0.05, fixed=[True, False, False])


def test_risk_summary() -> None:
    assert di.risk_summary([10, 20, 70]) == {
        "max_risk": 0.1,
        "average_risk": 3 / 100,
        "records_at_risk_over_0.05": 0.1,
    }
