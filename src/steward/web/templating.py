"""Jinja2 environment for pages and htmx fragments; autoescaping on."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Request
from jinja2_fragments.fastapi import Jinja2Blocks
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward import __version__, i18n
from steward.web import language

templates = Jinja2Blocks(directory=str(resources.files("steward.web.ui") / "templates"))
templates.env.globals["steward_version"] = __version__
# Family pages translate with {% trans %} / _(); elsewhere nothing changes (English, no catalog).
i18n.install(templates.env)
# Shared pages a family member also sees translate plain strings with ``t`` and the helpers below.
templates.env.filters["t"] = language.translate_text
for _name, _func in (
    ("dataset_words", language.dataset_words),
    ("role_words", language.role_words),
    ("basis_words_t", language.basis_words),
    ("evidence_words", language.evidence_words),
):
    templates.env.globals[_name] = _func


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    *,
    db: Session | None = None,
) -> Response:
    """Render a page; the base layout reads ``principal`` and ``csrf_token`` when present.

    A shared page a family member may see (``language.TRANSLATED_PAGES``) is rendered in the
    family's language (``db``: to read the account's remembered one); staff viewers keep English."""
    ctx: dict[str, Any] = {"request": request}
    csrf_token = getattr(request.state, "csrf_token", None)
    if csrf_token is not None:
        ctx["csrf_token"] = csrf_token
    ctx.update(context or {})
    if name not in language.TRANSLATED_PAGES or "lang" in ctx:
        language.fill_in(ctx, translate=False)
        return templates.TemplateResponse(request, name, ctx, status_code=status_code)
    principal = ctx.get("principal")
    lang = language.page_language(request, db, principal)
    ctx["lang"] = lang
    with i18n.use(lang):
        language.fill_in(ctx, translate=True)
        response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if i18n.normalise(request.query_params.get("lang")) == lang:
        language.remember_choice(request, response, lang, db, principal)
    return response
