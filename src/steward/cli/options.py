"""Option handling shared by the commands: where the database and data live, instants on the line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from steward.config import Settings, get_settings


def resolve_url(database_url: str | None) -> str:
    """The database named on the command line, else STEWARD_DATABASE_URL."""
    return database_url or get_settings().database_url


def settings_with(database_url: str | None, data_dir: Path | None) -> Settings:
    """The environment's settings, with the command line's database and data directory on top."""
    settings = get_settings()
    changes: dict[str, object] = {}
    if database_url:
        changes["database_url"] = database_url
    if data_dir is not None:
        changes["data_dir"] = data_dir
    return settings.model_copy(update=changes) if changes else settings


def parse_instant(text: str, option: str = "--at") -> datetime | None:
    """An ISO 8601 instant with its offset, or None when the option was left empty."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{option} {text!r} is not an ISO 8601 instant") from exc
    if when.tzinfo is None:
        raise typer.BadParameter(f"{option} needs a time zone, e.g. 2026-11-23T03:00:00-08:00")
    return when
