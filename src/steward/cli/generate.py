"""`steward generate`: write a synthetic region as CEDARS file drops, one folder per district."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from steward.demo.generator import GenerationSummary, generate
from steward.formats.cedars import FILES_BY_PREFIX, check_delimiter

console = Console()

_DELIMITERS = {"TAB": "\t", "\\T": "\t", "PIPE": "|", "COMMA": ",", "SEMICOLON": ";", "CARET": "^"}


def parse_delimiter(value: str) -> str:
    """``TAB``, ``PIPE``, ``COMMA``, ``SEMICOLON``, ``CARET`` or a single character."""
    delimiter = _DELIMITERS.get(value.upper(), value)
    try:
        return check_delimiter(delimiter)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


def summary_table(summary: GenerationSummary, seconds: float) -> Table:
    table = Table(title=f"Synthetic region in {summary.out} ({seconds:,.1f} s)")
    table.add_column("file")
    table.add_column("name")
    table.add_column("rows", justify="right")
    for prefix, rows in summary.rows_by_file().items():
        table.add_row(prefix, FILES_BY_PREFIX[prefix].file_name, f"{rows:,}")
    table.add_section()
    table.add_row("", "all files", f"{summary.total_rows:,}")
    table.add_row("", "districts", ", ".join(summary.districts))
    table.add_row("", "school years", ", ".join(str(y) for y in summary.school_years))
    table.add_row("", "students", f"{summary.students:,}")
    table.add_row("", "movers between districts", f"{summary.movers:,} ({summary.movers_share:.1%})")
    for name, share in summary.shares.items():
        table.add_row("", name.replace("_", " "), f"{share:.1%}")
    return table


def register(app: typer.Typer) -> None:
    @app.command("generate")
    def generate_cmd(
        out: Path = typer.Argument(..., help="directory for the drops (one sub-folder per district)"),
        districts: int = typer.Option(2, min=1, help="districts in the region"),
        students: int = typer.Option(3000, min=0, help="distinct students over all years"),
        years: int = typer.Option(3, min=1, help="school years of history"),
        seed: int = typer.Option(1, help="random seed: the same seed writes the same files"),
        delimiter: str = typer.Option("TAB", help="TAB, PIPE, COMMA, SEMICOLON, CARET or one character"),
        end_year: int = typer.Option(None, help="last school year (ending year); default: the current one"),
        workers: int = typer.Option(None, min=1, help="processes; default: one per CPU for large regions"),
    ) -> None:
        """Generate a synthetic region (no real data) as one CEDARS drop per district."""
        separator = parse_delimiter(delimiter)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        started = time.perf_counter()
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("generating students", total=students)
            summary = generate(
                out,
                districts,
                students,
                years,
                seed,
                end_year=end_year,
                delimiter=separator,
                workers=workers,
                progress=lambda done: progress.update(task, completed=done),
            )
        console.print(summary_table(summary, time.perf_counter() - started))
