"""Student-at-a-Glance and the student lists, for each viewer: exactly the engine's students and
datasets, sections not shared say why (with what a partner would need), charts are accessible."""

from __future__ import annotations

from sqlalchemy import select

from steward.domain.datasets import Dataset
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.policy import Actor
from steward.products.portal.glance import build_glance
from steward.products.portal.lists import student_list
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Organization, Student
from steward.store.visibility import all_visible
from tests.products.portal.conftest import World, guardian_child, principal_of


def _visible(db: object, who: Principal) -> dict[int, dict[Dataset, object]]:
    seen = all_visible(db, who.person_id, now_utc(), actor=Actor.of(who), directory_information=False)  # type: ignore[arg-type]
    return {k: v for k, v in seen.items() if v}


def test_partner_page_shows_granted_sections_and_what_the_others_need(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        partner = principal_of(db, "partner")
        seen = _visible(db, partner)
        student_id = min(seen)
        glance = build_glance(db, sqlite_world.data_dir, partner, student_id)
        assert glance is not None
        assert glance.shown == frozenset(seen[student_id])
        assert Dataset.PROGRAMS not in glance.shown
        assert glance.programs is None
        assert glance.header is not None
        assert glance.header["name"]
        programs = next(s for s in glance.sections if s["key"] == "programs")
        assert programs["hidden"] == [Dataset.PROGRAMS]
        assert any("programs" in need for need in programs["needs"])  # e.g. "DSA ... does not cover programs"
        why = {e.dataset: e for e in glance.explanations}
        assert why[Dataset.ATTENDANCE].allowed
        assert why[Dataset.ATTENDANCE].basis is not None
        assert any(ref.startswith("consent:") for ref in why[Dataset.ATTENDANCE].evidence)
        assert any(ref.startswith("grant:") for ref in why[Dataset.ATTENDANCE].evidence)
        assert not why[Dataset.PROGRAMS].allowed
        assert why[Dataset.PROGRAMS].missing
        assert glance.attendance is not None
        if glance.attendance.months:
            chart = str(glance.attendance.chart)
            assert 'role="img"' in chart
            assert 'aria-labelledby="attendance-chart-title attendance-chart-desc"' in chart
            assert "<script" not in chart
            assert "style=" not in chart
            assert "<style" not in chart


def test_nobody_sees_a_student_outside_their_set(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        all_ids = set(db.scalars(select(Student.id)))
        for username in ("partner", "teacher", "principal", "parent"):
            who = principal_of(db, username)
            seen = _visible(db, who)
            outside = sorted(all_ids - set(seen))[:3]
            for sid in outside:
                assert build_glance(db, sqlite_world.data_dir, who, sid) is None, (username, sid)
        vendor = principal_of(db, "vendor")
        assert build_glance(db, sqlite_world.data_dir, vendor, min(all_ids)) is None  # not a portal role


def test_school_staff_and_parent_see_everything_of_their_students(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        for username in ("teacher", "principal"):
            who = principal_of(db, username)
            seen = _visible(db, who)
            sid = min(seen)
            glance = build_glance(db, sqlite_world.data_dir, who, sid)
            assert glance is not None
            assert glance.shown == frozenset(Dataset)
            assert all(not s["hidden"] for s in glance.sections)
        parent = principal_of(db, "parent")
        child = guardian_child(db)
        glance = build_glance(db, sqlite_world.data_dir, parent, child)
        assert glance is not None
        assert glance.shown == frozenset(Dataset)
        assert all(
            e.basis is not None and e.basis.value == "parent_or_eligible_student" for e in glance.explanations
        )


def test_a_counselor_sees_the_school_like_the_principal(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        principal = principal_of(db, "principal")
        counselor = Principal(
            principal.person_id,
            principal.person_code,
            Role.COUNSELOR,
            principal.organization_id,
            principal.organization_code,
            OrgKind.SCHOOL,
        )
        from steward.store.models import RoleAssignment

        db.add(
            RoleAssignment(
                person_id=principal.person_id,
                role="counselor",
                organization_id=principal.organization_id,
                valid_from=now_utc().replace(year=2020),
            )
        )
        db.flush()
        assert set(_visible(db, counselor)) == set(_visible(db, principal))


def test_lists_search_sort_and_page_within_the_set(sqlite_world: World) -> None:
    with transaction(sqlite_world.engine) as db:
        partner = principal_of(db, "partner")
        seen = _visible(db, partner)
        everyone = student_list(db, partner, now_utc(), size=10)
        assert everyone.total == len(seen)
        assert everyone.pages == -(-len(seen) // 10)
        collected = []
        for page in range(1, everyone.pages + 1):
            collected.extend(r.id for r in student_list(db, partner, now_utc(), size=10, page=page).rows)
        assert sorted(collected) == sorted(seen)
        by_grade = student_list(db, partner, now_utc(), sort="grade", size=1000).rows
        from steward.formats.cedars.codes import GRADE_ORDER

        ranks = [GRADE_ORDER.index(r.grade) if r.grade in GRADE_ORDER else 99 for r in by_grade]
        assert ranks == sorted(ranks)
        one = by_grade[0]
        assert one.name
        hit = student_list(db, partner, now_utc(), q=one.name.split()[-1].upper())
        assert one.id in [r.id for r in hit.rows]
        assert student_list(db, partner, now_utc(), q=one.local_id).rows[0].id == one.id
        # a name the partner may not see is never matched: a student of another district
        stranger = db.scalar(select(Student).where(Student.id.notin_(list(seen))).order_by(Student.id))
        assert stranger is not None
        assert student_list(db, partner, now_utc(), q=stranger.last_name).matching <= len(seen)
        assert stranger.id not in [
            r.id for r in student_list(db, partner, now_utc(), q=stranger.last_name, size=1000).rows
        ]


def test_a_partner_without_directory_sees_ids_not_names(sqlite_world: World) -> None:
    from tests.products.portal.conftest import add_partner

    with transaction(sqlite_world.engine) as db:
        who = add_partner(db, "attendance-only", [Dataset.ATTENDANCE], students=3)
        listing = student_list(db, who, now_utc())
        assert listing.total == 3
        assert all(r.name is None and r.school is None for r in listing.rows)
        district = db.scalar(
            select(Organization.id).where(Organization.kind == "district").order_by(Organization.id)
        )
        assert district is not None
        first = listing.rows[0]
        glance = build_glance(db, sqlite_world.data_dir, who, first.id)
        assert glance is not None
        assert glance.header is None
        assert glance.shown == frozenset({Dataset.ATTENDANCE})
        assert glance.header_section["hidden"] == [Dataset.DIRECTORY]
        assert glance.header_section["needs"]
