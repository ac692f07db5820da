"""Load on the running app: concurrent users of mixed personas against a live server on 127.0.0.1.

Builds the demo region with ``steward demo --no-serve`` (in a temporary data directory, unless
``--data-dir`` holds one already), serves it with uvicorn in a subprocess, signs in ``--users``
sessions spread over the demo personas, then lets every user browse their pages and ask batched
decisions (POST /api/v1/decisions) for ``--seconds``, pausing ``--think`` seconds on average between
requests (exponential; 0 sends them back to back, a stress test rather than people).
Prints JSON: throughput, p50/p99 latency for pages and decisions, errors.

Targets: 200 concurrent sessions, p99 under 300 ms for pages and under 50 ms for decisions, no errors.

    .venv/bin/python bench/load.py [--users 200] [--seconds 30] [--workers 1] [--students 3000]

The server runs with the second-factor requirement off (``STEWARD_MFA_REQUIRED_ROLES=[]``: each of
the 200 sessions would otherwise need a fresh TOTP step), sign-in rate limits raised, and, unless
``--real-argon2``, cheap argon2 parameters: sign-in is not what this measures. The client runs on
the same machine, so its own CPU use is part of the latencies measured.

The server is started as ``steward serve`` starts it: the app is built, then the start-up heap is
collected and frozen (``gc.freeze()``), so full collections do not pause requests (``--no-gc-freeze``
starts it without). The server's CPU seconds over the measured window are printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PERSONAS = ("officer", "panel", "principal", "teacher", "registrar", "partner", "researcher", "parent",
            "vendor", "analyst")  # fmt: skip
PASSWORD = "steward-demo"
#: Pages every persona tries; each user keeps those answering 200 for them.
CANDIDATE_PAGES = ("/", "/ledger", "/account", "/admin/accounts", "/access", "/settings/policy", "/requests",
                   "/office", "/transfers", "/panel", "/notifications")  # fmt: skip
DATASETS = ("directory", "enrollment", "attendance", "grades", "demographics")
STEWARD = [str(Path(sys.executable).parent / "steward")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, real_argon2: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "STEWARD_DATA_DIR": str(data_dir),
            "STEWARD_DATABASE_URL": f"sqlite:///{data_dir / 'demo' / 'steward.db'}",
            "STEWARD_MFA_REQUIRED_ROLES": "[]",
            "STEWARD_RATE_LOGIN_BURST": "100000",
            "STEWARD_RATE_API_BURST": "100000",
            "STEWARD_LOGIN_FAILURE_FLOOR_MS": "0",
        }
    )
    if not real_argon2:
        env.update({"STEWARD_ARGON2_TIME_COST": "1", "STEWARD_ARGON2_MEMORY_KIB": "1024"})
    return env


def build_demo(env: dict[str, str], students: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [*STEWARD, "demo", "--no-serve", "--students", str(students)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def frozen_app() -> Any:
    """The app as ``steward serve`` builds it: the start-up heap collected and frozen afterwards."""
    from steward.web.app import create_app

    app = create_app()
    gc.collect()
    gc.freeze()
    return app


def start_server(
    env: dict[str, str], port: int, workers: int, log: Path, freeze: bool = True
) -> subprocess.Popen[bytes]:
    factory = ["--app-dir", str(Path(__file__).parent), "load:frozen_app"] if freeze else [
        "steward.web.app:create_app"]  # fmt: skip
    command = [
        sys.executable, "-m", "uvicorn", "--factory", *factory,
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
        "--no-access-log", "--timeout-keep-alive", "75",
    ]  # fmt: skip
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, start_new_session=True, stdout=sink, stderr=sink)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError("the server exited while starting")
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError("the server did not answer within 60 s")


def _server_cpu(session: int) -> float:
    """CPU seconds (user + system) of the server's processes so far (Linux ``/proc``; 0 elsewhere)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # the session id: the server and its workers
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Stats:
    pages: list[float] = field(default_factory=list)
    decisions: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class User:
    persona: str
    client: httpx.AsyncClient
    pages: list[str] = field(default_factory=list)
    students: list[int] = field(default_factory=list)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


async def sign_in(base: str, persona: str) -> User:
    client = httpx.AsyncClient(base_url=base, timeout=30.0, follow_redirects=False)
    page = await client.get("/login")
    done = await client.post(
        "/login",
        data={"username": persona, "password": PASSWORD, "csrf_token": _csrf(page.text), "next": "/"},
    )
    if done.status_code != 303:
        raise RuntimeError(f"{persona} could not sign in: {done.status_code}")
    if done.headers["location"] == "/role":
        choice = await client.get("/role")
        role = re.findall(r'name="role_assignment_id" value="(\d+)"', choice.text)[0]
        await client.post("/role", data={"role_assignment_id": role, "csrf_token": _csrf(choice.text)})
    user = User(persona, client)
    for path in CANDIDATE_PAGES:
        if (await client.get(path)).status_code == 200:
            user.pages.append(path)
    listed = await client.get("/api/v1/students", params={"limit": 50})
    if listed.status_code == 200:
        body: Any = listed.json()
        rows: Any = body.get("students", body.get("items", [])) if isinstance(body, dict) else []
        user.students = [int(r["id"]) for r in rows if isinstance(r, dict) and "id" in r]
    return user


