"""Report rows from hand-made records: attendance arithmetic, chronic absence, race groups, the
most severe action, state against interim tests, teachers of record, disability categories."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from steward.domain import records as r
from steward.products.portal import catalog as c
from steward.products.portal import rows
from steward.products.portal.rows import Bundle, Context, Reference

D = "90001"
SID = "100"


def bundle(*records: object) -> Bundle:
    return rows.bundles(D, records)[SID]


def ctx(**kw: object) -> Context:
    school = r.Location(
        2027, D, "Lakeside", "001", "001", "Lakeside Elementary", date(2026, 9, 1), date(2027, 6, 15)
    )
    return Context(Reference.of([school], **kw), date(2026, 10, 30), date(2026, 10, 30))  # type: ignore[arg-type]


def district_row(**kw: object) -> r.DistrictStudent:
    values: dict[str, object] = {
        "school_year": 2027,
        "district_code": D,
        "resident_district_code": D,
        "student_id": SID,
        "state_id": "1234567890",
        "last_name": "Diaz",
        "first_name": "Ana",
        "middle_name": "",
        "birth_date": date(2016, 11, 2),
        "sex": "F",
        "grade_level": "4",
        "entry_date": date(2026, 9, 1),
    }
    values.update(kw)
    return r.DistrictStudent(**values)  # type: ignore[arg-type]


def spell(entry: date, exit_: date | None = None, primary: bool = True) -> r.SchoolStudent:
    return r.SchoolStudent(2027, D, SID, None, "001", entry, exit_, "", primary)


def absence(day: date, excused: bool = False, amount: str = "1.0") -> r.Absence:
    return r.Absence(2027, D, SID, None, "001", day, excused, Decimal(amount))


def test_attendance_counts_weekdays_inside_the_calendar_up_to_the_file_date() -> None:
    # 2026-09-01 (Tue) .. 2026-10-30 (Fri): 44 weekdays; an extra non-primary spell does not count twice
    b = bundle(
        spell(date(2026, 8, 20)),
        spell(date(2026, 9, 15), primary=False),
        absence(date(2026, 9, 3)),
        absence(date(2026, 9, 4), True, "0.5"),
    )
    (year,) = rows.attendance_years(b, ctx())
    assert year.days_enrolled == 44
    assert year.absent == Decimal("1.5")
    assert year.rate == round(1 - 1.5 / 44, 4)
    assert year.chronic is False
    (row,) = rows.attendance_summary(b, ctx())
    assert row[2:] == (2027, 44, Decimal("1.5"), Decimal("0.5"), Decimal("1.0"), round(1 - 1.5 / 44, 4), "N")
    months = rows.enrolled_days(b, ctx(), 2027, months=True)
    assert months == {202609: 22, 202610: 22}


def test_chronic_absence_needs_twenty_days_and_ten_percent() -> None:
    short = bundle(spell(date(2026, 10, 19)), absence(date(2026, 10, 20)), absence(date(2026, 10, 21)))
    (year,) = rows.attendance_years(short, ctx())
    assert year.days_enrolled == 10
    assert year.chronic is None
    many = bundle(spell(date(2026, 9, 1)), *(absence(date(2026, 9, d)) for d in (8, 9, 10, 11, 14)))
    (year,) = rows.attendance_years(many, ctx())
    assert year.chronic is True  # 5 of 44 days


def test_race_groups_follow_ospi() -> None:
    assert rows.race_group(True, ["WH"]) == rows.HISPANIC
    assert rows.race_group(False, ["WH", "AS"]) == rows.TWO_OR_MORE
    assert rows.race_group(False, ["BL"]) == "Black or African American"
    assert rows.race_group(False, []) == rows.NOT_PROVIDED
    b = bundle(
        district_row(ethnicity_code="2"),
        r.StudentRace(2027, D, SID, None, "AS"),
        r.StudentRace(2027, D, SID, None, "WH"),
    )
    (row,) = rows.demographics(b, ctx())
    assert row[5:8] == (rows.TWO_OR_MORE, "AS;WH", "N")
    assert len(row) == len(c.DEMOGRAPHICS.header)


def test_discipline_summary_names_the_most_severe_action() -> None:
    def action(incident: str, code: str, days: str) -> r.DisciplineAction:
        return r.DisciplineAction(
            2027,
            D,
            SID,
            None,
            "001",
            incident,
            date(2026, 10, 1),
            "FGT",
            code,
            date(2026, 10, 2),
            Decimal(days),
        )

    b = bundle(action("i1", "IS", "1"), action("i1", "SS", "2"), action("i2", "LS", "10"))
    (row,) = rows.discipline_summary(b, ctx())
    assert row[2:] == (2027, 2, 3, Decimal("13"), "Long-term suspension")
    assert len(list(rows.discipline_incidents(b, ctx()))) == 3


def test_state_and_interim_tests_go_to_their_own_reports() -> None:
    def result(name: str, level: int) -> r.AssessmentResult:
        return r.AssessmentResult(
            2027, D, SID, None, "001", name, "MATH", "4", date(2026, 10, 1), 2480, level
        )

    b = bundle(result("SBA", 3), result("MAP Growth", 2), result("WCAS", 1))
    state = list(rows.state_assessments(b, ctx()))
    interim = list(rows.interim_assessments(b, ctx()))
    assert [x[4] for x in state] == ["SBA", "WCAS"]
    assert [x[4] for x in interim] == ["MAP Growth"]
    assert [x[-1] for x in state] == ["Y", "N"]


def test_schedule_names_the_teacher_of_record() -> None:
    course = r.Course(2027, D, "001", "M4", "Math 4")
    staff = [
        r.Staff(2027, D, "t1", "", "Lee", "Kim", "", "001", "teacher"),
        r.Staff(2027, D, "t2", "", "Ng", "Bo", "", "001", "teacher"),
    ]
    schedules = [
        r.StaffSchedule(2027, D, "001", "M4", "M4-1", "S1", "t2", "co_teacher", date(2026, 9, 1)),
        r.StaffSchedule(2027, D, "001", "M4", "M4-1", "S1", "t1", "teacher_of_record", date(2026, 9, 1)),
    ]
    b = bundle(r.ScheduleEntry(2027, D, SID, None, "001", "M4", "M4-1", "S1", date(2026, 9, 1)))
    (row,) = rows.schedule(b, ctx(courses=[course], staff=staff, staff_schedules=schedules))
    assert row[4:9] == ("M4", "Math 4", "M4-1", "S1", "Kim Lee")


def test_programs_show_the_disability_category_on_special_education_rows_only() -> None:
    b = bundle(
        district_row(disability_code="11"),
        r.ProgramParticipation(2027, D, SID, None, "001", "36", date(2026, 9, 1)),
        r.ProgramParticipation(2027, D, SID, None, "001", "41", date(2026, 9, 1)),
    )
    got = {row[4]: row[-1] for row in rows.programs(b, ctx())}
    assert got == {"36": "Specific learning disability", "41": ""}


def test_roster_uses_the_latest_school_and_the_age_on_the_day() -> None:
    b = bundle(district_row(), spell(date(2026, 9, 1)))
    (row,) = rows.roster(b, ctx())
    assert row == (D, SID, "Diaz", "Ana", "", "4", "001", "Lakeside Elementary", date(2026, 9, 1), None, 9)


def test_every_builder_matches_its_report_columns() -> None:
    everything = bundle(
        district_row(disability_code="11"),
        spell(date(2026, 9, 1)),
        absence(date(2026, 9, 3)),
        r.DisciplineAction(
            2027, D, SID, None, "001", "i", date(2026, 10, 1), "FGT", "SS", date(2026, 10, 2), Decimal(1)
        ),
        r.AssessmentResult(2027, D, SID, None, "001", "SBA", "ELA", "4", date(2026, 10, 1), 2480, 3),
        r.AssessmentResult(2027, D, SID, None, "001", "MAP", "ELA", "4", date(2026, 10, 1), 200, 2),
        r.ScheduleEntry(2027, D, SID, None, "001", "M4", "M4-1", "S1", date(2026, 9, 1)),
        r.GradeHistory(2027, D, SID, None, "001", "M4", "Math 4", "S1", "A", Decimal(1), Decimal(1)),
        r.ProgramParticipation(2027, D, SID, None, "001", "36", date(2026, 9, 1)),
    )
    for spec in c.REPORTS:
        built = list(rows.BUILDERS[spec.key](everything, ctx()))
        assert built, spec.key
        assert all(len(row) == len(spec.header) for row in built), spec.key
        assert all(row[:2] == (D, SID) for row in built), spec.key
