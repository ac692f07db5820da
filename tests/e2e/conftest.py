"""Headless Chromium (Debian's, never downloaded) against the real app served on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import expect
from sqlalchemy import Engine

from steward.config import Settings
from steward.web.app import create_app
from tests.e2e.a11y import AXE, AXE_VERSION

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# CI machines are small and busy: allow slow pages rather than fail on timing.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed (make test installs it with apt)")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """Runs the app with uvicorn in a background thread; ``url`` is its base address."""

    def __init__(self, engine: Engine) -> None:
        port = _free_port()
        settings = Settings(database_url=str(engine.url), secret_key="e2e-secret")
        config = uvicorn.Config(
            create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server() -> Callable[[Engine], LiveServer]:
    """Factory: ``with live_server(engine) as server: page.goto(server.url)``."""
    return LiveServer


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """Save a full-page screenshot as a test artefact under test-artifacts/."""

    def take(page: Any, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from the npm registry next to the virtualenv, installed when missing."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                f"axe-core is missing ({AXE}) and npm is not installed: run `make` on a machine with npm"
            )
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(AXE.parents[2]),
                f"axe-core@{AXE_VERSION}",
                "--no-audit",
                "--no-fund",
            ],
            check=True,
            capture_output=True,
        )
    return AXE
