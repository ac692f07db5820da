"""`steward sftp serve` and `steward delivery ...`: keys, links, recovery, destruction sweeps."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import typer
from sqlalchemy import select

from steward.config import get_settings
from steward.delivery import sftp
from steward.delivery.destruction import end_expired_agreements, sweep
from steward.delivery.links import create_link
from steward.delivery.models import Package
from steward.delivery.packages import DeliveryError, recover
from steward.delivery.recipients import RecipientKeyError, register_key
from steward.store.db import make_engine, transaction
from steward.store.models import Organization

sftp_app = typer.Typer(help="The embedded SFTP server for recipients.", no_args_is_help=True)
delivery_app = typer.Typer(help="Packages, recipient keys, links and destruction.", no_args_is_help=True)

DatabaseUrl = typer.Option(None, "--database-url", help="defaults to STEWARD_DATABASE_URL")
DataDir = typer.Option(None, "--data-dir", help="defaults to STEWARD_DATA_DIR")


def _config(database_url: str | None, data_dir: Path | None) -> tuple[str, Path]:
    settings = get_settings()
    return database_url or settings.database_url, data_dir or settings.data_dir


@sftp_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="address to bind (127.0.0.1 unless you mean it)"),
    port: int = typer.Option(sftp.DEFAULT_PORT, help="TCP port"),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Serve each recipient its own packages over SFTP (key-only, read-only) until interrupted."""
    url, directory = _config(database_url, data_dir)
    engine = make_engine(url)

    async def run() -> None:
        server = await sftp.start(engine, directory, host, port)
        fingerprint = sftp.host_key(directory).get_fingerprint()
        typer.echo(f"SFTP on {host}:{server.sockets[0].getsockname()[1]} (host key {fingerprint})")
        await server.wait_closed()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        engine.dispose()


@delivery_app.command("add-key")
def add_key(
    organization: str = typer.Argument(..., help="recipient organization code"),
    key_file: Path = typer.Argument(..., help="file holding an age1... or ssh-ed25519/ssh-rsa public key"),
    label: str = typer.Option("", help="what this key is for"),
    database_url: str = DatabaseUrl,
) -> None:
    """Register a recipient's public key (age, or SSH for encryption and SFTP login)."""
    url, _ = _config(database_url, None)
    engine = make_engine(url)
    try:
        with transaction(engine) as db:
            org = db.scalar(select(Organization).where(Organization.code == organization))
            if org is None:
                typer.echo(f"no organization with code {organization!r}", err=True)
                raise typer.Exit(2)
            key = register_key(db, org.id, key_file.read_text(), label)
            typer.echo(f"registered {key.kind} key {key.fingerprint[:16]} for {org.code}")
    except (OSError, RecipientKeyError) as exc:
        typer.echo(f"{key_file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()


@delivery_app.command("link")
def link(
    package_id: int = typer.Argument(..., help="package id"),
    hours: int = typer.Option(72, help="hours until the link expires (at most 336)"),
    base_url: str = typer.Option("http://127.0.0.1:8000", help="the address recipients reach Steward at"),
    database_url: str = DatabaseUrl,
) -> None:
    """Make a single-use download link for a package and print it (shown only once)."""
    url, _ = _config(database_url, None)
    engine = make_engine(url)
    try:
        with transaction(engine) as db:
            package = db.get(Package, package_id)
            if package is None:
                typer.echo(f"no package with id {package_id}", err=True)
                raise typer.Exit(2)
            made, token = create_link(db, package, None, timedelta(hours=hours))
            typer.echo(f"{base_url.rstrip('/')}/d/{token}  (expires {made.expires_at:%Y-%m-%d %H:%M} UTC)")
    except DeliveryError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()


@delivery_app.command("recover")
def recover_cmd(database_url: str = DatabaseUrl, data_dir: Path = DataDir) -> None:
    """Settle packages left behind by a crash (finish committed ones, remove the rest)."""
    url, directory = _config(database_url, data_dir)
    engine = make_engine(url)
    try:
        result = recover(engine, directory)
    finally:
        engine.dispose()
    typer.echo(f"moved {len(result.moved)}, removed {len(result.removed)}")


@delivery_app.command("sweep")
def sweep_cmd(database_url: str = DatabaseUrl, data_dir: Path = DataDir) -> None:
    """End agreements past their end (shred, open destruction tasks); escalate overdue tasks."""
    url, directory = _config(database_url, data_dir)
    engine = make_engine(url)
    try:
        with transaction(engine) as db:
            opened = end_expired_agreements(db, directory)
            raised = sweep(db)
    finally:
        engine.dispose()
    for task in opened:
        typer.echo(
            f"agreement {task.agreement_id} ended: destruction task {task.id} due {task.due_at:%Y-%m-%d}"
        )
    for item in raised:
        typer.echo(f"task {item.task_id}: {item.days_overdue} days overdue, escalation level {item.level}")
    if not raised:
        typer.echo("no new escalations")


def register(app: typer.Typer) -> None:
    app.add_typer(sftp_app, name="sftp")
    app.add_typer(delivery_app, name="delivery")
