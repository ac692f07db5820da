"""`steward extract`: a de-identified student-level extract for a research agreement."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from steward.products import locate
from steward.products.extract.build import DEFAULT_MAX_SUPPRESSION
from steward.products.extract.service import ExtractRefusedError, run_extract
from steward.sources import Source, SourceError
from steward.store.db import make_engine

EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3


def register(app: typer.Typer) -> None:
    @app.command("extract")
    def extract_cmd(
        agreement: str = typer.Option(..., help="the research agreement's code, e.g. DEMO-RESEARCH-1"),
        out: Path = typer.Option(..., help="new directory for the package"),
        source: str = typer.Option(None, help="drop directory, folder of drops or PostgreSQL URL"),
        max_withheld: float = typer.Option(
            DEFAULT_MAX_SUPPRESSION, min=0.0, max=0.5, help="largest share of rows that may be withheld"
        ),
        database_url: str = typer.Option(None, help="governance database (agreements, crosswalk, audit)"),
    ) -> None:
        """Only the agreement's elements and school years; identifiers removed; random research IDs;
        rows shuffled; k-anonymous and l-diverse, or refused with the reason."""
        console = Console(stderr=True, soft_wrap=True)
        if out.exists() and any(out.iterdir()):
            raise typer.BadParameter("must be a new or empty directory", param_hint="--out")
        url, note = locate.database_url(database_url)
        if note:
            console.print(note)

        def source_for(district_code: str) -> Source:
            return locate.district_source(district_code, source)

        engine = make_engine(url)
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"))
        try:
            with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
                task = progress.add_task("checking the agreement", total=None)

                def step(stage: str, rows: int) -> None:
                    words = {"scan": "reading quasi-identifiers", "write": "writing de-identified rows"}
                    progress.update(task, description=words.get(stage, stage), completed=rows)

                result = run_extract(
                    engine, agreement, source_for, out, max_suppression=max_withheld, progress=step
                )
        except ExtractRefusedError as exc:
            console.print(f"[red]extract refused for {agreement}:[/red]")
            for reason in exc.reasons:
                console.print(f"  - {reason}")
            raise typer.Exit(EXIT_REFUSED) from None
        except (SourceError, FileExistsError) as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        finally:
            engine.dispose()
        s = result.summary
        console.print(
            f"{agreement}: {s.rows:,} rows of {s.students:,} students, k={s.outcome.k}"
            + (f", l={min(s.outcome.l_values)}" if s.outcome.l_values else "")
            + f", {s.outcome.withheld:,} rows withheld; {s.rids_created:,} new research IDs"
        )
        for note_text in result.scope.notes:
            console.print(f"note: {note_text}")
        for name in sorted(s.files):
            typer.echo(str(out / name))
