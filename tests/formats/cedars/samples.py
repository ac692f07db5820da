"""Small valid records for the CEDARS tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from steward.domain import records as r


def student(student_id: str = "S1", **kw: Any) -> r.DistrictStudent:
    base: dict[str, Any] = {
        "school_year": 2026,
        "district_code": "90001",
        "resident_district_code": "90001",
        "student_id": student_id,
        "state_id": "1234567890",
        "last_name": "Doe",
        "first_name": "Jane",
        "middle_name": "",
        "birth_date": date(2015, 1, 2),
        "sex": "F",
        "grade_level": "5",
        "entry_date": date(2025, 9, 3),
    }
    base.update(kw)
    return r.DistrictStudent(**base)


def enrollment(student_id: str = "S1", location: str = "101", **kw: Any) -> r.SchoolStudent:
    base: dict[str, Any] = {
        "school_year": 2026,
        "district_code": "90001",
        "student_id": student_id,
        "state_id": None,
        "location_id": location,
        "entry_date": date(2025, 9, 3),
    }
    base.update(kw)
    return r.SchoolStudent(**base)
