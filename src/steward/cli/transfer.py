"""`steward transfer ...` (records transfers between districts) and `steward provision VENDOR`."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from steward.config import get_settings
from steward.delivery.models import Package
from steward.delivery.packages import DeliveryError, package_path
from steward.delivery.recipients import RecipientKeyError
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.products.provisioning import ProvisioningError, contracts_of, provision
from steward.products.records import SourceRecordsError
from steward.store.base import now_utc
from steward.store.db import make_engine, transaction
from steward.store.models import Account, Organization, Person, RoleAssignment
from steward.workflow.transfers.models import TransferRequest
from steward.workflow.transfers.service import (
    Ask,
    Status,
    TransferError,
    parse_incoming,
    receive,
    request_bulk,
    request_records,
    sweep,
)
from steward.workflow.transfers.settings import SettingsError, set_settings, settings_for

transfer_app = typer.Typer(help="Records transfers between districts of the region.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)

DatabaseUrl = typer.Option(None, "--database-url", help="defaults to STEWARD_DATABASE_URL")
DataDir = typer.Option(None, "--data-dir", help="defaults to STEWARD_DATA_DIR")


def _config(database_url: str | None, data_dir: Path | None) -> tuple[str, Path]:
    settings = get_settings()
    return database_url or settings.database_url, data_dir or settings.data_dir


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/red]", markup=True, highlight=False)
    return typer.Exit(2)


def registrar_principal(db: Session, who: str) -> Principal:
    """The registrar acting: an account username or a person code, with a registrar role now."""
    person = db.scalar(
        select(Person)
        .outerjoin(Account, Account.person_id == Person.id)
        .where(or_(Account.username == who, Person.code == who))
    )
    if person is None:
        raise TransferError(f"no account or person {who!r}")
    role = db.scalar(
        select(RoleAssignment)
        .where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.role == Role.REGISTRAR.value,
            RoleAssignment.valid_at(now_utc()),
        )
        .order_by(RoleAssignment.id)
    )
    if role is None:
        raise TransferError(f"{who} holds no registrar role now")
    org = db.get(Organization, role.organization_id)
    assert org is not None
    return Principal(
        person.id, person.code, Role.REGISTRAR, org.id, org.code, OrgKind(org.kind), person.display_name
    )


def _hand_over(
    db: Session, data_dir: Path, principal: Principal, request: TransferRequest, out: Path
) -> Path:
    """Receive the package into ``out`` (Steward then shreds its copy)."""
    data, name = receive(db, data_dir, principal, request.id)
    out.mkdir(parents=True, exist_ok=True)
    target = out / name
    target.write_bytes(data)
    return target


def _show(request: TransferRequest) -> None:
    status = Status(request.status)
    colour = {"delivered": "green", "received": "green", "needs_review": "yellow"}.get(status.value, "red")
    console.print(f"{request.code}: [{colour}]{status.label}[/{colour}]", highlight=False)
    if request.reason:
        console.print(f"  {request.reason}", markup=False, highlight=False)
    if request.datasets:
        console.print(f"  records: {', '.join(request.datasets)} ({request.format})", highlight=False)


@transfer_app.command("request")
def request_cmd(
    registrar: str = typer.Option(..., "--registrar", help="the registrar's username or person code"),
    state_id: str = typer.Option(..., "--state-id", help="the incoming student's state ID"),
    first_name: str = typer.Option(..., "--first-name"),
    last_name: str = typer.Option(..., "--last-name"),
    birth_date: str = typer.Option(..., "--birth-date", help="YYYY-MM-DD"),
    out: Path = typer.Option(None, "--out", help="receive the encrypted package into this directory"),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Ask for an incoming student's records (exact matches are sent at once)."""
    url, directory = _config(database_url, data_dir)
    engine = make_engine(url)
    try:
        born = date.fromisoformat(birth_date)
    except ValueError:
        raise _fail(f"--birth-date {birth_date!r} is not a date (YYYY-MM-DD)") from None
    try:
        with transaction(engine) as db:
            principal = registrar_principal(db, registrar)
            request = request_records(db, directory, principal, Ask(state_id, first_name, last_name, born))
            _show(request)
        if out is not None and request.status == Status.DELIVERED.value:
            with transaction(engine) as db:  # the package reaches the outbox when the request commits
                target = _hand_over(db, directory, principal, request, out)
            console.print(f"  received {target} (decrypt with your district's age key)", highlight=False)
    except TransferError as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()


