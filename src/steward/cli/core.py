"""Database and demo commands."""

from __future__ import annotations

import typer

from steward import __version__
from steward.config import get_settings
from steward.store.db import migrate


def register(app: typer.Typer) -> None:
    @app.command()
    def version() -> None:
        """Print Steward's version."""
        typer.echo(__version__)

    @app.command("migrate")
    def migrate_cmd(
        database_url: str = typer.Option(None, help="defaults to STEWARD_DATABASE_URL"),
    ) -> None:
        """Create or upgrade the governance database to the newest schema."""
        url = database_url or get_settings().database_url
        migrate(url)
        typer.echo(f"migrated {url.split('@')[-1]}")
