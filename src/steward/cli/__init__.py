"""The ``steward`` command line (typer). Each feature adds its commands from its own module."""

from __future__ import annotations

from importlib import import_module

import typer

app = typer.Typer(
    name="steward",
    help="Steward: decides, delivers and records lawful student-data disclosures.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

#: One line per feature module of steward.cli; each defines ``register(app)``.
MODULES = (
    "core",
    "web",
    "roster",
    "demo",
    "audit",
    "delivery",
    "convert",
    "generate",
    "policy",
    "tokens",
    "sso",
    "transfer",
    "workflow",
    "suppress",
    "report",
    "extract",
    "portal",
    "emergency",
    "remote",
)


def _register() -> None:
    for name in MODULES:
        import_module(f"steward.cli.{name}").register(app)


_register()


def main() -> None:
    app()
