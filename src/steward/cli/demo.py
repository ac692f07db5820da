"""`steward demo`: a generated two-district region on SQLite, personas, and the web app."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from steward.config import get_settings
from steward.demo.seed import DEMO_PASSWORD, Persona, ensure_region, seed_personas
from steward.store.cedars_drop import import_cedars_drop
from steward.store.db import make_engine, migrate, transaction
from steward.store.models import Organization

console = Console()
#: Environment variable of the roles that must use a second factor (steward.config).
MFA_ROLES_VARIABLE = "STEWARD_MFA_REQUIRED_ROLES"
REGION = "puget-sound"


def build_demo(
    directory: Path, districts: int, students: int, years: int, seed: int
) -> tuple[str, list[Persona]]:
    """Generate, migrate, import and seed from scratch in ``directory``; returns the database URL."""
    from steward.demo.generator import generate

    if directory.exists():
        shutil.rmtree(directory)
    region_dir = directory / "region"
    region_dir.mkdir(parents=True)
    url = f"sqlite:///{directory / 'steward.db'}"
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("generating students", total=students)
        generate(
            region_dir,
            districts=districts,
            students=students,
            years=years,
            seed=seed,
            progress=lambda done: progress.update(task, completed=done),
        )
        progress.update(task, completed=students)
        migrate(url)
        engine = make_engine(url)
        with transaction(engine) as db:
            ensure_region(db, REGION)
        drops = sorted(p for p in region_dir.iterdir() if p.is_dir())
        load = progress.add_task("importing districts", total=len(drops))
        for drop in drops:
            import_cedars_drop(engine, drop, drop.name, region_code=REGION)
            progress.advance(load)
        with transaction(engine) as db:
            codes = [d.name for d in drops]
            orgs = list(
                db.scalars(
                    select(Organization).where(Organization.code.in_(codes)).order_by(Organization.code)
                )
            )
            personas = seed_personas(db, orgs, key_dir=directory / "keys")
        engine.dispose()
    return url, personas


def print_personas(personas: list[Persona], url: str) -> None:
    table = Table(title=f"Demo logins (password for every one: {DEMO_PASSWORD})")
    for column in ("username", "role", "person", "organization"):
        table.add_column(column)
    for p in personas:
        table.add_row(p.username, p.role.label, p.person, p.organization)
    console.print(table)
    console.print(f"Open {url} and sign in with one of them.")


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        students: int = typer.Option(3000, help="students in the generated region"),
        districts: int = typer.Option(2, help="districts in the generated region"),
        years: int = typer.Option(3, help="school years of history"),
        seed: int = typer.Option(2026, help="random seed of the generator"),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="start the web app afterwards"),
        port: int = typer.Option(8000),
    ) -> None:
        """Build the demo region from scratch (var/demo) and serve it on http://127.0.0.1:PORT."""
        settings = get_settings()
        directory = settings.data_dir / "demo"
        url, personas = build_demo(directory, districts, students, years, seed)
        address = f"http://127.0.0.1:{port}"
        print_personas(personas, address)
        console.print(
            f"Age identities of the demo recipients (to decrypt their packages): {directory / 'keys'}"
        )
        if serve:
            from steward.cli.web import serve as run

            if MFA_ROLES_VARIABLE not in os.environ:
                # Persona logins are for trying the hub out; a real deployment keeps the default.
                os.environ[MFA_ROLES_VARIABLE] = "[]"
                get_settings.cache_clear()
                console.print(
                    "The demo asks no second factor at sign-in; set "
                    f"{MFA_ROLES_VARIABLE} to try it (production requires it for district staff)."
                )

            run("127.0.0.1", port, database_url=url)
