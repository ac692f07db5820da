"""Hypothesis strategies: consistent canonical datasets (one district, one school year).

Person fields are the same on every record of a person, dates fall inside the school year and
keys are unique, as a real source would have them. ``roster_only`` limits codes to those OneRoster
carries one-to-one (the lossy ones are tested separately).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from steward.domain import records as r

YEAR = 2026
FIRST = date(2025, 9, 2)
LAST = date(2026, 6, 15)

_ALPHABET = st.characters(
    codec="utf-8", categories=("L", "N", "Zs", "Pd", "Po"), exclude_characters="\r\n\x85\u2028\u2029"
)
text = st.text(_ALPHABET, min_size=1, max_size=12).map(str.strip).filter(bool)
ids = st.text(st.sampled_from("ABCxyz019-_ ,.{}:%"), min_size=1, max_size=6).map(str.strip).filter(bool)


def _day(lo: date, hi: date) -> st.SearchStrategy[date]:
    return st.integers(0, (hi - lo).days).map(lambda n: lo + timedelta(days=n))


@st.composite
def spell(draw: st.DrawFn) -> tuple[date, date | None]:
    entry = draw(_day(FIRST, LAST))
    exit_ = draw(st.none() | _day(entry, LAST))
    return entry, exit_


@st.composite
def dataset(draw: st.DrawFn, *, roster_only: bool = True) -> list[r.Record]:
    district = draw(st.from_regex(r"[0-9]{5}", fullmatch=True))
    district_name = draw(text)
    locations = draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    out: list[r.Record] = []
    # OneRoster always dates the school year: a location without days reads back with the session's
    with_days = roster_only or draw(st.booleans())
    for loc in locations:
        out.append(
            r.Location(
                YEAR,
                district,
                district_name,
                loc,
                loc,
                draw(text),
                FIRST if with_days else None,
                LAST if with_days else None,
            )
        )
    courses: dict[tuple[str, str], str] = {}
    for loc in locations:
        for code in draw(st.lists(ids, min_size=1, max_size=2, unique=True)):
            courses[(loc, code)] = draw(text)
            out.append(r.Course(YEAR, district, loc, code, courses[(loc, code)]))
    terms = draw(
        st.lists(st.sampled_from(["S1", "S2", "Q1", "T3", "YR", "ZZ"]), min_size=1, max_size=2, unique=True)
    )
    sections = [
        (loc, code, s, t)
        for (loc, code) in courses
        for s in ["01", "02,B"][: draw(st.integers(1, 2))]
        for t in terms
    ]
    students = draw(st.lists(ids, min_size=1, max_size=5, unique=True))
    states: dict[str, str | None] = {}
    for i, sid in enumerate(students):
        state_id = draw(st.none() | st.just(f"{i + 1}{draw(st.from_regex(r'[0-9]{9}', fullmatch=True))}"))
        states[sid] = state_id
        entry, exit_ = draw(spell())
        out.append(
            r.DistrictStudent(
                YEAR,
                district,
                district,
                sid,
                state_id,
                draw(text),
                draw(text),
                draw(st.just("") | text),
                draw(_day(date(2005, 1, 1), date(2020, 12, 31))),
                draw(st.sampled_from(["M", "F", "X"])),
                draw(st.sampled_from(["PK", "K", *map(str, range(1, 13))])),
                entry,
                exit_,
                birth_country=draw(st.sampled_from(["", "US", "MX"])),
                ethnicity_code=draw(st.sampled_from(["", "1", "2"])),
            )
        )
        for race in draw(st.lists(st.sampled_from(["AI", "AS", "BL", "NH", "WH"]), max_size=3, unique=True)):
            out.append(r.StudentRace(YEAR, district, sid, state_id, race))
        for loc in draw(st.lists(st.sampled_from(locations), min_size=1, max_size=2, unique=True)):
            s_entry, s_exit = draw(spell())
            out.append(
                r.SchoolStudent(
                    YEAR, district, sid, state_id, loc, s_entry, s_exit, primary_school=draw(st.booleans())
                )
            )
        for loc, code, section, term in draw(st.lists(st.sampled_from(sections), max_size=3, unique=True)):
            e_entry, e_exit = draw(spell())
            out.append(
                r.ScheduleEntry(YEAR, district, sid, state_id, loc, code, section, term, e_entry, e_exit)
            )
        for gid in draw(st.lists(st.sampled_from(["G1", "G2", "G 3"]), max_size=2, unique=True)):
            gid = f"{sid}/{gid}"
            out.append(
                r.Guardian(
                    district,
                    sid,
                    state_id,
                    gid,
                    draw(text),
                    draw(text),
                    draw(st.sampled_from(["parent", "guardian", "other"])),
                    draw(st.sampled_from(["", "a@example.org"])),
                )
            )
        if not roster_only:
            out.extend(draw(_student_extras(district, sid, state_id, locations, sorted(courses))))
    staff_ids = draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    for staff_id in staff_ids:
        loc = draw(st.sampled_from(locations))
        start = draw(st.none() | _day(FIRST, LAST))
        out.append(
            r.Staff(
                YEAR,
                district,
                staff_id,
                draw(st.sampled_from(["", "C-1"])),
                draw(text),
                draw(text),
                draw(st.just("") | text),
                loc,
                draw(st.sampled_from(["teacher", "principal", "counselor", "paraeducator"])),
                draw(st.sampled_from(["", "t@example.org"])),
                start,
            )
        )
        own = [s for s in sections if s[0] == loc]
        for _, code, section, term in (
            draw(st.lists(st.sampled_from(own), max_size=2, unique=True)) if own else []
        ):
            s_start, s_end = draw(spell())
            role = draw(st.sampled_from(["teacher_of_record", "co_teacher"]))
            out.append(
                r.StaffSchedule(YEAR, district, loc, code, section, term, staff_id, role, s_start, s_end)
            )
    return out


@st.composite
def _student_extras(
    draw: st.DrawFn,
    district: str,
    sid: str,
    state_id: str | None,
    locations: list[str],
    courses: list[tuple[str, str]],
) -> list[r.Record]:
    out: list[r.Record] = []
    loc = draw(st.sampled_from(locations))
    for day in draw(st.lists(_day(FIRST, LAST), max_size=2, unique=True)):
        amount = draw(st.sampled_from([Decimal("1.0"), Decimal("0.5")]))
        out.append(r.Absence(YEAR, district, sid, state_id, loc, day, draw(st.booleans()), amount))
    for code in draw(st.lists(st.sampled_from(["6", "36", "38", "41", "42"]), max_size=2, unique=True)):
        begin, end = draw(spell())
        out.append(r.ProgramParticipation(YEAR, district, sid, state_id, loc, code, begin, end))
    if draw(st.booleans()):
        day = draw(_day(FIRST, LAST))
        out.append(
            r.DisciplineAction(
                YEAR,
                district,
                sid,
                state_id,
                loc,
                f"I-{sid}",
                day,
                draw(st.sampled_from(["SO", "CC", "SV"])),
                draw(st.sampled_from(["IS", "SS", "LS", "EX"])),
                day,
                draw(st.sampled_from([Decimal(1), Decimal("2.5")])),
                draw(st.sampled_from(["", "KN"])),
            )
        )
    if draw(st.booleans()):
        out.append(
            r.AssessmentResult(
                YEAR,
                district,
                sid,
                state_id,
                loc,
                draw(st.sampled_from(["SBA", "WCAS"])),
                draw(st.sampled_from(["ELA", "MATH", "SCI"])),
                draw(st.sampled_from(["3", "8", "11"])),
                draw(_day(FIRST, LAST)),
                draw(st.integers(2000, 3000)),
                draw(st.integers(1, 4)),
            )
        )
    if draw(st.booleans()):
        c_loc, code = draw(st.sampled_from(courses))
        out.append(
            r.GradeHistory(
                YEAR,
                district,
                sid,
                state_id,
                c_loc,
                code,
                draw(text),
                draw(st.sampled_from(["S1", "S2"])),
                draw(st.sampled_from(["A", "B+", "P"])),
                Decimal("0.5"),
                draw(st.sampled_from([Decimal("0.5"), Decimal(0)])),
            )
        )
    return out
