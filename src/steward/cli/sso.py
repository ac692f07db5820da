"""`steward sso add | list | disable | link`: a district's OpenID Connect single sign-on providers."""

from __future__ import annotations

import os

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from steward.accounts.models import OidcIdentity, OidcProvider
from steward.accounts.oidc import SsoError, add_provider
from steward.accounts.service import audit_account, normalise_username
from steward.cli.options import resolve_url
from steward.config import get_settings
from steward.store.db import make_engine, transaction
from steward.store.models import Account, Organization

sso_app = typer.Typer(
    help="Single sign-on providers (OpenID Connect), one or more per district.", no_args_is_help=True
)
err = Console(stderr=True)


@sso_app.command("add")
def add_cmd(
    district: str = typer.Option(..., help="the district's organization code"),
    slug: str = typer.Option(..., help="short name in the sign-in address (/sso/SLUG)"),
    name: str = typer.Option(..., help="what the sign-in page shows, e.g. 'Lakeside Google'"),
    discovery_url: str = typer.Option(..., help="the provider's .well-known/openid-configuration"),
    client_id: str = typer.Option(..., help="the client id registered at the provider"),
    client_secret_env: str = typer.Option(
        None, help="name of the environment variable holding the client secret (never on the command line)"
    ),
    scopes: str = typer.Option("openid email profile"),
    trust_provider_mfa: bool = typer.Option(
        False, help="accept the provider's second factor (amr claim) instead of Steward's"
    ),
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
) -> None:
    """Register a provider; its callback is https://<hub>/sso/SLUG/callback."""
    secret = ""
    if client_secret_env:
        secret = os.environ.get(client_secret_env, "")
        if not secret:
            err.print(f"the environment variable {client_secret_env} is empty or not set")
            raise typer.Exit(2)
    engine = make_engine(resolve_url(database_url))
    try:
        with transaction(engine) as db:
            org = db.scalar(select(Organization).where(Organization.code == district))
            if org is None or org.kind != "district":
                err.print(f"no district with code {district!r}")
                raise typer.Exit(2)
            if db.scalar(select(OidcProvider.id).where(OidcProvider.slug == slug)) is not None:
                err.print(f"a provider named {slug!r} exists already")
                raise typer.Exit(2)
            try:
                add_provider(
                    db,
                    get_settings(),
                    slug=slug,
                    district_id=org.id,
                    display_name=name,
                    discovery_url=discovery_url,
                    client_id=client_id,
                    client_secret=secret,
                    scopes=scopes,
                    trust_provider_mfa=trust_provider_mfa,
                )
            except SsoError as exc:
                err.print(str(exc))
                raise typer.Exit(2) from exc
            typer.echo(f"provider {slug} added for {org.name}; callback path /sso/{slug}/callback")
    finally:
        engine.dispose()


@sso_app.command("list")
def list_cmd(database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL")) -> None:
    engine = make_engine(resolve_url(database_url))
    try:
        with transaction(engine) as db:
            table = Table(title="Single sign-on providers")
            for column in ("slug", "name", "district", "discovery", "client id", "provider MFA", "active"):
                table.add_column(column)
            for p in db.scalars(select(OidcProvider).order_by(OidcProvider.slug)):
                org = db.get(Organization, p.district_id)
                table.add_row(
                    p.slug, p.display_name, org.code if org else "?", p.discovery_url, p.client_id,
                    "trusted" if p.trust_provider_mfa else "no", "yes" if p.active else "no",
                )  # fmt: skip
            Console(width=200).print(table)
    finally:
        engine.dispose()


@sso_app.command("disable")
def disable_cmd(
    slug: str = typer.Argument(...),
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
) -> None:
    """Stop offering a provider (linked identities are kept for an audit trail)."""
    engine = make_engine(resolve_url(database_url))
    try:
        with transaction(engine) as db:
            provider = db.scalar(select(OidcProvider).where(OidcProvider.slug == slug))
            if provider is None:
                err.print(f"no provider {slug!r}")
                raise typer.Exit(2)
            provider.active = False
            audit_account(db, "sso.provider_disable", None, district_id=provider.district_id, provider=slug)
            typer.echo(f"provider {slug} disabled")
    finally:
        engine.dispose()


@sso_app.command("link")
def link_cmd(
    slug: str = typer.Option(...),
    subject: str = typer.Option(..., help="the person's `sub` at the provider"),
    username: str = typer.Option(..., help="the Steward account to link it to"),
    database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
) -> None:
    """Link a provider identity to an account by hand (when e-mail addresses do not match)."""
    engine = make_engine(resolve_url(database_url))
    try:
        with transaction(engine) as db:
            provider = db.scalar(select(OidcProvider).where(OidcProvider.slug == slug))
            account = db.scalar(select(Account).where(Account.username == normalise_username(username)))
            if provider is None or account is None:
                err.print("unknown provider or account")
                raise typer.Exit(2)
            exists = db.scalar(
                select(OidcIdentity).where(
                    OidcIdentity.provider_id == provider.id, OidcIdentity.subject == subject
                )
            )
            if exists is not None:
                err.print(f"{subject!r} is linked already")
                raise typer.Exit(2)
            db.add(OidcIdentity(provider_id=provider.id, subject=subject, account_id=account.id))
            audit_account(
                db, "sso.link", account, district_id=provider.district_id, provider=slug, manual=True
            )
            typer.echo(f"{subject} at {slug} now signs in as {account.username}")
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.add_typer(sso_app, name="sso")
