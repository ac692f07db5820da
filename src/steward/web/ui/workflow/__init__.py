"""The paperwork workflow's pages (issue 4): requests, office queues, agreements, consents, grants,
training, opt-outs, SLA dashboard, panel agenda, partner uploads, notifications."""

from fastapi import APIRouter

from steward.web.ui.workflow import agreements, consents, notifications, office, panel, requests

router = APIRouter(include_in_schema=False)
for _module in (requests, office, agreements, consents, panel, notifications):
    router.include_router(_module.router)
