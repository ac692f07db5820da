"""The review panel member's page: each open cycle's agenda with a vote and comment per request."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from steward.domain.orgs import Role
from steward.web.deps import Db, PagePrincipal
from steward.web.ui.workflow.common import need, page
from steward.web.ui.workflow.office import _agendas
from steward.workflow.requests import cycles

router = APIRouter(include_in_schema=False)


@router.get("/panel")
def panel_page(request: Request, db: Db, principal: PagePrincipal) -> Response:
    need(principal, Role.REVIEW_PANEL_MEMBER)
    agendas = _agendas(db, principal.organization_id)
    for agenda in agendas:
        for item in agenda["entries"]:
            item["mine"] = next((v for v in item["votes"] if v.person_id == principal.person_id), None)
    return page(request, db, principal, "panel.html", {"cycles": agendas, "choices": cycles.VOTES})
