"""The Typer application every command module attaches to."""

from __future__ import annotations

from typing import NoReturn

import typer

app = typer.Typer(
    name="pr2prod",
    help="Config-as-code ML from pull request to production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one red ``error:`` line and exit with ``code``."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)
