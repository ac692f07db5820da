"""Searchable, sortable, paged student lists: exactly the students the decision engine lets the
viewer see now, with a name, school and grade only where the viewer may see them.

Search matches the student ID, and the name only where the name is shown, so a search can never
tell the viewer something about a student they may not see. Pages say how many students there are
and which page this is: nothing is truncated silently.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.principal import Principal
from steward.formats.cedars.codes import GRADE_ORDER
from steward.policy import Actor
from steward.store.models import Organization, SchoolEnrollment, Student
from steward.store.visibility import all_visible

PAGE_SIZE = 25
SORTS = ("name", "id", "school", "grade")
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class ListRow:
    id: int
    local_id: str
    district_code: str
    name: str | None
    school: str | None
    grade: str | None
    datasets: dict[Dataset, LegalBasis]

    @property
    def label(self) -> str:
        return self.name or f"Student {self.local_id}"


@dataclass(frozen=True, slots=True)
class ListPage:
    rows: list[ListRow]
    total: int
    matching: int
    page: int
    pages: int
    q: str
    sort: str
    descending: bool

    @property
    def first(self) -> int:
        return 0 if not self.rows else (self.page - 1) * PAGE_SIZE + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def _grade_rank(grade: str | None) -> int:
    return GRADE_ORDER.index(grade) if grade in GRADE_ORDER else len(GRADE_ORDER)


def _rows(db: Session, visible: dict[int, dict[Dataset, LegalBasis]], at: datetime) -> list[ListRow]:
    ids = sorted(visible)
    students: dict[int, Any] = {}
    current: dict[int, tuple[str | None, str | None]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for found in db.execute(
            select(Student.id, Student.local_id, Student.first_name, Student.last_name, Organization.code)
            .join(Organization, Organization.id == Student.district_id)
            .where(Student.id.in_(chunk))
        ):
            students[found.id] = found
        for student_id, school_name, grade_level in db.execute(
            select(SchoolEnrollment.student_id, Organization.name, SchoolEnrollment.grade)
            .join(Organization, Organization.id == SchoolEnrollment.school_id)
            .where(SchoolEnrollment.student_id.in_(chunk), SchoolEnrollment.valid_at(at))
            .order_by(SchoolEnrollment.valid_from)
        ):
            current[student_id] = (school_name, grade_level)
    out = []
    for sid in ids:
        row = students.get(sid)
        if row is None:
            continue
        datasets = visible[sid]
        named = Dataset.DIRECTORY in datasets
        placed = named or Dataset.ENROLLMENT in datasets
        school, grade = current.get(sid, (None, None))
        out.append(
            ListRow(
                sid,
                row.local_id,
                row.code,
                f"{row.first_name} {row.last_name}".strip() if named else None,
                school if placed else None,
                grade if placed else None,
                datasets,
            )
        )
    return out


def _sort_key(sort: str) -> Any:
    if sort == "id":
        return lambda r: (r.district_code, r.local_id)
    if sort == "school":
        return lambda r: (r.school is None, r.school or "", r.name or "", r.local_id)
    if sort == "grade":
        return lambda r: (_grade_rank(r.grade), r.name or "", r.local_id)
    return lambda r: (
        r.name is None,
        (r.name or "").split(" ")[-1].lower(),
        (r.name or "").lower(),
        r.local_id,
    )


def student_list(
    db: Session,
    principal: Principal,
    at: datetime,
    *,
    q: str = "",
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> ListPage:
    """One page of the viewer's students, searched and sorted."""
    visible = all_visible(db, principal.person_id, at, actor=Actor.of(principal), directory_information=False)
    rows = _rows(db, {k: v for k, v in visible.items() if v}, at)
    needle = q.strip().lower()[:100]
    matching: Sequence[ListRow] = rows
    if needle:
        matching = [
            r
            for r in rows
            if needle in r.local_id.lower() or (r.name is not None and needle in r.name.lower())
        ]
    sort = sort if sort in SORTS else "name"
    ordered = sorted(matching, key=_sort_key(sort), reverse=descending)
    pages = max(1, math.ceil(len(ordered) / size))
    page = min(max(1, page), pages)
    chosen = ordered[(page - 1) * size : page * size]
    return ListPage(chosen, len(rows), len(ordered), page, pages, q.strip()[:100], sort, descending)