async def work(user: User, until: float, stats: Stats, rng: random.Random, think: float) -> None:
    if think:
        await asyncio.sleep(rng.uniform(0, think))  # users do not all start at once
    while time.monotonic() < until:
        if think:
            await asyncio.sleep(min(rng.expovariate(1 / think), max(0.0, until - time.monotonic())))
            if time.monotonic() >= until:
                break
        decide = rng.random() < 0.5
        started = time.perf_counter()
        try:
            if decide:
                pool = user.students or [rng.randint(1, 3000)]
                checks = [
                    {"student": rng.choice(pool), "dataset": rng.choice(DATASETS)}
                    for _ in range(rng.randint(1, 5))
                ]
                response = await user.client.post("/api/v1/decisions", json={"checks": checks})
            else:
                response = await user.client.get(rng.choice(user.pages or ["/"]))
        except httpx.HTTPError as exc:
            stats.errors.append(f"{user.persona}: {type(exc).__name__}")
            continue
        elapsed = time.perf_counter() - started
        if response.status_code >= 400:
            stats.errors.append(f"{user.persona} {response.request.method} {response.request.url.path}: "
                                f"{response.status_code}")  # fmt: skip
            continue
        (stats.decisions if decide else stats.pages).append(elapsed)


def _summary(samples: list[float]) -> dict[str, Any]:
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def run(
    base: str, users: int, seconds: float, seed: int, think: float, server_cpu: Callable[[], float]
) -> dict[str, Any]:
    rng = random.Random(seed)
    started = time.perf_counter()
    semaphore = asyncio.Semaphore(20)

    async def one(i: int) -> User:
        async with semaphore:
            return await sign_in(base, PERSONAS[i % len(PERSONAS)])

    signed = await asyncio.gather(*(one(i) for i in range(users)))
    ramp = time.perf_counter() - started
    stats = Stats()
    until = time.monotonic() + seconds
    measured = time.perf_counter()
    cpu_before, client_before = server_cpu(), time.process_time()
    await asyncio.gather(*(work(u, until, stats, random.Random(rng.random()), think) for u in signed))
    wall = time.perf_counter() - measured
    cpu, client = server_cpu() - cpu_before, time.process_time() - client_before
    for user in signed:
        await user.client.aclose()
    total = len(stats.pages) + len(stats.decisions)
    return {
        "users": users,
        "think_seconds_mean": think,
        "sign_in_seconds": round(ramp, 1),
        "measured_seconds": round(wall, 1),
        "requests": total,
        "throughput_rps": round(total / wall, 1),
        "server_cpu_seconds": round(cpu, 1),
        "server_cpu_ms_per_request": round(1000 * cpu / max(1, total), 1),
        "client_cpu_seconds": round(client, 1),
        "pages": _summary(stats.pages),
        "decisions": _summary(stats.decisions),
        "errors": len(stats.errors),
        "error_samples": sorted(set(stats.errors))[:10],
        "pages_per_persona": {u.persona: u.pages for u in signed[: len(PERSONAS)]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--students", type=int, default=3000, help="students in the demo region")
    parser.add_argument("--data-dir", type=Path, help="reuse the demo built in this data directory")
    parser.add_argument("--real-argon2", action="store_true", help="keep production argon2 costs")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-gc-freeze", action="store_true", help="serve without freezing the heap")
    parser.add_argument(
        "--think", type=float, default=5.0, help="mean pause between a user's requests (0: back to back)"
    )
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = _env(data_dir, args.real_argon2)
    built = 0.0
    if not (data_dir / "demo" / "steward.db").exists():
        built = build_demo(env, args.students)
    load_before = os.getloadavg()[0]
    port = _free_port()
    log = data_dir / "bench-load-server.log"
    server = start_server(env, port, args.workers, log, freeze=not args.no_gc_freeze)
    try:
        figures = asyncio.run(
            run(
                f"http://127.0.0.1:{port}", args.users, args.seconds, args.seed, args.think,
                lambda: _server_cpu(server.pid),
            )
        )  # fmt: skip
    finally:
        stop_server(server)
    figures.update(
        {
            "workers": args.workers,
            "gc_freeze": not args.no_gc_freeze,
            "students": args.students,
            "demo_build_seconds": round(built, 1),
            "database": "sqlite",
            "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
            "cpus": os.cpu_count(),
            "server_log": str(log),
            "server_errors_logged": log.read_text(errors="replace").count("unhandled error"),
            "targets": {"pages_p99_ms": 300, "decisions_p99_ms": 50, "errors": 0},
            "notes": [
                "second factor off and cheap argon2 on the server (sign-in is not measured)",
                "client and server share the machine's cores",
                "uvicorn keeps idle connections 75 s, as a proxy in front of it would",
            ],
        }
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
