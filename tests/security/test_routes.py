"""Attacks on every route, enumerated from the app itself so new routes are covered automatically:
CSRF on every state-changing form, IDOR on every id-bearing route, a teacher calling district
officer endpoints, cross-site API calls with a session cookie."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from steward.web.deps import api_principal, officer_principal, optional_principal, page_principal
from tests.security.conftest import CANARIES, Region, csrf
from tests.security.routes import Route, app_routes, prepare, random_token

#: Routes whose path parameter is not an object reference that needs authorization.
NOT_OBJECTS = {
    "/sso/{slug}": "the provider's public slug; unknown ones answer 404",
    "/sso/{slug}/callback": "the provider's public slug; the callback checks state and nonce",
}
#: Sign-in steps that run before there is a principal (CSRF is still required; see the CSRF test).
PUBLIC_FORMS = {"/login", "/invite/{token}", "/mfa", "/mfa/setup"}


def _send(client: TestClient, route: Route, values: dict[str, str], token: str | None) -> Any:
    prepared = prepare(route, values, token)
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if prepared.json is not None:
        kwargs["json"] = prepared.json
    if prepared.data:
        kwargs["data"] = prepared.data
    if prepared.files:
        kwargs["files"] = prepared.files
    return client.request(route.method, prepared.url, **kwargs)


def test_routes_are_found(region: Region) -> None:
    routes = {str(r) for r in app_routes(region.app)}  # type: ignore[arg-type]
    assert {"POST /login", "GET /admin/accounts/{account_id}", "GET /ledger/students/{student_id}"} <= routes


def test_every_state_changing_form_checks_csrf(region: Region) -> None:
    """Statically (the CSRF dependency is on the route) and by trying: a wrong token gets 403."""
    forms = [r for r in app_routes(region.app) if r.unsafe and not r.is_api]  # type: ignore[arg-type]
    assert len(forms) > 10
    missing = [str(r) for r in forms if not r.checks_csrf]
    assert missing == [], f"state-changing forms without CSRF check: {missing}"
    officer = region.client("olga", "officer pass 1")
    for route in forms:
        values = dict.fromkeys(route.path_params, "1")
        for token in (None, "forged-token", "x" * 43):
            response = _send(officer, route, values, token)
            assert response.status_code == 403, f"{route} with token {token!r}: {response.status_code}"


def test_cross_site_api_calls_with_the_session_cookie_are_refused(region: Region) -> None:
    officer = region.client("olga", "officer pass 1")
    unsafe_api = [r for r in app_routes(region.app) if r.unsafe and r.is_api]  # type: ignore[arg-type]
    assert unsafe_api
    for route in unsafe_api:
        prepared = prepare(route, dict.fromkeys(route.path_params, "1"), None)
        response = officer.request(
            route.method,
            prepared.url,
            json=prepared.json,
            data=prepared.data or None,
            files=prepared.files or None,
            headers={"Origin": "https://evil.example"},
        )
        assert response.status_code in (401, 403), f"{route}: {response.status_code}"


PRINCIPAL_DEPENDENCIES = {page_principal, api_principal, optional_principal, officer_principal}


def _public(route: Route) -> bool:
    """A route that never looks at who asks (a transparency page by district code, a secret link)."""
    return not (route.calls & PRINCIPAL_DEPENDENCIES)


def _codes(region: Region) -> list[str]:
    """Real values of every ``code`` column (agreements, organizations, requests...)."""
    engine = region.app.state.engine  # type: ignore[attr-defined]
    codes: list[str] = []
    with engine.connect() as conn:
        inspector = inspect(conn)
        for table in inspector.get_table_names():
            if "code" in {c["name"] for c in inspector.get_columns(table)}:
                query = text(f'SELECT code FROM "{table}" LIMIT 4')
                codes += [str(v) for v in conn.execute(query).scalars()]
    return codes


def _id_values(route: Route, codes: list[str], count: int = 4) -> list[dict[str, str]]:
    """Values to try: existing ids (1..4 exist in every seeded table), real codes, random
    secret-link tokens."""
    candidates: list[dict[str, str]] = []
    for i in range(1, count + 1):
        values: dict[str, str] = {}
        for name, annotation in route.path_params.items():
            if annotation is int:
                values[name] = str(i)
            elif name.endswith(("token", "key")):
                values[name] = random_token()
            else:
                values[name] = codes[i % len(codes)] if codes and name.endswith("code") else str(i)
        candidates.append(values)
    return candidates


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("tina", "teacher pass 1"),
        ("pam", "parent pass 1"),
        ("pete", "partner pass 1"),
        ("otto", "officer pass 2"),
    ],
)
def test_no_id_bearing_route_shows_what_the_principal_may_not_see(
    region: Region, username: str, password: str
) -> None:
    """Teacher and parent without students, partner without consents: every object answers 403/404.

    The other district's officer may get 200 where a route lists its own district's records, but no
    response to any of them may carry district d1's data (the canaries)."""
    client = region.client(username, password)
    token = csrf(client)
    routes = [
        r
        for r in app_routes(region.app)  # type: ignore[arg-type]
        if r.path_params and r.path not in NOT_OBJECTS and r.path not in PUBLIC_FORMS
    ]
    assert len(routes) > 10
    codes = _codes(region)
    failures = []
    for route in routes:
        for values in _id_values(route, codes):
            response = _send(client, route, values, token)
            body = response.text
            leaked = [c for c in CANARIES if c in body]
            allowed: tuple[int, ...] = (
                (403, 404) if username != "otto" else (200, 303, 400, 403, 404, 409, 422)
            )
            if any(n.endswith("token") for n in route.path_params):
                allowed += (410,)  # a secret link answers "gone" whether it never existed or expired
            if _public(route):
                allowed = (200, 303, 400, 404, 410, 422)  # a public page by code; canaries still checked
            if response.status_code not in allowed or leaked:
                failures.append(f"{route} {values}: {response.status_code} {leaked}")
    assert failures == [], "\n".join(failures)


