"""`steward worker` (the one scheduler process), `steward sweep` (every sweep once, e.g. from cron)
and `steward consent-template` (the bulk consent upload template)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from steward.cli.options import parse_instant, settings_with
from steward.store.db import make_engine

console = Console()


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker_cmd(
        interval: int = typer.Option(300, min=10, help="seconds between sweeps"),
        mail_interval: int = typer.Option(30, min=5, help="seconds between e-mail runs"),
        wait: bool = typer.Option(False, help="stand by until the running worker's lease lapses"),
        database_url: str = typer.Option("", help="governance database (default: STEWARD_DATABASE_URL)"),
        data_dir: Path | None = typer.Option(None, help="data directory (default: STEWARD_DATA_DIR)"),
    ) -> None:
        """Run the workflow scheduler (expiry, destruction, SLA and renewal sweeps; e-mail). Run
        exactly one: a second worker finds the lease held and exits."""
        from steward.workflow.worker.runner import serve

        settings = settings_with(database_url, data_dir)
        code = serve(
            make_engine(settings.database_url),
            settings,
            interval=interval,
            mail_interval=mail_interval,
            wait=wait,
            say=console.print,
        )
        raise typer.Exit(code)

    @app.command("sweep")
    def sweep_cmd(
        at: str = typer.Option("", help="run as of this UTC instant (ISO 8601), e.g. to replay"),
        database_url: str = typer.Option("", help="governance database (default: STEWARD_DATABASE_URL)"),
        data_dir: Path | None = typer.Option(None, help="data directory (default: STEWARD_DATA_DIR)"),
    ) -> None:
        """Run every workflow sweep once and show what changed (idempotent)."""
        from steward.workflow.worker.runner import run_once

        settings = settings_with(database_url, data_dir)
        when = parse_instant(at)
        results = run_once(make_engine(settings.database_url), settings, when)
        table = Table(title="workflow sweeps")
        table.add_column("sweep")
        table.add_column("changed", justify="right")
        table.add_column("what")
        for result in results:
            table.add_row(result.name, str(result.count), ", ".join(result.changed[:8]))
        console.print(table)

    @app.command("consent-template")
    def template_cmd(
        output: Path = typer.Argument(..., help="where to write the template (.csv or .xlsx)"),
    ) -> None:
        """Write the bulk consent upload template (columns documented in docs/workflow/consent-upload.md)."""
        from steward.workflow.consents.bulk import template_csv, template_xlsx

        suffix = output.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise typer.BadParameter(f"{output}: choose a .csv or .xlsx file name")
        if output.exists():
            raise typer.BadParameter(f"{output} exists; choose a new file name")
        output.write_bytes(template_csv() if suffix == ".csv" else template_xlsx())
        console.print(f"wrote {output}")
