"""`steward report aggregate`: a suppressed aggregate report of one district as CSV or XLSX."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import select

from steward.audit import EventSpec, append
from steward.domain.time import SchoolYear
from steward.policy.tenant import MIN_SUPPRESSION_THRESHOLD
from steward.products import locate
from steward.products.aggregate.output import write_report
from steward.products.aggregate.reports import REPORTS
from steward.products.aggregate.service import ReportError, run_report
from steward.products.student_year import Scope
from steward.sources import SourceError
from steward.store.db import make_engine, transaction
from steward.store.fact_loader import load_tenants
from steward.store.models import Organization

report_app = typer.Typer(help="Aggregate reports with small-group suppression.", no_args_is_help=True)
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3


class MethodChoice(StrEnum):
    fast = "fast"
    optimal = "optimal"


class LayoutChoice(StrEnum):
    card = "card"
    full = "full"


def parse_years(text: str) -> tuple[int, ...]:
    """``2024,2025`` (ending years) -> (2024, 2025); BadParameter names the bad item."""
    years: list[int] = []
    for item in text.split(","):
        item = item.strip()
        if not (item.isdigit() and len(item) == 4):
            raise typer.BadParameter(f"{item!r} is not a school year (its ending year, e.g. 2025)")
        years.append(int(item))
    if not years:
        raise typer.BadParameter("give at least one school year")
    return tuple(sorted(set(years)))


def _threshold(url: str, district: str, console: Console) -> tuple[int, int | None]:
    """The district's suppression threshold from the governance database (and its org id)."""
    engine = make_engine(url)
    try:
        with transaction(engine) as db:
            org = db.scalar(select(Organization).where(Organization.code == district))
            if org is None:
                console.print(
                    f"[yellow]district {district} is not in the governance database: "
                    f"using the hub threshold {MIN_SUPPRESSION_THRESHOLD}[/yellow]"
                )
                return MIN_SUPPRESSION_THRESHOLD, None
            tenant = load_tenants(db, [org.id])[str(org.id)]
            return tenant.suppression_threshold, org.id
    except Exception as exc:  # an unreachable or unmigrated database: say so, keep the floor
        console.print(
            f"[yellow]governance database unavailable ({type(exc).__name__}): "
            f"using the hub threshold {MIN_SUPPRESSION_THRESHOLD}[/yellow]"
        )
        return MIN_SUPPRESSION_THRESHOLD, None
    finally:
        engine.dispose()


@report_app.command("aggregate")
def aggregate_cmd(
    district: str = typer.Option(..., help="county-district code, e.g. 90001"),
    report: str = typer.Option(..., help=f"one of: {', '.join(REPORTS)}"),
    years: str = typer.Option(..., help="school years by ending year, comma-separated: 2024,2025"),
    out: Path = typer.Option(..., help="FILE.csv (plus FILE.legend.csv) or FILE.xlsx"),
    source: str = typer.Option(None, help="drop directory, folder of drops or PostgreSQL URL"),
    top_bottom: bool = typer.Option(
        False, "--top-bottom/--no-top-bottom", help="code extreme percents as ranges (banded by N)"
    ),
    method: MethodChoice = typer.Option(MethodChoice.fast, help="suppression method"),
    layout: LayoutChoice = typer.Option(
        LayoutChoice.card,
        help="card: school x grade and school x student group; full: school x grade x student group",
    ),
    database_url: str = typer.Option(None, help="governance database (tenant threshold, audit log)"),
) -> None:
    """Counts and percents by school, grade and student group, suppressed with the district's
    threshold; notation N<10, Cross Student Group and Top/Bottom, with a legend."""
    console = Console(stderr=True, soft_wrap=True)
    wanted = parse_years(years)
    if report not in REPORTS:
        raise typer.BadParameter(
            f"unknown report {report!r} (known: {', '.join(REPORTS)})", param_hint="--report"
        )
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise typer.BadParameter(f"{out.name} must end in .csv or .xlsx", param_hint="--out")
    if out.exists():
        raise typer.BadParameter(f"{out} exists: choose a new file", param_hint="--out")
    url, note = locate.database_url(database_url)
    if note:
        console.print(note)
    threshold, district_id = _threshold(url, district, console)
    try:
        with (
            locate.district_source(district, source) as src,
            console.status("counting at the source") as status,
        ):
            result = run_report(
                src,
                report,
                Scope(wanted, (district,)),
                threshold=threshold,
                top_bottom=top_bottom,
                method=method.value,
                layout=layout.value,
                progress=lambda what: status.update(f"suppressing {what}"),
            )
    except (SourceError, ReportError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(EXIT_REFUSED if isinstance(exc, ReportError) else EXIT_BAD_INPUT) from None
    written = write_report(result, out)
    if district_id is not None:
        engine = make_engine(url)
        try:
            with transaction(engine) as db:
                append(
                    db,
                    EventSpec(
                        action="report.aggregate",
                        district_id=district_id,
                        subject_type="report",
                        subjects=[result.name],
                        basis="deidentified",
                        citation="34 CFR 99.31(b)",
                        details={
                            "years": list(result.years),
                            "rows": len(result.rows),
                            "threshold": threshold,
                            "primary": result.primaries,
                            "secondary": result.secondaries,
                            "top_bottom": result.coded,
                            "file": out.name,
                        },
                    ),
                )
        finally:
            engine.dispose()
    labels = ", ".join(SchoolYear(y).label() for y in result.years)
    console.print(
        f"{result.title}, district {district}, {labels}: {len(result.rows):,} rows; "
        f"{result.primaries:,} cells under N<{threshold}, {result.secondaries:,} cross-group, "
        f"{result.coded:,} top/bottom coded"
    )
    for path in written:
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
