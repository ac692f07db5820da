"""Where the CLI finds the governance database and a district's source when not told.

The database is ``--database-url``, else ``STEWARD_DATABASE_URL``; when that is the default file and
it does not exist but the demo's does (``steward demo --no-serve``), the demo's is used. A district's
source is ``--source`` (a drop directory, a folder of drops or a PostgreSQL URL), else the demo
region's drop of that district.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from steward.config import get_settings
from steward.sources import Source, SourceError, open_source


def database_url(explicit: str | None) -> tuple[str, str | None]:
    """The governance database URL and, when a fallback was taken, a note saying so."""
    if explicit:
        return explicit, None
    settings = get_settings()
    url = settings.database_url
    if "STEWARD_DATABASE_URL" not in os.environ:
        parsed = make_url(url)
        demo = settings.data_dir / "demo" / "steward.db"
        if (
            parsed.get_backend_name() == "sqlite"
            and not Path(parsed.database or "").exists()
            and demo.exists()
        ):
            return f"sqlite:///{demo}", f"using the demo database {demo}"
    return url, None


def district_source(district_code: str, explicit: str | None) -> Source:
    """The source holding ``district_code``'s records."""
    if explicit:
        return open_source(explicit)
    drop = get_settings().data_dir / "demo" / "region" / district_code
    if drop.is_dir():
        return open_source(drop)
    raise SourceError(
        f"district {district_code}",
        None,
        None,
        f"no source given (--source PATH or URL) and no demo drop at {drop}",
    )
