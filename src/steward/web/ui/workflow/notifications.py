"""In-app notifications: the person's inbox; marking them read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from steward.web.deps import CsrfChecked, Db, PagePrincipal
from steward.web.ui.workflow.common import page
from steward.workflow.notifications.service import inbox, mark_read

router = APIRouter(include_in_schema=False)


@router.get("/notifications")
def notifications_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    return page(request, db, principal, "notifications.html", {"items": inbox(db, principal.person_id)})


@router.post("/notifications/read", dependencies=[CsrfChecked])
def read_all(db: Db, principal: PagePrincipal) -> Response:
    mark_read(db, principal.person_id)
    return RedirectResponse("/notifications?done=read", status_code=303)
