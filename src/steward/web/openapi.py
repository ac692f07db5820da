"""The OpenAPI document says how the JSON API is secured and which errors it answers, so clients
(and schemathesis) can rely on it: bearer tokens or the session cookie, 401/403/404/413/429 bodies."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from steward.web.deps import SESSION_COOKIE, api_principal
from steward.web.security import INT_MAX, INT_MIN

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {
        "detail": {
            "description": "what went wrong, in words; a list of field errors for invalid input",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"loc": {"type": "array", "items": {}}, "msg": {"type": "string"}},
                    },
                },
            ],
        }
    },
    "required": ["detail"],
}
ERRORS = {
    "400": "The request body could not be read (not JSON, not UTF-8, broken form)",
    "401": "No valid API token or session",
    "403": "The token's scopes or the caller's role do not allow this call",
    "404": "Not found, or not visible to the caller",
    "413": "The request body is too large",
    "429": "Too many requests; retry after the Retry-After header's seconds",
}


def _uses(dependant: Dependant, call: Any) -> bool:
    return any(sub.call is call or _uses(sub, call) for sub in dependant.dependencies)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _bound_integers(path_item: dict[str, Any]) -> None:
    """Integer path and query parameters say the range ``integer_bounds`` enforces."""
    for operation in path_item.values():
        if not isinstance(operation, dict):
            continue
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            options = schema.get("anyOf", [schema])
            for option in options:
                if option.get("type") == "integer":
                    option.setdefault("maximum", INT_MAX)
                    option.setdefault("minimum", INT_MIN)


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with a generator that adds security schemes and error responses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        components["securitySchemes"] = {
            "bearerToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "an API token (`steward token create`), scoped read/write per area",
            },
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
        }
        for context in iter_route_contexts(app.routes):
            route = context.route
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            path_item = schema.get("paths", {}).get(context.path)
            if path_item is None:
                continue
            secured = _uses(route.dependant, api_principal)
            _bound_integers(path_item)
            for method in context.methods or route.methods or ():
                operation = path_item.get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                codes = ["429"]
                if secured:
                    operation["security"] = [{"bearerToken": []}, {"sessionCookie": []}]
                    codes += ["401", "403"]
                if route.dependant.path_params or route.dependant.body_params or secured:
                    codes.append("404")
                if route.dependant.body_params:
                    codes += ["400", "413"]
                for code in codes:
                    responses.setdefault(code, _error(ERRORS[code]))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
