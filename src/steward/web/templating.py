"""Jinja2 environment for pages and htmx fragments; autoescaping on."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Request
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.responses import Response

from steward import __version__, i18n

templates = Jinja2Blocks(directory=str(resources.files("steward.web.ui") / "templates"))
templates.env.globals["steward_version"] = __version__
# Family pages translate with {% trans %} / _(); elsewhere nothing changes (English, no catalog).
i18n.install(templates.env)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """Render a page; the base layout reads ``principal`` and ``csrf_token`` when present."""
    ctx: dict[str, Any] = {"request": request}
    csrf_token = getattr(request.state, "csrf_token", None)
    if csrf_token is not None:
        ctx["csrf_token"] = csrf_token
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
