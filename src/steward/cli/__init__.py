"""The ``steward`` command line (typer). Each feature adds its commands from its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="steward",
    help="Steward: decides, delivers and records lawful student-data disclosures.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _register() -> None:
    # One line per feature module; each defines ``register(app)``.
    from steward.cli import core

    for module in (core,):
        module.register(app)


_register()


def main() -> None:
    app()
