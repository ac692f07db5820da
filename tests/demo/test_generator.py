"""The synthetic region: valid drops, plausible shares, movers across districts, determinism."""

from __future__ import annotations

import filecmp
import itertools
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from steward.demo import names
from steward.demo.catalog import CUTS, TESTED_GRADES, performance_level, school_days
from steward.demo.generator import GenerationSummary, generate, state_id
from steward.domain import records as r
from steward.formats.cedars import Drop, validate_drop

END_YEAR = 2025
YEARS = (2023, 2024, 2025)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("region")
    summary = generate(out, districts=2, students=3000, years=3, seed=20250901, end_year=END_YEAR, workers=1)
    return out, summary


@pytest.fixture(scope="module")
def rows(region: tuple[Path, GenerationSummary]) -> dict[str, dict[str, list[Any]]]:
    """Every record of the region: district code -> file prefix -> records (read back by the reader)."""
    out, summary = region
    found: dict[str, dict[str, list[Any]]] = {}
    for code in summary.districts:
        drop = Drop.open(out / code)
        found[code] = {prefix: list(drop.records(prefix)) for prefix in drop.files}
    return found


def _all(rows: dict[str, dict[str, list[Any]]], prefix: str) -> list[Any]:
    return [rec for per_file in rows.values() for rec in per_file[prefix]]


def test_every_drop_validates_with_zero_errors(region: tuple[Path, GenerationSummary]) -> None:
    out, summary = region
    assert sorted(p.name for p in out.iterdir()) == sorted(summary.districts) == ["90001", "90002"]
    for code in summary.districts:
        report = validate_drop(out / code)
        assert report.ok, [str(e) for e in report.errors[:10]]
        assert len(report.files) == 14
        for prefix, file_report in report.files.items():
            assert file_report.records == summary.rows[code][prefix]
        assert report.files["N"].records > report.files["B"].records > 0


def test_files_are_named_for_the_district_and_the_last_school_day(
    region: tuple[Path, GenerationSummary],
) -> None:
    out, summary = region
    assert summary.as_of == school_days(END_YEAR)[-1]
    assert (out / "90001" / f"90001_0000_DistrictStudent_{summary.as_of:%Y%m%d}.txt").exists()


def test_program_shares_are_plausible(rows: dict[str, dict[str, list[Any]]]) -> None:
    students = {b.state_id for b in _all(rows, "B")}
    assert len(students) == 3000
    in_program: dict[str, set[str]] = defaultdict(set)
    for p in _all(rows, "I"):
        in_program[p.program_code].add(p.state_id)
    share = {code: len(ids) / len(students) for code, ids in in_program.items()}
    assert 0.10 <= share["36"] <= 0.18  # special education
    assert 0.07 <= share["6"] <= 0.13  # English learners
    assert 0.38 <= share["41"] <= 0.52  # low income
    assert 0.015 <= share["38"] <= 0.05  # Section 504
    assert not in_program["36"] & in_program["38"]  # an IEP or a 504 plan, not both
    assert in_program["15"] <= in_program["6"]  # immigrants served are English learners
    disabled = {b.state_id for b in _all(rows, "B") if b.disability_code != "0"}
    assert disabled == in_program["36"]


def test_chronic_absence_share(
    rows: dict[str, dict[str, list[Any]]], region: tuple[Path, GenerationSummary]
) -> None:
    _, summary = region
    as_of = summary.as_of
    enrolled: Counter[tuple[str, int]] = Counter()
    for b in _all(rows, "B"):
        days = school_days(b.school_year)
        last = min(b.exit_date or as_of, as_of)
        enrolled[(b.state_id, b.school_year)] += sum(1 for d in days if b.entry_date <= d <= last)
    absent: defaultdict[tuple[str, int], float] = defaultdict(float)
    for n in _all(rows, "N"):
        absent[(n.state_id, n.school_year)] += float(n.amount)
    measured = [key for key, days in enrolled.items() if days >= 20]
    chronic = sum(1 for key in measured if absent[key] >= 0.1 * enrolled[key])
    assert 0.12 <= chronic / len(measured) <= 0.23
    assert abs(chronic / len(measured) - summary.shares["chronic_absence"]) < 0.01


