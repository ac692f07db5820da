"""Every route of the app, found by walking the router (new routes are covered without edits), and
requests that fill a route's path, form, file and JSON parameters with plausible values."""

from __future__ import annotations

import types
import typing
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, UploadFile
from fastapi.dependencies.models import Dependant
from fastapi.params import Body, File, Form
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from steward.web.deps import verify_csrf

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
#: Path parameter names that address an object (an id, a code, a secret link token).
ID_NAMES = ("id", "code", "token", "ref", "slug", "key")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    dependant: Dependant
    path_params: dict[str, Any]
    calls: frozenset[Callable[..., Any]] = field(default_factory=frozenset)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def unsafe(self) -> bool:
        return self.method in UNSAFE

    @property
    def checks_csrf(self) -> bool:
        return verify_csrf in self.calls

    @property
    def id_params(self) -> list[str]:
        return [
            n
            for n in self.path_params
            if n == "id" or n.endswith(tuple(f"_{s}" for s in ID_NAMES)) or n in ID_NAMES
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def app_routes(app: FastAPI) -> list[Route]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute):
            continue
        dependant = route.dependant
        params = {p.name: p.field_info.annotation for p in dependant.path_params}
        for method in sorted(context.methods or route.methods or ()):
            found.append(Route(method, context.path, dependant, params, frozenset(_calls(dependant))))
    return found


def _example_for(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _example_for(options[0]) if options else ""
    if origin is typing.Annotated:
        return _example_for(typing.get_args(annotation)[0])
    if origin in (list, tuple, set):
        return [_example_for(typing.get_args(annotation)[0] if typing.get_args(annotation) else str)]
    if annotation is int:
        return "1"
    if annotation is float:
        return "1.0"
    if annotation is bool:
        return "false"
    if annotation is date:
        return "2026-01-15"
    return "x"


def minimal_json(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A small instance satisfying a JSON schema (required fields only, first enum value)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return minimal_json(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return minimal_json(options[0], defs)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: minimal_json(props[name], defs) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal_json(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return "2026-01-15"
        if fmt == "date-time":
            return "2026-01-15T12:00:00Z"
        return "x" * max(1, schema.get("minLength", 1))
    return None


@dataclass
class Prepared:
    url: str
    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    json: Any = None


def prepare(route: Route, values: dict[str, str], csrf: str | None) -> Prepared:
    """The request for ``route`` with ``values`` in its path and plausible parameters elsewhere."""
    url = route.path
    for name in route.path_params:
        url = url.replace("{" + name + "}", values.get(name, "x"))
    query = {
        p.alias: _example_for(p.field_info.annotation)
        for p in route.dependant.query_params
        if p.field_info.is_required()
    }
    if query:
        url += "?" + urlencode(query, doseq=True)
    prepared = Prepared(url)
    for param in route.dependant.body_params:
        info = param.field_info
        annotation = info.annotation
        if isinstance(info, File) or annotation is UploadFile:
            prepared.files[param.name] = ("upload.csv", b"a,b\n1,2\n", "text/csv")
        elif isinstance(info, Form):
            prepared.data[param.name] = _example_for(annotation)
        elif isinstance(info, Body) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            prepared.json = minimal_json(annotation.model_json_schema())
    if route.unsafe and not route.is_api and csrf is not None:
        prepared.data["csrf_token"] = csrf
    return prepared


def random_token() -> str:
    return uuid.uuid4().hex
