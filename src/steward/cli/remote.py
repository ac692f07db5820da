"""`steward remote check | students`: ask a remote hub over its API with an API token.

The token comes from the ``STEWARD_TOKEN`` environment variable only (a command-line argument would
show in the process list and the shell history). The hub must be reached over https, except on this
machine (127.0.0.1, ::1, localhost), so the token never crosses a network in clear.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from steward.domain.datasets import Dataset
from steward.policy.decision import Form

#: The environment variable's name (not a secret).
TOKEN_ENV = "STEWARD_TOKEN"  # noqa: S105
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

remote_app = typer.Typer(
    help=f"Ask a remote hub through its API with an API token (from ${TOKEN_ENV}).",
    no_args_is_help=True,
)


class RemoteError(Exception):
    """A failure to report in one line (exit status 2), never a traceback."""


def hub_url(raw: str) -> httpx.URL:
    """The hub's base address; https unless the hub is on this machine."""
    try:
        url = httpx.URL(raw.strip().rstrip("/"))
    except (httpx.InvalidURL, TypeError) as exc:
        raise RemoteError(f"--hub {raw!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise RemoteError(f"--hub {raw!r} must look like https://steward.example.org")
    if url.username or url.password:
        raise RemoteError("--hub must not carry a user name or password; the token comes from $STEWARD_TOKEN")
    if url.scheme == "http" and url.host not in LOCAL_HOSTS:
        raise RemoteError(
            f"--hub {raw!r} uses http: the token would cross the network in clear; use https "
            "(http is allowed only for 127.0.0.1 and localhost)"
        )
    return url


def token_from_env() -> str:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise RemoteError(
            f"set {TOKEN_ENV} to an API token (`steward token create` on the hub); "
            "it is never taken on the command line"
        )
    return token


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI validation errors
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', ()))}: {d.get('msg', '')}"
            for d in detail
            if isinstance(d, dict)
        )
    return str(detail if detail is not None else body)[:300]


class Hub:
    """A small client for the hub's /api/v1 with a Bearer token; errors become RemoteError."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        base = self.client.base_url
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise RemoteError(f"the hub at {base} did not answer in time") from None
        except httpx.ConnectError as exc:
            raise RemoteError(f"cannot reach the hub at {base}: {exc or 'connection refused'}") from None
        except httpx.HTTPError as exc:
            raise RemoteError(f"talking to the hub at {base} failed: {exc}") from None
        status = response.status_code
        if status == 401:
            raise RemoteError(
                f"the hub refused the token (401: {_detail(response)}); check ${TOKEN_ENV}: it may be "
                "mistyped, expired or revoked (`steward token list` on the hub)"
            )
        if status == 403:
            raise RemoteError(
                f"the hub forbids this call (403: {_detail(response)}); the token's scopes or role do "
                "not cover it (decisions need a token with the write or decisions:write scope)"
            )
        if status == 429:
            raise RemoteError("the hub is rate limiting this token (429); wait and try again")
        if 300 <= status < 400:
            raise RemoteError(
                f"the hub answered {status} (moved to {response.headers.get('location', '?')}); "
                "give that address with --hub"
            )
        if status >= 400:
            raise RemoteError(f"the hub answered {status}: {_detail(response)}")
        try:
            return response.json()
        except ValueError:
            raise RemoteError(
                f"the hub at {base} did not answer with JSON; is --hub a Steward hub?"
            ) from None


@contextmanager
def open_hub(hub: str, timeout: float, ca_bundle: Path | None) -> Iterator[Hub]:
    """Check the address and token, then a client that sends the token only to that hub."""
    url = hub_url(hub)
    token = token_from_env()
    verify: ssl.SSLContext | bool = True
    if ca_bundle is not None:
        try:
            verify = ssl.create_default_context(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise RemoteError(f"--ca-bundle {ca_bundle}: {exc}") from None
    with httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=timeout,
        verify=verify,
        follow_redirects=False,
    ) as client:
        yield Hub(client)


def _fail(exc: RemoteError) -> typer.Exit:
    Console(stderr=True, highlight=False).print(str(exc), markup=False)
    return typer.Exit(2)


def _instant(at: str | None) -> str | None:
    if at is None:
        return None
    try:
        datetime.fromisoformat(at)
    except ValueError:
        raise RemoteError(f"--at {at!r} is not an ISO 8601 instant (e.g. 2025-10-15T17:00:00Z)") from None
    return at


HUB = typer.Option(..., "--hub", help="the hub's address, e.g. https://steward.district.org")
TIMEOUT = typer.Option(30.0, min=0.1, help="seconds to wait for the hub")
CA_BUNDLE = typer.Option(None, help="PEM file of the CA that signed the hub's certificate, if private")


@remote_app.command("check")
def check_cmd(
    hub: str = HUB,
    student: str = typer.Option(..., help="the student's internal id, or DISTRICTCODE:LOCALID"),
    dataset: Dataset = typer.Option(..., help="the dataset asked for"),
    form: Form = typer.Option(Form.IDENTIFIABLE, help="identifiable, deidentified or aggregate"),
    at: str = typer.Option(None, help="the instant asked (ISO 8601; default now)"),
    purpose: str = typer.Option("", help="the purpose of the question, passed to the decision engine"),
    as_json: bool = typer.Option(False, "--json", help="print the hub's answer as JSON"),
    timeout: float = TIMEOUT,
    ca_bundle: Path = CA_BUNDLE,
) -> None:
    """May the token's principal see this dataset of this student? Exit 0 if allowed, 1 if not."""
    key: int | str = int(student) if student.isdigit() else student
    body: dict[str, Any] = {
        "checks": [{"student": key, "dataset": dataset.value, "form": form.value, "purpose": purpose}]
    }
    try:
        instant = _instant(at)
        if instant is not None:
            body["at"] = instant
        with open_hub(hub, timeout, ca_bundle) as remote:
            answer = remote.call("POST", "/api/v1/decisions", json=body)
        decision = answer["decisions"][0]
    except RemoteError as exc:
        raise _fail(exc) from None
    except (KeyError, IndexError, TypeError):
        raise _fail(RemoteError("the hub's answer has no decision; is --hub a Steward hub?")) from None
    if as_json:
        typer.echo(json.dumps(decision, indent=2))
    else:
        out = Console(highlight=False)
        what = (
            f"{decision['dataset']} ({decision['form']}) of student {decision['student']} at {decision['at']}"
        )
        if decision["allowed"]:
            out.print(f"ALLOWED: {what}", markup=False)
            out.print(f"  basis: {decision['basis']} ({decision['citation']})", markup=False)
            if decision["evidence"]:
                out.print(f"  evidence: {', '.join(decision['evidence'])}", markup=False)
            for obligation in decision["obligations"]:
                out.print(f"  obligation: {obligation['text']}", markup=False)
        else:
            out.print(f"DENIED: {what}", markup=False)
            for missing in decision["missing"]:
                out.print(f"  missing: {missing}", markup=False)
    raise typer.Exit(0 if decision["allowed"] else 1)