def test_more_than_a_fifth_move_between_districts(rows: dict[str, dict[str, list[Any]]]) -> None:
    ids: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    spells: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
    for code, per_file in rows.items():
        for b in per_file["B"]:
            ids[b.state_id][code].add(b.student_id)
            spells[b.state_id].append((b.entry_date, b.exit_date))
    movers = [ssid for ssid, by_district in ids.items() if len(by_district) == 2]
    assert len(movers) / len(ids) > 0.20
    for ssid in movers:
        local = [next(iter(v)) for v in ids[ssid].values()]
        assert all(len(v) == 1 for v in ids[ssid].values())  # one district ID per district
        assert local[0] != local[1]
        ordered = sorted(spells[ssid])
        for (_, first_exit), (next_entry, _) in itertools.pairwise(ordered):
            assert first_exit is not None
            assert first_exit < next_entry  # never enrolled in two districts at once


def test_students_and_spells(rows: dict[str, dict[str, list[Any]]]) -> None:
    b_rows = _all(rows, "B")
    assert {b.school_year for b in b_rows} == set(YEARS)
    current = [b for b in b_rows if b.school_year == END_YEAR]
    assert sum(b.exit_date is None for b in current) > 0.8 * len(current)  # the current year is open
    assert all(b.exit_date is not None for b in b_rows if b.school_year < END_YEAR)
    per_grade = Counter(b.grade_level for b in b_rows if b.school_year == 2024 and b.entry_date.month == 9)
    lower = sum(per_grade[g] for g in ("K", "1", "2", "3")) / 4
    upper = sum(per_grade[g] for g in ("9", "10", "11", "12")) / 4
    assert 0.75 * lower < upper < lower  # upper grades a little smaller
    assert 0 < per_grade["PK"] < 0.6 * lower
    assert set(Counter(b.sex for b in b_rows)) <= {"F", "M", "X"}
    first = set(names.FEMALE_FIRST) | set(names.MALE_FIRST)
    assert all(b.first_name in first for b in b_rows)
    hispanic = {b.state_id for b in b_rows if b.ethnicity_code == "1"}
    assert 0.12 < len(hispanic) / len({b.state_id for b in b_rows}) < 0.45
    assert all(b.grad_requirements_year for b in b_rows if b.grade_level in {"9", "10", "11", "12"})
    assert {m.race_code for m in _all(rows, "M")} == {"AI", "AS", "BL", "NH", "WH"}
    assert len({state_id(i, 7) for i in range(10_000)}) == 10_000


def test_schools_sections_and_staff(rows: dict[str, dict[str, list[Any]]]) -> None:
    for per_file in rows.values():
        schools = {(a.school_year, a.location_id): a for a in per_file["A"]}
        courses = {(d.school_year, d.location_id, d.course_id) for d in per_file["D"]}
        taught = {(g.school_year, g.location_id, g.course_id, g.section_id): g for g in per_file["G"]}
        staff = {(f.school_year, f.staff_id): f for f in per_file["F"]}
        roles = Counter((f.school_year, f.location_id, f.role) for f in per_file["F"])
        for year, loc in schools:
            assert roles[(year, loc, "principal")] == 1
            assert roles[(year, loc, "counselor")] == 1
            assert roles[(year, loc, "teacher")] >= 1
        for g in taught.values():
            assert (g.school_year, g.staff_id) in staff
            assert staff[(g.school_year, g.staff_id)].role == "teacher"
        per_student: Counter[tuple[int, str, date]] = Counter()
        for e in per_file["E"]:
            assert (e.school_year, e.location_id, e.course_id) in courses
            assert (e.school_year, e.location_id, e.course_id, e.section_id) in taught
            per_student[(e.school_year, e.student_id, e.entry_date)] += 1
        grade = {(b.school_year, b.student_id, b.entry_date): b.grade_level for b in per_file["B"]}
        for key, n in per_student.items():
            level = grade[key]
            assert n == (1 if level in {"PK", "K", "1", "2", "3", "4", "5"} else 6), (key, level, n)
        for c in per_file["C"]:
            name = schools[(c.school_year, c.location_id)].school_name
            level = grade[(c.school_year, c.student_id, c.entry_date)]
            expected = (
                "Elementary"
                if level in {"PK", "K", "1", "2", "3", "4", "5"}
                else ("Middle School" if level in {"6", "7", "8"} else "High School")
            )
            assert expected in name


