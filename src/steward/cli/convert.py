"""``steward convert``: one exchange format into another, with a summary of what was kept and dropped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from steward.formats.convert import ConversionError, Source, Target, convert
from steward.formats.report import ConversionReport

MAX_LISTED = 40


def register(app: typer.Typer) -> None:
    @app.command("convert")
    def convert_cmd(
        src: Path = typer.Argument(
            ..., help="input directory (a CEDARS drop, Ed-Fi files, a OneRoster package)"
        ),
        out: Path = typer.Argument(..., help="output directory (new or empty)"),
        source: Source = typer.Option(..., "--from", help="input format"),
        target: Target = typer.Option(..., "--to", help="output format"),
        lenient: bool = typer.Option(
            False,
            "--lenient",
            help="repair OneRoster input where only one reading is possible (each repair listed)",
        ),
        schemas: Path = typer.Option(
            None, "--schemas", help="Ed-Fi XSD directory: validate XML interchanges"
        ),
        school_year: int = typer.Option(
            None, "--school-year", help="school year (ending year) when the input has none"
        ),
        as_of: str = typer.Option(None, "--as-of", help="CEDARS file date YYYY-MM-DD (default today)"),
    ) -> None:
        """Convert SRC into OUT through Steward's canonical records; nothing is written on error."""
        console = Console(stderr=True, soft_wrap=True)
        day = date.fromisoformat(as_of) if as_of else None
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.completed:,} records"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(f"{source.value} -> {target.value}", total=None)

            def progress(n: int) -> None:
                bar.update(task, completed=n)

            try:
                report = convert(
                    source,
                    src,
                    target,
                    out,
                    lenient=lenient,
                    schema_dir=schemas,
                    school_year=school_year,
                    as_of=day,
                    progress=progress,
                )
            except ConversionError as e:
                bar.stop()
                summary(console, e.report)
                console.print(f"[red]not converted:[/red] {e}")
                raise typer.Exit(1) from None
        summary(console, report)
        console.print(f"[green]converted[/green] {src} ({source.value}) -> {out} ({target.value})")


def summary(console: Console, report: ConversionReport) -> None:
    """Records per entity, dropped data with reasons, repairs and problems."""
    counts = Table(title="records", show_edge=False)
    counts.add_column("read", justify="left")
    counts.add_column("n", justify="right")
    counts.add_column("written", justify="left")
    counts.add_column("n", justify="right")
    read = sorted((k, v) for k, v in report.read.items() if not k.startswith("Ed-Fi "))
    written = sorted(report.written.items())
    for i in range(max(len(read), len(written))):
        a = read[i] if i < len(read) else ("", 0)
        b = written[i] if i < len(written) else ("", 0)
        counts.add_row(a[0], f"{a[1]:,}" if a[0] else "", b[0], f"{b[1]:,}" if b[0] else "")
    console.print(counts)
    if report.dropped:
        dropped = Table(title="dropped (not carried by the target, or not read)", show_edge=False)
        dropped.add_column("entity.field")
        dropped.add_column("n", justify="right")
        dropped.add_column("why")
        not_read = [d for d in report.dropped.values() if d.entity.startswith("Ed-Fi ") and d.field is None]
        for d in sorted(report.dropped.values(), key=lambda x: (x.entity, x.field or "")):
            if d in not_read:
                continue
            dropped.add_row(d.entity + (f".{d.field}" if d.field else ""), f"{d.count:,}", d.reason)
        if not_read:
            names = ", ".join(sorted(d.entity.removeprefix("Ed-Fi ") for d in not_read))
            total = sum(d.count for d in not_read)
            dropped.add_row(
                f"Ed-Fi ({len(not_read)} kinds)", f"{total:,}", f"not read, no canonical record: {names}"
            )
        console.print(dropped)
    if report.repairs:
        console.print(f"[yellow]{len(report.repairs)} repairs (--lenient):[/yellow]")
        for repair in report.repairs[:MAX_LISTED]:
            console.print(f"  {repair}", markup=False, highlight=False)
        if len(report.repairs) > MAX_LISTED:
            console.print(f"  ... and {len(report.repairs) - MAX_LISTED} more")
    for label, items, style in (("errors", report.errors, "red"), ("warnings", report.warnings, "yellow")):
        if not items:
            continue
        console.print(f"[{style}]{len(items)} {label}:[/{style}]")
        for issue in items[:MAX_LISTED]:
            console.print(f"  {issue}", markup=False, highlight=False)
        if len(items) > MAX_LISTED:
            console.print(f"  ... and {len(items) - MAX_LISTED} more")