@remote_app.command("students")
def students_cmd(
    hub: str = HUB,
    at: str = typer.Option(None, help="the instant (ISO 8601; default now)"),
    dataset: list[Dataset] = typer.Option(None, "--dataset", help="only these datasets (repeatable)"),
    directory: bool = typer.Option(False, help="also students seen only as directory information"),
    page_size: int = typer.Option(500, min=1, max=1000, help="students per request"),
    as_json: bool = typer.Option(False, "--json", help="print JSON (one object with every student)"),
    timeout: float = TIMEOUT,
    ca_bundle: Path = CA_BUNDLE,
) -> None:
    """Every student the token's principal may see (all pages), with each dataset and its basis."""
    params: dict[str, Any] = {"limit": page_size, "directory": str(directory).lower()}
    if dataset:
        params["dataset"] = [d.value for d in dataset]
    rows: list[dict[str, Any]] = []
    err = Console(stderr=True)
    try:
        instant = _instant(at)
        if instant is not None:
            params["at"] = instant
        with open_hub(hub, timeout, ca_bundle) as remote, err.status("asking the hub") as status:
            cursor: str | None = None
            while True:
                query = params if cursor is None else {**params, "cursor": cursor}
                page = remote.call("GET", "/api/v1/students", params=query)
                rows.extend(page["students"])
                status.update(f"{len(rows)} students so far")
                cursor = page.get("next_cursor")
                if not cursor:
                    break
    except RemoteError as exc:
        raise _fail(exc) from None
    except (KeyError, TypeError):
        raise _fail(RemoteError("the hub's answer has no student list; is --hub a Steward hub?")) from None
    if as_json:
        typer.echo(json.dumps({"students": rows}, indent=2))
        return
    table = Table(title=f"{len(rows)} students")
    for column in ("id", "code", "name", "datasets (basis)"):
        table.add_column(column)
    for row in rows:
        datasets = ", ".join(f"{d} ({b})" for d, b in sorted(row["datasets"].items()))
        table.add_row(str(row["id"]), escape(row["code"]), escape(row.get("name") or ""), escape(datasets))
    Console(width=200).print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")