def test_assessments_grades_guardians_and_discipline(rows: dict[str, dict[str, list[Any]]]) -> None:
    results = _all(rows, "XA")
    assert {x.subject for x in results} == {"ELA", "MATH"}
    assert {int(x.grade_tested) for x in results} == set(TESTED_GRADES)
    for x in results:
        assert x.performance_level == performance_level(x.subject, int(x.grade_tested), x.scale_score)
        assert CUTS[x.subject][int(x.grade_tested)][0] - 300 < x.scale_score < 3000
    met = sum(x.performance_level >= 3 for x in results) / len(results)
    assert 0.3 < met < 0.65
    marks = _all(rows, "H")
    assert {h.grade_level for h in marks} == {"9", "10", "11", "12"}
    assert {h.term for h in marks} == {"S1", "S2"}
    assert all(h.credits_earned == (0 if h.letter_grade == "F" else h.credits_attempted) for h in marks)
    guardians: dict[tuple[str, str], list[r.Guardian]] = defaultdict(list)
    for code, per_file in rows.items():
        for g in per_file["XG"]:
            guardians[(code, g.student_id)].append(g)
        assert {(code, b.student_id) for b in per_file["B"]} <= set(guardians)
    assert {len(v) for v in guardians.values()} == {1, 2}
    assert 0 < sum(g.restricted for v in guardians.values() for g in v) < 0.05 * len(guardians)
    actions = _all(rows, "R")
    disciplined = {a.state_id for a in actions}
    assert 0.005 < len(disciplined) / 3000 < 0.08
    assert all(a.action_date >= a.incident_date for a in actions)


def test_same_seed_same_files_any_worker_count(tmp_path: Path) -> None:
    one = generate(tmp_path / "a", 2, 600, 2, seed=3, end_year=2024, workers=1)
    two = generate(tmp_path / "b", 2, 600, 2, seed=3, end_year=2024, workers=2)
    other = generate(tmp_path / "c", 2, 600, 2, seed=4, end_year=2024, workers=1)
    assert one.rows == two.rows
    for code in one.districts:
        files = sorted(p.name for p in (tmp_path / "a" / code).iterdir())
        match, mismatch, errors = filecmp.cmpfiles(
            tmp_path / "a" / code, tmp_path / "b" / code, files, shallow=False
        )
        assert (mismatch, errors) == ([], [])
        assert len(match) == 14
    assert [p.name for p in (tmp_path / "b").iterdir() if p.name.startswith(".")] == []
    assert other.rows != one.rows


def test_progress_and_the_current_school_year(tmp_path: Path) -> None:
    seen: list[int] = []
    summary = generate(tmp_path, 1, 120, 1, seed=9, progress=seen.append, progress_every=50)
    assert seen == [50, 100, 120]
    assert summary.movers == 0  # one district: nobody can move between districts
    assert summary.as_of <= date.today()
    report = validate_drop(tmp_path / summary.districts[0])
    assert report.ok, report.errors[:5]


def test_comma_delimited_region(tmp_path: Path) -> None:
    summary = generate(tmp_path, 2, 150, 2, seed=1, end_year=2024, delimiter=",")
    for code in summary.districts:
        assert validate_drop(tmp_path / code, delimiter=",").ok
    with pytest.raises(ValueError, match="cannot be a CEDARS delimiter"):
        generate(tmp_path / "x", 1, 10, 1, seed=1, delimiter="/")
