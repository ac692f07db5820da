"""`steward token create | list | revoke`: API tokens for integrations and remote CLI use."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from steward.accounts.service import current_roles, normalise_username
from steward.accounts.tokens import TokenError, create_token, revoke_token, token_state, tokens_of
from steward.cli.options import resolve_url
from steward.config import get_settings
from steward.store.db import make_engine, transaction
from steward.store.models import Account, Organization

token_app = typer.Typer(
    help="API tokens: scoped, expiring, revocable, stored as hashes.", no_args_is_help=True
)


@token_app.command("create")
def create_cmd(
    username: str = typer.Option(..., help="the account the token acts for"),
    name: str = typer.Option(..., help="what will use the token (shown in lists)"),
    scope: list[str] = typer.Option(
        ["read"], "--scope", help="read, write, <area>:read or <area>:write (repeatable)"
    ),
    days: int = typer.Option(90, help="days until the token expires"),
    role: str = typer.Option(None, help="the role to act in, when the person holds several"),
    org: str = typer.Option(None, help="organization code of that role, when needed"),
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
) -> None:
    """Issue a token and print it once (only its hash is stored)."""
    err = Console(stderr=True)
    engine = make_engine(resolve_url(database_url))
    try:
        with transaction(engine) as db:
            account = db.scalar(select(Account).where(Account.username == normalise_username(username)))
            if account is None:
                err.print(f"no account named {username!r}")
                raise typer.Exit(2)
            roles = current_roles(db, account.person_id)
            if role:
                roles = [r for r in roles if r.role == role]
            if org:
                found = db.scalar(select(Organization).where(Organization.code == org))
                roles = [r for r in roles if found is not None and r.organization_id == found.id]
            if len(roles) != 1:
                held = ", ".join(
                    f"{r.role} at {o.code if (o := db.get(Organization, r.organization_id)) else '?'}"
                    for r in current_roles(db, account.person_id)
                )
                err.print(
                    f"{username} holds {len(roles)} matching current roles; choose one with --role/--org "
                    f"(current roles: {held or 'none'})"
                )
                raise typer.Exit(2)
            try:
                issued = create_token(
                    db, account, roles[0], get_settings(), name=name, scopes=scope, days=days
                )
            except TokenError as exc:
                err.print(str(exc))
                raise typer.Exit(2) from exc
            err.print(
                f"token {issued.record.id} for {account.username} ({roles[0].role}), scopes "
                f"{', '.join(issued.record.scopes)}, expires {issued.record.expires_at:%Y-%m-%d}; "
                "it is shown only now:"
            )
            typer.echo(issued.text)
    finally:
        engine.dispose()


@token_app.command("list")
def list_cmd(
    username: str = typer.Option(None, help="only this account's tokens"),
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
) -> None:
    """List tokens (never their secrets)."""
    engine = make_engine(resolve_url(database_url))
    try:
        with transaction(engine) as db:
            account_id = None
            if username:
                account = db.scalar(select(Account).where(Account.username == normalise_username(username)))
                if account is None:
                    Console(stderr=True).print(f"no account named {username!r}")
                    raise typer.Exit(2)
                account_id = account.id
            table = Table(title="API tokens")
            for column in ("id", "name", "account", "scopes", "expires", "last used", "state"):
                table.add_column(column)
            for t in tokens_of(db, account_id):
                owner = db.get(Account, t.account_id)
                table.add_row(
                    str(t.id),
                    t.name,
                    owner.username if owner else "?",
                    ", ".join(t.scopes),
                    f"{t.expires_at:%Y-%m-%d}",
                    f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
                    token_state(t),
                )
            Console(width=160).print(table)
    finally:
        engine.dispose()


@token_app.command("revoke")
def revoke_cmd(
    token_id: int = typer.Argument(..., help="the token's id (see `steward token list`)"),
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
) -> None:
    """Revoke a token at once."""
    engine = make_engine(resolve_url(database_url))
    try:
        with transaction(engine) as db:
            record = revoke_token(db, token_id)
            if record is None:
                Console(stderr=True).print(f"no token {token_id}")
                raise typer.Exit(2)
            typer.echo(f"token {token_id} revoked")
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