@transfer_app.command("bulk")
def bulk_cmd(
    incoming: Path = typer.Argument(..., help="CSV with state_id, first_name, last_name, birth_date"),
    registrar: str = typer.Option(..., "--registrar", help="the registrar's username or person code"),
    out: Path = typer.Option(None, "--out", help="receive the encrypted packages into this directory"),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Request the records of every student of a start-of-year incoming list."""
    url, directory = _config(database_url, data_dir)
    engine = make_engine(url)
    try:
        text = incoming.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"{incoming}: {exc}") from exc
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        asks = parse_incoming(text, incoming.name)
        with Progress(*columns, console=console, transient=True) as bar:
            bar.add_task(f"matching, deciding and delivering {len(asks):,} students", total=None)
            with transaction(engine) as db:
                principal = registrar_principal(db, registrar)
                batch = request_bulk(db, directory, principal, asks, incoming.name)
        received: list[Path] = []
        if out is not None:
            with transaction(engine) as db:
                for request in db.scalars(
                    select(TransferRequest)
                    .where(TransferRequest.batch_id == batch.id, TransferRequest.status == "delivered")
                    .order_by(TransferRequest.id)
                ):
                    if request.status == Status.DELIVERED.value:  # one per package: receiving settles all
                        received.append(_hand_over(db, directory, principal, request, out))
        table = Table(title=f"incoming list {incoming.name} (batch {batch.id})")
        table.add_column("status")
        table.add_column("students", justify="right")
        for status, n in sorted(batch.counts.items()):
            table.add_row(Status(status).label, f"{n:,}")
        console.print(table)
        for path in received:
            console.print(f"received {path}", highlight=False)
    except TransferError as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()


@transfer_app.command("settings")
def settings_cmd(
    district: str = typer.Argument(..., help="district code"),
    datasets: str = typer.Option(None, "--datasets", help="comma-separated datasets this district sends"),
    receive_format: str = typer.Option(
        None, "--format", help="format received: cedars, edfi-json, oneroster"
    ),
    source: Path = typer.Option(None, "--source", help="the district's CEDARS drop directory"),
    package_days: int = typer.Option(None, "--package-days", help="days a delivered package waits"),
    database_url: str = DatabaseUrl,
) -> None:
    """Show or change a district's transfer settings."""
    url, _ = _config(database_url, None)
    engine = make_engine(url)
    try:
        with transaction(engine) as db:
            org = db.scalar(select(Organization).where(Organization.code == district))
            if org is None:
                raise _fail(f"no organization with code {district!r}")
            if any(v is not None for v in (datasets, receive_format, source, package_days)):
                config = set_settings(
                    db,
                    org.id,
                    datasets=None if datasets is None else datasets.split(","),
                    receive_format=receive_format,
                    source_path=source,
                    package_days=package_days,
                )
            else:
                config = settings_for(db, org.id)
        typer.echo(f"district:      {org.code} ({org.name})")
        typer.echo(f"sends:         {', '.join(d.value for d in config.datasets)}")
        typer.echo(f"receives in:   {config.receive_format.value}")
        typer.echo(
            f"source:        {config.source_path or '(default: DATA_DIR/sources/CODE or the demo drop)'}"
        )
        typer.echo(f"package days:  {config.package_days}")
    except SettingsError as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()


@transfer_app.command("sweep")
def sweep_cmd(database_url: str = DatabaseUrl, data_dir: Path = DataDir) -> None:
    """Shred delivered packages that nobody received in time."""
    url, directory = _config(database_url, data_dir)
    engine = make_engine(url)
    try:
        with transaction(engine) as db:
            expired = sweep(db, directory)
    finally:
        engine.dispose()
    typer.echo(f"expired {len(expired)}" + (f": {', '.join(expired)}" if expired else ""))


def provision_cmd(
    vendor: str = typer.Argument(..., help="the vendor's organization code"),
    out: Path = typer.Option(..., "--out", help="directory for the encrypted OneRoster package(s)"),
    contract: str = typer.Option(None, "--contract", help="only this contract (agreement code)"),
    bulk: bool = typer.Option(False, "--bulk", help="send everything again, not only what changed"),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Deliver a vendor's OneRoster feed per contract: bulk first, then what changed."""
    url, directory = _config(database_url, data_dir)
    engine = make_engine(url)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        with Session(engine) as db:
            agreements = [(a.id, a.code) for a in contracts_of(db, vendor)]
        if contract is not None:
            agreements = [(i, c) for i, c in agreements if c == contract]
        if not agreements:
            raise _fail(
                f"{vendor} has no school-official contract in force"
                + (f" named {contract}" if contract else "")
            )
        out.mkdir(parents=True, exist_ok=True)
        for agreement_id, code in agreements:
            with Progress(*columns, console=console, transient=True) as bar:
                bar.add_task(f"contract {code}: reading, deciding, packaging", total=None)
                with transaction(engine) as db:
                    result = provision(db, directory, agreement_id, force_bulk=bulk)
                    package = db.get(Package, result.package_id) if result.package_id is not None else None
                    source = package_path(db, directory, package) if package is not None else None
            typer.echo(f"contract {code}: {result.summary()}")
            if source is not None:
                target = out / source.name
                shutil.copyfile(source, target)
                typer.echo(f"  wrote {target}")
    except (ProvisioningError, SettingsError, SourceRecordsError, DeliveryError, RecipientKeyError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.add_typer(transfer_app, name="transfer")
    app.command("provision")(provision_cmd)
