"""`steward serve`: the web app with uvicorn."""

from __future__ import annotations

import typer

from steward.config import get_settings


def serve(host: str | None = None, port: int | None = None, database_url: str | None = None) -> None:
    """Run the app in this process until interrupted."""
    import gc

    import uvicorn

    from steward.web.app import create_app

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    app = create_app(settings)
    # Everything loaded so far lives as long as the process: keep it out of the collector's full
    # passes, which otherwise pause requests for 100+ ms (the p99 of bench/policy.py).
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        host: str = typer.Option(None, help="defaults to STEWARD_HOST (127.0.0.1)"),
        port: int = typer.Option(None, help="defaults to STEWARD_PORT (8000)"),
    ) -> None:
        """Serve the web app and API (OpenAPI at /api/docs)."""
        serve(host, port)
