"""`steward portal nightly` (tonight's report packages into the partners' SFTP directories, cron- or
worker-friendly and idempotent) and `steward portal warm` (index the districts' drop files now, so
the first page or package after a new drop is fast)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from steward.cli.options import parse_instant, settings_with
from steward.store.db import make_engine

console = Console()


def register(app: typer.Typer) -> None:
    portal = typer.Typer(help="Partner and school views: report packages and Student-at-a-Glance.")
    app.add_typer(portal, name="portal")

    @portal.command("nightly")
    def nightly_cmd(
        at: str = typer.Option("", help="run as of this instant (ISO 8601 with offset)"),
        database_url: str = typer.Option("", help="governance database (default: STEWARD_DATABASE_URL)"),
        data_dir: Path | None = typer.Option(None, help="data directory (default: STEWARD_DATA_DIR)"),
    ) -> None:
        """Make tonight's package for every registered partner (once per night; nothing before 02:00)."""
        from steward.products.portal.nightly import run_nightly

        settings = settings_with(database_url, data_dir)
        when = parse_instant(at)
        result = run_nightly(make_engine(settings.database_url), settings.data_dir, when)
        if not result.changed:
            console.print("nothing to do (already made tonight, before 02:00, or no partner)")
        for line in result.changed:
            console.print(line)

    @portal.command("warm")
    def warm_cmd(
        database_url: str = typer.Option("", help="governance database (default: STEWARD_DATABASE_URL)"),
        data_dir: Path | None = typer.Option(None, help="data directory (default: STEWARD_DATA_DIR)"),
    ) -> None:
        """Index every district's drop files (a web process indexes on first use otherwise; the
        index lives in the process that builds it, so this checks the drops and times the work)."""
        from sqlalchemy.orm import Session

        from steward.products.portal.lines import warm
        from steward.products.records import SourceRecordsError
        from steward.store.models import Organization
        from steward.workflow.transfers.settings import SettingsError, source_directory

        settings = settings_with(database_url, data_dir)
        engine = make_engine(settings.database_url)
        with Session(engine) as db:
            districts = list(db.scalars(select(Organization).where(Organization.kind == "district")))
            targets = []
            for d in districts:
                try:
                    targets.append((d.code, source_directory(db, settings.data_dir, d.id)))
                except SettingsError as exc:
                    console.print(f"[yellow]{d.code}: {exc}")
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        failed = False
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("indexing drops", total=len(targets))
            for code, directory in targets:
                try:
                    counts = warm(directory, code)
                    progress.console.print(f"{code}: {sum(counts.values()):,} lines in {len(counts)} files")
                except SourceRecordsError as exc:
                    failed = True
                    progress.console.print(f"[red]{code}: {exc}")
                progress.advance(task)
        if failed:
            raise typer.Exit(2)
