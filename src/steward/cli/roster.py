"""`steward import cedars`: load a district's roster index from a CEDARS file drop."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from steward.config import get_settings
from steward.formats.cedars import DropReport
from steward.store.cedars_drop import DropRejectedError, import_cedars_drop
from steward.store.db import make_engine
from steward.store.roster_import import ImportSummary

console = Console(stderr=True)
import_app = typer.Typer(help="Load the roster index from a source system's export.", no_args_is_help=True)


def _delimiter(value: str) -> str:
    return {"TAB": "\t", "tab": "\t", "\\t": "\t"}.get(value, value)


def print_rejection(error: DropRejectedError) -> None:
    """One line per error (file, line, element, problem), so it can be read and grepped."""
    console.print(f"[bold red]{error.report.error_count} error(s): nothing was imported[/]")
    for e in error.errors:
        console.print(str(e), highlight=False, markup=False, soft_wrap=True)
    if error.report.truncated:
        console.print(f"... and {error.report.error_count - len(error.errors)} more", highlight=False)


def print_summary(summary: ImportSummary) -> None:
    table = Table(title=f"District {summary.district_code} imported")
    table.add_column("table")
    table.add_column("rows read", justify="right")
    table.add_column("new rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}", f"{summary.new.get(name, 0):,}")
    console.print(table)


def run_import(
    directory: Path, district: str, delimiter: str, database_url: str, region: str | None = None
) -> ImportSummary:
    """Validate then import with progress bars; raises DropRejectedError (nothing imported)."""
    engine = make_engine(database_url)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            checking = progress.add_task(f"validating {directory.name}", total=None)
            totals: dict[str, int] = {}

            def validated(report: DropReport) -> None:
                progress.update(checking, total=1, completed=1)
                totals.update({prefix: f.lines for prefix, f in report.files.items()})

            tasks: dict[str, TaskID] = {}

            def advance(label: str, rows: int) -> None:
                if label not in tasks:
                    tasks[label] = progress.add_task(f"importing {label}", total=None)
                progress.advance(tasks[label], rows)

            return import_cedars_drop(
                engine,
                directory,
                district,
                delimiter=delimiter,
                region_code=region,
                on_validated=validated,
                progress=advance,
            )
    finally:
        engine.dispose()


@import_app.command("cedars")
def import_cedars(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, help="the district's drop directory"),
    district: str = typer.Option(..., "--district", help="County-district code of the drop, e.g. 17001"),
    delimiter: str = typer.Option("TAB", help="field delimiter (TAB, |, ...)"),
    region: str = typer.Option(None, help="region code to attach the district to"),
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
) -> None:
    """Validate a CEDARS drop and import it (all or nothing; re-importing the same drop is a no-op)."""
    url = database_url or get_settings().database_url
    try:
        summary = run_import(directory, district, _delimiter(delimiter), url, region)
    except DropRejectedError as error:
        print_rejection(error)
        raise typer.Exit(1) from None
    print_summary(summary)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
