"""`steward audit ...`: verify the log, sign checkpoints, export a district's public key."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.audit.checkpoints import ChainBrokenError, checkpoint_all
from steward.audit.keys import SigningKeyError, export_public_key, load_exported_keys
from steward.audit.models import AuditChain
from steward.audit.verify import verify
from steward.cli.options import resolve_url
from steward.config import get_settings
from steward.store.db import make_engine, transaction
from steward.store.models import Organization

audit_app = typer.Typer(
    help="The hash-chained audit log: verify, checkpoint, export keys.", no_args_is_help=True
)


def _data_dir(data_dir: Path | None) -> Path:
    return data_dir or get_settings().data_dir


@audit_app.command("verify")
def verify_cmd(
    from_id: int = typer.Option(
        None, "--from", help="start at this event id (anchored on the event before it)"
    ),
    key: Path = typer.Option(
        None,
        "--key",
        help="trusted public key(s) from `steward audit export-key` (default: keys in the database)",
    ),
    ledger: bool = typer.Option(
        True, "--ledger/--no-ledger", help="also check the 99.32 ledger against the log"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    in_database: bool = typer.Option(
        False,
        "--in-database",
        help="PostgreSQL: let the server recompute the hashes (faster; trusts the server)",
    ),
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
) -> None:
    """Recompute every hash chain and checkpoint; name the first broken event of each chain."""
    console = Console(stderr=True)
    keys = None
    if key is not None:
        try:
            keys = load_exported_keys(key.read_text())
        except (OSError, SigningKeyError, ValueError) as exc:
            typer.echo(f"{key}: {exc}", err=True)
            raise typer.Exit(2) from exc
    engine = make_engine(resolve_url(database_url))
    try:
        with Session(engine) as db:
            total = int(db.scalar(select(func.coalesce(func.sum(AuditChain.head_seq), 0))) or 0)
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=as_json,
        ) as progress:
            task = progress.add_task("events", total=total)
            report = verify(
                engine,
                from_id=from_id,
                keys=keys,
                ledger=ledger,
                progress=lambda n: progress.advance(task, n),
                in_database=in_database,
            )
    finally:
        engine.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "events": report.events,
                    "seconds": round(report.seconds, 3),
                    "ledger_entries": report.ledger_entries,
                    "chains": [
                        {
                            "chain": c.chain,
                            "events": c.events,
                            "last_seq": c.last_seq,
                            "checkpoints": c.checkpoints,
                        }
                        for c in report.chains
                    ],
                    "problems": [
                        {
                            "chain": p.chain,
                            "kind": p.kind,
                            "event_id": p.event_id,
                            "seq": p.seq,
                            "message": p.message,
                        }
                        for p in report.problems
                    ],
                }
            )
        )
    else:
        for chain in report.chains:
            state = "ok" if chain.problem is None else "BROKEN"
            typer.echo(f"{chain.chain}: {chain.events} events, {chain.checkpoints} checkpoints: {state}")
        if ledger:
            state = "ok" if report.ledger_problem is None else "BROKEN"
            typer.echo(f"ledger: {report.ledger_entries} entries: {state}")
        for problem in report.problems:
            typer.echo(f"first broken: {problem.describe()}")
        typer.echo(f"{report.events} events verified in {report.seconds:.2f}s")
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint_cmd(
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
    data_dir: Path = typer.Option(None, help="defaults to STEWARD_DATA_DIR (where the private keys live)"),
) -> None:
    """Verify new events and sign a checkpoint at the head of every chain."""
    engine = make_engine(resolve_url(database_url))
    try:
        signed = checkpoint_all(engine, _data_dir(data_dir))
    except ChainBrokenError as exc:
        typer.echo(f"not signed: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    for item in signed:
        typer.echo(f"signed {item.chain} at seq {item.seq} with key {item.key_fingerprint[:16]}")
    if not signed:
        typer.echo("nothing new to sign")


@audit_app.command("export-key")
def export_key_cmd(
    district: str = typer.Option(None, help="district code (default: the hub key of the global chain)"),
    out: Path = typer.Option(None, help="write to this file instead of standard output"),
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
    data_dir: Path = typer.Option(None, help="defaults to STEWARD_DATA_DIR"),
) -> None:
    """Print a district's Ed25519 public key (PEM) for auditors and recipients."""
    engine = make_engine(resolve_url(database_url))
    try:
        with transaction(engine) as db:
            district_id = None
            if district is not None:
                org = db.scalar(select(Organization).where(Organization.code == district))
                if org is None or org.kind != "district":
                    typer.echo(f"no district with code {district!r}", err=True)
                    raise typer.Exit(2)
                district_id = org.id
            text = export_public_key(db, _data_dir(data_dir), district_id)
    except SigningKeyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    if out is not None:
        out.write_text(text)
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text, nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
