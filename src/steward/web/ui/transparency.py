"""The public transparency page: no sign-in, no student data. Which organizations receive student
data from each district under an agreement in force, why, which records, for how long and when
they must destroy them; and how many data requests were received and filled, and how fast."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from steward.family import transparency
from steward.store.models import Organization
from steward.web.deps import Db
from steward.web.ui.family import family_page, not_found

router = APIRouter(include_in_schema=False)


@router.get("/transparency")
def index(request: Request, db: Db) -> Response:
    """Every district of the hub; with one district, its page directly."""
    districts = transparency.districts(db)
    pages = [transparency.page(db, d) for d in districts]
    return family_page(
        request, db, None, "family/transparency.html", {"pages": pages, "single": len(pages) == 1}
    )


@router.get("/transparency/{code}")
def district_page(request: Request, db: Db, code: str) -> Response:
    district = db.scalar(
        select(Organization).where(Organization.code == code[:64], Organization.kind == "district")
    )
    if district is None:
        return not_found(request, db, None)
    return family_page(
        request,
        db,
        None,
        "family/transparency.html",
        {"pages": [transparency.page(db, district)], "single": True},
    )
