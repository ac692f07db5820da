"""The FastAPI application: JSON API (/api/v1, OpenAPI at /api/docs) and the pages."""

from __future__ import annotations

from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from steward import __version__
from steward.accounts.oidc import OidcClient
from steward.accounts.passwords import warm_up
from steward.config import Settings, get_settings
from steward.store.db import make_engine, session_factory
from steward.web.api import decisions as decisions_api
from steward.web.api import delivery as delivery_api
from steward.web.api import emergency as emergency_api
from steward.web.api import health
from steward.web.api import ledger as ledger_api
from steward.web.api import workflow as workflow_api
from steward.web.deps import LoginRequiredError
from steward.web.openapi import install_openapi
from steward.web.security import ConcurrencyLimit, Limiter, SecurityHeaders, integer_bounds
from steward.web.templating import render
from steward.web.ui import access as access_ui
from steward.web.ui import account, admin, auth, home
from steward.web.ui import consent_requests as consent_requests_ui
from steward.web.ui import emergency as emergency_ui
from steward.web.ui import family as family_ui
from steward.web.ui import ledger as ledger_ui
from steward.web.ui import transfers as transfers_ui
from steward.web.ui import transparency as transparency_ui
from steward.web.ui import workflow as workflow_ui


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", "text/html"
    )


def pool_options(settings: Settings) -> dict[str, Any]:
    """Enough connections for every worker thread: a request holds one from its first query to its
    response, so a pool smaller than the thread pool deadlocks under load (threads wait for
    connections held by requests that wait for threads)."""
    if settings.database_url.startswith("sqlite") and ":memory:" in settings.database_url:
        return {}
    return {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow, "pool_timeout": 10}


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app around one governance database (SQLite file by default)."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url, **pool_options(settings))
    app = FastAPI(
        title="Steward",
        version=__version__,
        summary="Decides, delivers and records lawful student-data disclosures.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        max_body_size=settings.max_request_bytes,
        dependencies=[Depends(integer_bounds)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = session_factory(engine)
    app.state.login_limiter = Limiter(settings.rate_login_burst, settings.rate_login_per_minute / 60)
    app.state.api_limiter = Limiter(settings.rate_api_burst, settings.rate_api_per_second)
    app.state.oidc = OidcClient()
    warm_up()
    app.add_middleware(ConcurrencyLimit, limit=settings.db_pool_size + settings.db_max_overflow - 5)
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)
    install_openapi(app)
    app.mount(
        "/static", StaticFiles(directory=str(resources.files("steward.web.ui") / "static")), name="static"
    )
    for router in (health.router, auth.router, home.router, account.router, admin.router):
        app.include_router(router)
    app.include_router(ledger_ui.router)
    app.include_router(ledger_api.router)
    app.include_router(decisions_api.router)
    app.include_router(emergency_api.router)
    app.include_router(access_ui.router)
    app.include_router(emergency_ui.router)
    app.include_router(delivery_api.router)
    app.include_router(transfers_ui.router)
    app.include_router(workflow_ui.router)
    app.include_router(workflow_api.router)
    app.include_router(family_ui.router)
    app.include_router(consent_requests_ui.router)
    app.include_router(transparency_ui.router)
    app.include_router(__import__("steward.web.ui.portal", fromlist=["router"]).router)

    @app.exception_handler(LoginRequiredError)
    async def _login_required(request: Request, exc: LoginRequiredError) -> Response:
        return RedirectResponse(f"{exc.target}?next={quote(exc.next_path, safe='/')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request):
            title = {
                404: "Not found",
                403: "Not allowed",
                401: "Please sign in",
                413: "Too large",
                429: "Too many requests",
            }.get(exc.status_code, "Error")
            message = exc.detail if isinstance(exc.detail, str) else title
            page = render(request, "error.html", {"title": title, "message": message}, exc.status_code)
            for name, value in (exc.headers or {}).items():
                page.headers[name] = value
            return page
        detail: Any = exc.detail
        if exc.status_code == 422 and isinstance(detail, str):
            # One shape for every 422, as the OpenAPI document says (a list of field errors).
            detail = [{"loc": ["request"], "msg": detail, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "value_error")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # A number beyond what the database stores (an id of 2**63 in a JSON body): no row can have
        # it, so "not found" rather than a 500. Path and query integers are bounded earlier (422).
        import logging

        logging.getLogger("steward.web").warning("out-of-range value on %s: %s", request.url.path, exc)
        if _wants_html(request):
            return render(request, "error.html", {"title": "Not found", "message": "Not found"}, 404)
        return JSONResponse({"detail": "not found"}, status_code=404)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Never a stack trace or SQL in a response; the log has the details.
        import logging

        logging.getLogger("steward.web").exception("unhandled error on %s", request.url.path)
        if _wants_html(request):
            return render(
                request, "error.html", {"title": "Something went wrong", "message": "Please try again."}, 500
            )
        return JSONResponse({"detail": "internal error"}, status_code=500)

    return app