def test_secret_link_routes_refuse_unknown_tokens(region: Region) -> None:
    anonymous = TestClient(region.app)  # type: ignore[arg-type]
    for route in app_routes(region.app):  # type: ignore[arg-type]
        if route.method == "GET" and any(n.endswith("token") for n in route.path_params):
            response = _send(anonymous, route, {n: random_token() for n in route.path_params}, None)
            assert response.status_code in (404, 410), str(route)


def _officer_routes(region: Region) -> list[Route]:
    """Routes guarded by an officer dependency, or in the officer areas of the site."""
    found = []
    for route in app_routes(region.app):  # type: ignore[arg-type]
        guarded = officer_principal in route.calls or any(
            getattr(call, "__name__", "") in ("officer", "officer_principal", "require_officer")
            for call in route.calls
        )
        area = route.path.startswith(("/admin", "/settings", "/access", "/office")) or route.path.endswith(
            "/access"
        )
        if guarded or area:
            found.append(route)
    return found


def test_a_teacher_cannot_use_district_officer_endpoints(region: Region) -> None:
    teacher = region.client("tina", "teacher pass 1")
    token = csrf(teacher)
    routes = _officer_routes(region)
    assert {"GET /admin/accounts", "POST /admin/invite", "GET /access"} <= {str(r) for r in routes}
    failures = []
    for route in routes:
        values = dict.fromkeys(route.path_params, "1")
        response = _send(teacher, route, values, token)
        if response.status_code not in (403, 404) or any(c in response.text for c in CANARIES):
            failures.append(f"{route}: {response.status_code}")
    assert failures == []
    # ...nor pick the officer's role, nor grant themselves one.
    page = teacher.get("/account")
    officer_role = str(region.world.officer.id)
    assert (
        teacher.post("/role", data={"role_assignment_id": officer_role, "csrf_token": token}).status_code
        == 403
    )
    assert "Welcome, Tina" in teacher.get("/").text
    assert "/admin" not in page.text
